//! Names from on-disk runtime state: no daemon, no socket, no API call.
//!
//! Everything here reads files under the host root (a fixture works like a live host),
//! or under a container's root (`proc/<pid>/root` of its init) for the state a kind
//! node keeps in its own `/run`. All of it is untrusted: reads go through
//! [`crate::fs::state`] (confined to the root, regular files only, size-capped), JSON
//! errors are reported on the node that needed the file, and every string taken from a
//! container is cut to [`MAX_NAME`] bytes.
//!
//! Sources, per runtime:
//! - podman: `<graphroot>/<driver>-containers/containers.json` (rootful
//!   `/var/lib/containers/storage`, rootless `~/.local/share/containers/storage` of the
//!   owner from `etc/passwd`); crun `status` and runc `state.json` files (rootful
//!   `/run/crun`, `/run/runc`; rootless `/run/user/<uid>/{crun,runc}`); conmon's command
//!   line (`-c ID`, `-n NAME`);
//! - docker: `/var/lib/docker/containers/<id>/config.v2.json` (rootless:
//!   `~/.local/share/docker/...`);
//! - containerd (CRI): task bundles `run/containerd/io.containerd.runtime.v2.task/<ns>/<id>/config.json`
//!   and their `io.kubernetes.cri.*` annotations; the shim's `-namespace NS -id SANDBOX`;
//! - CRI-O: `run/containers/storage/overlay-containers/<id>/userdata/config.json`
//!   (`io.kubernetes.pod.*`, `io.kubernetes.cri-o.*` annotations);
//! - kubelet: `var/log/pods/<namespace>_<name>_<uid>/` and
//!   `var/log/containers/<pod>_<namespace>_<container>-<id>.log` (names only, links not
//!   followed).

use crate::classify::{is_container_id, Qos};
use crate::fs::state::{
    list_in_root, list_user_dir, open_root, read_in_root, read_user_file, StateError,
    MAX_STATE_FILE,
};
use crate::fs::{Host, Scratch};
use crate::runtime::IdentityKind;
#[allow(unused_imports)]
use crate::runtime::{containerd::*, docker::*, kind::*, kubelet::*, oci::*, podman::*};
use serde::Deserialize;
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Longest string kept from runtime state (names, images); longer ones are cut.
pub const MAX_NAME: usize = 512;

/// Most bundles read when listing the containers of one pod.
pub(crate) const MAX_BUNDLES: usize = 4096;

/// A Kubernetes node that runs in a container (kind, minikube), confirmed by its
/// tool's evidence (see [`crate::runtime::kind`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
pub struct KindNode {
    /// Node name (its hostname, e.g. `kind-control-plane`).
    pub name: String,
    /// Cluster name (`kind`), from a label or the node name.
    pub cluster: Option<String>,
}

/// A pod, as far as it is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
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
pub struct Identity {
    /// What it is (serialised as `podman-container`, `kube-pod`, ...).
    pub kind: crate::runtime::IdentityKind,
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
    /// For [`IdentityKind::Unidentified`](crate::runtime::IdentityKind::Unidentified):
    /// what was seen (the shape, and the state that was looked for and not found).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub seen: Option<String>,
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

/// An error met while resolving, to be recorded on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveError {
    /// The file, as a path under the host root (container roots as `proc/<pid>/root/...`).
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
    /// Whether it was a permission problem.
    pub permission: bool,
}

/// Where runtime state is read from: the host root, or a container's root through its
/// init process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RootKey {
    /// The host root.
    Host,
    /// `proc/<pid>/root`.
    Proc(u32),
}

/// A string from runtime state, cut to [`MAX_NAME`] bytes at a character boundary. The
/// bytes are kept as they are (`--json` carries them exactly): every renderer escapes them
/// before a terminal sees them (cgroup-cli's `term` writer).
pub(crate) fn cut(mut s: String) -> String {
    if s.len() > MAX_NAME {
        let mut end = MAX_NAME;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The value of the first of `names` in a command line: `NAME VALUE` or `NAME=VALUE`.
pub(crate) fn flag_value<'a>(args: &[&'a [u8]], names: &[&[u8]]) -> Option<&'a [u8]> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        for n in names {
            if a == n {
                return it.next().copied();
            }
            if let Some(v) = a.strip_prefix(*n).and_then(|r| r.strip_prefix(b"=")) {
                return Some(v);
            }
        }
    }
    None
}

pub(crate) fn lossy(b: &[u8]) -> String {
    cut(String::from_utf8_lossy(b).into_owned())
}

/// Reads runtime state and caches what it read. One resolver serves one walk.
pub struct Resolver {
    pub(crate) host: Host,
    pub(crate) host_fd: Option<OwnedFd>,
    pub(crate) buf: Vec<u8>,
    pub(crate) scratch: Scratch,
    pub(crate) owners: HashMap<String, Option<u32>>,
    pub(crate) passwd: Option<Rc<HashMap<u32, (String, PathBuf)>>>,
    pub(crate) podman: HashMap<PathBuf, Rc<HashMap<String, PodmanInfo>>>,
    pub(crate) roots: HashMap<u32, Option<Rc<OwnedFd>>>,
    pub(crate) bundles: HashMap<(RootKey, String), Option<Bundle>>,
    pub(crate) pod_logs: HashMap<RootKey, Rc<PodLogs>>,
    pub(crate) listings: HashMap<(RootKey, PathBuf), Option<Rc<std::collections::HashSet<String>>>>,
    /// Errors, each reported once.
    pub(crate) errors: Vec<ResolveError>,
    pub(crate) reported: std::collections::HashSet<PathBuf>,
    /// While set, failed reads (not broken contents) are not reported: searches.
    pub(crate) quiet: bool,
    /// What was read, when recording (for `cgtree snapshot`).
    pub(crate) recorded: Option<Vec<Recorded>>,
    /// The live host's `/proc`, checked to be procfs (`fstatfs`), opened once (`None`
    /// inside: not a live host, or not procfs).
    pub(crate) live_proc: Option<Option<OwnedFd>>,
    /// containerd state directories its own processes named (under the host root).
    pub(crate) containerd_states: Vec<PathBuf>,
    /// `(name, lxcpath)` that LXC monitors named.
    pub(crate) lxcpaths: Vec<(String, String)>,
    /// [`Resolver::process_status`]'s answer for each PID asked (or given by the walk,
    /// [`Resolver::note_status`]): a shim in a Kubernetes node asks for its node's init,
    /// as every other shim there does.
    statuses: HashMap<u32, Option<ProcStatus>>,
}

