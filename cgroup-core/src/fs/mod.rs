//! The I/O layer: a host rooted at a directory, directory fds, one reusable buffer.
//!
//! This is the only module that makes system calls. It decides nothing about what an
//! error means; it returns [`Error`]s carrying the raw errno and the path relative to the
//! host root, and the tree builder classifies them.
//!
//! Every open is relative to a directory fd, with `O_NOFOLLOW` (and `O_DIRECTORY` for
//! directories), so a symlink inside a fixture or a container cannot redirect a read.
//! A name with several components is resolved with `openat2(RESOLVE_BENEATH |
//! RESOLVE_NO_MAGICLINKS)`: it never leaves the directory it is relative to.
//!
//! [`read_file`] is the one reader for every file: it checks the file type with
//! `fstatat` before the open (devices, FIFOs and sockets are never opened: "not a regular
//! file", [`NOT_REGULAR`]; a directory: EISDIR), opens with `O_NONBLOCK` (a FIFO swapped in after the check
//! cannot block), and reads at most [`MAX_KERNEL_FILE`] bytes. [`read_kernel_file`]
//! skips the type check, for directories proven to be on cgroupfs or procfs (whose files
//! are all regular: [`Origin::Kernel`]).
//!
//! Public only with the `internals` feature (the workspace's fuzz targets, benches and
//! tests): not covered by semver. The configuration-file I/O of `user` is public through
//! [`crate::files`]. [`crate::Host`] and [`crate::CgroupMount`] are re-exported at
//! the crate root.

// Public only with `internals` (no semver promise): its functions' errors are the
// errno or `ParseError` their docs name, without the public API's `# Errors` sections.
#![allow(clippy::missing_errors_doc)]
mod host;
pub mod notify;
pub mod ns;
pub mod out;
pub mod read;
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite;
pub mod state;
// The confined configuration-file I/O; public through `crate::files` (owned errors).
pub(crate) mod user;
pub mod xattr;

pub use host::{CgroupMount, Host, MountSource};

use crate::error::Error;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::Mode;
use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Largest kernel file cgtree reads (a `cgroup.procs` of ~6M PIDs). Larger files are
/// refused with EFBIG rather than read without bound.
pub const MAX_KERNEL_FILE: usize = 64 << 20;

/// The errno [`read_file`] returns for a file that is not a regular file (a FIFO, a
/// device, a socket): `EMEDIUMTYPE`, which no read of a regular file gives. A directory
/// is refused with `EISDIR`, as what it is.
pub const NOT_REGULAR: Errno = Errno::EMEDIUMTYPE;

/// Where a directory is known to be, which decides what a read checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A kernel file system (cgroupfs, procfs), verified with `fstatfs`: every file is
    /// regular; no type check before the open.
    Kernel,
    /// Anything else (a `--root` snapshot, a fixture, a user's files): the type is
    /// checked before the open.
    Untrusted,
}

const FILE_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_NOCTTY)
    .union(OFlag::O_NONBLOCK);
const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_CLOEXEC)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_DIRECTORY);

/// A growable read buffer reused for every file of a walk. It never shrinks, and it is
/// zero-filled only when it grows.
#[derive(Debug, Default)]
pub struct Scratch {
    buf: Vec<u8>,
    /// What the reads through this buffer (and the walk that owns it) met.
    pub(crate) stats: crate::Stats,
}

impl Scratch {
    /// An empty buffer; it grows on first use.
    pub fn new() -> Self {
        Scratch {
            buf: vec![0; 16 * 1024],
            stats: crate::Stats::default(),
        }
    }

    /// Reads the whole of `fd` (until `read` returns 0: a short read from a kernel file
    /// does not mean end of file) and returns the bytes.
    pub fn read_fd(&mut self, fd: BorrowedFd<'_>, limit: usize) -> Result<&[u8], Errno> {
        self.fill(fd, limit, false, false)
    }

