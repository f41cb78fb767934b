//! `cgtree serve`: the metrics over HTTP, for Prometheus to scrape.
//!
//! HTTP/1.1 through hyper (server, http1) on a tokio runtime of one thread; the host is
//! read off that thread, by a thread of its own (one [`Scraper::scrape`] at a time), and
//! a scrape is encoded on tokio's blocking pool.
//!
//! Bounds: what costs (a request being answered: waiting for a scrape, encoding it, the
//! self-metrics) is bounded apart from what does not (an open connection that sends
//! nothing). At most [`Limits::max_in_flight`] requests (32) are answered at once; more
//! wait for a turn, without a scrape or an encoding of their own. At most
//! [`Limits::max_connections`] connections (1024, and never more than a quarter of the
//! soft `RLIMIT_NOFILE`, raised to the hard limit first: the rest is for the scrape's
//! directory descriptors) are open at once; further clients wait in the kernel's listen
//! backlog until one ends (no connection is accepted and then dropped), so that idle
//! connections starve scrapes only when an attacker holds all of them, and every one of
//! them is short-lived: the first request head must be complete within
//! [`Limits::first_header_timeout`] of the connection (5 s), every later one within
//! [`Limits::header_read_timeout`] (10 s) of the end of the response before it (this
//! bounds an idle keep-alive connection; hyper times the wait for every request head),
//! and a connection lives at most [`Limits::connection_lifetime`] (60 s; then it
//! finishes its request and closes). A request head larger than
//! [`Limits::max_header_bytes`] is refused (hyper answers `431` and closes). Request
//! bodies are never read. A response shares the scrape's encoded body (no copy per
//! connection), so a client that reads slowly holds no more than a reference to it.
//!
//! One sample serves many requests: a request is answered from the last scrape when that
//! scrape started after the request arrived, or finished less than [`Limits::max_age`]
//! ago; otherwise it waits for the scrape under way, or starts one. The encoded body of a
//! scrape is kept with it, once per format, and compressed once per format when a
//! request accepts gzip (`Accept-Encoding`, `q` above 0; see [`gzip`]): such a request is
//! answered with `Content-Encoding: gzip` (one gzip member: the kept stream, then the
//! self-metrics compressed for it), others with the plain body; both say
//! `Vary: Accept-Encoding`.

use crate::metrics::format::Format;
use hyper::body::{Bytes, Frame, Incoming, SizeHint};
use hyper::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_TYPE, VARY,
};
use hyper::{Method, Request, Response, StatusCode};
use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};

/// What `serve` asks for on a scrape.
pub trait Scraper: Send + 'static {
    /// One scrape's result, shared by the requests that take it.
    type Scrape: Send + Sync + 'static;
    /// Reads the host once (blocking; may take hundreds of milliseconds).
    fn scrape(&mut self) -> anyhow::Result<Self::Scrape>;
    /// The body of a response in `format`.
    fn encode(scrape: &Self::Scrape, format: crate::metrics::format::Format) -> Vec<u8>;
}

/// The server's bounds.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A scrape that finished less than this long ago answers a request (`--max-age`).
    pub max_age: Duration,
    /// Connections served at once; more wait in the listen backlog.
    pub max_connections: usize,
    /// Requests answered at once; more wait for a turn.
    pub max_in_flight: usize,
    /// Time for a new connection to send its whole first request head.
    pub first_header_timeout: Duration,
    /// Time for a client to send a whole request head after the first (from the end of
    /// the response before it, on a kept-alive connection).
    pub header_read_timeout: Duration,
    /// Largest request head, in bytes (at least 8192, hyper's least buffer).
    pub max_header_bytes: usize,
    /// Longest life of one connection; then it finishes its request and closes.
    pub connection_lifetime: Duration,
    /// On SIGINT, SIGTERM or SIGHUP, how long in-flight requests may take to finish.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_age: Duration::from_secs(1),
            max_connections: 1024,
            max_in_flight: 32,
            first_header_timeout: Duration::from_secs(5),
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            connection_lifetime: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// hyper's least read buffer (`max_buf_size` panics below it).
const MIN_BUF: usize = 8192;

