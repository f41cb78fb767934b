//! The file-system notification descriptors of [`crate::watch`]: fanotify with one
//! filesystem mark on the cgroup2 mount (fanotify(7), fanotify_init(2),
//! fanotify_mark(2)), or inotify watches on each directory (inotify(7)); both through
//! nix's wrappers. The records one fanotify `read(2)` returns are parsed by
//! [`crate::parse::fanotify_events`].

use nix::errno::Errno;
use nix::sys::fanotify::{EventFFlags, Fanotify, InitFlags, MarkFlags, MaskFlags};
use nix::sys::inotify::{AddWatchFlags, InitFlags as InInit, Inotify, WatchDescriptor};
use std::os::fd::{AsFd, BorrowedFd};

/// `FAN_REPORT_DFID_NAME_TARGET` (`FAN_REPORT_FID | FAN_REPORT_DIR_FID |
/// FAN_REPORT_NAME | FAN_REPORT_TARGET_FID`, Linux 5.17), which nix 0.32 does not name:
/// each event carries the parent directory's file handle and the entry's name, and the
/// created or deleted entry's own handle (its cgroup id, even when it is already gone).
const FAN_REPORT_DFID_NAME_TARGET: u32 = nix::libc::FAN_REPORT_DFID_NAME_TARGET;
/// The same without the target's handle (Linux 5.9 to 5.16).
const FAN_REPORT_DFID_NAME: u32 = nix::libc::FAN_REPORT_DFID_NAME;

/// What the fanotify mark asks for: entries created, deleted and moved in any directory
/// of the file system, directories included (`FAN_ONDIR`), and files modified (the
/// kernel's notification that `cgroup.events` changed: cgroup-v2.rst, "cgroup.events").
pub fn fanotify_mask() -> MaskFlags {
    MaskFlags::FAN_CREATE
        | MaskFlags::FAN_DELETE
        | MaskFlags::FAN_MOVED_FROM
        | MaskFlags::FAN_MOVED_TO
        | MaskFlags::FAN_MODIFY
        | MaskFlags::FAN_ONDIR
}

/// A non-blocking fanotify group reporting directory handles and names, with one
/// filesystem mark on the file system of `mount` (the cgroup2 mount's directory).
///
/// # Errors
///
/// `fanotify_init`'s or `fanotify_mark`'s: `EPERM` without `CAP_SYS_ADMIN` (a
/// filesystem mark needs it), `EINVAL` or `ENOSYS` on kernels older than 5.9, `ENODEV`
/// or `EOPNOTSUPP` when the file system cannot encode file handles.
pub fn fanotify_filesystem(mount: BorrowedFd<'_>) -> Result<Fanotify, Errno> {
    let flags = InitFlags::FAN_CLASS_NOTIF | InitFlags::FAN_CLOEXEC | InitFlags::FAN_NONBLOCK;
    let f_flags = EventFFlags::O_RDONLY | EventFFlags::O_CLOEXEC;
    let fan = match Fanotify::init(
        flags | InitFlags::from_bits_retain(FAN_REPORT_DFID_NAME_TARGET),
        f_flags,
    ) {
        Err(Errno::EINVAL) => Fanotify::init(
            flags | InitFlags::from_bits_retain(FAN_REPORT_DFID_NAME),
            f_flags,
        )?,
        r => r?,
    };
    fan.mark(
        MarkFlags::FAN_MARK_ADD | MarkFlags::FAN_MARK_FILESYSTEM,
        fanotify_mask(),
        mount,
        None::<&std::path::Path>,
    )?;
    Ok(fan)
}

