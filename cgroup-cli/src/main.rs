//! `cgtree`: the cgroup v2 hierarchy of a Linux host with its processes.
//!
//! Output: every byte for stdout and stderr goes through [`term`] (escaped for a
//! terminal; `print!`-style macros are denied below, as they also panic on a closed
//! pipe). Exit status: computed from what was read; a reader that goes away (broken pipe
//! on stdout) ends the output quietly and keeps that status; any other failure to write
//! stdout is reported on stderr with its cause and gives status 2; a message that cannot
//! be written to stderr never changes the status.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod config;
mod docs;
mod metrics;
mod pager;
mod render;
mod run;
mod sanitize;
mod select;
mod serve;
mod shellword;
mod term;
mod top;

use clap::Parser;
use config::{Config, Env};
use std::io::{self, Write};
use std::process::ExitCode;
use term::Diag;

/// Exit status: everything read.
pub(crate) const OK: u8 = 0;
/// Exit status: printed, with some errors on stderr.
pub(crate) const PARTIAL: u8 = 1;
/// Exit status: nothing useful could be done.
pub(crate) const FATAL: u8 = 2;

fn main() -> ExitCode {
    let mut diag = Diag::default();
    // `COMPLETE=bash cgtree ...`: a shell asking for completions (docs.rs); exits, or
    // gives the status of a `COMPLETE` that names no shell.
    if let Some(code) = docs::complete_from_env(&mut diag) {
        return ExitCode::from(code);
    }
    let args = match cli::Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            if e.use_stderr() {
                diag.raw(&usage_error(e));
                return ExitCode::from(FATAL);
            }
            let text = e.render().to_string();
            // --help, --version.
            let mut out = term::stdout(false);
            let r = out.write_all(text.as_bytes()).and_then(|()| out.flush());
            return ExitCode::from(finish(r, OK, &mut diag));
        }
    };
    let result = run(args, &mut diag);
    if std::env::var_os("CGTREE_STATS").is_some_and(|v| v == "1") {
        let st = STATS.lock().map(|s| *s).unwrap_or_default();
        diag.error(format_args!(
            "stats: vanished cgroups {}, vanished processes {}, interrupted reads {}, passes over /proc {}, trees read through BPF {}",
            st.vanished_cgroups, st.vanished_processes, st.interrupted, st.proc_passes, st.bpf_walks
        ));
        if st.bpf_walks > 0 {
            diag.error(format_args!(
                "stats: BPF load {} us, cgroup walk {} us (cgroup_mutex held), task walk {} us, walks rerun {}",
                st.bpf_load_us, st.bpf_cgroup_walk_us, st.bpf_task_walk_us, st.bpf_retries
            ));
        }
        if let Some(why) = st.bpf_declined {
            diag.error(format_args!(
                "stats: BPF path not taken: {why}; the files were read"
            ));
        }
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            diag.error(format_args!("{e:#}"));
            ExitCode::from(FATAL)
        }
    }
}

/// clap's message for a bad command line, quoting the arguments escaped: the same
/// command line is parsed again with each argument escaped ([`sanitize::sanitize`]), so
/// that a line feed in a value cannot start a line of the message.
fn usage_error(e: clap::Error) -> String {
    use std::os::unix::ffi::OsStrExt;
    let escaped = std::env::args_os().map(|a| sanitize::sanitize(a.as_bytes()).into_owned());
    match cli::Args::try_parse_from(escaped) {
        Err(again) if again.kind() == e.kind() => again.render().to_string(),
        _ => format!("error: {}\n", e.kind()),
    }
}

/// The exit status once the output is written: `code` when it was (or when the reader
/// went away: a broken pipe is a quiet end); otherwise the failure, with its cause, on
/// stderr and [`FATAL`].
pub(crate) fn finish(written: io::Result<()>, code: u8, diag: &mut Diag) -> u8 {
    match written {
        Ok(()) => code,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => code,
        Err(e) => {
            diag.error(format_args!("cannot write the output: {e}"));
            FATAL
        }
    }
}

