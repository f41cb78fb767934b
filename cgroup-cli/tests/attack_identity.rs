//! Identity attacks by a local user (issue #12): what cgtree, run as root, opens because
//! a process's command line or a user's directory named it, and which labels it gives
//! from that.
//!
//! - a fake conmon (`-c <root's container id> -n totally-legit-db -p F`) must not name
//!   root's container nor label a root process as started by it (rule 4: a command line
//!   counts only from a process running as the container's owner);
//! - a fake conmon's `-p` must not make root open a file the user names (rule 3: only a
//!   pidfile in the runtime's own directory, owned by conmon's user);
//! - a user's podman storage or `/run/user/UID/crun/<id>/status` linked to a root-only
//!   JSON file must not put its content on stderr or into `--json` (rule 2/3: no link
//!   followed in a user's directory, owner and link count checked; JSON errors never
//!   quote content);
//! - a fake containerd shim on the host gets no label.
//!
//! The fixture test runs everywhere; the live ones need root (a throw-away user) and are
//! skipped only with `CGTREE_SKIP_LIVE=1`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
#[path = "../../tests/support/throwaway_user.rs"]
mod throwaway_user;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;
use std::process::Stdio;
use throwaway_user::ThrowawayUser;

const DOCKER_ID: &str = "2c30eea7181cde8c36fd4d1e29be2aca6536eb1c2c3b9ec4c502bc68fc20a303";
const SPOOF: &str = "totally-legit-db";

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Every identity name and process role in a `--json` tree, as `(what, json)` pairs.
fn labels(doc: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![&doc["cgroup"]];
    while let Some(n) = stack.pop() {
        if !n["identity"].is_null() {
            out.push((n["path"].to_string(), format!("identity {}", n["identity"])));
        }
        for p in n["processes"].as_array().into_iter().flatten() {
            if !p["role"].is_null() {
                out.push((p["pid"].to_string(), format!("role {}", p["role"])));
            }
        }
        stack.extend(n["children"].as_array().into_iter().flatten());
    }
    out
}

/// Writes one cgroup of a fixture (the files every fixture cgroup has).
fn fixture_cgroup(root: &Path, rel: &str, procs: &str) {
    let d = root.join("sys/fs/cgroup").join(rel);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("cgroup.type"), "domain\n").unwrap();
    fs::write(d.join("cgroup.procs"), procs).unwrap();
    fs::write(d.join("cgroup.controllers"), "").unwrap();
    fs::write(d.join("cgroup.subtree_control"), "").unwrap();
}

/// Adds process `pid` to a fixture: a copy of `like`'s proc directory with another
/// command line, cgroup and UIDs.
fn fixture_process(root: &Path, pid: u32, like: u32, argv: &[&str], cgroup: &str, uid: u32) {
    let d = root.join(format!("proc/{pid}"));
    common::copy_tree(&root.join(format!("proc/{like}")), &d);
    let mut cmdline = argv.join("\0");
    cmdline.push('\0');
    fs::write(d.join("cmdline"), cmdline).unwrap();
    fs::write(d.join("cgroup"), format!("0::/{cgroup}\n")).unwrap();
    let name = Path::new(argv[0]).file_name().unwrap().to_string_lossy();
    fs::write(d.join("comm"), format!("{name}\n")).unwrap();
    fs::write(
        d.join("status"),
        format!(
            "Name:\t{name}\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\nPPid:\t1\n\
             Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\nNStgid:\t{pid}\nNSpid:\t{pid}\n"
        ),
    )
    .unwrap();
}

