//! Writing a new directory tree as root, where other users may be watching: every
//! directory, file and link is created relative to a directory fd, exclusively, without
//! following links, with its mode set on the fd that was created. Nothing is written
//! through a path string.
//!
//! The tree is built inside a private staging directory (mode 0700, owned by the caller)
//! next to the destination and renamed into place only when complete ([`Staging`]): no
//! other user can reach into it while it is written, and a failed run leaves nothing
//! (the staging directory is removed, without following links and with a bounded number
//! of fds, whatever its depth).
//!
//! The destination's parent is reached with [`open_parent_dir`], which follows a symlink
//! only when root (or the caller) owns it: another user's link cannot move where root
//! writes.

use nix::errno::Errno;
use nix::fcntl::{openat, AtFlags, OFlag, RenameFlags};
use nix::sys::stat::{fchmod, fstat, fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{geteuid, unlinkat, UnlinkatFlags};
use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use super::read::{self, Resolve};
use super::state::StateError;

/// Mode of the directories created inside the tree.
pub const DIR_MODE: u32 = 0o755;
/// Mode of the files created inside the tree.
pub const FILE_MODE: u32 = 0o644;
/// Mode of the staging directory, and of the destination once in place.
pub const PRIVATE_MODE: u32 = 0o700;
/// Most symlinks [`open_parent_dir`] follows (as the kernel's own limit).
const MAX_LINKS: usize = 40;

const DIR_OPEN: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// A file's identity: device and inode.
pub type FileId = (u64, u64);

fn id_of(st: &FileStat) -> FileId {
    (st.st_dev, st.st_ino)
}

fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFDIR
}

fn is_link(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFLNK
}

/// The identity of the open file `fd`.
pub fn file_id(fd: BorrowedFd<'_>) -> Result<FileId, Errno> {
    fstat(fd).map(|st| id_of(&st))
}

/// Why [`open_parent_dir`] refused a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParentError {
    /// A system call failed.
    Errno(Errno),
    /// A component is a symlink owned neither by root nor by the caller.
    ForeignSymlink,
}

/// Opens the directory `path` (absolute, or relative to the working directory), walking
/// it one component at a time: a symlink is followed only when it is owned by root or
/// by the caller (a link another user planted, in their home or in `/tmp`, is refused),
/// at most 40 of them; `..` is taken as written.
pub fn open_parent_dir(path: &Path) -> Result<OwnedFd, ParentError> {
    let e = ParentError::Errno;
    let start = if path.is_absolute() { "/" } else { "." };
    let mut cur = nix::fcntl::open(start, DIR_OPEN, Mode::empty()).map_err(e)?;
    // Components still to walk, last first.
    let mut todo: Vec<Vec<u8>> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.as_bytes().to_vec()),
            Component::ParentDir => Some(b"..".to_vec()),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(name) = todo.pop() {
        let c = CString::new(name).map_err(|_| e(Errno::EINVAL))?;
        // The entry itself, not what it points to: O_PATH | O_NOFOLLOW opens a link as a link.
        let fd = openat(
            cur.as_fd(),
            c.as_c_str(),
            OFlag::O_PATH | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(e)?;
        let st = fstat(fd.as_fd()).map_err(e)?;
        if is_link(&st) {
            if st.st_uid != 0 && st.st_uid != geteuid().as_raw() {
                return Err(ParentError::ForeignSymlink);
            }
            links += 1;
            if links > MAX_LINKS {
                return Err(e(Errno::ELOOP));
            }
            // The target of this very link (no second lookup by name).
            let target = nix::fcntl::readlinkat(fd.as_fd(), c"").map_err(e)?;
            let target = Path::new(&target);
            if target.is_absolute() {
                cur = nix::fcntl::open("/", DIR_OPEN, Mode::empty()).map_err(e)?;
            }
            for comp in target.components().rev() {
                match comp {
                    Component::Normal(n) => todo.push(n.as_bytes().to_vec()),
                    Component::ParentDir => todo.push(b"..".to_vec()),
                    _ => {}
                }
            }
            continue;
        }
        if !is_dir(&st) {
            return Err(e(Errno::ENOTDIR));
        }
        cur = openat(cur.as_fd(), c.as_c_str(), DIR_OPEN, Mode::empty()).map_err(e)?;
        // What was opened is what was checked (not swapped for a link meanwhile).
        if file_id(cur.as_fd()).map_err(e)? != id_of(&st) {
            return Err(e(Errno::EAGAIN));
        }
    }
    Ok(cur)
}

