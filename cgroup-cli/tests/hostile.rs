//! Hostile container state: a container controls the files cgtree reads through its
//! root. Symlinks out of the root, FIFOs, huge files, deeply nested JSON, invalid UTF-8
//! and terminal escapes in names must be refused or escaped, never followed, blocked on,
//! read whole, or printed raw.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::time::Duration;

const KIND_ID: &str = "a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38";
const LPP_SANDBOX: &str = "4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817";
const TASKS: &str = "proc/70678/root/run/containerd/io.containerd.runtime.v2.task/k8s.io";

fn bundle_of(root: &Path, container_dir_prefix: &str) -> std::path::PathBuf {
    let dir = root.join(TASKS);
    let entry = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(container_dir_prefix)
        })
        .unwrap();
    entry.join("config.json")
}

/// Runs cgtree with a deadline, so that a blocking read fails the test instead of hanging.
fn run_bounded(root: &Path, args: &[&str]) -> (String, String, i32) {
    let mut cmd = common::cgtree();
    cmd.arg("--root").arg(root).args(args);
    let (out, killed) = common::run_with_deadline(&mut cmd, Duration::from_secs(20));
    assert!(!killed, "cgtree blocked on hostile state");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn hostile_state_is_refused_and_nothing_outside_the_root_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("host");
    common::copy_tree(
        &common::repo_root().join("fixtures/wsl-rootless-podman-kind"),
        &root,
    );
    // A file outside the node's root that a symlink inside it points to.
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    let leak = r#"{"annotations": {"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-name": "LEAKED-FROM-HOST", "io.kubernetes.cri.sandbox-namespace": "LEAKED"}}"#;
    fs::write(outside.join("config.json"), leak).unwrap();
    fs::write(outside.join("hostname"), "LEAKED-HOSTNAME\n").unwrap();

    // 1. The local-path-provisioner sandbox bundle: an absolute symlink to the host file.
    let sandbox = root.join(TASKS).join(LPP_SANDBOX).join("config.json");
    fs::remove_file(&sandbox).unwrap();
    symlink(outside.join("config.json"), &sandbox).unwrap();
    // 2. The node's hostname: a relative symlink climbing out of the root.
    let hostname = root.join("proc/70678/root/etc/hostname");
    fs::remove_file(&hostname).unwrap();
    symlink(
        "../../../../../../../../../../../../outside/hostname",
        &hostname,
    )
    .unwrap();
    // 3. The nginx container's bundle: a 2 GiB sparse file.
    let big = bundle_of(&root, "d7f5e7ad2a98");
    fs::remove_file(&big).unwrap();
    fs::File::create(&big).unwrap().set_len(2 << 30).unwrap();
    // 4. The kube-proxy container's bundle: a FIFO nobody writes to.
    let fifo = bundle_of(&root, "67484f1159e6");
    fs::remove_file(&fifo).unwrap();
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    // 5. The coredns container's bundle: JSON nested 100,000 levels deep in a field
    // cgtree skips (skipping recurses too).
    let deep = bundle_of(&root, "ba8b8762fa83");
    let annotations = r#""annotations": {"io.kubernetes.cri.container-type": "container", "io.kubernetes.cri.container-name": "deep-but-fine"}"#;
    fs::write(
        &deep,
        format!(
            "{{\"process\": {}{}, {annotations}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    )
    .unwrap();
    let unclosed = bundle_of(&root, "8ec445afa790");
    fs::write(&unclosed, format!("{{\"process\": {}", "[".repeat(100_000))).unwrap();
    // 6. The etcd container's bundle: invalid UTF-8 inside a JSON string.
    let bad = bundle_of(&root, "c83bff2bd81b");
    fs::write(
        &bad,
        b"{\"annotations\": {\"io.kubernetes.cri.container-name\": \"\xff\xfe\"}}",
    )
    .unwrap();
    // 6b. The kube-scheduler container's whole bundle directory: a symlink to a host
    //     directory holding a config.json that names a pod.
    let sched_dir = bundle_of(&root, "8f7862bfc1a6")
        .parent()
        .unwrap()
        .to_path_buf();
    fs::remove_dir_all(&sched_dir).unwrap();
    fs::create_dir_all(outside.join("bundle")).unwrap();
    fs::write(
        outside.join("bundle/config.json"),
        leak.replace("sandbox", "container"),
    )
    .unwrap();
    symlink(outside.join("bundle"), &sched_dir).unwrap();
    // 7. The podman storage: a container name carrying terminal escapes, bidi override and a newline.
    let store =
        root.join("home/massi/.local/share/containers/storage/overlay-containers/containers.json");
    let evil = serde_json::json!([{"id": KIND_ID, "names": ["kind\u{1b}[31m-evil\u{202e}\nname"], "metadata": "{}"}]);
    fs::write(&store, evil.to_string()).unwrap();
    fs::remove_file(root.join("proc/70650/cmdline")).unwrap(); // conmon's -n would name it too

    let (out, err, code) = run_bounded(&root, &["--full"]);
    assert_eq!(
        code, 1,
        "errors are reported, the tree is printed\nstdout:\n{out}\nstderr:\n{err}"
    );
    assert!(
        !out.contains("LEAKED") && !err.contains("LEAKED"),
        "read outside the container root:\n{out}\n{err}"
    );
    assert!(
        out.contains("cri-containerd-8f7862bfc1a6a5a0a43a225ebd388cc4544e03a83edec31f16ac82bc8b3f60c3.scope [container kube-scheduler]"),
        "the symlinked bundle directory is not followed; the name comes from kubelet's log names inside the root:\n{out}"
    );
    // The pod is still named, from its container's bundle; the node from its container.
    assert!(
        out.contains("[pod local-path-storage/local-path-provisioner-7577fdbbfb-zjdbq]"),
        "{out}"
    );
    // Refusals are on stderr with the file's path and reason.
    assert!(
        err.contains(&format!("{}: 2147483648 bytes, larger than", big.display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: not a regular file, not read", fifo.display())),
        "{err}"
    );
    assert!(
        out.contains("[container deep-but-fine]"),
        "deep nesting is parsed without recursion:\n{out}"
    );
    // JSON errors say where and what kind, never the bytes found there.
    assert!(
        err.contains(&format!(
            "{}: invalid JSON at line 1 column 100012 (ends too early)",
            unclosed.display()
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: invalid JSON at line 1 column 55 (not valid JSON)",
            bad.display()
        )),
        "{err}"
    );
    // The hostile name is escaped in the tree and the terminal never sees the raw bytes.
    // (Its storage entry names no image: no kind evidence, a node no tool claims.)
    assert!(
        out.contains("[podman container kind\\x1b[31m-evil\\u{202e}\\nname · kubernetes node]"),
        "{out}"
    );
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}') && !err.contains('\u{1b}'));

    // JSON keeps the exact name.
    let (json, _, code) = run_bounded(&root, &["--json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    common::validate(&v).unwrap();
    let mut stack = vec![&v["cgroup"]];
    let mut name = None;
    while let Some(n) = stack.pop() {
        if n["identity"]["id"] == KIND_ID {
            name = n["identity"]["name"].as_str().map(str::to_string);
        }
        stack.extend(n["children"].as_array().unwrap());
    }
    assert_eq!(name.as_deref(), Some("kind\u{1b}[31m-evil\u{202e}\nname"));

    // cgtree pid goes through the same confined reads.
    let (out, err, _) = run_bounded(&root, &["pid", "74284"]);
    assert!(
        !out.contains("LEAKED") && !err.contains("LEAKED"),
        "{out}\n{err}"
    );
    assert!(
        out.contains("  what:      containerd shim of sandbox 4796ab87414f\n"),
        "{out}"
    );
}
