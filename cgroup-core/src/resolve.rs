//! Names from on-disk runtime state: no daemon, no socket, no API call.
//!
//! Everything here reads files under the host root (a fixture works like a live host),
//! or under a container's root (`proc/<pid>/root` of its init) for the state a kind
//! node keeps in its own `/run`. All of it is untrusted: reads go through
//! `crate::fs::state` (confined to the root, regular files only, size-capped), JSON
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

use crate::fs::state::{
    list_in_root, list_user_dir, open_root, read_in_root, read_user_file, StateError,
    MAX_STATE_FILE,
};
use crate::fs::{Host, Scratch};
#[allow(unused_imports)]
use crate::runtime::{containerd::*, docker::*, kind::*, kubelet::*, oci::*, podman::*};
use serde::Deserialize;
use std::collections::HashMap;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Longest string kept from runtime state (names, images); longer ones are cut.
pub const MAX_NAME: usize = 512;

/// Most facts runtime families learn from their processes in one resolver.
pub const MAX_LEARNED: usize = 4096;

/// Most bundles read when listing the containers of one pod.
pub(crate) const MAX_BUNDLES: usize = 4096;

pub use crate::classify::Qos;
pub use crate::runtime::identity::{
    Identity, KindNode, NodeRef, PodContainer, PodRef, ProcessRole,
};

/// An error met while resolving, to be recorded on a node.
#[non_exhaustive]
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
#[non_exhaustive]
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

/// Working directories of live host processes read ahead of the identification, by
/// PID (`None` where the `readlink` failed).
pub(crate) type ReadAhead = HashMap<u32, Option<Vec<u8>>>;

/// Reads ahead the working directories of live host processes `pids` (the containerd
/// shims [`Resolver::process_cwd`] will ask for), each as its `/proc/PID/cwd` link says
/// (read, never followed), through `/proc` checked to be procfs.
#[cfg(feature = "bpf")]
pub(crate) fn read_cwds(pids: &[u32]) -> ReadAhead {
    let Some(proc_fd) = open_live_proc() else {
        return ReadAhead::new();
    };
    pids.iter()
        .map(|&pid| (pid, cwd_link(proc_fd.as_fd(), pid)))
        .collect()
}

/// The live host's `/proc`, when it is procfs (`fstatfs`).
fn open_live_proc() -> Option<OwnedFd> {
    crate::fs::open_dir_path(Path::new("/proc"))
        .ok()
        .filter(|fd| crate::fs::is_fs_type(fd.as_fd(), nix::sys::statfs::PROC_SUPER_MAGIC))
}

/// What the `cwd` link of process `pid` says, below the procfs `proc_fd` (read with
/// `readlinkat`, never followed).
pub(crate) fn cwd_link(proc_fd: std::os::fd::BorrowedFd<'_>, pid: u32) -> Option<Vec<u8>> {
    nix::fcntl::readlinkat(proc_fd, format!("{pid}/cwd").as_str())
        .ok()
        .map(std::ffi::OsString::into_encoded_bytes)
}

