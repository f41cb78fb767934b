//! CRI-O: its containers' and conmons' cgroups under a pod (or conmon's under
//! `system.slice`, `conmon_cgroup`), its OCI configs, and its conmon processes.
//!
//! Sources: cri-o `internal/config/cgmgr/systemd.go` and `cgroupfs.go`
//! (`<slice>:crio:<id>`, `crio-conmon-<id>.scope`), `internal/oci/runtime_oci.go`
//! (conmon's argv: `-b <bundle> -c <id> -n k8s_<ctr>_<pod>_<ns>_<uid>_<attempt> ...
//! --exit-dir /var/run/crio/exits`), `pkg/annotations` (`io.kubernetes.cri-o.*`),
//! `internal/storage/runtime.go` (`RuntimeContainerMetadata`: `pod-name`, `pod-id`).

use super::{Family, IdentityKind, ProcFacts, Runtime};
use crate::classify::*;
use crate::resolve::{flag_value, lossy, Identity, ProcessRole, Resolver, RootKey};
use crate::runtime::containerd::Bundle;
use crate::tree::identify::Facts;

/// The CRI-O row.
pub struct Crio;

impl Runtime for Crio {
    fn family(&self) -> Family {
        Family::Crio
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "cri-o/cri-o internal/config/cgmgr/systemd.go",
            "cri-o/cri-o internal/oci/runtime_oci.go",
            "cri-o/cri-o internal/storage/runtime.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        // `conmon_cgroup = "system.slice"`: CRI-O's conmon scope outside the pod.
        let id = id_between(name, b"crio-conmon-", b".scope")?;
        Some((Kind::CrioConmon { id: text(id) }, Ctx::Host))
    }

    fn classify_in_pod(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        if let Some(id) = id_between(name, b"crio-conmon-", b".scope")
            .or_else(|| id_between(name, b"crio-conmon-", b""))
        {
            return Some((Kind::CrioConmon { id: text(id) }, Ctx::Host));
        }
        let id =
            id_between(name, b"crio-", b".scope").or_else(|| id_between(name, b"crio-", b""))?;
        Some((
            Kind::KubeContainer {
                id: text(id),
                runtime: CriRuntime::Crio,
            },
            Ctx::ContainerTop,
        ))
    }

    fn state_files(&self) -> &'static [&'static str] {
        &["run/containers/storage/overlay-containers/*/userdata/config.json"]
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        match f.kind {
            Kind::KubeContainer { id, runtime } => Some(
                r.kube_container(f.root, id, *runtime)
                    .unwrap_or_else(|| crate::runtime::containerd::kube_unidentified(f, id)),
            ),
            Kind::CrioConmon { id } => Some(match r.crio_bundle(f.root, id) {
                Some(b) => Identity {
                    kind: IdentityKind::CrioConmon,
                    runtime: Some("cri-o"),
                    id: Some(id.clone()),
                    name: b.container_name,
                    pod: Some(b.pod),
                    ..Default::default()
                },
                None => crate::tree::identify::unidentified(format!(
                    "crio-conmon cgroup of {}, no CRI-O state names it",
                    &id[..12]
                )),
            }),
            _ => None,
        }
    }

    fn role(&self, r: &mut Resolver, p: &ProcFacts<'_>) -> Option<ProcessRole> {
        conmon_role(r, p)
    }
}

/// CRI-O's own state for container `id` in `root`: its OCI config
/// (`run/containers/storage/overlay-containers/<id>/userdata/config.json`) with CRI-O's
/// annotations (`io.kubernetes.cri-o.ContainerType` and the pod's). podman keeps its
/// containers' bundles at the same place with none of them.
impl Resolver {
    pub(crate) fn crio_bundle(&mut self, root: RootKey, id: &str) -> Option<Bundle> {
        self.bundle(root, id).filter(|b| b.crio)
    }
}

/// CRI-O's conmon: `-c <id>` a container that CRI-O's state holds, run by root (CRI-O
/// is root's), named by that state (the pod's container name and the pod), never by its
/// own `-n`.
fn conmon_role(r: &mut Resolver, p: &ProcFacts<'_>) -> Option<ProcessRole> {
    let exe = p.args.first()?;
    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
    if base != b"conmon" || p.uids != Some([0; 4]) {
        return None;
    }
    let id =
        flag_value(p.args, &[b"-c", b"--cid"]).filter(|v| crate::classify::is_container_id(v))?;
    let id = lossy(id);
    let b = r.crio_bundle(p.root, &id)?;
    Some(ProcessRole::Conmon {
        id,
        name: b.container_name,
        runtime: "cri-o",
        pod: Some(b.pod),
    })
}
