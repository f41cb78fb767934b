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
use crate::runtime::engines::{container, Scope};
#[allow(unused_imports)]
use crate::runtime::{containerd::*, docker::*, kind::*, kubelet::*, podman::*};
use crate::tree::identify::Facts;
use serde::Deserialize;
use std::path::{Path, PathBuf};

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

    fn snapshot_keep(&self, rel: &std::path::Path, bytes: &[u8]) -> Option<Vec<u8>> {
        let keys: &[&str] = match crate::runtime::file_name(rel)? {
            "status" => &["pid", "cgroup-path"],
            "state.json" => &["id", "init_process_pid"],
            _ => return None,
        };
        let v = serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
        Some(crate::runtime::json_line(&crate::runtime::pick(&v, keys)))
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        match f.kind {
            Kind::ContainerId { id } => Some(
                container(r, f.root, id, None, f.owner, f.conmon_names)
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

/// crun's `status` or runc's `state.json` -> the init PID each names.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for the fuzz targets
pub fn parse_state(bytes: &[u8]) -> (Option<i64>, Option<i64>) {
    (
        serde_json::from_slice::<CrunStatus>(bytes)
            .ok()
            .and_then(|s| s.pid),
        serde_json::from_slice::<RuncState>(bytes)
            .ok()
            .and_then(|s| s.init_process_pid),
    )
}

/// Whether crun's `status` or runc's `state.json` for container `id` is where `scope`
/// allows: the rootless owner's `/run/user/UID/{crun,runc}`, else `run/{crun,runc}` in
/// the scope's root.
pub(crate) fn lookup(r: &mut Resolver, scope: &Scope, id: &str) -> bool {
    if !is_container_id(id.as_bytes()) {
        return false;
    }
    let crun = Path::new("crun").join(id).join("status");
    let runc = Path::new("runc").join(id).join("state.json");
    match scope.user {
        Some(u) => {
            let base = PathBuf::from(format!("run/user/{u}"));
            r.read_user_json::<CrunStatus>(u, &base, &crun)
                .map(|s| s.pid)
                .is_some()
                || r.read_user_json::<RuncState>(u, &base, &runc)
                    .map(|s| s.init_process_pid)
                    .is_some()
        }
        None => {
            r.read_json::<CrunStatus>(scope.root, &Path::new("run").join(&crun))
                .map(|s| s.pid)
                .is_some()
                || r.read_json::<RuncState>(scope.root, &Path::new("run").join(&runc))
                    .map(|s| s.init_process_pid)
                    .is_some()
        }
    }
}