/// What is at a name in a directory, looked at without following it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Nothing.
    Absent,
    /// A symlink.
    Symlink,
    /// Something that is not a directory.
    NotDir,
    /// A directory, with its owner, mode bits and whether it is empty.
    Dir {
        /// Owner UID.
        uid: u32,
        /// Permission bits.
        mode: u32,
        /// No entries but `.` and `..`.
        empty: bool,
    },
}

/// What `name` in `dir` is, without following it.
pub fn existing(dir: BorrowedFd<'_>, name: &CStr) -> Result<Existing, Errno> {
    let st = match fstatat(dir, name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::ENOENT) => return Ok(Existing::Absent),
        Err(e) => return Err(e),
    };
    if is_link(&st) {
        return Ok(Existing::Symlink);
    }
    if !is_dir(&st) {
        return Ok(Existing::NotDir);
    }
    let fd = openat(dir, name, DIR_OPEN, Mode::empty())?;
    let mut d = nix::dir::Dir::from_fd(fd)?;
    let empty = d
        .iter()
        .filter_map(Result::ok)
        .all(|e| matches!(e.file_name().to_bytes(), b"." | b".."));
    Ok(Existing::Dir {
        uid: st.st_uid,
        mode: st.st_mode & 0o7777,
        empty,
    })
}

