//! From one process to what it belongs to: its cgroup, the chain of ancestor cgroups
//! with each one's identity, and a summary (container, kind node, pod, pod container).
//!
//! Only what the chain needs is read: the process's own `/proc` files, the cgroups on
//! its path (and the children of a container's cgroup, to recognise a kind node), and
//! the runtime state of the containers and pods on the path. The tree is never walked.

use crate::classify::classify_path;
use crate::error::Error;
use crate::fs::{self, CgroupMount, Host, Scratch};
use crate::parse;
use crate::resolve::{Identity, KindNode, PodContainer, PodRef, ProcessRole, Resolver, RootKey};
use crate::tree::identify::{identify_node, init_pid_on_disk, Facts};
use crate::tree::{NodeError, NodeErrorKind};
use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;

/// One cgroup on the process's path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChainEntry {
    /// Its path relative to the mount (`/` for the root).
    pub path: Vec<u8>,
    /// What it is, when recognised.
    pub identity: Option<Identity>,
}

/// The outermost container on the path.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ContainerRef {
    /// What it is (`podman-container`, `lxc-container`, `machine`, ...).
    pub kind: crate::runtime::IdentityKind,
    /// `podman`, `docker`, `containerd`, `lxc`, `systemd-nspawn`, ..., or null when no
    /// engine's state names it.
    pub runtime: Option<&'static str>,
    /// Container id.
    pub id: Option<String>,
    /// Container name.
    pub name: Option<String>,
    /// Run by a user's rootless runtime.
    pub rootless: Option<bool>,
    /// The user owning it.
    pub user: Option<u32>,
    /// Image.
    pub image: Option<String>,
}

/// Everything cgtree knows about one process.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Trace {
    /// PID as seen from the host root's PID namespace.
    pub pid: u32,
    /// `cmdline` as read (NUL-separated).
    pub cmdline: Box<[u8]>,
    /// `comm`.
    pub comm: Option<Box<[u8]>>,
    /// `Uid:` of `status` (real, effective, saved, fs), as the host sees them.
    pub uid: Option<[u32; 4]>,
    /// `Gid:` of `status`.
    pub gid: Option<[u32; 4]>,
    /// `NSpid:`: the PID in each PID namespace, outermost first.
    pub nspid: Vec<u32>,
    /// `PPid:`.
    pub ppid: Option<u32>,
    /// The cgroup path from `/proc/<pid>/cgroup` (relative to the mount).
    pub cgroup: Vec<u8>,
    /// The kernel appended ` (deleted)` to the cgroup's path: the cgroup was removed
    /// while the process still names it (a zombie's, an exiting process's).
    pub cgroup_deleted: bool,
    /// Whether the process's PID, user and mount namespaces are those of PID 1 (the
    /// ones `/proc/PID/ns` and `/proc/1/ns` both show): `None` when they cannot be
    /// compared. Half of the evidence for "host process".
    pub host_namespaces: Option<bool>,
    /// The cgroup lies outside the cgroup namespace cgtree runs in (`0::/../x`): its
    /// path cannot be walked from here, so the chain holds only the root.
    pub outside_namespace: bool,
    /// The cgroups from the root to the process's cgroup.
    pub chain: Vec<ChainEntry>,
    /// What the process does for others (a shim's pod, conmon's container).
    pub role: Option<ProcessRole>,
    /// The outermost container it runs in.
    pub container: Option<ContainerRef>,
    /// The kind node it runs in.
    pub kind_node: Option<KindNode>,
    /// The Kubernetes node (kind, minikube, or one no tool claims) it runs in.
    pub node: Option<crate::resolve::NodeRef>,
    /// The pod it runs in, or the pod it serves (a shim).
    pub pod: Option<PodRef>,
    /// The pod's containers, for a shim.
    pub pod_containers: Vec<PodContainer>,
    /// The Kubernetes container it runs in.
    pub pod_container: Option<PodContainer>,
    /// Who it is on the host and in its user namespace.
    pub user: Option<crate::userns::ProcUser>,
    /// Where its user namespace sits.
    pub userns: crate::userns::Lineage,
    /// What could not be read.
    pub errors: Vec<NodeError>,
    /// What tracing met (vanished files, interrupted reads, passes over `/proc`).
    pub stats: crate::Stats,
}

