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
    let mut words: Vec<&'a [u8]> = rest
        .split(|&b| b == b' ')
        .filter(|w| !w.is_empty())
        .collect();
    words.extend(args[1..].iter().copied().filter(|w| !w.is_empty()));
    match words[..] {
        [path, name] if path.starts_with(b"/") => Some((path, name)),
        _ => None,
    }
}

fn named(what: IdentityKind, name: &[u8], ctx: Ctx) -> Option<(Kind, Ctx)> {
    (!name.is_empty()).then(|| {
        (
            Kind::Named {
                family: Family::Lxc,
                what,
                name: text(name),
            },
            ctx,
        )
    })
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
            return named(IdentityKind::LxcContainer, n, Ctx::ContainerTop);
        }
        if let Some(n) = name.strip_prefix(b"lxc.monitor.") {
            return named(IdentityKind::LxcMonitor, n, Ctx::Host);
        }
        None
    }

    fn state_files(&self) -> &'static [&'static str] {
        &["<lxcpath>/*/config"]
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        let Kind::Named { what, name, .. } = f.kind else {
            return None;
        };
        Some(match r.lxc_container(f.root, name) {
            Some((runtime, _)) => Identity {
                kind: *what,
                runtime: Some(runtime),
                name: Some(name.clone()),
                ..Default::default()
            },
            None => crate::tree::identify::unidentified(format!(
                "an LXC-shaped cgroup; no container {} in any lxcpath",
                name
            )),
        })
    }

    fn role(&self, r: &mut Resolver, p: &ProcFacts<'_>) -> Option<ProcessRole> {
        let (path, name) = monitor_claim(p.args)?;
        // LXC's monitor runs as root here (an unprivileged user's LXC keeps its lxcpath
        // in their home: not read by root's cgtree).
        if p.uids != Some([0; 4]) {
            return None;
        }
        let lxcpath = String::from_utf8_lossy(path).into_owned();
        let name = String::from_utf8_lossy(name).into_owned();
        let runtime = runtime_of(&lxcpath)?;
        let rel = lxcpath.trim_start_matches('/');
        if !r.lxc_has(p.root, rel, &name) {
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
            Some("lxc") => self
                .listed(root, &Path::new(rel).join(name))
                .is_some_and(|l| l.contains("config")),
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
        let mut paths: Vec<String> = self
            .lxcpaths
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, p)| p.clone())
            .collect();
        paths.extend(DEFAULT_LXCPATHS.iter().map(|(p, _)| (*p).to_string()));
        paths.into_iter().find_map(|p| {
            let runtime = runtime_of(&format!("/{p}"))?;
            self.lxc_has(root, &p, name).then_some((runtime, p))
        })
    }
}
