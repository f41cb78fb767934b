//! `cgtree watch` and `cgroup_core::watch::Watcher` on the live cgroup2 mount (root),
//! under a unique subtree removed at the end, for both mechanisms (fanotify, inotify):
//!
//! - churn: every create and remove of 2000 cgroups (a quarter nested) reported exactly
//!   once, in order, none lost; the latency from `mkdir`/`rmdir` returning to the event
//!   is printed (p50, p99, max), not asserted;
//! - nested chains of depth 3 to 5 made and removed at once (fanotify): every level
//!   reported created and removed once, no overflow;
//! - a process moved in and killed: populated, then emptied;
//! - overflow (the watcher's own bound, and the kernel's queue): an `overflow` event,
//!   then a walk whose events give exactly what exists;
//! - inotify lagging behind a chain made and removed: an `overflow`, never a silent loss;
//! - SIGTERM, SIGINT and a closed pipe end it with status 0, SIGTERM and SIGINT also
//!   while its output pipe is full (a reader that stopped reading).
//!
//! Every line of `--jsonl` is validated against `#/$defs/watch_event` of docs/json.md.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use cgroup_core::watch::{Backend, EventKind, Options, Watcher};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BACKENDS: [&str; 2] = ["fanotify", "inotify"];

fn mono_ns() -> u64 {
    let t = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).unwrap();
    t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64
}

/// A unique cgroup below the mount; `Drop` kills the watcher (by its own PID) and removes
/// everything below the cgroup, deepest first.
struct Base {
    dir: PathBuf,
    rel: String,
    watcher: Option<Child>,
}

impl Base {
    fn new(mount: &Path, what: &str) -> Base {
        let name = common::unique_cgroup_name(what);
        let dir = mount.join(&name);
        std::fs::create_dir(&dir).unwrap();
        Base {
            dir,
            rel: format!("/{name}"),
            watcher: None,
        }
    }
}

fn rmdir_tree(d: &Path) {
    if let Ok(rd) = std::fs::read_dir(d) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                rmdir_tree(&e.path());
            }
        }
    }
    for _ in 0..100 {
        match std::fs::remove_dir(d) {
            Ok(()) => return,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    eprintln!("watch test: could not remove {}", d.display());
}

impl Drop for Base {
    fn drop(&mut self) {
        if let Some(mut c) = self.watcher.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        rmdir_tree(&self.dir);
    }
}

/// `cgtree watch <base> --jsonl --backend <b>` with its lines (parsed and validated) on
/// a channel; returns once it reports a cgroup made to tell that it is ready.
fn start_cli(base: &mut Base, backend: &str, extra: &[&str]) -> mpsc::Receiver<Value> {
    let mut cmd = common::cgtree();
    cmd.args(["watch", &base.rel, "--backend", backend])
        .args(extra);
    start_cmd(base, cmd)
}

/// [`start_cli`] with the command given.
fn start_cmd(base: &mut Base, mut cmd: std::process::Command) -> mpsc::Receiver<Value> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    base.watcher = Some(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // Compiled once: a slow reader would hold the watcher up (a full pipe).
        let main = common::json_schema();
        let schema = serde_json::json!({"$ref": "#/$defs/watch_event", "$defs": main["$defs"]});
        let validator = jsonschema::validator_for(&schema).expect("schema compiles");
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if !line.starts_with('{') {
                // A text line: time, event, path, id=..., what it is.
                let f: Vec<&str> = line.split_whitespace().collect();
                let v = serde_json::json!({"event": f[1], "path": f[2], "line": line});
                if tx.send(v).is_err() {
                    break;
                }
                continue;
            }
            let v: Value =
                serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
            if let Some(e) = validator.iter_errors(&v).next() {
                panic!("{line}: {e} at {}", e.instance_path());
            }
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    wait_ready(&base.dir, &rx);
    rx
}

/// Makes `ready-N` cgroups until one is reported (the watcher is then set up), removes
/// them, and waits for their removals.
fn wait_ready(dir: &Path, rx: &mpsc::Receiver<Value>) {
    let start = Instant::now();
    let mut made = Vec::new();
    let mut seen = false;
    while !seen {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "watcher never ready"
        );
        let p = dir.join(format!("ready-{}", made.len()));
        std::fs::create_dir(&p).unwrap();
        made.push(p);
        while let Ok(v) = rx.recv_timeout(Duration::from_millis(100)) {
            if v["event"] == "created" {
                seen = true;
            }
        }
    }
    let mut removed = 0;
    for p in &made {
        std::fs::remove_dir(p).unwrap();
    }
    while removed < made.len() {
        let v = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("ready removals");
        let p = v["path"].as_str().unwrap_or("");
        if v["event"] == "removed" && p.contains("/ready-") {
            removed += 1;
        }
    }
}

