//! Fuzz target: nested-keyed files (io.stat, its device lines, *.pressure). Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for line in parse::nested_keyed(data) {
        let _ = line.pairs().count();
        let _ = line.get_u64("rbytes");
    }
    let _ = parse::pressure(data);
    for d in parse::io_stat(data) {
        let _ = d;
    }
});
