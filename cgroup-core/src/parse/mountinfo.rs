//! `/proc/<pid>/mountinfo` (proc(5)): where cgroup2 is mounted and with which options.
//!
//! Why not procfs's `MountInfos`: it builds owned `String`s and a `HashMap` of options for
//! every mount of the host, and it only reads through its own `/proc` handle. cgtree needs
//! one line (the cgroup2 mount) from a mountinfo under any host root, so it scans the
//! bytes and keeps borrowed fields.

use super::{parse_u32, Lines};
use crate::error::{ParseError, ParseErrorKind};
use std::borrow::Cow;

/// One mount.
///
/// ```text
/// 41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
/// ^id ^parent ^dev ^root ^mount point ^mount options [optional...] - fstype source super options
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountInfoEntry<'a> {
    /// 1-based line number.
    pub line: u32,
    /// Mount id.
    pub mount_id: u32,
    /// Parent mount id.
    pub parent_id: u32,
    /// Root of the mount inside its file system (octal-escaped; see [`unescape_mount_path`]).
    pub root: &'a [u8],
    /// Mount point relative to the reader's root (octal-escaped).
    pub mount_point: &'a [u8],
    /// Per-mount options (`rw,relatime`).
    pub mount_options: MountOptions<'a>,
    /// File system type (`cgroup2`, `cgroup`, `ext4`).
    pub fs_type: &'a [u8],
    /// Mount source.
    pub source: &'a [u8],
    /// Per-superblock options (`rw,nsdelegate,memory_recursiveprot`; for v1, the controllers).
    pub super_options: MountOptions<'a>,
}

impl MountInfoEntry<'_> {
    /// A cgroup v2 mount.
    pub fn is_cgroup2(&self) -> bool {
        self.fs_type == b"cgroup2"
    }

    /// A cgroup v1 hierarchy.
    pub fn is_cgroup1(&self) -> bool {
        self.fs_type == b"cgroup"
    }
}

/// A comma-separated option list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MountOptions<'a>(pub &'a [u8]);

impl<'a> MountOptions<'a> {
    /// The options, one by one (`key` or `key=value`).
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.0.split(|&b| b == b',').filter(|o| !o.is_empty())
    }

    /// Whether the flag `name` (e.g. `nsdelegate`) is present.
    pub fn has(&self, name: &str) -> bool {
        self.iter().any(|o| o == name.as_bytes())
    }
}

/// Parses mountinfo line by line.
pub fn mountinfo(input: &[u8]) -> MountInfo<'_> {
    MountInfo {
        lines: Lines::new(input),
    }
}

/// Iterator returned by [`mountinfo`].
#[derive(Clone)]
pub struct MountInfo<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for MountInfo<'a> {
    type Item = Result<MountInfoEntry<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (n, line) = self.lines.next()?;
            if line.is_empty() {
                continue;
            }
            return Some(parse_line(n, line));
        }
    }
}

fn parse_line(n: u32, line: &[u8]) -> Result<MountInfoEntry<'_>, ParseError> {
    let missing = || ParseError::new(n, ParseErrorKind::MissingField, line);
    let mut it = line.split(|&b| b == b' ');
    let mount_id = parse_u32(it.next().ok_or_else(missing)?, n, line)?;
    let parent_id = parse_u32(it.next().ok_or_else(missing)?, n, line)?;
    let _dev = it.next().ok_or_else(missing)?;
    let root = it.next().ok_or_else(missing)?;
    let mount_point = it.next().ok_or_else(missing)?;
    let mount_options = it.next().ok_or_else(missing)?;
    // Optional fields end at a lone "-".
    loop {
        match it.next() {
            Some(b"-") => break,
            Some(_) => continue,
            None => return Err(missing()),
        }
    }
    let fs_type = it.next().ok_or_else(missing)?;
    let source = it.next().ok_or_else(missing)?;
    let super_options = it.next().ok_or_else(missing)?;
    if fs_type.is_empty() || mount_point.is_empty() || root.is_empty() {
        return Err(missing());
    }
    Ok(MountInfoEntry {
        line: n,
        mount_id,
        parent_id,
        root,
        mount_point,
        mount_options: MountOptions(mount_options),
        fs_type,
        source,
        super_options: MountOptions(super_options),
    })
}

