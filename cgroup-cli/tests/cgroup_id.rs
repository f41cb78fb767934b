//! Cgroup ids on the live host (issue #15), as root on the real cgroup2 mount: the ids
//! cgtree prints are the directories' inodes (`stat -c %i`), and a real BPF client
//! (bpftrace) sees the same ids, which `cgtree ids --jsonl` and `cgtree id` resolve.
//!
//! Every cgroup made here has a unique name and is removed by a `Drop` guard
//! ([`common::LiveTree`]), and every process started here is killed by its own PID, even
//! when an assertion fails.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

/// `stat -c %i PATH`, the command the README names.
fn stat_inode(p: &Path) -> u64 {
    let out = common::output_ok(Command::new("stat").arg("-c").arg("%i").arg(p));
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `--json` ids (and parent ids) equal `stat -c %i` of each cgroup directory of a live
/// subtree, `-c` prints the same ids, `cgtree id` (a kernfs handle: root) resolves each
/// one to its path, and `cgtree ids --jsonl` lists them.
#[test]
fn live_ids_are_stat_inodes_and_resolve() {
    let Some(mount) = common::live_mount("live_ids_are_stat_inodes_and_resolve") else {
        return;
    };
    let name = common::unique_cgroup_name("ids");
    let mut live = common::LiveTree::default();
    let top = mount.join(&name);
    live.mkdir(&top);
    live.mkdir(&top.join("a"));
    live.mkdir(&top.join("b"));
    live.mkdir(&top.join("b/c"));
    let rel = |d: &Path| format!("/{}", d.strip_prefix(&mount).unwrap().display());
    let want: Vec<(String, u64)> = live.dirs.iter().map(|d| (rel(d), stat_inode(d))).collect();

    let out = common::output_ok(common::cgtree().args(["--json", "-a", &format!("/{name}")]));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::validate(&doc).unwrap();
    let mut got = Vec::new();
    let mut stack = vec![(&doc["cgroup"], stat_inode(&mount))];
    while let Some((n, parent)) = stack.pop() {
        let id = n["id"].as_u64().unwrap();
        assert_eq!(n["parent_id"].as_u64(), Some(parent), "{}", n["path"]);
        got.push((n["path"].as_str().unwrap().to_string(), id));
        for c in n["children"].as_array().unwrap().iter().rev() {
            stack.push((c, id));
        }
    }
    assert_eq!(got, want);

    let out = common::output_ok(common::cgtree().args(["-a", "-c", &format!("/{name}")]));
    let text = String::from_utf8(out.stdout).unwrap();
    for (path, id) in &want {
        let leaf = path.rsplit('/').next().unwrap();
        let shown = if path == &format!("/{name}") {
            path.as_str()
        } else {
            leaf
        };
        assert!(
            text.lines()
                .any(|l| l.contains(&format!("{shown} (#{id})"))),
            "{shown} (#{id}) in:\n{text}"
        );
    }

    for (path, id) in &want {
        let out = common::output_ok(common::cgtree().args(["id", &id.to_string(), "--json"]));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        common::validate_def(&v, "cgroup_trace").unwrap();
        assert_eq!(v["path"].as_str(), Some(path.as_str()));
        assert_eq!(
            v["chain"].as_array().unwrap().last().unwrap()["path"],
            v["path"]
        );
        // The library's two ways agree: the handle and the walk.
        let host = cgroup_core::Host::new();
        let m = host.find_cgroup2().unwrap();
        let by_handle = cgroup_core::cgroup_id::lookup_cgroup_id(&m, *id).unwrap();
        let fd = std::fs::File::open(&m.dir).unwrap();
        let by_walk =
            cgroup_core::cgroup_id::find_cgroup_id(std::os::fd::AsFd::as_fd(&fd), *id).unwrap();
        assert_eq!(by_handle.as_deref(), Some(path.as_bytes()));
        assert_eq!(by_walk, by_handle);
    }

    // As user nobody (no CAP_DAC_READ_SEARCH: no handle), the walk gives the same path.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let bin = tmp.path().join("cgtree");
    std::fs::copy(env!("CARGO_BIN_EXE_cgtree"), &bin).unwrap();
    for (path, id) in &want {
        let out = common::output_ok(
            Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&bin)
                .args(["id", &id.to_string(), "--json"]),
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["path"].as_str(), Some(path.as_str()), "as nobody");
    }
    // The id of a file (kernfs numbers files too) names no cgroup.
    let file = stat_inode(&top.join("cgroup.procs"));
    let out = common::cgtree()
        .args(["id", &file.to_string()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = common::output_ok(common::cgtree().args(["ids", "--jsonl"]));
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (path, id) in &want {
        let line = lines
            .iter()
            .find(|l| l["id"].as_u64() == Some(*id))
            .unwrap_or_else(|| panic!("{id} in cgtree ids --jsonl"));
        assert_eq!(line["path"].as_str(), Some(path.as_str()));
        common::validate_def(line, "id_index_line").unwrap();
    }

    // A removed cgroup's id names nothing: exit 2, said on stderr.
    let gone = want.last().unwrap().1;
    let c = live.dirs.pop().unwrap();
    std::fs::remove_dir(&c).unwrap();
    let out = common::cgtree()
        .args(["id", &gone.to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains(&format!("no cgroup with id {gone}")), "{err}");
}

/// `@[ID]: COUNT` lines of a bpftrace map printed at exit.
fn map_ids(stdout: &str) -> Vec<(u64, u64)> {
    stdout
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("@[")?;
            let (id, count) = rest.split_once("]: ")?;
            Some((id.trim().parse().ok()?, count.trim().parse().ok()?))
        })
        .collect()
}

/// A real client: bpftrace counts the `openat` calls of a process started in a fresh
/// cgroup by `cgroup` (the task's cgroup v2 id, `bpf_get_current_cgroup_id()`); the id it
/// reports is the cgroup directory's inode, and `cgtree ids --jsonl` and `cgtree id`
/// resolve it to the cgroup's path. bpftrace is not installed here (`.ci/run` installs
/// it): without it the test is skipped with a message on stderr.
#[test]
fn bpftrace_cgroup_ids_resolve_with_cgtree() {
    let Some(mount) = common::live_mount("bpftrace_cgroup_ids_resolve_with_cgtree") else {
        return;
    };
    let have = Command::new("bpftrace")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        eprintln!(
            "\n*** bpftrace_cgroup_ids_resolve_with_cgtree SKIPPED: bpftrace is not installed \
             (apt-get install bpftrace; .ci/run installs it) ***\n"
        );
        return;
    }
    let name = common::unique_cgroup_name("bpf");
    let mut live = common::LiveTree::default();
    let dir = mount.join(&name);
    live.mkdir(&dir);
    let id = stat_inode(&dir);
    // The shell moves itself into the cgroup, then opens a file (a redirection of a
    // builtin: an openat by the shell itself) every 10 ms.
    let child = Command::new("sh")
        .arg("-c")
        .arg("echo $$ > \"$1/cgroup.procs\" && while :; do : < /etc/hostname; sleep 0.01; done")
        .arg("sh")
        .arg(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    live.children.push(child);
    let procs = || std::fs::read_to_string(dir.join("cgroup.procs")).unwrap_or_default();
    for _ in 0..100 {
        if procs().lines().any(|l| l == pid.to_string()) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(procs().lines().any(|l| l == pid.to_string()), "{pid} moved");
    // bpftrace finds tracepoints through tracefs, which this host may not mount: it is
    // mounted in a private mount namespace of bpftrace's own (nothing changes outside).
    let program = format!(
        "tracepoint:syscalls:sys_enter_openat /pid == {pid}/ {{ @[cgroup] = count(); }} \
         interval:s:2 {{ exit(); }}"
    );
    let (out, killed) = common::run_with_deadline(
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c"])
            .arg(
                "mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing; \
                 exec bpftrace -e \"$1\"",
            )
            .arg("sh")
            .arg(&program),
        std::time::Duration::from_secs(120),
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !killed && out.status.success(),
        "bpftrace failed ({:?}):\n{stdout}\n{stderr}",
        out.status
    );
    let seen = map_ids(&stdout);
    assert_eq!(seen.len(), 1, "one cgroup for one process: {stdout}");
    let (bpf_id, count) = seen[0];
    assert!(count > 0);
    // On this hybrid host too: bpftrace's `cgroup` is the cgroup2 id, the unified
    // mount's directory inode.
    assert_eq!(bpf_id, id, "bpftrace's cgroup id is the directory's inode");

    let out = common::output_ok(common::cgtree().args(["ids", "--jsonl"]));
    let line = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["id"].as_u64() == Some(bpf_id))
        .unwrap_or_else(|| panic!("{bpf_id} in cgtree ids --jsonl"));
    assert_eq!(line["path"].as_str(), Some(format!("/{name}").as_str()));
    assert!(line["identity"].is_null(), "a bare test cgroup: {line}");

    let out = common::output_ok(common::cgtree().args(["id", &bpf_id.to_string()]));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with(&format!("{bpf_id} /{name}\n")), "{text}");
}
