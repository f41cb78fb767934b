//! The runners of cgtree's subcommands: each reads what it needs (the tree, the traces,
//! the namespaces, the provision checks) through cgroup-core, hands the result to its
//! renderer in [`crate::render`] (which only formats) and returns the exit status.

use crate::config::{Config, Provision, ProvisionAction};
use crate::term::{self, Diag, Paint};
use crate::{finish, host, render, report, sanitize, FATAL, OK, PARTIAL};
use cgroup_core::Host;
use cgroup_provision::{apply, find_user, ApplyOptions, Context, Plan, SystemRunner};
use std::io::{self, Write};
use std::path::Path;

/// One tree to show: its header line (systemd-cgls's `Unit X (PATH):`, `CGroup PATH:`)
/// and the tree.
struct Shown {
    header: Option<String>,
    tree: cgroup_core::Tree,
}

/// A builder with the tree's flags, walking from `start`.
fn tree_builder(cfg: &Config, start: &str) -> cgroup_core::TreeBuilder {
    let mut builder = cgroup_core::TreeBuilder::new();
    builder
        .host_root(host(cfg).root())
        .start(start)
        .processes(cfg.procs)
        .threads(cfg.threads)
        .include_empty(cfg.all)
        .kernel_threads(cfg.kernel_threads)
        .max_depth(cfg.depth)
        .users(cfg.users)
        .identify(true);
    builder
}

/// Builds a tree and adds what its walk met to the run's counters (`CGTREE_STATS=1`).
fn build(builder: &cgroup_core::TreeBuilder) -> Result<cgroup_core::Tree, cgroup_core::Error> {
    let tree = builder.build()?;
    crate::count(tree.stats());
    Ok(tree)
}

/// The trees the arguments name (systemd-cgls's loop over its arguments,
/// src/cgls/cgls.c `run`): each CGROUP_PATH walked from there; units and `-M` found in the
/// whole host's tree (identities come from all of it) and cut out of it. A name that
/// cannot be resolved is a line in the second list; the others are still shown.
fn resolve_targets(cfg: &Config) -> anyhow::Result<(Vec<Shown>, Vec<String>)> {
    use crate::config::Targets;
    use crate::select;
    let mut shown = Vec::new();
    let mut failed = Vec::new();
    match &cfg.targets {
        Targets::Paths(paths) => {
            // systemd-cgls (src/cgls/cgls.c `run`) also takes directories of the cgroup
            // file system (`Directory PATH:`) and, with no argument, a working directory
            // inside it (`Working directory PATH:`). A mount that cannot be found here is
            // reported by the walk.
            let mount = host(cfg).find_cgroup2().ok();
            // (cgroup path to walk from, its header: None for `CGroup PATH:` when several).
            let mut starts: Vec<(String, Option<String>)> = Vec::new();
            if paths.is_empty() {
                let cwd = std::env::current_dir().ok();
                match mount
                    .as_ref()
                    .zip(cwd.as_deref())
                    .and_then(|(m, cwd)| below_mount(m, cwd, false).map(|rel| (rel, cwd)))
                {
                    Some((rel, cwd)) => starts.push((
                        rel,
                        Some(format!("Working directory {}:", sanitize::path(cwd))),
                    )),
                    None => starts.push(("/".to_string(), None)),
                }
            }
            for p in paths {
                match mount
                    .as_ref()
                    .map(|m| (m, below_mount(m, Path::new(p), true)))
                {
                    Some((_, Some(rel))) => starts.push((
                        rel,
                        Some(format!("Directory {}:", sanitize::sanitize(p.as_bytes()))),
                    )),
                    Some((m, None)) if Path::new(p).starts_with("/sys/fs/cgroup") => {
                        failed.push(format!(
                            "{}: not a directory of the cgroup2 hierarchy (mounted at {})",
                            sanitize::sanitize(p.as_bytes()),
                            sanitize::path(&m.mount_point)
                        ))
                    }
                    _ => starts.push((p.clone(), None)),
                }
            }
            let alone = starts.len() == 1 && failed.is_empty();
            for (start, header) in starts {
                if alone && header.is_none() {
                    shown.push(Shown {
                        header: None,
                        tree: build(&tree_builder(cfg, &start))?,
                    });
                    continue;
                }
                match build(&tree_builder(cfg, &start)) {
                    Ok(tree) => shown.push(Shown {
                        header: Some(header.unwrap_or_else(|| {
                            format!("CGroup {}:", sanitize::sanitize(&tree.path(0)))
                        })),
                        tree,
                    }),
                    Err(e) if alone => return Err(e.into()),
                    Err(e) => failed.push(format!("{e:#}")),
                }
            }
        }
        Targets::Units { names, .. } if names.is_empty() => {
            // As systemd-cgls with `-u` and no name: the whole tree.
            shown.push(Shown {
                header: None,
                tree: build(&tree_builder(cfg, "/"))?,
            });
        }
        Targets::Units { user, names } => {
            let mut b = tree_builder(cfg, "/");
            b.include_empty(true).max_depth(None);
            let whole = build(&b)?;
            let manager = if *user {
                let uid = nix::unistd::getuid().as_raw();
                match select::find_user_manager(&whole, uid) {
                    Ok(m) => Some((m, format!("the user manager of UID {uid}"))),
                    Err(e) => {
                        failed.push(e);
                        None
                    }
                }
            } else {
                Some((0, "the host's system manager".to_string()))
            };
            if let Some((manager, what)) = manager {
                for name in names {
                    let unit = select::mangle_unit(name);
                    match select::find_unit(&whole, &unit, manager, &what) {
                        Ok(id) => {
                            let tree = whole.subtree(id, cfg.all, cfg.depth);
                            shown.push(Shown {
                                header: Some(format!(
                                    "Unit {} ({}):",
                                    sanitize::sanitize(unit.as_bytes()),
                                    sanitize::sanitize(&tree.path(0))
                                )),
                                tree,
                            });
                        }
                        Err(e) => failed.push(e),
                    }
                }
            }
            std::mem::forget(whole);
        }
        Targets::Machine { name, paths } => {
            let mut b = tree_builder(cfg, "/");
            b.include_empty(true).max_depth(None);
            let whole = build(&b)?;
            match select::find_machine(&whole, name) {
                Ok(m) => {
                    let rels: Vec<&str> = if paths.is_empty() {
                        vec![""]
                    } else {
                        paths.iter().map(String::as_str).collect()
                    };
                    for rel in rels {
                        match select::find_path(&whole, m, rel) {
                            Some(id) => {
                                let tree = whole.subtree(id, cfg.all, cfg.depth);
                                shown.push(Shown {
                                    header: Some(format!(
                                        "CGroup {}:",
                                        sanitize::sanitize(&tree.path(0))
                                    )),
                                    tree,
                                });
                            }
                            None => failed.push(format!(
                                "-M {}: no cgroup {} below {}",
                                sanitize::sanitize(name.as_bytes()),
                                sanitize::sanitize(rel.as_bytes()),
                                sanitize::sanitize(&whole.path(m))
                            )),
                        }
                    }
                }
                Err(e) => failed.push(e),
            }
            std::mem::forget(whole);
        }
    }
    Ok((shown, failed))
}

