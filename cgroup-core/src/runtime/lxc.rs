//! LXC, LXD and Incus containers: `lxc.payload.<name>` (the container; its inside is read
//! as a fresh host, systemd's or openrc's cgroups) and `lxc.monitor.<name>` (the monitor
//! process, titled `[lxc monitor] <lxcpath> <name>`). Evidence: the container's directory
//! in an lxcpath (`<lxcpath>/<name>/config`); the lxcpath from the monitor's title, else
//! the defaults of LXC (`/var/lib/lxc`), LXD (`/var/snap/lxd/common/lxd/containers`,
//! `/var/lib/lxd/containers`) and Incus (`/var/lib/incus/containers`), which decide the
//! runtime's name.
//!
//! Sources: lxc/lxc `src/lxc/cgroups/cgfsng.c` (`lxc.payload.`, `lxc.monitor.`,
//! `lxc.pivot`), `src/lxc/lxccontainer.c` and `src/lxc/initutils.c` (`setproctitle`:
//! `[lxc monitor] <lxcpath> <name>`), `doc/lxc.container.conf.sgml.in`
//! (`lxc.uts.name`, `lxc.rootfs.path`); canonical/lxd `lxd/instance/drivers/driver_lxc.go`
//! and lxc/incus `internal/server/instance/drivers/driver_lxc.go` (their lxcpaths and
//! `<project>_<name>` names).

use super::{Family, IdentityKind, ProcFacts, Runtime};
use crate::classify::*;
use crate::resolve::{cut, Identity, ProcessRole, Resolver, RootKey};
use crate::tree::identify::Facts;
use std::path::Path;

/// The LXC row.
pub struct Lxc;

/// lxcpaths searched when no monitor names one, with the runtime each one means.
pub const DEFAULT_LXCPATHS: &[(&str, &str)] = &[
    ("var/lib/lxc", "lxc"),
    ("var/snap/lxd/common/lxd/containers", "lxd"),
    ("var/lib/lxd/containers", "lxd"),
    ("var/lib/incus/containers", "incus"),
];

/// The monitor's process title, as `/proc/PID/cmdline` shows it (`[lxc monitor]`).
pub fn is_monitor_title(arg0: &[u8]) -> bool {
    arg0.starts_with(b"[lxc monitor]")
}

/// `(lxcpath, name)` from a monitor's title: `[lxc monitor] <lxcpath> <name>` in one
/// argument (the kernel shows a rewritten title as one string) or split in several.
pub fn monitor_claim<'a>(args: &[&'a [u8]]) -> Option<(&'a [u8], &'a [u8])> {
    let first = *args.first()?;
    let rest = first.strip_prefix(b"[lxc monitor]")?;
    // The name is the last word (LXC refuses names with spaces); the lxcpath, which may
    // hold spaces, is everything before it.
    let (path, name) = if args.len() > 1 {
        let name = *args.last()?;
        let path = if args.len() == 2 {
            rest.trim_ascii()
        } else {
            args[1]
        };
        (path, name)
    } else {
        let rest = rest.trim_ascii();
        let at = rest.iter().rposition(|&b| b == b' ')?;
        (rest[..at].trim_ascii_end(), &rest[at + 1..])
    };
    (path.starts_with(b"/") && !name.is_empty() && !name.contains(&b' ')).then_some((path, name))
}