fn percentile(v: &mut [u64], p: f64) -> f64 {
    v.sort_unstable();
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i] as f64 / 1e6
}

#[test]
fn churn_every_create_and_remove_once_in_order() {
    let Some(mount) = common::live_mount("watch churn") else {
        return;
    };
    // At the churn test's pace (300 us between steps), both mechanisms; as fast as
    // possible, fanotify (inotify cannot see a cgroup made and removed inside a
    // directory before its watch is added: see the report in benches/RESULTS.md).
    for (backend, pace) in [
        ("fanotify", Some(Duration::from_micros(300))),
        ("inotify", Some(Duration::from_micros(300))),
        ("fanotify", None),
    ] {
        churn(&mount, backend, pace);
    }
}

fn churn(mount: &Path, backend: &str, pace: Option<Duration>) {
    {
        let mut base = Base::new(mount, "watch-churn");
        let rx = start_cli(&mut base, backend, &["--jsonl"]);
        // 1600 top-level cgroups, every 4th with a nested one: 2000 creates and 2000
        // removes, with up to 8 top-level ones alive at a time.
        const TOP: usize = 1600;
        let mut made: BTreeMap<String, u64> = BTreeMap::new();
        let mut gone: BTreeMap<String, u64> = BTreeMap::new();
        let rel = |p: &Path| {
            format!(
                "{}/{}",
                base.rel,
                p.strip_prefix(&base.dir).unwrap().display()
            )
        };
        let t0 = Instant::now();
        let mut live: std::collections::VecDeque<Vec<PathBuf>> = Default::default();
        let remove = |v: Vec<PathBuf>, gone: &mut BTreeMap<String, u64>| {
            for p in v.iter().rev() {
                std::fs::remove_dir(p).unwrap();
                gone.insert(rel(p), mono_ns());
            }
        };
        for i in 0..TOP {
            let top = base.dir.join(format!("c{i}"));
            std::fs::create_dir(&top).unwrap();
            made.insert(rel(&top), mono_ns());
            let mut dirs = vec![top.clone()];
            if i % 4 == 0 {
                let n = top.join("nested");
                std::fs::create_dir(&n).unwrap();
                made.insert(rel(&n), mono_ns());
                dirs.push(n);
            }
            live.push_back(dirs);
            if live.len() > 8 {
                remove(live.pop_front().unwrap(), &mut gone);
            }
            if let Some(p) = pace {
                std::thread::sleep(p);
            }
        }
        while let Some(v) = live.pop_front() {
            remove(v, &mut gone);
        }
        let took = t0.elapsed();
        // Collect until every removal is reported (or 60 s pass).
        let mut events: BTreeMap<String, Vec<(String, u64, u64)>> = BTreeMap::new();
        let mut removals = 0;
        let mut overflows = 0;
        let deadline = Instant::now() + Duration::from_secs(60);
        while removals < gone.len() && Instant::now() < deadline {
            let Ok(v) = rx.recv_timeout(Duration::from_secs(1)) else {
                if overflows > 0 {
                    // Removals lost inside the overflow never come: a quiet second ends it.
                    break;
                }
                continue;
            };
            let kind = v["event"].as_str().unwrap().to_string();
            if kind == "overflow" {
                // fanotify sees every cgroup (held ones included): never at this rate.
                // inotify says overflow when a directory went before its watch could be
                // added (what happened inside it is unknowable), then walks again.
                assert_eq!(backend, "inotify", "{backend}: no overflow expected");
                overflows += 1;
                continue;
            }
            let path = v["path"].as_str().unwrap().to_string();
            if kind == "removed" && made.contains_key(&path) {
                removals += 1;
            }
            events.entry(path).or_default().push((
                kind,
                v["id"].as_u64().unwrap(),
                v["monotonic_ns"].as_u64().unwrap(),
            ));
        }
        // Nothing else comes (but the walks after an overflow).
        while let Ok(v) = rx.recv_timeout(Duration::from_millis(300)) {
            if v["event"] == "overflow" {
                assert_eq!(backend, "inotify", "{backend}: no overflow expected");
                overflows += 1;
                continue;
            }
            let path = v["path"].as_str().unwrap().to_string();
            events
                .entry(path)
                .or_default()
                .push((v["event"].as_str().unwrap().to_string(), 0, 0));
        }
        let mut lat_create = Vec::new();
        let mut lat_remove = Vec::new();
        let mut no_id = 0;
        if overflows > 0 {
            // Said, not silent: then each cgroup was either seen made and removed, in
            // that order, once, or not seen at all (inside the overflow), and nothing
            // seen made is left without its removal.
            for (path, evs) in &events {
                let kinds: Vec<&str> = evs.iter().map(|e| e.0.as_str()).collect();
                assert!(
                    kinds.is_empty() || kinds == ["created", "removed"],
                    "{backend} after {overflows} overflow(s): {path}: {kinds:?}"
                );
            }
            let seen = events.values().filter(|e| !e.is_empty()).count();
            eprintln!(
                "watch churn ({backend}, pace {pace:?}): {overflows} overflow(s) (a cgroup went \
                 before its watch could be added); {seen} of {} cgroups seen made and removed, \
                 none left behind",
                made.len()
            );
            return;
        }
        for (path, t_made) in &made {
            let evs = events.get(path).map(Vec::as_slice).unwrap_or_default();
            let kinds: Vec<&str> = evs.iter().map(|e| e.0.as_str()).collect();
            assert_eq!(
                kinds,
                ["created", "removed"],
                "{backend}: {path}; {} paths seen, {removals} removals, first: {:?}",
                events.len(),
                events.iter().next()
            );
            assert_eq!(evs[0].1, evs[1].1, "{backend}: {path}: ids differ");
            if evs[0].1 == 0 {
                no_id += 1;
            }
            lat_create.push(evs[0].2.saturating_sub(*t_made));
            lat_remove.push(evs[1].2.saturating_sub(gone[path]));
        }
        let others: Vec<&String> = events.keys().filter(|p| !made.contains_key(*p)).collect();
        assert!(others.is_empty(), "{backend}: events for {others:?}");
        let n = made.len();
        assert_eq!(n, 2000);
        eprintln!(
            "watch churn ({backend}, pace {pace:?}): {n} creates + {n} removes in {:.2} s ({:.0} ops/s), \
             all reported once in order; without id: {no_id}; latency mkdir->created ms \
             p50 {:.3} p99 {:.3} max {:.3}; rmdir->removed ms p50 {:.3} p99 {:.3} max {:.3}",
            took.as_secs_f64(),
            2.0 * n as f64 / took.as_secs_f64(),
            percentile(&mut lat_create, 0.5),
            percentile(&mut lat_create, 0.99),
            percentile(&mut lat_create, 1.0),
            percentile(&mut lat_remove, 0.5),
            percentile(&mut lat_remove, 0.99),
            percentile(&mut lat_remove, 1.0),
        );
    }
}

