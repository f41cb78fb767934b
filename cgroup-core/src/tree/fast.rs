//! The tree from the BPF iterators (feature `bpf`): the same nodes, in the same arena
//! order, with the same pruning as the file walk ([`super::Walk`]), built from one
//! [`crate::bpf::snapshot`] instead of a directory and three files per cgroup. The
//! processes' command lines come from the snapshot too, except those the snapshot
//! leaves to `/proc` (longer than [`crate::bpf::CMDLINE_MAX`], rewritten by the process)
//! and kernel threads' names: [`super::TreeBuilder::read_process_list`] reads those.

use super::{
    cgroup_file, ControllerList, FastWalked, Node, NodeError, NodeErrorKind, NodeId, Process,
    TreeBuilder, MAX_PROCESSES,
};
use crate::bpf::{self, BpfError, ControllerNames, Walks};
use crate::parse::CgroupType;
use crate::CgroupMount;
use std::collections::HashMap;
use std::os::fd::BorrowedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What the task iterator said of one process, for the process-list reader.
#[derive(Debug)]
pub(super) struct Facts {
    pub(super) cmdline: Option<Box<[u8]>>,
    pub(super) comm: Option<Box<[u8]>>,
    pub(super) kernel_thread: bool,
    /// UIDs as `status`'s `Uid:` line: real, effective, saved, filesystem.
    pub(super) uids: [u32; 4],
    /// Effective GID.
    pub(super) egid: u32,
    /// The user namespace's inode.
    pub(super) userns: u64,
    /// `PPid:`.
    pub(super) ppid: u32,
}

struct Frame {
    id: NodeId,
    rec: usize,
    kids: Vec<usize>,
    next: usize,
    own: bool,
    own_known: bool,
    any_child: bool,
    kept_child: bool,
}

