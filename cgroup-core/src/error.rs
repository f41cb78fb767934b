//! The crate's error types: one [`Error`] for I/O and one [`ParseError`] for bad bytes.
//!
//! I/O errors are classified by their raw errno only ([`Error::is_vanished`],
//! [`Error::is_unsupported`], [`Error::is_permission_denied`]); `std`'s errno-to-`ErrorKind`
//! table changes between Rust releases, the errno does not.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A file or line could not be parsed. Carries the 1-based line number and a bounded
/// excerpt of the offending line; building one never allocates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number inside the file (0 when the whole input is at fault).
    pub line: u32,
    /// What was wrong.
    pub kind: ParseErrorKind,
    excerpt: Excerpt,
}

/// What was wrong with a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The input was empty where a value was required.
    Empty,
    /// A number was expected.
    InvalidNumber,
    /// A number did not fit its type.
    Overflow,
    /// A required field or separator is missing.
    MissingField,
    /// A value is not one of the values the kernel documents.
    UnknownValue,
    /// Bytes that must be ASCII/UTF-8 are not.
    InvalidUtf8,
    /// A value is out of the range the kernel allows (e.g. a uid_map range that wraps).
    OutOfRange,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParseErrorKind::Empty => "empty input",
            ParseErrorKind::InvalidNumber => "invalid number",
            ParseErrorKind::Overflow => "number too large",
            ParseErrorKind::MissingField => "missing field",
            ParseErrorKind::UnknownValue => "unknown value",
            ParseErrorKind::InvalidUtf8 => "invalid UTF-8",
            ParseErrorKind::OutOfRange => "value out of range",
        })
    }
}

const EXCERPT_MAX: usize = 40;

/// A copy of at most [`EXCERPT_MAX`] bytes of the offending line, stored inline.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Excerpt {
    buf: [u8; EXCERPT_MAX],
    len: u8,
    truncated: bool,
}

impl Excerpt {
    fn new(bytes: &[u8]) -> Self {
        let len = bytes.len().min(EXCERPT_MAX);
        let mut buf = [0u8; EXCERPT_MAX];
        buf[..len].copy_from_slice(&bytes[..len]);
        Excerpt {
            buf,
            len: len as u8,
            truncated: bytes.len() > EXCERPT_MAX,
        }
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..usize::from(self.len)]
    }
}

impl ParseError {
    /// A parse error at `line` (1-based) about `excerpt` (the offending line or field).
    pub fn new(line: u32, kind: ParseErrorKind, excerpt: &[u8]) -> Self {
        ParseError {
            line,
            kind,
            excerpt: Excerpt::new(excerpt),
        }
    }

    /// The first bytes of the offending line.
    pub fn excerpt(&self) -> &[u8] {
        self.excerpt.bytes()
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "line {}: ", self.line)?;
        }
        write!(f, "{}", self.kind)?;
        if self.excerpt.len > 0 {
            // escape_ascii keeps control bytes and non-ASCII out of the message.
            write!(f, " in \"{}", self.excerpt.bytes().escape_ascii())?;
            if self.excerpt.truncated {
                f.write_str("...")?;
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

impl fmt::Debug for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParseError({self})")
    }
}

impl std::error::Error for ParseError {}

