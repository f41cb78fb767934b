//! `cgtree metrics`: the Prometheus text and OpenMetrics outputs, checked by `promtool`,
//! against the fixtures' files, with hostile names, across fixture states, live, and
//! written with `--textfile`.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{cgtree, promtool, repo_root};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One sample line: name, labels (unescaped, in order), value.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Line {
    fn label(&self, k: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
    /// `name{labels}` with the labels sorted: the series' identity.
    fn key(&self) -> String {
        let mut l = self.labels.clone();
        l.sort();
        format!("{}{:?}", self.name, l)
    }
}

/// Parses the sample lines of the text formats (comments skipped), unescaping label
/// values (`\\`, `\"`, `\n`). Panics on a line it cannot read.
fn parse(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let end = line.find(['{', ' ']).unwrap();
        let name = line[..end].to_string();
        let mut labels = Vec::new();
        let mut rest = &line[end..];
        if let Some(r) = rest.strip_prefix('{') {
            let mut chars = r.char_indices();
            let mut key = String::new();
            let mut val = String::new();
            let mut in_val = false;
            let mut close = None;
            while let Some((i, c)) = chars.next() {
                if in_val {
                    match c {
                        '\\' => match chars.next().unwrap().1 {
                            'n' => val.push('\n'),
                            '\\' => val.push('\\'),
                            '"' => val.push('"'),
                            o => panic!("bad escape \\{o} in {line}"),
                        },
                        '"' => {
                            labels.push((std::mem::take(&mut key), std::mem::take(&mut val)));
                            in_val = false;
                        }
                        c => val.push(c),
                    }
                } else {
                    match c {
                        '=' => {
                            assert_eq!(chars.next().unwrap().1, '"', "{line}");
                            in_val = true;
                        }
                        ',' => {}
                        '}' => {
                            close = Some(i);
                            break;
                        }
                        c => key.push(c),
                    }
                }
            }
            rest = &r[close.unwrap() + 1..];
        }
        let value: f64 = rest.trim().parse().unwrap();
        out.push(Line {
            name,
            labels,
            value,
        });
    }
    out
}

/// Runs cgtree with `args`; (stdout, stderr, status).
fn run(args: &[&std::ffi::OsStr]) -> (String, String, i32) {
    let out = cgtree().args(args).output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

fn metrics(root: &Path, extra: &[&str]) -> (String, String, i32) {
    let mut a: Vec<&std::ffi::OsStr> =
        vec!["--root".as_ref(), root.as_os_str(), "metrics".as_ref()];
    a.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
    run(&a)
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("fixtures").join(name)
}

fn fixture_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo_root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("proc").is_dir() || p.join("sys").is_dir())
        .collect();
    v.sort();
    assert!(v.len() > 20, "{v:?}");
    v
}

/// Every fixture, both selections: promtool accepts the text output; status 0 or 1,
/// or 2 with no output (a host without cgroup2).
#[test]
fn promtool_accepts_every_fixture() {
    let mut checked = 0;
    for dir in fixture_dirs() {
        for sel in ["named", "all"] {
            let (out, err, code) = metrics(&dir, &["--cgroups", sel]);
            if code == 2 {
                assert!(out.is_empty(), "{}: {out}", dir.display());
                assert!(!err.is_empty());
                continue;
            }
            assert!(code == 0 || code == 1, "{}: {code} {err}", dir.display());
            assert!(
                out.contains("cgtree_cgroup_info{id=\"/"),
                "{}",
                dir.display()
            );
            assert_series_unique(&out, &format!("{} --cgroups {sel}", dir.display()));
            if let Some(r) = promtool(&out) {
                r.unwrap_or_else(|e| panic!("{} --cgroups {sel}: {e}", dir.display()));
                checked += 1;
            }
        }
    }
    eprintln!("promtool checked {checked} outputs");
}

/// No two series of a family share a label set (Prometheus would keep one of them).
fn assert_series_unique(out: &str, what: &str) {
    let mut seen = BTreeSet::new();
    for l in parse(out) {
        let key = l.key();
        assert!(seen.insert(key.clone()), "{what}: two series {key}");
    }
}

/// OpenMetrics: ends with `# EOF`; counter families are declared without `_total` and
/// their samples carry it; every series of the text output is there, same value.
#[test]
fn openmetrics_has_every_text_series() {
    for name in ["stats-kind", "kind-static-pods", "k8s-cgroupfs"] {
        let (text, _, c1) = metrics(&fixture(name), &[]);
        let (om, _, c2) = metrics(&fixture(name), &["--format", "openmetrics"]);
        assert_eq!((c1, c2), (0, 0), "{name}");
        assert_eq!(om.lines().last(), Some("# EOF"), "{name}");
        assert_eq!(om.matches("# EOF").count(), 1);
        let mut counters = 0;
        for l in om.lines().filter(|l| l.starts_with("# TYPE ")) {
            let parts: Vec<&str> = l.split(' ').collect();
            if parts[3] == "counter" {
                counters += 1;
                assert!(!parts[2].ends_with("_total"), "{l}");
                let sample = format!("\n{}_total{{", parts[2]);
                assert!(om.contains(&sample), "{l}");
            }
        }
        assert!(counters > 0 || name != "stats-kind");
        // Self-metrics differ in duration only.
        let strip = |v: Vec<Line>| -> BTreeMap<String, f64> {
            v.into_iter()
                .filter(|l| l.name != "cgtree_scrape_duration_seconds")
                .map(|l| (l.key(), l.value))
                .collect()
        };
        let t = strip(parse(&text));
        let o = strip(parse(&om));
        assert!(t.len() > 3, "{name}");
        assert_eq!(t, o, "{name}");
    }
}

fn num(path: &Path, key: Option<&str>) -> f64 {
    let text = std::fs::read_to_string(path).unwrap();
    match key {
        None => text.trim().parse().unwrap(),
        Some(k) => text
            .lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix(' '))
            .unwrap()
            .trim()
            .parse()
            .unwrap(),
    }
}

