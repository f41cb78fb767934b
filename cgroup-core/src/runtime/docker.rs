//! docker (moby): container cgroups and `config.v2.json`, and the Kubernetes containers
//! cri-dockerd makes with it.
//!
//! Sources: moby `daemon/oci_linux.go` (`WithCgroups`: `system.slice:docker:<id>`, the
//! cgroupfs parent `/docker`), `container/container.go` (`config.v2.json`);
//! Mirantis/cri-dockerd (the dockershim moved out of kubernetes `pkg/kubelet/dockershim`):
//! `core/docker_service.go` (labels `io.kubernetes.docker.type` = `podsandbox` or
//! `container`, `io.kubernetes.sandbox.id`), `core/helpers.go` (`MakeLabels`: the
//! sandbox's annotations as labels prefixed `annotation.`), with the kubelet's own labels
//! (kubernetes `pkg/kubelet/types/labels.go`: `io.kubernetes.pod.name`,
//! `io.kubernetes.pod.namespace`, `io.kubernetes.pod.uid`,
//! `io.kubernetes.container.name`); its containers' cgroups are `docker-<id>.scope` in
//! the pod's slice.
//!
//! Where its state is: `<data-root>/containers/<id>/config.v2.json`, the data root as
//! root's `dockerd` says (`--data-root DIR`, formerly `-g`/`--graph`; else the
//! `data-root`, formerly `graph`, key of its `--config-file`, by default
//! `/etc/docker/daemon.json`: docs.docker.com/reference/cli/dockerd/ "Daemon
//! configuration file" and "Daemon data directory", moby `docs/` and
//! `daemon/config/config.go` `CommonConfig.Root` tagged `data-root`), else
//! `/var/lib/docker`.

use super::{Family, IdentityKind, Runtime};
#[allow(unused_imports)]
use crate::classify::*;
#[allow(unused_imports)]
use crate::resolve::*;
use crate::runtime::engines::{container, Scope};
#[allow(unused_imports)]
use crate::runtime::{containerd::*, kind::*, kubelet::*, oci::*, podman::*};
use crate::tree::identify::Facts;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

/// The docker row.
pub struct Docker;

impl Runtime for Docker {
    fn family(&self) -> Family {
        Family::Docker
    }

