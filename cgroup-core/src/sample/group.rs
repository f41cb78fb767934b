//! Usage by identity: one group per container, pod, Kubernetes node (kind, minikube),
//! systemd unit and user, from [`crate::Node::identity`] (the tree must be built with
//! [`crate::TreeBuilder::identify`]) and, for units, the cgroup's name.
//!
//! The kernel's counters of a cgroup already include its descendants (`cpu.stat`,
//! `memory.current`, `memory.stat`, `memory.swap.current`, `memory.events`, `io.stat`,
//! `pids.current`: see `docs/usage.md`). So a group is made of its *members*: the cgroups
//! of the group none of whose ancestors is in the same group. A group with one member
//! (a container, a pod with its own cgroup, a unit) reports that cgroup's own numbers,
//! unchanged. A group with several members (a pod whose containers have no common pod
//! cgroup, a user with cgroups outside `user-UID.slice`, a kind node split by a runtime)
//! adds its members' counters; what cannot be added is left out (`None`): limits
//! (`memory.max`, `memory.high`, `pids.max`), `memory.events.local`, and the pressure
//! files (PSI stall time of several cgroups is the union of their stalled time, not a
//! sum). The rates of a group of several members take, for pressure, the largest
//! member's stall ratio (a lower bound of the group's).

use super::rates::ratio;
use super::{IoDevice, Memory, Pids, PressureRates, Rates, Sample, StallRates, Usage};
use crate::parse::{CpuStat, MemoryEvents, MemoryStat};
use crate::runtime::IdentityKind;
use crate::tree::{NodeId, Tree};
use std::collections::HashMap;

/// What a group stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
#[non_exhaustive]
pub enum GroupKind {
    /// A container (an engine's, or a Kubernetes container or sandbox): keyed by its id.
    Container,
    /// A pod (Kubernetes: by UID, else namespace/name; podman: by pod id).
    Pod,
    /// A Kubernetes node that runs in a container (kind, minikube): keyed by node name.
    KubeNode,
    /// A systemd unit (a cgroup named `*.service`, `*.scope`, `*.slice`): keyed by its
    /// cgroup path (the same unit name in two managers is two units).
    Unit,
    /// A user: keyed by UID (its slice, its manager, its rootless containers).
    User,
}

impl GroupKind {
    /// `container`, `pod`, `kube-node`, `unit`, `user`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Container => "container",
            GroupKind::Pod => "pod",
            GroupKind::KubeNode => "kube-node",
            GroupKind::Unit => "unit",
            GroupKind::User => "user",
        }
    }
}

/// One group: what it is and which cgroups make it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// What it stands for.
    pub kind: GroupKind,
    /// Its key: container id, pod UID (or `namespace/name`, or podman pod id), node name,
    /// unit cgroup path, UID.
    pub key: String,
    /// A name to show: container, pod (`namespace/name`), node or unit name, `uid N`.
    pub name: Option<String>,
    /// The members: the group's topmost cgroups (none inside another), in tree order.
    pub members: Vec<NodeId>,
}

impl Group {
    /// A group of one's own: `members` (topmost cgroups, none inside another) summed as
    /// one `kind` keyed `key` ([`Group::usage`]), shown as `name`.
    pub fn new(
        kind: GroupKind,
        key: impl Into<String>,
        name: Option<String>,
        members: Vec<NodeId>,
    ) -> Self {
        Group {
            kind,
            key: key.into(),
            name,
            members,
        }
    }
}

const UNIT_SUFFIXES: [&[u8]; 3] = [b".service", b".scope", b".slice"];