/// stats-kind has usage files in the kernel's formats: a container's, a pod's and the
/// kind node's series carry their files' values, and their name labels.
#[test]
fn values_and_labels_of_a_container_a_pod_and_a_kind_node() {
    let root = fixture("stats-kind");
    let (out, err, code) = metrics(&root, &[]);
    assert_eq!(code, 0, "{err}");
    let lines = parse(&out);
    let node = "/system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope";
    let pod = format!("{node}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-podf78d871c_d823_805f_e557_5008baa0e371.slice");
    let ctr = format!(
        "{pod}/cri-containerd-4b4974ea50c495be13861ede4c4c06cd5c9bd2299d8eb212cef6b1b9fed56e12.scope"
    );
    let get = |id: &str, name: &str| -> &Line {
        lines
            .iter()
            .find(|l| l.name == name && l.label("id") == Some(id))
            .unwrap_or_else(|| panic!("no {name} for {id}"))
    };
    for id in [node, pod.as_str(), ctr.as_str()] {
        let dir = root.join("sys/fs/cgroup").join(&id[1..]);
        let cpu = get(id, "cgtree_container_cpu_usage_seconds_total");
        assert_eq!(cpu.label("cpu"), Some("total"));
        assert_eq!(
            cpu.value,
            num(&dir.join("cpu.stat"), Some("usage_usec")) / 1e6
        );
        assert_eq!(
            get(id, "cgtree_container_memory_usage_bytes").value,
            num(&dir.join("memory.current"), None)
        );
        let inactive = num(&dir.join("memory.stat"), Some("inactive_file"));
        let ws = (num(&dir.join("memory.current"), None) - inactive).max(0.0);
        assert_eq!(
            get(id, "cgtree_container_memory_working_set_bytes").value,
            ws
        );
        assert_eq!(
            get(id, "cgtree_container_oom_events_total").value,
            num(&dir.join("memory.events"), Some("oom_kill"))
        );
        assert_eq!(
            get(id, "cgtree_container_memory_rss").value,
            num(&dir.join("memory.stat"), Some("anon"))
        );
        let some = std::fs::read_to_string(dir.join("cpu.pressure")).unwrap();
        let total: f64 = some
            .lines()
            .next()
            .unwrap()
            .rsplit("total=")
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            get(id, "cgtree_container_pressure_cpu_waiting_seconds_total").value,
            total / 1e6
        );
        for l in lines.iter().filter(|l| l.label("id") == Some(id)) {
            assert_eq!(l.label("kind_node"), Some("kind-control-plane"), "{l:?}");
            assert_eq!(l.label("kind_cluster"), Some("kind"), "{l:?}");
        }
    }
    let c = get(&ctr, "cgtree_cgroup_info");
    assert_eq!(c.label("container"), Some("kube-apiserver"));
    assert_eq!(c.label("pod"), Some("kube-apiserver-kind-control-plane"));
    assert_eq!(c.label("namespace"), Some("kube-system"));
    assert_eq!(
        c.label("image"),
        Some("registry.k8s.io/kube-apiserver:v1.29.2")
    );
    assert_eq!(c.label("kind"), Some("kube-container"));
    let p = get(&pod, "cgtree_cgroup_info");
    assert_eq!(p.label("pod"), Some("kube-apiserver-kind-control-plane"));
    assert_eq!(p.label("namespace"), Some("kube-system"));
    assert_eq!(p.label("container"), None);
    let n = get(node, "cgtree_cgroup_info");
    assert_eq!(n.label("name"), Some("kind-control-plane"));
    assert_eq!(n.label("runtime"), Some("docker"));
    // The user slice names its owner.
    let u = get("/user.slice/user-1000.slice", "cgtree_cgroup_info");
    assert_eq!(u.label("owner_uid"), Some("1000"));
    assert_eq!(u.label("unit"), Some("user-1000.slice"));
}