/// Reads runtime state and caches what it read. One resolver serves one walk.
pub struct Resolver {
    pub(crate) host: Host,
    pub(crate) host_fd: Option<OwnedFd>,
    pub(crate) buf: Vec<u8>,
    pub(crate) scratch: Scratch,
    pub(crate) owners: HashMap<(RootKey, String), Option<u32>>,
    pub(crate) passwd: Option<Rc<HashMap<u32, (String, PathBuf)>>>,
    pub(crate) podman: HashMap<(RootKey, PathBuf), Rc<HashMap<String, PodmanInfo>>>,
    pub(crate) podman_db:
        HashMap<PathBuf, Rc<HashMap<String, crate::runtime::podman::PodmanDbEntry>>>,
    pub(crate) roots: HashMap<u32, Option<Rc<OwnedFd>>>,
    pub(crate) bundles: HashMap<(RootKey, String), Option<Bundle>>,
    /// cri-dockerd's containers: docker's `config.v2.json` labels, per root and id.
    pub(crate) docker_cri: HashMap<(RootKey, String), Option<Bundle>>,
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
    /// Containers' own `etc/passwd` (uid -> name), by the PID whose root was read.
    pub(crate) container_passwd: HashMap<u32, Rc<HashMap<u32, String>>>,
    /// The host's `/proc` listing the tree's BPF walk already took (every PID, in
    /// `/proc`'s order): [`crate::trace`]'s pass over every process takes it instead of
    /// listing `/proc` again.
    pub(crate) host_pids: Option<Vec<u32>>,
    /// Command lines of host processes the BPF task walk copied whole (by PID), for
    /// the same pass; the others are read from `/proc`.
    pub(crate) host_cmdlines: HashMap<u32, Box<[u8]>>,
    /// Working directories of live host processes read ahead (`readlink` of
    /// `/proc/PID/cwd`, by PID; `None` where it failed): the tree's BPF walk reads the
    /// containerd shims' on a thread of its own. [`Resolver::process_cwd`] takes them.
    pub(crate) host_cwds: ReadAhead,
    /// What runtime families learned from their own processes
    /// ([`crate::runtime::Runtime::note_process`]): `(family, key, value)`, e.g. an LXC
    /// container's name and the lxcpath its monitor named. At most [`MAX_LEARNED`].
    pub(crate) learned: Vec<(crate::runtime::Family, String, String)>,
    /// [`Resolver::process_status`]'s answer for each PID asked (or given by the walk,
    /// [`Resolver::note_status`]): a shim in a Kubernetes node asks for its node's init,
    /// as every other shim there does.
    statuses: HashMap<u32, Option<ProcStatus>>,
    /// The `graphroot` of containers/storage's configuration in a root (podman's rootful
    /// storage), read once per root.
    pub(crate) podman_conf: HashMap<RootKey, Option<PathBuf>>,
}

/// The UIDs (real, effective, saved, fs) and parent PID of a process, from its `status`.
pub type ProcStatus = (Option<[u32; 4]>, Option<u32>);

