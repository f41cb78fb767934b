//! Metric families for Prometheus, from a [`Sample`] of an identified [`Tree`]: which
//! cgroups are exported, their labels, and one value per file, as plain data that an
//! encoder (the CLI's, through the `prometheus` and `prometheus-client` crates) writes
//! in an exposition format. No encoding happens here.
//!
//! Names and meanings follow cAdvisor's (`container_cpu_usage_seconds_total`, ...,
//! cadvisor `metrics/prometheus.go`) under the prefix [`PREFIX`], so both can be scraped
//! side by side and a dashboard moves with a prefix swap. Values are the kernel's own
//! counters of each exported cgroup (Documentation/admin-guide/cgroup-v2.rst): they
//! already include the cgroup's descendants, so nothing is summed, and a counter stays
//! monotonic for as long as its cgroup lives (`memory.events` `oom_kill` of a pod keeps
//! the kills of a container that was replaced). A file that is absent (its controller is
//! not enabled for the cgroup) gives no series, never a 0. The full list, with files and
//! units, is in `docs/metrics.md`.
//!
//! # Selection and cardinality
//! [`Selection::Named`] exports the tree's first cgroup (the root), every cgroup
//! identified as a container (engine or Kubernetes, LXC, nspawn machine), a pod, a
//! Kubernetes node in a container (kind, minikube), and every systemd unit cgroup
//! (`*.service`, `*.scope`, `*.slice`); [`Selection::All`] exports every sampled cgroup.
//! At most [`Options::max_cgroups`] are exported: the root first, then containers, pods
//! and nodes, then units, then the rest, shallower before deeper; the others are counted
//! in [`Metrics::dropped`].
//!
//! # Untrusted names
//! Label values come from cgroup names and runtime state (untrusted bytes): they are made
//! valid UTF-8 by [`label_text`] (invalid bytes and control characters as `\xNN`); the
//! encoder then escapes what its format requires (`\`, `"`, line feed). [`label_text`]
//! is injective (a backslash that would read as an escape is itself escaped, `\x5c`), so
//! distinct cgroups have distinct `id`s and no two series of a family share a label set.

use crate::runtime::IdentityKind;
use crate::sample::Sample;
use crate::tree::{NodeError, NodeId, Tree};
use std::borrow::Cow;
use std::time::Duration;

/// The prefix of every metric name (`cgtree_container_...` for cAdvisor's
/// `container_...`).
pub const PREFIX: &str = "cgtree_";

/// Default of [`Options::max_cgroups`].
pub const DEFAULT_MAX_CGROUPS: usize = 1000;

/// Which cgroups get series.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    /// The root, containers, pods, Kubernetes nodes and systemd units (module docs).
    #[default]
    Named,
    /// Every cgroup of the sample.
    All,
}

/// What [`collect`] exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Which cgroups.
    pub selection: Selection,
    /// Exported cgroups at most (the rest counted in [`Metrics::dropped`]).
    pub max_cgroups: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            selection: Selection::Named,
            max_cgroups: DEFAULT_MAX_CGROUPS,
        }
    }
}

/// A metric type (the Prometheus and OpenMetrics types used here).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    /// A monotonic counter (named `..._total`).
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// An info metric: value 1, the information in its labels (named `..._info`).
    Info,
}

/// A unit of a family's values (OpenMetrics `# UNIT`; the name ends with it).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
}

impl Unit {
    /// `seconds`, `bytes`.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "seconds",
            Unit::Bytes => "bytes",
        }
    }
}

/// One label: its name (a Prometheus label name) and value (valid UTF-8, escaped by
/// [`label_text`]; the encoder escapes it further as its format requires).
pub type Label = (&'static str, String);

/// One series of a family.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The exported cgroup whose labels the series carries ([`Metrics::cgroups`] index),
    /// `None` for cgtree's own metrics.
    pub cgroup: Option<usize>,
    /// Labels of this series besides the cgroup's (`cpu`, `device`, `cgroup_id`, ...).
    pub extra: Vec<Label>,
    /// The value, in the family's unit.
    pub value: f64,
}

/// A metric family: its full name as the Prometheus text format writes it (with
/// `_total` for counters and `_info` for info), help, unit, type and series.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The name (`cgtree_container_cpu_usage_seconds_total`).
    pub name: &'static str,
    /// One line of help (the source file and unit).
    pub help: &'static str,
    /// The unit, when the name ends with one.
    pub unit: Option<Unit>,
    /// The type.
    pub kind: MetricType,
    /// The series, in the order of [`Metrics::cgroups`].
    pub series: Vec<Series>,
}

