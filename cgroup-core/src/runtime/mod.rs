//! What an identified cgroup is: [`IdentityKind`], and the identities themselves
//! ([`identity`], re-exported in [`crate::resolve`]).
//!
//! Inside the crate, one place per runtime: what its cgroup names look like, what
//! on-disk evidence confirms them, which state files it reads, and which of its
//! processes serve others. Every family implements the crate-private `Runtime` trait in
//! its own file and is registered once in the crate-private `TABLE`. The walk
//! ([`crate::tree`]), `cgtree pid` ([`crate::trace`]), the user namespace report and
//! snapshots all identify through the same functions here (`classify_one`,
//! `tree::identify::identify_node`), so a new runtime is one file, one `TABLE` row (with
//! its `Family` and, if it names new things, its [`IdentityKind`]s) and one arm in each
//! renderer. None of that is public: a new runtime is not a semver break.

use crate::classify::*;

/// Declares the per-runtime modules: public only with the `internals` feature (the fuzz
/// targets reach their parsers); otherwise crate-private. What a caller needs of them is
/// re-exported here and in [`crate::resolve`].
macro_rules! runtime_modules {
    ($($m:ident),*) => {$(
        #[cfg(feature = "internals")]
        pub mod $m;
        #[cfg(not(feature = "internals"))]
        pub(crate) mod $m;
    )*};
}
runtime_modules!(
    containerd, crio, desktop, docker, engines, kind, kubelet, lxc, nspawn, oci, podman, systemd
);
pub mod identity;

/// What an identified cgroup is. Serialised as the documented strings of `docs/json.md`
/// (`podman-container`, `kube-pod`, ...); new kinds may be added within a JSON version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum IdentityKind {
    /// A podman container (`libpod-<id>.scope`, ...), confirmed by podman's state.
    PodmanContainer,
    /// A docker container, confirmed by `config.v2.json`.
    DockerContainer,
    /// A container whose runtime state names no engine (an OCI runtime's state only).
    Container,
    /// A containerd task outside Kubernetes (`ctr run`, nerdctl), from its bundle.
    ContainerdContainer,
    /// A Kubernetes pod.
    KubePod,
    /// A container of a pod.
    KubeContainer,
    /// A pod's sandbox (pause) container.
    KubeSandbox,
    /// A QoS level of the kubelet's pods root.
    KubeQos,
    /// The kubelet's pods root.
    KubePods,
    /// `user-UID.slice`.
    UserSlice,
    /// `user@UID.service`.
    UserManager,
    /// `session-ID.scope`.
    Session,
    /// `init.scope`.
    Init,
    /// A well-known daemon's service.
    Service,
    /// podman's conmon cgroup.
    PodmanConmon,
    /// A podman pod.
    PodmanPod,
    /// podman's cgroupfs parent (`libpod_parent`).
    PodmanParent,
    /// docker's cgroupfs parent (`docker`).
    DockerParent,
    /// crun's `container` sub-cgroup.
    Payload,
    /// CRI-O's conmon cgroup (`crio-conmon-<id>.scope`).
    CrioConmon,
    /// A systemd unit whose name has escapes (shown decoded).
    SystemdUnit,
    /// An LXC (LXD, Incus) container's payload cgroup (`lxc.payload.<name>`).
    LxcContainer,
    /// An LXC container's monitor cgroup (`lxc.monitor.<name>`).
    LxcMonitor,
    /// A machine registered with systemd-machined (`machine-<name>.scope`, an nspawn
    /// unit's `payload`).
    Machine,
    /// `systemd-nspawn@<name>.service/supervisor`.
    NspawnSupervisor,
    /// A desktop application's scope or service (flatpak, snap, XDG launchers).
    App,
    /// A container-shaped cgroup with no runtime evidence behind it (see `seen`).
    #[default]
    Unidentified,
}

impl IdentityKind {
    /// The documented string (`podman-container`, ...).
    pub fn as_str(self) -> &'static str {
        use IdentityKind::*;
        match self {
            PodmanContainer => "podman-container",
            DockerContainer => "docker-container",
            Container => "container",
            ContainerdContainer => "containerd-container",
            KubePod => "kube-pod",
            KubeContainer => "kube-container",
            KubeSandbox => "kube-sandbox",
            KubeQos => "kube-qos",
            KubePods => "kube-pods",
            UserSlice => "user-slice",
            UserManager => "user-manager",
            Session => "session",
            Init => "init",
            Service => "service",
            PodmanConmon => "podman-conmon",
            PodmanPod => "podman-pod",
            PodmanParent => "podman-parent",
            DockerParent => "docker-parent",
            Payload => "payload",
            CrioConmon => "crio-conmon",
            SystemdUnit => "systemd-unit",
            LxcContainer => "lxc-container",
            LxcMonitor => "lxc-monitor",
            Machine => "machine",
            NspawnSupervisor => "nspawn-supervisor",
            App => "app",
            Unidentified => "unidentified",
        }
    }

    /// An engine's container outside Kubernetes (podman, docker, containerd, an OCI
    /// runtime's, LXC, a machine): what `cgtree pid` reports as the process's container.
    pub fn is_engine_container(self) -> bool {
        matches!(
            self,
            IdentityKind::PodmanContainer
                | IdentityKind::DockerContainer
                | IdentityKind::Container
                | IdentityKind::ContainerdContainer
                | IdentityKind::LxcContainer
                | IdentityKind::Machine
        )
    }

    /// A Kubernetes container or sandbox.
    pub fn is_kube_container(self) -> bool {
        matches!(
            self,
            IdentityKind::KubeContainer | IdentityKind::KubeSandbox
        )
    }
}

