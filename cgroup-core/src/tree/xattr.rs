//! The extended attributes of a tree's cgroups, as `systemd-cgls -x` shows them.
//!
//! systemd's src/shared/cgroup-show.c (`show_cgroup_name`) lists the attributes of each
//! cgroup directory it shows (`flistxattr`) and prints those whose names start with
//! `user.` or `trusted.` (where systemd and the tools beside it keep their marks:
//! `trusted.delegate`, `user.invocation_id`, `trusted.invocation_id`, ...), each with its
//! value. [`XattrReader`] does the same, one cgroup at a time: one `flistxattr` per cgroup
//! and one `fgetxattr` per listed `user.`/`trusted.` name.

use super::{NodeId, Tree};
use crate::error::Error;
use crate::fs::{self, xattr};
use std::ffi::CString;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// The name prefixes shown (systemd src/shared/cgroup-show.c: `STARTSWITH_SET(xa,
/// "user.", "trusted.")`).
pub const SHOWN_PREFIXES: [&[u8]; 2] = [b"user.", b"trusted."];

/// One extended attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Xattr {
    /// Its name (`user.foo`), as listed: any bytes but NUL.
    pub name: Box<[u8]>,
    /// Its value, as read: any bytes, at most 64 KiB (the kernel's XATTR_SIZE_MAX).
    pub value: Box<[u8]>,
}

/// Reads the `user.` and `trusted.` extended attributes of a tree's cgroups, by path
/// below the cgroup2 mount (each component opened with no symlink and no `..`).
pub struct XattrReader {
    mount: OwnedFd,
    list: Vec<u8>,
    value: Vec<u8>,
}

impl XattrReader {
    /// Opens the mount directory of `tree`.
    ///
    /// # Errors
    /// [`Error::Io`]-style errors of opening the mount directory (it went away, EACCES).
    pub fn new(tree: &Tree) -> Result<Self, Error> {
        let dir = &tree.mount().dir;
        let mount = tree
            .host()
            .open_dir(dir)
            .map_err(|e| fs::errno_error(dir, e))?;
        Ok(XattrReader {
            mount,
            list: Vec::new(),
            value: Vec::new(),
        })
    }

    /// The `user.` and `trusted.` attributes of node `id` of `tree`, in the order
    /// `flistxattr` lists them. A file system that keeps no extended attributes
    /// (`EOPNOTSUPP`), a cgroup that went away (`ENOENT`) and an attribute removed
    /// between the list and the read (`ENODATA`) give no attribute, not an error.
    ///
    /// # Errors
    /// The errno of opening the cgroup's directory, `flistxattr` or `fgetxattr`
    /// (EACCES, EPERM for a `trusted.` name without `CAP_SYS_ADMIN`, ...), with the
    /// directory's path.
    pub fn read(&mut self, tree: &Tree, id: NodeId) -> Result<Vec<Xattr>, Error> {
        use nix::errno::Errno;
        let path = tree.path(id);
        let rel: &[u8] = path.strip_prefix(b"/").unwrap_or(&path);
        let dir_path = tree.mount().dir.join(std::ffi::OsStr::from_bytes(rel));
        let err = |e| fs::errno_error(&dir_path, e);
        let opened;
        let fd = if rel.is_empty() {
            self.mount.as_fd()
        } else {
            let c = CString::new(rel).map_err(|_| err(Errno::EINVAL))?;
            match fs::open_dir_beneath(self.mount.as_fd(), &c) {
                Ok(fd) => opened = fd,
                Err(Errno::ENOENT | Errno::ENODEV) => return Ok(Vec::new()),
                Err(e) => return Err(err(e)),
            }
            opened.as_fd()
        };
        match xattr::list(fd, &mut self.list) {
            Ok(()) => {}
            Err(Errno::EOPNOTSUPP | Errno::ENOENT | Errno::ENODEV) => return Ok(Vec::new()),
            Err(e) => return Err(err(e)),
        }
        let mut out = Vec::new();
        for name in crate::parse::xattr_names(&self.list) {
            if !SHOWN_PREFIXES.iter().any(|p| name.starts_with(p)) {
                continue;
            }
            let Ok(c) = CString::new(name) else {
                continue;
            };
            match xattr::get(fd, &c, &mut self.value) {
                Ok(()) => out.push(Xattr {
                    name: name.into(),
                    value: self.value.as_slice().into(),
                }),
                Err(Errno::ENODATA) => {}
                Err(e) => return Err(err(e)),
            }
        }
        Ok(out)
    }
}
