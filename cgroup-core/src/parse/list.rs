//! List files: `cgroup.procs`, `cgroup.threads`, `cgroup.controllers`,
//! `cgroup.subtree_control`.

use super::{parse_u32, trim, Lines};
use crate::error::ParseError;
use std::fmt;

/// Parses `cgroup.procs` or `cgroup.threads`: one PID (or TID) per line, unordered,
/// possibly with duplicates. A `0` stands for a process outside the reader's PID
/// namespace and is yielded as is. Empty lines are skipped.
///
/// ```text
/// 70837
/// 71711
/// ```
pub fn pids(input: &[u8]) -> Pids<'_> {
    Pids {
        lines: Lines::new(input),
        line: 0,
    }
}

/// Iterator returned by [`pids`].
#[derive(Clone)]
pub struct Pids<'a> {
    lines: Lines<'a>,
    line: u32,
}

impl Pids<'_> {
    /// The 1-based line of the item returned last (0 before the first).
    pub fn line(&self) -> u32 {
        self.line
    }
}

impl Iterator for Pids<'_> {
    type Item = Result<u32, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (n, line) = self.lines.next()?;
            let t = trim(line);
            if t.is_empty() {
                continue;
            }
            self.line = n;
            return Some(parse_u32(t, n, line));
        }
    }
}

/// A controller the kernel documents for cgroup v2.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum KnownController {
    /// `cpuset`
    Cpuset,
    /// `cpu`
    Cpu,
    /// `io`
    Io,
    /// `memory`
    Memory,
    /// `hugetlb`
    Hugetlb,
    /// `pids`
    Pids,
    /// `rdma`
    Rdma,
    /// `misc`
    Misc,
    /// `dmem` (Linux 6.14)
    Dmem,
}

impl KnownController {
    /// All known controllers, in the order the kernel lists them.
    pub const ALL: [KnownController; 9] = [
        KnownController::Cpuset,
        KnownController::Cpu,
        KnownController::Io,
        KnownController::Memory,
        KnownController::Hugetlb,
        KnownController::Pids,
        KnownController::Rdma,
        KnownController::Misc,
        KnownController::Dmem,
    ];

    /// The kernel's name.
    pub fn as_str(self) -> &'static str {
        match self {
            KnownController::Cpuset => "cpuset",
            KnownController::Cpu => "cpu",
            KnownController::Io => "io",
            KnownController::Memory => "memory",
            KnownController::Hugetlb => "hugetlb",
            KnownController::Pids => "pids",
            KnownController::Rdma => "rdma",
            KnownController::Misc => "misc",
            KnownController::Dmem => "dmem",
        }
    }

    /// Looks a name up.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str().as_bytes() == name)
    }
}

/// One name of a controller list: known, or kept as the raw bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Controller<'a> {
    /// A documented controller.
    Known(KnownController),
    /// A name this crate does not know (a newer kernel's controller).
    Other(&'a [u8]),
}

/// Parses `cgroup.controllers` or `cgroup.subtree_control`: space separated names on
/// one line (an empty file or an empty line means none).
///
/// ```text
/// cpuset cpu io memory hugetlb pids rdma misc
/// ```
pub fn controllers(input: &[u8]) -> Controllers<'_> {
    Controllers { rest: trim(input) }
}

/// Iterator returned by [`controllers`].
#[derive(Clone)]
pub struct Controllers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Controllers<'a> {
    type Item = Controller<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = self
                .rest
                .iter()
                .position(|&b| b.is_ascii_whitespace())
                .unwrap_or(self.rest.len());
            let name = &self.rest[..end];
            self.rest = &self.rest[end..];
            if let Some(i) = self.rest.iter().position(|&b| !b.is_ascii_whitespace()) {
                self.rest = &self.rest[i..];
            } else {
                self.rest = &[];
            }
            if name.is_empty() {
                continue;
            }
            return Some(match KnownController::from_name(name) {
                Some(c) => Controller::Known(c),
                None => Controller::Other(name),
            });
        }
    }
}

/// A set of known controllers (a bit set; unknown names are kept by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ControllerSet(u16);

impl ControllerSet {
    /// The empty set.
    pub const EMPTY: ControllerSet = ControllerSet(0);

    /// The known controllers named in a `cgroup.controllers`-style file.
    pub fn parse(input: &[u8]) -> Self {
        let mut set = ControllerSet::EMPTY;
        for c in controllers(input) {
            if let Controller::Known(k) = c {
                set.insert(k);
            }
        }
        set
    }

    /// Adds a controller.
    pub fn insert(&mut self, c: KnownController) {
        self.0 |= 1 << (c as u8);
    }

    /// Whether `c` is in the set.
    pub fn contains(self, c: KnownController) -> bool {
        self.0 & (1 << (c as u8)) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The controllers in kernel order.
    pub fn iter(self) -> impl Iterator<Item = KnownController> {
        KnownController::ALL
            .into_iter()
            .filter(move |c| self.contains(*c))
    }

    /// Controllers in `self` and not in `other`.
    pub fn difference(self, other: ControllerSet) -> ControllerSet {
        ControllerSet(self.0 & !other.0)
    }
}

impl fmt::Display for ControllerSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(c.as_str())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ParseErrorKind;

    #[test]
    fn pids_table() {
        type Want = Vec<Result<u32, (u32, ParseErrorKind)>>;
        let cases: &[(&[u8], Want)] = &[
            (b"", vec![]),
            (b"\n", vec![]),
            (b"70837\n71711\n", vec![Ok(70837), Ok(71711)]),
            (b"1\n2", vec![Ok(1), Ok(2)]),
            (b"0\n0\n5\n", vec![Ok(0), Ok(0), Ok(5)]),
            (b"3\n3\n", vec![Ok(3), Ok(3)]),
            (
                b"1\nx\n2\n",
                vec![Ok(1), Err((2, ParseErrorKind::InvalidNumber)), Ok(2)],
            ),
            (b"4294967296\n", vec![Err((1, ParseErrorKind::Overflow))]),
            (b" 7 \n", vec![Ok(7)]),
        ];
        for (input, want) in cases {
            let got: Want = pids(input)
                .map(|r| r.map_err(|e| (e.line, e.kind)))
                .collect();
            assert_eq!(&got, want, "{input:?}");
        }
    }

    #[test]
    fn controllers_table() {
        use KnownController::*;
        let got: Vec<_> = controllers(b"cpuset cpu io memory hugetlb pids rdma misc\n").collect();
        assert_eq!(
            got,
            [Cpuset, Cpu, Io, Memory, Hugetlb, Pids, Rdma, Misc]
                .map(Controller::Known)
                .to_vec()
        );
        assert_eq!(controllers(b"").count(), 0);
        assert_eq!(controllers(b"\n").count(), 0);
        let got: Vec<_> = controllers(b"memory  frobnicate pids").collect();
        assert_eq!(
            got,
            vec![
                Controller::Known(Memory),
                Controller::Other(b"frobnicate"),
                Controller::Known(Pids)
            ]
        );
        let set = ControllerSet::parse(b"pids memory\n");
        assert_eq!(set.to_string(), "memory pids");
        assert!(set.contains(Memory) && !set.contains(Cpu));
        assert_eq!(
            ControllerSet::parse(b"cpu memory pids")
                .difference(set)
                .to_string(),
            "cpu"
        );
    }
}