fn proc_io(host: &Host, pid: u32, file: &str, e: nix::errno::Errno) -> Error {
    if crate::error::errno_is_vanished(e as i32) {
        // Listed nowhere in /proc but alive: hidden by the proc mount's hidepid.
        if file.is_empty() && e == nix::errno::Errno::ENOENT {
            let hidepid = host.proc_hidepid();
            let alive = if host.is_live() {
                fs::pid_exists(pid) == Some(true)
            } else {
                hidepid.is_some()
            };
            if alive {
                return Error::ProcessHidden { pid, hidepid };
            }
        }
        if file.is_empty() {
            Error::NoSuchProcess {
                pid,
                path: host.path(format!("proc/{pid}")),
            }
        } else {
            Error::ProcessVanished {
                pid,
                path: host.path(format!("proc/{pid}/{file}")),
            }
        }
    } else {
        fs::errno_error(host.path(format!("proc/{pid}/{file}")), e)
    }
}

fn container_ref(i: &Identity) -> ContainerRef {
    ContainerRef {
        kind: i.kind,
        runtime: i.runtime,
        id: i.id.clone(),
        name: i.name.clone(),
        rootless: i.rootless,
        user: i.user,
        image: i.image.clone(),
    }
}

/// The cgroup of `pid` (its open `/proc/PID` directory `dir`), relative to `mount`.
fn read_cgroup(
    host: &Host,
    mount: &CgroupMount,
    pid: u32,
    dir: std::os::fd::BorrowedFd<'_>,
    scratch: &mut Scratch,
) -> Result<(Vec<u8>, bool), Error> {
    let cg = fs::read_file(dir, c"cgroup", scratch).map_err(|e| proc_io(host, pid, "cgroup", e))?;
    let pc = parse::proc_pid_cgroup(cg)
        .map_err(|e| Error::parse(host.path(format!("proc/{pid}/cgroup")), e))?;
    let deleted = pc.deleted;
    let Some(unified) = pc.unified else {
        return Err(Error::NoUnifiedCgroup {
            path: host.path(format!("proc/{pid}/cgroup")),
        });
    };
    // Relative to the mount: strip the mount's own root (a mount made in a cgroup namespace).
    if mount.fs_root != b"/" {
        if let Some(rest) = unified.strip_prefix(&mount.fs_root[..]) {
            return Ok((
                if rest.is_empty() {
                    b"/".to_vec()
                } else {
                    rest.to_vec()
                },
                deleted,
            ));
        }
    }
    Ok((unified.to_vec(), deleted))
}

/// The cgroup of `pid` relative to `mount`, and its parent PID: what [`trace`] starts
/// from, without identifying anything.
/// # Errors
/// [`Error::NoSuchProcess`] / [`Error::ProcessVanished`] when the process is gone;
/// [`Error::Io`] or [`Error::Parse`] naming `/proc/PID/cgroup` or `status`.
pub fn cgroup_and_ppid(
    host: &Host,
    mount: &CgroupMount,
    pid: u32,
) -> Result<(Vec<u8>, Option<u32>), Error> {
    let proc_dir = host.proc_dir();
    let proc_fd = fs::open_dir_path(&proc_dir).map_err(|e| fs::errno_error(&proc_dir, e))?;
    let name = CString::new(pid.to_string()).map_err(|_| Error::NoSuchProcess {
        pid,
        path: proc_dir.clone(),
    })?;
    // `<pid>` itself is not followed if it is a link (a hostile `--root`).
    let fd = fs::open_dir(proc_fd.as_fd(), &name).map_err(|e| proc_io(host, pid, "", e))?;
    let mut scratch = Scratch::new();
    let (cgroup, _) = read_cgroup(host, mount, pid, fd.as_fd(), &mut scratch)?;
    let ppid = fs::read_file(fd.as_fd(), c"status", &mut scratch)
        .map_err(|e| proc_io(host, pid, "status", e))?;
    let ppid = parse::status(ppid)
        .map_err(|e| Error::parse(host.path(format!("proc/{pid}/status")), e))?
        .ppid;
    Ok((cgroup, ppid))
}

/// Traces `pid` on `host` (whose cgroup2 mount is `mount`).
///
/// # Errors
/// [`Error::NoSuchProcess`] when `/proc/PID` does not exist, [`Error::ProcessVanished`]
/// when it went away while read; [`Error::Io`] naming the host's `/proc` when it cannot
/// be opened, or a file of the process that cannot be read; [`Error::Parse`] for its
/// `cgroup` or `status` files. What the chain's cgroups and runtimes' state could not
/// give is in [`Trace::errors`], not an error.
pub fn trace(host: &Host, mount: &CgroupMount, pid: u32) -> Result<Trace, Error> {
    trace_with(host, mount, pid, &mut Resolver::new(host))
}

