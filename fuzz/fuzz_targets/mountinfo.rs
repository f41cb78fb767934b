//! Fuzz target: /proc/PID/mountinfo. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for m in parse::mountinfo(data) {
        if let Ok(m) = m {
            let _ = (m.is_cgroup2(), m.super_options.has("nsdelegate"));
        }
    }
    let _ = parse::unescape_mount_path(data);
});