/// Kubernetes fixtures: every cgroup the tree identifies as a Kubernetes container gets
/// its `container`, `pod` and `namespace` labels from that identity (`cgtree --json`).
#[test]
fn pod_labels_follow_the_identities_of_the_tree() {
    fn walk<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
        out.push(v);
        for c in v["children"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    for name in ["kind-static-pods", "crio", "k3s"] {
        let root = fixture(name);
        let (json, _, _) = run(&[
            "--root".as_ref(),
            root.as_os_str(),
            "--json".as_ref(),
            "-a".as_ref(),
        ]);
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut nodes = Vec::new();
        walk(&doc["cgroup"], &mut nodes);
        let (out, err, code) = metrics(&root, &["--cgroups", "all"]);
        assert!(code <= 1, "{err}");
        let info: Vec<Line> = parse(&out)
            .into_iter()
            .filter(|l| l.name == "cgtree_cgroup_info")
            .collect();
        let mut seen = 0;
        for n in nodes {
            let id = &n["identity"];
            if id["kind"] != "kube-container" {
                continue;
            }
            let path = n["path"].as_str().unwrap();
            let l = info
                .iter()
                .find(|l| l.label("id") == Some(path))
                .unwrap_or_else(|| panic!("{name}: no info for {path}"));
            assert_eq!(l.label("container"), id["name"].as_str(), "{name} {path}");
            assert_eq!(l.label("pod"), id["pod"]["name"].as_str(), "{name} {path}");
            assert_eq!(
                l.label("namespace"),
                id["pod"]["namespace"].as_str(),
                "{name} {path}"
            );
            assert!(l.label("pod").is_some(), "{name} {path}");
            seen += 1;
        }
        assert!(seen > 0, "{name}: no Kubernetes container");
    }
}

/// A rootless podman container carries `rootless` and the `owner_uid` of its user; an
/// nspawn machine and an LXC container their names; units their unit name.
#[test]
fn rootless_owner_machines_and_lxc_are_named() {
    let info = |fixture_name: &str| -> Vec<Line> {
        let (out, err, code) = metrics(&fixture(fixture_name), &[]);
        assert!(code <= 1, "{err}");
        parse(&out)
            .into_iter()
            .filter(|l| l.name == "cgtree_cgroup_info")
            .collect()
    };
    let podman = info("podman-rootless-systemd-pod");
    let api = podman
        .iter()
        .find(|l| l.label("name") == Some("api"))
        .unwrap();
    assert_eq!(api.label("rootless"), Some("true"));
    assert_eq!(api.label("owner_uid"), Some("1001"));
    assert_eq!(api.label("image"), Some("quay.io/example/api:2.1"));
    assert_eq!(api.label("kind"), Some("podman-container"));
    let nspawn = info("nspawn");
    let m = nspawn
        .iter()
        .find(|l| l.label("name") == Some("deb1"))
        .unwrap();
    assert_eq!(m.label("kind"), Some("machine"));
    assert_eq!(
        m.label("id"),
        Some("/machine.slice/systemd-nspawn@deb1.service/payload")
    );
    let lxc = info("lxc");
    let c = lxc
        .iter()
        .find(|l| l.label("id") == Some("/lxc.payload.web"))
        .unwrap();
    assert_eq!(
        (c.label("name"), c.label("kind")),
        (Some("web"), Some("lxc-container"))
    );
}

/// Makes the cgroup `rel` under the fixture copy `root` with usage files.
fn usage_cgroup(root: &Path, rel: &str, cpu_usec: u64, oom_kill: u64) {
    let dir = root.join("sys/fs/cgroup").join(rel);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("cpu.stat"),
        format!("usage_usec {cpu_usec}\nuser_usec {cpu_usec}\nsystem_usec 0\n"),
    )
    .unwrap();
    std::fs::write(dir.join("memory.current"), "4096\n").unwrap();
    std::fs::write(
        dir.join("memory.events"),
        format!("low 0\nhigh 0\nmax 0\noom {oom_kill}\noom_kill {oom_kill}\noom_group_kill 0\n"),
    )
    .unwrap();
}

/// Names with quotes, backslashes, line feeds, escape sequences, bidi controls and
/// invalid UTF-8: promtool accepts both outputs' text form, and each `id` label reads
/// back as the cgroup path escaped as the terminal output escapes it.
#[test]
fn hostile_cgroup_names_are_escaped_and_round_trip() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    common::copy_tree(&fixture("stats-kind"), &root);
    let names: [(&[u8], &str); 5] = [
        (b"q\"uote\\back.service", "q\"uote\\back.service"),
        (b"line\nfeed.scope", "line\\nfeed.scope"),
        (b"esc\x1b[31mred.service", "esc\\x1b[31mred.service"),
        ("bidi\u{202e}x.slice".as_bytes(), "bidi\\u{202e}x.slice"),
        (b"bad\xff\xfeutf8.service", "bad\\xff\\xfeutf8.service"),
    ];
    let base = root.join("sys/fs/cgroup/system.slice");
    for (i, (raw, _)) in names.iter().enumerate() {
        let dir = base.join(std::ffi::OsStr::from_bytes(raw));
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(
            dir.join("cpu.stat"),
            format!("usage_usec {}\n", 1000 * (i + 1)),
        )
        .unwrap();
        std::fs::write(dir.join("cgroup.procs"), "1\n").unwrap();
    }
    for format in ["text", "openmetrics"] {
        let (out, err, code) = metrics(&root, &["--cgroups", "all", "--format", format]);
        assert!(code <= 1, "{err}");
        assert!(!out.contains('\x1b') && !out.contains('\u{202e}'));
        if format == "text" {
            if let Some(r) = promtool(&out) {
                r.unwrap();
            }
        }
        let lines = parse(&out);
        for (i, (_, shown)) in names.iter().enumerate() {
            let id = format!("/system.slice/{shown}");
            let l = lines
                .iter()
                .find(|l| {
                    l.name == "cgtree_container_cpu_usage_seconds_total"
                        && l.label("id") == Some(&id)
                })
                .unwrap_or_else(|| panic!("{format}: no series for {id:?}\n{out}"));
            assert_eq!(l.value, (1000 * (i + 1)) as f64 / 1e6);
        }
    }
}

/// A container name from runtime state with an escape sequence, quotes, a backslash, a
/// bidi override and a line feed: promtool accepts the output, and the `name` label
/// reads back as the name escaped for a terminal.
#[test]
fn hostile_container_names_are_escaped_and_round_trip() {
    const KIND_ID: &str = "a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38";
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    common::copy_tree(&fixture("wsl-rootless-podman-kind"), &root);
    let store =
        root.join("home/massi/.local/share/containers/storage/overlay-containers/containers.json");
    let evil = "kind\u{1b}[31m-\"evil\"\\\u{202e}\nname";
    let doc = serde_json::json!([{"id": KIND_ID, "names": [evil], "metadata": "{}"}]);
    std::fs::write(&store, doc.to_string()).unwrap();
    // conmon's -n would name it too.
    std::fs::remove_file(root.join("proc/70650/cmdline")).unwrap();
    let shown = "kind\\x1b[31m-\"evil\"\\\\u{202e}\\nname";
    for format in ["text", "openmetrics"] {
        let (out, err, code) = metrics(&root, &["--format", format]);
        assert!(code <= 1, "{err}");
        assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'));
        if format == "text" {
            if let Some(r) = promtool(&out) {
                r.unwrap();
            }
        }
        let lines = parse(&out);
        let info = lines
            .iter()
            .find(|l| l.name == "cgtree_cgroup_info" && l.label("kind") == Some("podman-container"))
            .unwrap_or_else(|| panic!("{format}: no container\n{out}"));
        assert_eq!(info.label("name"), Some(shown), "{format}");
    }
}

