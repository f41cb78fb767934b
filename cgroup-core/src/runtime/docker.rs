//! docker (moby): container cgroups and `config.v2.json`, and the Kubernetes containers
//! cri-dockerd makes with it.
//!
//! Sources: moby `daemon/oci_linux.go` (`WithCgroups`: `system.slice:docker:<id>`, the
//! cgroupfs parent `/docker`), `container/container.go` (`config.v2.json`);
//! Mirantis/cri-dockerd (the dockershim moved out of kubernetes `pkg/kubelet/dockershim`):
//! `core/docker_service.go` (labels `io.kubernetes.docker.type` = `podsandbox` or
//! `container`, `io.kubernetes.sandbox.id`), `core/helpers.go` (`MakeLabels`: the
//! sandbox's annotations as labels prefixed `annotation.`), with the kubelet's own labels
//! (kubernetes `pkg/kubelet/types/labels.go`: `io.kubernetes.pod.name`,
//! `io.kubernetes.pod.namespace`, `io.kubernetes.pod.uid`,
//! `io.kubernetes.container.name`); its containers' cgroups are `docker-<id>.scope` in
//! the pod's slice.

use super::{Family, IdentityKind, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
use crate::runtime::engines::{container, Scope};
#[allow(unused_imports)]
use crate::runtime::{containerd::*, kind::*, kubelet::*, oci::*, podman::*};
use crate::tree::identify::Facts;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

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

    fn snapshot_keep(&self, rel: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
        use crate::runtime::pick;
        if crate::runtime::file_name(rel)? != "config.v2.json" {
            return None;
        }
        let v = serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
        let mut out = pick(&v, &["ID", "Name"]);
        if let Some(c) = v.get("Config") {
            out["Config"] = pick(c, &["Image", "Labels"]);
        }
        if let Some(st) = v.get("State") {
            out["State"] = pick(st, &["Pid"]);
        }
        Some(crate::runtime::json_line(&out))
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        match f.kind {
            Kind::DockerContainer { id } => Some(
                container(r, f.root, id, Some(Family::Docker), f.owner, f.conmon_names)
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

/// What `config.v2.json` says of a container: name, image, labels.
pub type DockerFacts = (
    Option<String>,
    Option<String>,
    Option<HashMap<String, String>>,
);

/// docker's `config.v2.json` -> (name, image, labels).
pub fn parse_config(bytes: &[u8]) -> Option<DockerFacts> {
    let c = serde_json::from_slice::<DockerConfig>(bytes).ok()?;
    let (image, labels) = match c.config {
        Some(i) => (i.image, i.labels),
        None => (None, None),
    };
    Some((c.name, image, labels))
}

/// docker's record of container `id` where `scope` allows: rootless docker's
/// `~/.local/share/docker` of the owner, else `var/lib/docker` in the scope's root (the
/// host's, or the enclosing container's: docker-in-docker, a minikube node).
pub(crate) fn lookup(r: &mut Resolver, scope: &Scope, id: &str) -> Option<DockerConfig> {
    if !is_container_id(id.as_bytes()) {
        return None;
    }
    let rel = Path::new("containers").join(id).join("config.v2.json");
    match scope.user {
        Some(u) => {
            let home = r.home(u)?;
            r.read_user_json::<DockerConfig>(u, &home, &Path::new(".local/share/docker").join(&rel))
        }
        None => r.read_json::<DockerConfig>(scope.root, &Path::new("var/lib/docker").join(&rel)),
    }
}

/// cri-dockerd's label saying a docker container is a pod's sandbox or container.
pub const CRI_TYPE_LABEL: &str = "io.kubernetes.docker.type";

/// A pod's container from cri-dockerd's labels on a docker container: `None` without
/// cri-dockerd's type label (a docker container nobody made for a pod).
pub(crate) fn cri_from_labels(
    labels: &HashMap<String, String>,
    image: Option<String>,
) -> Option<Bundle> {
    let sandbox = match labels.get(CRI_TYPE_LABEL).map(String::as_str) {
        Some("podsandbox") => true,
        Some("container") => false,
        _ => return None,
    };
    let get = |k: &str| {
        labels
            .get(k)
            .filter(|v| !v.is_empty())
            .map(|v| cut(v.clone()))
    };
    // The kubelet's `kubernetes.io/config.source` annotation: `api` for a pod from the
    // API server, `file` or `http` for a static pod (on the sandbox only).
    let is_static = labels
        .get("annotation.kubernetes.io/config.source")
        .is_some_and(|s| s != "api");
    Some(Bundle {
        sandbox,
        sandbox_id: if sandbox {
            None
        } else {
            get("io.kubernetes.sandbox.id")
        },
        pod: PodRef {
            namespace: get("io.kubernetes.pod.namespace"),
            name: get("io.kubernetes.pod.name"),
            uid: get("io.kubernetes.pod.uid"),
            is_static,
        },
        container_name: if sandbox {
            None
        } else {
            get("io.kubernetes.container.name")
        },
        image: if sandbox {
            None
        } else {
            image.filter(|i| !i.is_empty()).map(cut)
        },
        crio: false,
    })
}

impl Resolver {
    /// A pod's container that cri-dockerd made: docker's `config.v2.json` of `id` in
    /// `root` (the node's, for a minikube node) with cri-dockerd's labels. Read once per
    /// root and id.
    pub(crate) fn docker_cri(&mut self, root: RootKey, id: &str) -> Option<Bundle> {
        if !is_container_id(id.as_bytes()) {
            return None;
        }
        let key = (root, id.to_string());
        if let Some(b) = self.docker_cri.get(&key) {
            return b.clone();
        }
        let dir = Path::new("var/lib/docker/containers");
        let found = if self.listed(root, dir).is_some_and(|ids| ids.contains(id)) {
            lookup(self, &Scope::new(root, None), id)
                .and_then(|c| c.config)
                .and_then(|c| cri_from_labels(c.labels.as_ref()?, c.image))
        } else {
            None
        };
        self.docker_cri.insert(key, found.clone());
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cri_dockerd_labels_name_a_pods_container_and_sandbox() {
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let pod = [
            ("io.kubernetes.pod.name", "web"),
            ("io.kubernetes.pod.namespace", "prod"),
            ("io.kubernetes.pod.uid", "u1"),
        ];
        let mut c = pod.to_vec();
        c.extend([
            (CRI_TYPE_LABEL, "container"),
            ("io.kubernetes.container.name", "nginx"),
            ("io.kubernetes.sandbox.id", "s1"),
        ]);
        let b = cri_from_labels(&labels(&c), Some("nginx:1".into())).unwrap();
        assert_eq!(
            (
                b.sandbox,
                b.container_name.as_deref(),
                b.image.as_deref(),
                b.sandbox_id.as_deref(),
                b.pod.name.as_deref(),
                b.pod.is_static
            ),
            (
                false,
                Some("nginx"),
                Some("nginx:1"),
                Some("s1"),
                Some("web"),
                false
            )
        );
        let mut s = pod.to_vec();
        s.extend([
            (CRI_TYPE_LABEL, "podsandbox"),
            ("annotation.kubernetes.io/config.source", "file"),
        ]);
        let b = cri_from_labels(&labels(&s), Some("pause:3.10".into())).unwrap();
        assert_eq!(
            (b.sandbox, b.container_name, b.image, b.pod.is_static),
            (true, None, None, true)
        );
        // Without cri-dockerd's type label: a docker container nobody made for a pod.
        assert!(cri_from_labels(&labels(&pod), None).is_none());
        let mut odd = pod.to_vec();
        odd.push((CRI_TYPE_LABEL, "other"));
        assert!(cri_from_labels(&labels(&odd), None).is_none());
    }
}
