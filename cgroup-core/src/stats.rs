//! Counters of what one walk met: [`Stats`].

use std::ops::{Add, AddAssign};

/// What reading a [`crate::Tree`] (or tracing with a [`crate::trace::CgroupTracer`], or a
/// [`crate::trace::Trace`]) met on the way: how many cgroups and processes vanished while
/// they were read (ENOENT, ENODEV, ESRCH), how many reads were interrupted (EINTR) and
/// retried, and how many passes over every process of `/proc` were made. Counts, not
/// errors: none of these is reported on a node. Each tree or tracer carries its own
/// ([`crate::Tree::stats`], [`crate::trace::CgroupTracer::stats`]); `cgtree` prints
/// them on stderr with `CGTREE_STATS=1`.
///
/// `#[non_exhaustive]`: counters may be added; build one with [`Stats::default`] and
/// sum several with `+`/`+=`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Cgroup files or directories that vanished while read.
    pub vanished_cgroups: u64,
    /// Process files that vanished while read.
    pub vanished_processes: u64,
    /// Reads interrupted by a signal and retried.
    pub interrupted: u64,
    /// Passes over every process of `/proc` made to learn what processes tell of
    /// runtime state (`cgtree pid`, `cgtree id` when a cgroup stays unidentified).
    pub proc_passes: u64,
    /// Trees read through the BPF iterators (cargo feature `bpf`) rather than the files.
    pub bpf_walks: u64,
}

impl AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.vanished_cgroups += o.vanished_cgroups;
        self.vanished_processes += o.vanished_processes;
        self.interrupted += o.interrupted;
        self.proc_passes += o.proc_passes;
        self.bpf_walks += o.bpf_walks;
    }
}

impl Add for Stats {
    type Output = Stats;
    fn add(mut self, o: Stats) -> Stats {
        self += o;
        self
    }
}

impl Stats {
    /// Every counter at zero ([`Stats::default`], usable in a `const` or `static`).
    pub const EMPTY: Stats = Stats {
        vanished_cgroups: 0,
        vanished_processes: 0,
        interrupted: 0,
        proc_passes: 0,
        bpf_walks: 0,
    };

    /// What was counted since `before` (a copy taken earlier of the same counters).
    pub(crate) fn since(self, before: Stats) -> Stats {
        Stats {
            vanished_cgroups: self
                .vanished_cgroups
                .saturating_sub(before.vanished_cgroups),
            vanished_processes: self
                .vanished_processes
                .saturating_sub(before.vanished_processes),
            interrupted: self.interrupted.saturating_sub(before.interrupted),
            proc_passes: self.proc_passes.saturating_sub(before.proc_passes),
            bpf_walks: self.bpf_walks.saturating_sub(before.bpf_walks),
        }
    }
}