/// An OOM kill in a pod's container stays counted on the pod once the container is
/// replaced: the pod's `memory.events` is hierarchical in the kernel.
#[test]
fn oom_kill_stays_on_the_pod_after_the_container_is_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    common::copy_tree(&fixture("stats-kind"), &root);
    let node = "system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope";
    let pod = format!("{node}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-podf78d871c_d823_805f_e557_5008baa0e371.slice");
    let old = format!("{pod}/cri-containerd-4b4974ea50c495be13861ede4c4c06cd5c9bd2299d8eb212cef6b1b9fed56e12.scope");
    let new = format!("{pod}/cri-containerd-{}.scope", "9".repeat(64));
    let pod_dir = root.join("sys/fs/cgroup").join(&pod);
    let oom = |out: &str, id: &str| -> Option<f64> {
        parse(out)
            .into_iter()
            .find(|l| l.name == "cgtree_container_oom_events_total" && l.label("id") == Some(id))
            .map(|l| l.value)
    };
    // State 1: the container was OOM-killed once; the pod counts it.
    let pod_events = |n: u64| {
        std::fs::write(
            pod_dir.join("memory.events"),
            format!("low 0\nhigh 0\nmax 3\noom {n}\noom_kill {n}\noom_group_kill 0\n"),
        )
        .unwrap()
    };
    pod_events(3);
    usage_cgroup(&root, &old, 1000, 3);
    let (one, err, code) = metrics(&root, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(oom(&one, &format!("/{pod}")), Some(3.0));
    assert_eq!(oom(&one, &format!("/{old}")), Some(3.0));
    // State 2: the kubelet replaced the container: the old cgroup is gone, the new one
    // has no kill, the pod keeps its count.
    std::fs::remove_dir_all(root.join("sys/fs/cgroup").join(&old)).unwrap();
    usage_cgroup(&root, &new, 10, 0);
    std::fs::write(
        root.join("sys/fs/cgroup").join(&new).join("cgroup.procs"),
        "1\n",
    )
    .unwrap();
    let (two, err, code) = metrics(&root, &["--cgroups", "all"]);
    assert!(code <= 1, "{err}");
    assert_eq!(oom(&two, &format!("/{pod}")), Some(3.0));
    assert_eq!(oom(&two, &format!("/{old}")), None);
    assert_eq!(oom(&two, &format!("/{new}")), Some(0.0));
}

fn info_ids(out: &str) -> Vec<String> {
    parse(out)
        .into_iter()
        .filter(|l| l.name == "cgtree_cgroup_info")
        .map(|l| l.label("id").unwrap().to_string())
        .collect()
}

fn self_metric(out: &str, name: &str) -> f64 {
    parse(out)
        .into_iter()
        .find(|l| l.name == name)
        .unwrap()
        .value
}

/// `--max-cgroups N`: N cgroups exported (the root, then containers, pods and nodes
/// before units), the rest counted as dropped; `--cgroups all` exports the cgroups
/// `named` leaves out.
#[test]
fn max_cgroups_drops_and_counts_and_all_widens_named() {
    let root = fixture("stats-kind");
    let (full, _, _) = metrics(&root, &[]);
    let total = info_ids(&full).len();
    assert_eq!(self_metric(&full, "cgtree_scrape_cgroups"), total as f64);
    assert_eq!(self_metric(&full, "cgtree_scrape_cgroups_dropped"), 0.0);
    let (capped, err, code) = metrics(&root, &["--max-cgroups", "4"]);
    assert_eq!(code, 0, "{err}");
    let ids = info_ids(&capped);
    assert_eq!(ids.len(), 4);
    assert_eq!(self_metric(&capped, "cgtree_scrape_cgroups"), 4.0);
    assert_eq!(
        self_metric(&capped, "cgtree_scrape_cgroups_dropped"),
        (total - 4) as f64
    );
    assert_eq!(ids[0], "/");
    // Only the root and containers, pods or nodes: no plain unit.
    let kinds: BTreeSet<String> = parse(&capped)
        .into_iter()
        .filter(|l| l.name == "cgtree_cgroup_info")
        .map(|l| l.label("kind").unwrap().to_string())
        .collect();
    assert!(
        kinds.iter().all(|k| [
            "root",
            "docker-container",
            "kube-container",
            "kube-sandbox",
            "kube-pod"
        ]
        .contains(&k.as_str())),
        "{kinds:?}"
    );
    // No series of a dropped cgroup.
    for l in parse(&capped).iter().filter(|l| l.label("id").is_some()) {
        assert!(
            ids.iter().any(|i| Some(i.as_str()) == l.label("id")),
            "{l:?}"
        );
    }
    let (_, _, bad) = metrics(&root, &["--max-cgroups", "0"]);
    assert_eq!(bad, 2);

    let root = fixture("k8s-cgroupfs");
    let (named, _, _) = metrics(&root, &[]);
    let (all, _, _) = metrics(&root, &["--cgroups", "all"]);
    let named: BTreeSet<String> = info_ids(&named).into_iter().collect();
    let all: BTreeSet<String> = info_ids(&all).into_iter().collect();
    assert!(named.is_subset(&all));
    assert!(all.len() > named.len(), "{all:?}");
    assert!(named.contains("/"));
}

