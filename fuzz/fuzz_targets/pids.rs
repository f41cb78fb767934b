//! Fuzz target: cgroup.procs / cgroup.threads. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for p in parse::pids(data) {
        let _ = p.map(|p| p.checked_add(1));
    }
});
