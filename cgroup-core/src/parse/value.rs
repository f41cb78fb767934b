//! Single-value files: `cgroup.type`, `memory.max`-style limits, `cpu.max`, counters.

use super::{fields, parse_u64, trim};
use crate::error::{ParseError, ParseErrorKind};
use std::fmt;

/// `cgroup.type` of a non-root cgroup (cgroup-v2.rst, "Threads").
///
/// ```text
/// domain
/// domain threaded
/// domain invalid
/// threaded
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CgroupType {
    /// A normal domain cgroup.
    #[cfg_attr(feature = "serde", serde(rename = "domain"))]
    Domain,
    /// The root of a threaded subtree: lists all processes of the subtree.
    #[cfg_attr(feature = "serde", serde(rename = "domain threaded"))]
    DomainThreaded,
    /// In an invalid state: cannot be populated or have controllers enabled until it is
    /// made threaded.
    #[cfg_attr(feature = "serde", serde(rename = "domain invalid"))]
    DomainInvalid,
    /// A member of a threaded subtree: `cgroup.procs` cannot be read (EOPNOTSUPP).
    #[cfg_attr(feature = "serde", serde(rename = "threaded"))]
    Threaded,
}

impl CgroupType {
    /// The kernel's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CgroupType::Domain => "domain",
            CgroupType::DomainThreaded => "domain threaded",
            CgroupType::DomainInvalid => "domain invalid",
            CgroupType::Threaded => "threaded",
        }
    }
}

impl fmt::Display for CgroupType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses `cgroup.type`. Surrounding whitespace and the trailing newline are ignored.
pub fn cgroup_type(input: &[u8]) -> Result<CgroupType, ParseError> {
    let t = trim(input);
    match t {
        b"domain" => Ok(CgroupType::Domain),
        b"domain threaded" => Ok(CgroupType::DomainThreaded),
        b"domain invalid" => Ok(CgroupType::DomainInvalid),
        b"threaded" => Ok(CgroupType::Threaded),
        b"" => Err(ParseError::new(1, ParseErrorKind::Empty, t)),
        _ => Err(ParseError::new(1, ParseErrorKind::UnknownValue, t)),
    }
}

/// A limit that is either the literal `max` or a number (`memory.max`, `pids.max`,
/// `cgroup.max.depth`, the quota of `cpu.max`). No `-1` or `u64::MAX` sentinel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Limit {
    /// No limit.
    Max,
    /// A limit.
    Value(u64),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Max => f.write_str("max"),
            Limit::Value(v) => write!(f, "{v}"),
        }
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Limit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Limit::Max => s.serialize_str("max"),
            Limit::Value(v) => s.serialize_u64(*v),
        }
    }
}

fn limit_field(field: &[u8], line: u32, excerpt: &[u8]) -> Result<Limit, ParseError> {
    if field == b"max" {
        Ok(Limit::Max)
    } else {
        parse_u64(field, line, excerpt).map(Limit::Value)
    }
}

/// Parses a one-value file that holds `max` or a number:
///
/// ```text
/// max
/// 1073741824
/// ```
pub fn limit(input: &[u8]) -> Result<Limit, ParseError> {
    let t = trim(input);
    if t.is_empty() {
        return Err(ParseError::new(1, ParseErrorKind::Empty, t));
    }
    limit_field(t, 1, t)
}

/// Parses a one-value counter file (`memory.current`, `pids.current`).
pub fn u64_value(input: &[u8]) -> Result<u64, ParseError> {
    let t = trim(input);
    if t.is_empty() {
        return Err(ParseError::new(1, ParseErrorKind::Empty, t));
    }
    parse_u64(t, 1, t)
}

/// `cpu.max`: `$MAX $PERIOD`, where `$MAX` may be `max`; the period is optional on write
/// and always printed on read.
///
/// ```text
/// max 100000
/// 50000 100000
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CpuMax {
    /// Quota per period, in microseconds.
    pub quota: Limit,
    /// Period in microseconds.
    pub period: u64,
}

