//! Rates between two readings of a cgroup: counters' deltas over the measured interval.

use super::{IoDevice, Usage};
use crate::parse::{Centi, Pressure};
use std::sync::Arc;
use std::time::Duration;

/// CPU over an interval, from `cpu.stat`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct CpuRates {
    /// CPU used, in cores: `Δusage_usec / interval` (1.0 = one CPU busy the whole
    /// interval; up to the number of CPUs).
    pub cores: Option<f64>,
    /// Of which in user mode (`Δuser_usec / interval`), cores.
    pub user_cores: Option<f64>,
    /// Of which in kernel mode (`Δsystem_usec / interval`), cores.
    pub system_cores: Option<f64>,
    /// Enforcement periods of the cgroup's own `cpu.max` in the interval (`Δnr_periods`).
    pub periods: Option<u64>,
    /// Periods in which it was throttled (`Δnr_throttled`).
    pub throttled_periods: Option<u64>,
    /// Share of periods throttled: `Δnr_throttled / Δnr_periods`, 0..1; `None` without
    /// a period in the interval.
    pub throttled_ratio: Option<f64>,
    /// Time throttled per second of the interval (`Δthrottled_usec / interval`); the
    /// kernel adds up the throttled time of each CPU's run queue, so it may exceed 1 when
    /// several CPUs are throttled at once.
    pub throttled_time: Option<f64>,
}

/// One device's I/O rates.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IoDeviceRates {
    /// Major number.
    pub major: u32,
    /// Minor number.
    pub minor: u32,
    /// Device name (sysfs `DEVNAME`), when known.
    pub name: Option<Arc<str>>,
    /// Bytes read per second.
    pub read_bytes: f64,
    /// Bytes written per second.
    pub write_bytes: f64,
    /// Read operations per second.
    pub read_ios: f64,
    /// Write operations per second.
    pub write_ios: f64,
}

/// I/O rates from `io.stat`, per second.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct IoRates {
    /// Bytes read per second, all devices.
    pub read_bytes: f64,
    /// Bytes written per second, all devices.
    pub write_bytes: f64,
    /// Read operations per second, all devices.
    pub read_ios: f64,
    /// Write operations per second, all devices.
    pub write_ios: f64,
    /// Per device, for devices in both readings whose counters did not go back.
    pub devices: Vec<IoDeviceRates>,
}

/// Stall ratios of one pressure file over an interval.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct StallRates {
    /// Share of the interval in which some tasks stalled: `Δsome.total / interval`, 0..1.
    pub some: Option<f64>,
    /// Share of the interval in which all non-idle tasks stalled (`Δfull.total`), 0..1.
    pub full: Option<f64>,
    /// The kernel's own `some avg10` of the second reading (a percentage, as printed).
    pub some_avg10: Option<Centi>,
    /// The kernel's `full avg10` of the second reading.
    pub full_avg10: Option<Centi>,
}

/// Stall ratios of the three pressure files.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
#[non_exhaustive]
pub struct PressureRates {
    /// `cpu.pressure`.
    pub cpu: Option<StallRates>,
    /// `memory.pressure`.
    pub memory: Option<StallRates>,
    /// `io.pressure`.
    pub io: Option<StallRates>,
}

/// Memory events in the interval (deltas of `memory.events`, hierarchical).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct EventDeltas {
    /// New `high` events (throttled over `memory.high`).
    pub high: Option<u64>,
    /// New `max` events (about to go over `memory.max`).
    pub max: Option<u64>,
    /// New `oom` events.
    pub oom: Option<u64>,
    /// Processes OOM-killed in the interval.
    pub oom_kill: Option<u64>,
    /// Group OOM kills in the interval.
    pub oom_group_kill: Option<u64>,
}

/// Rates of one cgroup between two readings.
///
/// Computed only from the counters' deltas over the measured interval, never from the
/// kernel's `avg10` alone (which is kept beside). A counter that went back (the cgroup
/// was removed and recreated under the same path) gives `None` for that interval, not an
/// error.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct Rates {
    /// The interval between the two readings.
    pub interval: Duration,
    /// From `cpu.stat`.
    pub cpu: Option<CpuRates>,
    /// From `io.stat`.
    pub io: Option<IoRates>,
    /// From `memory.events`.
    pub memory_events: Option<EventDeltas>,
    /// From the pressure files.
    pub pressure: PressureRates,
}

/// `cur - prev` when both are known and the counter did not go back.
fn delta(prev: Option<u64>, cur: Option<u64>) -> Option<u64> {
    cur?.checked_sub(prev?)
}