/// Builds the nodes below `root` (the start cgroup's open directory) from one BPF
/// snapshot. `Err` when the snapshot cannot be taken (the caller walks the files).
pub(super) fn walk(
    b: &TreeBuilder,
    mount: &CgroupMount,
    start: &str,
    root: BorrowedFd<'_>,
    proc_dir: &Path,
) -> Result<FastWalked, BpfError> {
    // The identification learns from every host process (where runtimes keep their
    // state, conmon's names): the task walk gives their command lines also when the
    // tree shows no processes.
    let tasks = b.processes || b.identify;
    let walks = if tasks { Walks::ALL } else { Walks::CGROUPS };
    // Before the programs load and the cgroup walk takes cgroup_mutex: without
    // /proc/cgroups (a /proc mounted with subset=pid) the records' controller bits
    // could not be named.
    let names = ControllerNames::read(proc_dir).map_err(BpfError::ProcCgroups)?;
    // Under an address-space limit without room for the walk, before any thread starts
    // (a failed allocation there would abort the process).
    bpf::address_space_room()?;
    // The /proc listing (for the processes the task iterator does not visit, and for
    // the identification's pass over every host process) is taken on a second thread
    // while the programs load and walk.
    // (Where no thread can be started, listed after the walks.)
    let (snap, listing) = std::thread::scope(|s| {
        let lister = if tasks {
            std::thread::Builder::new()
                .name("cgtree-proc-list".into())
                .spawn_scoped(s, || list_pids(proc_dir))
                .ok()
        } else {
            None
        };
        let snap = bpf::snapshot(root, walks);
        let listing = match lister {
            Some(l) => l.join().ok().flatten(),
            None if tasks => list_pids(proc_dir),
            None => None,
        };
        (snap, listing)
    });
    let mut snap = snap?;
    check_names(&snap, &names, mount)?;
    if b.processes {
        check_cgroup_namespace(&snap, mount, proc_dir)?;
    }
    let types = snap.cgroup_types(&names);
    let recs = &snap.cgroups;
    let root_id = nix::sys::stat::fstat(root)
        .map_err(|e| BpfError::Read(e.into()))?
        .st_ino;
    if recs.first().map(|r| r.id) != Some(root_id) {
        return Err(BpfError::Read(std::io::Error::other(
            "the start cgroup changed while read",
        )));
    }
    let at: HashMap<u64, usize> = recs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); recs.len()];
    for (i, r) in recs.iter().enumerate().skip(1) {
        if let Some(&p) = r.parent_id.and_then(|p| at.get(&p)) {
            kids[p].push(i);
        }
    }
    for k in &mut kids {
        k.sort_unstable_by(|&x, &y| recs[x].name.cmp(&recs[y].name));
    }
    // The domain whose cgroup.procs lists a process of cgroup `i` (a threaded cgroup's
    // processes are listed by its threaded domain); `None` when that is above the start.
    let domain = |mut i: usize| -> Option<usize> {
        while types[i] == Some(CgroupType::Threaded) {
            i = *r_parent(recs, &at, i)?;
        }
        Some(i)
    };
    // Who is where: each process the task walk visited, in the cgroup whose cgroup.procs
    // lists it (a process in a cgroup made after the cgroup walk is in none of them).
    let mut pids: Vec<Vec<u32>> = vec![Vec::new(); recs.len()];
    let mut placed: std::collections::HashSet<u32> =
        std::collections::HashSet::with_capacity(snap.tasks.len());
    for t in &snap.tasks {
        placed.insert(t.pid);
        if t.listed {
            if let Some(i) = at.get(&t.cgroup_id).and_then(|&i| domain(i)) {
                pids[i].push(t.pid);
            }
        }
    }
    // A process the task iterator did not visit (seen: PID 1 on Linux 6.18, listed by
    // the root's cgroup.procs) is placed by its /proc/PID/cgroup, as the file walk finds
    // it in cgroup.procs; a zombie is not listed there.
    let mut listed_pids = None;
    if let Some(listing) = listing {
        let mut seen = std::collections::HashSet::with_capacity(listing.len());
        for &pid in &listing {
            seen.insert(pid);
            if !b.processes || placed.contains(&pid) {
                continue;
            }
            let Some(path) = proc_cgroup(&proc_dir.join(pid.to_string())) else {
                continue;
            };
            if let Some(i) = record_at(recs, &kids, start, &path).and_then(domain) {
                pids[i].push(pid);
            }
        }
        // Every host process: the listing, and what started after it and the task walk
        // visited.
        let mut all = listing;
        all.extend(
            snap.tasks
                .iter()
                .map(|t| t.pid)
                .filter(|p| !seen.contains(p)),
        );
        listed_pids = Some(all);
    }
    // The identification reads each containerd shim's working directory (where
    // containerd keeps its state: Resolver::note_containerd, which asks only for those
    // of root's shims): read them meanwhile, on a thread of their own.
    let shims: Vec<u32> = if b.identify {
        snap.tasks
            .iter()
            .filter(|t| [t.uid, t.euid, t.suid, t.fsuid] == [0; 4])
            .filter(|t| {
                t.cmdline.as_deref().is_some_and(|c| {
                    let exe = c.split(|&b| b == 0).next().unwrap_or(c);
                    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
                    base.starts_with(b"containerd-shim")
                })
            })
            .map(|t| t.pid)
            .collect()
    } else {
        Vec::new()
    };
    // (Where no thread can be started, the identification reads them itself.)
    let shim_cwds = if shims.is_empty() {
        None
    } else {
        std::thread::Builder::new()
            .name("cgtree-shim-cwd".into())
            .spawn(move || crate::resolve::read_cwds(&shims))
            .ok()
    };
    // What is known of each process (a process the task iterator missed is read from
    // /proc like on the file path).
    let mut facts = HashMap::with_capacity(snap.tasks.len());
    for t in std::mem::take(&mut snap.tasks) {
        facts.insert(
            t.pid,
            Facts {
                cmdline: t.cmdline,
                comm: t.comm,
                kernel_thread: t.kernel_thread,
                uids: [t.uid, t.euid, t.suid, t.fsuid],
                egid: t.egid,
                userns: u64::from(t.userns),
                ppid: t.ppid,
            },
        );
    }
    for p in &mut pids {
        // cgroup.procs may list a PID twice (moved out and back while read): once here,
        // as parse_pids does.
        p.sort_unstable();
        p.dedup();
    }
    let threaded_mask = names.threaded_mask();
    // The walk's start: what its parent grants it, unless it is the hierarchy's root
    // (whose cgroup.controllers is the hierarchy's controllers less the implicit and
    // inhibited ones: read).
    let start_controllers = match snap.ancestors.last() {
        Some(parent) => {
            let mut mask = parent.subtree_control;
            if types[0] == Some(CgroupType::Threaded) {
                mask &= threaded_mask;
            }
            Some(ControllerList::parse(&names.list(mask)))
        }
        None => std::fs::read(mount.dir.join("cgroup.controllers"))
            .ok()
            .map(|b| ControllerList::parse(&b)),
    };

    // Room for every walked cgroup at once (a node is large: no copies as it grows).
    let mut nodes = Vec::with_capacity(recs.len());
    nodes.push(Node::new(start.as_bytes().into(), None, 0));
    let mut listed = 0usize;
    let mut enter = |nodes: &mut Vec<Node>, id: NodeId, rec: usize, parent: Option<usize>| {
        let r = &recs[rec];
        let node = &mut nodes[id];
        node.cgroup_id = Some(r.id);
        node.dir_uid = Some(r.uid);
        // The file walk reads no `cgroup.type` at the mount's root (the hierarchy's root
        // has none; in a cgroup namespace, or on a bind mount of a subtree, the mount's
        // root is a cgroup that has one, left unread there too).
        node.cgroup_type = if r.level == 0 || (rec == 0 && start == "/") {
            None
        } else {
            types[rec]
        };
        let threaded = node.cgroup_type == Some(CgroupType::Threaded);
        node.controllers = match parent {
            None => start_controllers.clone(),
            Some(p) => {
                let mut mask = recs[p].subtree_control;
                if threaded {
                    mask &= threaded_mask;
                }
                Some(ControllerList::parse(&names.list(mask)))
            }
        };
        let node = &mut nodes[id];
        let mut own = false;
        let mut own_known = false;
        if b.processes && !threaded {
            let mut list = std::mem::take(&mut pids[rec]);
            own = !list.is_empty();
            own_known = true;
            let room = MAX_PROCESSES.saturating_sub(listed);
            let cut = list.len() > room;
            list.truncate(room);
            listed += list.len();
            node.processes = Some(
                list.into_iter()
                    .map(|pid| Process::new(pid, Box::default(), None))
                    .collect(),
            );
            if cut {
                let path = cgroup_file(nodes, mount, id, "cgroup.procs");
                nodes[id].errors.push(NodeError {
                    path,
                    kind: NodeErrorKind::TooManyProcesses,
                });
            }
        }
        let mut children = std::mem::take(&mut kids[rec]);
        let node = &mut nodes[id];
        if !children.is_empty() {
            node.subtree_control = Some(ControllerList::parse(&names.list(r.subtree_control)));
        }
        if b.max_depth.is_some_and(|m| node.depth >= m) {
            if !children.is_empty() {
                node.truncated = true;
            }
            children = Vec::new();
        }
        Frame {
            id,
            rec,
            kids: children,
            next: 0,
            own,
            own_known,
            any_child: false,
            kept_child: false,
        }
    };
    let first = enter(&mut nodes, 0, 0, None);
    let mut stack = vec![first];
    while let Some(top) = stack.last_mut() {
        if top.next < top.kids.len() {
            let rec = top.kids[top.next];
            top.next += 1;
            let parent = top.id;
            let id = nodes.len();
            let depth = nodes[parent].depth + 1;
            nodes.push(Node::new(recs[rec].name.clone(), Some(parent), depth));
            let parent_rec = top.rec;
            let frame = enter(&mut nodes, id, rec, Some(parent_rec));
            stack.push(frame);
            continue;
        }
        let Some(frame) = stack.pop() else { break };
        let keep = finish(b, &mut nodes, &frame, recs[frame.rec].populated);
        let populated = nodes[frame.id].populated;
        let Some(parent) = stack.last_mut() else {
            break;
        };
        if keep {
            nodes[parent.id].children.push(frame.id);
            parent.kept_child = true;
        } else {
            nodes.truncate(frame.id);
        }
        parent.any_child |= populated == Some(true);
    }
    let us = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let stats = crate::Stats {
        bpf_walks: 1,
        bpf_load_us: us(snap.load),
        bpf_cgroup_walk_us: us(snap.cgroup_walk),
        bpf_task_walk_us: us(snap.task_walk),
        bpf_retries: u64::from(snap.retries),
        ..Default::default()
    };
    Ok(FastWalked {
        nodes,
        facts,
        stats,
        host_pids: listed_pids,
        shim_cwds,
    })
}

