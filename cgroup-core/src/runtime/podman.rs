//! podman (libpod): container, conmon and pod cgroups, its storage and conmon's claims.
//!
//! Sources: containers/podman `libpod/container.go` (`SystemdDefaultCgroupParent`,
//! `CgroupfsDefaultCgroupParent`), `libpod/container_internal_linux.go`
//! (`<slice>:libpod:<id>`), `libpod/oci_conmon_common.go` (conmon's argv),
//! `libpod/util_linux.go` (`assembleSystemdCgroupName`), `libpod/storage.go`
//! (`RuntimeContainerMetadata`), containers/storage `containers.go`.

use super::{Family, IdentityKind, ProcFacts, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
#[allow(unused_imports)]
use crate::runtime::{containerd::*, docker::*, kind::*, kubelet::*, oci::*};
use crate::tree::identify::Facts;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The podman row.
pub struct Podman;

impl Runtime for Podman {
    fn family(&self) -> Family {
        Family::Podman
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "containers/podman libpod/container_internal_linux.go",
            "containers/podman libpod/oci_conmon_common.go",
            "containers/podman libpod/storage.go",
            "containers/storage containers.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        if let Some(id) = id_between(name, b"libpod-conmon-", b".scope") {
            return Some((Kind::PodmanConmon { id: Some(text(id)) }, Ctx::Host));
        }
        if let Some(id) = id_between(name, b"libpod-payload-", b"")
            .or_else(|| id_between(name, b"libpod-", b".scope"))
            .or_else(|| id_between(name, b"libpod-", b""))
        {
            return Some((Kind::PodmanContainer { id: text(id) }, Ctx::ContainerTop));
        }
        for prefix in [&b"machine-libpod_pod_"[..], b"user-libpod_pod_"] {
            if let Some(id) = id_between(name, prefix, b".slice") {
                return Some((Kind::PodmanPod { id: text(id) }, Ctx::Host));
            }
        }
        if name == b"libpod_parent" {
            return Some((Kind::PodmanParent, Ctx::LibpodParent));
        }
        None
    }

    fn classify_below(&self, name: &[u8], _ctx: &Ctx) -> Option<(Kind, Ctx)> {
        // Below `libpod_parent` (or a cgroupfs pod below it).
        if name == b"conmon" {
            return Some((Kind::PodmanConmon { id: None }, Ctx::Host));
        }
        if let Some(id) = id_between(name, b"libpod-", b"") {
            return Some((Kind::PodmanContainer { id: text(id) }, Ctx::ContainerTop));
        }
        if is_container_id(name) {
            return Some((Kind::PodmanPod { id: text(name) }, Ctx::LibpodParent));
        }
        None
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        let base = |kind| Identity {
            kind,
            runtime: Some("podman"),
            ..Default::default()
        };
        match f.kind {
            Kind::PodmanContainer { id } => Some(
                r.container(id, Some(Family::Podman), f.owner, f.conmon_names)
                    .unwrap_or_else(|| no_state(f.name, id)),
            ),
            Kind::PodmanConmon { id: Some(cid) } => {
                let named = f.conmon_names.get(cid).cloned();
                if named.is_none() && !r.podman_has(cid, f.owner) {
                    return Some(crate::tree::identify::unidentified(format!(
                        "libpod-conmon scope of {}, no podman state or conmon names it",
                        &cid[..12]
                    )));
                }
                Some(Identity {
                    id: Some(cid.clone()),
                    name: named.flatten(),
                    ..base(IdentityKind::PodmanConmon)
                })
            }
            Kind::PodmanConmon { id: None } => Some(base(IdentityKind::PodmanConmon)),
            Kind::PodmanPod { id } => Some(Identity {
                id: Some(id.clone()),
                ..base(IdentityKind::PodmanPod)
            }),
            Kind::PodmanParent => Some(base(IdentityKind::PodmanParent)),
            _ => None,
        }
    }

    fn role(&self, r: &mut Resolver, p: &ProcFacts<'_>) -> Option<ProcessRole> {
        let exe = p.args.first()?;
        let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
        if base != b"conmon" {
            return None;
        }
        let uid = p
            .uids
            .filter(|u| u.iter().all(|&x| x == u[0]))
            .map(|u| u[0]);
        let (id, name, _) = r.conmon_claim(p.args, uid)?;
        Some(ProcessRole::Conmon {
            id,
            name,
            runtime: "podman",
            pod: None,
        })
    }
}

