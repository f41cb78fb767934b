//! Flat-keyed files (`cpu.stat`, `memory.stat`, `memory.events`, `cgroup.events`,
//! `cgroup.stat`) and nested-keyed files (`io.stat`, `*.pressure`).

use super::{fields, is_space, key_str, parse_u64, trim, Lines};
use crate::error::{ParseError, ParseErrorKind};

/// Parses a flat-keyed file: lines of `<key> <u64>` (cgroup-v2.rst, "Conventions").
/// Unknown keys are yielded, never rejected: kernels add keys over time. Empty lines are
/// skipped.
///
/// ```text
/// usage_usec 8364911
/// user_usec 5263125
/// nr_periods 0
/// ```
pub fn flat_keyed(input: &[u8]) -> FlatKeyed<'_> {
    FlatKeyed {
        lines: Lines::new(input),
    }
}

/// Iterator returned by [`flat_keyed`].
#[derive(Clone)]
pub struct FlatKeyed<'a> {
    lines: Lines<'a>,
}

impl<'a> Iterator for FlatKeyed<'a> {
    type Item = Result<(&'a str, u64), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (n, line) = self.lines.next()?;
            let t = trim(line);
            if t.is_empty() {
                continue;
            }
            let mut it = fields(t);
            let (Some(key), Some(value), None) = (it.next(), it.next(), it.next()) else {
                return Some(Err(ParseError::new(n, ParseErrorKind::MissingField, line)));
            };
            return Some(
                key_str(key, n, line).and_then(|k| parse_u64(value, n, line).map(|v| (k, v))),
            );
        }
    }
}

/// `cgroup.events` (non-root cgroups).
///
/// ```text
/// populated 1
/// frozen 0
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CgroupEvents {
    /// Whether the cgroup or any descendant has live processes.
    pub populated: Option<bool>,
    /// Whether the cgroup is frozen (Linux 5.2).
    pub frozen: Option<bool>,
}

/// Parses `cgroup.events`. Unknown keys are ignored.
pub fn cgroup_events(input: &[u8]) -> Result<CgroupEvents, ParseError> {
    let mut ev = CgroupEvents::default();
    for kv in flat_keyed(input) {
        let (k, v) = kv?;
        match k {
            "populated" => ev.populated = Some(v != 0),
            "frozen" => ev.frozen = Some(v != 0),
            _ => {}
        }
    }
    Ok(ev)
}

/// `cgroup.stat`.
///
/// ```text
/// nr_descendants 12
/// nr_dying_descendants 0
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct CgroupStat {
    /// Number of visible descendant cgroups.
    pub nr_descendants: Option<u64>,
    /// Number of removed descendants not yet freed.
    pub nr_dying_descendants: Option<u64>,
}

/// Parses `cgroup.stat`. Unknown keys (newer kernels add per-subsystem counts) are ignored.
pub fn cgroup_stat(input: &[u8]) -> Result<CgroupStat, ParseError> {
    let mut st = CgroupStat::default();
    for kv in flat_keyed(input) {
        let (k, v) = kv?;
        match k {
            "nr_descendants" => st.nr_descendants = Some(v),
            "nr_dying_descendants" => st.nr_dying_descendants = Some(v),
            _ => {}
        }
    }
    Ok(st)
}

/// Parses a nested-keyed file: lines of `<key> <sub>=<value> <sub>=<value> ...`
/// (cgroup-v2.rst, "Conventions"). The number and order of pairs is free; a line may
/// hold a key and no pairs (seen in `io.stat`); keys such as `(unknown)` are kept.
///
/// ```text
/// 8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0
/// some avg10=0.00 avg60=0.00 avg300=0.00 total=0
/// ```
pub fn nested_keyed(input: &[u8]) -> NestedKeyed<'_> {
    NestedKeyed {
        lines: Lines::new(input),
    }
}

/// Iterator returned by [`nested_keyed`].
#[derive(Clone)]
pub struct NestedKeyed<'a> {
    lines: Lines<'a>,
}

/// One line of a nested-keyed file.
#[derive(Clone)]
pub struct NestedLine<'a> {
    /// 1-based line number.
    pub line: u32,
    /// The line's key (`8:16`, `some`, `full`).
    pub key: &'a [u8],
    rest: &'a [u8],
}

