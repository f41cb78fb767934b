//! `cgtree completions SHELL` and `cgtree man [SUBCOMMAND...]`: shell completion scripts
//! (clap_complete) and manual pages (clap_mangen), both generated from the flags in
//! [`crate::cli`], so that they cannot drift from what the program parses.
//!
//! Completion is static: subcommands, flags and the values clap knows (`--color`,
//! `--order`, `--format`, ...). Cgroup paths and container or pod names are not
//! completed: clap_complete offers completion computed at run time only behind its
//! `unstable-dynamic` feature, outside its stable API.

use crate::cli::Args;
use crate::term::Diag;
use clap::CommandFactory;
use std::io::Write;

/// The program's name in scripts and pages (the binary's name, not `argv[0]`).
const BIN: &str = "cgtree";

/// The command-line definition as the generators read it: built, with no `help`
/// subcommand (it has no flags and no page of its own; `--help` stays).
fn command() -> clap::Command {
    let mut cmd = Args::command().bin_name(BIN).disable_help_subcommand(true);
    cmd.build();
    cmd
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
