//! `cgtree serve` as a process: the body it serves against `cgtree metrics`, OpenMetrics
//! on Accept, `promtool check metrics`, concurrent scrapes, signals and bind failures.
//! Loopback only; every server started here is stopped (killed by its PID when a test
//! fails first).
#![allow(clippy::unwrap_used)]

mod common;

use common::{cgtree, promtool, run_fixture};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

const FIXTURE: &str = "stats-kind";

/// A running `cgtree serve`.
struct Served {
    child: Child,
    addr: SocketAddr,
    /// The rest of its stderr, once it has exited.
    stderr: mpsc::Receiver<String>,
}

/// Starts `cgtree --root fixtures/FIXTURE serve --listen LISTEN ARGS` and waits for its
/// listening line.
fn serve(listen: &str, args: &[&str]) -> Served {
    let mut child = cgtree()
        .arg("--root")
        .arg(format!("fixtures/{FIXTURE}"))
        .args(["serve", "--listen", listen])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cgtree serve");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).expect("read stderr");
    let Some(addr) = line
        .strip_prefix("cgtree serve: listening on http://")
        .and_then(|l| l.strip_suffix("/metrics\n"))
        .and_then(|a| a.parse().ok())
    else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("no listening line: {line:?}");
    };
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let mut rest = String::new();
        let _ = err.read_to_string(&mut rest);
        let _ = tx.send(rest);
    });
    Served {
        child,
        addr,
        stderr: rx,
    }
}

impl Served {
    fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, sig).expect("signal cgtree serve");
    }

    /// Sends `sig` and waits for the exit: (status code, stderr after the listening line).
    /// Panics when it has not exited within 30 s (then `drop` kills it).
    fn stop(mut self, sig: nix::sys::signal::Signal) -> (i32, String) {
        self.signal(sig);
        let mut waited = Duration::ZERO;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                waited < Duration::from_secs(30),
                "cgtree serve still runs 30 s after {sig}"
            );
            thread::sleep(Duration::from_millis(50));
            waited += Duration::from_millis(50);
        };
        let rest = self
            .stderr
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_default();
        (status.code().unwrap_or(-1), rest)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A `Connection: close` response: status, head (lower-cased), body.
struct Reply {
    status: u16,
    head: String,
    body: String,
}

/// A `Connection: close` response as it came: (head lower-cased, body bytes).
fn raw_request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    // A guard against a hang only.
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the response");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8(raw[..split].to_vec()).expect("utf-8 head");
    (head.to_ascii_lowercase(), raw[split + 4..].to_vec())
}

fn request(addr: SocketAddr, method: &str, path: &str, extra: &str) -> Reply {
    let (head, body) = raw_request(addr, method, path, extra);
    Reply {
        status: head.split(' ').nth(1).unwrap().parse().unwrap(),
        head,
        body: String::from_utf8(body).expect("utf-8 body"),
    }
}

fn content_type(r: &Reply) -> &str {
    r.head
        .lines()
        .find_map(|l| l.strip_prefix("content-type:"))
        .unwrap_or("")
        .trim()
}

/// The lines that two scrapes of a fixture share: all but the scrape's duration and
/// serve's own metrics.
fn comparable(body: &str) -> Vec<&str> {
    body.lines()
        .filter(|l| !l.contains("cgtree_scrape_duration_seconds") && !l.contains("cgtree_serve_"))
        .collect()
}

/// The value of the unlabelled sample `name` in `body`.
fn value(body: &str, name: &str) -> f64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {body}"))
}

