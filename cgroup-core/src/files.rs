//! Confined reads and writes of configuration files under a host root, and the few
//! system files a setup tool reads (`/proc/self/mountinfo`, `/etc/passwd`,
//! `/proc/PID/cgroup`) as owned values: what `cgroup-provision` (`cgtree provision`)
//! builds on, as any other dependent may.
//!
//! The rules every call here follows (the crate's own file layer, made public through
//! this module only):
//! - **One bounded reader.** A file is opened with `O_NONBLOCK | O_NOCTTY`, checked to be
//!   a regular file (a FIFO or a device is never read), refused above a byte limit by
//!   its size ([`FileError::TooLarge`]) and read to at most that limit.
//! - **No links in a user's directory.** Below a [`Place::User`] directory no symlink is
//!   followed at any component ([`FileError::Os`] with `ELOOP`); with `creds`, the work
//!   runs on a thread of its own with the user's filesystem credentials, so the kernel
//!   refuses what the user could not do.
//! - **Root's own files through root's own links only.** For [`Place::System`], symlinks
//!   are followed by hand inside the host root, only through directories that only root
//!   (or the caller) can write ([`FileError::Untrusted`] otherwise).
//! - **Writes never write into an existing file** ([`replace`]): the old bytes go to a
//!   backup created exclusively, the new ones to a temporary file created exclusively
//!   and renamed over the name.
//!
//! Paths "as the host sees it" (`/etc/wsl.conf`) are resolved under the host root
//! (`/`, or a fixture directory standing for it).
//!
//! ```
//! use cgroup_core::files::{self, Place, Replaced, Write};
//! use std::path::Path;
//! let root = tempfile::tempdir()?;
//! std::fs::create_dir(root.path().join("etc"))?;
//! std::fs::write(root.path().join("etc/example.conf"), "a=1\n")?;
//! let path = Path::new("/etc/example.conf");
//! let before = files::read(root.path(), path, &Place::System, files::MAX_CONFIG_FILE)?;
//! assert_eq!(before, b"a=1\n");
//! // Written only if the file still holds what was read; the old bytes are backed up.
//! let done = files::replace(root.path(), path, &Place::System, &Write::new(Some(&before), b"a=2\n"))?;
//! assert!(matches!(done, Replaced::Written(Some(_))));
//! assert_eq!(files::read_host_file(root.path(), path, 1 << 20)?, b"a=2\n");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::fs::user;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use crate::fs::user::{Place, Replaced, Write, MAX_CONFIG_FILE};

/// Why a file was not read or written. Never holds file content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileError {
    /// A system call failed: its errno (`ENOENT`: absent; `ELOOP`: a symlink was
    /// refused; `EACCES`: the user, or root, may not). [`std::io::Error::from_raw_os_error`]
    /// gives its text.
    Os(i32),
    /// Not a regular file (a FIFO, a device, a directory, a socket): not opened for
    /// reading, not replaced.
    NotRegular,
    /// Larger than the limit (its size in bytes).
    TooLarge(u64),
    /// One of root's paths leads through a directory (or link) that someone other than
    /// root may change (its owner's UID, its mode).
    Untrusted(u32, u32),
    /// The file is not what the write expected ([`Write::expect`]).
    Changed,
}

impl FileError {
    /// The file does not exist (`ENOENT`).
    pub fn is_absent(&self) -> bool {
        *self == FileError::Os(nix::errno::Errno::ENOENT as i32)
    }

    /// The errno of a failed system call.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            FileError::Os(e) => Some(*e),
            _ => None,
        }
    }
}

impl FileError {
    /// The file layer's error, without its `nix` type.
    fn of(e: user::FileError) -> Self {
        match e {
            user::FileError::Errno(e) => FileError::Os(e as i32),
            user::FileError::NotRegular => FileError::NotRegular,
            user::FileError::TooLarge(n) => FileError::TooLarge(n),
            user::FileError::Untrusted(uid, mode) => FileError::Untrusted(uid, mode),
            user::FileError::Changed => FileError::Changed,
        }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // One wording, the file layer's.
        let inner = match *self {
            FileError::Os(e) => user::FileError::Errno(nix::errno::Errno::from_raw(e)),
            FileError::NotRegular => user::FileError::NotRegular,
            FileError::TooLarge(n) => user::FileError::TooLarge(n),
            FileError::Untrusted(uid, mode) => user::FileError::Untrusted(uid, mode),
            FileError::Changed => user::FileError::Changed,
        };
        inner.fmt(f)
    }
}

