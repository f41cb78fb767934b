//! Which cgroup systemd-cgls's `-u UNIT`, `--user-unit UNIT` and `-M NAME` name, found
//! in the hierarchy (cgtree asks no D-Bus manager).
//!
//! systemd-cgls (src/cgls/cgls.c) asks the system (or user) manager for the unit's
//! `ControlGroup` property (src/shared/cgroup-show.c, `show_cgroup_get_unit_path_and_warn`)
//! and, for `-M`, reads the machine's unit from `/run/systemd/machines/NAME`. Without a
//! bus, the same cgroup is found by evidence in the tree:
//!
//! - A **system unit** is a cgroup of that name whose every ancestor below the mount is a
//!   slice laid out as systemd lays slices out (`a-b.slice` inside `a.slice`, a top-level
//!   slice directly below the root: src/basic/unit-name.c `slice_build_parent_slice`; a
//!   unit's cgroup is `<slices>/<unit>`, src/core/cgroup.c `unit_default_cgroup_path`),
//!   and none of them is an identified container, kind node or machine. So a cgroup of
//!   that name inside a container's, a machine's or a user manager's subtree (below
//!   `user@UID.service`, a service, not a slice) is not the host's.
//! - A **user unit** (`--user-unit`) is the same below `user@UID.service` of the caller's
//!   real UID, that manager's cgroup standing for the root.
//! - A unit name without a type suffix is mangled as systemd does
//!   (src/basic/unit-name.c `unit_name_mangle_with_suffix`, `do_escape_mangle`): `/`
//!   becomes `-`, any other character outside `[A-Za-z0-9:_.\\@-]` becomes `\xNN`, and
//!   `.service` is added. Its cgroup directory is the name escaped as
//!   src/basic/cgroup-util.c `cg_escape` does (a `_` in front of names the kernel's own
//!   files could clash with).
//! - `-M NAME` matches what the identification found: a container's name, its full id or a
//!   unique prefix of it (at least 12 hex digits), a kind (or Kubernetes) node's name, a
//!   pod's `NAMESPACE/NAME` or `NAME`, an LXC container's or a machine's name. Matches
//!   nested in each other give the outermost; several distinct ones are an error listing
//!   them. An nspawn machine's `payload` stands for its `systemd-nspawn@NAME.service`,
//!   the unit machined registers (src/nspawn/nspawn.c puts the container in `payload` and
//!   itself in `supervisor` below the unit's cgroup).
//!
//! Each failure is one line that names the candidates seen, escaped for a terminal.

use crate::render::identity::identity_text;
use crate::sanitize::sanitize;
use cgroup_core::runtime::IdentityKind;
use cgroup_core::{NodeId, Tree};

/// Candidates listed in one error line at most (then `and N more`).
const MAX_LISTED: usize = 8;

/// The unit types systemd knows (src/basic/unit-def.c `unit_type_table`).
const UNIT_TYPES: [&str; 11] = [
    "service",
    "socket",
    "target",
    "device",
    "mount",
    "automount",
    "swap",
    "timer",
    "path",
    "slice",
    "scope",
];

/// Characters of a unit name other than `@` (src/basic/unit-name.h `VALID_CHARS`).
fn valid_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_' | '.' | '\\')
}

/// Whether `name` is a unit name as it is (src/basic/unit-name.c `unit_name_is_valid`,
/// simplified: valid characters, at most one `@`, a known type suffix, a non-empty
/// prefix, at most 255 bytes).
pub fn is_unit_name(name: &str) -> bool {
    let Some((prefix, suffix)) = name.rsplit_once('.') else {
        return false;
    };
    name.len() <= 255
        && !prefix.is_empty()
        && !prefix.starts_with('@')
        && UNIT_TYPES.contains(&suffix)
        && prefix.chars().filter(|&c| c == '@').count() <= 1
        && prefix.chars().all(|c| c == '@' || valid_char(c))
}

