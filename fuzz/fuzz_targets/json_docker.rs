//! Fuzz target: docker config.v2.json reader. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::comm(b"");
    let _ = cgroup_core::runtime::docker::parse_config(data);
});