/// The page `GET /` answers.
const INDEX: &str = "cgtree serve: cgroup metrics for Prometheus at /metrics\n";

/// One scrape and what was encoded of it.
struct Sample<T> {
    /// When the scrape began.
    started: Instant,
    /// When it ended.
    finished: Instant,
    /// The scrape, or its error (the message, for a `500`).
    result: Result<T, String>,
    /// The encoded body per format ([`format_index`]), without OpenMetrics' `# EOF`.
    bodies: [OnceLock<Bytes>; 2],
    /// The same compressed, for gzip (`None`: the compressor refused; sent as it is).
    gzipped: [OnceLock<Option<gzip::Deflated>>; 2],
}

fn format_index(f: Format) -> usize {
    match f {
        Format::Text => 0,
        Format::OpenMetrics => 1,
    }
}

/// The latest sample and whether a scrape is under way.
struct State<T> {
    last: Option<Arc<Sample<T>>>,
    in_flight: bool,
}

/// What the server counts (the self-metrics, and the connection figures tests read).
#[derive(Default)]
pub(crate) struct Stats {
    /// Scrapes taken.
    scrapes: AtomicU64,
    /// Responses by status code.
    requests: Mutex<BTreeMap<u16, u64>>,
    /// Connections being served.
    active: AtomicUsize,
    /// Most connections served at once.
    peak: AtomicUsize,
    /// Requests being answered.
    in_flight: AtomicUsize,
    /// Most requests answered at once.
    peak_in_flight: AtomicUsize,
}

impl Stats {
    fn count(&self, code: StatusCode) {
        *lock(&self.requests).entry(code.as_u16()).or_insert(0) += 1;
    }
}

/// What every connection shares.
struct Shared<S: Scraper> {
    /// Asks the scrape thread ([`scrape_loop`]) for one scrape.
    jobs: std::sync::mpsc::Sender<()>,
    state: Mutex<State<S::Scrape>>,
    /// Bumped when a scrape ends (under `state`'s lock).
    done: watch::Sender<u64>,
    max_age: Duration,
    /// A permit per request being answered ([`Limits::max_in_flight`]).
    turns: Semaphore,
    stats: Arc<Stats>,
}

/// Locks `m`, also after a panic while it was held (what it guards stays consistent:
/// every change under these locks is a single assignment).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<S: Scraper> Shared<S> {
    /// The shared state, and the thread that scrapes (it ends when the state is
    /// dropped, after the scrape under way).
    ///
    /// # Errors
    /// The thread could not be started.
    fn new(scraper: S, max_age: Duration, max_in_flight: usize) -> std::io::Result<Arc<Self>> {
        let (jobs, rx) = std::sync::mpsc::channel();
        let shared = Arc::new(Shared {
            jobs,
            state: Mutex::new(State {
                last: None,
                in_flight: false,
            }),
            done: watch::channel(0).0,
            max_age,
            turns: Semaphore::new(max_in_flight.clamp(1, Semaphore::MAX_PERMITS)),
            stats: Arc::default(),
        });
        let weak = Arc::downgrade(&shared);
        std::thread::Builder::new()
            .name("cgtree-scrape".into())
            .spawn(move || scrape_loop(scraper, &rx, &weak))?;
        Ok(shared)
    }

    /// Records the end of a scrape and wakes the requests waiting for it.
    fn record(&self, started: Instant, result: Result<S::Scrape, String>) {
        let sample = Arc::new(Sample {
            started,
            finished: Instant::now(),
            result,
            bodies: Default::default(),
            gzipped: Default::default(),
        });
        let mut st = lock(&self.state);
        st.last = Some(sample);
        st.in_flight = false;
        self.done.send_modify(|n| *n += 1);
    }

    /// The sample that answers a request that arrived at `arrived`: the last one when it
    /// started after `arrived` or is younger than `max_age`; else the next one (started
    /// here when none is under way).
    async fn sample(self: &Arc<Self>, arrived: Instant) -> Arc<Sample<S::Scrape>> {
        loop {
            let mut done = {
                let mut st = lock(&self.state);
                if let Some(last) = &st.last {
                    if last.started >= arrived || last.finished.elapsed() < self.max_age {
                        return Arc::clone(last);
                    }
                }
                if !st.in_flight {
                    if self.jobs.send(()).is_err() {
                        // The scrape thread is gone (it never ends while `self` lives).
                        return Arc::new(Sample {
                            started: arrived,
                            finished: Instant::now(),
                            result: Err("the scrape thread has ended".into()),
                            bodies: Default::default(),
                            gzipped: Default::default(),
                        });
                    }
                    st.in_flight = true;
                }
                self.done.subscribe()
            };
            // The sender lives in `self`: this ends when the scrape under way does.
            let _ = done.changed().await;
        }
    }
}

