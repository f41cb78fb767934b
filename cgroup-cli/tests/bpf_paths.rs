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
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A fresh cgroup below the live mount, named after `what`: the guard that removes it,
/// its path and its name; `None` when live tests are skipped.
fn live_cgroup(what: &str) -> Option<(LiveTree, std::path::PathBuf, String)> {
    let mount = live_mount(&format!("bpf {what}"))?;
    let mut t = LiveTree::default();
    let name = unique_cgroup_name(&format!("bpf{what}"));
    let base = mount.join(&name);
    t.mkdir(&base);
    Some((t, base, name))
}

/// Runs `cgtree args` with CGTREE_STATS=1 and `CGTREE_BPF=1` or `0` (forced: with
/// neither, a hierarchy this small is read from the files): (stdout, whether the
/// BPF path ran).
fn run(args: &[&str], bpf: bool) -> (String, bool) {
    let mut cmd = cgtree();
    cmd.env("CGTREE_STATS", "1").args(args);
    cmd.env("CGTREE_BPF", if bpf { "1" } else { "0" });
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
    let Some((mut t, base, name)) = live_cgroup("paths") else {
        return;
    };
    let mount = base.parent().unwrap().to_path_buf();
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
        t.spawn_in(&base.join(cg), cmd);
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
        .env("CGTREE_BPF", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.code().is_some(), "{err}");
    assert!(err.contains("trees read through BPF 0"), "{err}");
    assert!(
        err.contains("BPF path not taken: the reader lacks CAP_SYS_PTRACE"),
        "{err}"
    );
    assert!(!err.contains("libbpf"), "{err}");
}

/// The same output from both paths (the BPF one declines, saying `why` with
/// `CGTREE_STATS=1`): `sh -c SCRIPT` runs as root with `$CGTREE` and `$START` set; it
/// prints the stats lines and the output of both.
fn declined(what: &str, why: &str, script: &str, start: &str) {
    let o = Command::new("sh")
        .args(["-c", script])
        .env("CGTREE", env!("CARGO_BIN_EXE_cgtree"))
        .env("START", start)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    // Exit 1 is "something could not be read" (processes hidden from this user).
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{what}: {out}\n{err}"
    );
    let (a, b) = out
        .split_once("=====\n")
        .unwrap_or_else(|| panic!("{what}: {out}"));
    assert!(!a.is_empty(), "{what}: no output");
    assert_eq!(
        same(a),
        same(b),
        "{what}: the forced BPF run (left) differs from the files"
    );
    assert_eq!(
        err.matches("trees read through BPF 0").count(),
        2,
        "{what}: BPF ran: {err}"
    );
    assert_eq!(
        err.matches(&format!("BPF path not taken: {why}")).count(),
        1,
        "{what}: the forced run says why: {err}"
    );
    assert!(!err.contains("libbpf"), "{what}: {err}");
}

/// What two runs must agree on: every line but the root's processes other than PID 1
/// (they come and go between the two runs, cgtree itself included).
fn same(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| {
            let process = l.starts_with("├─") || l.starts_with("└─");
            !process
                || l.chars()
                    .skip(2)
                    .collect::<String>()
                    .trim_start()
                    .starts_with("1 ")
        })
        .collect()
}

/// In a cgroup namespace of its own, `/proc/PID/cgroup` paths are relative to it: the
/// BPF path, which places the processes its iterators miss by those paths (PID 1 on
/// Linux 6.18), declines, and the tree is the file path's (PID 1 included).
#[test]
fn a_cgroup_namespace_declines_bpf() {
    let Some((mut t, base, _)) = live_cgroup("ns") else {
        return;
    };
    t.mkdir(&base.join("inner"));
    let procs = base.join("inner/cgroup.procs");
    let script = format!(
        "echo $$ > '{}' && exec unshare -C sh -c '\
         CGTREE_STATS=1 CGTREE_BPF=1 \"$CGTREE\" -d 0 -a; echo =====; \
         CGTREE_STATS=1 CGTREE_BPF=0 \"$CGTREE\" -d 0 -a'",
        procs.display()
    );
    declined(
        "cgroupns",
        "its /proc/self/cgroup path is not below the mount",
        &script,
        "/",
    );
}