#[test]
fn populated_then_emptied() {
    let Some(mount) = common::live_mount("watch populated") else {
        return;
    };
    for backend in BACKENDS {
        let mut base = Base::new(&mount, "watch-pop");
        let rx = start_cli(&mut base, backend, &["--jsonl"]);
        // A name of docker's shape: identified when populated (as an unidentified
        // docker container: no docker state here).
        let name = format!("docker-{}.scope", "ab".repeat(32));
        let cg = base.dir.join(&name);
        std::fs::create_dir(&cg).unwrap();
        let mut sleep = std::process::Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        std::fs::write(cg.join("cgroup.procs"), sleep.id().to_string()).unwrap();
        let path = format!("{}/{name}", base.rel);
        let mut kinds = Vec::new();
        let next = |kinds: &mut Vec<String>, want: &str| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(v) = rx.recv_timeout(Duration::from_millis(200)) {
                    if v["path"] == path.as_str() {
                        kinds.push(v["event"].as_str().unwrap().to_string());
                        if v["event"] == "identified" {
                            assert!(v["identity"]["kind"].is_string(), "{v}");
                        }
                        if v["event"] == want {
                            return;
                        }
                    }
                }
            }
            panic!("{backend}: no {want} for {path}: {kinds:?}");
        };
        next(&mut kinds, "populated");
        next(&mut kinds, "identified");
        let _ = sleep.kill();
        let _ = sleep.wait();
        next(&mut kinds, "emptied");
        std::fs::remove_dir(&cg).unwrap();
        next(&mut kinds, "removed");
        assert_eq!(
            kinds,
            ["created", "populated", "identified", "emptied", "removed"],
            "{backend}"
        );
        eprintln!("watch populated ({backend}): {kinds:?}");
    }
}