/// Reads what is queued on the non-blocking descriptor `fd` into `buf` (its whole
/// length); returns the bytes read, `0` when nothing was queued.
///
/// # Errors
///
/// `read(2)`'s, but for `EAGAIN` and `EINTR` (nothing read: `Ok(0)`).
pub fn read_queued(fd: BorrowedFd<'_>, buf: &mut [u8]) -> Result<usize, Errno> {
    match nix::unistd::read(fd, buf) {
        Ok(n) => Ok(n),
        Err(Errno::EAGAIN | Errno::EINTR) => Ok(0),
        Err(e) => Err(e),
    }
}

/// A non-blocking inotify instance.
///
/// # Errors
///
/// `inotify_init1`'s (`EMFILE` past `fs.inotify.max_user_instances`).
pub fn inotify() -> Result<Inotify, Errno> {
    Inotify::init(InInit::IN_NONBLOCK | InInit::IN_CLOEXEC)
}

/// What each inotify watch asks for: subdirectories created, deleted and moved, files
/// modified in the directory (`cgroup.events`), and the directory's own end.
pub fn inotify_mask() -> AddWatchFlags {
    AddWatchFlags::IN_CREATE
        | AddWatchFlags::IN_DELETE
        | AddWatchFlags::IN_MOVED_FROM
        | AddWatchFlags::IN_MOVED_TO
        | AddWatchFlags::IN_MODIFY
        | AddWatchFlags::IN_ONLYDIR
        | AddWatchFlags::IN_DONT_FOLLOW
}

/// Adds a watch on the directory `rel` (below `base`) for the removal or renaming of
/// its entries only: the parent of a watched subtree, whose own end inotify reports
/// there (cgroup2 sends no `IN_DELETE_SELF`: a removed cgroup's inode keeps its links).
///
/// # Errors
///
/// As [`inotify_watch`].
pub fn inotify_watch_removals(
    ino: &Inotify,
    base: BorrowedFd<'_>,
    rel: &[u8],
) -> Result<WatchDescriptor, Errno> {
    add(
        ino,
        base,
        rel,
        AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_ONLYDIR
            | AddWatchFlags::IN_DONT_FOLLOW,
    )
}

/// Adds a watch on the directory `rel` (relative to the open directory `base`, reached
/// through `/proc/self/fd`, since `inotify_add_watch` has no `*at` form).
///
/// # Errors
///
/// `inotify_add_watch`'s: `ENOENT` when the directory is gone, `ENOSPC` past
/// `fs.inotify.max_user_watches`.
pub fn inotify_watch(
    ino: &Inotify,
    base: BorrowedFd<'_>,
    rel: &[u8],
) -> Result<WatchDescriptor, Errno> {
    add(ino, base, rel, inotify_mask())
}

fn add(
    ino: &Inotify,
    base: BorrowedFd<'_>,
    rel: &[u8],
    mask: AddWatchFlags,
) -> Result<WatchDescriptor, Errno> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let mut p = format!("/proc/self/fd/{}", base.as_raw_fd()).into_bytes();
    let rel = rel.strip_prefix(b"/").unwrap_or(rel);
    // `/.` for `base` itself: the magic link is then followed (IN_DONT_FOLLOW would
    // otherwise watch the link).
    p.push(b'/');
    p.extend_from_slice(if rel.is_empty() { b"." } else { rel });
    ino.add_watch(std::ffi::OsStr::from_bytes(&p), mask)
}

/// The inode number of the directory `rel` below `base` (`.` for `base` itself): on
/// cgroup2, the cgroup id. `ENOENT` when it is gone.
///
/// # Errors
///
/// `openat`'s or `fstat`'s.
pub fn cgroup_id(base: BorrowedFd<'_>, rel: &[u8]) -> Result<u64, Errno> {
    let rel = rel.strip_prefix(b"/").unwrap_or(rel);
    if rel.is_empty() {
        return super::dir_identity(base).map(|(_, ino)| ino);
    }
    let c = std::ffi::CString::new(rel).map_err(|_| Errno::EINVAL)?;
    let fd = super::open_dir(base, &c)?;
    super::dir_identity(fd.as_fd()).map(|(_, ino)| ino)
}