/// The scrape thread: one scrape per job, as long as the jobs' sender and the shared
/// state live. The end of every scrape (even by a panic) is recorded here, so a request
/// that goes away does not leave it unrecorded. One thread keeps the scraper's state and
/// allocations in one place (the host is read by one scrape at a time anyway).
fn scrape_loop<S: Scraper>(
    mut scraper: S,
    jobs: &std::sync::mpsc::Receiver<()>,
    shared: &std::sync::Weak<Shared<S>>,
) {
    while jobs.recv().is_ok() {
        let started = Instant::now();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| scraper.scrape()));
        let result = match result {
            Ok(Ok(s)) => Ok(s),
            Ok(Err(e)) => Err(format!("{e:#}")),
            Err(_) => Err("the scrape failed (panic)".to_string()),
        };
        let Some(me) = shared.upgrade() else {
            return;
        };
        me.stats.scrapes.fetch_add(1, Ordering::Relaxed);
        me.record(started, result);
    }
}

/// The items of a header whose values carry weights (`Accept`, `Accept-Encoding`: RFC
/// 9110, section 12.4.2), lower-cased, each with its `q` (1 when absent; 0 when it is
/// not a finite number).
pub(crate) fn weighted(value: &str) -> impl Iterator<Item = (String, f32)> + '_ {
    value.split(',').map(|item| {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v.trim().parse().unwrap_or(0.0);
                    if !q.is_finite() {
                        q = 0.0;
                    }
                }
            }
        }
        (name, q)
    })
}

