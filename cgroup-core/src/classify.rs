//! What a cgroup is, from its path alone: pure, table-driven, nested to any depth.
//!
//! [`classify_path`] reads the raw path components from the hierarchy root down and
//! returns one [`Kind`] per component. It keeps a context while it descends: inside a
//! container, names are read again as a fresh host (a kind node has its own
//! `init.scope`, `system.slice`, `kubelet.slice`); inside `kubepods`, the QoS level, the
//! pod and its containers are recognised by the naming of the kubelet driver in use.
//! Names are matched raw (systemd's `\xNN` escapes stay as they are on disk); decoding
//! for display is separate ([`unescape_systemd`], [`kube_uid`]). A shape that matches no
//! rule is [`Kind::Plain`]: nothing is guessed.
//!
//! Sources: the naming tables of podman (`libpod/`), moby, kubelet
//! (`cgroup_manager_linux.go`), containerd's CRI plugin, cri-o and kind, as summarised in
//! the project's runtime notes.

use crate::runtime::{Family, IdentityKind};
use std::borrow::Cow;

/// Kubernetes QoS class of a pod.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Qos {
    /// Requests equal limits: no QoS level in the path.
    Guaranteed,
    /// `burstable`.
    Burstable,
    /// `besteffort`.
    BestEffort,
}

impl Qos {
    pub(crate) fn from_name(name: &[u8]) -> Option<Qos> {
        match name {
            b"burstable" => Some(Qos::Burstable),
            b"besteffort" => Some(Qos::BestEffort),
            _ => None,
        }
    }

    /// The kubelet's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Qos::Guaranteed => "guaranteed",
            Qos::Burstable => "burstable",
            Qos::BestEffort => "besteffort",
        }
    }
}

/// The kubelet cgroup driver that named a kubepods subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Driver {
    /// `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice`.
    Systemd,
    /// `kubepods/burstable/pod<uid>`.
    Cgroupfs,
}

/// The runtime that named a Kubernetes container's cgroup.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CriRuntime {
    /// `cri-containerd-<id>.scope`.
    Containerd,
    /// `crio-<id>.scope`, `crio-<id>`.
    Crio,
    /// `docker-<id>.scope` under a pod (cri-dockerd).
    Docker,
    /// A bare `<id>` (cgroupfs driver): containerd or another CRI runtime.
    Unknown,
}