/// The UIDs (real, effective, saved, fs) and parent PID of a process, from its `status`.
pub type ProcStatus = (Option<[u32; 4]>, Option<u32>);

/// A state file or directory listing a [`Resolver`] read, kept when recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A file and its bytes.
    File {
        /// Where.
        root: RootKey,
        /// Path under that root.
        path: PathBuf,
        /// Content.
        bytes: Vec<u8>,
    },
    /// A directory and its entry names.
    Dir {
        /// Where.
        root: RootKey,
        /// Path under that root.
        path: PathBuf,
        /// Entry names.
        entries: Vec<Vec<u8>>,
    },
}

impl Resolver {
    /// A resolver for `host`.
    pub fn new(host: &Host) -> Self {
        Resolver {
            host: host.clone(),
            host_fd: open_root(host.root()).ok(),
            buf: Vec::new(),
            scratch: Scratch::default(),
            owners: HashMap::new(),
            passwd: None,
            podman: HashMap::new(),
            roots: HashMap::new(),
            bundles: HashMap::new(),
            pod_logs: HashMap::new(),
            listings: HashMap::new(),
            errors: Vec::new(),
            reported: Default::default(),
            quiet: false,
            recorded: None,
            live_proc: None,
            containerd_states: Vec::new(),
            lxcpaths: Vec::new(),
            statuses: HashMap::new(),
        }
    }

    /// Keeps what is read from now on, for [`Resolver::take_recorded`].
    pub fn record(&mut self) {
        self.recorded.get_or_insert_with(Vec::new);
    }

    /// What was read while recording.
    pub fn take_recorded(&mut self) -> Vec<Recorded> {
        self.recorded.take().unwrap_or_default()
    }

    /// Takes the errors met since the last call.
    pub fn take_errors(&mut self) -> Vec<ResolveError> {
        std::mem::take(&mut self.errors)
    }

    pub(crate) fn display_path(&self, key: RootKey, rel: &Path) -> PathBuf {
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        match key {
            RootKey::Host => self.host.path(rel),
            RootKey::Proc(pid) => self.host.path(format!("proc/{pid}/root")).join(rel),
        }
    }

    pub(crate) fn report(&mut self, key: RootKey, rel: &Path, e: &StateError) {
        if e.is_absent() || self.quiet {
            return;
        }
        let path = self.display_path(key, rel);
        if self.reported.insert(path.clone()) {
            let permission = matches!(
                e,
                StateError::Errno(nix::errno::Errno::EACCES | nix::errno::Errno::EPERM)
            );
            self.errors.push(ResolveError {
                path,
                message: e.to_string(),
                permission,
            });
        }
    }

    pub(crate) fn report_json(&mut self, key: RootKey, rel: &Path, e: &serde_json::Error) {
        let path = self.display_path(key, rel);
        if self.reported.insert(path.clone()) {
            self.errors.push(ResolveError {
                path,
                message: crate::error::json_error(e),
                permission: false,
            });
        }
    }

    pub(crate) fn root_fd(&mut self, key: RootKey) -> Option<Rc<OwnedFd>> {
        match key {
            RootKey::Host => self
                .host_fd
                .as_ref()
                .and_then(|fd| fd.try_clone().ok())
                .map(Rc::new),
            RootKey::Proc(pid) => {
                if let Some(r) = self.roots.get(&pid) {
                    return r.clone();
                }
                let path = self.host.path(format!("proc/{pid}/root"));
                let fd = match open_root(&path) {
                    Ok(fd) => Some(Rc::new(fd)),
                    Err(e) => {
                        self.report(
                            RootKey::Host,
                            Path::new(&format!("proc/{pid}/root")),
                            &StateError::Errno(e),
                        );
                        None
                    }
                };
                self.roots.insert(pid, fd.clone());
                fd
            }
        }
    }

    /// Reads a state file; `None` when absent or refused (refusals are reported).
    pub(crate) fn read(&mut self, key: RootKey, rel: &Path) -> Option<Vec<u8>> {
        self.read_limited(key, rel, MAX_STATE_FILE)
    }

    /// [`Resolver::read`] with a size limit.
    pub(crate) fn read_limited(&mut self, key: RootKey, rel: &Path, limit: u64) -> Option<Vec<u8>> {
        let fd = self.root_fd(key)?;
        let mut buf = std::mem::take(&mut self.buf);
        let r = read_in_root(fd.as_fd(), rel, limit, &mut buf);
        let out = match r {
            Ok(()) => {
                if let Some(rec) = self.recorded.as_mut() {
                    rec.push(Recorded::File {
                        root: key,
                        path: rel.to_path_buf(),
                        bytes: buf.clone(),
                    });
                }
                Some(buf.clone())
            }
            Err(e) => {
                self.report(key, rel, &e);
                None
            }
        };
        self.buf = buf;
        out
    }

    pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(
        &mut self,
        key: RootKey,
        rel: &Path,
    ) -> Option<T> {
        let bytes = self.read(key, rel)?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.report_json(key, rel, &e);
                None
            }
        }
    }

    pub(crate) fn list(&mut self, key: RootKey, rel: &Path) -> Vec<Vec<u8>> {
        let Some(fd) = self.root_fd(key) else {
            return Vec::new();
        };
        match list_in_root(fd.as_fd(), rel) {
            Ok(v) => {
                if let Some(rec) = self.recorded.as_mut() {
                    rec.push(Recorded::Dir {
                        root: key,
                        path: rel.to_path_buf(),
                        entries: v.clone(),
                    });
                }
                v
            }
            Err(e) => {
                self.report(key, rel, &e);
                Vec::new()
            }
        }
    }

    /// The owner a file in `uid`'s directory must have: `uid` on the live host; nobody
    /// in particular in a fixture or snapshot (its files belong to whoever unpacked it).
    pub(crate) fn file_owner(&self, uid: u32) -> Option<u32> {
        self.host.is_live().then_some(uid)
    }

    /// Reads `rel` below `base`, a directory user `uid` controls (their home,
    /// `run/user/UID`), with [`read_user_file`]: no symlink followed at any component of
    /// `rel`, a regular file with one link, owned by `uid` on a live host. `None` when
    /// absent or refused (refusals reported unless quiet).
    pub(crate) fn read_user(
        &mut self,
        uid: u32,
        base: &Path,
        rel: &Path,
        limit: u64,
    ) -> Option<Vec<u8>> {
        let fd = self.root_fd(RootKey::Host)?;
        let owner = self.file_owner(uid);
        let mut buf = std::mem::take(&mut self.buf);
        let full = base.join(rel);
        let out = match read_user_file(fd.as_fd(), base, rel, owner, limit, &mut buf) {
            Ok(()) => {
                if let Some(rec) = self.recorded.as_mut() {
                    rec.push(Recorded::File {
                        root: RootKey::Host,
                        path: full,
                        bytes: buf.clone(),
                    });
                }
                Some(buf.clone())
            }
            Err(e) => {
                self.report(RootKey::Host, &full, &e);
                None
            }
        };
        self.buf = buf;
        out
    }

    pub(crate) fn read_user_json<T: for<'de> Deserialize<'de>>(
        &mut self,
        uid: u32,
        base: &Path,
        rel: &Path,
    ) -> Option<T> {
        let bytes = self.read_user(uid, base, rel, MAX_STATE_FILE)?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.report_json(RootKey::Host, &base.join(rel), &e);
                None
            }
        }
    }

    /// Lists `rel` below `base`, a directory user `uid` controls, with
    /// [`list_user_dir`] (no symlink followed below `base`).
    pub(crate) fn list_user(&mut self, uid: u32, base: &Path, rel: &Path) -> Vec<Vec<u8>> {
        let Some(fd) = self.root_fd(RootKey::Host) else {
            return Vec::new();
        };
        let full = base.join(rel);
        match list_user_dir(fd.as_fd(), base, rel, self.file_owner(uid)) {
            Ok(v) => {
                if let Some(rec) = self.recorded.as_mut() {
                    rec.push(Recorded::Dir {
                        root: RootKey::Host,
                        path: full,
                        entries: v.clone(),
                    });
                }
                v
            }
            Err(e) => {
                self.report(RootKey::Host, &full, &e);
                Vec::new()
            }
        }
    }

    /// The UIDs (real, effective, saved, fs) and parent PID of host process `pid`, from
    /// its `status` (read with [`crate::fs::read_file`]). `None` when it is gone or
    /// unreadable. Read once per PID per resolver (one identification, one trace): later
    /// questions get the first answer.
    pub fn process_status(&mut self, pid: u32) -> Option<ProcStatus> {
        if let Some(st) = self.statuses.get(&pid) {
            return *st;
        }
        let st = self.read_process_status(pid);
        self.statuses.insert(pid, st);
        st
    }

    /// What the walk read in the `status` of process `pid` on the live host, through the
    /// `/proc` it verified to be procfs ([`crate::tree::TreeBuilder::monitor_status`]):
    /// [`Resolver::process_status`] answers it without reading again. Ignored inside a
    /// `--root` (a fixture's `status` is read from the fixture).
    pub fn note_status(&mut self, pid: u32, uid: Option<[u32; 4]>, ppid: Option<u32>) {
        if self.host.is_live() {
            self.statuses.entry(pid).or_insert(Some((uid, ppid)));
        }
    }

    fn read_process_status(&mut self, pid: u32) -> Option<ProcStatus> {
        if self.host.is_live() {
            let live = self.live_proc.get_or_insert_with(|| {
                crate::fs::open_dir_path(Path::new("/proc"))
                    .ok()
                    .filter(|fd| {
                        crate::fs::is_fs_type(fd.as_fd(), nix::sys::statfs::PROC_SUPER_MAGIC)
                    })
            });
            if let Some(fd) = live {
                // The kernel's own files (procfs verified): one open, as the walk reads a
                // command line.
                let name = std::ffi::CString::new(format!("{pid}/status")).ok()?;
                let b = crate::fs::read_file_from(
                    fd.as_fd(),
                    &name,
                    &mut self.scratch,
                    crate::fs::Origin::Kernel,
                )
                .ok()?;
                let st = crate::parse::status(b).ok()?;
                return Some((st.uid, st.ppid));
            }
        }
        let proc_fd = crate::fs::open_dir_path(&self.host.proc_dir()).ok()?;
        let name = std::ffi::CString::new(pid.to_string()).ok()?;
        // `<pid>` itself not followed if it is a link (a hostile `--root`).
        let dir = crate::fs::open_dir(proc_fd.as_fd(), &name).ok()?;
        let b = crate::fs::read_file(dir.as_fd(), c"status", &mut self.scratch).ok()?;
        let st = crate::parse::status(b).ok()?;
        Some((st.uid, st.ppid))
    }

    /// `etc/passwd` of the host: uid -> (name, home).
    pub fn passwd(&mut self) -> Rc<HashMap<u32, (String, PathBuf)>> {
        if let Some(p) = &self.passwd {
            return p.clone();
        }
        let mut map = HashMap::new();
        if let Some(bytes) = self.read(RootKey::Host, Path::new("etc/passwd")) {
            use std::os::unix::ffi::OsStrExt;
            for e in crate::parse::passwd(&bytes).flatten() {
                map.entry(e.uid).or_insert((
                    lossy(e.name),
                    PathBuf::from(std::ffi::OsStr::from_bytes(e.home)),
                ));
            }
        }
        let rc = Rc::new(map);
        self.passwd = Some(rc.clone());
        rc
    }

    /// The user name of `uid` in the host's `etc/passwd`.
    pub fn user_name(&mut self, uid: u32) -> Option<String> {
        self.passwd().get(&uid).map(|(n, _)| n.clone())
    }

    pub(crate) fn home(&mut self, uid: u32) -> Option<PathBuf> {
        self.passwd().get(&uid).map(|(_, h)| h.clone())
    }

    /// Who owns container `id` by the runtime state that holds it: root (0) when root's
    /// runtimes know it (podman's rootful storage or run root, CRI-O's, docker's, crun's
    /// or runc's state, a containerd task bundle), else the user whose rootless podman
    /// storage holds it; `None` when no state names it. Root's state is looked up first,
    /// so a user who copies root's ids into their own storage does not become their owner.
    pub fn container_owner(&mut self, id: &str) -> Option<u32> {
        if !is_container_id(id.as_bytes()) {
            return None;
        }
        if let Some(o) = self.owners.get(id) {
            return *o;
        }
        let quiet = std::mem::replace(&mut self.quiet, true);
        let rootful = self.rootful_podman_has(id)
            || [
                "run/containers/storage/overlay-containers",
                "var/lib/docker/containers",
                "run/crun",
                "run/runc",
            ]
            .iter()
            .any(|d| {
                self.listed(RootKey::Host, Path::new(d))
                    .is_some_and(|ids| ids.contains(id))
            })
            || self.containerd_task_namespace(id).is_some();
        let owner = if rootful {
            Some(0)
        } else {
            self.rootless_podman_owner(id)
        };
        self.quiet = quiet;
        self.owners.insert(id.to_string(), owner);
        owner
    }

    /// Identifies a container cgroup found at host level (not a Kubernetes container):
    /// podman, docker, or a bare id confirmed by runtime state. `owner` is the user whose
    /// slice holds it (rootless), `conmon_names` the names conmon processes gave for ids.
    pub fn container(
        &mut self,
        id: &str,
        shape: Option<crate::runtime::Family>,
        owner: Option<u32>,
        conmon_names: &HashMap<String, Option<String>>,
    ) -> Option<Identity> {
        use crate::runtime::Family;
        let id = id.to_string();
        // Joined to paths below: only a 64-hex id (what classify gives; a caller's other
        // string is refused).
        if !is_container_id(id.as_bytes()) {
            return None;
        }
        // The shape says which engine to ask first; only state is evidence.
        let docker_shape = shape == Some(Family::Docker);
        let mut podman = false;
        let mut docker = false;
        let mut evidence = false;
        // A podman container outside any user slice (cgroups delegated by hand, or by a
        // manager other than systemd) may still be a user's rootless container: its id
        // is then in that user's own storage, which names the owner.
        let owner = match owner {
            None if !docker_shape && !self.rootful_podman_has(&id) => {
                self.rootless_podman_owner(&id)
            }
            o => o,
        };
        let mut ident = Identity {
            kind: IdentityKind::Container,
            id: Some(id.clone()),
            user: owner,
            rootless: Some(owner.is_some_and(|u| u != 0)),
            ..Default::default()
        };
        // A rootless owner's home and runtime directory: theirs, read with the
        // user-directory rules (no symlink followed, their files only).
        let rootless = owner.filter(|&u| u != 0);
        let home = rootless.and_then(|u| self.home(u).map(|h| (u, h)));
        let run_user = rootless.map(|u| (u, PathBuf::from(format!("run/user/{u}"))));

        // A cgroup in user U's slice is U's: only U's own state names it. (Root's state
        // would let U name a cgroup of theirs after one of root's containers.)
        let roots_state = rootless.is_none();
        // podman storage: the owner's, or root's.
        if !docker_shape {
            let mut stores = Vec::new();
            if let Some((u, h)) = &home {
                stores.push(self.podman_storage(Some((*u, h))));
            }
            if roots_state {
                stores.push(self.podman_storage(None));
            }
            for store in stores {
                if let Some(info) = store.get(&id) {
                    podman = true;
                    evidence = true;
                    ident.name = info.name.clone();
                    ident.image = info.image.clone();
                    break;
                }
            }
        }
        // conmon's names are of conmons that run as their container's owner; that owner
        // must be this cgroup's too.
        let conmon_name = match conmon_names.get(&id) {
            Some(n) if roots_state || self.container_owner(&id) == rootless => Some(n),
            _ => None,
        };
        if let Some(name) = conmon_name {
            podman = true;
            evidence = true;
            if ident.name.is_none() {
                ident.name = name.clone();
            }
        }
        // OCI runtime state: crun's status, runc's state.json (the owner's
        // `/run/user/UID/{crun,runc}`, or root's `/run/{crun,runc}`).
        let crun_rel = Path::new("crun").join(&id).join("status");
        let runc_rel = Path::new("runc").join(&id).join("state.json");
        let mut found = false;
        if let Some((u, base)) = &run_user {
            found = self
                .read_user_json::<CrunStatus>(*u, base, &crun_rel)
                .map(|s| s.pid)
                .is_some()
                || self
                    .read_user_json::<RuncState>(*u, base, &runc_rel)
                    .map(|s| s.init_process_pid)
                    .is_some();
        }
        if !found && roots_state {
            found = self
                .read_json::<CrunStatus>(RootKey::Host, &Path::new("run").join(&crun_rel))
                .map(|s| s.pid)
                .is_some()
                || self
                    .read_json::<RuncState>(RootKey::Host, &Path::new("run").join(&runc_rel))
                    .map(|s| s.init_process_pid)
                    .is_some();
        }
        if found {
            evidence = true;
        }
        // docker
        if !podman {
            let rel = Path::new("containers").join(&id).join("config.v2.json");
            let mut configs = Vec::new();
            if let Some((u, h)) = &home {
                // Rootless docker: `~/.local/share/docker`, the user's.
                configs.push(self.read_user_json::<DockerConfig>(
                    *u,
                    h,
                    &Path::new(".local/share/docker").join(&rel),
                ));
            }
            if roots_state && configs.iter().all(Option::is_none) {
                configs.push(self.read_json::<DockerConfig>(
                    RootKey::Host,
                    &Path::new("var/lib/docker").join(&rel),
                ));
            }
            if let Some(cfg) = configs.into_iter().flatten().next() {
                docker = true;
                evidence = true;
                ident.name = cfg.name.map(|n| cut(n.trim_start_matches('/').to_string()));
                if let Some(c) = cfg.config {
                    ident.image = c.image.filter(|i| !i.is_empty()).map(cut);
                    if let Some(l) = c.labels.as_ref() {
                        ident.node = crate::runtime::kind::node_from_labels(
                            l,
                            ident.name.as_deref().unwrap_or_default(),
                        );
                    }
                }
            }
        }
        // A containerd task outside Kubernetes' cgroups (`ctr run`, nerdctl: cgroup
        // `/<namespace>/<id>` by default): its bundle directory, in any namespace.
        let containerd =
            roots_state && !podman && !docker && self.containerd_task_namespace(&id).is_some();
        if !evidence && !containerd {
            return None;
        }
        if !docker && !containerd {
            // podman keeps labels in its database; kind's node image is its evidence.
            ident.node = crate::runtime::kind::node_from_image(
                ident.image.as_deref(),
                ident.name.as_deref(),
            );
        }
        ident.kind_node = ident.node.as_ref().and_then(|n| {
            (n.distribution == Some("kind")).then(|| KindNode {
                name: n.name.clone(),
                cluster: n.cluster.clone(),
            })
        });
        ident.runtime = if podman {
            Some("podman")
        } else if docker {
            Some("docker")
        } else if containerd {
            Some("containerd")
        } else {
            None
        };
        ident.kind = match ident.runtime {
            Some("podman") => IdentityKind::PodmanContainer,
            Some("docker") => IdentityKind::DockerContainer,
            _ => IdentityKind::Container,
        };
        Some(ident)
    }

    /// The entries of a state directory under `root`, read once (`None`: not there).
    pub(crate) fn listed(
        &mut self,
        root: RootKey,
        dir: &Path,
    ) -> Option<Rc<std::collections::HashSet<String>>> {
        let key = (root, dir.to_path_buf());
        if let Some(v) = self.listings.get(&key) {
            return v.clone();
        }
        let fd = self.root_fd(root);
        let listing = fd.and_then(|fd| list_in_root(fd.as_fd(), dir).ok());
        if let (Some(rec), Some(entries)) = (self.recorded.as_mut(), &listing) {
            rec.push(Recorded::Dir {
                root,
                path: dir.to_path_buf(),
                entries: entries.clone(),
            });
        }
        let v = listing.map(|names| {
            Rc::new(
                names
                    .into_iter()
                    .map(|n| String::from_utf8_lossy(&n).into_owned())
                    .collect(),
            )
        });
        self.listings.insert(key, v.clone());
        v
    }

    /// The role of a process from its command line: the first family of
    /// [`crate::runtime::TABLE`] whose claim holds (a containerd shim, CRI-O's or
    /// podman's conmon, an LXC monitor). `uids` are the process's UIDs from its `status`
    /// (real, effective, saved, fs); `root` is where the state it names is read (the
    /// container it runs in).
    ///
    /// A command line is the process's own claim, so it counts only when every value
    /// taken from it is a checked token ([`is_container_id`],
    /// [`crate::classify::is_plain_name`], [`crate::classify::is_containerd_id`]) and the process runs as the owner of what it names (all four
    /// UIDs equal to it). Otherwise the process is not identified (`None`): a user's
    /// `exec -a conmon sleep -c <root's container id> -n anything` names nothing.
    pub fn process_role(
        &mut self,
        args: &[&[u8]],
        root: RootKey,
        uids: Option<[u32; 4]>,
    ) -> Option<ProcessRole> {
        crate::runtime::process_role(self, &crate::runtime::ProcFacts { args, root, uids })
    }
}