impl std::fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

internal! {
/// A runtime family: the row of the runtime table that owns a cgroup shape, a state file or a
/// helper process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Family {
    /// systemd: slices, services, scopes, user managers, sessions.
    Systemd,
    /// podman (libpod) and its conmon.
    Podman,
    /// docker (moby).
    Docker,
    /// The OCI runtimes' own state (crun, runc) and crun's payload sub-cgroup.
    Oci,
    /// containerd: task bundles and shims, outside and inside Kubernetes.
    Containerd,
    /// CRI-O and its conmon.
    Crio,
    /// The kubelet's pods, QoS levels and pod UIDs.
    Kubelet,
    /// kind and minikube nodes (a container that runs a Kubernetes node).
    Kind,
    /// LXC, LXD, Incus.
    Lxc,
    /// systemd-nspawn and systemd-machined's machines.
    Nspawn,
    /// Desktop applications: flatpak, snap, XDG launcher scopes.
    Desktop,
}
}

/// What one family knows. Every method has a default that knows nothing, so a family
/// implements only what it has.
pub(crate) trait Runtime: Sync {
    /// Its row.
    fn family(&self) -> Family;

    /// Documentation: where the family's facts come from (the runtime's source files).
    #[allow(dead_code)] // read by people, not code: each family's list of sources
    fn sources(&self) -> &'static [&'static str] {
        &[]
    }

    /// The kind of a cgroup named `name` in a host's own hierarchy (or a container's
    /// inside read as a fresh host), and the context its children are read in. A name's
    /// shape only: evidence comes in [`Runtime::identify`].
    fn classify_host(&self, _name: &[u8]) -> Option<(Kind, Ctx)> {
        None
    }

    /// The kind of a cgroup directly in a Kubernetes pod's cgroup (a container this
    /// runtime named, through the CRI).
    fn classify_in_pod(&self, _name: &[u8]) -> Option<(Kind, Ctx)> {
        None
    }

    /// The kind of a cgroup below one of this family's own contexts
    /// ([`Ctx::Below`]).
    fn classify_below(&self, _name: &[u8], _ctx: &Ctx) -> Option<(Kind, Ctx)> {
        None
    }

    /// The identity of a cgroup whose [`Kind::family`] is this one, from the runtime's
    /// evidence; `None` when there is none (the caller then says what was seen).
    fn identify(
        &self,
        _r: &mut crate::resolve::Resolver,
        _f: &crate::tree::identify::Facts<'_>,
    ) -> Option<crate::resolve::Identity> {
        None
    }

    /// The role of a process that serves others (a monitor, a shim), from its command
    /// line and UIDs; `None` when it is not one of this family's or its claim does not
    /// hold.
    fn role(
        &self,
        _r: &mut crate::resolve::Resolver,
        _p: &ProcFacts<'_>,
    ) -> Option<crate::resolve::ProcessRole> {
        None
    }

    /// State files this family reads, as paths under a root with `*` for a name
    /// (documentation; `cgtree snapshot` keeps what was read, reduced by
    /// [`Runtime::snapshot_keep`]).
    #[allow(dead_code)] // read by people, not code: each family's list of files
    fn state_files(&self) -> &'static [&'static str] {
        &[]
    }

    /// For `cgtree snapshot`: the part of a state file this family read (`rel`, its path
    /// under a root) that it parses, and nothing else (no environment, no secrets);
    /// `None` when the file is not this family's.
    fn snapshot_keep(&self, _rel: &std::path::Path, _bytes: &[u8]) -> Option<Vec<u8>> {
        None
    }

    /// Whether a process's `argv[0]` claims to be one of this family's helper processes
    /// (a monitor, a shim): only such a process has its `status` read, for
    /// [`Runtime::role`].
    fn claims_helper(&self, _argv0: &[u8]) -> bool {
        false
    }

    /// Whether a process's `argv[0]` is one of this family's processes that say where its
    /// state is (containerd, its shims, an LXC monitor): only those have their `status`
    /// read and go to [`Runtime::note_process`].
    fn names_state(&self, _argv0: &[u8]) -> bool {
        false
    }

    /// Learns where this family keeps its state from one of its own processes (its
    /// PID, command line and UIDs; only root's count for root's state).
    fn note_process(
        &self,
        _r: &mut crate::resolve::Resolver,
        _pid: u32,
        _args: &[&[u8]],
        _uids: Option<[u32; 4]>,
    ) {
    }
}