/// An error of the I/O layer or the tree builder. Every variant names the file, relative
/// to the host root the caller gave, so that a message points at what to look at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A system call on `path` failed.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The original error, with its errno.
        #[source]
        source: io::Error,
    },
    /// `path` was read but its content does not parse.
    #[error("cannot parse {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Line and excerpt of the bad content.
        #[source]
        source: ParseError,
    },
    /// The directory exists but is not a cgroup2 file system.
    #[error("{} is not a cgroup2 mount", path.display())]
    NotCgroup2 {
        /// The directory.
        path: PathBuf,
    },
    /// The directory where the cgroup2 mount should be (under a `--root`) has no
    /// `cgroup.procs`, the file every cgroup2 directory has (kernel
    /// Documentation/admin-guide/cgroup-v2.rst, "Core Interface Files"): it is not a
    /// cgroup2 hierarchy (an empty directory, a v1 controller's, a copy without files).
    #[error("{} is not a cgroup2 hierarchy: it has no cgroup.procs", path.display())]
    NoCgroupProcs {
        /// The directory (the cgroup2 mount under the root).
        path: PathBuf,
    },
    /// The host has no cgroup2 hierarchy mounted (e.g. a cgroup v1-only host).
    #[error("no cgroup2 mount on this host: {} lists none{}", mountinfo.display(), if *v1 { " (only cgroup v1 hierarchies are mounted)" } else { "" })]
    NoCgroup2Mount {
        /// The mountinfo file that was searched.
        mountinfo: PathBuf,
        /// Whether cgroup v1 hierarchies were seen.
        v1: bool,
    },
    /// No such process (or it exited while it was read).
    #[error("no process {pid} ({} does not exist)", path.display())]
    NoSuchProcess {
        /// The PID.
        pid: u32,
        /// Its `/proc` directory.
        path: PathBuf,
    },
    /// The process exists, but `/proc` hides it from this user (mounted with `hidepid`).
    #[error("process {pid} is hidden from this user by /proc{}; run cgtree as root to see it", hidepid.as_deref().map(|o| format!(" (mounted with {o})")).unwrap_or_default())]
    ProcessHidden {
        /// The PID.
        pid: u32,
        /// The `/proc` mount's option (`hidepid=2`, `hidepid=invisible`), when known.
        hidepid: Option<String>,
    },
    /// The process exited while it was being read.
    #[error("process {pid} exited while it was read ({} vanished)", path.display())]
    ProcessVanished {
        /// The PID.
        pid: u32,
        /// The file that vanished.
        path: PathBuf,
    },
    /// `/proc/<pid>/cgroup` has no cgroup v2 (`0::`) line.
    #[error("{} has no cgroup v2 (0::) line", path.display())]
    NoUnifiedCgroup {
        /// The file.
        path: PathBuf,
    },
    /// A request that cannot be carried out as asked (e.g. a snapshot into a directory
    /// that is not empty).
    #[error("{what}: {reason}")]
    Refused {
        /// What was asked.
        what: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A path given by the caller is not acceptable (e.g. contains `..`).
    #[error("invalid cgroup path {path:?}: {reason}")]
    InvalidPath {
        /// The path as given.
        path: String,
        /// Why it was refused.
        reason: &'static str,
    },
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A parse error in `path`.
    pub fn parse(path: impl Into<PathBuf>, source: ParseError) -> Self {
        Error::Parse {
            path: path.into(),
            source,
        }
    }

    fn errno(&self) -> Option<i32> {
        match self {
            Error::Io { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// ENOENT, ENODEV, ESRCH: the cgroup or process went away while it was read.
    pub fn is_vanished(&self) -> bool {
        self.errno().is_some_and(errno_is_vanished)
    }

    /// EOPNOTSUPP: e.g. `cgroup.procs` below a threaded domain, `*.pressure` with PSI off.
    pub fn is_unsupported(&self) -> bool {
        self.errno().is_some_and(errno_is_unsupported)
    }

    /// EACCES or EPERM.
    pub fn is_permission_denied(&self) -> bool {
        self.errno().is_some_and(errno_is_permission_denied)
    }
}

/// ENOENT, ENODEV, ESRCH.
pub fn errno_is_vanished(errno: i32) -> bool {
    errno == libc_errno::ENOENT || errno == libc_errno::ENODEV || errno == libc_errno::ESRCH
}

/// EOPNOTSUPP (== ENOTSUP on Linux).
pub fn errno_is_unsupported(errno: i32) -> bool {
    errno == libc_errno::EOPNOTSUPP
}

/// EACCES, EPERM.
pub fn errno_is_permission_denied(errno: i32) -> bool {
    errno == libc_errno::EACCES || errno == libc_errno::EPERM
}

pub(crate) mod libc_errno {
    use nix::errno::Errno;
    pub const ENOENT: i32 = Errno::ENOENT as i32;
    pub const ENODEV: i32 = Errno::ENODEV as i32;
    pub const ESRCH: i32 = Errno::ESRCH as i32;
    pub const EOPNOTSUPP: i32 = Errno::EOPNOTSUPP as i32;
    pub const EACCES: i32 = Errno::EACCES as i32;
    pub const EPERM: i32 = Errno::EPERM as i32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_error_display_names_line_and_escapes_excerpt() {
        let e = ParseError::new(3, ParseErrorKind::InvalidNumber, b"12\x1b[31mx");
        assert_eq!(e.to_string(), "line 3: invalid number in \"12\\x1b[31mx\"");
    }

    #[test]
    fn parse_error_excerpt_is_bounded() {
        let long = [b'a'; 100];
        let e = ParseError::new(1, ParseErrorKind::InvalidNumber, &long);
        assert_eq!(e.excerpt().len(), EXCERPT_MAX);
        assert!(e.to_string().ends_with("...\""));
    }

    #[test]
    fn error_display_does_not_repeat_source() {
        let e = Error::io(
            "sys/fs/cgroup/a/cgroup.procs",
            io::Error::from_raw_os_error(13),
        );
        assert_eq!(e.to_string(), "cannot read sys/fs/cgroup/a/cgroup.procs");
        assert!(e.is_permission_denied());
        assert!(!e.is_vanished());
        let p = Error::parse(
            "x/cgroup.type",
            ParseError::new(1, ParseErrorKind::UnknownValue, b"bogus"),
        );
        assert_eq!(p.to_string(), "cannot parse x/cgroup.type");
        assert_eq!(
            std::error::Error::source(&p).map(|s| s.to_string()),
            Some("line 1: unknown value in \"bogus\"".to_string())
        );
    }

    #[test]
    fn errno_classes() {
        for (errno, vanished, unsupported) in [
            (2, true, false),
            (19, true, false),
            (3, true, false),
            (95, false, true),
            (5, false, false),
        ] {
            let e = Error::io("f", io::Error::from_raw_os_error(errno));
            assert_eq!(e.is_vanished(), vanished, "errno {errno}");
            assert_eq!(e.is_unsupported(), unsupported, "errno {errno}");
        }
    }
}

/// A content-free description of a JSON error: where (1-based line and column) and what
/// kind of fault, never the bytes found there. serde_json's own message quotes the
/// offending value (`invalid type: string "..."`), which for a file that a user linked
/// to a root-only one would print that file's content; every reader of JSON state uses
/// this instead.
pub fn json_error(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let what = match e.classify() {
        Category::Io => "could not be read",
        Category::Syntax => "not valid JSON",
        Category::Data => "not the structure expected",
        Category::Eof => "ends too early",
    };
    format!(
        "invalid JSON at line {} column {} ({what})",
        e.line(),
        e.column()
    )
}

#[cfg(test)]
mod json_error_tests {
    #[test]
    fn json_errors_never_quote_the_content() {
        let e = serde_json::from_slice::<Vec<u32>>(b"\"TOPSECRET root:$6$hash\"").unwrap_err();
        assert!(e.to_string().contains("TOPSECRET"), "serde_json quotes it");
        let m = super::json_error(&e);
        assert_eq!(
            m,
            "invalid JSON at line 1 column 24 (not the structure expected)"
        );
        let e = serde_json::from_slice::<Vec<u32>>(b"[1, TOPSECRET").unwrap_err();
        assert!(!super::json_error(&e).contains("TOPSECRET"));
    }
}
