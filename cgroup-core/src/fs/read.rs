//! Opening a file to read it: the one way cgtree opens what it reads outside the walk's
//! hot path (runtime state, a user's files, provision's configuration, snapshot copies,
//! `/proc/<pid>` files of `cgtree pid`).
//!
//! - A path is resolved relative to a directory fd, either [`Resolve::Beneath`] (no
//!   symlink at any component, no `..`: where someone else controls the directory) or
//!   [`Resolve::InRoot`] (symlinks resolved inside the root, never to the host: a
//!   container's root, a fixture). `openat2` does it; where `openat2` is missing (Linux
//!   < 5.6, or filtered) each component is opened with `O_NOFOLLOW`, so every symlink is
//!   refused.
//! - The file is first resolved with `O_PATH`, which opens nothing: its type and size
//!   are checked with `fstat` before it is opened, so a FIFO or a device is never opened
//!   (opening some devices acts: a tape rewinds, a watchdog starts) and a 2 GiB file is
//!   refused by its size. It is then reopened for reading through `/proc/thread-self/fd/N`
//!   (exactly that inode), or by name where `/proc` is missing and the inode compared,
//!   with `O_NONBLOCK | O_NOCTTY`.
//! - It is read to its end, never past `limit + 1` bytes (the size may change under us).

use super::state::StateError;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstat, FileStat, Mode, SFlag};
use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};

/// Flags of every open for reading: never blocks on a FIFO, never becomes a terminal's
/// controlling process, never leaks into a child.
pub const READ_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_NONBLOCK)
    .union(OFlag::O_NOCTTY)
    .union(OFlag::O_CLOEXEC);

/// How a relative path is resolved below a directory fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// No symlink at any component, the last included (ELOOP), no `..` or absolute path
    /// (EXDEV): below a directory that someone else controls (a user's home, a cgroup a
    /// user may name).
    Beneath,
    /// Symlinks (and `..`) resolved as if the directory were `/`: inside a container's
    /// root or a fixture, never out of it. A leading `/` is taken as that root.
    InRoot,
    /// Symlinks and `..` followed while they stay below the directory, refused (EXDEV)
    /// when they would leave it (an absolute symlink too); the last component is never
    /// followed (ELOOP). For a host root's own paths (`proc/self/mountinfo`, where
    /// `self` is a link on a live host).
    Within,
}

