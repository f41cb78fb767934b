//! What each cgroup uses: CPU, memory, PIDs, I/O and pressure, read from the cgroup v2
//! interface files, and rates between two readings.
//!
//! - [`Sampler`] reads the files of the cgroups of a [`Tree`] ([`Sampler::sample`]) into
//!   a [`Sample`]: one [`Usage`] per sampled node, indexed by [`NodeId`].
//! - [`Rates::between`] (and [`Sample::rates`]) turns two readings of a cgroup into rates
//!   over the measured interval: CPU in cores, I/O in bytes and operations per second,
//!   pressure stall ratios, OOM kills in the interval.
//! - [`group`] sums cgroups by identity (container, pod, kind node, systemd unit, user)
//!   where the kernel's own counters do not already include them.
//! - With the `serde` feature, [`write_sample_json`] writes one sample as one JSON object
//!   (`docs/json.md`, "Sample").
//!
//! Every file, its unit and whether it counts descendants is listed in `docs/usage.md`;
//! the formats are those of the kernel's Documentation/admin-guide/cgroup-v2.rst.
//!
//! # Errors
//! A file a controller does not provide (ENOENT) is "not available": its field is `None`,
//! with no error. A cgroup removed since the tree was read (ENOENT or ENODEV on its
//! directory) has no [`Usage`] at all. Any other failure, or bytes that do not parse, is a
//! [`NodeError`] in [`Usage::errors`] naming the file (and, for a parse error, the line);
//! the node's other files are still read.
//!
//! # Cost
//! Only the nodes [`SampleOptions`] selects are read (a depth limit, populated cgroups
//! only). Each node's directory descriptor is kept open between samples, up to
//! [`SampleOptions::max_open_dirs`] of them (default [`DEFAULT_MAX_OPEN_DIRS`]); the rest
//! are reopened at each sample, by name below their parent's kept descriptor or by their
//! path relative to the mount. Only the files of the controllers enabled for a cgroup
//! (its `cgroup.controllers`, as the tree read it) are opened. One buffer is reused
//! for every file, and the parsers (`crate::parse`) allocate nothing; a [`Usage`]
//! allocates only for its I/O devices and errors.

pub mod group;
#[cfg(feature = "serde")]
mod json;
mod rates;

#[cfg(feature = "serde")]
pub use json::{write_sample_json, SAMPLE_JSON_VERSION};
pub use rates::{CpuRates, EventDeltas, IoDeviceRates, IoRates, PressureRates, Rates, StallRates};

use crate::error::{errno_is_vanished, Error, ParseError};
use crate::fs::{self, Origin, Scratch};
use crate::parse::{self, CpuStat, Limit, MemoryEvents, MemoryStat, Pressure};
use crate::tree::{NodeError, NodeErrorKind, NodeId, Tree};
use nix::errno::Errno;
use std::collections::HashMap;
use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Directory descriptors a [`Sampler`] keeps open between samples by default, at most
/// (and never more than the soft `RLIMIT_NOFILE` less 1024, or half of it when that is
/// more: see [`SampleOptions::max_open_dirs`]).
pub const DEFAULT_MAX_OPEN_DIRS: usize = 4096;

/// What a [`Sampler`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleOptions {
    /// Read only nodes at most this deep below the tree's root (`None`: all).
    pub max_depth: Option<u32>,
    /// Read only cgroups that hold processes, themselves or below ([`crate::Node::populated`]
    /// or a non-empty process list); the tree's root is always read.
    pub populated_only: bool,
    /// Name the block devices of `io.stat` from sysfs (`/sys/dev/block/MAJ:MIN/uevent`,
    /// read once per device and kept).
    pub device_names: bool,
    /// Directory descriptors kept open between samples, at most; capped again at the
    /// process's soft `RLIMIT_NOFILE` less 1024 (or half of it, when that is more). A
    /// program that samples large trees raises its soft limit to the hard one first
    /// (`cgtree top` does) and sets this to `usize::MAX`.
    pub max_open_dirs: usize,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            max_depth: None,
            populated_only: false,
            device_names: true,
            max_open_dirs: DEFAULT_MAX_OPEN_DIRS,
        }
    }
}

