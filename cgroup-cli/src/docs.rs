//! `cgtree completions SHELL`, `cgtree man [SUBCOMMAND...]` and the completion
//! computed at run time (`COMPLETE=SHELL cgtree`): shell completion scripts
//! (clap_complete) and manual pages (clap_mangen), generated from the flags in
//! [`crate::cli`], so that they cannot drift from what the program parses.
//!
//! Two kinds of completion:
//! - static (`cgtree completions SHELL`): subcommands, flags and the values clap knows
//!   (`--color`, `--order`, `--format`, ...), written once into a script;
//! - dynamic (`COMPLETE=bash cgtree` writes a registration script; the shell then calls
//!   `COMPLETE=bash cgtree -- WORDS...` at each Tab): the same, plus the cgroup paths of
//!   every `CGROUP_PATH` argument ([`cgroup_path_candidates`]) and identified container,
//!   pod and kind node names for `-M/--machine` ([`machine_name_candidates`]).
//!   This is clap_complete's `unstable-dynamic` feature (`CompleteEnv`), outside its
//!   stable API: the protocol between the registration script and the binary may change
//!   in any clap_complete release, so the crate is pinned exactly in Cargo.toml and the
//!   script must come from the same build as the binary (the Debian package ships both;
//!   README "Shell completions and the manual page" tells `cargo install` users to
//!   source it anew at shell start, as clap_complete recommends).
//!
//! Candidates read from the host are untrusted: a name with a control character (or not
//! UTF-8) is never offered (it would reach the shell's line editor as is), and each
//! list is bounded ([`MAX_CANDIDATES`]).

use crate::cli::Args;
use crate::term::Diag;
use clap::CommandFactory;
use clap_complete::engine::{ArgValueCompleter, CompletionCandidate};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The program's name in scripts and pages (the binary's name, not `argv[0]`).
const BIN: &str = "cgtree";

/// The value name of the arguments that take a cgroup path (every subcommand's).
const CGROUP_PATH: &str = "CGROUP_PATH";
/// The long name of the flag that takes a container, pod or kind node name.
const MACHINE: &str = "machine";
/// Most candidates one completion offers (a directory of thousands of pod cgroups
/// gives the first ones in name order; typing more of the name narrows them).
pub const MAX_CANDIDATES: usize = 500;

/// The command-line definition as the generators read it: built, with no `help`
/// subcommand (it has no flags and no page of its own; `--help` stays).
fn command() -> clap::Command {
    let mut cmd = unbuilt_command();
    cmd.build();
    cmd
}

/// The definition before [`clap::Command::build`], with the run-time completers
/// attached: [`cgroup_path_candidates`] to every argument whose value name is
/// `CGROUP_PATH`, [`machine_name_candidates`] to `--machine`, in every subcommand.
/// (Attached here rather than in [`crate::cli`], so that any new argument of those
/// names gets them.)
fn unbuilt_command() -> clap::Command {
    attach_completers(Args::command().bin_name(BIN).disable_help_subcommand(true))
}