impl Family {
    /// The name without its type suffix (`_total` of a counter, `_info` of an info):
    /// the family name OpenMetrics writes in `# TYPE`.
    pub fn base_name(&self) -> &'static str {
        let suffix = match self.kind {
            MetricType::Counter => "_total",
            MetricType::Info => "_info",
            MetricType::Gauge => "",
        };
        self.name.strip_suffix(suffix).unwrap_or(self.name)
    }
}

/// An exported cgroup.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// Its node in the tree and sample.
    pub node: NodeId,
    /// Its labels: `id` first, then those of its identity that are known (empty ones
    /// are left out), in a fixed order.
    pub labels: Vec<Label>,
}

/// What one collection exports.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The exported cgroups, in tree order.
    pub cgroups: Vec<Exported>,
    /// Selected cgroups left out by [`Options::max_cgroups`].
    pub dropped: usize,
    /// The families, each with at least one series.
    pub families: Vec<Family>,
    /// The files of exported cgroups that could not be read or parsed.
    pub errors: Vec<NodeError>,
}

/// `bytes` as valid UTF-8 for a label value: [`crate::escape::escape`], as the CLI
/// escapes names for a terminal (invalid UTF-8 and control characters as `\xNN`, `\n`,
/// `\t`, `\r`; bidi and invisible characters as `\u{XXXX}`; a backslash unchanged unless
/// it would read as one of those escapes, then `\x5c`: systemd unit names keep their
/// literal `\x2d`). Injective: distinct names give distinct values. Borrows when nothing
/// needs escaping.
pub fn label_text(bytes: &[u8]) -> Cow<'_, str> {
    crate::escape::escape(bytes)
}

const UNIT_SUFFIXES: [&[u8]; 3] = [b".service", b".scope", b".slice"];

/// What a cgroup is for selection: 0 root, 1 container/pod/node, 2 unit, 3 other.
fn rank(tree: &Tree, id: NodeId) -> u8 {
    let n = tree.node(id);
    if id == 0 || n.parent.is_none() {
        return 0;
    }
    if let Some(i) = &n.identity {
        let named = i.kind.is_engine_container()
            || i.kind.is_kube_container()
            || matches!(i.kind, IdentityKind::KubePod | IdentityKind::PodmanPod)
            || is_node_top(tree, id);
        if named {
            return 1;
        }
    }
    if UNIT_SUFFIXES.iter().any(|s| n.name.ends_with(s)) {
        return 2;
    }
    3
}

/// The identities of `id` and of the cgroups above it, nearest first: its parents in
/// the tree, then those above the tree's root ([`Tree::ancestors`], for a tree started
/// below `/`), so that a cgroup has the same labels whatever the start.
fn upward(tree: &Tree, id: NodeId) -> impl Iterator<Item = Option<&crate::resolve::Identity>> {
    let mut cur = Some(id);
    std::iter::from_fn(move || {
        let i = cur?;
        cur = tree.node(i).parent;
        Some(tree.node(i).identity.as_ref())
    })
    .chain(tree.ancestors().iter().rev().map(|c| c.identity.as_ref()))
}

/// The Kubernetes node (name, cluster) an identity names.
fn node_named(i: Option<&crate::resolve::Identity>) -> Option<(String, Option<String>)> {
    let i = i?;
    if let Some(n) = &i.node {
        return Some((n.name.clone(), n.cluster.clone()));
    }
    i.kind_node
        .as_ref()
        .map(|k| (k.name.clone(), k.cluster.clone()))
}

/// Whether `id` is the topmost cgroup of its Kubernetes node (its parent, in the tree
/// or above it, names no node, or another).
fn is_node_top(tree: &Tree, id: NodeId) -> bool {
    let mut up = upward(tree, id);
    let Some((name, _)) = up.next().and_then(node_named) else {
        return false;
    };
    match up.next() {
        Some(p) => node_named(p).is_none_or(|(pn, _)| pn != name),
        None => true,
    }
}

/// The container name (not yet escaped) for the `name` label of a cgroup with identity `chain[k]` carries, given the identities
/// above it (`chain[k + 1..]`, nearest first): containers (engines', Kubernetes', LXC,
/// nspawn machines) and the topmost cgroup of a Kubernetes node have one, so that
/// `{name!=""}` selects containers as on cAdvisor.
fn container_name(chain: &[Option<&crate::resolve::Identity>], k: usize) -> Option<String> {
    let i = chain.get(k).copied().flatten()?;
    let node_top = node_named(Some(i)).is_some_and(|(name, _)| {
        chain
            .get(k + 1)
            .is_none_or(|p| node_named(*p).is_none_or(|(pn, _)| pn != name))
    });
    let container_like = i.kind.is_engine_container() || i.kind.is_kube_container() || node_top;
    container_like
        .then(|| i.name.clone().filter(|n| !n.is_empty()))
        .flatten()
}

