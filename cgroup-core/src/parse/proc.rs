//! `/proc/<pid>` files: `cgroup`, `cmdline`, `comm`, `status`, `uid_map`/`gid_map`, and
//! the targets of the `ns/*` links (proc(5), user_namespaces(7)).
//!
//! Why not the procfs crate here: these files are read once per process shown, which is
//! where a walk spends its time; procfs's `Status` fills ~50 owned fields and its
//! `ProcessCGroups` owns a `String` per line. These parsers borrow from the read buffer and
//! pick only the fields cgtree uses. procfs is used where it costs nothing on that path
//! (see `tree`: the `stat` flags of the few processes without a command line).

use super::{fields, parse_u32, parse_u64, trim, Lines};
use crate::error::{ParseError, ParseErrorKind};

/// One line of `/proc/<pid>/cgroup`: `hierarchy-ID:controller-list:cgroup-path`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcCgroupLine<'a> {
    /// 1-based line number.
    pub line: u32,
    /// Hierarchy id; `0` for the cgroup v2 line.
    pub hierarchy: u32,
    /// Comma-separated v1 controllers (`memory`, `name=systemd`); empty for v2.
    pub controllers: &'a [u8],
    /// The path, which may itself contain `:`.
    pub path: &'a [u8],
}

/// Iterates the lines of `/proc/<pid>/cgroup`. Each line is split into at most three
/// parts on `:`, because cgroup names may contain `:`.
///
/// ```text
/// 4:memory:/process_api/74e0b1f4
/// 0::/user.slice/user-1000.slice/session-2.scope
/// ```
pub fn proc_cgroup_lines(input: &[u8]) -> ProcCgroupLines<'_> {
    ProcCgroupLines {
        lines: Lines::new(input),
    }
}

/// Iterator returned by [`proc_cgroup_lines`].
#[derive(Clone)]
pub struct ProcCgroupLines<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for ProcCgroupLines<'a> {
    type Item = Result<ProcCgroupLine<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (n, line) = self.lines.next()?;
            if line.is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, |&b| b == b':');
            let (Some(h), Some(c), Some(p)) = (parts.next(), parts.next(), parts.next()) else {
                return Some(Err(ParseError::new(n, ParseErrorKind::MissingField, line)));
            };
            return Some(parse_u32(h, n, line).map(|hierarchy| ProcCgroupLine {
                line: n,
                hierarchy,
                controllers: c,
                path: p,
            }));
        }
    }
}

/// What `/proc/<pid>/cgroup` says about cgroup v2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcCgroup<'a> {
    /// The path of the `0::` line, without a ` (deleted)` suffix.
    pub unified: Option<&'a [u8]>,
    /// The kernel appended ` (deleted)`: the cgroup was removed (a zombie's).
    pub deleted: bool,
    /// Number of cgroup v1 lines (hybrid hosts).
    pub v1_lines: u32,
}

const DELETED: &[u8] = b" (deleted)";

/// Parses `/proc/<pid>/cgroup`: finds the `0::` line and counts v1 lines.
pub fn proc_pid_cgroup(input: &[u8]) -> Result<ProcCgroup<'_>, ParseError> {
    let mut pc = ProcCgroup::default();
    for l in proc_cgroup_lines(input) {
        let l = l?;
        if l.hierarchy == 0 && l.controllers.is_empty() {
            let (path, deleted) = match l.path.strip_suffix(DELETED) {
                Some(p) => (p, true),
                None => (l.path, false),
            };
            pc.unified = Some(path);
            pc.deleted = deleted;
        } else {
            pc.v1_lines = pc.v1_lines.saturating_add(1);
        }
    }
    Ok(pc)
}

/// Parses `/proc/<pid>/cmdline`: NUL-separated arguments. Empty for kernel threads and
/// zombies. A process that rewrote its argv (nginx's `nginx: master process ...`) may
/// leave no trailing NUL; the last argument is yielded all the same.
pub fn cmdline(input: &[u8]) -> Cmdline<'_> {
    Cmdline {
        rest: input.strip_suffix(b"\0").unwrap_or(input),
        done: input.is_empty(),
    }
}

/// Iterator returned by `cmdline`.
#[derive(Clone)]
pub struct Cmdline<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> Iterator for Cmdline<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        match memchr::memchr(0, self.rest) {
            Some(i) => {
                let arg = &self.rest[..i];
                self.rest = &self.rest[i + 1..];
                Some(arg)
            }
            None => {
                self.done = true;
                Some(self.rest)
            }
        }
    }
}

/// Parses `/proc/<pid>/comm`: the name without its newline (at most 15 bytes on a live
/// kernel; longer input is returned as is).
pub fn comm(input: &[u8]) -> &[u8] {
    input.strip_suffix(b"\n").unwrap_or(input)
}

