//! `cgtree provision`: the text and JSON views of what was checked, planned or applied
//! (the runner is [`crate::run::provision`]).

use crate::config::Provision;
use crate::sanitize::sanitize;
use crate::term::Paint;
use cgroup_core::Host;
use cgroup_provision::{self as provision, Check, CommandOutcome, FileOutcome, Plan, Status, Step};
use serde_json::json;
use std::io;

fn mark(s: Status) -> &'static str {
    match s {
        Status::Ok => "✔",
        Status::Missing => "✘",
        Status::Partial => "◐",
        Status::Pending => "…",
        Status::NotApplicable => "-",
        Status::Unknown => "?",
    }
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ok => "ok",
        Status::Missing => "missing",
        Status::Partial => "partial",
        Status::Pending => "pending",
        Status::NotApplicable => "n/a",
        Status::Unknown => "unknown",
    }
}

fn s(text: &str) -> String {
    sanitize(text.as_bytes()).into_owned()
}

pub(crate) fn selected(p: &Provision) -> Vec<&'static Step> {
    provision::steps()
        .iter()
        .filter(|st| p.steps.is_empty() || p.steps.iter().any(|x| x == st.id))
        .collect()
}

fn command_line(c: &provision::Command) -> String {
    let mut t = c.argv.join(" ");
    if let Some(u) = &c.user {
        t = format!("runuser -u {u} -- {t}");
    }
    t
}

/// What `cgtree provision` computed, ready to be written.
pub enum Outcome<'a> {
    /// `check`: each step's check.
    Check(Vec<(&'a Step, Check)>),
    /// `plan`: each step's plan.
    Plan(Vec<(&'a Step, Plan)>),
    /// `apply`: what was done, and the checks after it when files were written.
    Apply {
        /// Files were written.
        write: bool,
        /// What was done.
        report: provision::ApplyReport,
        /// The checks after writing.
        after: Vec<(&'a Step, Check)>,
    },
}

/// Writes what `cgtree provision` computed (text, or JSON with `as_json`).
pub fn write_outcome(
    out: &mut dyn Paint,
    as_json: bool,
    header: &str,
    host: &Host,
    outcome: &Outcome<'_>,
) -> io::Result<()> {
    match outcome {
        Outcome::Check(checks) => {
            if as_json {
                let v: Vec<_> = checks.iter().map(|(st, c)| json!({"id": st.id, "title": st.title, "refs": st.refs, "check": c})).collect();
                crate::term::write_json(out, &json!({"version": 1, "steps": v}))?;
            } else {
                writeln!(out, "provision check: {header}")?;
                for (st, c) in checks {
                    write_check(out, st, c)?;
                }
            }
        }
        Outcome::Plan(plans) => {
            if as_json {
                let v: Vec<_> = plans
                    .iter()
                    .map(|(st, pl)| json!({"id": st.id, "plan": pl}))
                    .collect();
                crate::term::write_json(out, &json!({"version": 1, "steps": v}))?;
            } else {
                writeln!(out, "provision plan: {header}")?;
                let mut any = false;
                for (st, pl) in plans {
                    any |= write_plan(out, st, pl)?;
                }
                if !any {
                    writeln!(out, "nothing to do")?;
                }
            }
        }
        Outcome::Apply {
            write,
            report,
            after,
        } => {
            let write = *write;
            writeln!(
                out,
                "provision apply{}: {header}",
                if write {
                    ""
                } else {
                    " (dry run: give --yes to write)"
                }
            )?;
            for (id, path, o) in &report.files {
                let shown = crate::sanitize::path(path);
                let line = match o {
                    FileOutcome::Changed { backup: Some(b) } => format!(
                        "changed   {shown} (backup {})",
                        b.strip_prefix(host.root())
                            .map(|r| format!("/{}", crate::sanitize::path(r)))
                            .unwrap_or_else(|_| crate::sanitize::path(b).into_owned())
                    ),
                    FileOutcome::Changed { backup: None } => format!("created   {shown}"),
                    FileOutcome::Unchanged => format!("unchanged {shown}"),
                    FileOutcome::WouldChange => format!("would change {shown}"),
                    FileOutcome::Refused(why) => format!("refused   {}", s(why)),
                };
                writeln!(out, "  {id:<22} {line}")?;
            }
            for (id, c, o) in &report.commands {
                let line = match o {
                    CommandOutcome::Ran(done) => {
                        let timeout = if done.timed_out {
                            ", killed after its timeout"
                        } else {
                            ""
                        };
                        let mut line = format!(
                            "ran (exit {}{timeout}): $ {}",
                            done.code,
                            s(&command_line(c))
                        );
                        // What it printed: untrusted bytes, escaped, one line each.
                        for l in done.output.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                            line.push_str("\n  ");
                            line.push_str(&format!("{:<22}   | {}", "", sanitize(l)));
                        }
                        line
                    }
                    CommandOutcome::Skipped(why) => {
                        format!("skipped: $ {} ({why})", s(&command_line(c)))
                    }
                    CommandOutcome::Failed(e) => format!("failed: $ {}: {e}", s(&command_line(c))),
                };
                writeln!(out, "  {id:<22} {line}")?;
            }
            if write && !report.changed() && !report.failed() {
                writeln!(out, "no change: every file is already as planned")?;
            }
            if write {
                writeln!(out, "after:")?;
                for (st, c) in after {
                    write_check(out, st, c)?;
                }
            }
        }
    }
    out.flush()
}

fn write_check(out: &mut dyn Paint, st: &Step, c: &Check) -> io::Result<()> {
    let evidence: Vec<String> = c.evidence.iter().map(|e| s(e)).collect();
    writeln!(
        out,
        "{} {:<22} {:<8} {}",
        mark(c.status),
        st.id,
        status_name(c.status),
        evidence.join("; ")
    )?;
    if let Some(fix) = &c.fix {
        writeln!(out, "  {:<31} fix: {}", "", s(fix))?;
    }
    Ok(())
}

fn write_plan(out: &mut dyn Paint, st: &Step, pl: &Plan) -> io::Result<bool> {
    if pl.changes.is_empty() && pl.commands.is_empty() && pl.notes.is_empty() {
        return Ok(false);
    }
    writeln!(out, "== {}: {}", st.id, st.title)?;
    for ch in &pl.changes {
        let name = crate::sanitize::path(&ch.path).into_owned();
        let before = ch.before.clone().unwrap_or_default();
        let old_header = if ch.before.is_some() {
            name.clone()
        } else {
            "/dev/null".to_string()
        };
        let diff = similar::TextDiff::from_lines(&before, &ch.after);
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old_header, &name)
            .to_string();
        // The file's own lines, quoted: escaped, but their tabs kept.
        out.with_tabs(&text)?;
    }
    for c in &pl.commands {
        writeln!(out, "$ {}    # {}", s(&command_line(c)), c.why)?;
    }
    for n in &pl.notes {
        writeln!(out, "note: {}", s(n))?;
    }
    Ok(true)
}