/// What one cgroup is, judged from its name and its ancestors' names.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// The hierarchy root.
    Root,
    /// `user-<uid>.slice`.
    UserSlice {
        /// The user.
        uid: u32,
    },
    /// `user@<uid>.service`: the user's systemd manager.
    UserManager {
        /// The user.
        uid: u32,
    },
    /// `session-<id>.scope`: a login session.
    Session {
        /// The session id.
        id: String,
    },
    /// `init.scope`: PID 1 of the host or of a container with systemd inside.
    InitScope,
    /// A well-known service: `containerd`, `kubelet`, `docker`, `crio`, `podman`.
    Service {
        /// Which one.
        daemon: &'static str,
    },
    /// Any other `*.slice`, `*.service`, `*.scope`.
    Unit,
    /// A podman container: `libpod-<id>.scope`, `libpod-<id>`, `libpod-payload-<id>`.
    PodmanContainer {
        /// Container id (64 hex).
        id: String,
    },
    /// conmon's cgroup: `libpod-conmon-<id>.scope`, or `conmon` under `libpod_parent`.
    PodmanConmon {
        /// The monitored container, when the name says.
        id: Option<String>,
    },
    /// A podman pod: `machine-libpod_pod_<id>.slice`, `user-libpod_pod_<id>.slice`, or a
    /// 64-hex directory under `libpod_parent`.
    PodmanPod {
        /// Pod id.
        id: String,
    },
    /// `libpod_parent`: podman's cgroupfs parent.
    PodmanParent,
    /// crun's `container` sub-cgroup inside a container's cgroup.
    PayloadSubgroup,
    /// A docker container: `docker-<id>.scope` or `docker/<id>`.
    DockerContainer {
        /// Container id.
        id: String,
    },
    /// `docker`: the cgroupfs parent of docker containers.
    DockerParent,
    /// The kubelet's pods root (`kubepods.slice`, `kubelet-kubepods.slice`, `kubepods`).
    KubePods {
        /// Naming driver.
        driver: Driver,
    },
    /// A QoS level under the pods root.
    KubeQos {
        /// Its class.
        qos: Qos,
    },
    /// A pod's cgroup.
    KubePod {
        /// Pod UID as in the name (systemd driver: `_` for `-`; see [`kube_uid`]).
        uid: String,
        /// QoS class.
        qos: Qos,
    },
    /// A Kubernetes container (or pod sandbox) under a pod.
    KubeContainer {
        /// Container id.
        id: String,
        /// Which runtime named it.
        runtime: CriRuntime,
    },
    /// CRI-O's conmon for a container: `crio-conmon-<id>.scope`, `crio-conmon-<id>`.
    CrioConmon {
        /// The monitored container.
        id: String,
    },
    /// A bare 64-hex name that no context explains (rootless podman with cgroupfs puts
    /// containers there): a container only if runtime state confirms it.
    ContainerId {
        /// The id.
        id: String,
    },
    /// A shape of a family registered in the runtime table that needs no
    /// variant of its own (LXC, machines, desktop applications, ...): what it would be,
    /// and the name its shape carries (an LXC container's name, a machine's, an app id).
    Named {
        /// The family that recognised it.
        family: Family,
        /// What it is, if the family's evidence confirms it.
        what: IdentityKind,
        /// The name in the cgroup's name (raw, escapes kept).
        name: String,
    },
    /// Nothing recognised.
    Plain,
}

impl Kind {
    /// Whether this cgroup is a container's own cgroup (its inside is a fresh host).
    pub fn is_container(&self) -> bool {
        matches!(
            self,
            Kind::PodmanContainer { .. }
                | Kind::DockerContainer { .. }
                | Kind::KubeContainer { .. }
                | Kind::ContainerId { .. }
        )
    }

    /// The family whose shape this is (`None`: the root, or nothing recognised).
    pub fn family(&self) -> Option<Family> {
        Some(match self {
            Kind::Root | Kind::Plain => return None,
            Kind::UserSlice { .. }
            | Kind::UserManager { .. }
            | Kind::Session { .. }
            | Kind::InitScope
            | Kind::Service { .. }
            | Kind::Unit => Family::Systemd,
            Kind::PodmanContainer { .. }
            | Kind::PodmanConmon { .. }
            | Kind::PodmanPod { .. }
            | Kind::PodmanParent => Family::Podman,
            Kind::DockerContainer { .. } | Kind::DockerParent => Family::Docker,
            Kind::PayloadSubgroup | Kind::ContainerId { .. } => Family::Oci,
            Kind::KubePods { .. } | Kind::KubeQos { .. } | Kind::KubePod { .. } => Family::Kubelet,
            Kind::KubeContainer { runtime, .. } => match runtime {
                CriRuntime::Crio => Family::Crio,
                CriRuntime::Docker => Family::Docker,
                CriRuntime::Containerd | CriRuntime::Unknown => Family::Containerd,
            },
            Kind::CrioConmon { .. } => Family::Crio,
            Kind::Named { family, .. } => *family,
        })
    }
}

