//! Identification pass over a built tree: classify every cgroup from its path, resolve
//! names from runtime state, and tie monitor processes (shims, conmon) to what they serve.

use super::{Node, NodeError, NodeErrorKind, NodeId};
use crate::classify::{classify_one, host_context, Ctx, Kind};
use crate::fs::{self, CgroupMount, Scratch};
use crate::parse;
use crate::resolve::{Identity, NodeRef, ProcessRole, ResolveError, Resolver, RootKey};
use crate::runtime::IdentityKind;
use crate::trace::ChainEntry;
use std::collections::HashMap;
use std::os::fd::AsFd;

/// Path components of every node, from the hierarchy root.
fn components(nodes: &[Node], id: NodeId) -> Vec<&[u8]> {
    let mut chain = Vec::new();
    let mut cur = Some(id);
    while let Some(i) = cur {
        chain.push(i);
        cur = nodes[i].parent;
    }
    let mut out: Vec<&[u8]> = Vec::new();
    for (k, &i) in chain.iter().rev().enumerate() {
        if k == 0 {
            out.extend(
                nodes[i]
                    .name
                    .split(|&b| b == b'/')
                    .filter(|c| !c.is_empty()),
            );
        } else {
            out.push(&nodes[i].name);
        }
    }
    out
}

/// Whose cgroup this is, for the identification (only that user's runtime state may name
/// it; `None`: root's). The first of: the owner of an ancestor (a user who controls a
/// cgroup controls everything below it, whatever the names there say), the owner of the
/// cgroup's directory when it is not root (a delegated cgroup, `dir_uid`, known on a
/// live host), the UID in a `user-UID.slice` or `user@UID.service` name.
pub(crate) fn cgroup_owner(
    inherited: Option<u32>,
    dir_uid: Option<u32>,
    kind: &Kind,
) -> Option<u32> {
    inherited.or(dir_uid.filter(|&u| u != 0)).or(match kind {
        Kind::UserSlice { uid } | Kind::UserManager { uid } => Some(*uid),
        _ => None,
    })
}

pub(crate) fn record(node: &mut Node, errors: Vec<ResolveError>) {
    for e in errors {
        node.errors.push(NodeError {
            path: e.path,
            kind: if e.permission {
                NodeErrorKind::PermissionDenied
            } else {
                NodeErrorKind::State(e.message)
            },
        });
    }
}

/// The first PID of `<cgroup>/<sub>/init.scope/cgroup.procs`, read from disk.
pub fn init_pid_on_disk(mount: &CgroupMount, cgroup_rel: &[u8], sub: &[u8]) -> Option<u32> {
    use std::os::unix::ffi::OsStrExt;
    let mut rel = cgroup_rel.strip_prefix(b"/").unwrap_or(cgroup_rel).to_vec();
    for part in [sub, b"init.scope"] {
        if part.is_empty() {
            continue;
        }
        if !rel.is_empty() {
            rel.push(b'/');
        }
        rel.extend_from_slice(part);
    }
    // Below the mount, no link followed (a `--root` directory may hold any).
    let mount_fd = fs::open_dir_path(&mount.dir).ok()?;
    let dir = fs::state::open_dir_beneath(
        mount_fd.as_fd(),
        std::path::Path::new(std::ffi::OsStr::from_bytes(&rel)),
    )
    .ok()?;
    let mut scratch = Scratch::new();
    let b = fs::read_file(dir.as_fd(), c"cgroup.procs", &mut scratch).ok()?;
    parse::pids(b).filter_map(Result::ok).find(|&p| p != 0)
}