/// The groups a node belongs to (kind, key, name).
fn keys(tree: &Tree, id: NodeId) -> Vec<(GroupKind, String, Option<String>)> {
    let n = tree.node(id);
    let mut out = Vec::new();
    if n.parent.is_some() && UNIT_SUFFIXES.iter().any(|s| n.name.ends_with(s)) {
        // A unit whose name has escapes is shown decoded, as the tree shows it.
        let name = match &n.identity {
            Some(i) if i.kind == IdentityKind::SystemdUnit && i.name.is_some() => i.name.clone(),
            _ => Some(String::from_utf8_lossy(&n.name).into_owned()),
        };
        out.push((
            GroupKind::Unit,
            String::from_utf8_lossy(&tree.path(id)).into_owned(),
            name,
        ));
    }
    let Some(i) = &n.identity else {
        return out;
    };
    if i.kind.is_engine_container() || i.kind.is_kube_container() {
        if let Some(cid) = i.id.as_ref().or(i.name.as_ref()) {
            out.push((GroupKind::Container, cid.clone(), i.name.clone()));
        }
    }
    let pod = match i.kind {
        IdentityKind::KubePod | IdentityKind::KubeContainer | IdentityKind::KubeSandbox => {
            i.pod.as_ref().and_then(|p| {
                let nn = match (&p.namespace, &p.name) {
                    (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
                    _ => None,
                };
                p.uid.clone().or(nn.clone()).map(|k| (k, nn))
            })
        }
        IdentityKind::PodmanPod => i.id.clone().map(|k| (k, i.name.clone())),
        _ => None,
    };
    if let Some((k, name)) = pod {
        out.push((GroupKind::Pod, k, name));
    }
    if let Some(node) = &i.node {
        out.push((
            GroupKind::KubeNode,
            node.name.clone(),
            Some(node.name.clone()),
        ));
    } else if let Some(k) = &i.kind_node {
        out.push((GroupKind::KubeNode, k.name.clone(), Some(k.name.clone())));
    }
    if let Some(uid) = i.user {
        out.push((GroupKind::User, uid.to_string(), Some(format!("uid {uid}"))));
    }
    out
}

/// The groups of `tree`, sorted by kind, then in the tree order of their first member.
/// Only identified cgroups make container, pod, node and user groups: build the tree
/// with [`crate::TreeBuilder::identify`].
pub fn groups(tree: &Tree) -> Vec<Group> {
    let all: Vec<Vec<(GroupKind, String, Option<String>)>> =
        (0..tree.nodes().len()).map(|id| keys(tree, id)).collect();
    let mut index: HashMap<(GroupKind, &str), usize> = HashMap::new();
    let mut out: Vec<Group> = Vec::new();
    for (id, ks) in all.iter().enumerate() {
        for (kind, key, name) in ks {
            // A member only when no ancestor is in the same group.
            let mut up = tree.node(id).parent;
            let mut inside = false;
            while let Some(p) = up {
                if all[p].iter().any(|(k2, key2, _)| k2 == kind && key2 == key) {
                    inside = true;
                    break;
                }
                up = tree.node(p).parent;
            }
            if inside {
                continue;
            }
            match index.get(&(*kind, key.as_str())) {
                Some(&g) => out[g].members.push(id),
                None => {
                    index.insert((*kind, key.as_str()), out.len());
                    out.push(Group {
                        kind: *kind,
                        key: key.clone(),
                        name: name.clone(),
                        members: vec![id],
                    });
                }
            }
        }
    }
    out.sort_by_key(|g| (g.kind, g.members.first().copied()));
    out
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.saturating_add(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn add_opt<T: Copy>(a: Option<T>, b: Option<T>, f: impl FnOnce(T, T) -> T) -> Option<T> {
    match (a, b) {
        (Some(x), Some(y)) => Some(f(x, y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn add_cpu(a: CpuStat, b: CpuStat) -> CpuStat {
    CpuStat {
        usage_usec: add(a.usage_usec, b.usage_usec),
        user_usec: add(a.user_usec, b.user_usec),
        system_usec: add(a.system_usec, b.system_usec),
        nr_periods: add(a.nr_periods, b.nr_periods),
        nr_throttled: add(a.nr_throttled, b.nr_throttled),
        throttled_usec: add(a.throttled_usec, b.throttled_usec),
    }
}

fn add_stat(a: MemoryStat, b: MemoryStat) -> MemoryStat {
    MemoryStat {
        anon: add(a.anon, b.anon),
        file: add(a.file, b.file),
        kernel: add(a.kernel, b.kernel),
        shmem: add(a.shmem, b.shmem),
        file_mapped: add(a.file_mapped, b.file_mapped),
        sock: add(a.sock, b.sock),
        slab: add(a.slab, b.slab),
        inactive_anon: add(a.inactive_anon, b.inactive_anon),
        active_anon: add(a.active_anon, b.active_anon),
        inactive_file: add(a.inactive_file, b.inactive_file),
        active_file: add(a.active_file, b.active_file),
        unevictable: add(a.unevictable, b.unevictable),
    }
}

fn add_events(a: MemoryEvents, b: MemoryEvents) -> MemoryEvents {
    MemoryEvents {
        low: add(a.low, b.low),
        high: add(a.high, b.high),
        max: add(a.max, b.max),
        oom: add(a.oom, b.oom),
        oom_kill: add(a.oom_kill, b.oom_kill),
        oom_group_kill: add(a.oom_group_kill, b.oom_group_kill),
    }
}

fn add_io(a: &mut Vec<IoDevice>, b: &[IoDevice]) {
    for d in b {
        match a
            .iter_mut()
            .find(|x| (x.stat.major, x.stat.minor) == (d.stat.major, d.stat.minor))
        {
            Some(x) => {
                x.stat.rbytes = x.stat.rbytes.saturating_add(d.stat.rbytes);
                x.stat.wbytes = x.stat.wbytes.saturating_add(d.stat.wbytes);
                x.stat.rios = x.stat.rios.saturating_add(d.stat.rios);
                x.stat.wios = x.stat.wios.saturating_add(d.stat.wios);
                x.stat.dbytes = x.stat.dbytes.saturating_add(d.stat.dbytes);
                x.stat.dios = x.stat.dios.saturating_add(d.stat.dios);
            }
            None => a.push(d.clone()),
        }
    }
}

/// The sum of several cgroups' usage, as the module docs say: counters added, limits,
/// local events, pressure and [`Usage::processes`] (a count of one cgroup's own
/// processes, not of its subtree) left out, errors kept.
pub fn sum<'a>(members: impl IntoIterator<Item = &'a Usage>) -> Usage {
    let mut s = Usage::default();
    for u in members {
        s.cpu = add_opt(s.cpu, u.cpu, add_cpu);
        s.memory = add_opt(
            s.memory,
            u.memory.map(|m| Memory {
                max: None,
                high: None,
                ..m
            }),
            |a, b| Memory {
                current: add(a.current, b.current),
                swap_current: add(a.swap_current, b.swap_current),
                max: None,
                high: None,
                stat: add_opt(a.stat, b.stat, add_stat),
            },
        );
        s.memory_events = add_opt(s.memory_events, u.memory_events, add_events);
        s.pids = add_opt(s.pids, u.pids.map(|p| Pids { max: None, ..p }), |a, b| {
            Pids {
                current: add(a.current, b.current),
                max: None,
            }
        });
        if let Some(io) = &u.io {
            add_io(s.io.get_or_insert_with(Vec::new), io);
        }
        s.errors.extend(u.errors.iter().cloned());
    }
    s
}

impl Group {
    /// The group's usage in `sample`: its member's own when it has one, else the sum of
    /// its sampled members ([`sum`]); `None` when no member was sampled.
    pub fn usage(&self, sample: &Sample) -> Option<Usage> {
        let got: Vec<&Usage> = self.members.iter().filter_map(|&m| sample.get(m)).collect();
        match got.as_slice() {
            [] => None,
            [one] if self.members.len() == 1 => Some((*one).clone()),
            many => Some(sum(many.iter().copied())),
        }
    }

    /// The group's rates between `prev` and `cur` (members matched by path,
    /// [`Sample::matches`]). One member: its own [`Rates`]. Several: CPU cores, I/O and
    /// events added over the members that have rates in this interval (a member new in
    /// `cur`, or recreated, is left out for this interval), the throttled ratio from the
    /// added period counts, pressure the largest member's. `None` when no member has
    /// rates.
    pub fn rates(&self, prev: &Sample, cur: &Sample) -> Option<Rates> {
        let interval = cur.at.saturating_sub(prev.at);
        let m = cur.matches(prev);
        let mut each: Vec<Rates> = Vec::new();
        for &id in &self.members {
            let (Some(c), Some(p)) = (cur.get(id), m.get(id).copied().flatten()) else {
                continue;
            };
            if let Some(r) = prev.get(p).and_then(|p| Rates::between(p, c, interval)) {
                each.push(r);
            }
        }
        if self.members.len() == 1 {
            return each.pop();
        }
        let mut it = each.into_iter();
        let mut acc = it.next()?;
        for r in it {
            acc.cpu = add_opt(acc.cpu, r.cpu, |a, b| {
                let periods = add(a.periods, b.periods);
                let throttled = add(a.throttled_periods, b.throttled_periods);
                super::CpuRates {
                    cores: add_opt(a.cores, b.cores, |x, y| x + y),
                    user_cores: add_opt(a.user_cores, b.user_cores, |x, y| x + y),
                    system_cores: add_opt(a.system_cores, b.system_cores, |x, y| x + y),
                    periods,
                    throttled_periods: throttled,
                    throttled_ratio: ratio(throttled, periods),
                    throttled_time: add_opt(a.throttled_time, b.throttled_time, |x, y| x + y),
                }
            });
            if let Some(io) = r.io {
                let a = acc.io.get_or_insert_with(Default::default);
                a.read_bytes += io.read_bytes;
                a.write_bytes += io.write_bytes;
                a.read_ios += io.read_ios;
                a.write_ios += io.write_ios;
                for d in io.devices {
                    match a
                        .devices
                        .iter_mut()
                        .find(|x| (x.major, x.minor) == (d.major, d.minor))
                    {
                        Some(x) => {
                            x.read_bytes += d.read_bytes;
                            x.write_bytes += d.write_bytes;
                            x.read_ios += d.read_ios;
                            x.write_ios += d.write_ios;
                        }
                        None => a.devices.push(d),
                    }
                }
            }
            acc.memory_events = add_opt(acc.memory_events, r.memory_events, |a, b| {
                super::EventDeltas {
                    high: add(a.high, b.high),
                    max: add(a.max, b.max),
                    oom: add(a.oom, b.oom),
                    oom_kill: add(a.oom_kill, b.oom_kill),
                    oom_group_kill: add(a.oom_group_kill, b.oom_group_kill),
                }
            });
            acc.pressure = PressureRates {
                cpu: max_stall(acc.pressure.cpu, r.pressure.cpu),
                memory: max_stall(acc.pressure.memory, r.pressure.memory),
                io: max_stall(acc.pressure.io, r.pressure.io),
            };
        }

        Some(acc)
    }
}

fn max_f(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    add_opt(a, b, f64::max)
}

fn max_stall(a: Option<StallRates>, b: Option<StallRates>) -> Option<StallRates> {
    add_opt(a, b, |a, b| StallRates {
        some: max_f(a.some, b.some),
        full: max_f(a.full, b.full),
        some_avg10: add_opt(a.some_avg10, b.some_avg10, std::cmp::max),
        full_avg10: add_opt(a.full_avg10, b.full_avg10, std::cmp::max),
    })
}
