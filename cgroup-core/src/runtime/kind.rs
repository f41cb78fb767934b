//! Kubernetes nodes run in a container: kind and minikube. No cgroup shape of their own
//! (a node is a container of podman or docker); a container whose inside is a node
//! (`init.scope` next to the kubelet's cgroups) is one of theirs only with their
//! evidence: kind's labels `io.x-k8s.kind.cluster` / `io.x-k8s.kind.role` (docker's
//! `config.v2.json`) or kind's node image (`kindest/node`, podman's storage metadata);
//! minikube's labels `created_by.minikube.sigs.k8s.io` / `name.minikube.sigs.k8s.io`.
//! The node's name is the runtime's container name (what `kind get nodes` prints); the
//! hostname only when the runtime gives none.
//!
//! Sources: kubernetes-sigs/kind `pkg/cluster/internal/providers/podman/provision.go`
//! and `.../docker/provision.go` (labels, `--hostname`), `pkg/cluster/constants`
//! (`io.x-k8s.kind.cluster`, `io.x-k8s.kind.role`), `pkg/cluster/internal/providers/common/namer.go`
//! (`<cluster>-<role>[N]`); kubernetes/minikube `pkg/drivers/kic/oci/types.go`
//! (`created_by.minikube.sigs.k8s.io`, `name.minikube.sigs.k8s.io`).

use super::{Family, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
#[allow(unused_imports)]
use crate::runtime::{containerd::*, docker::*, kubelet::*, oci::*, podman::*};
use std::collections::HashMap;
use std::path::Path;

/// The row of container-run Kubernetes nodes.
pub struct KindNodes;

/// kind's label naming a node's cluster.
pub const KIND_CLUSTER_LABEL: &str = "io.x-k8s.kind.cluster";
/// kind's label naming a node's role.
pub const KIND_ROLE_LABEL: &str = "io.x-k8s.kind.role";
/// minikube's label on its node containers.
pub const MINIKUBE_CREATED_LABEL: &str = "created_by.minikube.sigs.k8s.io";
/// minikube's label naming the profile (the cluster).
pub const MINIKUBE_NAME_LABEL: &str = "name.minikube.sigs.k8s.io";

/// Whether an image name is kind's node image (`kindest/node`, any registry, tag or
/// digest).
pub fn is_kind_image(image: &str) -> bool {
    let path = image.split(['@', ':']).next().unwrap_or(image);
    path == "kindest/node" || path.ends_with("/kindest/node")
}

/// Whether the inside of a container looks like a Kubernetes node: `init.scope` next to
/// `kubelet.slice`, `kubelet.service` or a kubepods root (directly, or below crun's
/// `container` sub-cgroup). Returns the sub-cgroup it was found in. A shape: the node's
/// runtime still has to say whose node it is.
pub fn looks_like_node<'a>(children: impl Fn(&[u8]) -> Vec<&'a [u8]>) -> Option<Vec<u8>> {
    for prefix in [&b""[..], b"container"] {
        let names = children(prefix);
        let init = names.iter().any(|n| *n == b"init.scope");
        let kubelet = names.iter().any(|n| {
            *n == b"kubelet.slice"
                || *n == b"kubelet.service"
                || *n == b"kubelet"
                || *n == b"kubepods.slice"
                || *n == b"kubepods"
        });
        if init && kubelet {
            return Some(prefix.to_vec());
        }
    }
    None
}

impl Runtime for KindNodes {
    fn family(&self) -> Family {
        Family::Kind
    }

    fn snapshot_keep(&self, rel: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
        // A node's hostname (its name when the runtime gives none): the first line.
        if rel != Path::new("etc/hostname") {
            return None;
        }
        let mut line = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]).to_vec();
        line.push(b'\n');
        Some(line)
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "kubernetes-sigs/kind pkg/cluster/internal/providers/podman/provision.go",
            "kubernetes-sigs/kind pkg/cluster/internal/providers/docker/provision.go",
            "kubernetes/minikube pkg/drivers/kic/oci/types.go",
        ]
    }
}

/// The kind cluster of a node name: `<cluster>-control-plane`, `<cluster>-worker[N]`,
/// `<cluster>-external-load-balancer`.
pub fn cluster_of(node: &str) -> Option<String> {
    for suffix in ["-control-plane", "-external-load-balancer"] {
        if let Some(c) = node.strip_suffix(suffix) {
            return (!c.is_empty()).then(|| c.to_string());
        }
    }
    let digits = node.trim_end_matches(|c: char| c.is_ascii_digit());
    digits
        .strip_suffix("-worker")
        .filter(|c| !c.is_empty())
        .map(str::to_string)
}

impl Resolver {
    /// A container whose inside is a Kubernetes node: the node's facts. Its tool's
    /// evidence (kind's or minikube's labels, kind's node image) was read with the
    /// container ([`node_from_labels`], [`node_from_image`]); without any, the node is
    /// one no tool claims (`distribution` null), named by the container's name, else its
    /// hostname (through its init's root).
    pub(crate) fn node(&mut self, ident: &mut Identity, init_pid: Option<u32>) {
        if ident.node.is_none() {
            let name = match ident.name.clone() {
                Some(n) => n,
                None => init_pid
                    .and_then(|pid| {
                        let b = self.read(RootKey::Proc(pid), Path::new("etc/hostname"))?;
                        let line = b.split(|&c| c == b'\n').next().unwrap_or(&[]);
                        let line = line.trim_ascii();
                        (!line.is_empty()).then(|| lossy(&line[..line.len().min(253)]))
                    })
                    .unwrap_or_default(),
            };
            ident.node = Some(NodeRef {
                distribution: None,
                name,
                cluster: None,
                role: None,
            });
        }
        ident.kind_node = ident.node.as_ref().and_then(|n| {
            (n.distribution == Some("kind")).then(|| KindNode {
                name: n.name.clone(),
                cluster: n.cluster.clone(),
            })
        });
    }
}

/// A node from a container's labels (docker's `config.v2.json`): kind's
/// (`io.x-k8s.kind.cluster`, `io.x-k8s.kind.role`) or minikube's
/// (`created_by.minikube.sigs.k8s.io=true`, `name.minikube.sigs.k8s.io=<profile>`).
/// The node's name is the container's name.
pub fn node_from_labels(labels: &HashMap<String, String>, name: &str) -> Option<NodeRef> {
    if let Some(cluster) = labels.get(KIND_CLUSTER_LABEL) {
        return Some(NodeRef {
            distribution: Some("kind"),
            name: name.to_string(),
            cluster: Some(cut(cluster.clone())),
            role: labels.get(KIND_ROLE_LABEL).cloned().map(cut),
        });
    }
    if labels.get(MINIKUBE_CREATED_LABEL).map(String::as_str) == Some("true") {
        return Some(NodeRef {
            distribution: Some("minikube"),
            name: name.to_string(),
            cluster: labels.get(MINIKUBE_NAME_LABEL).cloned().map(cut),
            role: labels.get("role.minikube.sigs.k8s.io").cloned().map(cut),
        });
    }
    None
}

/// A kind node from its image (podman keeps labels only in its database): kind's node
/// image is kind's evidence; the cluster is then read from the container's name
/// (`<cluster>-control-plane`, `<cluster>-worker[N]`: kind's namer).
pub fn node_from_image(image: Option<&str>, name: Option<&str>) -> Option<NodeRef> {
    if !image.is_some_and(is_kind_image) {
        return None;
    }
    let name = name.unwrap_or_default();
    Some(NodeRef {
        distribution: Some("kind"),
        name: name.to_string(),
        cluster: cluster_of(name),
        role: None,
    })
}
