//! User namespaces: who a process is inside its container and on the host.
//!
//! `/proc/<pid>/uid_map` and `gid_map`, read from the host's initial namespace, give the
//! host ID of every ID a namespace knows, so one map translates both ways. An ID with no
//! mapping is shown by the kernel as the overflow ID 65534 (`nobody`); here it is
//! [`None`], never a made-up number.
//!
//! A namespace's parent and owner come from the `NS_GET_PARENT` / `NS_GET_OWNER_UID`
//! ioctls on a live host. A fixture has no namespace files to ask, so there the parent is
//! inferred ([`Source`]): from the process's ancestors (`cgtree pid`), or from the maps
//! (a parent's host IDs cover its child's).
//!
//! This module reads processes and maps; it knows nothing of the cgroup tree (the tree
//! uses it for its processes' users). What the namespaces of a tree hold is
//! [`crate::tree::userns`].

use crate::error::{Error, ParseError};
use crate::fs::{self, Host, Scratch};
use crate::parse::{self, IdMapRange};
use std::collections::{BTreeMap, HashMap};
use std::ffi::CString;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::Path;

/// The ID the kernel shows for an unmapped ID (`/proc/sys/kernel/overflowuid`).
pub const OVERFLOW_ID: u32 = 65534;

/// A parsed `uid_map` or `gid_map`.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IdMap {
    /// The ranges, as the kernel lists them.
    pub ranges: Vec<IdMapRange>,
}

impl IdMap {
    /// Parses a map file; any bad line fails the whole map (with its line number).
    ///
    /// # Errors
    /// A [`ParseError`] naming the line: a missing field, a bad number, a range that
    /// wraps.
    pub fn parse(bytes: &[u8]) -> Result<IdMap, ParseError> {
        Ok(IdMap {
            ranges: parse::id_map(bytes).collect::<Result<_, _>>()?,
        })
    }

    /// The host ID of an ID inside the namespace (`None`: unmapped).
    pub fn to_host(&self, inside: u32) -> Option<u32> {
        self.ranges.iter().find_map(|r| r.to_outside(inside))
    }

    /// The ID inside the namespace of a host ID (`None`: unmapped, shown as 65534).
    pub fn to_inside(&self, host: u32) -> Option<u32> {
        self.ranges.iter().find_map(|r| r.to_inside(host))
    }

    /// The full identity map of the initial namespace (`0 0 4294967295`).
    pub fn is_initial(&self) -> bool {
        self.ranges
            == [IdMapRange {
                inside: 0,
                outside: 0,
                count: u32::MAX,
            }]
    }

    /// Number of IDs mapped.
    pub fn len(&self) -> u64 {
        self.ranges.iter().map(|r| u64::from(r.count)).sum()
    }

    /// Whether the map is empty (a namespace whose map was never written).
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether every host ID of `other` is a host ID of `self`.
    pub fn covers(&self, other: &IdMap) -> bool {
        other.ranges.iter().all(|o| {
            // Each ID of `o`'s outside range must fall in some range of `self`; ranges of
            // one map do not overlap, so walk `o` piece by piece.
            let mut start = u64::from(o.outside);
            let end = start + u64::from(o.count);
            while start < end {
                let Some(r) = self.ranges.iter().find(|r| {
                    u64::from(r.outside) <= start
                        && start < u64::from(r.outside) + u64::from(r.count)
                }) else {
                    return false;
                };
                start = u64::from(r.outside) + u64::from(r.count);
            }
            true
        })
    }
}

impl std::fmt::Display for IdMap {
    /// `0->1000 (1), 1->100000 (65536)`; `(none)` when empty.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.ranges.is_empty() {
            return f.write_str("(none)");
        }
        for (i, r) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}->{} ({})", r.inside, r.outside, r.count)?;
        }
        Ok(())
    }
}

