//! A file cgtree may not read is shown on its node and listed on stderr; the walk goes on
//! and the exit status is 1. As root (CI), the unreadable file only stays unreadable for
//! an unprivileged user, so cgtree is run as `nobody` through setpriv.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[test]
fn permission_denied_is_shown_on_the_node_and_the_walk_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let root = tmp.path().join("host");
    common::copy_tree(&common::repo_root().join("fixtures/odd-names"), &root);
    let denied = root.join("sys/fs/cgroup/a:b:c/cgroup.procs");
    fs::set_permissions(&denied, fs::Permissions::from_mode(0o000)).unwrap();

    let bin = tmp.path().join("cgtree");
    fs::copy(env!("CARGO_BIN_EXE_cgtree"), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = if nix::unistd::geteuid().is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        Command::new(&bin)
    };
    let out = cmd
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .arg("--root")
        .arg(&root)
        .output()
        .expect("run cgtree (setpriv from util-linux is needed when running as root)");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("├─a:b:c {cpu memory pids} (! cgroup.procs: permission denied)\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "cgtree: {}: permission denied\n",
            denied.display()
        )),
        "{stderr}"
    );
    // The rest of the tree is there.
    assert!(stdout.contains("902 /bin/sleep infinity"), "{stdout}");
    assert!(stdout.contains("pool-a (threaded)"), "{stdout}");
}
