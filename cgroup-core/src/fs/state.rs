//! Reading runtime state that a container controls (bundles, hostnames, storage files):
//! untrusted, so every read is confined to a root directory, bounded, and refuses
//! anything but a regular file.
//!
//! Paths are resolved with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` relative to
//! the root's fd: a symlink inside a container's root resolves inside that root, never
//! to the host's files. Where `openat2` is missing (Linux < 5.6, or filtered), each
//! component is opened with `O_NOFOLLOW`, so a symlink is refused outright. Files are
//! opened with `O_NONBLOCK` and checked with `fstat` before reading, so a FIFO never
//! blocks and a 2 GiB file is refused by its size, not read.

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::sys::stat::fstat;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path};

use super::read::{self, Resolve};

/// Largest runtime-state file read (a podman `containers.json` of a few thousand
/// containers fits easily); larger ones are refused.
pub const MAX_STATE_FILE: u64 = 16 << 20;

/// Most entries listed from one runtime-state directory.
pub const MAX_DIR_ENTRIES: usize = 65_536;

/// Why a state file was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateError {
    /// A system call failed (ENOENT: absent; ELOOP/EXDEV: a symlink was refused).
    Errno(Errno),
    /// Not a regular file (a FIFO, a device, a directory).
    NotRegular,
    /// Larger than the limit (its size in bytes).
    TooLarge(u64),
    /// In a user's directory, owned by someone else than that user (the owner's UID).
    NotOwner(u32),
    /// In a user's directory, a file with more than one name (its link count): a hard
    /// link the user may have made to a file they could not read.
    Linked(u64),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateError::Errno(e) => write!(f, "{}", std::io::Error::from_raw_os_error(*e as i32)),
            StateError::NotRegular => f.write_str("not a regular file, not read"),
            StateError::TooLarge(n) => write!(
                f,
                "{n} bytes, larger than the {MAX_STATE_FILE}-byte limit, not read"
            ),
            StateError::NotOwner(uid) => write!(
                f,
                "owned by UID {uid}, not by the user whose directory holds it, not read"
            ),
            StateError::Linked(n) => write!(f, "{n} hard links, not read"),
        }
    }
}

impl StateError {
    /// The file does not exist (the usual "no such runtime state here").
    pub fn is_absent(&self) -> bool {
        matches!(
            self,
            StateError::Errno(Errno::ENOENT | Errno::ENOTDIR | Errno::ESRCH)
        )
    }
}

fn open_in_root(root: BorrowedFd<'_>, rel: &Path, flags: OFlag) -> Result<OwnedFd, Errno> {
    read::open(root, rel, Resolve::InRoot, flags)
}

/// Reads the regular file `rel` under `root` into `buf` (cleared first), refusing
/// symlinks out of the root, non-regular files, and files over `limit` bytes.
pub fn read_in_root(
    root: BorrowedFd<'_>,
    rel: &Path,
    limit: u64,
    buf: &mut Vec<u8>,
) -> Result<(), StateError> {
    read::read(root, rel, Resolve::InRoot, limit, buf).map(|_| ())
}

/// Lists the entry names of the directory `rel` under `root` (at most
/// [`MAX_DIR_ENTRIES`]), confined like [`read_in_root`].
pub fn list_in_root(root: BorrowedFd<'_>, rel: &Path) -> Result<Vec<Vec<u8>>, StateError> {
    let fd =
        open_in_root(root, rel, OFlag::O_RDONLY | OFlag::O_DIRECTORY).map_err(StateError::Errno)?;
    list_fd(fd)
}