/// The PIDs of `NSpid:`, outermost namespace first (the last is the PID inside the
/// process's own PID namespace).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsPids<'a> {
    raw: &'a [u8],
    line: u32,
}

impl<'a> NsPids<'a> {
    /// The PIDs, outermost first.
    pub fn iter(&self) -> impl Iterator<Item = Result<u32, ParseError>> + 'a {
        let (raw, line) = (self.raw, self.line);
        fields(raw).map(move |f| parse_u32(f, line, raw))
    }

    /// The PID in the innermost namespace.
    pub fn innermost(&self) -> Option<Result<u32, ParseError>> {
        self.iter().last()
    }

    /// How many PID namespaces deep the process is (1 = the initial one only).
    pub fn depth(&self) -> usize {
        fields(self.raw).count()
    }
}

/// The fields of `/proc/<pid>/status` that cgtree uses (the kernel separates key and
/// values with tabs, shown as spaces here).
///
/// ```text
/// Name:    nginx
/// PPid:    75102
/// Uid:    100100    100100    100100    100100
/// Gid:    100100    100100    100100    100100
/// NSpid:    75131    31
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Status<'a> {
    /// `Name:`, as the kernel escapes it (`\n` and `\\` are escaped).
    pub name: Option<&'a [u8]>,
    /// `PPid:`.
    pub ppid: Option<u32>,
    /// `Uid:` real, effective, saved, filesystem.
    pub uid: Option<[u32; 4]>,
    /// `Gid:` real, effective, saved, filesystem.
    pub gid: Option<[u32; 4]>,
    /// `NSpid:` (Linux 4.1).
    pub nspid: Option<NsPids<'a>>,
}

fn four_ids(value: &[u8], line: u32, excerpt: &[u8]) -> Result<[u32; 4], ParseError> {
    let mut out = [0u32; 4];
    let mut it = fields(value);
    for slot in &mut out {
        let f = it
            .next()
            .ok_or_else(|| ParseError::new(line, ParseErrorKind::MissingField, excerpt))?;
        *slot = parse_u32(f, line, excerpt)?;
    }
    Ok(out)
}

/// Parses `/proc/<pid>/status`. Unknown keys are ignored.
pub fn status(input: &[u8]) -> Result<Status<'_>, ParseError> {
    let mut st = Status::default();
    for (n, line) in Lines::new(input) {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        let key = &line[..colon];
        let value = &line[colon + 1..];
        match key {
            b"Name" => {
                // The name is the value after one tab; it may itself hold spaces.
                st.name = Some(value.strip_prefix(b"\t").unwrap_or(value));
            }
            b"PPid" => st.ppid = Some(parse_u32(trim(value), n, line)?),
            b"Uid" => st.uid = Some(four_ids(value, n, line)?),
            b"Gid" => st.gid = Some(four_ids(value, n, line)?),
            b"NSpid" => {
                let raw = trim(value);
                let nspid = NsPids { raw, line: n };
                for p in nspid.iter() {
                    p?;
                }
                st.nspid = Some(nspid);
            }
            _ => {}
        }
    }
    Ok(st)
}

/// One line of `uid_map`/`gid_map`: `count` ids starting at `inside` in the namespace map
/// to ids starting at `outside` in the reader's namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct IdMapRange {
    /// First id inside the namespace.
    pub inside: u32,
    /// First id outside (as seen by the reader).
    pub outside: u32,
    /// Number of ids.
    pub count: u32,
}

impl IdMapRange {
    /// Maps an inside id to the outside one, if this range covers it.
    pub fn to_outside(&self, id: u32) -> Option<u32> {
        let off = id.checked_sub(self.inside)?;
        (off < self.count).then(|| self.outside.wrapping_add(off))
    }

    /// Maps an outside id to the inside one, if this range covers it.
    pub fn to_inside(&self, id: u32) -> Option<u32> {
        let off = id.checked_sub(self.outside)?;
        (off < self.count).then(|| self.inside.wrapping_add(off))
    }
}

/// Parses `/proc/<pid>/uid_map` or `gid_map`: lines of three decimal fields, padded with
/// spaces by the kernel. A range that would wrap past 2^32 is an error.
///
/// ```text
///          0       1000          1
///          1     100000      65536
/// ```
pub fn id_map(input: &[u8]) -> IdMap<'_> {
    IdMap {
        lines: Lines::new(input),
    }
}

/// Iterator returned by [`id_map`].
#[derive(Clone)]
pub struct IdMap<'a> {
    lines: Lines<'a>,
}