/// Memory of a cgroup, in bytes.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// `memory.current`: memory charged to the cgroup and its descendants.
    pub current: Option<u64>,
    /// `memory.swap.current`: swap used by the cgroup and its descendants.
    pub swap_current: Option<u64>,
    /// `memory.max`: the hard limit.
    pub max: Option<Limit>,
    /// `memory.high`: the throttling limit.
    pub high: Option<Limit>,
    /// `memory.stat` (the keys of [`MemoryStat`]).
    pub stat: Option<MemoryStat>,
}

impl Memory {
    /// The working set: `memory.current` minus `inactive_file` of `memory.stat`, 0 when
    /// that would be negative; `None` when either is missing. As the kubelet computes it
    /// (it takes cAdvisor's: cadvisor `container/libcontainer/handler.go`, `setMemoryStats`:
    /// `workingSet = usage - inactive_file`, floored at 0; kubernetes
    /// `pkg/kubelet/stats` reports it as `workingSetBytes`, what `kubectl top` and eviction
    /// use).
    pub fn working_set(&self) -> Option<u64> {
        let inactive = self.stat.and_then(|s| s.inactive_file)?;
        Some(self.current?.saturating_sub(inactive))
    }
}

/// PIDs of a cgroup.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pids {
    /// `pids.current`: tasks (threads) in the cgroup and its descendants.
    pub current: Option<u64>,
    /// `pids.max`.
    pub max: Option<Limit>,
}

/// One device of `io.stat`, with its name.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoDevice {
    /// The counters (bytes and operations since the cgroup was made).
    pub stat: parse::IoStatLine,
    /// `DEVNAME` of `/sys/dev/block/MAJ:MIN/uevent` (`sda`, `nvme0n1`, `dm-0`), when
    /// known: printable ASCII, at most `parse::MAX_DEVNAME` bytes.
    pub name: Option<Arc<str>>,
}

/// The three pressure files.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PressureSet {
    /// `cpu.pressure`.
    pub cpu: Option<Pressure>,
    /// `memory.pressure`.
    pub memory: Option<Pressure>,
    /// `io.pressure`.
    pub io: Option<Pressure>,
}

/// What one cgroup uses, as read at one time. Every field is `None` when its files are
/// not there (the controller is not enabled for the cgroup, or the kernel is older).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Usage {
    /// The cgroup id: the inode number of its directory (what the kernel's
    /// `cgroup_id()` and BPF report), `None` when not read. Tells a cgroup from one
    /// removed and recreated with the same path.
    pub id: Option<u64>,
    /// `cpu.stat`.
    pub cpu: Option<CpuStat>,
    /// `memory.current`, `memory.swap.current`, `memory.max`, `memory.high`, `memory.stat`.
    pub memory: Option<Memory>,
    /// `memory.events`: events of the cgroup and its descendants.
    pub memory_events: Option<MemoryEvents>,
    /// `memory.events.local`: events of the cgroup itself.
    pub memory_events_local: Option<MemoryEvents>,
    /// `pids.current`, `pids.max`.
    pub pids: Option<Pids>,
    /// The number of processes in `cgroup.procs`: this cgroup's own, not its
    /// descendants' (read only where the pids controller is not enabled, so that a task
    /// count exists anyway: `systemd-cgtop` counts the same way then). `None` when not
    /// read, or for a threaded cgroup (EOPNOTSUPP).
    pub processes: Option<u64>,
    /// `io.stat`, one entry per device, in the file's order.
    pub io: Option<Vec<IoDevice>>,
    /// `cpu.pressure`, `memory.pressure`, `io.pressure`.
    pub pressure: PressureSet,
    /// What could not be read or parsed (the file, the line).
    pub errors: Vec<NodeError>,
}

