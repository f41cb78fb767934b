//! podman (libpod): container, conmon and pod cgroups, its storage and conmon's claims.
//!
//! Sources: containers/podman `libpod/container.go` (`SystemdDefaultCgroupParent`,
//! `CgroupfsDefaultCgroupParent`), `libpod/container_internal_linux.go`
//! (`<slice>:libpod:<id>`), `libpod/oci_conmon_common.go` (conmon's argv),
//! `libpod/util_linux.go` (`assembleSystemdCgroupName`), `libpod/storage.go`
//! (`RuntimeContainerMetadata`), containers/storage `containers.go`.
//!
//! Where root's storage is (its graph root): where root's conmon processes say (their
//! `-b <bundle>`: libpod's bundle is the container's static dir,
//! `<graphroot>/<driver>-containers/<id>/userdata`, containers/podman
//! `libpod/container_internal.go` `bundlePath`, passed as `-b` in
//! `libpod/oci_conmon_common.go` `sharedConmonArgs`), then the `[storage] graphroot` of
//! `/etc/containers/storage.conf` (else `/usr/share/containers/storage.conf`:
//! containers/storage `docs/containers-storage.conf.5.md`), then
//! `/var/lib/containers/storage`. A user's rootless storage stays in their home.

use super::{Family, IdentityKind, ProcFacts, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
use crate::runtime::engines::{container, Scope};
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
                match container(r, f.root, id, Some(Family::Podman), f.owner, f.conmon_names) {
                    Some(ident) => ident,
                    None => no_state(f.name, id),
                },
            ),
            Kind::PodmanConmon { id: Some(cid) } => {
                let named = f.conmon_names.get(cid).cloned();
                let named = named.filter(|_| f.root == RootKey::Host);
                let scope = Scope::new(f.root, f.owner);
                if named.is_none() && lookup(r, &scope, cid).is_none() {
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

    fn snapshot_keep(&self, rel: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
        use crate::runtime::pick;
        use serde_json::Value;
        match crate::runtime::file_name(rel)? {
            "containers.json" => {
                let v = serde_json::from_slice::<Value>(bytes).ok()?;
                let list = v
                    .as_array()?
                    .iter()
                    .map(|e| {
                        let mut o = pick(e, &["id", "names"]);
                        if let Some(m) = e
                            .get("metadata")
                            .and_then(Value::as_str)
                            .and_then(|m| serde_json::from_str::<Value>(m).ok())
                        {
                            // `pod-id` tells CRI-O's entries from podman's.
                            o["metadata"] = Value::String(
                                pick(&m, &["image-name", "name", "pod-id"]).to_string(),
                            );
                        }
                        o
                    })
                    .collect();
                Some(crate::runtime::json_line(&Value::Array(list)))
            }
            // Its database: only the labels cgtree reads (never the configurations).
            "bolt_state.db" => reduce_db(bytes, false),
            "db.sql" => reduce_db(bytes, true),
            // containers/storage's configuration: only its graph root.
            "storage.conf" => {
                let mut out = b"[storage]\n".to_vec();
                if let Some(g) = storage_conf_graphroot(bytes) {
                    out.extend_from_slice(b"graphroot = \"");
                    out.extend(g.iter().filter(|&&b| b != b'"' && b != b'\n'));
                    out.extend_from_slice(b"\"\n");
                }
                Some(out)
            }
            // conmon's pidfiles: one PID.
            "pidfile" | "exec_pid" => {
                let pid = std::str::from_utf8(bytes)
                    .ok()?
                    .trim()
                    .parse::<u32>()
                    .ok()?;
                Some(format!("{pid}\n").into_bytes())
            }
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
        let (id, name, _) = r.conmon_claim(p.args, uid, p.root)?;
        Some(ProcessRole::Conmon {
            id,
            name,
            runtime: "podman",
            pod: None,
        })
    }

    fn claims_helper(&self, argv0: &[u8]) -> bool {
        crate::runtime::base(argv0) == b"conmon"
    }

    fn names_state(&self, argv0: &[u8]) -> bool {
        crate::runtime::base(argv0) == b"conmon"
    }

    fn note_process(&self, r: &mut Resolver, _pid: u32, args: &[&[u8]], uids: Option<[u32; 4]>) {
        // Root's conmon names root's graph root; a user's rootless storage is read in
        // their home, never where their processes point.
        if uids != Some([0; 4]) {
            return;
        }
        if let Some(g) = bundle_graphroot(args).and_then(|g| g.to_str().map(str::to_owned)) {
            r.learn(Family::Podman, GRAPHROOT_KEY.into(), g);
        }
    }
}

/// The key under which the graph roots root's conmon named are learned.
const GRAPHROOT_KEY: &str = "graphroot";

/// containers/storage's configuration files for root, in the order they are looked for
/// (containers/storage `docs/containers-storage.conf.5.md`: the distribution's
/// `/usr/share/containers/storage.conf` is the default, `/etc/containers/storage.conf`
/// replaces it).
pub(crate) const STORAGE_CONFS: &[&str] = &[
    "etc/containers/storage.conf",
    "usr/share/containers/storage.conf",
];

/// Largest `storage.conf` read.
const MAX_STORAGE_CONF: u64 = 1 << 20;

/// The graph root a podman conmon's command line says, as a path under the host root:
/// its bundle (`-b`, `--bundle`) is `<graphroot>/<driver>-containers/<id>/userdata` with
/// `<id>` its own `-c` (`--cid`) and `<driver>` a storage driver's name (lower-case
/// letters and digits), an absolute path without `..`. Any other shape (CRI-O's bundle
/// in its run root has it too, and names no podman storage: harmless, as nothing is read
/// there but `containers.json`) is `None`.
pub fn bundle_graphroot(args: &[&[u8]]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let id = flag_value(args, &[b"-c", b"--cid"]).filter(|v| is_container_id(v))?;
    let bundle = abs_rel(flag_value(args, &[b"-b", b"--bundle"])?)?;
    let c: Vec<&[u8]> = bundle.iter().map(|c| c.as_bytes()).collect();
    let [.., d, i, b"userdata"] = c[..] else {
        return None;
    };
    if i != id || !is_driver_dir(d) || c.len() < 4 {
        return None;
    }
    Some(bundle.ancestors().nth(3)?.to_path_buf())
}

/// `<driver>-containers` with a storage driver's name (`overlay`, `vfs`, `btrfs`, ...).
fn is_driver_dir(d: &[u8]) -> bool {
    d.strip_suffix(b"-containers").is_some_and(|drv| {
        !drv.is_empty()
            && drv
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// The `graphroot = "<dir>"` of a containers/storage configuration (TOML) in its
/// `[storage]` table, without a TOML library: a basic or literal string on one line.
pub fn storage_conf_graphroot(toml: &[u8]) -> Option<&[u8]> {
    crate::runtime::toml_string(toml, Some(b"storage"), b"graphroot")
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
    /// podman's rootful graph roots in `root`: the ones root's conmon processes named
    /// ([`Runtime::note_process`]), then the `graphroot` of `root`'s containers/storage
    /// configuration ([`STORAGE_CONFS`], read once per root), then the default
    /// `/var/lib/containers/storage`.
    pub(crate) fn podman_graphroots(&mut self, root: RootKey) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .learned(Family::Podman, GRAPHROOT_KEY)
            .into_iter()
            .map(PathBuf::from)
            .collect();
        let conf = match self.podman_conf.get(&root) {
            Some(c) => c.clone(),
            None => {
                let quiet = std::mem::replace(&mut self.quiet, true);
                let found = STORAGE_CONFS
                    .iter()
                    .find_map(|c| self.read_limited(root, Path::new(c), MAX_STORAGE_CONF))
                    .and_then(|b| storage_conf_graphroot(&b).and_then(abs_rel));
                self.quiet = quiet;
                self.podman_conf.insert(root, found.clone());
                found
            }
        };
        v.extend(conf);
        v.push(PathBuf::from(ROOTFUL_GRAPHROOT));
        let mut seen = std::collections::HashSet::new();
        v.retain(|g| seen.insert(g.clone()));
        v
    }

    /// podman's containers in user `uid`'s rootless storage below their home `home`.
    pub(crate) fn rootless_podman_storage(
        &mut self,
        uid: u32,
        home: &Path,
    ) -> Rc<HashMap<String, PodmanInfo>> {
        self.podman_storage(
            RootKey::Host,
            Some((uid, home)),
            Path::new(ROOTFUL_GRAPHROOT),
        )
    }

    /// podman's containers of one storage: rootful (`user: None`, graph root `rootful`
    /// under `root`: the host or a container's root) or of user `uid` with home `home`
    /// (under the host root, read with the user-directory rules).
    fn podman_storage(
        &mut self,
        root: RootKey,
        user: Option<(u32, &Path)>,
        rootful: &Path,
    ) -> Rc<HashMap<String, PodmanInfo>> {
        let (root, graphroot) = match user {
            None => (root, rootful.to_path_buf()),
            Some((_, home)) => (RootKey::Host, home.join(ROOTLESS_GRAPHROOT)),
        };
        let key = (root, graphroot);
        if let Some(m) = self.podman.get(&key) {
            return m.clone();
        }
        let graphroot = &key.1;
        let mut map = HashMap::new();
        let entries = match user {
            None => self.list(root, graphroot),
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
                    root,
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
        self.podman.insert(key, rc.clone());
        rc
    }

    /// Whether podman's rootful storage in `root` holds container `id`.
    pub(crate) fn rootful_podman_has(&mut self, root: RootKey, id: &str) -> bool {
        self.rootful_podman(root, id).is_some()
    }

    /// Container `id` in podman's rootful storage in `root`: the first of its graph roots
    /// ([`Resolver::podman_graphroots`]) that holds it.
    pub(crate) fn rootful_podman(&mut self, root: RootKey, id: &str) -> Option<PodmanInfo> {
        self.podman_graphroots(root)
            .into_iter()
            .find_map(|g| self.podman_storage(root, None, &g).get(id).cloned())
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
            self.rootless_podman_storage(uid, home)
                .contains_key(id)
                .then_some(uid)
        });
        self.quiet = quiet;
        found
    }

    /// conmon's `-c ID` and `-n NAME` when they are checked tokens and `uid` (conmon's
    /// UID, all four equal) owns the container by the state in `root` (the root conmon
    /// runs in: see [`crate::runtime::engines::container_owner`]); with that owner.
    pub(crate) fn conmon_claim(
        &mut self,
        args: &[&[u8]],
        uid: Option<u32>,
        root: RootKey,
    ) -> Option<(String, Option<String>, u32)> {
        let id = flag_value(args, &[b"-c", b"--cid"]).filter(|v| is_container_id(v))?;
        let name = match flag_value(args, &[b"-n", b"--name"]) {
            Some(n) if is_plain_name(n) => Some(lossy(n)),
            Some(_) => return None,
            None => None,
        };
        let id = lossy(id);
        let uid = uid?;
        (crate::runtime::engines::container_owner(self, root, &id)? == uid)
            .then_some((id, name, uid))
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
            let mut b: Vec<PathBuf> = ["run/containers/storage", "var/run/containers/storage"]
                .iter()
                .map(PathBuf::from)
                .collect();
            b.extend(self.podman_graphroots(RootKey::Host));
            b
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
    #[cfg(test)]
    pub(crate) fn accepted_pidfile(&mut self, args: &[&[u8]], uid: u32) -> Option<PathBuf> {
        self.pidfile_place(args, uid).map(|(b, r)| b.join(r))
    }

    /// The PID conmon (command line `args`, running on the host as `uid`) wrote to its
    /// pidfile (`-p`, `--container-pidfile`): the container's init, or an exec
    /// session's process. Only a pidfile at [`Resolver::accepted_pidfile`] is opened,
    /// with the user-directory rules (no symlink below the runtime's directory, a
    /// regular file with one link owned by `uid` on a live host, at most 32 bytes).
    /// Quiet: a pidfile that is gone or refused only means no label.
    pub(crate) fn conmon_pidfile_pid(&mut self, args: &[&[u8]], uid: u32) -> Option<u32> {
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
    pub(crate) fn started_by(&mut self, pid: u32, conmon_pid: u32, conmon_uid: u32) -> bool {
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

/// podman's record of container `id` where `scope` allows: the rootless owner's own
/// storage (`~/.local/share/containers/storage`), else the rootful storage in the
/// scope's root (the host's, or the enclosing container's), in any of its graph roots
/// ([`Resolver::podman_graphroots`]).
pub(crate) fn lookup(r: &mut Resolver, scope: &Scope, id: &str) -> Option<PodmanInfo> {
    match scope.user {
        Some(u) => {
            let home = r.home(u)?;
            r.rootless_podman_storage(u, &home).get(id).cloned()
        }
        None => r.rootful_podman(scope.root, id),
    }
}

/// One entry of `containers.json`: id, name, image, CRI-O's `pod-id`.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for the fuzz targets
pub type StorageEntry = (String, Option<String>, Option<String>, Option<String>);

/// podman's `containers.json` -> (id, name, image, CRI-O's `pod-id`) of each entry.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for the fuzz targets
pub fn parse_containers(bytes: &[u8]) -> Vec<StorageEntry> {
    let Ok(list) = serde_json::from_slice::<Vec<PodmanEntry>>(bytes) else {
        return Vec::new();
    };
    list.into_iter()
        .map(|e| {
            let meta = e
                .metadata
                .as_deref()
                .and_then(|m| serde_json::from_str::<PodmanMetadata>(m).ok());
            let (image, pod) = meta.map_or((None, None), |m| (m.image_name, m.pod_id));
            (e.id, e.names.into_iter().next(), image, pod)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// podman's database: labels.
//
// libpod keeps a container's configuration (with its labels) only in its database, in
// the graph root (the static dir, `<graphroot>/libpod`, by default):
// - BoltDB `<graphroot>/libpod/bolt_state.db` (podman <= 4.x's default): root bucket
//   `ctr`, one nested bucket per container id, key `config` = the ContainerConfig JSON
//   (containers/podman `libpod/boltdb_state.go`, `libpod/boltdb_state_internal.go`:
//   `ctrBkt`, `configKey`, `getContainerConfigFromDB`);
// - SQLite `<graphroot>/db.sql` (podman >= 5's default; 4.8+ with `database_backend =
//   "sqlite"`): table `ContainerConfig(ID, Name, PodID, JSON)` (`libpod/sqlite_state.go`,
//   `libpod/sqlite_state_internal.go`).
// The JSON is libpod's `ContainerConfig` (`libpod/container_config.go`): `id`, `name`,
// `labels` (a string map).

/// Largest podman database read (its pages are walked in memory); a larger one is
/// reported and not read.
pub const MAX_PODMAN_DB: u64 = 64 << 20;

/// Most containers taken from one database.
pub const MAX_DB_CONTAINERS: usize = 65_536;

/// toolbox's label on its containers (containers/toolbox `src/cmd/create.go`:
/// `--label com.github.containers.toolbox=true`).
pub const TOOLBOX_LABEL: &str = "com.github.containers.toolbox";

/// distrobox's label on its containers (89luca89/distrobox `distrobox-create`:
/// `--label "manager=distrobox"`).
pub const DISTROBOX_LABEL: &str = "manager";

/// The labels cgtree keeps from podman's database; the others are dropped (bounded
/// memory).
const KEPT_LABELS: &[&str] = &[
    KIND_CLUSTER_LABEL,
    KIND_ROLE_LABEL,
    MINIKUBE_CREATED_LABEL,
    MINIKUBE_NAME_LABEL,
    "role.minikube.sigs.k8s.io",
    TOOLBOX_LABEL,
    DISTROBOX_LABEL,
];

/// One container as podman's database has it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodmanDbEntry {
    /// The container's name.
    pub name: Option<String>,
    /// Its labels among those cgtree reads (kind's, minikube's, toolbox's, distrobox's).
    pub labels: HashMap<String, String>,
}

#[derive(Deserialize)]
struct DbContainerConfig {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    labels: Option<HashMap<String, String>>,
}

/// A ContainerConfig JSON: `(id, entry)`; `None` when it is not one, or its id is not a
/// container id.
fn db_config(json: &[u8]) -> Option<(String, PodmanDbEntry)> {
    let c: DbContainerConfig = serde_json::from_slice(json).ok()?;
    let id = c.id.filter(|i| is_container_id(i.as_bytes()))?;
    let labels = c
        .labels
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| KEPT_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k, cut(v)))
        .collect();
    Some((
        id,
        PodmanDbEntry {
            name: c.name.filter(|n| !n.is_empty()).map(cut),
            labels,
        },
    ))
}

/// The containers of a podman BoltDB state (`bolt_state.db`), by id: bucket `ctr`,
/// each container's bucket's `config`. A container whose config is missing or not
/// libpod's JSON is left out; a bucket key that is not the config's id too.
///
/// # Errors
/// A `BoltError` when the file is not a BoltDB database (bad magic, pages out of range).
pub fn podman_bolt(
    bytes: &[u8],
) -> Result<HashMap<String, PodmanDbEntry>, crate::parse::bolt::BoltError> {
    use crate::parse::bolt::{bolt, Entry};
    let db = bolt(bytes)?;
    let mut out = HashMap::new();
    let Some(ctrs) = db.root().bucket(b"ctr")? else {
        return Ok(out);
    };
    let mut buckets = Vec::new();
    ctrs.for_each(&mut |key, e| {
        if let Entry::Bucket(b) = e {
            if is_container_id(key) {
                buckets.push((key, b));
            }
        }
        buckets.len() < MAX_DB_CONTAINERS
    })?;
    for (key, b) in buckets {
        let Some(config) = b.value(b"config")? else {
            continue;
        };
        if let Some((id, entry)) = db_config(config) {
            if id.as_bytes() == key {
                out.insert(id, entry);
            }
        }
    }
    Ok(out)
}

/// The containers of a podman SQLite state (`db.sql`), by id: table `ContainerConfig`,
/// column `JSON`. A row whose `ID` is not its JSON's id is left out.
///
/// # Errors
/// SQLite's message when the bytes are not a database with that table.
#[cfg(feature = "sqlite")]
pub fn podman_sqlite(bytes: &[u8]) -> Result<HashMap<String, PodmanDbEntry>, String> {
    let rows = crate::fs::sqlite::rows(
        bytes,
        "SELECT ID, JSON FROM ContainerConfig",
        MAX_DB_CONTAINERS,
    )?;
    let mut out = HashMap::new();
    for (id, json) in rows {
        if let Some((cid, entry)) = db_config(json.as_bytes()) {
            if cid == id {
                out.insert(cid, entry);
            }
        }
    }
    Ok(out)
}

/// Without SQLite support: no containers, and why.
#[cfg(not(feature = "sqlite"))]
pub fn podman_sqlite(_bytes: &[u8]) -> Result<HashMap<String, PodmanDbEntry>, String> {
    Err("cgtree was built without SQLite support (feature `sqlite`)".into())
}

impl Resolver {
    /// podman's database of one storage (rootful: `user` `None`; or user `uid`'s
    /// rootless one below their home, read with the user-directory rules), cached per
    /// graph root. Both backends are read when both files are there (a `podman system
    /// migrate --migrate-db` leaves the old one); SQLite's rows win. A database over
    /// [`MAX_PODMAN_DB`] or broken is reported.
    pub(crate) fn podman_db(
        &mut self,
        user: Option<(u32, &Path)>,
        rootful: &Path,
    ) -> Rc<HashMap<String, PodmanDbEntry>> {
        let graphroot = match user {
            None => rootful.to_path_buf(),
            Some((_, home)) => home.join(ROOTLESS_GRAPHROOT),
        };
        if let Some(m) = self.podman_db.get(&graphroot) {
            return m.clone();
        }
        let mut map = HashMap::new();
        let bolt_rel = Path::new("libpod/bolt_state.db");
        let sql_rel = Path::new("db.sql");
        let read = |r: &mut Resolver, rel: &Path| match user {
            None => r.read_limited(RootKey::Host, &graphroot.join(rel), MAX_PODMAN_DB),
            Some((uid, home)) => r.read_user(
                uid,
                home,
                &Path::new(ROOTLESS_GRAPHROOT).join(rel),
                MAX_PODMAN_DB,
            ),
        };
        if let Some(bytes) = read(self, bolt_rel) {
            match reduced_db(&bytes)
                .map(Ok)
                .unwrap_or_else(|| podman_bolt(&bytes))
            {
                Ok(m) => map.extend(m),
                Err(e) => self.report_broken(&graphroot.join(bolt_rel), &e.to_string()),
            }
        }
        if let Some(bytes) = read(self, sql_rel) {
            match reduced_db(&bytes)
                .map(Ok)
                .unwrap_or_else(|| podman_sqlite(&bytes))
            {
                Ok(m) => map.extend(m),
                Err(e) => self.report_broken(&graphroot.join(sql_rel), &e),
            }
        }
        let rc = Rc::new(map);
        self.podman_db.insert(graphroot, rc.clone());
        rc
    }

    /// Reports a state file (a path under the host root) that was read but is broken.
    fn report_broken(&mut self, rel: &Path, message: &str) {
        let path = self.display_path(RootKey::Host, rel);
        if self.reported.insert(path.clone()) {
            self.errors.push(ResolveError {
                path,
                message: message.to_string(),
                permission: false,
            });
        }
    }

    /// Adds what podman's database says to a podman container's identity: kind's or
    /// minikube's labels make it a node (labels first; kind's node image, already
    /// read, stays the fallback), toolbox's and distrobox's make it one of theirs. The
    /// database read is the container's owner's (rootless) or root's.
    pub(crate) fn podman_db_labels(&mut self, ident: &mut Identity) {
        let Some(id) = ident.id.clone() else {
            return;
        };
        let entry = match ident
            .user
            .filter(|&u| u != 0 && ident.rootless == Some(true))
        {
            Some(u) => match self.home(u) {
                Some(h) => self
                    .podman_db(Some((u, &h)), Path::new(ROOTFUL_GRAPHROOT))
                    .get(&id)
                    .cloned(),
                None => return,
            },
            // Root's: the database of the first graph root that has the container.
            None => self
                .podman_graphroots(RootKey::Host)
                .into_iter()
                .find_map(|g| self.podman_db(None, &g).get(&id).cloned()),
        };
        let Some(entry) = entry else {
            return;
        };
        if ident.name.is_none() {
            ident.name = entry.name.clone();
        }
        let name = ident.name.clone().unwrap_or_default();
        if let Some(node) = crate::runtime::kind::node_from_labels(&entry.labels, &name) {
            ident.node = Some(node);
        }
        ident.kind_node = ident.node.as_ref().and_then(|n| {
            (n.distribution == Some("kind")).then(|| KindNode {
                name: n.name.clone(),
                cluster: n.cluster.clone(),
            })
        });
        ident.tool = tool_of(&entry.labels);
    }
}

/// The first bytes of a podman database as `cgtree snapshot` keeps it: not the database
/// (which holds every container's whole configuration, environment included) but the
/// labels cgtree reads, as JSON.
const REDUCED_DB_MAGIC: &[u8] = b"{\"cgtree-snapshot\":\"podman-labels\"";

/// A podman database reduced by `cgtree snapshot` (JSON beginning
/// `{"cgtree-snapshot":"podman-labels"`): its containers;
/// `None` when the bytes are a real database.
pub fn reduced_db(bytes: &[u8]) -> Option<HashMap<String, PodmanDbEntry>> {
    if !bytes.starts_with(REDUCED_DB_MAGIC) {
        return None;
    }
    #[derive(Deserialize)]
    struct Reduced {
        containers: HashMap<String, ReducedEntry>,
    }
    #[derive(Deserialize)]
    struct ReducedEntry {
        name: Option<String>,
        labels: HashMap<String, String>,
    }
    let r: Reduced = serde_json::from_slice(bytes).ok()?;
    Some(
        r.containers
            .into_iter()
            .filter(|(id, _)| is_container_id(id.as_bytes()))
            .take(MAX_DB_CONTAINERS)
            .map(|(id, e)| {
                let labels = e
                    .labels
                    .into_iter()
                    .filter(|(k, _)| KEPT_LABELS.contains(&k.as_str()))
                    .map(|(k, v)| (k, cut(v)))
                    .collect();
                (
                    id,
                    PodmanDbEntry {
                        name: e.name.map(cut),
                        labels,
                    },
                )
            })
            .collect(),
    )
}

/// A podman database as `cgtree snapshot` keeps it: the labels cgtree reads of each
/// container, as JSON ([`reduced_db`] reads it back).
pub fn reduce_db(bytes: &[u8], sqlite: bool) -> Option<Vec<u8>> {
    let entries = match reduced_db(bytes) {
        Some(m) => m,
        None if sqlite => podman_sqlite(bytes).ok()?,
        None => podman_bolt(bytes).ok()?,
    };
    let mut containers = serde_json::Map::new();
    for (id, e) in entries {
        containers.insert(id, serde_json::json!({"name": e.name, "labels": e.labels}));
    }
    // `cgtree-snapshot` first, as REDUCED_DB_MAGIC expects.
    let body = serde_json::to_string(&containers).ok()?;
    Some(format!("{{\"cgtree-snapshot\":\"podman-labels\",\"containers\":{body}}}\n").into_bytes())
}

/// toolbox or distrobox, by their labels.
pub fn tool_of(labels: &HashMap<String, String>) -> Option<&'static str> {
    if labels.get(TOOLBOX_LABEL).map(String::as_str) == Some("true") {
        Some("toolbox")
    } else if labels.get(DISTROBOX_LABEL).map(String::as_str) == Some("distrobox") {
        Some("distrobox")
    } else {
        None
    }
}

#[cfg(test)]
mod graphroot_tests {
    use super::*;

    fn conmon<'a>(id: &'a str, bundle: &'a str) -> Vec<&'a [u8]> {
        vec![
            b"/usr/bin/conmon",
            b"-c",
            id.as_bytes(),
            b"-b",
            bundle.as_bytes(),
        ]
    }

    #[test]
    fn a_conmons_bundle_names_its_graph_root_only_in_libpods_shape() {
        let id = "a".repeat(64);
        let other = "b".repeat(64);
        let b = |s: &str| bundle_graphroot(&conmon(&id, s));
        assert_eq!(
            b(&format!("/srv/podman/overlay-containers/{id}/userdata")),
            Some(PathBuf::from("srv/podman"))
        );
        assert_eq!(
            b(&format!(
                "/var/lib/containers/storage/vfs-containers/{id}/userdata/"
            )),
            Some(PathBuf::from("var/lib/containers/storage"))
        );
        // Another container's bundle, another layout, `..`, a relative path, no graph root.
        assert_eq!(
            b(&format!("/srv/overlay-containers/{other}/userdata")),
            None
        );
        assert_eq!(b(&format!("/srv/overlay/{id}/userdata")), None);
        assert_eq!(b(&format!("/srv/Overlay-containers/{id}/userdata")), None);
        assert_eq!(b(&format!("/srv/overlay-containers/{id}")), None);
        assert_eq!(
            b(&format!("/srv/../etc/overlay-containers/{id}/userdata")),
            None
        );
        assert_eq!(b(&format!("srv/overlay-containers/{id}/userdata")), None);
        assert_eq!(b(&format!("/overlay-containers/{id}/userdata")), None);
        assert_eq!(
            bundle_graphroot(&conmon("short", "/srv/overlay-containers/short/userdata")),
            None
        );
    }

    #[test]
    fn storage_conf_graphroot_is_read_in_the_storage_table_only() {
        let conf = b"# graphroot = \"/commented\"\ngraphroot = \"/top-level\"\n[storage]\ndriver = \"overlay\"\n  graphroot = '/srv/containers'\nrunroot = \"/run/x\"\n[storage.options]\ngraphroot = \"/nope\"\n";
        assert_eq!(storage_conf_graphroot(conf), Some(&b"/srv/containers"[..]));
        assert_eq!(
            storage_conf_graphroot(b"[storage.options]\ngraphroot = \"/x\"\n"),
            None
        );
        assert_eq!(storage_conf_graphroot(b"[storage]\ngraphroot = /x\n"), None);
        assert_eq!(
            storage_conf_graphroot(b"[storage]\ngraphroot = \"/x\n"),
            None
        );
        let kept = Podman
            .snapshot_keep(Path::new("etc/containers/storage.conf"), conf)
            .unwrap();
        assert_eq!(kept, b"[storage]\ngraphroot = \"/srv/containers\"\n");
        assert_eq!(storage_conf_graphroot(&kept), Some(&b"/srv/containers"[..]));
    }

    #[test]
    fn graph_roots_come_from_roots_conmon_then_storage_conf_then_the_default() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("etc/containers/storage.conf");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "[storage]\ngraphroot = \"/srv/conf\"\n").unwrap();
        let mut r = Resolver::new(&crate::fs::Host::with_root(d.path()));
        let id = "c".repeat(64);
        let bundle = format!("/srv/conmon/overlay-containers/{id}/userdata");
        // A user's conmon names nothing of root's.
        Podman.note_process(&mut r, 10, &conmon(&id, &bundle), Some([1000; 4]));
        let rel = |s: &str| PathBuf::from(s);
        assert_eq!(
            r.podman_graphroots(RootKey::Host),
            [rel("srv/conf"), rel(ROOTFUL_GRAPHROOT)]
        );
        Podman.note_process(&mut r, 11, &conmon(&id, &bundle), Some([0; 4]));
        assert_eq!(
            r.podman_graphroots(RootKey::Host),
            [rel("srv/conmon"), rel("srv/conf"), rel(ROOTFUL_GRAPHROOT)]
        );
    }
}

#[cfg(test)]
mod db_tests {
    use super::*;

    #[test]
    fn a_snapshot_keeps_only_the_labels_and_reads_them_back() {
        let bytes = include_bytes!("../../testdata/podman-4.3.1-bolt_state.db");
        let full = podman_bolt(bytes).unwrap();
        let kept = reduce_db(bytes, false).unwrap();
        assert!(kept.starts_with(REDUCED_DB_MAGIC));
        let back = reduced_db(&kept).unwrap();
        assert_eq!(back.len(), full.len());
        for (id, e) in &full {
            assert_eq!(back[id].labels, e.labels, "{id}");
            assert_eq!(back[id].name, e.name, "{id}");
        }
        // Reducing twice changes nothing; a real database is not taken for a reduced one.
        assert_eq!(reduce_db(&kept, false).unwrap(), kept);
        assert!(reduced_db(bytes).is_none());
    }

    #[test]
    fn labels_from_a_real_podman_431_bolt_state() {
        let db = podman_bolt(include_bytes!("../../testdata/podman-4.3.1-bolt_state.db"))
            .expect("readable");
        let mut by_name: Vec<(String, Option<&'static str>, Option<String>)> = db
            .values()
            .map(|e| {
                (
                    e.name.clone().unwrap_or_default(),
                    tool_of(&e.labels),
                    e.labels.get(KIND_ROLE_LABEL).cloned(),
                )
            })
            .collect();
        by_name.sort();
        assert_eq!(
            by_name,
            [
                ("i13b-distrobox".into(), Some("distrobox"), None),
                (
                    "i13b-kind-control-plane".into(),
                    None,
                    Some("control-plane".into())
                ),
                ("i13b-plain".into(), None, None),
                ("i13b-toolbox".into(), Some("toolbox"), None),
            ]
        );
        // Labels cgtree does not read are dropped.
        assert!(db.values().all(|e| !e.labels.contains_key("a")));
        assert!(podman_bolt(b"not a database").is_err());
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn labels_from_a_sqlite_state() {
        let bytes = include_bytes!(
            "../../../fixtures/desktop/home/alice/.local/share/containers/storage/db.sql"
        );
        let db = podman_sqlite(bytes).expect("readable");
        let mut tools: Vec<_> = db
            .values()
            .map(|e| (e.name.clone(), tool_of(&e.labels)))
            .collect();
        tools.sort();
        assert_eq!(
            tools,
            [
                (Some("fedora-toolbox-40".into()), Some("toolbox")),
                (Some("ubuntu-dev".into()), Some("distrobox")),
            ]
        );
        assert!(
            podman_sqlite(&bytes[..1000]).is_err()
                || podman_sqlite(&bytes[..1000]).is_ok_and(|m| m.is_empty())
        );
        assert!(podman_sqlite(b"garbage").is_err());
    }
}