impl<'a> NestedLine<'a> {
    /// The `sub=value` pairs of the line, values unparsed.
    pub fn pairs(&self) -> Pairs<'a> {
        Pairs {
            rest: self.rest,
            line: self.line,
        }
    }

    /// The value of sub-key `name` as a `u64`, if present.
    pub fn get_u64(&self, name: &str) -> Option<Result<u64, ParseError>> {
        self.pairs().find_map(|p| match p {
            Ok((k, v)) if k == name.as_bytes() => Some(parse_u64(v, self.line, v)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        })
    }
}

impl<'a> Iterator for NestedKeyed<'a> {
    type Item = NestedLine<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (n, line) = self.lines.next()?;
            let t = trim(line);
            if t.is_empty() {
                continue;
            }
            let end = t.iter().position(|&b| is_space(b)).unwrap_or(t.len());
            return Some(NestedLine {
                line: n,
                key: &t[..end],
                rest: &t[end..],
            });
        }
    }
}

/// The `sub=value` pairs of a [`NestedLine`].
#[derive(Clone)]
pub struct Pairs<'a> {
    rest: &'a [u8],
    line: u32,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.rest.iter().position(|&b| !is_space(b))?;
        let rest = &self.rest[start..];
        let end = rest.iter().position(|&b| is_space(b)).unwrap_or(rest.len());
        let pair = &rest[..end];
        self.rest = &rest[end..];
        Some(match memchr::memchr(b'=', pair) {
            Some(i) => Ok((&pair[..i], &pair[i + 1..])),
            None => Err(ParseError::new(
                self.line,
                ParseErrorKind::MissingField,
                pair,
            )),
        })
    }
}

/// A fixed-point number with two decimals, as PSI prints averages (`avg10=1.25` is
/// `Centi(125)`). Kept as an integer so that comparisons are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Centi(pub u64);

impl Centi {
    fn parse(v: &[u8], line: u32) -> Result<Centi, ParseError> {
        let (int, frac) = match memchr::memchr(b'.', v) {
            Some(i) => (&v[..i], &v[i + 1..]),
            None => (v, &b""[..]),
        };
        if frac.len() > 2 {
            return Err(ParseError::new(line, ParseErrorKind::InvalidNumber, v));
        }
        let i = parse_u64(int, line, v)?;
        let mut f = if frac.is_empty() {
            0
        } else {
            parse_u64(frac, line, v)?
        };
        if frac.len() == 1 {
            f *= 10;
        }
        i.checked_mul(100)
            .and_then(|i| i.checked_add(f))
            .map(Centi)
            .ok_or_else(|| ParseError::new(line, ParseErrorKind::Overflow, v))
    }
}

/// One line of a PSI file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PressureLine {
    /// Share of time stalled over 10 s, in hundredths of a percent.
    pub avg10: Centi,
    /// Over 60 s.
    pub avg60: Centi,
    /// Over 300 s.
    pub avg300: Centi,
    /// Total stall time in microseconds.
    pub total: u64,
}

/// `cpu.pressure`, `memory.pressure`, `io.pressure` (Documentation/accounting/psi.rst).
///
/// ```text
/// some avg10=0.00 avg60=0.00 avg300=0.00 total=0
/// full avg10=0.00 avg60=0.00 avg300=0.00 total=0
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Pressure {
    /// Some tasks stalled.
    pub some: Option<PressureLine>,
    /// All non-idle tasks stalled (absent for `cpu.pressure` before Linux 5.13).
    pub full: Option<PressureLine>,
}

