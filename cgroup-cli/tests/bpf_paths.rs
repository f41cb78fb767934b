//! Issue #18: the BPF iterator path and the file path give the same tree, byte for byte,
//! on a live cgroup tree this test builds (root, a cgtree built with `--features bpf`):
//! nested cgroups with odd names, a threaded subtree (a "domain threaded" root, threaded
//! members, a "domain invalid" one), processes (plain, with a command line longer than
//! the BPF copy, one that rewrote its arguments, a zombie), removed cgroups the kernel
//! has not released yet, and churn beside it (cgroups made and removed, short processes
//! started and reaped) while both run. `CGTREE_STATS=1` says which path ran;
//! `CGTREE_BPF=0` asks for the files.
//!
//! Skipped only with `CGTREE_SKIP_LIVE=1`; without root or a cgroup2 mount it fails.
#![cfg(feature = "bpf")]
#![allow(clippy::unwrap_used)]

mod common;

use common::{cgtree, live_mount, unique_cgroup_name, LiveTree};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Runs `cgtree args` with CGTREE_STATS=1 and `CGTREE_BPF` as given: (stdout, whether the
/// BPF path ran).
fn run(args: &[&str], bpf: bool) -> (String, bool) {
    let mut cmd = cgtree();
    cmd.env("CGTREE_STATS", "1").args(args);
    if !bpf {
        cmd.env("CGTREE_BPF", "0");
    }
    let o = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{args:?} bpf={bpf}: {err}");
    let walks = err
        .lines()
        .find_map(|l| l.split("trees read through BPF ").nth(1))
        .unwrap_or_else(|| panic!("no stats line: {err}"));
    (String::from_utf8(o.stdout).unwrap(), walks.trim() != "0")
}

#[test]
fn both_paths_give_the_same_tree() {
    let Some(mount) = live_mount("bpf paths") else {
        return;
    };
    let mut t = LiveTree::default();
    let name = unique_cgroup_name("bpfpaths");
    let base = mount.join(&name);
    t.mkdir(&base);
    for d in [
        "app.slice",
        "app.slice/web.service",
        "app.slice/sp ace",
        "app.slice/ü\tx",
        "thr",
        "thr/w1",
        "thr/w1/w2",
        "empty",
        "empty/deeper",
    ] {
        t.mkdir(&base.join(d));
    }
    std::fs::write(base.join("thr/w1/cgroup.type"), "threaded").unwrap();
    std::fs::write(base.join("thr/w1/w2/cgroup.type"), "threaded").unwrap();
    t.mkdir(&base.join("thr/inv"));
    let spawn_in = |t: &mut LiveTree, cg: &str, cmd: &mut Command| {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::fs::write(base.join(cg).join("cgroup.procs"), child.id().to_string()).unwrap();
        t.children.push(child);
    };
    spawn_in(
        &mut t,
        "app.slice/web.service",
        Command::new("sleep").arg("600"),
    );
    let long = "y".repeat(5000);
    spawn_in(
        &mut t,
        "app.slice/web.service",
        Command::new("perl").args(["-e", "sleep 600", &long]),
    );
    spawn_in(
        &mut t,
        "app.slice/sp ace",
        Command::new("perl").args(["-e", "$0 = 'renamed'; sleep 600", "x"]),
    );
    spawn_in(&mut t, "thr", Command::new("sleep").arg("600"));
    // A zombie: exits at once, reaped only when the guard drops.
    spawn_in(&mut t, "app.slice", &mut Command::new("true"));
    // Removed cgroups the kernel keeps as "dying" for a while.
    for i in 0..200 {
        let d = base.join(format!("app.slice/gone-{i}"));
        std::fs::create_dir(&d).unwrap();
        std::fs::remove_dir(&d).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));

    // Churn beside the compared subtree while both paths run.
    let stop = Arc::new(AtomicBool::new(false));
    let churn_dir = mount.join(unique_cgroup_name("bpfchurn"));
    t.mkdir(&churn_dir);
    let churn = {
        let stop = stop.clone();
        let dir = churn_dir.clone();
        std::thread::spawn(move || {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let d = dir.join(format!("c{i}"));
                let _ = std::fs::create_dir(&d);
                let _ = Command::new("true").status();
                let _ = std::fs::remove_dir(&d);
                i += 1;
            }
        })
    };
    let start = format!("/{name}");
    let cases: Vec<Vec<&str>> = vec![
        vec![&start, "--json"],
        vec![&start, "--json", "--all"],
        vec![&start, "--all", "--full"],
        vec![&start, "--json", "--depth", "2", "--all"],
        vec![&start, "--json", "--no-procs"],
        vec!["--json", "--all", "--no-procs", &start],
    ];
    for args in &cases {
        let (files, used_files) = run(args, false);
        let (fast, used_bpf) = run(args, true);
        assert!(!used_files, "CGTREE_BPF=0 still used BPF");
        assert!(used_bpf, "{args:?}: the BPF path did not run");
        assert_eq!(fast, files, "{args:?}: BPF (left) and files (right) differ");
    }
    stop.store(true, Ordering::Relaxed);
    churn.join().unwrap();
    // Something was compared: the processes and the threaded subtree are in the output.
    let (json, _) = run(&[&start, "--json", "--all"], true);
    for want in [
        "\"sleep\"",
        "renamed",
        "domain threaded",
        "domain invalid",
        "sp ace",
    ] {
        assert!(json.contains(want), "{want} missing from {json}");
    }
    assert!(
        json.contains(&long),
        "the long command line, read from /proc"
    );
}

/// Unprivileged, the BPF path cannot load: the files are read, silently, and the tree is
/// the one root's file walk would show of what that user can read.
#[test]
fn unprivileged_falls_back_silently() {
    if live_mount("bpf fallback").is_none() {
        return;
    }
    let o = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(env!("CARGO_BIN_EXE_cgtree"))
        .args(["--json", "--no-procs"])
        .env("CGTREE_STATS", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code().is_some(), "{err}");
    assert!(err.contains("trees read through BPF 0"), "{err}");
    assert!(!err.contains("libbpf"), "{err}");
}
