//! Applying a plan: atomic writes with backups, and commands through a [`Runner`].

use super::{Command, Context, FileChange, Plan};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Runs commands. Tests replace it; the CLI uses [`SystemRunner`].
pub trait Runner {
    /// Runs a plan's command; returns its exit status.
    fn run(&mut self, cmd: &Command) -> std::io::Result<i32>;
    /// Runs a read-only query (`crun --version`) and returns its stdout.
    fn query(&mut self, argv: &[String]) -> Option<String>;
}

/// Runs commands on this host (`runuser -u USER --` for a user's command).
#[derive(Debug, Default)]
pub struct SystemRunner;

impl Runner for SystemRunner {
    fn run(&mut self, cmd: &Command) -> std::io::Result<i32> {
        let mut argv: Vec<String> = Vec::new();
        if let Some(u) = &cmd.user {
            argv.extend(["runuser".into(), "-u".into(), u.clone(), "--".into()]);
        }
        argv.extend(cmd.argv.iter().cloned());
        let status = std::process::Command::new(&argv[0])
            .args(&argv[1..])
            .status()?;
        Ok(status.code().unwrap_or(-1))
    }

    fn query(&mut self, argv: &[String]) -> Option<String> {
        let out = std::process::Command::new(argv.first()?)
            .args(&argv[1..])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
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

/// `path` (as the host sees it) under `root`, with symlinks resolved inside the root, so
/// that a symlinked config file is edited in place at its target. `None` when a link
/// leads outside the root or loops.
pub fn resolve_in_root(root: &Path, path: &Path) -> Option<PathBuf> {
    let mut rel = normalize(path)?;
    for _ in 0..40 {
        let full = root.join(&rel);
        match fs::symlink_metadata(&full) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(&full).ok()?;
                let next = if target.is_absolute() {
                    target
                } else {
                    Path::new("/")
                        .join(rel.parent().unwrap_or(Path::new("")))
                        .join(target)
                };
                rel = normalize(&next)?;
            }
            _ => return Some(full),
        }
    }
    None
}

/// `/a/./b/../c` -> `a/c`; `None` when `..` climbs above the root.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Some(out)
}

fn backup_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut candidate = dir.join(format!("{name}.cgtree-backup"));
    let mut n = 1;
    while candidate.exists() {
        candidate = dir.join(format!("{name}.cgtree-backup.{n}"));
        n += 1;
    }
    candidate
}

fn write_file(cx: &Context<'_>, change: &FileChange) -> FileOutcome {
    let Some(target) = resolve_in_root(cx.host.root(), &change.path) else {
        return FileOutcome::Refused(format!(
            "{}: a symlink leads outside {}",
            change.path.display(),
            cx.host.root().display()
        ));
    };
    let current = fs::read(&target).ok();
    if current.as_deref() == Some(change.after.as_bytes()) {
        return FileOutcome::Unchanged;
    }
    if current
        .as_ref()
        .map(|c| String::from_utf8_lossy(c).into_owned())
        != change.before
    {
        return FileOutcome::Refused(format!(
            "{} changed since the plan was made; plan again",
            change.path.display()
        ));
    }
    let refuse = |what: &str, e: std::io::Error| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
            " (run as root)"
        } else {
            ""
        };
        FileOutcome::Refused(format!("cannot {what} {}: {e}{hint}", target.display()))
    };
    let Some(dir) = target.parent() else {
        return FileOutcome::Refused(format!("{}: no parent directory", target.display()));
    };
    // Create missing parents; in a user's home they belong to the user, like the file.
    let mut missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    missing.reverse();
    for d in missing {
        if let Err(e) = fs::create_dir(d) {
            return refuse("create the directory of", e);
        }
        if let Some((uid, gid)) = change.owner {
            let _ = std::os::unix::fs::chown(d, Some(uid), Some(gid));
        }
    }
    let old_meta = fs::metadata(&target).ok();
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.cgtree-tmp-{}", std::process::id()));
    let result = (|| -> std::io::Result<Option<PathBuf>> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        f.write_all(change.after.as_bytes())?;
        let mode = old_meta
            .as_ref()
            .map_or(0o644, |m| m.permissions().mode() & 0o7777);
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        let owner = old_meta
            .as_ref()
            .map(|m| (m.uid(), m.gid()))
            .or(change.owner);
        if let Some((uid, gid)) = owner {
            // Only root can give a file away; a file already ours needs nothing.
            if let Err(e) = std::os::unix::fs::fchown(&f, Some(uid), Some(gid)) {
                let mine = nix::unistd::geteuid().as_raw() == uid;
                if !mine {
                    return Err(e);
                }
            }
        }
        f.sync_all()?;
        drop(f);
        let backup = match &current {
            Some(_) => {
                let b = backup_path(&target);
                fs::copy(&target, &b)?;
                Some(b)
            }
            None => None,
        };
        fs::rename(&tmp, &target)?;
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(backup)
    })();
    match result {
        Ok(backup) => FileOutcome::Changed { backup },
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            refuse("write", e)
        }
    }
}

/// Applies `plans` (step id, plan): files first, then commands.
pub fn apply(cx: &mut Context<'_>, plans: &[(String, Plan)], opts: ApplyOptions) -> ApplyReport {
    let mut report = ApplyReport::default();
    for (id, plan) in plans {
        for change in &plan.changes {
            let outcome = if opts.write {
                write_file(cx, change)
            } else {
                match resolve_in_root(cx.host.root(), &change.path).and_then(|t| fs::read(t).ok()) {
                    Some(cur) if cur == change.after.as_bytes() => FileOutcome::Unchanged,
                    _ => FileOutcome::WouldChange,
                }
            };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_and_resolve() {
        assert_eq!(
            normalize(Path::new("/etc/./a/../wsl.conf")),
            Some(PathBuf::from("etc/wsl.conf"))
        );
        assert_eq!(normalize(Path::new("/../x")), None);
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("etc/real")).unwrap();
        fs::write(d.path().join("etc/real/wsl.conf"), "x").unwrap();
        std::os::unix::fs::symlink("/etc/real/wsl.conf", d.path().join("etc/wsl.conf")).unwrap();
        assert_eq!(
            resolve_in_root(d.path(), Path::new("/etc/wsl.conf")),
            Some(d.path().join("etc/real/wsl.conf"))
        );
        std::os::unix::fs::symlink("../../../../outside", d.path().join("etc/escape")).unwrap();
        assert_eq!(resolve_in_root(d.path(), Path::new("/etc/escape")), None);
        std::os::unix::fs::symlink("loop", d.path().join("etc/loop")).unwrap();
        assert_eq!(resolve_in_root(d.path(), Path::new("/etc/loop")), None);
    }
}