fn stall(prev: Option<Pressure>, cur: Option<Pressure>, usec: f64) -> Option<StallRates> {
    let (p, c) = (prev?, cur?);
    let ratio = |a: Option<crate::parse::PressureLine>, b: Option<crate::parse::PressureLine>| {
        let d = b?.total.checked_sub(a?.total)?;
        // The kernel's per-CPU clocks and our monotonic reads differ by a little: a
        // fully stalled interval may read a hair over 1.
        Some((d as f64 / usec).min(1.0))
    };
    Some(StallRates {
        some: ratio(p.some, c.some),
        full: ratio(p.full, c.full),
        some_avg10: c.some.map(|l| l.avg10),
        full_avg10: c.full.map(|l| l.avg10),
    })
}

fn io_rates(prev: &[IoDevice], cur: &[IoDevice], secs: f64) -> IoRates {
    let mut r = IoRates::default();
    for c in cur {
        let Some(p) = prev
            .iter()
            .find(|p| (p.stat.major, p.stat.minor) == (c.stat.major, c.stat.minor))
        else {
            continue;
        };
        let d = |a: u64, b: u64| b.checked_sub(a);
        let (Some(rb), Some(wb), Some(ri), Some(wi)) = (
            d(p.stat.rbytes, c.stat.rbytes),
            d(p.stat.wbytes, c.stat.wbytes),
            d(p.stat.rios, c.stat.rios),
            d(p.stat.wios, c.stat.wios),
        ) else {
            continue;
        };
        let dev = IoDeviceRates {
            major: c.stat.major,
            minor: c.stat.minor,
            name: c.name.clone(),
            read_bytes: rb as f64 / secs,
            write_bytes: wb as f64 / secs,
            read_ios: ri as f64 / secs,
            write_ios: wi as f64 / secs,
        };
        r.read_bytes += dev.read_bytes;
        r.write_bytes += dev.write_bytes;
        r.read_ios += dev.read_ios;
        r.write_ios += dev.write_ios;
        r.devices.push(dev);
    }
    r
}

impl Rates {
    /// Rates of a cgroup read as `prev`, then as `cur`, `interval` apart (the difference
    /// of the two [`super::Sample::at`]s). `None` when the interval is zero or when the
    /// two readings are of different cgroups (both cgroup ids known and different: the
    /// cgroup was recreated). A field whose counter is missing in either reading, or went
    /// back, is `None`.
    pub fn between(prev: &Usage, cur: &Usage, interval: Duration) -> Option<Rates> {
        if interval.is_zero() {
            return None;
        }
        if let (Some(a), Some(b)) = (prev.id, cur.id) {
            if a != b {
                return None;
            }
        }
        let secs = interval.as_secs_f64();
        let usec = secs * 1e6;
        let cpu = match (prev.cpu, cur.cpu) {
            (Some(p), Some(c)) => {
                let periods = delta(p.nr_periods, c.nr_periods);
                let throttled = delta(p.nr_throttled, c.nr_throttled);
                Some(CpuRates {
                    cores: delta(p.usage_usec, c.usage_usec).map(|d| d as f64 / usec),
                    user_cores: delta(p.user_usec, c.user_usec).map(|d| d as f64 / usec),
                    system_cores: delta(p.system_usec, c.system_usec).map(|d| d as f64 / usec),
                    periods,
                    throttled_periods: throttled,
                    throttled_ratio: ratio(throttled, periods),
                    throttled_time: delta(p.throttled_usec, c.throttled_usec)
                        .map(|d| d as f64 / usec),
                })
            }
            _ => None,
        };
        let io = match (&prev.io, &cur.io) {
            (Some(p), Some(c)) => Some(io_rates(p, c, secs)),
            _ => None,
        };
        let memory_events = match (prev.memory_events, cur.memory_events) {
            (Some(p), Some(c)) => Some(EventDeltas {
                high: delta(p.high, c.high),
                max: delta(p.max, c.max),
                oom: delta(p.oom, c.oom),
                oom_kill: delta(p.oom_kill, c.oom_kill),
                oom_group_kill: delta(p.oom_group_kill, c.oom_group_kill),
            }),
            _ => None,
        };
        let pressure = PressureRates {
            cpu: stall(prev.pressure.cpu, cur.pressure.cpu, usec),
            memory: stall(prev.pressure.memory, cur.pressure.memory, usec),
            io: stall(prev.pressure.io, cur.pressure.io, usec),
        };
        Some(Rates {
            interval,
            cpu,
            io,
            memory_events,
            pressure,
        })
    }
}

/// `num / den` as a ratio, `None` when `den` is 0 or either is unknown.
pub(crate) fn ratio(num: Option<u64>, den: Option<u64>) -> Option<f64> {
    let (n, d) = (num?, den?);
    (d > 0).then(|| (n as f64 / d as f64).min(1.0))
}