/// The last component of a node's name (a tree's root is named by its whole path).
fn base_name(name: &[u8]) -> &[u8] {
    name.rsplit(|&b| b == b'/').next().unwrap_or(name)
}

/// The labels of a cgroup (module docs; `docs/metrics.md`).
fn labels(tree: &Tree, id: NodeId) -> (Vec<Label>, &'static str) {
    let n = tree.node(id);
    let path = tree.path(id);
    let mut l: Vec<Label> = vec![("id", label_text(&path).into_owned())];
    let push = |l: &mut Vec<Label>, k: &'static str, v: Option<&str>| {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            l.push((k, label_text(v.as_bytes()).into_owned()));
        }
    };
    // The hierarchy's root only: a tree started below it keeps its first cgroup's own
    // labels.
    let root = path == b"/";
    let base = base_name(&n.name);
    let unit = !root && UNIT_SUFFIXES.iter().any(|s| base.ends_with(s));
    let mut kind = if root {
        "root"
    } else if unit {
        "unit"
    } else {
        "cgroup"
    };
    if let Some(i) = &n.identity {
        kind = i.kind.as_str();
        // `name` is cAdvisor's container name: only containers (engines', Kubernetes',
        // LXC, nspawn machines) and the top of a Kubernetes node carry it, so that
        // `{name!=""}` selects containers as it does on cAdvisor; a unit's name is in
        // `unit`, a podman pod's in `pod`.
        if let Some(name) = container_name(&upward(tree, id).collect::<Vec<_>>(), 0) {
            push(&mut l, "name", Some(&name));
        }
        if i.kind == IdentityKind::PodmanPod {
            push(&mut l, "pod", i.name.as_deref());
        }
        push(&mut l, "image", i.image.as_deref());
        if i.kind == IdentityKind::KubeContainer || i.kind == IdentityKind::KubeSandbox {
            let c = if i.sandbox || i.kind == IdentityKind::KubeSandbox {
                Some("POD")
            } else {
                i.name.as_deref()
            };
            push(&mut l, "container", c);
        }
        if let Some(p) = &i.pod {
            push(&mut l, "pod", p.name.as_deref());
            push(&mut l, "namespace", p.namespace.as_deref());
        }
        push(&mut l, "runtime", i.runtime);
        push(
            &mut l,
            "rootless",
            i.rootless.map(|r| if r { "true" } else { "false" }),
        );
        if i.rootless == Some(true)
            || matches!(i.kind, IdentityKind::UserSlice | IdentityKind::UserManager)
        {
            push(
                &mut l,
                "owner_uid",
                i.user.map(|u| u.to_string()).as_deref(),
            );
        }
        if i.kind == IdentityKind::Session {
            // A logind session's identity names only its id; its user is the one of the
            // `user-UID.slice` logind made it in.
            let uid = i.user.or_else(|| {
                upward(tree, id)
                    .flatten()
                    .find(|a| a.kind == IdentityKind::UserSlice)
                    .and_then(|a| a.user)
            });
            push(&mut l, "owner_uid", uid.map(|u| u.to_string()).as_deref());
        }
    }
    // The Kubernetes node this cgroup is, or is inside.
    if let Some((name, cluster)) = upward(tree, id).find_map(node_named) {
        push(&mut l, "kind_node", Some(&name));
        push(&mut l, "kind_cluster", cluster.as_deref());
    }
    // The nearest container (a cgroup with a `name`) this cgroup is inside: a kind
    // node's pods, docker-in-docker's containers. `{name!="", in_container=""}` selects
    // the outermost containers, whose usage includes the nested ones'.
    let chain: Vec<_> = upward(tree, id).collect();
    if let Some(outer) = (1..chain.len()).find_map(|k| container_name(&chain, k)) {
        push(&mut l, "in_container", Some(&outer));
    }
    if unit {
        // As systemd spells it (`machine-my\x2dbox.scope`), what systemctl takes.
        push(&mut l, "unit", Some(&label_text(base)));
    }
    (l, kind)
}

