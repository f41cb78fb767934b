//! Cgroup ids: the 64-bit numbers BPF tools see for a cgroup, and the way back from
//! one to the cgroup's path.
//!
//! On cgroup2 a cgroup's id is the inode number of its directory (kernfs gives each node
//! a 64-bit id that is both its inode number and the payload of its file handle:
//! include/linux/kernfs.h, `kernfs_id_ino`). It is what `bpf_get_current_cgroup_id()`
//! returns for a task's default-hierarchy cgroup, what bpftrace's `cgroup` builtin and
//! `cgroupid("/sys/fs/cgroup/x")` give, and what `stat -c %i` prints for the directory.
//!
//! - [`CgroupIndex`]: every id of a [`Tree`] (which records each node's id during its
//!   walk: [`crate::Node::cgroup_id`]), for many lookups at the cost of one walk.
//! - [`lookup_cgroup_id`]: one id, without a walk, through `open_by_handle_at(2)` on the
//!   cgroup2 mount (root only: it needs `CAP_DAC_READ_SEARCH`).
//! - [`find_cgroup_id`]: one id by walking the hierarchy until it is found (anyone, any
//!   `--root` directory).
//! - [`resolve_cgroup_id`]: the handle when it works, else the walk.

use crate::fs::{self, CgroupMount, Host};
use crate::tree::{NodeId, Tree};
use nix::errno::Errno;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Every cgroup id of a [`Tree`], mapped to its node.
///
/// In a directory standing for `/` (here a temporary one with the cgroups `/` and
/// `/system.slice`), the id is the inode of the directory standing for the cgroup:
/// ```
/// use std::os::unix::fs::MetadataExt;
/// # let dir = tempfile::tempdir()?;
/// # for cg in ["", "system.slice/"] {
/// #     let d = dir.path().join("sys/fs/cgroup").join(cg);
/// #     std::fs::create_dir_all(&d)?;
/// #     std::fs::write(d.join("cgroup.procs"), "")?;
/// #     std::fs::write(d.join("cgroup.controllers"), "")?;
/// # }
/// # std::fs::create_dir_all(dir.path().join("proc/self"))?;
/// # std::fs::write(dir.path().join("proc/self/mountinfo"), "25 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")?;
/// let root = dir.path();
/// let tree = cgroup_core::TreeBuilder::new()
///     .host_root(root)
///     .include_empty(true)
///     .build()?;
/// let index = cgroup_core::cgroup_id::CgroupIndex::new(&tree);
/// let id = std::fs::metadata(root.join("sys/fs/cgroup/system.slice"))?.ino();
/// let node = index.lookup(id).unwrap();
/// assert_eq!(tree.path(node), b"/system.slice");
/// assert_eq!(index.lookup(u64::MAX), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct CgroupIndex {
    by_id: HashMap<u64, NodeId>,
}

impl CgroupIndex {
    /// Indexes every node of `tree` that has an id (a cgroup whose directory could not
    /// be opened has none). One entry per id; if two nodes claimed one id (impossible on
    /// cgroupfs), the first in tree order is kept.
    pub fn new(tree: &Tree) -> Self {
        let mut by_id = HashMap::with_capacity(tree.nodes().len());
        for (i, n) in tree.nodes().iter().enumerate() {
            if let Some(id) = n.cgroup_id {
                by_id.entry(id).or_insert(i);
            }
        }
        CgroupIndex { by_id }
    }

    /// The node whose cgroup id is `id`, if the tree holds it.
    pub fn lookup(&self, id: u64) -> Option<NodeId> {
        self.by_id.get(&id).copied()
    }

    /// Number of ids indexed.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no id is indexed.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

/// How [`resolve_cgroup_id`] found a cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// `open_by_handle_at(2)` with a kernfs handle: no walk.
    Handle,
    /// A walk of the hierarchy, stopped at the first match.
    Walk,
}