/// Where the walk is, which decides how the next name is read.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ctx {
    /// A host's (or a container's) own hierarchy.
    Host,
    /// Directly inside a container cgroup (crun's `container` sub-cgroup may follow).
    ContainerTop,
    /// Under the kubelet's pods root.
    KubeRoot {
        /// The kubelet's cgroup driver.
        driver: Driver,
        /// The root slice's name without `.slice` (systemd driver).
        prefix: String,
    },
    /// Under a QoS level.
    KubeQos {
        /// The kubelet's cgroup driver.
        driver: Driver,
        /// The QoS slice's name without `.slice` (systemd driver).
        prefix: String,
        /// The class.
        qos: Qos,
    },
    /// Under a pod.
    KubePod,
    /// Under `libpod_parent` (or a podman cgroupfs pod below it).
    LibpodParent,
    /// Under docker's cgroupfs parent.
    DockerParent,
    /// Below a cgroup of `family`, which reads the names there
    /// (`Runtime::classify_below`); the string is what the family
    /// keeps (e.g. the machine name of an nspawn unit).
    Below(Family, String),
}

/// A 64-character lowercase hex id.
pub fn is_container_id(s: &[u8]) -> bool {
    s.len() == 64
        && s.iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

/// Longest containerd identifier (a namespace, a task or sandbox id).
pub const MAX_CONTAINERD_ID: usize = 76;

/// A containerd identifier: `[A-Za-z0-9]+([._-][A-Za-z0-9]+)*`, at most
/// [`MAX_CONTAINERD_ID`] bytes, the grammar containerd itself enforces on namespaces
/// and container/task ids (`pkg/identifiers/validate.go`: `alphanum`, `separators`,
/// `maxLength = 76`). Such a token has no `/`, no `..`, no control byte: safe to join to
/// a path or to show as a label. A shim's `-id` and `-namespace` count only when they
/// are one.
pub fn is_containerd_id(s: &[u8]) -> bool {
    if s.is_empty() || s.len() > MAX_CONTAINERD_ID {
        return false;
    }
    let mut prev_sep = true;
    for &b in s {
        let sep = matches!(b, b'.' | b'_' | b'-');
        if !(sep || b.is_ascii_alphanumeric()) || (sep && prev_sep) {
            return false;
        }
        prev_sep = sep;
    }
    !prev_sep
}

/// Longest container name taken from a command line (conmon's `-n`).
pub const MAX_NAME_TOKEN: usize = 253;

/// A container name as podman and docker allow it (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, their
/// `RestrictedNameChars`; CRI-O's `k8s_<container>_<pod>_<namespace>_<uid>_<attempt>`
/// fits it too), at most [`MAX_NAME_TOKEN`] bytes: no `/`, no control byte, never `.`
/// or `..`. conmon's `-n` counts only when it is one.
pub fn is_plain_name(s: &[u8]) -> bool {
    !s.is_empty()
        && s.len() <= MAX_NAME_TOKEN
        && s[0].is_ascii_alphanumeric()
        && s.iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Whether `c` may be shown as it is: not a control character (C0, DEL, C1), not a
/// bidirectional or zero-width formatting character, not a line or paragraph separator.
pub fn is_display_safe(c: char) -> bool {
    !(c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        ))
}

pub(crate) fn id_between<'a>(name: &'a [u8], prefix: &[u8], suffix: &[u8]) -> Option<&'a [u8]> {
    let id = name.strip_prefix(prefix)?.strip_suffix(suffix)?;
    is_container_id(id).then_some(id)
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub(crate) fn decimal(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// Classifies each component of a cgroup path (raw names, root first, without the root
/// itself). `out[i]` is the kind of the cgroup named by `components[..=i]`.
pub fn classify_path<C: AsRef<[u8]>>(components: &[C]) -> Vec<Kind> {
    let mut ctx = Ctx::Host;
    let mut out = Vec::with_capacity(components.len());
    for c in components {
        let (kind, next) = classify_one(c.as_ref(), &ctx);
        out.push(kind);
        ctx = next;
    }
    out
}

/// Where a walk starts: the host's own hierarchy (the context of [`classify_path`]'s
/// first component).
pub(crate) fn host_context() -> Ctx {
    Ctx::Host
}

pub(crate) use crate::runtime::classify_one;

/// Decodes systemd's `\xNN` escapes in a unit name, for display only.
pub fn unescape_systemd(name: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memmem::find(name, b"\\x").is_none() {
        return Cow::Borrowed(name);
    }
    let mut out = Vec::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        if name[i] == b'\\' && name.get(i + 1) == Some(&b'x') {
            if let Some(h) = name.get(i + 2..i + 4) {
                if let Ok(v) = u8::from_str_radix(std::str::from_utf8(h).unwrap_or("zz"), 16) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(name[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// A pod UID as Kubernetes spells it (the systemd driver writes `_` for `-`).
pub fn kube_uid(raw: &str) -> String {
    raw.replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Kind::*;

    const ID: &str = "a4cfc6bc8a38ee23e42839393eedba68a92f7f8b3a23e70328a29e58c0c59d38";
    const ID2: &str = "4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817";
    const UID_: &str = "9fbcc2e9_dbfa_1be6_d13f_64f4a56ec903";
    const UID: &str = "9fbcc2e9-dbfa-1be6-d13f-64f4a56ec903";

    fn last(path: &str) -> Kind {
        let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        classify_path(&comps).pop().unwrap()
    }

    fn s(x: &str) -> String {
        x.to_string()
    }

    fn named(family: Family, what: IdentityKind, name: &str) -> Kind {
        Named {
            family,
            what,
            name: s(name),
        }
    }

    #[test]
    fn classify_table() {
        let ctr = |id: &str, runtime| KubeContainer { id: s(id), runtime };
        let cases: Vec<(String, Kind)> = vec![
            // systemd
            (s("init.scope"), InitScope),
            (s("system.slice"), Unit),
            (s("system.slice/cron.service"), Unit),
            (s("system.slice/containerd.service"), Service { daemon: "containerd" }),
            (s("user.slice/user-1000.slice"), UserSlice { uid: 1000 }),
            (s("user.slice/user-1000.slice/user@1000.service"), UserManager { uid: 1000 }),
            (s("user.slice/user-1000.slice/session-3.scope"), Session { id: s("3") }),
            (s("user.slice/user-1000.slice/session-c1.scope"), Session { id: s("c1") }),
            (s("user.slice/user-x.slice"), Unit),
            (s("user.slice/user-99999999999.slice"), Unit),
            (s("machine.slice/machine-lxc\\x2d2293906\\x2dlibvirt\\x2dcontainer.scope"), Named { family: Family::Nspawn, what: IdentityKind::Machine, name: s("lxc\\x2d2293906\\x2dlibvirt\\x2dcontainer") }),
            (s("wsl-user/distro-440/user.slice/user-1000.slice/user@1000.service"), UserManager { uid: 1000 }),
            // podman, systemd manager, rootful and rootless, with crun's sub-cgroup
            (format!("machine.slice/libpod-{ID}.scope"), PodmanContainer { id: s(ID) }),
            (format!("machine.slice/libpod-{ID}.scope/container"), PayloadSubgroup),
            (format!("machine.slice/libpod-conmon-{ID}.scope"), PodmanConmon { id: Some(s(ID)) }),
            (format!("user.slice/user-1000.slice/user@1000.service/user.slice/libpod-{ID}.scope"), PodmanContainer { id: s(ID) }),
            (format!("machine.slice/machine-libpod_pod_{ID2}.slice"), PodmanPod { id: s(ID2) }),
            (format!("machine.slice/machine-libpod_pod_{ID2}.slice/libpod-{ID}.scope"), PodmanContainer { id: s(ID) }),
            (format!("user.slice/user-1000.slice/user@1000.service/user.slice/user-libpod_pod_{ID2}.slice"), PodmanPod { id: s(ID2) }),
            // podman, cgroupfs manager
            (s("libpod_parent"), PodmanParent),
            (format!("libpod_parent/libpod-{ID}"), PodmanContainer { id: s(ID) }),
            (s("libpod_parent/conmon"), PodmanConmon { id: None }),
            (format!("libpod_parent/{ID2}"), PodmanPod { id: s(ID2) }),
            (format!("libpod_parent/{ID2}/libpod-{ID}"), PodmanContainer { id: s(ID) }),
            (format!("libpod_parent/{ID2}/conmon"), PodmanConmon { id: None }),
            (format!("user.slice/x.scope/libpod-payload-{ID}"), PodmanContainer { id: s(ID) }),
            // the guide: rootless cgroupfs, a bare id next to podman.service
            (format!("user.slice/user-1000.slice/user@1000.service/app.slice/{ID}"), ContainerId { id: s(ID) }),
            // docker
            (format!("system.slice/docker-{ID}.scope"), DockerContainer { id: s(ID) }),
            (format!("user.slice/user-1000.slice/user@1000.service/user.slice/docker-{ID}.scope"), DockerContainer { id: s(ID) }),
            (format!("docker/{ID}"), DockerContainer { id: s(ID) }),
            (s("docker"), DockerParent),
            (s("docker/buildkit"), Plain),
            // kubelet, systemd driver
            (s("kubepods.slice"), KubePods { driver: Driver::Systemd }),
            (s("kubepods.slice/kubepods-burstable.slice"), KubeQos { qos: Qos::Burstable }),
            (format!("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod{UID_}.slice"), KubePod { uid: s(UID_), qos: Qos::Burstable }),
            (format!("kubepods.slice/kubepods-pod{UID_}.slice"), KubePod { uid: s(UID_), qos: Qos::Guaranteed }),
            (format!("kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID}.scope"), ctr(ID, CriRuntime::Containerd)),
            (format!("kubepods.slice/kubepods-pod{UID_}.slice/crio-{ID}.scope"), ctr(ID, CriRuntime::Crio)),
            (format!("kubepods.slice/kubepods-pod{UID_}.slice/crio-conmon-{ID}.scope"), CrioConmon { id: s(ID) }),
            (format!("kubepods.slice/kubepods-pod{UID_}.slice/crio-{ID}"), ctr(ID, CriRuntime::Crio)),
            (format!("kubepods.slice/kubepods-pod{UID_}.slice/docker-{ID}.scope"), ctr(ID, CriRuntime::Docker)),
            (format!("kubepods.slice/kubepods-pod{UID_}.slice/{ID}"), ctr(ID, CriRuntime::Unknown)),
            (format!("kubepods.slice/kubepods-pod{UID_}.slice/whatever"), Plain),
            (s("kubepods.slice/kubepods-burstable.slice/kubepods-besteffort-podxyz.slice"), Plain),
            (s("kubepods.slice/kubepods-silver.slice"), Plain),
            // kubelet, cgroupfs driver
            (s("kubepods"), KubePods { driver: Driver::Cgroupfs }),
            (s("kubepods/besteffort"), KubeQos { qos: Qos::BestEffort }),
            (format!("kubepods/besteffort/pod{UID}"), KubePod { uid: s(UID), qos: Qos::BestEffort }),
            (format!("kubepods/pod{UID}"), KubePod { uid: s(UID), qos: Qos::Guaranteed }),
            (format!("kubepods/burstable/pod{UID}/{ID}"), ctr(ID, CriRuntime::Unknown)),
            (format!("kubepods/burstable/pod{UID}/crio-{ID}"), ctr(ID, CriRuntime::Crio)),
            (s("kubepods/burstable/podnot-a-uid"), KubePod { uid: s("not-a-uid"), qos: Qos::Burstable }),
            (s("kubepods/burstable/pod"), Plain),
            (s("kubepods/burstable/pod a"), Plain),
            // kind: kubelet cgroupRoot /kubelet, inside a node container, at any depth
            (format!("user.slice/user-1000.slice/user@1000.service/app.slice/{ID}/init.scope"), InitScope),
            (format!("user.slice/user-1000.slice/user@1000.service/app.slice/{ID}/system.slice/containerd.service"), Service { daemon: "containerd" }),
            (format!("user.slice/user-1000.slice/user@1000.service/app.slice/{ID}/kubelet.slice/kubelet.service"), Service { daemon: "kubelet" }),
            (format!("user.slice/user-1000.slice/user@1000.service/app.slice/{ID}/kubelet.slice/kubelet-kubepods.slice"), KubePods { driver: Driver::Systemd }),
            (format!("app.slice/{ID}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice"), KubeQos { qos: Qos::BestEffort }),
            (format!("app.slice/{ID}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_}.slice"), KubePod { uid: s(UID_), qos: Qos::BestEffort }),
            (format!("app.slice/{ID}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod{UID_}.slice"), KubePod { uid: s(UID_), qos: Qos::Guaranteed }),
            (format!("app.slice/{ID}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod{UID_}.slice/cri-containerd-{ID2}.scope"), ctr(ID2, CriRuntime::Containerd)),
            (format!("machine.slice/libpod-{ID}.scope/container/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod{UID_}.slice/cri-containerd-{ID2}.scope"), ctr(ID2, CriRuntime::Containerd)),
            (format!("system.slice/docker-{ID}.scope/kubelet/kubepods/besteffort/pod{UID}/{ID2}"), ctr(ID2, CriRuntime::Unknown)),
            (format!("system.slice/docker-{ID}.scope/init.scope"), InitScope),
            // a container inside a pod container: the inside is a host again
            (format!("kubepods/pod{UID}/{ID}/init.scope"), InitScope),
            // not ids: wrong length, upper case, other shapes
            (format!("system.slice/docker-{}.scope", &ID[..63]), Unit),
            (format!("app.slice/{}", ID.to_uppercase()), Plain),
            (s("a:b:c"), Plain),
            (s("nerdctl.slice"), Unit),
            // issue 13: families registered in runtime::TABLE (shapes only; evidence later)
            (s("lxc.payload.web"), named(Family::Lxc, IdentityKind::LxcContainer, "web")),
            (s("lxc.payload.web/init.scope"), InitScope),
            (s("lxc.payload.web/system.slice/cron.service"), Unit),
            (s("lxc.monitor.web"), named(Family::Lxc, IdentityKind::LxcMonitor, "web")),
            (s("lxc.pivot"), Plain),
            (s("lxc.payload."), Plain),
            (s("machine.slice/systemd-nspawn@deb1.service"), Unit),
            (s("machine.slice/systemd-nspawn@deb1.service/payload"), named(Family::Nspawn, IdentityKind::Machine, "deb1")),
            (s("machine.slice/systemd-nspawn@deb1.service/payload/init.scope"), InitScope),
            (s("machine.slice/systemd-nspawn@deb1.service/supervisor"), named(Family::Nspawn, IdentityKind::NspawnSupervisor, "deb1")),
            (s("machine.slice/systemd-nspawn@deb1.service/other"), Plain),
            (s("machine.slice/machine-my\\x2dbox.scope"), named(Family::Nspawn, IdentityKind::Machine, "my\\x2dbox")),
            (s("system.slice/payload"), Plain),
            (s("user.slice/user-1000.slice/user@1000.service/app.slice/app-flatpak-org.mozilla.firefox-12345.scope"), named(Family::Desktop, IdentityKind::App, "app-flatpak-org.mozilla.firefox-12345.scope")),
            (s("app.slice/app-gnome-org.gnome.Terminal-4567.scope"), named(Family::Desktop, IdentityKind::App, "app-gnome-org.gnome.Terminal-4567.scope")),
            (s("app.slice/app-org.kde.konsole@8c1e5a2f0b.service"), named(Family::Desktop, IdentityKind::App, "app-org.kde.konsole@8c1e5a2f0b.service")),
            (s("app.slice/snap.firefox.firefox-4e5b2d3a-7c1f-4a9e-8b6d-0f2e1c3a5b7d.scope"), named(Family::Desktop, IdentityKind::App, "snap.firefox.firefox-4e5b2d3a-7c1f-4a9e-8b6d-0f2e1c3a5b7d.scope")),
            (s("system.slice/snap.microk8s.daemon-containerd.service"), Unit),
            (s("app.slice"), Unit),
            (s("app-gnome.slice"), Unit),
            (s("app-.scope"), Unit),
            (format!("system.slice/nerdctl-{ID}.scope"), named(Family::Containerd, IdentityKind::ContainerdContainer, ID)),
            (format!("system.slice/kubepods-besteffort-pod{UID_}.slice:cri-containerd:{ID}"), named(Family::Containerd, IdentityKind::KubeContainer, &format!("kubepods-besteffort-pod{UID_}.slice:cri-containerd:{ID}"))),
            (format!("kubepods-besteffort-pod{UID_}.slice:cri-containerd:{}", &ID[..10]), Plain),
            (format!("system.slice/crio-conmon-{ID}.scope"), CrioConmon { id: s(ID) }),
            (s("system.slice/k3s.service"), Service { daemon: "k3s" }),
            // static pods: the kubelet's md5 UID, no dashes, in both drivers
            (s("kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod2827cd94f68b364ed9769215bcd1cab1.slice"), KubePod { uid: s("2827cd94f68b364ed9769215bcd1cab1"), qos: Qos::Burstable }),
            (s("kubepods/burstable/pod2827cd94f68b364ed9769215bcd1cab1"), KubePod { uid: s("2827cd94f68b364ed9769215bcd1cab1"), qos: Qos::Burstable }),
            // a systemd-driver UID never carries `-` (the driver writes `_`)
            (s("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-poda-b.slice"), Plain),
        ];
        for (path, want) in cases {
            assert_eq!(last(&path), want, "{path}");
        }
    }

    #[test]
    fn classify_path_gives_one_kind_per_component() {
        let kinds = classify_path(&["user.slice", "user-1000.slice", "user@1000.service"]);
        assert_eq!(
            kinds,
            vec![Unit, UserSlice { uid: 1000 }, UserManager { uid: 1000 }]
        );
        assert!(classify_path::<&str>(&[]).is_empty());
    }

    #[test]
    fn display_decoding() {
        assert_eq!(
            &*unescape_systemd(b"machine-lxc\\x2d1\\x2dx.scope"),
            b"machine-lxc-1-x.scope"
        );
        assert_eq!(&*unescape_systemd(b"plain"), b"plain");
        assert_eq!(&*unescape_systemd(b"bad\\xzz\\x"), b"bad\\xzz\\x");
        assert_eq!(kube_uid(UID_), UID);
    }

    #[test]
    fn command_line_tokens() {
        let id = "a".repeat(64);
        assert!(is_containerd_id(id.as_bytes()));
        for ok in ["k8s.io", "moby", "default", "redis", "a-b_c.d", "A1"] {
            assert!(is_containerd_id(ok.as_bytes()), "{ok}");
        }
        let long = "a".repeat(77);
        for bad in [
            "", ".", "..", "../x", "a/b", "-a", "a-", "a..b", "a\x1b[2J", "a b", &long,
        ] {
            assert!(!is_containerd_id(bad.as_bytes()), "{bad:?}");
        }
        for ok in [
            "web",
            "totally-legit-db",
            "k8s_nginx_web-6d_default_0b2_0",
            "a.b",
        ] {
            assert!(is_plain_name(ok.as_bytes()), "{ok}");
        }
        let long = "a".repeat(254);
        for bad in [
            "",
            ".",
            "..",
            "../etc",
            "a/b",
            "-x",
            "a\u{1b}]0;x\u{7}",
            "é",
            &long,
        ] {
            assert!(!is_plain_name(bad.as_bytes()), "{bad:?}");
        }
        for c in [
            '\u{1b}', '\u{9b}', '\u{7f}', '\u{202e}', '\u{2066}', '\u{200b}', '\n',
        ] {
            assert!(!is_display_safe(c), "{c:?}");
        }
        assert!(is_display_safe('é') && is_display_safe('a') && is_display_safe('中'));
    }
}
