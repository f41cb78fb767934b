//! Command-line flags, as clap parses them (validated into a [`crate::config::Config`]).

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit status:
  0  everything was read and printed
  1  printed, but some cgroups or processes could not be read (listed on stderr)
  2  fatal: bad arguments, no cgroup2 mount, or the start cgroup is unusable

Examples:
  cgtree                                   the whole hierarchy of this host
  cgtree /user.slice --depth 3             a subtree, three levels deep
  cgtree --root fixtures/arch-docker-kind  a fixture or snapshot directory standing for /
  cgtree -u docker                         docker.service's subtree (as systemd-cgls -u)
  cgtree -M kind-control-plane             a container's, kind node's or pod's subtree
  cgtree --json | jq .cgroup.children[].path
  cgtree pid 74284                         what PID 74284 is: container, kind node, pod
  cgtree id 4242                           what cgroup id 4242 (a BPF tool's) is
  cgtree ids --jsonl                       every cgroup id with its path and identity
  cgtree userns                            user namespaces with their maps and holders
  cgtree provision                         the rootless podman + kind setup, checked
  cgtree top                               CPU, memory, I/O, pressure per cgroup, live
  cgtree top /kubepods.slice --order memory --depth 3
  cgtree top -b -n 2 -d 0.5                two text blocks half a second apart
  cgtree top --json -n 1                   one JSON line per sample
  cgtree --stats --depth 2                 the tree with usage columns (one sample)
  cgtree metrics | promtool check metrics  named cgroups' usage for Prometheus
  cgtree metrics --textfile DIR --interval 15   DIR/cgtree.prom for node-exporter
  cgtree serve --listen 127.0.0.1:9713     the same at http://127.0.0.1:9713/metrics
  cgtree completions bash > /usr/share/bash-completion/completions/cgtree
  cgtree man | man -l -                    this manual page (cgtree man top: top's)";

const TOP_AFTER_HELP: &str = "\
Keys (full-screen):
  c m i p t          sort siblings by CPU, memory, I/O, path (name), tasks
  Enter, +/Right, -/Left   toggle, expand, collapse the selected subtree
  /                  filter by name or identity (Enter keeps, Esc clears)
  Up Down k j, PageUp PageDown, g Home, G End   move
  Space, P           pause / resume sampling
  ?                  all keys
  q, Esc, Ctrl-C     quit

Columns: CPU% (100 = one core), THR% (throttled periods), WSET (working set: memory.current
- inactive_file), MEM (memory.current), LIMIT (memory.max), OOM (oom_kill), TASKS
(pids.current), READ/s WRITE/s (io.stat), PSIcpu PSImem PSIio (pressure, some); - when
not known.

Examples:
  cgtree top /kubepods.slice --order memory
  cgtree top -b -n 1 --depth 2             one text block, two levels
  cgtree top --json -n 3 -d 0.5            three JSON lines half a second apart";

/// cgtree: the cgroup v2 hierarchy with its processes, the cgroup types and controllers.
#[derive(Debug, Parser)]
#[command(name = "cgtree", version, about, after_help = AFTER_HELP)]
pub struct Args {
    /// A subcommand (default: the tree).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Cgroups to show, relative to the cgroup2 mount (e.g. /user.slice) or as its
    /// directories (/sys/fs/cgroup/user.slice), one tree each (default: /, or the working
    /// directory when it is inside the cgroup2 mount); with -M, relative to the machine's
    /// cgroup; with -u or --user-unit, unit names.
    #[arg(value_name = "CGROUP_PATH")]
    pub cgroup: Vec<String>,

    /// Show the subtree of system unit UNIT (as `systemd-cgls -u`), found in the hierarchy:
    /// the cgroup of that name below the host's slices, outside any container and user
    /// manager (`foo` means `foo.service`). Repeatable; with no UNIT, the CGROUP_PATH
    /// arguments are unit names.
    #[arg(short = 'u', long = "unit", value_name = "UNIT", num_args = 0..=1,
          conflicts_with = "user_unit")]
    pub unit: Option<Vec<String>>,

    /// Show the subtree of unit UNIT of the caller's user manager (user@UID.service of the
    /// real UID), as `systemd-cgls --user-unit`. Repeatable; with no UNIT, the
    /// CGROUP_PATH arguments are unit names.
    #[arg(long = "user-unit", value_name = "UNIT", num_args = 0..=1)]
    pub user_unit: Option<Vec<String>>,

    /// Show the subtree of a container, kind node, pod (NAMESPACE/NAME, or NAME when
    /// unique), LXC container or machine: by name, full id or a unique id prefix of at
    /// least 12 hex digits (systemd-cgls's -M, for any identified one). CGROUP_PATH is
    /// then relative to its cgroup.
    #[arg(short = 'M', long, value_name = "NAME", conflicts_with_all = ["unit", "user_unit"])]
    pub machine: Option<String>,

    /// Read the host rooted at DIR (a fixture or snapshot) instead of /.
    #[arg(long, value_name = "DIR", global = true)]
    pub root: Option<PathBuf>,

    /// Show empty cgroups too (hidden by default, as systemd-cgls does).
    #[arg(short = 'a', long)]
    pub all: bool,

    /// Show at most N levels below the start cgroup.
    #[arg(short = 'd', long, value_name = "N")]
    pub depth: Option<u32>,

    /// Show cgroups only, no processes.
    #[arg(long)]
    pub no_procs: bool,

    /// Show kernel threads (hidden by default).
    #[arg(short = 'k', long)]
    pub kernel_threads: bool,

    /// Show threads listed in cgroup.threads whose process lives in another cgroup.
    #[arg(short = 'T', long)]
    pub threads: bool,

    /// Show each process's user: the host's, and the one inside its user namespace where
    /// they differ (`1000(root in ctr)`).
    #[arg(short = 'U', long)]
    pub users: bool,

    /// Show each cgroup's id after its name, as `(#ID)` (as `systemd-cgls -c`): the
    /// inode of its directory, the id BPF tools see. `--cgroup-id=BOOL` as systemd >= 254.
    #[arg(short = 'c', long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_boolean,
          overrides_with = "cgroup_id")]
    pub cgroup_id: bool,

    /// Show each cgroup's `user.` and `trusted.` extended attributes below its name (as
    /// `systemd-cgls -x`): `→ NAME: VALUE`.
    #[arg(short = 'x', long, value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value = "false", value_parser = parse_boolean,
          overrides_with = "xattr")]
    pub xattr: bool,

    /// Do not cut command lines to the terminal width.
    #[arg(short = 'l', long)]
    pub full: bool,

    /// Show usage columns (CPU, memory, tasks, I/O, pressure) before each cgroup, from
    /// one sample (rates need --delay).
    #[arg(long)]
    pub stats: bool,

    /// With --stats: take two samples SECS apart, for the rates (CPU, I/O, pressure).
    #[arg(long, value_name = "SECS", value_parser = parse_delay)]
    pub delay: Option<std::time::Duration>,

    /// Print JSON (format: /usr/share/doc/cgtree/docs/json.md).
    #[arg(long, global = true)]
    pub json: bool,

    /// When to use colours; `auto` colours only a terminal, and not when NO_COLOR is set
    /// (non-empty) or TERM is unset or `dumb`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", global = true)]
    pub color: ColorChoice,

    /// Do not pipe the output into a pager. Without it, the text of the tree, `pid`, `id`,
    /// `ids`, `userns` and `provision check`/`plan` goes through a pager when stdout is a
    /// terminal and `TERM` is set and not `dumb`, as systemd's tools do: `$SYSTEMD_PAGER`,
    /// else `$PAGER` (only when `$SYSTEMD_PAGERSECURE` is set), else `pager`, `less` or
    /// `more`; an empty value or `cat` means no pager. `LESS=$SYSTEMD_LESS` (default
    /// `FRSXMK`), `LESSCHARSET=$SYSTEMD_LESSCHARSET` (default `utf-8`); in secure mode
    /// (`$SYSTEMD_PAGERSECURE` true, or unset under sudo) only `less`, with `LESSSECURE=1`.
    #[arg(long, global = true)]
    pub no_pager: bool,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What a process is: its cgroup, the chain of cgroups above it with what each one
    /// is, and the container, kind node and pod it belongs to (or serves).
    Pid(PidArgs),
    /// What a cgroup id (as BPF tools see it) is: the cgroup's path, the chain of
    /// cgroups above it with what each one is, the container, kind node and pod.
    Id(IdArgs),
    /// Every cgroup id with its path and what the cgroup is, one per line (an index
    /// for tools that see cgroup ids).
    Ids(IdsArgs),
    /// User namespaces, like `lsns --type user`, with their UID/GID maps and the
    /// containers, kind nodes and pods living in each; with NS, one namespace and its
    /// processes.
    Userns(UsernsArgs),
    /// The guide's setup, step by step: check (default), plan, apply.
    Provision(ProvisionArgs),
    /// Resource usage per cgroup, like `systemd-cgtop`, as the named tree: CPU, memory,
    /// OOM kills, tasks, I/O, pressure. Full-screen on a terminal (`?` lists the keys),
    /// text blocks with -b or when stdout is not a terminal, JSON lines with --json.
    #[command(after_help = TOP_AFTER_HELP)]
    Top(TopArgs),
    /// Writes what cgtree reads of this host into OUT, in the fixture format, for
    /// `cgtree --root OUT` (and bug reports); what is left out is listed in OUT/META.
    Snapshot(SnapshotArgs),
    /// Events as they happen below CGROUP_PATH: cgroups created, removed, populated,
    /// emptied and identified, one line each, until SIGINT or SIGTERM.
    Watch(WatchArgs),
    /// The usage of named cgroups (containers, pods, Kubernetes nodes, systemd units)
    /// for Prometheus, in its text format (/usr/share/doc/cgtree/docs/metrics.md): on
    /// stdout, or written to DIR/cgtree.prom for node-exporter's textfile collector.
    Metrics(MetricsArgs),
    /// Serves `cgtree metrics` over HTTP for Prometheus: `GET /metrics` (OpenMetrics when
    /// the Accept header asks for it), until SIGINT, SIGTERM or SIGHUP. Requests that come
    /// together share one scrape of the host.
    Serve(ServeArgs),
    /// The static completion script for SHELL on stdout (bash, zsh, fish, elvish,
    /// powershell).
    ///
    /// Generated from these flags: subcommands, flags and their fixed values complete.
    /// `COMPLETE=SHELL cgtree` writes instead the script of the completion computed at
    /// run time, which also completes cgroup paths, and container, pod and kind node
    /// names (README: "Shell completions and the manual page").
    Completions(CompletionsArgs),
    /// The manual page, in roff, on stdout: cgtree(1), or with SUBCOMMAND that
    /// subcommand's page, cgtree-SUBCOMMAND(1) (`cgtree man | man -l -` shows it).
    Man(ManArgs),
}