/// The cgroup path (relative to the mount, `/` for its root) of the cgroup whose id is
/// `id`, on the live cgroup2 mount `mount`, without walking: `open_by_handle_at` on the
/// mount with a kernfs handle (`fs::open_cgroup_by_id`), then the descriptor's path
/// (`/proc/self/fd/N`), which must lie below the mount, checked by opening that path
/// again below the mount and comparing the ids (a cgroup renamed meanwhile is not
/// answered with a wrong path). `Ok(None)`: no cgroup has that id (`ESTALE`, `ENOENT`;
/// `ENOTDIR`: the id of a file, such as a `cgroup.procs`).
///
/// # Errors
/// A [`std::io::Error`] whose `raw_os_error` is the errno: `EPERM` when the caller lacks `CAP_DAC_READ_SEARCH` (not root), `EOPNOTSUPP` or
/// `EINVAL` when the mount is not cgroupfs (a fixture), `EXDEV` when the path the kernel
/// gives is outside the mount (a cgroup namespace whose mount does not show it),
/// `ESTALE` when the cgroup moved while it was looked up; any errno of the open.
pub fn lookup_cgroup_id(mount: &CgroupMount, id: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mount_fd = fs::open_dir_path(&mount.dir).map_err(io_error)?;
    lookup_at(mount_fd.as_fd(), &mount.dir, id).map_err(io_error)
}

/// An errno as a [`std::io::Error`] (whose `raw_os_error` it is).
fn io_error(e: Errno) -> std::io::Error {
    std::io::Error::from_raw_os_error(e as i32)
}

fn lookup_at(
    mount_fd: BorrowedFd<'_>,
    mount_dir: &Path,
    id: u64,
) -> Result<Option<Vec<u8>>, Errno> {
    let fd = match fs::open_cgroup_by_id(mount_fd, id) {
        Ok(fd) => fd,
        // ENOTDIR: the id of a file (kernfs numbers files too), not of a cgroup.
        Err(Errno::ESTALE | Errno::ENOENT | Errno::ENOTDIR) => return Ok(None),
        Err(e) => return Err(e),
    };
    path_of_opened(mount_fd, mount_dir, fd.as_fd(), id)
}

/// The path of the cgroup open at `fd` (opened by its id `id`), checked as
/// [`lookup_cgroup_id`] says. A cgroup removed after it was opened (its descriptor's path
/// then ends in ` (deleted)`, and the path opens nothing) has no path: `Ok(None)`, as an
/// id that names no cgroup.
fn path_of_opened(
    mount_fd: BorrowedFd<'_>,
    mount_dir: &Path,
    fd: BorrowedFd<'_>,
    id: u64,
) -> Result<Option<Vec<u8>>, Errno> {
    if fs::cgroup_id_of(fd)? != id {
        return Err(Errno::ESTALE);
    }
    let path = fs::fd_path(fd)?;
    let rel = path.strip_prefix(mount_dir).map_err(|_| Errno::EXDEV)?;
    if rel.as_os_str().is_empty() {
        return Ok(Some(b"/".to_vec()));
    }
    // The name the kernel gives must open, below the mount, the same cgroup.
    let again = match fs::state::open_dir_beneath(mount_fd, rel) {
        Ok(fd) => fd,
        // Removed since it was opened by its id.
        Err(Errno::ENOENT | Errno::ENODEV) => return Ok(None),
        Err(e) => return Err(e),
    };
    if fs::cgroup_id_of(again.as_fd())? != id {
        return Err(Errno::ESTALE);
    }
    let mut out = b"/".to_vec();
    out.extend_from_slice(rel.as_os_str().as_bytes());
    Ok(Some(out))
}

/// The cgroup path (relative to the mount) of the cgroup whose id is `id`, found by
/// walking the hierarchy below the mount whose root directory `mount_fd` is open, depth
/// first, parents before children and children in name order, stopping at the first
/// match: one `openat2`, one `fstat` and one `getdents64` per cgroup walked. Works for
/// anyone (no capability) and on any directory tree (a `--root` fixture). Subdirectories
/// that vanish or cannot be opened are skipped. `Ok(None)`: no cgroup has that id.
///
/// # Errors
/// The errno of `fstat` on the mount's root, or of opening it again to read it, as the
/// `raw_os_error` of the [`std::io::Error`].
pub fn find_cgroup_id(mount_fd: BorrowedFd<'_>, id: u64) -> std::io::Result<Option<Vec<u8>>> {
    find_at(mount_fd, id).map_err(io_error)
}

