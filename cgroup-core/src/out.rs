//! Writing a file atomically for others to read (a Prometheus node-exporter textfile,
//! say): a temporary next to it, renamed into place.

use crate::fs::out as fsout;
use std::ffi::CStr;
use std::os::fd::AsFd;
use std::path::Path;

/// Why [`replace_file`] failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplaceError {
    /// A component of the directory's path is a symlink owned by another user (not
    /// root, not the caller): not followed.
    #[error("a symlink owned by another user is on the way")]
    ForeignSymlink,
    /// The directory could not be opened.
    #[error("{0}")]
    Dir(std::io::Error),
    /// The file could not be written or renamed.
    #[error("{0}")]
    File(std::io::Error),
}

/// Replaces the file `name` in the directory `dir` with `bytes` (mode 0644), atomically:
/// written to a temporary `.NAME.PID.N` in `dir`, then renamed over `NAME`, so a reader
/// sees the old file or the new one, never part of one. First removes (best effort) the
/// temporaries of writers that were killed before their rename (`.NAME.<pid>.<n>` of a
/// PID no process has, or of this process's own PID).
///
/// # Errors
/// [`ReplaceError::ForeignSymlink`] when a component of `dir` is a symlink owned by
/// another user; [`ReplaceError::Dir`] when `dir` cannot be opened,
/// [`ReplaceError::File`] when the file cannot be written or renamed (each with the
/// errno as its `raw_os_error`).
pub fn replace_file(dir: &Path, name: &CStr, bytes: &[u8]) -> Result<(), ReplaceError> {
    let errno = |e: nix::errno::Errno| std::io::Error::from_raw_os_error(e as i32);
    let fd = fsout::open_parent_dir(dir).map_err(|e| match e {
        fsout::ParentError::Errno(e) => ReplaceError::Dir(errno(e)),
        fsout::ParentError::ForeignSymlink => ReplaceError::ForeignSymlink,
    })?;
    // Best effort: a temporary that cannot be removed is left for the next round.
    let _ = fsout::remove_stale_temporaries(fd.as_fd(), name, std::process::id(), |pid| {
        crate::fs::pid_exists(pid) != Some(false)
    });
    fsout::replace_file(fd.as_fd(), name, bytes, fsout::FILE_MODE)
        .map_err(|e| ReplaceError::File(errno(e)))
}
