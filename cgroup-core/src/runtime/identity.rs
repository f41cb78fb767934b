//! What an identified cgroup or process is: the types every runtime family fills in
//! (re-exported from [`crate::resolve`] for existing callers). A family that names new
//! things adds its [`IdentityKind`]s in `runtime/mod.rs` and, for a
//! new kind of helper process, a [`ProcessRole`] variant here.

use super::IdentityKind;
use crate::classify::Qos;

/// A Kubernetes node that runs in a container (kind, minikube), confirmed by its
/// tool's evidence (see `crate::runtime::kind`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct NodeRef {
    /// `kind`, `minikube`, or null: a container whose inside is a Kubernetes node, with no
    /// tool's evidence.
    pub distribution: Option<&'static str>,
    /// Node name: the runtime's container name (what `kind get nodes` prints); the
    /// hostname only when the runtime gives no name.
    pub name: String,
    /// Cluster (kind) or profile (minikube), from the tool's label, else from the name.
    pub cluster: Option<String>,
    /// `control-plane`, `worker`, ... from the tool's label.
    pub role: Option<String>,
}

/// A kind node (kept for `kind_node` in JSON version 1; see [`NodeRef`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct KindNode {
    /// Node name (its hostname, e.g. `kind-control-plane`).
    pub name: String,
    /// Cluster name (`kind`), from a label or the node name.
    pub cluster: Option<String>,
}

/// A pod, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PodRef {
    /// Namespace.
    pub namespace: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// UID.
    pub uid: Option<String>,
    /// A static pod (the kubelet read it from a manifest; the API server shows its mirror
    /// pod): its UID is the kubelet's md5 of the manifest (32 hex digits) or its
    /// sandbox says `kubernetes.io/config.source` is not `api`.
    #[cfg_attr(feature = "serde", serde(rename = "static"))]
    pub is_static: bool,
}

/// A container of a pod.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct PodContainer {
    /// Container name in the pod spec.
    pub name: Option<String>,
    /// Container id.
    pub id: String,
    /// Image.
    pub image: Option<String>,
}

/// What a recognised cgroup is, with the names found for it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Identity {
    /// What it is (serialised as `podman-container`, `kube-pod`, ...).
    pub kind: IdentityKind,
    /// The runtime or manager (`podman`, `docker`, `containerd`, `cri-o`, `systemd`, `kubelet`).
    pub runtime: Option<&'static str>,
    /// Container or pod id.
    pub id: Option<String>,
    /// Container name, unit name (decoded), or daemon name.
    pub name: Option<String>,
    /// Image.
    pub image: Option<String>,
    /// For containers: run by a user's rootless runtime.
    pub rootless: Option<bool>,
    /// The user owning it (rootless containers, user slices and managers).
    pub user: Option<u32>,
    /// The container is a kind node.
    pub kind_node: Option<KindNode>,
    /// The pod (of a pod cgroup, or of a Kubernetes container).
    pub pod: Option<PodRef>,
    /// QoS class of a pod or QoS cgroup.
    pub qos: Option<Qos>,
    /// A Kubernetes container is its pod's sandbox (pause).
    pub sandbox: bool,
    /// The Kubernetes node this container runs (kind, minikube, or one no tool claims).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub node: Option<NodeRef>,
    /// Something cgtree diagnosed on the way (e.g. the kubelet's and the runtime's cgroup
    /// drivers disagree).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub diagnosis: Option<String>,
    /// A containerd task's namespace (`default`, `k8s.io`, ...).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub namespace: Option<String>,
    /// For [`IdentityKind::Unidentified`]:
    /// what was seen (the shape, and the state that was looked for and not found).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub seen: Option<String>,
    /// The tool that made a podman container, by its label: `toolbox`
    /// (`com.github.containers.toolbox=true`) or `distrobox` (`manager=distrobox`).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub tool: Option<&'static str>,
}

/// What a process does for others.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(tag = "kind", rename_all = "lowercase"))]
#[non_exhaustive]
pub enum ProcessRole {
    /// A containerd shim (`containerd-shim-runc-v2 -namespace NS -id SANDBOX`): one per
    /// pod, serving every container of the pod.
    Shim {
        /// containerd namespace (`k8s.io`).
        namespace: String,
        /// Sandbox id (the `-id`).
        sandbox: String,
        /// The pod whose sandbox this is.
        pod: Option<PodRef>,
        /// The pod's containers (not the sandbox).
        containers: Vec<PodContainer>,
    },
    /// conmon, monitoring one container.
    Conmon {
        /// Container id (`-c`).
        id: String,
        /// Container name: podman's `-n`; for CRI-O the pod's container name from its
        /// OCI config.
        name: Option<String>,
        /// Whose conmon: `podman` or `cri-o` (by the runtime's state that holds the id).
        runtime: &'static str,
        /// CRI-O: the pod of the container.
        #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
        pod: Option<PodRef>,
    },
    /// An LXC (LXD, Incus) container's monitor (`[lxc monitor] <lxcpath> <name>`).
    #[cfg_attr(feature = "serde", serde(rename = "lxc-monitor"))]
    LxcMonitor {
        /// Container name.
        name: String,
        /// The lxcpath it names.
        lxcpath: String,
        /// `lxc`, `lxd` or `incus`, by the lxcpath.
        runtime: &'static str,
    },
    /// A process of a podman container that runs outside the container's cgroup: conmon
    /// started it where the podman CLI ran (rootless, cgroupfs manager, no
    /// `--cgroup-parent`), and names it in its pidfile (`-p`) or is its parent.
    Started {
        /// Container id (conmon's `-c`).
        id: String,
        /// Container name (conmon's `-n`).
        name: Option<String>,
    },
}