    /// [`Scratch::read_fd`] for a cgroupfs file whose whole content is one `seq_file`
    /// record (`cpu.stat`, `memory.stat`, `io.stat`, the `*.pressure` files: one `show`
    /// call each): the kernel hands such a record whole to a buffer that holds it, so a
    /// read that does not fill the buffer is the end of the file, and the extra `read`
    /// that would return 0 is saved. Not for files of many records (`cgroup.procs`),
    /// which the kernel may hand out a page at a time.
    pub fn read_single_record(&mut self, fd: BorrowedFd<'_>, limit: usize) -> Result<&[u8], Errno> {
        self.fill(fd, limit, true, false)
    }

    /// The first `n` bytes of the buffer: what the last read returned, when it returned
    /// `n` bytes.
    pub fn filled(&self, n: usize) -> &[u8] {
        &self.buf[..n.min(self.buf.len())]
    }

    /// [`Scratch::read_single_record`] from offset 0 of a descriptor kept open (`pread`):
    /// a cgroupfs file read again this way shows its content now (`seq_file` starts
    /// over at offset 0), with one system call.
    ///
    /// # Errors
    /// The errno of `pread` (`ENODEV` once the cgroup was removed), `EFBIG` past `limit`.
    pub fn pread_single_record(
        &mut self,
        fd: BorrowedFd<'_>,
        limit: usize,
    ) -> Result<&[u8], Errno> {
        self.fill(fd, limit, true, true)
    }

    /// The read loop of every reader above: `single`, stop at a read that does not fill
    /// the buffer; `at_offset`, `pread` from offset 0 on rather than `read`.
    fn fill(
        &mut self,
        fd: BorrowedFd<'_>,
        limit: usize,
        single: bool,
        at_offset: bool,
    ) -> Result<&[u8], Errno> {
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
            let r = if at_offset {
                let offset = i64::try_from(filled).map_err(|_| Errno::EFBIG)?;
                nix::sys::uio::pread(fd, &mut self.buf[filled..end], offset)
            } else {
                faults::read(fd, &mut self.buf[filled..end])
            };
            match r {
                Ok(0) => break,
                Ok(n) => {
                    filled += n;
                    // (`end` short of the buffer: a test's injected short read.)
                    if single && end == self.buf.len() && filled < end {
                        break;
                    }
                }
                Err(Errno::EINTR) => {
                    self.stats.interrupted += 1;
                    continue;
                }
                // EAGAIN: a FIFO or socket with a writer (opened O_NONBLOCK): never waited on.
                Err(e) => return Err(e),
            }
        }
        Ok(&self.buf[..filled])
    }
}

fn open_at(dir: BorrowedFd<'_>, name: &CStr, flags: OFlag) -> Result<OwnedFd, Errno> {
    if name.to_bytes().contains(&b'/') {
        // Several components (`proc/self/mountinfo` under a host root): symlinks followed
        // only while they stay below `dir`, the last one never.
        let path = Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
        read::open(dir, path, read::Resolve::Within, flags)
    } else {
        openat(dir, name, flags, Mode::empty())
    }
}

/// Opens `name` relative to `dir` for reading (non-blocking), without following
/// symlinks and without leaving `dir`. The file type is not checked: see [`read_file`].
pub fn open_file(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    open_at(dir, name, FILE_FLAGS)
}

/// Opens the directory `name` relative to `dir`, without following symlinks and without
/// leaving `dir`.
pub fn open_dir(dir: BorrowedFd<'_>, name: &CStr) -> Result<OwnedFd, Errno> {
    open_at(dir, name, DIR_FLAGS)
}

/// Opens the directory `rel` (one or more components, e.g. `system.slice/foo.service`)
/// below `dir` with no symlink at any component and no `..` (`openat2` with
/// `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or one `O_NOFOLLOW` open per component):
/// how the sampler reopens a cgroup by its path relative to the mount.
pub fn open_dir_beneath(dir: BorrowedFd<'_>, rel: &CStr) -> Result<OwnedFd, Errno> {
    let path = Path::new(std::ffi::OsStr::from_bytes(rel.to_bytes()));
    read::open(dir, path, read::Resolve::Beneath, DIR_FLAGS)
}

