//! `cgroup_core`: read a Linux host's cgroup v2 hierarchy and say what each cgroup is.
//!
//! # What is supported
//! cgroup v2 only. Hybrid hosts (cgroup v1 hierarchies plus a cgroup2 mount, e.g. at
//! `/sys/fs/cgroup/unified`) work through their cgroup2 mount, found in
//! `/proc/self/mountinfo`; the v1 hierarchies are ignored.
//!
//! # The public surface
//! - The tree: [`TreeBuilder`] walks the hierarchy into an owned [`Tree`] of [`Node`]s
//!   (with their [`Process`]es, [`NodeError`]s and, when asked, identities:
//!   [`resolve::Identity`]); [`Tree::stats`] counts what the walk met ([`Stats`]).
//! - [`Host`] (a root directory: `/` or a fixture) and its [`CgroupMount`].
//! - One process or cgroup: [`trace`] (`cgtree pid`, `cgtree id`), [`cgroup_id`] (a
//!   cgroup from its id, the inode of its directory).
//! - User namespaces: [`userns`], grouped over a tree by [`tree::userns::Report`].
//! - Numbers: [`sample`] (`cpu.stat`, `memory.*`, `io.stat`, PSI, rates), [`metrics`]
//!   (Prometheus families), [`values`] (the parsed file values they hand out).
//! - Changes: [`watch`] (fanotify, inotify); copies: [`snapshot`]; naming:
//!   [`runtime::IdentityKind`]; output helpers: [`escape`], [`out`]; configuration files
//!   under a host root, confined (what `cgroup-provision` builds on): [`files`].
//!
//! The parsers (`parse`: pure, zero-copy, over `&[u8]`, never allocating or panicking)
//! and the I/O layer (`fs`: directory-fd relative opens with `O_NOFOLLOW`, one reusable
//! buffer) are the crate's own; the `internals` feature makes them public for the
//! workspace's fuzz targets, benches and tests, without any semver promise. Data types
//! that may grow are `#[non_exhaustive]`.
//!
//! # I/O model
//! The walk opens each cgroup directory relative to its parent's fd, reads the files it
//! needs (each once, into one shared buffer), lists subdirectories with `getdents`, and
//! closes the directory on the way back up, so open fds never exceed the depth.
//!
//! # Errors
//! Errors are classified by errno. A cgroup or process that vanishes during the walk
//! (ENOENT, ENODEV, ESRCH) is left out silently; EOPNOTSUPP (`cgroup.procs` of a threaded
//! cgroup) means "no data here"; any other failure, or bytes that do not parse, is
//! recorded on its node as a [`NodeError`] naming the file (and line), and the walk goes
//! on. [`TreeBuilder::build`] fails only when the root itself is unusable.
//!
//! # Examples
//! The examples read a directory standing for a host's `/` (as `cgtree --root` does): a
//! temporary one they build (hidden lines) with a cgroup2 mount in
//! `proc/self/mountinfo`, the cgroups `/system.slice/demo.service` and the process 4242
//! in it. [`Host::new`] (and [`TreeBuilder::new`] without `host_root`) is the live host.
//!
//! The tree of a host:
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let put = |rel: &str, body: &[u8]| -> std::io::Result<()> {
//! #     let p = dir.path().join(rel);
//! #     std::fs::create_dir_all(p.parent().expect("a file"))?;
//! #     std::fs::write(p, body)
//! # };
//! # put("proc/self/mountinfo", b"25 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")?;
//! # for (cg, procs) in [("", ""), ("system.slice/", ""), ("system.slice/demo.service/", "4242\n")] {
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.procs"), procs.as_bytes())?;
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.controllers"), b"cpu memory pids\n")?;
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.subtree_control"), b"")?;
//! #     if !cg.is_empty() {
//! #         put(&format!("sys/fs/cgroup/{cg}cgroup.type"), b"domain\n")?;
//! #     }
//! # }
//! # put("proc/4242/cgroup", b"0::/system.slice/demo.service\n")?;
//! # put("proc/4242/cmdline", b"/usr/bin/sleep\0infinity\0")?;
//! # put("proc/4242/comm", b"sleep\n")?;
//! # put("proc/4242/status", b"Name:\tsleep\nPid:\t4242\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")?;
//! # let root = dir.path();
//! let tree = cgroup_core::TreeBuilder::new().host_root(root).identify(true).build()?;
//! let demo = tree.nodes().iter().find(|n| &n.name[..] == b"demo.service").unwrap();
//! assert_eq!(demo.processes.as_ref().unwrap()[0].pid, 4242);
//! // Nothing vanished while the directory was read.
//! assert_eq!(tree.stats().vanished_processes, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! One process: its cgroup, the chain of cgroups above it and the container it runs in
//! (none here) ([`trace::trace`], `cgtree pid`):
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let put = |rel: &str, body: &[u8]| -> std::io::Result<()> {
//! #     let p = dir.path().join(rel);
//! #     std::fs::create_dir_all(p.parent().expect("a file"))?;
//! #     std::fs::write(p, body)
//! # };
//! # put("proc/self/mountinfo", b"25 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")?;
//! # for (cg, procs) in [("", ""), ("system.slice/", ""), ("system.slice/demo.service/", "4242\n")] {
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.procs"), procs.as_bytes())?;
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.controllers"), b"cpu memory pids\n")?;
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.subtree_control"), b"")?;
//! #     if !cg.is_empty() {
//! #         put(&format!("sys/fs/cgroup/{cg}cgroup.type"), b"domain\n")?;
//! #     }
//! # }
//! # put("proc/4242/cgroup", b"0::/system.slice/demo.service\n")?;
//! # put("proc/4242/cmdline", b"/usr/bin/sleep\0infinity\0")?;
//! # put("proc/4242/comm", b"sleep\n")?;
//! # put("proc/4242/status", b"Name:\tsleep\nPid:\t4242\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")?;
//! # let root = dir.path();
//! let host = cgroup_core::Host::with_root(root);
//! let mount = host.find_cgroup2()?;
//! let t = cgroup_core::trace::trace(&host, &mount, 4242)?;
//! assert_eq!(t.cgroup, b"/system.slice/demo.service");
//! assert!(t.container.is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! User namespaces: the processes of a tree grouped by the user namespace they run in
//! ([`tree::userns::Report`], `cgtree userns`). `no_run`: it reads the live host, whose
//! namespaces no example can know (the repository's fixtures test it):
//! ```no_run
//! let tree = cgroup_core::TreeBuilder::new().users(true).identify(true).build()?;
//! let report = cgroup_core::tree::userns::Report::new(&tree)?;
//! for ns in &report.namespaces {
//!     println!("{:?} owned by {:?}", ns.inode, ns.owner);
//! }
//! # Ok::<(), cgroup_core::Error>(())
//! ```
//!
//! Cgroup ids (the inode of a cgroup's directory, as in BPF programs and
//! `/proc/PID/fdinfo`): from a node to its id and back ([`cgroup_id`], `cgtree id`):
//! ```
//! # let dir = tempfile::tempdir()?;
//! # let put = |rel: &str, body: &[u8]| -> std::io::Result<()> {
//! #     let p = dir.path().join(rel);
//! #     std::fs::create_dir_all(p.parent().expect("a file"))?;
//! #     std::fs::write(p, body)
//! # };
//! # put("proc/self/mountinfo", b"25 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n")?;
//! # for (cg, procs) in [("", ""), ("system.slice/", ""), ("system.slice/demo.service/", "4242\n")] {
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.procs"), procs.as_bytes())?;
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.controllers"), b"cpu memory pids\n")?;
//! #     put(&format!("sys/fs/cgroup/{cg}cgroup.subtree_control"), b"")?;
//! #     if !cg.is_empty() {
//! #         put(&format!("sys/fs/cgroup/{cg}cgroup.type"), b"domain\n")?;
//! #     }
//! # }
//! # put("proc/4242/cgroup", b"0::/system.slice/demo.service\n")?;
//! # put("proc/4242/cmdline", b"/usr/bin/sleep\0infinity\0")?;
//! # put("proc/4242/comm", b"sleep\n")?;
//! # put("proc/4242/status", b"Name:\tsleep\nPid:\t4242\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n")?;
//! # let root = dir.path();
//! let host = cgroup_core::Host::with_root(root);
//! let tree = cgroup_core::TreeBuilder::new().host_root(host.root()).build()?;
//! let (id, node) = tree.nodes().iter().enumerate().find(|(_, n)| &n.name[..] == b"system.slice").unwrap();
//! let cgroup_id = node.cgroup_id.expect("read from the directory");
//! let found = cgroup_core::cgroup_id::resolve_cgroup_id(&host, tree.mount(), cgroup_id)?;
//! assert_eq!(found.map(|(path, _)| path), Some(tree.path(id)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![warn(unnameable_types)]

/// An item that is public with the `internals` feature (the workspace's fuzz targets,
/// benches and tests reach it; no semver promise) and crate-private without it.
macro_rules! internal {
    ($(#[$m:meta])* pub $($rest:tt)*) => {
        #[cfg(feature = "internals")]
        $(#[$m])* pub $($rest)*
        #[cfg(not(feature = "internals"))]
        #[allow(dead_code)] // what only the fuzz targets call
        $(#[$m])* pub(crate) $($rest)*
    };
}

#[cfg(feature = "bpf")]
pub mod bpf;
pub mod cgroup_id;
// Cgroup names by shape: public only with the `internals` feature (the fuzz targets);
// what a cgroup is, for a dependent, is `resolve::Identity` and `runtime::IdentityKind`.
#[cfg(feature = "internals")]
pub mod classify;
#[cfg(not(feature = "internals"))]
pub(crate) mod classify;
mod error;
pub mod escape;
pub mod files;
// Public only with the `internals` feature (see the crate docs).
#[cfg(feature = "internals")]
pub mod fs;
#[cfg(not(feature = "internals"))]
pub(crate) mod fs;
pub mod metrics;
pub mod out;
// Public only with the `internals` feature (see the crate docs).
#[cfg(feature = "internals")]
pub mod parse;
#[cfg(not(feature = "internals"))]
pub(crate) mod parse;
pub mod resolve;
pub mod runtime;
pub mod sample;
pub mod snapshot;
mod stats;
pub mod trace;
pub mod tree;
pub mod userns;
pub mod watch;

pub use error::{Error, ParseError, ParseErrorKind};
pub use fs::{CgroupMount, Host, MountSource};
pub use stats::Stats;
pub use tree::{
    ControllerList, Node, NodeError, NodeErrorKind, NodeId, Process, Thread, Tree, TreeBuilder,
};

/// The values of the kernel's cgroup and `/proc` files as cgtree parses them: the types
/// that [`Tree`]'s nodes, [`sample`] and [`userns`] hand out.
pub mod values {
    pub use crate::parse::{
        Centi, CgroupType, Cmdline, ControllerSet, CpuStat, IdMapRange, IoStatLine,
        KnownController, Limit, MemoryEvents, MemoryStat, Pressure, PressureLine,
    };
}

/// What is not public, checked (issue #17): each block must fail to compile with
/// E0603 (a private item) from outside the crate, with or without the `internals`
/// feature.
///
/// The runtime table, the trait every family implements, and the per-family helpers:
/// ```compile_fail,E0603
/// let _rows = cgroup_core::runtime::TABLE.len();
/// ```
/// ```compile_fail,E0603
/// fn rows(_: &dyn cgroup_core::runtime::Runtime) {}
/// ```
/// ```compile_fail,E0603
/// let _ = cgroup_core::runtime::toml_string(b"k = 'v'", None, b"k");
/// ```
/// ```compile_fail,E0603
/// let _ = cgroup_core::runtime::snapshot_keep(std::path::Path::new("x"), b"");
/// ```
/// The identification's own steps:
/// ```compile_fail,E0603
/// use cgroup_core::tree::identify::identify_node;
/// ```
/// The file layer's error with its `nix` errno (public: `files::FileError`, with a raw
/// errno):
/// ```compile_fail,E0603
/// use cgroup_core::fs::user::FileError;
/// ```
#[cfg(doctest)]
pub struct PrivateSurface;