impl Iterator for IdMap<'_> {
    type Item = Result<IdMapRange, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (n, line) = self.lines.next()?;
            if trim(line).is_empty() {
                continue;
            }
            let mut it = fields(line);
            let (Some(a), Some(b), Some(c), None) = (it.next(), it.next(), it.next(), it.next())
            else {
                return Some(Err(ParseError::new(n, ParseErrorKind::MissingField, line)));
            };
            let r = (|| {
                let inside = parse_u32(a, n, line)?;
                let outside = parse_u32(b, n, line)?;
                let count = parse_u32(c, n, line)?;
                let limit = 1u64 << 32;
                if count == 0
                    || u64::from(inside) + u64::from(count) > limit
                    || u64::from(outside) + u64::from(count) > limit
                {
                    return Err(ParseError::new(n, ParseErrorKind::OutOfRange, line));
                }
                Ok(IdMapRange {
                    inside,
                    outside,
                    count,
                })
            })();
            return Some(r);
        }
    }
}

/// The target of a `/proc/<pid>/ns/*` link: `user:[4026532263]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NsLink<'a> {
    /// Namespace type (`user`, `pid`, `mnt`, `cgroup`, `net`, ...).
    pub kind: &'a str,
    /// The namespace's inode number.
    pub inode: u64,
}

