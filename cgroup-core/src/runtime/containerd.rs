//! containerd: CRI containers under a pod, tasks outside Kubernetes (`ctr run`,
//! nerdctl), task bundles wherever containerd keeps its state, and shims.
//!
//! Sources: containerd `internal/cri/annotations/annotations.go` (`io.kubernetes.cri.*`),
//! `core/runtime/v2/README.md` and `cmd/containerd-shim-runc-v2/manager/manager_linux.go`
//! (the shim's `-namespace -id -address`, its working directory the bundle),
//! `pkg/identifiers/validate.go` (ids), `cmd/containerd/server/config` (`state`,
//! `root`, `--state`, `--root`, `--config`), the CRI plugin's systemd cgroup path
//! (`<slice>:cri-containerd:<id>`) and its cgroupfs form (a bare id).

use super::{Family, ProcFacts, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
use crate::runtime::IdentityKind as IK;
use crate::runtime::IdentityKind;
#[allow(unused_imports)]
use crate::runtime::{docker::*, kind::*, kubelet::*, oci::*, podman::*};
use crate::tree::identify::Facts;
use serde::Deserialize;
use std::collections::HashMap;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// The containerd row.
pub struct Containerd;

/// `<pod slice>:cri-containerd:<id>` as a directory name: the kubelet uses the systemd
/// driver (it passed a systemd-style cgroups path) and containerd's runc the cgroupfs one
/// (it made the path a directory). Returns the pod slice and the id.
pub fn driver_mismatch(name: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = memchr::memmem::find(name, b".slice:cri-containerd:")?;
    let slice = &name[..at + b".slice".len()];
    let id = &name[at + b".slice:cri-containerd:".len()..];
    (is_container_id(id) && slice.starts_with(b"kube") && !slice.contains(&b'/'))
        .then_some((slice, id))
}

impl Runtime for Containerd {
    fn family(&self) -> Family {
        Family::Containerd
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "containerd/containerd internal/cri/annotations/annotations.go",
            "containerd/containerd core/runtime/v2/README.md",
            "containerd/containerd pkg/identifiers/validate.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        if driver_mismatch(name).is_some() {
            return Some((
                Kind::Named {
                    family: Family::Containerd,
                    what: IdentityKind::KubeContainer,
                    name: text(name),
                },
                Ctx::ContainerTop,
            ));
        }
        // nerdctl with the systemd driver: `nerdctl-<id>.scope`.
        if let Some(id) = id_between(name, b"nerdctl-", b".scope") {
            return Some((
                Kind::Named {
                    family: Family::Containerd,
                    what: IdentityKind::ContainerdContainer,
                    name: text(id),
                },
                Ctx::ContainerTop,
            ));
        }
        None
    }

    fn classify_in_pod(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        let (id, runtime) = if let Some(id) = id_between(name, b"cri-containerd-", b".scope") {
            (id, CriRuntime::Containerd)
        } else if is_container_id(name) {
            (name, CriRuntime::Unknown)
        } else {
            return None;
        };
        Some((
            Kind::KubeContainer {
                id: text(id),
                runtime,
            },
            Ctx::ContainerTop,
        ))
    }

    fn state_files(&self) -> &'static [&'static str] {
        &["<state>/io.containerd.runtime.v2.task/*/*/config.json"]
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        identify_containerd(r, f)
    }

    fn role(&self, r: &mut Resolver, p: &ProcFacts<'_>) -> Option<ProcessRole> {
        shim_role(r, p)
    }

    fn names_state(&self, argv0: &[u8]) -> bool {
        let base = argv0.rsplit(|&b| b == b'/').next().unwrap_or(argv0);
        base == b"containerd" || base.starts_with(b"containerd-shim")
    }

    fn note_process(&self, r: &mut Resolver, pid: u32, args: &[&[u8]], uids: Option<[u32; 4]>) {
        r.note_containerd(pid, args, uids);
    }

    fn snapshot_keep(&self, rel: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
        match crate::runtime::file_name(rel)? {
            // Task bundles and CRI-O's configs: their annotations only (no process,
            // no environment).
            "config.json" => {
                let v = serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
                let mut out = crate::runtime::pick(&v, &["annotations"]);
                // A docker container's bundle (`<tasks>/moby/<id>/config.json`): the
                // mount that names docker's data root.
                let id = rel
                    .parent()
                    .and_then(|p| p.file_name())
                    .map(|n| n.as_encoded_bytes());
                if id
                    .is_some_and(|id| crate::runtime::docker::bundle_data_root(bytes, id).is_some())
                {
                    let hostname: Vec<serde_json::Value> = v["mounts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|m| m["destination"] == "/etc/hostname")
                        .map(|m| crate::runtime::pick(m, &["destination", "source"]))
                        .collect();
                    out["mounts"] = serde_json::Value::Array(hostname);
                }
                Some(crate::runtime::json_line(&out))
            }
            // A containerd config named by `--config`: its `state` only.
            n if n.ends_with(".toml") => {
                let state = config_state(bytes)?;
                let mut out = b"state = \"".to_vec();
                out.extend(state.iter().filter(|&&b| b != b'"' && b != b'\n'));
                out.extend_from_slice(b"\"\n");
                Some(out)
            }
            _ => None,
        }
    }

    fn claims_helper(&self, argv0: &[u8]) -> bool {
        crate::runtime::base(argv0).starts_with(b"containerd-shim")
    }
}