/// Reads the regular file `rel` below the directory `base` of `root`, where a user
/// controls everything below `base` (their home, `/run/user/UID`): what cgtree, as
/// root, may read there is only what that user could have written.
///
/// - `base` is chosen by cgtree (`home/alice`, `run/user/1000`) and resolved like
///   [`read_in_root`] (inside `root`, the admin's symlinks followed);
/// - `rel` must be plain components (no `..`, no absolute path); it is resolved with
///   `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` from `base` (or one component at a
///   time with `O_NOFOLLOW` where `openat2` is missing), so a symlink at any component
///   is refused (ELOOP), never followed;
/// - the file is resolved with `O_PATH` (which opens nothing) and checked with `fstat`
///   before it is opened (`O_NONBLOCK | O_NOCTTY`, the same inode): a regular file (a
///   FIFO or a device is never opened), one link
///   ([`StateError::Linked`] otherwise), owned by `owner` when given
///   ([`StateError::NotOwner`] otherwise, also when `base` itself is not `owner`'s), at
///   most `limit` bytes.
///
/// Pass `owner: None` only where file ownership means nothing (a fixture or snapshot
/// directory: its files belong to whoever unpacked it).
pub fn read_user_file(
    root: BorrowedFd<'_>,
    base: &Path,
    rel: &Path,
    owner: Option<u32>,
    limit: u64,
    buf: &mut Vec<u8>,
) -> Result<(), StateError> {
    buf.clear();
    if rel.as_os_str().is_empty() || !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(StateError::Errno(Errno::EXDEV));
    }
    let base_fd = open_in_root(root, base, OFlag::O_RDONLY | OFlag::O_DIRECTORY)
        .map_err(StateError::Errno)?;
    check_owner(&base_fd, owner)?;
    let (fd, st) = read::open_regular(base_fd.as_fd(), rel, Resolve::Beneath, limit)?;
    #[allow(clippy::useless_conversion)]
    let nlink = u64::from(st.st_nlink);
    if nlink != 1 {
        return Err(StateError::Linked(nlink));
    }
    if let Some(uid) = owner {
        if st.st_uid != uid {
            return Err(StateError::NotOwner(st.st_uid));
        }
    }
    read::read_fd(fd.as_fd(), limit, buf)
}

/// The directory `fd` belongs to `owner` (when given): a user's home or runtime
/// directory that resolves to someone else's directory is not theirs to read.
fn check_owner(fd: &OwnedFd, owner: Option<u32>) -> Result<(), StateError> {
    if let Some(uid) = owner {
        let st = fstat(fd).map_err(StateError::Errno)?;
        if st.st_uid != uid {
            return Err(StateError::NotOwner(st.st_uid));
        }
    }
    Ok(())
}

/// Lists the entry names of the directory `rel` below `base` of `root` (at most
/// [`MAX_DIR_ENTRIES`]), where a user controls everything below `base`: confined like
/// [`read_user_file`] (no symlink at any component of `rel`; `rel` may be empty for
/// `base` itself; `base` must be `owner`'s when given).
pub fn list_user_dir(
    root: BorrowedFd<'_>,
    base: &Path,
    rel: &Path,
    owner: Option<u32>,
) -> Result<Vec<Vec<u8>>, StateError> {
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(StateError::Errno(Errno::EXDEV));
    }
    let base_fd = open_in_root(root, base, OFlag::O_RDONLY | OFlag::O_DIRECTORY)
        .map_err(StateError::Errno)?;
    check_owner(&base_fd, owner)?;
    let fd = if rel.as_os_str().is_empty() {
        base_fd
    } else {
        read::open(
            base_fd.as_fd(),
            rel,
            Resolve::Beneath,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY,
        )
        .map_err(StateError::Errno)?
    };
    list_fd(fd)
}

fn list_fd(fd: OwnedFd) -> Result<Vec<Vec<u8>>, StateError> {
    let mut dir = nix::dir::Dir::from_fd(fd).map_err(StateError::Errno)?;
    let mut out = Vec::new();
    for e in dir.iter() {
        let e = e.map_err(StateError::Errno)?;
        let name = e.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        if out.len() >= MAX_DIR_ENTRIES {
            break;
        }
        out.push(name.to_vec());
    }
    out.sort();
    Ok(out)
}

/// Opens the directory `rel` below the directory `dir` (a cgroup below the mount)
/// without following a symlink at any component and never leaving `dir`
/// (`RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`, or one component at a time with
/// `O_NOFOLLOW`); `rel` must be plain components (EXDEV otherwise). An empty `rel` is
/// `dir` itself.
pub fn open_dir_beneath(dir: BorrowedFd<'_>, rel: &Path) -> Result<OwnedFd, Errno> {
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(Errno::EXDEV);
    }
    read::open(
        dir,
        rel,
        Resolve::Beneath,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY,
    )
}