/// The format a request's `Accept` header asks for: OpenMetrics when it accepts
/// `application/openmetrics-text` at least as much (by `q`) as `text/plain`.
pub fn negotiate(accept: Option<&str>) -> Format {
    let Some(accept) = accept else {
        return Format::Text;
    };
    let (mut om, mut text) = (0.0f32, 0.0f32);
    for (media, q) in weighted(accept) {
        match media.as_str() {
            "application/openmetrics-text" => om = om.max(q),
            "text/plain" | "text/*" | "*/*" => text = text.max(q),
            _ => {}
        }
    }
    if om > 0.0 && om >= text {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// The server's own metrics in `format`, to follow the scrape's (for OpenMetrics, before
/// its `# EOF`): `cgtree_serve_scrapes_total` and `cgtree_serve_requests_total{code}`.
fn self_metrics(stats: &Stats, format: Format) -> Vec<u8> {
    let scrapes = stats.scrapes.load(Ordering::Relaxed);
    let requests = lock(&stats.requests).clone();
    const SCRAPES_HELP: &str = "Scrapes of the host cgtree serve took (one answers every request that arrives while it runs or within --max-age after).";
    const REQUESTS_HELP: &str = "HTTP responses cgtree serve gave, by status code (the limits' own 408 and 431 not counted).";
    match format {
        Format::Text => {
            use prometheus::{Encoder, IntCounter, IntCounterVec, Opts, Registry, TextEncoder};
            let reg = Registry::new();
            let families = (|| -> prometheus::Result<Vec<_>> {
                let s = IntCounter::new("cgtree_serve_scrapes_total", SCRAPES_HELP)?;
                s.inc_by(scrapes);
                reg.register(Box::new(s))?;
                let r = IntCounterVec::new(
                    Opts::new("cgtree_serve_requests_total", REQUESTS_HELP),
                    &["code"],
                )?;
                for (code, n) in &requests {
                    r.get_metric_with_label_values(&[code.to_string().as_str()])?
                        .inc_by(*n);
                }
                reg.register(Box::new(r))?;
                Ok(reg.gather())
            })();
            let mut out = Vec::new();
            if let Ok(f) = families {
                if TextEncoder::new().encode(&f, &mut out).is_err() {
                    out.clear();
                }
            }
            out
        }
        Format::OpenMetrics => {
            use prometheus_client::metrics::{counter::Counter, family::Family};
            let mut reg = prometheus_client::registry::Registry::default();
            let s: Counter = Counter::default();
            s.inc_by(scrapes);
            // prometheus-client ends every HELP with a `.` of its own.
            let help = |h: &'static str| h.strip_suffix('.').unwrap_or(h);
            reg.register("cgtree_serve_scrapes", help(SCRAPES_HELP), s);
            let r = Family::<Vec<(String, String)>, Counter>::default();
            for (code, n) in &requests {
                r.get_or_create(&vec![("code".to_string(), code.to_string())])
                    .inc_by(*n);
            }
            reg.register("cgtree_serve_requests", help(REQUESTS_HELP), r);
            let mut out = String::new();
            if prometheus_client::encoding::text::encode(&mut out, &reg).is_err() {
                out.clear();
            }
            out.into_bytes()
        }
    }
}

/// The end of an OpenMetrics exposition.
const EOF_LINE: &[u8] = b"# EOF\n";

/// `scrape` (a scrape's body) without OpenMetrics' `# EOF` (the self-metrics that follow
/// end with their own). No byte is copied.
fn without_eof(scrape: Bytes, format: Format) -> Bytes {
    match format {
        Format::OpenMetrics if scrape.ends_with(EOF_LINE) => {
            scrape.slice(..scrape.len() - EOF_LINE.len())
        }
        _ => scrape,
    }
}

/// A response body of shared pieces, sent in order: a scrape's encoded body is one of
/// them, shared by every response that sends it (no copy per connection).
pub(crate) struct Body(VecDeque<Bytes>);

impl Body {
    fn new(pieces: impl IntoIterator<Item = Bytes>) -> Self {
        Body(pieces.into_iter().filter(|b| !b.is_empty()).collect())
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        let len: usize = self.0.iter().map(Bytes::len).sum();
        SizeHint::with_exact(u64::try_from(len).unwrap_or(u64::MAX))
    }
}

fn plain(code: StatusCode, text: impl Into<Bytes>) -> Response<Body> {
    let mut r = Response::new(Body::new([text.into()]));
    *r.status_mut() = code;
    r.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// Answers one request, after waiting for a turn ([`Limits::max_in_flight`]).
async fn handle<S: Scraper>(shared: Arc<Shared<S>>, req: Request<Incoming>) -> Response<Body> {
    let arrived = Instant::now();
    // The semaphore is never closed: `Err` cannot come (and would only skip the bound).
    let _turn = shared.turns.acquire().await.ok();
    let stats = Arc::clone(&shared.stats);
    let _busy = Counted::new(&stats.in_flight, &stats.peak_in_flight);
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let resp = match req.uri().path() {
        "/metrics" | "/" if !get => {
            let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD\n");
            r.headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            r
        }
        "/" => plain(StatusCode::OK, INDEX),
        "/metrics" => {
            let format = negotiate(req.headers().get(ACCEPT).and_then(|v| v.to_str().ok()));
            let gzip = gzip::accepts_gzip(
                req.headers()
                    .get(ACCEPT_ENCODING)
                    .and_then(|v| v.to_str().ok()),
            );
            drop(req);
            return metrics(Arc::clone(&shared), arrived, format, gzip).await;
        }
        _ => plain(StatusCode::NOT_FOUND, "not found: see /metrics\n"),
    };
    shared.stats.count(resp.status());
    resp
}

/// Answers `GET /metrics` in `format`, gzipped when `gzip`.
async fn metrics<S: Scraper>(
    shared: Arc<Shared<S>>,
    arrived: Instant,
    format: Format,
    gzip: bool,
) -> Response<Body> {
    let sample = shared.sample(arrived).await;
    if let Err(msg) = &sample.result {
        shared.stats.count(StatusCode::INTERNAL_SERVER_ERROR);
        let text = format!(
            "cgtree serve: the scrape failed: {}\n",
            crate::sanitize::escape_controls(msg.as_bytes())
        );
        return plain(StatusCode::INTERNAL_SERVER_ERROR, text);
    }
    let slot = format_index(format);
    let ready = |s: &Sample<S::Scrape>| {
        s.bodies[slot].get().is_some() && (!gzip || s.gzipped[slot].get().is_some())
    };
    if !ready(&sample) {
        let s = Arc::clone(&sample);
        let encoded = tokio::task::spawn_blocking(move || {
            let body = encoded_body::<S>(&s, format);
            if gzip {
                s.gzipped[slot].get_or_init(|| gzip::Deflated::new(body));
            }
        })
        .await;
        if encoded.is_err() || !ready(&sample) {
            shared.stats.count(StatusCode::INTERNAL_SERVER_ERROR);
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "cgtree serve: encoding the scrape failed\n",
            );
        }
    }
    let body = sample.bodies[slot].get().cloned().unwrap_or_default();
    // Counted before the self-metrics are written, so that they include this response.
    shared.stats.count(StatusCode::OK);
    let own = self_metrics(&shared.stats, format);
    let member = match sample.gzipped[slot].get() {
        Some(Some(deflated)) if gzip => deflated.member(&own),
        _ => None,
    };
    let gzipped = member.is_some();
    let mut r = match member {
        Some(pieces) => Response::new(Body::new(pieces)),
        None => Response::new(Body::new([body, Bytes::from(own)])),
    };
    let headers = r.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzipped {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    r
}

/// The scrape's body in `format`, encoded on the first call (blocking), without
/// OpenMetrics' `# EOF` (the self-metrics that follow end with their own).
fn encoded_body<S: Scraper>(sample: &Sample<S::Scrape>, format: Format) -> &Bytes {
    sample.bodies[format_index(format)].get_or_init(|| match &sample.result {
        Ok(scrape) => without_eof(Bytes::from(S::encode(scrape, format)), format),
        Err(_) => Bytes::new(),
    })
}

/// One more in a count, and the count's peak, until dropped.
struct Counted<'a>(&'a AtomicUsize);

impl<'a> Counted<'a> {
    fn new(count: &'a AtomicUsize, peak: &AtomicUsize) -> Self {
        let n = count.fetch_add(1, Ordering::Relaxed) + 1;
        peak.fetch_max(n, Ordering::Relaxed);
        Counted(count)
    }
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Serves one connection until it ends, sends no whole request head within
/// `limits.first_header_timeout` (then it is closed), its lifetime is over, or `stop`
/// turns true (then it finishes its request, within `limits.shutdown_grace`).
async fn connection<S: Scraper>(
    shared: Arc<Shared<S>>,
    stream: tokio::net::TcpStream,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let stats = Arc::clone(&shared.stats);
    let _active = Counted::new(&stats.active, &stats.peak);
    // Set when the first request head has been read (hyper calls the service then).
    let seen = Arc::new(AtomicBool::new(false));
    let seen_by_service = Arc::clone(&seen);
    let service = hyper::service::service_fn(move |req| {
        seen_by_service.store(true, Ordering::Relaxed);
        let shared = Arc::clone(&shared);
        async move { Ok::<_, std::convert::Infallible>(handle(shared, req).await) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(MIN_BUF))
        .keep_alive(true)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
    tokio::pin!(conn);
    let lifetime = tokio::time::sleep(limits.connection_lifetime);
    let first_head = tokio::time::sleep(limits.first_header_timeout);
    tokio::pin!(lifetime, first_head);
    let mut awaiting_first = true;
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = stop.wait_for(|s| *s) => break,
            () = &mut lifetime => break,
            () = &mut first_head, if awaiting_first => {
                if !seen.load(Ordering::Relaxed) {
                    // No request yet: nothing to finish, the connection is dropped.
                    return;
                }
                awaiting_first = false;
            }
        }
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(limits.shutdown_grace, conn).await;
}

/// Serves `listener` until `shutdown` completes, then stops accepting and lets the
/// connections finish their requests (within `limits.shutdown_grace`).
///
/// Must run inside a tokio runtime with I/O and time enabled.
///
/// # Errors
/// The scrape thread could not be started.
pub(crate) async fn run_server<S: Scraper>(
    listener: tokio::net::TcpListener,
    scraper: S,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<Arc<Stats>> {
    let shared = Shared::new(scraper, limits.max_age, limits.max_in_flight)?;
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let permits = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        // A permit first: without one, clients wait in the backlog.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(_) => {
                    // Out of descriptors or an aborted handshake: wait a little, go on.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let shared = Arc::clone(&shared);
        let limits = limits.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            connection(shared, stream, limits, stop).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every permit back: every connection has ended.
    let _ = tokio::time::timeout(
        limits.shutdown_grace + Duration::from_secs(1),
        permits.acquire_many(u32::try_from(max).unwrap_or(u32::MAX)),
    )
    .await;
    Ok(Arc::clone(&shared.stats))
}

/// `cgtree serve`: binds `listen`, says so on stderr, serves until SIGINT, SIGTERM or
/// SIGHUP (the terminal it ran in was closed).
///
/// `listen` is `IP:PORT` or `HOST:PORT`; `:PORT` (node-exporter's idiom for every
/// interface) is refused with a hint to write `0.0.0.0:PORT` or `[::]:PORT`, so that
/// listening beyond loopback is always spelled out.
///
/// # Errors
/// None of its own: a failure to bind or to start is reported on stderr with the address
/// and the cause, and gives status [`crate::FATAL`]; a stop by signal gives `0`.
pub(crate) fn listen_and_serve<S: Scraper>(
    listen: &str,
    scraper: S,
    limits: Limits,
    diag: &mut crate::term::Diag,
) -> anyhow::Result<u8> {
    let shown = crate::sanitize::sanitize(listen.as_bytes()).into_owned();
    if let Some(port) = shown.strip_prefix(':') {
        diag.error(format_args!(
            "serve: --listen {shown} names no address: write 0.0.0.0:{port} (every IPv4 \
             interface) or [::]:{port} (every interface) to listen beyond this host's \
             loopback, or 127.0.0.1:{port} for loopback only"
        ));
        return Ok(crate::FATAL);
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            diag.error(format_args!("serve: cannot start: {e}"));
            return Ok(crate::FATAL);
        }
    };
    let grace = limits.shutdown_grace;
    let code = rt.block_on(async {
        let listener = match tokio::net::TcpListener::bind(listen).await {
            Ok(l) => l,
            Err(e) => {
                diag.error(format_args!("serve: cannot listen on {shown}: {e}"));
                return crate::FATAL;
            }
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => {
                diag.error(format_args!("serve: {shown}: {e}"));
                return crate::FATAL;
            }
        };
        use tokio::signal::unix::{signal, SignalKind};
        let (mut term, mut int, mut hup) = match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) {
            (Ok(t), Ok(i), Ok(h)) => (t, i, h),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
                diag.error(format_args!("serve: cannot handle signals: {e}"));
                return crate::FATAL;
            }
        };
        diag.raw(&format!(
            "cgtree serve: listening on http://{addr}/metrics\n"
        ));
        let stop = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
                _ = hup.recv() => {}
            }
        };
        match run_server(listener, scraper, limits, stop).await {
            Ok(_) => crate::OK,
            Err(e) => {
                diag.error(format_args!("serve: cannot start the scrape thread: {e}"));
                crate::FATAL
            }
        }
    });
    // A scrape still running is not waited for past the grace.
    rt.shutdown_timeout(grace);
    Ok(code)
}

