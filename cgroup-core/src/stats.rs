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
    /// Microseconds spent loading the BPF programs (verifier included), summed.
    pub bpf_load_us: u64,
    /// Microseconds the BPF cgroup iterator ran, summed: the time the kernel held
    /// `cgroup_mutex` for cgtree (no cgroup made, removed or entered meanwhile).
    pub bpf_cgroup_walk_us: u64,
    /// Microseconds the BPF task iterator ran, summed.
    pub bpf_task_walk_us: u64,
    /// BPF walks run again because a ring buffer filled (with buffers four times as
    /// large), summed.
    pub bpf_retries: u64,
    /// Why the BPF path, asked for (`CGTREE_BPF=1`, [`crate::TreeBuilder::bpf`], or a
    /// hierarchy of 1,000+ cgroups), was not taken and the files were read: the last
    /// such reason (`bpf::BpfError::reason` with the feature, and the builder's own: threads
    /// asked for, `hidepid`, not the live host).
    pub bpf_declined: Option<&'static str>,
}

impl AddAssign for Stats {
    fn add_assign(&mut self, o: Stats) {
        self.vanished_cgroups += o.vanished_cgroups;
        self.vanished_processes += o.vanished_processes;
        self.interrupted += o.interrupted;
        self.proc_passes += o.proc_passes;
        self.bpf_walks += o.bpf_walks;
        self.bpf_load_us += o.bpf_load_us;
        self.bpf_cgroup_walk_us += o.bpf_cgroup_walk_us;
        self.bpf_task_walk_us += o.bpf_task_walk_us;
        self.bpf_retries += o.bpf_retries;
        if o.bpf_declined.is_some() {
            self.bpf_declined = o.bpf_declined;
        }
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
        bpf_load_us: 0,
        bpf_cgroup_walk_us: 0,
        bpf_task_walk_us: 0,
        bpf_retries: 0,
        bpf_declined: None,
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
            bpf_load_us: self.bpf_load_us.saturating_sub(before.bpf_load_us),
            bpf_cgroup_walk_us: self
                .bpf_cgroup_walk_us
                .saturating_sub(before.bpf_cgroup_walk_us),
            bpf_task_walk_us: self
                .bpf_task_walk_us
                .saturating_sub(before.bpf_task_walk_us),
            bpf_retries: self.bpf_retries.saturating_sub(before.bpf_retries),
            bpf_declined: self.bpf_declined,
        }
    }
}