#[derive(Deserialize)]
pub(crate) struct OciConfig {
    #[serde(default)]
    pub(crate) annotations: Option<HashMap<String, String>>,
}

/// What a CRI bundle says about its container.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    /// `sandbox` or `container`.
    pub sandbox: bool,
    /// Sandbox id of the pod.
    pub sandbox_id: Option<String>,
    /// The pod.
    pub pod: PodRef,
    /// Container name (containers only).
    pub container_name: Option<String>,
    /// Image (containers only).
    pub image: Option<String>,
    /// CRI-O's annotations (`io.kubernetes.cri-o.*`), not containerd's.
    pub crio: bool,
}

impl Bundle {
    pub(crate) fn from_annotations(a: &HashMap<String, String>) -> Option<Bundle> {
        let get = |k: &str| a.get(k).map(|v| cut(v.clone()));
        if let Some(t) = a.get("io.kubernetes.cri.container-type") {
            return Some(Bundle {
                sandbox: t == "sandbox",
                sandbox_id: get("io.kubernetes.cri.sandbox-id"),
                pod: PodRef {
                    namespace: get("io.kubernetes.cri.sandbox-namespace"),
                    name: get("io.kubernetes.cri.sandbox-name"),
                    uid: get("io.kubernetes.cri.sandbox-uid"),
                    is_static: false,
                },
                container_name: get("io.kubernetes.cri.container-name"),
                image: get("io.kubernetes.cri.image-name"),
                crio: false,
            });
        }
        if let Some(t) = a.get("io.kubernetes.cri-o.ContainerType") {
            return Some(Bundle {
                sandbox: t == "sandbox",
                sandbox_id: get("io.kubernetes.cri-o.SandboxID"),
                pod: PodRef {
                    namespace: get("io.kubernetes.pod.namespace"),
                    name: get("io.kubernetes.pod.name"),
                    uid: get("io.kubernetes.pod.uid"),
                    is_static: false,
                },
                container_name: get("io.kubernetes.container.name"),
                image: get("io.kubernetes.cri-o.ImageName"),
                crio: true,
            });
        }
        None
    }
}

pub(crate) const TASKS: &str = "run/containerd/io.containerd.runtime.v2.task";

impl Resolver {
    /// The bundle of container `id` in `root`: containerd's task bundle, else CRI-O's.
    pub(crate) fn bundle(&mut self, root: RootKey, id: &str) -> Option<Bundle> {
        // Joined to paths below: a 64-hex id only.
        if !is_container_id(id.as_bytes()) {
            return None;
        }
        if let Some(b) = self.bundles.get(&(root, id.to_string())) {
            return b.clone();
        }
        let mut found = None;
        let mut dirs: Vec<(PathBuf, &str)> = self
            .task_dirs()
            .into_iter()
            .map(|t| (t.join("k8s.io"), "config.json"))
            .collect();
        dirs.push((
            PathBuf::from("run/containers/storage/overlay-containers"),
            "userdata/config.json",
        ));
        for (dir, tail) in dirs {
            // One listing per state directory and root, instead of a failed open per
            // container of a runtime that is not there.
            if !self.listed(root, &dir).is_some_and(|ids| ids.contains(id)) {
                continue;
            }
            let rel = dir.join(id).join(tail);
            if let Some(cfg) = self.read_json::<OciConfig>(root, &rel) {
                found = cfg.annotations.as_ref().and_then(Bundle::from_annotations);
                if found.is_some() {
                    break;
                }
            }
        }
        self.bundles.insert((root, id.to_string()), found.clone());
        found
    }

