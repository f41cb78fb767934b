//! The I/O layer: a host rooted at a directory, directory fds, one reusable buffer.
//!
//! This is the only module that makes system calls. It decides nothing about what an
//! error means; it returns [`Error`]s carrying the raw errno and the path relative to the
//! host root, and the tree builder classifies them.
//!
//! Every open is relative to a directory fd, with `O_NOFOLLOW` (and `O_DIRECTORY` for
//! directories), so a symlink inside a fixture or a container cannot redirect a read.

mod host;
pub mod ns;
pub mod out;
pub mod read;
pub mod state;
pub mod user;

pub use host::{CgroupMount, Host, MountSource};

use crate::error::Error;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

/// Largest kernel file cgtree reads (a `cgroup.procs` of ~6M PIDs). Larger files are
/// refused with EFBIG rather than read without bound.
pub const MAX_KERNEL_FILE: usize = 64 << 20;

const FILE_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_NOCTTY);
const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_DIRECTORY);

/// A growable read buffer reused for every file of a walk. It never shrinks, and it is
/// zero-filled only when it grows.
#[derive(Debug, Default)]
pub struct Scratch {
    buf: Vec<u8>,
}

impl Scratch {
    /// An empty buffer; it grows on first use.
    pub fn new() -> Self {
        Scratch {
            buf: vec![0; 16 * 1024],
        }
    }

    /// Reads the whole of `fd` (until `read` returns 0: a short read from a kernel file
    /// does not mean end of file) and returns the bytes.
    pub fn read_fd(&mut self, fd: BorrowedFd<'_>, limit: usize) -> Result<&[u8], Errno> {
        if self.buf.is_empty() {
            self.buf.resize(16 * 1024, 0);
        }
        let mut filled = 0;
        loop {
            if filled == self.buf.len() {
                if filled >= limit {
                    return Err(Errno::EFBIG);
                }
                let new_len = (self.buf.len() * 2).min(limit.max(1));
                self.buf.resize(new_len.max(filled + 1), 0);
            }
            let end = faults::chunk_end(filled, self.buf.len());
            match faults::read(fd, &mut self.buf[filled..end]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(Errno::EINTR) => {
                    crate::stats::interrupted();
                    continue;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(&self.buf[..filled])
    }
}

/// Opens `name` relative to `dir` for reading, without following symlinks.
pub fn open_file(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    openat(dir, name, FILE_FLAGS, Mode::empty())
}

/// Opens the directory `name` relative to `dir`, without following symlinks.
pub fn open_dir(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    openat(dir, name, DIR_FLAGS, Mode::empty())
}

/// Opens an absolute or relative directory path (used once, for roots).
pub fn open_dir_path(path: &Path) -> Result<OwnedFd, Errno> {
    // Roots given by the user may be symlinks (e.g. /var/run): follow them here only.
    nix::fcntl::open(
        path,
        OFlag::O_RDONLY | OFlag::O_CLOEXEC | OFlag::O_DIRECTORY,
        Mode::empty(),
    )
}

/// Opens and reads `name` relative to `dir` into `scratch`.
pub fn read_file<'s>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    scratch: &'s mut Scratch,
) -> Result<&'s [u8], Errno> {
    faults::on_open(name)?;
    let fd = open_file(dir, name)?;
    faults::arm_read(name);
    let r = scratch.read_fd(fd.as_fd(), MAX_KERNEL_FILE);
    faults::disarm();
    r
}

/// The I/O layer's seam for fault injection: what files cannot express (EOPNOTSUPP or
/// ENODEV at read time after a good open, EACCES, EINTR, short reads). Faults are set
/// per thread by file name, in tests only; otherwise every hook is a no-op.
pub mod faults {
    use nix::errno::Errno;
    use std::ffi::CStr;
    use std::os::fd::BorrowedFd;

    /// A fault to inject.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Fault {
        /// `open` fails with this errno.
        Open(Errno),
        /// `open` succeeds; the first `read` fails with this errno.
        Read(Errno),
        /// Every `read` returns at most this many bytes (a kernel may return less than asked).
        Short(usize),
        /// The first `read` fails with EINTR (a signal), then reads go on.
        Interrupt,
        /// The file ends after this many bytes (a torn read: the cgroup changed under us).
        Torn(usize),
    }

    pub(crate) use imp::*;
    #[cfg(test)]
    pub use imp::{clear, set};

    #[cfg(not(test))]
    mod imp {
        use super::*;

