//! `cgroup_core`: read a Linux host's cgroup v2 hierarchy and say what each cgroup is.
//!
//! # What is supported
//! cgroup v2 only. Hybrid hosts (cgroup v1 hierarchies plus a cgroup2 mount, e.g. at
//! `/sys/fs/cgroup/unified`) work through their cgroup2 mount, found in
//! `/proc/self/mountinfo`; the v1 hierarchies are ignored.
//!
//! # Layers
//! - [`parse`]: pure, zero-copy parsers over `&[u8]` for the cgroup interface files and
//!   the `/proc` files cgtree reads. They never allocate, open files or panic.
//! - [`fs`]: the I/O layer. A [`Host`] rooted at a directory (`/` or a fixture),
//!   directory-fd relative opens with `O_NOFOLLOW`, one reusable read buffer.
//! - [`tree`]: [`TreeBuilder`] walks the hierarchy into an owned [`Tree`] snapshot.
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
//! # Example
//! ```
//! let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/arch-docker-kind");
//! let tree = cgroup_core::TreeBuilder::new().host_root(root).build()?;
//! let kubelet = tree.nodes().iter().find(|n| &n.name[..] == b"kubelet.service").unwrap();
//! assert_eq!(kubelet.processes.as_ref().unwrap()[0].pid, 44913);
//! # Ok::<(), cgroup_core::Error>(())
//! ```

#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![warn(unnameable_types)]

pub mod cgroup_id;
pub mod classify;
mod error;
pub mod escape;
/// The I/O layer (directory-fd relative opens, one reusable buffer): public only with
/// the `internals` feature, for the workspace's tests; not covered by semver. [`Host`]
/// and [`CgroupMount`] are re-exported at the root.
#[cfg(feature = "internals")]
pub mod fs;
#[cfg(not(feature = "internals"))]
pub(crate) mod fs;
pub mod metrics;
pub mod out;
/// The parsers (pure, zero-copy, over `&[u8]`): public only with the `internals` feature,
/// for the workspace's fuzz targets, benches and tests; not covered by semver. The value
/// types a caller meets in the public API are re-exported at the root.
#[cfg(feature = "internals")]
pub mod parse;
#[cfg(not(feature = "internals"))]
pub(crate) mod parse;
pub mod provision;
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