/// The `device` label of each line of a cgroup's `io.stat`: the device's name, or
/// `MAJ:MIN` when it has none, when its name is also another line's (names come from
/// `/sys/dev/block`, which a `--root` copy may forge), or when the name has a `:` (as a
/// `MAJ:MIN` has; no kernel block device name does). `None` for a line whose `MAJ:MIN`
/// an earlier line already had (left out): so no two lines get the same label.
fn device_labels(io: &[crate::sample::IoDevice]) -> Vec<Option<String>> {
    // How many devices (distinct `MAJ:MIN`) have this name.
    let named = |n: &str| {
        io.iter()
            .filter(|d| d.name.as_deref() == Some(n))
            .map(|d| (d.stat.major, d.stat.minor))
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    let mut seen = std::collections::HashSet::new();
    io.iter()
        .map(|d| {
            seen.insert((d.stat.major, d.stat.minor))
                .then(|| match &d.name {
                    Some(n) if !n.contains(':') && named(n) == 1 => {
                        label_text(n.as_bytes()).into_owned()
                    }
                    _ => format!("{}:{}", d.stat.major, d.stat.minor),
                })
        })
        .collect()
}

/// Builds a family's series from each exported cgroup's usage.
struct Builder<'a> {
    sample: &'a Sample,
    nodes: &'a [NodeId],
    families: Vec<Family>,
}

impl Builder<'_> {
    fn add(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<Unit>,
        kind: MetricType,
        f: impl Fn(&crate::sample::Usage) -> Vec<(Vec<Label>, f64)>,
    ) {
        let mut series = Vec::new();
        for (i, &node) in self.nodes.iter().enumerate() {
            if let Some(u) = self.sample.get(node) {
                for (extra, value) in f(u) {
                    series.push(Series {
                        cgroup: Some(i),
                        extra,
                        value,
                    });
                }
            }
        }
        if !series.is_empty() {
            self.families.push(Family {
                name,
                help,
                unit,
                kind,
                series,
            });
        }
    }

    /// A family with one series per cgroup, no extra labels.
    fn one(
        &mut self,
        name: &'static str,
        help: &'static str,
        unit: Option<Unit>,
        kind: MetricType,
        f: impl Fn(&crate::sample::Usage) -> Option<f64>,
    ) {
        self.add(name, help, unit, kind, |u| {
            f(u).map(|v| vec![(Vec::new(), v)]).unwrap_or_default()
        });
    }
}

fn usec(v: Option<u64>) -> Option<f64> {
    v.map(|v| v as f64 / 1e6)
}

fn limit(l: crate::parse::Limit) -> f64 {
    match l {
        crate::parse::Limit::Max => 0.0,
        crate::parse::Limit::Value(v) => v as f64,
    }
}

/// The metric families of the cgroups of `tree` that `opts` selects, with the values of
/// `sample` (a sample of `tree`, or of a build of it with the same nodes). A cgroup with
/// no usage in the sample (removed since the tree was read, or not sampled) is not
/// exported. cgtree's own metrics are added by [`add_self_metrics`].
pub fn collect(tree: &Tree, sample: &Sample, opts: &Options) -> Metrics {
    collect_under(tree, sample, opts, 0)
}