fn attach_completers(mut cmd: clap::Command) -> clap::Command {
    let mut paths = Vec::new();
    let mut machines = Vec::new();
    for arg in cmd.get_arguments() {
        if arg
            .get_value_names()
            .is_some_and(|names| names.iter().any(|n| n.as_str() == CGROUP_PATH))
        {
            paths.push(arg.get_id().clone());
        } else if arg.get_long() == Some(MACHINE) {
            machines.push(arg.get_id().clone());
        }
    }
    for id in paths {
        cmd = cmd.mut_arg(id, |a| {
            a.add(ArgValueCompleter::new(cgroup_path_candidates))
        });
    }
    for id in machines {
        cmd = cmd.mut_arg(id, |a| {
            a.add(ArgValueCompleter::new(machine_name_candidates))
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        cmd = cmd.mut_subcommand(name, attach_completers);
    }
    cmd
}

/// Answers a shell's completion request and exits, when the environment asks for one
/// (`COMPLETE=bash|zsh|fish|elvish|powershell`); otherwise returns at once. Called
/// first thing in `main`, before anything is written.
///
/// `COMPLETE=SHELL cgtree` writes the registration script for SHELL (it calls the
/// program by the name it was started with: `cgtree` from `$PATH`, or the path given);
/// `COMPLETE=SHELL cgtree -- cgtree WORDS...` writes the candidates for the last word.
///
/// # Errors
///
/// None returned: an unknown shell name is reported on stderr by clap_complete, which
/// then exits with status 2 (as a usage error); a candidate function that cannot read
/// the host offers nothing.
pub fn complete_from_env() {
    clap_complete::CompleteEnv::with_factory(unbuilt_command)
        .bin(BIN)
        .complete();
}

/// The words of the command line being completed, as the shell passed them after `--`
/// (`COMPLETE=bash cgtree -- cgtree --root DIR tree /us`); empty when this process was
/// not started to complete.
fn completion_words() -> Vec<OsString> {
    let mut args = std::env::args_os().skip(1);
    if !args.by_ref().any(|a| a == "--") {
        return Vec::new();
    }
    args.collect()
}

/// The value of the last `--root DIR` or `--root=DIR` before the word being
/// completed (the argument clap has not parsed yet: a completer sees only its own
/// word, so the words are read again).
fn root_from_words(words: &[OsString]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    // The last word is the one being completed.
    let before = &words[..words.len().saturating_sub(1)];
    let mut root = None;
    let mut i = 0;
    while i < before.len() {
        let w = before[i].as_bytes();
        if w == b"--" {
            break; // after it, everything is a positional argument
        }
        if w == b"--root" {
            if let Some(v) = before.get(i + 1) {
                root = Some(PathBuf::from(v));
                i += 1;
            }
        } else if let Some(v) = w.strip_prefix(b"--root=") {
            root = Some(PathBuf::from(OsStr::from_bytes(v)));
        }
        i += 1;
    }
    root
}

/// The host the command line being completed reads: its `--root`, else `/`.
fn completion_host() -> cgroup_core::Host {
    match root_from_words(&completion_words()) {
        Some(root) => cgroup_core::Host::with_root(root),
        None => cgroup_core::Host::new(),
    }
}

/// Whether `name` may be offered to a shell: UTF-8 without any control character
/// (a line feed, an escape, bash's separator U+000B would reach the line editor).
fn offerable(name: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(name).ok()?;
    (!s.is_empty() && !s.chars().any(char::is_control)).then_some(s)
}

/// Candidates for a `CGROUP_PATH` argument: the cgroups whose path starts with
/// `current`, as `current` is written (leading `/` or not), each ending in `/` so
/// that the next Tab goes on below it. Reads one directory: the parent named by
/// `current` (`/system.slice/fo` lists `/system.slice`), below the cgroup2 mount of
/// the command line's `--root` (else of `/`), opened as `cgtree` opens cgroups
/// (beneath the root, no symlink followed).
///
/// Names with a control character or not UTF-8 are left out; at most
/// [`MAX_CANDIDATES`], in name order. Nothing when the mount or the directory cannot
/// be read, or when `current` has a `.` or `..` component.
pub fn cgroup_path_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    cgroup_paths_below(&completion_host(), current)
}

/// [`cgroup_path_candidates`] on `host`.
fn cgroup_paths_below(host: &cgroup_core::Host, current: &OsStr) -> Vec<CompletionCandidate> {
    use std::os::unix::ffi::OsStrExt;
    let current = current.as_bytes();
    let (parent, prefix) = match memchr_last_slash(current) {
        Some(i) => current.split_at(i + 1),
        None => (&b""[..], current),
    };
    let rel = Path::new(OsStr::from_bytes(parent));
    let Ok(mount) = host.find_cgroup2() else {
        return Vec::new();
    };
    // `..` lists nothing; one directory read, never leaving a `--root`.
    let Ok(names) = host.child_cgroups(&mount, rel) else {
        return Vec::new();
    };
    names
        .iter()
        .filter(|n| n.starts_with(prefix))
        .filter_map(|n| offerable(n))
        .take(MAX_CANDIDATES)
        .map(|n| {
            let mut value = OsString::from(OsStr::from_bytes(parent));
            value.push(n);
            value.push("/");
            CompletionCandidate::new(value)
        })
        .collect()
}

fn memchr_last_slash(s: &[u8]) -> Option<usize> {
    s.iter().rposition(|&b| b == b'/')
}

/// Candidates for `-M/--machine`: the names of what cgtree identifies on the host of
/// the command line's `--root` (else `/`) and that start with `current`: containers
/// (podman, docker, containerd, LXC, machined machines, podman pods) by name, Kubernetes
/// pods as `NAMESPACE/NAME` and `NAME`, Kubernetes nodes in containers (kind,
/// minikube) by node name. Builds the tree once (as `cgtree` does, identification on).
///
/// Names with a control character are left out; sorted, without duplicates, at most
/// [`MAX_CANDIDATES`]. Nothing when the hierarchy cannot be read.
pub fn machine_name_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let host = completion_host();
    machine_names(host.root(), current)
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// The names [`machine_name_candidates`] offers for the host rooted at `root`.
fn machine_names(root: &Path, current: &OsStr) -> Vec<String> {
    use cgroup_core::runtime::IdentityKind as K;
    let Ok(tree) = cgroup_core::TreeBuilder::new()
        .host_root(root)
        .identify(true)
        .include_empty(true)
        .build()
    else {
        return Vec::new();
    };
    let mut names: Vec<String> = Vec::new();
    for node in tree.nodes() {
        let Some(id) = &node.identity else { continue };
        match id.kind {
            K::PodmanContainer
            | K::DockerContainer
            | K::Container
            | K::ContainerdContainer
            | K::LxcContainer
            | K::Machine
            | K::PodmanPod => names.extend(id.name.clone()),
            K::KubePod => {
                if let Some(pod) = &id.pod {
                    if let Some(name) = &pod.name {
                        if let Some(ns) = &pod.namespace {
                            names.push(format!("{ns}/{name}"));
                        }
                        names.push(name.clone());
                    }
                }
            }
            _ => {}
        }
        if let Some(node_ref) = &id.node {
            names.push(node_ref.name.clone());
        }
        if let Some(kind) = &id.kind_node {
            names.push(kind.name.clone());
        }
    }
    let current = current.to_string_lossy();
    names.retain(|n| n.starts_with(&*current) && offerable(n.as_bytes()).is_some());
    names.sort();
    names.dedup();
    names.truncate(MAX_CANDIDATES);
    names
}

/// Writes the completion script for `shell` on stdout.
///
/// # Errors
///
/// None of its own: a failure to write stdout is reported on `diag` and gives
/// [`crate::FATAL`] (a reader gone away: [`crate::OK`]), as every output.
pub fn completions(shell: clap_complete::Shell, diag: &mut Diag) -> anyhow::Result<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command(), BIN, &mut script);
    Ok(write_out(&script, diag))
}

