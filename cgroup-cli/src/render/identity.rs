//! One-line descriptions of identities and process roles (`[podman container kind-control-plane · kind node]`).
//! Every string taken from runtime state is escaped for the terminal here.

use crate::sanitize::sanitize;
use cgroup_core::resolve::{Identity, PodRef, ProcessRole};

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

/// The annotation of a cgroup, without brackets; `None` when there is nothing to say.
pub fn identity_text(i: &Identity) -> Option<String> {
    let text = match i.kind {
        "podman-container" | "docker-container" | "container" => {
            let runtime = i.runtime.map(|r| format!("{r} ")).unwrap_or_default();
            let name = i
                .name
                .as_deref()
                .map(s)
                .or_else(|| i.id.as_deref().map(short_id));
            let mut t = format!("{runtime}container {}", name.unwrap_or_default());
            if let Some(k) = &i.kind_node {
                if Some(&k.name) == i.name.as_ref() || k.name.is_empty() {
                    t.push_str(" · kind node");
                } else {
                    t.push_str(&format!(" · kind node {}", s(&k.name)));
                }
            }
            t
        }
        "kube-pod" => format!("pod {}", i.pod.as_ref().map(pod_text).unwrap_or_default()),
        "kube-container" => match (&i.name, &i.id) {
            (Some(n), _) => format!("container {}", s(n)),
            (None, Some(id)) => format!("container {}", short_id(id)),
            _ => "container".into(),
        },
        "kube-sandbox" => "pod sandbox".into(),
        "kube-qos" => format!("{} pods", i.qos.map(|q| q.as_str()).unwrap_or("?")),
        "kube-pods" => "kubernetes pods".into(),
        "user-slice" => format!("user {}", user_text(i)),
        "user-manager" => format!("systemd --user of {}", user_text(i)),
        "session" => format!("session {}", s(i.id.as_deref().unwrap_or("?"))),
        "init" => match &i.name {
            Some(node) => format!("init of kind node {}", s(node)),
            None => return None,
        },
        "service" => s(i.name.as_deref().unwrap_or("?")),
        "podman-conmon" => match (&i.name, &i.id) {
            (Some(name), _) => format!("conmon of {}", s(name)),
            (None, Some(id)) => format!("conmon of {}", short_id(id)),
            _ => "conmon".into(),
        },
        "podman-pod" => format!("podman pod {}", short_id(i.id.as_deref().unwrap_or("?"))),
        "podman-parent" => "podman containers".into(),
        "docker-parent" => "docker containers".into(),
        "payload" => "container payload".into(),
        "crio-conmon" => format!("conmon of {}", short_id(i.id.as_deref().unwrap_or("?"))),
        "systemd-unit" => format!("unit {}", s(i.name.as_deref().unwrap_or("?"))),
        _ => return None,
    };
    Some(text)
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
        ProcessRole::Conmon { name: Some(n), .. } => format!("conmon of {}", s(n)),
        ProcessRole::Conmon { id, .. } => format!("conmon of {}", short_id(id)),
        ProcessRole::Started { name: Some(n), .. } => {
            format!("podman container {}, outside its cgroup", s(n))
        }
        ProcessRole::Started { id, .. } => {
            format!("podman container {}, outside its cgroup", short_id(id))
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
