//! `kind-cluster`: a kind cluster runs under rootless podman.

use crate::{Check, Command, Context, Plan, Status, Step};

pub(super) const STEP: Step = Step {
    id: "kind-cluster",
    title: "a kind cluster runs under rootless podman",
    refs: &[
        "https://kind.sigs.k8s.io/docs/user/rootless/#creating-a-kind-cluster-with-rootless-\
         podman",
    ],
    check,
    plan,
};

fn check(cx: &mut Context<'_>) -> Check {
    let (ok, e) = kind_cluster(cx);
    Check {
        status: if ok { Status::Ok } else { Status::Missing },
        evidence: vec![e],
        fix: (!ok).then(|| {
            "create it: `KIND_EXPERIMENTAL_PROVIDER=podman systemd-run --scope --user kind \
             create cluster`"
                .into()
        }),
    }
}

fn plan(cx: &Context<'_>) -> Plan {
    if kind_cluster(cx).0 {
        return Plan::default();
    }
    Plan {
        commands: vec![Command {
            argv: vec![
                "env".into(),
                "KIND_EXPERIMENTAL_PROVIDER=podman".into(),
                "systemd-run".into(),
                "--scope".into(),
                "--user".into(),
                "kind".into(),
                "create".into(),
                "cluster".into(),
            ],
            user: cx.user.as_ref().map(|u| u.name.clone()),
            why: "create the cluster below the user manager".into(),
        }],
        ..Plan::default()
    }
}

/// Whether a kind node container in the tree runs kube-apiserver, with the evidence.
fn kind_cluster(cx: &Context<'_>) -> (bool, String) {
    let mut b = cgroup_core::TreeBuilder::new();
    b.host_root(cx.host.root()).identify(true);
    let Ok(tree) = b.build() else {
        return (false, "cannot read the cgroup tree".into());
    };
    for (i, n) in tree.nodes().iter().enumerate() {
        let Some(k) = n.identity.as_ref().and_then(|x| x.kind_node.as_ref()) else {
            continue;
        };
        // A kube-apiserver process anywhere below the node's cgroup.
        let mut stack = vec![i];
        while let Some(c) = stack.pop() {
            let node = tree.node(c);
            if node.processes.iter().flatten().any(|p| {
                p.args()
                    .next()
                    .is_some_and(|a| a.ends_with(b"kube-apiserver"))
            }) {
                return (true, format!("kind node {} runs kube-apiserver", k.name));
            }
            stack.extend(node.children.iter().copied());
        }
        return (
            false,
            format!("kind node {} has no kube-apiserver process", k.name),
        );
    }
    (
        false,
        "no kind node container found in the cgroup tree".into(),
    )
}