/// [`collect`] for the cgroups of `top`'s subtree only (`top` included), with the labels
/// they have in the whole `tree`: a tree read from the hierarchy's root gives every
/// cgroup the identity it has there, wherever the export starts.
pub fn collect_under(tree: &Tree, sample: &Sample, opts: &Options, top: NodeId) -> Metrics {
    let within = |id: NodeId| {
        let mut at = Some(id);
        while let Some(a) = at {
            if a == top {
                return true;
            }
            at = tree.node(a).parent;
        }
        false
    };
    let mut chosen: Vec<(u8, u32, NodeId)> = (0..tree.nodes().len().min(sample.usage.len()))
        .filter(|&id| sample.get(id).is_some() && within(id))
        .filter_map(|id| {
            // The start of the export is always exported, first, as the root is.
            let r = if id == top { 0 } else { rank(tree, id) };
            (opts.selection == Selection::All || r < 3).then(|| (r, tree.node(id).depth, id))
        })
        .collect();
    chosen.sort_unstable();
    let dropped = chosen.len().saturating_sub(opts.max_cgroups);
    chosen.truncate(opts.max_cgroups);
    let mut nodes: Vec<NodeId> = chosen.into_iter().map(|(_, _, id)| id).collect();
    nodes.sort_unstable();
    let mut cgroups = Vec::with_capacity(nodes.len());
    let mut kinds = Vec::with_capacity(nodes.len());
    let mut errors = Vec::new();
    let cgroup_id = |node: NodeId| {
        sample
            .get(node)
            .and_then(|u| u.id)
            .or(tree.node(node).cgroup_id)
    };
    for &id in &nodes {
        let (labels, kind) = labels(tree, id);
        cgroups.push(Exported { node: id, labels });
        kinds.push(kind);
        if let Some(u) = sample.get(id) {
            errors.extend(u.errors.iter().cloned());
        }
    }
    let mut b = Builder {
        sample,
        nodes: &nodes,
        families: Vec::new(),
    };
    use MetricType::{Counter, Gauge};
    use Unit::{Bytes, Seconds};
    b.add(
        "cgtree_container_cpu_usage_seconds_total",
        "CPU time used by the cgroup and its descendants (cpu.stat usage_usec / 1e6).",
        Some(Seconds),
        Counter,
        |u| {
            usec(u.cpu.and_then(|c| c.usage_usec))
                .map(|v| vec![(vec![("cpu", "total".to_string())], v)])
                .unwrap_or_default()
        },
    );
    b.one(
        "cgtree_container_cpu_user_seconds_total",
        "CPU time in user mode (cpu.stat user_usec / 1e6).",
        Some(Seconds),
        Counter,
        |u| usec(u.cpu.and_then(|c| c.user_usec)),
    );
    b.one(
        "cgtree_container_cpu_system_seconds_total",
        "CPU time in kernel mode (cpu.stat system_usec / 1e6).",
        Some(Seconds),
        Counter,
        |u| usec(u.cpu.and_then(|c| c.system_usec)),
    );
    b.one(
        "cgtree_container_cpu_cfs_periods_total",
        "Elapsed CFS bandwidth periods (cpu.stat nr_periods).",
        None,
        Counter,
        |u| u.cpu.and_then(|c| c.nr_periods).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_cpu_cfs_throttled_periods_total",
        "CFS periods in which the cgroup was throttled (cpu.stat nr_throttled).",
        None,
        Counter,
        |u| u.cpu.and_then(|c| c.nr_throttled).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_cpu_cfs_throttled_seconds_total",
        "Time the cgroup was throttled (cpu.stat throttled_usec / 1e6).",
        Some(Seconds),
        Counter,
        |u| usec(u.cpu.and_then(|c| c.throttled_usec)),
    );
    b.one(
        "cgtree_container_memory_usage_bytes",
        "Memory charged to the cgroup and its descendants (memory.current).",
        Some(Bytes),
        Gauge,
        |u| u.memory.and_then(|m| m.current).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_memory_working_set_bytes",
        "Working set: memory.current - memory.stat inactive_file, floored at 0 (as cAdvisor).",
        Some(Bytes),
        Gauge,
        |u| u.memory.and_then(|m| m.working_set()).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_memory_rss",
        "Anonymous memory, bytes (memory.stat anon).",
        None,
        Gauge,
        |u| u.memory.and_then(|m| m.stat?.anon).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_memory_cache",
        "Page cache, bytes (memory.stat file).",
        None,
        Gauge,
        |u| u.memory.and_then(|m| m.stat?.file).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_memory_swap",
        "Swap used, bytes (memory.swap.current).",
        None,
        Gauge,
        |u| u.memory.and_then(|m| m.swap_current).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_spec_memory_limit_bytes",
        "Memory hard limit (memory.max; 0 for max, as cAdvisor).",
        Some(Bytes),
        Gauge,
        |u| u.memory.and_then(|m| m.max).map(limit),
    );
    b.one(
        "cgtree_container_oom_events_total",
        "Processes killed by the OOM killer in the cgroup and its descendants (memory.events oom_kill).",
        None,
        Counter,
        |u| u.memory_events.and_then(|e| e.oom_kill).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_threads",
        "Tasks (threads) in the cgroup and its descendants (pids.current).",
        None,
        Gauge,
        |u| u.pids.and_then(|p| p.current).map(|v| v as f64),
    );
    b.one(
        "cgtree_container_threads_max",
        "Task limit (pids.max; 0 for max).",
        None,
        Gauge,
        |u| u.pids.and_then(|p| p.max).map(limit),
    );
    type IoField = fn(&crate::parse::IoStatLine) -> u64;
    let io: [(&'static str, &'static str, Option<Unit>, IoField); 4] = [
        (
            "cgtree_container_fs_reads_bytes_total",
            "Bytes read, per block device (io.stat rbytes).",
            Some(Bytes),
            |l| l.rbytes,
        ),
        (
            "cgtree_container_fs_writes_bytes_total",
            "Bytes written, per block device (io.stat wbytes).",
            Some(Bytes),
            |l| l.wbytes,
        ),
        (
            "cgtree_container_fs_reads_total",
            "Read operations, per block device (io.stat rios).",
            None,
            |l| l.rios,
        ),
        (
            "cgtree_container_fs_writes_total",
            "Write operations, per block device (io.stat wios).",
            None,
            |l| l.wios,
        ),
    ];
    for (name, help, unit, field) in io {
        b.add(name, help, unit, Counter, |u| {
            let io = u.io.as_deref().unwrap_or_default();
            io.iter()
                .zip(device_labels(io))
                .filter_map(|(d, dev)| Some((vec![("device", dev?)], field(&d.stat) as f64)))
                .collect()
        });
    }
    type Psi = fn(&crate::sample::PressureSet) -> Option<crate::parse::Pressure>;
    let psi: [(&'static str, &'static str, &'static str, &'static str, Psi); 3] = [
        (
            "cgtree_container_pressure_cpu_waiting_seconds_total",
            "Time some tasks waited for CPU (cpu.pressure some total / 1e6).",
            "cgtree_container_pressure_cpu_stalled_seconds_total",
            "Time all non-idle tasks waited for CPU (cpu.pressure full total / 1e6).",
            |p| p.cpu,
        ),
        (
            "cgtree_container_pressure_memory_waiting_seconds_total",
            "Time some tasks waited for memory (memory.pressure some total / 1e6).",
            "cgtree_container_pressure_memory_stalled_seconds_total",
            "Time all non-idle tasks waited for memory (memory.pressure full total / 1e6).",
            |p| p.memory,
        ),
        (
            "cgtree_container_pressure_io_waiting_seconds_total",
            "Time some tasks waited for I/O (io.pressure some total / 1e6).",
            "cgtree_container_pressure_io_stalled_seconds_total",
            "Time all non-idle tasks waited for I/O (io.pressure full total / 1e6).",
            |p| p.io,
        ),
    ];
    for (some_name, some_help, full_name, full_help, get) in psi {
        b.one(some_name, some_help, Some(Seconds), Counter, |u| {
            usec(get(&u.pressure).and_then(|p| p.some).map(|l| l.total))
        });
        b.one(full_name, full_help, Some(Seconds), Counter, |u| {
            usec(get(&u.pressure).and_then(|p| p.full).map(|l| l.total))
        });
    }
    let mut families = b.families;
    let info: Vec<Series> = nodes
        .iter()
        .enumerate()
        .map(|(i, &node)| {
            let mut extra = Vec::new();
            if let Some(cid) = cgroup_id(node) {
                extra.push(("cgroup_id", cid.to_string()));
            }
            extra.push(("kind", kinds[i].to_string()));
            Series {
                cgroup: Some(i),
                extra,
                value: 1.0,
            }
        })
        .collect();
    // Whether `memory.events` counts a cgroup's own events only (the cgroup2 mount
    // option `memory_localevents`): then a pod's OOM count leaves out its containers'.
    let local = has_memory_localevents(tree);
    families.push(Family {
        name: "cgtree_cgroup2_memory_localevents",
        help: "1 when cgroup2 is mounted with memory_localevents: oom_events_total counts only each cgroup's own kills, not its descendants'.",
        unit: None,
        kind: MetricType::Gauge,
        series: vec![Series {
            cgroup: None,
            extra: Vec::new(),
            value: if local { 1.0 } else { 0.0 },
        }],
    });
    if !info.is_empty() {
        families.push(Family {
            name: "cgtree_cgroup_info",
            help: "One per exported cgroup: its id (path), cgroup id, kind and identity labels.",
            unit: None,
            kind: MetricType::Info,
            series: info,
        });
    }
    Metrics {
        cgroups,
        dropped,
        families,
        errors,
    }
}