/// What identifying one cgroup needs besides its name.
pub struct Facts<'a> {
    /// Its kind, from [`classify_path`](crate::classify::classify_path).
    pub kind: &'a Kind,
    /// Its raw name.
    pub name: &'a [u8],
    /// Its parent's raw name (`None` at the walk's root).
    pub parent_name: Option<&'a [u8]>,
    /// The user whose cgroup this is (`cgroup_owner`: only that user's state names it).
    pub owner: Option<u32>,
    /// Where runtime state is read for it (its enclosing container's root, or the host).
    pub root: RootKey,
    /// It is below a container's cgroup (identified or only container-shaped): its
    /// names are the container's, not the host's.
    pub in_container: bool,
    /// The Kubernetes node it is directly inside (for `init.scope`).
    pub parent_kind_node: Option<&'a str>,
    /// The Kubernetes node it runs in: the nearest enclosing container that is a node
    /// (given to the pods and pod containers inside it).
    pub node: Option<&'a NodeRef>,
    /// Names conmon processes gave to container ids.
    pub conmon_names: &'a HashMap<String, Option<String>>,
    /// `children(sub)`: the names of the cgroup's children (of its child `sub` when not
    /// empty).
    pub children: &'a dyn Fn(&[u8]) -> Vec<Vec<u8>>,
    /// `init_pid(sub)`: the first PID of `<sub>/init.scope`.
    pub init_pid: &'a dyn Fn(&[u8]) -> Option<u32>,
    /// The first PID in the cgroup itself, else in one of its
    /// [`OWN_PROCESS_SUBGROUPS`](crate::runtime::OWN_PROCESS_SUBGROUPS): a process of the
    /// container, whose root holds the container's own state.
    pub first_pid: &'a dyn Fn() -> Option<u32>,
}

/// Whether a shape is a container's cgroup (its inside is a fresh host).
pub(crate) fn is_container_shape(kind: &Kind) -> bool {
    kind.is_container()
        || matches!(
            kind,
            Kind::Named {
                what: IdentityKind::LxcContainer
                    | IdentityKind::Machine
                    | IdentityKind::ContainerdContainer
                    | IdentityKind::KubeContainer,
                ..
            }
        )
}

/// Rule 4 of the security model for the families whose state at the host root is root's
/// alone (the CRI runtimes' bundles and configs, the kubelet's logs, machined's records,
/// containerd's tasks): a cgroup a user owns (`Facts::owner`) is never named from them,
/// whatever its name says; it is shown as not identified. (podman, docker, the OCI
/// runtimes and LXC read the owner's own state themselves; inside a container the state
/// read is that container's.)
fn owners_state_only(f: &Facts<'_>, ident: Identity) -> Identity {
    let users = f.owner.filter(|&u| u != 0);
    let named_from_roots_state = matches!(
        ident.kind,
        IdentityKind::KubePod
            | IdentityKind::KubeContainer
            | IdentityKind::KubeSandbox
            | IdentityKind::CrioConmon
            | IdentityKind::ContainerdContainer
            | IdentityKind::Machine
            | IdentityKind::NspawnSupervisor
    ) || (ident.kind == IdentityKind::Container
        && ident.runtime == Some("containerd"));
    match users {
        Some(u) if f.root == RootKey::Host && named_from_roots_state => unidentified(format!(
            "a {} shape in a cgroup user {u} owns; root's state does not name a user's cgroup",
            ident.kind
        )),
        _ => ident,
    }
}

/// An identity for a cgroup whose shape claims something that no evidence confirms.
pub fn unidentified(seen: String) -> Identity {
    Identity {
        kind: IdentityKind::Unidentified,
        seen: Some(seen),
        ..Default::default()
    }
}