fn run(args: cli::Args, diag: &mut Diag) -> anyhow::Result<u8> {
    // Width and colours come from the terminal, read here before a pager takes stdout.
    let mut cfg = Config::new(args, &Env::current())?;
    let pager = if cfg.pages() { pager::open() } else { None };
    if pager.is_some() {
        // Paged: lines are not cut (the pager chops them), as systemd-cgls sets
        // arg_full when its pager opens.
        cfg.width = None;
    }
    let code = dispatch(cfg, diag);
    if let Some(p) = pager {
        if let Err(e) = &code {
            // Shown in the pager, before the end of its input.
            diag.error(format_args!("{e:#}"));
            p.close();
            return Ok(FATAL);
        }
        p.close();
    }
    code
}

fn dispatch(cfg: Config, diag: &mut Diag) -> anyhow::Result<u8> {
    match &cfg.mode {
        config::Mode::Pid(pids) => run::pid(&cfg, pids, diag),
        config::Mode::Id(ids) => run::id(&cfg, ids, diag),
        config::Mode::Ids(start, jsonl) => run::ids(&cfg, start, *jsonl, diag),
        config::Mode::Userns(ns, full) => run::userns(&cfg, *ns, *full, diag),
        config::Mode::Provision(p) => {
            let mut out = term::stdout(cfg.color);
            let (code, written) = run::provision(&cfg, p, &mut out)?;
            let written = written.and_then(|()| out.flush());
            Ok(finish(written, code, diag))
        }
        config::Mode::Snapshot(out_dir, only, pids) => {
            run::snapshot(&cfg, out_dir, only, pids, diag)
        }
        config::Mode::Tree => run::tree(&cfg, diag),
        config::Mode::Top(t) => {
            let mut source = top::TreeSource::new(
                host(&cfg).root(),
                &cfg.start,
                t.depth,
                cfg.all,
                top::live::UsageSampler::new(true, cfg.json),
            );
            let prime = top::Sampler::needs_prime(source.sampler());
            let r = top::run::top(&cfg, t, &mut source, prime, diag);
            if std::env::var_os("CGTREE_STATS").is_some_and(|v| v == "1") {
                diag.error(format_args!(
                    "stats: top identified the tree {} times",
                    source.identifications()
                ));
            }
            r
        }
        config::Mode::Watch(w) => run::watch(&cfg, w, diag),
        config::Mode::Metrics(m) => metrics::run(&cfg, m, diag),
        config::Mode::Serve(s) => serve::run(&cfg, s, diag),
        config::Mode::Completions(shell) => docs::completions(*shell, diag),
        config::Mode::Man(path) => docs::man(path, diag),
    }
}

/// What the trees and traces this run read met, summed for `CGTREE_STATS=1` (each
/// [`cgroup_core::Tree`] and tracer carries its own: [`count`] adds them here).
static STATS: std::sync::Mutex<cgroup_core::Stats> =
    std::sync::Mutex::new(cgroup_core::Stats::EMPTY);

/// Adds what a tree or trace met to the run's [`STATS`].
pub(crate) fn count(stats: cgroup_core::Stats) {
    if let Ok(mut s) = STATS.lock() {
        *s += stats;
    }
}

/// The host `--root` names, or the live one.
pub(crate) fn host(cfg: &Config) -> cgroup_core::Host {
    match &cfg.root {
        Some(r) => cgroup_core::Host::with_root(r),
        None => cgroup_core::Host::new(),
    }
}

/// Writes each error as a `cgtree: ...` line on stderr; returns whether there was one.
pub(crate) fn report<E: std::fmt::Display>(
    errors: impl IntoIterator<Item = E>,
    diag: &mut Diag,
) -> bool {
    let mut any = false;
    for e in errors {
        any = true;
        diag.error(e);
    }
    any
}