/// A [`Kind::Named`] shape of `family` for a non-empty `name` (raw bytes kept as text),
/// with the context of its children.
pub(crate) fn named(
    family: Family,
    what: IdentityKind,
    name: &[u8],
    ctx: Ctx,
) -> Option<(Kind, Ctx)> {
    (!name.is_empty()).then(|| {
        (
            Kind::Named {
                family,
                what,
                name: crate::classify::text(name),
            },
            ctx,
        )
    })
}

/// The string value of `key` in a TOML file's `table` (`None`: the top-level keys, before
/// the first table header), without a TOML library: `key = "value"` or `key = 'value'`
/// on one line (what runtimes' configs use for paths); at most 65,536 lines are looked at.
pub(crate) fn toml_string<'a>(
    toml: &'a [u8],
    table: Option<&[u8]>,
    key: &[u8],
) -> Option<&'a [u8]> {
    let mut current: Option<&[u8]> = None;
    for line in toml.split(|&b| b == b'\n').take(65_536) {
        let line = line.trim_ascii();
        if let Some(h) = line.strip_prefix(b"[") {
            current = Some(h.strip_suffix(b"]").unwrap_or(h).trim_ascii());
            continue;
        }
        if current != table {
            continue;
        }
        let Some(rest) = line.strip_prefix(key) else {
            continue;
        };
        let Some(rest) = rest.trim_ascii_start().strip_prefix(b"=") else {
            continue;
        };
        let rest = rest.trim_ascii();
        let q = *rest.first()?;
        if q != b'"' && q != b'\'' {
            return None;
        }
        let inner = &rest[1..];
        let end = inner.iter().position(|&b| b == q)?;
        return Some(&inner[..end]);
    }
    None
}

/// The base name of a command's `argv[0]`.
pub(crate) fn base(argv0: &[u8]) -> &[u8] {
    argv0.rsplit(|&b| b == b'/').next().unwrap_or(argv0)
}

/// Whether any family learns where its state is from a process with this `argv[0]`.
pub(crate) fn names_state(argv0: &[u8]) -> bool {
    TABLE.iter().any(|r| r.names_state(argv0))
}

/// Lets every family learn from one process ([`Runtime::note_process`]).
pub(crate) fn note_process(
    r: &mut crate::resolve::Resolver,
    pid: u32,
    args: &[&[u8]],
    uids: Option<[u32; 4]>,
) {
    let Some(argv0) = args.first() else { return };
    for rt in TABLE {
        if rt.names_state(argv0) {
            rt.note_process(r, pid, args, uids);
        }
    }
}

/// The part of a state file `cgtree snapshot` keeps: what the family that reads it
/// parses ([`Runtime::snapshot_keep`]); `None`: no family's, not kept.
pub(crate) fn snapshot_keep(rel: &std::path::Path, bytes: &[u8]) -> Option<Vec<u8>> {
    TABLE.iter().find_map(|r| r.snapshot_keep(rel, bytes))
}

/// `keys` of a JSON object, as a new object.
pub(crate) fn pick(v: &serde_json::Value, keys: &[&str]) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for k in keys {
        if let Some(x) = v.get(*k) {
            m.insert((*k).to_string(), x.clone());
        }
    }
    serde_json::Value::Object(m)
}

/// A JSON value as a file's bytes (one line).
pub(crate) fn json_line(v: &serde_json::Value) -> Vec<u8> {
    format!("{v}\n").into_bytes()
}

/// The file name of `rel`, as text.
pub(crate) fn file_name(rel: &std::path::Path) -> Option<&str> {
    rel.file_name()?.to_str()
}

/// A process, as a [`Runtime::role`] sees it.
pub(crate) struct ProcFacts<'a> {
    /// Its command line, split.
    pub args: &'a [&'a [u8]],
    /// Where state is read for it: the root of the container it runs in.
    pub root: crate::resolve::RootKey,
    /// Its UIDs (real, effective, saved, fs), read only for a process whose command
    /// line claims a monitor ([`claims_monitor`]).
    pub uids: Option<[u32; 4]>,
}

/// Sub-cgroups that hold a container's own processes when its cgroup itself holds none
/// (cgroup v2 puts processes only in leaves once controllers are enabled below): crun's
/// `container` (containers/crun `src/libcrun/cgroup-systemd.c`, `find_systemd_subgroup`)
/// and `init`, where moby's `hack/dind` (the docker:dind image's entrypoint) moves the
/// container's processes before enabling controllers for the inner daemon's containers.
pub(crate) const OWN_PROCESS_SUBGROUPS: &[&[u8]] = &[b"container", b"init"];