/// Rule 4, deterministic: in the `docker` fixture, bob (1002) runs a fake conmon naming
/// root's docker container and a pidfile of his own that names dockerd (PID 900, root),
/// and a fake shim naming root's containerd task. Before the fix the docker container
/// was shown as `[podman container totally-legit-db]`, dockerd as started by it, and the
/// fake conmon and shim labelled.
#[test]
fn fake_conmon_and_shim_of_a_user_name_nothing_of_roots() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("host");
    common::copy_tree(&common::repo_root().join("fixtures/docker"), &root);
    let cg = "user.slice/user-1002.slice/session-9.scope";
    fixture_cgroup(&root, cg, "7001\n7002\n");
    fs::create_dir_all(root.join("home/bob")).unwrap();
    fs::write(root.join("home/bob/F"), "900\n").unwrap();
    fixture_process(
        &root,
        7001,
        6001,
        &["conmon", "-c", DOCKER_ID, "-n", SPOOF, "-p", "/home/bob/F"],
        cg,
        1002,
    );
    fixture_process(
        &root,
        7002,
        6001,
        &[
            "/usr/bin/containerd-shim-runc-v2",
            "-namespace",
            "moby",
            "-id",
            DOCKER_ID,
            "-address",
            "/run/containerd/containerd.sock",
        ],
        cg,
        1002,
    );
    // bob's own cgroup, named after root's docker container: only bob's state could
    // name it.
    let fake = format!("user.slice/user-1002.slice/fake.slice/docker-{DOCKER_ID}.scope");
    fixture_cgroup(&root, "user.slice/user-1002.slice/fake.slice", "");
    fixture_cgroup(&root, &fake, "7003\n");
    fixture_process(&root, 7003, 6001, &["sleep", "1000"], &fake, 1002);
    let host = root.to_str().unwrap();

    let out = common::cgtree()
        .args(["--root", host, "--full"])
        .output()
        .unwrap();
    let (tree, err) = text(&out);
    assert!(
        tree.contains(&format!(
            "docker-{DOCKER_ID}.scope [docker container cache-redis]"
        )),
        "root's docker container keeps its own name:\n{tree}\n{err}"
    );
    for bad in [
        format!("[podman container {SPOOF}"),
        format!("conmon of {SPOOF}"),
        "outside its cgroup".to_string(),
        "7002 [shim".to_string(),
    ] {
        assert!(!tree.contains(&bad), "{bad:?} in:\n{tree}");
    }
    assert_eq!(
        tree.matches("[docker container cache-redis]").count(),
        1,
        "bob's cgroup named after root's container is not given its name:\n{tree}"
    );
    // The real shim (root's) is still labelled.
    assert!(
        tree.contains("5010 [shim of container 2c30eea7181c]"),
        "{tree}"
    );

    let out = common::cgtree()
        .args(["--root", host, "--json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::validate(&doc).unwrap();
    let all = labels(&doc);
    assert!(
        all.iter()
            .all(|(_, l)| !l.contains(SPOOF) && !l.contains("started")),
        "{all:#?}"
    );
    assert!(
        !all.iter().any(|(who, _)| who == "7001" || who == "7002"),
        "{all:#?}"
    );

    for (pid, bad) in [
        ("7001", format!("conmon of {SPOOF}")),
        ("7002", "shim".to_string()),
        ("900", "podman".to_string()),
        ("7003", "cache-redis".to_string()),
    ] {
        let out = common::cgtree()
            .args(["--root", host, "pid", pid])
            .output()
            .unwrap();
        let (o, e) = text(&out);
        let what = o.lines().find(|l| l.contains("what:")).unwrap_or_default();
        assert!(!what.contains(&bad), "pid {pid}: {what}\n{o}\n{e}");
    }
}

/// Kills a process this test started (by its PID) when dropped.
struct KillOnDrop(Vec<u32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// A root-only directory (mode 0700) for the files the user must not reach; removed on
/// drop.
fn root_only_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("cgtree-rootonly-")
        .tempdir()
        .unwrap();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o700)).unwrap();
    d
}

