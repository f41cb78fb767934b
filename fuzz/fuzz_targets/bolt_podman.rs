//! Fuzz target: BoltDB reader (podman's bolt_state.db). Must never panic, whatever the
//! bytes; every bucket is walked.
#![no_main]
use cgroup_core::parse::bolt::{bolt, Bucket, Entry};
use libfuzzer_sys::fuzz_target;

fn walk(b: &Bucket<'_, '_>, depth: usize) {
    let mut inner = Vec::new();
    let _ = b.for_each(&mut |k, e| {
        if let Entry::Bucket(x) = e {
            inner.push((k, x));
        }
        true
    });
    for (k, x) in inner {
        let _ = b.get(k);
        if depth < 8 {
            walk(&x, depth + 1);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(db) = bolt(data) {
        walk(&db.root(), 0);
    }
    let _ = cgroup_core::runtime::podman::podman_bolt(data);
});