/// [`trace`] with a caller's resolver (its caches, or its record of what was read).
///
/// # Errors
/// As [`trace`].
pub fn trace_with(
    host: &Host,
    mount: &CgroupMount,
    pid: u32,
    r: &mut Resolver,
) -> Result<Trace, Error> {
    // What only other processes can tell (where a runtime keeps its state, conmon's names
    // of containers) is looked for when the process's own answer leaves something open:
    // then `cgtree pid` answers as the tree does, which learns from every process.
    let before = r.scratch.stats;
    let mut t = trace_once(host, mount, pid, r, false)?;
    if open_questions(&t) {
        r.forget_answers();
        t = trace_once(host, mount, pid, r, true)?;
    }
    t.stats = r.scratch.stats.since(before);
    Ok(t)
}

/// Whether a trace leaves something that another process could answer: a cgroup on the
/// chain not identified, a container or conmon without its name, a shim without its pod,
/// a Kubernetes container without its pod or image.
fn open_questions(t: &Trace) -> bool {
    chain_open(&t.chain)
        || t.container.as_ref().is_some_and(|c| c.name.is_none())
        || matches!(&t.role, Some(ProcessRole::Shim { pod: None, .. }))
        || (t.role.is_none()
            && t.container.is_none()
            && t.pod.is_none()
            && t.chain.last().is_some_and(|c| c.identity.is_none()))
}

/// Whether a cgroup on the chain is not identified, or is a container or conmon without
/// its name, or a Kubernetes container without its pod or image.
fn chain_open(chain: &[ChainEntry]) -> bool {
    chain
        .iter()
        .filter_map(|c| c.identity.as_ref())
        .any(identity_open)
}

/// Whether what other processes tell could change an identity: not identified, a
/// container or conmon without its name, a Kubernetes container without its pod or
/// image.
pub(crate) fn identity_open(i: &Identity) -> bool {
    use crate::runtime::IdentityKind as K;
    i.kind == K::Unidentified
        || (matches!(i.kind, K::PodmanConmon | K::PodmanContainer | K::Container)
            && i.name.is_none())
        || (i.kind.is_kube_container() && i.pod.is_none())
        // Named from the kubelet's logs only: its runtime's bundle was not found.
        || (i.kind == K::KubeContainer && i.image.is_none())
}

