//! Resource-usage files: `cpu.stat`, `memory.stat`, `memory.events` (and `.local`),
//! `io.stat`, and sysfs `uevent` (a block device's name).
//!
//! Formats from the kernel's Documentation/admin-guide/cgroup-v2.rst ("CPU Interface
//! Files", "Memory Interface Files", "IO Interface Files") and
//! Documentation/ABI/testing/sysfs-dev (the `uevent` of `/sys/dev/block/MAJ:MIN`).
//! Unknown keys are skipped (kernels add them); a line that does not parse is an error
//! naming its line. Nothing here allocates or panics.

use super::{flat_keyed, nested_keyed, parse_u32, parse_u64, trim, Lines, NestedLine};
use crate::error::{ParseError, ParseErrorKind};

/// `cpu.stat` (flat-keyed, microseconds and counts). `usage_usec`, `user_usec` and
/// `system_usec` are always there (the kernel's base stats, even without the `cpu`
/// controller); the bandwidth keys only where the `cpu` controller is enabled.
///
/// ```text
/// usage_usec 8364911
/// user_usec 5263125
/// system_usec 3101786
/// nr_periods 120
/// nr_throttled 12
/// throttled_usec 48000
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CpuStat {
    /// CPU time used by the cgroup and its descendants, in microseconds.
    pub usage_usec: Option<u64>,
    /// Of which in user mode, in microseconds.
    pub user_usec: Option<u64>,
    /// Of which in kernel mode, in microseconds.
    pub system_usec: Option<u64>,
    /// Enforcement periods of the cgroup's own `cpu.max` that elapsed (with runnable tasks).
    pub nr_periods: Option<u64>,
    /// Of those, periods in which the cgroup was throttled.
    pub nr_throttled: Option<u64>,
    /// Total time the cgroup's tasks were throttled, in microseconds.
    pub throttled_usec: Option<u64>,
}

/// Parses `cpu.stat`. Unknown keys (`nr_bursts`, `core_sched.force_idle_usec`, ...) are
/// skipped.
///
/// # Errors
/// A line that is not `<key> <u64>` ([`ParseError`] with its line).
pub fn cpu_stat(input: &[u8]) -> Result<CpuStat, ParseError> {
    let mut s = CpuStat::default();
    for kv in flat_keyed(input) {
        let (k, v) = kv?;
        let slot = match k {
            "usage_usec" => &mut s.usage_usec,
            "user_usec" => &mut s.user_usec,
            "system_usec" => &mut s.system_usec,
            "nr_periods" => &mut s.nr_periods,
            "nr_throttled" => &mut s.nr_throttled,
            "throttled_usec" => &mut s.throttled_usec,
            _ => continue,
        };
        *slot = Some(v);
    }
    Ok(s)
}

/// The keys of `memory.stat` that cgtree reads, in bytes. The file is hierarchical (a
/// cgroup's numbers include its descendants').
///
/// ```text
/// anon 1490944
/// file 5246976
/// kernel 2146304
/// shmem 0
/// inactive_file 3145728
/// active_file 2101248
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MemoryStat {
    /// Anonymous mappings (`brk`, `mmap(MAP_ANONYMOUS)`), bytes.
    pub anon: Option<u64>,
    /// Page cache, tmpfs included, bytes.
    pub file: Option<u64>,
    /// Kernel memory charged to the cgroup, bytes (Linux 5.18).
    pub kernel: Option<u64>,
    /// Swap-backed cached memory (tmpfs, shm segments, shared anonymous mappings), bytes.
    pub shmem: Option<u64>,
    /// Page cache mapped into processes, bytes.
    pub file_mapped: Option<u64>,
    /// Network transmission buffers, bytes.
    pub sock: Option<u64>,
    /// Reclaimable and unreclaimable slab, bytes.
    pub slab: Option<u64>,
    /// Anonymous memory on the inactive LRU list, bytes.
    pub inactive_anon: Option<u64>,
    /// Anonymous memory on the active LRU list, bytes.
    pub active_anon: Option<u64>,
    /// Page cache on the inactive LRU list (the first reclaimed), bytes.
    pub inactive_file: Option<u64>,
    /// Page cache on the active LRU list, bytes.
    pub active_file: Option<u64>,
    /// Memory that cannot be reclaimed (mlocked, ...), bytes.
    pub unevictable: Option<u64>,
}

/// Parses `memory.stat`. The event counters (`pgfault`, ...) and unknown keys are skipped.
///
/// # Errors
/// A line that is not `<key> <u64>` ([`ParseError`] with its line).
pub fn memory_stat(input: &[u8]) -> Result<MemoryStat, ParseError> {
    let mut s = MemoryStat::default();
    for kv in flat_keyed(input) {
        let (k, v) = kv?;
        let slot = match k {
            "anon" => &mut s.anon,
            "file" => &mut s.file,
            "kernel" => &mut s.kernel,
            "shmem" => &mut s.shmem,
            "file_mapped" => &mut s.file_mapped,
            "sock" => &mut s.sock,
            "slab" => &mut s.slab,
            "inactive_anon" => &mut s.inactive_anon,
            "active_anon" => &mut s.active_anon,
            "inactive_file" => &mut s.inactive_file,
            "active_file" => &mut s.active_file,
            "unevictable" => &mut s.unevictable,
            _ => continue,
        };
        *slot = Some(v);
    }
    Ok(s)
}

