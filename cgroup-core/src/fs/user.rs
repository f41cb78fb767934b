//! Reading and writing configuration files as root without trusting what a user
//! controls: a user's home, a Windows profile under `/mnt/c/Users`, and root's own
//! `/etc` files (whose directories only root can write).
//!
//! Three rules hold for every call here:
//! - **One bounded reader.** Every file is opened with `O_NONBLOCK | O_NOCTTY`, checked
//!   with `fstat` to be a regular file (a FIFO or a device is never read, and an open of
//!   a FIFO never blocks), refused above a byte limit by its size, and read to at most
//!   `limit + 1` bytes. Directory listings are bounded likewise.
//! - **No links in a user's directory.** Below a directory a user controls
//!   ([`Place::User`]), a path is resolved with `openat2(RESOLVE_BENEATH |
//!   RESOLVE_NO_SYMLINKS)` (or one component at a time with `O_NOFOLLOW` where `openat2`
//!   is missing): a symlink at any component, parents included, is refused with ELOOP.
//!   On the live host, that work runs on a dedicated thread whose *filesystem*
//!   credentials are the user's ([`with_fs_creds`]: `setfsgid`, `setfsuid` and an empty
//!   supplementary group list, all per thread), so the kernel itself refuses what the
//!   user could not do: root's powers never apply to a user's files.
//! - **Root's own files through root's own links only.** For [`Place::System`] paths,
//!   symlinks are followed by hand, inside the host root, and only through directories
//!   that only root (or the caller) can write; a directory writable by group or others
//!   on the way is refused.
//!
//! Writes ([`replace`]) never write into an existing file: the new bytes go to a
//! temporary file created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`, mode 0600) in
//! the same directory, get their mode and owner set on that file descriptor, and are
//! renamed over the name. The old bytes go to a backup created exclusively under a fresh
//! name (`NAME.cgtree-backup`, then `.1`, `.2`, ...), never through an existing name.
//!
//! Error values carry an errno or a kind, never file content.

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag};
use nix::sys::stat::{fstat, fstatat, FileStat, Mode, SFlag};
use nix::unistd::{Gid, Uid};
use std::ffi::{OsStr, OsString};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::read::{self, Resolve};
use super::state::StateError;

/// Largest configuration file read (1 MiB); larger ones are refused by their size.
pub const MAX_CONFIG_FILE: u64 = 1 << 20;

/// Most entries listed from one directory.
pub const MAX_ENTRIES: usize = 4096;

/// Most symlinks followed when resolving one of root's own paths.
const MAX_LINKS: usize = 40;

/// Why a file was not read or written. Never holds file content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileError {
    /// A system call failed (ENOENT: absent; ELOOP: a symlink was refused; EACCES: the
    /// user, or root, may not).
    Errno(Errno),
    /// Not a regular file (a FIFO, a device, a directory, a socket): not opened for
    /// reading, not replaced.
    NotRegular,
    /// Larger than the limit (its size in bytes).
    TooLarge(u64),
    /// One of root's paths leads through a directory (or link) that someone other than
    /// root may change (owner UID, mode).
    Untrusted(u32, u32),
    /// The file is not what the plan was made from.
    Changed,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileError::Errno(Errno::ELOOP) => {
                f.write_str("a symbolic link where a user controls the path: refused, not followed")
            }
            FileError::Errno(e) => {
                write!(f, "{}", std::io::Error::from_raw_os_error(*e as i32))
            }
            FileError::NotRegular => f.write_str("not a regular file: not read"),
            FileError::TooLarge(n) => write!(f, "{n} bytes, over the limit: not read"),
            FileError::Untrusted(uid, mode) => write!(
                f,
                "its directory may be changed by others (owner {uid}, mode {mode:04o}): refused"
            ),
            FileError::Changed => f.write_str("changed since the plan was made; plan again"),
        }
    }
}

impl std::error::Error for FileError {}