/// How a fact was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[non_exhaustive]
pub enum Source {
    /// Asked the kernel (ioctl on the namespace file).
    Ioctl,
    /// Inferred from the maps (the parent's host IDs cover the child's).
    Maps,
    /// Inferred from the process's ancestors (the namespaces their PPid chain crosses).
    Ancestors,
    /// The initial namespace, recognised by its identity map.
    Initial,
}

/// Who a process is: host IDs and, in its user namespace, the IDs they map to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct ProcUser {
    /// Effective UID as the host sees it (`status` read from the initial namespace).
    pub uid: u32,
    /// Effective GID as the host sees it.
    pub gid: u32,
    /// The user namespace's inode.
    pub userns: Option<u64>,
    /// The UID inside its namespace (`None`: unmapped, the kernel shows 65534).
    pub ns_uid: Option<u32>,
    /// The GID inside its namespace.
    pub ns_gid: Option<u32>,
    /// Whether the namespace is the initial one.
    pub initial: bool,
    /// The host's name for `uid` (host `etc/passwd`).
    pub name: Option<String>,
    /// The container's name for `ns_uid` (`etc/passwd` in the process's root).
    pub ns_name: Option<String>,
}

/// Reads user facts of processes, caching each namespace's maps.
pub struct UserReader {
    proc_fd: std::os::fd::OwnedFd,
    proc_dir: std::path::PathBuf,
    scratch: Scratch,
    maps: HashMap<u64, (IdMap, IdMap)>,
    live: bool,
}

fn pid_file(pid: u32, file: &str) -> CString {
    CString::new(format!("{pid}/{file}")).unwrap_or_default()
}

impl UserReader {
    /// A reader for `host`'s `/proc`.
    ///
    /// # Errors
    /// [`Error::Io`] naming the host's `/proc` when it cannot be opened.
    pub fn new(host: &Host) -> Result<Self, Error> {
        let proc_dir = host.proc_dir();
        let proc_fd = host
            .open_dir(&proc_dir)
            .map_err(|e| fs::errno_error(&proc_dir, e))?;
        Ok(UserReader {
            proc_fd,
            proc_dir,
            scratch: Scratch::new(),
            maps: HashMap::new(),
            live: host.is_live(),
        })
    }