/// `/proc/cgroups` lists a controller a line, in id order, but Linux 6.12 and later leave
/// out controllers without cgroup1 support: then line numbers are not ids. Every name
/// of the root's `cgroup.controllers` must be among the names the hierarchy's bits map
/// to, or the names are not trusted (the files are read instead).
fn check_names(
    snap: &bpf::Snapshot,
    names: &ControllerNames,
    mount: &CgroupMount,
) -> Result<(), BpfError> {
    let mask = snap
        .ancestors
        .first()
        .or(snap.cgroups.first())
        .map_or(0, |r| r.subsys_mask);
    let bound = names.list(u16::try_from(mask & 0xffff).unwrap_or(0));
    let bound: Vec<&[u8]> = bound
        .split(|b| b.is_ascii_whitespace())
        .filter(|n| !n.is_empty())
        .collect();
    let root = std::fs::read(mount.dir.join("cgroup.controllers")).map_err(BpfError::Read)?;
    let ok = root
        .split(|b| b.is_ascii_whitespace())
        .filter(|n| !n.is_empty())
        .all(|n| bound.contains(&n));
    if ok && mask >> 16 == 0 {
        Ok(())
    } else {
        Err(BpfError::ControllerIds)
    }
}

/// A reader in a cgroup namespace of its own sees `/proc/PID/cgroup` paths relative to
/// that namespace: the processes placed by them would be misplaced. Its own process
/// tells: the cgroup the task iterator gives it must be the one its `/proc/self/cgroup`
/// path names below the mount.
fn check_cgroup_namespace(
    snap: &bpf::Snapshot,
    mount: &CgroupMount,
    proc_dir: &Path,
) -> Result<(), BpfError> {
    use std::os::unix::fs::MetadataExt;
    let me = std::process::id();
    let ns_error = || BpfError::CgroupNamespace;
    // (Also a bind mount of a subtree: the paths are then not relative to the mount.)
    let mine = snap
        .tasks
        .iter()
        .find(|t| t.pid == me)
        .ok_or_else(ns_error)?;
    let text = std::fs::read(proc_dir.join("self/cgroup")).map_err(BpfError::Read)?;
    let path = text
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"0::"))
        .ok_or_else(ns_error)?;
    let rel = std::ffi::OsStr::from_bytes(path.strip_prefix(b"/").unwrap_or(path));
    match std::fs::metadata(mount.dir.join(rel)) {
        Ok(m) if m.ino() == mine.cgroup_id && !path.starts_with(b"/..") => Ok(()),
        _ => Err(ns_error()),
    }
}

