//! The tree builder: walks a cgroup2 hierarchy into an owned snapshot.
//!
//! Policy lives here (the I/O layer only reports errnos):
//! - vanished (ENOENT, ENODEV, ESRCH): the cgroup, file or process went away or does not
//!   exist on this kernel; it is left out silently;
//! - unsupported (EOPNOTSUPP): `cgroup.procs` in a threaded cgroup; the node simply lists
//!   no processes;
//! - anything else (EACCES, EIO, a parse error): recorded on the node as a [`NodeError`]
//!   and the walk goes on. [`TreeBuilder::build`] fails only when the root is unusable.

#[cfg(feature = "bpf")]
mod fast;
pub(crate) mod identify;
#[cfg(feature = "serde")]
mod json;
pub mod userns;
pub mod xattr;

#[cfg(feature = "serde")]
pub(crate) use json::ErrorsJson;
#[cfg(feature = "serde")]
pub use json::{Bytes, UsernsJson, JSON_VERSION, MAX_JSON_PATH, MAX_SERDE_DEPTH};

use crate::error::{
    errno_is_permission_denied, errno_is_unsupported, errno_is_vanished, Error, ParseError,
};
use crate::fs::{self, CgroupMount, Host, Scratch};
use crate::parse::{self, CgroupType, Controller, ControllerSet};
use crate::resolve::{Identity, ProcessRole};
use nix::errno::Errno;
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Index of a node in [`Tree::nodes`].
pub type NodeId = usize;

/// `/proc/<pid>/stat` flag of kernel threads (include/linux/sched.h).
const PF_KTHREAD: u32 = 0x0020_0000;

/// A controller list as read from `cgroup.controllers` or `cgroup.subtree_control`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControllerList {
    /// The known controllers.
    pub known: ControllerSet,
    /// Names this crate does not know, kept as read.
    pub other: Vec<Box<[u8]>>,
}

impl ControllerList {
    fn parse(input: &[u8]) -> Self {
        let mut list = ControllerList::default();
        for c in parse::controllers(input) {
            match c {
                Controller::Known(k) => list.known.insert(k),
                Controller::Other(name) => list.other.push(name.into()),
            }
        }
        list
    }

    /// All names, known ones first in kernel order.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.known
            .iter()
            .map(|c| c.as_str().as_bytes())
            .chain(self.other.iter().map(|n| &n[..]))
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.known.is_empty() && self.other.is_empty()
    }
}

/// A process listed in a cgroup's `cgroup.procs`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Process {
    /// PID as seen from the reader's PID namespace.
    pub pid: u32,
    /// `/proc/<pid>/cmdline` as read (NUL-separated; empty for kernel threads).
    pub cmdline: Box<[u8]>,
    /// `/proc/<pid>/comm`, read only when the cmdline is empty.
    pub comm: Option<Box<[u8]>>,
    /// A kernel thread (`PF_KTHREAD` in `/proc/<pid>/stat`).
    pub kernel_thread: bool,
    /// What the process does for others (a containerd shim, conmon), when identified.
    pub role: Option<ProcessRole>,
    /// Who it is, on the host and in its user namespace (when the builder reads users).
    pub user: Option<crate::userns::ProcUser>,
}

impl Process {
    /// A process known by its PID, command line (NUL-separated) and `comm` only: not a
    /// kernel thread, no role, no user (a [`crate::trace::Trace`]'s process, say, to
    /// render as a tree's).
    pub fn new(pid: u32, cmdline: Box<[u8]>, comm: Option<Box<[u8]>>) -> Self {
        Process {
            pid,
            cmdline,
            comm,
            kernel_thread: false,
            role: None,
            user: None,
        }
    }

    /// The arguments.
    pub fn args(&self) -> parse::Cmdline<'_> {
        parse::cmdline(&self.cmdline)
    }
}

/// A thread listed in `cgroup.threads` whose process is not listed in the same cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Thread {
    /// Thread id.
    pub tid: u32,
    /// `/proc/<tid>/comm`.
    pub comm: Option<Box<[u8]>>,
}

/// The credentials and parent of a process whose command line claims to be a monitor
/// (conmon, a containerd shim, an LXC monitor), from
/// its `/proc/<pid>/status`,
/// read by the walk (see [`TreeBuilder::monitor_status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MonitorStatus {
    /// The process.
    pub pid: u32,
    /// `Uid:` real, effective, saved, filesystem.
    pub uid: Option<[u32; 4]>,
    /// `PPid:`.
    pub ppid: Option<u32>,
}

/// What went wrong on one node.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NodeErrorKind {
    /// EACCES or EPERM.
    PermissionDenied,
    /// Another errno.
    Io(i32),
    /// The file exceeds the read limit.
    TooLarge,
    /// The content does not parse.
    Parse(ParseError),
    /// Runtime state that was refused or does not parse (JSON, a symlink out of a
    /// container's root, a file too large or not regular).
    State(String),
    /// Not a regular file (a FIFO, a device, a socket): refused before it was opened.
    NotRegular,
    /// The tree already lists [`MAX_PROCESSES`] processes: the rest of this file is not
    /// listed.
    TooManyProcesses,
    /// Processes listed in `cgroup.procs` that `/proc` hides from this reader (mounted
    /// with `hidepid`): `count` of them, and the mount option when known.
    Hidden {
        /// How many.
        count: u32,
        /// The `/proc` mount's option (`hidepid=2`, `hidepid=invisible`), when known.
        hidepid: Option<String>,
    },
}

/// An error recorded on a node: the file (its real path on disk) and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeError {
    /// The file, under the host root.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: NodeErrorKind,
}

impl fmt::Display for NodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.kind)
    }
}

/// What went wrong, without the file (`permission denied`, `larger than N bytes, not
/// read`, ...).
impl fmt::Display for NodeErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeErrorKind::PermissionDenied => f.write_str("permission denied"),
            NodeErrorKind::Io(errno) => write!(f, "{}", std::io::Error::from_raw_os_error(*errno)),
            NodeErrorKind::TooLarge => {
                write!(f, "larger than {} bytes, not read", fs::MAX_KERNEL_FILE)
            }
            NodeErrorKind::Parse(e) => write!(f, "{e}"),
            NodeErrorKind::State(m) => f.write_str(m),
            NodeErrorKind::NotRegular => {
                f.write_str("not a regular file (a FIFO, device or socket), not opened")
            }
            NodeErrorKind::TooManyProcesses => write!(
                f,
                "the tree already lists {MAX_PROCESSES} processes, the rest of this file is not listed"
            ),
            NodeErrorKind::Hidden { count, hidepid } => {
                let s = if *count == 1 { "" } else { "es" };
                write!(f, "{count} listed process{s} hidden from this user by /proc")?;
                match hidepid {
                    Some(o) => write!(f, " (mounted with {o})")?,
                    None => f.write_str(" (not visible there)")?,
                }
                f.write_str("; run cgtree as root to see them")
            }
        }
    }
}

impl NodeErrorKind {
    pub(crate) fn from_errno(e: Errno) -> Self {
        match e {
            Errno::EFBIG => NodeErrorKind::TooLarge,
            fs::NOT_REGULAR => NodeErrorKind::NotRegular,
            e if errno_is_permission_denied(e as i32) => NodeErrorKind::PermissionDenied,
            e => NodeErrorKind::Io(e as i32),
        }
    }

    /// A short machine-readable name (`permission_denied`, `io`, `too_large`, `parse`,
    /// `state`). Processes hidden by hidepid are `permission_denied`; a file that is not
    /// regular is `io`; a process list cut at [`MAX_PROCESSES`] is `too_large`.
    pub fn code(&self) -> &'static str {
        match self {
            NodeErrorKind::PermissionDenied | NodeErrorKind::Hidden { .. } => "permission_denied",
            NodeErrorKind::Io(_) | NodeErrorKind::NotRegular => "io",
            NodeErrorKind::TooLarge | NodeErrorKind::TooManyProcesses => "too_large",
            NodeErrorKind::Parse(_) => "parse",
            NodeErrorKind::State(_) => "state",
        }
    }
}

/// One cgroup of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Node {
    /// The directory name (any bytes but `/` and NUL); for the tree's root, the whole
    /// start path (`/` or e.g. `/user.slice`).
    pub name: Box<[u8]>,
    /// Parent node (`None` for the root).
    pub parent: Option<NodeId>,
    /// Child nodes, sorted by name bytes.
    pub children: Vec<NodeId>,
    /// Depth below the tree's root (root = 0).
    pub depth: u32,
    /// The cgroup id: the inode number of the cgroup's directory (`fs::cgroup_id_of`,
    /// from the `fstat` the walk makes of each directory it opens), the 64-bit id BPF
    /// programs see. `None` when the directory could not be opened. In a `--root`
    /// fixture or snapshot: the inode of that directory there.
    pub cgroup_id: Option<u64>,
    /// `cgroup.type` (`None` at the hierarchy root, which has no such file).
    pub cgroup_type: Option<CgroupType>,
    /// `cgroup.controllers`: what the parent granted.
    pub controllers: Option<ControllerList>,
    /// `cgroup.subtree_control`: what this cgroup grants its children.
    pub subtree_control: Option<ControllerList>,
    /// Whether the cgroup or a descendant holds processes, when known.
    pub populated: Option<bool>,
    /// Processes of `cgroup.procs`, sorted by PID, without duplicates; `None` when the
    /// file was not read or cannot be read here (threaded cgroups).
    pub processes: Option<Vec<Process>>,
    /// Number of `0` entries in `cgroup.procs`: processes outside the reader's PID namespace.
    pub foreign_pids: u32,
    /// Number of PIDs of `cgroup.procs` that `/proc` hides from the reader (`hidepid`):
    /// left out of `processes`, and reported as a [`NodeErrorKind::Hidden`] error.
    pub hidden_pids: u32,
    /// Threads of `cgroup.threads` whose process is not listed here (only when asked for).
    pub threads: Option<Vec<Thread>>,
    /// The node has subdirectories that were not walked (depth limit).
    pub truncated: bool,
    /// Errors met on this node.
    pub errors: Vec<NodeError>,
    /// What the cgroup is (when the builder identifies).
    pub identity: Option<Identity>,
    /// Owner UID of the cgroup's directory on a live host (a cgroup delegated to a user,
    /// by systemd's `Delegate=` or by hand, is `chown`ed to that user, and so is every
    /// cgroup the user makes below it). `None` in a fixture or snapshot, where the files'
    /// owners mean nothing. The identification names a cgroup owned by a user only from
    /// that user's own runtime state.
    pub dir_uid: Option<u32>,
    /// `status` of the processes listed here whose command line claims to be a monitor,
    /// sorted by PID, when the builder read them ([`TreeBuilder::monitor_status`]); a
    /// process whose `status` could not be read is absent.
    pub monitor_status: Vec<MonitorStatus>,
}

