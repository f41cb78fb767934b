//! `cgtree provision` end to end: apply the guide's steps to a copy of a fresh WSL distro,
//! then again; and an accurate report on this (non-WSL, hybrid) machine.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

/// Every regular file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.insert(
                    e.path().strip_prefix(dir).unwrap().display().to_string(),
                    fs::read(e.path()).unwrap(),
                );
            }
        }
    }
    out
}

use common::run_root as run;

#[test]
fn apply_on_a_fresh_wsl_copy_then_again() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("host");
    common::copy_tree(
        &common::repo_root().join("fixtures/wsl-fresh-ubuntu"),
        &root,
    );
    let fresh = snapshot(&root);

    // Every step is reported missing, with its reason.
    let (out, _, code) = run(&root, &["provision"]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("✘ ")).count(),
        13,
        "{out}"
    );

    // Without --yes, not one byte changes.
    let (out, _, code) = run(&root, &["provision", "apply", "--crun-version", "1.14.4"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("would change /etc/wsl.conf"), "{out}");
    assert_eq!(snapshot(&root), fresh);

    // With --yes, every file-backed step is ok, or pending with what it waits for.
    let (out, err, code) = run(
        &root,
        &["provision", "apply", "--yes", "--crun-version", "1.14.4"],
    );
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let after = out.split("after:\n").nth(1).unwrap();
    let status = |id: &str| {
        after
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(id))
            .unwrap_or_else(|| panic!("{id} in {after}"))
            .to_string()
    };
    for id in ["containers-conf", "user-0-slice"] {
        assert!(status(id).starts_with("✔ "), "{}", status(id));
    }
    for (id, waits_for) in [
        ("wsl-systemd", "wsl --shutdown"),
        ("cgroup-v1-off", "wsl --shutdown"),
        ("cgroup2-mount", "mount -a"),
        ("crun-version", "--run-commands"),
        ("user-slice-accounting", "daemon-reload"),
        ("user-delegate", "daemon-reload"),
    ] {
        assert!(status(id).starts_with("… "), "{}", status(id));
        let fix = after
            .lines()
            .skip_while(|l| !l.contains(&format!(" {id} ")))
            .nth(1)
            .unwrap();
        assert!(fix.contains(waits_for), "{id}: {fix}");
    }
    // Backups hold the old bytes; new files exist.
    assert_eq!(
        fs::read(root.join("etc/wsl.conf.cgtree-backup")).unwrap(),
        fresh["etc/wsl.conf"]
    );
    assert_eq!(
        fs::read(root.join("etc/fstab.cgtree-backup")).unwrap(),
        fresh["etc/fstab"]
    );
    assert!(root.join("mnt/c/Users/massi/.wslconfig").exists());
    let wsl_conf = fs::read_to_string(root.join("etc/wsl.conf")).unwrap();
    assert!(
        wsl_conf.starts_with(std::str::from_utf8(&fresh["etc/wsl.conf"]).unwrap()),
        "other keys kept: {wsl_conf}"
    );
    assert!(
        !fs::read_to_string(root.join("etc/wsl.conf"))
            .unwrap()
            .contains("kernelCommandLine"),
        "not the file WSL reads it from"
    );

    // A second apply changes nothing and says so.
    let applied = snapshot(&root);
    let (out, _, code) = run(
        &root,
        &["provision", "apply", "--yes", "--crun-version", "1.14.4"],
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("no change: every file is already as planned"),
        "{out}"
    );
    assert_eq!(snapshot(&root), applied);
    let (out, _, _) = run(&root, &["provision", "plan"]);
    assert!(
        !out.contains("--- ") && !out.contains("+++ "),
        "no diff left: {out}"
    );
}

#[test]
fn this_machine_gets_an_accurate_report() {
    let out = common::output_ok(common::cgtree().args(["provision", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = |id: &str| {
        v["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap()["check"]
            .clone()
    };
    let wsl = fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap()
        .to_lowercase()
        .contains("microsoft");
    if !wsl {
        assert_eq!(check("wsl-systemd")["status"], "not_applicable");
    }
    let v1_mounted = fs::read_to_string("/proc/self/mountinfo")
        .unwrap()
        .lines()
        .any(|l| {
            l.split(" - ")
                .nth(1)
                .is_some_and(|t| t.starts_with("cgroup "))
        });
    let v1 = check("cgroup-v1-off");
    if v1_mounted {
        assert_ne!(v1["status"], "ok");
        assert!(
            v1["evidence"]
                .to_string()
                .contains("cgroup v1 still mounted"),
            "{v1}"
        );
    }
    // The caller's controllers, as the kernel lists them.
    let caller = check("caller-controllers");
    let ppid = std::process::id();
    let cg = fs::read_to_string(format!("/proc/{ppid}/cgroup")).unwrap();
    assert!(cg.lines().any(|l| l.starts_with("0::")));
    assert!(
        ["ok", "missing", "unknown"].contains(&caller["status"].as_str().unwrap()),
        "{caller}"
    );
    if caller["status"] != "unknown" {
        assert!(
            caller["evidence"].to_string().contains("caller's cgroup"),
            "{caller}"
        );
    }
}

#[test]
fn apply_without_the_rights_to_write_refuses_clearly() {
    if !nix::unistd::geteuid().is_root() {
        return; // as a normal user the fixture copy is ours to write
    }
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let root = tmp.path().join("host");
    common::copy_tree(
        &common::repo_root().join("fixtures/wsl-fresh-ubuntu"),
        &root,
    );
    let before = snapshot(&root);
    let bin = tmp.path().join("cgtree");
    fs::copy(env!("CARGO_BIN_EXE_cgtree"), &bin).unwrap();
    let out = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .arg("--root")
        .arg(&root)
        .args([
            "provision",
            "apply",
            "--yes",
            "wsl-systemd",
            "containers-conf",
        ])
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("refused   cannot write") && stdout.contains("(run as root)"),
        "{stdout}"
    );
    assert_eq!(snapshot(&root), before, "nothing written");
}