/// Parses `cpu.max`.
pub fn cpu_max(input: &[u8]) -> Result<CpuMax, ParseError> {
    let t = trim(input);
    let mut it = fields(t);
    let quota = it
        .next()
        .ok_or_else(|| ParseError::new(1, ParseErrorKind::Empty, t))
        .and_then(|f| limit_field(f, 1, t))?;
    let period = it
        .next()
        .ok_or_else(|| ParseError::new(1, ParseErrorKind::MissingField, t))
        .and_then(|f| parse_u64(f, 1, t))?;
    if it.next().is_some() {
        return Err(ParseError::new(1, ParseErrorKind::UnknownValue, t));
    }
    Ok(CpuMax { quota, period })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_type_table() {
        let cases: &[(&[u8], Result<CgroupType, ParseErrorKind>)] = &[
            (b"domain\n", Ok(CgroupType::Domain)),
            (b"domain", Ok(CgroupType::Domain)),
            (b"domain threaded\n", Ok(CgroupType::DomainThreaded)),
            (b"domain invalid\n", Ok(CgroupType::DomainInvalid)),
            (b"threaded\n", Ok(CgroupType::Threaded)),
            (b"", Err(ParseErrorKind::Empty)),
            (b"\n", Err(ParseErrorKind::Empty)),
            (b"domain  threaded\n", Err(ParseErrorKind::UnknownValue)),
            (b"\xff\xfe", Err(ParseErrorKind::UnknownValue)),
        ];
        for (input, want) in cases {
            assert_eq!(cgroup_type(input).map_err(|e| e.kind), *want, "{input:?}");
        }
    }

    #[test]
    fn limit_table() {
        let cases: &[(&[u8], Result<Limit, ParseErrorKind>)] = &[
            (b"max\n", Ok(Limit::Max)),
            (b"max", Ok(Limit::Max)),
            (b"1073741824\n", Ok(Limit::Value(1 << 30))),
            (b"0", Ok(Limit::Value(0))),
            (b"", Err(ParseErrorKind::Empty)),
            (b"Max", Err(ParseErrorKind::InvalidNumber)),
            (b"99999999999999999999", Err(ParseErrorKind::Overflow)),
            (b"-1", Err(ParseErrorKind::InvalidNumber)),
        ];
        for (input, want) in cases {
            assert_eq!(limit(input).map_err(|e| e.kind), *want, "{input:?}");
        }
        assert_eq!(Limit::Max.to_string(), "max");
        assert_eq!(Limit::Value(7).to_string(), "7");
    }

    #[test]
    fn u64_value_table() {
        assert_eq!(u64_value(b"42\n"), Ok(42));
        assert_eq!(
            u64_value(b"").map_err(|e| e.kind),
            Err(ParseErrorKind::Empty)
        );
        assert_eq!(
            u64_value(b"4x").map_err(|e| e.kind),
            Err(ParseErrorKind::InvalidNumber)
        );
    }

    #[test]
    fn cpu_max_table() {
        let cases: &[(&[u8], Result<CpuMax, ParseErrorKind>)] = &[
            (
                b"max 100000\n",
                Ok(CpuMax {
                    quota: Limit::Max,
                    period: 100000,
                }),
            ),
            (
                b"50000 100000",
                Ok(CpuMax {
                    quota: Limit::Value(50000),
                    period: 100000,
                }),
            ),
            (b"max\n", Err(ParseErrorKind::MissingField)),
            (b"", Err(ParseErrorKind::Empty)),
            (b"max 1 2", Err(ParseErrorKind::UnknownValue)),
            (b"max x", Err(ParseErrorKind::InvalidNumber)),
        ];
        for (input, want) in cases {
            assert_eq!(cpu_max(input).map_err(|e| e.kind), *want, "{input:?}");
        }
    }
}
