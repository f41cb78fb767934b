//! Fuzz target: cgroup.type and single-value files (limits, cpu.max, counters). Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::cgroup_type(data);
    let _ = parse::limit(data);
    let _ = parse::u64_value(data);
    let _ = parse::cpu_max(data);
});
