//! systemd-nspawn and systemd-machined: `machine-<name>.scope` (a machine machined
//! registered: an nspawn container, a libvirt guest, ...) and
//! `systemd-nspawn@<name>.service` with its `payload` (the container, read inside as a
//! fresh host) and `supervisor` (nspawn itself) sub-cgroups. Evidence: machined's record
//! `/run/systemd/machines/<name>` (`NAME=`, `SCOPE=`, `SERVICE=`, `CLASS=`, `LEADER=`),
//! whose `SERVICE` names the runtime; without a record, nspawn's unit is evidence of
//! nspawn by itself (its `supervisor` runs `systemd-nspawn`).
//!
//! Sources: systemd `src/machine/machine.c` (`machine_save`: the record's keys; the
//! scope `machine-<escaped name>.scope`), `src/nspawn/nspawn.c` and
//! `src/nspawn/nspawn-cgroup.c` (`payload`, `supervisor` when it runs in its own unit),
//! `units/systemd-nspawn@.service.in`, `src/basic/unit-name.c` (`\x2d` escapes).

use super::{Family, IdentityKind, Runtime};
use crate::classify::*;
use crate::resolve::{cut, Identity, Resolver, RootKey};
use crate::tree::identify::Facts;
use std::path::Path;

/// The nspawn/machined row.
pub struct Nspawn;

impl Runtime for Nspawn {
    fn family(&self) -> Family {
        Family::Nspawn
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "systemd/systemd src/machine/machine.c",
            "systemd/systemd src/nspawn/nspawn-cgroup.c",
            "systemd/systemd units/systemd-nspawn@.service.in",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        if let Some(n) = name
            .strip_prefix(b"machine-")
            .and_then(|r| r.strip_suffix(b".scope"))
        {
            return crate::runtime::named(
                Family::Nspawn,
                IdentityKind::Machine,
                n,
                Ctx::ContainerTop,
            );
        }
        let n = name
            .strip_prefix(b"systemd-nspawn@")
            .and_then(|r| r.strip_suffix(b".service"))
            .filter(|n| !n.is_empty())?;
        Some((Kind::Unit, Ctx::Below(Family::Nspawn, text(n))))
    }

    fn classify_below(&self, name: &[u8], ctx: &Ctx) -> Option<(Kind, Ctx)> {
        let Ctx::Below(_, machine) = ctx else {
            return None;
        };
        match name {
            b"payload" => crate::runtime::named(
                Family::Nspawn,
                IdentityKind::Machine,
                machine.as_bytes(),
                Ctx::ContainerTop,
            ),
            b"supervisor" => crate::runtime::named(
                Family::Nspawn,
                IdentityKind::NspawnSupervisor,
                machine.as_bytes(),
                Ctx::Host,
            ),
            _ => None,
        }
    }

    fn state_files(&self) -> &'static [&'static str] {
        &["run/systemd/machines/*"]
    }

    fn snapshot_keep(&self, rel: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
        // machined's record: the keys cgtree reads.
        if rel.parent() != Some(Path::new("run/systemd/machines")) {
            return None;
        }
        let mut out = Vec::new();
        for line in bytes.split(|&b| b == b'\n').take(256) {
            if [&b"NAME="[..], b"SCOPE=", b"SERVICE=", b"CLASS=", b"LEADER="]
                .iter()
                .any(|k| line.starts_with(k))
            {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
        }
        Some(out)
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        let Kind::Named { what, name, .. } = f.kind else {
            return None;
        };
        let decoded = crate::classify::unescape_systemd(name.as_bytes());
        let machine = String::from_utf8_lossy(&decoded).into_owned();
        if !machine.chars().all(crate::classify::is_display_safe) {
            return None;
        }
        let record = r.machine_record(&machine);
        let under_unit = matches!(f.parent_name, Some(p) if p.starts_with(b"systemd-nspawn@"));
        let runtime = match (&record, under_unit) {
            (Some(rec), _) => Some(rec.service),
            // nspawn's own unit: the evidence is the unit nspawn runs in.
            (None, true) => Some("systemd-nspawn"),
            (None, false) => {
                return Some(crate::tree::identify::unidentified(format!(
                    "a machine scope; no systemd-machined record for machine {}",
                    machine
                )))
            }
        };
        Some(Identity {
            kind: *what,
            runtime,
            name: Some(cut(machine)),
            ..Default::default()
        })
    }
}

/// What machined's record says about a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineRecord {
    /// `SERVICE=`: who registered it (`systemd-nspawn`, `libvirt-qemu`, ...), mapped to
    /// a known name, else `machined`.
    pub service: &'static str,
    /// `CLASS=`: `container` or `vm`.
    pub class: Option<String>,
    /// `LEADER=`: the machine's leader PID.
    pub leader: Option<u32>,
}

const SERVICES: &[&str] = &[
    "systemd-nspawn",
    "libvirt-qemu",
    "libvirt-lxc",
    "qemu",
    "lxc",
    "incus",
    "lxd",
];

/// Parses machined's `/run/systemd/machines/<name>` (an environment file: `KEY=value`,
/// values possibly quoted).
pub fn parse_record(bytes: &[u8]) -> MachineRecord {
    let mut rec = MachineRecord {
        service: "machined",
        class: None,
        leader: None,
    };
    for line in bytes.split(|&b| b == b'\n').take(256) {
        let Some(eq) = line.iter().position(|&b| b == b'=') else {
            continue;
        };
        let (k, v) = (&line[..eq], &line[eq + 1..]);
        let v = v.trim_ascii();
        let v = v
            .strip_prefix(b"\"")
            .and_then(|x| x.strip_suffix(b"\""))
            .unwrap_or(v);
        match k {
            b"SERVICE" => {
                if let Some(s) = SERVICES.iter().find(|s| s.as_bytes() == v) {
                    rec.service = s;
                }
            }
            b"CLASS" => {
                rec.class = Some(String::from_utf8_lossy(&v[..v.len().min(32)]).into_owned())
            }
            b"LEADER" => rec.leader = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()),
            _ => {}
        }
    }
    rec
}

impl Resolver {
    /// machined's record of machine `name` (`run/systemd/machines/<name>`), when there.
    pub(crate) fn machine_record(&mut self, name: &str) -> Option<MachineRecord> {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return None;
        }
        let quiet = std::mem::replace(&mut self.quiet, true);
        let bytes = self.read(RootKey::Host, &Path::new("run/systemd/machines").join(name));
        self.quiet = quiet;
        bytes.map(|b| parse_record(&b))
    }
}