/// The file type bits of `st`.
fn kind(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

/// Whether `st` is a regular file.
pub fn is_regular(st: &FileStat) -> bool {
    kind(st) == SFlag::S_IFREG
}

/// Whether `st` is a symbolic link.
pub fn is_link(st: &FileStat) -> bool {
    kind(st) == SFlag::S_IFLNK
}

/// Opens `rel` below the directory `dir` with `flags`, resolved as `resolve` says. An
/// empty `rel` (or `.`) is `dir` itself. Errors: the `openat2`/`openat` errno (ELOOP for
/// a refused symlink, EXDEV for a path leaving `dir`, ENOENT, ...).
pub fn open(
    dir: BorrowedFd<'_>,
    rel: &Path,
    resolve: Resolve,
    flags: OFlag,
) -> Result<OwnedFd, Errno> {
    let rel = match resolve {
        Resolve::InRoot | Resolve::Within => rel.strip_prefix("/").unwrap_or(rel),
        Resolve::Beneath => {
            if !rel
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
            {
                return Err(Errno::EXDEV);
            }
            rel
        }
    };
    let rel = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    let (how, last_flags) = match resolve {
        Resolve::Beneath => (
            ResolveFlag::RESOLVE_BENEATH
                | ResolveFlag::RESOLVE_NO_SYMLINKS
                | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            flags,
        ),
        Resolve::InRoot => (
            ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            flags,
        ),
        Resolve::Within => (
            ResolveFlag::RESOLVE_BENEATH | ResolveFlag::RESOLVE_NO_MAGICLINKS,
            flags | OFlag::O_NOFOLLOW,
        ),
    };
    let open_how = OpenHow::new()
        .flags(last_flags | OFlag::O_CLOEXEC)
        .resolve(how);
    match nix::fcntl::openat2(dir, rel, open_how) {
        Err(Errno::ENOSYS | Errno::EPERM) => open_components(dir, rel, flags),
        r => r,
    }
}

/// The fallback of [`open`]: one component at a time, never following a symlink, never
/// `..` (EXDEV).
pub(crate) fn open_components(
    dir: BorrowedFd<'_>,
    rel: &Path,
    flags: OFlag,
) -> Result<OwnedFd, Errno> {
    let comps: Vec<Component<'_>> = rel.components().collect();
    let mut cur: Option<OwnedFd> = None;
    for (i, c) in comps.iter().enumerate() {
        let name = match c {
            Component::Normal(n) => *n,
            Component::CurDir => OsStr::new("."),
            _ => return Err(Errno::EXDEV),
        };
        let f = if i + 1 == comps.len() {
            flags | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
        } else {
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
        };
        let d = cur.as_ref().map_or(dir, |d| d.as_fd());
        cur = Some(openat(d, name, f, Mode::empty())?);
    }
    cur.ok_or(Errno::ENOENT)
}

/// Opens the regular file `rel` below `dir` for reading, its type and size checked
/// before it is opened (see the module docs). Returns the open file and its `fstat`.
///
/// Errors: [`StateError::Errno`] (ENOENT: absent; ELOOP: a refused symlink; EXDEV: a
/// path out of `dir`; EISDIR: a directory), [`StateError::NotRegular`] (a FIFO, a
/// device, a socket: never opened; or a file replaced between the check and the open),
/// [`StateError::TooLarge`] (over `limit` bytes).
pub fn open_regular(
    dir: BorrowedFd<'_>,
    rel: &Path,
    resolve: Resolve,
    limit: u64,
) -> Result<(OwnedFd, FileStat), StateError> {
    let path_fd = open(dir, rel, resolve, OFlag::O_PATH).map_err(StateError::Errno)?;
    let st = fstat(&path_fd).map_err(StateError::Errno)?;
    if is_link(&st) {
        return Err(StateError::Errno(Errno::ELOOP));
    }
    if kind(&st) == SFlag::S_IFDIR {
        // Said as what it is, not as "not a regular file" (a FIFO, device or socket).
        return Err(StateError::Errno(Errno::EISDIR));
    }
    if !is_regular(&st) {
        return Err(StateError::NotRegular);
    }
    let size = u64::try_from(st.st_size).unwrap_or(0);
    if size > limit {
        return Err(StateError::TooLarge(size));
    }
    // The calling thread's descriptor table (`thread-self`, not `self`: a thread with a
    // table of its own, as the walk's command-line thread has, would reopen another
    // file through the thread group leader's).
    let magic = format!("/proc/thread-self/fd/{}", path_fd.as_raw_fd());
    let fd = match nix::fcntl::open(magic.as_str(), READ_FLAGS, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::ENOENT | Errno::ENOSYS | Errno::EPERM | Errno::EACCES) => {
            open(dir, rel, resolve, READ_FLAGS).map_err(StateError::Errno)?
        }
        Err(e) => return Err(StateError::Errno(e)),
    };
    let now = fstat(&fd).map_err(StateError::Errno)?;
    if now.st_dev != st.st_dev || now.st_ino != st.st_ino || !is_regular(&now) {
        // Replaced between the check and the open.
        return Err(StateError::NotRegular);
    }
    Ok((fd, st))
}

/// Reads the rest of the open file `fd` into `buf` (appended), at most `limit` bytes
/// ([`StateError::TooLarge`] past that, whatever `fstat` said before).
pub fn read_fd(fd: BorrowedFd<'_>, limit: u64, buf: &mut Vec<u8>) -> Result<(), StateError> {
    let start = buf.len();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match nix::unistd::read(fd, &mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                let got = (buf.len() - start) as u64;
                if got > limit {
                    return Err(StateError::TooLarge(got));
                }
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(StateError::Errno(e)),
        }
    }
}

