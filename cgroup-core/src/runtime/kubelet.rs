//! The kubelet: its pods root, QoS levels and pod cgroups, in both cgroup drivers, at
//! any depth (a kind node's kubelet has its own), and the names in its log directories.
//!
//! Sources: kubernetes `pkg/kubelet/cm/cgroup_manager_linux.go` (`ToSystemd`: `-` -> `_`
//! in each component, `ToCgroupfs`), `pkg/kubelet/cm/pod_container_manager_linux.go`
//! (`GetPodContainerName`: `pod` + the pod's UID), `pkg/kubelet/cm/qos_container_manager_linux.go`,
//! `pkg/kubelet/config/common.go` (a static pod's UID: the md5 of its manifest, 32 hex
//! digits, unless the manifest sets one), `pkg/kubelet/kuberuntime/kuberuntime_manager.go`
//! (log directories).

use super::{Family, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
use crate::runtime::IdentityKind as IK;
#[allow(unused_imports)]
use crate::runtime::{containerd::*, docker::*, kind::*, oci::*, podman::*};
use crate::tree::identify::Facts;
use std::collections::HashMap;
use std::path::Path;
use std::rc::Rc;

/// The kubelet row.
pub struct Kubelet;

/// Longest pod UID accepted in a cgroup name.
pub const MAX_POD_UID: usize = 253;

/// A pod UID as the kubelet writes it into a cgroup name: the pod's `metadata.uid`,
/// whatever its form (an API server's UUID, a static pod's 32-hex md5, a manifest's own
/// value), `-` written `_` by the systemd driver. The kubelet adds no rule of its own, so
/// neither does this: any non-empty token of the characters a unit name or path
/// component can carry here (`[A-Za-z0-9._:-]`; `-` not under the systemd driver, whose
/// separator it is), at most [`MAX_POD_UID`] bytes.
pub fn pod_uid(b: &[u8], driver: Driver) -> Option<&[u8]> {
    let ok = |c: &u8| {
        c.is_ascii_alphanumeric()
            || matches!(c, b'_' | b'.' | b':')
            || (*c == b'-' && driver == Driver::Cgroupfs)
    };
    (!b.is_empty() && b.len() <= MAX_POD_UID && b.iter().all(ok)).then_some(b)
}

fn pod(uid: &[u8], qos: Qos) -> (Kind, Ctx) {
    (
        Kind::KubePod {
            uid: text(uid),
            qos,
        },
        Ctx::KubePod,
    )
}

impl Runtime for Kubelet {
    fn family(&self) -> Family {
        Family::Kubelet
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "kubernetes/kubernetes pkg/kubelet/cm/cgroup_manager_linux.go",
            "kubernetes/kubernetes pkg/kubelet/cm/pod_container_manager_linux.go",
            "kubernetes/kubernetes pkg/kubelet/config/common.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        // The pods root: `kubepods.slice`, or `<root>-kubepods.slice` when the kubelet's
        // cgroupRoot is a slice (kind: `kubelet.slice/kubelet-kubepods.slice`).
        if let Some(stem) = name.strip_suffix(b".slice") {
            if stem == b"kubepods" || stem.ends_with(b"-kubepods") {
                return Some((
                    Kind::KubePods {
                        driver: Driver::Systemd,
                    },
                    Ctx::KubeRoot {
                        driver: Driver::Systemd,
                        prefix: text(stem),
                    },
                ));
            }
        }
        if name == b"kubepods" {
            return Some((
                Kind::KubePods {
                    driver: Driver::Cgroupfs,
                },
                Ctx::KubeRoot {
                    driver: Driver::Cgroupfs,
                    prefix: String::new(),
                },
            ));
        }
        None
    }

    fn classify_below(&self, name: &[u8], ctx: &Ctx) -> Option<(Kind, Ctx)> {
        match ctx {
            Ctx::KubeRoot {
                driver: Driver::Systemd,
                prefix,
            } => {
                let rest = name
                    .strip_prefix(prefix.as_bytes())
                    .and_then(|r| r.strip_prefix(b"-"))
                    .and_then(|r| r.strip_suffix(b".slice"))?;
                if let Some(qos) = Qos::from_name(rest) {
                    let next = Ctx::KubeQos {
                        driver: Driver::Systemd,
                        prefix: format!("{prefix}-{}", qos.as_str()),
                        qos,
                    };
                    return Some((Kind::KubeQos { qos }, next));
                }
                let uid = rest
                    .strip_prefix(b"pod")
                    .and_then(|u| pod_uid(u, Driver::Systemd))?;
                Some(pod(uid, Qos::Guaranteed))
            }
            Ctx::KubeRoot {
                driver: Driver::Cgroupfs,
                prefix,
            } => {
                if let Some(qos) = Qos::from_name(name) {
                    return Some((
                        Kind::KubeQos { qos },
                        Ctx::KubeQos {
                            driver: Driver::Cgroupfs,
                            prefix: prefix.clone(),
                            qos,
                        },
                    ));
                }
                let uid = name
                    .strip_prefix(b"pod")
                    .and_then(|u| pod_uid(u, Driver::Cgroupfs))?;
                Some(pod(uid, Qos::Guaranteed))
            }
            Ctx::KubeQos {
                driver,
                prefix,
                qos,
            } => {
                let uid = match driver {
                    Driver::Systemd => name
                        .strip_prefix(prefix.as_bytes())
                        .and_then(|r| r.strip_prefix(b"-pod"))
                        .and_then(|r| r.strip_suffix(b".slice")),
                    Driver::Cgroupfs => name.strip_prefix(b"pod"),
                }
                .and_then(|u| pod_uid(u, *driver))?;
                Some(pod(uid, *qos))
            }
            _ => None,
        }
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        identify_kubelet(r, f)
    }
}

/// Pod names from kubelet's log directories.
#[derive(Debug, Default)]
pub(crate) struct PodLogs {
    pub(crate) pods: HashMap<String, (String, String)>,
    pub(crate) containers: HashMap<String, (String, String, String)>,
}

impl Resolver {
    pub(crate) fn pod_logs(&mut self, root: RootKey) -> Rc<PodLogs> {
        if let Some(p) = self.pod_logs.get(&root) {
            return p.clone();
        }
        let mut logs = PodLogs::default();
        for d in self.list(root, Path::new("var/log/pods")) {
            let d = String::from_utf8_lossy(&d).into_owned();
            let parts: Vec<&str> = d.splitn(3, '_').collect();
            if let [ns, name, uid] = parts[..] {
                logs.pods.insert(
                    uid.to_string(),
                    (cut(ns.to_string()), cut(name.to_string())),
                );
            }
        }
        for f in self.list(root, Path::new("var/log/containers")) {
            let f = String::from_utf8_lossy(&f).into_owned();
            let Some(stem) = f.strip_suffix(".log") else {
                continue;
            };
            let Some((rest, id)) = stem.rsplit_once('-') else {
                continue;
            };
            let parts: Vec<&str> = rest.splitn(3, '_').collect();
            if let [pod, ns, ctr] = parts[..] {
                logs.containers.insert(
                    id.to_string(),
                    (
                        cut(ns.to_string()),
                        cut(pod.to_string()),
                        cut(ctr.to_string()),
                    ),
                );
            }
        }
        let rc = Rc::new(logs);
        self.pod_logs.insert(root, rc.clone());
        rc
    }

    /// Identifies a Kubernetes container cgroup from its CRI bundle, else the kubelet's
    /// log names; `None` when neither names it (the runtime's name in the cgroup's shape
    /// is no evidence by itself).
    pub(crate) fn kube_container(
        &mut self,
        root: RootKey,
        id: &str,
        runtime: CriRuntime,
    ) -> Option<Identity> {
        let rt = match runtime {
            CriRuntime::Containerd => Some("containerd"),
            CriRuntime::Crio => Some("cri-o"),
            CriRuntime::Docker => Some("docker"),
            CriRuntime::Unknown => None,
        };
        let mut ident = Identity {
            kind: IK::KubeContainer,
            runtime: rt,
            id: Some(id.to_string()),
            ..Default::default()
        };
        if let Some(b) = self.cri_record(root, id, runtime) {
            ident.sandbox = b.sandbox;
            ident.name = b.container_name;
            ident.image = b.image;
            ident.pod = Some(b.pod);
            if ident.runtime.is_none() {
                ident.runtime = Some(if b.crio { "cri-o" } else { "containerd" });
            }
        } else if let Some((ns, pod, ctr)) = self.pod_logs(root).containers.get(id).cloned() {
            ident.name = Some(ctr);
            ident.pod = Some(PodRef {
                namespace: Some(ns),
                name: Some(pod),
                uid: None,
                is_static: false,
            });
        } else {
            return None;
        }
        if ident.sandbox {
            ident.kind = IK::KubeSandbox;
        }
        Some(ident)
    }

    /// What the CRI runtime that made pod container `id` keeps about it in `root`: a
    /// containerd or CRI-O bundle, else (a `docker-<id>.scope`, or a name that does not
    /// say) cri-dockerd's labels in docker's `config.v2.json`.
    pub(crate) fn cri_record(
        &mut self,
        root: RootKey,
        id: &str,
        runtime: CriRuntime,
    ) -> Option<Bundle> {
        match runtime {
            CriRuntime::Docker => self.docker_cri(root, id),
            CriRuntime::Unknown => self.bundle(root, id).or_else(|| self.docker_cri(root, id)),
            CriRuntime::Containerd | CriRuntime::Crio => self.bundle(root, id),
        }
    }

    /// Identifies a pod cgroup from its UID, using what the CRI runtimes keep about its
    /// containers (`children`: their ids and runtimes) or kubelet's log directories.
    pub(crate) fn pod(
        &mut self,
        root: RootKey,
        raw_uid: &str,
        qos: Qos,
        children: &[(String, CriRuntime)],
    ) -> Identity {
        let uid = kube_uid(raw_uid);
        let mut pod = PodRef {
            uid: Some(uid.clone()),
            is_static: is_static_uid(raw_uid),
            ..Default::default()
        };
        for (id, runtime) in children {
            if let Some(b) = self.cri_record(root, id, *runtime) {
                // The record must be of this pod (a container's labels name its own).
                if b.pod.name.is_some() && b.pod.uid.as_deref().is_none_or(|u| u == uid) {
                    pod.namespace = b.pod.namespace;
                    pod.name = b.pod.name;
                    pod.is_static |= b.pod.is_static;
                    break;
                }
            }
        }
        if pod.name.is_none() {
            if let Some((ns, name)) = self.pod_logs(root).pods.get(&uid).cloned() {
                pod.namespace = Some(ns);
                pod.name = Some(name);
            }
        }
        Identity {
            kind: IK::KubePod,
            runtime: Some("kubelet"),
            id: Some(uid),
            pod: Some(pod),
            qos: Some(qos),
            ..Default::default()
        }
    }
}

/// Whether a pod UID is the kubelet's own for a static pod: the md5 of the manifest, 32
/// lowercase hex digits (`pkg/kubelet/config/common.go`, `applyDefaults`). (A manifest
/// may set its own UID; such a static pod is not told apart here.)
pub fn is_static_uid(raw: &str) -> bool {
    raw.len() == 32
        && raw
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn identify_kubelet(r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
    let base = |kind| Identity {
        kind,
        runtime: Some("kubelet"),
        ..Default::default()
    };
    match f.kind {
        Kind::KubePods { .. } => Some(base(IK::KubePods)),
        Kind::KubeQos { qos } => Some(Identity {
            qos: Some(*qos),
            ..base(IK::KubeQos)
        }),
        Kind::KubePod { uid, qos } => {
            // The ids of its containers, as the CRI runtimes name them in a pod.
            let ids: Vec<(String, CriRuntime)> = (f.children)(b"")
                .iter()
                .filter_map(|c| {
                    crate::runtime::TABLE
                        .iter()
                        .find_map(|rt| rt.classify_in_pod(c))
                })
                .filter_map(|(k, _)| match k {
                    Kind::KubeContainer { id, runtime } => Some((id, runtime)),
                    _ => None,
                })
                .collect();
            let mut ident = r.pod(f.root, uid, *qos, &ids);
            if let Some(p) = ident.pod.as_mut().filter(|p| p.name.is_none()) {
                // No container of it here nor a log naming it: a sandbox bundle that
                // names this UID (the kubelet's pod cgroup, its containers put elsewhere
                // by a runtime on another cgroup driver).
                if let Some(found) = r.pod_of_uid(f.root, &kube_uid(uid)) {
                    p.namespace = found.namespace;
                    p.name = found.name;
                }
            }
            if ident.pod.as_ref().is_some_and(|p| p.name.is_some()) {
                Some(ident)
            } else {
                Some(crate::tree::identify::unidentified(format!(
                    "a kubelet pod cgroup (uid {}), no CRI bundle or kubelet log names it",
                    kube_uid(uid)
                )))
            }
        }
        _ => None,
    }
}