/// Identifies one cgroup through the family its shape belongs to
/// ([`crate::runtime::TABLE`]), then, for a container, whether a Kubernetes node runs
/// in it. Returns the identity and the root its children's state is read in: a
/// container's own root (through its init) once the container is identified, so the
/// engines and nodes inside it are named from their own state.
pub fn identify_node(r: &mut Resolver, f: &Facts<'_>) -> (Option<Identity>, RootKey) {
    let mut root = f.root;
    let mut ident = f
        .kind
        .family()
        .and_then(|fam| crate::runtime::runtime(fam).identify(r, f));
    if ident.is_none() {
        ident = crate::runtime::containerd::plain_task(r, f);
    }
    ident = ident.map(|i| owners_state_only(f, i));
    let is_container = ident
        .as_ref()
        .is_some_and(|i| i.kind.is_engine_container() || i.kind.is_kube_container());
    if is_container || f.kind.is_container() {
        let lists: Vec<(Vec<u8>, Vec<Vec<u8>>)> = [&b""[..], b"container"]
            .iter()
            .map(|p| (p.to_vec(), (f.children)(p)))
            .collect();
        let child_names = |prefix: &[u8]| -> Vec<&[u8]> {
            lists
                .iter()
                .find(|(p, _)| p == prefix)
                .map(|(_, v)| v.iter().map(|n| &n[..]).collect())
                .unwrap_or_default()
        };
        if let Some(sub) = crate::runtime::kind::looks_like_node(child_names) {
            let init = (f.init_pid)(&sub);
            if let Some(id) = ident
                .as_mut()
                .filter(|i| i.kind != IdentityKind::Unidentified)
            {
                r.node(id, init);
            }
            if let Some(pid) = init.filter(|&p| r.is_own_root(p, f.root)) {
                root = RootKey::Proc(pid);
            }
        } else if is_container {
            // Engines inside a container (docker-in-docker, podman-in-podman, at any
            // depth): their state is in the container's own root, the root of one of its
            // processes (not one that shares the enclosing root).
            if let Some(pid) = (f.first_pid)().filter(|&p| r.is_own_root(p, f.root)) {
                root = RootKey::Proc(pid);
            }
        }
    }
    // Pods and their containers run on the node they are inside.
    if let Some(id) = ident.as_mut().filter(|i| {
        matches!(
            i.kind,
            IdentityKind::KubePod | IdentityKind::KubeContainer | IdentityKind::KubeSandbox
        )
    }) {
        if id.node.is_none() {
            id.node = f.node.cloned();
        }
    }
    (ident, root)
}

/// The UIDs (real, effective, saved, fs) of a process whose `argv[0]` claims a monitor,
/// from its `status` (the walk's read when it made one, [`Node::monitor_status`]);
/// `None` for any other process (no read).
fn monitor_uids(r: &mut Resolver, pid: u32, argv0: &[u8]) -> Option<[u32; 4]> {
    if !crate::runtime::claims_monitor(argv0) {
        return None;
    }
    r.process_status(pid).and_then(|(u, _)| u)
}

/// conmon's `-c ID -n NAME` of every conmon process of the tree whose claim holds (its
/// tokens are checked and it runs as the owner of that container: see
/// [`Resolver::process_role`]). Also tells the resolver where containerd and LXC keep
/// their state, as their own processes say ([`Resolver::note_process`]).
fn conmon_names(nodes: &[Node], r: &mut Resolver) -> HashMap<String, Option<String>> {
    let mut out = HashMap::new();
    let mut args: Vec<&[u8]> = Vec::new();
    for node in nodes {
        for p in node.processes.iter().flatten() {
            // `argv[0]` first: the arguments are split only for the few that need them.
            let Some(exe) = p.args().next() else { continue };
            if !crate::runtime::names_state(exe) && crate::runtime::base(exe) != b"conmon" {
                continue;
            }
            args.clear();
            args.extend(p.args());
            learn_from(r, p.pid, &args, &mut out);
        }
    }
    out
}

/// What the identification learns from one host process before it names anything (the
/// same for the tree and `cgtree pid`): where runtimes keep their state, as their own
/// processes say ([`crate::runtime::note_process`]), and podman conmon's names of
/// container ids whose claims hold (into `names`).
pub(crate) fn learn_from(
    r: &mut Resolver,
    pid: u32,
    args: &[&[u8]],
    names: &mut HashMap<String, Option<String>>,
) {
    let Some(exe) = args.first() else { return };
    if crate::runtime::names_state(exe) {
        let uids = r.process_status(pid).and_then(|(u, _)| u);
        r.note_process(pid, args, uids);
    }
    if crate::runtime::base(exe) == b"conmon" {
        let uids = monitor_uids(r, pid, exe);
        if let Some(ProcessRole::Conmon {
            id,
            name,
            runtime: "podman",
            ..
        }) = r.process_role(args, RootKey::Host, uids)
        {
            names.insert(id, name);
        }
    }
}

