//! One sample as one JSON object (`docs/json.md`, "Sample", `#/$defs/sample_doc`):
//! what `cgtree top --json` prints, one line per sample.
//!
//! Units: bytes, microseconds (`_usec`), counts, ratios 0..1, CPU in cores (1.0 = one
//! CPU), rates per second (`_per_sec`).

use super::group::Group;
use super::{IoDevice, Memory, Rates, Sample, StallRates, Usage};
use crate::parse::{Centi, Pressure, PressureLine};
use crate::tree::{Bytes, ErrorsJson, Tree, MAX_JSON_PATH};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

/// Version of the sample document; bumped on any incompatible change.
pub const SAMPLE_JSON_VERSION: u32 = 1;

fn usec(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn centi_ratio(c: Centi) -> f64 {
    c.0 as f64 / 10_000.0
}

struct LineJson(PressureLine);

impl Serialize for LineJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("avg10", &centi_ratio(self.0.avg10))?;
        m.serialize_entry("avg60", &centi_ratio(self.0.avg60))?;
        m.serialize_entry("avg300", &centi_ratio(self.0.avg300))?;
        m.serialize_entry("total_usec", &self.0.total)?;
        m.end()
    }
}

struct PressureJson(Pressure);

impl Serialize for PressureJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("some", &self.0.some.map(LineJson))?;
        m.serialize_entry("full", &self.0.full.map(LineJson))?;
        m.end()
    }
}

struct MemoryJson<'a>(&'a Memory);

impl Serialize for MemoryJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mm = self.0;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("current", &mm.current)?;
        m.serialize_entry("working_set", &mm.working_set())?;
        m.serialize_entry("swap_current", &mm.swap_current)?;
        m.serialize_entry("max", &mm.max)?;
        m.serialize_entry("high", &mm.high)?;
        m.serialize_entry("stat", &mm.stat)?;
        m.end()
    }
}

struct Device<'a>(u32, u32, Option<&'a str>);

fn device<M: SerializeMap>(m: &mut M, d: &Device<'_>) -> Result<(), M::Error> {
    m.serialize_entry("device", &format!("{}:{}", d.0, d.1))?;
    m.serialize_entry("name", &d.2)
}

struct IoJson<'a>(&'a IoDevice);

impl Serialize for IoJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = &self.0.stat;
        let mut m = s.serialize_map(Some(8))?;
        device(&mut m, &Device(d.major, d.minor, self.0.name.as_deref()))?;
        m.serialize_entry("rbytes", &d.rbytes)?;
        m.serialize_entry("wbytes", &d.wbytes)?;
        m.serialize_entry("rios", &d.rios)?;
        m.serialize_entry("wios", &d.wios)?;
        m.serialize_entry("dbytes", &d.dbytes)?;
        m.serialize_entry("dios", &d.dios)?;
        m.end()
    }
}

struct UsageJson<'a>(&'a Usage);

impl Serialize for UsageJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.0;
        let mut m = s.serialize_map(Some(8))?;
        m.serialize_entry("cpu", &u.cpu)?;
        m.serialize_entry("memory", &u.memory.as_ref().map(MemoryJson))?;
        m.serialize_entry("memory_events", &u.memory_events)?;
        m.serialize_entry("memory_events_local", &u.memory_events_local)?;
        m.serialize_entry("pids", &u.pids.map(|p| (p.current, p.max)).map(PidsJson))?;
        m.serialize_entry("processes", &u.processes)?;
        m.serialize_entry(
            "io",
            &u.io
                .as_ref()
                .map(|v| v.iter().map(IoJson).collect::<Vec<_>>()),
        )?;
        m.serialize_entry(
            "pressure",
            &PressureSetJson(
                u.pressure.cpu.map(PressureJson),
                u.pressure.memory.map(PressureJson),
                u.pressure.io.map(PressureJson),
            ),
        )?;
        m.end()
    }
}

struct PidsJson((Option<u64>, Option<crate::parse::Limit>));

impl Serialize for PidsJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("current", &self.0 .0)?;
        m.serialize_entry("max", &self.0 .1)?;
        m.end()
    }
}

struct PressureSetJson<T>(Option<T>, Option<T>, Option<T>);