/// Reads a library watcher until it is quiet; returns the events' net set of paths
/// (created minus removed, below the start) and whether an overflow came.
fn drain_net(w: &mut Watcher, net: &mut BTreeSet<Vec<u8>>) -> (bool, usize) {
    let mut overflow = false;
    let mut n = 0;
    while let Some(ev) = w.next_event(Some(Duration::from_millis(500))).unwrap() {
        n += 1;
        match ev.kind {
            EventKind::Overflow => overflow = true,
            EventKind::Created => assert!(net.insert(ev.path.clone()), "created twice"),
            EventKind::Removed => assert!(net.remove(&ev.path), "removed unknown"),
            _ => {}
        }
    }
    (overflow, n)
}

fn existing(base: &Base) -> BTreeSet<Vec<u8>> {
    std::fs::read_dir(&base.dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| format!("{}/{}", base.rel, e.file_name().to_string_lossy()).into_bytes())
        .collect()
}

#[test]
fn overflow_then_resync_reports_the_net_changes() {
    let Some(mount) = common::live_mount("watch overflow") else {
        return;
    };
    for (backend, b) in [
        ("fanotify", Backend::Fanotify),
        ("inotify", Backend::Inotify),
    ] {
        // 1. The watcher's own bound: 4 events a batch.
        let base = Base::new(&mount, "watch-ovf");
        let host = cgroup_core::Host::new();
        let opts = Options {
            backend: b,
            identify: true,
            queue_limit: 4,
        };
        let mut w = Watcher::new(&host, &base.rel, opts).unwrap();
        assert_eq!(w.backend(), b);
        for i in 0..50 {
            std::fs::create_dir(base.dir.join(format!("o{i}"))).unwrap();
        }
        for i in 0..20 {
            std::fs::remove_dir(base.dir.join(format!("o{i}"))).unwrap();
        }
        let mut net = BTreeSet::new();
        let (overflow, n) = drain_net(&mut w, &mut net);
        assert!(overflow, "{backend}: no overflow with a bound of 4");
        assert_eq!(net, existing(&base), "{backend}: net after the resync");
        assert_eq!(net.len(), 30);
        // Later events are exact again.
        std::fs::remove_dir(base.dir.join("o20")).unwrap();
        std::fs::create_dir(base.dir.join("late")).unwrap();
        drain_net(&mut w, &mut net);
        assert_eq!(net, existing(&base), "{backend}: after the overflow");
        eprintln!(
            "watch overflow ({backend}, bound 4): {n} events, net {} cgroups",
            30
        );

        // 2. The kernel's queue (16384 events by default): 9000 mkdir+rmdir while the
        // watcher does not read.
        let base = Base::new(&mount, "watch-kovf");
        let opts = Options {
            backend: b,
            identify: false,
            ..Options::default()
        };
        let mut w = Watcher::new(&host, &base.rel, opts).unwrap();
        let t = Instant::now();
        for i in 0..9000 {
            let p = base.dir.join(format!("k{i}"));
            std::fs::create_dir(&p).unwrap();
            if i % 1000 != 0 {
                std::fs::remove_dir(&p).unwrap();
            }
        }
        let made = t.elapsed();
        let mut net = BTreeSet::new();
        let (overflow, n) = drain_net(&mut w, &mut net);
        assert!(overflow, "{backend}: no overflow past the kernel's queue");
        assert_eq!(
            net,
            existing(&base),
            "{backend}: net after the kernel overflow"
        );
        assert_eq!(net.len(), 9);
        eprintln!(
            "watch kernel overflow ({backend}): 18000 changes in {:.2} s, {n} events read, \
             net {} cgroups",
            made.as_secs_f64(),
            net.len()
        );
    }
}