impl From<Errno> for FileError {
    fn from(e: Errno) -> Self {
        FileError::Errno(e)
    }
}

impl From<StateError> for FileError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::Errno(e) => FileError::Errno(e),
            StateError::NotRegular => FileError::NotRegular,
            StateError::TooLarge(n) => FileError::TooLarge(n),
            // Not produced by the readers used here (no owner or link-count check).
            StateError::NotOwner(uid) => FileError::Untrusted(uid, 0),
            StateError::Linked(_) => FileError::NotRegular,
        }
    }
}

impl FileError {
    /// The file does not exist.
    pub fn is_absent(&self) -> bool {
        matches!(self, FileError::Errno(Errno::ENOENT))
    }
}

/// Where a file is, and so how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Place {
    /// One of root's own files (`/etc/...`): symlinks followed inside the host root,
    /// only through directories that only root (or the caller) can write.
    System,
    /// Below `dir` (as the host sees it), a directory a user controls: no symlink at any
    /// component below it; with `creds` (UID, GID) the work runs with those filesystem
    /// credentials.
    User {
        /// The user's directory (their home).
        dir: PathBuf,
        /// Filesystem credentials for the work (`None`: the caller's own).
        creds: Option<(u32, u32)>,
    },
}

/// Runs `f` on a new thread whose filesystem UID and GID are `creds` and whose
/// supplementary groups are empty (when `creds` is `Some`), and returns its result. The
/// credentials are per thread (`setfsuid(2)`, `setfsgid(2)` and the raw `setgroups`
/// system call, not glibc's process-wide wrapper), so no other thread is affected; the
/// thread ends with `f`. Fails with EPERM when the credentials could not be taken.
pub fn with_fs_creds<T: Send>(
    creds: Option<(u32, u32)>,
    f: impl FnOnce() -> T + Send,
) -> Result<T, FileError> {
    let Some((uid, gid)) = creds else {
        return Ok(f());
    };
    std::thread::scope(|s| {
        let h = s.spawn(move || {
            clear_thread_groups()?;
            nix::unistd::setfsgid(Gid::from_raw(gid));
            nix::unistd::setfsuid(Uid::from_raw(uid));
            // Each call returns the previous value: asking again proves the change.
            let now_gid = nix::unistd::setfsgid(Gid::from_raw(gid)).as_raw();
            let now_uid = nix::unistd::setfsuid(Uid::from_raw(uid)).as_raw();
            if (now_uid, now_gid) != (uid, gid) {
                return Err(FileError::Errno(Errno::EPERM));
            }
            Ok(f())
        });
        match h.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// `setgroups(0, NULL)` for the calling thread only (the raw system call: glibc's
/// wrapper would change every thread of the process). Not root: nothing to drop.
#[allow(unsafe_code)]
fn clear_thread_groups() -> Result<(), FileError> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(());
    }
    // SAFETY: setgroups with a zero count reads no memory; it changes only the calling
    // thread's credentials (the raw system call, not glibc's broadcasting wrapper).
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_setgroups,
            0 as nix::libc::size_t,
            std::ptr::null::<nix::libc::gid_t>(),
        )
    };
    Errno::result(r).map(drop).map_err(FileError::Errno)
}

fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR
}

/// The relative, `..`-free components of `p`; `..` above the start stays at the start
/// (as `RESOLVE_IN_ROOT` does at a root).
fn components(p: &Path) -> Option<Vec<OsString>> {
    let mut out: Vec<OsString> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n.to_os_string()),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

/// Opens `rel` below `dir` with no symlink at any component and no `..` out of `dir`
/// (a leading `/` stands for `dir`): [`read::open`] with [`Resolve::Beneath`].
fn open_beneath(dir: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    read::open(
        dir,
        rel.strip_prefix("/").unwrap_or(rel),
        Resolve::Beneath,
        flags,
    )
}

