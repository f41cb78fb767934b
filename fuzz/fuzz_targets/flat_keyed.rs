//! Fuzz target: flat-keyed files (memory.stat, cpu.stat, cgroup.events, cgroup.stat). Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kv in parse::flat_keyed(data) {
        let _ = kv;
    }
    let _ = parse::cgroup_events(data);
    let _ = parse::cgroup_stat(data);
});