/// Undoes the kernel's octal escapes in mountinfo paths (`\040` space, `\011` tab,
/// `\012` newline, `\134` backslash). Borrows when there is nothing to undo.
pub fn unescape_mount_path(raw: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', raw).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            if let Some(oct) = raw.get(i + 1..i + 4) {
                if oct.iter().all(|b| (b'0'..=b'7').contains(b)) {
                    let v = u32::from(oct[0] - b'0') * 64
                        + u32::from(oct[1] - b'0') * 8
                        + u32::from(oct[2] - b'0');
                    if let Ok(b) = u8::try_from(v) {
                        out.push(b);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &[u8] = b"22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n\
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

    #[test]
    fn mountinfo_finds_cgroup2_on_hybrid_host() {
        let m: Vec<_> = mountinfo(HYBRID).collect::<Result<_, _>>().unwrap();
        assert_eq!(m.len(), 4);
        let v2: Vec<_> = m.iter().filter(|e| e.is_cgroup2()).collect();
        assert_eq!(v2.len(), 1);
        assert_eq!(v2[0].mount_point, b"/sys/fs/cgroup/unified");
        assert_eq!(v2[0].root, b"/");
        assert_eq!(v2[0].mount_id, 41);
        assert_eq!(v2[0].parent_id, 31);
        assert!(!v2[0].super_options.has("nsdelegate"));
        assert_eq!(m.iter().filter(|e| e.is_cgroup1()).count(), 1);
    }

    #[test]
    fn mountinfo_optional_fields_and_options() {
        let line = b"30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 master:1 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot";
        let e = mountinfo(line).next().unwrap().unwrap();
        assert!(e.is_cgroup2());
        assert!(e.super_options.has("nsdelegate"));
        assert!(e.super_options.has("memory_recursiveprot"));
        assert!(!e.super_options.has("nsdeleg"));
        assert!(e.mount_options.has("noexec"));
        assert_eq!(e.source, b"cgroup2");
    }

    #[test]
    fn mountinfo_garbage_is_an_error_with_line() {
        let bad: &[&[u8]] = &[
            b"x",
            b"1 2 3 / /mnt rw",
            b"1 2 3 / /mnt rw - ext4",
            b"a 2 3 / /m rw - e s o",
            b"1 2 3 / /m rw shared:1",
        ];
        for input in bad {
            assert!(mountinfo(input).next().unwrap().is_err(), "{input:?}");
        }
        let mut it = mountinfo(b"1 0 0:1 / / rw - ext4 /dev/x rw\n\ngarbage\n");
        assert!(it.next().unwrap().is_ok());
        assert_eq!(it.next().unwrap().map_err(|e| e.line), Err(3));
        assert!(mountinfo(b"").next().is_none());
    }

    #[test]
    fn unescape_table() {
        assert_eq!(&*unescape_mount_path(b"/sys/fs/cgroup"), b"/sys/fs/cgroup");
        assert!(matches!(unescape_mount_path(b"/a"), Cow::Borrowed(_)));
        assert_eq!(&*unescape_mount_path(b"/mnt/a\\040b"), b"/mnt/a b");
        assert_eq!(&*unescape_mount_path(b"/x\\134y\\011"), b"/x\\y\t");
        assert_eq!(&*unescape_mount_path(b"/x\\"), b"/x\\");
        assert_eq!(&*unescape_mount_path(b"/x\\04"), b"/x\\04");
        assert_eq!(&*unescape_mount_path(b"/x\\777"), b"/x\\777");
        assert_eq!(&*unescape_mount_path(b"\\0401"), b" 1");
    }
}
