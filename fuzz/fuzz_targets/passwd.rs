//! Fuzz target: `etc/passwd` (host's or a container's). Must never panic, whatever the
//! bytes; every entry is a sub-slice of the input and a line too long is never an entry.
#![no_main]
use cgroup_core::parse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for item in parse::passwd(data) {
        match item {
            Ok(e) => {
                assert!(!e.name.is_empty());
                assert!(e.line >= 1);
                for f in [e.name, e.home, e.shell] {
                    assert!(f.len() <= parse::MAX_PASSWD_LINE);
                    assert!(!f.contains(&b'\n') && !f.contains(&b':'));
                }
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    let _ = cgroup_core::userns::passwd_name(data, 0);
});