/// One reading of the selected cgroups of a tree.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Sample {
    /// When it was taken: `CLOCK_MONOTONIC` (time since boot, never set back), read
    /// before the first file. Rates use the difference of two samples' `at`.
    pub at: Duration,
    /// The wall clock at the same moment (for display and JSON only).
    pub time: SystemTime,
    /// One entry per node of the tree ([`NodeId`]): `None` for a node not sampled (not
    /// selected by [`SampleOptions`], or removed since the tree was read).
    pub usage: Vec<Option<Usage>>,
    /// Cgroup path of each node, relative to the mount (`/system.slice/foo.service`),
    /// shared between the samples of one tree.
    pub paths: Arc<[Box<[u8]>]>,
}

impl Sample {
    /// The usage of a node, when it was sampled.
    pub fn get(&self, id: NodeId) -> Option<&Usage> {
        self.usage.get(id).and_then(Option::as_ref)
    }

    /// The node with cgroup path `path` (relative to the mount, as [`Tree::path`] gives).
    pub fn find(&self, path: &[u8]) -> Option<NodeId> {
        self.paths.iter().position(|p| &p[..] == path)
    }

    /// For each node of this sample, the id of the same cgroup in `prev` (same path, and
    /// the same cgroup id when both were read): index by index when both samples come from
    /// the same tree, else by path.
    pub fn matches(&self, prev: &Sample) -> Vec<Option<NodeId>> {
        if Arc::ptr_eq(&self.paths, &prev.paths) {
            return (0..self.paths.len()).map(Some).collect();
        }
        let index: HashMap<&[u8], NodeId> = prev
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| (&p[..], i))
            .collect();
        self.paths
            .iter()
            .map(|p| index.get(&p[..]).copied())
            .collect()
    }

    /// Rates of every node between `prev` and this sample ([`Rates::between`] over the
    /// interval `self.at - prev.at`): `None` for a node not sampled in both (new in this
    /// sample, gone, not selected) or when the interval is not positive.
    pub fn rates(&self, prev: &Sample) -> Vec<Option<Rates>> {
        let interval = self.at.saturating_sub(prev.at);
        let m = self.matches(prev);
        self.usage
            .iter()
            .zip(m)
            .map(|(cur, p)| {
                let cur = cur.as_ref()?;
                let prev = prev.get(p?)?;
                Rates::between(prev, cur, interval)
            })
            .collect()
    }
}

/// What the sampler keeps of one node between samples.
#[derive(Debug, Default)]
struct Slot {
    wanted: bool,
    /// The parent node, when the tree has it.
    parent: Option<NodeId>,
    /// Controllers whose files the node has ([`Controllers`]).
    files: Controllers,
    fd: Option<OwnedFd>,
    /// `st_ino` of `fd`'s directory.
    ino: Option<u64>,
    /// On cgroupfs, the files every cgroup has ([`KEPT`]), kept open and read again
    /// from offset 0 at each sample (`pread`: one system call instead of three), while
    /// the descriptor budget allows.
    kept: [Option<OwnedFd>; 4],
}

/// The files a [`Slot`] may keep open, by index.
const KEPT: [&CStr; 4] = [
    CPU_STAT,
    c"cpu.pressure",
    c"memory.pressure",
    c"io.pressure",
];

impl Slot {
    /// Closes the kept files; how many there were.
    fn drop_kept(&mut self) -> usize {
        let n = self.kept.iter().filter(|k| k.is_some()).count();
        self.kept = Default::default();
        n
    }
}

/// Which controllers' files a node has: those of `cgroup.controllers` (a controller's
/// interface files exist exactly where it is enabled); all of them at the tree's root
/// (the hierarchy root has `memory.stat` and `io.stat` whatever its list says) and where
/// the list is not known.
#[derive(Debug, Clone, Copy, Default)]
struct Controllers {
    memory: bool,
    io: bool,
    pids: bool,
}

impl Controllers {
    const ALL: Controllers = Controllers {
        memory: true,
        io: true,
        pids: true,
    };

    /// `root`: the hierarchy's root (path `/`), not merely the start of a subtree.
    fn of(n: &crate::Node, root: bool) -> Controllers {
        use crate::parse::KnownController as K;
        match &n.controllers {
            Some(list) if !root => Controllers {
                memory: list.known.contains(K::Memory),
                io: list.known.contains(K::Io),
                pids: list.known.contains(K::Pids),
            },
            _ => Controllers::ALL,
        }
    }
}