/// Creates the directory `name` in `dir` with `mode` (set on its fd, whatever the umask),
/// or opens it when it exists and is a directory of the caller's own (never following a
/// link); returns its fd.
pub fn make_dir(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> Result<OwnedFd, Errno> {
    let made = match mkdirat(dir, name, Mode::from_bits_truncate(PRIVATE_MODE)) {
        Ok(()) => true,
        Err(Errno::EEXIST) => false,
        Err(e) => return Err(e),
    };
    let fd = openat(dir, name, DIR_OPEN, Mode::empty())?;
    let st = fstat(fd.as_fd())?;
    if st.st_uid != geteuid().as_raw() {
        return Err(Errno::EPERM);
    }
    if made {
        fchmod(fd.as_fd(), Mode::from_bits_truncate(mode))?;
    }
    Ok(fd)
}

/// Creates the file `name` in `dir` (exclusively: EEXIST when anything is there, a link
/// included), writes `bytes` and sets `mode` on its fd.
pub fn create_file(dir: BorrowedFd<'_>, name: &CStr, bytes: &[u8], mode: u32) -> Result<(), Errno> {
    let fd = openat(
        dir,
        name,
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )?;
    fchmod(fd.as_fd(), Mode::from_bits_truncate(mode))?;
    write_all(fd.as_fd(), bytes)
}

/// Writes all of `bytes` to `fd` (again after a short write or EINTR).
///
/// # Errors
/// The failing `write`'s errno; EIO when it writes nothing.
fn write_all(fd: BorrowedFd<'_>, bytes: &[u8]) -> Result<(), Errno> {
    let mut rest = bytes;
    while !rest.is_empty() {
        match nix::unistd::write(fd, rest) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => rest = &rest[n..],
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Replaces the file `name` in `dir` with `bytes`, atomically: a reader opening `name`
/// sees the old file or the new one, whole, never a part. The bytes go to a fresh hidden
/// file of `dir` (`.<name>.<pid>.<n>`, created exclusively without following links, so
/// nothing planted there is written through), with `mode` set on its fd, synced
/// (`fsync`), then renamed over `name`: whatever was at `name` (a symlink included) is
/// replaced, never followed. The directory is synced afterwards so that the rename
/// survives a crash. On failure the temporary file is removed.
///
/// # Errors
/// The failing system call's errno (EEXIST when 100 temporary names are all taken).
pub fn replace_file(
    dir: BorrowedFd<'_>,
    name: &CStr,
    bytes: &[u8],
    mode: u32,
) -> Result<(), Errno> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    for attempt in 0..100u32 {
        let mut tmp = b".".to_vec();
        tmp.extend_from_slice(name.to_bytes());
        tmp.extend_from_slice(
            format!(".{}.{}", std::process::id(), nanos.wrapping_add(attempt)).as_bytes(),
        );
        let tmp = CString::new(tmp).map_err(|_| Errno::EINVAL)?;
        let fd = match openat(
            dir,
            tmp.as_c_str(),
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o600),
        ) {
            Ok(fd) => fd,
            Err(Errno::EEXIST) => continue,
            Err(e) => return Err(e),
        };
        let written = (|| {
            fchmod(fd.as_fd(), Mode::from_bits_truncate(mode))?;
            write_all(fd.as_fd(), bytes)?;
            nix::unistd::fsync(fd.as_fd())?;
            drop(fd);
            nix::fcntl::renameat(dir, tmp.as_c_str(), dir, name)
        })();
        if let Err(e) = written {
            let _ = unlinkat(dir, tmp.as_c_str(), UnlinkatFlags::NoRemoveDir);
            return Err(e);
        }
        // The rename is done; a directory that cannot be synced loses nothing now.
        let _ = nix::unistd::fsync(dir);
        return Ok(());
    }
    Err(Errno::EEXIST)
}

/// Whether `entry` is a temporary name [`replace_file`] makes for `name`
/// (`.<name>.<pid>.<n>`, both decimal), and its PID.
pub fn temporary_pid(name: &[u8], entry: &[u8]) -> Option<u32> {
    let rest = entry
        .strip_prefix(b".")?
        .strip_prefix(name)?
        .strip_prefix(b".")?;
    let dot = memchr::memchr(b'.', rest)?;
    let (pid, n) = (&rest[..dot], &rest[dot + 1..]);
    let digits = |d: &[u8]| !d.is_empty() && d.len() <= 10 && d.iter().all(u8::is_ascii_digit);
    if !digits(pid) || !digits(n) {
        return None;
    }
    std::str::from_utf8(pid).ok()?.parse().ok()
}

/// How old a temporary file must be (its last write) before
/// [`remove_stale_temporaries`] takes it for a dead writer's: a writer fills and renames
/// its temporary in well under a second, and a writer in another PID namespace (a
/// container without the host's PIDs, sharing the directory) looks dead from here.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

/// Entries of a directory looked at by [`remove_stale_temporaries`] at most.
pub const MAX_SCANNED_ENTRIES: usize = 100_000;

/// Removes the temporary files [`replace_file`] left in `dir` for `name` when its writer
/// was killed between creating one and renaming it (SIGKILL, the OOM killer): entries
/// named `.<name>.<pid>.<n>` ([`temporary_pid`]) that are regular files (`fstatat`
/// without following links) owned by the caller's effective UID, last written at least
/// [`STALE_AFTER`] ago, and whose `pid` is `own` (the caller: it has no temporary file
/// outside `replace_file`, and after a restart in a container it may have its dead
/// predecessor's PID) or, as `alive` says, no living process. Each is unlinked relative
/// to `dir` (a link is never followed: `unlinkat` removes the name itself). At most
/// [`MAX_SCANNED_ENTRIES`] entries are looked at. Returns how many were removed.
///
/// # Errors
/// `dir` cannot be listed. A file that cannot be removed (gone already, EACCES) is
/// skipped.
pub fn remove_stale_temporaries(
    dir: BorrowedFd<'_>,
    name: &CStr,
    own: u32,
    alive: impl Fn(u32) -> bool,
) -> Result<usize, Errno> {
    let mut list = nix::dir::Dir::openat(
        dir,
        c".",
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )?;
    let mut stale: Vec<CString> = Vec::new();
    for entry in list.iter().take(MAX_SCANNED_ENTRIES) {
        let Ok(entry) = entry else { continue };
        let file = entry.file_name();
        let Some(pid) = temporary_pid(name.to_bytes(), file.to_bytes()) else {
            continue;
        };
        if pid == own || !alive(pid) {
            stale.push(file.to_owned());
        }
    }
    let mut removed = 0;
    for file in stale {
        let euid = nix::unistd::geteuid().as_raw();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let regular = fstatat(dir, file.as_c_str(), AtFlags::AT_SYMLINK_NOFOLLOW).is_ok_and(|st| {
            SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits()) == SFlag::S_IFREG
                && st.st_uid == euid
                && u64::try_from(st.st_mtime)
                    .is_ok_and(|m| now.saturating_sub(m) >= STALE_AFTER.as_secs())
        });
        if regular && unlinkat(dir, file.as_c_str(), UnlinkatFlags::NoRemoveDir).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Creates the symlink `name` in `dir` pointing at `target` (fails when `name` exists).
pub fn create_symlink(dir: BorrowedFd<'_>, name: &CStr, target: &[u8]) -> Result<(), Errno> {
    nix::unistd::symlinkat(OsStr::from_bytes(target), dir, name)
}

/// Opens the parent of the directory `dir` (its `..`), checking it is `expect`.
pub fn reopen_parent(dir: BorrowedFd<'_>, expect: FileId) -> Result<OwnedFd, Errno> {
    let fd = openat(dir, c"..", DIR_OPEN, Mode::empty())?;
    if file_id(fd.as_fd())? != expect {
        return Err(Errno::ESTALE);
    }
    Ok(fd)
}

/// Reads the regular file `rel` below `dir` into `buf` (cleared first), for copying: no
/// component may be a symlink (`..` and absolute paths are refused with EXDEV), the
/// file's type and size are checked before it is opened, so a FIFO or a device is never
/// opened, at most `limit` bytes: [`read::read`] with [`Resolve::Beneath`].
pub fn read_regular(
    dir: BorrowedFd<'_>,
    rel: &Path,
    limit: u64,
    buf: &mut Vec<u8>,
) -> Result<(), StateError> {
    read::read(dir, rel, Resolve::Beneath, limit, buf).map(|_| ())
}

/// A private directory next to a destination, where a tree is built before it is put in
/// place with [`Staging::publish`]; dropped unpublished, it is removed.
#[derive(Debug)]
pub struct Staging {
    parent: OwnedFd,
    name: CString,
    root: OwnedFd,
    id: FileId,
    published: bool,
}

impl Staging {
    /// Creates a staging directory (mode 0700, owned by the caller, checked on its fd)
    /// with a fresh hidden name (`.cgtree-snapshot-<pid>-<n>-<hint>`) in `parent`.
    pub fn create(parent: OwnedFd, hint: &[u8]) -> Result<Self, Errno> {
        let hint: Vec<u8> = hint
            .iter()
            .copied()
            .filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .take(100)
            .collect();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100u32 {
            let mut name = format!(
                ".cgtree-snapshot-{}-{}-",
                std::process::id(),
                nanos.wrapping_add(attempt)
            )
            .into_bytes();
            name.extend_from_slice(&hint);
            let name = CString::new(name).map_err(|_| Errno::EINVAL)?;
            match mkdirat(
                parent.as_fd(),
                name.as_c_str(),
                Mode::from_bits_truncate(PRIVATE_MODE),
            ) {
                Ok(()) => {}
                Err(Errno::EEXIST) => continue,
                Err(e) => return Err(e),
            }
            // The directory just made, as made: ours, a directory, closed to others, empty.
            let root = openat(parent.as_fd(), name.as_c_str(), DIR_OPEN, Mode::empty())?;
            let st = fstat(root.as_fd())?;
            if st.st_uid != geteuid().as_raw() || st.st_nlink != 2 {
                return Err(Errno::EPERM);
            }
            fchmod(root.as_fd(), Mode::from_bits_truncate(PRIVATE_MODE))?;
            return Ok(Staging {
                id: id_of(&st),
                parent,
                name,
                root,
                published: false,
            });
        }
        Err(Errno::EEXIST)
    }

    /// The staging directory's fd: the root of the tree being built.
    pub fn root(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// Renames the staging directory to `name` in the same parent. Without `replace`,
    /// fails with EEXIST when `name` exists (`RENAME_NOREPLACE`); with it, an existing
    /// *empty* directory there is replaced atomically (ENOTEMPTY otherwise). Afterwards
    /// `name` is checked to be this very directory.
    pub fn publish(mut self, name: &CStr, replace: bool) -> Result<(), Errno> {
        let flags = if replace {
            RenameFlags::empty()
        } else {
            RenameFlags::RENAME_NOREPLACE
        };
        match nix::fcntl::renameat2(
            self.parent.as_fd(),
            self.name.as_c_str(),
            self.parent.as_fd(),
            name,
            flags,
        ) {
            // A file system without RENAME_NOREPLACE: look first, then rename (the
            // check after the rename still catches a swap).
            Err(Errno::EINVAL) if !replace => {
                match fstatat(self.parent.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
                    Err(Errno::ENOENT) => {}
                    Ok(_) => return Err(Errno::EEXIST),
                    Err(e) => return Err(e),
                }
                nix::fcntl::renameat(
                    self.parent.as_fd(),
                    self.name.as_c_str(),
                    self.parent.as_fd(),
                    name,
                )?;
            }
            r => r?,
        }
        self.published = true;
        let st = fstatat(self.parent.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW)?;
        if id_of(&st) != self.id {
            return Err(Errno::ESTALE);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = remove_tree(self.parent.as_fd(), &self.name, self.id);
        }
    }
}

/// One directory being emptied by [`remove_tree`]: its name in its parent, its identity
/// and its subdirectories still to remove.
struct Level {
    name: CString,
    id: FileId,
    subdirs: Vec<CString>,
}

/// Removes the directory `name` in `parent` (which must be `id`) and everything in it,
/// without following links, with an explicit stack and at most three fds open at a
/// time, whatever the depth (it goes back up through `..`, checked by identity).
pub fn remove_tree(parent: BorrowedFd<'_>, name: &CStr, id: FileId) -> Result<(), Errno> {
    let mut cur = openat(parent, name, DIR_OPEN, Mode::empty())?;
    if file_id(cur.as_fd())? != id {
        return Err(Errno::ESTALE);
    }
    let mut stack: Vec<Level> = Vec::new();
    let mut here = Level {
        name: name.to_owned(),
        id,
        subdirs: empty_files(cur.as_fd())?,
    };
    loop {
        if let Some(sub) = here.subdirs.pop() {
            let fd = openat(cur.as_fd(), sub.as_c_str(), DIR_OPEN, Mode::empty())?;
            let sub_id = file_id(fd.as_fd())?;
            let subdirs = empty_files(fd.as_fd())?;
            stack.push(std::mem::replace(
                &mut here,
                Level {
                    name: sub,
                    id: sub_id,
                    subdirs,
                },
            ));
            cur = fd;
            continue;
        }
        // `here` is empty: remove it from its parent.
        let Some(up) = stack.pop() else {
            drop(cur);
            return unlinkat(parent, name, UnlinkatFlags::RemoveDir);
        };
        let up_fd = reopen_parent(cur.as_fd(), up.id)?;
        drop(cur);
        unlinkat(
            up_fd.as_fd(),
            here.name.as_c_str(),
            UnlinkatFlags::RemoveDir,
        )?;
        cur = up_fd;
        here = up;
    }
}

/// Unlinks every entry of the directory `fd` that is not a directory; returns the names
/// of the subdirectories.
fn empty_files(fd: BorrowedFd<'_>) -> Result<Vec<CString>, Errno> {
    let dup = openat(fd, c".", DIR_OPEN, Mode::empty())?;
    let mut d = nix::dir::Dir::from_fd(dup)?;
    let mut subdirs = Vec::new();
    let mut files = Vec::new();
    for e in d.iter() {
        let e = e?;
        let n = e.file_name();
        if matches!(n.to_bytes(), b"." | b"..") {
            continue;
        }
        let dir = match e.file_type() {
            Some(t) => t == nix::dir::Type::Directory,
            None => fstatat(fd, n, AtFlags::AT_SYMLINK_NOFOLLOW).is_ok_and(|st| is_dir(&st)),
        };
        if dir {
            subdirs.push(n.to_owned());
        } else {
            files.push(n.to_owned());
        }
    }
    for f in files {
        unlinkat(fd, f.as_c_str(), UnlinkatFlags::NoRemoveDir)?;
    }
    Ok(subdirs)
}

#[cfg(test)]
mod tests {
    #[test]
    fn stale_temporaries_of_dead_writers_are_removed_and_nothing_else() {
        assert_eq!(
            temporary_pid(b"cgtree.prom", b".cgtree.prom.42.7"),
            Some(42)
        );
        for other in [
            &b"cgtree.prom"[..],
            b".cgtree.prom.42",
            b".cgtree.prom.42.",
            b".cgtree.prom.x.7",
            b".cgtree.prom.42.7.8",
            b".other.prom.42.7",
            b".cgtree.prom.-1.7",
        ] {
            assert_eq!(temporary_pid(b"cgtree.prom", other), None, "{other:?}");
        }
        let d = tempfile::tempdir().unwrap();
        let p = |n: &str| d.path().join(n);
        std::fs::write(p(".cgtree.prom.100.1"), "dead").unwrap();
        std::fs::write(p(".cgtree.prom.100.2"), "dead").unwrap();
        std::fs::write(p(".cgtree.prom.200.1"), "alive").unwrap();
        std::fs::write(p(".cgtree.prom.300.1"), "own pid").unwrap();
        std::fs::write(p("cgtree.prom"), "the file").unwrap();
        std::fs::write(p(".cgtree.prom.100"), "not the pattern").unwrap();
        std::fs::write(p("victim"), "precious").unwrap();
        std::os::unix::fs::symlink(p("victim"), p(".cgtree.prom.100.3")).unwrap();
        std::fs::create_dir(p(".cgtree.prom.100.4")).unwrap();
        // Everything above last written two minutes ago, as a dead writer's would be.
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(120);
        for n in std::fs::read_dir(d.path()).unwrap() {
            let path = n.unwrap().path();
            if path.symlink_metadata().unwrap().is_file() {
                let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
                f.set_modified(old).unwrap();
            }
        }
        // Not taken for stale: a fresh one (a live writer in another PID namespace sees
        // its PID as dead from here), and, as root, another user's file of the pattern.
        std::fs::write(p(".cgtree.prom.100.5"), "being written").unwrap();
        let other = nix::unistd::geteuid().is_root().then(|| {
            let f = p(".cgtree.prom.100.6");
            std::fs::write(&f, "another user's").unwrap();
            std::os::unix::fs::chown(&f, Some(65534), Some(65534)).unwrap();
            std::fs::OpenOptions::new()
                .write(true)
                .open(&f)
                .unwrap()
                .set_modified(old)
                .unwrap();
            ".cgtree.prom.100.6"
        });
        let fd = dir_fd(d.path());
        let n =
            remove_stale_temporaries(fd.as_fd(), c"cgtree.prom", 300, |pid| pid == 200).unwrap();
        assert_eq!(n, 2 + 1);
        let mut left: Vec<String> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        let mut want = vec![
            ".cgtree.prom.100",
            ".cgtree.prom.100.3",
            ".cgtree.prom.100.4",
            ".cgtree.prom.100.5",
            ".cgtree.prom.200.1",
            "cgtree.prom",
            "victim",
        ];
        want.extend(other);
        want.sort_unstable();
        left.sort();
        assert_eq!(left, want);
        assert_eq!(std::fs::read_to_string(p("victim")).unwrap(), "precious");
    }

    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn dir_fd(p: &Path) -> OwnedFd {
        nix::fcntl::open(p, DIR_OPEN, Mode::empty()).unwrap()
    }

    #[test]
    fn files_are_created_exclusively_and_never_through_links() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("victim"), "v").unwrap();
        std::os::unix::fs::symlink(outside.path().join("victim"), d.path().join("f")).unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("dl")).unwrap();
        let fd = dir_fd(d.path());
        assert_eq!(
            create_file(fd.as_fd(), c"f", b"x", FILE_MODE),
            Err(Errno::EEXIST)
        );
        assert_eq!(
            make_dir(fd.as_fd(), c"dl", DIR_MODE).unwrap_err(),
            Errno::ENOTDIR
        );
        assert_eq!(
            std::fs::read_to_string(outside.path().join("victim")).unwrap(),
            "v"
        );
        create_file(fd.as_fd(), c"new", b"data", 0o640).unwrap();
        let m = std::fs::metadata(d.path().join("new")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o640);
        assert_eq!(std::fs::read(d.path().join("new")).unwrap(), b"data");
        let sub = make_dir(fd.as_fd(), c"sub", DIR_MODE).unwrap();
        assert_eq!(
            std::fs::metadata(d.path().join("sub")).unwrap().mode() & 0o7777,
            DIR_MODE
        );
        // Opened again when it exists.
        let again = make_dir(fd.as_fd(), c"sub", DIR_MODE).unwrap();
        assert_eq!(file_id(sub.as_fd()), file_id(again.as_fd()));
    }

    #[test]
    fn staging_is_private_published_once_and_removed_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let s = Staging::create(dir_fd(d.path()), b"out").unwrap();
        let names = || -> Vec<String> {
            std::fs::read_dir(d.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        };
        let staged = names();
        assert_eq!(staged.len(), 1);
        let m = std::fs::metadata(d.path().join(&staged[0])).unwrap();
        assert_eq!(m.mode() & 0o7777, PRIVATE_MODE);
        // A deep tree with files and links, removed on drop.
        let mut cur = make_dir(s.root(), c"a", DIR_MODE).unwrap();
        for _ in 0..300 {
            create_file(cur.as_fd(), c"f", b"x", FILE_MODE).unwrap();
            create_symlink(cur.as_fd(), c"l", b"/etc/passwd").unwrap();
            cur = make_dir(
                cur.as_fd(),
                c"dddddddddddddddddddddddddddddddddddddddd",
                DIR_MODE,
            )
            .unwrap();
        }
        drop(cur);
        drop(s);
        assert!(names().is_empty(), "{:?}", names());
        // Published: under its name, and not when the name is taken.
        let s = Staging::create(dir_fd(d.path()), b"out").unwrap();
        std::fs::create_dir(d.path().join("taken")).unwrap();
        std::fs::write(d.path().join("taken/x"), "").unwrap();
        assert_eq!(s.publish(c"taken", false), Err(Errno::EEXIST));
        assert_eq!(names(), ["taken"], "the failed staging is removed");
        let s = Staging::create(dir_fd(d.path()), b"out").unwrap();
        s.publish(c"out", false).unwrap();
        let mut n = names();
        n.sort();
        assert_eq!(n, ["out", "taken"]);
        // An empty directory of ours is replaced.
        std::fs::create_dir(d.path().join("empty")).unwrap();
        let s = Staging::create(dir_fd(d.path()), b"").unwrap();
        s.publish(c"empty", true).unwrap();
    }

    #[test]
    fn only_regular_files_are_read_and_links_are_refused() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("p")).unwrap();
        std::fs::write(d.path().join("p/f"), "data").unwrap();
        nix::unistd::mkfifo(&d.path().join("p/fifo"), Mode::from_bits_truncate(0o644)).unwrap();
        std::os::unix::fs::symlink("p", d.path().join("l")).unwrap();
        std::os::unix::fs::symlink("f", d.path().join("p/lf")).unwrap();
        let fd = dir_fd(d.path());
        let mut buf = Vec::new();
        read_regular(fd.as_fd(), Path::new("p/f"), 100, &mut buf).unwrap();
        assert_eq!(buf, b"data");
        let err = |p: &str, limit| read_regular(fd.as_fd(), Path::new(p), limit, &mut Vec::new());
        assert_eq!(err("p/fifo", 100), Err(StateError::NotRegular));
        assert_eq!(err("p", 100), Err(StateError::Errno(Errno::EISDIR)));
        assert_eq!(err("p/f", 3), Err(StateError::TooLarge(4)));
        assert_eq!(err("l/f", 100), Err(StateError::Errno(Errno::ELOOP)));
        assert_eq!(err("p/lf", 100), Err(StateError::Errno(Errno::ELOOP)));
        assert_eq!(err("p/../p/f", 100), Err(StateError::Errno(Errno::EXDEV)));
        assert_eq!(err("/p/f", 100), Err(StateError::Errno(Errno::EXDEV)));
        // A kernel file (size 0 by stat) is read whole.
        let proc_fd = dir_fd(Path::new("/proc"));
        read_regular(proc_fd.as_fd(), Path::new("self/status"), 1 << 20, &mut buf)
            .map(drop)
            .or_else(|_| {
                read_regular(
                    proc_fd.as_fd(),
                    &Path::new(&std::process::id().to_string()).join("status"),
                    1 << 20,
                    &mut buf,
                )
            })
            .unwrap();
        assert!(buf.starts_with(b"Name:"));
    }

    #[test]
    fn parent_paths_follow_only_roots_links() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("real")).unwrap();
        std::os::unix::fs::symlink("real", d.path().join("rootlink")).unwrap();
        let fd = open_parent_dir(&d.path().join("rootlink")).unwrap();
        assert_eq!(
            file_id(fd.as_fd()).unwrap(),
            file_id(dir_fd(&d.path().join("real")).as_fd()).unwrap()
        );
        assert!(open_parent_dir(&d.path().join("real/..")).is_ok());
        if geteuid().is_root() {
            std::os::unix::fs::symlink("real", d.path().join("userlink")).unwrap();
            std::os::unix::fs::lchown(d.path().join("userlink"), Some(65534), Some(65534)).unwrap();
            assert_eq!(
                open_parent_dir(&d.path().join("userlink")).unwrap_err(),
                ParentError::ForeignSymlink
            );
            assert_eq!(
                open_parent_dir(&d.path().join("userlink/x")).unwrap_err(),
                ParentError::ForeignSymlink
            );
        }
        std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(
            open_parent_dir(&d.path().join("missing")).unwrap_err(),
            ParentError::Errno(Errno::ENOENT)
        );
    }
}