/// Not root, with CAP_BPF and CAP_PERFMON, and `/proc` mounted with hidepid: the BPF
/// path would show processes `/proc` hides from this user; it declines.
#[test]
fn hidepid_declines_bpf_for_a_non_root_reader() {
    let Some((mut t, base, name)) = live_cgroup("hide") else {
        return;
    };
    t.spawn_in(&base, Command::new("sleep").arg("600"));
    let run = "setpriv --reuid=65534 --regid=65534 --clear-groups \
               --inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon";
    let script = format!(
        "exec unshare -m --propagation private sh -c '\
         mount -t proc -o hidepid=2 proc /proc && \
         CGTREE_STATS=1 CGTREE_BPF=1 {run} \"$CGTREE\" \"$START\"; echo =====; \
         CGTREE_STATS=1 CGTREE_BPF=0 {run} \"$CGTREE\" \"$START\"'"
    );
    declined(
        "hidepid",
        "/proc is mounted with hidepid",
        &script,
        &format!("/{name}"),
    );
}

/// `cgtree userns NS` reads the users from the task iterator's IDs and namespaces on
/// the BPF path and from `status` and `ns/user` on the file path: the same answer, for
/// a namespace this test makes (a mapped range: processes whose host IDs map inside,
/// one whose do not), in its JSON and its text.
#[test]
fn userns_is_the_same_on_both_paths() {
    let Some((mut t, base, _)) = live_cgroup("userns") else {
        return;
    };
    t.mkdir(&base.join("a"));
    t.mkdir(&base.join("b"));
    let mut spawn_in = |cg: &str, cmd: &mut Command| t.spawn_in(&base.join(cg), cmd);
    // Keeps host root's IDs, which the namespace does not map (shown unmapped).
    let first = spawn_in(
        "a",
        Command::new("unshare").args(["-U", "--", "sleep", "600"]),
    );
    let ns_link = |pid: u32| std::fs::read_link(format!("/proc/{pid}/ns/user")).ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::fs::read_link(format!("/proc/{first}/exe"))
        .ok()
        .is_none_or(|e| !e.ends_with("sleep"))
    {
        assert!(std::time::Instant::now() < deadline, "unshare did not run");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Root of the parent namespace writes the maps (util-linux's --map-users goes
    // through newuidmap and /etc/subuid).
    for f in ["uid_map", "gid_map"] {
        std::fs::write(format!("/proc/{first}/{f}"), "0 200000 65536\n").unwrap();
    }
    let ns = ns_link(first).unwrap();
    let inode = ns
        .to_str()
        .and_then(|s| s.strip_prefix("user:["))
        .and_then(|s| s.strip_suffix(']'))
        .unwrap()
        .to_string();
    // Joins it as its root (host 200000), and as its root with effective IDs 1000
    // (host 201000: the users are the effective IDs, as status's second fields).
    let target = first.to_string();
    for (cg, ids) in [("a", "0"), ("b", "1000")] {
        let pid = spawn_in(
            cg,
            Command::new("nsenter").args([
                "-U",
                "-t",
                &target,
                "--setuid=0",
                "--setgid=0",
                "--",
                "setpriv",
                &format!("--euid={ids}"),
                &format!("--egid={ids}"),
                "--clear-groups",
                "--",
                "sleep",
                "600",
            ]),
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while ns_link(pid).as_ref() != Some(&ns) {
            assert!(std::time::Instant::now() < deadline, "nsenter did not run");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for args in [
        vec!["userns", &inode, "--json"],
        vec!["userns", &inode, "--full"],
    ] {
        let (files, used_files) = run(&args, false);
        let (fast, used_bpf) = run(&args, true);
        assert!(!used_files, "CGTREE_BPF=0 still used BPF");
        assert!(used_bpf, "{args:?}: the BPF path did not run");
        assert_eq!(fast, files, "{args:?}: BPF (left) and files (right) differ");
    }
    // Something was compared: three processes, host 200000 and 201000 inside as 0 and
    // 1000, host root unmapped inside.
    let (json, _) = run(&["userns", &inode, "--json"], true);
    for want in [
        "\"nprocs\": 3",
        "\"uid\": 201000",
        "\"ns_uid\": 1000",
        "\"uid\": 200000",
        "\"ns_uid\": null",
    ] {
        assert!(json.contains(want), "{want} missing from {json}");
    }
}

/// The iterators need only CAP_BPF and CAP_PERFMON and see every process and cgroup; a
/// reader the files hide things from (no CAP_SYS_PTRACE: other users' `ns/user`; no
/// CAP_DAC_READ_SEARCH: a cgroup of mode 700) gets the files' tree: root without
/// CAP_SYS_PTRACE, and a non-root reader with CAP_BPF and CAP_PERFMON only.
#[test]
fn a_reader_without_ptrace_or_dac_read_search_declines_bpf() {
    let Some((mut t, base, name)) = live_cgroup("caps") else {
        return;
    };
    t.mkdir(&base.join("secret"));
    t.mkdir(&base.join("secret/inner"));
    t.spawn_in(&base.join("secret/inner"), Command::new("sleep").arg("600"));
    std::os::unix::fs::chown(base.join("secret"), Some(4545), Some(4545)).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(base.join("secret"), std::fs::Permissions::from_mode(0o700)).unwrap();
    for (what, run) in [
        (
            "root without CAP_SYS_PTRACE",
            "setpriv --bounding-set=-sys_ptrace",
        ),
        (
            "root without CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE",
            "setpriv --bounding-set=-dac_read_search,-dac_override",
        ),
        (
            "nobody with CAP_BPF and CAP_PERFMON",
            "setpriv --reuid=65534 --regid=65534 --clear-groups \
             --inh-caps=+bpf,+perfmon --ambient-caps=+bpf,+perfmon",
        ),
    ] {
        let script = format!(
            "CGTREE_STATS=1 CGTREE_BPF=1 {run} \"$CGTREE\" -a \"$START\"; echo =====; \
             CGTREE_STATS=1 CGTREE_BPF=0 {run} \"$CGTREE\" -a \"$START\""
        );
        declined(
            what,
            "the reader lacks CAP_SYS_PTRACE, or both CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE",
            &script,
            &format!("/{name}"),
        );
    }
}

/// In a cgroup namespace with its own cgroup2 mount, the mount's root is a cgroup
/// below the hierarchy's root (it has a `cgroup.type`): both paths show it alike.
#[test]
fn a_mount_root_below_the_hierarchy_root_is_shown_alike() {
    let Some((mut t, base, _)) = live_cgroup("mnt") else {
        return;
    };
    t.mkdir(&base.join("t1"));
    t.mkdir(&base.join("plain"));
    std::fs::write(base.join("t1/cgroup.type"), "threaded").unwrap();
    let script = format!(
        "echo $$ > '{}' && exec unshare -C -m --propagation private sh -c '\
         mount -t cgroup2 none /sys/fs/cgroup && \
         CGTREE_STATS=1 CGTREE_BPF=1 \"$CGTREE\" --no-procs -a --json && echo ===== && \
         CGTREE_STATS=1 CGTREE_BPF=0 \"$CGTREE\" --no-procs -a --json'",
        base.join("cgroup.procs").display()
    );
    let o = Command::new("sh")
        .args(["-c", &script])
        .env("CGTREE", env!("CARGO_BIN_EXE_cgtree"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{out}\n{err}");
    let (bpf, files) = out.split_once("=====\n").unwrap();
    assert!(bpf.contains("\"t1\""), "{bpf}");
    assert_eq!(bpf, files, "BPF (left) and files (right) differ");
    assert_eq!(
        err.matches("trees read through BPF 1").count(),
        1,
        "the BPF path ran once: {err}"
    );
}

/// A `/proc` mounted with `subset=pid` has no `/proc/cgroups`, which names the
/// controller bits the iterators give: the files are read, and the reason says so.
#[test]
fn a_proc_without_cgroups_declines_bpf() {
    let Some((mut t, base, name)) = live_cgroup("subset") else {
        return;
    };
    t.spawn_in(&base, Command::new("sleep").arg("600"));
    let script = "exec unshare -m --propagation private sh -c '\
         mount -t proc -o subset=pid proc /proc && \
         CGTREE_STATS=1 CGTREE_BPF=1 \"$CGTREE\" \"$START\"; echo =====; \
         CGTREE_STATS=1 CGTREE_BPF=0 \"$CGTREE\" \"$START\"'";
    declined(
        "subset=pid",
        "/proc/cgroups cannot be read",
        script,
        &format!("/{name}"),
    );
}
