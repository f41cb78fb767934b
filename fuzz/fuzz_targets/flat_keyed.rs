//! Fuzz target: flat-keyed files (memory.stat, cpu.stat, memory.events, cgroup.events, cgroup.stat) and a sysfs uevent. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kv in parse::flat_keyed(data) {
        let _ = kv;
    }
    let _ = parse::cgroup_events(data);
    let _ = parse::cgroup_stat(data);
    let _ = parse::cpu_stat(data);
    let _ = parse::memory_stat(data);
    let _ = parse::memory_events(data);
    let _ = parse::uevent_devname(data);
});