impl Node {
    fn new(name: Box<[u8]>, parent: Option<NodeId>, depth: u32) -> Self {
        Node {
            name,
            parent,
            children: Vec::new(),
            depth,
            cgroup_id: None,
            cgroup_type: None,
            controllers: None,
            subtree_control: None,
            populated: None,
            processes: None,
            foreign_pids: 0,
            hidden_pids: 0,
            threads: None,
            truncated: false,
            errors: Vec::new(),
            identity: None,
            dir_uid: None,
            monitor_status: Vec::new(),
        }
    }

    /// What the walk read of process `pid`'s `status`, when it did
    /// ([`Node::monitor_status`]).
    pub fn monitor_status(&self, pid: u32) -> Option<&MonitorStatus> {
        self.monitor_status
            .binary_search_by_key(&pid, |m| m.pid)
            .ok()
            .map(|i| &self.monitor_status[i])
    }
}

/// An owned snapshot of a cgroup2 (sub)tree.
#[derive(Debug, Clone)]
pub struct Tree {
    host: Host,
    mount: CgroupMount,
    nodes: Vec<Node>,
    /// The cgroup id of the root node's parent (`None` when the walk starts at `/`).
    root_parent_id: Option<u64>,
    /// The cgroups above the root node, `/` first, identified (when the tree is).
    ancestors: Vec<crate::trace::ChainEntry>,
    /// What building (and identifying) it met.
    stats: crate::Stats,
}

impl Tree {
    /// The host the tree was read from.
    pub fn host(&self) -> &Host {
        &self.host
    }

    /// The cgroup2 mount.
    pub fn mount(&self) -> &CgroupMount {
        &self.mount
    }

    /// All nodes, root first, in pre-order (a node's subtree follows it).
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// The root node.
    pub fn root(&self) -> &Node {
        &self.nodes[0]
    }

    /// A node by id.
    ///
    /// # Panics
    /// When `id` is not a node of this tree (an index into [`Tree::nodes`]).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    /// The cgroup id of a node's parent cgroup: its parent node's
    /// [`Node::cgroup_id`] or, for the root node of a subtree walk (`start` below `/`),
    /// that of the cgroup above it (read once, when the tree was built). `None` for
    /// the hierarchy root.
    ///
    /// # Panics
    /// When `id` is not a node of this tree (an index into [`Tree::nodes`]).
    pub fn parent_cgroup_id(&self, id: NodeId) -> Option<u64> {
        match self.nodes[id].parent {
            Some(p) => self.nodes[p].cgroup_id,
            None => self.root_parent_id,
        }
    }

    /// The cgroup path of a node, relative to the mount (`/user.slice/user-1000.slice`).
    ///
    /// # Panics
    /// When `id` is not a node of this tree (an index into [`Tree::nodes`]).
    pub fn path(&self, id: NodeId) -> Vec<u8> {
        let mut chain = Vec::new();
        let mut cur = Some(id);
        while let Some(i) = cur {
            chain.push(i);
            cur = self.nodes[i].parent;
        }
        let mut out = Vec::new();
        for (k, i) in chain.iter().rev().enumerate() {
            let name = &self.nodes[*i].name;
            if k == 0 {
                out.extend_from_slice(name);
            } else {
                if out.last() != Some(&b'/') {
                    out.push(b'/');
                }
                out.extend_from_slice(name);
            }
        }
        out
    }

    /// Identifies the nodes with a given resolver (one that records what it reads, for
    /// `cgtree snapshot`); [`TreeBuilder::identify`] does the same while building.
    pub fn identify_with(&mut self, r: &mut crate::resolve::Resolver) {
        let before = r.scratch.stats;
        self.ancestors = identify::identify_with(&mut self.nodes, &self.mount, r);
        self.stats += r.scratch.stats.since(before);
    }

    /// What reading this tree met: cgroups and processes that vanished while read,
    /// reads interrupted and retried, passes over `/proc` made to identify it.
    pub fn stats(&self) -> crate::Stats {
        self.stats
    }

    /// The cgroups above the root node (a walk started below `/`), `/` first, each with
    /// its identity, read when the tree was identified (they give the root its context:
    /// `identify_with`). Empty when the root is the hierarchy's, or the tree
    /// was not identified.
    pub fn ancestors(&self) -> &[crate::trace::ChainEntry] {
        &self.ancestors
    }

    /// Every error of every node, in tree order.
    pub fn errors(&self) -> impl Iterator<Item = &NodeError> {
        self.nodes.iter().flat_map(|n| n.errors.iter())
    }

    /// The subtree of node `id` as a tree of its own, as if a walk had started there
    /// ([`TreeBuilder::start`]) but with what this tree knows: the identities found with
    /// the whole tree in view (a walk started at the subtree sees no cgroup beside it) and
    /// the cgroups above it as [`Tree::ancestors`]. Its root is named by its whole path
    /// (as a walk's start is); `include_empty` and `max_depth` (levels below `id`) apply
    /// as in [`TreeBuilder::include_empty`] and [`TreeBuilder::max_depth`]: an empty cgroup
    /// (`populated` false, no error, nothing kept below it) is left out unless
    /// `include_empty`, and a cgroup at the depth limit with children is
    /// [`Node::truncated`]. Emptiness is the whole tree's: a cgroup cut at the depth limit
    /// whose subtree is empty is left out even where a limited walk could not tell (a
    /// fixture without `cgroup.events`). Shapes: one pass over the subtree's nodes, a
    /// copy of each kept one.
    ///
    /// # Panics
    /// Never for an `id` of this tree; an `id` past [`Tree::nodes`] panics as
    /// [`Tree::node`] does.
    pub fn subtree(&self, id: NodeId, include_empty: bool, max_depth: Option<u32>) -> Tree {
        let base = self.nodes[id].depth;
        // The subtree in pre-order (explicit stack: any depth).
        let mut order: Vec<NodeId> = Vec::new();
        let mut stack = vec![id];
        while let Some(i) = stack.pop() {
            order.push(i);
            if max_depth.is_none_or(|d| self.nodes[i].depth - base < d) {
                stack.extend(self.nodes[i].children.iter().rev().copied());
            }
        }
        // Which are kept: bottom-up, as the walk decides (`Walk::finish`).
        let mut kept = vec![false; self.nodes.len()];
        for &i in order.iter().rev() {
            let n = &self.nodes[i];
            let keep = i == id
                || include_empty
                || n.populated != Some(false)
                || !n.errors.is_empty()
                || n.children.iter().any(|&c| kept[c]);
            kept[i] = keep;
        }
        let mut new_id = vec![usize::MAX; self.nodes.len()];
        let mut nodes: Vec<Node> = Vec::new();
        for &i in &order {
            if !kept[i] {
                continue;
            }
            let n = &self.nodes[i];
            let mut copy = n.clone();
            copy.depth = n.depth - base;
            copy.children = Vec::new();
            copy.parent = if i == id {
                None
            } else {
                n.parent.map(|p| new_id[p])
            };
            if i == id {
                copy.name = self.path(id).into();
            }
            if max_depth.is_some_and(|d| copy.depth >= d) && !n.children.is_empty() {
                copy.truncated = true;
            }
            let at = nodes.len();
            new_id[i] = at;
            if let Some(p) = copy.parent {
                nodes[p].children.push(at);
            }
            nodes.push(copy);
        }
        // The cgroups above: this tree's own, then those between its root and `id`.
        let mut ancestors = self.ancestors.clone();
        let mut chain = Vec::new();
        let mut cur = self.nodes[id].parent;
        while let Some(p) = cur {
            chain.push(p);
            cur = self.nodes[p].parent;
        }
        for &p in chain.iter().rev() {
            ancestors.push(crate::trace::ChainEntry {
                path: self.path(p),
                identity: self.nodes[p].identity.clone(),
            });
        }
        Tree {
            host: self.host.clone(),
            mount: self.mount.clone(),
            nodes,
            root_parent_id: self.parent_cgroup_id(id),
            ancestors,
            // Nothing was read for it: what the walk met is counted on `self`.
            stats: crate::Stats::default(),
        }
    }
}

/// Builds a [`Tree`]. Setters take `&mut self` and return `&mut Self`, so one builder can
/// be reused.
///
/// On a directory standing for `/` (here a temporary one with an empty cgroup
/// `/system.slice/kubelet.service`; without `host_root`, the live host):
/// ```
/// # let dir = tempfile::tempdir()?;
/// # for cg in ["", "system.slice/", "system.slice/kubelet.service/"] {
/// #     let d = dir.path().join("sys/fs/cgroup").join(cg);
/// #     std::fs::create_dir_all(&d)?;
/// #     std::fs::write(d.join("cgroup.procs"), "")?;
/// # }
/// # std::fs::create_dir_all(dir.path().join("proc/self"))?;
/// # std::fs::write(dir.path().join("proc/self/mountinfo"), "25 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")?;
/// let tree = cgroup_core::TreeBuilder::new()
///     .host_root(dir.path())
///     .include_empty(true)
///     .build()?;
/// assert!(tree.nodes().iter().any(|n| &n.name[..] == b"kubelet.service"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TreeBuilder {
    host: Host,
    start: String,
    processes: bool,
    threads: bool,
    include_empty: bool,
    kernel_threads: bool,
    max_depth: Option<u32>,
    verify_fs: Option<bool>,
    identify: bool,
    users: bool,
    monitor_status: bool,
    /// `Some(true)`: the BPF path wherever it loads; `Some(false)`: never; `None`: on
    /// hosts large enough to gain from it ([`BPF_AUTO_MIN_CGROUPS`]).
    bpf: Option<bool>,
}

/// With no choice made ([`TreeBuilder::bpf`], `CGTREE_BPF`), the BPF path is taken on a
/// hierarchy of at least this many cgroups (the root's `cgroup.stat` `nr_descendants`):
/// loading the programs costs 30-50 ms, which a file walk of a small tree undercuts.
pub const BPF_AUTO_MIN_CGROUPS: u64 = 1000;

impl Default for TreeBuilder {
    fn default() -> Self {
        TreeBuilder::new()
    }
}

impl TreeBuilder {
    /// Defaults: the live host, the whole hierarchy, processes on, empty cgroups and
    /// kernel threads hidden, no depth limit.
    pub fn new() -> Self {
        TreeBuilder {
            host: Host::new(),
            start: "/".into(),
            processes: true,
            threads: false,
            include_empty: false,
            kernel_threads: false,
            max_depth: None,
            verify_fs: None,
            identify: false,
            users: false,
            monitor_status: false,
            // `CGTREE_BPF=0`: the files; `=1`: BPF wherever it loads, for every builder of
            // the process (how cgtree's tests compare the two paths with one binary).
            bpf: match std::env::var_os("CGTREE_BPF") {
                Some(v) if v == "0" => Some(false),
                Some(v) if v == "1" => Some(true),
                _ => None,
            },
        }
    }