/// Reads the usage files of a tree's cgroups, keeping directory descriptors between
/// samples. See the module docs for what it reads and what it costs.
#[derive(Debug)]
pub struct Sampler {
    opts: SampleOptions,
    /// The mount directory under the host root (for error paths).
    mount_dir: PathBuf,
    mount_fd: OwnedFd,
    /// The host root, for `sys/dev/block/MAJ:MIN/uevent`.
    root_fd: Option<OwnedFd>,
    origin: Origin,
    scratch: Scratch,
    slots: Vec<Slot>,
    paths: Arc<[Box<[u8]>]>,
    fingerprint: u64,
    open: usize,
    max_open: usize,
    devices: HashMap<(u32, u32), Option<Arc<str>>>,
    /// Reusable path buffer (`<rel>\0`, `sys/dev/block/MAJ:MIN/uevent\0`).
    name: Vec<u8>,
}

/// Files a node's usage comes from, in the order they are read.
const CPU_STAT: &CStr = c"cpu.stat";

impl Sampler {
    /// A sampler for the cgroups of `tree` (on the tree's host and mount).
    ///
    /// # Errors
    /// [`Error::Io`] when the cgroup2 mount directory cannot be opened.
    pub fn new(tree: &Tree, opts: SampleOptions) -> Result<Sampler, Error> {
        let mount_dir = tree.mount().dir.clone();
        let mount_fd = tree
            .host()
            .open_dir(&mount_dir)
            .map_err(|e| fs::errno_error(&mount_dir, e))?;
        let origin = if fs::is_fs_type(mount_fd.as_fd(), nix::sys::statfs::CGROUP2_SUPER_MAGIC) {
            Origin::Kernel
        } else {
            Origin::Untrusted
        };
        let root_fd = tree.host().open_dir(tree.host().root()).ok();
        let max_open = opts.max_open_dirs.min(nofile_budget());
        let mut s = Sampler {
            opts,
            mount_dir,
            mount_fd,
            root_fd,
            origin,
            scratch: Scratch::new(),
            slots: Vec::new(),
            paths: Arc::from(Vec::new()),
            fingerprint: 0,
            open: 0,
            max_open,
            devices: HashMap::new(),
            name: Vec::new(),
        };
        s.sync(tree);
        Ok(s)
    }

    /// Directory descriptors held open now.
    pub fn open_dirs(&self) -> usize {
        self.open
    }

    /// Reads the selected nodes of `tree` now. The tree may be a newer build than the one
    /// the sampler was made for: descriptors of cgroups still there (same path) are kept.
    /// Never fails as a whole: see the module docs for per-file errors.
    pub fn sample(&mut self, tree: &Tree) -> Sample {
        if fingerprint(tree) != self.fingerprint {
            self.sync(tree);
        }
        let time = SystemTime::now();
        let at = fs::monotonic_now();
        let mut usage = Vec::with_capacity(self.slots.len());
        for id in 0..self.slots.len() {
            usage.push(if self.slots[id].wanted {
                self.read_node(id)
            } else {
                None
            });
        }
        Sample {
            at,
            time,
            usage,
            paths: Arc::clone(&self.paths),
        }
    }