/// Reads the regular file `rel` below `dir` into `buf` (cleared first), at most `limit`
/// bytes: [`open_regular`], then [`read_fd`]. Returns the file's `fstat` (owner, links).
pub fn read(
    dir: BorrowedFd<'_>,
    rel: &Path,
    resolve: Resolve,
    limit: u64,
    buf: &mut Vec<u8>,
) -> Result<FileStat, StateError> {
    buf.clear();
    let (fd, st) = open_regular(dir, rel, resolve, limit)?;
    read_fd(fd.as_fd(), limit, buf)?;
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir() -> (tempfile::TempDir, OwnedFd) {
        let d = tempfile::tempdir().unwrap();
        let fd = super::super::open_dir_path(d.path()).unwrap();
        (d, fd)
    }

    #[test]
    fn beneath_refuses_links_and_dotdot_in_root_confines_them() {
        let (d, fd) = dir();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"host secret").unwrap();
        fs::create_dir(d.path().join("etc")).unwrap();
        fs::write(d.path().join("etc/secret"), b"inside").unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("abs")).unwrap();
        std::os::unix::fs::symlink("etc", d.path().join("dirlink")).unwrap();
        let mut buf = Vec::new();
        for rel in ["abs", "dirlink/secret"] {
            let e = read(fd.as_fd(), Path::new(rel), Resolve::Beneath, 100, &mut buf);
            assert_eq!(e.unwrap_err(), StateError::Errno(Errno::ELOOP), "{rel}");
        }
        for rel in ["../x", "/etc/secret"] {
            let e = read(fd.as_fd(), Path::new(rel), Resolve::Beneath, 100, &mut buf);
            assert_eq!(e.unwrap_err(), StateError::Errno(Errno::EXDEV), "{rel}");
        }
        // In the root, the absolute link resolves inside it: absent there.
        let e = read(fd.as_fd(), Path::new("abs"), Resolve::InRoot, 100, &mut buf);
        assert!(e.unwrap_err().is_absent());
        read(
            fd.as_fd(),
            Path::new("dirlink/secret"),
            Resolve::InRoot,
            100,
            &mut buf,
        )
        .unwrap();
        assert_eq!(buf, b"inside");
        read(
            fd.as_fd(),
            Path::new("/etc/secret"),
            Resolve::InRoot,
            100,
            &mut buf,
        )
        .unwrap();
        assert_eq!(buf, b"inside");
    }

    #[test]
    fn fifos_devices_and_large_files_are_never_read() {
        let (d, fd) = dir();
        nix::unistd::mkfifo(&d.path().join("fifo"), Mode::from_bits_truncate(0o600)).unwrap();
        let big = fs::File::create(d.path().join("big")).unwrap();
        big.set_len(2 << 30).unwrap();
        fs::create_dir(d.path().join("sub")).unwrap();
        let mut buf = Vec::new();
        for (rel, want) in [
            ("fifo", StateError::NotRegular),
            ("sub", StateError::Errno(Errno::EISDIR)),
            ("big", StateError::TooLarge(2 << 30)),
        ] {
            for how in [Resolve::Beneath, Resolve::InRoot] {
                let e = read(fd.as_fd(), Path::new(rel), how, 1 << 20, &mut buf);
                assert_eq!(e.unwrap_err(), want, "{rel} {how:?}");
            }
        }
        // A device, through the host's /dev (no device node can be made in a tempdir
        // on every file system): refused by its type, never opened.
        let root = super::super::open_dir_path(Path::new("/")).unwrap();
        let e = read(
            root.as_fd(),
            Path::new("dev/null"),
            Resolve::InRoot,
            10,
            &mut buf,
        );
        assert_eq!(e.unwrap_err(), StateError::NotRegular);
    }

    #[test]
    fn reads_stop_at_the_limit_and_append() {
        let (d, fd) = dir();
        fs::write(d.path().join("f"), b"0123456789").unwrap();
        let mut buf = b"x".to_vec();
        let (f, st) = open_regular(fd.as_fd(), Path::new("f"), Resolve::Beneath, 10).unwrap();
        assert_eq!(st.st_size, 10);
        read_fd(f.as_fd(), 10, &mut buf).unwrap();
        assert_eq!(buf, b"x0123456789");
        let (f, _) = open_regular(fd.as_fd(), Path::new("f"), Resolve::Beneath, 10).unwrap();
        assert_eq!(
            read_fd(f.as_fd(), 4, &mut Vec::new()).unwrap_err(),
            StateError::TooLarge(10)
        );
        let e = read(fd.as_fd(), Path::new("f"), Resolve::Beneath, 4, &mut buf);
        assert_eq!(e.unwrap_err(), StateError::TooLarge(10));
    }
}
