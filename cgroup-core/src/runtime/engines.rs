//! Containers outside Kubernetes, across engines: a container-shaped cgroup is asked of
//! each engine's state in turn (podman, docker, the OCI runtimes, containerd), each
//! family answering whether its state holds the id and what it says
//! (`podman::lookup`, `docker::lookup`, `oci::lookup`,
//! `Resolver::containerd_task_namespace`).
//!
//! The state is read where the cgroup's engine keeps it: under the host root, or under
//! the root of the container the cgroup is nested in (docker-in-docker, podman-in-podman:
//! `proc/<the outer container's first pid>/root`, through the confined reader), never
//! both. A user's cgroup at the host is named only from that user's own state.
//!
//! Sources: moby `hack/dind` (the inner daemon's containers at `/docker/<id>` of the outer
//! container's cgroup, its processes moved to `/init`), containers/podman
//! `libpod/storage.go`, containers/crun `crun.1.md` (state roots), and the families'
//! own files.

use super::{docker, oci, podman, Family, IdentityKind};
use crate::classify::is_container_id;
use crate::resolve::{cut, Identity, KindNode, Resolver, RootKey};
use std::collections::HashMap;
use std::path::PathBuf;

/// Where an engine's state for one cgroup may be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scope {
    /// The root the rootful state is read in: the host's, or the enclosing container's.
    pub(crate) root: RootKey,
    /// A user (not root) whose cgroup this is, at the host root: only their own state
    /// (home, runtime directory, read with the user-directory rules) names it.
    pub(crate) user: Option<u32>,
}

impl Scope {
    /// The scope of a cgroup owned by `owner` (see
    /// [`cgroup_owner`](crate::tree::identify::cgroup_owner)) whose state is in `root`.
    /// Inside a container's root the engine's state is that root's own (a user's
    /// container holds nothing of root's), so only the host root distinguishes users.
    pub(crate) fn new(root: RootKey, owner: Option<u32>) -> Scope {
        Scope {
            root,
            user: match root {
                RootKey::Host => owner.filter(|&u| u != 0),
                RootKey::Proc(_) => None,
            },
        }
    }
}