fn trace_once(
    host: &Host,
    mount: &CgroupMount,
    pid: u32,
    r: &mut Resolver,
    scan: bool,
) -> Result<Trace, Error> {
    let proc_dir = host.proc_dir();
    let proc_fd = fs::open_dir_path(&proc_dir).map_err(|e| fs::errno_error(&proc_dir, e))?;
    let pid_name = CString::new(pid.to_string()).map_err(|_| Error::NoSuchProcess {
        pid,
        path: proc_dir.clone(),
    })?;
    let dir = fs::open_dir(proc_fd.as_fd(), &pid_name).map_err(|e| proc_io(host, pid, "", e))?;
    let mut scratch = Scratch::new();
    let (cgroup, cgroup_deleted) = read_cgroup(host, mount, pid, dir.as_fd(), &mut scratch)?;
    let host_namespaces = same_namespaces(proc_fd.as_fd(), &pid_name);
    let mut errors = Vec::new();
    // A command line that cannot be read (not a regular file in a hostile `--root`, say)
    // is reported and taken as empty (then `comm` names the process), as the tree does.
    let cmdline: Box<[u8]> = match fs::read_file(dir.as_fd(), c"cmdline", &mut scratch) {
        Ok(b) => b.into(),
        Err(e) if crate::error::errno_is_vanished(e as i32) => {
            return Err(proc_io(host, pid, "cmdline", e))
        }
        Err(e) => {
            errors.push(NodeError {
                path: host.path(format!("proc/{pid}/cmdline")),
                kind: NodeErrorKind::from_errno(e),
            });
            Box::default()
        }
    };
    let comm = if cmdline.is_empty() {
        fs::read_file(dir.as_fd(), c"comm", &mut scratch)
            .ok()
            .map(|b| parse::comm(b).into())
    } else {
        None
    };
    let (uid, gid, ppid, nspid) = match fs::read_file(dir.as_fd(), c"status", &mut scratch) {
        Ok(b) => match parse::status(b) {
            Ok(st) => (
                st.uid,
                st.gid,
                st.ppid,
                st.nspid
                    .map(|n| n.iter().filter_map(Result::ok).collect())
                    .unwrap_or_default(),
            ),
            Err(e) => {
                errors.push(NodeError {
                    path: host.path(format!("proc/{pid}/status")),
                    kind: NodeErrorKind::Parse(e),
                });
                (None, None, None, Vec::new())
            }
        },
        Err(e) => return Err(proc_io(host, pid, "status", e)),
    };

    let mut user = None;
    let mut userns = crate::userns::Lineage::default();
    if let Ok(mut reader) = crate::userns::UserReader::new(host) {
        match reader.user(pid) {
            Ok(mut u) => {
                crate::userns::Names::new(host).fill(pid, &mut u);
                if let Some(ns) = u.userns {
                    userns = reader.lineage(pid, ns);
                }
                user = Some(u);
            }
            Err(e) if e.is_vanished() => {}
            Err(e) => errors.push(NodeError {
                path: host.path(format!("proc/{pid}")),
                kind: NodeErrorKind::State(e.to_string()),
            }),
        }
    }
    // A path with `..` (a process in a sibling cgroup namespace) must never be joined to
    // the mount: nothing on it is read.
    let outside_namespace = cgroup
        .split(|&b| b == b'/')
        .any(|c| c == b".." || c == b".");
    let comps: Vec<&[u8]> = if outside_namespace {
        Vec::new()
    } else {
        cgroup
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .collect()
    };
    // See `learn_all`.
    let no_conmons = if scan {
        learn_all(proc_fd.as_fd(), r, &mut scratch, &Default::default())
    } else {
        HashMap::new()
    };
    let ChainWalk {
        chain,
        owner,
        root,
        errors: chain_errors,
        ..
    } = walk_chain(host, mount, &comps, r, &no_conmons);
    errors.extend(chain_errors);
    let args: Vec<&[u8]> = parse::cmdline(&cmdline).collect();
    // The process itself may be containerd's (a shim naming its state directory).
    r.note_process(pid, &args, uid);
    // A command line counts only with the process's UIDs (see `process_role`).
    let mut role = r.process_role(&args, root, uid);
    for e in r.take_errors() {
        errors.push(NodeError {
            path: e.path,
            kind: NodeErrorKind::State(e.message),
        });
    }

    let Summary {
        container,
        kind_node,
        node,
        mut pod,
        mut pod_container,
    } = summary(&chain);
    let mut container = container;
    // podman's container with conmon's `-c ID -n NAME`.
    let conmon_container = |r: &mut Resolver, root: RootKey, id: &str, name: &Option<String>| {
        let names = HashMap::from([(id.to_string(), name.clone())]);
        crate::runtime::engines::container(
            r,
            root,
            id,
            Some(crate::runtime::Family::Podman),
            owner,
            &names,
        )
        .as_ref()
        .map(container_ref)
    };
    if let (
        None,
        Some(ProcessRole::Conmon {
            id,
            name,
            runtime: "podman",
            ..
        }),
    ) = (&container, &role)
    {
        // conmon runs outside its container's cgroup: tie it to the container it monitors.
        container = conmon_container(r, root, id, name);
    }
    let unplaced =
        container.is_none() && pod.is_none() && pod_container.is_none() && kind_node.is_none();
    if let (true, true, Some(pp)) = (unplaced, role.is_none(), ppid.filter(|&p| p > 1)) {
        // Started by podman's conmon outside any container's cgroup (rootless podman with
        // the cgroupfs manager and no --cgroup-parent leaves the container in the caller's
        // cgroup): the parent conmon names the container. (CRI-O's conmon is the parent
        // of Kubernetes containers too; those are placed by their cgroup already.) The
        // parent's claim counts only as `process_role` allows (checked tokens, run by the
        // container's owner), and only for a process that gained no privilege over it
        // (`started_by`: one UID, not root unless conmon is root's).
        let parent = CString::new(pp.to_string())
            .ok()
            .and_then(|n| fs::open_dir(proc_fd.as_fd(), &n).ok());
        let parent_cmdline = parent.and_then(|d| {
            fs::read_file(d.as_fd(), c"cmdline", &mut scratch)
                .ok()
                .map(<[u8]>::to_vec)
        });
        if let Some(pc) = parent_cmdline {
            let pargs: Vec<&[u8]> = parse::cmdline(&pc).collect();
            let puids = r.process_status(pp).and_then(|(u, _)| u);
            if let Some(ProcessRole::Conmon {
                id,
                name,
                runtime: "podman",
                ..
            }) = r.process_role(&pargs, RootKey::Host, puids)
            {
                if puids.is_some_and(|[u, ..]| r.started_by(pid, pp, u)) {
                    container = conmon_container(r, RootKey::Host, &id, &name);
                    role = Some(ProcessRole::Started { id, name });
                }
            }
        }
    }
    if let Some(ProcessRole::Conmon {
        id,
        name,
        runtime: "cri-o",
        pod: served,
    }) = &role
    {
        // CRI-O's conmon runs outside its container's cgroup: tie it to the pod's
        // container it monitors.
        if pod.is_none() {
            pod = served.clone();
        }
        if pod_container.is_none() {
            pod_container = Some(PodContainer {
                name: name.clone(),
                id: id.clone(),
                image: None,
            });
        }
    }
    let mut pod_containers = Vec::new();
    if let Some(ProcessRole::Shim {
        pod: served,
        containers,
        ..
    }) = &role
    {
        if pod.is_none() {
            pod = served.clone();
        }
        pod_containers = containers.clone();
    }
    r.scratch.stats += std::mem::take(&mut scratch.stats);
    Ok(Trace {
        pid,
        cmdline,
        comm,
        uid,
        gid,
        nspid,
        ppid,
        cgroup,
        cgroup_deleted,
        host_namespaces,
        outside_namespace,
        chain,
        role,
        container,
        kind_node,
        node,
        pod,
        pod_containers,
        pod_container,
        user,
        userns,
        errors,
        stats: crate::Stats::default(),
    })
}

