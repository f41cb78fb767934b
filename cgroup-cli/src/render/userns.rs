//! `cgtree userns`: user namespaces like `lsns --type user`, with maps and holdings.
//!
//! What each namespace's processes run in is summarised (a host with hundreds of pods
//! would otherwise give one line of thousands of characters): the counts by kind
//! (containers by runtime, kind nodes, pods), then per kind the first few names and how
//! many more; `--full` lists every name, one a line.

use super::identity::pod_text;
use super::tree::command_text;
use crate::sanitize::sanitize;
use cgroup_core::runtime::IdentityKind;
use cgroup_core::tree::userns::{Holdings, Report};
use cgroup_core::userns::{Source, UserNs};
use std::io::{self, Write};

/// Names of each kind shown after a namespace's counts without `--full`.
pub const FIRST_NAMES: usize = 3;

/// The text view of a [`Report`] (its JSON is the library's: [`Report::json`]).
pub struct View<'r, 'a> {
    report: &'r Report<'a>,
}

fn source_text(s: Option<Source>) -> &'static str {
    match s {
        Some(Source::Ioctl) => "from the kernel",
        Some(Source::Maps) => "inferred from the maps",
        Some(Source::Ancestors) => "inferred from the ancestors",
        Some(Source::Initial) => "the initial namespace",
        // (`Source` is `#[non_exhaustive]`: a new source reads as unknown until named here.)
        Some(_) | None => "unknown",
    }
}

fn user_text(id: Option<u32>, name: Option<&str>) -> String {
    match (id, name) {
        (Some(i), Some(n)) => format!("{i} ({})", sanitize(n.as_bytes())),
        (Some(i), None) => i.to_string(),
        (None, _) => format!("unmapped ({})", cgroup_core::userns::OVERFLOW_ID),
    }
}

impl<'r, 'a> View<'r, 'a> {
    /// A view of `report`.
    pub fn new(report: &'r Report<'a>) -> Self {
        View { report }
    }

    fn owner_name(&self, n: &UserNs) -> String {
        let first = n.first_pid().and_then(|p| self.report.process(p));
        first
            .and_then(|p| p.user.as_ref())
            .map(|u| {
                u.name
                    .as_deref()
                    .map(|n| sanitize(n.as_bytes()).into_owned())
                    .unwrap_or_else(|| u.uid.to_string())
            })
            .unwrap_or_else(|| "?".into())
    }

    /// What a namespace's processes run in, by kind: (singular, plural, names), in the
    /// order containers (by runtime, as they first appear), kind nodes, pods; empty
    /// kinds left out. Names are escaped.
    fn holds_groups(h: &Holdings) -> Vec<(String, String, Vec<String>)> {
        let mut groups: Vec<(String, String, Vec<String>)> = Vec::new();
        for c in &h.containers {
            let name = c
                .name
                .as_deref()
                .map(|n| sanitize(n.as_bytes()).into_owned())
                .or(c.id.as_deref().map(super::identity::short_id))
                .unwrap_or_else(|| "?".into());
            let one = match c.runtime {
                Some(r) => format!("{r} container"),
                None => "container".to_string(),
            };
            match groups.iter_mut().find(|g| g.0 == one) {
                Some(g) => g.2.push(name),
                None => {
                    let many = format!("{one}s");
                    groups.push((one, many, vec![name]));
                }
            }
        }
        if !h.kind_nodes.is_empty() {
            let names = h
                .kind_nodes
                .iter()
                .map(|k| sanitize(k.name.as_bytes()).into_owned())
                .collect();
            groups.push(("kind node".into(), "kind nodes".into(), names));
        }
        if !h.pods.is_empty() {
            let names = h.pods.iter().map(pod_text).collect();
            groups.push(("pod".into(), "pods".into(), names));
        }
        groups
    }

    /// The `holds:` lines: the counts by kind on the first line, then per kind the
    /// first [`FIRST_NAMES`] names and how many more; with `full`, every name on a line
    /// of its own.
    fn write_holds(
        h: &Holdings,
        width: Option<usize>,
        full: bool,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        let groups = Self::holds_groups(h);
        if groups.is_empty() {
            return Ok(());
        }
        let counts: Vec<String> = groups
            .iter()
            .map(|(one, many, names)| {
                let n = names.len();
                format!("{n} {}", if n == 1 { one } else { many })
            })
            .collect();
        writeln!(
            out,
            "{}",
            cut(&format!("  holds:   {}", counts.join(", ")), width)
        )?;
        for (one, many, names) in &groups {
            if full {
                for name in names {
                    writeln!(out, "{}", cut(&format!("    {one} {name}"), width))?;
                }
                continue;
            }
            let label = if names.len() == 1 { one } else { many };
            let shown = names.len().min(FIRST_NAMES);
            let mut line = format!("    {label}: {}", names[..shown].join(", "));
            if names.len() > shown {
                line.push_str(&format!(" ... and {} more", names.len() - shown));
            }
            writeln!(out, "{}", cut(&line, width))?;
        }
        Ok(())
    }