    fn proc(&self) -> BorrowedFd<'_> {
        self.proc_fd.as_fd()
    }

    /// The user namespace inode of `pid` (from the `ns/user` link's target).
    ///
    /// # Errors
    /// [`Error::Io`] naming `/proc/PID/ns/user` when it cannot be read (ENOENT: the
    /// process is gone, [`Error::is_vanished`]).
    pub fn userns(&self, pid: u32) -> Result<u64, Error> {
        let name = pid_file(pid, "ns/user");
        let target = nix::fcntl::readlinkat(self.proc(), name.as_c_str())
            .map_err(|e| fs::errno_error(self.proc_dir.join(format!("{pid}/ns/user")), e))?;
        use std::os::unix::ffi::OsStrExt;
        parse::ns_link(target.as_bytes())
            .map(|l| l.inode)
            .map_err(|e| Error::parse(self.proc_dir.join(format!("{pid}/ns/user")), e))
    }

    /// The maps of `pid`'s namespace `ns` (read once per namespace).
    ///
    /// # Errors
    /// [`Error::Io`] naming `uid_map` or `gid_map` when it cannot be read,
    /// [`Error::Parse`] when it does not parse.
    pub fn maps(&mut self, pid: u32, ns: u64) -> Result<(IdMap, IdMap), Error> {
        if let Some(m) = self.maps.get(&ns) {
            return Ok(m.clone());
        }
        let mut out = Vec::with_capacity(2);
        for file in ["uid_map", "gid_map"] {
            let path = self.proc_dir.join(format!("{pid}/{file}"));
            let bytes = fs::read_file(
                self.proc_fd.as_fd(),
                &pid_file(pid, file),
                &mut self.scratch,
            )
            .map_err(|e| fs::errno_error(&path, e))?;
            out.push(IdMap::parse(bytes).map_err(|e| Error::parse(&path, e))?);
        }
        let gid = out.pop().unwrap_or_default();
        let uid = out.pop().unwrap_or_default();
        self.maps.insert(ns, (uid.clone(), gid.clone()));
        Ok((uid, gid))
    }

    /// Who `pid` is.
    ///
    /// # Errors
    /// As [`UserReader::userns`] and [`UserReader::maps`], and for `/proc/PID/status`.
    pub fn user(&mut self, pid: u32) -> Result<ProcUser, Error> {
        let path = self.proc_dir.join(format!("{pid}/status"));
        let bytes = fs::read_file(
            self.proc_fd.as_fd(),
            &pid_file(pid, "status"),
            &mut self.scratch,
        )
        .map_err(|e| fs::errno_error(&path, e))?;
        let st = parse::status(bytes).map_err(|e| Error::parse(&path, e))?;
        // Effective IDs: the ones permission checks use.
        let (uid, gid) = match (st.uid, st.gid) {
            (Some(u), Some(g)) => (u[1], g[1]),
            _ => {
                return Err(Error::parse(
                    &path,
                    ParseError::new(0, crate::ParseErrorKind::MissingField, b"Uid/Gid"),
                ))
            }
        };
        let ns = self.userns(pid).ok();
        self.user_from(pid, uid, gid, ns)
    }

    /// Who `pid` is, from its effective host IDs and user namespace already known (the
    /// BPF task iterator's, say): only the namespace's maps are read (once per
    /// namespace). `userns: None` leaves the inside IDs unknown.
    ///
    /// # Errors
    /// As [`UserReader::maps`]; a process gone meanwhile is [`Error::is_vanished`].
    pub fn user_from(
        &mut self,
        pid: u32,
        uid: u32,
        gid: u32,
        ns: Option<u64>,
    ) -> Result<ProcUser, Error> {
        let mut user = ProcUser {
            uid,
            gid,
            userns: ns,
            ns_uid: None,
            ns_gid: None,
            initial: false,
            name: None,
            ns_name: None,
        };
        if let Some(ns) = ns {
            let (um, gm) = match self.maps(pid, ns) {
                Ok(m) => m,
                // A process that exits while its maps are read can fail with an errno
                // other than ESRCH (its namespaces are being torn down): when it is gone
                // now, it vanished, whatever the read said.
                Err(_) if self.live && fs::pid_exists(pid) == Some(false) => {
                    return Err(fs::errno_error(
                        self.proc_dir.join(format!("{pid}/uid_map")),
                        nix::errno::Errno::ESRCH,
                    ));
                }
                Err(e) => return Err(e),
            };
            user.initial = um.is_initial();
            user.ns_uid = um.to_inside(uid);
            user.ns_gid = gm.to_inside(gid);
        }
        Ok(user)
    }

    /// Owner and parent of `pid`'s user namespace, from the kernel (live host only).
    pub fn ioctl_facts(&self, pid: u32) -> (Option<u32>, Option<u64>) {
        if !self.live {
            return (None, None);
        }
        let Ok(fd) = fs::ns::open_ns(&self.proc_dir.join(format!("{pid}/ns/user"))) else {
            return (None, None);
        };
        let owner = fs::ns::owner_uid(&fd).ok();
        let parent = fs::ns::parent(&fd)
            .ok()
            .and_then(|p| fs::ns::ns_inode(&p).ok());
        (owner, parent)
    }

    /// The `PPid` of `pid`.
    pub fn ppid(&mut self, pid: u32) -> Option<u32> {
        let b = fs::read_file(
            self.proc_fd.as_fd(),
            &pid_file(pid, "status"),
            &mut self.scratch,
        )
        .ok()?;
        parse::status(b).ok()?.ppid
    }

    /// Parent and depth of `pid`'s namespace `ns`: asked of the kernel on a live host,
    /// else inferred from the namespaces the process's ancestors are in.
    pub fn lineage(&mut self, pid: u32, ns: u64) -> Lineage {
        let Ok((map, _)) = self.maps(pid, ns) else {
            return Lineage::default();
        };
        if map.is_initial() {
            return Lineage {
                parent: None,
                depth: Some(0),
                source: Some(Source::Initial),
            };
        }
        if self.live {
            let mut depth = 0u32;
            let mut fd = fs::ns::open_ns(&self.proc_dir.join(format!("{pid}/ns/user"))).ok();
            let mut first_parent = None;
            while let Some(cur) = fd {
                match fs::ns::parent(&cur) {
                    Ok(p) => {
                        depth += 1;
                        if first_parent.is_none() {
                            first_parent = fs::ns::ns_inode(&p).ok();
                        }
                        fd = Some(p);
                    }
                    Err(_) => fd = None,
                }
                if depth > 64 {
                    break;
                }
            }
            if first_parent.is_some() {
                return Lineage {
                    parent: first_parent,
                    depth: Some(depth),
                    source: Some(Source::Ioctl),
                };
            }
        }
        // Walk the PPid chain: each distinct namespace met, whose map covers the one
        // below, is one level up.
        let mut chain: Vec<(u64, IdMap)> = vec![(ns, map)];
        let mut cur = pid;
        for _ in 0..4096 {
            let Some(pp) = self.ppid(cur).filter(|&p| p != 0 && p != cur) else {
                break;
            };
            cur = pp;
            let Ok(pns) = self.userns(cur) else { break };
            if chain.iter().any(|(n, _)| *n == pns) {
                continue;
            }
            let Ok((pm, _)) = self.maps(cur, pns) else {
                break;
            };
            if let Some((_, below)) = chain.last() {
                if pm.covers(below) && pm != *below {
                    let initial = pm.is_initial();
                    chain.push((pns, pm));
                    if initial {
                        break;
                    }
                }
            }
        }
        let reached_initial = chain.last().is_some_and(|(_, m)| m.is_initial());
        Lineage {
            parent: chain.get(1).map(|(n, _)| *n),
            depth: reached_initial.then(|| u32::try_from(chain.len() - 1).unwrap_or(u32::MAX)),
            source: (chain.len() > 1).then_some(Source::Ancestors),
        }
    }
}