/// Identifies every node and the monitor processes of a built tree with `r` (e.g. one
/// that records what it reads); returns the cgroups above its root, identified (empty
/// when the root is the hierarchy's).
///
/// A tree whose root is below the hierarchy's root (a start path) is identified as the
/// same cgroups are in the whole tree: the cgroups above it are read and identified
/// first, from `/` down (only those, as `cgtree pid` reads a process's chain: their
/// names, processes and children's names), and give its root their context (the
/// container it is in and where that container's state is read, the Kubernetes node,
/// the owner). What only other processes tell (where a runtime keeps its state,
/// conmon's names of containers) is learned from the tree's own processes; when an
/// identity is left open (not identified, a container without its name), from every
/// process (one pass over `/proc`, as the whole tree's walk reads them all), and the
/// tree identified again. Returns the chain above the root, `/` first.
pub fn identify_with(nodes: &mut [Node], mount: &CgroupMount, r: &mut Resolver) -> Vec<ChainEntry> {
    // The statuses the walk read (live host, verified procfs): not read again.
    for node in nodes.iter() {
        for m in &node.monitor_status {
            r.note_status(m.pid, m.uid, m.ppid);
        }
    }
    let conmons = conmon_names(nodes, r);
    let above: Vec<Vec<u8>> = match nodes.first() {
        Some(n0) if n0.parent.is_none() => {
            let mut c: Vec<Vec<u8>> = components(nodes, 0).iter().map(|c| c.to_vec()).collect();
            if c.is_empty() {
                return {
                    pass(nodes, mount, r, &conmons, None);
                    Vec::new()
                };
            }
            c.pop();
            c
        }
        _ => {
            pass(nodes, mount, r, &conmons, None);
            return Vec::new();
        }
    };
    let comps: Vec<&[u8]> = above.iter().map(|c| &c[..]).collect();
    let host = r.host.clone();
    let errors_before: Vec<usize> = nodes.iter().map(|n| n.errors.len()).collect();
    let mut chain = crate::trace::walk_chain(&host, mount, &comps, r, &conmons);
    pass(nodes, mount, r, &conmons, Some(&chain));
    let open = chain
        .chain
        .iter()
        .filter_map(|c| c.identity.as_ref())
        .chain(nodes.iter().filter_map(|n| n.identity.as_ref()))
        .any(crate::trace::identity_open)
        || nodes.iter().any(|n| {
            n.processes
                .iter()
                .flatten()
                .any(|p| matches!(&p.role, Some(ProcessRole::Shim { pod: None, .. })))
        });
    if open {
        if let Ok(proc_fd) = fs::open_dir_path(&host.proc_dir()) {
            // The tree's own processes were learned from already (`conmon_names`): only
            // the others are read. The tree is identified again only when they taught
            // something (a runtime's state, conmon's names): with the same knowledge a
            // second pass would give the same answers.
            let known: std::collections::HashSet<u32> = nodes
                .iter()
                .flat_map(|n| n.processes.iter().flatten().map(|p| p.pid))
                .collect();
            let facts = r.learned_count();
            let mut names =
                crate::trace::learn_all(proc_fd.as_fd(), r, &mut Scratch::new(), &known);
            let taught =
                r.learned_count() > facts || names.keys().any(|k| !conmons.contains_key(k));
            if taught {
                r.forget_answers();
                for (id, name) in conmons {
                    names.entry(id).or_insert(name);
                }
                for (node, len) in nodes.iter_mut().zip(errors_before) {
                    node.errors.truncate(len);
                }
                chain = crate::trace::walk_chain(&host, mount, &comps, r, &names);
                pass(nodes, mount, r, &names, Some(&chain));
            }
        }
    }
    // The chain's own read errors go on the tree's root: it is where they were met.
    if let Some(n0) = nodes.first_mut() {
        n0.errors.append(&mut chain.errors);
    }
    chain.chain
}

