//! `cgtree snapshot`: a snapshot of a host answers like the host. For every fixture (and a
//! live subtree) the tree, the JSON, `pid` of every process and `userns` read from the
//! snapshot equal those read from the original, once the root's own path and the cgroup
//! ids (the directories' inodes, the snapshot's own) are set aside.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::path::Path;

use common::run_root as run;

fn pids(root: &Path) -> Vec<String> {
    pids_of(root, &["--json", "--all"])
}

fn assert_same(original: &Path, snap: &Path, what: &str) {
    for args in [
        vec!["--full", "--all", "-U", "-T", "-k"],
        vec!["--json", "--all", "-T"],
        vec!["userns", "--json"],
    ] {
        // Cgroup ids are the directories' inodes: a snapshot's are its own.
        let ids = |(o, e, c): (String, String, i32)| (common::mask_ids(&o), e, c);
        let a = ids(run(original, &args));
        let b = ids(run(snap, &args));
        assert_eq!(
            a,
            b,
            "{what}: `cgtree {}` differs between the original and its snapshot",
            args.join(" ")
        );
    }
    let all = pids(original);
    assert!(!all.is_empty(), "{what}: no processes");
    assert_eq!(all, pids(snap));
    let mut args = vec!["pid", "--json"];
    args.extend(all.iter().map(String::as_str));
    assert_eq!(
        run(original, &args),
        run(snap, &args),
        "{what}: pid answers differ"
    );
}

#[test]
fn every_fixture_snapshot_answers_like_the_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let mut n = 0;
    for scenario in [
        "wsl-rootless-podman-kind",
        "arch-docker-kind",
        "odd-names",
        "hybrid-host",
        "podman-rootful-systemd",
        "podman-rootless-systemd-pod",
        "podman-rootful-cgroupfs",
        "docker",
        "docker-cgroupfs",
        "k8s-systemd",
        "k8s-cgroupfs",
        "crio",
        "wsl29-isolated",
        "live-rootful-podman",
        "live-rootless-podman",
        "live-containerd-pods",
        "live-docker",
        "live-kind-node",
        // containerd's state found from a shim's working directory (`pid` of a pod's
        // process): the snapshot keeps the link.
        "microk8s",
        "containerd-custom-state",
        // docker's data root and podman's graph roots away from their defaults: the
        // snapshot keeps daemon.json's data root, storage.conf's graph root and the
        // hostname mount of a docker container's bundle.
        "custom-paths",
    ] {
        let original = common::repo_root().join("fixtures").join(scenario);
        let snap = tmp.path().join(scenario);
        let (out, err, code) = run(&original, &["snapshot", snap.to_str().unwrap()]);
        assert_eq!(code, 0, "{scenario}: {out}{err}");
        assert!(out.starts_with("snapshot: "), "{out}");
        assert_same(&original, &snap, scenario);
        // Nothing but the fields cgtree parses: no environment in a bundle.
        let meta = fs::read_to_string(snap.join("META")).unwrap();
        assert!(
            meta.contains("Left out by design: process environments"),
            "{meta}"
        );
        n += 1;
    }
    let bundle = tmp.path().join("wsl-rootless-podman-kind/proc/70678/root/run/containerd/io.containerd.runtime.v2.task/k8s.io/4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817/config.json");
    let v: serde_json::Value = serde_json::from_str(&fs::read_to_string(bundle).unwrap()).unwrap();
    assert_eq!(
        v.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["annotations"]
    );
    assert_eq!(n, 21);
}

#[test]
fn snapshot_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("keep"), "mine").unwrap();
    let (_, err, code) = run(
        &common::repo_root().join("fixtures/odd-names"),
        &["snapshot", tmp.path().to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("exists and is not empty"), "{err}");
    assert_eq!(fs::read_to_string(tmp.path().join("keep")).unwrap(), "mine");
}

#[test]
fn live_snapshot_answers_like_the_live_host() {
    let Some(mount) = common::live_mount("the live snapshot test") else {
        return;
    };
    let name = common::unique_cgroup_name("snap");
    let base = mount.join(&name);
    let mut t = common::LiveTree::default();
    t.mkdir(&base);
    t.mkdir(&base.join("app.scope"));
    let pid = t.spawn_sleep().to_string();
    fs::write(base.join("app.scope/cgroup.procs"), &pid).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    common::output_ok(common::cgtree().args(["snapshot", snap.to_str().unwrap()]));
    let start = format!("/{name}");
    for args in [&["--full", "-U", &start][..], &["pid", &pid]] {
        let live = common::cgtree().args(args).output().unwrap();
        let snapped = common::cgtree()
            .arg("--root")
            .arg(&snap)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&live.stdout),
            String::from_utf8_lossy(&snapped.stdout)
        );
        if args[0] == "--full" {
            assert!(
                String::from_utf8_lossy(&snapped.stdout).contains(&format!("{pid} root sleep 600"))
            );
        }
    }
}

/// The PIDs in the `--json` tree output of `cgtree ARGS` (recursively).
fn pids_of(root: &Path, args: &[&str]) -> Vec<String> {
    let (out, _, _) = run(root, args);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut stack = vec![v["cgroup"].clone()];
    let mut pids = Vec::new();
    while let Some(n) = stack.pop() {
        for p in n["processes"].as_array().into_iter().flatten() {
            pids.push(p["pid"].to_string());
        }
        stack.extend(n["children"].as_array().unwrap().iter().cloned());
    }
    pids.sort();
    pids
}

