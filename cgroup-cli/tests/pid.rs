//! `cgtree pid`: a process traced to its cgroup chain, container, kind node and pod.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::run_fixture;

const WSL: &str = "wsl-rootless-podman-kind";
const KIND_ID: &str = "a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38";

#[test]
fn shim_74284_is_traced_to_its_pod_node_and_podman_container() {
    let (out, err, code) = run_fixture(WSL, &["pid", "74284"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    assert!(out.contains("  what:      containerd shim of pod local-path-storage/local-path-provisioner-7577fdbbfb-zjdbq\n"), "{out}");
    assert!(
        out.contains("  serves:    container local-path-provisioner (0a98af2598be,"),
        "{out}"
    );
    assert!(
        out.contains("  kind node: kind-control-plane (cluster kind)\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "  container: podman container kind-control-plane, {KIND_ID} (rootless, user 1000,"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "└─{KIND_ID} [podman container kind-control-plane · kind node]\n"
        )),
        "{out}"
    );
}

#[test]
fn shim_json_has_the_documented_keys() {
    let (out, err, code) = run_fixture(WSL, &["pid", "74284", "--json"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate_trace(&v).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["pid"], 74284);
    assert!(v["cgroup"]
        .as_str()
        .unwrap()
        .ends_with("/system.slice/containerd.service"));
    let chain = v["chain"].as_array().unwrap();
    assert_eq!(chain[0]["path"], "/");
    assert_eq!(chain.last().unwrap()["identity"]["name"], "containerd");
    assert_eq!(
        chain[5]["identity"]["kind_node"]["name"],
        "kind-control-plane"
    );
    assert_eq!(v["container"]["runtime"], "podman");
    assert_eq!(v["container"]["id"], KIND_ID);
    assert_eq!(v["container"]["name"], "kind-control-plane");
    assert_eq!(v["container"]["rootless"], true);
    assert_eq!(v["container"]["user"], 1000);
    assert_eq!(v["kind_node"]["name"], "kind-control-plane");
    assert_eq!(v["kind_node"]["cluster"], "kind");
    assert_eq!(v["pod"]["namespace"], "local-path-storage");
    assert_eq!(v["pod"]["name"], "local-path-provisioner-7577fdbbfb-zjdbq");
    assert_eq!(v["pod"]["uid"], "9fbcc2e9-dbfa-1be6-d13f-64f4a56ec903");
    assert_eq!(v["pod"]["containers"][0]["name"], "local-path-provisioner");
    assert_eq!(
        v["pod_container"],
        serde_json::Value::Null,
        "a shim runs in no pod container"
    );
    assert_eq!(v["role"]["kind"], "shim");
    assert_eq!(
        v["role"]["sandbox"],
        "4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817"
    );
}

#[test]
fn pod_process_names_its_pod_container() {
    let (out, _, code) = run_fixture(WSL, &["pid", "75131", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate_trace(&v).unwrap();
    assert_eq!(v["pod"]["name"], "nginx");
    assert_eq!(v["pod"]["namespace"], "default");
    assert_eq!(v["pod_container"]["name"], "nginx");
    assert_eq!(
        v["pod_container"]["image"],
        "docker.io/library/nginx:latest"
    );
    assert_eq!(v["uid"], 100100);
    assert_eq!(v["nspid"], serde_json::json!([75131, 1460, 2]));
    assert_eq!(v["role"], serde_json::Value::Null);
}

#[test]
fn conmon_is_tied_to_the_container_it_monitors() {
    let (out, _, code) = run_fixture(WSL, &["pid", "70650", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate_trace(&v).unwrap();
    assert_eq!(v["role"]["kind"], "conmon");
    assert_eq!(v["role"]["id"], KIND_ID);
    assert_eq!(v["container"]["name"], "kind-control-plane");
}

#[test]
fn several_pids_and_an_unknown_one() {
    let (out, err, code) = run_fixture(WSL, &["pid", "1", "99999", "72203", "--json"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "cgtree: no process 99999 (fixtures/wsl-rootless-podman-kind/proc/99999 does not exist)\n"
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 2);
    assert_eq!(
        (arr[0]["pid"].as_u64(), arr[1]["pid"].as_u64()),
        (Some(1), Some(72203))
    );
    assert_eq!(arr[0]["container"], serde_json::Value::Null);
    assert_eq!(arr[1]["kind_node"]["name"], "kind-control-plane");
    let (_, err, code) = run_fixture(WSL, &["pid", "424242"]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "one-line reason: {err}");
}

/// A hostile `--root`: the process's `cmdline` (then its `status`) is a FIFO nobody
/// writes to. `pid` checks the type before opening (it used to block forever in `open`):
/// a clear error naming the file, within a deadline.
#[test]
fn proc_files_that_are_fifos_are_refused_not_waited_on() {
    use std::time::Duration;
    for file in ["cmdline", "status"] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("host");
        common::copy_tree(&common::repo_root().join("fixtures").join(WSL), &root);
        let p = root.join("proc/74284").join(file);
        std::fs::remove_file(&p).unwrap();
        nix::unistd::mkfifo(&p, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
        let mut cmd = common::cgtree();
        cmd.arg("--root").arg(&root).args(["pid", "74284"]);
        let (out, killed) = common::run_with_deadline(&mut cmd, Duration::from_secs(20));
        assert!(!killed, "cgtree pid blocked on a FIFO {file}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_ne!(out.status.code(), Some(0), "{file}: {err}");
        assert!(
            err.contains(&format!("proc/74284/{file}")),
            "{file}: the error names the file: {err}"
        );
    }
}