/// `memory.events` (hierarchical: events of the cgroup and its descendants) or
/// `memory.events.local` (the cgroup's own), counts since the cgroup was made.
///
/// ```text
/// low 0
/// high 0
/// max 4
/// oom 1
/// oom_kill 1
/// oom_group_kill 0
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct MemoryEvents {
    /// Reclaimed below `memory.low` because of high memory pressure.
    pub low: Option<u64>,
    /// Throttled and reclaimed because usage went over `memory.high`.
    pub high: Option<u64>,
    /// Usage was about to go over `memory.max`.
    pub max: Option<u64>,
    /// The OOM killer was invoked because `memory.max` was reached.
    pub oom: Option<u64>,
    /// Processes killed by an OOM killer.
    pub oom_kill: Option<u64>,
    /// Group OOM kills (`memory.oom.group`, Linux 5.17).
    pub oom_group_kill: Option<u64>,
}

/// Parses `memory.events` or `memory.events.local`. Unknown keys (`sock_throttled`, ...)
/// are skipped.
///
/// # Errors
/// A line that is not `<key> <u64>` ([`ParseError`] with its line).
pub fn memory_events(input: &[u8]) -> Result<MemoryEvents, ParseError> {
    let mut s = MemoryEvents::default();
    for kv in flat_keyed(input) {
        let (k, v) = kv?;
        let slot = match k {
            "low" => &mut s.low,
            "high" => &mut s.high,
            "max" => &mut s.max,
            "oom" => &mut s.oom,
            "oom_kill" => &mut s.oom_kill,
            "oom_group_kill" => &mut s.oom_group_kill,
            _ => continue,
        };
        *slot = Some(v);
    }
    Ok(s)
}

/// One device line of `io.stat`: bytes and operations since the cgroup was made
/// (hierarchical). A sub-key the line does not print is 0, as the kernel omits nothing
/// but older kernels lack `dbytes`/`dios`.
///
/// ```text
/// 8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct IoStatLine {
    /// Device major number.
    pub major: u32,
    /// Device minor number.
    pub minor: u32,
    /// Bytes read.
    pub rbytes: u64,
    /// Bytes written.
    pub wbytes: u64,
    /// Read operations.
    pub rios: u64,
    /// Write operations.
    pub wios: u64,
    /// Bytes discarded.
    pub dbytes: u64,
    /// Discard operations.
    pub dios: u64,
}

/// Parses `io.stat`: an iterator of device lines. A line whose key is not `MAJ:MIN`
/// (`(unknown)`) is skipped; unknown sub-keys (`cost.*` of iocost) are skipped.
pub fn io_stat(input: &[u8]) -> IoStat<'_> {
    IoStat {
        lines: nested_keyed(input),
    }
}

/// Iterator returned by [`io_stat`].
#[derive(Clone)]
pub struct IoStat<'a> {
    lines: super::NestedKeyed<'a>,
}

impl Iterator for IoStat<'_> {
    type Item = Result<IoStatLine, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let l = self.lines.next()?;
            let Some(colon) = memchr::memchr(b':', l.key) else {
                continue;
            };
            let (maj, min) = (&l.key[..colon], &l.key[colon + 1..]);
            if maj.is_empty() || !maj.iter().all(u8::is_ascii_digit) {
                continue;
            }
            return Some(io_line(&l, maj, min));
        }
    }
}

fn io_line(l: &NestedLine<'_>, maj: &[u8], min: &[u8]) -> Result<IoStatLine, ParseError> {
    let mut d = IoStatLine {
        major: parse_u32(maj, l.line, l.key)?,
        minor: parse_u32(min, l.line, l.key)?,
        ..IoStatLine::default()
    };
    for kv in l.pairs() {
        let (k, v) = kv?;
        let slot = match k {
            b"rbytes" => &mut d.rbytes,
            b"wbytes" => &mut d.wbytes,
            b"rios" => &mut d.rios,
            b"wios" => &mut d.wios,
            b"dbytes" => &mut d.dbytes,
            b"dios" => &mut d.dios,
            _ => continue,
        };
        *slot = parse_u64(v, l.line, v)?;
    }
    Ok(d)
}

/// Longest device name [`uevent_devname`] returns (a kernel name is at most 32 bytes).
pub const MAX_DEVNAME: usize = 64;

