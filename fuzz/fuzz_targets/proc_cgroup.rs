//! Fuzz target: /proc/PID/cgroup. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::proc_pid_cgroup(data);
    let _ = parse::proc_cgroup_lines(data).count();
});
