//! Fuzz target: /proc/PID/status. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(st) = parse::status(data) {
        if let Some(ns) = st.nspid {
            let _ = ns.iter().count();
            let _ = ns.innermost();
        }
    }
});
