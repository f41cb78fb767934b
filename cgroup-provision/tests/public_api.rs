//! Issue #17: cgroup-provision is a dependent of cgroup-core like any other: it builds on
//! cgroup-core's public API only, never its `internals` feature (the parsers, the I/O
//! layer, the runtimes' own parsers: no semver promise) nor a `#[doc(hidden)]` item.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use std::path::Path;
use std::process::Command;

/// The features of cgroup-core that building cgroup-provision alone turns on, from
/// `cargo tree` (feature resolution as a dependent of the published crates would get:
/// no other workspace member unifies its own features in).
#[test]
fn provision_enables_no_internal_feature_of_cgroup_core() {
    let ws = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new(env!("CARGO"))
        .current_dir(&ws)
        .args([
            "tree",
            "--offline",
            "--locked",
            "-p",
            "cgroup-provision",
            "-e",
            "normal,features",
            "--prefix",
            "none",
            "--format",
            "{p} {f}",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo tree: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let core: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("cgroup-core "))
        .collect();
    assert!(!core.is_empty(), "no cgroup-core in:\n{text}");
    // `cgroup-core v0.1.0 (PATH) default,serde` (`{f}`: its enabled features) and
    // `cgroup-core feature "serde"` lines.
    for l in &core {
        let words = l.split([' ', ',', '"']);
        for w in words {
            assert!(
                w != "internals" && w != "fuzzing",
                "cgroup-provision turns on cgroup-core's `{w}`: {l}"
            );
        }
    }
}

/// No source file of cgroup-provision names a hidden or internal path of cgroup-core.
#[test]
fn provision_sources_name_no_internal_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    let mut dirs = vec![root.join("src"), root.join("tests")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                files.push(p);
            }
        }
    }
    assert!(files.len() > 5, "{files:?}");
    let forbidden = [
        "cgroup_core::parse",
        "cgroup_core::fs::",
        "cgroup_core::fs;",
        "cgroup_core::__",
        "cgroup_core::runtime::TABLE",
        "cgroup_core::runtime::Runtime",
        "cgroup_core::tree::identify",
    ];
    for f in &files {
        if f.ends_with("public_api.rs") {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for bad in forbidden {
            assert!(
                !text.contains(bad),
                "{} names cgroup-core's internal `{bad}`",
                f.display()
            );
        }
    }
}