/// One identification pass over `nodes` (pre-order), the root's context given by the
/// identified chain above it (`None`: the root is the hierarchy's, or its context is
/// taken from its path's shapes alone).
fn pass(
    nodes: &mut [Node],
    mount: &CgroupMount,
    r: &mut Resolver,
    conmons: &HashMap<String, Option<String>>,
    above: Option<&crate::trace::ChainWalk>,
) {
    let n = nodes.len();
    let mut owner: Vec<Option<u32>> = vec![None; n];
    let mut root: Vec<RootKey> = vec![RootKey::Host; n];
    // The node whose identity names the Kubernetes node each node runs in.
    let mut node_at: Vec<Option<NodeId>> = vec![None; n];
    // Each node is classified from its parent's context (nodes are in pre-order: a
    // parent comes first), so the pass is linear in the tree, whatever its depth.
    let mut ctxs: Vec<Option<Ctx>> = vec![None; n];
    // Whether a node is a container's cgroup or below one (its children's names are the
    // container's).
    let mut contained: Vec<bool> = vec![false; n];
    for i in 0..n {
        let parent = nodes[i].parent;
        let mut in_container = parent.is_some_and(|p| contained[p]);
        let (kind, ctx) = match parent.and_then(|p| ctxs[p].as_ref()) {
            Some(pctx) => classify_one(&nodes[i].name, pctx),
            None => {
                let mut ctx = host_context();
                let mut kind = Kind::Root;
                for c in components(nodes, i) {
                    in_container |= is_container_shape(&kind);
                    (kind, ctx) = classify_one(c, &ctx);
                }
                (kind, ctx)
            }
        };
        // The root of a subtree: its context is the identified chain above it.
        let at_root = above.filter(|_| parent.is_none());
        if let Some(a) = at_root {
            in_container = a.in_container;
        }
        ctxs[i] = Some(ctx);
        let inherited_owner = match at_root {
            Some(a) => a.owner,
            None => parent.and_then(|p| owner[p]),
        };
        owner[i] = cgroup_owner(inherited_owner, nodes[i].dir_uid, &kind);
        let inherited = match at_root {
            Some(a) => a.root,
            None => parent.map_or(RootKey::Host, |p| root[p]),
        };
        // The node container this cgroup is directly inside (for its `init.scope`).
        let parent_node = match at_root {
            Some(a) => a.parent_node.as_ref(),
            None => parent
                .and_then(|p| nodes[p].identity.as_ref())
                .filter(|x| x.kind.is_engine_container())
                .and_then(|x| x.node.as_ref()),
        };
        let parent_node_ref = parent_node.cloned();
        let parent_node = parent_node.map(|k| k.name.clone());
        let (ident, child_root) = {
            let nodes_ref: &[Node] = nodes;
            let children = |sub: &[u8]| -> Vec<Vec<u8>> {
                let base = if sub.is_empty() {
                    Some(i)
                } else {
                    nodes_ref[i]
                        .children
                        .iter()
                        .copied()
                        .find(|&c| &nodes_ref[c].name[..] == sub)
                };
                base.map(|b| {
                    nodes_ref[b]
                        .children
                        .iter()
                        .map(|&c| nodes_ref[c].name.to_vec())
                        .collect()
                })
                .unwrap_or_default()
            };
            let init = |sub: &[u8]| {
                init_pid_in_tree(nodes_ref, i, sub).or_else(|| {
                    // The path only when the tree does not have the answer.
                    let path = components(nodes_ref, i).join(&b'/');
                    init_pid_on_disk(mount, &path, sub)
                })
            };
            let first_pid = || {
                let first = |n: NodeId| {
                    nodes_ref[n]
                        .processes
                        .as_ref()
                        .and_then(|p| p.first())
                        .map(|p| p.pid)
                };
                first(i).or_else(|| {
                    crate::runtime::OWN_PROCESS_SUBGROUPS
                        .iter()
                        .find_map(|sub| {
                            nodes_ref[i]
                                .children
                                .iter()
                                .copied()
                                .find(|&c| &nodes_ref[c].name[..] == *sub)
                                .and_then(first)
                        })
                })
            };
            // The nearest node container in the tree, else above it.
            let enclosing = parent
                .and_then(|p| node_at[p])
                .and_then(|k| nodes_ref[k].identity.as_ref())
                .and_then(|x| x.node.as_ref())
                .or_else(|| above.and_then(|a| a.enclosing.as_ref()));
            let facts = Facts {
                kind: &kind,
                name: &nodes_ref[i].name,
                parent_name: parent.map(|p| &nodes_ref[p].name[..]),
                owner: owner[i],
                root: inherited,
                in_container,
                parent_kind_node: parent_node.as_deref(),
                node: enclosing,
                conmon_names: conmons,
                children: &children,
                init_pid: &init,
                first_pid: &first_pid,
            };
            identify_node(r, &facts)
        };
        root[i] = child_root;
        contained[i] = in_container
            || is_container_shape(&kind)
            || ident.as_ref().is_some_and(|x| {
                x.kind.is_engine_container()
                    || x.kind.is_kube_container()
                    || x.kind == IdentityKind::Unidentified
            });
        node_at[i] = if ident
            .as_ref()
            .is_some_and(|x| x.node.is_some() && x.kind.is_engine_container())
        {
            Some(i)
        } else {
            parent.and_then(|p| node_at[p])
        };
        let mut ident = ident;
        if let Some(id) = ident.as_mut().filter(|x| x.kind == IdentityKind::Init) {
            id.node = parent_node_ref;
        }
        nodes[i].identity = ident;
        let errs = r.take_errors();
        record(&mut nodes[i], errs);
        // Monitor processes: their state is read in the root of the container they run in.
        // Only a process whose `argv[0]` claims a monitor can have a role
        // ([`crate::runtime::claims_monitor`]); the others' arguments are not split.
        let key = root[i];
        let mut roles = Vec::new();
        for (k, p) in nodes[i].processes.iter().flatten().enumerate() {
            let Some(exe) = p.args().next() else { continue };
            if !crate::runtime::claims_monitor(exe) {
                continue;
            }
            let args: Vec<&[u8]> = p.args().collect();
            let uids = monitor_uids(r, p.pid, exe);
            if let Some(role) = r.process_role(&args, key, uids) {
                roles.push((k, role));
            }
        }
        if let Some(procs) = nodes[i].processes.as_mut() {
            for p in procs.iter_mut() {
                p.role = None;
            }
            for (k, role) in roles {
                procs[k].role = Some(role);
            }
        }
        let errs = r.take_errors();
        record(&mut nodes[i], errs);
    }
    label_started(nodes, &root, r);
}

