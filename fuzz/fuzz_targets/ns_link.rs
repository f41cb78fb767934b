//! Fuzz target: namespace link targets (user:[4026532263]). Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::ns_link(data);
});