    fn sources(&self) -> &'static [&'static str] {
        &[
            "moby/moby daemon/oci_linux.go",
            "moby/moby container/container.go",
        ]
    }

    fn classify_host(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        if let Some(id) = id_between(name, b"docker-", b".scope") {
            return Some((Kind::DockerContainer { id: text(id) }, Ctx::ContainerTop));
        }
        if name == b"docker" {
            return Some((Kind::DockerParent, Ctx::DockerParent));
        }
        None
    }

    fn classify_in_pod(&self, name: &[u8]) -> Option<(Kind, Ctx)> {
        let id = id_between(name, b"docker-", b".scope")?;
        Some((
            Kind::KubeContainer {
                id: text(id),
                runtime: CriRuntime::Docker,
            },
            Ctx::ContainerTop,
        ))
    }

    fn classify_below(&self, name: &[u8], _ctx: &Ctx) -> Option<(Kind, Ctx)> {
        is_container_id(name).then(|| (Kind::DockerContainer { id: text(name) }, Ctx::ContainerTop))
    }

    fn names_state(&self, argv0: &[u8]) -> bool {
        let base = crate::runtime::base(argv0);
        base == b"dockerd" || base.starts_with(b"containerd-shim")
    }

    fn note_process(&self, r: &mut Resolver, pid: u32, args: &[&[u8]], uids: Option<[u32; 4]>) {
        // Root's daemon and shims name root's data root: a user's process (rootless docker
        // keeps its data in the user's home, read as such) cannot point root's cgtree
        // anywhere.
        if uids != Some([0; 4]) {
            return;
        }
        let Some(exe) = args.first() else { return };
        let dir = if crate::runtime::base(exe) == b"dockerd" {
            daemon_data_root(r, args)
        } else {
            shim_data_root(r, pid, args)
        };
        if let Some(dir) = dir.and_then(|d| d.to_str().map(str::to_owned)) {
            r.learn(Family::Docker, DATA_ROOT_KEY.into(), dir);
        }
    }

    fn snapshot_keep(&self, rel: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
        use crate::runtime::pick;
        let name = crate::runtime::file_name(rel)?;
        if name != "config.v2.json" {
            // The daemon's configuration file: only the data root cgtree reads from it.
            let v = serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
            let keys = ["data-root", "graph"];
            let is_daemon_config = name == "daemon.json"
                || (name.ends_with(".json")
                    && name != "config.json"
                    && keys
                        .iter()
                        .any(|k| v.get(*k).is_some_and(|x| x.is_string())));
            return (is_daemon_config && v.is_object())
                .then(|| crate::runtime::json_line(&pick(&v, &keys)));
        }
        let v = serde_json::from_slice::<serde_json::Value>(bytes).ok()?;
        let mut out = pick(&v, &["ID", "Name"]);
        if let Some(c) = v.get("Config") {
            out["Config"] = pick(c, &["Image", "Labels"]);
        }
        if let Some(st) = v.get("State") {
            out["State"] = pick(st, &["Pid"]);
        }
        Some(crate::runtime::json_line(&out))
    }

    fn identify(&self, r: &mut Resolver, f: &Facts<'_>) -> Option<Identity> {
        match f.kind {
            Kind::DockerContainer { id } => Some(
                container(r, f.root, id, Some(Family::Docker), f.owner, f.conmon_names)
                    .unwrap_or_else(|| crate::runtime::podman::no_state(f.name, id)),
            ),
            Kind::DockerParent => Some(Identity {
                kind: IdentityKind::DockerParent,
                runtime: Some("docker"),
                ..Default::default()
            }),
            Kind::KubeContainer { id, runtime } => Some(
                r.kube_container(f.root, id, *runtime)
                    .unwrap_or_else(|| crate::runtime::containerd::kube_unidentified(f, id)),
            ),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
pub(crate) struct DockerConfig {
    #[serde(rename = "Name", default)]
    pub(crate) name: Option<String>,
    #[serde(rename = "Config", default)]
    pub(crate) config: Option<DockerInner>,
}

#[derive(Deserialize)]
pub(crate) struct DockerInner {
    #[serde(rename = "Image", default)]
    pub(crate) image: Option<String>,
    #[serde(rename = "Labels", default)]
    pub(crate) labels: Option<HashMap<String, String>>,
}

/// What `config.v2.json` says of a container: name, image, labels.
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for the fuzz targets
pub type DockerFacts = (
    Option<String>,
    Option<String>,
    Option<HashMap<String, String>>,
);

/// docker's `config.v2.json` -> (name, image, labels).
#[cfg_attr(not(feature = "internals"), allow(dead_code))] // for the fuzz targets
pub fn parse_config(bytes: &[u8]) -> Option<DockerFacts> {
    let c = serde_json::from_slice::<DockerConfig>(bytes).ok()?;
    let (image, labels) = match c.config {
        Some(i) => (i.image, i.labels),
        None => (None, None),
    };
    Some((c.name, image, labels))
}

/// docker's default data root (rootful), under a root.
pub(crate) const DEFAULT_DATA_ROOT: &str = "var/lib/docker";

/// dockerd's default configuration file (docs.docker.com/reference/cli/dockerd/:
/// `--config-file string   Daemon configuration file (default "/etc/docker/daemon.json")`).
pub(crate) const DEFAULT_DAEMON_JSON: &str = "etc/docker/daemon.json";

/// Largest daemon configuration file read.
const MAX_DAEMON_JSON: u64 = 1 << 20;

/// The key under which the data roots root's dockerd named are learned.
const DATA_ROOT_KEY: &str = "data-root";

/// The `data-root` (before docker 17.05: `graph`) of a daemon configuration file
/// (moby `daemon/config/config.go`: `Root string \`json:"data-root"\``; the deprecated
/// `graph` key was still read in its place until it was removed): a string, as given.
pub fn config_data_root(json: &[u8]) -> Option<String> {
    let v = serde_json::from_slice::<serde_json::Value>(json).ok()?;
    ["data-root", "graph"]
        .iter()
        .find_map(|k| v.get(*k)?.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// The data root root's `dockerd` (command line `args`) uses, as a path under the host
/// root: `--data-root DIR` (old `-g`, `--graph`), else its configuration file's
/// `data-root` (old `graph`): `--config-file FILE`, by default `/etc/docker/daemon.json`
/// (read quietly and bounded: a missing file means the default data root). `None`: none
/// named (docker's default), or not an absolute path without `..`.
pub(crate) fn daemon_data_root(r: &mut Resolver, args: &[&[u8]]) -> Option<std::path::PathBuf> {
    if let Some(dir) = flag_value(args, &[b"--data-root", b"--graph", b"-g"]) {
        return abs_rel(dir);
    }
    let cfg = match flag_value(args, &[b"--config-file"]) {
        Some(f) => abs_rel(f)?,
        None => std::path::PathBuf::from(DEFAULT_DAEMON_JSON),
    };
    let quiet = std::mem::replace(&mut r.quiet, true);
    let bytes = r.read_limited(RootKey::Host, &cfg, MAX_DAEMON_JSON);
    r.quiet = quiet;
    abs_rel(config_data_root(&bytes?)?.as_bytes())
}

/// containerd's namespace for docker's containers (dockerd `--containerd-namespace`,
/// default `moby`: docs.docker.com/reference/cli/dockerd/).
pub const MOBY_NAMESPACE: &[u8] = b"moby";

#[derive(Deserialize)]
struct BundleMounts {
    #[serde(default)]
    mounts: Vec<BundleMount>,
}

#[derive(Deserialize)]
struct BundleMount {
    #[serde(default)]
    destination: String,
    #[serde(default)]
    source: String,
}

/// The data root a docker container's OCI bundle (`config.json`) names for container
/// `id`: the source of its `/etc/hostname` mount, which dockerd makes
/// `<data-root>/containers/<id>/hostname` (moby `container/container.go`
/// `GetRootResourcePath("hostname")` below `daemon.repository`, the data root's
/// `containers`; `daemon/oci_linux.go` mounts it). Any other shape: `None`.
pub fn bundle_data_root(config_json: &[u8], id: &[u8]) -> Option<std::path::PathBuf> {
    let b: BundleMounts = serde_json::from_slice(config_json).ok()?;
    let m = b.mounts.iter().find(|m| m.destination == "/etc/hostname")?;
    let rel = abs_rel(m.source.as_bytes())?;
    let mut up = rel.ancestors();
    let (file, dir, containers) = (up.next()?, up.next()?, up.next()?);
    let ok = file.file_name()? == "hostname"
        && dir.file_name()?.as_encoded_bytes() == id
        && containers.file_name()? == "containers";
    let root = up.next()?;
    (ok && !root.as_os_str().is_empty()).then(|| root.to_path_buf())
}

/// The data root a root docker container's shim says: a containerd shim in docker's
/// namespace ([`MOBY_NAMESPACE`]) runs in its task's bundle (its working directory, see
/// [`shim_state`]), whose `config.json` dockerd wrote ([`bundle_data_root`]). Read
/// quietly, bounded as any state file.
pub(crate) fn shim_data_root(
    r: &mut Resolver,
    pid: u32,
    args: &[&[u8]],
) -> Option<std::path::PathBuf> {
    if flag_value(args, &[b"-namespace", b"--namespace"]) != Some(MOBY_NAMESPACE) {
        return None;
    }
    let id = flag_value(args, &[b"-id", b"--id"]).filter(|v| is_container_id(v))?;
    let cwd = r.process_cwd(pid)?;
    shim_state(&cwd, args)?;
    let bundle = abs_rel(&cwd)?;
    let quiet = std::mem::replace(&mut r.quiet, true);
    let bytes = r.read(RootKey::Host, &bundle.join("config.json"));
    r.quiet = quiet;
    bundle_data_root(&bytes?, id)
}

impl Resolver {
    /// docker's rootful data roots: the ones root's dockerd named
    /// ([`Runtime::note_process`]) first, then the default `/var/lib/docker`.
    pub(crate) fn docker_data_roots(&self) -> Vec<std::path::PathBuf> {
        let mut v: Vec<std::path::PathBuf> = self
            .learned(Family::Docker, DATA_ROOT_KEY)
            .into_iter()
            .map(std::path::PathBuf::from)
            .collect();
        if !v.iter().any(|p| p == Path::new(DEFAULT_DATA_ROOT)) {
            v.push(DEFAULT_DATA_ROOT.into());
        }
        v
    }
}

/// docker's record of container `id` where `scope` allows: rootless docker's
/// `~/.local/share/docker` of the owner, else `<data-root>/containers` in the scope's root
/// (the host's, or the enclosing container's: docker-in-docker, a minikube node), the data
/// roots root's dockerd named first, then `/var/lib/docker`.
pub(crate) fn lookup(r: &mut Resolver, scope: &Scope, id: &str) -> Option<DockerConfig> {
    if !is_container_id(id.as_bytes()) {
        return None;
    }
    let rel = Path::new("containers").join(id).join("config.v2.json");
    match scope.user {
        Some(u) => {
            let home = r.home(u)?;
            r.read_user_json::<DockerConfig>(u, &home, &Path::new(".local/share/docker").join(&rel))
        }
        None => r
            .docker_data_roots()
            .into_iter()
            .find_map(|d| r.read_json::<DockerConfig>(scope.root, &d.join(&rel))),
    }
}

/// cri-dockerd's label saying a docker container is a pod's sandbox or container.
pub const CRI_TYPE_LABEL: &str = "io.kubernetes.docker.type";

/// A pod's container from cri-dockerd's labels on a docker container: `None` without
/// cri-dockerd's type label (a docker container nobody made for a pod).
pub(crate) fn cri_from_labels(
    labels: &HashMap<String, String>,
    image: Option<String>,
) -> Option<Bundle> {
    let sandbox = match labels.get(CRI_TYPE_LABEL).map(String::as_str) {
        Some("podsandbox") => true,
        Some("container") => false,
        _ => return None,
    };
    let get = |k: &str| {
        labels
            .get(k)
            .filter(|v| !v.is_empty())
            .map(|v| cut(v.clone()))
    };
    // The kubelet's `kubernetes.io/config.source` annotation: `api` for a pod from the
    // API server, `file` or `http` for a static pod (on the sandbox only).
    let is_static = labels
        .get("annotation.kubernetes.io/config.source")
        .is_some_and(|s| s != "api");
    Some(Bundle {
        sandbox,
        sandbox_id: if sandbox {
            None
        } else {
            get("io.kubernetes.sandbox.id")
        },
        pod: PodRef {
            namespace: get("io.kubernetes.pod.namespace"),
            name: get("io.kubernetes.pod.name"),
            uid: get("io.kubernetes.pod.uid"),
            is_static,
        },
        container_name: if sandbox {
            None
        } else {
            get("io.kubernetes.container.name")
        },
        image: if sandbox {
            None
        } else {
            image.filter(|i| !i.is_empty()).map(cut)
        },
        crio: false,
    })
}

impl Resolver {
    /// A pod's container that cri-dockerd made: docker's `config.v2.json` of `id` in
    /// `root` (the node's, for a minikube node) with cri-dockerd's labels. Read once per
    /// root and id.
    pub(crate) fn docker_cri(&mut self, root: RootKey, id: &str) -> Option<Bundle> {
        if !is_container_id(id.as_bytes()) {
            return None;
        }
        let key = (root, id.to_string());
        if let Some(b) = self.docker_cri.get(&key) {
            return b.clone();
        }
        let found = if self.docker_data_roots().into_iter().any(|d| {
            self.listed(root, &d.join("containers"))
                .is_some_and(|ids| ids.contains(id))
        }) {
            lookup(self, &Scope::new(root, None), id)
                .and_then(|c| c.config)
                .and_then(|c| cri_from_labels(c.labels.as_ref()?, c.image))
        } else {
            None
        };
        self.docker_cri.insert(key, found.clone());
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_root_comes_from_roots_dockerd_or_its_config_file() {
        let d = tempfile::tempdir().unwrap();
        let put = |rel: &str, body: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        put(
            "etc/docker/daemon.json",
            r#"{"data-root": "/srv/docker", "debug": true}"#,
        );
        put("etc/docker/alt.json", r#"{"graph": "/old/graph"}"#);
        let host = crate::fs::Host::with_root(d.path());
        let roots = |args: &[&str], uids| {
            let mut r = Resolver::new(&host);
            let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            Docker.note_process(&mut r, 900, &args, uids);
            r.docker_data_roots()
        };
        let root = Some([0; 4]);
        let p = |s: &str| std::path::PathBuf::from(s);
        assert_eq!(
            roots(&["/usr/bin/dockerd", "--data-root", "/data/d"], root),
            [p("data/d"), p("var/lib/docker")]
        );
        assert_eq!(roots(&["dockerd", "-g=/data/g"], root)[0], p("data/g"));
        // The default configuration file, then one given with --config-file (old key).
        assert_eq!(roots(&["dockerd", "-H", "fd://"], root)[0], p("srv/docker"));
        assert_eq!(
            roots(&["dockerd", "--config-file", "/etc/docker/alt.json"], root)[0],
            p("old/graph")
        );
        // Not root's daemon, or a path that is not absolute or has `..`: the default only.
        let default = [p("var/lib/docker")];
        assert_eq!(
            roots(&["dockerd", "--data-root", "/x"], Some([0, 0, 0, 1000])),
            default
        );
        assert_eq!(roots(&["dockerd", "--data-root", "/x"], None), default);
        assert_eq!(roots(&["dockerd", "--data-root", "rel/x"], root), default);
        assert_eq!(
            roots(&["dockerd", "--data-root", "/a/../etc"], root),
            default
        );
        assert_eq!(
            roots(&["dockerd", "--config-file", "/nonexistent.json"], root),
            default
        );
        assert_eq!(config_data_root(b"not json"), None);
        assert_eq!(config_data_root(br#"{"data-root": 3}"#), None);
    }

    #[test]
    fn a_bundles_hostname_mount_names_the_data_root_of_that_container_only() {
        let id = "d".repeat(64);
        let cfg = |src: &str| {
            format!(
                r#"{{"mounts":[{{"destination":"/etc/hosts","source":"/x/hosts"}},{{"destination":"/etc/hostname","source":"{src}"}}]}}"#
            )
        };
        let b = |src: &str| bundle_data_root(cfg(src).as_bytes(), id.as_bytes());
        assert_eq!(
            b(&format!("/srv/docker/containers/{id}/hostname")),
            Some(std::path::PathBuf::from("srv/docker"))
        );
        assert_eq!(
            b(&format!(
                "/srv/docker/containers/{}/hostname",
                "e".repeat(64)
            )),
            None
        );
        assert_eq!(b(&format!("/srv/docker/other/{id}/hostname")), None);
        assert_eq!(b(&format!("/srv/../docker/containers/{id}/hostname")), None);
        assert_eq!(b(&format!("/containers/{id}/hostname")), None);
        assert_eq!(b(&format!("/srv/docker/containers/{id}/hosts")), None);
        assert_eq!(bundle_data_root(b"{}", id.as_bytes()), None);
    }

    #[test]
    fn a_snapshot_keeps_only_the_daemon_configs_data_root() {
        let kept = Docker
            .snapshot_keep(
                Path::new("etc/docker/daemon.json"),
                br#"{"data-root":"/srv/docker","registry-mirrors":["https://m"],"tlskey":"/k"}"#,
            )
            .unwrap();
        assert_eq!(kept, b"{\"data-root\":\"/srv/docker\"}\n");
        // A --config-file of another name is kept when it names a data root.
        let kept = Docker
            .snapshot_keep(Path::new("opt/d.json"), br#"{"graph":"/g","debug":true}"#)
            .unwrap();
        assert_eq!(config_data_root(&kept).as_deref(), Some("/g"));
        assert!(Docker
            .snapshot_keep(Path::new("opt/other.json"), br#"{"debug":true}"#)
            .is_none());
    }

    #[test]
    fn cri_dockerd_labels_name_a_pods_container_and_sandbox() {
        let labels = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let pod = [
            ("io.kubernetes.pod.name", "web"),
            ("io.kubernetes.pod.namespace", "prod"),
            ("io.kubernetes.pod.uid", "u1"),
        ];
        let mut c = pod.to_vec();
        c.extend([
            (CRI_TYPE_LABEL, "container"),
            ("io.kubernetes.container.name", "nginx"),
            ("io.kubernetes.sandbox.id", "s1"),
        ]);
        let b = cri_from_labels(&labels(&c), Some("nginx:1".into())).unwrap();
        assert_eq!(
            (
                b.sandbox,
                b.container_name.as_deref(),
                b.image.as_deref(),
                b.sandbox_id.as_deref(),
                b.pod.name.as_deref(),
                b.pod.is_static
            ),
            (
                false,
                Some("nginx"),
                Some("nginx:1"),
                Some("s1"),
                Some("web"),
                false
            )
        );
        let mut s = pod.to_vec();
        s.extend([
            (CRI_TYPE_LABEL, "podsandbox"),
            ("annotation.kubernetes.io/config.source", "file"),
        ]);
        let b = cri_from_labels(&labels(&s), Some("pause:3.10".into())).unwrap();
        assert_eq!(
            (b.sandbox, b.container_name, b.image, b.pod.is_static),
            (true, None, None, true)
        );
        // Without cri-dockerd's type label: a docker container nobody made for a pod.
        assert!(cri_from_labels(&labels(&pod), None).is_none());
        let mut odd = pod.to_vec();
        odd.push((CRI_TYPE_LABEL, "other"));
        assert!(cri_from_labels(&labels(&odd), None).is_none());
    }
}