#[derive(Deserialize)]
pub(crate) struct PodmanEntry {
    pub(crate) id: String,
    #[serde(default)]
    pub(crate) names: Vec<String>,
    #[serde(default)]
    pub(crate) metadata: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct PodmanMetadata {
    #[serde(rename = "image-name", default)]
    pub(crate) image_name: Option<String>,
    /// CRI-O's `RuntimeContainerMetadata` (cri-o `internal/storage/runtime.go`) has
    /// `pod-name` and `pod-id`; libpod's has neither. containers/storage is shared, so
    /// an entry with them is CRI-O's container, not podman's.
    #[serde(rename = "pod-id", default)]
    pub(crate) pod_id: Option<String>,
}

/// One podman container from `containers.json`.
#[derive(Debug, Clone)]
pub(crate) struct PodmanInfo {
    pub(crate) name: Option<String>,
    pub(crate) image: Option<String>,
}

/// podman's rootful storage, under the host root.
pub(crate) const ROOTFUL_GRAPHROOT: &str = "var/lib/containers/storage";

/// podman's rootless storage, under the owner's home.
pub(crate) const ROOTLESS_GRAPHROOT: &str = ".local/share/containers/storage";

/// Largest pidfile read (a PID and a newline).
pub(crate) const MAX_PIDFILE: u64 = 32;

/// How many users' homes are searched for a rootless container outside a user slice.
pub const MAX_HOMES_SCANNED: usize = 256;

impl Resolver {
    /// podman's containers of one storage: rootful (`user: None`, under the host root)
    /// or of user `uid` with home `home` (read with the user-directory rules).
    pub(crate) fn podman_storage(
        &mut self,
        user: Option<(u32, &Path)>,
    ) -> Rc<HashMap<String, PodmanInfo>> {
        let graphroot = match user {
            None => PathBuf::from(ROOTFUL_GRAPHROOT),
            Some((_, home)) => home.join(ROOTLESS_GRAPHROOT),
        };
        if let Some(m) = self.podman.get(&graphroot) {
            return m.clone();
        }
        let mut map = HashMap::new();
        let entries = match user {
            None => self.list(RootKey::Host, &graphroot),
            Some((uid, home)) => self.list_user(uid, home, Path::new(ROOTLESS_GRAPHROOT)),
        };
        for entry in entries {
            // overlay-containers, vfs-containers, btrfs-containers, ...: a plain token,
            // safe to join.
            if !entry.ends_with(b"-containers") || !is_containerd_id(&entry) {
                continue;
            }
            let dir = String::from_utf8_lossy(&entry).into_owned();
            let list = match user {
                None => self.read_json::<Vec<PodmanEntry>>(
                    RootKey::Host,
                    &graphroot.join(&dir).join("containers.json"),
                ),
                Some((uid, home)) => self.read_user_json::<Vec<PodmanEntry>>(
                    uid,
                    home,
                    &Path::new(ROOTLESS_GRAPHROOT)
                        .join(&dir)
                        .join("containers.json"),
                ),
            };
            let Some(list) = list else {
                continue;
            };
            for e in list {
                if !is_container_id(e.id.as_bytes()) {
                    continue;
                }
                let meta = e
                    .metadata
                    .as_deref()
                    .and_then(|m| serde_json::from_str::<PodmanMetadata>(m).ok());
                if meta.as_ref().is_some_and(|m| m.pod_id.is_some()) {
                    continue;
                }
                let image = meta
                    .and_then(|m| m.image_name)
                    .filter(|i| !i.is_empty())
                    .map(cut);
                map.insert(
                    e.id,
                    PodmanInfo {
                        name: e.names.into_iter().find(|n| !n.is_empty()).map(cut),
                        image,
                    },
                );
            }
        }
        let rc = Rc::new(map);
        self.podman.insert(graphroot, rc.clone());
        rc
    }

