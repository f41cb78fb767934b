//! The server with fake scrapers, through raw TCP clients on loopback.

use super::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;

/// A scraper that counts its calls, takes `delay`, and fails when `fail` says so.
struct Fake {
    calls: Arc<AtomicUsize>,
    delay: Duration,
    /// Fails the calls for which this returns a message.
    fail: fn(usize) -> Option<&'static str>,
    /// Bytes of filler in each body.
    filler: usize,
}

impl Fake {
    fn new(delay: Duration) -> (Self, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        (
            Fake {
                calls: Arc::clone(&calls),
                delay,
                fail: |_| None,
                filler: 0,
            },
            calls,
        )
    }
}

impl Scraper for Fake {
    type Scrape = (usize, usize);
    fn scrape(&mut self) -> anyhow::Result<(usize, usize)> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        thread::sleep(self.delay);
        if let Some(msg) = (self.fail)(n) {
            anyhow::bail!("{msg}");
        }
        Ok((n, self.filler))
    }
    fn encode(s: &(usize, usize), format: Format) -> Vec<u8> {
        let mut out = format!(
            "# HELP fake_scrape Which scrape this is.\n# TYPE fake_scrape gauge\nfake_scrape {}\n",
            s.0
        );
        if s.1 > 0 {
            out.push_str("# HELP fake_filler Filler.\n# TYPE fake_filler gauge\n");
            let line = "fake_filler{x=\"0123456789012345678901234567890123456789\"} 1\n";
            let mut i = 0;
            while out.len() < s.1 {
                out.push_str(
                    &line.replace("fake_filler{x=", &format!("fake_filler{{i=\"{i}\",x=")),
                );
                i += 1;
            }
        }
        if format == Format::OpenMetrics {
            out.push_str("# EOF\n");
        }
        out.into_bytes()
    }
}

/// A server on its own thread and runtime, stopped when dropped.
struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<Arc<Stats>>>,
}

fn start<S: Scraper>(scraper: S, limits: Limits) -> Server {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let stats = rt.block_on(async move {
            let l = tokio::net::TcpListener::from_std(listener).expect("listener");
            run_server(l, scraper, limits, async move {
                let _ = rx.await;
            })
            .await
            .expect("the scrape thread")
        });
        rt.shutdown_timeout(Duration::from_secs(5));
        stats
    });
    Server {
        addr,
        stop: Some(tx),
        thread: Some(thread),
    }
}

impl Server {
    fn stop(mut self) -> Arc<Stats> {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        self.thread
            .take()
            .expect("thread")
            .join()
            .expect("server thread")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A response: status, head (lower-cased), body.
struct Reply {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == name).then(|| v.trim())
        })
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    // A guard against a hang only: every test's answer comes much sooner.
    s.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    s
}

/// Reads a whole `Connection: close` response.
fn read_reply(mut s: TcpStream) -> Reply {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the response");
    parse_reply(&raw)
}

fn parse_reply(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status");
    Reply {
        status,
        head,
        body: raw[split + 4..].to_vec(),
    }
}

fn request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> Reply {
    let mut s = connect(addr);
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra}\r\n"
    )
    .expect("write");
    read_reply(s)
}

fn get(addr: SocketAddr) -> Reply {
    request(addr, "GET", "/metrics", "")
}

/// `n` clients asking for /metrics at once, each on its own thread; their replies.
fn get_concurrently(addr: SocketAddr, n: usize) -> Vec<Reply> {
    let clients: Vec<_> = (0..n).map(|_| thread::spawn(move || get(addr))).collect();
    clients
        .into_iter()
        .map(|t| t.join().expect("client"))
        .collect()
}

fn fake_value(r: &Reply) -> usize {
    let body = String::from_utf8_lossy(&r.body);
    body.lines()
        .find_map(|l| l.strip_prefix("fake_scrape "))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no fake_scrape in {body}"))
}

fn limits() -> Limits {
    Limits {
        shutdown_grace: Duration::from_secs(5),
        ..Limits::default()
    }
}