    /// Adopts `tree`: which nodes are wanted, their paths, and the descriptors of nodes
    /// whose path is unchanged.
    fn sync(&mut self, tree: &Tree) {
        let paths: Vec<Box<[u8]>> = (0..tree.nodes().len())
            .map(|id| tree.path(id).into_boxed_slice())
            .collect();
        let mut old: HashMap<Box<[u8]>, Slot> = HashMap::new();
        let old_paths = Arc::clone(&self.paths);
        for (slot, p) in std::mem::take(&mut self.slots)
            .into_iter()
            .zip(old_paths.iter())
        {
            if slot.fd.is_some() {
                old.insert(p.clone(), slot);
            }
        }
        self.slots = tree
            .nodes()
            .iter()
            .zip(&paths)
            .map(|(n, p)| {
                let wanted = self.opts.max_depth.is_none_or(|d| n.depth <= d)
                    && (!self.opts.populated_only
                        || n.parent.is_none()
                        || n.populated == Some(true)
                        || n.processes.as_ref().is_some_and(|v| !v.is_empty()));
                let mut slot = old.remove(p).unwrap_or_default();
                slot.wanted = wanted;
                slot.files = Controllers::of(n, &p[..] == b"/");
                slot.parent = n.parent;
                slot
            })
            .collect();
        // Descriptors of nodes gone or no longer wanted are closed.
        for s in &mut self.slots {
            if !s.wanted {
                s.fd = None;
                s.ino = None;
                s.drop_kept();
            }
        }
        drop(old);
        self.open = self
            .slots
            .iter()
            .map(|s| usize::from(s.fd.is_some()) + s.kept.iter().filter(|k| k.is_some()).count())
            .sum();
        self.paths = Arc::from(paths);
        self.fingerprint = fingerprint(tree);
    }

    /// The error path of `file` in node `id`'s directory.
    fn file_path(&self, id: NodeId, file: &CStr) -> PathBuf {
        let p = &self.paths[id];
        let rel = std::ffi::OsStr::from_bytes(p.strip_prefix(b"/").unwrap_or(p));
        self.mount_dir
            .join(rel)
            .join(std::ffi::OsStr::from_bytes(file.to_bytes()))
    }

    /// Opens node `id`'s directory: by its name below its parent's kept descriptor, else
    /// by its path relative to the mount.
    fn open_node(&mut self, id: NodeId) -> Result<OwnedFd, Errno> {
        let p = &self.paths[id];
        // Below the parent's kept descriptor (read just before, in tree order): one
        // component, `O_NOFOLLOW`, however deep the cgroup.
        let parent_fd = self.slots[id]
            .parent
            .and_then(|p| self.slots.get(p))
            .and_then(|s| s.fd.as_ref());
        let (dir, rel) = match parent_fd {
            Some(fd) => (fd.as_fd(), p.rsplit(|&b| b == b'/').next().unwrap_or(p)),
            None => (self.mount_fd.as_fd(), p.strip_prefix(b"/").unwrap_or(p)),
        };
        if rel.is_empty() {
            return fs::open_dir(dir, c".");
        }
        self.name.clear();
        self.name.extend_from_slice(rel);
        self.name.push(0);
        let c = CStr::from_bytes_with_nul(&self.name).map_err(|_| Errno::EINVAL)?;
        if parent_fd.is_some() {
            fs::open_dir(dir, c)
        } else {
            fs::open_dir_beneath(dir, c)
        }
    }

