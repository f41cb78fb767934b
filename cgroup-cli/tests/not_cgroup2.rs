//! A `--root` directory that is not a cgroup2 hierarchy (no `cgroup.procs` where its
//! cgroup2 mount is) is refused by every subcommand that reads the hierarchy: exit 2 and
//! one line naming the directory, nothing on stdout; fixtures whose cgroup2 mount is not
//! at the top (`/sys/fs/cgroup/unified` in their mountinfo) keep working.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::run_root;
use std::fs;

/// Every subcommand that reads a hierarchy, as arguments after `--root DIR`.
const READERS: &[&[&str]] = &[
    &[],
    &["-a", "/x"],
    &["--json"],
    &["pid", "1"],
    &["id", "1"],
    &["ids"],
    &["userns"],
    &["metrics"],
    &["top", "-b", "-n", "1"],
    &["watch"],
    &["serve", "--listen", "127.0.0.1:0"],
];

/// `run_root`, killed after 20 s (a guard against a `watch` or `serve` that would run
/// on instead of refusing; not a speed check): (stdout, stderr, code; -1 when killed).
fn run_bounded(root: &std::path::Path, args: &[&str]) -> (String, String, i32) {
    let mut cmd = common::cgtree();
    cmd.arg("--root").arg(root).args(args);
    let (out, killed) = common::run_with_deadline(&mut cmd, std::time::Duration::from_secs(20));
    let norm = |b: Vec<u8>| {
        String::from_utf8(b)
            .unwrap()
            .replace(&root.display().to_string(), "ROOT")
    };
    let code = if killed {
        -1
    } else {
        out.status.code().unwrap_or(-1)
    };
    (norm(out.stdout), norm(out.stderr), code)
}

fn refused(root: &std::path::Path, dir: &str) {
    let want = format!("cgtree: ROOT/{dir} is not a cgroup2 hierarchy: it has no cgroup.procs\n");
    for args in READERS {
        let (out, err, code) = run_bounded(root, args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert_eq!(err, want, "{args:?}");
        assert_eq!(out, "", "{args:?}");
    }
    // snapshot too, and it writes nothing.
    let snap = tempfile::tempdir().unwrap();
    let target = snap.path().join("out");
    let (_, err, code) = run_root(root, &["snapshot", target.to_str().unwrap()]);
    assert_eq!((code, err.as_str()), (2, want.as_str()));
    assert!(!target.exists());
}

/// The example: `mkdir -p /tmp/e/sys/fs/cgroup && cgtree --root /tmp/e` printed
/// an empty root; no mountinfo, so the default `sys/fs/cgroup` is checked.
#[test]
fn an_empty_sys_fs_cgroup_is_not_a_hierarchy() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("sys/fs/cgroup")).unwrap();
    refused(d.path(), "sys/fs/cgroup");
}

/// With a mountinfo, the check is at the mount it names: a hybrid layout whose
/// `unified` directory lacks `cgroup.procs` is refused even when the top has one.
#[test]
fn the_mount_named_by_mountinfo_is_checked() {
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("proc/self")).unwrap();
    fs::write(
        d.path().join("proc/self/mountinfo"),
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
         41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
    )
    .unwrap();
    fs::create_dir_all(d.path().join("sys/fs/cgroup/unified")).unwrap();
    fs::write(d.path().join("sys/fs/cgroup/cgroup.procs"), "").unwrap();
    refused(d.path(), "sys/fs/cgroup/unified");
    // With the file where the mount is, it is read (an empty root, exit 0).
    fs::write(d.path().join("sys/fs/cgroup/unified/cgroup.procs"), "").unwrap();
    let (out, err, code) = run_root(d.path(), &["-a"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(
        out.starts_with("/ (cgroup2 on /sys/fs/cgroup/unified)"),
        "{out}"
    );
}

/// The fixtures without `sys/fs/cgroup/cgroup.procs` at the top have their cgroup2
/// mount elsewhere (mountinfo) and are read as before.
#[test]
fn fixtures_with_the_mount_below_the_top_are_read() {
    for fx in ["hybrid-host", "live-docker", "wsl-fresh-ubuntu"] {
        assert!(!common::repo_root()
            .join("fixtures")
            .join(fx)
            .join("sys/fs/cgroup/cgroup.procs")
            .exists());
        let (out, err, code) = common::run_fixture(fx, &["-a"]);
        assert!(code == 0 || code == 1, "{fx}: {code} {err}");
        assert!(!err.contains("not a cgroup2 hierarchy"), "{fx}: {err}");
        assert!(out.lines().count() > 1, "{fx}: {out}");
    }
}