        #[inline(always)]
        pub(crate) fn on_open(_: &CStr) -> Result<(), Errno> {
            Ok(())
        }
        #[inline(always)]
        pub(crate) fn arm_read(_: &CStr) {}
        #[inline(always)]
        pub(crate) fn disarm() {}
        #[inline(always)]
        pub(crate) fn chunk_end(_: usize, len: usize) -> usize {
            len
        }
        #[inline(always)]
        pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
            nix::unistd::read(fd, buf)
        }
    }

    #[cfg(test)]
    mod imp {
        use super::*;
        use std::cell::RefCell;

        thread_local! {
            static FAULTS: RefCell<Vec<(Vec<u8>, Fault)>> = const { RefCell::new(Vec::new()) };
            static ARMED: RefCell<Option<(Fault, usize, bool)>> = const { RefCell::new(None) };
        }

        /// Injects `fault` for files named `name` on this thread.
        pub fn set(name: &str, fault: Fault) {
            FAULTS.with(|f| f.borrow_mut().push((name.as_bytes().to_vec(), fault)));
        }

        /// Removes every fault of this thread.
        pub fn clear() {
            FAULTS.with(|f| f.borrow_mut().clear());
        }

        fn find(name: &CStr) -> Option<Fault> {
            let n = name.to_bytes();
            let base = n.rsplit(|&b| b == b'/').next().unwrap_or(n);
            FAULTS.with(|f| f.borrow().iter().find(|(k, _)| k == base).map(|(_, v)| *v))
        }

        pub(crate) fn on_open(name: &CStr) -> Result<(), Errno> {
            match find(name) {
                Some(Fault::Open(e)) => Err(e),
                _ => Ok(()),
            }
        }

        pub(crate) fn arm_read(name: &CStr) {
            ARMED.with(|a| *a.borrow_mut() = find(name).map(|f| (f, 0, false)));
        }

        pub(crate) fn disarm() {
            ARMED.with(|a| *a.borrow_mut() = None);
        }

        pub(crate) fn chunk_end(filled: usize, len: usize) -> usize {
            ARMED.with(|a| match *a.borrow() {
                Some((Fault::Short(n), _, _)) => (filled + n.max(1)).min(len),
                Some((Fault::Torn(n), _, _)) => n.clamp(filled, len),
                _ => len,
            })
        }

        pub(crate) fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
            let injected = ARMED.with(|a| {
                let mut a = a.borrow_mut();
                match a.as_mut() {
                    Some((Fault::Read(e), _, fired @ false)) => {
                        *fired = true;
                        Some(Err(*e))
                    }
                    Some((Fault::Interrupt, _, fired @ false)) => {
                        *fired = true;
                        Some(Err(Errno::EINTR))
                    }
                    Some((Fault::Torn(_), _, _)) if buf.is_empty() => Some(Ok(0)),
                    _ => None,
                }
            });
            match injected {
                Some(r) => r,
                None => nix::unistd::read(fd, buf),
            }
        }
    }
}

/// `getdents64(2)` into `buf`: the raw `linux_dirent64` records.
///
/// Not through `nix::dir::Dir`: `fdopendir` costs an `fstat` and two `fcntl` per
/// directory and dropping its iterator a `lseek`, four system calls per cgroup that the
/// walk does not need.
#[allow(unsafe_code)]
fn getdents64(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    use std::os::fd::AsRawFd;
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes and the kernel writes at
    // most that many; `fd` is an open descriptor for the duration of the call.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_getdents64,
            fd.as_raw_fd(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    Errno::result(r).map(|n| usize::try_from(n).unwrap_or(0))
}

/// Largest `linux_dirent64` record (19 bytes of header, a 255-byte name, NUL, padding).
const MAX_DIRENT: usize = 280;

/// Lists the names of the subdirectories of the directory `fd`, skipping `.` and `..`,
/// with `buf` as scratch space. Uses `d_type`; only when a file system leaves it unknown
/// is `fstatat` called. A batch that leaves room for another record is the last one, so
/// a cgroup directory costs one `getdents64`.
pub fn subdirs(fd: BorrowedFd<'_>, buf: &mut Vec<u8>) -> Result<Vec<Box<[u8]>>, Errno> {
    if buf.len() < 32 * 1024 {
        buf.resize(32 * 1024, 0);
    }
    let mut out = Vec::new();
    let mut unknown: Vec<Box<[u8]>> = Vec::new();
    loop {
        let n = getdents64(fd, buf)?;
        if n == 0 {
            break;
        }
        let mut off = 0;
        while off + 19 <= n {
            let rec = &buf[off..n];
            let reclen = usize::from(u16::from_ne_bytes([rec[16], rec[17]]));
            if reclen < 19 || reclen > rec.len() {
                return Err(Errno::EIO);
            }
            let d_type = rec[18];
            let name_bytes = &rec[19..reclen];
            let name = &name_bytes[..memchr::memchr(0, name_bytes).unwrap_or(name_bytes.len())];
            off += reclen;
            if name == b"." || name == b".." {
                continue;
            }
            match d_type {
                nix::libc::DT_DIR => out.push(name.into()),
                nix::libc::DT_UNKNOWN => unknown.push(name.into()),
                _ => {}
            }
        }
        if n + MAX_DIRENT <= buf.len() {
            break;
        }
    }
    for name in unknown {
        let Ok(c) = std::ffi::CString::new(name.to_vec()) else {
            continue;
        };
        let is_dir =
            nix::sys::stat::fstatat(fd, c.as_c_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
                .map(|st| st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFDIR)
                .unwrap_or(false);
        if is_dir {
            out.push(name);
        }
    }
    Ok(out)
}

/// Converts an errno into an [`Error::Io`] on `path`.
pub fn errno_error(path: impl AsRef<Path>, e: Errno) -> Error {
    Error::io(path.as_ref(), io::Error::from_raw_os_error(e as i32))
}