    /// Whether the live host's tree may be read through the BPF iterators (cargo
    /// feature `bpf`; default on). They are used only when the feature is built in, the
    /// host is the live one with its cgroup2 mount and `/proc` verified, threads are not
    /// asked for, and the programs load (root or `CAP_BPF` + `CAP_PERFMON`, kernel BTF,
    /// the initial PID namespace); otherwise, and with `false`, the files are read. The
    /// tree is the same either way; [`crate::Stats::bpf_walks`] says which ran. `true`:
    /// wherever the programs load; `false`: never. Without a call, `CGTREE_BPF=1` or `0`
    /// in the environment decides, and otherwise the size of the hierarchy (at least
    /// [`BPF_AUTO_MIN_CGROUPS`] cgroups). Also never when the reader is not root and
    /// `/proc` is mounted with `hidepid` (the iterators would show what `/proc` hides).
    pub fn bpf(&mut self, yes: bool) -> &mut Self {
        self.bpf = Some(yes);
        self
    }

    /// Reads the host rooted at `root` (a fixture or snapshot directory) instead of `/`.
    pub fn host_root(&mut self, root: impl Into<PathBuf>) -> &mut Self {
        self.host = Host::with_root(root);
        self
    }

    /// Starts the walk at this cgroup path (relative to the cgroup2 mount, e.g.
    /// `/user.slice`).
    pub fn start(&mut self, cgroup_path: impl Into<String>) -> &mut Self {
        self.start = cgroup_path.into();
        self
    }

    /// Reads `cgroup.procs` and each process's cmdline.
    pub fn processes(&mut self, yes: bool) -> &mut Self {
        self.processes = yes;
        self
    }

    /// Also reads `cgroup.threads`.
    pub fn threads(&mut self, yes: bool) -> &mut Self {
        self.threads = yes;
        self
    }

    /// Keeps cgroups without processes (hidden by default, as systemd-cgls does).
    pub fn include_empty(&mut self, yes: bool) -> &mut Self {
        self.include_empty = yes;
        self
    }

    /// Keeps kernel threads in the process lists.
    pub fn kernel_threads(&mut self, yes: bool) -> &mut Self {
        self.kernel_threads = yes;
        self
    }

    /// Walks at most `depth` levels below the start (`None`: no limit).
    pub fn max_depth(&mut self, depth: Option<u32>) -> &mut Self {
        self.max_depth = depth;
        self
    }

    /// Says what each cgroup and monitor process is ([`Node::identity`],
    /// [`Process::role`]), from names and runtime state (off by default).
    pub fn identify(&mut self, yes: bool) -> &mut Self {
        self.identify = yes;
        self
    }

    /// Reads who each process is: host UID/GID, user namespace, the IDs inside it, and
    /// user names (host and container `etc/passwd`).
    pub fn users(&mut self, yes: bool) -> &mut Self {
        self.users = yes;
        self
    }

    /// Reads the `status` of each process whose command line claims to be a monitor
    /// while the walk reads command lines, on a
    /// second thread when there is one: [`Node::monitor_status`]. Only on the live host,
    /// through `/proc` verified to be procfs (the kernel's credentials, rule 4 of
    /// docs/reliability.md); elsewhere nothing is read. On whenever
    /// [`TreeBuilder::identify`] is (the identification takes a monitor's UIDs from there
    /// instead of reading `status` again, one process at a time); off by default
    /// otherwise.
    pub fn monitor_status(&mut self, yes: bool) -> &mut Self {
        self.monitor_status = yes;
        self
    }

    /// Checks with `fstatfs` that the mount is cgroup2. Default: only on the live host.
    pub fn verify_fs(&mut self, yes: bool) -> &mut Self {
        self.verify_fs = Some(yes);
        self
    }

    /// Finds the cgroup2 mount and walks it.
    ///
    /// # Errors
    /// As [`TreeBuilder::build_at`], and [`Error::NoCgroup2Mount`] (or [`Error::Io`] naming
    /// `mountinfo`) when the host's cgroup2 mount cannot be found.
    pub fn build(&self) -> Result<Tree, Error> {
        let mount = self.host.find_cgroup2()?;
        self.build_at(mount)
    }

    /// Walks a cgroup2 mount that the caller already found.
    ///
    /// # Errors
    /// Only when the root itself is unusable: [`Error::InvalidPath`] for a start path
    /// with `.`, `..` or NUL; [`Error::Io`] naming the mount or start directory when it
    /// cannot be opened; [`Error::NotCgroup2`] when the live host's mount is not cgroup2.
    /// Everything below the root is reported on its node ([`Node::errors`]).
    pub fn build_at(&self, mount: CgroupMount) -> Result<Tree, Error> {
        let start = normalize_start(&self.start)?;
        let mount_fd = self
            .host
            .open_dir(&mount.dir)
            .map_err(|e| fs::errno_error(&mount.dir, e))?;
        let mut origin = fs::Origin::Untrusted;
        if self.verify_fs.unwrap_or(self.host.is_live()) {
            let st =
                nix::sys::statfs::fstatfs(&mount_fd).map_err(|e| fs::errno_error(&mount.dir, e))?;
            if st.filesystem_type() != nix::sys::statfs::CGROUP2_SUPER_MAGIC {
                return Err(Error::NotCgroup2 {
                    path: mount.dir.clone(),
                });
            }
            origin = fs::Origin::Kernel;
        }
        let mut proc_error = None;
        let root_parent_id = match start.rfind('/') {
            _ if start == "/" => None,
            Some(0) => fs::cgroup_id_of(mount_fd.as_fd()).ok(),
            Some(i) => CString::new(&start.as_bytes()[1..i])
                .ok()
                .and_then(|p| fs::open_dir(mount_fd.as_fd(), &p).ok())
                .and_then(|fd| fs::cgroup_id_of(fd.as_fd()).ok()),
            None => None,
        };
        let root_fd = if start == "/" {
            mount_fd
        } else {
            let rel = CString::new(&start.as_bytes()[1..]).map_err(|_| Error::InvalidPath {
                path: self.start.clone(),
                reason: "contains a NUL byte",
            })?;
            let dir = mount.dir.join(&start[1..]);
            fs::open_dir(mount_fd.as_fd(), &rel).map_err(|e| fs::errno_error(dir, e))?
        };
        let proc_dir = self.host.proc_dir();
        let proc_fd = if self.processes || self.threads {
            match self.host.open_dir(&proc_dir) {
                Ok(fd) => Some(fd),
                Err(e) => {
                    proc_error = Some(NodeError {
                        path: proc_dir.clone(),
                        kind: NodeErrorKind::from_errno(e),
                    });
                    None
                }
            }
        } else {
            None
        };
        let live = self.host.is_live();
        let proc_origin = match &proc_fd {
            Some(fd) if live && fs::is_fs_type(fd.as_fd(), nix::sys::statfs::PROC_SUPER_MAGIC) => {
                fs::Origin::Kernel
            }
            _ => fs::Origin::Untrusted,
        };
        let hidepid = std::sync::OnceLock::new();
        let view = |fd| ProcView {
            fd,
            dir: &proc_dir,
            origin: proc_origin,
            live,
            host: &self.host,
            hidepid: &hidepid,
        };
        let new_walk = |tx| Walk {
            b: self,
            mount: &mount,
            scratch: Scratch::new(),
            dirbuf: Vec::new(),
            nodes: vec![Node::new(start.as_bytes().into(), None, 0)],
            path: start.as_bytes().to_vec(),
            tx,
            origin,
            listed: 0,
        };
        // Command lines are most of a walk's system calls. With a second core they are
        // read on a second thread while the walk goes on: the walk sends each cgroup's
        // PIDs as it reads them, and once it is done it reads what is still queued
        // itself, beside the second thread. (Not under `cfg(test)`: the fault-injection
        // seam is per thread.)
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let pipelined = self.processes && proc_fd.is_some() && cores > 1 && !cfg!(test);
        let mut hidden: Vec<(NodeId, u32)> = Vec::new();
        let mut stats = crate::Stats::default();
        #[cfg(feature = "bpf")]
        let fast = if self.bpf.unwrap_or_else(|| live && large_hierarchy(&mount)) {
            let declined = if !live
                || origin != fs::Origin::Kernel
                || (proc_origin != fs::Origin::Kernel && self.processes)
            {
                Some("not the live host's cgroup2 mount and /proc")
            } else if self.threads {
                Some("threads asked for (the iterators list processes)")
            } else if !nix::unistd::geteuid().is_root() && self.host.proc_hidepid().is_some() {
                Some("/proc is mounted with hidepid and the reader is not root")
            } else if !sees_everything() {
                Some("the reader lacks CAP_SYS_PTRACE, or both CAP_DAC_READ_SEARCH and CAP_DAC_OVERRIDE (the iterators need CAP_SYS_PTRACE and one of those: without, they would show what the files hide from it)")
            } else {
                None
            };
            match declined {
                Some(why) => {
                    stats.bpf_declined = Some(why);
                    None
                }
                None => match fast::walk(self, &mount, &start, root_fd.as_fd(), &proc_dir) {
                    Ok(walked) => Some(walked),
                    Err(e) => {
                        stats.bpf_declined = Some(e.reason());
                        None
                    }
                },
            }
        } else {
            None
        };
        #[cfg(not(feature = "bpf"))]
        let fast: Option<FastWalked> = None;
        // What the BPF task iterator said of each process, kept for the users.
        let mut known: Option<std::collections::HashMap<u32, Facts>> = None;
        let mut host_pids = None;
        let mut shim_cwds = None;
        let mut nodes = if let Some(walked) = fast {
            let FastWalked {
                mut nodes,
                facts,
                stats: bpf_stats,
                host_pids: listed,
                shim_cwds: cwds,
            } = walked;
            host_pids = listed;
            shim_cwds = cwds;
            stats += bpf_stats;
            if let Some(fd) = &proc_fd {
                let mut scratch = Scratch::new();
                let pv = view(fd.as_fd());
                self.read_lists(&mut nodes, &pv, &mut scratch, Some(&facts), &mut hidden);
                stats += scratch.stats;
            }
            known = Some(facts);
            nodes
        } else if pipelined {
            let pv = proc_fd.as_ref().map(|f| view(f.as_fd()));
            let (tx, rx) = std::sync::mpsc::channel::<(NodeId, Vec<Process>)>();
            let rx = std::sync::Mutex::new(rx);
            let drain = || {
                let mut scratch = Scratch::new();
                let mut done = Vec::new();
                loop {
                    // The lock is held only for one `recv`: the walk never takes it,
                    // and once it is done the two threads take turns.
                    let next = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok((id, mut procs)) = next else { break };
                    let mut read = ProcRead::default();
                    if let Some(pv) = &pv {
                        self.read_process_list(&mut procs, &mut read, pv, &mut scratch);
                    }
                    done.push((id, procs, read));
                }
                (done, scratch.stats)
            };
            std::thread::scope(|sc| {
                // Where no thread can be started (a task or address-space limit), this
                // thread reads the whole queue after the walk.
                let worker = std::thread::Builder::new()
                    .name("cgtree-proc-read".into())
                    .spawn_scoped(sc, || {
                        // Its own descriptor table (a copy: it uses only `/proc`'s): with
                        // one thread per table, the kernel takes the single-threaded
                        // paths for every open, read and close (no reference counted per
                        // call, no position lock), as the raw walk's one thread does.
                        let _ = nix::sched::unshare(nix::sched::CloneFlags::CLONE_FILES);
                        drain()
                    })
                    .ok();
                let mut walk = new_walk(Some(tx));
                walk.run(root_fd);
                let mut nodes = std::mem::take(&mut walk.nodes);
                stats += walk.scratch.stats;
                // Dropping the walk drops the sender: the queue ends.
                drop(walk);
                let (mine, my_stats) = drain();
                let (theirs, their_stats) = worker
                    .map(|w| w.join().unwrap_or_default())
                    .unwrap_or_default();
                stats += my_stats + their_stats;
                for (id, procs, read) in mine.into_iter().chain(theirs) {
                    // Kept nodes keep their index (only a pruned subtree's tail is
                    // dropped, and a cgroup with processes is never pruned).
                    if let Some(node) = nodes.get_mut(id) {
                        node.processes = Some(procs);
                        node.errors.extend(read.errors);
                        node.monitor_status = read.monitors;
                        if read.hidden > 0 {
                            hidden.push((id, read.hidden));
                        }
                    }
                }
                nodes
            })
        } else {
            let mut walk = new_walk(None);
            walk.run(root_fd);
            let mut nodes = walk.nodes;
            if let Some(fd) = &proc_fd {
                let pv = view(fd.as_fd());
                let mut scratch = walk.scratch;
                self.read_lists(&mut nodes, &pv, &mut scratch, None, &mut hidden);
                stats += scratch.stats;
            } else {
                stats += walk.scratch.stats;
            }
            nodes
        };
        for (id, count) in hidden {
            let path = cgroup_file(&nodes, &mount, id, "cgroup.procs");
            let node = &mut nodes[id];
            node.hidden_pids = count;
            node.errors.push(NodeError {
                path,
                kind: NodeErrorKind::Hidden {
                    count,
                    hidepid: hidepid.get().cloned().flatten(),
                },
            });
        }
        if let Some(e) = proc_error {
            nodes[0].errors.push(e);
        }
        if let (true, Some(fd)) = (self.threads, &proc_fd) {
            let mut scratch = Scratch::new();
            for node in &mut nodes {
                self.read_threads(node, fd.as_fd(), &mut scratch);
            }
            stats += scratch.stats;
        }
        if self.users && self.processes {
            fill_users(&mut nodes, &self.host, known.as_ref(), &mut stats);
        }
        let ancestors = if self.identify {
            let mut r = crate::resolve::Resolver::new(&self.host);
            r.host_pids = host_pids;
            if let Some(Ok(cwds)) = shim_cwds.map(std::thread::JoinHandle::join) {
                r.host_cwds = cwds;
            }
            if !self.processes {
                // No process list took them: the BPF walk's command lines serve the
                // identification's pass over every host process.
                r.host_cmdlines = known
                    .take()
                    .into_iter()
                    .flatten()
                    .filter_map(|(pid, f)| Some((pid, f.into_cmdline()?)))
                    .collect();
            }
            let a = identify::identify_with(&mut nodes, &mount, &mut r);
            stats += r.scratch.stats;
            a
        } else {
            Vec::new()
        };
        Ok(Tree {
            host: self.host.clone(),
            mount,
            nodes,
            root_parent_id,
            ancestors,
            stats,
        })
    }