/// Processes podman's conmon started outside their container's cgroup (rootless podman,
/// cgroupfs manager, no `--cgroup-parent`: they stay in the cgroup the CLI ran in): each
/// host conmon's pidfile names one, which gets the role [`ProcessRole::Started`] unless
/// its cgroup already is that container's. One small read per conmon: only a pidfile
/// where podman keeps it for that conmon's user ([`Resolver::conmon_pidfile_pid`]), and
/// the PID it names counts only when conmon is its parent and it gained no privilege
/// ([`Resolver::started_by`]).
fn label_started(nodes: &mut [Node], root: &[RootKey], r: &mut Resolver) {
    let mut started: HashMap<u32, (String, Option<String>)> = HashMap::new();
    for (i, node) in nodes.iter().enumerate() {
        if root[i] != RootKey::Host {
            continue;
        }
        for p in node.processes.iter().flatten() {
            if let Some(ProcessRole::Conmon {
                id,
                name,
                runtime: "podman",
                ..
            }) = &p.role
            {
                let args: Vec<&[u8]> = p.args().collect();
                // The role was given for these UIDs (all four equal).
                let Some([uid, ..]) = monitor_uids(r, p.pid, args.first().copied().unwrap_or(b""))
                else {
                    continue;
                };
                if let Some(pid) = r.conmon_pidfile_pid(&args, uid) {
                    if r.started_by(pid, p.pid, uid) {
                        started.insert(pid, (id.clone(), name.clone()));
                    }
                }
            }
        }
    }
    if started.is_empty() {
        return;
    }
    for i in 0..nodes.len() {
        let in_container = |id: &str| {
            let mut cur = Some(i);
            while let Some(c) = cur {
                if nodes[c].identity.as_ref().and_then(|x| x.id.as_deref()) == Some(id) {
                    return true;
                }
                cur = nodes[c].parent;
            }
            false
        };
        let mut labels = Vec::new();
        for (k, p) in nodes[i].processes.iter().flatten().enumerate() {
            if let (None, Some((id, name))) = (&p.role, started.get(&p.pid)) {
                if !in_container(id) {
                    labels.push((k, id.clone(), name.clone()));
                }
            }
        }
        if let Some(procs) = nodes[i].processes.as_mut() {
            for (k, id, name) in labels {
                procs[k].role = Some(ProcessRole::Started { id, name });
            }
        }
    }
}