    /// The pod whose sandbox bundle says `io.kubernetes.cri.sandbox-uid` (CRI-O:
    /// `io.kubernetes.pod.uid`) is `uid`, in the CRI state of `root`: what names a pod
    /// cgroup none of whose containers runs in it (the kubelet made it, the runtime put
    /// the containers elsewhere: drivers that disagree). At most [`MAX_BUNDLES`] bundles
    /// per state directory, each read once (cached with [`Resolver::bundle`]'s).
    pub(crate) fn pod_of_uid(&mut self, root: RootKey, uid: &str) -> Option<PodRef> {
        let mut dirs: Vec<PathBuf> = self
            .task_dirs()
            .into_iter()
            .map(|t| t.join("k8s.io"))
            .collect();
        dirs.push(PathBuf::from("run/containers/storage/overlay-containers"));
        for dir in dirs {
            let Some(ids) = self.listed(root, &dir) else {
                continue;
            };
            let mut ids: Vec<&String> = ids.iter().collect();
            ids.sort();
            for id in ids.into_iter().take(MAX_BUNDLES) {
                let Some(b) = self.bundle(root, id) else {
                    continue;
                };
                if b.sandbox && b.pod.uid.as_deref() == Some(uid) && b.pod.name.is_some() {
                    return Some(b.pod);
                }
            }
        }
        None
    }

    /// The containerd namespace whose task directory in `root` holds a bundle for `id`.
    pub(crate) fn containerd_task_namespace(&mut self, root: RootKey, id: &str) -> Option<String> {
        for tasks in self.task_dirs() {
            let Some(listing) = self.listed(root, &tasks) else {
                continue;
            };
            let mut namespaces: Vec<String> = listing.iter().cloned().collect();
            namespaces.sort_unstable();
            let found = namespaces.into_iter().find(|ns| {
                is_containerd_id(ns.as_bytes())
                    && self
                        .listed(root, &tasks.join(ns))
                        .is_some_and(|ids| ids.contains(id))
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }

    pub(crate) fn shim_pod(
        &mut self,
        root: RootKey,
        namespace: &str,
        sandbox: &str,
    ) -> (Option<PodRef>, Vec<PodContainer>) {
        // The namespace's task directory is listed once per root (not once per shim):
        // in the state directory the shim's `-address` names, else in every known one.
        let Some((dir, ids)) = self
            .task_dirs()
            .into_iter()
            .map(|t| t.join(namespace))
            .find_map(|d| self.listed(root, &d).map(|ids| (d, ids)))
        else {
            return (None, Vec::new());
        };
        let pod = if ids.contains(sandbox) {
            self.read_json::<OciConfig>(root, &dir.join(sandbox).join("config.json"))
                .and_then(|c| c.annotations.as_ref().and_then(Bundle::from_annotations))
                .map(|b| b.pod)
        } else {
            None
        };
        let mut containers = Vec::new();
        let mut sorted: Vec<&String> = ids.iter().collect();
        sorted.sort();
        for id in sorted.into_iter().take(MAX_BUNDLES) {
            let id = id.clone();
            if id == sandbox || !crate::classify::is_container_id(id.as_bytes()) {
                continue;
            }
            let key = (root, id.clone());
            let b = if let Some(b) = self.bundles.get(&key) {
                b.clone()
            } else {
                let b = self
                    .read_json::<OciConfig>(root, &dir.join(&id).join("config.json"))
                    .and_then(|c| c.annotations.as_ref().and_then(Bundle::from_annotations));
                self.bundles.insert(key, b.clone());
                b
            };
            if let Some(b) = b {
                if !b.sandbox && b.sandbox_id.as_deref() == Some(sandbox) {
                    containers.push(PodContainer {
                        name: b.container_name,
                        id,
                        image: b.image,
                    });
                }
            }
        }
        (pod, containers)
    }
}

/// Largest containerd config read for its `state =` key.
const MAX_CONFIG: u64 = 1 << 20;

/// The top-level `state = "<dir>"` of a containerd config (TOML), without a TOML
/// library: keys before the first `[table]` header only, a basic or literal string.
pub fn config_state(toml: &[u8]) -> Option<&[u8]> {
    crate::runtime::toml_string(toml, None, b"state")
}

/// The state directory a shim's working directory names: its bundle
/// `<state>/io.containerd.runtime.v2.task/<namespace>/<id>`, where the namespace and id
/// are the shim's own `-namespace` (default `default`) and `-id`. Anything else: `None`.
pub fn shim_state<'a>(cwd: &'a [u8], args: &[&[u8]]) -> Option<&'a [u8]> {
    let id = flag_value(args, &[b"-id", b"--id"]).filter(|v| is_containerd_id(v))?;
    let ns = flag_value(args, &[b"-namespace", b"--namespace"]).unwrap_or(b"default");
    if !is_containerd_id(ns) {
        return None;
    }
    let cwd = cwd.strip_suffix(b"/").unwrap_or(cwd);
    let rest = cwd.strip_suffix(id)?.strip_suffix(b"/")?;
    let rest = rest.strip_suffix(ns)?.strip_suffix(b"/")?;
    let state = rest
        .strip_suffix(b"io.containerd.runtime.v2.task")?
        .strip_suffix(b"/")?;
    (!state.is_empty()).then_some(state)
}

/// An absolute path from a command line, as a path under the host root (no `..`, no
/// empty or `.` component).
pub(crate) fn abs_rel(p: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let rel = Path::new(std::ffi::OsStr::from_bytes(p))
        .strip_prefix("/")
        .ok()?;
    (rel.components().count() > 0
        && rel
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_))))
    .then(|| rel.to_path_buf())
}