/// Opens `rel` under the root directory `root`, symlinks resolved inside the root
/// (where `openat2` is missing, symlinks are refused): [`read::open`] with
/// [`Resolve::InRoot`]. For root's own files (`/proc`, `/var/lib/dpkg/status`,
/// `/etc/passwd`).
fn open_in_root(root: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    read::open(root, rel, Resolve::InRoot, flags)
}

/// Reads the regular file `rel` below `dir` as `resolve` says: the one bounded reader
/// ([`read::read`]: type and size checked before the open, never a FIFO or a device).
fn read_regular(
    dir: BorrowedFd<'_>,
    rel: &Path,
    resolve: Resolve,
    limit: u64,
) -> Result<Vec<u8>, FileError> {
    let mut buf = Vec::new();
    read::read(dir, rel, resolve, limit, &mut buf)?;
    Ok(buf)
}

/// Reads `rel` (as the host sees it, or relative) under the host root `root`, symlinks
/// resolved inside the root, bounded by `limit`. For root's own files.
pub fn read_host_file(root: &Path, rel: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let r = super::open_dir_path(root)?;
    read_regular(r.as_fd(), rel, Resolve::InRoot, limit)
}

/// Reads `rel` below the directory `dir` (an absolute path, followed: e.g. a cgroup2
/// mount), with no symlink below it, bounded by `limit`.
pub fn read_beneath(dir: &Path, rel: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    let d = super::open_dir_path(dir)?;
    read_regular(
        d.as_fd(),
        rel.strip_prefix("/").unwrap_or(rel),
        Resolve::Beneath,
        limit,
    )
}

/// Whether `rel` below `dir` (as in [`read_beneath`]) is a directory.
pub fn is_dir_beneath(dir: &Path, rel: &Path) -> bool {
    super::open_dir_path(dir)
        .and_then(|d| open_beneath(d.as_fd(), rel, OFlag::O_PATH | OFlag::O_DIRECTORY))
        .is_ok()
}