/// Writes the manual page of `path` (empty: cgtree(1); `["provision", "apply"]`:
/// cgtree-provision-apply(1)) in roff on stdout.
///
/// # Errors
///
/// `path` does not name a subcommand (the message lists those there are); a failure to
/// write stdout is reported as in [`completions`].
pub fn man(path: &[String], diag: &mut Diag) -> anyhow::Result<u8> {
    let mut cmd = command();
    for (i, name) in path.iter().enumerate() {
        let Some(sub) = cmd.find_subcommand(name) else {
            let names: Vec<&str> = cmd.get_subcommands().map(clap::Command::get_name).collect();
            let above = path[..i].join(" ");
            anyhow::bail!(
                "man: no subcommand \"{}\"{}{}; there are: {}",
                crate::sanitize::sanitize(name.as_bytes()),
                if above.is_empty() { "" } else { " in " },
                crate::sanitize::sanitize(above.as_bytes()),
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            );
        };
        cmd = sub.clone();
    }
    let mut page = Vec::new();
    // A subcommand has no version of its own: every page names the release.
    clap_mangen::Man::new(cmd)
        .source(concat!("cgtree ", env!("CARGO_PKG_VERSION")))
        .render(&mut page)?;
    Ok(write_out(&page, diag))
}

/// Writes generated text (the program's own, never read from the host) on stdout
/// through the escaping writer, which passes it unchanged: the generators write no
/// control character but the line feed (tests check that the script parses in its
/// shell and the page renders).
fn write_out(text: &[u8], diag: &mut Diag) -> u8 {
    let mut out = crate::term::stdout(false);
    let r = out.write_all(text).and_then(|()| out.flush());
    crate::finish(r, crate::OK, diag)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../fixtures")
            .join(name)
    }

    #[test]
    fn machine_names_are_containers_pods_and_nodes() {
        assert_eq!(
            machine_names(&fixture("docker"), OsStr::new("")),
            ["bob-web", "cache-redis"]
        );
        assert_eq!(
            machine_names(&fixture("lxc"), OsStr::new("")),
            ["alpine1", "web"]
        );
        assert_eq!(
            machine_names(&fixture("nspawn"), OsStr::new("")),
            ["deb1", "my-box", "qemu-1-vm1"]
        );
        // Pods by NAMESPACE/NAME and NAME; kind nodes by node name; filtered by prefix.
        let kind = fixture("kind-static-pods");
        assert_eq!(
            machine_names(&kind, OsStr::new("kind-")),
            ["kind-control-plane", "kind-worker"]
        );
        assert_eq!(
            machine_names(&kind, OsStr::new("kube-system/etcd")),
            ["kube-system/etcd-kind-control-plane"]
        );
        assert_eq!(
            machine_names(&kind, OsStr::new("etcd")),
            ["etcd-kind-control-plane"]
        );
        // No hierarchy: nothing, no error.
        assert!(machine_names(Path::new("/nonexistent"), OsStr::new("")).is_empty());
    }

    #[test]
    fn root_is_read_from_the_words_before_the_current_one() {
        let w = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            root_from_words(&w(&["cgtree", "--root", "a", "top", "/"])),
            Some(PathBuf::from("a"))
        );
        assert_eq!(
            root_from_words(&w(&["cgtree", "--root=b", "--root", "c", ""])),
            Some(PathBuf::from("c"))
        );
        // The word being completed is not a value yet; after `--`, no flags.
        assert_eq!(root_from_words(&w(&["cgtree", "--root"])), None);
        assert_eq!(
            root_from_words(&w(&["cgtree", "--", "--root", "x", ""])),
            None
        );
        assert_eq!(root_from_words(&[]), None);
    }

    #[test]
    fn cgroup_paths_list_one_directory_and_skip_control_characters() {
        let host = cgroup_core::Host::with_root(fixture("desktop"));
        let values = |cur: &str| -> Vec<String> {
            cgroup_paths_below(&host, OsStr::new(cur))
                .iter()
                .map(|c| c.get_value().to_string_lossy().into_owned())
                .collect()
        };
        assert_eq!(
            values("/"),
            ["/init.scope/", "/system.slice/", "/user.slice/"]
        );
        assert_eq!(values("/user.slice/u"), ["/user.slice/user-1000.slice/"]);
        assert_eq!(values("us"), ["user.slice/"]);
        assert!(values("/user.slice/../").is_empty());
        assert!(values("/nope/").is_empty());
        assert_eq!(offerable(b"ok.scope"), Some("ok.scope"));
        for bad in [&b"a\x1b[2J"[..], b"a\nb", b"a\x0bb", b"\xff", b""] {
            assert_eq!(offerable(bad), None, "{bad:?}");
        }
    }
}