/// The monotonic clock (`CLOCK_MONOTONIC`) as a duration since an unspecified start
/// (boot): what sample timestamps and intervals are measured with.
pub fn monotonic_now() -> std::time::Duration {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) {
        Ok(ts) => std::time::Duration::new(
            u64::try_from(ts.tv_sec()).unwrap_or(0),
            u32::try_from(ts.tv_nsec()).unwrap_or(0),
        ),
        // CLOCK_MONOTONIC cannot fail on Linux; if it did, intervals would read as 0.
        Err(_) => std::time::Duration::ZERO,
    }
}

/// The parent directory of the directory `dir` (`..`), when it is still the directory
/// whose `(st_dev, st_ino)` is `expect`; `ESTALE` when it is another one (the directory
/// was moved while it was walked).
pub fn open_parent(dir: BorrowedFd<'_>, expect: (u64, u64)) -> Result<OwnedFd, Errno> {
    let fd = openat(dir, c"..", DIR_FLAGS, Mode::empty())?;
    if dir_identity(fd.as_fd())? != expect {
        return Err(Errno::ESTALE);
    }
    Ok(fd)
}

/// `(st_dev, st_ino)` of an open file.
pub fn dir_identity(fd: BorrowedFd<'_>) -> Result<(u64, u64), Errno> {
    let st = nix::sys::stat::fstat(fd)?;
    Ok((st.st_dev, st.st_ino))
}

/// The cgroup id of the cgroup whose directory `fd` is open: on cgroup2, the inode number
/// of the directory (`st_ino` of `fstat`, what `stat -c %i` prints), which is the 64-bit
/// id that BPF programs see (`bpf_get_current_cgroup_id()`, bpftrace's `cgroup`) and that
/// `name_to_handle_at(2)` encodes (kernel `kernfs_node` id, include/linux/kernfs.h;
/// Documentation/admin-guide/cgroup-v2.rst). On any other file system (a `--root`
/// fixture or snapshot) it is just that directory's inode number.
///
/// # Errors
/// The errno of `fstat` (EBADF for a closed descriptor).
pub fn cgroup_id_of(fd: BorrowedFd<'_>) -> Result<u64, Errno> {
    nix::sys::stat::fstat(fd).map(|st| st.st_ino)
}

/// `FILEID_KERNFS` (include/linux/exportfs.h): the file-handle type of kernfs (cgroupfs),
/// whose 8 bytes are the node id, i.e. the cgroup id.
pub const FILEID_KERNFS: i32 = 0xfe;

/// Opens (`O_PATH | O_DIRECTORY`) the cgroup whose id is `id` on the cgroup2 mount whose
/// root directory `mount_fd` is open, with `open_by_handle_at(2)` and a kernfs handle
/// (type [`FILEID_KERNFS`], the 8 bytes of the id, native byte order): no walk.
///
/// # Errors
/// The errno of `open_by_handle_at`: `EPERM` without `CAP_DAC_READ_SEARCH` (root only),
/// `ESTALE` (or `ENOENT`) for an id that names no live cgroup, `EOPNOTSUPP`/`EINVAL` on a
/// file system without kernfs handles (a `--root` fixture), `ENOTDIR` when the id names a
/// file rather than a cgroup directory.
#[allow(unsafe_code)]
pub fn open_cgroup_by_id(mount_fd: BorrowedFd<'_>, id: u64) -> Result<OwnedFd, Errno> {
    use std::os::fd::{AsRawFd, FromRawFd};
    /// `struct file_handle` (include/uapi/linux/fcntl.h via fcntl.h) with room for the
    /// 8-byte kernfs id.
    #[repr(C)]
    struct KernfsHandle {
        handle_bytes: u32,
        handle_type: i32,
        f_handle: [u8; 8],
    }
    let mut handle = KernfsHandle {
        handle_bytes: 8,
        handle_type: FILEID_KERNFS,
        f_handle: id.to_ne_bytes(),
    };
    let flags = nix::libc::O_PATH | nix::libc::O_DIRECTORY | nix::libc::O_CLOEXEC;
    // SAFETY: `handle` is a valid `struct file_handle` whose `handle_bytes` (8) is the
    // size of the `f_handle` array that follows it; the kernel reads at most that many
    // bytes and writes nothing; `mount_fd` is open for the duration of the call.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_open_by_handle_at,
            mount_fd.as_raw_fd(),
            std::ptr::addr_of_mut!(handle),
            flags,
        )
    };
    let fd = Errno::result(r)?;
    // SAFETY: a fresh descriptor returned by the kernel, owned (and closed) here.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as std::os::fd::RawFd) })
}

