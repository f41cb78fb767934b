//! `cgtree pid`: the text view of a [`Trace`] (its JSON is the library's: `Trace`
//! implements `Serialize`).

use super::identity::{identity_text, pod_text, role_text, short_id};
use super::tree::{command_text, MAX_GUIDES};
use crate::sanitize::sanitize;
use cgroup_core::resolve::{PodContainer, ProcessRole};
use cgroup_core::runtime::IdentityKind;
use cgroup_core::trace::{CgroupTrace, ChainEntry, Trace};
use cgroup_core::Process;
use std::io::{self, Write};

fn container_text(c: &PodContainer) -> String {
    let name = c
        .name
        .as_deref()
        .map(|n| sanitize(n.as_bytes()).into_owned())
        .unwrap_or_else(|| "?".into());
    let mut t = format!("container {name} ({}", short_id(&c.id));
    if let Some(img) = &c.image {
        t.push_str(&format!(", {}", sanitize(img.as_bytes())));
    }
    t.push(')');
    t
}

/// Positive evidence of a host process: no cgroup on its path is a container, a pod or
/// an unidentified container-shaped cgroup, and its PID, user and mount namespaces are
/// PID 1's.
fn host_evidence(t: &Trace) -> bool {
    t.host_namespaces == Some(true)
        && !t.cgroup_deleted
        && t.chain.iter().filter_map(|c| c.identity.as_ref()).all(|i| {
            !(i.kind.is_engine_container()
                || i.kind.is_kube_container()
                || matches!(
                    i.kind,
                    IdentityKind::KubePod | IdentityKind::Unidentified | IdentityKind::LxcMonitor
                ))
        })
}

/// What was seen of a process that is not identified.
fn seen(t: &Trace) -> String {
    let mut what = Vec::new();
    if t.cgroup_deleted {
        what.push("its cgroup was removed".to_string());
    }
    if let Some(i) = t
        .chain
        .iter()
        .rev()
        .filter_map(|c| c.identity.as_ref())
        .find(|i| i.kind == IdentityKind::Unidentified)
    {
        if let Some(s) = &i.seen {
            what.push(sanitize(s.as_bytes()).into_owned());
        }
    }
    match t.host_namespaces {
        Some(false) => what.push("namespaces other than PID 1's".into()),
        None => what.push("namespaces not comparable with PID 1's".into()),
        Some(true) => {}
    }
    if t.nspid.len() > 1 {
        what.push(format!(
            "PID {} inside a nested PID namespace",
            t.nspid[t.nspid.len() - 1]
        ));
    }
    if what.is_empty() {
        what.push("no evidence".into());
    }
    what.join("; ")
}

/// What the process is, in one line.
fn what(t: &Trace) -> String {
    match &t.role {
        Some(ProcessRole::Shim { pod: Some(p), .. }) => {
            format!("containerd shim of pod {}", pod_text(p))
        }
        Some(r @ ProcessRole::Shim { .. }) => format!("containerd {}", role_text(r)),
        Some(r @ ProcessRole::Conmon { .. }) => role_text(r),
        Some(ProcessRole::Started { .. }) | None => match (&t.pod_container, &t.pod) {
            // The pod's sandbox is none of its containers.
            (None, Some(p))
                if t.chain
                    .iter()
                    .filter_map(|c| c.identity.as_ref())
                    .any(|i| i.kind == IdentityKind::KubeSandbox) =>
            {
                format!("sandbox (pause) of pod {}", pod_text(p))
            }
            (Some(c), Some(p)) if c.name.is_none() => {
                format!("sandbox (pause) of pod {}", pod_text(p))
            }
            (Some(c), Some(p)) => {
                format!("process of {} in pod {}", container_text(c), pod_text(p))
            }
            _ => {
                let inner = t.chain.last().and_then(|c| c.identity.as_ref());
                match (
                    inner.map(|i| i.kind),
                    inner.and_then(identity_text),
                    &t.container,
                ) {
                    (Some(IdentityKind::Init), Some(text), _) => text,
                    (Some(IdentityKind::Service), Some(text), _) if host_evidence(t) => {
                        format!("process of the {text} service")
                    }
                    // An application's scope is its evidence (flatpak and snap run their
                    // apps in namespaces of their own).
                    (Some(IdentityKind::App), Some(text), None) => format!("process of {text}"),
                    // A machine that is not nspawn's is a VM or another registrar's guest.
                    (_, _, Some(c))
                        if c.kind == IdentityKind::Machine
                            && c.runtime != Some("systemd-nspawn") =>
                    {
                        format!(
                            "process in machine {} ({})",
                            c.name
                                .as_deref()
                                .map(|n| sanitize(n.as_bytes()).into_owned())
                                .unwrap_or_else(|| "?".into()),
                            c.runtime.unwrap_or("machined")
                        )
                    }
                    (_, _, Some(c)) => {
                        let name = c
                            .name
                            .as_deref()
                            .map(|n| sanitize(n.as_bytes()).into_owned())
                            .or(c.id.as_deref().map(short_id))
                            .unwrap_or_else(|| "?".into());
                        let outside = if matches!(t.role, Some(ProcessRole::Started { .. })) {
                            " (started by its conmon outside the container's cgroup)"
                        } else {
                            ""
                        };
                        format!(
                            "process in {} container {}{outside}",
                            c.runtime.unwrap_or("a"),
                            name
                        )
                    }
                    _ if host_evidence(t) => "host process".into(),
                    _ => format!("not identified ({})", seen(t)),
                }
            }
        },
        Some(r @ ProcessRole::LxcMonitor { .. }) => role_text(r),
        Some(_) => "monitor process".into(),
    }
}

