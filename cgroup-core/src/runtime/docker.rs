//! docker (moby): container cgroups and `config.v2.json`.
//!
//! Sources: moby `daemon/oci_linux.go` (`WithCgroups`: `system.slice:docker:<id>`, the
//! cgroupfs parent `/docker`), `container/container.go` (`config.v2.json`), cri-dockerd
//! (`docker-<id>.scope` under a pod).

use super::{Family, IdentityKind, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
#[allow(unused_imports)]
use crate::runtime::{containerd::*, kind::*, kubelet::*, oci::*, podman::*};
use crate::tree::identify::Facts;
use serde::Deserialize;
use std::collections::HashMap;

/// The docker row.
pub struct Docker;

impl Runtime for Docker {
    fn family(&self) -> Family {
        Family::Docker
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "moby/moby daemon/oci_linux.go",
            "moby/moby container/container.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        if let Some(id) = id_between(name, b"docker-", b".scope") {
            return Some((Kind::DockerContainer { id: text(id) }, Ctx::ContainerTop));
        }
        if name == b"docker" {
            return Some((Kind::DockerParent, Ctx::DockerParent));
        }
        None
    }

    fn classify_in_pod(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        let id = id_between(name, b"docker-", b".scope")?;
        Some((
            Kind::KubeContainer {
                id: text(id),
                runtime: CriRuntime::Docker,
            },
            Ctx::ContainerTop,
        ))
    }

    fn classify_below(&self, name: &[u8], _ctx: &Ctx) -> Option<(Kind, Ctx)> {
        is_container_id(name).then(|| (Kind::DockerContainer { id: text(name) }, Ctx::ContainerTop))
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        match f.kind {
            Kind::DockerContainer { id } => Some(
                r.container(id, Some(Family::Docker), f.owner, f.conmon_names)
                    .unwrap_or_else(|| crate::runtime::podman::no_state(f.name, id)),
            ),
            Kind::DockerParent => Some(Identity {
                kind: IdentityKind::DockerParent,
                runtime: Some("docker"),
                ..Default::default()
            }),
            Kind::KubeContainer { id, runtime } => Some(
                r.kube_container(f.root, id, *runtime)
                    .unwrap_or_else(|| crate::runtime::containerd::kube_unidentified(f, id)),
            ),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DockerConfig {
    #[serde(rename = "Name", default)]
    pub(crate) name: Option<String>,
    #[serde(rename = "Config", default)]
    pub(crate) config: Option<DockerInner>,
}

#[derive(Deserialize)]
pub(crate) struct DockerInner {
    #[serde(rename = "Image", default)]
    pub(crate) image: Option<String>,
    #[serde(rename = "Labels", default)]
    pub(crate) labels: Option<HashMap<String, String>>,
}