/// A state file or directory listing a [`Resolver`] read, kept when recording.
#[non_exhaustive]
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
            podman_db: HashMap::new(),
            roots: HashMap::new(),
            bundles: HashMap::new(),
            docker_cri: HashMap::new(),
            pod_logs: HashMap::new(),
            listings: HashMap::new(),
            errors: Vec::new(),
            reported: Default::default(),
            quiet: false,
            recorded: None,
            live_proc: None,
            containerd_states: Vec::new(),
            container_passwd: HashMap::new(),
            host_pids: None,
            host_cmdlines: HashMap::new(),
            host_cwds: ReadAhead::new(),
            learned: Vec::new(),
            statuses: HashMap::new(),
            podman_conf: HashMap::new(),
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

    /// Whether `proc/<pid>/root` is a root of its own: neither the host's root directory
    /// nor the root of `than` (same device and inode). A process in a container's cgroup
    /// whose root is the host's or the enclosing container's (a user's shell moved into
    /// their own delegated cgroup, say) would make that state look like the container's.
    /// `true` when the roots cannot be compared (what is read there is still confined to
    /// that root).
    pub(crate) fn is_own_root(&mut self, pid: u32, than: RootKey) -> bool {
        let Some(fd) = self.root_fd(RootKey::Proc(pid)) else {
            return true;
        };
        let Ok(own) = nix::sys::stat::fstat(&*fd) else {
            return true;
        };
        let mut others = vec![RootKey::Host];
        if than != RootKey::Host && than != RootKey::Proc(pid) {
            others.push(than);
        }
        others.into_iter().all(|k| {
            self.root_fd(k)
                .and_then(|o| nix::sys::stat::fstat(&*o).ok())
                .is_none_or(|o| (o.st_dev, o.st_ino) != (own.st_dev, own.st_ino))
        })
    }

    /// The one host UID of process `pid` (real, effective, saved and fs UIDs equal), from
    /// its `status`: for a container's root, whom the engine inside runs as.
    pub(crate) fn sole_uid(&mut self, pid: u32) -> Option<u32> {
        self.process_status(pid)
            .and_then(|(u, _)| u)
            .filter(|u| u.iter().all(|&x| x == u[0]))
            .map(|u| u[0])
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

    /// Forgets the answers that depend on what families learned from processes (bundles,
    /// owners, storages), and the errors met, so a second identification after more
    /// learning reads again; listings, roots and `status` reads are kept.
    pub(crate) fn forget_answers(&mut self) {
        self.owners.clear();
        self.bundles.clear();
        self.docker_cri.clear();
        self.podman.clear();
        self.podman_db.clear();
        self.errors.clear();
        self.reported.clear();
    }

    /// Remembers a fact `family` learned from one of its processes (bounded; a repeat is
    /// kept once).
    pub(crate) fn learn(&mut self, family: crate::runtime::Family, key: String, value: String) {
        let fact = (family, key, value);
        if self.learned.len() < MAX_LEARNED && !self.learned.contains(&fact) {
            self.learned.push(fact);
        }
    }

    /// How many facts have been learned from processes: [`Resolver::learn`]'s and the
    /// containerd state directories (kept apart, in `containerd_states`): grows whenever
    /// a process teaches anything the identification uses.
    pub(crate) fn learned_count(&self) -> usize {
        self.learned.len() + self.containerd_states.len()
    }

    /// The values `family` learned for `key`.
    pub(crate) fn learned(&self, family: crate::runtime::Family, key: &str) -> Vec<String> {
        self.learned
            .iter()
            .filter(|(f, k, _)| *f == family && k == key)
            .map(|(_, _, v)| v.clone())
            .collect()
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
    /// its `status` (read with `crate::fs::read_file`). `None` when it is gone or
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

    /// The live host's `/proc`, opened once and checked to be procfs; `None` inside a
    /// `--root` or when it is not procfs.
    pub(crate) fn live_proc(&mut self) -> Option<&OwnedFd> {
        if !self.host.is_live() {
            return None;
        }
        self.live_proc.get_or_insert_with(open_live_proc).as_ref()
    }

    fn read_process_status(&mut self, pid: u32) -> Option<ProcStatus> {
        if self.host.is_live() {
            self.live_proc();
            if let Some(fd) = self.live_proc.as_ref().and_then(Option::as_ref) {
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

    /// The user name of `uid` as `root` names it: the host's `etc/passwd`, or a
    /// container's own (through its root, confined and bounded, read once per root). A
    /// container's IDs are its own: never named from the host's file.
    pub fn user_name_in(&mut self, root: RootKey, uid: u32) -> Option<String> {
        let RootKey::Proc(pid) = root else {
            return self.user_name(uid);
        };
        if !self.container_passwd.contains_key(&pid) {
            let quiet = std::mem::replace(&mut self.quiet, true);
            let bytes = self.read(root, Path::new("etc/passwd"));
            self.quiet = quiet;
            let map: HashMap<u32, String> = bytes
                .map(|b| {
                    crate::parse::passwd(&b)
                        .flatten()
                        .map(|e| (e.uid, lossy(e.name)))
                        .collect()
                })
                .unwrap_or_default();
            self.container_passwd.insert(pid, Rc::new(map));
        }
        self.container_passwd.get(&pid)?.get(&uid).cloned()
    }

    pub(crate) fn home(&mut self, uid: u32) -> Option<PathBuf> {
        self.passwd().get(&uid).map(|(_, h)| h.clone())
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
    /// runtime family whose claim holds (a containerd shim, CRI-O's or
    /// podman's conmon, an LXC monitor). `uids` are the process's UIDs from its `status`
    /// (real, effective, saved, fs); `root` is where the state it names is read (the
    /// container it runs in).
    ///
    /// A command line is the process's own claim, so it counts only when every value
    /// taken from it is a checked token (a container id, a plain name, a containerd
    /// id) and the process runs as the owner of what it names (all four
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
}