    /// The lsns-like table (or one namespace with its processes).
    pub fn render(
        &self,
        only: Option<u64>,
        width: Option<usize>,
        full: bool,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        writeln!(
            out,
            "{:>10} {:>6} {:>7} {:<14} COMMAND",
            "NS", "NPROCS", "PID", "USER"
        )?;
        for (n, h) in self.report.namespaces.iter().zip(&self.report.holdings) {
            if only.is_some_and(|o| o != n.inode) {
                continue;
            }
            let first = n.first_pid().unwrap_or(0);
            let cmd = self
                .report
                .process(first)
                .map(command_text)
                .unwrap_or_default();
            let line = format!(
                "{:>10} {:>6} {:>7} {:<14} {cmd}",
                n.inode,
                n.pids.len(),
                first,
                self.owner_name(n)
            );
            writeln!(out, "{}", cut(&line, width))?;
            writeln!(out, "  uid map: {}", n.uid_map)?;
            writeln!(out, "  gid map: {}", n.gid_map)?;
            if n.uid_map.is_initial() {
                writeln!(out, "  the initial user namespace")?;
            } else {
                let owner = n
                    .owner
                    .map(|o| format!("{o} ({})", source_text(n.owner_source)))
                    .unwrap_or_else(|| "unknown".into());
                let parent = match (n.lineage.parent, n.lineage.depth) {
                    (Some(p), Some(d)) => {
                        format!("{p}, depth {d} ({})", source_text(n.lineage.source))
                    }
                    (Some(p), None) => format!("{p} ({})", source_text(n.lineage.source)),
                    _ => "unknown".into(),
                };
                writeln!(out, "  owner:   {owner}")?;
                writeln!(out, "  parent:  {parent}")?;
            }
            Self::write_holds(h, width, full, out)?;
            if only.is_some() {
                self.render_processes(n, width, out)?;
            }
        }
        Ok(())
    }

    fn where_text(&self, pid: u32) -> String {
        let Some(node) = self.report.node_of(pid) else {
            return String::new();
        };
        let mut cur = Some(node);
        let mut pod = None;
        let mut ctr = None;
        while let Some(c) = cur {
            if let Some(id) = &self.report.tree().node(c).identity {
                match id.kind {
                    IdentityKind::KubePod if pod.is_none() => pod = id.pod.as_ref().map(pod_text),
                    IdentityKind::KubeContainer if ctr.is_none() => ctr = id.name.clone(),
                    k if k.is_engine_container() && ctr.is_none() && pod.is_none() => {
                        ctr = id.name.clone().or(id.id.clone())
                    }
                    _ => {}
                }
            }
            cur = self.report.tree().node(c).parent;
        }
        match (pod, ctr) {
            (Some(p), Some(c)) => format!("pod {p}, container {}", sanitize(c.as_bytes())),
            (Some(p), None) => format!("pod {p}"),
            (None, Some(c)) => format!("container {}", sanitize(c.as_bytes())),
            _ => String::new(),
        }
    }

    fn render_processes(
        &self,
        n: &UserNs,
        width: Option<usize>,
        out: &mut dyn Write,
    ) -> io::Result<()> {
        writeln!(out)?;
        writeln!(
            out,
            "{:>8}  {:<16} {:<16} {:<40} WHERE",
            "PID", "HOST UID", "UID IN NS", "COMMAND"
        )?;
        for pid in &n.pids {
            let Some(p) = self.report.process(*pid) else {
                continue;
            };
            let Some(u) = &p.user else { continue };
            let host = user_text(Some(u.uid), u.name.as_deref());
            let inside = user_text(u.ns_uid, u.ns_name.as_deref());
            let cmd = command_text(p);
            let cmd: String = if cmd.chars().count() > 40 {
                cmd.chars().take(39).chain(['…']).collect()
            } else {
                cmd
            };
            let line = format!(
                "{:>8}  {:<16} {:<16} {:<40} {}",
                pid,
                host,
                inside,
                cmd,
                self.where_text(*pid)
            );
            writeln!(out, "{}", cut(line.trim_end(), width))?;
        }
        Ok(())
    }
}

fn cut(line: &str, width: Option<usize>) -> String {
    match width {
        Some(w) if line.chars().count() > w => line
            .chars()
            .take(w.saturating_sub(1))
            .chain(['…'])
            .collect(),
        _ => line.to_string(),
    }
}
