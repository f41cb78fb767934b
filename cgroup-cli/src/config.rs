//! Flags validated into what the program does.

use crate::cli::{Args, ColorChoice};
use std::path::PathBuf;

/// What to read and how to print it.
#[derive(Debug, Clone)]
pub struct Config {
    /// Host root (`None`: the live host).
    pub root: Option<PathBuf>,
    /// Start cgroup path.
    pub start: String,
    /// Show empty cgroups.
    pub all: bool,
    /// Depth limit.
    pub depth: Option<u32>,
    /// Read processes.
    pub procs: bool,
    /// Keep kernel threads.
    pub kernel_threads: bool,
    /// Read cgroup.threads.
    pub threads: bool,
    /// Width to cut process lines to (`None`: no cut).
    pub width: Option<usize>,
    /// JSON output.
    pub json: bool,
    /// ANSI colours.
    pub color: bool,
    /// What to run.
    pub mode: Mode,
    /// Show users in the tree.
    pub users: bool,
    /// Show cgroup ids in the tree (`-c`).
    pub cgroup_id: bool,
    /// `--no-pager`.
    pub no_pager: bool,
    /// Usage columns in the tree (`--stats`, or `--delay`): `Some(delay)` between the
    /// two samples (`None`: one sample).
    pub stats: Option<Option<std::time::Duration>>,
    /// Show cgroups' `user.`/`trusted.` extended attributes in the tree (`-x`).
    pub xattr: bool,
    /// Which subtrees the tree shows.
    pub targets: Targets,
}

/// Which subtrees `cgtree` (the tree) shows, one tree each: systemd-cgls's arguments
/// (src/cgls/cgls.c: with `-u`/`--user-unit` every argument is a unit name; otherwise a
/// cgroup path, relative to the machine's cgroup with `-M`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// CGROUP_PATHs relative to the mount (empty: `/`), each walked from there.
    Paths(Vec<String>),
    /// `-u` (`user: false`) or `--user-unit` (`user: true`): unit names as typed (empty:
    /// the whole tree, as systemd-cgls shows with `-u` and no name).
    Units {
        /// `--user-unit`: units of the caller's user manager.
        user: bool,
        /// The names, in order.
        names: Vec<String>,
    },
    /// `-M NAME [CGROUP_PATH...]`.
    Machine {
        /// The name, id or id prefix.
        name: String,
        /// Paths relative to its cgroup (empty: its cgroup).
        paths: Vec<String>,
    },
}

/// The subcommand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// The tree.
    Tree,
    /// `cgtree pid`.
    Pid(Vec<u32>),
    /// `cgtree id CGID...`.
    Id(Vec<u64>),
    /// `cgtree ids [CGROUP_PATH] [--jsonl]`: the start and whether JSON lines.
    Ids(String, bool),
    /// `cgtree userns [NS] [--full]`.
    Userns(Option<u64>, bool),
    /// `cgtree provision`.
    Provision(Provision),
    /// `cgtree snapshot OUT [--cgroup PATH]... [--pids PID...]`.
    Snapshot(PathBuf, Vec<String>, Vec<u32>),
    /// `cgtree top`.
    Top(Top),
    /// `cgtree watch [CGROUP_PATH] [--jsonl]`.
    Watch(crate::cli::WatchArgs),
    /// `cgtree metrics`.
    Metrics(crate::cli::MetricsArgs),
    /// `cgtree serve`.
    Serve(crate::cli::ServeArgs),
    /// `cgtree completions SHELL`.
    Completions(clap_complete::Shell),
    /// `cgtree man [SUBCOMMAND...]`.
    Man(Vec<String>),
}

/// `cgtree top` settings (the start cgroup is [`Config::start`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    /// Between samples.
    pub delay: std::time::Duration,
    /// `--depth`.
    pub depth: Option<u32>,
    /// `-n`.
    pub iterations: Option<u64>,
    /// `-b`.
    pub batch: bool,
    /// `--order`.
    pub order: crate::top::Order,
}