    /// Reads every node's process list ([`TreeBuilder::read_process_list_with`]) on this
    /// thread: what each found goes on its node; nodes with processes `/proc` hides are
    /// noted in `hidden`.
    fn read_lists(
        &self,
        nodes: &mut [Node],
        pv: &ProcView<'_>,
        scratch: &mut Scratch,
        facts: Option<&std::collections::HashMap<u32, Facts>>,
        hidden: &mut Vec<(NodeId, u32)>,
    ) {
        for (id, node) in nodes.iter_mut().enumerate() {
            if let Some(mut procs) = node.processes.take() {
                let mut read = ProcRead::default();
                self.read_process_list_with(&mut procs, &mut read, pv, scratch, facts);
                node.processes = Some(procs);
                node.errors.extend(read.errors);
                node.monitor_status = read.monitors;
                if read.hidden > 0 {
                    hidden.push((id, read.hidden));
                }
            }
        }
    }

    /// Reads the command line (and, when it is empty, `comm` and the kernel-thread flag)
    /// of each process; drops processes that vanished and, unless asked for, kernel
    /// threads. Counts in `read.hidden` the listed processes `/proc` hides from this
    /// reader (hidepid): they are dropped from the list. With
    /// [`TreeBuilder::monitor_status`] on the live host, also reads the `status` of each
    /// process whose command line claims to be a monitor, into `read.monitors`.
    fn read_process_list(
        &self,
        procs: &mut Vec<Process>,
        read: &mut ProcRead,
        pv: &ProcView<'_>,
        scratch: &mut Scratch,
    ) {
        self.read_process_list_with(procs, read, pv, scratch, None);
    }

    /// [`TreeBuilder::read_process_list`], taking what `facts` (the BPF task iterator's
    /// records, by PID) already holds instead of reading it: the command line when it
    /// was copied whole, `comm` and the kernel-thread flag.
    fn read_process_list_with(
        &self,
        procs: &mut Vec<Process>,
        read: &mut ProcRead,
        pv: &ProcView<'_>,
        scratch: &mut Scratch,
        facts: Option<&std::collections::HashMap<u32, Facts>>,
    ) {
        let mut name = PidPath::default();
        let mut hidden = 0u32;
        let errors = &mut read.errors;
        let monitors = &mut read.monitors;
        // The kernel's credentials only: the live host's /proc, verified to be procfs.
        let statuses =
            (self.monitor_status || self.identify) && pv.live && pv.origin == fs::Origin::Kernel;
        procs.retain_mut(|p| {
            let known = facts.and_then(|f| f.get(&p.pid));
            let cmdline = match known.and_then(KnownFacts::cmdline) {
                Some(c) => Ok(c),
                None => fs::read_file_from(pv.fd, name.file(p.pid, "cmdline"), scratch, pv.origin),
            };
            match cmdline {
                Ok(b) => p.cmdline = b.into(),
                Err(e) if pv.hidden(p.pid, e) => {
                    hidden += 1;
                    return false;
                }
                Err(e) if errno_is_vanished(e as i32) => {
                    scratch.stats.vanished_processes += 1;
                    return false;
                }
                Err(e) => {
                    errors.push(NodeError {
                        path: pv.dir.join(format!("{}/cmdline", p.pid)),
                        kind: NodeErrorKind::from_errno(e),
                    });
                }
            }
            if statuses && p.args().next().is_some_and(crate::runtime::claims_monitor) {
                // The task iterator's credentials and parent on the BPF path; otherwise
                // one open, one read, one close, as for the command line. A process
                // whose status cannot be read is left to the identification.
                if let Some((uid, ppid)) = known.and_then(KnownFacts::status) {
                    monitors.push(MonitorStatus {
                        pid: p.pid,
                        uid: Some(uid),
                        ppid: Some(ppid),
                    });
                } else if let Ok(Ok(st)) =
                    fs::read_file_from(pv.fd, name.file(p.pid, "status"), scratch, pv.origin)
                        .map(parse::status)
                {
                    monitors.push(MonitorStatus {
                        pid: p.pid,
                        uid: st.uid,
                        ppid: st.ppid,
                    });
                }
            }
            if p.cmdline.is_empty() {
                if let Some((comm, kernel_thread)) = known.and_then(KnownFacts::name) {
                    p.comm = comm;
                    p.kernel_thread = kernel_thread;
                    return self.kernel_threads || !p.kernel_thread;
                }
                match fs::read_file_from(pv.fd, name.file(p.pid, "comm"), scratch, pv.origin) {
                    Ok(b) => p.comm = Some(parse::comm(b).into()),
                    Err(e) if errno_is_vanished(e as i32) => {
                        scratch.stats.vanished_processes += 1;
                        return false;
                    }
                    Err(_) => {}
                }
                // The stat line is read only for the few processes without a cmdline
                // (kernel threads and odd cases), off the hot path.
                p.kernel_thread =
                    fs::read_file_from(pv.fd, name.file(p.pid, "stat"), scratch, pv.origin)
                        .ok()
                        .and_then(stat_flags)
                        .is_some_and(|flags| flags & PF_KTHREAD != 0);
            }
            self.kernel_threads || !p.kernel_thread
        });
        // Processes are sorted by PID, and so are their statuses.
        read.hidden = hidden;
    }

    /// Reads `comm` of each thread listed for the node.
    fn read_threads(&self, node: &mut Node, proc_fd: BorrowedFd<'_>, scratch: &mut Scratch) {
        let mut name = PidPath::default();
        if let Some(threads) = node.threads.as_mut() {
            threads.retain_mut(|t| {
                match fs::read_file(proc_fd, name.file(t.tid, "comm"), scratch) {
                    Ok(b) => {
                        t.comm = Some(parse::comm(b).into());
                        true
                    }
                    Err(e) => {
                        let gone = errno_is_vanished(e as i32);
                        if gone {
                            scratch.stats.vanished_processes += 1;
                        }
                        !gone
                    }
                }
            });
        }
    }
}