/// Parses a PSI file. Unknown lines and sub-keys are ignored; missing sub-keys stay 0.
pub fn pressure(input: &[u8]) -> Result<Pressure, ParseError> {
    let mut p = Pressure::default();
    for l in nested_keyed(input) {
        let slot = match l.key {
            b"some" => &mut p.some,
            b"full" => &mut p.full,
            _ => continue,
        };
        let mut pl = PressureLine::default();
        for kv in l.pairs() {
            let (k, v) = kv?;
            match k {
                b"avg10" => pl.avg10 = Centi::parse(v, l.line)?,
                b"avg60" => pl.avg60 = Centi::parse(v, l.line)?,
                b"avg300" => pl.avg300 = Centi::parse(v, l.line)?,
                b"total" => pl.total = parse_u64(v, l.line, v)?,
                _ => {}
            }
        }
        *slot = Some(pl);
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_keyed_table() {
        type Want = Vec<Result<(&'static str, u64), (u32, ParseErrorKind)>>;
        let cases: &[(&[u8], Want)] = &[
            (b"", vec![]),
            (
                b"usage_usec 8364911\nuser_usec 5263125\n",
                vec![Ok(("usage_usec", 8364911)), Ok(("user_usec", 5263125))],
            ),
            (b"anon 0", vec![Ok(("anon", 0))]),
            (b"\nfuture_key 1\n\n", vec![Ok(("future_key", 1))]),
            (
                b"a 1\nbroken\nb 2\n",
                vec![
                    Ok(("a", 1)),
                    Err((2, ParseErrorKind::MissingField)),
                    Ok(("b", 2)),
                ],
            ),
            (b"a max\n", vec![Err((1, ParseErrorKind::InvalidNumber))]),
            (
                b"a 99999999999999999999\n",
                vec![Err((1, ParseErrorKind::Overflow))],
            ),
            (b"a 1 2\n", vec![Err((1, ParseErrorKind::MissingField))]),
            (b"\xff 1\n", vec![Err((1, ParseErrorKind::InvalidUtf8))]),
        ];
        for (input, want) in cases {
            let got: Want = flat_keyed(input)
                .map(|r| r.map_err(|e| (e.line, e.kind)))
                .collect();
            assert_eq!(&got, want, "{input:?}");
        }
    }

    #[test]
    fn cgroup_events_and_stat() {
        assert_eq!(
            cgroup_events(b"populated 1\nfrozen 0\n"),
            Ok(CgroupEvents {
                populated: Some(true),
                frozen: Some(false)
            })
        );
        assert_eq!(
            cgroup_events(b"populated 0"),
            Ok(CgroupEvents {
                populated: Some(false),
                frozen: None
            })
        );
        assert_eq!(cgroup_events(b""), Ok(CgroupEvents::default()));
        assert!(cgroup_events(b"populated yes\n").is_err());
        assert_eq!(
            cgroup_stat(b"nr_descendants 12\nnr_dying_descendants 0\nnr_subsys_cpu 3\n"),
            Ok(CgroupStat {
                nr_descendants: Some(12),
                nr_dying_descendants: Some(0)
            })
        );
    }

    #[test]
    fn io_stat_tolerates_odd_lines() {
        let input = b"8:16 rbytes=1459200 wbytes=314773504 rios=192 wios=353 dbytes=0 dios=0\n\
                      253:0\n(unknown) rbytes=5\n8:0 wios=3 rbytes=1 newkey=9\n";
        let lines: Vec<_> = nested_keyed(input).collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].key, b"8:16");
        assert_eq!(lines[0].get_u64("wbytes"), Some(Ok(314773504)));
        assert_eq!(lines[1].key, b"253:0");
        assert_eq!(lines[1].pairs().count(), 0);
        assert_eq!(lines[2].key, b"(unknown)");
        assert_eq!(lines[3].get_u64("rbytes"), Some(Ok(1)));
        assert_eq!(lines[3].get_u64("dios"), None);
        let bad: Vec<_> = nested_keyed(b"8:0 rbytes\n")
            .next()
            .unwrap()
            .pairs()
            .collect();
        assert_eq!(
            bad[0].map_err(|e| e.kind),
            Err(ParseErrorKind::MissingField)
        );
        assert_eq!(nested_keyed(b"").count(), 0);
    }

    #[test]
    fn pressure_table() {
        let p = pressure(b"some avg10=1.25 avg60=0.5 avg300=10 total=123\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0").unwrap();
        let some = p.some.unwrap();
        assert_eq!(
            (some.avg10, some.avg60, some.avg300, some.total),
            (Centi(125), Centi(50), Centi(1000), 123)
        );
        assert_eq!(p.full.unwrap().total, 0);
        assert_eq!(
            pressure(b"some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
                .unwrap()
                .full,
            None
        );
        assert_eq!(pressure(b"").unwrap(), Pressure::default());
        assert!(pressure(b"some avg10=0.001\n").is_err());
        assert!(pressure(b"some avg10=x\n").is_err());
        assert!(pressure(b"some total=99999999999999999999\n").is_err());
    }
}
