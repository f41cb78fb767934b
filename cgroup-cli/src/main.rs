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
mod render;
mod sanitize;
mod term;

use clap::Parser;
use config::{Config, Env};
use std::io::{self, Write};
use std::process::ExitCode;
use term::Diag;

/// Exit status: everything read.
const OK: u8 = 0;
/// Exit status: printed, with some errors on stderr.
const PARTIAL: u8 = 1;
/// Exit status: nothing useful could be done.
const FATAL: u8 = 2;

fn main() -> ExitCode {
    let mut diag = Diag::default();
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
        let st = cgroup_core::stats::snapshot();
        diag.error(format_args!(
            "stats: vanished cgroups {}, vanished processes {}, interrupted reads {}",
            st.vanished_cgroups, st.vanished_processes, st.interrupted
        ));
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
fn finish(written: io::Result<()>, code: u8, diag: &mut Diag) -> u8 {
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
    let cfg = Config::new(args, &Env::current())?;
    match &cfg.mode {
        config::Mode::Pid(pids) => return run_pid(&cfg, pids, diag),
        config::Mode::Userns(ns) => return run_userns(&cfg, *ns, diag),
        config::Mode::Provision(p) => {
            let mut out = term::stdout(cfg.color);
            let (code, written) = render::provision::run(&cfg, p, &mut out)?;
            let written = written.and_then(|()| out.flush());
            return Ok(finish(written, code, diag));
        }
        config::Mode::Snapshot(out_dir, only, pids) => {
            let h = host(&cfg);
            let mut only = only.clone();
            only.extend(cgroup_core::snapshot::subtrees_of_pids(&h, pids)?);
            let r = cgroup_core::snapshot::write_subtrees(&h, out_dir, &only)?;
            let code = if r.left_out.iter().any(|l| l.contains("limit")) {
                PARTIAL
            } else {
                OK
            };
            let mut out = term::stdout(cfg.color);
            let written = writeln!(
                out,
                "snapshot: {} cgroups, {} processes, {} runtime state files, {} bytes in {}; see {}/META",
                r.cgroups,
                r.processes,
                r.state_files,
                r.bytes,
                sanitize::path(out_dir),
                sanitize::path(out_dir)
            )
            .and_then(|()| out.flush());
            return Ok(finish(written, code, diag));
        }
        config::Mode::Tree => {}
    }
    let mut builder = cgroup_core::TreeBuilder::new();
    builder
        .host_root(host(&cfg).root())
        .start(cfg.start.clone())
        .processes(cfg.procs)
        .threads(cfg.threads)
        .include_empty(cfg.all)
        .kernel_threads(cfg.kernel_threads)
        .max_depth(cfg.depth)
        .users(cfg.users)
        .identify(true);
    let tree = builder.build()?;
    let mut out = term::stdout(cfg.color);
    let written = if cfg.json {
        render::json::render(&tree, &mut out)
    } else {
        render::tree::render(&tree, &cfg, &mut out)
    }
    .and_then(|()| out.flush());
    drop(out);
    let code = if report(tree.errors(), diag) {
        PARTIAL
    } else {
        OK
    };
    Ok(finish(written, code, diag))
}

/// The host `--root` names, or the live one.
fn host(cfg: &Config) -> cgroup_core::Host {
    match &cfg.root {
        Some(r) => cgroup_core::Host::with_root(r),
        None => cgroup_core::Host::new(),
    }
}

/// Writes each error as a `cgtree: ...` line on stderr; returns whether there was one.
fn report<E: std::fmt::Display>(errors: impl IntoIterator<Item = E>, diag: &mut Diag) -> bool {
    let mut any = false;
    for e in errors {
        any = true;
        diag.error(e);
    }
    any
}

fn run_pid(cfg: &Config, pids: &[u32], diag: &mut Diag) -> anyhow::Result<u8> {
    let host = host(cfg);
    let mount = host.find_cgroup2()?;
    let mut code = OK;
    let mut traces = Vec::new();
    let mut missing = Vec::new();
    for &pid in pids {
        match cgroup_core::trace::trace(&host, &mount, pid) {
            Ok(t) => traces.push(t),
            Err(
                e @ (cgroup_core::Error::NoSuchProcess { .. }
                | cgroup_core::Error::ProcessVanished { .. }),
            ) => missing.push(e),
            Err(e) => return Err(e.into()),
        }
    }
    let mut out = term::stdout(cfg.color);
    let written = (|| {
        if cfg.json {
            if pids.len() == 1 {
                if let Some(t) = traces.first() {
                    term::write_json(&mut out, t)?;
                }
            } else {
                term::write_json(&mut out, &traces)?;
            }
        } else {
            for (i, t) in traces.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                render::pid::render_text(t, &mut out)?;
            }
        }
        out.flush()
    })();
    drop(out);
    if report(traces.iter().flat_map(|t| t.errors.iter()), diag) {
        code = PARTIAL;
    }
    if report(&missing, diag) {
        code = FATAL;
    }
    Ok(finish(written, code, diag))
}

fn run_userns(cfg: &Config, ns: Option<u64>, diag: &mut Diag) -> anyhow::Result<u8> {
    let mut builder = cgroup_core::TreeBuilder::new();
    builder.host_root(host(cfg).root());
    builder
        .processes(true)
        .kernel_threads(true)
        .users(true)
        .identify(true);
    let tree = builder.build()?;
    let nss = cgroup_core::tree::userns::Report::new(&tree)?;
    let view = render::userns::View::new(&nss);
    if let Some(ns) = ns {
        if !nss.namespaces.iter().any(|n| n.inode == ns) {
            report(tree.errors(), diag);
            diag.error(format_args!("no process in user namespace {ns}"));
            return Ok(FATAL);
        }
    }
    let mut out = term::stdout(cfg.color);
    let written = if cfg.json {
        term::write_json(&mut out, &nss.json(ns))
    } else {
        view.render(ns, cfg.width, &mut out)
    }
    .and_then(|()| out.flush());
    drop(out);
    let code = if report(tree.errors(), diag) {
        PARTIAL
    } else {
        OK
    };
    Ok(finish(written, code, diag))
}
