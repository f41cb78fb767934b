//! The tree view, drawn with ptree from an explicit print configuration (nothing is read
//! from the user's ptree configuration file or `PTREE_*` variables).

use crate::config::Config;
use crate::sanitize::sanitize;
use cgroup_core::{ControllerList, Node, NodeId, Process, Tree};
use ptree::print_config::{IndentChars, PrintConfig, StyleWhen};
use ptree::{Style, TreeItem};
use std::borrow::Cow;
use std::io::{self, Write};

/// Columns each tree level adds (`├─`).
const INDENT: usize = 2;

struct Ctx<'a> {
    tree: &'a Tree,
    cfg: &'a Config,
}

#[derive(Clone)]
enum Item<'a> {
    Cgroup {
        ctx: &'a Ctx<'a>,
        id: NodeId,
    },
    Process {
        ctx: &'a Ctx<'a>,
        proc: &'a Process,
        level: usize,
        pid_width: usize,
    },
    Thread {
        ctx: &'a Ctx<'a>,
        node: NodeId,
        idx: usize,
        level: usize,
        pid_width: usize,
    },
    Note {
        ctx: &'a Ctx<'a>,
        text: String,
    },
}

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RED: &str = "\x1b[31m";
const CYAN: &str = "\x1b[36m";
const RESET: &str = "\x1b[0m";

fn paint(w: &mut dyn Write, color: bool, code: &str, text: &str) -> io::Result<()> {
    if color {
        write!(w, "{code}{text}{RESET}")
    } else {
        w.write_all(text.as_bytes())
    }
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

impl<'a> Item<'a> {
    fn write_cgroup(ctx: &Ctx<'_>, id: NodeId, f: &mut dyn Write) -> io::Result<()> {
        let tree = ctx.tree;
        let color = ctx.cfg.color;
        let n = tree.node(id);
        paint(f, color, BOLD, &sanitize(&n.name))?;
        if let Some(text) = n.identity.as_ref().and_then(super::identity::identity_text) {
            paint(f, color, CYAN, &format!(" [{text}]"))?;
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
            paint(f, color, DIM, &text)?;
        }
        if let Some(t) = n.cgroup_type {
            if t != cgroup_core::parse::CgroupType::Domain {
                paint(f, color, DIM, &format!(" ({t})"))?;
            }
        }
        let parent_ctrl = n.parent.and_then(|p| tree.node(p).controllers.as_ref());
        if let Some(c) = &n.controllers {
            if id == 0 || parent_ctrl != Some(c) {
                paint(f, color, DIM, &format!(" {}", controllers_text(c)))?;
            }
        }
        if n.truncated {
            paint(f, color, DIM, " …")?;
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
                _ => "error".to_string(),
            };
            paint(f, color, RED, &format!(" (! {}: {what})", sanitize(file)))?;
        }
        Ok(())
    }

    fn width_at(ctx: &Ctx<'_>, level: usize, used: usize) -> Option<usize> {
        ctx.cfg
            .width
            .map(|w| w.saturating_sub(level * INDENT + used).max(1))
    }
}

impl<'a> TreeItem for Item<'a> {
    type Child = Self;

    fn write_self<W: io::Write>(&self, f: &mut W, _style: &Style) -> io::Result<()> {
        match self {
            Item::Cgroup { ctx, id } => Item::write_cgroup(ctx, *id, f),
            Item::Process {
                ctx,
                proc,
                level,
                pid_width,
            } => {
                let pid = format!("{:>w$}", proc.pid, w = *pid_width);
                f.write_all(pid.as_bytes())?;
                f.write_all(b" ")?;
                // The user and role go first so that a cut command line cannot hide them.
                let mut used = pid.len() + 1;
                if ctx.cfg.users {
                    if let Some(u) = &proc.user {
                        let text = format!("{} ", user_label(u));
                        used += text.chars().count();
                        paint(f, ctx.cfg.color, DIM, &text)?;
                    }
                }
                if let Some(role) = &proc.role {
                    let r = format!("[{}] ", super::identity::role_text(role));
                    used += r.chars().count();
                    paint(f, ctx.cfg.color, CYAN, &r)?;
                }
                let text = command_text(proc);
                let w = Item::width_at(ctx, *level, used);
                f.write_all(cut(&text, w).as_bytes())
            }
            Item::Thread {
                ctx,
                node,
                idx,
                level,
                pid_width,
            } => {
                let Some(t) = ctx
                    .tree
                    .node(*node)
                    .threads
                    .as_ref()
                    .and_then(|t| t.get(*idx))
                else {
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
                let w = Item::width_at(ctx, *level, pid.len() + 1);
                f.write_all(cut(&text, w).as_bytes())
            }
            Item::Note { ctx, text } => paint(f, ctx.cfg.color, DIM, text),
        }
    }

    fn children(&self) -> Cow<'_, [Self::Child]> {
        let Item::Cgroup { ctx, id } = self else {
            return Cow::Borrowed(&[]);
        };
        let ctx: &'a Ctx<'a> = ctx;
        let tree: &'a Tree = ctx.tree;
        let n: &'a Node = tree.node(*id);
        let level = n.depth as usize + 1;
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
            out.push(Item::Process {
                ctx,
                proc,
                level,
                pid_width,
            });
        }
        for idx in 0..threads.len() {
            out.push(Item::Thread {
                ctx,
                node: *id,
                idx,
                level,
                pid_width,
            });
        }
        if n.foreign_pids > 0 {
            let s = if n.foreign_pids == 1 { "" } else { "es" };
            out.push(Item::Note {
                ctx,
                text: format!("({} process{s} outside this PID namespace)", n.foreign_pids),
            });
        }
        for &id in &n.children {
            out.push(Item::Cgroup { ctx, id });
        }
        Cow::Owned(out)
    }
}

/// Writes the tree view of `tree` to `out`.
pub fn render(tree: &Tree, cfg: &Config, out: &mut dyn Write) -> io::Result<()> {
    let ctx = Ctx { tree, cfg };
    let config = PrintConfig {
        depth: u32::MAX,
        indent: INDENT,
        padding: 0,
        styled: StyleWhen::Never,
        characters: IndentChars {
            down_and_right: "├".into(),
            down: "│".into(),
            turn_right: "└".into(),
            right: "─".into(),
            empty: " ".into(),
        },
        branch: Style::default(),
        leaf: Style::default(),
    };
    ptree::write_tree_with(&Item::Cgroup { ctx: &ctx, id: 0 }, out, &config)
}
