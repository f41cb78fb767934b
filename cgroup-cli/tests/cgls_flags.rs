//! systemd-cgls's flags (issue #17): `-u/--unit`, `--user-unit`, `-M/--machine`,
//! `-x/--xattr`, `-c/--cgroup-id[=BOOL]`, several CGROUP_PATHs, and `-U/--users` (was
//! `-u`), on the fixtures; `-x` on live cgroups (fixtures in git cannot hold extended
//! attributes).
//!
//! Meaning and output as systemd's src/cgls/cgls.c (`Unit NAME (PATH):` and `CGroup
//! PATH:` headers, every argument a unit name with `-u`) and src/shared/cgroup-show.c
//! (`show_cgroup_name`: the `user.`/`trusted.` attributes below the name, `→ NAME: VALUE`).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::run_fixture;
use std::path::Path;
use std::process::Command;

const KUBE: &str = "k8s-systemd";

/// The lines of `out` that are headers (`Unit ...:` or `CGroup ...:`).
fn headers(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.starts_with("Unit ") || l.starts_with("CGroup "))
        .collect()
}

#[test]
fn unit_shows_that_units_subtree_under_its_header() {
    let (out, err, code) = run_fixture(KUBE, &["-u", "containerd"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    // `containerd` is mangled to `containerd.service`, as systemd does.
    assert_eq!(
        lines[0],
        "Unit containerd.service (/system.slice/containerd.service):"
    );
    assert!(
        lines[1].starts_with("/system.slice/containerd.service [containerd]"),
        "{out}"
    );
    assert!(out.contains("650 /usr/bin/containerd"), "{out}");
    // Only that subtree: not kubelet's, not the pods'.
    assert!(!out.contains("kubelet"), "{out}");
    assert!(!out.contains("/pause"), "{out}");
    // A slice unit too, with `--unit=`.
    let (out, _, code) = run_fixture(KUBE, &["--unit=kubepods-burstable.slice"]);
    assert_eq!(code, 0);
    assert_eq!(
        headers(&out),
        ["Unit kubepods-burstable.slice (/kubepods.slice/kubepods-burstable.slice):"]
    );
    assert!(out.contains("coredns"), "{out}");
    assert!(!out.contains("nginx"), "{out}");
}

/// Empty cgroups of a unit's subtree are hidden unless `-a`, as in a walk from there:
/// the kubelet's pod slices are empty here (the containers run elsewhere).
#[test]
fn unit_subtree_hides_empty_cgroups_unless_all() {
    let fx = "driver-mismatch";
    for extra in [&[][..], &["-a"]] {
        let mut args = vec!["-u", "kubepods.slice"];
        args.extend_from_slice(extra);
        let (out, err, code) = run_fixture(fx, &args);
        assert_eq!(code, 0, "{err}");
        let mut walk = vec!["/kubepods.slice"];
        walk.extend_from_slice(extra);
        let (alone, _, _) = run_fixture(fx, &walk);
        assert_eq!(
            out,
            format!("Unit kubepods.slice (/kubepods.slice):\n{alone}")
        );
        assert_eq!(
            out.contains("[pod default/web-7c5ddbdf54-8xk2p]"),
            !extra.is_empty(),
            "{extra:?}: {out}"
        );
    }
}

#[test]
fn unit_is_repeatable_and_a_bare_u_makes_the_arguments_unit_names() {
    let (out, err, code) = run_fixture(KUBE, &["-u", "containerd", "-u", "kubelet.service"]);
    assert_eq!(code, 0, "{err}");
    let want = [
        "Unit containerd.service (/system.slice/containerd.service):",
        "Unit kubelet.service (/system.slice/kubelet.service):",
    ];
    assert_eq!(headers(&out), want);
    // `-u` with no value (here followed by another flag): the arguments are unit names,
    // as systemd-cgls's `-u` with its optional argument.
    let (out2, _, code) = run_fixture(KUBE, &["-u", "-k", "containerd", "kubelet"]);
    assert_eq!(code, 0);
    assert_eq!(headers(&out2), want);
    assert_eq!(out, out2);
    // `-u` and no name at all: the whole tree, as systemd-cgls.
    let (whole, _, _) = run_fixture(KUBE, &[]);
    let (bare, _, code) = run_fixture(KUBE, &["-u"]);
    assert_eq!(code, 0);
    assert_eq!(bare, whole);
}

#[test]
fn a_unit_inside_a_container_or_user_manager_is_not_the_hosts() {
    // kubelet.service runs inside the kind node, not on the host.
    let (out, err, code) = run_fixture("arch-docker-kind", &["-u", "kubelet"]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "unit kubelet.service: no cgroup of that name belongs to the host's system manager"
        ),
        "{err}"
    );
    assert!(err.contains("/system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope/kubelet.slice/kubelet.service"), "{err}");
    assert!(
        err.contains("inside docker container kind-control-plane"),
        "{err}"
    );
    // The host's own containerd.service is found beside the node's.
    let (out, _, code) = run_fixture("arch-docker-kind", &["-u", "containerd"]);
    assert_eq!(code, 0);
    assert_eq!(
        headers(&out),
        ["Unit containerd.service (/system.slice/containerd.service):"]
    );
    // LXC: the container's own systemd tree.
    let (_, err, code) = run_fixture("lxc", &["-u", "user@1000.service"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("inside lxc container web at /lxc.payload.web"),
        "{err}"
    );
    // A system unit below a user manager is that manager's, not the host's.
    let (_, err, code) = run_fixture("desktop", &["-u", "dbus-broker"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("inside the user manager /user.slice/user-1000.slice/user@1000.service"),
        "{err}"
    );
}

#[test]
fn a_unit_not_found_is_one_line_and_exit_2_while_the_others_are_shown() {
    let (out, err, code) = run_fixture(KUBE, &["-u", "nosuch", "-u", "containerd"]);
    assert_eq!(code, 2);
    assert_eq!(
        err,
        "cgtree: unit nosuch.service: no cgroup of that name in the hierarchy (the unit is \
         not running, or has no cgroup of its own)\n"
    );
    assert_eq!(
        headers(&out),
        ["Unit containerd.service (/system.slice/containerd.service):"]
    );
}

/// Two cgroups of one name both laid out as system units: ambiguous, listed escaped.
#[test]
fn an_ambiguous_unit_lists_its_candidates_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    common::copy_tree(&common::repo_root().join("fixtures").join(KUBE), tmp.path());
    let cg = tmp.path().join("sys/fs/cgroup");
    for slice in ["other.slice", "evil\x1b[31m.slice"] {
        for dir in [cg.join(slice), cg.join(slice).join("containerd.service")] {
            std::fs::create_dir(&dir).unwrap();
            for (f, c) in [
                ("cgroup.type", "domain\n"),
                ("cgroup.procs", ""),
                ("cgroup.controllers", "cpu\n"),
                ("cgroup.subtree_control", ""),
            ] {
                std::fs::write(dir.join(f), c).unwrap();
            }
        }
    }
    let (out, err, code) = common::run_root(tmp.path(), &["-u", "containerd"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "unit containerd.service: 3 cgroups of that name belong to the host's system manager: "
        ),
        "{err}"
    );
    for p in [
        "/other.slice/containerd.service",
        "/system.slice/containerd.service",
        "/evil\\x1b[31m.slice/containerd.service",
    ] {
        assert!(err.contains(p), "{p} in {err}");
    }
    assert!(!err.contains('\x1b'), "{err:?}");
}

/// Runs cgtree as `uid` (its real UID): `--user-unit` takes that user's manager.
fn run_as(uid: u32, args: &[&str]) -> (String, String, i32) {
    let out = Command::new("setpriv")
        .args([
            &format!("--reuid={uid}"),
            &format!("--regid={uid}"),
            "--clear-groups",
            env!("CARGO_BIN_EXE_cgtree"),
        ])
        .args(args)
        .current_dir(common::repo_root())
        .env_clear()
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .output()
        .expect("setpriv (util-linux)");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn user_unit_is_below_the_callers_own_user_manager() {
    if !nix::unistd::geteuid().is_root() {
        // As the live tests (common::live_mount): skipped only when asked.
        assert!(
            std::env::var_os("CGTREE_SKIP_LIVE").is_some_and(|v| v == "1"),
            "setpriv to another UID needs root; set CGTREE_SKIP_LIVE=1 to skip"
        );
        return;
    }
    let args = [
        "--root",
        "fixtures/desktop",
        "--user-unit",
        "session.slice",
        "--user-unit=dbus-broker",
    ];
    let (out, err, code) = run_as(1000, &args);
    assert_eq!(code, 0, "{err}");
    let m = "/user.slice/user-1000.slice/user@1000.service";
    assert_eq!(
        headers(&out),
        [
            format!("Unit session.slice ({m}/session.slice):"),
            format!("Unit dbus-broker.service ({m}/session.slice/dbus-broker.service):"),
        ]
    );
    assert!(out.contains("/usr/bin/gnome-shell"), "{out}");
    // Another real UID, another manager: UID 1001 has none in this fixture...
    let (out, err, code) = run_as(1001, &args);
    assert_eq!((out.as_str(), code), ("", 2));
    assert!(
        err.contains(
            "--user-unit: the user manager of UID 1001: unit user@1001.service: no cgroup"
        ),
        "{err}"
    );
    // ... and one in this one (its units in its own slices).
    let (out, err, code) = run_as(
        1001,
        &[
            "--root",
            "fixtures/podman-rootless-systemd-pod",
            "--user-unit",
            "user.slice",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        headers(&out),
        ["Unit user.slice (/user.slice/user-1001.slice/user@1001.service/user.slice):"]
    );
    assert!(out.contains("[podman pod dd1d3ecabe84]"), "{out}");
    // -u and --user-unit do not combine (systemd-cgls: "Cannot combine").
    let (_, err, code) = run_fixture("desktop", &["-u", "a", "--user-unit", "b"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn machine_shows_a_containers_subtree_by_name_or_id() {
    let (by_name, err, code) = run_fixture("arch-docker-kind", &["-M", "kind-control-plane"]);
    assert_eq!(code, 0, "{err}");
    let scope = "/system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope";
    assert_eq!(headers(&by_name), [format!("CGroup {scope}:")]);
    assert!(by_name.lines().nth(1).unwrap().starts_with(&format!(
        "{scope} [docker container kind-control-plane · kind node]"
    )));
    assert!(by_name.contains("kube-apiserver"), "{by_name}");
    // The host's own services are not in it.
    assert!(!by_name.contains("/usr/bin/dockerd"), "{by_name}");
    // A unique id prefix of 12 hex digits, and the full id, name the same container.
    let (by_prefix, _, code) = run_fixture("arch-docker-kind", &["-M", "8aea66260a20"]);
    assert_eq!(code, 0);
    assert_eq!(by_prefix, by_name);
    let full = "8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca";
    assert_eq!(
        run_fixture("arch-docker-kind", &["--machine", full]).0,
        by_name
    );
    // Shorter than 12: not an id prefix.
    let (out, err, code) = run_fixture("arch-docker-kind", &["-M", "8aea6626"]);
    assert_eq!((out.as_str(), code), ("", 2));
    assert_eq!(
        err,
        "cgtree: -M 8aea6626: no container, kind node, pod or machine of that name or id \
         here; named ones: kind-control-plane\n"
    );
}

#[test]
fn machine_takes_pods_lxc_and_nspawn_machines() {
    // A pod by namespace/name, and by name (unique): its slice, the outermost of the pod
    // and its containers (which carry the pod too).
    let pod = "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0dd1ecb7_3a9e_8626_0271_3227238f4c61.slice";
    let (out, err, code) = run_fixture(KUBE, &["-M", "default/web-6f9c7b8d5-abcde"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(headers(&out), [format!("CGroup {pod}:")]);
    assert!(
        out.contains("[container nginx]") && out.contains("[pod sandbox]"),
        "{out}"
    );
    assert_eq!(run_fixture(KUBE, &["-M", "web-6f9c7b8d5-abcde"]).0, out);
    // A pod's container by its name.
    let (out, _, code) = run_fixture(KUBE, &["-M", "coredns"]);
    assert_eq!(code, 0);
    assert!(
        out.lines().nth(1).unwrap().contains("[container coredns]"),
        "{out}"
    );
    assert!(!out.contains("/pause"), "{out}");
    // LXC.
    let (out, _, code) = run_fixture("lxc", &["-M", "web"]);
    assert_eq!(code, 0);
    assert_eq!(headers(&out), ["CGroup /lxc.payload.web:"]);
    assert!(out.contains("nginx: master process"), "{out}");
    assert!(!out.contains("alpine"), "{out}");
    // nspawn: the unit machined registers, with its payload and supervisor.
    let (out, _, code) = run_fixture("nspawn", &["-M", "deb1"]);
    assert_eq!(code, 0);
    assert_eq!(
        headers(&out),
        ["CGroup /machine.slice/systemd-nspawn@deb1.service:"]
    );
    assert!(out.contains("payload [nspawn container deb1]"), "{out}");
    assert!(
        out.contains("supervisor [nspawn supervisor of deb1]"),
        "{out}"
    );
    // A machined machine (scope).
    let (out, _, code) = run_fixture("nspawn", &["-M", "my-box"]);
    assert_eq!(code, 0);
    assert_eq!(
        headers(&out),
        ["CGroup /machine.slice/machine-my\\x2dbox.scope:"]
    );
}

#[test]
fn machine_paths_are_relative_to_its_cgroup() {
    let (out, err, code) = run_fixture("lxc", &["-M", "web", "/system.slice", "init.scope"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        headers(&out),
        [
            "CGroup /lxc.payload.web/system.slice:",
            "CGroup /lxc.payload.web/init.scope:"
        ]
    );
    assert!(
        out.contains("systemd-journald") && out.contains("/sbin/init"),
        "{out}"
    );
    // The host's own /system.slice is not it.
    let (out, err, code) = run_fixture("lxc", &["-M", "web", "/nosuch"]);
    assert_eq!((out.as_str(), code), ("", 2));
    assert_eq!(
        err,
        "cgtree: -M web: no cgroup /nosuch below /lxc.payload.web\n"
    );
    // --depth counts from the machine's cgroup.
    let (out, _, _) = run_fixture("lxc", &["-M", "web", "--depth", "1"]);
    assert!(out.contains("├─system.slice …"), "{out}");
    assert!(!out.contains("nginx"), "{out}");
}

#[test]
fn machine_matching_distinct_cgroups_lists_them() {
    // The kubelet and containerd disagree on the cgroup driver: the pod's slice is empty
    // and its containers are elsewhere, so the pod's name matches distinct cgroups.
    let (out, err, code) = run_fixture("driver-mismatch", &["-M", "default/web-7c5ddbdf54-8xk2p"]);
    assert_eq!((out.as_str(), code), ("", 2));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("cgtree: -M default/web-7c5ddbdf54-8xk2p: 3 cgroups match: pod default/web-7c5ddbdf54-8xk2p at /kubepods.slice/"),
        "{err}"
    );
    // -M and -u do not combine (systemd-cgls: "Cannot combine --unit ... with --machine=").
    let (_, err, code) = run_fixture("lxc", &["-M", "web", "-u", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// The JSON document of a subtree: its root is the unit's or machine's cgroup, every
/// node below it, and it validates against the schema.
#[test]
fn json_of_unit_and_machine_is_their_subtree() {
    fn paths(n: &serde_json::Value, out: &mut Vec<String>) {
        out.push(n["path"].as_str().unwrap().to_string());
        for c in n["children"].as_array().unwrap() {
            paths(c, out);
        }
    }
    let (out, err, code) = run_fixture("lxc", &["--json", "-M", "web"]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate(&doc).unwrap();
    assert_eq!(doc["cgroup"]["name"], "/lxc.payload.web");
    assert_eq!(doc["cgroup"]["identity"]["kind"], "lxc-container");
    let mut all = Vec::new();
    paths(&doc["cgroup"], &mut all);
    assert!(all.len() > 5, "{all:?}");
    assert!(
        all.iter().all(|p| p.starts_with("/lxc.payload.web")),
        "{all:?}"
    );
    assert!(all.contains(&"/lxc.payload.web/system.slice/nginx.service".to_string()));
    // The parent id is that of the cgroup above (the root's, as in a walk from there).
    let (whole, _, _) = run_fixture("lxc", &["--json"]);
    let whole: serde_json::Value = serde_json::from_str(&whole).unwrap();
    assert_eq!(doc["cgroup"]["parent_id"], whole["cgroup"]["id"]);

    let (out, _, code) = run_fixture(KUBE, &["--json", "-u", "containerd"]);
    assert_eq!(code, 0);
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    common::validate(&doc).unwrap();
    assert_eq!(doc["cgroup"]["path"], "/system.slice/containerd.service");
    assert_eq!(doc["cgroup"]["processes"][0]["pid"], 650);
    // Several: an array, one document each.
    let (out, _, code) = run_fixture(KUBE, &["--json", "-u", "containerd", "-u", "kubelet"]);
    assert_eq!(code, 0);
    let docs: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let roots: Vec<&str> = docs
        .iter()
        .map(|d| {
            common::validate(d).unwrap();
            d["cgroup"]["path"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        roots,
        [
            "/system.slice/containerd.service",
            "/system.slice/kubelet.service"
        ]
    );
}

/// The identification of a subtree comes from the whole tree: a containerd task named
/// only by its containerd (whose `--state` is learned from the containerd process, in a
/// cgroup beside the task) is identified by `-M`, where a walk started at the task's
/// cgroup cannot tell what it is.
#[test]
fn machine_keeps_the_whole_trees_identities() {
    let fx = "containerd-named-tasks";
    let (sub, err, code) = run_fixture(fx, &["-M", "redis1"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(headers(&sub), ["CGroup /default/redis1:"]);
    let root_line = sub.lines().nth(1).unwrap();
    assert!(
        root_line.starts_with("/default/redis1 [containerd container redis1 (namespace default)]"),
        "{sub}"
    );
    // The same cgroup walked from there alone is not identified.
    let (alone, _, _) = run_fixture(fx, &["/default/redis1"]);
    assert!(
        !alone.lines().next().unwrap().contains("redis1 ["),
        "{alone}"
    );
    // The rest of the subtree is the same as the walk from there shows it.
    assert_eq!(
        sub.lines().skip(2).collect::<Vec<_>>(),
        alone.lines().skip(1).collect::<Vec<_>>()
    );
}

#[test]
fn several_cgroup_paths_one_tree_each() {
    let (out, err, code) = run_fixture(
        KUBE,
        &[
            "/system.slice/containerd.service",
            "system.slice/kubelet.service",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        headers(&out),
        [
            "CGroup /system.slice/containerd.service:",
            "CGroup /system.slice/kubelet.service:"
        ]
    );
    // Each tree is what that path alone shows, after its header.
    let (one, _, _) = run_fixture(KUBE, &["/system.slice/kubelet.service"]);
    assert!(!one.starts_with("CGroup "), "{one}");
    assert!(
        out.ends_with(&format!("CGroup /system.slice/kubelet.service:\n{one}")),
        "{out}"
    );
    // A missing one: the others shown, exit 2.
    let (out, err, code) = run_fixture(KUBE, &["/nosuch", "/system.slice/kubelet.service"]);
    assert_eq!(code, 2);
    assert!(err.contains("nosuch"), "{err}");
    assert_eq!(headers(&out), ["CGroup /system.slice/kubelet.service:"]);
}

#[test]
fn cgroup_id_takes_an_optional_boolean() {
    let has_id = |args: &[&str]| {
        let (out, err, code) = run_fixture(KUBE, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out.contains(" (#")
    };
    assert!(!has_id(&[]));
    assert!(has_id(&["-c"]));
    assert!(has_id(&["--cgroup-id"]));
    assert!(has_id(&["--cgroup-id=yes"]));
    assert!(has_id(&["-c=1"]));
    assert!(!has_id(&["--cgroup-id=no"]));
    assert!(!has_id(&["-c", "-c=off"]));
    // A path after -c is a path, not its value.
    let (out, _, code) = run_fixture(KUBE, &["-c", "/system.slice"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("/system.slice (#"), "{out}");
    let (_, err, code) = run_fixture(KUBE, &["--cgroup-id=maybe"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a boolean"), "{err}");
    let (_, err, code) = run_fixture(KUBE, &["--xattr=maybe"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a boolean"), "{err}");
}

#[test]
fn users_moved_to_capital_u() {
    let fx = "wsl-rootless-podman-kind";
    let (plain, _, _) = run_fixture(fx, &["/user.slice"]);
    let (short, _, code) = run_fixture(fx, &["-U", "/user.slice"]);
    assert_eq!(code, 0);
    let (long, _, _) = run_fixture(fx, &["--users", "/user.slice"]);
    assert_eq!(short, long);
    assert_ne!(short, plain);
    assert!(
        short.contains("(root in ctr)") || short.contains(" in ctr)"),
        "{short}"
    );
    // `-u` is a unit now: /user.slice is a unit name (slice), not a path.
    let (out, err, code) = run_fixture(fx, &["-u", "user.slice"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(headers(&out), ["Unit user.slice (/user.slice):"]);
}

/// `-x` on live cgroups: the `user.` and `trusted.` attributes of each cgroup below its
/// name, as systemd-cgls draws them, values escaped; other namespaces not shown.
#[test]
fn xattrs_of_live_cgroups() {
    let Some(mount) = common::live_mount("xattrs_of_live_cgroups") else {
        return;
    };
    let name = common::unique_cgroup_name("xattr");
    let mut live = common::LiveTree::default();
    let top = mount.join(&name);
    live.mkdir(&top);
    live.mkdir(&top.join("a"));
    live.mkdir(&top.join("b"));
    let set = |p: &Path, n: &str, v: &[u8]| {
        rustix::fs::setxattr(p, n, v, rustix::fs::XattrFlags::empty())
            .unwrap_or_else(|e| panic!("setxattr {n} on {}: {e}", p.display()));
    };
    set(&top, "user.top", b"root value");
    set(&top.join("a"), "user.note", b"two\nlines\x1b[31m");
    set(&top.join("a"), "trusted.delegate", b"1");
    set(&top.join("b"), "user.b", b"x");
    let out = common::output_ok(common::cgtree().args(["-a", "-x", &format!("/{name}")]));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<String> = text.lines().map(common::without_controllers).collect();
    assert!(
        lines[0].starts_with(&format!("/{name} (cgroup2 on {}", mount.display())),
        "{text}"
    );
    assert_eq!(
        lines[1..],
        [
            "→ user.top: root value".to_string(),
            "├─a".to_string(),
            "│ → user.note: two\\nlines\\x1b[31m".to_string(),
            "│ → trusted.delegate: 1".to_string(),
            "└─b".to_string(),
            "  → user.b: x".to_string(),
        ],
        "{text}"
    );
    // Off by default, and with --xattr=no.
    for args in [&["-a"][..], &["-a", "--xattr=no"]] {
        let mut a = args.to_vec();
        let p = format!("/{name}");
        a.push(&p);
        let out = common::output_ok(common::cgtree().args(&a));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains('→'), "{args:?}: {text}");
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}

/// systemd-cgls takes directories of the cgroup file system as arguments
/// (src/cgls/cgls.c: `Directory PATH:`, and systemd's test/units/TEST-74-AUX-UTILS.cgls.sh
/// runs `systemd-cgls /sys/fs/cgroup/system.slice/...`): the same subtree as the cgroup
/// path, under that header. A directory of another hierarchy (a v1 one beside the
/// cgroup2 mount) is an error naming the mount; the other arguments are still shown.
#[test]
fn cgroup_file_system_directories_are_arguments() {
    let (by_path, _, code) = run_fixture(KUBE, &["/system.slice/containerd.service"]);
    assert_eq!(code, 0);
    let (out, err, code) = run_fixture(KUBE, &["/sys/fs/cgroup/system.slice/containerd.service"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("Directory /sys/fs/cgroup/system.slice/containerd.service:\n{by_path}")
    );
    // The mount's directory under --root names it too.
    let (out, err, code) = run_fixture(
        KUBE,
        &["fixtures/k8s-systemd/sys/fs/cgroup/system.slice/containerd.service"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.ends_with(&by_path), "{out}");

    // Beside another one (a hybrid host: cgroup2 at /sys/fs/cgroup/unified).
    let (by_path, _, _) = run_fixture("hybrid-host", &["/"]);
    let (out, err, code) = run_fixture(
        "hybrid-host",
        &[
            "/sys/fs/cgroup/memory/v1-only-group",
            "/sys/fs/cgroup/unified",
        ],
    );
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("/sys/fs/cgroup/memory/v1-only-group: not a directory of the cgroup2 hierarchy (mounted at /sys/fs/cgroup/unified)"),
        "{err}"
    );
    assert_eq!(out, format!("Directory /sys/fs/cgroup/unified:\n{by_path}"));
}

/// With no argument and a working directory inside the cgroup file system, systemd-cgls
/// shows that directory's subtree under `Working directory PATH:` (src/cgls/cgls.c); a
/// working directory elsewhere shows the whole tree.
#[test]
fn a_working_directory_in_the_cgroup_file_system_is_the_start() {
    let root = common::repo_root().join("fixtures").join(KUBE);
    let cwd = root.join("sys/fs/cgroup/system.slice");
    let o = common::output_ok(common::cgtree().arg("--root").arg(&root).current_dir(&cwd));
    let out = String::from_utf8(o.stdout).unwrap();
    let (by_path, _, _) = run_fixture(KUBE, &["/system.slice"]);
    let cwd = cwd.canonicalize().unwrap();
    assert_eq!(
        out,
        format!("Working directory {}:\n{by_path}", cwd.display())
    );
    // A relative --root as well.
    let o = common::output_ok(
        common::cgtree()
            .args(["--root", "../../../.."])
            .current_dir(&cwd),
    );
    assert_eq!(String::from_utf8(o.stdout).unwrap(), out);
    // Elsewhere: the whole tree, no header.
    let (whole, _, _) = run_fixture(KUBE, &[]);
    assert!(whole.starts_with("/ (cgroup2"), "{whole}");

    // Live, as systemd's test does (`cd /sys/fs/cgroup/init.scope && systemd-cgls`).
    let Some(mount) = common::live_mount("working directory live") else {
        return;
    };
    let name = common::unique_cgroup_name("cwd");
    let mut live = common::LiveTree::default();
    let top = mount.join(&name);
    live.mkdir(&top);
    live.mkdir(&top.join("child"));
    let o = common::output_ok(common::cgtree().arg("-a").current_dir(&top));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("Working directory {}:", top.display()));
    assert!(
        lines[1].starts_with(&format!("/{name} (cgroup2 on ")),
        "{out}"
    );
    // (Without the controllers the host's root grants: they are the host's, not this
    // test's.)
    assert_eq!(common::without_controllers(lines[2]), "└─child", "{out}");
}

/// `-.slice`, the root slice (systemd.special(7)), is the manager's own cgroup: the whole
/// hierarchy for `--unit=-.slice`, as systemd-cgls shows it.
#[test]
fn the_root_slice_is_the_root() {
    let (whole, _, code) = run_fixture(KUBE, &[]);
    assert_eq!(code, 0);
    for args in [&["--unit=-.slice"][..], &["-u", "--", "-.slice"]] {
        let (out, err, code) = run_fixture(KUBE, args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert_eq!(out, format!("Unit -.slice (/):\n{whole}"), "{args:?}");
    }
}
