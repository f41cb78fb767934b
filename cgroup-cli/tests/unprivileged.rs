//! cgtree run as an unprivileged user (nobody) on a live tree: it prints what it may
//! read, marks what it may not, exits 1, and does not panic.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;

use std::process::{Command, Stdio};

#[test]
fn nobody_sees_what_it_may_and_is_told_what_it_may_not() {
    let Some(mount) = common::live_mount("the unprivileged test") else {
        return;
    };
    let name = common::unique_cgroup_name("unpriv");
    let base = mount.join(&name);
    let mut s = common::LiveTree::default();
    for d in [base.clone(), base.join("open"), base.join("secret")] {
        fs::create_dir(&d).unwrap();
        s.dirs.push(d);
    }
    let mut pids = Vec::new();
    for cg in ["open", "secret"] {
        let c = Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        fs::write(base.join(cg).join("cgroup.procs"), c.id().to_string()).unwrap();
        pids.push(c.id());
        s.children.push(c);
    }
    fs::set_permissions(
        base.join("secret/cgroup.procs"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();

    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let bin = tmp.path().join("cgtree");
    fs::copy(env!("CARGO_BIN_EXE_cgtree"), &bin).unwrap();
    let start = format!("/{name}");
    let run = |args: &[&str]| {
        let out = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NO_COLOR", "1")
            .output()
            .expect("setpriv (util-linux)");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.code(),
        )
    };
    let (out, err, code) = run(&[&start, "--all", "--full", "-U"]);
    assert_eq!(code, Some(1), "stdout:\n{out}\nstderr:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        out.lines()
            .map(common::without_controllers)
            .any(|l| l.ends_with("\u{2500}secret (! cgroup.procs: permission denied)")),
        "{out}"
    );
    assert!(
        out.contains(&format!("{} root sleep 600", pids[0])),
        "what it may read is shown:\n{out}"
    );
    assert!(
        err.contains(&format!(
            "{}/secret/cgroup.procs: permission denied",
            base.display()
        )),
        "{err}"
    );
    // JSON: the same facts, the error with its kind.
    let (out, _, code) = run(&["--json", &start, "--all"]);
    assert_eq!(code, Some(1));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate(&v).unwrap();
    let secret = v["cgroup"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "secret")
        .unwrap();
    assert_eq!(secret["errors"][0]["kind"], "permission_denied");
    // pid of root's process: what /proc lets nobody read.
    let (out, err, code) = run(&["pid", &pids[0].to_string()]);
    assert!(code == Some(0) || code == Some(1), "{out}{err}");
    assert!(
        out.contains("sleep 600") && !err.contains("panicked"),
        "{out}{err}"
    );
    // userns as nobody: other users' namespaces cannot be read; no crash.
    let (_, err, code) = run(&["userns"]);
    assert!(
        code.is_some_and(|c| c <= 1) && !err.contains("panicked"),
        "{err}"
    );
}