/// Lists the subdirectories of `rel` under the host root `root` (symlinks resolved
/// inside the root for `rel` itself; entries that are symlinks are not directories),
/// at most [`MAX_ENTRIES`], sorted.
pub fn list_host_dirs(root: &Path, rel: &Path) -> Result<Vec<OsString>, FileError> {
    let r = super::open_dir_path(root)?;
    let fd = open_in_root(
        r.as_fd(),
        rel,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NONBLOCK,
    )?;
    let mut dir = nix::dir::Dir::from_fd(fd)?;
    let mut names = Vec::new();
    for e in dir.iter() {
        let e = e?;
        let name = e.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if names.len() >= MAX_ENTRIES {
            break;
        }
        names.push(OsStr::from_bytes(name).to_os_string());
    }
    let mut out: Vec<OsString> = names
        .into_iter()
        .filter(|n| {
            fstatat(dir.as_fd(), n.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
                .is_ok_and(|st| is_dir(&st))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// The owner (UID, GID) of the directory `rel` under the host root.
pub fn host_dir_owner(root: &Path, rel: &Path) -> Result<(u32, u32), FileError> {
    let r = super::open_dir_path(root)?;
    let fd = open_in_root(r.as_fd(), rel, OFlag::O_PATH | OFlag::O_DIRECTORY)?;
    let st = fstat(fd.as_fd())?;
    Ok((st.st_uid, st.st_gid))
}

/// A directory only root (or the caller) can change: owned by root or the caller, not
/// writable by group or others.
fn trusted(st: &FileStat) -> Result<(), FileError> {
    let me = nix::unistd::geteuid().as_raw();
    if (st.st_uid == 0 || st.st_uid == me) && st.st_mode & 0o022 == 0 {
        Ok(())
    } else {
        Err(FileError::Untrusted(st.st_uid, st.st_mode & 0o7777))
    }
}

/// Resolves one of root's own paths under the root fd: returns the directory that holds
/// the file (opened), the file's name, and the resolved path (relative to the root).
/// Symlinks are followed by hand, inside the root, only when the directory holding them
/// is trusted; every directory passed through must be trusted. With `create`, missing
/// directories are made (mode 0755); else a missing one is ENOENT.
fn resolve_system(
    root: BorrowedFd<'_>,
    path: &Path,
    create: bool,
) -> Result<(OwnedFd, OsString, PathBuf), FileError> {
    let mut comps = components(path).ok_or(FileError::Errno(Errno::EXDEV))?;
    let mut links = 0;
    'restart: loop {
        let Some((name, parents)) = comps.split_last() else {
            return Err(FileError::NotRegular);
        };
        let mut dir: OwnedFd = openat(
            root,
            ".",
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        for (i, c) in parents.iter().enumerate() {
            let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
            let next = match openat(dir.as_fd(), c.as_os_str(), flags, Mode::empty()) {
                Ok(d) => d,
                Err(Errno::ENOENT) if create => make_dir(dir.as_fd(), c, 0o755)?,
                Err(Errno::ELOOP | Errno::ENOTDIR) => {
                    // A symlink (or not a directory): follow root's own link by hand.
                    let target = nix::fcntl::readlinkat(dir.as_fd(), c.as_os_str())?;
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(Errno::ELOOP.into());
                    }
                    let base: PathBuf = if Path::new(&target).is_absolute() {
                        PathBuf::new()
                    } else {
                        parents[..i].iter().collect()
                    };
                    let mut p = base.join(&target);
                    for rest in &comps[i + 1..] {
                        p.push(rest);
                    }
                    comps = components(&p).ok_or(FileError::Errno(Errno::EXDEV))?;
                    continue 'restart;
                }
                Err(e) => return Err(e.into()),
            };
            trusted(&fstat(next.as_fd())?)?;
            dir = next;
        }
        match fstatat(dir.as_fd(), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st)
                if SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
                    == SFlag::S_IFLNK =>
            {
                let target = nix::fcntl::readlinkat(dir.as_fd(), name.as_os_str())?;
                links += 1;
                if links > MAX_LINKS {
                    return Err(Errno::ELOOP.into());
                }
                let base: PathBuf = if Path::new(&target).is_absolute() {
                    PathBuf::new()
                } else {
                    parents.iter().collect()
                };
                comps = components(&base.join(&target)).ok_or(FileError::Errno(Errno::EXDEV))?;
                continue 'restart;
            }
            Ok(_) | Err(Errno::ENOENT) => {
                let resolved: PathBuf = comps.iter().collect();
                return Ok((dir, name.clone(), resolved));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Opens the directory holding `path` for `place` under the host root (`create`: making
/// missing directories, 0755 for root's, 0700 in a user's directory). Returns it with
/// the file name and the resolved path as the host sees it. Runs with the caller's
/// credentials: call it inside [`with_fs_creds`] for a user's place.
fn holder(
    root: &Path,
    path: &Path,
    place: &Place,
    create: bool,
    dir_owner: Option<(u32, u32)>,
) -> Result<(OwnedFd, OsString, PathBuf), FileError> {
    let r = super::open_dir_path(root)?;
    match place {
        Place::System => resolve_system(r.as_fd(), path, create),
        Place::User { dir, .. } => {
            let below = path
                .strip_prefix(dir)
                .map_err(|_| FileError::Errno(Errno::EXDEV))?;
            let comps = components(below).ok_or(FileError::Errno(Errno::EXDEV))?;
            let Some((name, parents)) = comps.split_last() else {
                return Err(FileError::NotRegular);
            };
            let anchor = open_in_root(r.as_fd(), dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY)?;
            let mut cur = anchor;
            for c in parents {
                let flags =
                    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
                cur = match openat(cur.as_fd(), c.as_os_str(), flags, Mode::empty()) {
                    Ok(d) => d,
                    Err(Errno::ENOENT) if create => {
                        let d = make_dir(cur.as_fd(), c, 0o700)?;
                        // Ownership set on the fd made (a fixture's user, as root).
                        if let Some((uid, gid)) = dir_owner {
                            let st = fstat(d.as_fd())?;
                            if (st.st_uid, st.st_gid) != (uid, gid) {
                                nix::unistd::fchown(
                                    d.as_fd(),
                                    Some(Uid::from_raw(uid)),
                                    Some(Gid::from_raw(gid)),
                                )?;
                            }
                        }
                        d
                    }
                    Err(Errno::ENOTDIR) => {
                        // O_NOFOLLOW|O_DIRECTORY on a symlink: refuse it as a link.
                        let st = fstatat(cur.as_fd(), c.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)?;
                        let link = SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
                            == SFlag::S_IFLNK;
                        return Err(if link { Errno::ELOOP } else { Errno::ENOTDIR }.into());
                    }
                    Err(e) => return Err(e.into()),
                };
            }
            Ok((cur, name.clone(), path.to_path_buf()))
        }
    }
}

/// Makes the directory `name` in `dir` (mode `mode`; one made meanwhile will do) and
/// opens it without following a link.
fn make_dir(dir: BorrowedFd<'_>, name: &OsStr, mode: u32) -> Result<OwnedFd, Errno> {
    match nix::sys::stat::mkdirat(dir, name, Mode::from_bits_truncate(mode)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(e),
    }
    openat(
        dir,
        name,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
}

fn creds_of(place: &Place) -> Option<(u32, u32)> {
    match place {
        Place::System => None,
        Place::User { creds, .. } => *creds,
    }
}

/// Reads the file `path` (as the host sees it) at `place` under the host root,
/// bounded by `limit`, following the rules of its place.
pub fn read(root: &Path, path: &Path, place: &Place, limit: u64) -> Result<Vec<u8>, FileError> {
    with_fs_creds(creds_of(place), || {
        let (dir, name, _) = holder(root, path, place, false, None)?;
        read_regular(dir.as_fd(), Path::new(&name), Resolve::Beneath, limit)
    })?
}

/// Whether `path` exists at `place` (a regular file or anything else, not followed if a
/// link), following the rules of its place.
pub fn exists(root: &Path, path: &Path, place: &Place) -> bool {
    with_fs_creds(creds_of(place), || {
        let (dir, name, _) = holder(root, path, place, false, None)?;
        fstatat(dir.as_fd(), name.as_os_str(), AtFlags::AT_SYMLINK_NOFOLLOW)
            .map_err(FileError::from)
    })
    .is_ok_and(|r| r.is_ok())
}

/// What to write, and how. [`Write::new`] makes one; its fields may then be set.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Write<'a> {
    /// The content the plan was made from (`None`: the file must not exist).
    pub expect: Option<&'a [u8]>,
    /// The new content.
    pub content: &'a [u8],
    /// Mode of a new file.
    pub new_mode: u32,
    /// Mask applied to an existing file's mode to get the new file's (0o644 for a
    /// user's file: never an exec, setuid or group-write bit from a user's file).
    pub keep_mask: u32,
    /// Owner (UID, GID) of a new file; an existing file keeps its owner.
    pub owner: Option<(u32, u32)>,
    /// Dry run: read and compare only.
    pub dry_run: bool,
}

impl<'a> Write<'a> {
    /// Writes `content` over a file that holds `expect` (`None`: that does not exist):
    /// a new file gets mode 0644, an existing one keeps its mode (`keep_mask` 0o777) and
    /// its owner; not a dry run.
    pub fn new(expect: Option<&'a [u8]>, content: &'a [u8]) -> Self {
        Write {
            expect,
            content,
            new_mode: 0o644,
            keep_mask: 0o777,
            owner: None,
            dry_run: false,
        }
    }
}

/// What `replace` did. Exhaustive: a replacement either finds the content there, is
/// a dry run, or writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Replaced {
    /// The file already holds the content.
    Unchanged,
    /// Dry run: it would be written.
    WouldWrite,
    /// Written; the old content (if any) is in this backup (as the host sees it).
    Written(Option<PathBuf>),
}

fn write_all(fd: BorrowedFd<'_>, mut b: &[u8]) -> Result<(), Errno> {
    while !b.is_empty() {
        match nix::unistd::write(fd, b) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => b = &b[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Creates `name` in `dir` exclusively (never through an existing name or link), mode
/// 0600, writes `content`, sets owner and mode on the fd, syncs.
fn create_exclusive(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    content: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> Result<OwnedFd, Errno> {
    let fd = openat(
        dir,
        name,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )?;
    let r = (|| {
        write_all(fd.as_fd(), content)?;
        if let Some((uid, gid)) = owner {
            let st = fstat(fd.as_fd())?;
            if (st.st_uid, st.st_gid) != (uid, gid) {
                nix::unistd::fchown(
                    fd.as_fd(),
                    Some(Uid::from_raw(uid)),
                    Some(Gid::from_raw(gid)),
                )?;
            }
        }
        nix::sys::stat::fchmod(fd.as_fd(), Mode::from_bits_truncate(mode & 0o7777))?;
        nix::unistd::fsync(fd.as_fd())
    })();
    match r {
        Ok(()) => Ok(fd),
        Err(e) => {
            let _ = nix::unistd::unlinkat(dir, name, nix::unistd::UnlinkatFlags::NoRemoveDir);
            Err(e)
        }
    }
}

/// Replaces the file `path` (as the host sees it) at `place` under the host root with
/// `w.content`: checks that it still holds `w.expect`, backs the old bytes up under a
/// fresh name, writes a temporary file exclusively and renames it over the name. Missing
/// directories are made (0755 for root's; 0700, the user's, in a user's directory).
/// Returns what it did; errors carry an errno or a kind, never content.
pub fn replace(
    root: &Path,
    path: &Path,
    place: &Place,
    w: &Write<'_>,
) -> Result<Replaced, FileError> {
    with_fs_creds(creds_of(place), || replace_here(root, path, place, w))?
}

fn replace_here(
    root: &Path,
    path: &Path,
    place: &Place,
    w: &Write<'_>,
) -> Result<Replaced, FileError> {
    let user = matches!(place, Place::User { .. });
    let dir_owner = if user && creds_of(place).is_none() {
        w.owner
    } else {
        None
    };
    let (dir, name, resolved) = match holder(root, path, place, !w.dry_run, dir_owner) {
        Err(e) if w.dry_run && e.is_absent() => return Ok(Replaced::WouldWrite),
        r => r?,
    };
    // The current file: never followed, never a FIFO or device, bounded.
    let current = match read::open_regular(
        dir.as_fd(),
        Path::new(&name),
        Resolve::Beneath,
        MAX_CONFIG_FILE,
    ) {
        Ok((fd, st)) => {
            let mut bytes = Vec::new();
            read::read_fd(fd.as_fd(), MAX_CONFIG_FILE, &mut bytes)?;
            Some((bytes, st))
        }
        Err(StateError::Errno(Errno::ENOENT)) => None,
        Err(e) => return Err(e.into()),
    };
    if current.as_ref().map(|(b, _)| b.as_slice()) == Some(w.content) {
        return Ok(Replaced::Unchanged);
    }
    if current.as_ref().map(|(b, _)| b.as_slice()) != w.expect {
        return Err(FileError::Changed);
    }
    if w.dry_run {
        return Ok(Replaced::WouldWrite);
    }
    // Only root's own trusted files keep their owner; in a user's directory the file
    // is the user's (with their credentials the kernel makes it so; in a fixture, the
    // planned owner).
    let (mode, owner) = match &current {
        Some((_, st)) => (
            st.st_mode & w.keep_mask,
            if user {
                w.owner.or(Some((st.st_uid, st.st_gid)))
            } else {
                Some((st.st_uid, st.st_gid))
            },
        ),
        None => (w.new_mode, w.owner),
    };
    let owner = if creds_of(place).is_some() {
        None
    } else {
        owner
    };
    let backup = match &current {
        Some((bytes, _)) => {
            let b = create_fresh(dir.as_fd(), bytes, 0o600, owner, |n| {
                if n == 0 {
                    format!("{}.cgtree-backup", name.to_string_lossy())
                } else {
                    format!("{}.cgtree-backup.{n}", name.to_string_lossy())
                }
            })?;
            Some(resolved.with_file_name(b))
        }
        None => None,
    };
    let tmp = create_fresh(dir.as_fd(), w.content, mode, owner, |n| {
        format!(
            ".{}.cgtree-tmp-{}-{n}",
            name.to_string_lossy(),
            std::process::id()
        )
    })?;
    if let Err(e) = nix::fcntl::renameat(dir.as_fd(), tmp.as_str(), dir.as_fd(), name.as_os_str()) {
        let _ = nix::unistd::unlinkat(
            dir.as_fd(),
            tmp.as_str(),
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        return Err(e.into());
    }
    let _ = nix::unistd::fsync(dir.as_fd());
    Ok(Replaced::Written(backup.map(|b| Path::new("/").join(b))))
}

/// Creates a file with `content` under the first of the names `name(0)`, `name(1)`, ...
/// (at most 1,000) that does not exist yet, exclusively ([`create_exclusive`]); returns
/// that name. Errors: any failure but `EEXIST`, or every name taken (`EEXIST`).
fn create_fresh(
    dir: BorrowedFd<'_>,
    content: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
    name: impl Fn(u32) -> String,
) -> Result<String, FileError> {
    for n in 0..1000 {
        let candidate = name(n);
        match create_exclusive(dir, OsStr::new(&candidate), content, mode, owner) {
            Ok(_) => return Ok(candidate),
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(FileError::Errno(Errno::EEXIST))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn w<'a>(expect: Option<&'a [u8]>, content: &'a [u8]) -> Write<'a> {
        Write {
            expect,
            content,
            new_mode: 0o644,
            keep_mask: 0o644,
            owner: None,
            dry_run: false,
        }
    }

    #[test]
    fn user_place_refuses_links_at_every_component() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let out = tempfile::tempdir().unwrap();
        fs::write(out.path().join("t"), "target").unwrap();
        fs::create_dir_all(root.join("home/u/a")).unwrap();
        std::os::unix::fs::symlink(out.path().join("t"), root.join("home/u/a/f")).unwrap();
        std::os::unix::fs::symlink(out.path(), root.join("home/u/l")).unwrap();
        let place = Place::User {
            dir: "/home/u".into(),
            creds: None,
        };
        for p in ["/home/u/a/f", "/home/u/l/t"] {
            assert_eq!(
                read(root, Path::new(p), &place, 100),
                Err(FileError::Errno(Errno::ELOOP)),
                "{p}"
            );
            assert!(replace(root, Path::new(p), &place, &w(None, b"x")).is_err());
        }
        assert_eq!(fs::read(out.path().join("t")).unwrap(), b"target");
        assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
    }

    #[test]
    fn backup_never_goes_through_an_existing_name() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let out = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.join("home/u")).unwrap();
        fs::write(root.join("home/u/c"), "old").unwrap();
        fs::set_permissions(root.join("home/u/c"), fs::Permissions::from_mode(0o4755)).unwrap();
        std::os::unix::fs::symlink(out.path().join("x"), root.join("home/u/c.cgtree-backup"))
            .unwrap();
        let place = Place::User {
            dir: "/home/u".into(),
            creds: None,
        };
        let r = replace(
            root,
            Path::new("/home/u/c"),
            &place,
            &w(Some(b"old"), b"new"),
        )
        .unwrap();
        assert_eq!(
            r,
            Replaced::Written(Some("/home/u/c.cgtree-backup.1".into()))
        );
        assert!(!out.path().join("x").exists());
        assert_eq!(fs::read(root.join("home/u/c")).unwrap(), b"new");
        assert_eq!(
            fs::read(root.join("home/u/c.cgtree-backup.1")).unwrap(),
            b"old"
        );
        assert_eq!(
            fs::metadata(root.join("home/u/c")).unwrap().mode() & 0o7777,
            0o644
        );
        assert_eq!(
            fs::metadata(root.join("home/u/c.cgtree-backup.1"))
                .unwrap()
                .mode()
                & 0o7777,
            0o600
        );
        // Not what the plan was made from: refused.
        assert_eq!(
            replace(
                root,
                Path::new("/home/u/c"),
                &place,
                &w(Some(b"old"), b"newer")
            ),
            Err(FileError::Changed)
        );
    }

    #[test]
    fn fifo_device_and_huge_files_are_not_read() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("etc")).unwrap();
        nix::unistd::mkfifo(&root.join("etc/fifo"), Mode::from_bits_truncate(0o644)).unwrap();
        let f = fs::File::create(root.join("etc/big")).unwrap();
        f.set_len(1 << 30).unwrap();
        assert_eq!(
            read(root, Path::new("/etc/fifo"), &Place::System, 100),
            Err(FileError::NotRegular)
        );
        assert_eq!(
            read(root, Path::new("/etc/big"), &Place::System, MAX_CONFIG_FILE),
            Err(FileError::TooLarge(1 << 30))
        );
        assert_eq!(
            read_host_file(root, Path::new("etc/fifo"), 100),
            Err(FileError::NotRegular)
        );
        assert!(replace(root, Path::new("/etc/fifo"), &Place::System, &w(None, b"x")).is_err());
        let dz = Place::User {
            dir: "/".into(),
            creds: None,
        };
        assert!(read(Path::new("/"), Path::new("/dev/zero"), &dz, 100).is_err());
    }

    #[test]
    fn system_links_are_followed_only_through_trusted_directories() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("etc/real")).unwrap();
        fs::write(root.join("etc/real/w.conf"), "a").unwrap();
        std::os::unix::fs::symlink("/etc/real/w.conf", root.join("etc/w.conf")).unwrap();
        std::os::unix::fs::symlink("real/w.conf", root.join("etc/r.conf")).unwrap();
        assert_eq!(
            read(root, Path::new("/etc/w.conf"), &Place::System, 100).unwrap(),
            b"a"
        );
        assert_eq!(
            read(root, Path::new("/etc/r.conf"), &Place::System, 100).unwrap(),
            b"a"
        );
        let r = replace(
            root,
            Path::new("/etc/w.conf"),
            &Place::System,
            &Write {
                keep_mask: 0o777,
                ..w(Some(b"a"), b"b")
            },
        )
        .unwrap();
        assert_eq!(
            r,
            Replaced::Written(Some("/etc/real/w.conf.cgtree-backup".into()))
        );
        assert_eq!(fs::read(root.join("etc/real/w.conf")).unwrap(), b"b");
        assert!(fs::symlink_metadata(root.join("etc/w.conf"))
            .unwrap()
            .file_type()
            .is_symlink());
        // Escapes stay inside the root.
        std::os::unix::fs::symlink("../../../../../../etc/passwd", root.join("etc/esc")).unwrap();
        assert!(read(root, Path::new("/etc/esc"), &Place::System, 1 << 20)
            .is_err_and(|e| e.is_absent()));
        // A directory others may write: refused.
        fs::create_dir_all(root.join("etc/open")).unwrap();
        fs::set_permissions(root.join("etc/open"), fs::Permissions::from_mode(0o777)).unwrap();
        fs::write(root.join("etc/open/x"), "x").unwrap();
        assert!(matches!(
            read(root, Path::new("/etc/open/x"), &Place::System, 100),
            Err(FileError::Untrusted(_, 0o777))
        ));
    }
}