#[test]
fn the_body_is_what_cgtree_metrics_prints() {
    let (expected, _, code) = run_fixture(FIXTURE, &["metrics"]);
    assert!(code == 0 || code == 1, "cgtree metrics: {code}");
    let srv = serve("127.0.0.1:0", &[]);
    let r = request(srv.addr, "GET", "/metrics", "");
    assert_eq!(r.status, 200);
    assert_eq!(content_type(&r), "text/plain; version=0.0.4; charset=utf-8");
    assert!(
        r.body.contains("cgtree_container_cpu_usage_seconds_total{"),
        "{}",
        r.body
    );
    assert_eq!(comparable(&r.body), comparable(&expected));
    // serve's own metrics follow, in the same format.
    assert!(r
        .body
        .contains("# TYPE cgtree_serve_scrapes_total counter\n"));
    assert_eq!(value(&r.body, "cgtree_serve_scrapes_total"), 1.0);
    assert!(r
        .body
        .contains("cgtree_serve_requests_total{code=\"200\"} 1\n"));
    let (code, _) = srv.stop(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(code, 0);
}

#[test]
fn openmetrics_when_accepted() {
    let (expected, _, _) = run_fixture(FIXTURE, &["metrics", "--format", "openmetrics"]);
    let srv = serve("127.0.0.1:0", &[]);
    let accept = "Accept: application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.1\r\n";
    let r = request(srv.addr, "GET", "/metrics", accept);
    assert_eq!(r.status, 200);
    assert_eq!(
        content_type(&r),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    assert!(r.body.ends_with("# EOF\n"));
    assert_eq!(r.body.matches("# EOF").count(), 1);
    assert_eq!(comparable(&r.body), comparable(&expected));
    assert_eq!(value(&r.body, "cgtree_serve_scrapes_total"), 1.0);
}

#[test]
fn promtool_accepts_the_served_body() {
    let srv = serve("127.0.0.1:0", &[]);
    let r = request(srv.addr, "GET", "/metrics", "");
    assert_eq!(r.status, 200);
    if let Some(Err(e)) = promtool(&r.body) {
        panic!("promtool: {e}");
    }
}

#[test]
fn concurrent_scrapes_are_answered_from_shared_samples() {
    let srv = serve("127.0.0.1:0", &["--max-age", "60"]);
    let addr = srv.addr;
    const N: usize = 24;
    let replies: Vec<Reply> = (0..N)
        .map(|_| thread::spawn(move || request(addr, "GET", "/metrics", "")))
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    for r in &replies {
        assert_eq!(r.status, 200);
        assert!(r.body.contains("cgtree_cgroup_info{"));
    }
    // The server's own count: one sample (max-age 60 s) for all of them.
    let last = request(addr, "GET", "/metrics", "");
    assert_eq!(value(&last.body, "cgtree_serve_scrapes_total"), 1.0);
    assert!(last.body.contains(&format!(
        "cgtree_serve_requests_total{{code=\"200\"}} {}\n",
        N + 1
    )));
    let (code, _) = srv.stop(nix::sys::signal::Signal::SIGINT);
    assert_eq!(code, 0);
}

#[test]
fn gzip_when_accepted_is_the_plain_body() {
    use flate2::read::GzDecoder;
    // What Prometheus sends; then without gzip.
    let srv = serve("127.0.0.1:0", &["--max-age", "60"]);
    for accept in ["", "Accept: application/openmetrics-text\r\n"] {
        let plain = request(srv.addr, "GET", "/metrics", accept);
        assert_eq!(plain.status, 200);
        assert!(!plain.head.contains("content-encoding"), "{}", plain.head);
        assert!(
            plain.head.contains("\r\nvary: accept-encoding"),
            "{}",
            plain.head
        );
        let (head, gz) = raw_request(
            srv.addr,
            "GET",
            "/metrics",
            &format!("{accept}Accept-Encoding: gzip\r\n"),
        );
        assert!(head.contains("\r\ncontent-encoding: gzip"), "{head}");
        assert!(head.contains("\r\nvary: accept-encoding"), "{head}");
        let mut d = GzDecoder::new(&gz[..]);
        let mut text = String::new();
        d.read_to_string(&mut text).expect("gunzip");
        assert!(d.into_inner().is_empty(), "one gzip member");
        assert!(
            gz.len() < plain.body.len(),
            "{} >= {}",
            gz.len(),
            plain.body.len()
        );
        assert_eq!(comparable(&text), comparable(&plain.body));
        assert!(text.contains("cgtree_serve_requests_total{code=\"200\"}"));
        assert_eq!(text.ends_with("# EOF\n"), !accept.is_empty());
    }
}

#[test]
fn index_404_405() {
    let srv = serve("127.0.0.1:0", &[]);
    let index = request(srv.addr, "GET", "/", "");
    assert_eq!(index.status, 200);
    assert!(index.body.contains("/metrics"));
    assert_eq!(request(srv.addr, "GET", "/other", "").status, 404);
    assert_eq!(
        request(srv.addr, "POST", "/metrics", "Content-Length: 0\r\n").status,
        405
    );
    let head = request(srv.addr, "HEAD", "/metrics", "");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
}

#[test]
fn sigterm_exits_0_and_the_port_is_free() {
    let srv = serve("127.0.0.1:0", &[]);
    let addr = srv.addr;
    assert_eq!(request(addr, "GET", "/metrics", "").status, 200);
    let (code, rest) = srv.stop(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(code, 0, "{rest}");
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn sighup_exits_0_and_the_port_is_free() {
    // A closed terminal ends serve as SIGTERM does: no default death by signal (129).
    let srv = serve("127.0.0.1:0", &[]);
    let addr = srv.addr;
    assert_eq!(request(addr, "GET", "/metrics", "").status, 200);
    let (code, rest) = srv.stop(nix::sys::signal::Signal::SIGHUP);
    assert_eq!(code, 0, "{rest}");
    assert!(TcpStream::connect(addr).is_err());
}

#[test]
fn listen_without_an_address_is_refused_with_the_hint() {
    // node-exporter's `:PORT` (every interface): exposure beyond loopback is spelled out.
    let (out, err, code) = run_fixture(FIXTURE, &["serve", "--listen", ":9713"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains("0.0.0.0:9713"), "{err}");
    assert!(err.contains("[::]:9713"), "{err}");
    assert!(!err.contains("listening on"), "{err}");
}

#[test]
fn no_help_ends_in_two_dots() {
    // prometheus-client ends every OpenMetrics HELP with a `.` of its own.
    let srv = serve("127.0.0.1:0", &[]);
    for accept in ["", "Accept: application/openmetrics-text\r\n"] {
        let r = request(srv.addr, "GET", "/metrics", accept);
        assert_eq!(r.status, 200);
        let helps: Vec<&str> = r
            .body
            .lines()
            .filter(|l| l.starts_with("# HELP "))
            .collect();
        assert!(
            helps
                .iter()
                .any(|l| l.starts_with("# HELP cgtree_serve_requests")),
            "{}",
            r.body
        );
        assert!(helps.len() > 10, "{}", r.body);
        for l in helps {
            assert!(!l.ends_with(".."), "{accept:?}: {l}");
        }
    }
}

#[test]
fn ipv6_loopback() {
    // Loopback IPv6 is configured on this project's machines (lo has ::1).
    let srv = serve("[::1]:0", &[]);
    assert!(srv.addr.is_ipv6());
    assert_eq!(request(srv.addr, "GET", "/metrics", "").status, 200);
}

#[test]
fn a_failure_to_bind_exits_2_naming_the_address() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (out, err, code) = run_fixture(FIXTURE, &["serve", "--listen", &addr]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(err.contains(&addr), "{err}");
    assert!(err.contains("in use"), "{err}");
    let (_, err, code) = run_fixture(FIXTURE, &["serve", "--listen", "not an address"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not an address"), "{err}");
}
