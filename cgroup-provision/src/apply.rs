//! Applying a plan: files replaced atomically with exclusive backups (through
//! `cgroup_core::files`, with a user's own filesystem credentials in their home), and
//! commands through a [`Runner`].

use super::{Command, Context, FileChange, Plan};
use cgroup_core::files::{self as user, FileError, Place, Replaced, Write};
use std::path::{Path, PathBuf};

/// Runs a plan's commands. Tests replace it; the CLI uses [`SystemRunner`]. Checks never
/// run anything: only [`apply`] with `run_commands` calls it.
pub trait Runner {
    /// Runs a plan's command; returns its exit status.
    /// # Errors
    /// The command could not be started (not found, not executable) or waited for.
    fn run(&mut self, cmd: &Command) -> std::io::Result<Finished>;
}

/// What a command that ran did.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    /// Its exit status (-1: killed by a signal, or by the timeout).
    pub code: i32,
    /// What it wrote on stdout and stderr (interleaved as read), its last
    /// [`MAX_COMMAND_OUTPUT`] bytes: untrusted bytes, for the renderer to escape.
    pub output: Vec<u8>,
    /// It ran past its timeout ([`COMMAND_TIMEOUT`] by default) and was killed, with its
    /// whole process group.
    pub timed_out: bool,
}

/// How long a command may run before it is killed (a download, an install).
pub const COMMAND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// How much of a command's output is kept (its end).
pub const MAX_COMMAND_OUTPUT: usize = 64 << 10;

/// `PATH` of a command run as a user (with the user's rights): root's [`SAFE_PATH`]
/// directories first, then `/usr/local`, where the guide installs kind.
pub const USER_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin:/usr/local/sbin:/usr/local/bin";

/// The only directories a command's program is taken from, and the `PATH` root's
/// commands get.
pub const SAFE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Runs commands on this host: the program from [`SAFE_PATH`] only (a root-owned file
/// that only root can change), the environment cleared (`PATH`, `HOME`, `LANG` set),
/// stdin from `/dev/null`, working directory `/`, in a session of its own (`setsid`: no
/// controlling terminal, so nothing it starts can reach the caller's terminal, e.g.
/// with `TIOCSTI`), stdout and stderr captured ([`Finished::output`], bounded), killed
/// with its session after [`COMMAND_TIMEOUT`]. A user's command runs as that user (UID,
/// GID, no supplementary groups, their `HOME`, `USER`, `XDG_RUNTIME_DIR`, [`USER_PATH`]):
/// root never runs a file a user controls.
#[derive(Debug)]
pub struct SystemRunner {
    /// How long a command may run ([`COMMAND_TIMEOUT`] by default).
    pub timeout: std::time::Duration,
}

impl Default for SystemRunner {
    fn default() -> Self {
        SystemRunner {
            timeout: COMMAND_TIMEOUT,
        }
    }
}

/// The absolute path of `name` in [`SAFE_PATH`]: a regular file owned by root and not
/// writable by group or others (its links resolved). Names with `/` are refused.
/// # Errors
/// `NotFound` when no system directory holds an executable `name`.
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
    fn run(&mut self, cmd: &Command) -> std::io::Result<Finished> {
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
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
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
                    .env("PATH", USER_PATH)
                    .env("HOME", &u.dir)
                    .env("USER", name)
                    .env("LOGNAME", name)
                    .env("XDG_RUNTIME_DIR", format!("/run/user/{}", u.uid));
            }
            None => {
                c.env("HOME", "/root");
            }
        }
        new_session(&mut c);
        let mut child = c.spawn()?;
        let pid = child.id();
        // Both pipes into one bounded buffer, each on its own thread (a full pipe must
        // never stall the command or us).
        let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let readers: Vec<_> = [
            child
                .stdout
                .take()
                .map(|r| Box::new(r) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|r| Box::new(r) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        .map(|mut r| {
            let out = std::sync::Arc::clone(&output);
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let Ok(mut o) = out.lock() else { break };
                    o.extend_from_slice(&buf[..n]);
                    if o.len() > 2 * MAX_COMMAND_OUTPUT {
                        let cut = o.len() - MAX_COMMAND_OUTPUT;
                        o.drain(..cut);
                    }
                }
            })
        })
        .collect();
        let deadline = std::time::Instant::now() + self.timeout;
        let mut timed_out = false;
        let status = loop {
            if let Some(st) = child.try_wait()? {
                break st;
            }
            if std::time::Instant::now() >= deadline {
                timed_out = true;
                // The command leads its own session and process group: kill them all.
                if let Ok(pgid) = i32::try_from(pid) {
                    let _ = nix::sys::signal::killpg(
                        nix::unistd::Pid::from_raw(pgid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.kill();
                break child.wait()?;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        for r in readers {
            let _ = r.join();
        }
        let mut output = std::mem::take(&mut *output.lock().unwrap_or_else(|e| e.into_inner()));
        if output.len() > MAX_COMMAND_OUTPUT {
            output.drain(..output.len() - MAX_COMMAND_OUTPUT);
        }
        Ok(Finished {
            code: status.code().unwrap_or(-1),
            output,
            timed_out,
        })
    }
}

/// Makes the command the leader of a new session (`setsid(2)` between fork and exec): it
/// has no controlling terminal, and its process group is its own.
#[allow(unsafe_code)]
fn new_session(c: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // setsid(2), which is async-signal-safe; it touches no memory of the parent.
    unsafe {
        c.pre_exec(|| {
            nix::unistd::setsid()
                .map(drop)
                .map_err(std::io::Error::from)
        });
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
    /// Ran: its exit status, output and whether it timed out.
    Ran(Finished),
    /// Not run, and why.
    Skipped(String),
    /// Could not be started.
    Failed(String),
}

/// The result of [`apply`].
#[non_exhaustive]
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
            || self.commands.iter().any(|(_, _, o)| {
                matches!(o, CommandOutcome::Failed(_))
                    || matches!(o, CommandOutcome::Ran(f) if f.code != 0 || f.timed_out)
            })
    }
}

fn write_file(cx: &Context<'_>, change: &FileChange, dry_run: bool) -> FileOutcome {
    let place = cx.place_of(&change.path);
    let mut w = Write::new(
        change.before.as_deref().map(str::as_bytes),
        change.after.as_bytes(),
    );
    // A user's file never lends its mode: no exec, setuid or group-write bit.
    if matches!(place, Place::User { .. }) {
        w.keep_mask = 0o644;
    }
    w.owner = change.owner;
    w.dry_run = dry_run;
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
                FileError::Os(e) if e == nix::errno::Errno::EACCES as i32
                    || e == nix::errno::Errno::EPERM as i32
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
                        Ok(done) => CommandOutcome::Ran(done),
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