/// Where a namespace sits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[non_exhaustive]
pub struct Lineage {
    /// Parent namespace inode.
    pub parent: Option<u64>,
    /// Levels below the initial namespace (0: the initial one).
    pub depth: Option<u32>,
    /// How it was learnt.
    pub source: Option<Source>,
}

/// One user namespace and the processes in it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserNs {
    /// Inode.
    pub inode: u64,
    /// Its processes' PIDs, sorted.
    pub pids: Vec<u32>,
    /// `uid_map`.
    pub uid_map: IdMap,
    /// `gid_map`.
    pub gid_map: IdMap,
    /// The UID that created it (ioctl on a live host; else the host ID of inside 0).
    pub owner: Option<u32>,
    /// How `owner` was learnt.
    pub owner_source: Option<Source>,
    /// Parent and depth.
    pub lineage: Lineage,
}

impl UserNs {
    /// The lowest PID (the one `lsns` shows).
    pub fn first_pid(&self) -> Option<u32> {
        self.pids.first().copied()
    }
}

/// Groups `users` (pid -> its facts) by namespace and works out each namespace's
/// parent: from the kernel on a live host, else the smallest other namespace whose map
/// strictly covers its own.
pub fn group(reader: &mut UserReader, users: &BTreeMap<u32, ProcUser>) -> Vec<UserNs> {
    let mut by_ns: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for (pid, u) in users {
        if let Some(ns) = u.userns {
            by_ns.entry(ns).or_default().push(*pid);
        }
    }
    let mut out: Vec<UserNs> = Vec::new();
    for (ns, pids) in by_ns {
        let first = pids[0];
        let (uid_map, gid_map) = reader.maps(first, ns).unwrap_or_default();
        let (ioctl_owner, ioctl_parent) = reader.ioctl_facts(first);
        let (owner, owner_source) = match ioctl_owner {
            Some(o) => (Some(o), Some(Source::Ioctl)),
            None if uid_map.is_initial() => (Some(0), Some(Source::Initial)),
            None => (uid_map.to_host(0), uid_map.to_host(0).map(|_| Source::Maps)),
        };
        let lineage = if uid_map.is_initial() {
            Lineage {
                parent: None,
                depth: Some(0),
                source: Some(Source::Initial),
            }
        } else {
            Lineage {
                parent: ioctl_parent,
                depth: None,
                source: ioctl_parent.map(|_| Source::Ioctl),
            }
        };
        out.push(UserNs {
            inode: ns,
            pids,
            uid_map,
            gid_map,
            owner,
            owner_source,
            lineage,
        });
    }
    // Parents not told by the kernel: the smallest namespace strictly covering the map.
    let snapshot: Vec<(u64, IdMap)> = out.iter().map(|n| (n.inode, n.uid_map.clone())).collect();
    for n in &mut out {
        if n.lineage.parent.is_some() || n.uid_map.is_initial() || n.uid_map.is_empty() {
            continue;
        }
        let parent = snapshot
            .iter()
            .filter(|(i, m)| *i != n.inode && m.covers(&n.uid_map) && *m != n.uid_map)
            .min_by_key(|(_, m)| m.len());
        if let Some((p, _)) = parent {
            n.lineage.parent = Some(*p);
            n.lineage.source = Some(Source::Maps);
        }
    }
    // Depths along the parent links.
    let parents: HashMap<u64, Option<u64>> =
        out.iter().map(|n| (n.inode, n.lineage.parent)).collect();
    let initial: Vec<u64> = out
        .iter()
        .filter(|n| n.uid_map.is_initial())
        .map(|n| n.inode)
        .collect();
    for n in &mut out {
        if n.lineage.depth.is_some() {
            continue;
        }
        let mut depth = 0u32;
        let mut cur = Some(n.inode);
        while let Some(c) = cur {
            if initial.contains(&c) {
                n.lineage.depth = Some(depth);
                break;
            }
            depth += 1;
            if depth > 64 {
                break;
            }
            cur = parents.get(&c).copied().flatten();
        }
    }
    out
}

