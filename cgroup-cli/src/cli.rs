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
  cgtree --json | jq .cgroup.children[].path
  cgtree pid 74284                         what PID 74284 is: container, kind node, pod
  cgtree userns                            user namespaces with their maps and holders
  cgtree provision                         the rootless podman + kind setup, checked";

/// cgtree: the cgroup v2 hierarchy with its processes, the cgroup types and controllers.
#[derive(Debug, Parser)]
#[command(name = "cgtree", version, about, after_help = AFTER_HELP)]
pub struct Args {
    /// A subcommand (default: the tree).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Cgroup to start at, relative to the cgroup2 mount (e.g. /user.slice).
    #[arg(value_name = "CGROUP_PATH")]
    pub cgroup: Option<String>,

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
    #[arg(short = 'u', long)]
    pub users: bool,

    /// Do not cut command lines to the terminal width.
    #[arg(short = 'l', long)]
    pub full: bool,

    /// Print JSON (format: docs/json.md).
    #[arg(long, global = true)]
    pub json: bool,

    /// When to use colours; `auto` colours only a terminal, and not when NO_COLOR is set
    /// (non-empty) or TERM is unset or `dumb`.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", global = true)]
    pub color: ColorChoice,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// What a process is: its cgroup, the chain of cgroups above it with what each one
    /// is, and the container, kind node and pod it belongs to (or serves).
    Pid(PidArgs),
    /// User namespaces, like `lsns --type user`, with their UID/GID maps and the
    /// containers, kind nodes and pods living in each; with NS, one namespace and its
    /// processes.
    Userns(UsernsArgs),
    /// The guide's setup, step by step: check (default), plan, apply.
    Provision(ProvisionArgs),
    /// Writes what cgtree reads of this host into OUT, in the fixture format, for
    /// `cgtree --root OUT` (and bug reports); what is left out is listed in OUT/META.
    Snapshot(SnapshotArgs),
    /// Events as they happen below CGROUP_PATH: cgroups created, removed, populated,
    /// emptied and identified, one line each, until SIGINT or SIGTERM.
    Watch(WatchArgs),
}

/// `cgtree watch`.
#[derive(Debug, Clone, PartialEq, Eq, ClapArgs)]
pub struct WatchArgs {
    /// The subtree to watch, relative to the cgroup2 mount (default: /).
    #[arg(value_name = "CGROUP_PATH")]
    pub path: Option<String>,
    /// One JSON object a line (format: docs/json.md).
    #[arg(long)]
    pub jsonl: bool,
    /// The mechanism: auto, fanotify or inotify (for tests).
    #[arg(long, hide = true, default_value = "auto")]
    pub backend: String,
    /// Most events taken from one batch of the kernel's queue (for tests).
    #[arg(long, hide = true)]
    pub queue_limit: Option<usize>,
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
}

/// `cgtree pid`.
#[derive(Debug, ClapArgs)]
pub struct PidArgs {
    /// One or more PIDs (as the host sees them).
    #[arg(required = true, value_name = "PID")]
    pub pids: Vec<u32>,
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
}
