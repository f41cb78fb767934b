//! The OCI runtimes' own state (crun's `status`, runc's `state.json`) and crun's
//! payload sub-cgroup; a bare 64-hex cgroup (crun's sibling cgroup of rootless podman
//! with the cgroupfs manager) is a container only if such state names it.
//!
//! Sources: containers/crun `src/libcrun/status.c` (state root `--root`,
//! `$XDG_RUNTIME_DIR/crun`, `/run/crun`), `src/libcrun/cgroup-systemd.c`
//! (`find_systemd_subgroup`: the `container` sub-cgroup), `src/libcrun/cgroup-cgroupfs.c`
//! (`make_new_sibling_cgroup`); opencontainers/runc `libcontainer/container_linux.go`
//! (`state.json`).

use super::{Family, IdentityKind, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
#[allow(unused_imports)]
use crate::runtime::{containerd::*, docker::*, kind::*, kubelet::*, podman::*};
use crate::tree::identify::Facts;
use serde::Deserialize;

/// The OCI runtimes' row.
pub struct Oci;

/// crun's `container` sub-cgroup, directly inside a container's cgroup.
pub(crate) fn payload_subgroup(name: &[u8]) -> Option<(Kind, Ctx)> {
    (name == b"container").then_some((Kind::PayloadSubgroup, Ctx::Host))
}

impl Runtime for Oci {
    fn family(&self) -> Family {
        Family::Oci
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "containers/crun src/libcrun/status.c",
            "containers/crun src/libcrun/cgroup-systemd.c",
            "opencontainers/runc libcontainer/container_linux.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        is_container_id(name).then(|| (Kind::ContainerId { id: text(name) }, Ctx::ContainerTop))
    }

    fn state_files(&self) -> &'static [&'static str] {
        &[
            "run/crun/*/status",
            "run/runc/*/state.json",
            "run/user/*/crun/*/status",
            "run/user/*/runc/*/state.json",
        ]
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        match f.kind {
            Kind::ContainerId { id } => Some(
                r.container(id, None, f.owner, f.conmon_names)
                    .unwrap_or_else(|| crate::runtime::podman::no_state(f.name, id)),
            ),
            Kind::PayloadSubgroup => Some(Identity {
                kind: IdentityKind::Payload,
                ..Default::default()
            }),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct CrunStatus {
    #[serde(default)]
    pub(crate) pid: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct RuncState {
    #[serde(default)]
    pub(crate) init_process_pid: Option<i64>,
}