    pub(crate) fn rootful_podman_has(&mut self, id: &str) -> bool {
        self.podman_storage(None).contains_key(id)
    }

    /// The user (not root) whose rootless podman storage holds container `id`: the
    /// users of `etc/passwd` with a home, lowest UID first, at most [`MAX_HOMES_SCANNED`].
    /// A home cgtree may not read is passed over silently (this is a search, not a read
    /// the output depends on); a storage file that is there but broken is still reported.
    pub(crate) fn rootless_podman_owner(&mut self, id: &str) -> Option<u32> {
        let passwd = self.passwd();
        let mut users: Vec<(u32, &PathBuf)> = passwd
            .iter()
            .filter(|(&uid, (_, home))| uid != 0 && home.is_absolute() && home != Path::new("/"))
            .map(|(&uid, (_, home))| (uid, home))
            .collect();
        users.sort_unstable();
        users.truncate(MAX_HOMES_SCANNED);
        let quiet = std::mem::replace(&mut self.quiet, true);
        let found = users.into_iter().find_map(|(uid, home)| {
            self.podman_storage(Some((uid, home)))
                .contains_key(id)
                .then_some(uid)
        });
        self.quiet = quiet;
        found
    }

    /// conmon's `-c ID` and `-n NAME` when they are checked tokens and `uid` (conmon's
    /// UID, all four equal) owns the container by its state; with that owner.
    pub(crate) fn conmon_claim(
        &mut self,
        args: &[&[u8]],
        uid: Option<u32>,
    ) -> Option<(String, Option<String>, u32)> {
        let id = flag_value(args, &[b"-c", b"--cid"]).filter(|v| is_container_id(v))?;
        let name = match flag_value(args, &[b"-n", b"--name"]) {
            Some(n) if is_plain_name(n) => Some(lossy(n)),
            Some(_) => return None,
            None => None,
        };
        let id = lossy(id);
        let uid = uid?;
        (self.container_owner(&id)? == uid).then_some((id, name, uid))
    }

    /// Where conmon (command line `args`, running as `uid`) keeps its container's
    /// pidfile (`-p`, `--container-pidfile`), when that is where podman puts it for a
    /// container of that user: `(base, rel)`, `base` the runtime's own directory and
    /// `rel` below it. Anything else (another directory, `..`, a device, a file of root's
    /// named by a user's conmon) is not a pidfile cgtree opens.
    ///
    /// podman's layout (containers/podman `docs/source/markdown/options/pidfile.md`: "the
    /// container process' PID will be written to
    /// /run/containers/storage/${storage-driver}-containers/$CID/userdata/pidfile"; an
    /// exec session's `exec_pid` is in `<session id>/` of the container's bundle
    /// directory, libpod's `execPidPath`), as captured in `fixtures/live-*-podman`:
    /// - root: `/run/containers/storage` (older: `/var/run/containers/storage`, the run
    ///   root) or `/var/lib/containers/storage` (the graph root),
    /// - a user: `/run/user/UID/containers` or `~/.local/share/containers/storage`,
    ///
    /// followed by `<driver>-containers/<conmon's -c>/userdata/pidfile` or
    /// `.../userdata/<64-hex session id>/exec_pid`.
    pub(crate) fn pidfile_place(&mut self, args: &[&[u8]], uid: u32) -> Option<(PathBuf, PathBuf)> {
        use std::os::unix::ffi::OsStrExt;
        let id = flag_value(args, &[b"-c", b"--cid"]).filter(|v| is_container_id(v))?;
        let path = flag_value(args, &[b"-p", b"--container-pidfile"])?;
        let path = Path::new(std::ffi::OsStr::from_bytes(path));
        let rel = path.strip_prefix("/").ok()?;
        if !rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
        {
            return None;
        }
        let bases: Vec<PathBuf> = if uid == 0 {
            [
                "run/containers/storage",
                "var/run/containers/storage",
                ROOTFUL_GRAPHROOT,
            ]
            .iter()
            .map(PathBuf::from)
            .collect()
        } else {
            let mut b = vec![PathBuf::from(format!("run/user/{uid}/containers"))];
            if let Some(h) = self.home(uid) {
                if h.is_absolute() && h != Path::new("/") {
                    b.push(h.strip_prefix("/").ok()?.join(ROOTLESS_GRAPHROOT));
                }
            }
            b
        };
        for base in bases {
            let Ok(tail) = rel.strip_prefix(&base) else {
                continue;
            };
            let c: Vec<&[u8]> = tail.iter().map(|c| c.as_bytes()).collect();
            let driver_ok = |d: &[u8]| {
                d.strip_suffix(b"-containers").is_some_and(|drv| {
                    !drv.is_empty()
                        && drv
                            .iter()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
                })
            };
            let shape = match c[..] {
                [d, i, b"userdata", b"pidfile"] => driver_ok(d) && i == id,
                [d, i, b"userdata", session, b"exec_pid"] => {
                    driver_ok(d) && i == id && is_container_id(session)
                }
                _ => false,
            };
            if shape {
                return Some((base, tail.to_path_buf()));
            }
        }
        None
    }

