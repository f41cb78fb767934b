//! `--json` output: validated against the schema of docs/json.md and decoded into typed
//! structs, so that a formatting change and a schema change fail in different places.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use base64::Engine;
use serde::Deserialize;
use std::fs;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    version: u32,
    host_root: serde_json::Value,
    mount: Mount,
    cgroup: Node,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Mount {
    path: String,
    root: String,
    options: Vec<String>,
    source: String,
    mountinfo_line: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Node {
    name: serde_json::Value,
    path: serde_json::Value,
    id: Option<u64>,
    parent_id: Option<u64>,
    identity: Option<Identity>,
    #[serde(rename = "type")]
    cgroup_type: Option<String>,
    controllers: Option<Vec<String>>,
    subtree_control: Option<Vec<String>>,
    populated: Option<bool>,
    processes: Option<Vec<Process>>,
    foreign_pids: u32,
    threads: Option<Vec<Thread>>,
    truncated: bool,
    errors: Vec<NodeError>,
    children: Vec<Node>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Process {
    pid: u32,
    cmdline: Vec<serde_json::Value>,
    comm: Option<serde_json::Value>,
    kernel_thread: bool,
    role: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    kind: String,
    runtime: Option<String>,
    id: Option<String>,
    name: Option<String>,
    image: Option<String>,
    rootless: Option<bool>,
    user: Option<u32>,
    kind_node: Option<KindNode>,
    pod: Option<Pod>,
    qos: Option<String>,
    sandbox: bool,
    // Decoded (with deny_unknown_fields) to check the documented shape; not asserted on.
    #[allow(dead_code)]
    #[serde(default)]
    node: Option<serde_json::Value>,
    #[allow(dead_code)]
    #[serde(default)]
    diagnosis: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    namespace: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    seen: Option<String>,
    #[allow(dead_code)]
    #[serde(default)]
    tool: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct KindNode {
    name: String,
    cluster: Option<String>,
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct Pod {
    namespace: Option<String>,
    name: Option<String>,
    uid: Option<String>,
    #[serde(rename = "static")]
    is_static: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Thread {
    tid: u32,
    comm: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeError {
    file: String,
    kind: String,
    errno: Option<i32>,
    line: Option<u32>,
    message: String,
}

impl Node {
    fn find(&self, path: &str) -> Option<&Node> {
        if self.path == path {
            return Some(self);
        }
        self.children.iter().find_map(|c| c.find(path))
    }
    fn pids(&self) -> Vec<u32> {
        self.processes
            .as_ref()
            .map(|p| p.iter().map(|p| p.pid).collect())
            .unwrap_or_default()
    }
    fn process(&self, pid: u32) -> &Process {
        self.processes
            .as_ref()
            .and_then(|ps| ps.iter().find(|p| p.pid == pid))
            .unwrap_or_else(|| panic!("pid {pid} in {}", self.path))
    }
}

fn decode(text: &str) -> Doc {
    let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    common::validate(&value).unwrap_or_else(|e| panic!("schema violations:\n{e}"));
    let doc: Doc = serde_json::from_value(value).expect("typed decode");
    assert_eq!(doc.version, 1);
    doc
}

const KIND: &str = "/user.slice/user-1000.slice/user@1000.service/app.slice/a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38";

#[test]
fn every_json_golden_validates_against_docs_schema() {
    let golden = common::repo_root().join("cgroup-cli/tests/golden");
    let mut n = 0;
    for scenario in fs::read_dir(golden).unwrap() {
        for f in fs::read_dir(scenario.unwrap().path()).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_none_or(|e| e != "args") {
                continue;
            }
            let args = fs::read_to_string(&f).unwrap();
            if !args.lines().any(|a| a == "--json" || a == "--jsonl") {
                continue;
            }
            let out = fs::read_to_string(f.with_extension("stdout")).unwrap();
            if args.lines().next() == Some("provision") {
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                common::validate_def(&v, "provision_doc")
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            } else if args.lines().next() == Some("userns") {
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                common::validate_def(&v, "userns_doc")
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            } else if args.lines().next() == Some("ids") {
                for line in out.lines() {
                    let v: serde_json::Value = serde_json::from_str(line).unwrap();
                    common::validate_def(&v, "id_index_line")
                        .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                }
            } else if args.lines().next() == Some("pid") {
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                let items = match v.as_array() {
                    Some(a) => a.clone(),
                    None => vec![v],
                };
                for item in &items {
                    common::validate_trace(item).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                }
            } else {
                decode(&out);
            }
            n += 1;
        }
    }
    assert!(n >= 3, "only {n} JSON golden cases");
}

#[test]
fn wsl_fixture_json_has_the_guide_facts() {
    let (out, err, code) = common::run_fixture("wsl-rootless-podman-kind", &["--json"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let doc = decode(&out);
    assert_eq!(doc.mount.path, "/sys/fs/cgroup");
    assert_eq!(doc.mount.root, "/");
    assert_eq!(doc.mount.source, "mountinfo");
    assert_eq!(doc.mount.mountinfo_line, Some(2));
    assert!(doc.mount.options.contains(&"nsdelegate".to_string()));
    assert_eq!(doc.host_root, "fixtures/wsl-rootless-podman-kind");
    let node = doc.cgroup.find(KIND).expect("kind node cgroup");
    // The guide: "a normal domain cgroup and no processes are assigned to it".
    assert_eq!(node.cgroup_type.as_deref(), Some("domain"));
    assert_eq!(node.pids(), Vec::<u32>::new());
    assert_eq!(node.populated, Some(true));
    let containerd = doc
        .cgroup
        .find(&format!("{KIND}/system.slice/containerd.service"))
        .unwrap();
    let guide = [
        70837, 71711, 71731, 71755, 71798, 73781, 73816, 74237, 74259, 74284,
    ];
    for pid in guide {
        assert!(
            containerd.pids().contains(&pid),
            "{pid} in containerd.service"
        );
    }
    let shim = containerd.process(74284);
    assert_eq!(
        shim.cmdline[4],
        "4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817"
    );
    assert!(!shim.kernel_thread && shim.comm.is_none());
    let user = doc
        .cgroup
        .find("/user.slice/user-1000.slice/user@1000.service")
        .unwrap();
    assert_eq!(
        user.controllers.as_deref(),
        Some(&["cpuset", "cpu", "io", "memory", "pids"].map(String::from)[..])
    );
    assert_eq!(doc.cgroup.name, "/");
    assert_eq!(doc.cgroup.cgroup_type, None);
    assert!(doc.cgroup.errors.is_empty() && !doc.cgroup.truncated && doc.cgroup.foreign_pids == 0);
}

#[test]
fn arch_fixture_json_has_the_guide_facts() {
    let (out, _, code) = common::run_fixture("arch-docker-kind", &["--json"]);
    assert_eq!(code, 0);
    let doc = decode(&out);
    let node = "/system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope";
    assert_eq!(
        doc.cgroup
            .find(&format!("{node}/kubelet.slice/kubelet.service"))
            .unwrap()
            .pids(),
        vec![44913]
    );
    assert_eq!(
        doc.cgroup
            .find(&format!("{node}/init.scope"))
            .unwrap()
            .pids(),
        vec![43996]
    );
    assert_eq!(
        doc.cgroup
            .find("/system.slice/docker.service")
            .unwrap()
            .pids(),
        vec![1368, 43961]
    );
}

#[test]
fn odd_names_json_reports_errors_threads_and_types() {
    let (out, err, code) = common::run_fixture("odd-names", &["--json", "--all", "--threads"]);
    assert_eq!(code, 1, "{err}");
    let doc = decode(&out);
    let bad = doc.cgroup.find("/bad-procs").unwrap();
    assert_eq!(
        bad.pids(),
        vec![920, 921],
        "the walk goes on past the bad line"
    );
    assert_eq!(bad.errors.len(), 1);
    let e = &bad.errors[0];
    assert_eq!((e.kind.as_str(), e.line, e.errno), ("parse", Some(2), None));
    assert_eq!(
        e.file,
        "fixtures/odd-names/sys/fs/cgroup/bad-procs/cgroup.procs"
    );
    assert!(e.message.contains("line 2"), "{}", e.message);
    let pool = doc.cgroup.find("/threaded-app/pool-a").unwrap();
    assert_eq!(pool.cgroup_type.as_deref(), Some("threaded"));
    assert!(
        pool.processes.is_none(),
        "cgroup.procs is not read in a threaded cgroup"
    );
    let tids: Vec<u32> = pool
        .threads
        .as_ref()
        .unwrap()
        .iter()
        .map(|t| t.tid)
        .collect();
    assert_eq!(tids, vec![911, 912]);
    assert_eq!(
        pool.threads.as_ref().unwrap()[0].comm.as_deref(),
        Some("pool-a-0")
    );
    assert_eq!(
        doc.cgroup
            .find("/threaded-app")
            .unwrap()
            .cgroup_type
            .as_deref(),
        Some("domain threaded")
    );
    assert_eq!(
        doc.cgroup.find("/broken").unwrap().cgroup_type.as_deref(),
        Some("domain invalid")
    );
    let empty = doc.cgroup.find("/empty.slice").unwrap();
    assert_eq!(empty.populated, Some(false));
    assert_eq!(empty.subtree_control.as_deref(), Some(&[][..]));
    assert!(doc.cgroup.find("/a:b:c").is_some());
    assert!(doc
        .cgroup
        .find("/machine-lxc\\x2d2293906\\x2dlibvirt\\x2dcontainer.scope")
        .is_some());
}

#[test]
fn non_utf8_and_control_bytes_are_escaped_in_tree_and_exact_in_json() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let name: &[u8] = b"evil\xff\x1b[31mred\xe2\x80\xaename";
    let cg = root
        .join("sys/fs/cgroup")
        .join(std::ffi::OsStr::from_bytes(name));
    fs::create_dir_all(&cg).unwrap();
    for f in ["cgroup.controllers", "cgroup.subtree_control"] {
        fs::write(root.join("sys/fs/cgroup").join(f), "").unwrap();
        fs::write(cg.join(f), "").unwrap();
    }
    fs::write(root.join("sys/fs/cgroup/cgroup.procs"), "").unwrap();
    fs::write(cg.join("cgroup.type"), "domain\n").unwrap();
    fs::write(cg.join("cgroup.procs"), "4242\n").unwrap();
    fs::create_dir_all(root.join("proc/4242")).unwrap();
    let cmdline: &[u8] = b"/bin/x\0--title=\x1b]0;pwned\x07\0line\nbreak\0\xc3\x28\0";
    fs::write(root.join("proc/4242/cmdline"), cmdline).unwrap();

    let out = common::output_ok(common::cgtree().arg("--root").arg(root));
    let text = String::from_utf8(out.stdout).expect("the tree view is always UTF-8");
    assert!(
        !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    assert!(
        text.contains("evil\\xff\\x1b[31mred\\u{202e}name"),
        "{text}"
    );
    assert!(
        text.contains("4242 /bin/x --title=\\x1b]0;pwned\\x07 line\\nbreak \\xc3("),
        "{text}"
    );

    let out = common::cgtree()
        .arg("--root")
        .arg(root)
        .arg("--json")
        .output()
        .unwrap();
    let value: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    common::validate(&value).unwrap();
    let child = &value["cgroup"]["children"][0];
    let b64 = child["name"]["bytes"]
        .as_str()
        .expect("non-UTF-8 name as bytes");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap(),
        name
    );
    let args = &child["processes"][0]["cmdline"];
    assert_eq!(
        args[1], "--title=\x1b]0;pwned\x07",
        "UTF-8 arguments keep their exact bytes"
    );
    assert_eq!(args[2], "line\nbreak");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(args[3]["bytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, b"\xc3\x28");
}

#[test]
fn wsl_fixture_json_identifies_the_node_pods_and_shims() {
    let (out, err, code) = common::run_fixture("wsl-rootless-podman-kind", &["--json"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let doc = decode(&out);
    let node = doc
        .cgroup
        .find(KIND)
        .unwrap()
        .identity
        .as_ref()
        .expect("the node container is identified");
    assert_eq!(node.kind, "podman-container");
    assert_eq!(node.runtime.as_deref(), Some("podman"));
    assert_eq!(node.name.as_deref(), Some("kind-control-plane"));
    assert_eq!(
        node.image.as_deref(),
        Some("docker.io/kindest/node:v1.29.2")
    );
    assert_eq!((node.rootless, node.user), (Some(true), Some(1000)));
    assert_eq!(
        node.kind_node,
        Some(KindNode {
            name: "kind-control-plane".into(),
            cluster: Some("kind".into())
        })
    );
    let lpp_pod = format!("{KIND}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod9fbcc2e9_dbfa_1be6_d13f_64f4a56ec903.slice");
    let pod = doc
        .cgroup
        .find(&lpp_pod)
        .unwrap()
        .identity
        .as_ref()
        .unwrap();
    assert_eq!(pod.kind, "kube-pod");
    assert_eq!(pod.qos.as_deref(), Some("besteffort"));
    assert_eq!(
        pod.pod,
        Some(Pod {
            namespace: Some("local-path-storage".into()),
            name: Some("local-path-provisioner-7577fdbbfb-zjdbq".into()),
            uid: Some("9fbcc2e9-dbfa-1be6-d13f-64f4a56ec903".into()),
            is_static: false,
        })
    );
    let ctr = doc.cgroup.find(&format!("{lpp_pod}/cri-containerd-0a98af2598be4ef8557dfb59169ca910cb173be34ad63e20f3706c21f88614ea.scope")).unwrap();
    let ci = ctr.identity.as_ref().unwrap();
    assert_eq!(
        (ci.kind.as_str(), ci.name.as_deref(), ci.runtime.as_deref()),
        (
            "kube-container",
            Some("local-path-provisioner"),
            Some("containerd")
        )
    );
    assert!(!ci.sandbox && ci.id.as_deref().unwrap().starts_with("0a98af2598be4"));
    let sandbox = doc.cgroup.find(&format!("{lpp_pod}/cri-containerd-4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817.scope")).unwrap();
    assert!(sandbox.identity.as_ref().unwrap().sandbox);
    let containerd = doc
        .cgroup
        .find(&format!("{KIND}/system.slice/containerd.service"))
        .unwrap();
    assert_eq!(
        containerd.identity.as_ref().unwrap().name.as_deref(),
        Some("containerd")
    );
    let shim = containerd.process(74284);
    let role = shim.role.as_ref().unwrap();
    assert_eq!(role["kind"], "shim");
    assert_eq!(
        role["pod"]["name"],
        "local-path-provisioner-7577fdbbfb-zjdbq"
    );
    assert_eq!(role["containers"][0]["name"], "local-path-provisioner");
    assert_eq!(
        containerd.processes.as_ref().unwrap()[0].role,
        None,
        "containerd itself serves no pod"
    );
    let init = doc
        .cgroup
        .find(&format!("{KIND}/init.scope"))
        .unwrap()
        .identity
        .as_ref()
        .unwrap();
    assert_eq!(
        (init.kind.as_str(), init.name.as_deref()),
        ("init", Some("kind-control-plane"))
    );
    let user = doc
        .cgroup
        .find("/user.slice/user-1000.slice")
        .unwrap()
        .identity
        .as_ref()
        .unwrap();
    assert_eq!(
        (user.kind.as_str(), user.user, user.name.as_deref()),
        ("user-slice", Some(1000), Some("massi"))
    );
}

/// Every node of `n` (pre-order) with its parent's id.
fn nodes_with_parent<'a>(n: &'a Node, parent: Option<u64>, out: &mut Vec<(&'a Node, Option<u64>)>) {
    out.push((n, parent));
    for c in &n.children {
        nodes_with_parent(c, n.id, out);
    }
}

/// The inode of `<root>/<mount.path>/<cgroup path>`, as `stat -c %i` gives it.
fn inode(root: &std::path::Path, mount: &str, cgroup: &str) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let dir = root
        .join(mount.trim_start_matches('/'))
        .join(cgroup.trim_start_matches('/'));
    fs::symlink_metadata(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .ino()
}

/// Issue #15: each node's `id` is the inode of its directory (here, the fixture's), its
/// `parent_id` its parent's `id` (the root's is null), on every fixture whose JSON has a
/// golden; and a subtree's start cgroup names the cgroup above it.
#[test]
fn json_ids_are_the_directory_inodes() {
    let mut checked = 0;
    for scenario in [
        "docker",
        "wsl-rootless-podman-kind",
        "kind-static-pods",
        "odd-names",
        "lxc",
    ] {
        let (out, _, _) = common::run_fixture(scenario, &["--json", "-a"]);
        let doc = decode(&out);
        let root = common::repo_root().join("fixtures").join(scenario);
        let mut all = Vec::new();
        nodes_with_parent(&doc.cgroup, None, &mut all);
        assert_eq!(doc.cgroup.parent_id, None, "{scenario}: the hierarchy root");
        for (n, parent) in &all {
            let path = n.path.as_str().unwrap();
            let Some(id) = n.id else {
                // Only a directory that cannot be opened has none.
                assert!(!n.errors.is_empty(), "{scenario} {path}: no id, no error");
                continue;
            };
            assert_eq!(id, inode(&root, &doc.mount.path, path), "{scenario} {path}");
            assert_eq!(n.parent_id, *parent, "{scenario} {path}");
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked} ids checked");
    // A subtree: the start cgroup's parent_id is /system.slice's parent's (/) id.
    let (out, _, _) = common::run_fixture("docker", &["--json", "-a", "/system.slice"]);
    let doc = decode(&out);
    let root = common::repo_root().join("fixtures/docker");
    assert_eq!(
        doc.cgroup.id,
        Some(inode(&root, &doc.mount.path, "/system.slice"))
    );
    assert_eq!(
        doc.cgroup.parent_id,
        Some(inode(&root, &doc.mount.path, "/"))
    );
}

/// `cgtree ids --jsonl`: every line validates against `#/$defs/id_index_line`, and the
/// index holds exactly the nodes of `--json -a`, with the same ids, parents, paths and
/// identities.
#[test]
fn ids_jsonl_is_the_tree_json_index() {
    for scenario in ["wsl-rootless-podman-kind", "kind-static-pods", "docker"] {
        let (tree, _, code) = common::run_fixture(scenario, &["--json", "-a"]);
        assert_eq!(code, 0, "{scenario}");
        let tree: serde_json::Value = serde_json::from_str(&tree).unwrap();
        let mut want = Vec::new();
        let mut stack = vec![&tree["cgroup"]];
        while let Some(n) = stack.pop() {
            want.push(serde_json::json!({
                "id": n["id"], "parent_id": n["parent_id"], "name": n["name"],
                "path": n["path"], "identity": n["identity"],
            }));
            let kids = n["children"].as_array().unwrap();
            stack.extend(kids.iter().rev());
        }
        let (lines, err, code) = common::run_fixture(scenario, &["ids", "--jsonl"]);
        assert_eq!(code, 0, "{scenario}: {err}");
        let got: Vec<serde_json::Value> = lines
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                common::validate_def(&v, "id_index_line")
                    .unwrap_or_else(|e| panic!("{scenario}: {e}\n{l}"));
                v
            })
            .collect();
        assert_eq!(got, want, "{scenario}");
        assert!(got.len() > 5, "{scenario}");
        // Plain text: `ID PATH [label]`, one per line, the same ids and paths.
        let (text, _, _) = common::run_fixture(scenario, &["ids"]);
        let pairs: Vec<(u64, String)> = text
            .lines()
            .map(|l| {
                let (id, rest) = l.split_once(' ').unwrap();
                let path = rest.split(" [").next().unwrap();
                (id.parse().unwrap(), path.to_string())
            })
            .collect();
        let want_pairs: Vec<(u64, String)> = want
            .iter()
            .map(|v| {
                (
                    v["id"].as_u64().unwrap(),
                    v["path"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(pairs, want_pairs, "{scenario}");
    }
}

/// `cgtree id` on a fixture (found by the walk: no handles there) answers as
/// `cgtree pid` does for a process of that cgroup: the same chain with the same
/// identities and (unless the process is a monitor, placed by its own command line) the
/// same container, kind node, node, pod and pod container; its JSON
/// validates against `#/$defs/cgroup_trace`. An unknown id exits 2 and says so.
#[test]
fn id_answers_as_pid_does_for_a_process_of_the_cgroup() {
    let mut compared = 0;
    for scenario in [
        "wsl-rootless-podman-kind",
        "kind-static-pods",
        "docker",
        "lxc",
    ] {
        let (out, _, _) = common::run_fixture(scenario, &["--json"]);
        let doc = decode(&out);
        let mut all = Vec::new();
        nodes_with_parent(&doc.cgroup, None, &mut all);
        for (n, _) in all {
            let Some(&pid) = n.pids().first() else {
                continue;
            };
            let id = n.id.unwrap().to_string();
            let (by_id, err, code) = common::run_fixture(scenario, &["id", &id, "--json"]);
            assert!(code == 0 || code == 1, "{scenario} {id}: {err}");
            let by_id: serde_json::Value = serde_json::from_str(&by_id).unwrap();
            common::validate_def(&by_id, "cgroup_trace")
                .unwrap_or_else(|e| panic!("{scenario} {id}: {e}"));
            let (by_pid, _, _) =
                common::run_fixture(scenario, &["pid", &pid.to_string(), "--json"]);
            let by_pid: serde_json::Value = serde_json::from_str(&by_pid).unwrap();
            assert_eq!(by_id["path"], n.path, "{scenario} {id}");
            assert_eq!(by_id["path"], by_pid["cgroup"], "{scenario} {id}");
            assert_eq!(by_id["chain"], by_pid["chain"], "{scenario} {id}");
            // The text views draw the same chain.
            let chain = |t: &str| t.split("\n  chain:\n").nth(1).map(str::to_string);
            let (id_text, _, _) = common::run_fixture(scenario, &["id", &id]);
            let (pid_text, _, _) = common::run_fixture(scenario, &["pid", &pid.to_string()]);
            assert!(id_text.starts_with(&format!("{id} {}\n", n.path.as_str().unwrap())));
            assert_eq!(chain(&id_text), chain(&pid_text), "{scenario} {id}");
            assert!(chain(&id_text).is_some());
            if !by_pid["role"].is_null() {
                // A monitor (conmon, a shim) is tied to the container it serves by its
                // command line, which is the process's, not the cgroup's.
                continue;
            }
            for key in ["container", "kind_node", "node", "pod_container"] {
                assert_eq!(by_id[key], by_pid[key], "{scenario} {id} {key}");
            }
            // A shim's pod lists the containers it serves; the cgroup's pod does not.
            for key in ["namespace", "name", "uid", "static"] {
                assert_eq!(
                    by_id["pod"].get(key),
                    by_pid["pod"].get(key),
                    "{scenario} {id} pod"
                );
            }
            compared += 1;
        }
    }
    assert!(compared > 10, "{compared} cgroups compared");
    let (out, err, code) = common::run_fixture("docker", &["id", "1"]);
    assert_eq!((out.as_str(), code), ("", 2));
    assert!(err.contains("no cgroup with id 1"), "{err}");
}

/// `-c` prints each cgroup's id as `systemd-cgls -c` does, ` (#ID)` after the name: the
/// ids of `--json`, line for line.
#[test]
fn cgroup_id_flag_prints_the_json_ids() {
    let (json, _, _) = common::run_fixture("wsl-rootless-podman-kind", &["--json"]);
    let doc = decode(&json);
    let mut all = Vec::new();
    nodes_with_parent(&doc.cgroup, None, &mut all);
    let want: Vec<u64> = all.iter().map(|(n, _)| n.id.unwrap()).collect();
    let (text, _, _) = common::run_fixture("wsl-rootless-podman-kind", &["-c"]);
    let got: Vec<u64> = text
        .lines()
        .filter_map(|l| {
            let at = l.find(" (#")?;
            let rest = &l[at + 3..];
            rest[..rest.find(')')?].parse().ok()
        })
        .collect();
    assert_eq!(got, want);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("/ (#{}) (cgroup2 on", want[0])),
        "{first}"
    );
    let (plain, _, _) = common::run_fixture("wsl-rootless-podman-kind", &[]);
    assert!(!plain.contains(" (#"), "ids only with -c");
}

/// `cgtree id` with several ids of cgroups that stay unidentified (container-shaped
/// names with no runtime state, fixtures/edge-evidence) makes one pass over `/proc` for
/// all of them, not one per id (`CGTREE_STATS=1` counts the passes).
#[test]
fn several_ids_share_one_pass_over_proc() {
    use std::os::unix::fs::MetadataExt;
    let base = common::repo_root().join("fixtures/edge-evidence/sys/fs/cgroup");
    let ids: Vec<String> = [
        "system.slice/docker-97b55277bd2eb14dac50700387f5ab951492edfe1ba13623c4259104b0cd2c97.scope",
        "lxc.payload.ghost",
        "0dc326d6ed0487fcae6a57529fec5b42cc370aaaf58ffc9c74b8c63a01e3cdc1",
    ]
    .iter()
    .map(|p| std::fs::metadata(base.join(p)).unwrap().ino().to_string())
    .collect();
    let passes = |ids: &[String]| -> String {
        let out = common::cgtree()
            .env("CGTREE_STATS", "1")
            .args(["--root", "fixtures/edge-evidence", "id"])
            .args(ids)
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(matches!(out.status.code(), Some(0 | 1)), "{err}");
        err.lines()
            .find_map(|l| l.split("passes over /proc ").nth(1))
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_else(|| panic!("no stats line in {err}"))
            .to_string()
    };
    assert_eq!(passes(&ids[..1]), "1");
    assert_eq!(passes(&ids), "1");
}
