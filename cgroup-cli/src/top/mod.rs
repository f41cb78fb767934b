//! `cgtree top`: resource usage per cgroup, as a full-screen view (like `systemd-cgtop`)
//! or as plain text blocks (`-b`) or JSON lines (`--json`).
//!
//! The screens and the text are drawn from a small view model of their own, a [`Frame`]
//! of [`TopRow`]s, so that they do not depend on how the numbers are read. A [`Frame`]
//! comes from a [`Source`]; [`TreeSource`] reads the cgroup tree (names, identities) and
//! hands it, with the frame built from it, to a [`Sampler`], which fills the numbers
//! ([`Usage`]): [`live::UsageSampler`], from the library's `cgroup_core::sample` (tests
//! also use a sampler that leaves every number unknown).
//!
//! Units: CPU in cores (1.0 = one core busy for the whole interval), memory in bytes,
//! I/O in bytes per second, throttling and pressure as ratios 0..=1 of the interval.

pub mod batch;
pub mod live;
pub mod run;
pub mod ui;
pub mod view;

use crate::sanitize::sanitize;
use cgroup_core::{NodeId, Tree};
use std::time::{Duration, SystemTime};

/// What a cgroup used over one interval; `None`: not known (the file is missing, the
/// controller is not enabled, or a rate's first sample).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    /// CPU time used per second of the interval, in cores: `cpu.stat` `usage_usec` delta
    /// / interval (1.0 = one core).
    pub cpu_cores: Option<f64>,
    /// Share of the CFS periods that were throttled: `cpu.stat` `nr_throttled` delta /
    /// `nr_periods` delta, 0..=1 (`None` when no period elapsed).
    pub throttled_ratio: Option<f64>,
    /// Working set in bytes: `memory.current` − `memory.stat` `inactive_file` (as the
    /// kubelet and cAdvisor count it).
    pub mem_working_set: Option<u64>,
    /// `memory.current`, bytes.
    pub mem_current: Option<u64>,
    /// `memory.max`, bytes; `Some(u64::MAX)` for `max` (no limit).
    pub mem_limit: Option<u64>,
    /// `memory.events` `oom_kill` (a count since the cgroup was made).
    pub oom_kills: Option<u64>,
    /// `pids.current`, or the number of processes when the pids controller is absent.
    pub tasks: Option<u64>,
    /// Bytes read per second: `io.stat` `rbytes` deltas (all devices) / interval.
    pub io_read_bps: Option<f64>,
    /// Bytes written per second: `io.stat` `wbytes` deltas / interval.
    pub io_write_bps: Option<f64>,
    /// `cpu.pressure` `some`: `total` delta / interval, ratio 0..=1.
    pub psi_cpu_some: Option<f64>,
    /// `memory.pressure` `some`, ratio 0..=1.
    pub psi_mem_some: Option<f64>,
    /// `memory.pressure` `full`, ratio 0..=1.
    pub psi_mem_full: Option<f64>,
    /// `io.pressure` `some`, ratio 0..=1.
    pub psi_io_some: Option<f64>,
    /// `io.pressure` `full`, ratio 0..=1.
    pub psi_io_full: Option<f64>,
}

/// One cgroup of a [`Frame`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopRow {
    /// The tree node this row stands for (an index into [`Tree::nodes`]).
    pub node: NodeId,
    /// The row of the parent cgroup (an index into [`Frame::rows`]; `None` for the first).
    pub parent: Option<usize>,
    /// Levels below the first row.
    pub depth: u32,
    /// The directory name as read (untrusted bytes; escaped when drawn).
    pub name: Box<[u8]>,
    /// The cgroup path relative to the mount (untrusted bytes; escaped when drawn).
    pub path: Box<[u8]>,
    /// What the cgroup is, as the tree writes it between brackets (escaped again when
    /// drawn).
    pub identity: Option<String>,
    /// Whether the frame has rows below this one.
    pub has_children: bool,
    /// The numbers.
    pub usage: Usage,
    /// What could not be read for this cgroup, one message each (escaped when drawn).
    pub errors: Vec<String>,
}

/// One sample of the tree: what the screen, a text block or a JSON line shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// When the sample was taken.
    pub time: SystemTime,
    /// The interval the rates were computed over (`None`: first sample, no rates).
    pub interval: Option<Duration>,
    /// Rows in pre-order: a row's subtree follows it, children after their parent.
    pub rows: Vec<TopRow>,
    /// The JSON object for `--json` (one line per frame, without its newline), when the
    /// sampler made one (the library's sample document, docs/json.md "Sample");
    /// otherwise [`batch::json_value`] writes what the frame knows.
    pub json: Option<Vec<u8>>,
}