/// The cgroup path of `dir`, a directory of the cgroup2 mount as this machine names it
/// (with `--root`, the mount's directory under the root) or, when `as_host`, also as the
/// host names it (`/sys/fs/cgroup/system.slice` -> `/system.slice`); `None` when `dir` is
/// outside the mount or not UTF-8.
fn below_mount(mount: &cgroup_core::CgroupMount, dir: &Path, as_host: bool) -> Option<String> {
    // A relative `--root` gives a relative mount directory; the working directory is
    // absolute.
    let canonical = std::fs::canonicalize(&mount.dir).ok();
    let rest = dir
        .strip_prefix(&mount.mount_point)
        .ok()
        .filter(|_| as_host)
        .or_else(|| dir.strip_prefix(&mount.dir).ok())
        .or_else(|| dir.strip_prefix(canonical.as_ref()?).ok())?;
    Some(format!("/{}", rest.to_str()?))
}

/// `cgtree [CGROUP_PATH...]`, `-u UNIT`, `--user-unit UNIT`, `-M NAME`: the trees, as
/// text (each after its header when there is one) or JSON (one document, or an array of
/// them when several trees were asked for).
pub fn tree(cfg: &Config, diag: &mut Diag) -> anyhow::Result<u8> {
    let (shown, failed) = resolve_targets(cfg)?;
    let several = match &cfg.targets {
        crate::config::Targets::Paths(p) => p.len() > 1,
        crate::config::Targets::Units { names, .. } => names.len() > 1,
        crate::config::Targets::Machine { paths, .. } => paths.len() > 1,
    };
    // `--stats`: the numbers, from the same sampler as `cgtree top`.
    let mut sampler = crate::top::live::UsageSampler::new(false, cfg.json);
    let mut frames = Vec::new();
    for s in &shown {
        frames.push(match cfg.stats {
            Some(delay) => Some(crate::top::sample_tree(&s.tree, delay, &mut sampler)?),
            None => None,
        });
    }
    // `-x`: the extended attributes, one `flistxattr` per cgroup shown.
    let mut xattr_errors = Vec::new();
    let mut xattrs = Vec::new();
    if cfg.xattr && !cfg.json {
        for s in &shown {
            let mut reader = cgroup_core::tree::xattr::XattrReader::new(&s.tree)?;
            let per_node: Vec<_> = (0..s.tree.nodes().len())
                .map(|id| {
                    reader.read(&s.tree, id).unwrap_or_else(|e| {
                        xattr_errors.push(e);
                        Vec::new()
                    })
                })
                .collect();
            xattrs.push(per_node);
        }
    }
    let mut out = term::stdout(cfg.color);
    let written = (|| {
        if cfg.json {
            if several {
                out.write_all(b"[\n")?;
            }
            for (i, (s, frame)) in shown.iter().zip(&frames).enumerate() {
                if i > 0 {
                    out.write_all(b",\n")?;
                }
                render::json::render(&s.tree, frame.as_ref(), &mut out)?;
            }
            if several {
                out.write_all(b"]\n")?;
            }
            return Ok(());
        }
        for (i, (s, frame)) in shown.iter().zip(&frames).enumerate() {
            if let Some(h) = &s.header {
                out.write_all(h.as_bytes())?;
                out.write_all(b"\n")?;
            }
            let stats = frame
                .as_ref()
                .map(|f| render::tree::Stats::new(&s.tree, f, cfg.width));
            render::tree::render(
                &s.tree,
                cfg,
                stats.as_ref(),
                xattrs.get(i).map(Vec::as_slice),
                &mut out,
            )?;
        }
        Ok(())
    })()
    .and_then(|()| out.flush());
    drop(out);
    // The trees' errors, then the usage files' (`--stats`) and attributes' (`-x`) that
    // could not be read.
    let mut code = if report(
        shown
            .iter()
            .flat_map(|s| s.tree.errors())
            .map(|e| e as &dyn std::fmt::Display)
            .chain(sampler.errors().iter().map(|e| e as &dyn std::fmt::Display))
            .chain(xattr_errors.iter().map(|e| e as &dyn std::fmt::Display)),
        diag,
    ) {
        PARTIAL
    } else {
        OK
    };
    if report(&failed, diag) {
        code = FATAL;
    }
    // Not dropped: the process exits right after this, and the kernel takes its memory
    // back at once, where freeing a large tree node by node (tens of thousands of
    // allocations: names, process lists, command lines) costs about 2% of the run
    // (benches/RESULTS.md, "Issue 13"). Nothing in a tree needs its destructor: it holds
    // memory and no descriptor (the walk closed every directory it opened).
    std::mem::forget(shown);
    Ok(finish(written, code, diag))
}