/// `cgtree provision` settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provision {
    /// check, plan or apply.
    pub action: ProvisionAction,
    /// Only these steps (empty: all).
    pub steps: Vec<String>,
    /// `--user`.
    pub user: Option<String>,
    /// `--crun-version`.
    pub crun_version: Option<String>,
    /// `--crun-sha256`.
    pub crun_sha256: Option<String>,
    /// `--cni-sha256`.
    pub cni_sha256: Option<String>,
}

/// What `cgtree provision` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvisionAction {
    /// Check.
    Check,
    /// Plan.
    Plan,
    /// Apply (`write`: --yes; `run`: --run-commands).
    Apply {
        /// --yes.
        write: bool,
        /// --run-commands.
        run: bool,
    },
}

/// What the environment says, passed in so that tests control it.
pub struct Env {
    /// `$COLUMNS`.
    pub columns: Option<String>,
    /// `$NO_COLOR`.
    pub no_color: Option<String>,
    /// `$TERM`.
    pub term: Option<String>,
    /// Whether stdout is a terminal.
    pub stdout_tty: bool,
    /// The terminal's width, when stdout is one.
    pub term_width: Option<usize>,
}

impl Env {
    /// Reads the process environment.
    pub fn current() -> Self {
        let stdout_tty = crate::term::stdout_is_terminal();
        Env {
            columns: std::env::var("COLUMNS").ok(),
            no_color: std::env::var("NO_COLOR").ok(),
            term: std::env::var("TERM").ok(),
            stdout_tty,
            term_width: if stdout_tty {
                terminal_size::terminal_size().map(|(w, _)| usize::from(w.0))
            } else {
                None
            },
        }
    }
}