/// Opens a directory that stands for a root (the host root, or `/proc/<pid>/root` of a
/// container, which on a live host is the kernel's link to that process's root).
pub fn open_root(path: &Path) -> Result<OwnedFd, Errno> {
    super::open_dir_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::read::open_components;
    use nix::sys::stat::Mode;
    use std::fs;

    fn root() -> (tempfile::TempDir, OwnedFd) {
        let d = tempfile::tempdir().unwrap();
        let fd = open_root(&d.path().join(".")).unwrap();
        (d, fd)
    }

    #[test]
    fn reads_a_regular_file_and_lists_a_directory() {
        let (d, fd) = root();
        fs::create_dir_all(d.path().join("run/x")).unwrap();
        fs::write(d.path().join("run/x/config.json"), b"{}").unwrap();
        let mut buf = Vec::new();
        read_in_root(fd.as_fd(), Path::new("/run/x/config.json"), 100, &mut buf).unwrap();
        assert_eq!(buf, b"{}");
        assert_eq!(
            list_in_root(fd.as_fd(), Path::new("run")).unwrap(),
            vec![b"x".to_vec()]
        );
        let e = read_in_root(fd.as_fd(), Path::new("run/none"), 100, &mut buf).unwrap_err();
        assert!(e.is_absent());
    }

    #[test]
    fn symlink_to_a_host_file_resolves_inside_the_root() {
        let (d, fd) = root();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"host secret").unwrap();
        fs::create_dir_all(d.path().join("etc")).unwrap();
        // Absolute and relative escapes both stay inside the root.
        std::os::unix::fs::symlink(outside.path().join("secret"), d.path().join("etc/abs"))
            .unwrap();
        std::os::unix::fs::symlink(
            "../../../../../../../../../../etc/passwd",
            d.path().join("etc/rel"),
        )
        .unwrap();
        let mut buf = Vec::new();
        for link in ["etc/abs", "etc/rel"] {
            let r = read_in_root(fd.as_fd(), Path::new(link), 1 << 20, &mut buf);
            assert!(
                r.is_err(),
                "{link} must not be read: {:?}",
                String::from_utf8_lossy(&buf)
            );
            assert!(!buf.windows(6).any(|w| w == b"secret") && !buf.starts_with(b"root:"));
        }
        // The fallback walker refuses symlinks too.
        assert!(open_components(fd.as_fd(), Path::new("etc/abs"), OFlag::O_RDONLY).is_err());
        assert_eq!(
            open_components(fd.as_fd(), Path::new("../x"), OFlag::O_RDONLY).unwrap_err(),
            Errno::EXDEV
        );
    }

    #[test]
    fn fifo_and_huge_sparse_file_are_refused_without_reading() {
        let (d, fd) = root();
        nix::unistd::mkfifo(&d.path().join("fifo"), Mode::from_bits_truncate(0o644)).unwrap();
        let mut buf = Vec::new();
        assert_eq!(
            read_in_root(fd.as_fd(), Path::new("fifo"), 100, &mut buf),
            Err(StateError::NotRegular)
        );
        let f = fs::File::create(d.path().join("big")).unwrap();
        f.set_len(2 << 30).unwrap();
        assert_eq!(
            read_in_root(fd.as_fd(), Path::new("big"), MAX_STATE_FILE, &mut buf),
            Err(StateError::TooLarge(2 << 30))
        );
        assert!(buf.is_empty());
        assert_eq!(
            read_in_root(fd.as_fd(), Path::new("."), 100, &mut buf),
            Err(StateError::Errno(Errno::EISDIR))
        );
    }

    #[test]
    fn user_files_refuse_symlinks_hard_links_fifos_and_other_owners() {
        let (d, fd) = root();
        let secret = d.path().join("secret.json");
        fs::write(&secret, b"\"TOPSECRET\"").unwrap();
        let home = d.path().join("home/u");
        fs::create_dir_all(home.join("s/sub")).unwrap();
        fs::write(home.join("s/ok.json"), b"[]").unwrap();
        std::os::unix::fs::symlink(&secret, home.join("s/abs.json")).unwrap();
        std::os::unix::fs::symlink("../../../secret.json", home.join("s/rel.json")).unwrap();
        std::os::unix::fs::symlink(d.path().join("home"), home.join("s/dirlink")).unwrap();
        fs::hard_link(&secret, home.join("s/hard.json")).unwrap();
        nix::unistd::mkfifo(&home.join("s/fifo"), Mode::from_bits_truncate(0o644)).unwrap();
        let base = Path::new("home/u");
        let me = nix::unistd::geteuid().as_raw();
        let mut buf = Vec::new();
        read_user_file(
            fd.as_fd(),
            base,
            Path::new("s/ok.json"),
            Some(me),
            100,
            &mut buf,
        )
        .unwrap();
        assert_eq!(buf, b"[]");
        for (rel, want) in [
            ("s/abs.json", StateError::Errno(Errno::ELOOP)),
            ("s/rel.json", StateError::Errno(Errno::ELOOP)),
            ("s/dirlink/u/s/ok.json", StateError::Errno(Errno::ELOOP)),
            ("s/hard.json", StateError::Linked(2)),
            ("s/fifo", StateError::NotRegular),
            ("../u/s/ok.json", StateError::Errno(Errno::EXDEV)),
            ("/home/u/s/ok.json", StateError::Errno(Errno::EXDEV)),
        ] {
            let r = read_user_file(fd.as_fd(), base, Path::new(rel), None, 100, &mut buf);
            assert_eq!(r, Err(want), "{rel}");
            assert!(!buf.windows(9).any(|w| w == b"TOPSECRET"), "{rel}");
            let fallback = open_components(
                fd.as_fd(),
                &Path::new("home/u").join(rel.trim_start_matches('/')),
                OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK,
            );
            if rel.contains("abs") || rel.contains("rel.") || rel.contains("dirlink") {
                // ELOOP for the file, ENOTDIR for a directory component.
                assert!(
                    matches!(fallback, Err(Errno::ELOOP | Errno::ENOTDIR)),
                    "fallback {rel}"
                );
            }
        }
        let other = me.wrapping_add(1);
        assert_eq!(
            read_user_file(
                fd.as_fd(),
                base,
                Path::new("s/ok.json"),
                Some(other),
                100,
                &mut buf
            ),
            Err(StateError::NotOwner(me))
        );
        assert_eq!(
            list_user_dir(fd.as_fd(), base, Path::new("s"), Some(me))
                .unwrap()
                .len(),
            7
        );
        assert_eq!(
            list_user_dir(fd.as_fd(), base, Path::new("s/dirlink"), None),
            Err(StateError::Errno(Errno::ELOOP))
        );
    }

    #[test]
    fn kernel_file_reader_refuses_a_fifo_without_blocking() {
        let (d, fd) = root();
        nix::unistd::mkfifo(&d.path().join("cmdline"), Mode::from_bits_truncate(0o644)).unwrap();
        fs::write(d.path().join("status"), b"Uid:\t1\t1\t1\t1\n").unwrap();
        let mut s = crate::fs::Scratch::new();
        assert_eq!(
            crate::fs::read_file(fd.as_fd(), c"cmdline", &mut s),
            Err(crate::fs::NOT_REGULAR)
        );
        assert_eq!(
            crate::fs::read_file(fd.as_fd(), c"status", &mut s).unwrap(),
            b"Uid:\t1\t1\t1\t1\n"
        );
    }

    #[test]
    fn dirs_beneath_refuse_links_and_dotdot() {
        let (d, fd) = root();
        fs::create_dir_all(d.path().join("a/b")).unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("a/link")).unwrap();
        assert!(open_dir_beneath(fd.as_fd(), Path::new("a/b")).is_ok());
        assert!(open_dir_beneath(fd.as_fd(), Path::new("")).is_ok());
        assert_eq!(
            open_dir_beneath(fd.as_fd(), Path::new("a/link")).unwrap_err(),
            Errno::ELOOP
        );
        assert_eq!(
            open_dir_beneath(fd.as_fd(), Path::new("a/../..")).unwrap_err(),
            Errno::EXDEV
        );
        assert!(open_components(fd.as_fd(), Path::new("a/link"), OFlag::O_DIRECTORY).is_err());
    }
}
