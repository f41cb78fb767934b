//! The sample JSON document (`cgroup_core::sample::write_sample_json`, what
//! `cgtree top --json` prints one line at a time) validates against
//! `#/$defs/sample_doc` of docs/json.md, and says what the fixture holds, in the
//! documented units.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cgroup_core::sample::{group, write_sample_json, SampleOptions, Sampler};
use cgroup_core::TreeBuilder;

mod common;

const APP_ID: &str = "4b4974ea50c495be13861ede4c4c06cd5c9bd2299d8eb212cef6b1b9fed56e12";

#[test]
fn sample_json_validates_and_has_the_fixture_numbers() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("root");
    common::copy_tree(&common::repo_root().join("fixtures/stats-kind"), &root);
    let tree = TreeBuilder::new()
        .host_root(&root)
        .include_empty(true)
        .identify(true)
        .build()
        .unwrap();
    let groups = group::groups(&tree);
    let mut sampler = Sampler::new(&tree, SampleOptions::default()).unwrap();
    let mut s1 = sampler.sample(&tree);

    // The first sample: no interval, no rates.
    let mut line = Vec::new();
    write_sample_json(&mut line, &tree, &s1, None, &groups).unwrap();
    assert!(!line.contains(&b'\n'), "one line");
    let doc: serde_json::Value = serde_json::from_slice(&line).unwrap();
    common::validate_def(&doc, "sample_doc").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["interval_usec"], serde_json::Value::Null);
    let cgroups = doc["cgroups"].as_array().unwrap();
    assert_eq!(cgroups.len(), tree.nodes().len());
    assert!(cgroups.iter().all(|c| c["rates"].is_null()));
    let app = cgroups
        .iter()
        .find(|c| c["identity"]["id"] == APP_ID)
        .unwrap();
    let u = &app["usage"];
    assert_eq!(u["memory"]["current"], 248u64 << 20);
    assert_eq!(u["memory"]["working_set"], 208u64 << 20);
    assert_eq!(u["memory"]["max"], 256u64 << 20);
    assert_eq!(u["memory"]["high"], "max");
    assert_eq!(u["memory_events"]["oom_kill"], 2);
    assert_eq!(u["io"][1]["device"], "259:0");
    assert_eq!(u["io"][1]["name"], "nvme0n1");
    assert_eq!(u["pressure"]["cpu"]["some"]["avg10"], 0.125);
    assert_eq!(u["pressure"]["cpu"]["some"]["total_usec"], 900_000);
    assert!(app["id"].is_u64());

    // A second sample 2 s later, after the container used 0.5 s of CPU.
    let app_dir = root.join(
        "sys/fs/cgroup/system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-podf78d871c_d823_805f_e557_5008baa0e371.slice",
    );
    for dir in [
        app_dir.join(format!("cri-containerd-{APP_ID}.scope")),
        app_dir,
    ] {
        let f = dir.join("cpu.stat");
        let text = std::fs::read_to_string(&f).unwrap();
        let usage: u64 = text.lines().next().unwrap()[11..].parse().unwrap();
        let text = text.replacen(
            &format!("usage_usec {usage}"),
            &format!("usage_usec {}", usage + 500_000),
            1,
        );
        std::fs::write(&f, text).unwrap();
    }
    let mut s2 = sampler.sample(&tree);
    s1.at = std::time::Duration::from_secs(10);
    s2.at = std::time::Duration::from_secs(12);
    let mut line = Vec::new();
    write_sample_json(&mut line, &tree, &s2, Some(&s1), &groups).unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&line).unwrap();
    common::validate_def(&doc, "sample_doc").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(doc["interval_usec"], 2_000_000);
    assert_eq!(doc["monotonic_usec"], 12_000_000);
    let app = doc["cgroups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identity"]["id"] == APP_ID)
        .unwrap();
    assert_eq!(app["rates"]["cpu"]["cores"], 0.25);
    assert_eq!(app["rates"]["interval_usec"], 2_000_000);
    let pod = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "pod")
        .unwrap();
    assert_eq!(pod["key"], "f78d871c-d823-805f-e557-5008baa0e371");
    assert_eq!(pod["rates"]["cpu"]["cores"], 0.25);
    let node = doc["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["kind"] == "kube-node")
        .unwrap();
    assert_eq!(node["name"], "kind-control-plane");
    assert_eq!(node["members"].as_array().unwrap().len(), 1);

    // The schema is strict: a negative count, a ratio over 1, an unknown key fail.
    for (ptr, v) in [
        ("/cgroups/0/usage/cpu/usage_usec", serde_json::json!(-1)),
        (
            "/cgroups/0/usage/pressure/cpu/some/avg10",
            serde_json::json!(12.5),
        ),
        ("/cgroups/0/usage/extra", serde_json::json!(1)),
    ] {
        let mut bad = doc.clone();
        let (parent, key) = ptr.rsplit_once('/').unwrap();
        bad.pointer_mut(parent).unwrap()[key] = v;
        assert!(common::validate_def(&bad, "sample_doc").is_err(), "{ptr}");
    }

    // A sample of another tree is refused.
    let other = TreeBuilder::new()
        .host_root(common::repo_root().join("fixtures/hybrid-host"))
        .build()
        .unwrap();
    let e = write_sample_json(&mut Vec::new(), &other, &s2, None, &[]).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
}
