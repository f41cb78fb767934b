//! The tree view: cgroups with their processes, drawn as `systemd-cgls` does.
//!
//! Drawn without recursion: an explicit stack holds, per level, the entries still to
//! draw, so a tree thousands of levels deep needs no more stack than a flat one. Each line
//! starts with one guide column (`│ ` or two spaces) per ancestor level and its own branch
//! (`├─` or `└─`). Past [`MAX_GUIDES`] ancestor levels the middle columns are replaced by
//! a marker, `[+N levels]` (N: the columns left out), between the first and the last
//! [`MAX_GUIDES`]/2 columns: a line is never wider than about 70 columns of guides, so
//! the output grows with the number of cgroups, not with depth squared.

use crate::config::Config;
use crate::sanitize::sanitize;
use crate::term::{Paint, Sgr};
use crate::top::view::{columns_for, Column, GAP};
use crate::top::{Frame, TopRow};
use cgroup_core::tree::xattr::Xattr;
use cgroup_core::{ControllerList, NodeId, Process, Tree};
use std::borrow::Cow;
use std::io;

/// Columns each tree level adds (`├─`).
const INDENT: usize = 2;

/// Ancestor levels drawn as guide columns before the middle ones are left out.
pub const MAX_GUIDES: usize = 32;

/// One entry of the tree.
#[derive(Clone)]
enum Item<'a> {
    Cgroup(NodeId),
    Process {
        proc: &'a Process,
        pid_width: usize,
    },
    Thread {
        node: NodeId,
        idx: usize,
        pid_width: usize,
    },
    Note(String),
}

fn controllers_text(list: &ControllerList) -> String {
    if list.is_empty() {
        return "{none}".to_string();
    }
    let mut s = String::from("{");
    for (i, name) in list.names().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&sanitize(name));
    }
    s.push('}');
    s
}

/// Cuts `text` to `width` characters, ending with `…` when cut.
fn cut(text: &str, width: Option<usize>) -> Cow<'_, str> {
    match width {
        Some(w) if text.chars().count() > w => {
            let keep = w.saturating_sub(1);
            let mut s: String = text.chars().take(keep).collect();
            s.push('…');
            Cow::Owned(s)
        }
        _ => Cow::Borrowed(text),
    }
}

/// `massi` for a process in the initial user namespace; `1000(root in ctr)` for one
/// whose user inside its namespace differs from the host's.
pub fn user_label(u: &cgroup_core::userns::ProcUser) -> String {
    let host_name = u
        .name
        .as_deref()
        .map(|n| sanitize(n.as_bytes()).into_owned());
    if u.initial || u.userns.is_none() {
        return host_name.unwrap_or_else(|| u.uid.to_string());
    }
    let inside = match (u.ns_uid, &u.ns_name) {
        (Some(_), Some(n)) => sanitize(n.as_bytes()).into_owned(),
        (Some(i), None) => i.to_string(),
        (None, _) => format!("unmapped {}", cgroup_core::userns::OVERFLOW_ID),
    };
    if u.ns_uid == Some(u.uid) {
        return host_name.unwrap_or_else(|| u.uid.to_string());
    }
    format!("{}({inside} in ctr)", u.uid)
}

/// The command line as one line: arguments joined by spaces, `[comm]` when empty.
pub fn command_text(p: &Process) -> String {
    if p.cmdline.is_empty() {
        return format!(
            "[{}]",
            p.comm
                .as_deref()
                .map(sanitize)
                .unwrap_or(Cow::Borrowed("?"))
        );
    }
    let mut s = String::new();
    for (i, a) in p.args().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&sanitize(a));
    }
    s
}

/// The guide columns of a line whose ancestors (below the root) were last (`true`) or
/// not, followed by its own branch (`last`): `│ │ ├─`, or with the middle left out
/// `│ │ [+N levels]│ └─`. Returns the text and its width in columns.
#[cfg(test)]
fn guides(ancestors_last: &[bool], last: bool) -> (String, usize) {
    let mut s = String::new();
    let cols = guides_into(&mut s, ancestors_last, last);
    (s, cols)
}

/// The guide columns of a line (see `guides`) into `s` (cleared first: one buffer for
/// every line); returns their width.
fn guides_into(s: &mut String, ancestors_last: &[bool], last: bool) -> usize {
    fn col(s: &mut String, last: bool) {
        s.push_str(if last { "  " } else { "│ " });
    }
    s.clear();
    let mut cols = (ancestors_last.len().min(MAX_GUIDES) + 1) * INDENT;
    if ancestors_last.len() > MAX_GUIDES {
        let half = MAX_GUIDES / 2;
        for &l in &ancestors_last[..half] {
            col(s, l);
        }
        let hidden = ancestors_last.len() - MAX_GUIDES;
        let marker = format!("[+{hidden} levels]");
        cols += marker.len();
        s.push_str(&marker);
        for &l in &ancestors_last[ancestors_last.len() - half..] {
            col(s, l);
        }
    } else {
        for &l in ancestors_last {
            col(s, l);
        }
    }
    s.push_str(if last { "└─" } else { "├─" });
    cols
}