    fn read_node(&mut self, id: NodeId) -> Option<Usage> {
        // A kept descriptor of a cgroup removed (and perhaps recreated) since: its files
        // read ENODEV (cgroupfs) or ENOENT; then the cgroup is opened again, once.
        let mut fresh = false;
        let fd = match self.slots[id].fd.take() {
            Some(fd) => fd,
            None => {
                fresh = true;
                match self.open_node(id) {
                    Ok(fd) => fd,
                    Err(e) if errno_is_vanished(e as i32) => return None,
                    Err(e) => {
                        return Some(Usage {
                            errors: vec![NodeError {
                                path: self.file_path(id, c""),
                                kind: NodeErrorKind::from_errno(e),
                            }],
                            ..Usage::default()
                        })
                    }
                }
            }
        };
        let mut fd = fd;
        let mut ino = if fresh {
            fs::dir_identity(fd.as_fd()).ok().map(|(_, ino)| ino)
        } else {
            self.slots[id].ino
        };
        let mut usage = Usage::default();
        let first = self.read_kept(fd.as_fd(), id, 0).map(parse::cpu_stat);
        let first = match first {
            Err(Errno::ENODEV | Errno::ENOENT) if !fresh => {
                // The kept directory was removed: open the cgroup again (its kept
                // files belong to the removed one).
                let kept = self.slots[id].drop_kept();
                self.open = self.open.saturating_sub(1 + kept);
                fd = match self.open_node(id) {
                    Ok(fd) => fd,
                    Err(e) if errno_is_vanished(e as i32) => return None,
                    Err(e) => {
                        usage.errors.push(NodeError {
                            path: self.file_path(id, c""),
                            kind: NodeErrorKind::from_errno(e),
                        });
                        return Some(usage);
                    }
                };
                fresh = true;
                ino = fs::dir_identity(fd.as_fd()).ok().map(|(_, ino)| ino);
                self.read_kept(fd.as_fd(), id, 0).map(parse::cpu_stat)
            }
            r => r,
        };
        if first == Err(Errno::ENODEV) {
            // Removed while it was being read (kernfs answers ENODEV for a removed
            // cgroup's files): gone, as if the open had failed.
            return None;
        }
        usage.id = ino;
        usage.cpu = self.outcome(id, CPU_STAT, first, &mut usage.errors);
        let dir = fd.as_fd();
        let files = self.slots[id].files;
        if files.memory {
            self.read_memory(dir, id, &mut usage);
        }
        if files.pids {
            let pids = Pids {
                current: self.read(
                    dir,
                    id,
                    c"pids.current",
                    parse::u64_value,
                    &mut usage.errors,
                ),
                max: self.read(dir, id, c"pids.max", parse::limit, &mut usage.errors),
            };
            if pids != Pids::default() {
                usage.pids = Some(pids);
            }
        }
        if !files.pids {
            usage.processes =
                match fs::read_file_from(dir, c"cgroup.procs", &mut self.scratch, self.origin) {
                    Ok(bytes) => {
                        let mut n = 0u64;
                        let mut bad = None;
                        for pid in parse::pids(bytes) {
                            match pid {
                                Ok(_) => n += 1,
                                Err(e) => {
                                    bad.get_or_insert(e);
                                }
                            }
                        }
                        if let Some(e) = bad {
                            usage.errors.push(NodeError {
                                path: self.file_path(id, c"cgroup.procs"),
                                kind: NodeErrorKind::Parse(e),
                            });
                        }
                        Some(n)
                    }
                    Err(e) if errno_is_vanished(e as i32) || e == Errno::EOPNOTSUPP => None,
                    Err(e) => {
                        usage.errors.push(NodeError {
                            path: self.file_path(id, c"cgroup.procs"),
                            kind: NodeErrorKind::from_errno(e),
                        });
                        None
                    }
                };
        }
        if files.io {
            usage.io = self.read_io(dir, id, &mut usage.errors);
        }
        usage.pressure = PressureSet {
            cpu: self.read_kept_parsed(dir, id, 1, parse::pressure, &mut usage.errors),
            memory: self.read_kept_parsed(dir, id, 2, parse::pressure, &mut usage.errors),
            io: self.read_kept_parsed(dir, id, 3, parse::pressure, &mut usage.errors),
        };
        // Keep the descriptor while under the budget.
        let slot = &mut self.slots[id];
        if !fresh || self.open < self.max_open {
            if fresh {
                self.open += 1;
            }
            slot.fd = Some(fd);
            slot.ino = ino;
        }
        Some(usage)
    }

    /// The memory files: `memory.current`, `memory.stat`, `memory.max`, `memory.high`,
    /// `memory.swap.current`, `memory.events`, `memory.events.local`.
    fn read_memory(&mut self, dir: BorrowedFd<'_>, id: NodeId, usage: &mut Usage) {
        let e = &mut usage.errors;
        let current = self.read(dir, id, c"memory.current", parse::u64_value, e);
        let stat = self.read(dir, id, c"memory.stat", parse::memory_stat, e);
        let max = self.read(dir, id, c"memory.max", parse::limit, e);
        let high = self.read(dir, id, c"memory.high", parse::limit, e);
        let swap = self.read(dir, id, c"memory.swap.current", parse::u64_value, e);
        let memory = Memory {
            current,
            swap_current: swap,
            max,
            high,
            stat,
        };
        if memory != Memory::default() {
            usage.memory = Some(memory);
        }
        usage.memory_events = self.read(dir, id, c"memory.events", parse::memory_events, e);
        usage.memory_events_local =
            self.read(dir, id, c"memory.events.local", parse::memory_events, e);
    }

