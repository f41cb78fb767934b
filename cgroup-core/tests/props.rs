//! Property tests: no parser panics on arbitrary bytes; formatting round-trips.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cgroup_core::parse;
use proptest::prelude::*;

fn drain_all(b: &[u8]) {
    let _ = parse::cgroup_type(b);
    let _ = parse::limit(b);
    let _ = parse::u64_value(b);
    let _ = parse::cpu_max(b);
    parse::pids(b).for_each(drop);
    parse::controllers(b).for_each(drop);
    let _ = parse::ControllerSet::parse(b);
    parse::flat_keyed(b).for_each(drop);
    let _ = parse::cgroup_events(b);
    let _ = parse::cgroup_stat(b);
    for l in parse::nested_keyed(b) {
        l.pairs().for_each(drop);
        let _ = l.get_u64("rbytes");
    }
    let _ = parse::pressure(b);
    let _ = parse::cpu_stat(b);
    let _ = parse::memory_stat(b);
    let _ = parse::memory_events(b);
    parse::io_stat(b).for_each(drop);
    let _ = parse::uevent_devname(b);
    let _ = parse::proc_pid_cgroup(b);
    parse::proc_cgroup_lines(b).for_each(drop);
    parse::cmdline(b).for_each(drop);
    let _ = parse::comm(b);
    if let Ok(st) = parse::status(b) {
        if let Some(ns) = st.nspid {
            ns.iter().for_each(drop);
            let _ = (ns.innermost(), ns.depth());
        }
    }
    parse::id_map(b).for_each(drop);
    let _ = parse::ns_link(b);
    parse::mountinfo(b).for_each(drop);
    let _ = parse::unescape_mount_path(b);
}

/// Bytes biased towards the characters the kernel formats are made of.
fn kernelish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: Vec<u8> = b"0123456789 \t\n:=-./[]()maxdomainthreaded\0\\\xff".to_vec();
    prop::collection::vec(prop::sample::select(alphabet), 0..200)
}

proptest! {
    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(b in prop::collection::vec(any::<u8>(), 0..300)) {
        drain_all(&b);
    }

    #[test]
    fn parsers_never_panic_on_kernel_like_bytes(b in kernelish()) {
        drain_all(&b);
    }

    #[test]
    fn limit_display_parse_round_trip(v in prop::option::of(any::<u64>())) {
        let l = v.map_or(parse::Limit::Max, parse::Limit::Value);
        prop_assert_eq!(parse::limit(l.to_string().as_bytes()), Ok(l));
    }

    #[test]
    fn id_map_round_trip(inside in any::<u32>(), outside in any::<u32>(), count in 1u32..=u32::MAX, probe in any::<u32>()) {
        let line = format!("{inside} {outside} {count}\n");
        let parsed: Vec<_> = parse::id_map(line.as_bytes()).collect();
        let fits = u64::from(inside) + u64::from(count) <= 1 << 32 && u64::from(outside) + u64::from(count) <= 1 << 32;
        prop_assert_eq!(parsed.len(), 1);
        prop_assert_eq!(parsed[0].is_ok(), fits);
        if let Ok(r) = parsed[0] {
            if let Some(out) = r.to_outside(probe) {
                prop_assert_eq!(r.to_inside(out), Some(probe));
            } else {
                prop_assert!(probe < inside || u64::from(probe) >= u64::from(inside) + u64::from(count));
            }
        }
    }

    #[test]
    fn pids_round_trip(pids in prop::collection::vec(any::<u32>(), 0..50)) {
        let text: String = pids.iter().map(|p| format!("{p}\n")).collect();
        let got: Vec<u32> = parse::pids(text.as_bytes()).map(Result::unwrap).collect();
        prop_assert_eq!(got, pids);
    }
}
