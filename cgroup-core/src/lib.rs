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
//!   [`classify`], [`runtime::IdentityKind`]; output helpers: [`escape`], [`out`].
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
//! The tree of a host (here a fixture: a copy of a host's `/proc` and `/sys/fs/cgroup`
//! under a directory; [`Host::new`] is the live host):
//! ```
//! let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/arch-docker-kind");
//! let tree = cgroup_core::TreeBuilder::new().host_root(root).identify(true).build()?;
//! let kubelet = tree.nodes().iter().find(|n| &n.name[..] == b"kubelet.service").unwrap();
//! assert_eq!(kubelet.processes.as_ref().unwrap()[0].pid, 44913);
//! // Nothing vanished while a fixture was read.
//! assert_eq!(tree.stats().vanished_processes, 0);
//! # Ok::<(), cgroup_core::Error>(())
//! ```
//!
//! One process: its cgroup, the chain of cgroups above it and the container it runs in
//! ([`trace::trace`], `cgtree pid`):
//! ```
//! use cgroup_core::runtime::IdentityKind;
//! let host = cgroup_core::Host::with_root(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/docker"));
//! let mount = host.find_cgroup2()?;
//! let t = cgroup_core::trace::trace(&host, &mount, 5021)?;
//! assert!(t.cgroup.starts_with(b"/system.slice/docker-2c30eea7181c"));
//! let container = t.container.expect("in a container");
//! assert_eq!(container.kind, IdentityKind::DockerContainer);
//! # Ok::<(), cgroup_core::Error>(())
//! ```
//!
//! User namespaces: the processes of a tree grouped by the user namespace they run in
//! ([`tree::userns::Report`], `cgtree userns`):
//! ```
//! let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/wsl-rootless-podman-kind");
//! let tree = cgroup_core::TreeBuilder::new()
//!     .host_root(root)
//!     .users(true)
//!     .identify(true)
//!     .build()?;
//! let report = cgroup_core::tree::userns::Report::new(&tree)?;
//! // The host's namespace (an identity map of every id) and a rootless podman's.
//! assert!(report.namespaces.len() >= 2, "{:?}", report.namespaces);
//! assert!(report.namespaces.iter().any(|ns| ns.owner.is_some_and(|uid| uid != 0)));
//! # Ok::<(), cgroup_core::Error>(())
//! ```
//!
//! Cgroup ids (the inode of a cgroup's directory, as in BPF programs and
//! `/proc/PID/fdinfo`): from a node to its id and back ([`cgroup_id`], `cgtree id`):
//! ```
//! let host = cgroup_core::Host::with_root(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/docker"));
//! let tree = cgroup_core::TreeBuilder::new().host_root(host.root()).build()?;
//! let (id, node) = tree.nodes().iter().enumerate().find(|(_, n)| &n.name[..] == b"system.slice").unwrap();
//! let cgroup_id = node.cgroup_id.expect("read from the directory");
//! let found = cgroup_core::cgroup_id::resolve_cgroup_id(&host, tree.mount(), cgroup_id)?;
//! assert_eq!(found.map(|(path, _)| path), Some(tree.path(id)));
//! # Ok::<(), cgroup_core::Error>(())
//! ```

#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![warn(unnameable_types)]

pub mod cgroup_id;
pub mod classify;
mod error;
pub mod escape;
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