/// The parent record of record `i`, when it was walked.
fn r_parent<'a>(
    recs: &[bpf::CgroupRecord],
    at: &'a HashMap<u64, usize>,
    i: usize,
) -> Option<&'a usize> {
    recs[i].parent_id.and_then(|p| at.get(&p))
}

/// The PIDs `/proc` (at `proc_dir`) lists, in its order; `None` when it cannot be read.
fn list_pids(proc_dir: &Path) -> Option<Vec<u32>> {
    let dir = std::fs::read_dir(proc_dir).ok()?;
    Some(
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .collect(),
    )
}

/// The cgroup2 path (`0::PATH`) of `/proc/PID/cgroup` below `dir` (`/proc/PID`), unless
/// the process is a zombie (`cgroup.procs` does not list it).
fn proc_cgroup(dir: &Path) -> Option<Vec<u8>> {
    let stat = std::fs::read(dir.join("stat")).ok()?;
    let close = memchr::memrchr(b')', &stat)?;
    if matches!(stat.get(close + 2), Some(b'Z' | b'X')) {
        return None;
    }
    let text = std::fs::read(dir.join("cgroup")).ok()?;
    text.split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"0::"))
        .map(<[u8]>::to_vec)
}

/// The record of the cgroup at `path` (as `/proc/PID/cgroup` writes it: from the
/// mount's root), found from the start (record 0, at `start`) down by name through
/// `kids` (each record's children, sorted by name); `None` when it was not walked.
fn record_at(
    recs: &[bpf::CgroupRecord],
    kids: &[Vec<usize>],
    start: &str,
    path: &[u8],
) -> Option<usize> {
    let below = path.strip_prefix(start.trim_end_matches('/').as_bytes())?;
    if below.is_empty() {
        return Some(0);
    }
    let mut at = 0;
    for name in below.strip_prefix(b"/")?.split(|&b| b == b'/') {
        if name.is_empty() {
            continue;
        }
        let k = kids.get(at)?;
        at = k[k.binary_search_by(|&x| recs[x].name[..].cmp(name)).ok()?];
    }
    Some(at)
}