/// The path of the open descriptor `fd` as the kernel names it (`readlink` of
/// `/proc/self/fd/N`), e.g. `/sys/fs/cgroup/system.slice`.
///
/// # Errors
/// The errno of `readlink` (ENOENT without a mounted `/proc`).
pub fn fd_path(fd: BorrowedFd<'_>) -> Result<std::path::PathBuf, Errno> {
    use std::os::fd::AsRawFd;
    nix::fcntl::readlink(format!("/proc/self/fd/{}", fd.as_raw_fd()).as_str())
        .map(std::path::PathBuf::from)
}

/// Whether the directory `fd` is on a file system of type `magic` (`fstatfs`).
pub fn is_fs_type(fd: BorrowedFd<'_>, magic: nix::sys::statfs::FsType) -> bool {
    nix::sys::statfs::fstatfs(fd).is_ok_and(|st| st.filesystem_type() == magic)
}

/// Whether process `pid` exists in the caller's PID namespace, whatever `/proc` shows
/// (`pidfd_open(2)`, which needs no permission; the descriptor is closed at once).
/// `None` when the kernel cannot tell (no `pidfd_open`, EMFILE).
#[allow(unsafe_code)]
pub fn pid_exists(pid: u32) -> Option<bool> {
    use std::os::fd::FromRawFd;
    let pid = i32::try_from(pid).ok().filter(|&p| p > 0)?;
    // SAFETY: pidfd_open takes a PID and flags; on success it returns a new descriptor.
    let r = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid, 0) };
    match Errno::result(r) {
        // SAFETY: a fresh descriptor returned by the kernel, owned (and closed) here.
        Ok(fd) => {
            drop(unsafe { OwnedFd::from_raw_fd(fd as std::os::fd::RawFd) });
            Some(true)
        }
        Err(Errno::ESRCH) => Some(false),
        Err(_) => None,
    }
}

/// Whether `name` (relative to `dir`, its last component not followed) is a regular
/// file: `Ok(false)` when it does not exist or is something else.
///
/// # Errors
///
/// `fstatat`'s other errors (`EACCES`, ...).
pub fn regular_file_exists(dir: BorrowedFd<'_>, name: &CStr) -> Result<bool, Errno> {
    match nix::sys::stat::fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(st.st_mode & nix::libc::S_IFMT == nix::libc::S_IFREG),
        Err(Errno::ENOENT | Errno::ENOTDIR) => Ok(false),
        Err(e) => Err(e),
    }
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

/// Opens and reads `name` (relative to `dir`, never leaving it, no symlink followed) into
/// `scratch`: at most [`MAX_KERNEL_FILE`] bytes (`EFBIG` beyond). Anything but a regular
/// file is refused before it is opened, with [`NOT_REGULAR`].
pub fn read_file<'s>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    scratch: &'s mut Scratch,
) -> Result<&'s [u8], Errno> {
    read_file_from(dir, name, scratch, Origin::Untrusted)
}

/// [`read_file`] for a directory on cgroupfs or procfs ([`Origin::Kernel`]): no type
/// check (every file there is regular), the same non-blocking, bounded read.
pub fn read_kernel_file<'s>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    scratch: &'s mut Scratch,
) -> Result<&'s [u8], Errno> {
    read_file_from(dir, name, scratch, Origin::Kernel)
}

