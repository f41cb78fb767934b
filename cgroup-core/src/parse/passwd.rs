//! `etc/passwd` (passwd(5)): the one parser of it in cgtree, for the host's file and a
//! container's alike (both untrusted: a container's root is whatever its image holds).
//!
//! Rules, from passwd(5) and glibc's `nss_files` reader (nss/nss_files/files-parse.c,
//! nss/nss_files/files-pwd.c), which is what `getent passwd` answers from:
//! - one entry per line, exactly seven `:`-separated fields
//!   `name:password:UID:GID:GECOS:directory:shell`; a line with fewer or more fields is
//!   an error item (the entry is skipped, the rest of the file still read);
//! - blank lines and lines whose first non-blank byte is `#` are skipped (glibc skips
//!   leading blanks before looking at a line, and so does this parser);
//! - `+` and `-` lines are NIS compat entries (`+user`, `-@netgroup`, `+`): they name no
//!   local user and are ignored (they are not errors);
//! - UID and GID are plain decimal `u32`s: no sign, no blanks, no overflow; an empty name
//!   is an error item;
//! - a line longer than [`MAX_PASSWD_LINE`] is an error item naming its line number
//!   (its contents are not looked at).
//!
//! Duplicate names or UIDs are all returned, in file order: the first one is the answer
//! (as for `getpwuid(3)`), which is the caller's choice to make.

use super::{parse_u32, Lines};
use crate::error::{ParseError, ParseErrorKind};

/// Longest `etc/passwd` line read, in bytes (a home may be a path of up to `PATH_MAX`,
/// 4096 bytes; name, GECOS and shell fit in the rest).
pub const MAX_PASSWD_LINE: usize = 8192;

/// One entry of `etc/passwd`, borrowed from the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswdEntry<'a> {
    /// 1-based line number.
    pub line: u32,
    /// Login name (never empty).
    pub name: &'a [u8],
    /// Numeric user ID.
    pub uid: u32,
    /// Numeric primary group ID.
    pub gid: u32,
    /// Home directory, as written (may be empty or relative: callers check).
    pub home: &'a [u8],
    /// Login shell, as written (may be empty).
    pub shell: &'a [u8],
}

/// Iterates the entries of an `etc/passwd` file's bytes; see the module's rules.
///
/// ```text
/// root:x:0:0:root:/root:/bin/bash
/// massi:x:1000:1000:Massi,,,:/home/massi:/bin/bash
/// ```
pub fn passwd(input: &[u8]) -> Passwd<'_> {
    Passwd {
        lines: Lines::new(input),
    }
}

/// Iterator returned by [`passwd`].
#[derive(Clone)]
pub struct Passwd<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for Passwd<'a> {
    type Item = Result<PasswdEntry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (n, line) = self.lines.next()?;
            if line.len() > MAX_PASSWD_LINE {
                return Some(Err(ParseError::new(n, ParseErrorKind::OutOfRange, b"")));
            }
            let start = line
                .iter()
                .position(|&b| !super::is_space(b))
                .unwrap_or(line.len());
            let line = &line[start..];
            match line.first() {
                None | Some(b'#' | b'+' | b'-') => continue,
                Some(_) => return Some(entry(n, line)),
            }
        }
    }
}