/// Whether the hierarchy has at least [`BPF_AUTO_MIN_CGROUPS`] cgroups (`nr_descendants`
/// of the root's `cgroup.stat`).
#[cfg(feature = "bpf")]
fn large_hierarchy(mount: &CgroupMount) -> bool {
    std::fs::read_to_string(mount.dir.join("cgroup.stat"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("nr_descendants "))
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
        .is_some_and(|n| n >= BPF_AUTO_MIN_CGROUPS)
}

/// Whether this process reads every file the BPF iterators stand for: any cgroup
/// directory (CAP_DAC_READ_SEARCH or CAP_DAC_OVERRIDE: a cgroup of mode 700 owned by
/// someone else) and every process's `ns/user` and `status` (CAP_SYS_PTRACE: the
/// kernel's ptrace access check). The iterators need only CAP_BPF and CAP_PERFMON and
/// see everything; a reader without these would get a tree the file path does not
/// show it. From `CapEff:` of `/proc/self/status`; unreadable, no.
#[cfg(feature = "bpf")]
fn sees_everything() -> bool {
    const CAP_DAC_OVERRIDE: u32 = 1;
    const CAP_DAC_READ_SEARCH: u32 = 2;
    const CAP_SYS_PTRACE: u32 = 19;
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    let Some(eff) = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
    else {
        return false;
    };
    let has = |cap: u32| eff & (1u64 << cap) != 0;
    has(CAP_SYS_PTRACE) && (has(CAP_DAC_READ_SEARCH) || has(CAP_DAC_OVERRIDE))
}

/// Reads every process's user facts; a process that vanished keeps `user: None`. The
/// IDs and user namespace `known` holds for a process (the BPF task iterator's) are
/// taken instead of its `status` and `ns/user`.
fn fill_users(
    nodes: &mut [Node],
    host: &Host,
    known: Option<&std::collections::HashMap<u32, Facts>>,
    stats: &mut crate::Stats,
) {
    let Ok(mut reader) = crate::userns::UserReader::new(host) else {
        return;
    };
    let mut names = crate::userns::Names::new(host);
    for node in nodes.iter_mut() {
        let mut errors = Vec::new();
        for p in node.processes.iter_mut().flatten() {
            let user = match known.and_then(|k| k.get(&p.pid)).and_then(KnownFacts::user) {
                Some((uid, gid, ns)) => reader.user_from(p.pid, uid, gid, Some(ns)),
                None => reader.user(p.pid),
            };
            match user {
                Ok(mut u) => {
                    names.fill(p.pid, &mut u);
                    p.user = Some(u);
                }
                Err(e) if e.is_vanished() => stats.vanished_processes += 1,
                Err(Error::Io { path, source }) => errors.push(NodeError {
                    path,
                    kind: NodeErrorKind::from_errno(Errno::from_raw(
                        source.raw_os_error().unwrap_or(0),
                    )),
                }),
                Err(Error::Parse { path, source }) => errors.push(NodeError {
                    path,
                    kind: NodeErrorKind::Parse(source),
                }),
                Err(_) => {}
            }
        }
        node.errors.extend(errors);
    }
}

#[cfg(feature = "bpf")]
use fast::Facts;

/// Without the `bpf` feature there are no BPF facts: every process is read from `/proc`.
#[cfg(not(feature = "bpf"))]
type Facts = ();

/// What the BPF walk gives (`fast::walk`; without the feature, never anything): the
/// nodes, what is known of their processes, what the walk cost, and the host's `/proc`
/// listing (every PID) when processes were walked, which the identification's pass
/// over every process reuses.
struct FastWalked {
    nodes: Vec<Node>,
    facts: std::collections::HashMap<u32, Facts>,
    stats: crate::Stats,
    /// Every host PID (the `/proc` listing and what the task walk added).
    host_pids: Option<Vec<u32>>,
    /// containerd shims' working directories, read on a thread of their own while the
    /// tree is built (see [`crate::resolve::Resolver::process_cwd`]).
    shim_cwds: Option<std::thread::JoinHandle<crate::resolve::ReadAhead>>,
}

/// What the BPF task iterator holds of a process, as the file reads would give it.
trait KnownFacts {
    /// The whole command line, when the iterator copied it.
    fn cmdline(&self) -> Option<&[u8]>;
    /// The same, taken.
    fn into_cmdline(self) -> Option<Box<[u8]>>;
    /// `comm` (`None`: read the file, which the kernel writes longer for a kernel
    /// thread, so the whole answer is left to the file then) and the kernel-thread flag.
    fn name(&self) -> Option<(Option<Box<[u8]>>, bool)>;
    /// Effective host UID and GID, and the user namespace's inode.
    fn user(&self) -> Option<(u32, u32, u64)>;
    /// `Uid:` (real, effective, saved, filesystem) and `PPid:`, as `status` gives them.
    fn status(&self) -> Option<([u32; 4], u32)>;
}

#[cfg(not(feature = "bpf"))]
impl KnownFacts for () {
    fn cmdline(&self) -> Option<&[u8]> {
        None
    }
    fn into_cmdline(self) -> Option<Box<[u8]>> {
        None
    }
    fn name(&self) -> Option<(Option<Box<[u8]>>, bool)> {
        None
    }
    fn user(&self) -> Option<(u32, u32, u64)> {
        None
    }
    fn status(&self) -> Option<([u32; 4], u32)> {
        None
    }
}

#[cfg(feature = "bpf")]
impl KnownFacts for Facts {
    fn cmdline(&self) -> Option<&[u8]> {
        self.cmdline.as_deref()
    }
    fn into_cmdline(self) -> Option<Box<[u8]>> {
        self.cmdline
    }
    fn name(&self) -> Option<(Option<Box<[u8]>>, bool)> {
        let comm = self.comm.clone()?;
        Some((Some(comm), self.kernel_thread))
    }
    fn user(&self) -> Option<(u32, u32, u64)> {
        Some((self.uids[1], self.egid, self.userns))
    }
    fn status(&self) -> Option<([u32; 4], u32)> {
        Some((self.uids, self.ppid))
    }
}

/// What [`TreeBuilder::read_process_list`] found besides the command lines.
#[derive(Default)]
struct ProcRead {
    errors: Vec<NodeError>,
    /// Processes `/proc` hides from this reader.
    hidden: u32,
    monitors: Vec<MonitorStatus>,
}

/// A reusable `"<pid>/<file>\0"` buffer, so that no path string is allocated per process.
#[derive(Default)]
struct PidPath {
    buf: Vec<u8>,
}

impl PidPath {
    fn file(&mut self, pid: u32, file: &str) -> &CStr {
        use std::io::Write;
        self.buf.clear();
        let _ = write!(self.buf, "{pid}/{file}\0");
        CStr::from_bytes_with_nul(&self.buf).unwrap_or(c".")
    }
}

/// The `flags` field (the 9th) of a `/proc/<pid>/stat` line; `comm` (2nd) may hold spaces
/// and parentheses, so fields are counted from the last `)`.
fn stat_flags(stat: &[u8]) -> Option<u32> {
    let close = memchr::memrchr(b')', stat)?;
    let rest = stat.get(close + 1..)?;
    let field = rest
        .split(|&b| b == b' ')
        .filter(|f| !f.is_empty())
        .nth(6)?;
    std::str::from_utf8(field).ok()?.trim().parse().ok()
}

/// `<mount dir>/<cgroup path of id>/<file>`, from the arena's parent links.
fn cgroup_file(nodes: &[Node], mount: &CgroupMount, id: NodeId, file: &str) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let mut chain = Vec::new();
    let mut cur = Some(id);
    while let Some(i) = cur {
        chain.push(i);
        cur = nodes[i].parent;
    }
    let mut path = mount.dir.clone();
    for &i in chain.iter().rev() {
        let name = &nodes[i].name;
        path.push(std::ffi::OsStr::from_bytes(
            name.strip_prefix(b"/").unwrap_or(name),
        ));
    }
    path.join(file)
}

/// How the walk reads `/proc`, and tells a process that exited from one `/proc` hides.
struct ProcView<'a> {
    fd: BorrowedFd<'a>,
    dir: &'a Path,
    origin: fs::Origin,
    live: bool,
    host: &'a Host,
    /// The `/proc` mount's hidepid option, read once when first needed.
    hidepid: &'a std::sync::OnceLock<Option<String>>,
}

impl ProcView<'_> {
    fn hidepid(&self) -> Option<&str> {
        self.hidepid
            .get_or_init(|| self.host.proc_hidepid())
            .as_deref()
    }

    /// Whether `pid`, listed in `cgroup.procs`, is hidden by `/proc` rather than gone:
    /// ENOENT for a process that still exists (live host: `pidfd_open`; a `--root`
    /// snapshot: its `/proc` was mounted with hidepid), or EACCES under hidepid.
    fn hidden(&self, pid: u32, e: Errno) -> bool {
        match e {
            Errno::ENOENT if self.live => {
                fs::pid_exists(pid) == Some(true) && {
                    let _ = self.hidepid();
                    true
                }
            }
            Errno::ENOENT => self.hidepid().is_some(),
            e if errno_is_permission_denied(e as i32) => self.hidepid().is_some(),
            _ => false,
        }
    }
}

pub(crate) fn normalize_start(start: &str) -> Result<String, Error> {
    let invalid = |reason| Error::InvalidPath {
        path: start.to_string(),
        reason,
    };
    let mut out = String::from("/");
    for comp in start.split('/').filter(|c| !c.is_empty()) {
        if comp == "." || comp == ".." {
            return Err(invalid("`.` and `..` are not allowed"));
        }
        if comp.contains('\0') {
            return Err(invalid("contains a NUL byte"));
        }
        if out.len() > 1 {
            out.push('/');
        }
        out.push_str(comp);
    }
    Ok(out)
}

/// Directory descriptors a walk holds open at most, besides the start cgroup's: those of
/// the deepest levels being read. A shallower level's is closed when a deeper one is
/// opened and, when it is needed again, reopened through `..` from its child, checked to
/// be the same directory (`st_dev`, `st_ino`). So a walk uses a bounded number of
/// descriptors, and constant work per level, however deep the tree.
pub const MAX_HELD_DIRS: usize = 16;

/// Processes a tree lists at most (all cgroups together). The kernel's own limit is
/// `PID_MAX_LIMIT` (4,194,304) PIDs; a tree from `--root` may claim any number. PIDs past
/// this cap are left out, with a `too_large` error on the cgroup whose list was cut.
pub const MAX_PROCESSES: usize = 1 << 20;

/// The largest PID the kernel can give (`PID_MAX_LIMIT` on 64-bit, include/linux/threads.h);
/// a larger number in `cgroup.procs` or `cgroup.threads` is a parse error.
pub const PID_MAX_LIMIT: u32 = 4 * 1024 * 1024;

struct Walk<'a> {
    b: &'a TreeBuilder,
    mount: &'a CgroupMount,
    scratch: Scratch,
    /// getdents64 buffer, reused for every directory.
    dirbuf: Vec<u8>,
    nodes: Vec<Node>,
    /// Cgroup path of the node being read (for error messages only).
    path: Vec<u8>,
    /// Where each cgroup's processes go to have their command lines read, when that
    /// happens on another thread.
    tx: Option<std::sync::mpsc::Sender<(NodeId, Vec<Process>)>>,
    /// Whether the cgroup files are on a verified cgroupfs.
    origin: fs::Origin,
    /// Processes listed so far (capped at [`MAX_PROCESSES`]).
    listed: usize,
}

/// One cgroup being walked: its directory (when held open), the children still to walk
/// and what is known of its emptiness so far.
struct Frame {
    id: NodeId,
    fd: Option<OwnedFd>,
    /// `(st_dev, st_ino)` of the directory, recorded when its descriptor was closed.
    ident: Option<(u64, u64)>,
    names: Vec<Box<[u8]>>,
    next: usize,
    own: bool,
    own_known: bool,
    /// A child is populated.
    any_child: bool,
    /// A child is kept (shown): then so is this node, whatever its emptiness.
    kept_child: bool,
    /// Length of `Walk::path` before this node's name.
    saved: usize,
}

/// Parsed `cgroup.procs`: sorted unique PIDs, the count of `0` entries, the first bad line.
type ParsedPids = (Vec<u32>, u32, Option<ParseError>);