impl Resolver {
    /// The working directory of host process `pid` as its `cwd` link says (the link is
    /// read, never followed): `None` when it is gone, unreadable or not absolute.
    pub(crate) fn process_cwd(&mut self, pid: u32) -> Option<Vec<u8>> {
        let target = if let Some(ahead) = self.host_cwds.remove(&pid) {
            // Read ahead (live host only), while the tree was built.
            ahead?
        } else if self.host.is_live() {
            // The host's /proc, opened once (a host has a shim per pod).
            let fd = self.live_proc()?;
            crate::resolve::cwd_link(fd.as_fd(), pid)?
        } else {
            let proc_fd = crate::fs::open_dir_path(&self.host.proc_dir()).ok()?;
            let name = std::ffi::CString::new(pid.to_string()).ok()?;
            // `<pid>` itself not followed if it is a link (a hostile `--root`).
            let dir = crate::fs::open_dir(proc_fd.as_fd(), &name).ok()?;
            nix::fcntl::readlinkat(dir.as_fd(), "cwd")
                .ok()?
                .into_encoded_bytes()
        };
        (target.starts_with(b"/") && target.len() < 4096).then_some(target)
    }

    /// Learns where containerd keeps its state from one of its own processes on the
    /// host (`pid`, its command line `args`): `containerd --state DIR`, `containerd
    /// --config FILE` whose `state =` names one, a shim's working directory (its bundle,
    /// `<state>/io.containerd.runtime.v2.task/<namespace>/<id>`: containerd starts each
    /// shim there, `core/runtime/v2/binary.go` and `pkg/shim/util.go` `Command`'s
    /// `WorkDir`) or, failing that, its `-address <state>/containerd.sock` (k3s, rke2,
    /// microk8s, k0s and any containerd started with its own state directory; microk8s
    /// puts its socket beside the state, not in it, so the working directory comes
    /// first). Only root's processes count (all four UIDs 0): a user's process cannot
    /// point root's cgtree anywhere.
    pub(crate) fn note_containerd(&mut self, pid: u32, args: &[&[u8]], uids: Option<[u32; 4]>) {
        if uids != Some([0; 4]) || self.containerd_states.len() >= 16 {
            return;
        }
        let Some(exe) = args.first() else { return };
        let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
        let mut found = Vec::new();
        if base == b"containerd" {
            if let Some(dir) = flag_value(args, &[b"--state"]).and_then(abs_rel) {
                found.push(dir);
            } else if let Some(cfg) = flag_value(args, &[b"--config", b"-c"]).and_then(abs_rel) {
                let quiet = std::mem::replace(&mut self.quiet, true);
                let bytes = self.read_limited(RootKey::Host, &cfg, MAX_CONFIG);
                self.quiet = quiet;
                if let Some(dir) = bytes.as_deref().and_then(config_state).and_then(abs_rel) {
                    found.push(dir);
                }
            }
            if let Some(sock) = flag_value(args, &[b"--address", b"-a"]).and_then(abs_rel) {
                found.extend(sock.parent().map(Path::to_path_buf));
            }
        } else if base.starts_with(b"containerd-shim") {
            let from_cwd = self
                .process_cwd(pid)
                .and_then(|cwd| shim_state(&cwd, args).and_then(abs_rel));
            if let Some(dir) = from_cwd {
                found.push(dir);
            } else if let Some(sock) =
                flag_value(args, &[b"-address", b"--address"]).and_then(abs_rel)
            {
                found.extend(sock.parent().map(Path::to_path_buf));
            }
        }
        for dir in found {
            if !dir.as_os_str().is_empty() && !self.containerd_states.contains(&dir) {
                self.containerd_states.push(dir);
            }
        }
    }