fn write_cgroup(tree: &Tree, cfg: &Config, id: NodeId, f: &mut dyn Paint) -> io::Result<()> {
    let n = tree.node(id);
    f.paint(Sgr::Bold, &sanitize(&n.name))?;
    // As `systemd-cgls -c` (src/shared/cgroup-show.c): ` (#ID)` after the name.
    if let (true, Some(cgid)) = (cfg.cgroup_id, n.cgroup_id) {
        f.paint(Sgr::Dim, &format!(" (#{cgid})"))?;
    }
    if let Some(text) = n.identity.as_ref().and_then(super::identity::identity_text) {
        f.paint(Sgr::Cyan, &format!(" [{text}]"))?;
    }
    if id == 0 {
        let m = tree.mount();
        let mut opts = String::new();
        if m.nsdelegate() {
            opts.push_str(", nsdelegate");
        }
        let text = format!(
            " (cgroup2 on {}{opts})",
            sanitize(m.mount_point.as_os_str().as_encoded_bytes())
        );
        f.paint(Sgr::Dim, &text)?;
    }
    if let Some(t) = n.cgroup_type {
        if t != cgroup_core::values::CgroupType::Domain {
            f.paint(Sgr::Dim, &format!(" ({t})"))?;
        }
    }
    let parent_ctrl = n.parent.and_then(|p| tree.node(p).controllers.as_ref());
    if let Some(c) = &n.controllers {
        if id == 0 || parent_ctrl != Some(c) {
            f.paint(Sgr::Dim, &format!(" {}", controllers_text(c)))?;
        }
    }
    if n.truncated {
        f.paint(Sgr::Dim, " …")?;
    }
    for e in &n.errors {
        let file = e
            .path
            .file_name()
            .map(|f| f.as_encoded_bytes())
            .unwrap_or(b"");
        let what = match &e.kind {
            cgroup_core::NodeErrorKind::PermissionDenied => "permission denied".to_string(),
            cgroup_core::NodeErrorKind::Io(errno) => {
                io::Error::from_raw_os_error(*errno).to_string()
            }
            cgroup_core::NodeErrorKind::TooLarge => "too large".to_string(),
            cgroup_core::NodeErrorKind::Parse(p) => p.to_string(),
            cgroup_core::NodeErrorKind::State(m) => sanitize(m.as_bytes()).into_owned(),
            kind => sanitize(kind.to_string().as_bytes()).into_owned(),
        };
        f.paint(Sgr::Red, &format!(" (! {}: {what})", sanitize(file)))?;
    }
    Ok(())
}

/// Digits of `n` in decimal.
fn decimal_width(n: u32) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Width left for a process line's text after `used` columns (`None`: no cut).
fn width_left(cfg: &Config, used: usize) -> Option<usize> {
    cfg.width.map(|w| w.saturating_sub(used).max(1))
}

fn write_item(
    tree: &Tree,
    cfg: &Config,
    item: &Item<'_>,
    prefix_cols: usize,
    f: &mut dyn Paint,
) -> io::Result<()> {
    match item {
        Item::Cgroup(id) => write_cgroup(tree, cfg, *id, f),
        Item::Process { proc, pid_width } => {
            write!(f, "{:>w$} ", proc.pid, w = *pid_width)?;
            // The user and role go first so that a cut command line cannot hide them.
            let mut used = (*pid_width).max(decimal_width(proc.pid)) + 1;
            if cfg.users {
                if let Some(u) = &proc.user {
                    let text = format!("{} ", user_label(u));
                    used += text.chars().count();
                    f.paint(Sgr::Dim, &text)?;
                }
            }
            if let Some(role) = &proc.role {
                let r = format!("[{}] ", super::identity::role_text(role));
                used += r.chars().count();
                f.paint(Sgr::Cyan, &r)?;
            }
            let w = width_left(cfg, prefix_cols + used);
            if w.is_none() && !proc.cmdline.is_empty() {
                // Nothing to cut: the arguments as they are escaped, with no line built.
                for (i, a) in proc.args().enumerate() {
                    if i > 0 {
                        f.write_all(b" ")?;
                    }
                    f.write_all(sanitize(a).as_bytes())?;
                }
                return Ok(());
            }
            let text = command_text(proc);
            f.write_all(cut(&text, w).as_bytes())
        }
        Item::Thread {
            node,
            idx,
            pid_width,
        } => {
            let Some(t) = tree.node(*node).threads.as_ref().and_then(|t| t.get(*idx)) else {
                return Ok(());
            };
            let pid = format!("{:>w$}", t.tid, w = *pid_width);
            let text = format!(
                "{{{}}}",
                t.comm
                    .as_deref()
                    .map(sanitize)
                    .unwrap_or(Cow::Borrowed("?"))
            );
            f.write_all(pid.as_bytes())?;
            f.write_all(b" ")?;
            let w = width_left(cfg, prefix_cols + pid.len() + 1);
            f.write_all(cut(&text, w).as_bytes())
        }
        Item::Note(text) => f.paint(Sgr::Dim, text),
    }
}