impl Runtime for Lxc {
    fn family(&self) -> Family {
        Family::Lxc
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "lxc/lxc src/lxc/cgroups/cgfsng.c",
            "lxc/lxc src/lxc/initutils.c",
            "canonical/lxd lxd/instance/drivers/driver_lxc.go",
            "lxc/incus internal/server/instance/drivers/driver_lxc.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        if let Some(n) = name.strip_prefix(b"lxc.payload.") {
            return crate::runtime::named(
                Family::Lxc,
                IdentityKind::LxcContainer,
                n,
                Ctx::ContainerTop,
            );
        }
        if let Some(n) = name.strip_prefix(b"lxc.monitor.") {
            return crate::runtime::named(Family::Lxc, IdentityKind::LxcMonitor, n, Ctx::Host);
        }
        None
    }

    fn state_files(&self) -> &'static [&'static str] {
        &["<lxcpath>/*/config"]
    }

    fn names_state(&self, argv0: &[u8]) -> bool {
        is_monitor_title(argv0)
    }

    fn claims_helper(&self, argv0: &[u8]) -> bool {
        is_monitor_title(argv0)
    }

    fn snapshot_keep(&self, rel: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
        // An LXC container's config: only that it is one (its `lxc.uts.name`).
        if rel.file_name()? != "config" || !is_lxc_config(bytes) {
            return None;
        }
        let mut out = b"# cgtree snapshot: only the container's name\n".to_vec();
        let names: Vec<&[u8]> = bytes
            .split(|&b| b == b'\n')
            .take(4096)
            .map(<[u8]>::trim_ascii)
            .filter(|l| l.starts_with(b"lxc.uts.name") && l.contains(&b'='))
            .collect();
        if names.is_empty() {
            // Still an LXC config once reduced.
            out.extend_from_slice(b"lxc.uts.name =\n");
        }
        for l in names {
            out.extend_from_slice(l);
            out.push(b'\n');
        }
        Some(out)
    }

    fn note_process(&self, r: &mut Resolver, _pid: u32, args: &[&[u8]], uids: Option<[u32; 4]>) {
        // Root's monitors name root's lxcpaths; a user's monitor that user's own (kept
        // apart: `UID:name`).
        let Some(uid) = uids.filter(|u| u.iter().all(|&x| x == u[0])).map(|u| u[0]) else {
            return;
        };
        let Some((path, name)) = monitor_claim(args) else {
            return;
        };
        let name = String::from_utf8_lossy(name).into_owned();
        let key = if uid == 0 {
            name
        } else {
            format!("{uid}:{name}")
        };
        if path.len() < 4096 && key.len() < 256 {
            r.learn(
                Family::Lxc,
                key,
                String::from_utf8_lossy(path)
                    .trim_start_matches('/')
                    .to_string(),
            );
        }
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        let Kind::Named { what, name, .. } = f.kind else {
            return None;
        };
        // A user's cgroup is named only from that user's own lxcpath (unprivileged LXC).
        let user = f.owner.filter(|&u| u != 0 && f.root == RootKey::Host);
        let found = match user {
            Some(u) => r.user_lxc_container(u, name),
            None => r.lxc_container(f.root, name),
        };
        Some(match found {
            Some((runtime, _)) => Identity {
                kind: *what,
                runtime: Some(runtime),
                name: Some(name.clone()),
                user,
                rootless: user.map(|_| true),
                ..Default::default()
            },
            None => crate::tree::identify::unidentified(match user {
                Some(u) => format!(
                    "an LXC-shaped cgroup user {u} owns; no container {name} in that user's lxcpaths"
                ),
                None => format!("an LXC-shaped cgroup; no container {name} in any lxcpath"),
            }),
        })
    }

    fn role(&self, r: &mut Resolver, p: &ProcFacts<'_>) -> Option<ProcessRole> {
        let (path, name) = monitor_claim(p.args)?;
        let uid = p
            .uids
            .filter(|u| u.iter().all(|&x| x == u[0]))
            .map(|u| u[0])?;
        let lxcpath = String::from_utf8_lossy(path).into_owned();
        let name = String::from_utf8_lossy(name).into_owned();
        let runtime = runtime_of(&lxcpath)?;
        let rel = lxcpath.trim_start_matches('/');
        let holds = if uid == 0 {
            r.lxc_has(p.root, rel, &name)
        } else {
            // An unprivileged user's monitor names a container of that user's own
            // lxcpath, in their home (read with the user-file rules).
            p.root == RootKey::Host && r.user_lxc_has(uid, rel, &name)
        };
        if !holds {
            return None;
        }
        Some(ProcessRole::LxcMonitor {
            name: cut(name),
            lxcpath: cut(lxcpath),
            runtime,
        })
    }
}

/// The runtime an lxcpath belongs to: a default one's, or `lxc` for any other absolute
/// path without `..` (`lxc-start -P`).
fn runtime_of(lxcpath: &str) -> Option<&'static str> {
    let rel = lxcpath.strip_prefix('/')?;
    if rel
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return None;
    }
    Some(
        DEFAULT_LXCPATHS
            .iter()
            .find(|(p, _)| *p == rel)
            .map_or("lxc", |(_, r)| r),
    )
}