/// Reads the user facts of `pid` from `host`'s `/proc` (convenience for one process).
///
/// # Errors
/// As [`UserReader::new`] and [`UserReader::user`].
pub fn read_user(host: &Host, pid: u32) -> Result<ProcUser, Error> {
    UserReader::new(host)?.user(pid)
}

/// The name of `uid` in a passwd file's bytes.
/// The first entry for `uid` is the answer, as for `getpwuid(3)`; the name is cut to 64
/// bytes (shown, not used).
pub fn passwd_name(passwd: &[u8], uid: u32) -> Option<String> {
    crate::parse::passwd(passwd)
        .flatten()
        .find(|e| e.uid == uid)
        .map(|e| String::from_utf8_lossy(&e.name[..e.name.len().min(64)]).into_owned())
}

/// Fills in user names. The host's name is given only to the host-side UID (host
/// `etc/passwd`). An ID inside a user namespace is named from the `etc/passwd` of the
/// process's own root (`proc/<pid>/root`, read confined to it, once per root directory):
/// the container's file, never the host's. A process of another user namespace whose
/// root is the host's root (a rootless runtime's pause process or conmon) has no
/// container file: its inside ID is named only when it is the host-side ID itself.
pub struct Names {
    host: Option<Vec<u8>>,
    /// (st_dev, st_ino) of the host root, to recognise a process rooted there.
    host_root: Option<(u64, u64)>,
    proc_dir: std::path::PathBuf,
    roots: HashMap<(u64, u64), Option<Vec<u8>>>,
}

/// (st_dev, st_ino) of an open directory.
fn dir_key(fd: BorrowedFd<'_>) -> Option<(u64, u64)> {
    let st = nix::sys::stat::fstat(fd).ok()?;
    #[allow(clippy::useless_conversion)] // dev_t/ino_t widths differ between targets
    Some((u64::from(st.st_dev), u64::from(st.st_ino)))
}

