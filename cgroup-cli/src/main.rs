//! `cgtree`: the cgroup v2 hierarchy of a Linux host with its processes.

mod cli;
mod config;
mod render;
mod sanitize;

use clap::Parser;
use config::{Config, Env};
use std::io::{self, Write};
use std::process::ExitCode;

/// Exit status: everything read.
const OK: u8 = 0;
/// Exit status: printed, with some errors on stderr.
const PARTIAL: u8 = 1;
/// Exit status: nothing useful could be done.
const FATAL: u8 = 2;

fn main() -> ExitCode {
    let args = match cli::Args::try_parse() {
        Ok(a) => a,
        Err(e) => {
            let code = if e.use_stderr() { FATAL } else { OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = run(args);
    if std::env::var_os("CGTREE_STATS").is_some_and(|v| v == "1") {
        let st = cgroup_core::stats::snapshot();
        eprintln!(
            "cgtree: stats: vanished cgroups {}, vanished processes {}, interrupted reads {}",
            st.vanished_cgroups, st.vanished_processes, st.interrupted
        );
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::from(OK);
            }
            eprintln!(
                "cgtree: {}",
                sanitize::sanitize(format!("{e:#}").as_bytes())
            );
            ExitCode::from(FATAL)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn run(args: cli::Args) -> anyhow::Result<u8> {
    let cfg = Config::new(args, &Env::current())?;
    match &cfg.mode {
        config::Mode::Pid(pids) => return run_pid(&cfg, pids),
        config::Mode::Userns(ns) => return run_userns(&cfg, *ns),
        config::Mode::Provision(p) => return render::provision::run(&cfg, p),
        config::Mode::Snapshot(out, only, pids) => {
            let h = host(&cfg);
            let mut only = only.clone();
            only.extend(cgroup_core::snapshot::subtrees_of_pids(&h, pids)?);
            let r = cgroup_core::snapshot::write_subtrees(&h, out, &only)?;
            println!(
                "snapshot: {} cgroups, {} processes, {} runtime state files, {} bytes in {}; see {}/META",
                r.cgroups,
                r.processes,
                r.state_files,
                r.bytes,
                out.display(),
                out.display()
            );
            return Ok(if r.left_out.iter().any(|l| l.contains("limit")) {
                PARTIAL
            } else {
                OK
            });
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
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    if cfg.json {
        render::json::render(&tree, &mut out)?;
    } else {
        render::tree::render(&tree, &cfg, &mut out)?;
    }
    out.flush()?;
    drop(out);
    Ok(if report(tree.errors())? { PARTIAL } else { OK })
}

/// The host `--root` names, or the live one.
fn host(cfg: &Config) -> cgroup_core::Host {
    match &cfg.root {
        Some(r) => cgroup_core::Host::with_root(r),
        None => cgroup_core::Host::new(),
    }
}

/// Writes each error as a `cgtree: ...` line on stderr; returns whether there was one.
fn report<E: std::fmt::Display>(errors: impl IntoIterator<Item = E>) -> io::Result<bool> {
    let stderr = io::stderr();
    let mut err = stderr.lock();
    let mut any = false;
    for e in errors {
        any = true;
        writeln!(
            err,
            "cgtree: {}",
            sanitize::sanitize(e.to_string().as_bytes())
        )?;
    }
    Ok(any)
}

fn run_pid(cfg: &Config, pids: &[u32]) -> anyhow::Result<u8> {
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
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if cfg.json {
        let values: Vec<serde_json::Value> = traces.iter().map(render::pid::to_json).collect();
        if pids.len() == 1 {
            if let Some(v) = values.first() {
                serde_json::to_writer_pretty(&mut out, v)?;
                writeln!(out)?;
            }
        } else {
            serde_json::to_writer_pretty(&mut out, &values)?;
            writeln!(out)?;
        }
    } else {
        for (i, t) in traces.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            render::pid::render_text(t, &mut out)?;
        }
    }
    out.flush()?;
    drop(out);
    if report(traces.iter().flat_map(|t| t.errors.iter()))? {
        code = PARTIAL;
    }
    if report(&missing)? {
        code = FATAL;
    }
    Ok(code)
}

fn run_userns(cfg: &Config, ns: Option<u64>) -> anyhow::Result<u8> {
    let mut builder = cgroup_core::TreeBuilder::new();
    builder.host_root(host(cfg).root());
    builder
        .processes(true)
        .kernel_threads(true)
        .users(true)
        .identify(true);
    let tree = builder.build()?;
    let view = render::userns::View::new(&tree)?;
    if let Some(ns) = ns {
        if !view.namespaces.iter().any(|n| n.inode == ns) {
            eprintln!("cgtree: no process in user namespace {ns}");
            return Ok(FATAL);
        }
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if cfg.json {
        serde_json::to_writer_pretty(&mut out, &view.to_json(ns))?;
        writeln!(out)?;
    } else {
        view.render(ns, cfg.width, &mut out)?;
    }
    out.flush()?;
    Ok(OK)
}