/// [`find_cgroup_id`], with the errno.
fn find_at(mount_fd: BorrowedFd<'_>, id: u64) -> Result<Option<Vec<u8>>, Errno> {
    if fs::cgroup_id_of(mount_fd)? == id {
        return Ok(Some(b"/".to_vec()));
    }
    let mut buf = Vec::new();
    // Relative paths still to read; a directory's children are pushed in reverse name
    // order, so the first is read next.
    let mut todo: Vec<Vec<u8>> = Vec::new();
    let push_children =
        |todo: &mut Vec<Vec<u8>>, dir: BorrowedFd<'_>, rel: &[u8], buf: &mut Vec<u8>| {
            let Ok(mut names) = fs::subdirs(dir, buf) else {
                return;
            };
            names.sort_unstable();
            for n in names.iter().rev() {
                let mut p = rel.to_vec();
                if !p.is_empty() {
                    p.push(b'/');
                }
                p.extend_from_slice(n);
                todo.push(p);
            }
        };
    // Read through a descriptor of its own: the caller's keeps its directory position.
    let top = fs::open_dir(mount_fd, c".")?;
    push_children(&mut todo, top.as_fd(), b"", &mut buf);
    while let Some(rel) = todo.pop() {
        let Ok(fd) = fs::state::open_dir_beneath(mount_fd, Path::new(OsStr::from_bytes(&rel)))
        else {
            continue;
        };
        if fs::cgroup_id_of(fd.as_fd()).ok() == Some(id) {
            let mut out = b"/".to_vec();
            out.extend_from_slice(&rel);
            return Ok(Some(out));
        }
        push_children(&mut todo, fd.as_fd(), &rel, &mut buf);
    }
    Ok(None)
}