/// The entries below cgroup `id`: its processes, threads, a note, its child cgroups.
fn children(tree: &Tree, id: NodeId) -> Vec<Item<'_>> {
    let n = tree.node(id);
    let mut out = Vec::new();
    let procs = n.processes.as_deref().unwrap_or(&[]);
    let threads = n.threads.as_deref().unwrap_or(&[]);
    let pid_width = procs
        .iter()
        .map(|p| p.pid)
        .chain(threads.iter().map(|t| t.tid))
        .max()
        .map_or(1, |m| m.to_string().len());
    for proc in procs {
        out.push(Item::Process { proc, pid_width });
    }
    for idx in 0..threads.len() {
        out.push(Item::Thread {
            node: id,
            idx,
            pid_width,
        });
    }
    if n.foreign_pids > 0 {
        let s = if n.foreign_pids == 1 { "" } else { "es" };
        out.push(Item::Note(format!(
            "({} process{s} outside this PID namespace)",
            n.foreign_pids
        )));
    }
    for &c in &n.children {
        out.push(Item::Cgroup(c));
    }
    out
}

/// Writes `cgtree ids` as text: one line per cgroup, in tree order: its id, its path,
/// and what it is in brackets when identified (`4242 /system.slice/x.scope [...]`); a
/// cgroup whose directory could not be opened has `-` for its id.
pub fn write_id_lines(tree: &Tree, out: &mut dyn Paint) -> io::Result<()> {
    for (id, n) in tree.nodes().iter().enumerate() {
        match n.cgroup_id {
            Some(cgid) => write!(out, "{cgid} ")?,
            None => out.write_all(b"- ")?,
        }
        out.write_all(sanitize(&tree.path(id)).as_bytes())?;
        if let Some(text) = n.identity.as_ref().and_then(super::identity::identity_text) {
            out.paint(Sgr::Cyan, &format!(" [{text}]"))?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Usage columns in front of each line (`cgtree --stats`): the cells of each cgroup's
/// row, blank on process lines.
pub struct Stats<'a> {
    /// The columns shown.
    pub columns: Vec<Column>,
    /// The row of each node (indexed by [`NodeId`]).
    pub rows: Vec<Option<&'a TopRow>>,
}

impl<'a> Stats<'a> {
    /// The columns of `frame` for `tree`, as many as fit in `width` with 60 columns left
    /// for the tree.
    pub fn new(tree: &Tree, frame: &'a Frame, width: Option<usize>) -> Self {
        let mut rows = vec![None; tree.nodes().len()];
        for r in &frame.rows {
            if let Some(slot) = rows.get_mut(r.node) {
                *slot = Some(r);
            }
        }
        Stats {
            columns: columns_for(width, 60),
            rows,
        }
    }

    /// Columns taken, the gap after the cells included.
    fn width(&self) -> usize {
        self.columns.iter().map(|c| c.width() + GAP).sum()
    }

    fn header(&self, f: &mut dyn Paint) -> io::Result<()> {
        let mut s = String::new();
        for c in &self.columns {
            s.push_str(&format!("{:>w$} ", c.header(), w = c.width()));
        }
        s.push_str("CGROUP\n");
        f.paint(Sgr::Bold, &s)
    }

    fn cells(&self, item: Option<NodeId>, f: &mut dyn Paint) -> io::Result<()> {
        let row = item.and_then(|id| self.rows.get(id).copied().flatten());
        let Some(row) = row else {
            return f.write_all(" ".repeat(self.width()).as_bytes());
        };
        for c in &self.columns {
            let cell = format!("{:>w$}", c.cell(row), w = c.width());
            if cell.trim() == "-" {
                f.paint(Sgr::Dim, &cell)?;
            } else {
                f.write_all(cell.as_bytes())?;
            }
            f.write_all(b" ")?;
        }
        Ok(())
    }
}

/// Writes the tree view of `tree` to `out` (escaped and coloured by `out`), with usage
/// columns in front of each line when `stats` is given. Errors: the writer's.
pub fn render(
    tree: &Tree,
    cfg: &Config,
    stats: Option<&Stats<'_>>,
    xattrs: Option<&[Vec<Xattr>]>,
    out: &mut dyn Paint,
) -> io::Result<()> {
    let stats_cols = stats.map_or(0, Stats::width);
    if let Some(st) = stats {
        st.header(out)?;
        st.cells(Some(0), out)?;
    }
    write_cgroup(tree, cfg, 0, out)?;
    out.write_all(b"\n")?;
    let mut prefix = String::new();
    write_xattrs(cfg, xattrs, 0, &prefix, 0, stats, out)?;
    // Per level below the root: the entries of that level and how many were drawn.
    let mut stack: Vec<(Vec<Item<'_>>, usize)> = vec![(children(tree, 0), 0)];
    // Per ancestor level of the entries on top of the stack: whether it was last.
    let mut ancestors_last: Vec<bool> = Vec::new();
    while let Some((items, next)) = stack.last_mut() {
        let Some(item) = items.get(*next).cloned() else {
            stack.pop();
            ancestors_last.pop();
            continue;
        };
        *next += 1;
        let last = *next == items.len();
        let cols = guides_into(&mut prefix, &ancestors_last, last);
        if let Some(st) = stats {
            let id = match item {
                Item::Cgroup(id) => Some(id),
                _ => None,
            };
            st.cells(id, out)?;
        }
        out.write_all(prefix.as_bytes())?;
        write_item(tree, cfg, &item, cols + stats_cols, out)?;
        out.write_all(b"\n")?;
        if let (Item::Cgroup(id), Some(_)) = (&item, xattrs) {
            // Below the name: the guides, then `│ ` while siblings follow (as
            // systemd-cgls draws them), in place of this line's branch.
            let cut = prefix.len() - "├─".len();
            prefix.truncate(cut);
            prefix.push_str(if last { "  " } else { "│ " });
            write_xattrs(cfg, xattrs, *id, &prefix, cols, stats, out)?;
        }
        if let Item::Cgroup(id) = item {
            let below = children(tree, id);
            if !below.is_empty() {
                stack.push((below, 0));
                ancestors_last.push(last);
            }
        }
    }
    Ok(())
}

/// The extended attributes of cgroup `id` (`-x`), one line each below its name, as
/// systemd-cgls prints them (src/shared/cgroup-show.c `show_cgroup_name`: the guides,
/// `→ `, the name, `: `, the value; systemd escapes both with `cescape`, here the CLI's
/// escaping does), the value cut to the width like a command line.
fn write_xattrs(
    cfg: &Config,
    xattrs: Option<&[Vec<Xattr>]>,
    id: NodeId,
    prefix: &str,
    cols: usize,
    stats: Option<&Stats<'_>>,
    out: &mut dyn Paint,
) -> io::Result<()> {
    let Some(list) = xattrs.and_then(|x| x.get(id)) else {
        return Ok(());
    };
    for x in list {
        if let Some(st) = stats {
            st.cells(None, out)?;
        }
        out.write_all(prefix.as_bytes())?;
        out.write_all("→ ".as_bytes())?;
        let name = sanitize(&x.name);
        out.paint(Sgr::Dim, &name)?;
        out.write_all(b": ")?;
        let used = cols + 2 + name.chars().count() + 2;
        let value = sanitize(&x.value);
        out.write_all(cut(&value, width_left(cfg, used)).as_bytes())?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guides_are_cut_past_max_guides() {
        assert_eq!(guides(&[], false), ("├─".to_string(), 2));
        assert_eq!(guides(&[false, true], true), ("│   └─".to_string(), 6));
        let deep = vec![true; 9000];
        let (s, cols) = guides(&deep, true);
        assert!(s.contains("[+8968 levels]"), "{s}");
        assert_eq!(cols, s.chars().count());
        assert!(cols < 100, "{s}");
        let (s, _) = guides(&[false; MAX_GUIDES], false);
        assert_eq!(s, format!("{}├─", "│ ".repeat(MAX_GUIDES)));
        for (n, w) in [(0, 1), (9, 1), (10, 2), (4194304, 7), (u32::MAX, 10)] {
            assert_eq!(decimal_width(n), w, "{n}");
            assert_eq!(decimal_width(n), n.to_string().len());
        }
    }
}
