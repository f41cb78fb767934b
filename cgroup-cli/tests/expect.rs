//! Expectations written from the runtimes' sources, independently of cgtree
//! (`tests/expect/<fixture>.json`, format in `tests/expect/README.md`): every labelled
//! cgroup, process and text line of the issue-13 fixtures must match.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

mod common;

fn run(fixture: &str, args: &[&str]) -> (bool, Vec<u8>) {
    let out = common::cgtree()
        .arg("--root")
        .arg(format!("fixtures/{fixture}"))
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), out.stdout)
}

fn index(node: &Value, out: &mut HashMap<String, Value>) {
    if let Some(p) = node.get("path").and_then(Value::as_str) {
        out.insert(
            p.to_string(),
            node.get("identity").cloned().unwrap_or(Value::Null),
        );
    }
    for c in node
        .get("children")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        index(c, out);
    }
}

/// `want` is a subset of `got`: objects key by key (a `null` wanted key: null or
/// absent), arrays element by element, scalars equal.
fn subset(want: &Value, got: Option<&Value>, at: &str, errs: &mut Vec<String>) {
    match (want, got) {
        (Value::Null, None | Some(Value::Null)) => {}
        (Value::Object(w), Some(Value::Object(g))) => {
            for (k, v) in w {
                subset(v, g.get(k), &format!("{at}.{k}"), errs);
            }
        }
        (Value::Array(w), Some(Value::Array(g))) if w.len() == g.len() => {
            for (i, (a, b)) in w.iter().zip(g).enumerate() {
                subset(a, Some(b), &format!("{at}[{i}]"), errs);
            }
        }
        (w, Some(g)) if w == g => {}
        (w, g) => errs.push(format!("{at}: want {w}, got {}", g.unwrap_or(&Value::Null))),
    }
}

#[test]
fn fixtures_answer_as_their_sources_say() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expect");
    let mut errs = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "expectation files: {files:?}");
    for f in files {
        let fixture = f.file_stem().unwrap().to_string_lossy().into_owned();
        let spec: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        let (ok, out) = run(&fixture, &["--all", "--json"]);
        assert!(ok, "{fixture}: cgtree --json failed");
        let tree: Value = serde_json::from_slice(&out).unwrap();
        let mut nodes = HashMap::new();
        index(&tree["cgroup"], &mut nodes);
        for (path, want) in spec["cgroups"].as_object().into_iter().flatten() {
            match nodes.get(path) {
                None => errs.push(format!("{fixture} {path}: not in the tree")),
                Some(got) if want.is_null() => {
                    if !got.is_null() {
                        errs.push(format!("{fixture} {path}: want no identity, got {got}"))
                    }
                }
                Some(got) => subset(want, Some(got), &format!("{fixture} {path}"), &mut errs),
            }
        }
        for (pid, want) in spec["pids"].as_object().into_iter().flatten() {
            let (ok, out) = run(&fixture, &["pid", pid, "--json"]);
            if !ok {
                errs.push(format!("{fixture} pid {pid}: cgtree failed"));
                continue;
            }
            let got: Value = serde_json::from_slice(&out).unwrap();
            subset(want, Some(&got), &format!("{fixture} pid {pid}"), &mut errs);
        }
        for t in spec["text"].as_array().into_iter().flatten() {
            let args: Vec<&str> = t["args"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let (ok, out) = run(&fixture, &args);
            let text = String::from_utf8_lossy(&out);
            if !ok {
                errs.push(format!("{fixture} {args:?}: cgtree failed"));
            }
            for c in t["contains"].as_array().into_iter().flatten() {
                let c = c.as_str().unwrap();
                if !text.contains(c) {
                    errs.push(format!("{fixture} {args:?}: no {c:?}"));
                }
            }
        }
        // No process of these fixtures is a host process without PID 1's namespaces.
        if fixture == "edge-evidence" {
            let (_, out) = run(&fixture, &["pid", "6101"]);
            if String::from_utf8_lossy(&out).contains("host process") {
                errs.push(format!("{fixture} pid 6101: called a host process"));
            }
        }
    }
    assert!(
        errs.is_empty(),
        "{} mismatches:\n{}",
        errs.len(),
        errs.join("\n")
    );
}