/// [`Scraper`] of the host: [`crate::metrics::Exporter`]. What could not be read is said
/// on stderr when it differs from what the scrape before could not read (not at every
/// scrape: Prometheus scrapes every 15 s or so).
struct HostScraper {
    exporter: crate::metrics::Exporter,
    said: Vec<String>,
}

impl HostScraper {
    fn say(&mut self, now: Vec<String>) {
        if now != self.said {
            let mut diag = crate::term::Diag::default();
            for e in &now {
                diag.error(format_args!("serve: {e}"));
            }
            self.said = now;
        }
    }
}

impl Scraper for HostScraper {
    type Scrape = crate::metrics::Scrape;
    fn scrape(&mut self) -> anyhow::Result<Self::Scrape> {
        match self.exporter.collect() {
            Ok(s) => {
                self.say(s.errors().to_vec());
                Ok(s)
            }
            Err(e) => {
                self.say(vec![format!("{e:#}")]);
                Err(e)
            }
        }
    }
    fn encode(scrape: &Self::Scrape, format: Format) -> Vec<u8> {
        scrape.encode(format)
    }
}

/// The connections served at once: `wanted`, but at most a quarter of `soft_nofile` (the
/// soft `RLIMIT_NOFILE`: a connection holds a descriptor, and the rest are for the
/// scrape, which keeps a directory descriptor per cgroup), and at least 1.
fn connection_cap(wanted: usize, soft_nofile: u64) -> usize {
    let room = usize::try_from(soft_nofile / 4).unwrap_or(usize::MAX);
    wanted.min(room).max(1)
}