/// `cgtree snapshot OUT`: writes the snapshot, then one summary line.
pub fn snapshot(
    cfg: &Config,
    out_dir: &Path,
    only: &[String],
    pids: &[u32],
    diag: &mut Diag,
) -> anyhow::Result<u8> {
    let h = host(cfg);
    let mut only = only.to_vec();
    only.extend(cgroup_core::snapshot::subtrees_of_pids(&h, pids)?);
    let r = cgroup_core::snapshot::write_subtrees(&h, out_dir, &only)?;
    crate::count(r.stats);
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
    Ok(finish(written, code, diag))
}

/// `cgtree pid PID...`: each process's trace, as text or JSON.
pub fn pid(cfg: &Config, pids: &[u32], diag: &mut Diag) -> anyhow::Result<u8> {
    let host = host(cfg);
    let mount = host.find_cgroup2()?;
    let mut code = OK;
    let mut traces = Vec::new();
    let mut missing = Vec::new();
    for &pid in pids {
        match cgroup_core::trace::trace(&host, &mount, pid) {
            Ok(t) => {
                crate::count(t.stats);
                traces.push(t);
            }
            Err(
                e @ (cgroup_core::Error::NoSuchProcess { .. }
                | cgroup_core::Error::ProcessVanished { .. }),
            ) => missing.push(e),
            Err(e) => return Err(e.into()),
        }
    }
    let written = write_traces(cfg, &traces, pids.len() == 1, render::pid::render_text);
    if report(traces.iter().flat_map(|t| t.errors.iter()), diag) {
        code = PARTIAL;
    }
    if report(&missing, diag) {
        code = FATAL;
    }
    Ok(finish(written, code, diag))
}

