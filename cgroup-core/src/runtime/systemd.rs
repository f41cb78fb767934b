//! systemd: the host's (or a container's inside) own units. Shapes only: a unit is named
//! by its manager, and the names here (user slices, user managers, sessions, `init.scope`,
//! well-known daemons' services) need no other state; a unit whose name has `\xNN`
//! escapes is shown decoded.
//!
//! Sources: systemd `src/login/logind-user.c` (`user-UID.slice`, `user@UID.service`),
//! `src/login/logind-session.c` (`session-ID.scope`), `src/core/unit.c` (`init.scope`),
//! `src/basic/unit-name.c` (escaping).

use super::{Family, IdentityKind, Runtime};
use crate::classify::*;
use crate::resolve::{Identity, Resolver};
use crate::tree::identify::Facts;

/// The systemd row.
pub struct Systemd;

const SERVICES: &[(&[u8], &str)] = &[
    (b"containerd.service", "containerd"),
    (b"kubelet.service", "kubelet"),
    (b"docker.service", "docker"),
    (b"crio.service", "cri-o"),
    (b"podman.service", "podman"),
    (b"k3s.service", "k3s"),
    (b"k3s-agent.service", "k3s"),
    (b"rke2-server.service", "rke2"),
    (b"rke2-agent.service", "rke2"),
    (b"k0scontroller.service", "k0s"),
    (b"k0sworker.service", "k0s"),
];

impl Runtime for Systemd {
    fn family(&self) -> Family {
        Family::Systemd
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "systemd/systemd src/login/logind-user.c",
            "systemd/systemd src/login/logind-session.c",
            "systemd/systemd src/basic/unit-name.c",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        let host = |k| Some((k, Ctx::Host));
        if name == b"init.scope" {
            return host(Kind::InitScope);
        }
        if let Some(uid) = name
            .strip_prefix(b"user-")
            .and_then(|r| r.strip_suffix(b".slice"))
            .and_then(decimal)
        {
            return host(Kind::UserSlice { uid });
        }
        if let Some(uid) = name
            .strip_prefix(b"user@")
            .and_then(|r| r.strip_suffix(b".service"))
            .and_then(decimal)
        {
            return host(Kind::UserManager { uid });
        }
        if let Some(id) = name
            .strip_prefix(b"session-")
            .and_then(|r| r.strip_suffix(b".scope"))
        {
            if !id.is_empty() && id.iter().all(u8::is_ascii_alphanumeric) {
                return host(Kind::Session { id: text(id) });
            }
        }
        if let Some((_, daemon)) = SERVICES.iter().find(|(svc, _)| *svc == name) {
            return host(Kind::Service { daemon });
        }
        if name.ends_with(b".slice") || name.ends_with(b".service") || name.ends_with(b".scope") {
            return host(Kind::Unit);
        }
        None
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        let base = |kind| Identity {
            kind,
            runtime: Some("systemd"),
            ..Default::default()
        };
        Some(match f.kind {
            Kind::UserSlice { uid } => Identity {
                user: Some(*uid),
                name: r.user_name(*uid),
                ..base(IdentityKind::UserSlice)
            },
            Kind::UserManager { uid } => Identity {
                user: Some(*uid),
                name: r.user_name(*uid),
                ..base(IdentityKind::UserManager)
            },
            Kind::Session { id } => Identity {
                id: Some(id.clone()),
                ..base(IdentityKind::Session)
            },
            Kind::InitScope => Identity {
                name: f.parent_kind_node.map(str::to_string),
                ..base(IdentityKind::Init)
            },
            Kind::Service { daemon } => Identity {
                name: Some((*daemon).to_string()),
                ..base(IdentityKind::Service)
            },
            Kind::Unit => return unit_identity(f.name),
            _ => return None,
        })
    }
}

/// A unit whose name has `\xNN` escapes, shown decoded: `None` when there is nothing to
/// decode, or the decoded name is not display-safe (`\x1b` decodes to ESC: the raw name
/// is still shown, escaped).
pub fn unit_identity(name: &[u8]) -> Option<Identity> {
    let decoded = crate::classify::unescape_systemd(name);
    if decoded.as_ref() == name {
        return None;
    }
    let text = String::from_utf8_lossy(&decoded).into_owned();
    if !text.chars().all(crate::classify::is_display_safe) {
        return None;
    }
    Some(Identity {
        kind: IdentityKind::SystemdUnit,
        runtime: Some("systemd"),
        name: Some(text),
        ..Default::default()
    })
}