/// Where frames come from.
pub trait Source {
    /// The next frame (the first one at once; the runner waits between calls).
    ///
    /// # Errors
    /// When nothing could be read (the start cgroup is gone, the tree cannot be read).
    fn next_frame(&mut self) -> anyhow::Result<Frame>;
}

/// Fills the numbers of a frame built from a tree.
pub trait Sampler {
    /// Whether a first sample must be taken one interval before the first frame (rates
    /// need two samples): the runner then calls [`Source::next_frame`] once, drops the
    /// frame and waits one interval.
    fn needs_prime(&self) -> bool {
        false
    }
    /// Reads the counters of `tree`'s cgroups and fills `frame` (`frame.rows[i].node`
    /// names the node; `frame.interval`, `frame.json` and [`TopRow::errors`] as read).
    ///
    /// # Errors
    /// Only when nothing could be sampled; a cgroup that cannot be read goes into its
    /// row's errors.
    fn fill(&mut self, tree: &Tree, frame: &mut Frame) -> anyhow::Result<()>;
}

/// A sampler that reads nothing: every number stays `None` (tests of the views).
#[cfg(test)]
#[derive(Debug, Default)]
pub struct NoSampler;

#[cfg(test)]
impl Sampler for NoSampler {
    fn fill(&mut self, _tree: &Tree, _frame: &mut Frame) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Builds the rows of `tree` (every node, pre-order, numbers unknown), at `time`.
pub fn frame_from_tree(tree: &Tree, time: SystemTime) -> Frame {
    let nodes = tree.nodes();
    let base = nodes.first().map_or(0, |n| n.depth);
    let mut rows = Vec::with_capacity(nodes.len());
    // Tree nodes are in pre-order, so the row of a node is its index.
    for (id, n) in nodes.iter().enumerate() {
        rows.push(TopRow {
            node: id,
            parent: n.parent,
            depth: n.depth.saturating_sub(base),
            name: n.name.clone(),
            path: tree.path(id).into_boxed_slice(),
            identity: n
                .identity
                .as_ref()
                .and_then(crate::render::identity::identity_text),
            has_children: !n.children.is_empty(),
            usage: Usage::default(),
            errors: n
                .errors
                .iter()
                .map(|e| {
                    let file = e.path.file_name().map(|f| f.as_encoded_bytes());
                    format!("{}: {}", sanitize(file.unwrap_or(b"")), e.kind)
                })
                .collect(),
        });
    }
    Frame {
        time,
        interval: None,
        rows,
        json: None,
    }
}

/// The numbers of `tree`'s cgroups for `cgtree --stats`: one sample, or with `delay`
/// two samples `delay` apart (the first to prime the rates) by `sampler`.
///
/// # Errors
/// The sampler's.
pub fn sample_tree<S: Sampler>(
    tree: &Tree,
    delay: Option<Duration>,
    sampler: &mut S,
) -> anyhow::Result<Frame> {
    let mut frame = frame_from_tree(tree, SystemTime::now());
    if let Some(d) = delay {
        sampler.fill(tree, &mut frame)?;
        std::thread::sleep(d);
        frame = frame_from_tree(tree, SystemTime::now());
        frame.interval = Some(d);
    }
    sampler.fill(tree, &mut frame)?;
    Ok(frame)
}

/// A [`Source`] that reads the tree at each frame and lets its [`Sampler`] fill the
/// numbers. Each frame walks the cgroups only (no process, no identification: the
/// directories and their `cgroup.events`); only when that walk finds another set of
/// cgroups than the last identified tree (a cgroup made, removed, recreated under the same
/// name, populated or emptied) is the tree read again with its processes and identified.
/// So identification, the costly part (processes' command lines, runtime state), runs
/// when cgroups change, not at every frame.
pub struct TreeSource<S: Sampler> {
    quick: cgroup_core::TreeBuilder,
    full: cgroup_core::TreeBuilder,
    tree: Option<(Tree, u64)>,
    identified: u64,
    sampler: S,
    last: Option<std::time::Instant>,
}

impl<S: Sampler> TreeSource<S> {
    /// Reads the tree of `host_root` from `start` down to `depth` levels: populated
    /// cgroups, and every cgroup with `all`.
    pub fn new(
        host_root: &std::path::Path,
        start: &str,
        depth: Option<u32>,
        all: bool,
        sampler: S,
    ) -> Self {
        let mut quick = cgroup_core::TreeBuilder::new();
        quick
            .host_root(host_root)
            .start(start.to_string())
            .processes(false)
            .include_empty(all)
            .max_depth(depth)
            .identify(false);
        let mut full = quick.clone();
        full.processes(true).identify(true);
        TreeSource {
            quick,
            full,
            tree: None,
            identified: 0,
            sampler,
            last: None,
        }
    }

