//! The numbers of `cgtree top` and `cgtree --stats`: [`UsageSampler`] fills a [`Frame`]
//! from the library's [`cgroup_core::sample`] (the files, units and formulas are listed
//! in docs/usage.md).

use super::{Frame, Sampler, TopRow, Usage};
use cgroup_core::sample::{self, group, Rates, Sample, SampleOptions};
use cgroup_core::values::Limit;
use cgroup_core::Tree;

/// Fills frames from [`sample::Sampler`]: the first call opens the sampler (and its kept
/// directory descriptors) for the tree, later calls reuse it on newer builds of the tree
/// (descriptors of cgroups still at the same path are kept) and compute rates against
/// the previous sample.
#[derive(Debug, Default)]
pub struct UsageSampler {
    sampler: Option<sample::Sampler>,
    prev: Option<Sample>,
    /// Whether the first frame comes one interval after a priming sample (`top`).
    prime: bool,
    /// What the last sample could not read.
    errors: Vec<cgroup_core::NodeError>,
    /// Whether frames carry the sample document (`--json`): it is written only then.
    json: bool,
}

impl UsageSampler {
    /// A sampler; `prime`: the runner takes a first sample one interval before the first
    /// frame, so that every frame has rates (`cgtree top`); `json`: each frame carries
    /// the sample document (`--json`).
    pub fn new(prime: bool, json: bool) -> Self {
        UsageSampler {
            sampler: None,
            prev: None,
            prime,
            errors: Vec::new(),
            json,
        }
    }

    /// The files the last sample could not read or parse (with their paths), for
    /// stderr.
    pub fn errors(&self) -> &[cgroup_core::NodeError] {
        &self.errors
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (as systemd does for itself), so
/// that the sampler can keep a directory descriptor per cgroup of a large tree; a failure
/// only leaves the limit where it was (the sampler then reopens what it cannot keep).
pub(crate) fn raise_nofile() {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    if let Ok((soft, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        if soft < hard {
            let _ = setrlimit(Resource::RLIMIT_NOFILE, hard, hard);
        }
    }
}

impl Sampler for UsageSampler {
    fn needs_prime(&self) -> bool {
        self.prime
    }

    fn fill(&mut self, tree: &Tree, frame: &mut Frame) -> anyhow::Result<()> {
        if self.sampler.is_none() {
            raise_nofile();
        }
        let s = match &mut self.sampler {
            Some(s) => s,
            None => self.sampler.insert(sample::Sampler::new(
                tree,
                SampleOptions {
                    // The frame's tree is already cut to the shown depth and cgroups.
                    max_depth: None,
                    populated_only: false,
                    // Every shown cgroup's directory kept open, as the descriptor limit
                    // allows (raised to the hard limit first: `raise_nofile`).
                    max_open_dirs: usize::MAX,
                    ..SampleOptions::default()
                },
            )?),
        };
        let cur = s.sample(tree);
        let rates = self.prev.as_ref().map(|p| cur.rates(p));
        frame.interval = self.prev.as_ref().map(|p| cur.at.saturating_sub(p.at));
        fill_rows(tree, &mut frame.rows, &cur, rates.as_deref());
        if self.json {
            let groups = group::groups(tree);
            let mut line = Vec::with_capacity(4096);
            sample::write_sample_json(&mut line, tree, &cur, self.prev.as_ref(), &groups)?;
            frame.json = Some(line);
        }
        self.errors = cur
            .usage
            .iter()
            .flatten()
            .flat_map(|u| u.errors.iter().cloned())
            .collect();
        self.prev = Some(cur);
        Ok(())
    }
}

/// Sets each row's numbers from `cur` and its rates, and its errors from the files that
/// could not be read. Tasks: `pids.current` where the pids controller is enabled, else
/// the processes of the row's sampled subtree (`cgroup.procs` entries added up, as
/// systemd-cgtop does without the pids controller); unknown (`-`) for a row whose
/// subtree is cut by the depth limit, and its ancestors', whose count would be short.
pub fn fill_rows(tree: &Tree, rows: &mut [TopRow], cur: &Sample, rates: Option<&[Option<Rates>]>) {
    for r in rows.iter_mut() {
        let u = cur.get(r.node);
        let rt = rates.and_then(|v| v.get(r.node)).and_then(Option::as_ref);
        r.usage = usage_of(u, rt);
        if let Some(u) = u {
            for e in &u.errors {
                let file = e.path.file_name().map(|f| f.as_encoded_bytes());
                r.errors.push(format!(
                    "{}: {}",
                    crate::sanitize::sanitize(file.unwrap_or(b"")),
                    e.kind
                ));
            }
        }
    }
    // Process counts up the tree where pids.current is missing: rows are in pre-order,
    // so children come after their parent; walk backwards adding each row's count to
    // its parent's.
    let mut procs: Vec<Option<u64>> = rows
        .iter()
        .map(|r| {
            let cut = tree.nodes().get(r.node).is_none_or(|n| n.truncated);
            cur.get(r.node).and_then(|u| u.processes).filter(|_| !cut)
        })
        .collect();
    // A count is known only when every row below is: a row without one makes its
    // ancestors' unknown too.
    let mut known = vec![true; rows.len()];
    for i in (0..rows.len()).rev() {
        let Some(p) = rows[i].parent else { continue };
        if procs[i].is_none() || !known[i] {
            if let Some(k) = known.get_mut(p) {
                *k = false;
            }
            continue;
        }
        let n = procs[i].unwrap_or(0);
        if let Some(slot) = procs.get_mut(p) {
            *slot = slot.map(|s| s + n);
        }
    }
    for (p, k) in procs.iter_mut().zip(&known) {
        if !k {
            *p = None;
        }
    }
    for (r, n) in rows.iter_mut().zip(procs) {
        if r.usage.tasks.is_none() {
            r.usage.tasks = n;
        }
    }
}

fn usage_of(u: Option<&sample::Usage>, rt: Option<&Rates>) -> Usage {
    let Some(u) = u else {
        return Usage::default();
    };
    let mem = u.memory.as_ref();
    let cpu = rt.and_then(|r| r.cpu);
    let io = rt.and_then(|r| r.io.as_ref());
    let psi = rt.map(|r| r.pressure).unwrap_or_default();
    Usage {
        cpu_cores: cpu.and_then(|c| c.cores),
        throttled_ratio: cpu.and_then(|c| c.throttled_ratio),
        mem_working_set: mem.and_then(|m| m.working_set()),
        mem_current: mem.and_then(|m| m.current),
        mem_limit: mem.and_then(|m| m.max).map(|l| match l {
            Limit::Max => u64::MAX,
            Limit::Value(v) => v,
        }),
        oom_kills: u.memory_events.and_then(|e| e.oom_kill),
        tasks: u.pids.and_then(|p| p.current),
        io_read_bps: io.map(|i| i.read_bytes),
        io_write_bps: io.map(|i| i.write_bytes),
        psi_cpu_some: psi.cpu.and_then(|s| s.some),
        psi_mem_some: psi.memory.and_then(|s| s.some),
        psi_mem_full: psi.memory.and_then(|s| s.full),
        psi_io_some: psi.io.and_then(|s| s.some),
        psi_io_full: psi.io.and_then(|s| s.full),
    }
}