/// A start path that does not exist: nothing written, status 2; a usage file that does
/// not parse: written, named on stderr, status 1.
#[test]
fn exit_status_says_what_was_read() {
    let (out, err, code) = metrics(&fixture("stats-kind"), &["/no-such-cgroup"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    common::copy_tree(&fixture("stats-kind"), &root);
    std::fs::write(
        root.join("sys/fs/cgroup/init.scope/cpu.stat"),
        "usage_usec x\n",
    )
    .unwrap();
    let (out, err, code) = metrics(&root, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("init.scope/cpu.stat"), "{err}");
    assert!(out.contains("cgtree_cgroup_info{id=\"/init.scope\""));
    assert!(self_metric(&out, "cgtree_scrape_errors") >= 1.0);
}

/// Live, as root: a fresh cgroup with a busy process, collected twice: every counter of
/// the living cgroups is at least its previous value, and the cgroup's CPU counter grew.
#[test]
fn live_counters_are_monotonic_and_cpu_grows() {
    let Some(mount) = common::live_mount("metrics live test") else {
        return;
    };
    let name = common::unique_cgroup_name("metrics");
    let mut t = common::LiveTree::default();
    let top = mount.join(&name);
    let child = top.join("work.service");
    t.mkdir(&top);
    t.mkdir(&child);
    let busy = Command::new("sh")
        .args(["-c", "while :; do :; done"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let pid = busy.id();
    t.children.push(busy);
    std::fs::write(child.join("cgroup.procs"), pid.to_string()).unwrap();
    let collect = || {
        let out = cgtree()
            .args(["metrics", &format!("/{name}"), "--cgroups", "all"])
            .output()
            .unwrap();
        assert!(out.status.code().unwrap() <= 1, "{out:?}");
        parse(&String::from_utf8(out.stdout).unwrap())
    };
    let first = collect();
    std::thread::sleep(Duration::from_millis(300));
    let second = collect();
    let counters: BTreeSet<&str> = [
        "cgtree_container_cpu_usage_seconds_total",
        "cgtree_container_cpu_user_seconds_total",
        "cgtree_container_cpu_system_seconds_total",
        "cgtree_container_pressure_cpu_waiting_seconds_total",
        "cgtree_container_pressure_memory_waiting_seconds_total",
        "cgtree_container_pressure_io_waiting_seconds_total",
    ]
    .into_iter()
    .collect();
    let before: BTreeMap<String, f64> = first
        .iter()
        .filter(|l| l.name.ends_with("_total"))
        .map(|l| (l.key(), l.value))
        .collect();
    let mut compared = 0;
    for l in second.iter().filter(|l| l.name.ends_with("_total")) {
        if let Some(v) = before.get(&l.key()) {
            assert!(l.value >= *v, "{l:?} was {v}");
            compared += 1;
        }
    }
    assert!(compared >= counters.len(), "{compared}");
    let cpu = |v: &[Line]| {
        v.iter()
            .find(|l| {
                l.name == "cgtree_container_cpu_usage_seconds_total"
                    && l.label("id") == Some(&format!("/{name}/work.service"))
            })
            .map(|l| l.value)
            .unwrap()
    };
    assert!(
        cpu(&second) > cpu(&first),
        "{} {}",
        cpu(&first),
        cpu(&second)
    );
    assert_eq!(
        second
            .iter()
            .find(|l| l.name == "cgtree_cgroup_info"
                && l.label("id") == Some(&format!("/{name}/work.service")))
            .unwrap()
            .label("unit"),
        Some("work.service")
    );
}

/// `--textfile DIR --interval`: rounds replace DIR/cgtree.prom atomically (a reader in a
/// loop sees only whole files), SIGTERM ends with 0 and leaves no temporary file.
#[test]
fn textfile_is_replaced_atomically_until_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("textfile");
    std::fs::create_dir(&dir).unwrap();
    let mut child = cgtree()
        .arg("--root")
        .arg(fixture("stats-kind"))
        .args(["metrics", "--textfile"])
        .arg(&dir)
        .args(["--interval", "0.02"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let file = dir.join("cgtree.prom");
    let start = Instant::now();
    let mut reads = 0;
    let mut inodes = BTreeSet::new();
    while start.elapsed() < Duration::from_secs(3) {
        use std::os::unix::fs::MetadataExt;
        let Ok(f) = std::fs::File::open(&file) else {
            continue;
        };
        // A round is a new file: ext4 hands a freed inode number to the next file, so
        // the number alone may alternate between two values; its change time with it
        // does not repeat.
        let meta = f.metadata().unwrap();
        let ino = (meta.ino(), meta.ctime(), meta.ctime_nsec());
        let text = std::io::read_to_string(f).unwrap();
        assert!(text.starts_with("# HELP "), "partial: {text:?}");
        let last = text.lines().last().unwrap_or_default();
        assert!(
            text.ends_with('\n') && last.starts_with("cgtree_build_info{version="),
            "partial file, last line {last:?}"
        );
        inodes.insert(ino);
        reads += 1;
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    assert!(reads > 10, "{reads}");
    assert!(inodes.len() >= 3, "rounds seen: {inodes:?}");
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("cgtree.prom")]);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o644
    );
    // SIGINT ends the loop the same way. The tree is identified once: its cgroups do
    // not change between rounds (top's TreeSource walks them and compares).
    let mut child = cgtree()
        .env("CGTREE_STATS", "1")
        .arg("--root")
        .arg(fixture("stats-kind"))
        .args(["metrics", "--textfile"])
        .arg(&dir)
        .args(["--interval", "0.05"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "no exit after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let err = std::io::read_to_string(child.stderr.take().unwrap()).unwrap();
    assert!(
        err.contains("stats: metrics identified the tree 1 times"),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

/// A symlink planted at DIR/cgtree.prom is replaced by the file, its target untouched;
/// once (no --interval) the status is that of the round.
#[test]
fn textfile_replaces_a_planted_symlink_without_following_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("textfile");
    std::fs::create_dir(&dir).unwrap();
    let target = tmp.path().join("victim");
    std::fs::write(&target, "precious\n").unwrap();
    std::os::unix::fs::symlink(&target, dir.join("cgtree.prom")).unwrap();
    let out = cgtree()
        .arg("--root")
        .arg(fixture("stats-kind"))
        .args(["metrics", "--textfile"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    let meta = std::fs::symlink_metadata(dir.join("cgtree.prom")).unwrap();
    assert!(meta.file_type().is_file());
    let text = std::fs::read_to_string(dir.join("cgtree.prom")).unwrap();
    assert!(text.contains("cgtree_cgroup_info{id=\"/\""));
    if let Some(r) = promtool(&text) {
        r.unwrap();
    }
    // A directory that does not exist: nothing written, status 2, the path named.
    let out = cgtree()
        .arg("--root")
        .arg(fixture("stats-kind"))
        .args(["metrics", "--textfile"])
        .arg(tmp.path().join("missing"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
}

/// `--json` is a global flag that `metrics` and `serve` do not write: refused with
/// status 2 and a message naming `--format`, nothing on stdout.
#[test]
fn json_is_refused_by_metrics_and_serve() {
    let root = fixture("stats-kind");
    for cmd in [&["metrics"][..], &["serve", "--listen", "127.0.0.1:0"]] {
        let out = cgtree()
            .arg("--root")
            .arg(&root)
            .arg("--json")
            .args(cmd)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {err}");
        assert!(out.stdout.is_empty(), "{cmd:?}");
        assert!(err.contains("--json") && err.contains("--format"), "{err}");
    }
}

/// node-exporter's textfile collector reads only the text format: `--textfile` with
/// `--format openmetrics` is refused (status 2, nothing written, the reason said).
#[test]
fn textfile_refuses_openmetrics() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cgtree()
        .arg("--root")
        .arg(fixture("stats-kind"))
        .args(["metrics", "--format", "openmetrics", "--textfile"])
        .arg(tmp.path())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("textfile collector reads only"), "{err}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

/// The breaker's finding: `CGROUP_PATH` below a kind node stripped the pods' and
/// containers' identities (and so every name label), and labelled the start
/// `kind="root"` without its `unit`. Started below a kind node, below kubepods and at a
/// podman container, every cgroup has the identity (`--json`) and the info labels it
/// has in the whole tree.
#[test]
fn a_start_below_a_kind_node_a_pod_root_or_a_container_names_as_the_whole_tree() {
    fn walk(v: &serde_json::Value, out: &mut BTreeMap<String, serde_json::Value>) {
        out.insert(
            v["path"].as_str().unwrap().to_string(),
            v["identity"].clone(),
        );
        for c in v["children"].as_array().into_iter().flatten() {
            walk(c, out);
        }
    }
    let identities = |root: &Path, start: &str| {
        let (json, err, code) = run(&[
            "--root".as_ref(),
            root.as_os_str(),
            "--json".as_ref(),
            "-a".as_ref(),
            start.as_ref(),
        ]);
        assert!(code <= 1, "{err}");
        let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
        let mut m = BTreeMap::new();
        walk(&doc["cgroup"], &mut m);
        m
    };
    let info = |root: &Path, start: &str| -> BTreeMap<String, Vec<(String, String)>> {
        let (out, err, code) = metrics(root, &[start, "--cgroups", "all"]);
        assert!(code <= 1, "{err}");
        parse(&out)
            .into_iter()
            .filter(|l| l.name == "cgtree_cgroup_info")
            .map(|l| (l.label("id").unwrap().to_string(), l.labels))
            .collect()
    };
    const KIND: &str = "/system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope";
    let cases = [
        ("stats-kind", format!("{KIND}/kubelet.slice")),
        ("stats-kind", format!("{KIND}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-podf78d871c_d823_805f_e557_5008baa0e371.slice")),
        ("k8s-cgroupfs", "/kubepods".to_string()),
        ("crio", "/kubepods.slice/kubepods-besteffort.slice".to_string()),
        (
            "podman-rootless-systemd-pod",
            "/user.slice/user-1001.slice/user@1001.service/user.slice/user-libpod_pod_dd1d3ecabe849d8b9bf0ed023317b5429f87807c8060da36388510b57991038c.slice/libpod-5b15062dd7de117d71c4c36c52b04d1fd3c6eb9b05fa569adb9209296eb1e1f6.scope".to_string(),
        ),
        (
            "nested-engines",
            "/machine.slice/libpod-a73e1faab3cf696e7c1f01a8602fd86363cf2481bb31442c3c2740f44fcf9bc2.scope".to_string(),
        ),
    ];
    for (name, start) in &cases {
        let root = fixture(name);
        let whole = identities(&root, "/");
        let sub = identities(&root, start);
        assert!(sub.len() > 1, "{name} {start}");
        for (path, id) in &sub {
            assert_eq!(Some(id), whole.get(path), "{name} from {start}: {path}");
        }
        let whole = info(&root, "/");
        let sub = info(&root, start);
        assert!(sub.len() > 1, "{name} {start}");
        for (id, labels) in &sub {
            assert_eq!(Some(labels), whole.get(id), "{name} from {start}: {id}");
        }
        // The start keeps its own labels: not the root.
        assert_ne!(
            sub[start.as_str()]
                .iter()
                .find(|(k, _)| k == "kind")
                .unwrap()
                .1,
            "root"
        );
    }
    let start = format!("{KIND}/kubelet.slice");
    let sub = info(&fixture("stats-kind"), &start);
    let start_labels = &sub[start.as_str()];
    assert!(start_labels.contains(&("unit".into(), "kubelet.slice".into())));
    let named = sub
        .values()
        .filter(|l| {
            l.iter()
                .any(|(k, v)| k == "container" && v == "kube-apiserver")
        })
        .count();
    assert_eq!(named, 1, "{sub:?}");
}

/// The breaker's finding: the escaping of names was readable, not injective (`cr\rx`
/// and `cr<CR>x`, `inv\xff\xfe` and the bytes ff fe, `\u{202e}` and U+202E read the
/// same), so two cgroups had one `id` and every family two series with one label set.
/// Now a backslash that would read as an escape is written `\x5c`: each pair has two
/// distinct `id`s, every series is distinct, promtool accepts the output, and no series
/// needs another label to tell them apart.
#[test]
fn look_alike_names_get_distinct_ids() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    common::copy_tree(&fixture("stats-kind"), &root);
    let pairs: [(&[u8], &[u8]); 3] = [
        (b"cr\\rx.service", b"cr\rx.service"),
        (b"inv\\xff\\xfe.service", b"inv\xff\xfe.service"),
        (b"bidi\\u{202e}.service", "bidi\u{202e}.service".as_bytes()),
    ];
    let base = root.join("sys/fs/cgroup/system.slice");
    let mut n = 0;
    for (a, b) in pairs {
        for raw in [a, b] {
            n += 1;
            let dir = base.join(std::ffi::OsStr::from_bytes(raw));
            std::fs::create_dir(&dir).unwrap();
            std::fs::write(dir.join("cpu.stat"), format!("usage_usec {}\n", 1000 * n)).unwrap();
            std::fs::write(dir.join("cgroup.procs"), "1\n").unwrap();
        }
    }
    for format in ["text", "openmetrics"] {
        let (out, err, code) = metrics(&root, &["--format", format]);
        assert!(code <= 1, "{err}");
        assert_series_unique(&out, format);
        if format == "text" {
            if let Some(r) = promtool(&out) {
                r.unwrap();
            }
        }
        let cpu: Vec<Line> = parse(&out)
            .into_iter()
            .filter(|l| l.name == "cgtree_container_cpu_usage_seconds_total")
            .collect();
        for (literal, control) in [
            (
                "/system.slice/cr\\x5crx.service",
                "/system.slice/cr\\rx.service",
            ),
            (
                "/system.slice/inv\\x5cxff\\x5cxfe.service",
                "/system.slice/inv\\xff\\xfe.service",
            ),
            (
                "/system.slice/bidi\\x5cu{202e}.service",
                "/system.slice/bidi\\u{202e}.service",
            ),
        ] {
            for shown in [literal, control] {
                let one: Vec<&Line> = cpu
                    .iter()
                    .filter(|l| l.label("id") == Some(shown))
                    .collect();
                assert_eq!(one.len(), 1, "{format} {shown}: {cpu:?}");
                assert_eq!(one[0].label("cgroup_id"), None, "{format} {shown}");
            }
        }
    }
}

/// The breaker's finding: a writer killed between creating its temporary file and the
/// rename (SIGKILL, the OOM killer of a DaemonSet's pod) left `.cgtree.prom.<pid>.<n>`
/// behind for ever, and SIGHUP ended the loop with 129 and a temporary left. Now the
/// next writer removes a dead writer's temporaries (and only those: not a live
/// process's, not another file, a symlink's target untouched), and SIGHUP ends the
/// loop with 0 and nothing but `cgtree.prom` in DIR.
#[test]
fn textfile_removes_a_killed_writers_temporaries_and_ends_on_sighup() {
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("textfile");
    std::fs::create_dir(&dir).unwrap();
    let spawn = || {
        cgtree()
            .arg("--root")
            .arg(fixture("stats-kind"))
            .args(["metrics", "--textfile"])
            .arg(&dir)
            .args(["--interval", "0.01"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let wait = |child: &mut std::process::Child| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(Instant::now() < deadline, "no exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    // A writer killed with SIGKILL; whatever it left, and what a killed writer leaves
    // at worst (its temporaries, named with its PID, now dead).
    let mut child = spawn();
    std::thread::sleep(Duration::from_millis(300));
    let dead = child.id();
    kill(Pid::from_raw(dead as i32), Signal::SIGKILL).unwrap();
    wait(&mut child);
    // Last written two minutes ago: a temporary is taken for a dead writer's only when
    // it is that old (a writer in another PID namespace looks dead from here).
    let old = std::time::SystemTime::now() - Duration::from_secs(120);
    // The SIGKILL may land between a temporary's creation and its rename: that file is
    // the killed writer's too, and is aged like the planted ones (left fresh, it is
    // rightly kept for a minute, and the listing below would race with the kill).
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().into_string().unwrap();
        if name.starts_with(&format!(".cgtree.prom.{dead}.")) {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .open(e.path())
                .unwrap();
            f.set_modified(old).unwrap();
        }
    }
    for n in [1, 2] {
        let f = dir.join(format!(".cgtree.prom.{dead}.{n}"));
        std::fs::write(&f, "partial").unwrap();
        let f = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
        f.set_modified(old).unwrap();
    }
    // Not a dead writer's: this test's own (live) PID, another name, a symlink.
    let live = format!(".cgtree.prom.{}.1", std::process::id());
    std::fs::write(dir.join(&live), "a live writer's").unwrap();
    std::fs::write(dir.join("other.prom"), "x 1\n").unwrap();
    let victim = tmp.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join(format!(".cgtree.prom.{dead}.3"))).unwrap();
    // The next writer, ended by SIGHUP.
    let mut child = spawn();
    std::thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGHUP).unwrap();
    assert_eq!(wait(&mut child).code(), Some(0), "SIGHUP ends the loop");
    let mut left: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut want = vec![
        format!(".cgtree.prom.{dead}.3"),
        live,
        "cgtree.prom".to_string(),
        "other.prom".to_string(),
    ];
    want.sort();
    assert_eq!(left, want);
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

/// The breaker's findings: `owner_uid` was documented on sessions but a session's
/// identity has no user: it now carries the UID of the user slice it is in. And under
/// `memory_localevents` (a cgroup2 mount option) `oom_events_total` counts a cgroup's
/// own kills only: cgtree says so once on stderr and in
/// `cgtree_cgroup2_memory_localevents` (0 without the option).
#[test]
fn session_owner_and_memory_localevents_are_said() {
    for name in ["wsl-rootless-podman-kind", "podman-rootless-systemd-pod"] {
        let (out, err, code) = metrics(&fixture(name), &["--cgroups", "all"]);
        assert!(code <= 1, "{err}");
        assert_eq!(self_metric(&out, "cgtree_cgroup2_memory_localevents"), 0.0);
        assert!(!err.contains("memory_localevents"), "{err}");
    }
    let (out, err, code) = metrics(&fixture("wsl-rootless-podman-kind"), &[]);
    assert!(code <= 1, "{err}");
    let session = parse(&out)
        .into_iter()
        .find(|l| {
            l.name == "cgtree_cgroup_info"
                && l.label("id") == Some("/user.slice/user-1000.slice/session-1.scope")
        })
        .unwrap();
    assert_eq!(session.label("owner_uid"), Some("1000"), "{session:?}");
    // The same host, its cgroup2 mounted with memory_localevents.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    common::copy_tree(&fixture("stats-kind"), &root);
    let mi = root.join("proc/self/mountinfo");
    let text = std::fs::read_to_string(&mi).unwrap();
    let local = text.replace(
        "cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot",
        "cgroup2 cgroup2 rw,nsdelegate,memory_localevents,memory_recursiveprot",
    );
    assert_ne!(text, local);
    std::fs::write(&mi, local).unwrap();
    let (out, err, code) = metrics(&root, &[]);
    assert!(code <= 1, "{err}");
    assert_eq!(self_metric(&out, "cgtree_cgroup2_memory_localevents"), 1.0);
    let said = err.lines().filter(|l| l.contains("memory_localevents"));
    assert_eq!(said.count(), 1, "{err}");
    if let Some(r) = promtool(&out) {
        r.unwrap();
    }
}

/// The breaker's finding: `sum(...{name!=""})` counts a kind node's pods twice (the node
/// container's usage includes theirs), and docker-in-docker's containers likewise. The
/// query docs/metrics.md gives, `sum(...{name!="", in_container=""})`, sums the
/// outermost containers: computed here over every fixture's series as Prometheus
/// would, its set is exactly the named cgroups no other named cgroup's `id` contains,
/// every nested one names the nearest container it is in, and on `stats-kind` the sum
/// is at most the root's while the naive sum is larger than the right one.
#[test]
fn summing_outermost_containers_counts_nothing_twice() {
    let mut nested_seen = 0;
    for dir in fixture_dirs() {
        let (out, _, code) = metrics(&dir, &["--cgroups", "all"]);
        if code == 2 {
            continue;
        }
        // The info series: one per exported cgroup, with the labels every series of the
        // cgroup carries.
        let info: Vec<Line> = parse(&out)
            .into_iter()
            .filter(|l| l.name == "cgtree_cgroup_info")
            .collect();
        let named: Vec<&Line> = info.iter().filter(|l| l.label("name").is_some()).collect();
        for l in &named {
            let id = l.label("id").unwrap();
            // The nearest named cgroup whose id contains this one's.
            let outer = named
                .iter()
                .filter(|o| {
                    let oid = o.label("id").unwrap();
                    oid != id && id.starts_with(&format!("{}/", oid.trim_end_matches('/')))
                })
                .max_by_key(|o| o.label("id").unwrap().len());
            assert_eq!(
                l.label("in_container"),
                outer.map(|o| o.label("name").unwrap()),
                "{}: {id}",
                dir.display()
            );
            nested_seen += usize::from(outer.is_some());
        }
    }
    assert!(nested_seen > 10, "{nested_seen}");
    let (out, _, _) = metrics(&fixture("stats-kind"), &["--cgroups", "all"]);
    let mem: Vec<Line> = parse(&out)
        .into_iter()
        .filter(|l| l.name == "cgtree_container_memory_usage_bytes")
        .collect();
    let sum = |f: &dyn Fn(&Line) -> bool| mem.iter().filter(|l| f(l)).map(|l| l.value).sum::<f64>();
    let right = sum(&|l| l.label("name").is_some() && l.label("in_container").is_none());
    let naive = sum(&|l| l.label("name").is_some());
    let system = sum(&|l| l.label("id") == Some("/system.slice"));
    assert!(right > 0.0 && right <= system, "{right} {system}");
    assert!(naive > right, "{naive} {right}");
}

/// Where an export starts changes which cgroups get series, never their labels: for
/// every fixture, from up to 12 of its cgroups (spread over the tree) as CGROUP_PATH,
/// every `cgtree_cgroup_info` line is the one the whole host's export has (kind node
/// containers, containerd namespaces, nspawn payloads, snap services: what lies outside
/// the subtree names what is inside). Lines with `path_hex` (colliding names, whose
/// disambiguation depends on what else is exported) are left out.
#[test]
fn every_start_labels_its_cgroups_as_the_whole_host_does() {
    let mut starts = 0;
    for dir in fixture_dirs() {
        let (full, _, code) = metrics(&dir, &["--cgroups", "all"]);
        if code == 2 {
            continue;
        }
        let info = |out: &str| -> BTreeMap<String, String> {
            out.lines()
                .filter(|l| l.starts_with("cgtree_cgroup_info{") && !l.contains("path_hex"))
                .filter_map(|l| {
                    let id = parse(l).first()?.label("id")?.to_string();
                    Some((id, l.to_string()))
                })
                .collect()
        };
        let whole = info(&full);
        let ids: Vec<&String> = whole
            .keys()
            .filter(|id| *id != "/" && id.bytes().all(|b| b.is_ascii_graphic() && b != b'\\'))
            .collect();
        let step = ids.len().div_ceil(12).max(1);
        for id in ids.iter().step_by(step) {
            let (out, err, code) = metrics(&dir, &[id.as_str(), "--cgroups", "all"]);
            assert!(code < 2, "{} from {id}: {err}", dir.display());
            let part = info(&out);
            assert!(
                part.contains_key(*id),
                "{} from {id}: the start is exported",
                dir.display()
            );
            for (k, line) in &part {
                assert_eq!(
                    Some(line),
                    whole.get(k),
                    "{} from {id}: {k} is labelled as in the whole host's export",
                    dir.display()
                );
            }
            starts += 1;
        }
    }
    assert!(starts > 200, "{starts} starts");
}
