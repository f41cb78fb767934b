//! One-line descriptions of identities and process roles (`[podman container kind-control-plane · kind node]`).
//! Every string taken from runtime state is escaped for the terminal here.

use crate::sanitize::sanitize;
use cgroup_core::resolve::{Identity, PodRef, ProcessRole};
use cgroup_core::runtime::IdentityKind;

fn s(text: &str) -> String {
    sanitize(text.as_bytes()).into_owned()
}

/// The first 12 characters of a container id, as runtimes print it, escaped for the
/// terminal. The cut is on a character boundary, so an id that is not hex (taken from a
/// command line, say) is cut too, never shown whole.
pub fn short_id(id: &str) -> String {
    let end = id.char_indices().nth(12).map_or(id.len(), |(i, _)| i);
    s(&id[..end])
}

/// `namespace/name`, or `uid <uid>` when the names are unknown.
pub fn pod_text(p: &PodRef) -> String {
    match (&p.namespace, &p.name, &p.uid) {
        (Some(ns), Some(name), _) => format!("{}/{}", s(ns), s(name)),
        (None, Some(name), _) => s(name),
        (_, None, Some(uid)) => format!("uid {}", s(uid)),
        _ => "?".into(),
    }
}

fn user_text(i: &Identity) -> String {
    match (&i.name, i.user) {
        (Some(n), Some(u)) => format!("{} ({u})", s(n)),
        (None, Some(u)) => u.to_string(),
        _ => "?".into(),
    }
}

fn node_text(i: &Identity) -> String {
    match &i.node {
        Some(n) => match n.distribution {
            Some("kind") if Some(&n.name) == i.name.as_ref() || n.name.is_empty() => {
                " · kind node".into()
            }
            Some("kind") => format!(" · kind node {}", s(&n.name)),
            Some("minikube") => format!(
                " · minikube node of profile {}",
                s(n.cluster.as_deref().unwrap_or("?"))
            ),
            _ if n.name.is_empty() || Some(&n.name) == i.name.as_ref() => {
                " · kubernetes node".into()
            }
            _ => format!(" · kubernetes node {}", s(&n.name)),
        },
        None => String::new(),
    }
}

/// The annotation of a cgroup, without brackets; `None` when there is nothing to say.
pub fn identity_text(i: &Identity) -> Option<String> {
    let name_or_id = || {
        i.name
            .as_deref()
            .map(s)
            .or_else(|| i.id.as_deref().map(short_id))
            .unwrap_or_default()
    };
    let text = match i.kind {
        IdentityKind::PodmanContainer | IdentityKind::DockerContainer | IdentityKind::Container => {
            let runtime = i.runtime.map(|r| format!("{r} ")).unwrap_or_default();
            format!("{runtime}container {}{}", name_or_id(), node_text(i))
        }
        IdentityKind::ContainerdContainer => format!(
            "containerd container {} (namespace {}){}",
            name_or_id(),
            s(i.namespace.as_deref().unwrap_or("?")),
            node_text(i)
        ),
        IdentityKind::KubePod => {
            format!("pod {}", i.pod.as_ref().map(pod_text).unwrap_or_default())
        }
        IdentityKind::KubeContainer => match (&i.name, &i.id) {
            (Some(n), _) => format!("container {}", s(n)),
            (None, Some(id)) => format!("container {}", short_id(id)),
            _ => "container".into(),
        },
        IdentityKind::KubeSandbox => "pod sandbox".into(),
        IdentityKind::KubeQos => format!("{} pods", i.qos.map(|q| q.as_str()).unwrap_or("?")),
        IdentityKind::KubePods => "kubernetes pods".into(),
        IdentityKind::UserSlice => format!("user {}", user_text(i)),
        IdentityKind::UserManager => format!("systemd --user of {}", user_text(i)),
        IdentityKind::Session => format!("session {}", s(i.id.as_deref().unwrap_or("?"))),
        IdentityKind::Init => match (&i.node, &i.name) {
            (Some(n), _) => format!(
                "init of {} node {}",
                n.distribution.unwrap_or("kubernetes"),
                s(&n.name)
            ),
            (None, Some(node)) => format!("init of kind node {}", s(node)),
            (None, None) => return None,
        },
        IdentityKind::Service => s(i.name.as_deref().unwrap_or("?")),
        IdentityKind::PodmanConmon => match (&i.name, &i.id) {
            (Some(name), _) => format!("conmon of {}", s(name)),
            (None, Some(id)) => format!("conmon of {}", short_id(id)),
            _ => "conmon".into(),
        },
        IdentityKind::PodmanPod => {
            format!("podman pod {}", short_id(i.id.as_deref().unwrap_or("?")))
        }
        IdentityKind::PodmanParent => "podman containers".into(),
        IdentityKind::DockerParent => "docker containers".into(),
        IdentityKind::Payload => "container payload".into(),
        IdentityKind::CrioConmon => match (&i.name, &i.pod) {
            (Some(n), Some(p)) => format!("cri-o conmon of {} in pod {}", s(n), pod_text(p)),
            _ => format!(
                "cri-o conmon of {}",
                short_id(i.id.as_deref().unwrap_or("?"))
            ),
        },
        IdentityKind::SystemdUnit => format!("unit {}", s(i.name.as_deref().unwrap_or("?"))),
        IdentityKind::LxcContainer => format!(
            "{} container {}",
            i.runtime.unwrap_or("lxc"),
            s(i.name.as_deref().unwrap_or("?"))
        ),
        IdentityKind::LxcMonitor => {
            format!("lxc monitor of {}", s(i.name.as_deref().unwrap_or("?")))
        }
        IdentityKind::Machine => match i.runtime {
            Some("systemd-nspawn") => {
                format!("nspawn container {}", s(i.name.as_deref().unwrap_or("?")))
            }
            r => format!(
                "machine {} ({})",
                s(i.name.as_deref().unwrap_or("?")),
                r.unwrap_or("machined")
            ),
        },
        IdentityKind::NspawnSupervisor => {
            format!(
                "nspawn supervisor of {}",
                s(i.name.as_deref().unwrap_or("?"))
            )
        }
        IdentityKind::App => match i.runtime {
            Some(r) => format!("{r} app {}", s(i.name.as_deref().unwrap_or("?"))),
            None => format!("app {}", s(i.name.as_deref().unwrap_or("?"))),
        },
        IdentityKind::Unidentified => format!(
            "not identified: {}",
            s(i.seen.as_deref().unwrap_or("no evidence"))
        ),
        _ => return None,
    };
    Some(match &i.diagnosis {
        Some(d) => format!("{text} · {}", s(d)),
        None => text,
    })
}

