//! One identification path: for every process of every fixture, `cgtree pid PID --json`
//! gives each cgroup on its chain the same identity as the tree (`--all --json`), and the
//! process the same role.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

mod common;

fn run(fixture: &Path, args: &[&str]) -> Option<Value> {
    let out = common::cgtree()
        .arg("--root")
        .arg(fixture)
        .args(args)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).ok()
}

fn index(node: &Value, ids: &mut HashMap<String, Value>, roles: &mut HashMap<u64, Value>) {
    if let Some(p) = node.get("path").and_then(Value::as_str) {
        ids.insert(p.to_string(), node["identity"].clone());
    }
    for p in node["processes"].as_array().into_iter().flatten() {
        roles.insert(p["pid"].as_u64().unwrap(), p["role"].clone());
    }
    for c in node["children"].as_array().into_iter().flatten() {
        index(c, ids, roles);
    }
}

#[test]
fn pid_and_the_tree_say_the_same_of_every_process() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
    let mut errs = Vec::new();
    let mut checked = 0;
    let mut fixtures: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("sys").is_dir() || p.join("proc/self/mountinfo").is_file())
        .collect();
    fixtures.sort();
    for fx in fixtures {
        let Some(tree) = run(&fx, &["--all", "--json"]) else {
            continue; // v1-only and the like: no cgroup2 tree
        };
        let (mut ids, mut roles) = (HashMap::new(), HashMap::new());
        index(&tree["cgroup"], &mut ids, &mut roles);
        let name = fx.file_name().unwrap().to_string_lossy().into_owned();
        let mut pids: Vec<u64> = roles.keys().copied().collect();
        pids.sort_unstable();
        for pid in pids {
            let Some(t) = run(&fx, &["pid", &pid.to_string(), "--json"]) else {
                errs.push(format!("{name} pid {pid}: no JSON"));
                continue;
            };
            checked += 1;
            if t["role"] != roles[&pid] {
                errs.push(format!(
                    "{name} pid {pid}: role {} in pid, {} in the tree",
                    t["role"], roles[&pid]
                ));
            }
            for c in t["chain"].as_array().into_iter().flatten() {
                let path = c["path"].as_str().unwrap_or_default();
                if path == "/" {
                    continue;
                }
                match ids.get(path) {
                    Some(want) if *want != c["identity"] => errs.push(format!(
                        "{name} pid {pid} {path}: {} in pid, {want} in the tree",
                        c["identity"]
                    )),
                    _ => {}
                }
            }
        }
    }
    assert!(checked > 200, "processes checked: {checked}");
    assert!(
        errs.is_empty(),
        "{} differences:\n{}",
        errs.len(),
        errs.join("\n")
    );
}