/// [`read_file`] or [`read_kernel_file`], as `origin` says.
pub fn read_file_from<'s>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    scratch: &'s mut Scratch,
    origin: Origin,
) -> Result<&'s [u8], Errno> {
    faults::on_open(name)?;
    let fd = if origin == Origin::Untrusted {
        // Type and size checked on an O_PATH descriptor before anything is opened.
        let path = Path::new(std::ffi::OsStr::from_bytes(name.to_bytes()));
        let how = if name.to_bytes().contains(&b'/') {
            read::Resolve::Within
        } else {
            read::Resolve::Beneath
        };
        match read::open_regular(dir, path, how, MAX_KERNEL_FILE as u64) {
            Ok((fd, _)) => fd,
            Err(state::StateError::Errno(e)) => return Err(e),
            Err(state::StateError::TooLarge(_)) => return Err(Errno::EFBIG),
            Err(_) => return Err(NOT_REGULAR),
        }
    } else {
        open_file(dir, name)?
    };
    faults::arm_read(name);
    let r = scratch.read_fd(fd.as_fd(), MAX_KERNEL_FILE);
    faults::disarm();
    r
}

/// [`read_file_from`] for a file of one `seq_file` record ([`Scratch::read_single_record`])
/// when `origin` is [`Origin::Kernel`] (cgroupfs); anywhere else exactly
/// [`read_file_from`].
///
/// # Errors
/// As [`read_file_from`].
pub fn read_record_file_from<'s>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    scratch: &'s mut Scratch,
    origin: Origin,
) -> Result<&'s [u8], Errno> {
    if origin != Origin::Kernel {
        return read_file_from(dir, name, scratch, origin);
    }
    faults::on_open(name)?;
    let fd = open_file(dir, name)?;
    faults::arm_read(name);
    let r = scratch.read_single_record(fd.as_fd(), MAX_KERNEL_FILE);
    faults::disarm();
    r
}

/// The I/O layer's seam for fault injection: what files cannot express (EOPNOTSUPP or
/// ENODEV at read time after a good open, EACCES, EINTR, short reads). Faults are set
/// per thread by file name, in tests only; otherwise every hook is a no-op.
pub(crate) mod faults {
    use nix::errno::Errno;
    use std::ffi::CStr;
    use std::os::fd::BorrowedFd;

    /// A fault to inject.
    #[cfg_attr(not(test), allow(dead_code))]
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn dir(p: &Path) -> OwnedFd {
        open_dir_path(p).unwrap()
    }

    /// A FIFO or a device in a snapshot is refused before it is opened (an open of a FIFO
    /// without a writer would block; a device's open has effects).
    #[test]
    fn read_file_refuses_what_is_not_a_regular_file() {
        let d = tempfile::tempdir().unwrap();
        nix::unistd::mkfifo(&d.path().join("fifo"), Mode::from_bits_truncate(0o644)).unwrap();
        // /dev/null's numbers (1, 3): a device node, made by root only.
        let dev = nix::sys::stat::mknod(
            &d.path().join("null"),
            nix::sys::stat::SFlag::S_IFCHR,
            Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(1, 3),
        );
        std::fs::create_dir(d.path().join("dir")).unwrap();
        std::fs::write(d.path().join("file"), "ok\n").unwrap();
        let fd = dir(d.path());
        let mut s = Scratch::new();
        assert_eq!(read_file(fd.as_fd(), c"fifo", &mut s), Err(NOT_REGULAR));
        if dev.is_ok() {
            assert_eq!(read_file(fd.as_fd(), c"null", &mut s), Err(NOT_REGULAR));
        }
        assert_eq!(read_file(fd.as_fd(), c"dir", &mut s), Err(Errno::EISDIR));
        assert_eq!(read_file(fd.as_fd(), c"file", &mut s).unwrap(), b"ok\n");
        // Even without the type check (a kernel file system), a FIFO never blocks: it is
        // opened non-blocking and reads as empty without a writer.
        assert_eq!(read_kernel_file(fd.as_fd(), c"fifo", &mut s).unwrap(), b"");
    }

