//! Extended attributes of an open file (`flistxattr(2)`, `fgetxattr(2)`, through rustix:
//! nix has no wrapper for them).

use nix::errno::Errno;
use std::ffi::CStr;
use std::os::fd::BorrowedFd;

/// The kernel's largest name list and value (`XATTR_LIST_MAX`, `XATTR_SIZE_MAX`: 65536
/// bytes, include/uapi/linux/limits.h): a buffer this size never gets `ERANGE`.
pub const MAX_XATTR: usize = 65536;

fn errno(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error())
}

/// Reads the names of the extended attributes of `fd` into `buf` (a NUL-ended list, see
/// [`crate::parse::xattr_names`]), replacing what it held. One `flistxattr` call.
///
/// # Errors
/// The errno of `flistxattr`: `EOPNOTSUPP` where the file system keeps no extended
/// attributes, `EBADF`, ...
pub fn list(fd: BorrowedFd<'_>, buf: &mut Vec<u8>) -> Result<(), Errno> {
    buf.clear();
    buf.resize(MAX_XATTR, 0);
    let n = rustix::fs::flistxattr(fd, &mut buf[..]).map_err(errno)?;
    buf.truncate(n.min(MAX_XATTR));
    Ok(())
}

/// Reads the value of the extended attribute `name` of `fd` into `buf` (replacing what it
/// held), at most [`MAX_XATTR`] bytes. One `fgetxattr` call.
///
/// # Errors
/// The errno of `fgetxattr`: `ENODATA` when the attribute went away since it was listed,
/// `EACCES`/`EPERM` for a name the caller may not read (`trusted.` needs
/// `CAP_SYS_ADMIN`), ...
pub fn get(fd: BorrowedFd<'_>, name: &CStr, buf: &mut Vec<u8>) -> Result<(), Errno> {
    buf.clear();
    buf.resize(MAX_XATTR, 0);
    let n = rustix::fs::fgetxattr(fd, name, &mut buf[..]).map_err(errno)?;
    buf.truncate(n.min(MAX_XATTR));
    Ok(())
}