    /// What a read and parse came to: the value, `None` for an absent file (or a cgroup
    /// removed meanwhile), `None` and an error otherwise.
    fn outcome<T>(
        &self,
        id: NodeId,
        file: &CStr,
        r: Result<Result<T, ParseError>, Errno>,
        errors: &mut Vec<NodeError>,
    ) -> Option<T> {
        let kind = match r {
            Ok(Ok(v)) => return Some(v),
            Ok(Err(e)) => NodeErrorKind::Parse(e),
            Err(e) if errno_is_vanished(e as i32) => return None,
            Err(e) => NodeErrorKind::from_errno(e),
        };
        errors.push(NodeError {
            path: self.file_path(id, file),
            kind,
        });
        None
    }

    /// Reads kept file `k` of node `id` ([`KEPT`]): from its kept descriptor at offset 0
    /// on cgroupfs, else opened in `dir` (and kept when the budget allows).
    fn read_kept(&mut self, dir: BorrowedFd<'_>, id: NodeId, k: usize) -> Result<&[u8], Errno> {
        let file = KEPT[k];
        if self.origin != Origin::Kernel {
            return fs::read_record_file_from(dir, file, &mut self.scratch, self.origin);
        }
        if self.slots[id].kept[k].is_none() {
            let fd = fs::open_file(dir, file)?;
            if self.open < self.max_open {
                self.open += 1;
                self.slots[id].kept[k] = Some(fd);
            } else {
                return self
                    .scratch
                    .read_single_record(fd.as_fd(), fs::MAX_KERNEL_FILE);
            }
        }
        let read = match &self.slots[id].kept[k] {
            Some(fd) => self
                .scratch
                .pread_single_record(fd.as_fd(), fs::MAX_KERNEL_FILE)
                .map(<[u8]>::len),
            None => return Err(Errno::EBADF),
        };
        match read {
            Ok(n) => Ok(self.scratch.filled(n)),
            // The file of a removed cgroup: `dir` may be a newer one of the same path,
            // whose own file is read instead.
            Err(Errno::ENODEV) => {
                self.slots[id].kept[k] = None;
                self.open = self.open.saturating_sub(1);
                fs::read_record_file_from(dir, file, &mut self.scratch, self.origin)
            }
            Err(e) => Err(e),
        }
    }

    fn read_kept_parsed<T>(
        &mut self,
        dir: BorrowedFd<'_>,
        id: NodeId,
        k: usize,
        parse: impl FnOnce(&[u8]) -> Result<T, ParseError>,
        errors: &mut Vec<NodeError>,
    ) -> Option<T> {
        let r = self.read_kept(dir, id, k).map(parse);
        self.outcome(id, KEPT[k], r, errors)
    }

    fn read<T>(
        &mut self,
        dir: BorrowedFd<'_>,
        id: NodeId,
        file: &CStr,
        parse: impl FnOnce(&[u8]) -> Result<T, ParseError>,
        errors: &mut Vec<NodeError>,
    ) -> Option<T> {
        let r = fs::read_record_file_from(dir, file, &mut self.scratch, self.origin).map(parse);
        self.outcome(id, file, r, errors)
    }

    fn read_io(
        &mut self,
        dir: BorrowedFd<'_>,
        id: NodeId,
        errors: &mut Vec<NodeError>,
    ) -> Option<Vec<IoDevice>> {
        const FILE: &CStr = c"io.stat";
        let r = fs::read_record_file_from(dir, FILE, &mut self.scratch, self.origin).map(|b| {
            let mut v = Vec::new();
            for l in parse::io_stat(b) {
                v.push(l?);
            }
            Ok(v)
        });
        let lines: Vec<parse::IoStatLine> = self.outcome(id, FILE, r, errors)?;
        let mut out = Vec::with_capacity(lines.len());
        for stat in lines {
            let name = if self.opts.device_names {
                self.device_name(stat.major, stat.minor)
            } else {
                None
            };
            out.push(IoDevice { stat, name });
        }
        Some(out)
    }

