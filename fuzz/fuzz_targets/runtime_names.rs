//! Fuzz target: the runtime families' small parsers of names and state (machined records,
//! containerd's `state =`, LXC monitor titles and configs, desktop unit names, kubelet pod
//! UIDs, cgroup name shapes). Must never panic, whatever the bytes.
#![no_main]
use cgroup_core::runtime::{containerd, desktop, kubelet, lxc, nspawn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = nspawn::parse_record(data);
    let _ = containerd::config_state(data);
    let _ = containerd::driver_mismatch(data);
    let _ = lxc::is_lxc_config(data);
    let args: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let _ = lxc::monitor_claim(&args);
    let _ = desktop::parse_app(data);
    let _ = kubelet::pod_uid(data, cgroup_core::classify::Driver::Systemd);
    let _ = kubelet::pod_uid(data, cgroup_core::classify::Driver::Cgroupfs);
    let _ = cgroup_core::classify::classify_path(&args);
});