/// Everything cgtree knows about one cgroup, found from its id (`cgtree id`): its path,
/// the chain of cgroups above it with each one's identity, and the container, kind node,
/// Kubernetes node, pod and pod container it belongs to, as [`Trace`] gives them for a
/// process in it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CgroupTrace {
    /// The cgroup id (the inode of its directory: `crate::fs::cgroup_id_of`).
    pub id: u64,
    /// Its path relative to the cgroup2 mount (`/` for the root).
    pub path: Vec<u8>,
    /// The cgroups from the root down to it, each with its identity.
    pub chain: Vec<ChainEntry>,
    /// The outermost container on the chain.
    pub container: Option<ContainerRef>,
    /// The kind node on the chain.
    pub kind_node: Option<KindNode>,
    /// The Kubernetes node (kind, minikube, or one no tool claims) on the chain.
    pub node: Option<crate::resolve::NodeRef>,
    /// The pod on the chain.
    pub pod: Option<PodRef>,
    /// The Kubernetes container on the chain.
    pub pod_container: Option<PodContainer>,
    /// What could not be read.
    pub errors: Vec<NodeError>,
}

/// Traces the cgroup at `path` (relative to `mount`, as [`crate::cgroup_id`]'s lookups
/// give it) whose id is `id`: only the cgroups on its path (and runtime state of the
/// containers and pods on it) are read, as [`trace`] does for a process; when something
/// is left open (an unidentified cgroup, a container without its name), what other
/// processes tell (one pass over `/proc`) is learned and the chain read again. For
/// several ids, [`CgroupTracer`] makes that pass once for all of them.
///
/// # Errors
/// [`Error::InvalidPath`] for a path with `.` or `..` components or a NUL byte.
pub fn trace_cgroup(
    host: &Host,
    mount: &CgroupMount,
    id: u64,
    path: &[u8],
) -> Result<CgroupTrace, Error> {
    CgroupTracer::new(host).trace(mount, id, path)
}

/// Traces several cgroups ([`trace_cgroup`]) sharing one reader of runtime state and at
/// most one pass over `/proc`: the first cgroup left open pays for it, the next ones
/// reuse what it learned.
pub struct CgroupTracer<'h> {
    host: &'h Host,
    r: Resolver,
    /// What the pass over `/proc` learned, once it was made.
    learned: Option<HashMap<String, Option<String>>>,
}

impl<'h> CgroupTracer<'h> {
    /// A tracer of `host`'s cgroups.
    pub fn new(host: &'h Host) -> Self {
        CgroupTracer {
            host,
            r: Resolver::new(host),
            learned: None,
        }
    }

    /// What this tracer met so far, over every [`CgroupTracer::trace`] (vanished
    /// files, interrupted reads, passes over `/proc`: at most one).
    pub fn stats(&self) -> crate::Stats {
        self.r.scratch.stats
    }