impl Resolver {
    /// Whether lxcpath `rel` (under `root`) holds container `name` (its directory; for
    /// LXC its `config` in it).
    pub(crate) fn lxc_has(&mut self, root: RootKey, rel: &str, name: &str) -> bool {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return false;
        }
        if !self
            .listed(root, Path::new(rel))
            .is_some_and(|l| l.contains(name))
        {
            return false;
        }
        match runtime_of(&format!("/{rel}")) {
            // LXC's own config of the container (what `lxc-start` reads): a file with
            // `lxc.` keys.
            Some("lxc") => {
                let quiet = std::mem::replace(&mut self.quiet, true);
                let cfg =
                    self.read_limited(root, &Path::new(rel).join(name).join("config"), 1 << 20);
                self.quiet = quiet;
                cfg.is_some_and(|c| is_lxc_config(&c))
            }
            Some(_) => true,
            None => false,
        }
    }

    /// The runtime and lxcpath of LXC container `name`: the lxcpath its monitor named
    /// ([`Resolver::note_process`]), else the defaults of LXC, LXD and Incus.
    pub(crate) fn lxc_container(
        &mut self,
        root: RootKey,
        name: &str,
    ) -> Option<(&'static str, String)> {
        let mut paths = self.learned(Family::Lxc, name);
        paths.extend(DEFAULT_LXCPATHS.iter().map(|(p, _)| (*p).to_string()));
        paths.into_iter().find_map(|p| {
            let runtime = runtime_of(&format!("/{p}"))?;
            self.lxc_has(root, &p, name).then_some((runtime, p))
        })
    }
}

/// An unprivileged user's default lxcpath, below their home (`lxc.lxcpath`'s default for
/// a user: `$XDG_DATA_HOME/lxc`, i.e. `~/.local/share/lxc`; lxc `src/lxc/initutils.c`).
pub const USER_LXCPATH: &str = ".local/share/lxc";

impl Resolver {
    /// Whether user `uid`'s lxcpath `rel` (a path under the host root, inside the user's
    /// home) holds container `name`: its config, read with the user-file rules (no link
    /// followed, the user's own file).
    pub(crate) fn user_lxc_has(&mut self, uid: u32, rel: &str, name: &str) -> bool {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return false;
        }
        let Some(home) = self
            .home(uid)
            .filter(|h| h.is_absolute() && h != Path::new("/"))
        else {
            return false;
        };
        let Ok(home_rel) = home.strip_prefix("/") else {
            return false;
        };
        let Ok(below) = Path::new(rel).strip_prefix(home_rel) else {
            return false;
        };
        if !below
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return false;
        }
        let quiet = std::mem::replace(&mut self.quiet, true);
        let cfg = self.read_user(uid, home_rel, &below.join(name).join("config"), 1 << 20);
        self.quiet = quiet;
        cfg.is_some_and(|c| is_lxc_config(&c))
    }

    /// The lxcpath of user `uid`'s container `name`: the one its monitor named, else
    /// the user's default.
    pub(crate) fn user_lxc_container(
        &mut self,
        uid: u32,
        name: &str,
    ) -> Option<(&'static str, String)> {
        let mut paths = self.learned(Family::Lxc, &format!("{uid}:{name}"));
        if let Some(h) = self.home(uid) {
            if let Ok(h) = h.strip_prefix("/") {
                paths.push(h.join(USER_LXCPATH).to_string_lossy().into_owned());
            }
        }
        paths
            .into_iter()
            .find_map(|p| self.user_lxc_has(uid, &p, name).then_some(("lxc", p)))
    }
}

/// Whether bytes read like an LXC config: some line sets an `lxc.` key (comments and
/// blank lines aside), as `lxc.container.conf(5)` describes.
pub fn is_lxc_config(bytes: &[u8]) -> bool {
    bytes
        .split(|&b| b == b'\n')
        .take(4096)
        .map(<[u8]>::trim_ascii)
        .any(|l| l.starts_with(b"lxc.") && l.contains(&b'='))
}
