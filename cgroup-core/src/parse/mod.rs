//! Pure parsers for cgroup v2 interface files and `/proc` files.
//!
//! Every function here takes the file's bytes (`&[u8]`) and returns values or iterators
//! that borrow from them. Nothing here opens a file, allocates, or panics, whatever the
//! bytes: the kernel adds keys over time, reads can be torn, and fixture or container
//! files can hold anything. Errors carry the 1-based line number and an excerpt
//! ([`ParseError`]).
//!
//! `etc/passwd` ([`passwd`]) is parsed here too, by the same rules.
//!
//! Kernel reference for the cgroup files: Documentation/admin-guide/cgroup-v2.rst
//! ("Interface Files" and "Core Interface Files"); for `/proc`: proc(5) and
//! user_namespaces(7).
//!
//! Public only with the `internals` feature (the workspace's fuzz targets, benches and
//! tests): not covered by semver. The value types the public API hands out are
//! re-exported in [`crate::values`].
// Without `internals` the parsers are the crate's own: the ones only the fuzz targets,
// benches and tests call (and the re-exports naming them) are unused then.
#![cfg_attr(not(feature = "internals"), allow(dead_code, unused_imports))]
// Public only with `internals` (no semver promise): its functions' errors are the
// errno or `ParseError` their docs name, without the public API's `# Errors` sections.
#![allow(clippy::missing_errors_doc)]

pub mod bolt;
pub mod fanotify;
mod keyed;
mod list;
mod mountinfo;
mod passwd;
mod proc;
mod usage;
mod value;
mod xattr;

pub use fanotify::{fanotify_events, FanError, FanEvents, FanHandle, FanRecord};
pub use keyed::{
    cgroup_events, cgroup_stat, flat_keyed, nested_keyed, pressure, Centi, CgroupEvents,
    CgroupStat, FlatKeyed, NestedKeyed, NestedLine, Pairs, Pressure, PressureLine,
};
pub use list::{controllers, pids, Controller, ControllerSet, Controllers, KnownController, Pids};
pub use mountinfo::{mountinfo, unescape_mount_path, MountInfo, MountInfoEntry, MountOptions};
pub use passwd::{passwd, Passwd, PasswdEntry, MAX_PASSWD_LINE};
pub use proc::{
    cmdline, comm, id_map, ns_link, proc_cgroup_lines, proc_pid_cgroup, status, Cmdline, IdMap,
    IdMapRange, NsLink, NsPids, ProcCgroup, ProcCgroupLine, ProcCgroupLines, Status,
};
pub use usage::{
    cpu_stat, io_stat, memory_events, memory_stat, uevent_devname, CpuStat, IoStat, IoStatLine,
    MemoryEvents, MemoryStat, MAX_DEVNAME,
};
pub use value::{cgroup_type, cpu_max, limit, u64_value, CgroupType, CpuMax, Limit};
pub use xattr::xattr_names;

use crate::error::{ParseError, ParseErrorKind};

/// Lines of a kernel file, with 1-based numbers; a trailing newline does not make an
/// extra empty line, a missing one loses nothing.
#[derive(Clone)]
pub(crate) struct Lines<'a> {
    rest: &'a [u8],
    line: u32,
}

impl<'a> Lines<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Lines {
            rest: input,
            line: 0,
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = (u32, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        self.line = self.line.saturating_add(1);
        let (line, rest) = match memchr::memchr(b'\n', self.rest) {
            Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
            None => (self.rest, &self.rest[self.rest.len()..]),
        };
        self.rest = rest;
        Some((self.line, line))
    }
}

/// ASCII whitespace as the kernel prints it between fields.
#[inline]
pub(crate) fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `input` without leading and trailing spaces, tabs and newlines.
#[inline]
pub(crate) fn trim(input: &[u8]) -> &[u8] {
    input.trim_ascii()
}

/// Fields separated by runs of spaces or tabs.
pub(crate) fn fields(line: &[u8]) -> impl Iterator<Item = &[u8]> + '_ {
    line.split(|&b| is_space(b)).filter(|f| !f.is_empty())
}

/// A decimal `u64`; no sign, no spaces. Overflow is an error, never a wrap.
#[inline]
pub(crate) fn parse_u64(field: &[u8], line: u32, excerpt: &[u8]) -> Result<u64, ParseError> {
    if field.is_empty() {
        return Err(ParseError::new(
            line,
            ParseErrorKind::InvalidNumber,
            excerpt,
        ));
    }
    let mut n: u64 = 0;
    for &b in field {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return Err(ParseError::new(
                line,
                ParseErrorKind::InvalidNumber,
                excerpt,
            ));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d)))
            .ok_or_else(|| ParseError::new(line, ParseErrorKind::Overflow, excerpt))?;
    }
    Ok(n)
}

/// A decimal `u32`.
#[inline]
pub(crate) fn parse_u32(field: &[u8], line: u32, excerpt: &[u8]) -> Result<u32, ParseError> {
    let n = parse_u64(field, line, excerpt)?;
    u32::try_from(n).map_err(|_| ParseError::new(line, ParseErrorKind::Overflow, excerpt))
}

/// `bytes` as `&str` when they are ASCII-clean UTF-8 (kernel keys are).
#[inline]
pub(crate) fn key_str<'a>(
    bytes: &'a [u8],
    line: u32,
    excerpt: &[u8],
) -> Result<&'a str, ParseError> {
    std::str::from_utf8(bytes)
        .map_err(|_| ParseError::new(line, ParseErrorKind::InvalidUtf8, excerpt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_handle_missing_trailing_newline_and_empty() {
        let v: Vec<_> = Lines::new(b"a\nb").collect();
        assert_eq!(v, vec![(1, &b"a"[..]), (2, &b"b"[..])]);
        let v: Vec<_> = Lines::new(b"a\n").collect();
        assert_eq!(v, vec![(1, &b"a"[..])]);
        assert_eq!(Lines::new(b"").count(), 0);
        let v: Vec<_> = Lines::new(b"\n\nx").collect();
        assert_eq!(v.len(), 3);
    }

    #[test]
    fn parse_u64_table() {
        let cases: &[(&[u8], Result<u64, ParseErrorKind>)] = &[
            (b"0", Ok(0)),
            (b"18446744073709551615", Ok(u64::MAX)),
            (b"18446744073709551616", Err(ParseErrorKind::Overflow)),
            (b"99999999999999999999999", Err(ParseErrorKind::Overflow)),
            (b"", Err(ParseErrorKind::InvalidNumber)),
            (b"-1", Err(ParseErrorKind::InvalidNumber)),
            (b"1 ", Err(ParseErrorKind::InvalidNumber)),
            (b"max", Err(ParseErrorKind::InvalidNumber)),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_u64(input, 1, input).map_err(|e| e.kind),
                *want,
                "{input:?}"
            );
        }
        assert_eq!(
            parse_u32(b"4294967296", 1, b"").map_err(|e| e.kind),
            Err(ParseErrorKind::Overflow)
        );
    }
}