#[test]
fn sigterm_sigint_and_closed_pipe_end_with_status_0() {
    let Some(mount) = common::live_mount("watch signals") else {
        return;
    };
    for sig in [
        Some(nix::sys::signal::Signal::SIGTERM),
        Some(nix::sys::signal::Signal::SIGINT),
        None,
    ] {
        let mut base = Base::new(&mount, "watch-sig");
        let rx = start_cli(&mut base, "auto", &["--jsonl"]);
        let mut child = base.watcher.take().unwrap();
        let t = Instant::now();
        match sig {
            Some(s) => {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), s).unwrap();
            }
            // The reader goes away: the thread holding the pipe ends when rx is dropped
            // and the next line is sent; make one.
            None => {
                drop(rx);
                std::fs::create_dir(base.dir.join("wake")).unwrap();
            }
        }
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if t.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{sig:?}: cgtree watch did not end");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(status.code(), Some(0), "{sig:?}");
        eprintln!(
            "watch end on {sig:?} (None: closed pipe): status 0 in {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn text_lines_escape_names() {
    let Some(mount) = common::live_mount("watch text") else {
        return;
    };
    let mut base = Base::new(&mount, "watch-text");
    let rx = start_cli(&mut base, "auto", &[]);
    // (cgroup2 refuses a line feed in a name: cgroup_mkdir.)
    let evil = "evil\x1b[31m\tred\u{202e}x";
    std::fs::create_dir(base.dir.join(evil)).unwrap();
    let v = rx.recv_timeout(Duration::from_secs(10)).expect("a line");
    let line = v["line"].as_str().unwrap();
    assert_eq!(v["event"], "created", "{line}");
    assert!(
        line.contains(&format!("{}/evil\\x1b[31m\\tred", base.rel)),
        "{line}"
    );
    assert!(
        !line.contains('\x1b') && !line.contains('\u{202e}'),
        "{line}"
    );
    std::fs::remove_dir(base.dir.join(evil)).unwrap();
    let v = rx.recv_timeout(Duration::from_secs(10)).expect("a line");
    assert_eq!(v["event"], "removed", "{}", v["line"]);
}

