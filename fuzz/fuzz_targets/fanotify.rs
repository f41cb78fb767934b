//! Fuzz target: fanotify event records (metadata, file handles, names). Must never
//! panic, whatever the bytes.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for r in parse::fanotify_events(data) {
        if let Ok(r) = r {
            let _ = r.dir.and_then(|h| h.kernfs_id());
            let _ = r.object.and_then(|h| h.kernfs_id());
            let _ = r.name.map(<[u8]>::len);
        }
    }
});