impl Config {
    /// Validates the flags.
    pub fn new(args: Args, env: &Env) -> anyhow::Result<Config> {
        if let Some(root) = &args.root {
            if !root.is_dir() {
                anyhow::bail!("--root {}: not a directory", crate::sanitize::path(root));
            }
        }
        if args.json && args.full {
            // Harmless, but say nothing: JSON is never cut.
        }
        let columns = env
            .columns
            .as_deref()
            .and_then(|c| c.trim().parse::<usize>().ok())
            .filter(|&c| c > 0);
        let width = if args.full || args.json {
            None
        } else {
            columns.or(env.term_width)
        };
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // As systemd: no colour on a dumb (or unnamed) terminal.
            ColorChoice::Auto => {
                env.stdout_tty
                    && env.no_color.as_deref().is_none_or(str::is_empty)
                    && env
                        .term
                        .as_deref()
                        .is_some_and(|t| !t.is_empty() && t != "dumb")
            }
        };
        let tree_only = |flag: &str| {
            anyhow::bail!("{flag} applies to the tree (cgtree without a subcommand) only")
        };
        if args.command.is_some() {
            if args.unit.is_some() {
                return tree_only("-u/--unit");
            }
            if args.user_unit.is_some() {
                return tree_only("--user-unit");
            }
            if args.machine.is_some() {
                return tree_only("-M/--machine");
            }
            if args.cgroup.len() > 1 {
                anyhow::bail!("several CGROUP_PATH arguments: only the tree takes more than one");
            }
        }
        let targets = match (&args.unit, &args.user_unit, &args.machine) {
            (Some(u), _, _) | (None, Some(u), _) => {
                let mut names = u.clone();
                names.extend(args.cgroup.iter().cloned());
                if names.iter().any(String::is_empty) {
                    anyhow::bail!("an empty unit name");
                }
                Targets::Units {
                    user: args.unit.is_none(),
                    names,
                }
            }
            (None, None, Some(m)) => {
                if m.is_empty() {
                    anyhow::bail!("-M: an empty name");
                }
                Targets::Machine {
                    name: m.clone(),
                    paths: args.cgroup.clone(),
                }
            }
            (None, None, None) => Targets::Paths(args.cgroup.clone()),
        };
        let mut start = args.cgroup.first().cloned();
        if let Some(crate::cli::Command::Top(t)) = &args.command {
            if t.cgroup.is_some() {
                start.clone_from(&t.cgroup);
            }
        }
        if let Some(crate::cli::Command::Metrics(m)) = &args.command {
            if m.cgroup.is_some() {
                start.clone_from(&m.cgroup);
            }
        }
        // `metrics` and `serve` write Prometheus text only: a global `--json` would be
        // shown in their help and silently ignored.
        match &args.command {
            Some(crate::cli::Command::Metrics(_)) if args.json => anyhow::bail!(
                "metrics: --json is not an output of this command; it writes the Prometheus \
                 text format, or OpenMetrics with --format openmetrics"
            ),
            Some(crate::cli::Command::Serve(_)) if args.json => anyhow::bail!(
                "serve: --json is not an output of this command; it answers in the Prometheus \
                 text format, or OpenMetrics when the scraper's Accept header asks (there is \
                 no --format: the format is chosen per request)"
            ),
            Some(crate::cli::Command::Completions(_)) if args.json => anyhow::bail!(
                "completions: --json is not an output of this command; it writes a shell script"
            ),
            Some(crate::cli::Command::Man(_)) if args.json => anyhow::bail!(
                "man: --json is not an output of this command; it writes a manual page (roff)"
            ),
            Some(crate::cli::Command::Metrics(m))
                if m.textfile.is_some() && m.format == "openmetrics" =>
            {
                anyhow::bail!(
                    "metrics: --textfile with --format openmetrics: node-exporter's textfile \
                     collector reads only the Prometheus text format (--format text)"
                )
            }
            _ => {}
        }
        let stats = (args.stats || args.delay.is_some()).then_some(args.delay);
        Ok(Config {
            root: args.root,
            start: start.unwrap_or_else(|| "/".into()),
            stats,
            all: args.all,
            depth: args.depth,
            procs: !args.no_procs,
            kernel_threads: args.kernel_threads,
            threads: args.threads,
            width,
            json: args.json,
            color,
            mode: match args.command {
                None => Mode::Tree,
                Some(crate::cli::Command::Pid(p)) => Mode::Pid(p.pids),
                Some(crate::cli::Command::Id(a)) => Mode::Id(a.ids),
                Some(crate::cli::Command::Ids(a)) => {
                    Mode::Ids(a.cgroup.unwrap_or_else(|| "/".into()), a.jsonl)
                }
                Some(crate::cli::Command::Userns(u)) => Mode::Userns(u.ns, u.full),
                Some(crate::cli::Command::Watch(w)) => Mode::Watch(w),
                Some(crate::cli::Command::Provision(p)) => {
                    use crate::cli::ProvisionAction as A;
                    let (action, steps) = match p.action {
                        None => (ProvisionAction::Check, Vec::new()),
                        Some(A::Check { steps }) => (ProvisionAction::Check, steps),
                        Some(A::Plan { steps }) => (ProvisionAction::Plan, steps),
                        Some(A::Apply {
                            steps,
                            yes,
                            run_commands,
                        }) => (
                            ProvisionAction::Apply {
                                write: yes,
                                run: run_commands,
                            },
                            steps,
                        ),
                    };
                    for s in &steps {
                        if cgroup_provision::step(s).is_none() {
                            let ids: Vec<&str> =
                                cgroup_provision::steps().iter().map(|s| s.id).collect();
                            anyhow::bail!(
                                "unknown step \"{}\"; the steps are: {}",
                                crate::sanitize::sanitize(s.as_bytes()),
                                ids.join(", ")
                            );
                        }
                    }
                    Mode::Provision(Provision {
                        action,
                        steps,
                        user: p.user,
                        crun_version: p.crun_version,
                        crun_sha256: p.crun_sha256,
                        cni_sha256: p.cni_sha256,
                    })
                }
                Some(crate::cli::Command::Snapshot(a)) => Mode::Snapshot(a.out, a.cgroups, a.pids),
                Some(crate::cli::Command::Metrics(m)) => Mode::Metrics(m),
                Some(crate::cli::Command::Serve(a)) => Mode::Serve(a),
                Some(crate::cli::Command::Completions(c)) => Mode::Completions(c.shell),
                Some(crate::cli::Command::Man(m)) => Mode::Man(m.subcommand),
                Some(crate::cli::Command::Top(t)) => Mode::Top(Top {
                    delay: t.delay,
                    depth: t.depth.or(args.depth),
                    iterations: t.iterations,
                    batch: t.batch,
                    order: t.order,
                }),
            },
            users: args.users,
            cgroup_id: args.cgroup_id,
            xattr: args.xattr,
            targets,
            no_pager: args.no_pager,
        })
    }

    /// Whether this run's output may go through a pager ([`crate::pager`]): the
    /// one-shot texts (the tree, `pid`, `id`, `ids`, `userns`, `provision check` and
    /// `plan`), unless `--no-pager`. Never the streams (`top`, `watch`, `serve`,
    /// `metrics`) nor what is meant for files (`completions`, `man`, `snapshot`'s line).
    pub fn pages(&self) -> bool {
        if self.no_pager {
            return false;
        }
        match &self.mode {
            Mode::Tree | Mode::Pid(_) | Mode::Id(_) | Mode::Ids(..) | Mode::Userns(..) => true,
            Mode::Provision(p) => {
                matches!(p.action, ProvisionAction::Check | ProvisionAction::Plan)
            }
            Mode::Snapshot(..)
            | Mode::Top(_)
            | Mode::Watch(_)
            | Mode::Metrics(_)
            | Mode::Serve(_)
            | Mode::Completions(_)
            | Mode::Man(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn env(columns: Option<&str>, no_color: Option<&str>, tty: bool) -> Env {
        Env {
            columns: columns.map(Into::into),
            no_color: no_color.map(Into::into),
            term: Some("xterm-256color".into()),
            stdout_tty: tty,
            term_width: tty.then_some(120),
        }
    }

    fn cfg(args: &[&str], e: &Env) -> Config {
        let mut argv = vec!["cgtree"];
        argv.extend_from_slice(args);
        Config::new(Args::parse_from(argv), e).unwrap()
    }

    #[test]
    fn width_rules() {
        assert_eq!(cfg(&[], &env(None, None, false)).width, None);
        assert_eq!(cfg(&[], &env(None, None, true)).width, Some(120));
        assert_eq!(cfg(&[], &env(Some("90"), None, false)).width, Some(90));
        assert_eq!(cfg(&[], &env(Some("junk"), None, true)).width, Some(120));
        assert_eq!(cfg(&["--full"], &env(Some("90"), None, true)).width, None);
        assert_eq!(cfg(&["--json"], &env(Some("90"), None, true)).width, None);
    }

    #[test]
    fn color_rules() {
        assert!(cfg(&[], &env(None, None, true)).color);
        assert!(!cfg(&[], &env(None, None, false)).color);
        assert!(!cfg(&[], &env(None, Some("1"), true)).color);
        assert!(cfg(&[], &env(None, Some(""), true)).color);
        assert!(cfg(&["--color=always"], &env(None, Some("1"), false)).color);
        assert!(!cfg(&["--color=never"], &env(None, None, true)).color);
    }

    #[test]
    fn no_colour_on_a_dumb_terminal() {
        for term in [Some("dumb"), Some(""), None] {
            let mut e = env(None, None, true);
            e.term = term.map(Into::into);
            assert!(!cfg(&[], &e).color, "{term:?}");
            assert!(cfg(&["--color=always"], &e).color, "{term:?}");
        }
    }

    #[test]
    fn which_subcommands_page() {
        let e = env(None, None, true);
        for args in [
            &[][..],
            &["pid", "1"],
            &["id", "1"],
            &["ids"],
            &["userns"],
            &["provision"],
            &["provision", "plan"],
            &["--json"],
        ] {
            assert!(cfg(args, &e).pages(), "{args:?}");
            let mut no = args.to_vec();
            no.push("--no-pager");
            assert!(!cfg(&no, &e).pages(), "{no:?}");
        }
        for args in [
            &["top"][..],
            &["watch"],
            &["metrics"],
            &["serve"],
            &["completions", "bash"],
            &["man"],
            &["snapshot", "/tmp/x"],
            &["provision", "apply"],
        ] {
            assert!(!cfg(args, &e).pages(), "{args:?}");
        }
    }

    #[test]
    fn root_must_be_a_directory() {
        let e = env(None, None, false);
        let err =
            Config::new(Args::parse_from(["cgtree", "--root", "/nonexistent/x"]), &e).unwrap_err();
        assert_eq!(err.to_string(), "--root /nonexistent/x: not a directory");
    }
}