#[test]
fn removing_the_watched_cgroup_ends_with_status_0() {
    let Some(mount) = common::live_mount("watch root removed") else {
        return;
    };
    for backend in BACKENDS {
        let mut base = Base::new(&mount, "watch-gone");
        let rx = start_cli(&mut base, backend, &["--jsonl"]);
        let mut child = base.watcher.take().unwrap();
        std::fs::remove_dir(&base.dir).unwrap();
        let v = rx.recv_timeout(Duration::from_secs(10)).expect("an event");
        assert_eq!(
            (v["event"].as_str(), v["path"].as_str()),
            (Some("removed"), Some(base.rel.as_str())),
            "{backend}"
        );
        let t = Instant::now();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st;
            }
            if t.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{backend}: cgtree watch did not end");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(status.code(), Some(0), "{backend}");
    }
}

#[test]
fn nobody_watches_with_inotify() {
    use std::os::unix::fs::PermissionsExt;
    let Some(mount) = common::live_mount("watch unprivileged") else {
        return;
    };
    let mut base = Base::new(&mount, "watch-nobody");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = tmp.path().join("cgtree");
    std::fs::copy(env!("CARGO_BIN_EXE_cgtree"), &bin).unwrap();
    let mut cmd = std::process::Command::new("setpriv");
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["watch", &base.rel, "--jsonl"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    // fanotify's filesystem mark needs CAP_SYS_ADMIN: the watcher falls back to inotify.
    let rx = start_cmd(&mut base, cmd);
    // One step at a time: inotify cannot see a cgroup made and removed in a directory
    // before that directory's watch is added.
    let mut got = Vec::new();
    for (mk, p) in [(true, "a"), (true, "a/b"), (false, "a/b"), (false, "a")] {
        let d = base.dir.join(p);
        if mk {
            std::fs::create_dir(&d).unwrap();
        } else {
            std::fs::remove_dir(&d).unwrap();
        }
        let v = rx.recv_timeout(Duration::from_secs(10)).expect("events");
        let p = v["path"]
            .as_str()
            .unwrap()
            .trim_start_matches(&base.rel)
            .to_string();
        got.push(format!("{} {p}", v["event"].as_str().unwrap()));
    }
    assert_eq!(
        got,
        ["created /a", "created /a/b", "removed /a/b", "removed /a"]
    );
    let mut child = base.watcher.take().unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn nested_chains_made_and_removed_at_once_every_level_reported() {
    let Some(mount) = common::live_mount("watch nested churn") else {
        return;
    };
    // fanotify only: inotify cannot see a cgroup made and removed inside a directory
    // removed before its watch was added (README, docs/json.md).
    let mut base = Base::new(&mount, "watch-deep");
    let rx = start_cli(&mut base, "fanotify", &["--jsonl"]);
    // 300 chains c<i>/l1/l2[/l3[/l4]] of depth 3, 4 and 5, each made (mkdir -p) and
    // removed (deepest first) at once, with nothing in between.
    const CHAINS: usize = 300;
    let mut made: Vec<(String, usize)> = Vec::new();
    let mut removals = 0;
    for i in 0..CHAINS {
        let depth = 3 + i % 3;
        let mut dirs = vec![base.dir.join(format!("c{i}"))];
        for l in 1..depth {
            let d = dirs[l - 1].join(format!("l{l}"));
            dirs.push(d);
        }
        std::fs::create_dir_all(&dirs[depth - 1]).unwrap();
        for (l, d) in dirs.iter().enumerate().rev() {
            std::fs::remove_dir(d).unwrap();
            let rel = format!(
                "{}/{}",
                base.rel,
                d.strip_prefix(&base.dir).unwrap().display()
            );
            made.push((rel, l + 1));
            removals += 1;
        }
    }
    let mut events: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    let mut overflows = 0;
    let mut seen = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while seen < removals && Instant::now() < deadline {
        let Ok(v) = rx.recv_timeout(Duration::from_secs(1)) else {
            continue;
        };
        let kind = v["event"].as_str().unwrap().to_string();
        if kind == "overflow" {
            overflows += 1;
        }
        if kind == "removed" {
            seen += 1;
        }
        events
            .entry(v["path"].as_str().unwrap().to_string())
            .or_default()
            .push((kind, v["id"].as_u64().unwrap()));
    }
    while let Ok(v) = rx.recv_timeout(Duration::from_millis(300)) {
        events
            .entry(v["path"].as_str().unwrap().to_string())
            .or_default()
            .push((v["event"].as_str().unwrap().to_string(), 0));
    }
    // Per level: how many were reported created then removed, once, with one id.
    let mut per_level: BTreeMap<usize, (usize, usize)> = BTreeMap::new();
    let mut bad = Vec::new();
    for (path, level) in &made {
        let evs = events.get(path).map(Vec::as_slice).unwrap_or_default();
        let kinds: Vec<&str> = evs.iter().map(|e| e.0.as_str()).collect();
        let ok = kinds == ["created", "removed"] && evs[0].1 == evs[1].1 && evs[0].1 != 0;
        let c = per_level.entry(*level).or_default();
        c.1 += 1;
        if ok {
            c.0 += 1;
        } else if bad.len() < 5 {
            bad.push(format!("{path}: {evs:?}"));
        }
    }
    eprintln!(
        "watch nested churn (fanotify): {} cgroups in {CHAINS} chains of depth 3-5; \
         reported created+removed per level (ok/total): {per_level:?}; overflows: {overflows}",
        made.len()
    );
    assert_eq!(
        overflows,
        0,
        "no overflow expected for {} cgroups",
        made.len()
    );
    assert!(
        bad.is_empty(),
        "lost or wrong: {bad:?}; per level {per_level:?}"
    );
}

#[test]
fn sigterm_and_sigint_end_it_while_its_output_pipe_is_full() {
    use nix::sys::signal::{kill, Signal};
    let Some(mount) = common::live_mount("watch full pipe") else {
        return;
    };
    for (sig, jsonl) in [(Signal::SIGTERM, true), (Signal::SIGINT, false)] {
        let base = Base::new(&mount, "watch-full");
        // A reader that stops reading: the test holds the pipe's read end and reads only
        // until the watcher is ready.
        let mut cmd = common::cgtree();
        cmd.args(["watch", &base.rel, "--backend", "fanotify"]);
        if jsonl {
            cmd.arg("--jsonl");
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let pid = nix::unistd::Pid::from_raw(child.id() as i32);
        // Lines read on a thread until the first ready cgroup is reported; the reader is
        // then handed back and nobody reads any more.
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let (tx, rx) = mpsc::channel();
        let reading = std::thread::spawn(move || {
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                if line.contains("ready-") {
                    let _ = tx.send(());
                    break;
                }
                line.clear();
            }
            reader
        });
        let start = Instant::now();
        let mut n = 0;
        while rx.recv_timeout(Duration::from_millis(100)).is_err() {
            assert!(start.elapsed() < Duration::from_secs(20), "never ready");
            let p = base.dir.join(format!("ready-{n}"));
            std::fs::create_dir(&p).unwrap();
            std::fs::remove_dir(&p).unwrap();
            n += 1;
        }
        let reader = reading.join().unwrap();
        let pipe = nix::fcntl::fcntl(reader.get_ref(), nix::fcntl::FcntlArg::F_GETPIPE_SZ).unwrap()
            as usize;
        // 6000 events of more than 60 bytes each: far more than the pipe holds.
        for i in 0..3000 {
            let p = base.dir.join(format!("f{i}"));
            std::fs::create_dir(&p).unwrap();
            std::fs::remove_dir(&p).unwrap();
        }
        assert!(6000 * 60 > 4 * pipe, "pipe of {pipe} bytes");
        std::thread::sleep(Duration::from_millis(500));
        let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
        let t = Instant::now();
        kill(pid, sig).unwrap();
        let status = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break Some(st);
            }
            if t.elapsed() > Duration::from_secs(10) {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let Some(status) = status else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{sig:?} with a full pipe (watcher in {wchan}): cgtree watch did not end");
        };
        assert_eq!(status.code(), Some(0), "{sig:?}");
        eprintln!(
            "watch end on {sig:?} with a full pipe of {pipe} bytes (watcher waiting in \
             {wchan}): status 0 in {:?}",
            t.elapsed()
        );
        drop(reader);
    }
}

#[test]
fn json_flag_means_json_lines() {
    let Some(mount) = common::live_mount("watch --json") else {
        return;
    };
    for args in [["watch", "--json"], ["--json", "watch"]] {
        let mut base = Base::new(&mount, "watch-json");
        let mut cmd = common::cgtree();
        cmd.args(args).args([&base.rel, "--backend", "auto"]);
        // start_cmd validates every line starting with `{` against the schema, and turns
        // a text line into an object with a "line" field.
        let rx = start_cmd(&mut base, cmd);
        std::fs::create_dir(base.dir.join("j")).unwrap();
        let v = rx.recv_timeout(Duration::from_secs(10)).expect("an event");
        assert!(v.get("line").is_none(), "{args:?}: a text line: {v}");
        assert_eq!(v["event"], "created", "{args:?}: {v}");
        assert_eq!(v["path"], format!("{}/j", base.rel).as_str(), "{args:?}");
        assert!(v["id"].as_u64().is_some_and(|id| id > 0), "{args:?}: {v}");
        std::fs::remove_dir(base.dir.join("j")).unwrap();
    }
}

#[test]
fn inotify_says_overflow_when_a_directory_went_before_its_watch() {
    let Some(mount) = common::live_mount("watch inotify lag") else {
        return;
    };
    let base = Base::new(&mount, "watch-lag");
    let host = cgroup_core::Host::new();
    let opts = Options {
        backend: Backend::Inotify,
        identify: false,
        ..Options::default()
    };
    let mut w = Watcher::new(&host, &base.rel, opts).unwrap();
    // Made and removed while the watcher does not read: by the time it sees `x`
    // created, `x` is gone with everything below it, which it never saw.
    std::fs::create_dir_all(base.dir.join("x/y/z")).unwrap();
    for p in ["x/y/z", "x/y", "x"] {
        std::fs::remove_dir(base.dir.join(p)).unwrap();
    }
    let mut kinds: Vec<(EventKind, String)> = Vec::new();
    while let Some(ev) = w.next_event(Some(Duration::from_millis(500))).unwrap() {
        let p = String::from_utf8_lossy(&ev.path).into_owned();
        kinds.push((ev.kind, p.trim_start_matches(&base.rel).to_string()));
    }
    // Either every level was reported (created, removed), or an overflow says that
    // something was lost: never a silent loss.
    let all = ["/x", "/x/y", "/x/y/z"].iter().all(|p| {
        kinds
            .iter()
            .filter(|(_, q)| q == p)
            .map(|(k, _)| *k)
            .collect::<Vec<_>>()
            == [EventKind::Created, EventKind::Removed]
    });
    let overflow = kinds.iter().any(|(k, _)| *k == EventKind::Overflow);
    eprintln!("watch inotify lag: {kinds:?}");
    assert!(all || overflow, "silent loss: {kinds:?}");
    // And it goes on exactly after that.
    std::fs::create_dir(base.dir.join("after")).unwrap();
    let ev = w
        .next_event(Some(Duration::from_secs(5)))
        .unwrap()
        .expect("an event");
    assert_eq!(
        (ev.kind, ev.path),
        (
            EventKind::Created,
            format!("{}/after", base.rel).into_bytes()
        )
    );
}
