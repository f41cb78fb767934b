//! The guide's steps, one file each, in the guide's order.
//!
//! Each file defines its `STEP`: id, title, references, check and plan, with the
//! helpers only it uses; what several steps share is in the parent module.

mod caller_controllers;
mod cgroup2_mount;
mod cgroup_v1_off;
mod cni_plugins;
mod containers_conf;
mod crun_version;
mod kind_cluster;
mod kind_installed;
mod podman_installed;
mod user_0_slice;
mod user_delegate;
mod user_slice_accounting;
mod wsl_systemd;

use super::Step;

/// Every step, in the guide's order.
pub(super) static STEPS: [Step; 13] = [
    wsl_systemd::STEP,
    cgroup_v1_off::STEP,
    cgroup2_mount::STEP,
    podman_installed::STEP,
    cni_plugins::STEP,
    crun_version::STEP,
    containers_conf::STEP,
    user_0_slice::STEP,
    user_slice_accounting::STEP,
    user_delegate::STEP,
    caller_controllers::STEP,
    kind_installed::STEP,
    kind_cluster::STEP,
];
