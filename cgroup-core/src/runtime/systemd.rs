//! systemd: the host's (or a container's inside) own units. Shapes only: a unit is named
//! by its manager, and the names here (user slices, user managers, sessions, `init.scope`,
//! well-known daemons' services) need no other state; a unit whose name has `\xNN`
//! escapes is shown decoded.
//!
//! Sources: systemd `src/login/logind-user.c` (`user-UID.slice`, `user@UID.service`),
//! `src/login/logind-session.c` (`session-ID.scope`), `src/core/unit.c` (`init.scope`),
//! `src/basic/unit-name.c` (escaping); snapd `snap/info.go` (a snap's daemons,
//! `snap.<snap>.<app>.service`).

use super::{Family, IdentityKind, Runtime};
use crate::classify::*;
use crate::resolve::{Identity, Resolver, RootKey};
use crate::tree::identify::Facts;
use std::path::Path;

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
                name: user_name(r, f, *uid),
                ..base(IdentityKind::UserSlice)
            },
            Kind::UserManager { uid } => Identity {
                user: Some(*uid),
                name: user_name(r, f, *uid),
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
            Kind::Unit => {
                return match snap_service(f.name) {
                    Some((snap, stem)) if f.root == RootKey::Host && snap_evidence(r, snap) => {
                        Some(Identity {
                            kind: IdentityKind::Service,
                            runtime: Some("snap"),
                            name: Some(stem.to_string()),
                            ..Default::default()
                        })
                    }
                    _ => unit_identity(f.name),
                }
            }
            _ => return None,
        })
    }
}

/// A snap's daemon: snapd names the unit of app `<app>` of snap `<snap>`
/// `snap.<snap>.<app>.service` (snapd `snap/info.go`, `AppInfo.ServiceName`; names as
/// `snap/validate.go` allows: a snap `[a-z0-9-]` with an optional `_<instance key>`, an
/// app `[A-Za-z0-9-]`). Returns the snap and the unit's stem `snap.<snap>.<app>`. (A
/// snap's daemons are the well-known daemons of the distributions shipped as snaps:
/// microk8s's `daemon-containerd` and `daemon-kubelite`, LXD's `daemon`.)
pub fn snap_service(name: &[u8]) -> Option<(&str, &str)> {
    let stem = std::str::from_utf8(name.strip_suffix(b".service")?).ok()?;
    let rest = stem.strip_prefix("snap.")?;
    let (snap, app) = rest.split_once('.')?;
    // An instance key (`<snap>_<key>`), when there is one, is not empty.
    let (base, key) = match snap.split_once('_') {
        Some((b, k)) if !k.is_empty() => (b, k),
        Some(_) => return None,
        None => (snap, ""),
    };
    let ok = !base.is_empty()
        && base.len() <= 40
        && base
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && key.len() <= 10
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !app.is_empty()
        && app.len() <= 64
        && app.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then_some((snap, stem))
}

/// Whether snap `snap` is installed: its mount directory `snap/<snap>`, or its data
/// directory `var/snap/<snap>` (snapd `dirs.SnapMountDir`, `dirs.SnapDataDir`: made at
/// install, removed with the snap).
fn snap_evidence(r: &mut Resolver, snap: &str) -> bool {
    r.snap_installed(snap)
        || r.listed(RootKey::Host, Path::new("var/snap"))
            .is_some_and(|l| l.contains(snap))
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

/// A user slice's or manager's user name: from the passwd of the root its cgroup belongs
/// to (a container's own through its root), never the host's inside a container (a UID
/// inside maps elsewhere on the host); none when the container's root is unknown.
fn user_name(r: &mut Resolver, f: &Facts<'_>, uid: u32) -> Option<String> {
    if f.in_container && f.root == crate::resolve::RootKey::Host {
        return None;
    }
    r.user_name_in(f.root, uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snap_services_by_snapds_naming_only() {
        assert_eq!(
            snap_service(b"snap.microk8s.daemon-containerd.service"),
            Some(("microk8s", "snap.microk8s.daemon-containerd"))
        );
        assert_eq!(
            snap_service(b"snap.lxd_beta.daemon.service"),
            Some(("lxd_beta", "snap.lxd_beta.daemon"))
        );
        for not in [
            &b"snap.microk8s.daemon-containerd.scope"[..],
            b"snap.microk8s.service",
            b"snap..daemon.service",
            b"snap.MicroK8s.daemon.service",
            b"snap.a.b.c.service",
            b"snap.a_.daemon.service",
            b"snap.a/b.daemon.service",
            b"microk8s.daemon-containerd.service",
        ] {
            assert_eq!(snap_service(not), None, "{}", String::from_utf8_lossy(not));
        }
    }
}