    /// The sampler (for [`Sampler::needs_prime`]).
    pub fn sampler(&self) -> &S {
        &self.sampler
    }

    /// The sampler, to take what it kept of the last frame (`cgtree metrics`).
    pub fn sampler_mut(&mut self) -> &mut S {
        &mut self.sampler
    }

    /// How many times the tree was read with its processes and identified.
    pub fn identifications(&self) -> u64 {
        self.identified
    }
}

/// The set of cgroups of a tree: each node's depth, name and cgroup id, in pre-order
/// (which makes the shape).
fn shape(tree: &Tree) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for n in tree.nodes() {
        // Not `populated`: the cgroups-only walk may not know it (no cgroup.events in a
        // fixture) where the full read derives it from the processes; the set of cgroups
        // shown already follows it (empty cgroups are left out unless `-a`).
        (n.depth, &n.name[..], n.cgroup_id).hash(&mut h);
    }
    h.finish()
}

impl<S: Sampler> Source for TreeSource<S> {
    fn next_frame(&mut self) -> anyhow::Result<Frame> {
        let quick = self.quick.build()?;
        crate::count(quick.stats());
        let now_shape = shape(&quick);
        drop(quick);
        let stale = !matches!(&self.tree, Some((_, s)) if *s == now_shape);
        if stale {
            let tree = self.full.build()?;
            crate::count(tree.stats());
            let s = shape(&tree);
            self.identified += 1;
            self.tree = Some((tree, s));
        }
        let Some((tree, _)) = &self.tree else {
            anyhow::bail!("no tree");
        };
        let now = std::time::Instant::now();
        let mut frame = frame_from_tree(tree, SystemTime::now());
        frame.interval = self.last.map(|l| now.duration_since(l));
        self.last = Some(now);
        self.sampler.fill(tree, &mut frame)?;
        Ok(frame)
    }
}

/// What to sort siblings by (`--order`, keys `c` `m` `i` `p` `t`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Order {
    /// CPU use, highest first.
    #[default]
    Cpu,
    /// `memory.current`, highest first.
    Memory,
    /// I/O read + write rate, highest first.
    Io,
    /// Name, A to Z (the tree's own order).
    Path,
    /// Tasks, most first.
    Tasks,
}

impl Order {
    /// The column header the order is shown on.
    pub fn label(self) -> &'static str {
        match self {
            Order::Cpu => "cpu",
            Order::Memory => "memory",
            Order::Io => "io",
            Order::Path => "path",
            Order::Tasks => "tasks",
        }
    }
}

/// Numbers as text, for the screen and the text blocks.
pub mod fmt {
    /// `12.5` (percent of one core, one decimal), `-` when unknown.
    pub fn percent(r: Option<f64>) -> String {
        match r {
            Some(v) if v.is_finite() => format!("{:.1}", v * 100.0),
            _ => "-".into(),
        }
    }

    /// Bytes with a binary unit: `512`, `1.5K`, `20.0M`, `3.2G`; `max` for `u64::MAX`;
    /// `-` when unknown.
    pub fn bytes(b: Option<u64>) -> String {
        match b {
            None => "-".into(),
            Some(b) => scaled(b as f64),
        }
    }

    /// A limit in bytes, as [`bytes`]; `u64::MAX` (no limit) as `max`.
    pub fn limit(b: Option<u64>) -> String {
        match b {
            Some(u64::MAX) => "max".into(),
            b => bytes(b),
        }
    }

    /// A rate in bytes per second, as [`bytes`].
    pub fn rate(b: Option<f64>) -> String {
        match b {
            Some(v) if v.is_finite() && v >= 0.0 => scaled(v),
            _ => "-".into(),
        }
    }

    fn scaled(v: f64) -> String {
        const UNITS: [&str; 6] = ["K", "M", "G", "T", "P", "E"];
        if v < 1024.0 {
            return format!("{}", v.round() as u64);
        }
        let mut v = v / 1024.0;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        format!("{v:.1}{}", UNITS[unit])
    }

    /// A count, `-` when unknown.
    pub fn count(n: Option<u64>) -> String {
        n.map_or_else(|| "-".into(), |n| n.to_string())
    }
}

#[cfg(test)]
mod tests;