impl Names {
    /// Names for `host`.
    pub fn new(host: &Host) -> Self {
        let host_root = fs::state::open_root(host.root())
            .ok()
            .and_then(|fd| dir_key(fd.as_fd()));
        Names {
            host: read_passwd(host.root()),
            host_root,
            proc_dir: host.proc_dir(),
            roots: HashMap::new(),
        }
    }

    /// Sets `u.name` and `u.ns_name` for process `pid`.
    pub fn fill(&mut self, pid: u32, u: &mut ProcUser) {
        u.name = self.host.as_deref().and_then(|p| passwd_name(p, u.uid));
        u.ns_name = None;
        if u.initial {
            u.ns_name = u.name.clone();
            return;
        }
        let Some(ns_uid) = u.ns_uid else { return };
        let Ok(root) = fs::state::open_root(&self.proc_dir.join(format!("{pid}/root"))) else {
            return;
        };
        let Some(key) = dir_key(root.as_fd()) else {
            return;
        };
        if Some(key) == self.host_root {
            // The host's own file: it names host IDs, not this namespace's.
            if ns_uid == u.uid {
                u.ns_name = u.name.clone();
            }
            return;
        }
        let passwd = self
            .roots
            .entry(key)
            .or_insert_with(|| read_passwd_at(root.as_fd()));
        u.ns_name = passwd.as_deref().and_then(|p| passwd_name(p, ns_uid));
    }
}

/// Reads `etc/passwd` under `root` (a host root or `proc/<pid>/root`), confined and bounded.
pub fn read_passwd(root: &Path) -> Option<Vec<u8>> {
    let fd = fs::state::open_root(root).ok()?;
    read_passwd_at(fd.as_fd())
}

