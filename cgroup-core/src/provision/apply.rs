//! Applying a plan: files replaced atomically with exclusive backups (through
//! [`crate::fs::user`], with a user's own filesystem credentials in their home), and
//! commands through a [`Runner`].

use super::{Command, Context, FileChange, Plan};
use crate::fs::user::{self, FileError, Place, Replaced, Write};
use std::path::{Path, PathBuf};

/// Runs a plan's commands. Tests replace it; the CLI uses [`SystemRunner`]. Checks never
/// run anything: only [`apply`] with `run_commands` calls it.
pub trait Runner {
    /// Runs a plan's command; returns its exit status.
    fn run(&mut self, cmd: &Command) -> std::io::Result<i32>;
}

/// The only directories a command's program is taken from, and the `PATH` it gets.
pub const SAFE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Runs commands on this host: the program from [`SAFE_PATH`] only (a root-owned file
/// that only root can change), the environment cleared (`PATH`, `HOME`, `LANG` set),
/// stdin from `/dev/null`, working directory `/`. A user's command runs as that user
/// (UID, GID, no supplementary groups, their `HOME`, `USER`, `XDG_RUNTIME_DIR`): root
/// never runs a file a user controls.
#[derive(Debug, Default)]
pub struct SystemRunner;

/// The absolute path of `name` in [`SAFE_PATH`]: a regular file owned by root and not
/// writable by group or others (its links resolved). Names with `/` are refused.
pub fn system_program(name: &str) -> std::io::Result<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let refuse = |why: String| std::io::Error::new(std::io::ErrorKind::PermissionDenied, why);
    if name.is_empty() || name.contains('/') {
        return Err(refuse(format!(
            "{name:?}: only programs from {SAFE_PATH} are run"
        )));
    }
    for dir in SAFE_PATH.split(':') {
        let p = Path::new(dir).join(name);
        let Ok(m) = std::fs::metadata(&p) else {
            continue;
        };
        if !m.is_file() {
            continue;
        }
        if m.uid() != 0 || m.mode() & 0o022 != 0 {
            return Err(refuse(format!(
                "{}: not a root-owned program only root can change: not run",
                p.display()
            )));
        }
        return Ok(p);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::NotFound,
        format!("{name}: not found in {SAFE_PATH}"),
    ))
}

impl Runner for SystemRunner {
    fn run(&mut self, cmd: &Command) -> std::io::Result<i32> {
        use std::os::unix::process::CommandExt;
        let Some(first) = cmd.argv.first() else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "empty command",
            ));
        };
        let mut c = std::process::Command::new(system_program(first)?);
        c.args(&cmd.argv[1..])
            .env_clear()
            .env("PATH", SAFE_PATH)
            .env("LANG", "C.UTF-8")
            .current_dir("/")
            .stdin(std::process::Stdio::null());
        match &cmd.user {
            Some(name) => {
                let u = nix::unistd::User::from_name(name)
                    .map_err(std::io::Error::from)?
                    .ok_or_else(|| {
                        std::io::Error::new(std::io::ErrorKind::NotFound, format!("no user {name}"))
                    })?;
                // std drops the supplementary groups when root sets a UID.
                c.uid(u.uid.as_raw())
                    .gid(u.gid.as_raw())
                    .env("HOME", &u.dir)
                    .env("USER", name)
                    .env("LOGNAME", name)
                    .env("XDG_RUNTIME_DIR", format!("/run/user/{}", u.uid));
            }
            None => {
                c.env("HOME", "/root");
            }
        }
        let status = c.status()?;
        Ok(status.code().unwrap_or(-1))
    }
}

/// How to apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    /// Write the files (without it: a dry run that changes no byte).
    pub write: bool,
    /// Run the plan's commands (live host only).
    pub run_commands: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOutcome {
    /// Written; the old content (if any) is in `backup`.
    Changed {
        /// The backup of the old file.
        backup: Option<PathBuf>,
    },
    /// Already as planned: nothing written.
    Unchanged,
    /// Dry run: would be written.
    WouldChange,
    /// Not written, and why.
    Refused(String),
}

