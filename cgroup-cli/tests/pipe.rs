//! A reader that stops early (`cgtree | head`) makes cgtree exit 0 without a message.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

#[test]
fn closed_stdout_exits_quietly() {
    // A tree large enough (about 300 KiB of output) not to fit in a pipe buffer.
    let dir = tempfile::tempdir().unwrap();
    let cg = dir.path().join("sys/fs/cgroup");
    fs::create_dir_all(&cg).unwrap();
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