/// The annotation of a monitor process, without brackets.
pub fn role_text(r: &ProcessRole) -> String {
    match r {
        ProcessRole::Shim { pod: Some(p), .. } => format!("shim of pod {}", pod_text(p)),
        ProcessRole::Shim {
            sandbox, namespace, ..
        } if namespace == "k8s.io" => {
            format!("shim of sandbox {}", short_id(sandbox))
        }
        // Outside the CRI namespace (docker's `moby`, `ctr`'s `default`) a shim serves
        // the one container its -id names.
        ProcessRole::Shim { sandbox, .. } => format!("shim of container {}", short_id(sandbox)),
        ProcessRole::Conmon {
            name: Some(n),
            runtime: "cri-o",
            pod: Some(p),
            ..
        } => format!("cri-o conmon of {} in pod {}", s(n), pod_text(p)),
        ProcessRole::Conmon {
            id,
            runtime: "cri-o",
            ..
        } => format!("cri-o conmon of {}", short_id(id)),
        ProcessRole::Conmon { name: Some(n), .. } => format!("conmon of {}", s(n)),
        ProcessRole::Conmon { id, .. } => format!("conmon of {}", short_id(id)),
        ProcessRole::Started { name: Some(n), .. } => {
            format!("podman container {}, outside its cgroup", s(n))
        }
        ProcessRole::Started { id, .. } => {
            format!("podman container {}, outside its cgroup", short_id(id))
        }
        ProcessRole::LxcMonitor { name, runtime, .. } => {
            format!("{runtime} monitor of {}", s(name))
        }
        _ => "monitor".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_id_cuts_on_a_character_and_escapes() {
        let hex = "4796ab87414f85c7accdb5c7c858e37121f8dcfd0cd483fb74233d25a8f06817";
        assert_eq!(short_id(hex), "4796ab87414f");
        assert_eq!(short_id("abc"), "abc");
        // Byte 12 inside `é`: cut after 12 characters, not the whole id.
        let id = "sleep 600 #é\x1b[2J\x1b]0;pwned\x07";
        assert_eq!(short_id(id), "sleep 600 #é");
        assert_eq!(
            short_id("\x1b[2J\u{9b}\u{202e}abcdefghijkl"),
            "\\x1b[2J\\u{009b}\\u{202e}abcdef"
        );
    }
}