/// Starts, as `u`, a process whose command line is `argv0 args...` (argv0 a symlink in
/// the user's home to `/bin/sh`, running `script`): a fake monitor. Returns its PID.
fn fake_monitor(u: &mut ThrowawayUser, argv0: &str, script: &str, args: &[&str]) -> u32 {
    let exe = u.path(argv0);
    let sh = u.path(format!("{argv0}.sh"));
    fs::write(&sh, script).unwrap();
    fs::set_permissions(&sh, fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::chown(&sh, Some(u.uid), Some(u.gid)).unwrap();
    symlink("/bin/sh", &exe).unwrap();
    let mut cmd = u.command(&exe);
    cmd.arg(&sh).args(args).stdin(Stdio::piped());
    u.spawn(&mut cmd)
}

fn wait_for_file(p: &Path) -> String {
    // Turns a hang into a failure; the content appears as soon as the script runs.
    for _ in 0..1000 {
        if let Ok(s) = fs::read_to_string(p) {
            if s.ends_with('\n') {
                return s;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} never written", p.display());
}

/// Rule 3, live: the user's fake conmon, a real container of their own in their own
/// storage, names as its pidfile a root-only file (mode 0600 in a 0700 root directory)
/// that holds the PID of its own child. Before the fix root read that file and its
/// content (the PID) showed in the tree as `[podman container totally-legit-db, outside
/// its cgroup]`: proof that root opened a file the user cannot. Now only a pidfile in
/// the runtime's own directory is opened, so nothing is labelled from it.
#[test]
fn live_fake_conmons_pidfile_outside_the_runtime_dir_is_never_read() {
    let Some(mount) = common::live_mount("attack_identity pidfile") else {
        return;
    };
    // Declared first, dropped last: the user's processes (killed when `u` and `_kill`
    // drop) must be gone before the cgroup is removed, also when an assertion fails.
    let mut live = common::LiveTree::default();
    let Some(mut u) = ThrowawayUser::create("attack_identity pidfile") else {
        return;
    };
    let id = "5a".repeat(32);
    // The user's own storage names the container: the conmon's role itself is genuine.
    let store = u.path(".local/share/containers/storage/overlay-containers");
    u.sh(&format!(
        "mkdir -p {s} && printf '[{{\"id\":\"{id}\",\"names\":[\"{SPOOF}\"]}}]' > {s}/containers.json",
        s = store.display()
    ));
    let secret_dir = root_only_dir();
    let secret = secret_dir.path().join("pidfile");
    let child_file = u.path("child");
    let script = format!(
        "sleep 600 &\necho $! > {}\nread x\nkill $!\n",
        child_file.display()
    );
    let conmon = fake_monitor(
        &mut u,
        "conmon",
        &script,
        &["-c", &id, "-n", SPOOF, "-p", secret.to_str().unwrap()],
    );
    let child: u32 = wait_for_file(&child_file).trim().parse().unwrap();
    let _kill = KillOnDrop(vec![child]);
    // Both in a cgroup of this test, and cgtree started there: other tests may be
    // building hostile trees elsewhere on this host at the same time.
    let name = common::unique_cgroup_name("pidfile");
    let top = mount.join(&name);
    live.mkdir(&top);
    for pid in [conmon, child] {
        fs::write(top.join("cgroup.procs"), pid.to_string()).unwrap();
    }
    let start = format!("/{name}");
    fs::write(&secret, format!("{child}\n")).unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    // The user cannot read it.
    let peek = u
        .command("cat")
        .arg(&secret)
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(
        !peek.status.success(),
        "the user must not be able to read it"
    );

    let out = common::cgtree().args(["--full", &start]).output().unwrap();
    let (tree, err) = text(&out);
    let line = |pid: u32| {
        tree.lines()
            .find(|l| l.contains(&format!("─{pid} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line(conmon).contains(&format!("[conmon of {SPOOF}]")),
        "the user's own conmon keeps its label:\n{tree}\n{err}"
    );
    assert!(
        !line(child).contains("outside its cgroup"),
        "root read the pidfile the user named: {}\n{err}",
        line(child)
    );
    let out = common::cgtree().args(["--json", &start]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = labels(&doc);
    assert!(
        !all.iter()
            .any(|(who, l)| who == &child.to_string() && l.contains("started")),
        "{all:#?}"
    );
    // (`cgtree pid CHILD` may still say "started by its conmon": that comes from its
    // parent, the user's own conmon of the user's own container, not from the file.)
    drop(_kill);
    drop(u);
    drop(live);
}

/// Rule 4, live: the user's fake conmon claims a container that has no state of theirs
/// (a root cgroup `libpod-<id>.scope` holding a root process) and names, in a pidfile of
/// their own, another root process; their fake shim claims root's containerd namespace.
/// Before the fix the root cgroup was `[podman container totally-legit-db]`, the root
/// process `[..., outside its cgroup]`, the shim `[shim of container ...]`.
#[test]
fn live_fake_conmon_and_shim_label_nothing_of_roots() {
    let Some(mount) = common::live_mount("attack_identity spoof") else {
        return;
    };
    // Declared first, dropped last: the user's processes (killed when `u` drops) must be
    // gone before the cgroup is removed, also when an assertion fails.
    let mut live = common::LiveTree::default();
    let Some(mut u) = ThrowawayUser::create("attack_identity spoof") else {
        return;
    };
    let id = "7b".repeat(32);
    let top = mount.join(common::unique_cgroup_name("spoof"));
    live.mkdir(&top);
    let scope = top.join(format!("libpod-{id}.scope"));
    live.mkdir(&scope);
    let in_scope = live.spawn_sleep();
    fs::write(scope.join("cgroup.procs"), in_scope.to_string()).unwrap();
    let other = live.spawn_sleep();
    fs::write(top.join("cgroup.procs"), other.to_string()).unwrap();
    let f = u.path("F");
    fs::write(&f, format!("{other}\n")).unwrap();
    std::os::unix::fs::chown(&f, Some(u.uid), Some(u.gid)).unwrap();
    let conmon = fake_monitor(
        &mut u,
        "conmon",
        "read x\n",
        &["-c", &id, "-n", SPOOF, "-p", f.to_str().unwrap()],
    );
    let shim = fake_monitor(
        &mut u,
        "containerd-shim-runc-v2",
        "read x\n",
        &["-namespace", "moby", "-id", &id, "-address", "/run/x.sock"],
    );
    // cgtree starts at this test's cgroup: other tests may be building hostile trees
    // elsewhere on this host at the same time.
    for pid in [conmon, shim] {
        fs::write(top.join("cgroup.procs"), pid.to_string()).unwrap();
    }
    let start = format!("/{}", top.file_name().unwrap().to_str().unwrap());

    let out = common::cgtree().args(["--full", &start]).output().unwrap();
    let (tree, err) = text(&out);
    for bad in [
        format!("[podman container {SPOOF}"),
        format!("conmon of {SPOOF}"),
        "outside its cgroup".to_string(),
        format!("{shim} [shim"),
        format!("{conmon} [conmon"),
    ] {
        assert!(!tree.contains(&bad), "{bad:?} in:\n{tree}\n{err}");
    }
    let out = common::cgtree().args(["--json", &start]).output().unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = labels(&doc);
    for (who, l) in &all {
        assert!(!l.contains(SPOOF), "{who}: {l}");
        for pid in [conmon, shim, other] {
            assert_ne!(who, &pid.to_string(), "{l}");
        }
    }
    for pid in [conmon, shim, other, in_scope] {
        let out = common::cgtree()
            .args(["pid", &pid.to_string()])
            .output()
            .unwrap();
        let (o, e) = text(&out);
        for l in o
            .lines()
            .filter(|l| l.contains("what:") || l.contains("container:"))
        {
            assert!(
                !l.contains(SPOOF)
                    && !l.contains("conmon of")
                    && !l.contains("shim")
                    && !l.contains("started"),
                "pid {pid}: {l}\n{o}\n{e}"
            );
        }
    }
    drop(u);
    drop(live);
}

/// Rule 2/3, live: the user links their podman storage's `containers.json` and their
/// `/run/user/UID/crun/<id>/status` to a root-only JSON file holding a string. Before
/// the fix root followed the links and serde_json's error quoted the string
/// (`invalid type: string "TOPSECRET..."`) on stderr and in `--json`. Now the links are
/// refused and no message quotes any content.
#[test]
fn live_users_links_to_root_only_json_leak_nothing() {
    let Some(mount) = common::live_mount("attack_identity links") else {
        return;
    };
    let Some(mut u) = ThrowawayUser::create("attack_identity links") else {
        return;
    };
    let marker = format!("TOPSECRET-{}", std::process::id());
    let secret_dir = root_only_dir();
    let secret = secret_dir.path().join("secret.json");
    fs::write(&secret, format!("\"{marker} root:$6$notahash\"")).unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let id = "3c".repeat(32);
    let run = u.runtime_dir();
    let s = secret.display();
    u.sh(&format!(
        "mkdir -p .local/share/containers/storage/overlay-containers && \
         ln -s {s} .local/share/containers/storage/overlay-containers/containers.json && \
         mkdir -p {run}/crun/{id} && ln -s {s} {run}/crun/{id}/status && \
         mkdir -p {run}/runc/{id} && ln -s {s} {run}/runc/{id}/state.json && \
         mkdir -p .local/share/docker/containers/{id} && \
         ln -s {s} .local/share/docker/containers/{id}/config.v2.json",
        run = run.display()
    ));
    // A podman-shaped container in the user's slice (their storage and runtime
    // directory are read) and one outside any slice (every home is searched).
    let mut live = common::LiveTree::default();
    let top = mount.join(common::unique_cgroup_name("links"));
    live.mkdir(&top);
    let slice = top.join(format!("user-{}.slice", u.uid));
    live.mkdir(&slice);
    for dir in [
        slice.join(format!("libpod-{id}.scope")),
        top.join(format!("libpod-{}.scope", "4d".repeat(32))),
    ] {
        live.mkdir(&dir);
        let pid = live.spawn_sleep();
        fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
    }
    let sleeper = *live.children.first().map(|c| c.id()).as_ref().unwrap();
    // cgtree starts at this test's cgroup: other tests may be building hostile trees
    // elsewhere on this host at the same time.
    let start = format!("/{}", top.file_name().unwrap().to_str().unwrap());

    for args in [
        vec!["--full".to_string(), start.clone()],
        vec!["--json".to_string(), start.clone()],
        vec!["pid".to_string(), sleeper.to_string()],
        vec!["pid".to_string(), "--json".to_string(), sleeper.to_string()],
    ] {
        let out = common::cgtree().args(&args).output().unwrap();
        let (o, e) = text(&out);
        assert!(
            !o.contains("TOPSECRET") && !e.contains("TOPSECRET"),
            "cgtree {args:?} printed the root-only file:\nstdout:\n{o}\nstderr:\n{e}"
        );
        assert!(!e.contains("invalid type"), "{e}");
    }
    drop(u);
    drop(live);
}