/// Parses a PID list. PIDs above [`PID_MAX_LIMIT`] are bad lines. A PID listed twice is
/// listed once: the kernel documents that `cgroup.procs` may repeat a PID (a process moved
/// out and back while the file was read).
fn parse_pids(b: &[u8]) -> ParsedPids {
    let mut pids = Vec::new();
    let mut foreign = 0u32;
    let mut first_err = None;
    let mut it = parse::pids(b);
    while let Some(p) = it.next() {
        match p {
            Ok(0) => foreign = foreign.saturating_add(1),
            Ok(pid) if pid > PID_MAX_LIMIT => {
                let digits = pid.to_string();
                first_err.get_or_insert(ParseError::new(
                    it.line(),
                    crate::ParseErrorKind::OutOfRange,
                    digits.as_bytes(),
                ));
            }
            Ok(pid) => pids.push(pid),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    (pids, foreign, first_err)
}

impl Walk<'_> {
    fn file_path(&self, file: &CStr) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        let rel = std::ffi::OsStr::from_bytes(self.path.strip_prefix(b"/").unwrap_or(&self.path));
        self.mount
            .dir
            .join(rel)
            .join(std::ffi::OsStr::from_bytes(file.to_bytes()))
    }

    fn read<'s>(
        origin: fs::Origin,
        scratch: &'s mut Scratch,
        dir: BorrowedFd<'_>,
        file: &CStr,
    ) -> Result<&'s [u8], Errno> {
        fs::read_file_from(dir, file, scratch, origin)
    }

    /// Records a read error on the node unless it only means "absent" (vanished, missing,
    /// unsupported). Returns the errno.
    fn io_error(&mut self, file: &CStr, id: NodeId, e: Errno) -> Errno {
        if errno_is_vanished(e as i32) {
            self.scratch.stats.vanished_cgroups += 1;
        }
        if !(errno_is_vanished(e as i32) || errno_is_unsupported(e as i32)) {
            let path = self.file_path(file);
            self.nodes[id].errors.push(NodeError {
                path,
                kind: NodeErrorKind::from_errno(e),
            });
        }
        e
    }

    fn parse_error(&mut self, file: &CStr, id: NodeId, e: ParseError) {
        let path = self.file_path(file);
        self.nodes[id].errors.push(NodeError {
            path,
            kind: NodeErrorKind::Parse(e),
        });
    }

    fn controllers(
        &mut self,
        dir: BorrowedFd<'_>,
        file: &CStr,
        id: NodeId,
    ) -> Option<ControllerList> {
        match Self::read(self.origin, &mut self.scratch, dir, file).map(ControllerList::parse) {
            Ok(list) => Some(list),
            Err(e) => {
                self.io_error(file, id, e);
                None
            }
        }
    }

    /// Walks the tree below the start cgroup (whose directory `fd` is open), with an
    /// explicit stack: no recursion, at most [`MAX_HELD_DIRS`] + 1 directories open.
    fn run(&mut self, fd: OwnedFd) {
        let first = self.enter(fd, 0, self.path.len());
        let mut stack = vec![first];
        while let Some(top) = stack.last_mut() {
            if top.next < top.names.len() {
                let name = std::mem::take(&mut top.names[top.next]);
                top.next += 1;
                let parent = top.id;
                let Ok(cname) = CString::new(name.to_vec()) else {
                    continue;
                };
                let opened = match &top.fd {
                    Some(dir) => fs::open_dir(dir.as_fd(), &cname),
                    None => Err(Errno::EBADF),
                };
                let depth = self.nodes[parent].depth + 1;
                let saved = self.path.len();
                if self.path.last() != Some(&b'/') {
                    self.path.push(b'/');
                }
                self.path.extend_from_slice(&name);
                let id = self.nodes.len();
                self.nodes.push(Node::new(name, Some(parent), depth));
                match opened {
                    Ok(fd) => {
                        let frame = self.enter(fd, id, saved);
                        stack.push(frame);
                        Self::limit_fds(&mut stack);
                    }
                    Err(e) if errno_is_vanished(e as i32) => {
                        self.scratch.stats.vanished_cgroups += 1;
                        self.nodes.truncate(id);
                        self.path.truncate(saved);
                    }
                    Err(e) => {
                        // Unreadable (EACCES, EMFILE, ...): shown with its error, and so
                        // are its ancestors.
                        self.io_error(c"", id, e);
                        self.path.truncate(saved);
                        self.nodes[parent].children.push(id);
                        top.kept_child = true;
                    }
                }
                continue;
            }
            let Some(frame) = stack.pop() else { break };
            let keep = self.finish(&frame);
            self.path.truncate(frame.saved);
            let populated = self.nodes[frame.id].populated;
            let Some(parent) = stack.last_mut() else {
                break;
            };
            if keep {
                self.nodes[parent.id].children.push(frame.id);
                parent.kept_child = true;
            } else {
                // The pruned node's subtree is the tail of the pre-order arena.
                self.nodes.truncate(frame.id);
            }
            parent.any_child |= populated == Some(true);
            // A closed level is reopened even when it has nothing left to read itself:
            // its own parent may (a deep chain with siblings far above it), and it can
            // only be reached again from here.
            if parent.fd.is_none() {
                let reopened = match (&frame.fd, parent.ident) {
                    (Some(child), Some(ident)) => fs::open_parent(child.as_fd(), ident),
                    _ => Err(Errno::ESTALE),
                };
                match reopened {
                    Ok(fd) => parent.fd = Some(fd),
                    Err(e) => {
                        // Moved or removed while walked: what is left of it is not read.
                        parent.next = parent.names.len();
                        let id = parent.id;
                        let e = if errno_is_vanished(e as i32) {
                            Errno::ESTALE
                        } else {
                            e
                        };
                        self.io_error(c"", id, e);
                    }
                }
            }
        }
    }

    /// Closes the descriptor of the level that is now [`MAX_HELD_DIRS`] above the
    /// deepest (never the start cgroup's), remembering which directory it was.
    fn limit_fds(stack: &mut [Frame]) {
        let Some(i) = stack.len().checked_sub(MAX_HELD_DIRS + 1) else {
            return;
        };
        if i == 0 {
            return;
        }
        let f = &mut stack[i];
        if let Some(fd) = &f.fd {
            if let Ok(ident) = fs::dir_identity(fd.as_fd()) {
                f.ident = Some(ident);
                f.fd = None;
            }
        }
    }

    /// Reads one cgroup (whose directory `fd` is open) and lists its children.
    fn enter(&mut self, fd: OwnedFd, id: NodeId, saved: usize) -> Frame {
        let is_hierarchy_root = self.path == b"/";
        let depth = self.nodes[id].depth;
        let origin = self.origin;
        // One fstat per directory: the cgroup id (its inode) and, on cgroupfs, the owner.
        if let Ok(st) = nix::sys::stat::fstat(&fd) {
            self.nodes[id].cgroup_id = Some(st.st_ino);
            if origin == fs::Origin::Kernel {
                self.nodes[id].dir_uid = Some(st.st_uid);
            }
        }
        if !is_hierarchy_root {
            match Self::read(origin, &mut self.scratch, fd.as_fd(), c"cgroup.type")
                .map(parse::cgroup_type)
            {
                Ok(Ok(t)) => self.nodes[id].cgroup_type = Some(t),
                Ok(Err(e)) => self.parse_error(c"cgroup.type", id, e),
                Err(e) => {
                    self.io_error(c"cgroup.type", id, e);
                }
            }
        }
        // A cgroup's cgroup.controllers is its parent's cgroup.subtree_control (the
        // kernel's top-down rule), so it is read only where that does not hold or is not
        // known: the walk's root, and threaded cgroups (which list only the threaded
        // controllers). One file fewer per cgroup.
        let inherited = match (self.nodes[id].parent, self.nodes[id].cgroup_type) {
            (Some(p), t) if t != Some(CgroupType::Threaded) => {
                self.nodes[p].subtree_control.clone()
            }
            _ => None,
        };
        self.nodes[id].controllers = match inherited {
            Some(list) => Some(list),
            None => self.controllers(fd.as_fd(), c"cgroup.controllers", id),
        };
        let mut own = false;
        let mut own_known = false;
        // A threaded cgroup's cgroup.procs cannot be read (EOPNOTSUPP): its processes are
        // listed by the threaded domain above, and emptiness comes from cgroup.events.
        let threaded = self.nodes[id].cgroup_type == Some(CgroupType::Threaded);
        if self.b.processes && !threaded {
            match Self::read(origin, &mut self.scratch, fd.as_fd(), c"cgroup.procs").map(parse_pids)
            {
                Ok((mut pids, foreign, first_err)) => {
                    own = !pids.is_empty() || foreign > 0;
                    own_known = true;
                    let room = MAX_PROCESSES.saturating_sub(self.listed);
                    let cut = pids.len() > room;
                    pids.truncate(room);
                    self.listed += pids.len();
                    let node = &mut self.nodes[id];
                    node.foreign_pids = foreign;
                    node.processes = Some(
                        pids.into_iter()
                            .map(|pid| Process::new(pid, Box::default(), None))
                            .collect(),
                    );
                    if let (Some(tx), Some(procs)) = (&self.tx, &node.processes) {
                        if !procs.is_empty() {
                            let _ = tx.send((id, procs.clone()));
                        }
                    }
                    if let Some(e) = first_err {
                        self.parse_error(c"cgroup.procs", id, e);
                    }
                    if cut {
                        let path = self.file_path(c"cgroup.procs");
                        self.nodes[id].errors.push(NodeError {
                            path,
                            kind: NodeErrorKind::TooManyProcesses,
                        });
                    }
                }
                Err(e) => {
                    // EOPNOTSUPP (threaded cgroup): the processes are listed by the
                    // threaded domain; emptiness comes from cgroup.events instead.
                    if self.io_error(c"cgroup.procs", id, e) != Errno::EOPNOTSUPP
                        && errno_is_vanished(e as i32)
                    {
                        own_known = true;
                    }
                }
            }
        }
        if self.b.threads {
            match Self::read(origin, &mut self.scratch, fd.as_fd(), c"cgroup.threads")
                .map(parse_pids)
            {
                Ok((mut tids, _, _)) => {
                    let node = &mut self.nodes[id];
                    if let Some(procs) = &node.processes {
                        tids.retain(|t| procs.binary_search_by_key(t, |p| p.pid).is_err());
                    }
                    own |= !tids.is_empty();
                    node.threads = Some(
                        tids.into_iter()
                            .map(|tid| Thread { tid, comm: None })
                            .collect(),
                    );
                }
                Err(e) => {
                    self.io_error(c"cgroup.threads", id, e);
                }
            }
        }

        let mut names = match fs::subdirs(fd.as_fd(), &mut self.dirbuf) {
            Ok(n) => n,
            Err(e) => {
                self.io_error(c"", id, e);
                Vec::new()
            }
        };
        names.sort_unstable();
        // What this cgroup grants its children matters only when it has children (it is
        // also their cgroup.controllers): a leaf's is not read.
        if !names.is_empty() {
            self.nodes[id].subtree_control =
                self.controllers(fd.as_fd(), c"cgroup.subtree_control", id);
        }
        let at_limit = self.b.max_depth.is_some_and(|m| depth >= m);
        if at_limit {
            if !names.is_empty() {
                self.nodes[id].truncated = true;
            }
            names = Vec::new();
        }
        Frame {
            id,
            fd: Some(fd),
            ident: None,
            names,
            next: 0,
            own,
            own_known,
            any_child: false,
            kept_child: false,
            saved,
        }
    }

    /// Decides `populated` and whether the node is kept: a node is kept when it is not
    /// known to be empty, when it has an error, or when a child is kept (so an error deep
    /// down is never hidden with its empty ancestors).
    fn finish(&mut self, f: &Frame) -> bool {
        let id = f.id;
        let is_root = id == 0;
        let mut populated = if f.own || f.any_child {
            Some(true)
        } else {
            None
        };
        let truncated = self.nodes[id].truncated;
        let need_events = populated.is_none() && !is_root && (!f.own_known || truncated);
        if need_events {
            if let Some(dir) = &f.fd {
                match Self::read(
                    self.origin,
                    &mut self.scratch,
                    dir.as_fd(),
                    c"cgroup.events",
                )
                .map(parse::cgroup_events)
                {
                    Ok(Ok(ev)) => populated = ev.populated,
                    Ok(Err(e)) => self.parse_error(c"cgroup.events", id, e),
                    Err(e) => {
                        self.io_error(c"cgroup.events", id, e);
                    }
                }
            }
        }
        if populated.is_none() && f.own_known && !truncated {
            populated = Some(false);
        }
        let node = &mut self.nodes[id];
        node.populated = populated;
        // Unknown emptiness is shown rather than hidden; so is a node with errors.
        is_root
            || self.b.include_empty
            || populated != Some(false)
            || !node.errors.is_empty()
            || f.kept_child
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::faults::{self, Fault};

    /// A small host: cgroups `a` (PIDs 10, 11) and `b` (PID 12, threaded child `b/t`).
    fn host() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let w = |rel: &str, c: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        };
        w("sys/fs/cgroup/cgroup.procs", "");
        w("sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n");
        for (cg, procs) in [("a", "10\n11\n"), ("b", "12\n")] {
            w(&format!("sys/fs/cgroup/{cg}/cgroup.type"), "domain\n");
            w(&format!("sys/fs/cgroup/{cg}/cgroup.procs"), procs);
            w(
                &format!("sys/fs/cgroup/{cg}/cgroup.controllers"),
                "memory\n",
            );
        }
        w("sys/fs/cgroup/b/t/cgroup.type", "threaded\n");
        w("sys/fs/cgroup/b/t/cgroup.events", "populated 1\nfrozen 0\n");
        for pid in [10, 11, 12] {
            w(&format!("proc/{pid}/cmdline"), &format!("/bin/p{pid}\0"));
        }
        d
    }

    fn build(d: &tempfile::TempDir) -> Tree {
        TreeBuilder::new().host_root(d.path()).build().unwrap()
    }

    fn node<'a>(t: &'a Tree, name: &str) -> Option<&'a Node> {
        t.nodes().iter().find(|n| &n.name[..] == name.as_bytes())
    }

    fn pids(t: &Tree, name: &str) -> Option<Vec<u32>> {
        node(t, name)?
            .processes
            .as_ref()
            .map(|p| p.iter().map(|p| p.pid).collect())
    }

    #[test]
    fn faults_map_to_the_documented_behaviour() {
        let d = host();
        let clean = build(&d);
        assert_eq!(pids(&clean, "a"), Some(vec![10, 11]));
        assert!(clean.errors().next().is_none());

        // EOPNOTSUPP at read time (a threaded cgroup, PSI off): no data, no error.
        faults::set("cgroup.procs", Fault::Read(Errno::EOPNOTSUPP));
        let t = build(&d);
        faults::clear();
        assert_eq!(pids(&t, "a"), None);
        assert!(
            t.errors().next().is_none(),
            "{:?}",
            t.errors().collect::<Vec<_>>()
        );
        assert!(
            node(&t, "a").is_some(),
            "unknown emptiness is shown, not hidden"
        );

        // ENODEV after a good open: the cgroup was removed; it is left out silently.
        faults::set("cgroup.procs", Fault::Read(Errno::ENODEV));
        let t = build(&d);
        faults::clear();
        assert!(node(&t, "a").is_none());
        assert_eq!(
            pids(&t, "b"),
            None,
            "b stays for its populated threaded child, without processes"
        );
        assert!(t.errors().next().is_none());
        assert!(t.stats().vanished_cgroups > 0, "{:?}", t.stats());

        // EACCES: recorded on the node, the walk goes on.
        faults::set("cgroup.procs", Fault::Open(Errno::EACCES));
        let t = build(&d);
        faults::clear();
        let a = node(&t, "a").unwrap();
        assert_eq!(a.errors[0].kind, NodeErrorKind::PermissionDenied);
        assert!(a.errors[0].path.ends_with("a/cgroup.procs"));
        assert!(node(&t, "b").is_some());

        // Short reads (one byte at a time) and EINTR give exactly the clean result.
        for fault in [Fault::Short(1), Fault::Interrupt] {
            for file in [
                "cgroup.procs",
                "cgroup.type",
                "cgroup.controllers",
                "cmdline",
            ] {
                faults::set(file, fault);
            }
            let t = build(&d);
            faults::clear();
            assert_eq!(t.nodes(), clean.nodes(), "{fault:?}");
            // Each tree counts its own interrupted reads; the clean one none.
            let interrupted = t.stats().interrupted;
            assert_eq!(
                interrupted > 0,
                fault == Fault::Interrupt,
                "{:?}",
                t.stats()
            );
        }
        assert_eq!(clean.stats().interrupted, 0, "{:?}", clean.stats());

        // A torn read: the list ends early (at a line end), or a value is cut (a
        // parse error on the node naming the file and line); never a panic.
        faults::set("cgroup.procs", Fault::Torn(3));
        let t = build(&d);
        faults::clear();
        assert_eq!(pids(&t, "a"), Some(vec![10]));
        faults::set("cgroup.type", Fault::Torn(3));
        let t = build(&d);
        faults::clear();
        let a = node(&t, "a").unwrap();
        assert!(
            matches!(a.errors[0].kind, NodeErrorKind::Parse(_)),
            "{:?}",
            a.errors
        );
        assert!(
            a.errors[0]
                .to_string()
                .contains("cgroup.type: line 1: unknown value in \"dom\""),
            "{}",
            a.errors[0]
        );

        // A process that exits between cgroup.procs and its cmdline is left out.
        faults::set("cmdline", Fault::Open(Errno::ESRCH));
        let t = build(&d);
        faults::clear();
        assert_eq!(pids(&t, "a"), Some(vec![]));
        assert!(t.errors().next().is_none());
    }

    /// Makes `depth` nested directories `d` below `base` with mkdirat (paths past
    /// PATH_MAX), each with an empty `cgroup.procs`; the deepest lists `pid`.
    fn chain(base: &Path, depth: usize, pid: u32) {
        use nix::fcntl::{openat, OFlag};
        use nix::sys::stat::{mkdirat, Mode};
        use std::io::Write;
        let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC;
        let mut fd = nix::fcntl::open(base, flags, Mode::empty()).unwrap();
        for level in 1..=depth {
            mkdirat(fd.as_fd(), "d", Mode::from_bits_truncate(0o755)).unwrap();
            fd = openat(fd.as_fd(), "d", flags, Mode::empty()).unwrap();
            let f = openat(
                fd.as_fd(),
                "cgroup.procs",
                OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o644),
            )
            .unwrap();
            let body = if level == depth {
                format!("{pid}\n")
            } else {
                String::new()
            };
            std::fs::File::from(f).write_all(body.as_bytes()).unwrap();
        }
    }

    /// Rule 6: nothing recurses with the depth of the tree. 9,000 levels are walked and
    /// written as JSON on a thread with a 256 KiB stack (the recursive walk and
    /// serializer needed megabytes and died of stack overflow).
    #[test]
    fn nine_thousand_levels_on_a_small_stack() {
        let d = tempfile::tempdir().unwrap();
        let cg = d.path().join("sys/fs/cgroup");
        std::fs::create_dir_all(&cg).unwrap();
        std::fs::write(cg.join("cgroup.procs"), "").unwrap();
        std::fs::create_dir_all(d.path().join("proc/99")).unwrap();
        std::fs::write(d.path().join("proc/99/cmdline"), "deep\0").unwrap();
        chain(&cg, 9000, 99);
        let root = d.path().to_path_buf();
        let (len, json) = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                let t = TreeBuilder::new().host_root(&root).build().unwrap();
                let mut out = Vec::new();
                t.write_json(&mut out, true).unwrap();
                // The recursive Serialize impl refuses such a tree instead of crashing.
                assert!(serde_json::to_vec(&t).is_err());
                (t.nodes().len(), out)
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(
            len, 9001,
            "the empty chain is kept for the process at its bottom"
        );
        let text = String::from_utf8(json).unwrap();
        assert_eq!(text.matches("\"name\": \"d\"").count(), 9000);
        assert!(text.contains("\"deep\""));
        // Linear output: long paths are null, indentation stops growing.
        assert!(text.contains("\"path\": null"));
        assert!(text.len() < 9001 * 4096, "{} bytes", text.len());
        let widest = text.lines().map(str::len).max().unwrap();
        assert!(widest < 4096 + 300, "{widest}");
    }

    /// Shallower levels' descriptors are closed and reopened through `..`: a comb (every
    /// level of a 60-deep chain also has a leaf `z` holding a process, read after the
    /// deeper levels) is read in full.
    #[test]
    fn closed_levels_are_reopened_for_their_remaining_children() {
        let d = tempfile::tempdir().unwrap();
        let cg = d.path().join("sys/fs/cgroup");
        std::fs::create_dir_all(&cg).unwrap();
        std::fs::write(cg.join("cgroup.procs"), "").unwrap();
        let mut p = cg.clone();
        for level in 1..=60u32 {
            p.push("d");
            std::fs::create_dir(&p).unwrap();
            std::fs::write(p.join("cgroup.procs"), "").unwrap();
            std::fs::create_dir(p.join("z")).unwrap();
            std::fs::write(p.join("z/cgroup.procs"), format!("{}\n", 1000 + level)).unwrap();
            let proc_dir = d.path().join(format!("proc/{}", 1000 + level));
            std::fs::create_dir_all(&proc_dir).unwrap();
            std::fs::write(proc_dir.join("cmdline"), format!("p{level}\0")).unwrap();
        }
        let t = TreeBuilder::new().host_root(d.path()).build().unwrap();
        assert!(
            t.errors().next().is_none(),
            "{:?}",
            t.errors().collect::<Vec<_>>()
        );
        let mut pids: Vec<u32> = t
            .nodes()
            .iter()
            .flat_map(|n| n.processes.iter().flatten().map(|p| p.pid))
            .collect();
        pids.sort_unstable();
        assert_eq!(pids, (1001..=1060).collect::<Vec<_>>());
        // Each leaf sits below its own level of the chain.
        for (id, n) in t.nodes().iter().enumerate() {
            if &n.name[..] == b"z" {
                let pid = n.processes.as_ref().unwrap()[0].pid;
                let path = String::from_utf8(t.path(id)).unwrap();
                assert_eq!(path.matches("/d").count() as u32 + 1000, pid);
            }
        }
    }

    /// A chain deeper than [`MAX_HELD_DIRS`] whose levels have nothing left to read, below
    /// a cgroup with siblings still to walk: every closed level is reopened on the way
    /// back up, so the siblings are walked (they were left out with ESTALE: a user with a
    /// delegated cgroup could hide root's cgroups this way).
    #[test]
    fn a_deep_chain_hides_no_sibling_above_it() {
        let d = tempfile::tempdir().unwrap();
        let cg = d.path().join("sys/fs/cgroup");
        let top = cg.join("a/p");
        std::fs::create_dir_all(&top).unwrap();
        for dir in [cg.clone(), cg.join("a"), top.clone()] {
            std::fs::write(dir.join("cgroup.procs"), "").unwrap();
        }
        let mut c = top.join("d");
        for _ in 0..(MAX_HELD_DIRS * 3) {
            std::fs::create_dir_all(&c).unwrap();
            std::fs::write(c.join("cgroup.procs"), "").unwrap();
            c.push("c");
        }
        for (i, z) in ["z1", "z2", "z3"].iter().enumerate() {
            for parent in [&top, &cg.join("a")] {
                let dir = parent.join(z);
                std::fs::create_dir_all(&dir).unwrap();
                let pid = 2000 + i as u32 + if *parent == top { 0 } else { 10 };
                std::fs::write(dir.join("cgroup.procs"), format!("{pid}\n")).unwrap();
                let proc_dir = d.path().join(format!("proc/{pid}"));
                std::fs::create_dir_all(&proc_dir).unwrap();
                std::fs::write(proc_dir.join("cmdline"), b"x\0").unwrap();
            }
        }
        let t = TreeBuilder::new().host_root(d.path()).build().unwrap();
        assert!(
            t.errors().next().is_none(),
            "{:?}",
            t.errors().collect::<Vec<_>>()
        );
        let mut pids: Vec<u32> = t
            .nodes()
            .iter()
            .flat_map(|n| n.processes.iter().flatten().map(|p| p.pid))
            .collect();
        pids.sort_unstable();
        assert_eq!(pids, vec![2000, 2001, 2002, 2010, 2011, 2012]);
    }

    /// Rule 7: a node whose subtree holds an error is never pruned with its empty
    /// ancestors (before, `a/b` was dropped with `a` and the error with it).
    #[test]
    fn an_error_keeps_its_empty_ancestors() {
        let d = tempfile::tempdir().unwrap();
        let w = |rel: &str, c: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        };
        w("sys/fs/cgroup/cgroup.procs", "");
        w("sys/fs/cgroup/a/cgroup.procs", "");
        w("sys/fs/cgroup/a/b/cgroup.type", "domain\n");
        // Not a regular file: refused, recorded on b.
        std::fs::create_dir_all(d.path().join("sys/fs/cgroup/a/b/cgroup.procs")).unwrap();
        w("sys/fs/cgroup/e/cgroup.procs", "");
        std::fs::create_dir_all(d.path().join("proc")).unwrap();
        let t = build(&d);
        let b = node(&t, "b").expect("b is shown with its error");
        // A directory is said to be one (not "a FIFO, device or socket").
        assert_eq!(
            b.errors[0].kind,
            NodeErrorKind::Io(nix::errno::Errno::EISDIR as i32)
        );
        let shown = b.errors[0].kind.to_string();
        assert!(
            shown.contains("directory") && !shown.contains("FIFO"),
            "{shown}"
        );
        assert!(node(&t, "a").is_some(), "and so is its empty parent");
        assert!(
            node(&t, "e").is_none(),
            "an empty cgroup without errors is still hidden"
        );
        assert_eq!(t.errors().count(), 1);
    }

    /// On the live host (as root, with a writable cgroup2 mount; skipped otherwise): a
    /// process whose argv[0] claims conmon has its `status` read by the walk when asked,
    /// one that claims nothing does not, and nothing is read when not asked.
    #[test]
    fn the_walk_reads_the_status_of_monitor_claims_only() {
        use std::os::unix::process::CommandExt;
        let Ok(mount) = Host::new().find_cgroup2() else {
            return;
        };
        let name = format!("cgtree-test-monitor-status-{}", std::process::id());
        let dir = mount.dir.join(&name);
        if !nix::unistd::geteuid().is_root() || std::fs::create_dir(&dir).is_err() {
            return;
        }
        let spawn = |argv0: &str| {
            std::process::Command::new("sleep")
                .arg0(argv0)
                .arg("60")
                .spawn()
                .unwrap()
        };
        let mut children = [spawn("conmon"), spawn("sleep")];
        let (claim, plain) = (children[0].id(), children[1].id());
        for c in &children {
            std::fs::write(dir.join("cgroup.procs"), c.id().to_string()).unwrap();
        }
        let build = |yes: bool| {
            TreeBuilder::new()
                .start(format!("/{name}"))
                .monitor_status(yes)
                .build()
                .map(|t| t.root().clone())
        };
        let (asked, not_asked) = (build(true), build(false));
        for c in &mut children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir(&dir);
        let (asked, not_asked) = (asked.unwrap(), not_asked.unwrap());
        let pids: Vec<u32> = asked.processes.iter().flatten().map(|p| p.pid).collect();
        assert!(pids.contains(&claim) && pids.contains(&plain), "{pids:?}");
        let me = nix::unistd::getuid().as_raw();
        assert_eq!(
            asked.monitor_status,
            vec![MonitorStatus {
                pid: claim,
                uid: Some([me; 4]),
                ppid: Some(std::process::id()),
            }]
        );
        assert_eq!(asked.monitor_status(claim).map(|m| m.pid), Some(claim));
        assert_eq!(asked.monitor_status(plain), None);
        assert!(not_asked.monitor_status.is_empty());
    }

    #[test]
    fn pid_lists_are_bounded() {
        let (pids, foreign, err) = parse_pids(b"5\n0\n4194304\n4194305\n5\n3\n");
        assert_eq!(
            pids,
            vec![3, 5, 4194304],
            "duplicates merged, the kernel's maximum kept"
        );
        assert_eq!(foreign, 1);
        let err = err.unwrap();
        assert_eq!(err.line, 4);
        assert_eq!(err.kind, crate::ParseErrorKind::OutOfRange);
    }

    #[test]
    fn stat_flags_after_the_last_parenthesis() {
        let line = b"2 (kthre) d) S 0 0 0 0 -1 2129984 0 0 0 0 0 0\n";
        assert_eq!(stat_flags(line), Some(2129984));
        assert_eq!(stat_flags(b"garbage"), None);
        assert_eq!(stat_flags(b"1 (x) S 0"), None);
    }

    /// `Tree::write_json` writes exactly what serde_json writes for every fixture.
    #[test]
    fn write_json_matches_serde_json_on_every_fixture() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        let mut seen = 0;
        for e in std::fs::read_dir(&fixtures).unwrap() {
            let root = e.unwrap().path();
            let Ok(t) = TreeBuilder::new()
                .host_root(&root)
                .identify(true)
                .users(true)
                .threads(true)
                .include_empty(true)
                .build()
            else {
                continue;
            };
            for pretty in [true, false] {
                let mut ours = Vec::new();
                t.write_json(&mut ours, pretty).unwrap();
                let theirs = if pretty {
                    serde_json::to_vec_pretty(&t).unwrap()
                } else {
                    serde_json::to_vec(&t).unwrap()
                };
                assert!(ours == theirs, "{} pretty={pretty}", root.display());
            }
            seen += 1;
        }
        assert!(seen > 10, "{seen} fixtures");
    }

    /// A subtree cut out of the whole tree is the tree a walk started there reads (its
    /// nodes, their depth, emptiness, truncation and parent ids), for every third cgroup
    /// of every fixture,
    /// with and without empty cgroups and a depth limit; and its ancestors are the
    /// cgroups above, identified.
    #[test]
    fn subtree_equals_a_walk_from_there() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures");
        // Per node: path, depth, truncated, populated, parent id.
        type Shape = (Vec<u8>, u32, bool, Option<bool>, Option<u64>);
        let shape = |t: &Tree| -> Vec<Shape> {
            (0..t.nodes().len())
                .map(|i| {
                    let n = t.node(i);
                    (
                        t.path(i),
                        n.depth,
                        n.truncated,
                        n.populated,
                        t.parent_cgroup_id(i),
                    )
                })
                .collect()
        };
        let mut compared = 0;
        for e in std::fs::read_dir(&fixtures).unwrap() {
            let root = e.unwrap().path();
            let Ok(whole) = TreeBuilder::new()
                .host_root(&root)
                .include_empty(true)
                .identify(true)
                .build()
            else {
                continue;
            };
            for id in (0..whole.nodes().len()).step_by(3) {
                let start = String::from_utf8(whole.path(id)).unwrap();
                for (all, depth) in [
                    (false, None),
                    (true, None),
                    (false, Some(1)),
                    (true, Some(0)),
                ] {
                    let walked = TreeBuilder::new()
                        .host_root(&root)
                        .start(start.clone())
                        .include_empty(all)
                        .max_depth(depth)
                        .build()
                        .unwrap();
                    let cut = whole.subtree(id, all, depth);
                    let (mut got, want) = (shape(&cut), shape(&walked));
                    // A depth-limited walk of a fixture (no `cgroup.events`) derives
                    // emptiness from the levels it read; the whole tree knows it.
                    // So a cut cgroup that the limited walk keeps for its unknown
                    // emptiness is left out of the subtree when the whole tree knows it
                    // is empty (as on a live host, where `cgroup.events` says so).
                    if depth.is_some() {
                        got.iter_mut().for_each(|g| g.3 = None);
                        let want: Vec<_> = want
                            .into_iter()
                            .map(|mut w| {
                                w.3 = None;
                                w
                            })
                            .filter(|w| {
                                got.contains(w) || {
                                    let p = std::str::from_utf8(&w.0).unwrap();
                                    let known_empty =
                                        whole.nodes().iter().enumerate().any(|(i, n)| {
                                            whole.path(i) == w.0 && n.populated == Some(false)
                                        });
                                    assert!(known_empty, "{p} left out but not empty");
                                    false
                                }
                            })
                            .collect();
                        assert_eq!(got, want, "{} {start} {all} {depth:?}", root.display());
                        compared += 1;
                        continue;
                    }
                    assert_eq!(got, want, "{} {start} {all} {depth:?}", root.display());
                    compared += 1;
                }
                let cut = whole.subtree(id, true, None);
                let above: Vec<Vec<u8>> = cut.ancestors().iter().map(|c| c.path.clone()).collect();
                let mut want = Vec::new();
                let mut cur = whole.node(id).parent;
                while let Some(p) = cur {
                    want.push(whole.path(p));
                    cur = whole.node(p).parent;
                }
                want.reverse();
                assert_eq!(above, want, "{start}");
            }
        }
        assert!(compared > 500, "{compared}");
    }

    #[test]
    fn normalize_start_table() {
        assert_eq!(normalize_start("/").unwrap(), "/");
        assert_eq!(normalize_start("").unwrap(), "/");
        assert_eq!(normalize_start("user.slice//a/").unwrap(), "/user.slice/a");
        assert!(normalize_start("/a/../b").is_err());
        assert!(normalize_start("./a").is_err());
    }
}
