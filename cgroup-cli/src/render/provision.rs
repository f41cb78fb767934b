//! `cgtree provision`: check, plan and apply the guide's steps.

use crate::config::{Config, Provision, ProvisionAction};
use crate::sanitize::sanitize;
use crate::term::Paint;
use cgroup_core::provision::{
    self, apply, find_user, ApplyOptions, Check, CommandOutcome, Context, FileOutcome, Plan,
    Status, Step, SystemRunner,
};
use cgroup_core::Host;
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

fn selected(p: &Provision) -> Vec<&'static Step> {
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
enum Outcome<'a> {
    Check(Vec<(&'a Step, Check)>),
    Plan(Vec<(&'a Step, Plan)>),
    Apply {
        write: bool,
        report: provision::ApplyReport,
        after: Vec<(&'a Step, Check)>,
    },
}

/// Runs `cgtree provision`, writing to `out` (a [`crate::term::Term`]): the exit status
/// and the result of writing. Errors: a user that does not exist.
pub fn run(
    cfg: &Config,
    p: &Provision,
    out: &mut dyn Paint,
) -> anyhow::Result<(u8, io::Result<()>)> {
    let host = match &cfg.root {
        Some(r) => Host::with_root(r),
        None => Host::new(),
    };
    let who = p.user.clone().or_else(|| {
        if host.is_live() {
            std::env::var("SUDO_USER").ok()
        } else {
            None
        }
    });
    let user = find_user(&host, who.as_deref());
    if let (Some(w), None) = (&who, &user) {
        anyhow::bail!(
            "no user {} in {}",
            sanitize(w.as_bytes()),
            crate::sanitize::path(&host.path("etc/passwd"))
        );
    }
    let mut runner = SystemRunner::default();
    let mut cx = Context::new(host.clone(), user.clone());
    cx.crun_version = p.crun_version.clone();
    cx.crun_sha256 = p.crun_sha256.clone();
    cx.cni_sha256 = p.cni_sha256.clone();
    if host.is_live() {
        cx.caller_pid = Some(nix::unistd::getppid().as_raw() as u32);
        cx.runner = Some(&mut runner);
    }
    let steps = selected(p);
    let header = format!(
        "host {}{}",
        crate::sanitize::path(host.root()),
        user.as_ref()
            .map(|u| format!(", user {} ({})", s(&u.name), u.uid))
            .unwrap_or_default()
    );
    let outcome = match p.action {
        ProvisionAction::Check => {
            Outcome::Check(steps.iter().map(|st| (*st, st.check(&mut cx))).collect())
        }
        ProvisionAction::Plan => {
            Outcome::Plan(steps.iter().map(|st| (*st, st.plan(&cx))).collect())
        }
        ProvisionAction::Apply { write, run } => {
            let plans: Vec<(String, Plan)> = steps
                .iter()
                .map(|st| (st.id.to_string(), st.plan(&cx)))
                .collect();
            let report = apply(
                &mut cx,
                &plans,
                ApplyOptions {
                    write,
                    run_commands: run,
                },
            );
            let after = if write {
                steps.iter().map(|st| (*st, st.check(&mut cx))).collect()
            } else {
                Vec::new()
            };
            Outcome::Apply {
                write,
                report,
                after,
            }
        }
    };
    let code = match &outcome {
        Outcome::Apply { report, .. } => u8::from(report.failed()),
        _ => 0,
    };
    let written = write_outcome(out, cfg.json, &header, &host, &outcome);
    Ok((code, written))
}

fn write_outcome(
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