    /// `DEVNAME` of `sys/dev/block/MAJ:MIN/uevent` under the host root, read once per
    /// device. A device without a readable, valid name has none (no error: it says
    /// nothing about the cgroup).
    fn device_name(&mut self, major: u32, minor: u32) -> Option<Arc<str>> {
        if let Some(n) = self.devices.get(&(major, minor)) {
            return n.clone();
        }
        let name = self.root_fd.as_ref().and_then(|root| {
            use std::io::Write;
            self.name.clear();
            let _ = write!(self.name, "sys/dev/block/{major}:{minor}/uevent\0");
            let c = CStr::from_bytes_with_nul(&self.name).ok()?;
            let b = fs::read_file(root.as_fd(), c, &mut self.scratch).ok()?;
            let n = parse::uevent_devname(b).ok()?;
            std::str::from_utf8(n).ok().map(Arc::from)
        });
        // Bounded: a host has at most a few thousand block devices.
        if self.devices.len() < 65536 {
            self.devices.insert((major, minor), name.clone());
        }
        name
    }
}

/// Half the soft `RLIMIT_NOFILE`: the descriptors a sampler may keep, leaving the rest to
/// the program (the tree walk, a terminal, sockets).
fn nofile_budget() -> usize {
    match nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE) {
        // All but 1024 descriptors (the rest of the program's), and at least half.
        Ok((soft, _)) => {
            usize::try_from(soft.saturating_sub(1024).max(soft / 2)).unwrap_or(usize::MAX)
        }
        Err(_) => 512,
    }
}

/// A hash of a tree's shape (names, parents, depth limit markers): when it changes, the
/// sampler re-reads the paths.
fn fingerprint(tree: &Tree) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    tree.nodes().len().hash(&mut h);
    for n in tree.nodes() {
        n.name.hash(&mut h);
        n.parent.hash(&mut h);
        n.populated.hash(&mut h);
        n.processes.as_ref().map(Vec::len).hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::faults::{self, Fault};

    /// What files cannot express: a permission error and an I/O error at read time are
    /// errors naming the file, and the rest of the row is read; ENODEV (the cgroup went
    /// away during the read) is not an error.
    #[test]
    fn read_faults_name_the_file_and_keep_the_row() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/stats-kind");
        let tree = crate::TreeBuilder::new()
            .host_root(root)
            .include_empty(true)
            .build()
            .unwrap();
        let id = (0..tree.nodes().len())
            .find(|&i| tree.path(i) == b"/init.scope")
            .unwrap();
        let mut sampler = Sampler::new(&tree, SampleOptions::default()).unwrap();
        faults::set("memory.stat", Fault::Open(Errno::EACCES));
        faults::set("io.stat", Fault::Read(Errno::EIO));
        faults::set("pids.current", Fault::Read(Errno::ENODEV));
        faults::set("cpu.pressure", Fault::Short(3));
        let s = sampler.sample(&tree);
        faults::clear();
        let u = s.get(id).unwrap();
        let errs: Vec<(PathBuf, &NodeErrorKind)> =
            u.errors.iter().map(|e| (e.path.clone(), &e.kind)).collect();
        let dir = tree.mount().dir.join("init.scope");
        assert_eq!(
            errs,
            [
                (dir.join("memory.stat"), &NodeErrorKind::PermissionDenied),
                (dir.join("io.stat"), &NodeErrorKind::Io(Errno::EIO as i32)),
            ]
        );
        let m = u.memory.unwrap();
        assert_eq!((m.current.is_some(), m.stat), (true, None));
        assert_eq!(u.pids.unwrap().current, None);
        assert!(u.pids.unwrap().max.is_some());
        // Short reads are read to the end.
        assert_eq!(u.pressure.cpu.unwrap().some.unwrap().total, 40_000);
        assert!(u.cpu.is_some());
    }
}