#[test]
fn snapshot_of_a_subtree_answers_for_it_and_holds_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let original = common::repo_root().join("fixtures/k8s-systemd");
    let snap = tmp.path().join("snap");
    let (out, err, code) = run(
        &original,
        &[
            "snapshot",
            snap.to_str().unwrap(),
            "--cgroup",
            "/kubepods.slice",
            // given twice, and below itself: one subtree
            "--cgroup",
            "/kubepods.slice/",
            "--cgroup",
            "/kubepods.slice/kubepods-besteffort.slice",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    // The subtree: the same tree, JSON and pid answers.
    let args = ["/kubepods.slice", "--full", "--all", "-U"];
    assert!(run(&original, &args) == run(&snap, &args), "tree differs");
    // The JSON too, but for the mount's line in the (shortened) mountinfo.
    let json = |root: &Path| {
        let (out, _, code) = run(root, &["/kubepods.slice", "--json", "--all"]);
        let mut v: serde_json::Value = serde_json::from_str(&common::mask_ids(&out)).unwrap();
        v["mount"]["mountinfo_line"] = serde_json::Value::Null;
        (v, code)
    };
    assert!(json(&original) == json(&snap), "JSON differs");
    let inside = pids_of(&original, &["/kubepods.slice", "--json", "--all"]);
    assert!(inside.len() > 3, "{inside:?}");
    assert_eq!(
        inside,
        pids_of(&snap, &["/kubepods.slice", "--json", "--all"])
    );
    let mut args = vec!["pid", "--json"];
    args.extend(inside.iter().map(String::as_str));
    let (a, b) = (run(&original, &args), run(&snap, &args));
    assert_eq!(a.2, 0, "{}", a.1);
    assert!(a == b, "pid answers differ");
    // Nothing else: the other cgroups, their processes, the root's processes.
    let elsewhere = pids_of(&original, &["/system.slice", "--json", "--all"]);
    assert!(!elsewhere.is_empty());
    for p in &elsewhere {
        // (an ancestor of a kept process keeps only its PPid, IDs and maps)
        let dir = snap.join("proc").join(p);
        for f in ["cmdline", "cgroup", "comm"] {
            assert!(!dir.join(f).exists(), "pid {p}: {f} copied");
        }
    }
    assert!(!snap.join("sys/fs/cgroup/system.slice").exists());
    assert_eq!(run(&snap, &["/system.slice"]).2, 2);
    assert_eq!(
        fs::read_to_string(snap.join("sys/fs/cgroup/cgroup.procs")).unwrap(),
        ""
    );
    assert_eq!(pids_of(&snap, &["--json", "--all"]), inside);
    // What was left out is said.
    let meta = fs::read_to_string(snap.join("META")).unwrap();
    assert!(
        meta.contains("Limited to the cgroup subtrees /kubepods.slice: "),
        "{meta}"
    );
    assert!(
        meta.contains("sys/fs/cgroup/cgroup.procs: the processes of a cgroup above"),
        "{meta}"
    );
    assert!(
        meta.contains("mountinfo: every line but the cgroup2 mounts"),
        "{meta}"
    );
    let mi = fs::read_to_string(snap.join("proc/self/mountinfo")).unwrap();
    assert!(mi.lines().all(|l| l.contains(" - cgroup2 ")), "{mi}");
    // A path that climbs out is refused.
    refused(
        &original,
        &tmp.path().join("bad"),
        &["--cgroup", "/a/../b"],
        "..",
    );
}

#[test]
fn snapshot_for_pids_answers_for_them_with_their_namespace_lineage() {
    let tmp = tempfile::tempdir().unwrap();
    // 5201: a rootless container's init that conmon started in the caller's cgroup; it
    // is named through its parent, whose cgroup must come along.
    let original = common::repo_root().join("fixtures/podman-rootless-cgroupfs");
    let snap = tmp.path().join("snap");
    let (out, err, code) = run(
        &original,
        &["snapshot", snap.to_str().unwrap(), "--pids", "5201,5102"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let pid_json = |root: &Path| {
        let (out, err, code) = run(root, &["pid", "5201", "5102", "--json"]);
        assert_eq!(code, 0, "{err}");
        let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
        for t in v.as_array_mut().unwrap() {
            t["mount"] = serde_json::Value::Null;
        }
        v
    };
    let (a, b) = (pid_json(&original), pid_json(&snap));
    assert!(a == b, "pid answers differ");
    // The user namespace's place (inferred from the PPid chain) is kept.
    assert_eq!(b[0]["userns"]["depth"], 1, "{}", b[0]["userns"]);
    assert_eq!(b[0]["container"]["name"], "noparent");
    // etc/passwd keeps only the users the kept processes run as (bob), not root.
    let pw = fs::read_to_string(snap.join("etc/passwd")).unwrap();
    assert!(pw.starts_with("bob:") && pw.lines().count() == 1, "{pw}");
    assert!(fs::read_to_string(original.join("etc/passwd"))
        .unwrap()
        .starts_with("root:"));
    // The ancestors outside the subtrees carry no name or command line.
    let meta = fs::read_to_string(snap.join("META")).unwrap();
    assert!(meta.contains("ancestors outside the subtrees"), "{meta}");
    assert!(!snap.join("proc/1/cmdline").exists());
    let st = fs::read_to_string(snap.join("proc/1/status")).unwrap();
    assert!(!st.contains("Name:") && st.contains("Uid:"), "{st}");
    // A process in the root cgroup would mean the whole host: refused, and said why.
    refused(
        &common::repo_root().join("fixtures/hybrid-host"),
        &tmp.path().join("root"),
        &["--pids", "2"],
        "root cgroup",
    );
}

/// `cgtree --root ROOT snapshot OUT ARGS` exits 2 with `why` in its message.
fn refused(root: &Path, out: &Path, args: &[&str], why: &str) {
    let mut all = vec!["snapshot", out.to_str().unwrap()];
    all.extend(args);
    let (_, err, code) = run(root, &all);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(why), "{err}");
    assert!(!out.exists(), "nothing written");
}
