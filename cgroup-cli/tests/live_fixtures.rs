//! The real runtimes' layouts on every machine: `fixtures/live-<setup>` was captured with
//! `cgtree snapshot --cgroup ...` by the live runtime suite (`tests/e2e/run --capture .`),
//! which also wrote what the live host answered to `tests/live/<setup>.json`: per cgroup
//! its identity and its processes' roles, per asked PID its cgroup, role, container, kind
//! node, pod, pod container and the identities of its chain. `cgtree --root
//! fixtures/live-<setup>` must answer the same.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use serde_json::{json, Map, Value};
use std::fs;

/// The part of `cgtree START --json -a` that says what things are (as the suite projects
/// it): path below `top` -> {identity, roles (sorted)}.
fn project_tree(doc: &Value, top: &str) -> Value {
    let mut out = Map::new();
    let mut stack = vec![&doc["cgroup"]];
    while let Some(c) = stack.pop() {
        let path = c["path"].as_str().unwrap();
        let key = path.strip_prefix(top).unwrap_or(path);
        let mut roles: Vec<Value> = c["processes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| !p["role"].is_null())
            .map(|p| p["role"].clone())
            .collect();
        roles.sort_by_key(|r| r.to_string());
        out.insert(
            if key.is_empty() { "/" } else { key }.to_string(),
            json!({"identity": c["identity"], "roles": roles}),
        );
        stack.extend(c["children"].as_array().unwrap());
    }
    Value::Object(out)
}

fn project_pid(d: &Value) -> Value {
    let mut out = Map::new();
    for k in [
        "cgroup",
        "role",
        "container",
        "kind_node",
        "pod",
        "pod_container",
    ] {
        out.insert(k.into(), d[k].clone());
    }
    let chain: Vec<Value> = d["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["identity"].clone())
        .collect();
    out.insert("chain".into(), Value::Array(chain));
    Value::Object(out)
}

/// Roles compared as sets: the suite sorts them by Python's JSON text, this by serde's.
fn normalise(mut tree: Value) -> Value {
    for (_, v) in tree.as_object_mut().unwrap() {
        let roles = v["roles"].as_array_mut().unwrap();
        roles.sort_by_key(|r| r.to_string());
    }
    tree
}

#[test]
fn live_fixtures_identify_as_the_live_run_did() {
    let dir = common::repo_root().join("cgroup-cli/tests/live");
    let mut setups = 0;
    for f in fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        let setup = f.file_stem().unwrap().to_str().unwrap().to_string();
        let rec: Value = serde_json::from_str(&fs::read_to_string(&f).unwrap()).unwrap();
        let root = common::repo_root().join(format!("fixtures/live-{setup}"));
        assert!(root.is_dir(), "{setup}: no fixtures/live-{setup}");
        let top = rec["top"].as_str().unwrap();
        let mut identified = 0;
        let mut placed = 0;
        for c in rec["cgroups"].as_array().unwrap() {
            let c = c.as_str().unwrap();
            let (out, err, code) = common::run_root(&root, &[c, "--json", "-a"]);
            assert_eq!(code, 0, "{setup} {c}: {err}");
            let got = project_tree(&serde_json::from_str(&out).unwrap(), top);
            let want = normalise(rec["tree"][c].clone());
            identified += want
                .as_object()
                .unwrap()
                .values()
                .filter(|v| !v["identity"].is_null())
                .count();
            assert!(
                got == want,
                "{setup}: `cgtree --root fixtures/live-{setup} {c}` identifies otherwise than the live run:\n{}\n---- live ----\n{}",
                serde_json::to_string_pretty(&got).unwrap(),
                serde_json::to_string_pretty(&want).unwrap()
            );
        }
        for p in rec["pids"].as_array().unwrap() {
            let p = p.to_string();
            let (out, err, code) = common::run_root(&root, &["pid", &p, "--json"]);
            assert_eq!(code, 0, "{setup} pid {p}: {err}");
            let got = project_pid(&serde_json::from_str(&out).unwrap());
            let want = &rec["pid"][&p];
            assert!(!want.is_null(), "{setup}: no live answer for {p}");
            // Placed: in a container or pod, serving one, or in a cgroup that is itself
            // identified (an nspawn supervisor, an LXC monitor).
            let own_cgroup = want["chain"]
                .as_array()
                .and_then(|c| c.last())
                .is_some_and(|i| !i.is_null());
            if !want["container"].is_null()
                || !want["role"].is_null()
                || !want["pod"].is_null()
                || own_cgroup
            {
                placed += 1;
            }
            assert!(
                &got == want,
                "{setup}: `cgtree pid {p}` answers otherwise than the live run:\n{}\n---- live ----\n{}",
                serde_json::to_string_pretty(&got).unwrap(),
                serde_json::to_string_pretty(want).unwrap()
            );
        }
        // The capture names things: a recognised cgroup, and every asked PID placed.
        assert!(identified > 0, "{setup}: no cgroup identified");
        assert_eq!(placed, rec["pids"].as_array().unwrap().len(), "{setup}");
        setups += 1;
    }
    assert_eq!(setups, 7, "live setups captured");
}