/// Entry points for fuzzing the JSON readers (not part of the stable API).
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// An OCI `config.json` (containerd task bundle or CRI-O config) -> its CRI identity.
    pub fn bundle(bytes: &[u8]) -> Option<Bundle> {
        serde_json::from_slice::<OciConfig>(bytes)
            .ok()?
            .annotations
            .as_ref()
            .and_then(Bundle::from_annotations)
    }

    /// podman's `containers.json` -> (id, name, image) of each entry.
    pub fn podman_containers(bytes: &[u8]) -> Vec<(String, Option<String>, Option<String>)> {
        let Ok(list) = serde_json::from_slice::<Vec<PodmanEntry>>(bytes) else {
            return Vec::new();
        };
        list.into_iter()
            .map(|e| {
                let image = e
                    .metadata
                    .as_deref()
                    .and_then(|m| serde_json::from_str::<PodmanMetadata>(m).ok())
                    .and_then(|m| m.image_name);
                (e.id, e.names.into_iter().next(), image)
            })
            .collect()
    }

    /// docker's `config.v2.json` -> (name, image, kind cluster label).
    pub fn docker_config(bytes: &[u8]) -> Option<(Option<String>, Option<String>, Option<String>)> {
        let c = serde_json::from_slice::<DockerConfig>(bytes).ok()?;
        let (image, cluster) = match c.config {
            Some(i) => (
                i.image,
                i.labels
                    .and_then(|l| l.get("io.x-k8s.kind.cluster").cloned()),
            ),
            None => (None, None),
        };
        Some((c.name, image, cluster))
    }

    /// crun's `status` or runc's `state.json` -> the init PID.
    pub fn runtime_state(bytes: &[u8]) -> (Option<i64>, Option<i64>) {
        (
            serde_json::from_slice::<CrunStatus>(bytes)
                .ok()
                .and_then(|s| s.pid),
            serde_json::from_slice::<RuncState>(bytes)
                .ok()
                .and_then(|s| s.init_process_pid),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_of_table() {
        assert_eq!(cluster_of("kind-control-plane").as_deref(), Some("kind"));
        assert_eq!(cluster_of("dev-worker").as_deref(), Some("dev"));
        assert_eq!(cluster_of("dev-worker12").as_deref(), Some("dev"));
        assert_eq!(
            cluster_of("a-b-external-load-balancer").as_deref(),
            Some("a-b")
        );
        assert_eq!(cluster_of("-control-plane"), None);
        assert_eq!(cluster_of("myhost"), None);
    }

    #[test]
    fn cut_keeps_char_boundaries() {
        let s = "é".repeat(400);
        let c = cut(s);
        assert!(c.len() <= MAX_NAME && c.chars().all(|ch| ch == 'é'));
    }

    /// Writes `body` at `rel` below `root`, with its directories.
    fn put(root: &Path, rel: &str, body: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    const ROOT_ID: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    const ALICE_ID: &str = "2222222222222222222222222222222222222222222222222222222222222222";
    const SESSION: &str = "3333333333333333333333333333333333333333333333333333333333333333";

    /// A host with root's podman container ROOT_ID and alice's (1500) ALICE_ID.
    fn two_owners() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        put(
            root,
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nalice:x:1500:1500::/home/alice:/bin/sh\n",
        );
        let entry = |id: &str, name: &str| format!(r#"[{{"id":"{id}","names":["{name}"]}}]"#);
        put(
            root,
            "var/lib/containers/storage/overlay-containers/containers.json",
            &entry(ROOT_ID, "roots"),
        );
        put(
            root,
            "home/alice/.local/share/containers/storage/overlay-containers/containers.json",
            &entry(ALICE_ID, "alices"),
        );
        d
    }

    fn conmon_argv<'a>(id: &'a str, pidfile: &'a str) -> Vec<&'a [u8]> {
        vec![
            b"/usr/bin/conmon",
            b"-c",
            id.as_bytes(),
            b"-p",
            pidfile.as_bytes(),
            b"-n",
            b"web",
        ]
    }

    #[test]
    fn conmon_pidfile_only_in_the_runtime_dir_of_conmons_user() {
        let d = two_owners();
        let root = d.path();
        let run = format!("run/containers/storage/overlay-containers/{ROOT_ID}/userdata");
        put(root, &format!("{run}/pidfile"), "4242\n");
        let exec = format!(
            "var/lib/containers/storage/overlay-containers/{ROOT_ID}/userdata/{SESSION}/exec_pid"
        );
        put(root, &exec, "77");
        let alice_run = format!("run/user/1500/containers/vfs-containers/{ALICE_ID}/userdata");
        put(root, &format!("{alice_run}/pidfile"), "5000");
        let alice_home = format!(
            "home/alice/.local/share/containers/storage/overlay-containers/{ALICE_ID}/userdata"
        );
        put(root, &format!("{alice_home}/pidfile"), "5001");
        put(root, "etc/shadow", "4343");
        put(root, "run/c/pidfile", "1");
        // alice's pidfile, a symlink to root's.
        let linked = format!("run/user/1500/containers/overlay-containers/{ALICE_ID}/userdata");
        std::fs::create_dir_all(root.join(&linked)).unwrap();
        std::os::unix::fs::symlink(
            format!("/{run}/pidfile"),
            root.join(&linked).join("pidfile"),
        )
        .unwrap();
        let mut r = Resolver::new(&Host::with_root(root));
        let pid = |r: &mut Resolver, id: &str, path: String, uid: u32| {
            r.conmon_pidfile_pid(&conmon_argv(id, &path), uid)
        };
        assert_eq!(
            pid(&mut r, ROOT_ID, format!("/{run}/pidfile"), 0),
            Some(4242)
        );
        assert_eq!(pid(&mut r, ROOT_ID, format!("/{exec}"), 0), Some(77));
        assert_eq!(
            r.accepted_pidfile(&conmon_argv(ROOT_ID, &format!("/{exec}")), 0),
            Some(PathBuf::from(&exec))
        );
        assert_eq!(
            pid(&mut r, ALICE_ID, format!("/{alice_run}/pidfile"), 1500),
            Some(5000)
        );
        assert_eq!(
            pid(&mut r, ALICE_ID, format!("/{alice_home}/pidfile"), 1500),
            Some(5001)
        );
        let long: Vec<&[u8]> = vec![
            b"conmon",
            b"--cid",
            ROOT_ID.as_bytes(),
            b"--container-pidfile=/var/lib/containers/storage/overlay-containers/1111111111111111111111111111111111111111111111111111111111111111/userdata/3333333333333333333333333333333333333333333333333333333333333333/exec_pid",
        ];
        assert_eq!(r.conmon_pidfile_pid(&long, 0), Some(77));
        // Refused without opening: outside the runtime's directory, not its layout,
        // another container's, root's for a user's conmon, `..`, relative.
        for (id, path, uid) in [
            (ROOT_ID, "/etc/shadow".to_string(), 0),
            (ROOT_ID, "/proc/kmsg".to_string(), 0),
            (ROOT_ID, "/dev/loop7".to_string(), 0),
            (ROOT_ID, "/run/c/pidfile".to_string(), 0),
            (ROOT_ID, format!("/{run}/../../../../../../etc/shadow"), 0),
            (ROOT_ID, format!("/{run}/config.json"), 0),
            (ALICE_ID, format!("/{run}/pidfile"), 0),
            (ROOT_ID, format!("/{run}/pidfile"), 1500),
            (ROOT_ID, format!("{run}/pidfile"), 0),
            (ALICE_ID, format!("/{linked}/pidfile"), 1500),
        ] {
            assert_eq!(pid(&mut r, id, path.clone(), uid), None, "{path} as {uid}");
        }
        assert_eq!(
            r.accepted_pidfile(&conmon_argv(ROOT_ID, "/etc/shadow"), 0),
            None
        );
        assert_eq!(r.conmon_pidfile_pid(&[b"conmon", b"-p"], 0), None);
        // Nothing is reported: a missing or refused pidfile only means no label.
        assert!(r.take_errors().is_empty());
        // What was read: only the accepted pidfiles (what a snapshot copies).
        r.record();
        let _ = pid(&mut r, ROOT_ID, format!("/{run}/pidfile"), 0);
        let _ = pid(&mut r, ROOT_ID, "/etc/shadow".into(), 0);
        let paths: Vec<PathBuf> = r
            .take_recorded()
            .into_iter()
            .map(|rec| match rec {
                Recorded::File { path, .. } | Recorded::Dir { path, .. } => path,
            })
            .collect();
        assert_eq!(paths, vec![PathBuf::from(&run).join("pidfile")]);
    }

    #[test]
    fn command_line_roles_need_checked_tokens_and_the_owners_uid() {
        let d = two_owners();
        let root = d.path();
        std::fs::create_dir_all(root.join(TASKS).join("k8s.io")).unwrap();
        let mut r = Resolver::new(&Host::with_root(root));
        let conmon = |id: &'static str, name: &'static [u8]| -> Vec<&'static [u8]> {
            vec![b"/usr/bin/conmon", b"-c", id.as_bytes(), b"-n", name]
        };
        let role = |r: &mut Resolver, args: &[&[u8]], uid: [u32; 4]| {
            r.process_role(args, RootKey::Host, Some(uid))
        };
        let as_conmon = |id: &str, name: &str| {
            Some(ProcessRole::Conmon {
                id: id.into(),
                name: Some(name.into()),
                runtime: "podman",
                pod: None,
            })
        };
        assert_eq!(
            role(&mut r, &conmon(ROOT_ID, b"web"), [0; 4]),
            as_conmon(ROOT_ID, "web")
        );
        assert_eq!(
            role(&mut r, &conmon(ALICE_ID, b"mine"), [1500; 4]),
            as_conmon(ALICE_ID, "mine")
        );
        let other = "4".repeat(64);
        let other: &'static str = Box::leak(other.into_boxed_str());
        for (args, uid, why) in [
            (
                conmon(ROOT_ID, b"totally-legit-db"),
                [1500; 4],
                "root's container",
            ),
            (
                conmon(ALICE_ID, b"web"),
                [0; 4],
                "alice's container, root's process",
            ),
            (conmon(ROOT_ID, b"web"), [1500, 0, 0, 0], "set-user-ID"),
            (conmon(other, b"web"), [0; 4], "no state names it"),
            (conmon("id1", b"web"), [0; 4], "not an id"),
            (conmon(ROOT_ID, b"../../etc"), [0; 4], "name with /"),
            (
                conmon(ROOT_ID, b"a\x1b]0;x\x07"),
                [0; 4],
                "name with controls",
            ),
        ] {
            assert_eq!(role(&mut r, &args, uid), None, "{why}");
        }
        assert_eq!(
            r.process_role(&conmon(ROOT_ID, b"web"), RootKey::Host, None),
            None,
            "UIDs unknown"
        );
        let long: Vec<&[u8]> = vec![
            b"conmon",
            b"--cid=1111111111111111111111111111111111111111111111111111111111111111",
            b"--name=db",
        ];
        assert_eq!(role(&mut r, &long, [0; 4]), as_conmon(ROOT_ID, "db"));

        let shim = |ns: &'static [u8], id: &'static [u8]| -> Vec<&'static [u8]> {
            vec![
                b"/usr/local/bin/containerd-shim-runc-v2",
                b"-namespace",
                ns,
                b"-id",
                id,
                b"-address",
                b"/run/x.sock",
            ]
        };
        match role(&mut r, &shim(b"k8s.io", b"abc"), [0; 4]) {
            Some(ProcessRole::Shim {
                namespace,
                sandbox,
                pod,
                containers,
            }) => assert_eq!(
                (namespace.as_str(), sandbox.as_str(), pod, containers.len()),
                ("k8s.io", "abc", None, 0)
            ),
            other => panic!("{other:?}"),
        }
        for (args, uid, why) in [
            (
                shim(b"k8s.io", b"abc"),
                [1500; 4],
                "a user's shim naming root's state",
            ),
            (shim(b"../../etc", b"abc"), [0; 4], "namespace with .."),
            (shim(b"k8s.io", b"a/b"), [0; 4], "id with /"),
            (shim(b"k8s.io", b"\x1b[2J"), [0; 4], "id with controls"),
        ] {
            assert_eq!(role(&mut r, &args, uid), None, "{why}");
        }
        assert_eq!(role(&mut r, &[b"/bin/sh"], [0; 4]), None);
        assert_eq!(role(&mut r, &[b"conmon"], [0; 4]), None);
        assert!(r.take_errors().is_empty());
    }

    #[test]
    fn rootless_podman_outside_a_user_slice_is_found_in_its_owners_storage() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let write = |rel: &str, body: &str| put(root, rel, body);
        write(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnoh:x:900:900::/:/bin/false\n\
             alice:x:1500:1500::/home/alice:/bin/sh\nbob:x:1600:1600::/home/bob:/bin/sh\n",
        );
        let entry = |id: &str, name: &str| {
            format!(
                r#"[{{"id":"{id}","names":["{name}"],"metadata":"{{\"image-name\":\"img\"}}"}}]"#
            )
        };
        let (a, b, c) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        write(
            "home/bob/.local/share/containers/storage/vfs-containers/containers.json",
            &entry(&a, "bobs"),
        );
        write(
            "var/lib/containers/storage/overlay-containers/containers.json",
            &entry(&b, "roots"),
        );
        let mut r = Resolver::new(&Host::with_root(root));
        let none = HashMap::new();
        let ident = |r: &mut Resolver, id: &str| {
            r.container(id, Some(crate::runtime::Family::Podman), None, &none)
                .unwrap()
        };
        let bobs = ident(&mut r, &a);
        assert_eq!(
            (bobs.name.as_deref(), bobs.user, bobs.rootless),
            (Some("bobs"), Some(1600), Some(true))
        );
        let roots = ident(&mut r, &b);
        assert_eq!(
            (roots.name.as_deref(), roots.user, roots.rootless),
            (Some("roots"), None, Some(false))
        );
        // Nobody's: still a podman container by its name, owner unknown, nothing reported
        // for the homes that have no storage.
        let unknown = ident(&mut r, &c);
        assert_eq!((unknown.user, unknown.rootless), (None, Some(false)));
        assert!(r.take_errors().is_empty());
    }

    #[test]
    fn a_bare_id_with_a_containerd_task_bundle_is_a_containerd_container() {
        let d = tempfile::tempdir().unwrap();
        let (id, other) = ("e".repeat(64), "f".repeat(64));
        std::fs::create_dir_all(d.path().join(TASKS).join("default").join(&id)).unwrap();
        std::fs::create_dir_all(d.path().join(TASKS).join("k8s.io")).unwrap();
        let mut r = Resolver::new(&Host::with_root(d.path()));
        let none = HashMap::new();
        let ident = r.container(&id, None, None, &none).unwrap();
        assert_eq!(
            (ident.kind, ident.runtime, ident.id.as_deref()),
            (
                IdentityKind::Container,
                Some("containerd"),
                Some(id.as_str())
            )
        );
        // No bundle, no other runtime state: not claimed as anything.
        assert!(r.container(&other, None, None, &none).is_none());
        assert!(r.take_errors().is_empty());
    }

    #[test]
    fn empty_names_and_images_in_storage_are_absent_not_empty() {
        // `podman run --rootfs DIR` stores `"image-name": ""`.
        let d = tempfile::tempdir().unwrap();
        let id = "9".repeat(64);
        let p = d
            .path()
            .join("var/lib/containers/storage/overlay-containers/containers.json");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            format!(
                r#"[{{"id":"{id}","names":["","node"],"metadata":"{{\"image-name\":\"\"}}"}}]"#
            ),
        )
        .unwrap();
        let mut r = Resolver::new(&Host::with_root(d.path()));
        let ident = r
            .container(
                &id,
                Some(crate::runtime::Family::Podman),
                None,
                &HashMap::new(),
            )
            .unwrap();
        assert_eq!((ident.name.as_deref(), ident.image), (Some("node"), None));
    }
}