impl<T: Serialize> Serialize for PressureSetJson<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("cpu", &self.0)?;
        m.serialize_entry("memory", &self.1)?;
        m.serialize_entry("io", &self.2)?;
        m.end()
    }
}

struct StallJson(StallRates);

impl Serialize for StallJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = &self.0;
        let mut m = s.serialize_map(Some(4))?;
        m.serialize_entry("some", &r.some)?;
        m.serialize_entry("full", &r.full)?;
        m.serialize_entry("some_avg10", &r.some_avg10.map(centi_ratio))?;
        m.serialize_entry("full_avg10", &r.full_avg10.map(centi_ratio))?;
        m.end()
    }
}

struct RatesJson<'a>(&'a Rates);

impl Serialize for RatesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("interval_usec", &usec(r.interval))?;
        m.serialize_entry("cpu", &r.cpu.map(CpuRatesJson))?;
        m.serialize_entry("io", &r.io.as_ref().map(IoRatesJson))?;
        m.serialize_entry("memory_events", &r.memory_events.map(EventsJson))?;
        m.serialize_entry(
            "pressure",
            &PressureSetJson(
                r.pressure.cpu.map(StallJson),
                r.pressure.memory.map(StallJson),
                r.pressure.io.map(StallJson),
            ),
        )?;
        m.end()
    }
}

struct CpuRatesJson(super::CpuRates);

impl Serialize for CpuRatesJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let c = &self.0;
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("cores", &c.cores)?;
        m.serialize_entry("user_cores", &c.user_cores)?;
        m.serialize_entry("system_cores", &c.system_cores)?;
        m.serialize_entry("periods", &c.periods)?;
        m.serialize_entry("throttled_periods", &c.throttled_periods)?;
        m.serialize_entry("throttled_ratio", &c.throttled_ratio)?;
        m.serialize_entry("throttled_time", &c.throttled_time)?;
        m.end()
    }
}

struct EventsJson(super::EventDeltas);

impl Serialize for EventsJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = &self.0;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("high", &e.high)?;
        m.serialize_entry("max", &e.max)?;
        m.serialize_entry("oom", &e.oom)?;
        m.serialize_entry("oom_kill", &e.oom_kill)?;
        m.serialize_entry("oom_group_kill", &e.oom_group_kill)?;
        m.end()
    }
}

struct IoRatesJson<'a>(&'a super::IoRates);

fn io_rate_fields<M: SerializeMap>(
    m: &mut M,
    rb: f64,
    wb: f64,
    ri: f64,
    wi: f64,
) -> Result<(), M::Error> {
    m.serialize_entry("read_bytes_per_sec", &rb)?;
    m.serialize_entry("write_bytes_per_sec", &wb)?;
    m.serialize_entry("read_ios_per_sec", &ri)?;
    m.serialize_entry("write_ios_per_sec", &wi)
}

impl Serialize for IoRatesJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(Some(5))?;
        io_rate_fields(&mut m, r.read_bytes, r.write_bytes, r.read_ios, r.write_ios)?;
        m.serialize_entry(
            "devices",
            &r.devices.iter().map(DevRateJson).collect::<Vec<_>>(),
        )?;
        m.end()
    }
}

struct DevRateJson<'a>(&'a super::IoDeviceRates);

impl Serialize for DevRateJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut m = s.serialize_map(Some(6))?;
        device(&mut m, &Device(d.major, d.minor, d.name.as_deref()))?;
        io_rate_fields(&mut m, d.read_bytes, d.write_bytes, d.read_ios, d.write_ios)?;
        m.end()
    }
}

struct PathJson<'a>(&'a [u8]);

impl Serialize for PathJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.len() <= MAX_JSON_PATH {
            Bytes(self.0).serialize(s)
        } else {
            s.serialize_unit()
        }
    }
}

