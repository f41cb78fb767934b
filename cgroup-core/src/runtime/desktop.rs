//! Desktop applications in a user's manager: flatpak (`app-flatpak-<appid>-<n>.scope`),
//! snap (`snap.<snap>.<app>-<uuid>.scope`, `snap.<snap>.<app>.service`) and the XDG
//! launcher names (`app[-<launcher>]-<appid>-<random>.scope`,
//! `app[-<launcher>]-<appid>[@<random>].service`), shown by their application id.
//! Saying "flatpak" or "snap" needs their evidence: the installed application
//! (`var/lib/flatpak/app/<appid>`, the user's `.local/share/flatpak/app/<appid>`;
//! `snap/<snap>`); without it the application id is still shown, as a unit's decoded
//! name, with no runtime.
//!
//! Sources: systemd `docs/DESKTOP_ENVIRONMENTS.md` (the naming), flatpak
//! `common/flatpak-run.c` (`app-flatpak-<appid>-<pid>.scope`), snapd
//! `sandbox/cgroup/tracking.go` (`snap.<snap>.<app>-<uuid>.scope`).

use super::{Family, IdentityKind, Runtime};
use crate::classify::*;
use crate::resolve::{cut, Identity, Resolver, RootKey};
use crate::tree::identify::Facts;
use std::path::Path;

/// The desktop row.
pub struct Desktop;

/// What a desktop unit name says: `(runtime hint, launcher, application id)`, all raw
/// (escapes kept).
/// `(runtime hint, launcher, application id)` of a desktop unit name.
pub type AppName<'a> = (Option<&'static str>, Option<&'a [u8]>, &'a [u8]);

/// Parses a desktop unit name.
pub fn parse_app(name: &[u8]) -> Option<AppName<'_>> {
    if let Some(rest) = name.strip_prefix(b"snap.") {
        // An app's scope: `snap.<snap>.<app>-<uuid>.scope` (a 36-character UUID); a
        // snap's daemons are services, not applications a user started.
        let s = rest.strip_suffix(b".scope")?;
        let stem = match s.len().checked_sub(37) {
            Some(at) if s[at] == b'-' && is_uuid(&s[at + 1..]) => &s[..at],
            _ => s,
        };
        // `<snap>.<app>`
        let dot = stem.iter().position(|&b| b == b'.')?;
        return (dot > 0 && dot + 1 < stem.len()).then_some((Some("snap"), None, stem));
    }
    let rest = name.strip_prefix(b"app-")?;
    let stem = if let Some(s) = rest.strip_suffix(b".scope") {
        // `-<random>` last
        s.rsplit_once_byte(b'-')?.0
    } else {
        let s = rest.strip_suffix(b".service")?;
        s.split(|&b| b == b'@').next().unwrap_or(s)
    };
    if stem.is_empty() {
        return None;
    }
    match stem.split_once_byte(b'-') {
        Some((launcher, id)) if !launcher.is_empty() && !id.is_empty() => {
            let hint = (launcher == b"flatpak").then_some("flatpak");
            Some((hint, Some(launcher), id))
        }
        _ => Some((None, None, stem)),
    }
}

trait SplitByte {
    fn rsplit_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])>;
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])>;
}

impl SplitByte for [u8] {
    fn rsplit_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])> {
        let i = self.iter().rposition(|&c| c == b)?;
        Some((&self[..i], &self[i + 1..]))
    }
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])> {
        let i = self.iter().position(|&c| c == b)?;
        Some((&self[..i], &self[i + 1..]))
    }
}

impl Runtime for Desktop {
    fn family(&self) -> Family {
        Family::Desktop
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "systemd/systemd docs/DESKTOP_ENVIRONMENTS.md",
            "flatpak/flatpak common/flatpak-run.c",
            "canonical/snapd sandbox/cgroup/tracking.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        parse_app(name)?;
        Some((
            Kind::Named {
                family: Family::Desktop,
                what: IdentityKind::App,
                name: text(name),
            },
            Ctx::Host,
        ))
    }

    fn state_files(&self) -> &'static [&'static str] {
        &["var/lib/flatpak/app/*", "snap/*"]
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        let Kind::Named { name, .. } = f.kind else {
            return None;
        };
        let (hint, _launcher, raw_id) = parse_app(name.as_bytes())?;
        let decoded = crate::classify::unescape_systemd(raw_id);
        let app = String::from_utf8_lossy(&decoded).into_owned();
        if app.is_empty() || !app.chars().all(crate::classify::is_display_safe) {
            return None;
        }
        let runtime = match hint {
            Some("flatpak") if r.flatpak_installed(&app, f.owner) => Some("flatpak"),
            Some("snap") => {
                let snap = app.split('.').next().unwrap_or_default();
                r.snap_installed(snap).then_some("snap")
            }
            _ => None,
        };
        Some(Identity {
            kind: IdentityKind::App,
            runtime,
            name: Some(cut(app)),
            user: f.owner,
            ..Default::default()
        })
    }
}

impl Resolver {
    /// Whether flatpak application `app` is installed system-wide
    /// (`var/lib/flatpak/app/<app>`) or for user `owner` (`.local/share/flatpak/app`,
    /// listed with the user-directory rules).
    pub(crate) fn flatpak_installed(&mut self, app: &str, owner: Option<u32>) -> bool {
        if app.contains('/') {
            return false;
        }
        if self
            .listed(RootKey::Host, Path::new("var/lib/flatpak/app"))
            .is_some_and(|l| l.contains(app))
        {
            return true;
        }
        let Some(uid) = owner.filter(|&u| u != 0) else {
            return false;
        };
        let Some(home) = self.home(uid) else {
            return false;
        };
        let quiet = std::mem::replace(&mut self.quiet, true);
        let found = self
            .list_user(uid, &home, Path::new(".local/share/flatpak/app"))
            .iter()
            .any(|e| e == app.as_bytes());
        self.quiet = quiet;
        found
    }

    /// Whether snap `snap` is installed (`snap/<snap>`).
    pub(crate) fn snap_installed(&mut self, snap: &str) -> bool {
        !snap.is_empty()
            && !snap.contains('/')
            && self
                .listed(RootKey::Host, Path::new("snap"))
                .is_some_and(|l| l.contains(snap))
    }
}

fn is_uuid(b: &[u8]) -> bool {
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}