/// The `DEVNAME=` value of a sysfs `uevent` file (`/sys/dev/block/8:0/uevent`), e.g.
/// `sda` or `mapper/...`-less `dm-0`.
///
/// ```text
/// MAJOR=8
/// MINOR=0
/// DEVNAME=sda
/// DEVTYPE=disk
/// ```
///
/// # Errors
/// No `DEVNAME=` line ([`ParseErrorKind::MissingField`]); an empty one or one longer than
/// [`MAX_DEVNAME`] bytes or with bytes outside printable ASCII
/// ([`ParseErrorKind::UnknownValue`]).
pub fn uevent_devname(input: &[u8]) -> Result<&[u8], ParseError> {
    for (n, line) in Lines::new(input) {
        if let Some(v) = line.strip_prefix(b"DEVNAME=") {
            let v = trim(v);
            if v.is_empty() || v.len() > MAX_DEVNAME || !v.iter().all(|b| b.is_ascii_graphic()) {
                return Err(ParseError::new(n, ParseErrorKind::UnknownValue, line));
            }
            return Ok(v);
        }
    }
    Err(ParseError::new(0, ParseErrorKind::MissingField, b"DEVNAME"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_stat_table() {
        let s = cpu_stat(b"usage_usec 10\nuser_usec 6\nsystem_usec 4\ncore_sched.force_idle_usec 0\nnr_periods 7\nnr_throttled 2\nthrottled_usec 300\nnr_bursts 0\nburst_usec 0\n").unwrap();
        assert_eq!(
            s,
            CpuStat {
                usage_usec: Some(10),
                user_usec: Some(6),
                system_usec: Some(4),
                nr_periods: Some(7),
                nr_throttled: Some(2),
                throttled_usec: Some(300),
            }
        );
        // Without the cpu controller: the base stats only.
        let s = cpu_stat(b"usage_usec 1\nuser_usec 1\nsystem_usec 0\n").unwrap();
        assert_eq!((s.usage_usec, s.nr_periods), (Some(1), None));
        assert_eq!(cpu_stat(b"").unwrap(), CpuStat::default());
        let e = cpu_stat(b"usage_usec 1\nuser_usec x\n").unwrap_err();
        assert_eq!((e.line, e.kind), (2, ParseErrorKind::InvalidNumber));
    }

    #[test]
    fn memory_stat_and_events() {
        let s = memory_stat(b"anon 100\nfile 50\nkernel 7\nshmem 3\ninactive_file 20\nactive_file 30\npgfault 99\nnew_key 1\n").unwrap();
        assert_eq!(
            (
                s.anon,
                s.file,
                s.kernel,
                s.shmem,
                s.inactive_file,
                s.active_file
            ),
            (Some(100), Some(50), Some(7), Some(3), Some(20), Some(30))
        );
        assert_eq!(s.slab, None);
        assert_eq!(memory_stat(b"anon 1\nfile\n").unwrap_err().line, 2);
        let e = memory_events(
            b"low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\noom_group_kill 5\nsock_throttled 0\n",
        )
        .unwrap();
        assert_eq!(
            e,
            MemoryEvents {
                low: Some(0),
                high: Some(1),
                max: Some(2),
                oom: Some(3),
                oom_kill: Some(4),
                oom_group_kill: Some(5),
            }
        );
        assert_eq!(
            memory_events(b"oom_kill 18446744073709551616\n")
                .unwrap_err()
                .kind,
            ParseErrorKind::Overflow
        );
    }

    #[test]
    fn io_stat_table() {
        let input = b"8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n\
                      253:0\n(unknown) rbytes=5\n8:0 wios=3 rbytes=1 cost.usage=9\n";
        let v: Vec<_> = io_stat(input).collect();
        assert_eq!(v.len(), 3);
        let a = v[0].unwrap();
        assert_eq!(
            (a.major, a.minor, a.rbytes, a.wbytes, a.rios, a.wios),
            (8, 16, 1459200, 314773504, 192, 353)
        );
        assert_eq!(
            v[1].unwrap(),
            IoStatLine {
                major: 253,
                minor: 0,
                ..Default::default()
            }
        );
        let c = v[2].unwrap();
        assert_eq!((c.rbytes, c.wios, c.dios), (1, 3, 0));
        for bad in [
            &b"8:x rbytes=1\n"[..],
            b"8:0 rbytes=-1\n",
            b"8:0 rbytes\n",
            b"99999999999:0 rbytes=1\n",
        ] {
            assert!(io_stat(bad).next().unwrap().is_err(), "{bad:?}");
        }
        assert_eq!(io_stat(b"").count(), 0);
    }

    #[test]
    fn uevent_table() {
        assert_eq!(
            uevent_devname(b"MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk\n").unwrap(),
            b"sda"
        );
        assert_eq!(uevent_devname(b"DEVNAME=nvme0n1").unwrap(), b"nvme0n1");
        assert_eq!(
            uevent_devname(b"MAJOR=8\n").unwrap_err().kind,
            ParseErrorKind::MissingField
        );
        assert_eq!(
            uevent_devname(b"DEVNAME=\n").unwrap_err().kind,
            ParseErrorKind::UnknownValue
        );
        assert!(uevent_devname(b"DEVNAME=a\x1b[2Jb\n").is_err());
        assert!(uevent_devname(
            &[b'D', b'E', b'V', b'N', b'A', b'M', b'E', b'=', b'a']
                .iter()
                .copied()
                .chain(std::iter::repeat_n(b'x', 100))
                .collect::<Vec<_>>()
        )
        .is_err());
    }
}