/// `cgtree serve`: the host of `cfg` (`--root`, or the live one) over HTTP.
///
/// # Errors
/// Bad `--cgroups` or `--max-cgroups`; a `--root` with no cgroup2 hierarchy (checked
/// before listening, as every other subcommand refuses it). A failure to listen is reported on stderr and gives
/// [`crate::FATAL`]; a stop by SIGINT, SIGTERM or SIGHUP gives `0`.
pub(crate) fn run(
    cfg: &crate::config::Config,
    args: &crate::cli::ServeArgs,
    diag: &mut crate::term::Diag,
) -> anyhow::Result<u8> {
    let opts = crate::metrics::ExportOptions::from_args(&cfg.start, &args.export)?;
    if cfg.root.is_some() {
        // A directory that is not a cgroup2 hierarchy would answer every scrape with an
        // error: refused at the start, with the reason (exit 2).
        crate::host(cfg).find_cgroup2()?;
    }
    let exporter = crate::metrics::Exporter::new(cfg, opts)?;
    crate::top::live::raise_nofile();
    let soft = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .map_or(1024, |(soft, _)| soft);
    let default = Limits::default();
    let limits = Limits {
        max_age: args.max_age,
        max_connections: connection_cap(default.max_connections, soft),
        ..default
    };
    let scraper = HostScraper {
        exporter,
        said: Vec::new(),
    };
    listen_and_serve(&args.listen, scraper, limits, diag)
}

mod gzip;

#[cfg(test)]
mod tests;