/// Every family, in the order their shapes are tried on a host-level name.
pub(crate) static TABLE: &[&dyn Runtime] = &[
    &crio::Crio,
    &podman::Podman,
    &docker::Docker,
    &kubelet::Kubelet,
    &containerd::Containerd,
    &lxc::Lxc,
    &nspawn::Nspawn,
    &desktop::Desktop,
    &kind::KindNodes,
    &oci::Oci,
    &systemd::Systemd,
];

/// The row of `family`.
pub(crate) fn runtime(family: Family) -> &'static dyn Runtime {
    TABLE
        .iter()
        .copied()
        .find(|r| r.family() == family)
        .unwrap_or(&systemd::Systemd)
}

/// Classifies one name in a context; returns its kind and the context for its children.
/// [`crate::classify::classify_path`] is this step folded over a path; a tree walk keeps
/// each node's context and classifies a child from its parent's, in time linear in the
/// depth.
pub(crate) fn classify_one(name: &[u8], ctx: &Ctx) -> (Kind, Ctx) {
    let found = match ctx {
        Ctx::Host | Ctx::ContainerTop => {
            if let (Ctx::ContainerTop, Some(k)) = (ctx, oci::payload_subgroup(name)) {
                return k;
            }
            TABLE.iter().find_map(|r| r.classify_host(name))
        }
        Ctx::KubePod => TABLE.iter().find_map(|r| r.classify_in_pod(name)),
        Ctx::KubeRoot { .. } | Ctx::KubeQos { .. } => kubelet::Kubelet.classify_below(name, ctx),
        Ctx::LibpodParent => podman::Podman.classify_below(name, ctx),
        Ctx::DockerParent => docker::Docker.classify_below(name, ctx),
        Ctx::Below(family, _) => runtime(*family).classify_below(name, ctx),
    };
    found.unwrap_or((Kind::Plain, Ctx::Host))
}

/// Whether a command line's first argument (`argv[0]`) claims a process that serves
/// others: as a family of [`TABLE`] says ([`Runtime::claims_helper`]: conmon, a containerd
/// shim, an LXC monitor). Only a claim: a role is given only
/// from the process's credentials (`status`, see [`crate::resolve::Resolver::process_role`]),
/// which are read only for these. One definition for the walk, which reads their
/// `status` beside their command lines ([`crate::tree::TreeBuilder::monitor_status`]),
/// and the identification.
pub(crate) fn claims_monitor(argv0: &[u8]) -> bool {
    TABLE.iter().any(|r| r.claims_helper(argv0))
}

/// The role of a process: the first family whose claim holds.
pub(crate) fn process_role(
    r: &mut crate::resolve::Resolver,
    p: &ProcFacts<'_>,
) -> Option<crate::resolve::ProcessRole> {
    TABLE.iter().find_map(|rt| rt.role(r, p))
}

#[cfg(test)]
mod tests {
    use super::claims_monitor;

    #[test]
    fn monitor_claims_by_base_name() {
        for (argv0, want) in [
            (&b"/usr/bin/conmon"[..], true),
            (b"conmon", true),
            (b"/usr/local/bin/containerd-shim-runc-v2", true),
            (b"containerd-shim", true),
            (b"[lxc monitor] /var/lib/lxc c1", true),
            (b"/usr/bin/conmonx", false),
            (b"/opt/containerd-shim/bin/sleep", false),
            (b"/usr/bin/containerd", false),
            (b"lxc monitor", false),
            (b"", false),
        ] {
            assert_eq!(
                claims_monitor(argv0),
                want,
                "{}",
                String::from_utf8_lossy(argv0)
            );
        }
    }
}

#[cfg(test)]
mod toml_tests {
    use super::toml_string;

    #[test]
    fn a_key_in_its_table_only_and_never_a_longer_key() {
        let t = b"state_dir = \"/no\"\nstate = '/run/c'\n[plugins]\nstate = \"/nope\"\n[storage]\n  graphroot = \"/srv/g\" # comment\n";
        assert_eq!(toml_string(t, None, b"state"), Some(&b"/run/c"[..]));
        assert_eq!(
            toml_string(t, Some(b"storage"), b"graphroot"),
            Some(&b"/srv/g"[..])
        );
        assert_eq!(toml_string(t, Some(b"plugins"), b"graphroot"), None);
        assert_eq!(toml_string(b"state = 3\n", None, b"state"), None);
        assert_eq!(toml_string(b"state = \"unclosed\n", None, b"state"), None);
        assert_eq!(toml_string(b"", None, b"state"), None);
    }
}