/// Writes the traces of `cgtree pid` and `cgtree id` to stdout: JSON (one object when
/// one was asked for, else an array) or text, one trace after another with an empty line
/// between. Errors: the writer's.
fn write_traces<T: serde::Serialize>(
    cfg: &Config,
    traces: &[T],
    one: bool,
    text: impl Fn(&T, &mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = term::stdout(cfg.color);
    if cfg.json {
        if one {
            if let Some(t) = traces.first() {
                term::write_json(&mut out, t)?;
            }
        } else {
            term::write_json(&mut out, traces)?;
        }
    } else {
        for (i, t) in traces.iter().enumerate() {
            if i > 0 {
                writeln!(out)?;
            }
            text(t, &mut out)?;
        }
    }
    out.flush()
}

/// `cgtree id CGID...`: each cgroup id's path and trace, as text or JSON; an id that
/// names no cgroup is reported on stderr (exit 2). The path comes from a kernfs handle on
/// the live host as root, else from a walk that stops at the first match
/// ([`cgroup_core::cgroup_id::resolve_cgroup_id`]).
pub fn id(cfg: &Config, ids: &[u64], diag: &mut Diag) -> anyhow::Result<u8> {
    let host = host(cfg);
    let mount = host.find_cgroup2()?;
    let mut traces = Vec::new();
    let mut missing = Vec::new();
    // One pass over /proc at most, whatever the number of ids.
    let mut tracer = cgroup_core::trace::CgroupTracer::new(&host);
    for &id in ids {
        match cgroup_core::cgroup_id::resolve_cgroup_id(&host, &mount, id)? {
            Some((path, _)) => traces.push(tracer.trace(&mount, id, &path)?),
            None => missing.push(format!(
                "no cgroup with id {id} below {}",
                sanitize::path(&mount.mount_point)
            )),
        }
    }
    crate::count(tracer.stats());
    let written = write_traces(
        cfg,
        &traces,
        ids.len() == 1,
        render::pid::render_cgroup_text,
    );
    let mut code = OK;
    if report(traces.iter().flat_map(|t| t.errors.iter()), diag) {
        code = PARTIAL;
    }
    if report(&missing, diag) {
        code = FATAL;
    }
    Ok(finish(written, code, diag))
}

/// `cgtree ids [PATH] [--jsonl]`: every cgroup (empty ones too) with its id, path and
/// identity: the tree's walk and identification, written one line per cgroup.
pub fn ids(cfg: &Config, start: &str, jsonl: bool, diag: &mut Diag) -> anyhow::Result<u8> {
    let mut builder = cgroup_core::TreeBuilder::new();
    builder
        .host_root(host(cfg).root())
        .start(start)
        .include_empty(true)
        .identify(true);
    let tree = builder.build()?;
    crate::count(tree.stats());
    let mut out = term::stdout(cfg.color);
    // `--json` asks for JSON too: the index's JSON is JSON lines.
    let written = if jsonl || cfg.json {
        let mut w = term::JsonSafe::new(&mut out);
        tree.write_id_index(&mut w).and_then(|()| w.flush())
    } else {
        render::tree::write_id_lines(&tree, &mut out)
    }
    .and_then(|()| out.flush());
    drop(out);
    let code = if report(tree.errors(), diag) {
        PARTIAL
    } else {
        OK
    };
    std::mem::forget(tree);
    Ok(finish(written, code, diag))
}

/// `cgtree userns [NS] [--full]`: the user namespaces of the tree's processes; `full`:
/// every name each namespace holds, and no line cut.
pub fn userns(cfg: &Config, ns: Option<u64>, full: bool, diag: &mut Diag) -> anyhow::Result<u8> {
    let mut builder = cgroup_core::TreeBuilder::new();
    builder.host_root(host(cfg).root());
    builder
        .processes(true)
        .kernel_threads(true)
        .users(true)
        .identify(true);
    let tree = builder.build()?;
    crate::count(tree.stats());
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
        view.render(ns, if full { None } else { cfg.width }, full, &mut out)
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

/// Runs `cgtree provision`, writing to `out` (a [`crate::term::Term`]): the exit status
/// and the result of writing. Errors: a user that does not exist.
pub fn provision(
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
            sanitize::sanitize(w.as_bytes()),
            sanitize::path(&host.path("etc/passwd"))
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
    let steps = render::provision::selected(p);
    let header = format!(
        "host {}{}",
        crate::sanitize::path(host.root()),
        user.as_ref()
            .map(|u| format!(
                ", user {} ({})",
                sanitize::sanitize(u.name.as_bytes()),
                u.uid
            ))
            .unwrap_or_default()
    );
    let outcome = match p.action {
        ProvisionAction::Check => render::provision::Outcome::Check(
            steps.iter().map(|st| (*st, st.check(&mut cx))).collect(),
        ),
        ProvisionAction::Plan => {
            render::provision::Outcome::Plan(steps.iter().map(|st| (*st, st.plan(&cx))).collect())
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
            render::provision::Outcome::Apply {
                write,
                report,
                after,
            }
        }
    };
    let code = match &outcome {
        render::provision::Outcome::Apply { report, .. } => u8::from(report.failed()),
        _ => 0,
    };
    let written = render::provision::write_outcome(out, cfg.json, &header, &host, &outcome);
    Ok((code, written))
}

/// `cgtree watch [CGROUP_PATH] [--jsonl]` (`--json` means `--jsonl`): events until SIGINT or SIGTERM (status 0), a
/// reader that goes away (status 0, quietly), or the removal of the watched cgroup.
pub fn watch(cfg: &Config, args: &crate::cli::WatchArgs, diag: &mut Diag) -> anyhow::Result<u8> {
    use cgroup_core::watch::{Backend, Options, Watcher};
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use nix::sys::signal::{SigSet, Signal};
    use nix::sys::signalfd::{SfdFlags, SignalFd};
    use std::os::fd::AsFd;
    let backend = match args.backend.as_str() {
        "auto" => Backend::Auto,
        "fanotify" => Backend::Fanotify,
        "inotify" => Backend::Inotify,
        other => anyhow::bail!(
            "--backend {}: auto, fanotify or inotify",
            sanitize::sanitize(other.as_bytes())
        ),
    };
    // Blocked before anything else, read from a descriptor polled with the watcher's.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGINT);
    mask.add(Signal::SIGTERM);
    mask.thread_block()?;
    let sigfd = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;
    let mut opts = Options {
        backend,
        ..Options::default()
    };
    if let Some(q) = args.queue_limit {
        opts.queue_limit = q;
    }
    let start = args.path.as_deref().unwrap_or("/");
    let mut w = Watcher::new(&host(cfg), start, opts)?;
    let stdout = term::stdout_handle();
    let stdout_fd = stdout.as_fd();
    // Every write waits in poll(2) with the signalfd: a reader that stops reading (a full
    // pipe) cannot hold SIGINT or SIGTERM back.
    let mut out = term::stdout_polled(stdout_fd, sigfd.as_fd());
    loop {
        let mut written = Ok(());
        while let Some(ev) = w.next_event(Some(std::time::Duration::ZERO))? {
            written = if args.jsonl || cfg.json {
                render::watch::jsonl(&ev, &mut out)
            } else {
                render::watch::line(&ev, &mut out)
            };
            if written.is_err() {
                break;
            }
        }
        let written = written.and_then(|()| out.flush());
        if written.as_ref().is_err_and(term::is_stopped) || signalled(&sigfd) {
            // SIGINT or SIGTERM while waiting to write: a clean end (what the reader
            // did not take is dropped).
            return Ok(OK);
        }
        if written.is_err() || w.ended() {
            return Ok(finish(written, OK, diag));
        }
        let mut fds = [
            PollFd::new(sigfd.as_fd(), PollFlags::POLLIN),
            PollFd::new(w.as_fd(), PollFlags::POLLIN),
            // No events asked: a pipe whose reader is gone reports POLLERR.
            PollFd::new(stdout_fd, PollFlags::empty()),
        ];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => anyhow::bail!("poll: {e}"),
        }
        let hit = |i: usize, f: PollFlags| fds[i].revents().is_some_and(|r| r.intersects(f));
        if hit(0, PollFlags::POLLIN) {
            // SIGINT or SIGTERM: a clean end (everything was flushed above).
            return Ok(OK);
        }
        if hit(2, PollFlags::POLLERR | PollFlags::POLLHUP) {
            return Ok(OK);
        }
    }
}

/// Whether a signal waits on `sigfd` (polled, not read: it stays pending).
fn signalled(sigfd: &nix::sys::signalfd::SignalFd) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let mut fds = [PollFd::new(sigfd.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::ZERO).is_ok_and(|n| n > 0)
}