/// What happened to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandOutcome {
    /// Ran, with this exit status.
    Ran(i32),
    /// Not run, and why.
    Skipped(String),
    /// Could not be started.
    Failed(String),
}

/// The result of [`apply`].
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    /// Per step, per file: (path as the host sees it, outcome).
    pub files: Vec<(String, PathBuf, FileOutcome)>,
    /// Per step, per command.
    pub commands: Vec<(String, Command, CommandOutcome)>,
}

impl ApplyReport {
    /// Whether any file was written.
    pub fn changed(&self) -> bool {
        self.files
            .iter()
            .any(|(_, _, o)| matches!(o, FileOutcome::Changed { .. }))
    }

    /// Whether anything was refused or failed.
    pub fn failed(&self) -> bool {
        self.files
            .iter()
            .any(|(_, _, o)| matches!(o, FileOutcome::Refused(_)))
            || self
                .commands
                .iter()
                .any(|(_, _, o)| matches!(o, CommandOutcome::Failed(_) | CommandOutcome::Ran(1..)))
    }
}

fn write_file(cx: &Context<'_>, change: &FileChange, dry_run: bool) -> FileOutcome {
    let place = cx.place_of(&change.path);
    let w = Write {
        expect: change.before.as_deref().map(str::as_bytes),
        content: change.after.as_bytes(),
        new_mode: 0o644,
        // A user's file never lends its mode: no exec, setuid or group-write bit.
        keep_mask: if matches!(place, Place::User { .. }) {
            0o644
        } else {
            0o777
        },
        owner: change.owner,
        dry_run,
    };
    match user::replace(cx.host.root(), &change.path, &place, &w) {
        Ok(Replaced::Unchanged) => FileOutcome::Unchanged,
        Ok(Replaced::WouldWrite) => FileOutcome::WouldChange,
        Ok(Replaced::Written(backup)) => FileOutcome::Changed {
            backup: backup.map(|b| cx.host.path(b)),
        },
        Err(FileError::Changed) => FileOutcome::Refused(format!(
            "{} changed since the plan was made; plan again",
            change.path.display()
        )),
        Err(e) => {
            let denied = matches!(
                e,
                FileError::Errno(nix::errno::Errno::EACCES | nix::errno::Errno::EPERM)
            );
            let hint = if denied && !nix::unistd::geteuid().is_root() {
                " (run as root)"
            } else {
                ""
            };
            FileOutcome::Refused(format!("cannot write {}: {e}{hint}", change.path.display()))
        }
    }
}

/// Applies `plans` (step id, plan): files first, then commands.
pub fn apply(cx: &mut Context<'_>, plans: &[(String, Plan)], opts: ApplyOptions) -> ApplyReport {
    let mut report = ApplyReport::default();
    for (id, plan) in plans {
        for change in &plan.changes {
            let outcome = write_file(cx, change, !opts.write);
            report
                .files
                .push((id.clone(), change.path.clone(), outcome));
        }
    }
    for (id, plan) in plans {
        for cmd in &plan.commands {
            let outcome = if !opts.run_commands {
                CommandOutcome::Skipped("give --run-commands to run it".into())
            } else if !cx.host.is_live() {
                CommandOutcome::Skipped(format!(
                    "{} is not the live host",
                    cx.host.root().display()
                ))
            } else if !opts.write {
                CommandOutcome::Skipped("dry run: give --yes".into())
            } else {
                match cx.runner.as_mut() {
                    Some(r) => match r.run(cmd) {
                        Ok(code) => CommandOutcome::Ran(code),
                        Err(e) => CommandOutcome::Failed(e.to_string()),
                    },
                    None => CommandOutcome::Skipped("no runner".into()),
                }
            };
            report.commands.push((id.clone(), cmd.clone(), outcome));
        }
    }
    report
}