/// Who owns container `id` by the runtime state in `root` that holds it.
///
/// At the host root: root (0) when root's runtimes know it (podman's rootful storage or
/// run root, CRI-O's, docker's, crun's or runc's state, a containerd task bundle), else
/// the user whose rootless podman storage holds it; `None` when no state names it. Root's
/// state is looked up first, so a user who copies root's ids into their own storage does
/// not become their owner.
///
/// In a container's root (`proc/<pid>/root`): the host UID that container's process runs
/// as (its four UIDs equal), when the rootful state in that root holds the id.
pub fn container_owner(r: &mut Resolver, root: RootKey, id: &str) -> Option<u32> {
    if !is_container_id(id.as_bytes()) {
        return None;
    }
    if let Some(o) = r.owners.get(&(root, id.to_string())) {
        return *o;
    }
    let quiet = std::mem::replace(&mut r.quiet, true);
    let mut dirs: Vec<PathBuf> = [
        "run/containers/storage/overlay-containers",
        "run/crun",
        "run/runc",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    dirs.extend(r.docker_data_roots().iter().map(|d| d.join("containers")));
    let rootful = r.rootful_podman_has(root, id)
        || dirs
            .iter()
            .any(|d| r.listed(root, d).is_some_and(|ids| ids.contains(id)))
        || r.containerd_task_namespace(root, id).is_some();
    let owner = match root {
        RootKey::Host if rootful => Some(0),
        RootKey::Host => r.rootless_podman_owner(id),
        RootKey::Proc(pid) if rootful => r.sole_uid(pid),
        RootKey::Proc(_) => None,
    };
    r.quiet = quiet;
    r.owners.insert((root, id.to_string()), owner);
    owner
}

/// Identifies a container cgroup outside Kubernetes: podman, docker, or a bare id
/// confirmed by runtime state, read in `root` (the host's, or the enclosing container's).
/// `shape` is the family the cgroup's name points to (asked first; only state is
/// evidence), `owner` the user whose cgroup it is, `conmon_names` the names host conmon
/// processes gave for ids (counted at the host root only).
pub fn container(
    r: &mut Resolver,
    root: RootKey,
    id: &str,
    shape: Option<Family>,
    owner: Option<u32>,
    conmon_names: &HashMap<String, Option<String>>,
) -> Option<Identity> {
    // Joined to paths below: only a 64-hex id (what classify gives; a caller's other
    // string is refused).
    if !is_container_id(id.as_bytes()) {
        return None;
    }
    let docker_shape = shape == Some(Family::Docker);
    // A podman container outside any user slice (cgroups delegated by hand, or by a
    // manager other than systemd) may still be a user's rootless container: its id is
    // then in that user's own storage, which names the owner.
    let owner = match (root, owner) {
        (RootKey::Host, None) if !docker_shape && !r.rootful_podman_has(root, id) => {
            r.rootless_podman_owner(id)
        }
        (_, o) => o,
    };
    let scope = Scope::new(root, owner);
    let mut ident = Identity {
        kind: IdentityKind::Container,
        id: Some(id.to_string()),
        user: owner,
        rootless: Some(owner.is_some_and(|u| u != 0)),
        ..Default::default()
    };
    let mut runtime: Option<Family> = None;
    let mut evidence = false;
    if !docker_shape {
        if let Some(info) = podman::lookup(r, &scope, id) {
            runtime = Some(Family::Podman);
            evidence = true;
            ident.name = info.name;
            ident.image = info.image;
        }
    }
    // conmon's names are of host conmons that run as their container's owner; that owner
    // must be this cgroup's too.
    let conmon_name = match conmon_names.get(id) {
        Some(n)
            if root == RootKey::Host
                && (scope.user.is_none()
                    || container_owner(r, RootKey::Host, id) == scope.user) =>
        {
            Some(n)
        }
        _ => None,
    };
    if let Some(name) = conmon_name {
        runtime = Some(Family::Podman);
        evidence = true;
        if ident.name.is_none() {
            ident.name = name.clone();
        }
    }
    evidence |= oci::lookup(r, &scope, id);
    if runtime.is_none() {
        if let Some(cfg) = docker::lookup(r, &scope, id) {
            runtime = Some(Family::Docker);
            evidence = true;
            ident.name = cfg.name.map(|n| cut(n.trim_start_matches('/').to_string()));
            if let Some(c) = cfg.config {
                ident.image = c.image.filter(|i| !i.is_empty()).map(cut);
                if let Some(l) = c.labels.as_ref() {
                    ident.node = crate::runtime::kind::node_from_labels(
                        l,
                        ident.name.as_deref().unwrap_or_default(),
                    );
                }
            }
        }
    }
    // A containerd task outside Kubernetes' cgroups (`ctr run`, nerdctl: cgroup
    // `/<namespace>/<id>` by default): its bundle directory, in any namespace.
    if runtime.is_none() && scope.user.is_none() && r.containerd_task_namespace(root, id).is_some()
    {
        runtime = Some(Family::Containerd);
    }
    if !evidence && runtime.is_none() {
        return None;
    }
    if !matches!(runtime, Some(Family::Docker | Family::Containerd)) {
        // podman keeps labels in its database; kind's node image is its evidence.
        ident.node =
            crate::runtime::kind::node_from_image(ident.image.as_deref(), ident.name.as_deref());
    }
    ident.kind_node = ident.node.as_ref().and_then(|n| {
        (n.distribution == Some("kind")).then(|| KindNode {
            name: n.name.clone(),
            cluster: n.cluster.clone(),
        })
    });
    (ident.runtime, ident.kind) = match runtime {
        Some(Family::Podman) => (Some("podman"), IdentityKind::PodmanContainer),
        Some(Family::Docker) => (Some("docker"), IdentityKind::DockerContainer),
        Some(Family::Containerd) => (Some("containerd"), IdentityKind::Container),
        _ => (None, IdentityKind::Container),
    };
    if ident.kind == IdentityKind::PodmanContainer && root == RootKey::Host {
        // kind's, minikube's, toolbox's and distrobox's labels: in podman's database.
        r.podman_db_labels(&mut ident);
    }
    Some(ident)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::Host;
    use crate::runtime::containerd::TASKS;
    use std::path::Path;

    /// Writes `body` at `rel` below `root`, with its directories.
    fn put(root: &Path, rel: &str, body: &str) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }

    #[test]
    fn rootless_podman_outside_a_user_slice_is_found_in_its_owners_storage() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let write = |rel: &str, body: &str| put(root, rel, body);
        write(
            "etc/passwd",
            "root:x:0:0:root:/root:/bin/sh\nnoh:x:900:900::/:/bin/false\n\
             alice:x:1500:1500::/home/alice:/bin/sh\nbob:x:1600:1600::/home/bob:/bin/sh\n",
        );
        let entry = |id: &str, name: &str| {
            format!(
                r#"[{{"id":"{id}","names":["{name}"],"metadata":"{{\"image-name\":\"img\"}}"}}]"#
            )
        };
        let (a, b, c) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        write(
            "home/bob/.local/share/containers/storage/vfs-containers/containers.json",
            &entry(&a, "bobs"),
        );
        write(
            "var/lib/containers/storage/overlay-containers/containers.json",
            &entry(&b, "roots"),
        );
        let mut r = Resolver::new(&Host::with_root(root));
        let none = HashMap::new();
        let ident = |r: &mut Resolver, id: &str| {
            container(r, RootKey::Host, id, Some(Family::Podman), None, &none).unwrap()
        };
        let bobs = ident(&mut r, &a);
        assert_eq!(
            (bobs.name.as_deref(), bobs.user, bobs.rootless),
            (Some("bobs"), Some(1600), Some(true))
        );
        let roots = ident(&mut r, &b);
        assert_eq!(
            (roots.name.as_deref(), roots.user, roots.rootless),
            (Some("roots"), None, Some(false))
        );
        // Nobody's: no state names it, so it is no podman container whatever its cgroup's
        // name says (the caller reports it as not identified); nothing reported for the
        // homes that have no storage.
        assert!(container(&mut r, RootKey::Host, &c, Some(Family::Podman), None, &none).is_none());
        assert!(r.take_errors().is_empty());
    }

    #[test]
    fn a_bare_id_with_a_containerd_task_bundle_is_a_containerd_container() {
        let d = tempfile::tempdir().unwrap();
        let (id, other) = ("e".repeat(64), "f".repeat(64));
        std::fs::create_dir_all(d.path().join(TASKS).join("default").join(&id)).unwrap();
        std::fs::create_dir_all(d.path().join(TASKS).join("k8s.io")).unwrap();
        let mut r = Resolver::new(&Host::with_root(d.path()));
        let none = HashMap::new();
        let ident = container(&mut r, RootKey::Host, &id, None, None, &none).unwrap();
        assert_eq!(
            (ident.kind, ident.runtime, ident.id.as_deref()),
            (
                IdentityKind::Container,
                Some("containerd"),
                Some(id.as_str())
            )
        );
        // No bundle, no other runtime state: not claimed as anything.
        assert!(container(&mut r, RootKey::Host, &other, None, None, &none).is_none());
        assert!(r.take_errors().is_empty());
    }

    #[test]
    fn empty_names_and_images_in_storage_are_absent_not_empty() {
        // `podman run --rootfs DIR` stores `"image-name": ""`.
        let d = tempfile::tempdir().unwrap();
        let id = "9".repeat(64);
        let p = d
            .path()
            .join("var/lib/containers/storage/overlay-containers/containers.json");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            format!(
                r#"[{{"id":"{id}","names":["","node"],"metadata":"{{\"image-name\":\"\"}}"}}]"#
            ),
        )
        .unwrap();
        let mut r = Resolver::new(&Host::with_root(d.path()));
        let ident = container(
            &mut r,
            RootKey::Host,
            &id,
            Some(Family::Podman),
            None,
            &HashMap::new(),
        )
        .unwrap();
        assert_eq!((ident.name.as_deref(), ident.image), (Some("node"), None));
    }

    /// docker-in-docker: the inner container is named from the state in the outer
    /// container's root only; a "container root" that is the host's own root names
    /// nothing of the host's.
    #[test]
    fn nested_state_is_read_in_the_containers_own_root_only() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        let (inner, host_only) = ("a".repeat(64), "b".repeat(64));
        let cfg = |name: &str| format!(r#"{{"Name":"/{name}","Config":{{"Image":"img"}}}}"#);
        put(
            root,
            &format!("proc/70/root/var/lib/docker/containers/{inner}/config.v2.json"),
            &cfg("inner"),
        );
        put(
            root,
            &format!("var/lib/docker/containers/{host_only}/config.v2.json"),
            &cfg("hosts"),
        );
        // proc/80/root is the host's root (a process that did not enter a container).
        std::fs::create_dir_all(root.join("proc/80")).unwrap();
        std::os::unix::fs::symlink(root, root.join("proc/80/root")).unwrap();
        let mut r = Resolver::new(&Host::with_root(root));
        let none = HashMap::new();
        let docker = Some(Family::Docker);
        let name = |r: &mut Resolver, key: RootKey, id: &str| {
            container(r, key, id, docker, None, &none).and_then(|i| i.name)
        };
        assert_eq!(
            name(&mut r, RootKey::Proc(70), &inner).as_deref(),
            Some("inner")
        );
        // Not the host's state inside a container's root, nor the inner state at the host.
        assert_eq!(name(&mut r, RootKey::Proc(70), &host_only), None);
        assert_eq!(name(&mut r, RootKey::Host, &inner), None);
        // A user's inner cgroup is named from the container's root too (it is theirs).
        let owned = container(&mut r, RootKey::Proc(70), &inner, docker, Some(1500), &none);
        assert_eq!(owned.and_then(|i| i.name).as_deref(), Some("inner"));
        assert!(r.is_own_root(70, RootKey::Host));
        assert!(!r.is_own_root(80, RootKey::Host));
        assert!(!r.is_own_root(80, RootKey::Proc(70)));
    }
}