    /// Names with several components never resolve outside the directory.
    #[test]
    fn paths_stay_beneath_the_directory() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("root/proc/1")).unwrap();
        std::fs::write(d.path().join("root/proc/1/cmdline"), "in\0").unwrap();
        std::fs::write(d.path().join("secret"), "out").unwrap();
        symlink(d.path(), d.path().join("root/proc/2")).unwrap();
        symlink("1", d.path().join("root/proc/3")).unwrap();
        let fd = dir(&d.path().join("root"));
        let mut s = Scratch::new();
        assert_eq!(
            read_file(fd.as_fd(), c"proc/1/cmdline", &mut s).unwrap(),
            b"in\0"
        );
        // An absolute symlink, `..` above the directory: refused.
        assert!(read_file(fd.as_fd(), c"proc/2/secret", &mut s).is_err());
        assert!(read_file(fd.as_fd(), c"proc/../../secret", &mut s).is_err());
        // A relative symlink that stays inside is followed (as /proc/self on a live host).
        assert_eq!(
            read_file(fd.as_fd(), c"proc/3/cmdline", &mut s).unwrap(),
            b"in\0"
        );
        // The last component is never followed.
        symlink("cmdline", d.path().join("root/proc/1/link")).unwrap();
        assert_eq!(
            read_file(fd.as_fd(), c"proc/1/link", &mut s),
            Err(Errno::ELOOP)
        );
        assert_eq!(
            open_file(fd.as_fd(), c"proc/1/link").err(),
            Some(Errno::ELOOP)
        );
    }

    /// The kernel's files that the walk reads without the type check are regular files.
    #[test]
    fn live_kernel_files_are_regular() {
        for p in [
            "/proc/self/cmdline",
            "/proc/self/status",
            "/proc/self/comm",
            "/proc/self/stat",
        ] {
            let st = nix::sys::stat::stat(p).unwrap();
            assert_eq!(st.st_mode & nix::libc::S_IFMT, nix::libc::S_IFREG, "{p}");
        }
        let mi = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
        if let Some(mp) = mi
            .lines()
            .find(|l| l.contains(" - cgroup2 "))
            .and_then(|l| l.split(' ').nth(4))
        {
            for f in [
                "cgroup.procs",
                "cgroup.controllers",
                "cgroup.subtree_control",
            ] {
                let st = nix::sys::stat::stat(&Path::new(mp).join(f)).unwrap();
                assert_eq!(
                    st.st_mode & nix::libc::S_IFMT,
                    nix::libc::S_IFREG,
                    "{mp}/{f}"
                );
            }
        }
        // And the live /proc/self/mountinfo reads through the /proc/self symlink.
        let root = dir(Path::new("/"));
        let mut s = Scratch::new();
        assert!(!read_file(root.as_fd(), c"proc/self/mountinfo", &mut s)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn pid_exists_tells_live_from_gone() {
        assert_eq!(pid_exists(std::process::id()), Some(true));
        assert_eq!(pid_exists(0), None);
        // PID_MAX_LIMIT + 1 can never exist.
        assert_eq!(pid_exists(4 * 1024 * 1024 + 1), Some(false));
    }

    #[test]
    fn open_parent_checks_the_directory() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::create_dir_all(d.path().join("x")).unwrap();
        let a = dir(&d.path().join("a"));
        let a_id = dir_identity(a.as_fd()).unwrap();
        let b = open_dir(a.as_fd(), c"b").unwrap();
        let again = open_parent(b.as_fd(), a_id).unwrap();
        assert_eq!(dir_identity(again.as_fd()).unwrap(), a_id);
        // b moved elsewhere while walked: its `..` is another directory.
        std::fs::rename(d.path().join("a/b"), d.path().join("x/b")).unwrap();
        assert_eq!(open_parent(b.as_fd(), a_id).err(), Some(Errno::ESTALE));
    }
}