/// Writes the text view of one trace. The chain of cgroups is indented two columns per
/// level up to [`MAX_GUIDES`] levels, then `[+N levels]` stands for the rest.
pub fn render_text(t: &Trace, out: &mut dyn Write) -> io::Result<()> {
    let p = Process::new(t.pid, t.cmdline.clone(), t.comm.clone());
    writeln!(out, "{} {}", t.pid, command_text(&p))?;
    writeln!(out, "  what:      {}", what(t))?;
    for c in &t.pod_containers {
        writeln!(out, "  serves:    {}", container_text(c))?;
    }
    write_placement(
        t.kind_node.as_ref(),
        t.node.as_ref(),
        t.container.as_ref(),
        out,
    )?;
    match &t.user {
        Some(u) => {
            let name = |n: &Option<String>| {
                n.as_deref()
                    .map(|n| format!(" ({})", sanitize(n.as_bytes())))
                    .unwrap_or_default()
            };
            let ns = u
                .userns
                .map(|n| n.to_string())
                .unwrap_or_else(|| "?".into());
            if u.userns.is_none() {
                writeln!(
                    out,
                    "  user:      UID {}{}, GID {} (its user namespace cannot be read)",
                    u.uid,
                    name(&u.name),
                    u.gid
                )?;
            } else if u.initial {
                writeln!(
                    out,
                    "  user:      UID {}{}, GID {} in the initial user namespace {ns}",
                    u.uid,
                    name(&u.name),
                    u.gid
                )?;
            } else {
                let inside = |id: Option<u32>, n: &Option<String>| match id {
                    Some(i) => format!("{i}{}", name(n)),
                    None => format!("unmapped (shown as {})", cgroup_core::userns::OVERFLOW_ID),
                };
                let nesting = match (t.userns.depth, t.userns.parent) {
                    (Some(1), Some(p)) => {
                        format!(", nested 1 level below the initial namespace (parent {p})")
                    }
                    (Some(d), Some(p)) => {
                        format!(", nested {d} levels below the initial namespace (parent {p})")
                    }
                    (None, Some(p)) => format!(" (parent {p})"),
                    _ => String::new(),
                };
                writeln!(
                    out,
                    "  user:      host UID {}{}, UID {} in its user namespace {ns}{nesting}",
                    u.uid,
                    name(&u.name),
                    inside(u.ns_uid, &u.ns_name)
                )?;
                writeln!(
                    out,
                    "  group:     host GID {}, GID {} in it",
                    u.gid,
                    inside(u.ns_gid, &None)
                )?;
            }
        }
        None => {
            if let (Some(u), Some(g)) = (t.uid, t.gid) {
                writeln!(
                    out,
                    "  user:      uid {}, gid {} (as the host sees them)",
                    u[0], g[0]
                )?;
            }
        }
    }
    if t.nspid.len() > 1 {
        let list: Vec<String> = t.nspid.iter().map(u32::to_string).collect();
        writeln!(
            out,
            "  pids:      {} (host first, then each nested PID namespace)",
            list.join(" ")
        )?;
    }
    writeln!(
        out,
        "  cgroup:    {}{}",
        sanitize(&t.cgroup),
        if t.outside_namespace {
            " (outside the cgroup namespace cgtree runs in: not readable from here)"
        } else if t.cgroup_deleted {
            " (removed: the kernel says the cgroup was deleted while this process still names it)"
        } else {
            ""
        }
    )?;
    write_chain(&t.chain, out)
}