fn init_pid_in_tree(nodes: &[Node], id: NodeId, sub: &[u8]) -> Option<u32> {
    let base = if sub.is_empty() {
        id
    } else {
        nodes[id]
            .children
            .iter()
            .copied()
            .find(|&c| &nodes[c].name[..] == sub)?
    };
    let init = nodes[base]
        .children
        .iter()
        .copied()
        .find(|&c| &nodes[c].name[..] == b"init.scope")?;
    nodes[init].processes.as_ref()?.first().map(|p| p.pid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Host;
    use crate::TreeBuilder;

    fn identify(nodes: &mut [Node], host: &Host, mount: &CgroupMount) -> Vec<ChainEntry> {
        identify_with(nodes, mount, &mut Resolver::new(host))
    }

    fn put(root: &std::path::Path, rel: &str, body: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    fn cgroup(root: &std::path::Path, rel: &str, procs: &str) {
        for (f, b) in [
            ("cgroup.type", "domain\n"),
            ("cgroup.procs", procs),
            ("cgroup.controllers", ""),
            ("cgroup.subtree_control", ""),
        ] {
            put(root, &format!("sys/fs/cgroup/{rel}/{f}"), b);
        }
    }

    /// The breaker's finding: a user slice inside a container was named from the host's
    /// passwd (UID 1000 inside is another UID on the host). Inside an identified container
    /// it is named from the container's own `etc/passwd`; inside one whose root is not
    /// known, not at all.
    #[test]
    fn user_slices_inside_a_container_are_named_by_the_containers_passwd() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let id = "7".repeat(64);
        let ghost = "8".repeat(64);
        put(
            root,
            "etc/passwd",
            "root:x:0:0::/root:/bin/sh\nhostuser:x:1000:1000::/home/h:/bin/sh\n",
        );
        put(root, "sys/fs/cgroup/cgroup.procs", "");
        for (top, pid) in [(&id, 500), (&ghost, 600)] {
            let scope = format!("system.slice/docker-{top}.scope");
            cgroup(root, "system.slice", "");
            cgroup(root, &scope, &format!("{pid}\n"));
            let slice = format!("{scope}/user.slice/user-1000.slice");
            cgroup(root, &format!("{scope}/user.slice"), "");
            cgroup(root, &slice, &format!("{}\n", pid + 1));
            for (p, cg) in [(pid, scope.clone()), (pid + 1, slice)] {
                put(root, &format!("proc/{p}/cgroup"), &format!("0::/{cg}\n"));
                put(root, &format!("proc/{p}/cmdline"), "sleep\0");
                put(
                    root,
                    &format!("proc/{p}/status"),
                    "Name:\tsleep\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
                );
            }
        }
        put(
            root,
            &format!("var/lib/docker/containers/{id}/config.v2.json"),
            r#"{"Name":"/sys","Config":{"Image":"debian"}}"#,
        );
        put(
            root,
            "proc/500/root/etc/passwd",
            "root:x:0:0::/root:/bin/sh\nctruser:x:1000:1000::/home/c:/bin/sh\n",
        );
        let mut t = TreeBuilder::new().host_root(root).build().unwrap();
        identify(&mut t.nodes, &t.host, &t.mount);
        let slice = |top: &str| {
            let n = t
                .nodes
                .iter()
                .position(|n| {
                    &n.name[..] == b"user-1000.slice" && {
                        let sc = t.nodes[t.nodes[n.parent.unwrap()].parent.unwrap()]
                            .name
                            .clone();
                        sc.ends_with(format!("{top}.scope").as_bytes())
                    }
                })
                .unwrap();
            t.nodes[n].identity.as_ref().and_then(|i| i.name.clone())
        };
        assert_eq!(slice(&id).as_deref(), Some("ctruser"));
        assert_eq!(slice(&ghost), None);
    }

    const ROOT_DOCKER: &str =
        "docker-2c30eea7181cde8c36fd4d1e29be2aca6536eb1c2c3b9ec4c502bc68fc20a303.scope";

    /// The breaker's finding: a user with a delegated cgroup made `docker-<id>.scope`
    /// naming root's docker container, and root's state named it (`[docker container
    /// prod-db]`, rootful, over the user's own process). A cgroup whose directory a user
    /// owns is that user's: only the user's own state names it, whatever its name says.
    #[test]
    fn a_cgroup_a_user_owns_is_not_named_from_roots_state() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/docker");
        let label = |dir_uid: Option<u32>| {
            let mut t = TreeBuilder::new().host_root(root).build().unwrap();
            let id = t
                .nodes
                .iter()
                .position(|n| &n.name[..] == ROOT_DOCKER.as_bytes())
                .unwrap();
            t.nodes[id].dir_uid = dir_uid;
            identify(&mut t.nodes, &t.host, &t.mount);
            t.nodes[id].identity.as_ref().and_then(|i| i.name.clone())
        };
        // Root's own cgroup (owned by root, or owners unknown in a fixture): named.
        assert!(label(None).is_some());
        assert_eq!(label(Some(0)), label(None));
        // The same name in a cgroup a user owns: not root's container.
        assert_eq!(label(Some(4242)), None);
    }

    /// The second breaker's finding: a user who owns a delegated cgroup made a kubelet pod
    /// slice with `crio-<id>.scope` and `crio-conmon-<id>.scope` naming root's CRI-O
    /// container, and root's CRI-O config named them (pod and container). The CRI
    /// runtimes', kubelet's and machined's state is root's: it never names a user's cgroup.
    #[test]
    fn roots_cri_state_never_names_a_cgroup_a_user_owns() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/crio");
        let labels = |dir_uid: Option<u32>| {
            let mut t = TreeBuilder::new().host_root(root).build().unwrap();
            let pod = t
                .nodes
                .iter()
                .position(|n| n.name.starts_with(b"kubepods-besteffort-pod"))
                .unwrap();
            t.nodes[pod].dir_uid = dir_uid;
            identify(&mut t.nodes, &t.host, &t.mount);
            let mut below: Vec<(IdentityKind, Option<String>)> = t
                .nodes
                .iter()
                .enumerate()
                .filter(|(i, n)| {
                    let mut cur = n.parent;
                    while let Some(c) = cur {
                        if c == pod {
                            return true;
                        }
                        cur = t.nodes[c].parent;
                    }
                    *i == pod
                })
                .filter_map(|(_, n)| n.identity.as_ref().map(|x| (x.kind, x.name.clone())))
                .collect();
            below.sort_by_key(|(k, _)| k.as_str());
            below
        };
        let roots = labels(None);
        assert!(roots.iter().any(|(k, _)| *k == IdentityKind::KubeContainer));
        assert!(roots.iter().any(|(k, _)| *k == IdentityKind::CrioConmon));
        assert!(roots.iter().any(|(k, _)| *k == IdentityKind::KubePod));
        let users = labels(Some(4242));
        assert!(!users.is_empty());
        assert!(
            users
                .iter()
                .all(|(k, n)| *k == IdentityKind::Unidentified && n.is_none()),
            "{users:?}"
        );
    }

    #[test]
    fn the_owner_is_the_outermost_user_then_the_directory_then_the_name() {
        let slice = Kind::UserSlice { uid: 1000 };
        assert_eq!(cgroup_owner(None, None, &slice), Some(1000));
        assert_eq!(cgroup_owner(None, Some(0), &slice), Some(1000));
        assert_eq!(cgroup_owner(None, Some(0), &Kind::Plain), None);
        assert_eq!(cgroup_owner(None, Some(7), &Kind::Plain), Some(7));
        // A user's `user-0.slice` below their own cgroup stays theirs.
        let fake = Kind::UserSlice { uid: 0 };
        assert_eq!(cgroup_owner(Some(7), Some(7), &fake), Some(7));
        assert_eq!(cgroup_owner(None, Some(7), &fake), Some(7));
    }
}