#[test]
fn concurrent_requests_share_scrapes() {
    // max-age 0: only "started after the request arrived" shares a sample.
    let (fake, calls) = Fake::new(Duration::from_millis(300));
    let srv = start(
        fake,
        Limits {
            max_age: Duration::ZERO,
            ..limits()
        },
    );
    let addr = srv.addr;
    const N: usize = 16;
    let replies: Vec<Reply> = get_concurrently(addr, N);
    let stats = srv.stop();
    for r in &replies {
        assert_eq!(r.status, 200);
        fake_value(r);
    }
    let n = calls.load(Ordering::SeqCst);
    assert!(n < N, "{n} scrapes for {N} concurrent requests");
    assert_eq!(stats.scrapes.load(Ordering::Relaxed) as usize, n);
    // No request is answered by a scrape that began before it arrived: at most the one
    // under way when the requests came, and the one started for all of them after it.
    assert!(n <= 3, "{n} scrapes");
}

#[test]
fn max_age_is_honoured() {
    let (fake, calls) = Fake::new(Duration::ZERO);
    let srv = start(
        fake,
        Limits {
            max_age: Duration::from_secs(3600),
            ..limits()
        },
    );
    let seen: Vec<usize> = (0..5).map(|_| fake_value(&get(srv.addr))).collect();
    drop(srv);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(seen, [1, 1, 1, 1, 1]);

    let (fake, calls) = Fake::new(Duration::ZERO);
    let srv = start(
        fake,
        Limits {
            max_age: Duration::ZERO,
            ..limits()
        },
    );
    let seen: Vec<usize> = (0..5).map(|_| fake_value(&get(srv.addr))).collect();
    drop(srv);
    assert_eq!(calls.load(Ordering::SeqCst), 5);
    assert_eq!(seen, [1, 2, 3, 4, 5]);
}

#[test]
fn paths_methods_and_head() {
    let (fake, _) = Fake::new(Duration::ZERO);
    let srv = start(fake, limits());
    let index = request(srv.addr, "GET", "/", "");
    assert_eq!(index.status, 200);
    assert!(String::from_utf8_lossy(&index.body).contains("/metrics"));

    let missing = request(srv.addr, "GET", "/metricsx", "");
    assert_eq!(missing.status, 404);
    assert_eq!(request(srv.addr, "GET", "/metrics/", "").status, 404);

    for m in ["POST", "PUT", "DELETE", "OPTIONS"] {
        let r = request(srv.addr, m, "/metrics", "Content-Length: 0\r\n");
        assert_eq!(r.status, 405, "{m}");
        assert_eq!(r.header("allow"), Some("get, head"), "{m}");
    }
    // A body is never read: the answer comes, and the connection closes.
    let r = request(srv.addr, "POST", "/metrics", "Content-Length: 1000000\r\n");
    assert_eq!(r.status, 405);

    let head = request(srv.addr, "HEAD", "/metrics", "");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD has no body");
    let len: usize = head
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .expect("content-length");
    assert!(len > 0);
    assert_eq!(
        head.header("content-type"),
        Some(Format::Text.content_type())
    );

    let got = get(srv.addr);
    assert_eq!(got.status, 200);
    assert_eq!(
        got.header("content-length").and_then(|v| v.parse().ok()),
        Some(got.body.len())
    );
    let body = String::from_utf8_lossy(&got.body).into_owned();
    assert!(body.contains("fake_scrape 1\n"), "{body}");
    assert!(
        body.contains("# TYPE cgtree_serve_scrapes_total counter\n"),
        "{body}"
    );
    assert!(body.contains("cgtree_serve_scrapes_total 1\n"), "{body}");
    // 1 (index) + 2 x 404 + 5 x 405 + HEAD + this GET.
    assert!(
        body.contains("cgtree_serve_requests_total{code=\"200\"} 3\n"),
        "{body}"
    );
    assert!(
        body.contains("cgtree_serve_requests_total{code=\"404\"} 2\n"),
        "{body}"
    );
    assert!(
        body.contains("cgtree_serve_requests_total{code=\"405\"} 5\n"),
        "{body}"
    );
    assert!(!body.contains("# EOF"), "{body}");
}