    /// [`trace_cgroup`] with this tracer's state.
    ///
    /// # Errors
    /// As [`trace_cgroup`].
    pub fn trace(
        &mut self,
        mount: &CgroupMount,
        id: u64,
        path: &[u8],
    ) -> Result<CgroupTrace, Error> {
        let t = self;
        let host = t.host;
        let comps: Vec<&[u8]> = path
            .split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .collect();
        if comps
            .iter()
            .any(|c| *c == b"." || *c == b".." || c.contains(&0))
        {
            return Err(Error::InvalidPath {
                path: String::from_utf8_lossy(path).into_owned(),
                reason: "`.`, `..` and NUL bytes are not allowed",
            });
        }
        let empty = HashMap::new();
        let mut walk = walk_chain(
            host,
            mount,
            &comps,
            &mut t.r,
            t.learned.as_ref().unwrap_or(&empty),
        );
        let open = chain_open(&walk.chain)
            || summary(&walk.chain)
                .container
                .is_some_and(|c| c.name.is_none());
        if open && t.learned.is_none() {
            let proc_dir = host.proc_dir();
            if let Ok(proc_fd) = fs::open_dir_path(&proc_dir) {
                t.r.forget_answers();
                let names = learn_all(
                    proc_fd.as_fd(),
                    &mut t.r,
                    &mut Scratch::new(),
                    &Default::default(),
                );
                walk = walk_chain(host, mount, &comps, &mut t.r, &names);
                t.learned = Some(names);
            }
        }
        let Summary {
            container,
            kind_node,
            node,
            pod,
            pod_container,
        } = summary(&walk.chain);
        Ok(CgroupTrace {
            id,
            path: if comps.is_empty() {
                b"/".to_vec()
            } else {
                path.to_vec()
            },
            chain: walk.chain,
            container,
            kind_node,
            node,
            pod,
            pod_container,
            errors: walk.errors,
        })
    }
}

/// What a chain of cgroups says: the outermost container, kind node, Kubernetes node,
/// pod and pod container on it.
struct Summary {
    container: Option<ContainerRef>,
    kind_node: Option<KindNode>,
    node: Option<crate::resolve::NodeRef>,
    pod: Option<PodRef>,
    pod_container: Option<PodContainer>,
}

fn summary(chain: &[ChainEntry]) -> Summary {
    let idents = || chain.iter().filter_map(|c| c.identity.as_ref());
    let container = idents()
        .find(|i| i.kind.is_engine_container())
        .map(container_ref);
    let kind_node = idents().find_map(|i| i.kind_node.clone());
    let node = idents().find_map(|i| i.node.clone());
    let kube = idents().rfind(|i| i.kind.is_kube_container());
    // A pod's sandbox (its pause process) is the pod's, not one of its containers.
    let pod_container = kube
        .filter(|i| i.kind != crate::runtime::IdentityKind::KubeSandbox)
        .map(|i| PodContainer {
            name: i.name.clone(),
            id: i.id.clone().unwrap_or_default(),
            image: i.image.clone(),
        });
    let pod = idents()
        .rfind(|i| i.kind == crate::runtime::IdentityKind::KubePod)
        .and_then(|i| i.pod.clone())
        .or_else(|| kube.and_then(|i| i.pod.clone()));
    Summary {
        container,
        kind_node,
        node,
        pod,
        pod_container,
    }
}

/// What the tree learns from every process before naming anything (where runtimes keep
/// their state, conmon's names), learned the same way here, so `cgtree pid` and
/// `cgtree id` answer as the tree does: one pass over `/proc` reading each command line,
/// at most `MAX_PROCESSES` of them. (A process's ancestors alone miss a shim reparented
/// to init, a containerd started with its own `--config`, a conmon of the container.)
pub(crate) fn learn_all(
    proc_fd: std::os::fd::BorrowedFd<'_>,
    r: &mut Resolver,
    scratch: &mut Scratch,
    known: &std::collections::HashSet<u32>,
) -> HashMap<String, Option<String>> {
    r.scratch.stats.proc_passes += 1;
    let mut names = HashMap::new();
    let mut dirbuf = Vec::new();
    let listed: Option<Vec<u32>> = match r.host_pids.take() {
        Some(pids) => Some(pids),
        None => fs::subdirs(proc_fd, &mut dirbuf).ok().map(|entries| {
            entries
                .iter()
                .filter_map(|n| std::str::from_utf8(n).ok()?.parse::<u32>().ok())
                .collect()
        }),
    };
    if let Some(listed) = listed {
        let pids = listed.into_iter().take(crate::tree::MAX_PROCESSES);
        let mut buf = Vec::new();
        for p in pids {
            // Processes the caller already learned from (a tree's own) are not read again.
            if known.contains(&p) {
                continue;
            }
            buf.clear();
            if let Some(cl) = r.host_cmdlines.get(&p) {
                buf.extend_from_slice(cl);
            } else {
                let Some(d) = CString::new(p.to_string())
                    .ok()
                    .and_then(|n| fs::open_dir(proc_fd, &n).ok())
                else {
                    continue;
                };
                let Ok(cl) = fs::read_file(d.as_fd(), c"cmdline", scratch) else {
                    continue;
                };
                buf.extend_from_slice(cl);
            }
            let args: Vec<&[u8]> = parse::cmdline(&buf).collect();
            crate::tree::identify::learn_from(r, p, &args, &mut names);
        }
    }
    r.scratch.stats += std::mem::take(&mut scratch.stats);
    names
}

