//! `cgtree userns`: the user namespaces of an identified [`Tree`], with what their
//! processes run in (containers, kind nodes, pods). Built on [`crate::userns`], which
//! reads the processes' users and maps and knows nothing of the tree.

use super::{Process, Tree};
use crate::error::Error;
use crate::userns::{group, UserNs, UserReader};
use std::collections::{BTreeMap, HashMap};

/// What the processes of a namespace belong to, from the identified tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Holdings {
    /// Outermost containers (host-level podman/docker containers).
    pub containers: Vec<crate::resolve::Identity>,
    /// Kind nodes.
    pub kind_nodes: Vec<crate::resolve::KindNode>,
    /// Pods.
    pub pods: Vec<crate::resolve::PodRef>,
}

/// For each PID of the tree: the node it is listed in.
pub fn pid_nodes(tree: &Tree) -> HashMap<u32, usize> {
    let mut m = HashMap::new();
    for (i, n) in tree.nodes().iter().enumerate() {
        for p in n.processes.iter().flatten() {
            m.insert(p.pid, i);
        }
    }
    m
}

/// What the processes `pids` run in: containers, kind nodes and pods on their cgroups'
/// paths (each listed once, in tree order).
pub fn holdings(tree: &Tree, where_: &HashMap<u32, usize>, pids: &[u32]) -> Holdings {
    let mut nodes: Vec<usize> = pids.iter().filter_map(|p| where_.get(p).copied()).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let mut h = Holdings::default();
    // Every node whose ancestors were looked at: a chain stops at the first one, so the
    // work is linear in the tree, not in the number of processes times the depth.
    let mut seen = std::collections::HashSet::new();
    for n in nodes {
        let mut cur = Some(n);
        let mut chain = Vec::new();
        while let Some(c) = cur {
            if !seen.insert(c) {
                break;
            }
            chain.push(c);
            cur = tree.node(c).parent;
        }
        for &c in chain.iter().rev() {
            let Some(id) = &tree.node(c).identity else {
                continue;
            };
            match id.kind {
                k if k.is_engine_container() => {
                    h.containers.push(id.clone());
                    if let Some(k) = &id.kind_node {
                        h.kind_nodes.push(k.clone());
                    }
                }
                crate::runtime::IdentityKind::KubePod => h.pods.extend(id.pod.clone()),
                _ => {}
            }
        }
    }
    h
}

/// The user namespaces of a tree's processes (read with users), grouped, with what
/// each one's processes run in. Building it reads each namespace's maps (and on a live
/// host asks the kernel for parents and owners); the rest is the tree's.
#[non_exhaustive]
pub struct Report<'a> {
    tree: &'a Tree,
    /// The namespaces, by inode.
    pub namespaces: Vec<UserNs>,
    /// What the processes of `namespaces[i]` run in.
    pub holdings: Vec<Holdings>,
    procs: HashMap<u32, &'a Process>,
    where_: HashMap<u32, usize>,
}

impl<'a> Report<'a> {
    /// Groups the processes of `tree` that were read with their users by user
    /// namespace. Errors: the host's `/proc` cannot be opened.
    ///
    /// # Errors
    /// [`Error::Io`] naming the host's `/proc` when it cannot be opened.
    pub fn new(tree: &'a Tree) -> Result<Self, Error> {
        let mut users = BTreeMap::new();
        let mut procs = HashMap::new();
        for n in tree.nodes() {
            for p in n.processes.iter().flatten() {
                if let Some(u) = &p.user {
                    users.insert(p.pid, u.clone());
                    procs.insert(p.pid, p);
                }
            }
        }
        let mut reader = UserReader::new(tree.host())?;
        let namespaces = group(&mut reader, &users);
        let where_ = pid_nodes(tree);
        let holdings = namespaces
            .iter()
            .map(|n| holdings(tree, &where_, &n.pids))
            .collect();
        Ok(Report {
            tree,
            namespaces,
            holdings,
            procs,
            where_,
        })
    }

    /// The tree it was built from.
    pub fn tree(&self) -> &'a Tree {
        self.tree
    }

    /// Process `pid` of the tree, when it was read with its user.
    pub fn process(&self, pid: u32) -> Option<&'a Process> {
        self.procs.get(&pid).copied()
    }

    /// The node of the tree that lists process `pid`.
    pub fn node_of(&self, pid: u32) -> Option<usize> {
        self.where_.get(&pid).copied()
    }
}
