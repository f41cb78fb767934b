//! Fuzz target: cgroup.controllers / cgroup.subtree_control. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::controllers(data).count();
    let _ = parse::ControllerSet::parse(data).to_string();
});