/// Parses a namespace link target such as `user:[4026532263]`.
pub fn ns_link(input: &[u8]) -> Result<NsLink<'_>, ParseError> {
    let t = trim(input);
    let err = |k| ParseError::new(1, k, t);
    let colon = memchr::memchr(b':', t).ok_or_else(|| err(ParseErrorKind::MissingField))?;
    let kind = std::str::from_utf8(&t[..colon]).map_err(|_| err(ParseErrorKind::InvalidUtf8))?;
    if kind.is_empty() || !kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(err(ParseErrorKind::UnknownValue));
    }
    let inner = t[colon + 1..]
        .strip_prefix(b"[")
        .and_then(|r| r.strip_suffix(b"]"))
        .ok_or_else(|| err(ParseErrorKind::MissingField))?;
    let inode = parse_u64(inner, 1, t)?;
    Ok(NsLink { kind, inode })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_pid_cgroup_table() {
        type Want = Result<(Option<&'static [u8]>, bool, u32), ParseErrorKind>;
        let cases: &[(&[u8], Want)] = &[
            (b"0::/user.slice/user-1000.slice/session-2.scope\n", Ok((Some(b"/user.slice/user-1000.slice/session-2.scope"), false, 0))),
            (b"0::/\n", Ok((Some(b"/"), false, 0))),
            (b"", Ok((None, false, 0))),
            (
                b"9:name=systemd:/\n4:memory:/process_api/74e0b1f4\n1:cpu:/\n0::/libpod_parent/libpod-5853\n",
                Ok((Some(b"/libpod_parent/libpod-5853"), false, 3)),
            ),
            (b"0::/a:b:c\n", Ok((Some(b"/a:b:c"), false, 0))),
            (b"0::/gone (deleted)\n", Ok((Some(b"/gone"), true, 0))),
            (b"0::/../sibling/x", Ok((Some(b"/../sibling/x"), false, 0))),
            (b"1:cpu:/\n", Ok((None, false, 1))),
            (b"garbage\n", Err(ParseErrorKind::MissingField)),
            (b"x::/\n", Err(ParseErrorKind::InvalidNumber)),
            (b"99999999999::/\n", Err(ParseErrorKind::Overflow)),
        ];
        for (input, want) in cases {
            let got = proc_pid_cgroup(input)
                .map(|p| (p.unified, p.deleted, p.v1_lines))
                .map_err(|e| e.kind);
            assert_eq!(&got, want, "{input:?}");
        }
        let err = proc_pid_cgroup(b"0::/\nbad line\n").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn cmdline_table() {
        let cases: &[(&[u8], &[&[u8]])] = &[
            (b"", &[]),
            (b"/sbin/init\0", &[b"/sbin/init"]),
            (b"/usr/bin/podman", &[b"/usr/bin/podman"]),
            (b"a\0\0b\0", &[b"a", b"", b"b"]),
            (
                b"nginx: master process nginx -g daemon off;",
                &[b"nginx: master process nginx -g daemon off;"],
            ),
            (b"\0", &[b""]),
            (b"\0\0", &[b"", b""]),
        ];
        for (input, want) in cases {
            let got: Vec<&[u8]> = cmdline(input).collect();
            assert_eq!(&got, want, "{input:?}");
        }
    }

    #[test]
    fn comm_strips_one_newline() {
        assert_eq!(comm(b"kthreadd\n"), b"kthreadd");
        assert_eq!(comm(b"x"), b"x");
        assert_eq!(comm(b""), b"");
        assert_eq!(comm(b"a b\n\n"), b"a b\n");
    }

    #[test]
    fn status_table() {
        let st = status(b"Name:\tnginx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t75131\nNgid:\t0\nPid:\t75131\nPPid:\t75102\nTracerPid:\t0\nUid:\t100100\t100100\t100100\t100100\nGid:\t100101\t100101\t100101\t100101\nNSpid:\t75131\t31\nNewKey:\tx\n").unwrap();
        assert_eq!(st.name, Some(&b"nginx"[..]));
        assert_eq!(st.ppid, Some(75102));
        assert_eq!(st.uid, Some([100100; 4]));
        assert_eq!(st.gid, Some([100101; 4]));
        let ns = st.nspid.unwrap();
        assert_eq!(
            ns.iter().collect::<Result<Vec<_>, _>>(),
            Ok(vec![75131, 31])
        );
        assert_eq!(ns.innermost(), Some(Ok(31)));
        assert_eq!(ns.depth(), 2);
        assert_eq!(status(b""), Ok(Status::default()));
        assert_eq!(
            status(b"Name:\tmy proc: x\n").unwrap().name,
            Some(&b"my proc: x"[..])
        );
        assert_eq!(status(b"Name:\tx").unwrap().name, Some(&b"x"[..]));
        assert_eq!(
            status(b"Uid:\t1\t2\n").map_err(|e| (e.line, e.kind)),
            Err((1, ParseErrorKind::MissingField))
        );
        assert_eq!(
            status(b"Name:\tx\nPPid:\tq\n").map_err(|e| (e.line, e.kind)),
            Err((2, ParseErrorKind::InvalidNumber))
        );
        assert_eq!(
            status(b"NSpid:\t1\t99999999999\n").map_err(|e| e.kind),
            Err(ParseErrorKind::Overflow)
        );
        assert!(status(b"\xff\xfe garbage without colon\n").is_ok());
    }

    #[test]
    fn id_map_table() {
        type Want = Vec<Result<(u32, u32, u32), ParseErrorKind>>;
        let cases: &[(&[u8], Want)] = &[
            (b"", vec![]),
            (
                b"         0          0 4294967295\n",
                vec![Ok((0, 0, u32::MAX))],
            ),
            (
                b"         0       1000          1\n         1     100000      65536\n",
                vec![Ok((0, 1000, 1)), Ok((1, 100000, 65536))],
            ),
            (b"0 1000 1", vec![Ok((0, 1000, 1))]),
            (b"1 0 4294967295\n", vec![Ok((1, 0, u32::MAX))]),
            (b"2 0 4294967295\n", vec![Err(ParseErrorKind::OutOfRange)]),
            (b"0 0 0\n", vec![Err(ParseErrorKind::OutOfRange)]),
            (b"0 1000\n", vec![Err(ParseErrorKind::MissingField)]),
            (b"0 1000 1 9\n", vec![Err(ParseErrorKind::MissingField)]),
            (b"a b c\n", vec![Err(ParseErrorKind::InvalidNumber)]),
        ];
        for (input, want) in cases {
            let got: Want = id_map(input)
                .map(|r| {
                    r.map(|m| (m.inside, m.outside, m.count))
                        .map_err(|e| e.kind)
                })
                .collect();
            assert_eq!(&got, want, "{input:?}");
        }
        let r = IdMapRange {
            inside: 1,
            outside: 100000,
            count: 65536,
        };
        assert_eq!(r.to_outside(101), Some(100100));
        assert_eq!(r.to_outside(0), None);
        assert_eq!(r.to_outside(65536), Some(165535));
        assert_eq!(r.to_outside(65537), None);
        assert_eq!(r.to_inside(100100), Some(101));
        assert_eq!(r.to_inside(99999), None);
        let full = IdMapRange {
            inside: 0,
            outside: 0,
            count: u32::MAX,
        };
        assert_eq!(full.to_outside(u32::MAX - 1), Some(u32::MAX - 1));
        assert_eq!(full.to_outside(u32::MAX), None);
    }

    #[test]
    fn ns_link_table() {
        assert_eq!(
            ns_link(b"user:[4026532263]"),
            Ok(NsLink {
                kind: "user",
                inode: 4026532263
            })
        );
        assert_eq!(
            ns_link(b"pid_for_children:[4026531836]\n").map(|l| l.kind),
            Ok("pid_for_children")
        );
        for bad in [
            &b""[..],
            b"user",
            b"user:4026532263",
            b"user:[x]",
            b":[1]",
            b"User:[1]",
            b"user:[1",
            b"user:[99999999999999999999]",
        ] {
            assert!(ns_link(bad).is_err(), "{bad:?}");
        }
    }
}