fn entry(n: u32, line: &[u8]) -> Result<PasswdEntry<'_>, ParseError> {
    let mut f = line.split(|&b| b == b':');
    let (Some(name), Some(_pw), Some(uid), Some(gid), Some(_gecos), Some(home), Some(shell)) = (
        f.next(),
        f.next(),
        f.next(),
        f.next(),
        f.next(),
        f.next(),
        f.next(),
    ) else {
        return Err(ParseError::new(n, ParseErrorKind::MissingField, line));
    };
    if f.next().is_some() {
        return Err(ParseError::new(n, ParseErrorKind::UnknownValue, line));
    }
    if name.is_empty() {
        return Err(ParseError::new(n, ParseErrorKind::Empty, line));
    }
    Ok(PasswdEntry {
        line: n,
        name,
        uid: parse_u32(uid, n, line)?,
        gid: parse_u32(gid, n, line)?,
        home,
        shell,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, name, uid, gid, home, shell) of each entry.
    type Row<'a> = (u32, &'a [u8], u32, u32, &'a [u8], &'a [u8]);

    fn ok(input: &[u8]) -> Vec<Row<'_>> {
        passwd(input)
            .filter_map(Result::ok)
            .map(|e| (e.line, e.name, e.uid, e.gid, e.home, e.shell))
            .collect()
    }

    fn errs(input: &[u8]) -> Vec<(u32, ParseErrorKind)> {
        passwd(input)
            .filter_map(Result::err)
            .map(|e| (e.line, e.kind))
            .collect()
    }

    #[test]
    fn entries_in_file_order() {
        let f = b"root:x:0:0:root:/root:/bin/bash\n\
                  massi:x:1000:1000:Massi,,,:/home/massi:/bin/bash\n\
                  nobody:x:65534:65534::/nonexistent:";
        assert_eq!(
            ok(f),
            vec![
                (1, &b"root"[..], 0, 0, &b"/root"[..], &b"/bin/bash"[..]),
                (2, b"massi", 1000, 1000, b"/home/massi", b"/bin/bash"),
                (3, b"nobody", 65534, 65534, b"/nonexistent", b""),
            ]
        );
        assert!(errs(f).is_empty());
    }

    #[test]
    fn comments_blanks_and_nis_lines_are_skipped_without_errors() {
        let f = b"# comment\n\n   \n\t# indented comment\n+massi\n-@staff\n+\n+::::::\n  a:x:1:2::/h:/s\n";
        assert_eq!(ok(f), vec![(9, &b"a"[..], 1, 2, &b"/h"[..], &b"/s"[..])]);
        assert!(errs(f).is_empty());
    }

    #[test]
    fn malformed_lines_are_error_items_and_the_rest_is_read() {
        let f = b"short:x:1:1\n\
                  long:x:1:1:g:/h:/s:extra\n\
                  :x:2:2::/h:/s\n\
                  neg:x:-1:0::/h:/s\n\
                  plus:x:+5:0::/h:/s\n\
                  big:x:4294967296:0::/h:/s\n\
                  sp:x: 3:0::/h:/s\n\
                  nogid:x:4::::\n\
                  good:x:5:5::/h:/s\n";
        assert_eq!(ok(f), vec![(9, &b"good"[..], 5, 5, &b"/h"[..], &b"/s"[..])]);
        assert_eq!(
            errs(f),
            vec![
                (1, ParseErrorKind::MissingField),
                (2, ParseErrorKind::UnknownValue),
                (3, ParseErrorKind::Empty),
                (4, ParseErrorKind::InvalidNumber),
                (5, ParseErrorKind::InvalidNumber),
                (6, ParseErrorKind::Overflow),
                (7, ParseErrorKind::InvalidNumber),
                (8, ParseErrorKind::InvalidNumber),
            ]
        );
    }

    #[test]
    fn a_too_long_line_is_an_error_naming_it() {
        let mut f = b"a:x:1:1::/h:/s\n".to_vec();
        f.extend(std::iter::repeat_n(b'y', MAX_PASSWD_LINE + 1));
        f.extend_from_slice(b":x:2:2::/h:/s\nb:x:3:3::/h:/s");
        assert_eq!(
            ok(&f).iter().map(|e| e.1).collect::<Vec<_>>(),
            vec![&b"a"[..], b"b"]
        );
        let e: Vec<ParseError> = passwd(&f).filter_map(Result::err).collect();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].line, e[0].kind), (2, ParseErrorKind::OutOfRange));
        assert!(e[0].to_string().starts_with("line 2: "), "{}", e[0]);
        // A line of exactly the limit is read.
        let mut f = b"n:x:1:1::/".to_vec();
        f.resize(MAX_PASSWD_LINE - 1, b'h');
        f.push(b':');
        assert_eq!(ok(&f).len(), 1);
    }

    #[test]
    fn bytes_that_are_not_utf8_are_kept_as_bytes_and_cr_stays_in_the_shell() {
        let f = b"\xff\xfe:x:7:7:\xc3:/h\xff:/bin/sh\r\n";
        assert_eq!(
            ok(f),
            vec![(1, &b"\xff\xfe"[..], 7, 7, &b"/h\xff"[..], &b"/bin/sh\r"[..])]
        );
    }

    #[test]
    fn never_panics_on_prefixes_of_a_file() {
        let f =
            b"root:x:0:0:root:/root:/bin/bash\n#c\n+x\nmassi:x:1000:1000::/home/massi:/bin/sh\n";
        for end in 0..=f.len() {
            let _ = passwd(&f[..end]).count();
        }
    }
}