/// Reads `etc/passwd` under the open root `root`, confined to it and bounded.
fn read_passwd_at(root: BorrowedFd<'_>) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    fs::state::read_in_root(
        root,
        Path::new("etc/passwd"),
        fs::state::MAX_STATE_FILE,
        &mut buf,
    )
    .ok()?;
    Some(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(s: &str) -> IdMap {
        IdMap::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn map_arithmetic_table() {
        let rootless = map("0 1000 1\n1 100000 65536\n");
        // (inside, host)
        let both_ways: &[(u32, u32)] = &[(0, 1000), (1, 100000), (101, 100100), (65536, 165535)];
        for &(inside, host) in both_ways {
            assert_eq!(rootless.to_host(inside), Some(host), "inside {inside}");
            assert_eq!(rootless.to_inside(host), Some(inside), "host {host}");
        }
        // Range edges and the unmapped case.
        assert_eq!(rootless.to_host(65537), None);
        assert_eq!(rootless.to_inside(999), None);
        assert_eq!(rootless.to_inside(1001), None);
        assert_eq!(rootless.to_inside(99999), None);
        assert_eq!(rootless.to_inside(165536), None);
        assert_eq!(rootless.to_inside(0), None, "host root is nobody inside");
        let initial = map("         0          0 4294967295\n");
        assert!(initial.is_initial() && !rootless.is_initial());
        assert_eq!(initial.to_inside(4294967294), Some(4294967294));
        assert_eq!(
            initial.to_inside(u32::MAX),
            None,
            "4294967295 is never mapped"
        );
        // Empty map: a namespace whose map was not written yet.
        let empty = map("");
        assert!(empty.is_empty() && empty.to_inside(0).is_none() && empty.to_host(0).is_none());
        assert_eq!(empty.to_string(), "(none)");
        assert_eq!(rootless.to_string(), "0->1000 (1), 1->100000 (65536)");
        assert_eq!(rootless.len(), 65537);
        // Overlapping ranges (the kernel refuses them; a fixture may not): first wins.
        let overlap = map("0 500 10\n5 900 10\n");
        assert_eq!(overlap.to_host(7), Some(507));
        assert_eq!(overlap.to_inside(905), Some(10));
        // A line that does not parse fails the map with its line number.
        let err = IdMap::parse(b"0 1000 1\n1 x 65536\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(
            IdMap::parse(b"0 4294967295 2\n").is_err(),
            "range past 2^32"
        );
    }

    #[test]
    fn covers_table() {
        let initial = map("0 0 4294967295");
        let rootless = map("0 1000 1\n1 100000 65536");
        let nested = map("0 100000 1000");
        let split = map("0 100000 10\n10 100010 10");
        assert!(initial.covers(&rootless));
        assert!(rootless.covers(&nested));
        assert!(!nested.covers(&rootless));
        assert!(rootless.covers(&split), "contiguous ranges of the parent");
        assert!(!map("0 100000 5").covers(&split));
        assert!(initial.covers(&map("")));
    }

    fn user(uid: u32, ns_uid: u32) -> ProcUser {
        ProcUser {
            uid,
            gid: uid,
            userns: Some(4026532400),
            ns_uid: Some(ns_uid),
            ns_gid: Some(ns_uid),
            initial: false,
            name: None,
            ns_name: None,
        }
    }

    /// Inside IDs are named from the process's own root, never from the host's file;
    /// the host's name goes to the host-side ID only.
    #[test]
    fn names_inside_a_namespace_come_from_the_process_root() {
        let d = tempfile::tempdir().unwrap();
        let w = |rel: &str, body: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        // Host: 1000 is massi, 101 is systemd-resolve; the container's 101 is nginx.
        w(
            "etc/passwd",
            "root:x:0:0::/root:/bin/sh\nsystemd-resolve:x:101:101::/:/bin/false\nmassi:x:1000:1000::/home/massi:/bin/sh\n",
        );
        w(
            "proc/10/root/etc/passwd",
            "root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/nonexistent:/bin/false\n",
        );
        w(
            "proc/11/root/etc/passwd",
            "root:x:0:0::/root:/bin/sh\nnginx:x:101:101::/nonexistent:/bin/false\n",
        );
        // 12: rooted at the host's root (a rootless runtime's pause process).
        std::fs::create_dir_all(d.path().join("proc/12")).unwrap();
        std::os::unix::fs::symlink("../..", d.path().join("proc/12/root")).unwrap();
        // 13: no root to read.
        std::fs::create_dir_all(d.path().join("proc/13")).unwrap();
        let host = Host::with_root(d.path());
        let mut names = Names::new(&host);
        let cases: &[(u32, ProcUser, Option<&str>, Option<&str>)] = &[
            (10, user(100100, 101), None, Some("nginx")),
            (11, user(1000, 0), Some("massi"), Some("root")),
            (12, user(1000, 0), Some("massi"), None),
            (12, user(1000, 1000), Some("massi"), Some("massi")),
            (12, user(100100, 101), None, None),
            (13, user(1000, 0), Some("massi"), None),
        ];
        for (pid, u, name, ns_name) in cases {
            let mut u = u.clone();
            names.fill(*pid, &mut u);
            assert_eq!(
                (u.name.as_deref(), u.ns_name.as_deref()),
                (*name, *ns_name),
                "pid {pid}, uid {} (inside {:?})",
                u.uid,
                u.ns_uid
            );
        }
        // A root already read is not read again: its file changing is not seen.
        w(
            "proc/10/root/etc/passwd",
            "nginx2:x:101:101::/:/bin/false\n",
        );
        let mut u = user(100100, 101);
        names.fill(10, &mut u);
        assert_eq!(u.ns_name.as_deref(), Some("nginx"));
    }

    #[test]
    fn passwd_names() {
        let p = b"root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/nonexistent:/bin/false\nbad line\n";
        assert_eq!(passwd_name(p, 101).as_deref(), Some("nginx"));
        assert_eq!(passwd_name(p, 0).as_deref(), Some("root"));
        assert_eq!(passwd_name(p, 5), None);
    }
}
