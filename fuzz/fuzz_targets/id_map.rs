//! Fuzz target: uid_map / gid_map and map arithmetic. Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse::id_map(data).count();
    if let Ok(m) = cgroup_core::userns::IdMap::parse(data) {
        let _ = (m.to_host(0), m.to_inside(1000), m.covers(&m), m.len(), m.to_string());
    }
});