    /// The pidfile cgtree accepts for conmon (command line `args`, running as `uid`):
    /// its path relative to the host root, or `None` when it is not where podman keeps
    /// it for that user's container (see [`Resolver::conmon_pidfile_pid`]). Nothing is
    /// opened. `cgtree snapshot` copies only such a pidfile.
    pub fn accepted_pidfile(&mut self, args: &[&[u8]], uid: u32) -> Option<PathBuf> {
        self.pidfile_place(args, uid).map(|(b, r)| b.join(r))
    }

    /// The PID conmon (command line `args`, running on the host as `uid`) wrote to its
    /// pidfile (`-p`, `--container-pidfile`): the container's init, or an exec
    /// session's process. Only a pidfile at [`Resolver::accepted_pidfile`] is opened,
    /// with the user-directory rules (no symlink below the runtime's directory, a
    /// regular file with one link owned by `uid` on a live host, at most 32 bytes).
    /// Quiet: a pidfile that is gone or refused only means no label.
    pub fn conmon_pidfile_pid(&mut self, args: &[&[u8]], uid: u32) -> Option<u32> {
        let (base, rel) = self.pidfile_place(args, uid)?;
        let quiet = std::mem::replace(&mut self.quiet, true);
        let bytes = self.read_user(uid, &base, &rel, MAX_PIDFILE);
        self.quiet = quiet;
        let text = std::str::from_utf8(&bytes?).ok()?.trim().to_string();
        text.parse::<u32>().ok().filter(|&p| p > 1)
    }

    /// Whether host process `pid` may be labelled as started by the conmon `conmon_pid`
    /// running as `conmon_uid`: conmon is its parent (conmon is the subreaper its
    /// container's init and exec sessions are reparented to), and it runs with one UID
    /// (no set-user-ID gain) that is not root unless conmon is root's. A user's conmon
    /// thus never labels a root process.
    pub fn started_by(&mut self, pid: u32, conmon_pid: u32, conmon_uid: u32) -> bool {
        let Some((Some(u), Some(ppid))) = self.process_status(pid) else {
            return false;
        };
        ppid == conmon_pid && u.iter().all(|&x| x == u[0]) && (conmon_uid == 0 || u[0] != 0)
    }
}

/// A container-shaped cgroup with no runtime state behind it.
pub(crate) fn no_state(_name: &[u8], id: &str) -> Identity {
    crate::tree::identify::unidentified(format!(
        "a container-shaped cgroup; no podman, docker, containerd or OCI runtime state names container {}",
        &id[..12.min(id.len())]
    ))
}

impl Resolver {
    /// Whether podman's storage (root's, or the owner's) holds container `id`.
    pub(crate) fn podman_has(&mut self, id: &str, owner: Option<u32>) -> bool {
        match owner.filter(|&u| u != 0) {
            Some(u) => self
                .home(u)
                .is_some_and(|h| self.podman_storage(Some((u, &h))).contains_key(id)),
            None => self.rootful_podman_has(id),
        }
    }
}