impl std::error::Error for FileError {}

/// Reads `rel` (as the host sees it, or relative) under the host root `root`, symlinks
/// resolved inside the root, at most `limit` bytes. For root's own files (`/proc`,
/// `/etc/passwd`).
///
/// # Errors
/// [`FileError::Os`] when the root or the file cannot be opened or read,
/// [`FileError::NotRegular`], [`FileError::TooLarge`].
pub fn read_host_file(root: &Path, rel: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    user::read_host_file(root, rel, limit).map_err(FileError::of)
}

/// Reads `rel` below the directory `dir` (an absolute path, itself followed: e.g. a
/// cgroup2 mount), with no symlink below it, at most `limit` bytes.
///
/// # Errors
/// As [`read_host_file`]; a symlink below `dir` is [`FileError::Os`] with `ELOOP`.
pub fn read_beneath(dir: &Path, rel: &Path, limit: u64) -> Result<Vec<u8>, FileError> {
    user::read_beneath(dir, rel, limit).map_err(FileError::of)
}

/// Whether `rel` below `dir` (as in [`read_beneath`]) is a directory.
pub fn is_dir_beneath(dir: &Path, rel: &Path) -> bool {
    user::is_dir_beneath(dir, rel)
}

/// The subdirectories of `rel` under the host root `root` (symlinks resolved inside the
/// root for `rel` itself; entries that are symlinks are not directories), at most 4096,
/// sorted.
///
/// # Errors
/// [`FileError::Os`] when the root or `rel` cannot be opened or listed.
pub fn list_host_dirs(root: &Path, rel: &Path) -> Result<Vec<OsString>, FileError> {
    user::list_host_dirs(root, rel).map_err(FileError::of)
}

/// The owner (UID, GID) of the directory `rel` under the host root.
///
/// # Errors
/// [`FileError::Os`] when the root or `rel` cannot be opened.
pub fn host_dir_owner(root: &Path, rel: &Path) -> Result<(u32, u32), FileError> {
    user::host_dir_owner(root, rel).map_err(FileError::of)
}

/// Reads the file `path` (as the host sees it) at `place` under the host root, at most
/// `limit` bytes, following the rules of its place.
///
/// # Errors
/// [`FileError::Os`] (absent: [`FileError::is_absent`]; `ELOOP`: a link where a user
/// controls the path; `EACCES`, `EPERM`: not allowed, or the user's credentials could
/// not be taken), [`FileError::NotRegular`], [`FileError::TooLarge`],
/// [`FileError::Untrusted`].
pub fn read(root: &Path, path: &Path, place: &Place, limit: u64) -> Result<Vec<u8>, FileError> {
    user::read(root, path, place, limit).map_err(FileError::of)
}

/// Whether `path` exists at `place` (a regular file or anything else, not followed if a
/// link), following the rules of its place.
pub fn exists(root: &Path, path: &Path, place: &Place) -> bool {
    user::exists(root, path, place)
}

/// Replaces the file `path` (as the host sees it) at `place` under the host root with
/// `w.content`: checks that it still holds `w.expect`, backs the old bytes up under a
/// fresh name (`NAME.cgtree-backup`, then `.1`, `.2`, ...), writes a temporary file
/// exclusively and renames it over the name. Missing directories are made (0755 for
/// root's; 0700 in a user's directory).
///
/// # Errors
/// [`FileError::Changed`] when the file no longer holds `w.expect`; otherwise as
/// [`read`], and [`FileError::Os`] for a failed write, sync or rename (the file then
/// still holds its old bytes).
pub fn replace(
    root: &Path,
    path: &Path,
    place: &Place,
    w: &Write<'_>,
) -> Result<Replaced, FileError> {
    user::replace(root, path, place, w).map_err(FileError::of)
}