/// Writes one sample of `tree` as one compact JSON object, without a newline: the
/// document of `docs/json.md` ("Sample"). `cur` must come from a [`super::Sampler`] over
/// `tree` (its node ids); with `prev` (an earlier sample), each cgroup and group also has
/// its rates over `cur.at - prev.at`. Only sampled cgroups are listed, in tree order;
/// `groups` (from [`super::group::groups`]) are listed after them, with their usage
/// and rates.
///
/// # Errors
/// Those of `w`, unchanged (a broken pipe stays [`io::ErrorKind::BrokenPipe`]), and
/// [`io::ErrorKind::InvalidData`] when `cur` was not taken over `tree` (another node
/// count).
pub fn write_sample_json<W: Write + ?Sized>(
    w: &mut W,
    tree: &Tree,
    cur: &Sample,
    prev: Option<&Sample>,
    groups: &[Group],
) -> io::Result<()> {
    if cur.usage.len() != tree.nodes().len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "sample taken over another tree",
        ));
    }
    let rates = prev.map(|p| cur.rates(p));
    let doc = Doc {
        tree,
        cur,
        prev,
        rates: rates.as_deref(),
        groups,
    };
    serde_json::to_writer(&mut *w, &doc).map_err(io::Error::from)
}

struct Doc<'a> {
    tree: &'a Tree,
    cur: &'a Sample,
    prev: Option<&'a Sample>,
    rates: Option<&'a [Option<Rates>]>,
    groups: &'a [Group],
}

impl Serialize for Doc<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let cur = self.cur;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("version", &SAMPLE_JSON_VERSION)?;
        m.serialize_entry(
            "time_usec",
            &cur.time.duration_since(UNIX_EPOCH).ok().map(usec),
        )?;
        m.serialize_entry("monotonic_usec", &usec(cur.at))?;
        m.serialize_entry(
            "interval_usec",
            &self.prev.map(|p| usec(cur.at.saturating_sub(p.at))),
        )?;
        m.serialize_entry("cgroups", &Cgroups(self))?;
        m.serialize_entry("groups", &Groups(self))?;
        m.end()
    }
}

struct Cgroups<'a, 'b>(&'b Doc<'a>);

impl Serialize for Cgroups<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut seq = s.serialize_seq(None)?;
        for (id, u) in d.cur.usage.iter().enumerate() {
            let Some(u) = u else { continue };
            seq.serialize_element(&CgroupJson {
                path: &d.cur.paths[id],
                identity: &d.tree.node(id).identity,
                usage: u,
                rates: d.rates.and_then(|r| r.get(id)).and_then(Option::as_ref),
            })?;
        }
        seq.end()
    }
}

struct CgroupJson<'a> {
    path: &'a [u8],
    identity: &'a Option<crate::resolve::Identity>,
    usage: &'a Usage,
    rates: Option<&'a Rates>,
}

impl Serialize for CgroupJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("path", &PathJson(self.path))?;
        m.serialize_entry("id", &self.usage.id)?;
        m.serialize_entry("identity", self.identity)?;
        m.serialize_entry("usage", &UsageJson(self.usage))?;
        m.serialize_entry("rates", &self.rates.map(RatesJson))?;
        m.serialize_entry("errors", &ErrorsJson(&self.usage.errors))?;
        m.end()
    }
}

struct Groups<'a, 'b>(&'b Doc<'a>);

impl Serialize for Groups<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let mut seq = s.serialize_seq(Some(d.groups.len()))?;
        for g in d.groups {
            let usage = g.usage(d.cur);
            let rates = d.prev.and_then(|p| g.rates(p, d.cur));
            seq.serialize_element(&GroupJson {
                g,
                paths: &d.cur.paths,
                usage: usage.as_ref(),
                rates: rates.as_ref(),
            })?;
        }
        seq.end()
    }
}

struct GroupJson<'a> {
    g: &'a Group,
    paths: &'a [Box<[u8]>],
    usage: Option<&'a Usage>,
    rates: Option<&'a Rates>,
}

impl Serialize for GroupJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let g = self.g;
        let mut m = s.serialize_map(Some(6))?;
        m.serialize_entry("kind", g.kind.as_str())?;
        m.serialize_entry("key", &g.key)?;
        m.serialize_entry("name", &g.name)?;
        m.serialize_entry(
            "members",
            &g.members
                .iter()
                .filter_map(|&id| self.paths.get(id))
                .map(|p| PathJson(p))
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry("usage", &self.usage.map(UsageJson))?;
        m.serialize_entry("rates", &self.rates.map(RatesJson))?;
        m.end()
    }
}