/// Whether the cgroup2 mount of `tree` has the option `memory_localevents`
/// (Documentation/admin-guide/cgroup-v2.rst: `memory.events` then counts the cgroup's
/// own events only; without it, the cgroup's and its descendants').
pub fn has_memory_localevents(tree: &Tree) -> bool {
    tree.mount()
        .options
        .iter()
        .any(|o| o == "memory_localevents")
}

/// Appends cgtree's own metrics: `cgtree_scrape_duration_seconds` (`duration`: the
/// caller's time for reading the tree and sampling), `cgtree_scrape_cgroups`,
/// `cgtree_scrape_cgroups_dropped`, `cgtree_scrape_errors` (`errors`: files that could
/// not be read, [`Metrics::errors`] and the tree's), `cgtree_build_info{version}`.
pub fn add_self_metrics(m: &mut Metrics, duration: Duration, errors: usize, version: &str) {
    let one = |v: f64| {
        vec![Series {
            cgroup: None,
            extra: Vec::new(),
            value: v,
        }]
    };
    let fams = [
        (
            "cgtree_scrape_duration_seconds",
            "Time to read the cgroups of this scrape.",
            Some(Unit::Seconds),
            duration.as_secs_f64(),
        ),
        (
            "cgtree_scrape_cgroups",
            "Cgroups exported by this scrape.",
            None,
            m.cgroups.len() as f64,
        ),
        (
            "cgtree_scrape_cgroups_dropped",
            "Cgroups selected but left out by the cap (--max-cgroups).",
            None,
            m.dropped as f64,
        ),
        (
            "cgtree_scrape_errors",
            "Files that could not be read or parsed in this scrape.",
            None,
            errors as f64,
        ),
    ];
    for (name, help, unit, v) in fams {
        m.families.push(Family {
            name,
            help,
            unit,
            kind: MetricType::Gauge,
            series: one(v),
        });
    }
    m.families.push(Family {
        name: "cgtree_build_info",
        help: "The cgtree version that wrote these metrics.",
        unit: None,
        kind: MetricType::Info,
        series: vec![Series {
            cgroup: None,
            extra: vec![("version", label_text(version.as_bytes()).into_owned())],
            value: 1.0,
        }],
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (Tree, Sample) {
        let root = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let tree = crate::TreeBuilder::new()
            .host_root(root)
            .include_empty(true)
            .identify(true)
            .build()
            .expect("fixture tree");
        let mut s = crate::sample::Sampler::new(&tree, Default::default()).expect("sampler");
        let sample = s.sample(&tree);
        (tree, sample)
    }

    fn labels_of<'a>(m: &'a Metrics, id: &str) -> Option<&'a [Label]> {
        m.cgroups
            .iter()
            .find(|c| c.labels[0].1 == id)
            .map(|c| &c.labels[..])
    }

    /// Each exported cgroup's labels and its info series' own labels (`cgroup_id`,
    /// `kind`), by `id`.
    fn labelled(tree: &Tree, sample: &Sample) -> std::collections::BTreeMap<String, Vec<Label>> {
        let m = collect(
            tree,
            sample,
            &Options {
                selection: Selection::All,
                max_cgroups: usize::MAX,
            },
        );
        let info = m
            .families
            .iter()
            .find(|f| f.name == "cgtree_cgroup_info")
            .expect("info family");
        info.series
            .iter()
            .map(|s| {
                let c = &m.cgroups[s.cgroup.expect("a cgroup's")];
                let mut l = c.labels.clone();
                l.extend(s.extra.iter().cloned());
                (c.labels[0].1.clone(), l)
            })
            .collect()
    }

    /// The breaker's finding: a tree started below a kind node (or a pod, a container)
    /// lost its ancestors' context: pods and their containers were not identified, and
    /// the start was labelled `kind="root"` without its `unit`. From every cgroup of
    /// these fixtures as the start, every cgroup of the subtree has the identity and
    /// the labels it has in the whole tree.
    #[test]
    fn a_subtree_is_identified_and_labelled_as_in_the_whole_tree() {
        let mut starts = 0;
        for name in [
            "stats-kind",
            "k8s-cgroupfs",
            "crio",
            "wsl-rootless-podman-kind",
            "podman-rootless-systemd-pod",
            "nested-engines",
            "minikube",
            // State found only through processes outside a container's own cgroup
            // (conmon -b, dockerd --data-root in a sibling cgroup): a subtree start must
            // learn from them as the whole tree does.
            "custom-paths",
            "crio-conmon",
        ] {
            let (full, fs) = fixture(name);
            let full_labels = labelled(&full, &fs);
            let full_ids: std::collections::HashMap<Vec<u8>, NodeId> =
                (0..full.nodes().len()).map(|i| (full.path(i), i)).collect();
            for id in 1..full.nodes().len() {
                let Ok(start) = String::from_utf8(full.path(id)) else {
                    continue;
                };
                let root = format!("{}/../fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
                let sub = crate::TreeBuilder::new()
                    .host_root(root)
                    .start(start.clone())
                    .include_empty(true)
                    .identify(true)
                    .build()
                    .expect("subtree");
                for (k, n) in sub.nodes().iter().enumerate() {
                    let p = sub.path(k);
                    let f = full_ids[&p];
                    assert_eq!(
                        n.identity,
                        full.node(f).identity,
                        "{name} from {start}: {}",
                        String::from_utf8_lossy(&p)
                    );
                }
                let mut s = crate::sample::Sampler::new(&sub, Default::default()).expect("sampler");
                let ss = s.sample(&sub);
                for (idl, l) in labelled(&sub, &ss) {
                    assert_eq!(Some(&l), full_labels.get(&idl), "{name} from {start}");
                }
                starts += 1;
            }
        }
        assert!(starts > 100, "{starts}");
    }

    #[test]
    fn device_labels_are_distinct_within_a_cgroup() {
        use crate::sample::IoDevice;
        let dev = |major, minor, name: Option<&str>| IoDevice {
            stat: crate::parse::IoStatLine {
                major,
                minor,
                ..Default::default()
            },
            name: name.map(Into::into),
        };
        let io = [
            dev(8, 0, Some("sda")),
            dev(8, 16, Some("twin")),
            dev(8, 32, Some("twin")),
            dev(8, 48, Some("8:0")),
            dev(8, 0, Some("sda")),
            dev(9, 0, None),
        ];
        assert_eq!(
            device_labels(&io),
            [
                Some("sda".to_string()),
                Some("8:16".to_string()),
                Some("8:32".to_string()),
                Some("8:48".to_string()),
                None,
                Some("9:0".to_string()),
            ]
        );
    }

    #[test]
    fn label_text_escapes_controls_and_invalid_bytes() {
        assert_eq!(label_text(b"plain \\x2d \"q\""), "plain \\x2d \"q\"");
        assert_eq!(label_text(b"a\nb\x1bc\xffd"), "a\\nb\\x1bc\\xffd");
        assert_eq!(label_text("x\u{202e}y".as_bytes()), "x\\u{202e}y");
    }

    #[test]
    fn named_selection_and_cap() {
        let (tree, sample) = fixture("stats-kind");
        let named = collect(&tree, &sample, &Options::default());
        let all = collect(
            &tree,
            &sample,
            &Options {
                selection: Selection::All,
                ..Options::default()
            },
        );
        // Every cgroup of this fixture is named (units, containers, pods, the node).
        assert_eq!(all.cgroups.len(), named.cgroups.len());
        assert_eq!(named.cgroups[0].labels[0].1, "/");
        // cgroupfs pods: the kubelet's QoS directories are neither units nor named.
        let (t2, s2) = fixture("k8s-cgroupfs");
        let n2 = collect(&t2, &s2, &Options::default());
        let a2 = collect(
            &t2,
            &s2,
            &Options {
                selection: Selection::All,
                ..Options::default()
            },
        );
        assert!(
            a2.cgroups.len() > n2.cgroups.len(),
            "{} {}",
            a2.cgroups.len(),
            n2.cgroups.len()
        );
        assert!(n2.cgroups.iter().all(|c| rank(&t2, c.node) < 3));
        assert!(a2.cgroups.iter().any(|c| rank(&t2, c.node) == 3));
        assert_eq!((named.dropped, all.dropped), (0, 0));
        let capped = collect(
            &tree,
            &sample,
            &Options {
                selection: Selection::Named,
                max_cgroups: 2,
            },
        );
        assert_eq!(capped.cgroups.len(), 2);
        assert_eq!(capped.dropped, named.cgroups.len() - 2);
        // The root, then a container, pod or node before any unit.
        assert_eq!(capped.cgroups[0].labels[0].1, "/");
        let second = capped.cgroups[1].node;
        assert_eq!(rank(&tree, second), 1, "{:?}", capped.cgroups[1].labels);
    }

    #[test]
    fn kind_fixture_labels() {
        let (tree, sample) = fixture("stats-kind");
        let m = collect(&tree, &sample, &Options::default());
        let with = |k: &str| {
            m.cgroups
                .iter()
                .filter(|c| c.labels.iter().any(|(n, _)| *n == k))
                .count()
        };
        assert!(with("pod") > 0, "{:#?}", m.cgroups);
        assert!(with("kind_node") > 0);
        assert!(with("unit") > 0);
        assert!(labels_of(&m, "/").is_some());
        // `name` only on containers: the node's container and the pod's app container
        // have one; a service, and the node's own init.scope, do not (they have `unit`).
        let name_of = |c: &Exported| {
            c.labels
                .iter()
                .find(|(k, _)| *k == "name")
                .map(|l| l.1.clone())
        };
        let by_suffix = |suffix: &str| {
            m.cgroups
                .iter()
                .find(|c| c.labels[0].1.ends_with(suffix))
                .unwrap_or_else(|| panic!("no cgroup ending in {suffix}"))
        };
        let node = m
            .cgroups
            .iter()
            .find(|c| {
                c.labels[0].1.starts_with("/system.slice/docker-")
                    && c.labels[0].1.ends_with(".scope")
            })
            .expect("the kind node's container");
        assert_eq!(name_of(node).as_deref(), Some("kind-control-plane"));
        assert_eq!(name_of(by_suffix("/system.slice/containerd.service")), None);
        assert_eq!(name_of(by_suffix(".scope/init.scope")), None);
        assert_eq!(name_of(by_suffix("/kubelet.service")), None);
        let app = m
            .cgroups
            .iter()
            .find(|c| {
                c.labels
                    .iter()
                    .any(|l| *l == ("container", "kube-apiserver".to_string()))
            })
            .expect("the app container");
        assert_eq!(name_of(app).as_deref(), Some("kube-apiserver"));
    }
}