/// The chain of cgroups from `/` down to the cgroup whose path components are `comps`,
/// each identified, with what the identification could not read, and the context the
/// cgroups below the last one are identified in (as the tree's pass gives a child).
pub(crate) struct ChainWalk {
    pub(crate) chain: Vec<ChainEntry>,
    /// The owner of the last cgroup (inherited by its children).
    pub(crate) owner: Option<u32>,
    /// Where its children's runtime state is read.
    pub(crate) root: RootKey,
    pub(crate) errors: Vec<NodeError>,
    /// Whether the last cgroup is a container's or below one.
    pub(crate) in_container: bool,
    /// The Kubernetes node the last cgroup is, when it is a node's container (for its
    /// `init.scope`).
    pub(crate) parent_node: Option<crate::resolve::NodeRef>,
    /// The Kubernetes node the cgroups below run in.
    pub(crate) enclosing: Option<crate::resolve::NodeRef>,
}

pub(crate) fn walk_chain(
    host: &Host,
    mount: &CgroupMount,
    comps: &[&[u8]],
    r: &mut Resolver,
    no_conmons: &HashMap<String, Option<String>>,
) -> ChainWalk {
    let kinds = classify_path(comps);
    let mut errors = Vec::new();
    let mut chain = vec![ChainEntry {
        path: b"/".to_vec(),
        identity: None,
    }];
    let mut owner = None;
    let mut root = RootKey::Host;
    let mut parent_node: Option<String> = None;
    let mut parent_node_ref: Option<crate::resolve::NodeRef> = None;
    // The Kubernetes node the cgroups below run in (the nearest node container's).
    let mut enclosing: Option<crate::resolve::NodeRef> = None;
    let live = host.is_live();
    let mut rel: Vec<u8> = Vec::new();
    let mut in_container = false;
    for (i, kind) in kinds.iter().enumerate() {
        if i > 0 {
            rel.push(b'/');
        }
        rel.extend_from_slice(comps[i]);
        let dir_uid = if live { dir_owner(mount, &rel) } else { None };
        owner = crate::tree::identify::cgroup_owner(owner, dir_uid, kind);
        let children = |sub: &[u8]| -> Vec<Vec<u8>> { list_children(mount, &rel, sub) };
        let init = |sub: &[u8]| init_pid_on_disk(mount, &rel, sub);
        let first_pid = || first_pid_on_disk(mount, &rel);
        let facts = Facts {
            kind,
            name: comps[i],
            parent_name: i.checked_sub(1).map(|p| comps[p]),
            owner,
            root,
            in_container,
            parent_kind_node: parent_node.as_deref(),
            node: enclosing.as_ref(),
            conmon_names: no_conmons,
            children: &children,
            init_pid: &init,
            first_pid: &first_pid,
        };
        let (ident, child_root) = identify_node(r, &facts);
        in_container = in_container
            || crate::tree::identify::is_container_shape(kind)
            || ident.as_ref().is_some_and(|x| {
                x.kind.is_engine_container()
                    || x.kind.is_kube_container()
                    || x.kind == crate::runtime::IdentityKind::Unidentified
            });
        let mut ident = ident;
        if let Some(id) = ident
            .as_mut()
            .filter(|x| x.kind == crate::runtime::IdentityKind::Init)
        {
            id.node = parent_node_ref.take();
        }
        parent_node_ref = ident
            .as_ref()
            .filter(|x| x.kind.is_engine_container())
            .and_then(|x| x.node.clone());
        if let Some(n) = ident
            .as_ref()
            .filter(|x| x.kind.is_engine_container())
            .and_then(|x| x.node.clone())
        {
            enclosing = Some(n);
        }
        parent_node = parent_node_ref.as_ref().map(|k| k.name.clone());
        root = child_root;
        for e in r.take_errors() {
            errors.push(NodeError {
                path: e.path,
                kind: if e.permission {
                    NodeErrorKind::PermissionDenied
                } else {
                    NodeErrorKind::State(e.message)
                },
            });
        }
        let mut path = b"/".to_vec();
        path.extend_from_slice(&rel);
        chain.push(ChainEntry {
            path,
            identity: ident,
        });
    }
    ChainWalk {
        chain,
        owner,
        root,
        errors,
        in_container,
        parent_node: parent_node_ref,
        enclosing,
    }
}