#[test]
fn openmetrics_on_accept() {
    let (fake, _) = Fake::new(Duration::ZERO);
    let srv = start(fake, limits());
    let accept = "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n";
    let r = request(srv.addr, "GET", "/metrics", accept);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        Some(Format::OpenMetrics.content_type())
    );
    let body = String::from_utf8_lossy(&r.body).into_owned();
    assert!(body.ends_with("# EOF\n"), "{body}");
    assert_eq!(body.matches("# EOF").count(), 1, "{body}");
    assert!(body.contains("fake_scrape 1\n"), "{body}");
    assert!(
        body.contains("# TYPE cgtree_serve_scrapes counter\n"),
        "{body}"
    );
    assert!(body.contains("cgtree_serve_scrapes_total 1\n"), "{body}");
    assert!(
        body.contains("cgtree_serve_requests_total{code=\"200\"} 1\n"),
        "{body}"
    );

    let plain = request(srv.addr, "GET", "/metrics", "Accept: text/plain\r\n");
    assert_eq!(
        plain.header("content-type"),
        Some(Format::Text.content_type())
    );
}

/// `body` without serve's own request counts (which differ from response to response).
fn without_request_counts(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .lines()
        .filter(|l| !l.starts_with("cgtree_serve_requests_total{"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn gzip_when_accepted_and_the_same_body() {
    let (mut fake, calls) = Fake::new(Duration::ZERO);
    // Large enough for the compressor's output to grow several times.
    fake.filler = 300 * 1024;
    let srv = start(
        fake,
        Limits {
            max_age: Duration::from_secs(3600),
            ..limits()
        },
    );
    for accept in ["", "Accept: application/openmetrics-text\r\n"] {
        let plain = request(srv.addr, "GET", "/metrics", accept);
        assert_eq!(plain.status, 200);
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.header("vary"), Some("accept-encoding"));
        for enc in ["gzip", "deflate, gzip;q=0.8", "*"] {
            let extra = format!("{accept}Accept-Encoding: {enc}\r\n");
            for _ in 0..2 {
                let gz = request(srv.addr, "GET", "/metrics", &extra);
                assert_eq!(gz.status, 200, "{enc}");
                assert_eq!(gz.header("content-encoding"), Some("gzip"), "{enc}");
                assert_eq!(gz.header("vary"), Some("accept-encoding"));
                assert_eq!(gz.header("content-type"), plain.header("content-type"));
                assert_eq!(
                    gz.header("content-length").and_then(|v| v.parse().ok()),
                    Some(gz.body.len())
                );
                assert!(
                    gz.body.len() < plain.body.len() / 3,
                    "{enc}: not compressed"
                );
                let mut d = flate2::read::GzDecoder::new(&gz.body[..]);
                let mut text = Vec::new();
                d.read_to_end(&mut text).expect("gunzip");
                assert!(d.into_inner().is_empty(), "one gzip member");
                assert_eq!(
                    without_request_counts(&text),
                    without_request_counts(&plain.body)
                );
                if accept.is_empty() {
                    assert!(text.ends_with(b"\n"));
                } else {
                    assert!(text.ends_with(b"# EOF\n"));
                }
            }
        }
        for enc in ["identity", "gzip;q=0", "br"] {
            let r = request(
                srv.addr,
                "GET",
                "/metrics",
                &format!("{accept}Accept-Encoding: {enc}\r\n"),
            );
            assert_eq!(r.header("content-encoding"), None, "{enc}");
            assert_eq!(
                without_request_counts(&r.body),
                without_request_counts(&plain.body)
            );
        }
    }
    let head = request(srv.addr, "HEAD", "/metrics", "Accept-Encoding: gzip\r\n");
    assert_eq!(head.header("content-encoding"), Some("gzip"));
    assert!(head.body.is_empty());
    drop(srv);
    // One scrape for all of them (max-age): compressed with it, not per request.
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn negotiation() {
    assert_eq!(negotiate(None), Format::Text);
    assert_eq!(negotiate(Some("")), Format::Text);
    assert_eq!(negotiate(Some("*/*")), Format::Text);
    assert_eq!(negotiate(Some("text/plain;version=0.0.4")), Format::Text);
    assert_eq!(
        negotiate(Some("application/openmetrics-text")),
        Format::OpenMetrics
    );
    // What Prometheus sends.
    assert_eq!(
        negotiate(Some("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.1")),
        Format::OpenMetrics
    );
    assert_eq!(
        negotiate(Some(
            "Application/OpenMetrics-Text; version=1.0.0; q=0.5, */*;q=0.1"
        )),
        Format::OpenMetrics
    );
    // Asked for less than the text format, or not at all.
    assert_eq!(
        negotiate(Some("application/openmetrics-text;q=0.2,text/plain;q=0.9")),
        Format::Text
    );
    assert_eq!(
        negotiate(Some("application/openmetrics-text;q=0")),
        Format::Text
    );
    assert_eq!(
        negotiate(Some("application/openmetrics-text;q=nan")),
        Format::Text
    );
    assert_eq!(negotiate(Some("application/json")), Format::Text);
}

#[test]
fn scrape_error_is_500_and_the_server_goes_on() {
    let (mut fake, calls) = Fake::new(Duration::ZERO);
    fake.fail = |n| (n == 1).then_some("cannot read \x1b[31mcpu.stat\nline two");
    let srv = start(
        fake,
        Limits {
            max_age: Duration::ZERO,
            ..limits()
        },
    );
    let bad = get(srv.addr);
    assert_eq!(bad.status, 500);
    assert_eq!(
        bad.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let text = String::from_utf8_lossy(&bad.body).into_owned();
    assert!(
        text.contains("cannot read \\x1b[31mcpu.stat\\nline two"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "{text}");
    assert_eq!(text.matches('\n').count(), 1, "{text}");
    let good = get(srv.addr);
    assert_eq!(good.status, 200);
    assert_eq!(fake_value(&good), 2);
    let body = String::from_utf8_lossy(&good.body).into_owned();
    assert!(
        body.contains("cgtree_serve_requests_total{code=\"500\"} 1\n"),
        "{body}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_panicking_scrape_is_500_and_the_server_goes_on() {
    let (mut fake, _) = Fake::new(Duration::ZERO);
    fake.fail = |n| {
        assert!(n != 1, "the fake scraper panics on its first call");
        None
    };
    let srv = start(
        fake,
        Limits {
            max_age: Duration::ZERO,
            ..limits()
        },
    );
    assert_eq!(get(srv.addr).status, 500);
    assert_eq!(fake_value(&get(srv.addr)), 2);
}

#[test]
fn oversize_header_is_refused_and_others_are_answered() {
    let (fake, _) = Fake::new(Duration::ZERO);
    let srv = start(fake, limits());
    let mut big = connect(srv.addr);
    let fill = "x".repeat(1000);
    let mut head = String::from("GET /metrics HTTP/1.1\r\nHost: test\r\n");
    for i in 0..40 {
        head.push_str(&format!("X-Fill-{i}: {fill}\r\n"));
    }
    head.push_str("\r\n");
    // The server may close before all of it is written.
    let _ = big.write_all(head.as_bytes());
    let mut raw = Vec::new();
    let _ = big.read_to_end(&mut raw);
    if !raw.is_empty() {
        assert_eq!(parse_reply(&raw).status, 431);
    }
    assert!(!raw.windows(12).any(|w| w == b"fake_scrape "), "answered");
    // A head just under the limit is still read.
    let ok = request(
        srv.addr,
        "GET",
        "/metrics",
        &format!("X-Fill: {}\r\n", "y".repeat(8000)),
    );
    assert_eq!(ok.status, 200);
    assert_eq!(get(srv.addr).status, 200);
}

#[test]
fn a_stalled_client_is_dropped_and_others_are_answered() {
    let (fake, _) = Fake::new(Duration::ZERO);
    let srv = start(
        fake,
        Limits {
            header_read_timeout: Duration::from_millis(300),
            max_connections: 2,
            ..limits()
        },
    );
    let mut stalled = connect(srv.addr);
    stalled
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: te")
        .expect("write");
    // Others are answered meanwhile, one connection left for them.
    for _ in 0..3 {
        assert_eq!(get(srv.addr).status, 200);
    }
    let mut raw = Vec::new();
    // Closed by the server (EOF, or a reset): not our 60 s guard.
    match stalled.read_to_end(&mut raw) {
        Ok(_) => {}
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{e}"
        ),
    }
    if !raw.is_empty() {
        assert_ne!(parse_reply(&raw).status, 200);
    }
    // An idle kept-alive connection is bounded the same way.
    let mut idle = connect(srv.addr);
    idle.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("write");
    let mut raw = Vec::new();
    let _ = idle.read_to_end(&mut raw);
    assert_eq!(parse_reply(&raw).status, 200);
    let stats = srv.stop();
    assert_eq!(stats.active.load(Ordering::Relaxed), 0);
}

#[test]
fn a_connection_lives_at_most_its_lifetime() {
    let (fake, _) = Fake::new(Duration::ZERO);
    let srv = start(
        fake,
        Limits {
            // Longer than the client's guard: only the lifetime can close it.
            header_read_timeout: Duration::from_secs(3600),
            connection_lifetime: Duration::from_millis(300),
            ..limits()
        },
    );
    let mut kept = connect(srv.addr);
    kept.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
        .expect("write");
    let mut raw = Vec::new();
    kept.read_to_end(&mut raw).expect("closed by the server");
    let r = parse_reply(&raw);
    assert_eq!(r.status, 200);
    assert_eq!(r.body, INDEX.as_bytes());
    assert_eq!(srv.stop().active.load(Ordering::Relaxed), 0);
}

#[test]
fn connections_are_bounded_and_all_answered() {
    let (fake, _) = Fake::new(Duration::from_millis(100));
    let srv = start(
        fake,
        Limits {
            max_connections: 2,
            max_age: Duration::ZERO,
            ..limits()
        },
    );
    let addr = srv.addr;
    const N: usize = 10;
    let replies: Vec<Reply> = get_concurrently(addr, N);
    let stats = srv.stop();
    assert!(replies.iter().all(|r| r.status == 200));
    let peak = stats.peak.load(Ordering::Relaxed);
    assert!((1..=2).contains(&peak), "peak {peak}");
}

/// Whether the server has closed `s` (EOF or reset) rather than left it open and silent.
fn closed_by_server(mut s: &TcpStream) -> bool {
    s.set_nonblocking(true).expect("nonblocking");
    let mut b = [0u8; 1];
    let closed = match s.read(&mut b) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
    };
    s.set_nonblocking(false).expect("blocking");
    closed
}

#[test]
fn idle_connections_do_not_starve_a_scrape() {
    // The shipped bounds, with head timeouts longer than the whole test: a connection that
    // sends nothing (or half a head) is closed by nothing else.
    let (fake, _) = Fake::new(Duration::ZERO);
    let srv = start(
        fake,
        Limits {
            first_header_timeout: Duration::from_secs(30),
            header_read_timeout: Duration::from_secs(30),
            ..limits()
        },
    );
    const IDLE: usize = 100;
    assert!(IDLE > Limits::default().max_in_flight);
    let mut idle: Vec<TcpStream> = (0..IDLE).map(|_| connect(srv.addr)).collect();
    for s in idle.iter_mut().step_by(2) {
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: te")
            .expect("half a head");
    }
    let r = get(srv.addr);
    assert_eq!(r.status, 200);
    fake_value(&r);
    // Answered while every idle connection was still open (an order, not a speed): the
    // scrape did not wait for them to time out.
    let closed = idle.iter().filter(|s| closed_by_server(s)).count();
    assert_eq!(
        closed, 0,
        "{closed} idle connections closed before the scrape"
    );
    drop(idle);
    let stats = srv.stop();
    assert!(
        stats.peak.load(Ordering::Relaxed) > IDLE,
        "all were accepted"
    );
}

#[test]
fn requests_in_flight_are_bounded_apart_from_connections() {
    let (fake, _) = Fake::new(Duration::from_millis(100));
    let srv = start(
        fake,
        Limits {
            max_in_flight: 2,
            max_age: Duration::ZERO,
            ..limits()
        },
    );
    let addr = srv.addr;
    const N: usize = 10;
    let replies: Vec<Reply> = get_concurrently(addr, N);
    let stats = srv.stop();
    for r in &replies {
        assert_eq!(r.status, 200);
        fake_value(r);
    }
    let peak = stats.peak_in_flight.load(Ordering::Relaxed);
    assert!((1..=2).contains(&peak), "{peak} requests answered at once");
    assert_eq!(stats.in_flight.load(Ordering::Relaxed), 0);
}

#[test]
fn the_connection_cap_leaves_descriptors_to_the_scrape() {
    assert_eq!(connection_cap(1024, 20_000), 1024);
    assert_eq!(connection_cap(1024, 1024), 256);
    assert_eq!(connection_cap(1024, 2), 1);
    assert_eq!(connection_cap(1024, u64::MAX), 1024);
}

#[test]
fn the_first_head_has_a_shorter_timeout() {
    let (fake, _) = Fake::new(Duration::ZERO);
    let srv = start(
        fake,
        Limits {
            first_header_timeout: Duration::from_millis(300),
            // Longer than the client's guard: only the first-head timeout can close.
            header_read_timeout: Duration::from_secs(3600),
            ..limits()
        },
    );
    let mut silent = connect(srv.addr);
    silent
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut raw = Vec::new();
    match silent.read_to_end(&mut raw) {
        Ok(_) => assert!(raw.is_empty(), "{raw:?}"),
        Err(e) => assert!(
            !matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "not closed by the server: {e}"
        ),
    }
    // After a first request, the wait for the next head is header_read_timeout's.
    let mut kept = connect(srv.addr);
    for _ in 0..2 {
        kept.write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .expect("write");
        let mut got = vec![0u8; 1024];
        let mut n = 0;
        while !got[..n].ends_with(INDEX.as_bytes()) {
            let m = kept.read(&mut got[n..]).expect("read");
            assert!(m > 0, "closed: {:?}", String::from_utf8_lossy(&got[..n]));
            n += m;
        }
        assert_eq!(parse_reply(&got[..n]).status, 200);
        thread::sleep(Duration::from_millis(600));
    }
    assert!(!closed_by_server(&kept));
}

#[test]
fn graceful_stop_finishes_the_request_in_flight() {
    let (fake, calls) = Fake::new(Duration::from_millis(700));
    let srv = start(fake, limits());
    let addr = srv.addr;
    let client = thread::spawn(move || get(addr));
    while calls.load(Ordering::SeqCst) == 0 {
        thread::sleep(Duration::from_millis(10));
    }
    let stats = srv.stop();
    let r = client.join().expect("client");
    assert_eq!(r.status, 200);
    assert_eq!(fake_value(&r), 1);
    assert_eq!(stats.active.load(Ordering::Relaxed), 0);
    // Stopped: nothing listens any more.
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn a_failure_to_bind_is_fatal() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let (fake, _) = Fake::new(Duration::ZERO);
    let mut diag = crate::term::Diag::default();
    let code = listen_and_serve(&addr, fake, limits(), &mut diag).expect("serve");
    assert_eq!(code, crate::FATAL);
    assert_eq!(diag.count, 1);
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Run by [`memory_is_flat_under_load`] in a process of its own (other tests would move
/// the RSS): prints `RSS <after 200> <after 2000>` in KiB.
#[test]
#[ignore = "run by memory_is_flat_under_load"]
fn rss_child() {
    if std::env::var_os("CGTREE_SERVE_RSS_CHILD").is_none() {
        return;
    }
    let (mut fake, _) = Fake::new(Duration::ZERO);
    fake.filler = 64 * 1024;
    let srv = start(
        fake,
        Limits {
            max_age: Duration::ZERO,
            ..limits()
        },
    );
    let mut first = 0;
    for i in 1..=2000 {
        let accept = if i % 2 == 0 {
            "Accept: application/openmetrics-text\r\n"
        } else {
            ""
        };
        let r = request(srv.addr, "GET", "/metrics", accept);
        assert_eq!(r.status, 200);
        if i == 200 {
            first = rss_kib();
        }
    }
    let last = rss_kib();
    drop(srv);
    let mut out = crate::term::stdout(false);
    let _ = writeln!(out, "\nRSS {first} {last}").and_then(|()| out.flush());
}

#[test]
fn memory_is_flat_under_load() {
    let exe = std::env::current_exe().expect("exe");
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "serve::tests::rss_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("CGTREE_SERVE_RSS_CHILD", "1")
        .output()
        .expect("run the child");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let (first, last) = text
        .lines()
        .find_map(|l| {
            let mut f = l.strip_prefix("RSS ")?.split(' ');
            Some((
                f.next()?.parse::<u64>().ok()?,
                f.next()?.parse::<u64>().ok()?,
            ))
        })
        .unwrap_or_else(|| panic!("no RSS line in {text}"));
    // 1,800 more requests, each on a new scrape of a 64 KiB body: a leak of any of them
    // would be 100+ MiB.
    assert!(
        last <= first + 4 * 1024,
        "RSS {first} KiB after 200 requests, {last} KiB after 2000"
    );
}
