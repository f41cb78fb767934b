//! The guide's two `systemctl status` trees (../shared/seed, quoted below with the
//! guide's own elisions) must be reproduced by cgtree on the matching fixture: every
//! cgroup under the same ancestors, every PID in the same cgroup, every command line
//! starting with what the guide shows (the guide cuts long lines).

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{chains, parse_tree, run_fixture};

const GUIDE_WSL: &str = "/
├─user.slice
│ └─user-1000.slice
│   ├─user@1000.service
│   │ ├─app.slice
│   │ │ ├─podman.service
│   │ │ │ ├─532 /usr/bin/podman
│   │ │ │ └─734 /usr/bin/dbus-daemon --syslog --fork --print-pid 4 --print-address 6 --session
│   │ │ ├─a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38
│   │ │ │ ├─init.scope
│   │ │ │ │ └─70678 /sbin/init
│   │ │ │ ├─system.slice
│   │ │ │ │ ├─containerd.service
│   │ │ │ │ │ ├─70837
│   │ │ │ │ │ ├─71711
│   │ │ │ │ │ ├─71731
│   │ │ │ │ │ ├─71755
│   │ │ │ │ │ ├─71798
│   │ │ │ │ │ ├─73781
│   │ │ │ │ │ ├─73816
│   │ │ │ │ │ ├─74237
│   │ │ │ │ │ ├─74259
│   │ │ │ │ │ └─74284 /usr/local/bin/containerd-shim-runc-v2 -namespace k8s.io -id 4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817 -address /run/containerd/containerd.sock
│   │ │ │ └─kubelet.slice
│   │ │ │   ├─kubelet.service
│   │ │ │   │ └─72203 /usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/con
";

const GUIDE_ARCH: &str = "/
├─init.scope
│ └─1 /sbin/init
├─system.slice
│ ├─containerd.service
│ ├─docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope
│ │ ├─init.scope
│ │ │ └─43996 /sbin/init
│ │ ├─kubelet.slice
│ │ │ └─kubelet.service
│ │ │   └─44913 /usr/bin/kubelet --bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///run/containerd/containerd.sock --node-ip=172.18.0.2 --node-l
│ │ └─system.slice
│ │   ├─containerd.service
│ │   └─systemd-journald.service
│ │     └─44127 /lib/systemd/systemd-journald
│ ├─docker.service
│ │ ├─ 1368 /usr/bin/dockerd -H fd:// --containerd=/run/containerd/containerd.sock
│ │ └─43961 /usr/bin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port 40721 -container-ip 172.18.0.2 -container-port 6443
";

/// What a line says: a cgroup name, or a PID with the start of its command line.
#[derive(Debug, PartialEq, Eq)]
enum Entry {
    Cgroup(String),
    Pid(u32, String),
}

fn entry(text: &str) -> Entry {
    let t = text.trim_start();
    let (first, rest) = t.split_once(' ').unwrap_or((t, ""));
    match first.parse::<u32>() {
        // cgtree puts a monitor's role (`[shim of pod ...] `) before its command line.
        Ok(pid) => {
            let cmd = match rest.strip_prefix('[').and_then(|r| r.split_once("] ")) {
                Some((_, cmd)) => cmd,
                None => rest,
            };
            Entry::Pid(pid, cmd.to_string())
        }
        // The root line of cgtree carries the mount after the name.
        Err(_) => Entry::Cgroup(first.to_string()),
    }
}

fn keyed(text: &str) -> Vec<(Vec<Entry>, Entry)> {
    chains(&parse_tree(text))
        .into_iter()
        .map(|(anc, own)| (anc.iter().map(|a| entry(a)).collect(), entry(&own)))
        .collect()
}

fn assert_reproduced(guide: &str, scenario: &str) -> usize {
    let (out, err, code) = run_fixture(scenario, &["--full"]);
    assert_eq!((code, err.as_str()), (0, ""));
    let ours = keyed(&out);
    let mut checked = 0;
    for (anc, own) in keyed(guide) {
        let found = ours.iter().any(|(a, o)| {
            a == &anc
                && match (o, &own) {
                    (Entry::Cgroup(x), Entry::Cgroup(y)) => x == y,
                    (Entry::Pid(p, cmd), Entry::Pid(q, want)) => {
                        p == q && cmd.starts_with(want.as_str())
                    }
                    _ => false,
                }
        });
        assert!(
            found,
            "guide entry {own:?} under {anc:?} is missing from cgtree's output:\n{out}"
        );
        checked += 1;
    }
    checked
}

#[test]
fn guide_first_tree_is_reproduced_by_the_wsl_fixture() {
    // The root, 11 cgroups and 14 PIDs of the guide, each checked with its ancestors.
    assert_eq!(assert_reproduced(GUIDE_WSL, "wsl-rootless-podman-kind"), 26);
}

#[test]
fn guide_second_tree_is_reproduced_by_the_arch_fixture() {
    assert_eq!(assert_reproduced(GUIDE_ARCH, "arch-docker-kind"), 18);
}

#[test]
fn a_wrong_guide_entry_is_detected() {
    // The check itself can fail: a PID moved to another cgroup is reported.
    let moved = GUIDE_ARCH.replace("│ │ │ └─43996 /sbin/init", "│ │ │ └─44127 /sbin/init");
    let r = std::panic::catch_unwind(|| assert_reproduced(&moved, "arch-docker-kind"));
    assert!(r.is_err());
}