/// Names of the child cgroups of `<rel>/<sub>`, read from disk.
/// The owner UID of the cgroup directory `rel` below the mount (no link followed), as
/// [`crate::Node::dir_uid`].
fn dir_owner(mount: &CgroupMount, rel: &[u8]) -> Option<u32> {
    let rel = std::path::Path::new(std::ffi::OsStr::from_bytes(rel));
    let fd = fs::open_dir_path(&mount.dir)
        .and_then(|m| fs::state::open_dir_beneath(m.as_fd(), rel.strip_prefix("/").unwrap_or(rel)))
        .ok()?;
    nix::sys::stat::fstat(&fd).ok().map(|st| st.st_uid)
}

fn list_children(mount: &CgroupMount, rel: &[u8], sub: &[u8]) -> Vec<Vec<u8>> {
    let mut p = rel.to_vec();
    if !sub.is_empty() {
        p.push(b'/');
        p.extend_from_slice(sub);
    }
    // Below the mount, no link followed (a `--root` directory may hold any).
    let rel = std::path::Path::new(std::ffi::OsStr::from_bytes(&p));
    let Ok(fd) = fs::open_dir_path(&mount.dir)
        .and_then(|m| fs::state::open_dir_beneath(m.as_fd(), rel.strip_prefix("/").unwrap_or(rel)))
    else {
        return Vec::new();
    };
    let mut buf = Vec::new();
    fs::subdirs(fd.as_fd(), &mut buf)
        .map(|v| v.into_iter().map(|n| n.into_vec()).collect())
        .unwrap_or_default()
}

/// The first PID of the cgroup `rel` below the mount, else of one of its
/// [`OWN_PROCESS_SUBGROUPS`](crate::runtime::OWN_PROCESS_SUBGROUPS) (a process of the
/// container), read from disk.
fn first_pid_on_disk(mount: &CgroupMount, rel: &[u8]) -> Option<u32> {
    std::iter::once(&b""[..])
        .chain(crate::runtime::OWN_PROCESS_SUBGROUPS.iter().copied())
        .find_map(|sub| {
            let mut p = rel.to_vec();
            if !sub.is_empty() {
                p.push(b'/');
                p.extend_from_slice(sub);
            }
            let path = std::path::Path::new(std::ffi::OsStr::from_bytes(&p));
            let fd = fs::open_dir_path(&mount.dir)
                .and_then(|m| {
                    fs::state::open_dir_beneath(m.as_fd(), path.strip_prefix("/").unwrap_or(path))
                })
                .ok()?;
            let mut scratch = Scratch::new();
            let b = fs::read_file(fd.as_fd(), c"cgroup.procs", &mut scratch).ok()?;
            parse::pids(b).filter_map(Result::ok).find(|&p| p != 0)
        })
}

/// Whether `<pid>/ns/{pid,user,mnt}` read the same as `1/ns/...` under `proc_fd` (links
/// read, never followed). `pid` and `user` must be there on both sides; `mnt` is
/// compared when both have it.
fn same_namespaces(proc_fd: std::os::fd::BorrowedFd<'_>, pid: &std::ffi::CStr) -> Option<bool> {
    let link = |p: &std::ffi::CStr, ns: &str| -> Option<std::ffi::OsString> {
        let path = format!("{}/ns/{ns}", p.to_string_lossy());
        nix::fcntl::readlinkat(proc_fd, path.as_str()).ok()
    };
    let mut all = true;
    for (ns, required) in [("pid", true), ("user", true), ("mnt", false)] {
        match (link(pid, ns), link(c"1", ns)) {
            (Some(a), Some(b)) => all &= a == b,
            _ if required => return None,
            _ => {}
        }
    }
    Some(all)
}