/// `cgtree completions`.
#[derive(Debug, Clone, PartialEq, Eq, ClapArgs)]
pub struct CompletionsArgs {
    /// The shell the script is for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `cgtree man`.
#[derive(Debug, Clone, PartialEq, Eq, ClapArgs)]
pub struct ManArgs {
    /// A subcommand, whose own page to print (`provision apply`: a subcommand of one);
    /// default: cgtree(1), which lists them all.
    #[arg(value_name = "SUBCOMMAND")]
    pub subcommand: Vec<String>,
}

/// `cgtree serve`.
#[derive(Debug, Clone, PartialEq, Eq, ClapArgs)]
pub struct ServeArgs {
    /// The address to listen on, IP:PORT (IPv6 as `[::1]:9713`; port 0: any free port, the
    /// one taken is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:9713")]
    pub listen: String,
    /// Which cgroups.
    #[command(flatten)]
    pub export: ExportArgs,
    /// A scrape that ended less than SECS seconds ago answers a request without reading
    /// the host again (0: every request waits for a scrape begun after it came).
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_max_age)]
    pub max_age: std::time::Duration,
}

/// `--max-age`: a finite number of seconds from 0 to an hour.
pub fn parse_max_age(s: &str) -> Result<std::time::Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| "not a number of seconds".to_string())?;
    if !v.is_finite() || !(0.0..=3600.0).contains(&v) {
        return Err("must be from 0 to 3600 seconds".into());
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// The flags `cgtree metrics` and `cgtree serve` share: which cgroups get series.
#[derive(Debug, Clone, PartialEq, Eq, ClapArgs)]
pub struct ExportArgs {
    /// Which cgroups get series: `named` (the root, containers, pods, Kubernetes nodes,
    /// systemd units) or `all`.
    #[arg(long, value_name = "named|all", default_value = "named", value_parser = ["named", "all"])]
    pub cgroups: String,
    /// Export at most N cgroups (the root, then containers, pods and nodes, then units,
    /// shallower first); the others are counted in cgtree_scrape_cgroups_dropped.
    #[arg(long, value_name = "N", default_value_t = cgroup_core::metrics::DEFAULT_MAX_CGROUPS)]
    pub max_cgroups: usize,
}

/// `cgtree metrics`.
#[derive(Debug, Clone, PartialEq, Eq, ClapArgs)]
pub struct MetricsArgs {
    /// Cgroup to start at, relative to the cgroup2 mount (default: /).
    #[arg(value_name = "CGROUP_PATH")]
    pub cgroup: Option<String>,
    /// `text` (Prometheus 0.0.4, what node-exporter and promtool read) or `openmetrics`.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = ["text", "openmetrics"])]
    pub format: String,
    /// Which cgroups.
    #[command(flatten)]
    pub export: ExportArgs,
    /// Write DIR/cgtree.prom atomically instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub textfile: Option<PathBuf>,
    /// With --textfile: write again every SECS seconds until SIGINT, SIGTERM or SIGHUP.
    #[arg(long, value_name = "SECS", requires = "textfile", value_parser = parse_delay)]
    pub interval: Option<std::time::Duration>,
}

/// `cgtree watch`.
#[derive(Debug, Clone, PartialEq, Eq, ClapArgs)]
pub struct WatchArgs {
    /// The subtree to watch, relative to the cgroup2 mount (default: /).
    #[arg(value_name = "CGROUP_PATH")]
    pub path: Option<String>,
    /// One JSON object a line (format: /usr/share/doc/cgtree/docs/json.md); `--json` does
    /// the same.
    #[arg(long)]
    pub jsonl: bool,
    /// The mechanism: auto, fanotify or inotify (for tests).
    #[arg(long, hide = true, default_value = "auto")]
    pub backend: String,
    /// Most events taken from one batch of the kernel's queue (for tests).
    #[arg(long, hide = true)]
    pub queue_limit: Option<usize>,
}

/// `cgtree top`.
#[derive(Debug, ClapArgs)]
pub struct TopArgs {
    /// Cgroup to start at, relative to the cgroup2 mount (e.g. /kubepods.slice).
    #[arg(value_name = "CGROUP_PATH")]
    pub cgroup: Option<String>,
    /// Seconds between samples (fractions allowed, e.g. 0.5).
    #[arg(short = 'd', long, value_name = "SECS", default_value = "1", value_parser = parse_delay)]
    pub delay: std::time::Duration,
    /// Show at most N levels below the start cgroup.
    #[arg(long, value_name = "N")]
    pub depth: Option<u32>,
    /// Stop after N screens or blocks (default: run until quit, or until the reader goes
    /// away). Each has rates: one more sample is taken first, at most a second before.
    #[arg(short = 'n', long, value_name = "N")]
    pub iterations: Option<u64>,
    /// Text blocks, one per sample (as `systemd-cgtop -b`); the default when stdout is
    /// not a terminal.
    #[arg(short = 'b', long)]
    pub batch: bool,
    /// How siblings are sorted (keys c, m, i, p, t on the screen).
    #[arg(long, value_enum, default_value_t = crate::top::Order::Cpu, value_name = "ORDER")]
    pub order: crate::top::Order,
}

/// A boolean as systemd's `parse_boolean` (src/basic/parse-util.c) reads one: `1`, `yes`,
/// `y`, `true`, `t`, `on` and `0`, `no`, `n`, `false`, `f`, `off`, in any case.
pub fn parse_boolean(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Ok(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Ok(false),
        _ => Err("not a boolean (yes/no, true/false, on/off, 1/0)".into()),
    }
}

/// A delay in seconds: a finite number from 0.01 (shorter intervals make rates out of
/// the kernel's accounting granularity: noise) to a day.
pub fn parse_delay(s: &str) -> Result<std::time::Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| "not a number of seconds".to_string())?;
    if !v.is_finite() || !(0.01..=86_400.0).contains(&v) {
        return Err("must be from 0.01 to 86400 seconds".into());
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// `cgtree snapshot`.
#[derive(Debug, ClapArgs)]
pub struct SnapshotArgs {
    /// A new (or empty) directory.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// Only this cgroup subtree (relative to the cgroup2 mount, e.g. /kubepods.slice);
    /// repeatable. The cgroups above it are kept without their processes.
    #[arg(long = "cgroup", value_name = "CGROUP_PATH")]
    pub cgroups: Vec<String>,
    /// Only what these processes' answers need: the cgroup of each (and of its parent
    /// process, unless that is the root cgroup), as with --cgroup.
    #[arg(long, value_name = "PID", num_args = 1.., value_delimiter = ',')]
    pub pids: Vec<u32>,
}

/// `cgtree provision`.
#[derive(Debug, ClapArgs)]
pub struct ProvisionArgs {
    /// What to do (default: check).
    #[command(subcommand)]
    pub action: Option<ProvisionAction>,
    /// The user whose slice, home and containers.conf the steps are about (name or
    /// UID; default: $SUDO_USER, else the first user with UID >= 1000).
    #[arg(long, value_name = "NAME|UID", global = true)]
    pub user: Option<String>,
    /// The crun release to download to ~/.local/bin/crun (>= 1.9.0).
    #[arg(long, value_name = "X.Y.Z", global = true)]
    pub crun_version: Option<String>,
    /// The sha256 of that crun release binary (crun-X.Y.Z-linux-amd64): without it,
    /// nothing is downloaded.
    #[arg(long, value_name = "HEX", global = true)]
    pub crun_sha256: Option<String>,
    /// The sha256 of the CNI plugins 1.1.1 package: without it, nothing is downloaded.
    #[arg(long, value_name = "HEX", global = true)]
    pub cni_sha256: Option<String>,
}

/// `cgtree provision` actions.
#[derive(Debug, Subcommand)]
pub enum ProvisionAction {
    /// One line per step: status, evidence, fix (read-only).
    Check {
        /// Only these steps.
        #[arg(value_name = "STEP")]
        steps: Vec<String>,
    },
    /// The exact file changes (unified diffs) and commands.
    Plan {
        /// Only these steps.
        #[arg(value_name = "STEP")]
        steps: Vec<String>,
    },
    /// Applies the plan: a dry run unless --yes.
    Apply {
        /// Only these steps.
        #[arg(value_name = "STEP")]
        steps: Vec<String>,
        /// Write the files (atomically, with a backup of each changed file).
        #[arg(long)]
        yes: bool,
        /// Also run the plan's commands (live host only).
        #[arg(long)]
        run_commands: bool,
    },
}

/// `cgtree userns`.
#[derive(Debug, ClapArgs)]
pub struct UsernsArgs {
    /// A namespace inode (e.g. 4026532263), to list its processes.
    #[arg(value_name = "NS")]
    pub ns: Option<u64>,
    /// List every container, kind node and pod a namespace holds, one per line (by
    /// default: counts by kind and the first few names), and do not cut lines to the
    /// terminal width.
    #[arg(short = 'l', long)]
    pub full: bool,
}

/// `cgtree pid`.
#[derive(Debug, ClapArgs)]
pub struct PidArgs {
    /// One or more PIDs (as the host sees them).
    #[arg(required = true, value_name = "PID")]
    pub pids: Vec<u32>,
}

/// `cgtree id`.
#[derive(Debug, ClapArgs)]
pub struct IdArgs {
    /// One or more cgroup ids (the inode of the cgroup's directory).
    #[arg(required = true, value_name = "CGID")]
    pub ids: Vec<u64>,
}

/// `cgtree ids`.
#[derive(Debug, ClapArgs)]
pub struct IdsArgs {
    /// Cgroup to start at, relative to the cgroup2 mount (default: /).
    #[arg(value_name = "CGROUP_PATH")]
    pub cgroup: Option<String>,
    /// One JSON object per line (format: /usr/share/doc/cgtree/docs/json.md); `--json`
    /// does the same.
    #[arg(long)]
    pub jsonl: bool,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal, NO_COLOR is unset or empty and TERM is set and
    /// not `dumb`.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn delays() {
        assert_eq!(
            parse_delay("0.5"),
            Ok(std::time::Duration::from_millis(500))
        );
        assert_eq!(parse_delay("2"), Ok(std::time::Duration::from_secs(2)));
        assert_eq!(
            parse_delay("0.01"),
            Ok(std::time::Duration::from_millis(10))
        );
        for bad in ["0", "0.009", "1e-9", "-1", "nan", "inf", "x", "100000"] {
            assert!(parse_delay(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn max_ages() {
        assert_eq!(parse_max_age("0"), Ok(std::time::Duration::ZERO));
        assert_eq!(
            parse_max_age("1.5"),
            Ok(std::time::Duration::from_millis(1500))
        );
        for bad in ["-1", "3601", "nan", "inf", "x", ""] {
            assert!(parse_max_age(bad).is_err(), "{bad}");
        }
    }
}