/// The kind node (or Kubernetes node) and container lines of a trace.
fn write_placement(
    kind_node: Option<&cgroup_core::resolve::KindNode>,
    node: Option<&cgroup_core::resolve::NodeRef>,
    container: Option<&cgroup_core::trace::ContainerRef>,
    out: &mut dyn Write,
) -> io::Result<()> {
    if let Some(k) = kind_node {
        let cluster = k
            .cluster
            .as_deref()
            .map(|c| format!(" (cluster {})", sanitize(c.as_bytes())))
            .unwrap_or_default();
        writeln!(out, "  kind node: {}{cluster}", sanitize(k.name.as_bytes()))?;
    } else if let Some(n) = node {
        let cluster = n
            .cluster
            .as_deref()
            .map(|c| format!(" (profile {})", sanitize(c.as_bytes())))
            .unwrap_or_default();
        writeln!(
            out,
            "  node:      {} node {}{cluster}",
            n.distribution.unwrap_or("kubernetes"),
            sanitize(n.name.as_bytes())
        )?;
    }
    if let Some(c) = container {
        let mut line = format!("{} container", c.runtime.unwrap_or("a"));
        if let Some(n) = &c.name {
            line.push_str(&format!(" {}", sanitize(n.as_bytes())));
        }
        if let Some(id) = &c.id {
            line.push_str(&format!(", {}", sanitize(id.as_bytes())));
        }
        let mut attrs = Vec::new();
        match (c.rootless, c.user) {
            (Some(true), Some(u)) => attrs.push(format!("rootless, user {u}")),
            (Some(false), _) => attrs.push("rootful".to_string()),
            _ => {}
        }
        if let Some(img) = &c.image {
            attrs.push(format!("image {}", sanitize(img.as_bytes())));
        }
        if !attrs.is_empty() {
            line.push_str(&format!(" ({})", attrs.join(", ")));
        }
        writeln!(out, "  container: {line}")?;
    }
    Ok(())
}

/// The `chain:` lines: the cgroups from `/` down, indented two columns per level up to
/// [`MAX_GUIDES`] levels, then `[+N levels]` stands for the rest.
fn write_chain(chain: &[ChainEntry], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "  chain:")?;
    for (depth, c) in chain.iter().enumerate() {
        let name = if depth == 0 {
            &b"/"[..]
        } else {
            c.path.rsplit(|&b| b == b'/').next().unwrap_or(&c.path)
        };
        // Two columns per level, up to MAX_GUIDES levels; deeper, a marker says how
        // many more (output linear in depth, not quadratic).
        let levels = depth.saturating_sub(1);
        let mut indent = "  ".repeat(levels.min(MAX_GUIDES));
        if levels > MAX_GUIDES {
            indent.push_str(&format!("[+{} levels]", levels - MAX_GUIDES));
        }
        let branch = if depth == 0 { "" } else { "└─" };
        let ident = c
            .identity
            .as_ref()
            .and_then(identity_text)
            .map(|t| format!(" [{t}]"))
            .unwrap_or_default();
        writeln!(out, "    {indent}{branch}{}{ident}", sanitize(name))?;
    }
    Ok(())
}

/// Writes the text view of one cgroup found by its id (`cgtree id`): the id and path,
/// what it is, the container, kind node and pod it belongs to, and the chain.
pub fn render_cgroup_text(t: &CgroupTrace, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{} {}", t.id, sanitize(&t.path))?;
    let what = t
        .chain
        .last()
        .and_then(|c| c.identity.as_ref())
        .and_then(identity_text)
        .unwrap_or_else(|| "not identified".into());
    writeln!(out, "  what:      {what}")?;
    write_placement(
        t.kind_node.as_ref(),
        t.node.as_ref(),
        t.container.as_ref(),
        out,
    )?;
    if let Some(p) = &t.pod {
        writeln!(out, "  pod:       {}", pod_text(p))?;
    }
    if let Some(c) = &t.pod_container {
        writeln!(out, "  in pod:    {}", container_text(c))?;
    }
    write_chain(&t.chain, out)
}
