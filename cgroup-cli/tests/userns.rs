//! User namespaces: `cgtree userns`, the user lines of `cgtree pid` and `-u`, on the
//! guide fixture and live against namespaces made with unshare(1).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::run_fixture;
use serde_json::Value;
use std::fs;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const WSL: &str = "wsl-rootless-podman-kind";

fn ns(doc: &Value, inode: u64) -> &Value {
    doc["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["inode"] == inode)
        .unwrap_or_else(|| panic!("{inode} listed"))
}

#[test]
fn guide_fixture_has_the_initial_and_the_podman_namespace() {
    let (out, err, code) = run_fixture(WSL, &["userns", "--json"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let doc: Value = serde_json::from_str(&out).unwrap();
    common::validate_def(&doc, "userns_doc").unwrap();
    assert_eq!(doc["namespaces"].as_array().unwrap().len(), 2);
    let init = ns(&doc, 4026531837);
    assert_eq!(init["initial"], true);
    assert_eq!(
        init["uid_map"],
        serde_json::json!([{"inside": 0, "outside": 0, "count": 4294967295u32}])
    );
    assert_eq!(init["depth"], 0);
    let podman = ns(&doc, 4026532263);
    assert_eq!(podman["pid"], 532, "lowest PID, as lsns shows");
    assert_eq!(
        podman["processes"][0]["cmdline"],
        serde_json::json!(["/usr/bin/podman"])
    );
    assert_eq!(
        podman["uid_map"],
        serde_json::json!([{"inside": 0, "outside": 1000, "count": 1}, {"inside": 1, "outside": 100000, "count": 65536}])
    );
    assert_eq!(
        (podman["parent"].as_u64(), podman["depth"].as_u64()),
        (Some(4026531837), Some(1))
    );
    assert_eq!(podman["owner"], 1000);
    assert_eq!(podman["kind_nodes"][0]["name"], "kind-control-plane");
    assert_eq!(podman["containers"][0]["name"], "kind-control-plane");
    let pods: Vec<&str> = podman["pods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        pods.contains(&"nginx") && pods.contains(&"local-path-provisioner-7577fdbbfb-zjdbq"),
        "{pods:?}"
    );
    // Counts add up to every process of the fixture.
    let total: u64 = doc["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["nprocs"].as_u64().unwrap())
        .sum();
    let procs = fs::read_dir(common::repo_root().join("fixtures").join(WSL).join("proc"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .parse::<u32>()
                .is_ok()
        })
        .count();
    assert_eq!(total, procs as u64);
    let worker = podman["processes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["pid"] == 75131)
        .unwrap();
    assert_eq!(
        (
            worker["user"]["uid"].as_u64(),
            worker["user"]["ns_uid"].as_u64()
        ),
        (Some(100100), Some(101))
    );
    assert_eq!(worker["user"]["ns_name"], "nginx");
}

#[test]
fn nginx_worker_is_100100_on_the_host_and_101_nginx_inside() {
    let (out, _, code) = run_fixture(WSL, &["pid", "75131"]);
    assert_eq!(code, 0);
    assert!(out.contains("  user:      host UID 100100, UID 101 (nginx) in its user namespace 4026532263, nested 1 level below the initial namespace (parent 4026531837)\n"), "{out}");
    let (out, _, _) = run_fixture(WSL, &["pid", "75131", "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["user"]["uid"], 100100);
    assert_eq!(v["user"]["ns_uid"], 101);
    assert_eq!(v["user"]["ns_name"], "nginx");
    assert_eq!(v["user"]["userns"], 4026532263u64);
    assert_eq!(v["userns"]["depth"], 1);
    assert_eq!(v["userns"]["source"], "ancestors");
    let (out, _, _) = run_fixture(WSL, &["-U", "/user.slice"]);
    assert!(
        out.contains("75102 1000(root in ctr) nginx: master process"),
        "{out}"
    );
    assert!(
        out.contains("75131 100100(nginx in ctr) nginx: worker process"),
        "{out}"
    );
    assert!(out.contains("275 massi -bash"), "{out}");
}

/// A process this test started in a new user namespace; killed (by its own PID) on drop.
struct Sleeper(Child);

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn live_allowed() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    if std::env::var_os("CGTREE_SKIP_LIVE").is_some_and(|v| v == "1") {
        return false;
    }
    panic!("the live user-namespace test needs root; set CGTREE_SKIP_LIVE=1 to skip it");
}

/// Waits until `pid` is in a user namespace other than ours and its uid_map is written.
fn wait_for_ns(pid: u32, want_map: bool) -> u64 {
    let own = fs::read_link("/proc/self/ns/user").unwrap();
    for _ in 0..500 {
        if let Ok(l) = fs::read_link(format!("/proc/{pid}/ns/user")) {
            let map = fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap_or_default();
            if l != own && (!want_map || !map.trim().is_empty()) {
                let s = l.to_string_lossy().into_owned();
                return s
                    .trim_start_matches("user:[")
                    .trim_end_matches(']')
                    .parse()
                    .unwrap();
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("process {pid} never entered its user namespace");
}

fn cgtree_live(args: &[&str]) -> Value {
    let out = common::cgtree().args(args).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn live_namespaces_match_the_kernel_files() {
    if !live_allowed() {
        return;
    }
    // 1. unshare --map-root-user: the kernel writes "0 <our uid> 1".
    let a = Sleeper(
        Command::new("unshare")
            .args(["-U", "--map-root-user", "sleep", "600"])
            .stdin(Stdio::null())
            .spawn()
            .expect("unshare (util-linux)"),
    );
    let a_pid = a.0.id();
    let a_ns = wait_for_ns(a_pid, true);
    // 2. A range map written from outside (what newuidmap does for rootless runtimes):
    //    an unprivileged process (host UID 200101) in a new namespace, mapped 0 -> 200000 (65536).
    let b = Sleeper(
        Command::new("setpriv")
            .args([
                "--reuid=200101",
                "--regid=200101",
                "--clear-groups",
                "unshare",
                "-U",
                "sleep",
                "600",
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("setpriv and unshare (util-linux)"),
    );
    let b_pid = b.0.id();
    let b_ns = wait_for_ns(b_pid, false);
    fs::write(format!("/proc/{b_pid}/uid_map"), "0 200000 65536\n").unwrap();
    fs::write(format!("/proc/{b_pid}/gid_map"), "0 200000 65536\n").unwrap();

    for (pid, ns_inode) in [(a_pid, a_ns), (b_pid, b_ns)] {
        let kernel_map = fs::read_to_string(format!("/proc/{pid}/uid_map")).unwrap();
        let v = cgtree_live(&["pid", &pid.to_string(), "--json"]);
        common::validate_trace(&v).unwrap();
        assert_eq!(v["user"]["userns"], ns_inode);
        assert_eq!(
            v["userns"]["depth"], 1,
            "one level below the initial namespace"
        );
        assert_eq!(
            v["userns"]["source"], "ioctl",
            "asked the kernel on a live host"
        );
        let doc = cgtree_live(&["userns", &ns_inode.to_string(), "--json"]);
        common::validate_def(&doc, "userns_doc").unwrap();
        let n = ns(&doc, ns_inode);
        // cgtree's map equals the kernel's file, line by line.
        let ours: Vec<(u64, u64, u64)> = n["uid_map"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["inside"].as_u64().unwrap(),
                    r["outside"].as_u64().unwrap(),
                    r["count"].as_u64().unwrap(),
                )
            })
            .collect();
        let theirs: Vec<(u64, u64, u64)> = kernel_map
            .lines()
            .map(|l| {
                let f: Vec<u64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
                (f[0], f[1], f[2])
            })
            .collect();
        assert_eq!(ours, theirs);
        assert!(n["processes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["pid"] == pid));
        assert_eq!(n["lineage_source"], "ioctl");
        assert_eq!(n["owner_source"], "ioctl");
    }
    let a_doc = cgtree_live(&["pid", &a_pid.to_string(), "--json"]);
    let uid = nix::unistd::geteuid().as_raw();
    assert_eq!(
        (
            a_doc["user"]["uid"].as_u64(),
            a_doc["user"]["ns_uid"].as_u64()
        ),
        (Some(u64::from(uid)), Some(0))
    );
    let b_doc = cgtree_live(&["pid", &b_pid.to_string(), "--json"]);
    assert_eq!(
        (
            b_doc["user"]["uid"].as_u64(),
            b_doc["user"]["ns_uid"].as_u64()
        ),
        (Some(200101), Some(101))
    );
    let owner = cgtree_live(&["userns", &b_doc["user"]["userns"].to_string(), "--json"]);
    assert_eq!(
        ns(&owner, b_doc["user"]["userns"].as_u64().unwrap())["owner"],
        200101,
        "the creator's UID"
    );
}

/// A copy of the guide fixture (wsl-rootless-podman-kind) with `n` more besteffort pods
/// in the kind node, each with one process in the podman user namespace (a copy of the
/// local-path-provisioner's /proc entry at PID 300000+i) and its kubelet log directory
/// in the node's root, which is what names a pod in this fixture.
fn guide_with_pods(n: usize) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    common::copy_tree(&common::repo_root().join("fixtures").join(WSL), d.path());
    let besteffort = "user.slice/user-1000.slice/user@1000.service/app.slice/a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice";
    let cg = d.path().join("sys/fs/cgroup").join(besteffort);
    let template_pod =
        cg.join("kubelet-kubepods-besteffort-pod9fbcc2e9_dbfa_1be6_d13f_64f4a56ec903.slice");
    let logs = d.path().join("proc/70678/root/var/log/pods");
    for i in 0..n {
        let uid = format!("{i:08x}-b0b0-4000-8000-{i:012x}");
        let pod = cg.join(format!(
            "kubelet-kubepods-besteffort-pod{}.slice",
            uid.replace('-', "_")
        ));
        let ctr = pod.join(format!(
            "cri-containerd-{:064x}.scope",
            0x00c0_ffee_0000_u64 + i as u64
        ));
        fs::create_dir_all(&ctr).unwrap();
        for f in [
            "cgroup.controllers",
            "cgroup.subtree_control",
            "cgroup.type",
        ] {
            fs::copy(template_pod.join(f), pod.join(f)).unwrap();
            fs::copy(template_pod.join(f), ctr.join(f)).unwrap();
        }
        let pid = 300_000 + i;
        fs::write(pod.join("cgroup.procs"), "").unwrap();
        fs::write(ctr.join("cgroup.procs"), format!("{pid}\n")).unwrap();
        let proc_dir = d.path().join(format!("proc/{pid}"));
        common::copy_tree(&d.path().join("proc/74380"), &proc_dir);
        let rel = ctr.strip_prefix(d.path().join("sys/fs/cgroup")).unwrap();
        fs::write(proc_dir.join("cgroup"), format!("0::/{}\n", rel.display())).unwrap();
        let status = fs::read_to_string(proc_dir.join("status"))
            .unwrap()
            .replace("74380", &pid.to_string());
        fs::write(proc_dir.join("status"), status).unwrap();
        fs::create_dir_all(logs.join(format!("bench_web-{i}_{uid}/web"))).unwrap();
        fs::write(logs.join(format!("bench_web-{i}_{uid}/web/0.log")), "").unwrap();
    }
    d
}

/// With hundreds of pods a namespace's holdings are summarised: counts by kind, the
/// first few names, `... and N more`; every line stays short (before: one `holds:` line
/// of all 310 pod names, 4,872 characters). `--full` lists each name on its own
/// line, and the JSON still has them all.
#[test]
fn userns_summarises_hundreds_of_pods_and_full_lists_them() {
    let d = guide_with_pods(300);
    let (out, err, code) = common::run_root(d.path(), &["userns"]);
    assert_eq!((code, err.as_str()), (0, ""), "{out}");
    let longest = out.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 200, "longest line {longest}:\n{out}");
    assert!(
        out.lines()
            .any(|l| l == "  holds:   1 podman container, 1 kind node, 310 pods"),
        "{out}"
    );
    assert!(
        out.contains("\n    podman container: kind-control-plane\n"),
        "{out}"
    );
    assert!(
        out.contains("\n    kind node: kind-control-plane\n"),
        "{out}"
    );
    let pods = out.lines().find(|l| l.starts_with("    pods: ")).unwrap();
    assert!(pods.ends_with(" ... and 307 more"), "{pods}");
    assert_eq!(pods.matches(", ").count(), 2, "three names: {pods}");

    let (full, err, code) = common::run_root(d.path(), &["userns", "--full"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let pod_lines: Vec<&str> = full.lines().filter(|l| l.starts_with("    pod ")).collect();
    assert_eq!(pod_lines.len(), 310, "{full}");
    for i in [0, 150, 299] {
        assert!(
            pod_lines.contains(&format!("    pod bench/web-{i}").as_str()),
            "web-{i} in\n{full}"
        );
    }
    assert!(!full.contains("more"), "{full}");
    let (short, _, _) = common::run_root(d.path(), &["userns", "-l"]);
    assert_eq!(short, full);

    let (json, _, code) = common::run_root(d.path(), &["userns", "--json"]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(ns(&doc, 4026532263)["pods"].as_array().unwrap().len(), 310);
}

/// Few enough names are all shown without `--full`, without `... and`; kinds are
/// counted per runtime.
#[test]
fn userns_shows_few_names_whole() {
    let (out, _, code) = run_fixture("nested-engines", &["userns"]);
    assert_eq!(code, 0);
    assert!(
        out.lines()
            .any(|l| l == "  holds:   2 podman containers, 2 docker containers"),
        "{out}"
    );
    assert!(
        out.contains("\n    podman containers: pip, inner-redis\n"),
        "{out}"
    );
    assert!(!out.contains("more"), "{out}");
}
