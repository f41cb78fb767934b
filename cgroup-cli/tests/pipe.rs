//! Output failures and the exit status (rule 7 of the security model, CLI side).
//!
//! - A reader that stops early (`cgtree | head`, `| true`) ends the output quietly,
//!   whatever the writer (text, serde_json, the snapshot summary): no message, no panic,
//!   and the status the run computed (as with stdout on /dev/null).
//! - Any other failure to write stdout (`>/dev/full`) is reported with its real cause and
//!   a non-zero status.
//! - A stderr that cannot be written never turns the status into 0.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

#[test]
fn closed_stdout_exits_quietly() {
    // A tree large enough (about 300 KiB of output) not to fit in a pipe buffer.
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup");
    fs::create_dir_all(&cg).unwrap();
    fs::create_dir_all(dir.path().join("proc")).unwrap();
    for f in [
        "cgroup.controllers",
        "cgroup.subtree_control",
        "cgroup.procs",
    ] {
        fs::write(cg.join(f), "").unwrap();
    }
    for i in 0..4000 {
        let d = cg.join(format!(
            "a-rather-long-cgroup-name-to-fill-the-pipe-buffer-{i:05}.scope"
        ));
        fs::create_dir(&d).unwrap();
        fs::write(d.join("cgroup.type"), "domain\n").unwrap();
    }
    let mut child = common::cgtree()
        .arg("--root")
        .arg(dir.path())
        .arg("--all")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(
        first.starts_with("/ (cgroup2 on /sys/fs/cgroup)"),
        "{first}"
    );
    // The reader is gone now.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Every kind of output cgtree writes: (name, arguments); `{OUT}` is replaced by a new
/// directory for `snapshot`.
fn commands() -> Vec<(&'static str, Vec<&'static str>)> {
    let fx = "fixtures/wsl-rootless-podman-kind";
    vec![
        ("tree", vec!["--root", fx, "-U"]),
        ("tree --json", vec!["--root", fx, "--json"]),
        ("pid", vec!["--root", fx, "pid", "1", "2", "9999999"]),
        ("pid --json", vec!["--root", fx, "--json", "pid", "1", "2"]),
        ("userns", vec!["--root", fx, "userns"]),
        ("userns --json", vec!["--root", fx, "--json", "userns"]),
        (
            "provision plan",
            vec!["--root", "fixtures/wsl-fresh-ubuntu", "provision", "plan"],
        ),
        (
            "provision --json",
            vec!["--root", "fixtures/wsl-fresh-ubuntu", "--json", "provision"],
        ),
        ("snapshot", vec!["--root", fx, "snapshot", "{OUT}"]),
        ("help", vec!["--help"]),
    ]
}

fn run_with(args: &[&str], tmp: &Path, i: usize, stdout: Stdio, stderr: Stdio) -> Output {
    let out_dir = tmp.join(format!("snap{i}"));
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{OUT}", out_dir.to_str().unwrap()))
        .collect();
    let mut cmd: Command = common::cgtree();
    cmd.args(&args).stdout(stdout).stderr(stderr);
    cmd.output().unwrap()
}

/// A pipe whose reading end is already closed: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (r, w) = nix::unistd::pipe().unwrap();
    drop(r);
    Stdio::from(w)
}

#[test]
fn a_reader_that_goes_away_is_a_quiet_end_for_every_writer() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (name, args)) in commands().into_iter().enumerate() {
        let reference = run_with(&args, tmp.path(), 2 * i, Stdio::null(), Stdio::piped());
        let closed = run_with(&args, tmp.path(), 2 * i + 1, closed_pipe(), Stdio::piped());
        let err = String::from_utf8_lossy(&closed.stderr);
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{name}: {err}"
        );
        assert_eq!(
            closed.status.code(),
            reference.status.code(),
            "{name}: the status with a closed stdout differs from the run's own: {err}"
        );
        assert_eq!(
            err,
            String::from_utf8_lossy(&reference.stderr),
            "{name}: stderr with a closed stdout"
        );
    }
}

#[test]
fn a_full_disk_is_reported_as_such_with_a_failing_status() {
    let tmp = tempfile::tempdir().unwrap();
    for (i, (name, args)) in commands().into_iter().enumerate() {
        let full = fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = run_with(&args, tmp.path(), i, Stdio::from(full), Stdio::piped());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("No space left on device") && !err.contains("panicked"),
            "{name}: {err}"
        );
        assert!(!err.contains("Broken pipe"), "{name}: {err}");
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    }
}

#[test]
fn a_closed_stderr_never_turns_the_status_into_0() {
    let tmp = tempfile::tempdir().unwrap();
    // An unknown PID: fatal, said on stderr.
    let out = run_with(
        &["--root", "fixtures/docker", "pid", "9999999"],
        tmp.path(),
        0,
        Stdio::null(),
        closed_pipe(),
    );
    assert_eq!(out.status.code(), Some(2));
    // A tree with errors (odd-names holds unreadable files): partial.
    let reference = run_with(
        &["--root", "fixtures/odd-names"],
        tmp.path(),
        1,
        Stdio::null(),
        Stdio::null(),
    );
    assert_eq!(reference.status.code(), Some(1));
    let out = run_with(
        &["--root", "fixtures/odd-names"],
        tmp.path(),
        2,
        Stdio::null(),
        closed_pipe(),
    );
    assert_eq!(out.status.code(), Some(1));
    // Both closed: still the run's status.
    let out = run_with(
        &["--root", "fixtures/docker", "pid", "9999999"],
        tmp.path(),
        3,
        closed_pipe(),
        closed_pipe(),
    );
    assert_eq!(out.status.code(), Some(2));
}