    /// containerd's task directories (`<state>/io.containerd.runtime.v2.task`) under a
    /// root: the ones its own processes named ([`Resolver::note_process`]) first, then the
    /// default `/run/containerd`.
    pub(crate) fn task_dirs(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self
            .containerd_states
            .iter()
            .map(|s| s.join("io.containerd.runtime.v2.task"))
            .collect();
        if !v.iter().any(|p| p == Path::new(TASKS)) {
            v.push(PathBuf::from(TASKS));
        }
        v
    }

    /// Learns where runtimes keep their state from one of their own processes (see
    /// [`crate::runtime::Runtime::note_process`]).
    pub(crate) fn note_process(&mut self, pid: u32, args: &[&[u8]], uids: Option<[u32; 4]>) {
        crate::runtime::note_process(self, pid, args, uids);
    }

    /// A containerd task outside Kubernetes in any namespace, by its bundle
    /// (`<tasks>/<namespace>/<id>/config.json`): `(namespace, nerdctl's name)`.
    pub(crate) fn task(
        &mut self,
        root: RootKey,
        namespace: &str,
        id: &str,
    ) -> Option<Option<String>> {
        if !is_containerd_id(namespace.as_bytes()) || !is_containerd_id(id.as_bytes()) {
            return None;
        }
        for tasks in self.task_dirs() {
            let dir = tasks.join(namespace);
            if !self.listed(root, &dir).is_some_and(|ids| ids.contains(id)) {
                continue;
            }
            let cfg = self.read_json::<OciConfig>(root, &dir.join(id).join("config.json"));
            let name = cfg
                .and_then(|c| c.annotations)
                .and_then(|a| a.get("nerdctl/name").cloned())
                .map(cut);
            return Some(name);
        }
        None
    }
}

/// A containerd task in a plain cgroup `/<namespace>/<id>` (`ctr run`'s default cgroup,
/// nerdctl with the cgroupfs driver): a task in that namespace of a containerd's state,
/// whatever its id's form (containerd accepts any identifier, `redis1` as well as 64 hex).
pub(crate) fn plain_task(r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
    if !matches!(f.kind, Kind::Plain) {
        return None;
    }
    let ns = std::str::from_utf8(f.parent_name?).ok()?;
    let id = std::str::from_utf8(f.name).ok()?;
    if !is_containerd_id(ns.as_bytes()) || !is_containerd_id(id.as_bytes()) {
        return None;
    }
    let name = r.task(f.root, ns, id)?;
    Some(Identity {
        kind: IK::ContainerdContainer,
        runtime: Some("containerd"),
        id: Some(id.to_string()),
        name: name.or_else(|| Some(id.to_string())),
        namespace: Some(ns.to_string()),
        ..Default::default()
    })
}

/// The role of a containerd shim (`containerd-shim-runc-v2 -namespace NS -id ID`): its
/// pod, read in the root it runs in. The shim must run as the owner of the containerd
/// whose bundles it names (root on the host; inside a container, the host UID the
/// container's init runs as).
fn shim_role(r: &mut Resolver, p: &ProcFacts<'_>) -> Option<ProcessRole> {
    let args = p.args;
    let exe = args.first()?;
    let base = exe.rsplit(|&b| b == b'/').next().unwrap_or(exe);
    if !base.starts_with(b"containerd-shim") {
        return None;
    }
    let uid = p
        .uids
        .filter(|u| u.iter().all(|&x| x == u[0]))
        .map(|u| u[0]);
    let sandbox = flag_value(args, &[b"-id", b"--id"]).filter(|v| is_containerd_id(v))?;
    let namespace = match flag_value(args, &[b"-namespace", b"--namespace"]) {
        Some(ns) if is_containerd_id(ns) => lossy(ns),
        Some(_) => return None,
        None => "default".into(),
    };
    let owner = match p.root {
        RootKey::Host => Some(0),
        RootKey::Proc(pid) => r.sole_uid(pid),
    };
    if uid.is_none() || uid != owner {
        return None;
    }
    let sandbox = lossy(sandbox);
    let (pod, containers) = r.shim_pod(p.root, &namespace, &sandbox);
    Some(ProcessRole::Shim {
        namespace,
        sandbox,
        pod,
        containers,
    })
}