/// One line of `/proc/PID/mountinfo` (proc(5)), owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mount {
    /// Where it is mounted (octal escapes such as `\040` decoded).
    pub mount_point: PathBuf,
    /// The filesystem type (`cgroup2`, `cgroup`, `ext4`, ...).
    pub fs_type: String,
    /// The superblock's options (`nsdelegate`, `memory_recursiveprot`, ...).
    pub super_options: Vec<String>,
}

impl Mount {
    /// A cgroup v2 (unified) mount.
    pub fn is_cgroup2(&self) -> bool {
        self.fs_type == "cgroup2"
    }

    /// A cgroup v1 hierarchy.
    pub fn is_cgroup1(&self) -> bool {
        self.fs_type == "cgroup"
    }

    /// Whether the superblock options hold `name` (`nsdelegate`).
    pub fn has_super_option(&self, name: &str) -> bool {
        self.super_options.iter().any(|o| o == name)
    }
}

/// The mounts of a `mountinfo` file's bytes, in order; lines that do not parse are
/// left out. Never panics, whatever the bytes.
///
/// ```
/// let text = b"30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
/// let mounts = cgroup_core::files::mounts(text);
/// assert!(mounts[0].is_cgroup2() && mounts[0].has_super_option("nsdelegate"));
/// assert_eq!(mounts[0].mount_point, std::path::Path::new("/sys/fs/cgroup"));
/// ```
pub fn mounts(mountinfo: &[u8]) -> Vec<Mount> {
    use std::os::unix::ffi::OsStrExt;
    crate::parse::mountinfo(mountinfo)
        .filter_map(Result::ok)
        .map(|m| Mount {
            mount_point: PathBuf::from(std::ffi::OsStr::from_bytes(
                &crate::parse::unescape_mount_path(m.mount_point),
            )),
            fs_type: String::from_utf8_lossy(m.fs_type).into_owned(),
            super_options: m
                .super_options
                .iter()
                .map(|o| String::from_utf8_lossy(o).into_owned())
                .collect(),
        })
        .collect()
}

/// One entry of a `passwd(5)` file, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PasswdEntry {
    /// Login name (never empty).
    pub name: String,
    /// Numeric user ID.
    pub uid: u32,
    /// Numeric primary group ID.
    pub gid: u32,
    /// Home directory, as written (may be empty or relative: check before use).
    pub home: PathBuf,
}

/// The entries of a `passwd` file's bytes, in order; lines that do not parse (and
/// `+`/`-` NIS lines) are left out. Never panics, whatever the bytes.
///
/// ```
/// let users = cgroup_core::files::passwd_entries(b"root:x:0:0:root:/root:/bin/sh\nbad\n");
/// assert_eq!((users[0].name.as_str(), users[0].uid), ("root", 0));
/// assert_eq!(users.len(), 1);
/// ```
pub fn passwd_entries(passwd: &[u8]) -> Vec<PasswdEntry> {
    use std::os::unix::ffi::OsStrExt;
    crate::parse::passwd(passwd)
        .filter_map(Result::ok)
        .map(|e| PasswdEntry {
            name: String::from_utf8_lossy(e.name).into_owned(),
            uid: e.uid,
            gid: e.gid,
            home: PathBuf::from(std::ffi::OsStr::from_bytes(e.home)),
        })
        .collect()
}

/// The cgroup v2 path of a `/proc/PID/cgroup` file's bytes (its `0::` line:
/// `/user.slice/...`); `None` when it has none or does not parse.
///
/// ```
/// let path = cgroup_core::files::unified_cgroup(b"1:name=systemd:/x\n0::/user.slice\n");
/// assert_eq!(path.as_deref(), Some(&b"/user.slice"[..]));
/// ```
pub fn unified_cgroup(proc_pid_cgroup: &[u8]) -> Option<Vec<u8>> {
    crate::parse::proc_pid_cgroup(proc_pid_cgroup)
        .ok()?
        .unified
        .map(<[u8]>::to_vec)
}