/// [`super::Walk::finish`], with `cgroup.events`' `populated` from the snapshot.
fn finish(b: &TreeBuilder, nodes: &mut [Node], f: &Frame, events_populated: bool) -> bool {
    let id = f.id;
    let is_root = id == 0;
    let mut populated = if f.own || f.any_child {
        Some(true)
    } else {
        None
    };
    let truncated = nodes[id].truncated;
    let need_events = populated.is_none() && !is_root && (!f.own_known || truncated);
    if need_events {
        populated = Some(events_populated);
    }
    if populated.is_none() && f.own_known && !truncated {
        populated = Some(false);
    }
    let node = &mut nodes[id];
    node.populated = populated;
    is_root
        || b.include_empty
        || populated != Some(false)
        || !node.errors.is_empty()
        || f.kept_child
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(mask: u32) -> bpf::Snapshot {
        let mut s = bpf::Snapshot::default();
        s.cgroups.push(bpf::CgroupRecord {
            id: 1,
            parent_id: None,
            level: 0,
            name: Box::default(),
            subtree_control: 0,
            subsys_mask: mask,
            threaded: false,
            threaded_children: false,
            has_tasks: false,
            populated: false,
            uid: 0,
        });
        s
    }

    fn mount_with(controllers: &str) -> (tempfile::TempDir, CgroupMount) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cgroup.controllers"), controllers).unwrap();
        let m = CgroupMount {
            mount_point: d.path().to_path_buf(),
            dir: d.path().to_path_buf(),
            fs_root: b"/".to_vec(),
            options: Vec::new(),
            source: crate::MountSource::Default,
        };
        (d, m)
    }

    #[test]
    fn a_proc_cgroup_path_finds_its_record_by_name() {
        let rec = |id: u64, parent: Option<u64>, name: &[u8]| {
            let mut r = snap(0).cgroups.remove(0);
            r.id = id;
            r.parent_id = parent;
            r.name = name.into();
            r
        };
        // x (start), x/b, x/a, x/a/c: records in walk order, kids sorted by name.
        let recs = vec![
            rec(1, None, b"x"),
            rec(2, Some(1), b"b"),
            rec(3, Some(1), b"a"),
            rec(4, Some(3), b"c"),
        ];
        let kids = vec![vec![2, 1], vec![], vec![3], vec![]];
        for (start, path, want) in [
            ("/x", &b"/x"[..], Some(0)),
            ("/x", b"/x/", Some(0)),
            ("/x", b"/x/a/c", Some(3)),
            ("/x", b"/x/b", Some(1)),
            ("/x", b"/x/zz", None),
            ("/x", b"/x/a/c/d", None),
            ("/x", b"/xa", None),
            ("/x", b"/y", None),
            ("/x/", b"/x/a", Some(2)),
            ("/", b"/", Some(0)),
            ("/", b"/a/c", Some(3)),
        ] {
            assert_eq!(
                record_at(&recs, &kids, start, path),
                want,
                "{start} {path:?}"
            );
        }
    }

    #[test]
    fn controller_ids_are_trusted_only_when_the_names_agree() {
        // 6.11 and earlier: every controller has its line; memory (id 4) and pids (5).
        let all = ControllerNames::parse(
            b"#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t1\t1\ncpu\t0\t1\t1\n\
              cpuacct\t0\t1\t1\nblkio\t0\t1\t1\nmemory\t0\t1\t1\npids\t0\t1\t1\n",
        );
        let (_d, m) = mount_with("memory pids\n");
        assert!(check_names(&snap(0b110000), &all, &m).is_ok());
        // 6.12+ without cgroup1 memory: its line is gone, every later id shifts.
        let shifted = ControllerNames::parse(
            b"#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpuset\t0\t1\t1\ncpu\t0\t1\t1\n\
              cpuacct\t0\t1\t1\nblkio\t0\t1\t1\npids\t0\t1\t1\n",
        );
        assert!(check_names(&snap(0b110000), &shifted, &m).is_err());
    }
}