/// The identity of a containerd-named cgroup.
fn identify_containerd(r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
    match f.kind {
        Kind::KubeContainer { id, runtime } => Some(
            r.kube_container(f.root, id, *runtime)
                .unwrap_or_else(|| kube_unidentified(f, id)),
        ),
        Kind::Named {
            what: IK::KubeContainer,
            name,
            ..
        } => {
            let (slice, id) = driver_mismatch(name.as_bytes())?;
            let id = String::from_utf8_lossy(id).into_owned();
            let mut ident = r
                .kube_container(f.root, &id, CriRuntime::Containerd)
                .unwrap_or_else(|| kube_unidentified(f, &id));
            // The kubelet passed a systemd-style cgroups path (`<slice>:cri-containerd:<id>`)
            // that the runtime, on the cgroupfs driver, made a directory.
            let _ = slice;
            ident.diagnosis =
                Some("cgroup drivers disagree: kubelet uses systemd, the runtime cgroupfs".into());
            Some(ident)
        }
        Kind::Named {
            what: IK::ContainerdContainer,
            name: id,
            ..
        } => {
            let found = r.containerd_task_namespace(f.root, id);
            match found {
                Some(ns) => {
                    let name = r.task(f.root, &ns, id).flatten();
                    Some(Identity {
                        kind: IK::ContainerdContainer,
                        runtime: Some("containerd"),
                        id: Some(id.clone()),
                        name: name.or_else(|| Some(id.clone())),
                        namespace: Some(ns),
                        ..Default::default()
                    })
                }
                None => Some(crate::tree::identify::unidentified(format!(
                    "nerdctl scope of {}, no containerd task of that id",
                    &id[..12.min(id.len())]
                ))),
            }
        }
        _ => None,
    }
}

/// A Kubernetes container cgroup no CRI state names.
pub(crate) fn kube_unidentified(_f: &Facts<'_>, id: &str) -> Identity {
    crate::tree::identify::unidentified(format!(
        "a pod's container cgroup; no CRI bundle or kubelet log names container {}",
        &id[..12.min(id.len())]
    ))
}

/// An OCI `config.json` (a containerd task bundle or a CRI-O config) -> its CRI facts
/// (`None`: not JSON, or no CRI annotations).
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for the fuzz targets
pub fn parse_bundle(bytes: &[u8]) -> Option<Bundle> {
    serde_json::from_slice::<OciConfig>(bytes)
        .ok()?
        .annotations
        .as_ref()
        .and_then(Bundle::from_annotations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shim<'a>(ns: &'a str, id: &'a str) -> Vec<&'a [u8]> {
        let mut v: Vec<&[u8]> = vec![b"/usr/bin/containerd-shim-runc-v2"];
        if !ns.is_empty() {
            v.extend([&b"-namespace"[..], ns.as_bytes()]);
        }
        v.extend([
            &b"-id"[..],
            id.as_bytes(),
            b"-address",
            b"/x/containerd.sock",
        ]);
        v
    }

    #[test]
    fn a_shims_working_directory_names_its_state_only_as_its_own_bundle() {
        let cwd = b"/var/snap/m/common/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc";
        assert_eq!(
            shim_state(cwd, &shim("k8s.io", "abc")),
            Some(&b"/var/snap/m/common/run/containerd"[..])
        );
        // No `-namespace`: containerd's `default`.
        let cwd = b"/opt/c2/run/io.containerd.runtime.v2.task/default/logshipper/";
        assert_eq!(
            shim_state(cwd, &shim("", "logshipper")),
            Some(&b"/opt/c2/run"[..])
        );
        // Another task's bundle, another namespace, or no task directory: nothing.
        let cwd = b"/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc";
        assert_eq!(shim_state(cwd, &shim("k8s.io", "abd")), None);
        assert_eq!(shim_state(cwd, &shim("moby", "abc")), None);
        assert_eq!(shim_state(b"/tmp/k8s.io/abc", &shim("k8s.io", "abc")), None);
        assert_eq!(
            shim_state(
                b"/io.containerd.runtime.v2.task/k8s.io/abc",
                &shim("k8s.io", "abc")
            ),
            None
        );
        assert_eq!(shim_state(cwd, &shim("../..", "abc")), None);
    }
}
