//! Fuzz target: /proc/PID/cmdline and comm. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::cmdline(data).map(<[u8]>::len).sum::<usize>();
    let _ = parse::comm(data);
});
