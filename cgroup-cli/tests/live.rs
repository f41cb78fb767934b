//! Live test on the host's real cgroup2 mount: a unique subtree with real processes, a
//! threaded subtree and an empty cgroup, removed afterwards even when an assertion fails.
//!
//! Needs root and a writable cgroup2 mount (CI has both). Elsewhere it fails with a
//! reason, unless `CGTREE_SKIP_LIVE=1` is set.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::path::Path;

use common::LiveTree;

fn write(p: &Path, s: &str) {
    fs::write(p, s).unwrap_or_else(|e| panic!("write {s:?} to {}: {e}", p.display()));
}

fn run(args: &[&str]) -> (String, String, i32) {
    let out = common::cgtree().args(args).output().expect("run cgtree");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn live_subtree_with_processes_and_threaded_cgroups() {
    let Some(mount) = common::live_mount("the live test") else {
        return;
    };
    let name = common::unique_cgroup_name("live");
    let base = mount.join(&name);
    let mut t = LiveTree::default();
    t.mkdir(&base);
    for d in ["svc", "svc/inner", "thr", "thr/w", "empty"] {
        t.mkdir(&base.join(d));
    }
    write(&base.join("thr/w/cgroup.type"), "threaded");
    let (a, b, c) = (t.spawn_sleep(), t.spawn_sleep(), t.spawn_sleep());
    write(&base.join("svc/inner/cgroup.procs"), &a.to_string());
    write(&base.join("svc/inner/cgroup.procs"), &b.to_string());
    write(&base.join("thr/cgroup.procs"), &c.to_string());
    // The main thread of `c` moves into the threaded child; the process stays listed by
    // the threaded domain `thr`.
    write(&base.join("thr/w/cgroup.threads"), &c.to_string());

    let start = format!("/{name}");
    let (out, err, code) = run(&[&start, "--all", "--full"]);
    assert_eq!(code, 0, "stderr: {err}\n{out}");
    let lines = common::chains(&common::parse_tree(&out));
    let has = |anc: &[&str], text: &str| {
        lines.iter().any(|(a, o)| {
            a.len() == anc.len()
                && a.iter().zip(anc).all(|(x, y)| x.starts_with(y))
                && common::without_controllers(o) == text
        })
    };
    assert!(
        out.starts_with(&format!("{start} (cgroup2 on {}", mount.display())),
        "{out}"
    );
    assert!(has(&[&start], "svc"), "{out}");
    assert!(has(&[&start, "svc"], "inner"), "{out}");
    let (lo, hi) = (a.min(b), a.max(b));
    let w = hi.to_string().len();
    assert!(
        has(&[&start, "svc", "inner"], &format!("{lo:>w$} sleep 600")),
        "{out}"
    );
    assert!(
        has(&[&start, "svc", "inner"], &format!("{hi} sleep 600")),
        "{out}"
    );
    assert!(has(&[&start], "thr (domain threaded)"), "{out}");
    assert!(has(&[&start, "thr"], &format!("{c} sleep 600")), "{out}");
    assert!(has(&[&start, "thr"], "w (threaded)"), "{out}");
    assert!(has(&[&start], "empty"), "{out}");

    // Without --all the empty cgroup is hidden; the threaded one stays (it has a thread).
    let (out, _, code) = run(&[&start, "--full"]);
    assert_eq!(code, 0);
    assert!(!out.contains("empty"), "{out}");
    assert!(out.contains("w (threaded)"), "{out}");

    // --threads lists the thread in the threaded cgroup.
    let (out, _, _) = run(&[&start, "--threads"]);
    let lines = common::chains(&common::parse_tree(&out));
    assert!(
        lines
            .iter()
            .any(|(anc, own)| anc.last().is_some_and(|l| l == "w (threaded)")
                && own == &format!("{c} {{sleep}}")),
        "{out}"
    );

    // JSON of the same subtree validates and carries the types.
    let (out, err, code) = run(&[&start, "--json", "--all", "--threads"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate(&doc).unwrap();
    let root = &doc["cgroup"];
    assert_eq!(root["path"], start.as_str());
    let child = |n: &serde_json::Value, name: &str| {
        n["children"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap()
    };
    let thr = child(root, "thr");
    assert_eq!(thr["type"], "domain threaded");
    let wj = child(&thr, "w");
    assert_eq!(wj["type"], "threaded");
    assert_eq!(wj["processes"], serde_json::Value::Null);
    assert_eq!(wj["populated"], true);
    assert_eq!(wj["threads"][0]["tid"], c);
    let inner = child(&child(root, "svc"), "inner");
    let pids: Vec<u64> = inner["processes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids, vec![u64::from(lo), u64::from(hi)]);
    assert_eq!(child(root, "empty")["populated"], false);
}

#[test]
fn live_host_without_root_flag_finds_the_cgroup2_mount() {
    let Some(mount) = common::live_mount("the live test") else {
        return;
    };
    let (out, err, code) = run(&["--no-procs", "--depth", "0"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("/ (cgroup2 on {}", mount.display())),
        "{out}"
    );
    let (out, _, code) = run(&["--json", "--no-procs", "--depth", "0"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate(&doc).unwrap();
    assert_eq!(doc["mount"]["path"], mount.to_str().unwrap());
    assert_eq!(doc["host_root"], "/");
}

/// Where no second thread can be started (a non-root reader at its task limit,
/// `RLIMIT_NPROC`), the tree with processes is read on one thread: the same output, no
/// panic (the walk that reads command lines on a second thread used to panic there).
#[test]
fn one_thread_when_none_can_be_started() {
    let Some(mount) = common::live_mount("the task-limit test") else {
        return;
    };
    let name = common::unique_cgroup_name("nproc");
    let base = mount.join(&name);
    let mut t = LiveTree::default();
    t.mkdir(&base);
    t.mkdir(&base.join("svc"));
    // Nobody's own processes (this /proc may hide other users' from it).
    for _ in 0..3 {
        t.spawn_in(
            &base.join("svc"),
            std::process::Command::new("setpriv").args([
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
                "sleep",
                "600",
            ]),
        );
    }
    let start = format!("/{name}");
    // As nobody (root is not held to RLIMIT_NPROC): with its three sleeps, any thread
    // cgtree starts is over the limit of one (exec is not held to it).
    let as_nobody = |limit: bool| {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        if limit {
            c.args(["prlimit", "--nproc=1", "--"]);
        }
        let o = c
            .arg(env!("CARGO_BIN_EXE_cgtree"))
            .args([&start, "--all", "--full"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .env("CGTREE_BPF", "0")
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.status.code(),
        )
    };
    let (free, free_err, free_code) = as_nobody(false);
    let (limited, err, code) = as_nobody(true);
    assert_eq!(free_code, Some(0), "{free_err}");
    assert_eq!(code, Some(0), "under RLIMIT_NPROC=1: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(limited.contains("sleep 600"), "{limited}");
    assert_eq!(limited, free);
}
