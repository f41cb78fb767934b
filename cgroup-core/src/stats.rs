//! Process-wide counters of what the walk met, for tests and `CGTREE_STATS=1`: how many
//! cgroups and processes vanished while they were read (ENOENT, ENODEV, ESRCH), and how
//! many reads were interrupted (EINTR) and retried.

use std::sync::atomic::{AtomicU64, Ordering};

static VANISHED_CGROUPS: AtomicU64 = AtomicU64::new(0);
static VANISHED_PROCESSES: AtomicU64 = AtomicU64::new(0);
static INTERRUPTED: AtomicU64 = AtomicU64::new(0);
static PROC_PASSES: AtomicU64 = AtomicU64::new(0);

/// A snapshot of the counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
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
}

/// The counters now.
pub fn snapshot() -> Stats {
    Stats {
        vanished_cgroups: VANISHED_CGROUPS.load(Ordering::Relaxed),
        vanished_processes: VANISHED_PROCESSES.load(Ordering::Relaxed),
        interrupted: INTERRUPTED.load(Ordering::Relaxed),
        proc_passes: PROC_PASSES.load(Ordering::Relaxed),
    }
}

pub(crate) fn vanished_cgroup() {
    VANISHED_CGROUPS.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn vanished_process() {
    VANISHED_PROCESSES.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn interrupted() {
    INTERRUPTED.fetch_add(1, Ordering::Relaxed);
}

pub(crate) fn proc_pass() {
    PROC_PASSES.fetch_add(1, Ordering::Relaxed);
}