/// The cgroup path (relative to the mount) of the cgroup whose id is `id`, and how it was
/// found: on the live host through the handle ([`lookup_cgroup_id`]); when that is not
/// possible (not root: `EPERM`; a kernel or mount without kernfs handles; a cgroup
/// moved meanwhile; a path outside the mount) or on a `--root` directory, by a walk
/// ([`find_cgroup_id`]). `Ok(None)`: no cgroup has it.
///
/// A directory standing for `/` (here a temporary one with the cgroups `/` and
/// `/system.slice`) is walked:
/// ```
/// use cgroup_core::cgroup_id::{resolve_cgroup_id, Lookup};
/// use std::os::unix::fs::MetadataExt;
/// # let dir = tempfile::tempdir()?;
/// # for cg in ["", "system.slice/"] {
/// #     let d = dir.path().join("sys/fs/cgroup").join(cg);
/// #     std::fs::create_dir_all(&d)?;
/// #     std::fs::write(d.join("cgroup.procs"), "")?;
/// #     std::fs::write(d.join("cgroup.controllers"), "")?;
/// # }
/// # std::fs::create_dir_all(dir.path().join("proc/self"))?;
/// # std::fs::write(dir.path().join("proc/self/mountinfo"), "25 1 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n")?;
/// let root = dir.path();
/// let host = cgroup_core::Host::with_root(root);
/// let mount = host.find_cgroup2()?;
/// let id = std::fs::metadata(root.join("sys/fs/cgroup/system.slice"))?.ino();
/// let (path, how) = resolve_cgroup_id(&host, &mount, id)?.unwrap();
/// assert_eq!((path.as_slice(), how), (&b"/system.slice"[..], Lookup::Walk));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`crate::Error::Io`] when the mount's directory cannot be opened, or the handle lookup
/// fails for another reason than those above (`EXDEV`: outside the mount).
pub fn resolve_cgroup_id(
    host: &Host,
    mount: &CgroupMount,
    id: u64,
) -> Result<Option<(Vec<u8>, Lookup)>, crate::Error> {
    let mount_fd = host
        .open_dir(&mount.dir)
        .map_err(|e| fs::errno_error(&mount.dir, e))?;
    if host.is_live() && fs::is_fs_type(mount_fd.as_fd(), nix::sys::statfs::CGROUP2_SUPER_MAGIC) {
        match lookup_at(mount_fd.as_fd(), &mount.dir, id) {
            Ok(found) => return Ok(found.map(|p| (p, Lookup::Handle))),
            // Not permitted, not supported: the walk answers.
            Err(
                Errno::EPERM
                | Errno::EACCES
                | Errno::EOPNOTSUPP
                | Errno::EINVAL
                | Errno::ENOSYS
                | Errno::ESTALE
                // Outside what this mount shows: the walk, which sees only the mount, says
                // whether it is there.
                | Errno::EXDEV,
            ) => {}
            Err(e) => return Err(fs::errno_error(&mount.dir, e)),
        }
    }
    find_at(mount_fd.as_fd(), id)
        .map(|found| found.map(|p| (p, Lookup::Walk)))
        .map_err(|e| fs::errno_error(&mount.dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    /// The walk finds every directory of a tree by its inode, parents and the root
    /// included, and nothing for an inode that is not there.
    #[test]
    fn the_walk_finds_each_directory_by_its_inode() {
        let d = tempfile::tempdir().unwrap();
        for p in ["a/b/c", "a/d", "e"] {
            std::fs::create_dir_all(d.path().join(p)).unwrap();
        }
        std::fs::write(d.path().join("a/file"), "").unwrap();
        let fd = fs::open_dir_path(d.path()).unwrap();
        for rel in ["", "a", "a/b", "a/b/c", "a/d", "e"] {
            let ino = std::fs::metadata(d.path().join(rel)).unwrap().ino();
            let want = format!("/{rel}");
            assert_eq!(
                find_cgroup_id(fd.as_fd(), ino).unwrap().as_deref(),
                Some(want.as_bytes()),
                "{rel}"
            );
        }
        let file = std::fs::metadata(d.path().join("a/file")).unwrap().ino();
        assert_eq!(
            find_cgroup_id(fd.as_fd(), file).unwrap(),
            None,
            "files are no cgroups"
        );
    }

    /// The index maps every node's id to the node, on a fixture.
    #[test]
    fn the_index_holds_every_node() {
        let root = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/wsl-rootless-podman-kind"
        );
        let tree = crate::TreeBuilder::new()
            .host_root(root)
            .include_empty(true)
            .build()
            .unwrap();
        let index = CgroupIndex::new(&tree);
        assert_eq!(index.len(), tree.nodes().len());
        for (i, n) in tree.nodes().iter().enumerate() {
            assert_eq!(index.lookup(n.cgroup_id.unwrap()), Some(i));
        }
    }

    /// On the live cgroup2 mount, as root (skipped otherwise): the handle gives the path
    /// the walk gives, for a fresh cgroup and its child; once removed, neither finds it.
    #[test]
    fn the_handle_agrees_with_the_walk_on_the_live_mount() {
        let Ok(mount) = Host::new().find_cgroup2() else {
            return;
        };
        let name = format!("cgtree-test-cgroup-id-{}", std::process::id());
        let dir = mount.dir.join(&name);
        if !nix::unistd::geteuid().is_root() || std::fs::create_dir(&dir).is_err() {
            return;
        }
        let sub = dir.join("sub");
        let made = std::fs::create_dir(&sub);
        let ids: Vec<u64> = [&dir, &sub]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok().map(|m| m.ino()))
            .collect();
        let fd = fs::open_dir_path(&mount.dir).unwrap();
        let found: Vec<_> = ids
            .iter()
            .map(|&id| (lookup_cgroup_id(&mount, id), find_cgroup_id(fd.as_fd(), id)))
            .collect();
        let _ = std::fs::remove_dir(&sub);
        let _ = std::fs::remove_dir(&dir);
        let gone: Vec<_> = ids
            .iter()
            .map(|&id| (lookup_cgroup_id(&mount, id), find_cgroup_id(fd.as_fd(), id)))
            .collect();
        made.unwrap();
        let want = [format!("/{name}"), format!("/{name}/sub")];
        for ((handle, walk), want) in found.into_iter().zip(&want) {
            assert_eq!(handle.unwrap().as_deref(), Some(want.as_bytes()));
            assert_eq!(walk.unwrap().as_deref(), Some(want.as_bytes()));
        }
        for (handle, walk) in gone {
            assert_eq!(handle.unwrap(), None);
            assert_eq!(walk.unwrap(), None);
        }
    }

    /// A cgroup removed between its open by id and the check of its path (the race a
    /// tester hit with `cgtree id` while cgroups were removed) is "no such cgroup", not
    /// an error that would end the whole call. Live, as root (skipped otherwise).
    #[test]
    fn a_cgroup_removed_after_its_open_by_id_has_no_path() {
        let Ok(mount) = Host::new().find_cgroup2() else {
            return;
        };
        let name = format!("cgtree-test-cgroup-id-race-{}", std::process::id());
        let dir = mount.dir.join(&name);
        if !nix::unistd::geteuid().is_root() || std::fs::create_dir(&dir).is_err() {
            return;
        }
        let id = std::fs::metadata(&dir).map(|m| m.ino());
        let mount_fd = fs::open_dir_path(&mount.dir).unwrap();
        let opened = id.map(|id| (id, fs::open_cgroup_by_id(mount_fd.as_fd(), id)));
        let removed = std::fs::remove_dir(&dir);
        let (id, opened) = opened.unwrap();
        removed.unwrap();
        let Ok(fd) = opened else {
            return; // no kernfs handles here
        };
        let r = path_of_opened(mount_fd.as_fd(), &mount.dir, fd.as_fd(), id);
        assert_eq!(r, Ok(None));
    }
}