/// `name` as systemd's `unit_name_mangle` makes it a unit name (see the module docs): as
/// it is when it is one, else escaped and with `.service` added when it has no type.
pub fn mangle_unit(name: &str) -> String {
    if is_unit_name(name) {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        if c == '/' {
            out.push('-');
        } else if c == '@' || valid_char(c) {
            out.push(c);
        } else {
            let mut b = [0; 4];
            for byte in c.encode_utf8(&mut b).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    let typed = out
        .rsplit_once('.')
        .is_some_and(|(p, t)| !p.is_empty() && UNIT_TYPES.contains(&t));
    if !typed {
        out.push_str(".service");
    }
    out
}

/// The cgroup directory name of a unit (src/basic/cgroup-util.c `cg_escape`): a `_` in
/// front of a name that starts with `_` or `.`, is one of the kernel's v1 files
/// (`notify_on_release`, `release_agent`, `tasks`) or starts with a controller's name
/// and a dot (`cpu.service`: a name like a controller's file).
pub fn cg_escape(name: &str) -> String {
    const CONTROLLERS: [&str; 16] = [
        "cgroup",
        "cpu",
        "cpuacct",
        "cpuset",
        "io",
        "blkio",
        "memory",
        "devices",
        "pids",
        "freezer",
        "net_cls",
        "net_prio",
        "perf_event",
        "hugetlb",
        "rdma",
        "misc",
    ];
    let clash = name.starts_with('_')
        || name.starts_with('.')
        || ["notify_on_release", "release_agent", "tasks"].contains(&name)
        || name
            .split_once('.')
            .is_some_and(|(head, _)| CONTROLLERS.contains(&head));
    if clash {
        format!("_{name}")
    } else {
        name.to_string()
    }
}

/// The parent slice of slice `name` (src/basic/unit-name.c `slice_build_parent_slice`):
/// `a-b.slice` → `Some("a.slice")`; a top-level slice (`a.slice`) → `None` (the root).
fn parent_slice(name: &[u8]) -> Option<Vec<u8>> {
    let prefix = name.strip_suffix(b".slice")?;
    let dash = prefix.iter().rposition(|&b| b == b'-')?;
    let mut p = prefix[..dash].to_vec();
    p.extend_from_slice(b".slice");
    Some(p)
}

/// A container, kind (or Kubernetes) node or machine: what owns its subtree.
fn is_container(tree: &Tree, id: NodeId) -> bool {
    let Some(i) = tree.node(id).identity.as_ref() else {
        return false;
    };
    i.node.is_some()
        || i.kind_node.is_some()
        || i.kind.is_engine_container()
        || i.kind.is_kube_container()
        || matches!(i.kind, IdentityKind::Payload | IdentityKind::Unidentified)
}

/// Whether `id` is strictly below `top`.
fn is_below(tree: &Tree, id: NodeId, top: NodeId) -> bool {
    let mut cur = tree.node(id).parent;
    while let Some(p) = cur {
        if p == top {
            return true;
        }
        cur = tree.node(p).parent;
    }
    false
}

/// Why `id` is not a unit of the manager whose cgroup is `manager` (`None`: it is one):
/// no cgroup between them is a container or a user manager, and each is a slice where
/// systemd puts it.
fn not_a_unit(tree: &Tree, id: NodeId, manager: NodeId) -> Option<String> {
    // The cgroups between, outermost first.
    let mut between = Vec::new();
    let mut cur = tree.node(id).parent;
    loop {
        match cur {
            Some(p) if p == manager => break,
            Some(p) => {
                between.push(p);
                cur = tree.node(p).parent;
            }
            None => return Some(format!("not below {}", sanitize(&tree.path(manager)))),
        }
    }
    between.reverse();
    let text = |p: NodeId| {
        tree.node(p)
            .identity
            .as_ref()
            .and_then(identity_text)
            .unwrap_or_default()
    };
    if let Some(&p) = between.iter().find(|&&p| is_container(tree, p)) {
        return Some(format!("inside {} at {}", text(p), sanitize(&tree.path(p))));
    }
    let is_manager = |p: NodeId| {
        let n = &tree.node(p).name;
        n.starts_with(b"user@") && n.ends_with(b".service")
    };
    if let Some(&p) = between.iter().find(|&&p| is_manager(p)) {
        return Some(format!(
            "inside the user manager {}",
            sanitize(&tree.path(p))
        ));
    }
    // Each sits where systemd puts it: a sub-slice in its parent slice, a top-level
    // slice directly in the manager's cgroup; and every cgroup between is a slice.
    for (k, &c) in between.iter().chain(std::iter::once(&id)).enumerate() {
        let name = &tree.node(c).name;
        let parent = if k == 0 { manager } else { between[k - 1] };
        if c != id && !name.ends_with(b".slice") {
            return Some(format!("inside {}, not a slice", sanitize(&tree.path(c))));
        }
        if name.ends_with(b".slice") {
            let fits = match parent_slice(name) {
                None => parent == manager,
                Some(w) => parent != manager && tree.node(parent).name[..] == w[..],
            };
            if !fits {
                return Some(format!(
                    "{} is not where systemd puts that slice",
                    sanitize(&tree.path(c))
                ));
            }
        }
    }
    None
}

/// `items` joined by `, `, at most [`MAX_LISTED`] of them, then `and N more`.
fn listed(items: &[String]) -> String {
    let mut s = items
        .iter()
        .take(MAX_LISTED)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > MAX_LISTED {
        s.push_str(&format!(" and {} more", items.len() - MAX_LISTED));
    }
    s
}

/// The cgroup of unit `unit` (mangled) of the manager whose cgroup is `manager` (the
/// root, 0, for the system manager; `user@UID.service` for a user's). `what` names the
/// manager in the messages.
///
/// # Errors
/// A one-line reason, escaped: no cgroup of that name belongs to the manager (with the
/// cgroups of that name found elsewhere and why each was not taken), or several do.
pub fn find_unit(tree: &Tree, unit: &str, manager: NodeId, what: &str) -> Result<NodeId, String> {
    // The root slice (systemd.special(7) `-.slice`) has no directory of its own: it is the
    // manager's cgroup (the hierarchy's root for the system manager, `user@UID.service`
    // for a user manager; src/core/slice.c).
    if unit == "-.slice" {
        return Ok(manager);
    }
    let dir = cg_escape(unit);
    let mut taken = Vec::new();
    let mut others = Vec::new();
    for (id, n) in tree.nodes().iter().enumerate() {
        if &n.name[..] != dir.as_bytes() || id == 0 {
            continue;
        }
        match not_a_unit(tree, id, manager) {
            None => taken.push(id),
            Some(why) => others.push(format!("{} ({why})", sanitize(&tree.path(id)))),
        }
    }
    let name = sanitize(unit.as_bytes());
    match taken[..] {
        [id] => Ok(id),
        [] if others.is_empty() => Err(format!(
            "unit {name}: no cgroup of that name in the hierarchy (the unit is not running, \
             or has no cgroup of its own)"
        )),
        [] => Err(format!(
            "unit {name}: no cgroup of that name belongs to {what}; found only {}",
            listed(&others)
        )),
        _ => Err(format!(
            "unit {name}: {} cgroups of that name belong to {what}: {}",
            taken.len(),
            listed(
                &taken
                    .iter()
                    .map(|&id| sanitize(&tree.path(id)).into_owned())
                    .collect::<Vec<_>>()
            )
        )),
    }
}

/// The cgroup of `user@UID.service`, the user manager of `uid`: a system unit.
///
/// # Errors
/// As [`find_unit`]: none (the user has no manager running) or several.
pub fn find_user_manager(tree: &Tree, uid: u32) -> Result<NodeId, String> {
    find_unit(
        tree,
        &format!("user@{uid}.service"),
        0,
        "the host's system manager",
    )
    .map_err(|e| format!("--user-unit: the user manager of UID {uid}: {e}"))
}

/// The names a cgroup's identity answers to with `-M`, and whether an id prefix may
/// match its id (`Some(id)`).
fn machine_names(tree: &Tree, id: NodeId) -> (Vec<String>, Option<&str>) {
    let Some(i) = tree.node(id).identity.as_ref() else {
        return (Vec::new(), None);
    };
    let mut names = Vec::new();
    if let Some(n) = &i.node {
        names.push(n.name.clone());
    }
    if let Some(k) = &i.kind_node {
        names.push(k.name.clone());
    }
    let named_kind = i.kind.is_engine_container()
        || matches!(
            i.kind,
            IdentityKind::KubeContainer | IdentityKind::PodmanPod
        );
    let pod_kind = matches!(
        i.kind,
        IdentityKind::KubePod | IdentityKind::KubeContainer | IdentityKind::KubeSandbox
    );
    if named_kind {
        if let Some(n) = &i.name {
            names.push(n.clone());
        }
    }
    if pod_kind {
        if let Some(p) = &i.pod {
            if let Some(n) = &p.name {
                if let Some(ns) = &p.namespace {
                    names.push(format!("{ns}/{n}"));
                }
                names.push(n.clone());
            }
        }
    }
    let id_ok = named_kind || pod_kind || !names.is_empty();
    let cid = if id_ok {
        i.id.as_deref()
            .or_else(|| i.pod.as_ref().and_then(|p| p.uid.as_deref()))
    } else {
        None
    };
    (names, cid)
}

/// The cgroup `-M NAME` names (see the module docs).
///
/// # Errors
/// A one-line reason, escaped: nothing of that name (with some of the names there are),
/// or several distinct cgroups (listed).
pub fn find_machine(tree: &Tree, name: &str) -> Result<NodeId, String> {
    let hex_prefix = name.len() >= 12 && name.bytes().all(|b| b.is_ascii_hexdigit());
    let mut matches = Vec::new();
    let mut known = Vec::new();
    for id in 0..tree.nodes().len() {
        let (names, cid) = machine_names(tree, id);
        let by_name = names.iter().any(|n| n == name);
        let by_id = cid.is_some_and(|c| c == name || (hex_prefix && c.starts_with(name)));
        if by_name || by_id {
            matches.push(id);
        } else if let Some(first) = names.first() {
            if !known.contains(first) {
                known.push(first.clone());
            }
        }
    }
    // The outermost of nested matches.
    let outer: Vec<NodeId> = matches
        .iter()
        .copied()
        .filter(|&m| !matches.iter().any(|&o| o != m && is_below(tree, m, o)))
        .collect();
    let shown = sanitize(name.as_bytes());
    match outer[..] {
        [id] => Ok(nspawn_unit(tree, id)),
        [] => Err(format!(
            "-M {shown}: no container, kind node, pod or machine of that name or id here{}",
            if known.is_empty() {
                String::new()
            } else {
                let k: Vec<String> = known
                    .iter()
                    .map(|n| sanitize(n.as_bytes()).into_owned())
                    .collect();
                format!("; named ones: {}", listed(&k))
            }
        )),
        _ => Err(format!(
            "-M {shown}: {} cgroups match: {}",
            outer.len(),
            listed(
                &outer
                    .iter()
                    .map(|&id| {
                        let what = tree
                            .node(id)
                            .identity
                            .as_ref()
                            .and_then(identity_text)
                            .unwrap_or_default();
                        format!("{what} at {}", sanitize(&tree.path(id)))
                    })
                    .collect::<Vec<_>>()
            )
        )),
    }
}

/// An nspawn container's `payload` cgroup stands for its unit, the parent
/// `systemd-nspawn@NAME.service` (what machined registers as the machine's unit).
fn nspawn_unit(tree: &Tree, id: NodeId) -> NodeId {
    let n = tree.node(id);
    match n.parent {
        Some(p)
            if &n.name[..] == b"payload"
                && tree.node(p).name.starts_with(b"systemd-nspawn@")
                && tree.node(p).name.ends_with(b".service") =>
        {
            p
        }
        _ => id,
    }
}

/// The node at `rel` (a cgroup path, `/`-separated, empty components ignored) below
/// node `base`; `None` when there is no such cgroup in the tree.
pub fn find_path(tree: &Tree, base: NodeId, rel: &str) -> Option<NodeId> {
    let mut cur = base;
    for comp in rel.split('/').filter(|c| !c.is_empty()) {
        cur = *tree
            .node(cur)
            .children
            .iter()
            .find(|&&c| &tree.node(c).name[..] == comp.as_bytes())?;
    }
    Some(cur)
}

/// The names of the units of the manager whose cgroup is `manager` (0: the system
/// manager) that have a cgroup in `tree`: the services, scopes and slices [`find_unit`]
/// would take (each name unescaped from its cgroup directory's, [`cg_escape`]); sorted,
/// for completing `-u` and `--user-unit`.
pub fn unit_names(tree: &Tree, manager: NodeId) -> Vec<String> {
    let mut names = Vec::new();
    for (id, n) in tree.nodes().iter().enumerate() {
        let Ok(dir) = std::str::from_utf8(&n.name) else {
            continue;
        };
        if id == 0 || id == manager || !is_below(tree, id, manager) {
            continue;
        }
        let unit = dir
            .strip_prefix('_')
            .filter(|u| cg_escape(u) == dir)
            .unwrap_or(dir);
        let kind_ok = [".service", ".scope", ".slice"]
            .iter()
            .any(|t| unit.ends_with(t));
        if kind_ok
            && is_unit_name(unit)
            && cg_escape(unit) == dir
            && not_a_unit(tree, id, manager).is_none()
        {
            names.push(unit.to_string());
        }
    }
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mangling_as_systemd() {
        assert_eq!(mangle_unit("docker"), "docker.service");
        assert_eq!(mangle_unit("docker.service"), "docker.service");
        assert_eq!(mangle_unit("user.slice"), "user.slice");
        assert_eq!(mangle_unit("user@1000.service"), "user@1000.service");
        assert_eq!(mangle_unit("a b"), "a\\x20b.service");
        assert_eq!(mangle_unit("foo/bar"), "foo-bar.service");
        assert_eq!(mangle_unit("x.unknown"), "x.unknown.service");
        assert_eq!(mangle_unit("é"), "\\xc3\\xa9.service");
        assert!(!is_unit_name(".service"));
        assert!(!is_unit_name("a@b@c.service"));
    }

    #[test]
    fn cgroup_names_as_cg_escape() {
        assert_eq!(cg_escape("docker.service"), "docker.service");
        assert_eq!(cg_escape("cpu.service"), "_cpu.service");
        assert_eq!(cg_escape("_x.service"), "__x.service");
        assert_eq!(cg_escape("tasks"), "_tasks");
    }

    #[test]
    fn parent_slices() {
        assert_eq!(
            parent_slice(b"user-1000.slice"),
            Some(b"user.slice".to_vec())
        );
        assert_eq!(parent_slice(b"a-b-c.slice"), Some(b"a-b.slice".to_vec()));
        assert_eq!(parent_slice(b"user.slice"), None);
        assert_eq!(parent_slice(b"x.service"), None);
    }

    #[test]
    fn unit_names_are_the_managers_units() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/desktop");
        let tree = cgroup_core::TreeBuilder::new()
            .host_root(&root)
            .identify(true)
            .include_empty(true)
            .max_depth(None)
            .build()
            .unwrap();
        let system = unit_names(&tree, 0);
        assert!(
            system.contains(&"user@1000.service".to_string()),
            "{system:?}"
        );
        assert!(
            system.contains(&"user-1000.slice".to_string()),
            "{system:?}"
        );
        // Every one is found again by find_unit; a user manager's unit is not a system one.
        for u in &system {
            assert!(find_unit(&tree, u, 0, "m").is_ok(), "{u}");
        }
        let manager = find_user_manager(&tree, 1000).unwrap();
        let user = unit_names(&tree, manager);
        assert!(user.contains(&"app.slice".to_string()), "{user:?}");
        assert!(!system.contains(&"app.slice".to_string()), "{system:?}");
        for u in &user {
            assert!(find_unit(&tree, u, manager, "m").is_ok(), "{u}");
        }
    }
}
