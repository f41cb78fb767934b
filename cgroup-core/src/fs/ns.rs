//! Namespace file descriptors: the owner and the parent of a user namespace, through the
//! `NS_GET_OWNER_UID` and `NS_GET_PARENT` ioctls (ioctl_ns(2)). Only meaningful on a live
//! host: a fixture's `ns/user` is a symlink whose target only names the namespace.

#![allow(unsafe_code)] // the two ioctls below have no safe wrapper in nix

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::{fstat, Mode};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

mod sys {
    #![allow(missing_docs)]
    // NS_GET_PARENT = _IO(0xb7, 0x2): returns an fd for the parent namespace.
    nix::ioctl_none!(ns_get_parent, 0xb7, 0x2);
    // NS_GET_OWNER_UID = _IO(0xb7, 0x4): writes the owner's UID to its argument.
    nix::ioctl_read_bad!(
        ns_get_owner_uid,
        nix::request_code_none!(0xb7, 0x4),
        nix::libc::uid_t
    );
}
use sys::{ns_get_owner_uid, ns_get_parent};

/// Opens a namespace file (e.g. `/proc/<pid>/ns/user`).
pub fn open_ns(path: &Path) -> Result<OwnedFd, Errno> {
    nix::fcntl::open(path, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())
}

/// The inode number of a namespace fd (the number `lsns` prints).
pub fn ns_inode(fd: &OwnedFd) -> Result<u64, Errno> {
    fstat(fd).map(|st| st.st_ino)
}

/// The UID that created the user namespace `fd` (as seen from the caller's namespace).
pub fn owner_uid(fd: &OwnedFd) -> Result<u32, Errno> {
    let mut uid: nix::libc::uid_t = 0;
    // SAFETY: `fd` is an open descriptor and `uid` a valid, writable uid_t for the
    // kernel to fill; the ioctl writes nothing else.
    unsafe { ns_get_owner_uid(fd.as_raw_fd(), &mut uid) }?;
    Ok(uid)
}

/// The parent of the user namespace `fd`. EPERM when the parent lies outside the
/// caller's namespace (the caller's own namespace is the top it may see).
pub fn parent(fd: &OwnedFd) -> Result<OwnedFd, Errno> {
    // SAFETY: `fd` is an open descriptor; on success the ioctl returns a new descriptor
    // that nobody else owns, so wrapping it in OwnedFd is sound.
    let raw = unsafe { ns_get_parent(fd.as_raw_fd()) }?;
    // SAFETY: see above: `raw` is a fresh descriptor returned by the kernel.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_user_namespace_has_an_inode_and_owner() {
        let fd = open_ns(Path::new("/proc/self/ns/user")).unwrap();
        let ino = ns_inode(&fd).unwrap();
        assert!(ino > 0);
        let link = std::fs::read_link("/proc/self/ns/user").unwrap();
        assert_eq!(link.to_string_lossy(), format!("user:[{ino}]"));
        // The initial namespace has no parent visible to us.
        if let Err(e) = parent(&fd) {
            assert!(
                matches!(e, Errno::EPERM | Errno::ENOTTY | Errno::EINVAL),
                "{e}"
            );
        }
    }
}
