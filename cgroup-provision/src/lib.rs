//! `cgroup_provision` (`cgtree provision`): the guide's setup ("Kind with Podman rootless mode on WSL2") as steps
//! that check the real, effective state, plan exact edits, and apply them safely.
//!
//! Each [`Step`] has an id, a title, the guide's references, [`Step::check`] (read-only:
//! the status with its evidence, a file and line or the state read from `/proc` and
//! cgroupfs) and [`Step::plan`] (file changes as exact before/after bytes, and commands).
//! [`apply()`] writes the changes atomically with backups and runs commands only when
//! asked, through a [`Runner`]; on a host root other than `/` nothing is ever executed.
//!
//! # Security
//! cgtree runs as root; a user's home is the user's. Checks and plans execute nothing
//! (a user's `~/.local/bin/crun` is looked at, never run). Every file is read through
//! the one bounded reader of `cgroup_core::files` (regular files only, size-limited,
//! never blocking on a FIFO). In a user's home (and a Windows profile under
//! `/mnt/c/Users`), no symlink is followed at any component and, on the live host, the
//! reads and writes are done with that user's filesystem credentials; backups are
//! created exclusively; a user's file mode is never copied. What `--run-commands`
//! downloads comes over https into a private directory (`mktemp -d`) and is checked
//! against a sha256 before use; a file for the user's home is installed by the user.
//!
//! Where the guide is wrong, the steps are right: config files are edited key by key,
//! never overwritten; podman's keys go in their tables (`log_driver` in `[containers]`,
//! `events_logger` and `cgroup_manager` in `[engine]`); the kernel command line goes in
//! the Windows-side `.wslconfig`, which WSL reads (not `/etc/wsl.conf`); the crun
//! download names an explicit version.

#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]

pub mod apply;
pub mod edit;
mod steps;

pub use apply::{
    apply, ApplyOptions, ApplyReport, CommandOutcome, FileOutcome, Finished, Runner, SystemRunner,
};

pub use cgroup_core::files::Place;
use cgroup_core::files::{self as user, FileError, MAX_CONFIG_FILE};
use cgroup_core::Host;
use edit::{
    ini_add_tokens, ini_commented, ini_get, ini_set, toml_comment_out_top, toml_get, toml_set,
    toml_str_is,
};
use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum Status {
    /// Configured and in effect.
    Ok,
    /// Not configured.
    Missing,
    /// Partly configured, or configured wrongly.
    Partial,
    /// Configured; the effect needs a restart, a remount, a login or a command.
    Pending,
    /// Does not apply to this host (e.g. WSL steps elsewhere).
    NotApplicable,
    /// Cannot be told from here.
    Unknown,
}

/// What a check found.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Check {
    /// The status.
    pub status: Status,
    /// Evidence: file and line, or effective state.
    pub evidence: Vec<String>,
    /// What to do about it.
    pub fix: Option<String>,
}

/// One file to change: its exact content before and after.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FileChange {
    /// The path as the host sees it (`/etc/wsl.conf`).
    pub path: PathBuf,
    /// Current content (`None`: the file does not exist).
    pub before: Option<String>,
    /// Content after the change.
    pub after: String,
    /// Owner for a new file (a user's own config), else root or the existing owner.
    pub owner: Option<(u32, u32)>,
}

/// A command the plan runs (only with `--run-commands`, only on the live host).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Command {
    /// Arguments.
    pub argv: Vec<String>,
    /// Run as this user (its UID and GID, no supplementary groups, a clean environment;
    /// shown as `runuser -u USER --`, which does the same by hand), else as the caller.
    pub user: Option<String>,
    /// Why.
    pub why: String,
}

impl Command {
    /// `argv`, run as the caller, for the reason `why`.
    pub fn new(argv: Vec<String>, why: impl Into<String>) -> Self {
        Command {
            argv,
            user: None,
            why: why.into(),
        }
    }

    /// The same command, run as `user` (see [`Command::user`]).
    #[must_use]
    pub fn as_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }
}

/// What a step would do.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Plan {
    /// File changes (none when the files are already right).
    pub changes: Vec<FileChange>,
    /// Commands.
    pub commands: Vec<Command>,
    /// Things to do by hand (outside this host, e.g. `wsl --shutdown` on Windows).
    pub notes: Vec<String>,
}

/// The user whose slice, home and `containers.conf` the steps are about.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Login name.
    pub name: String,
    /// UID.
    pub uid: u32,
    /// GID.
    pub gid: u32,
    /// Home directory as the host sees it.
    pub home: PathBuf,
}

impl User {
    /// A user by login name, UID, GID and home directory (as `passwd` gives them;
    /// [`find_user`] reads them from the host's).
    pub fn new(name: impl Into<String>, uid: u32, gid: u32, home: impl Into<PathBuf>) -> Self {
        User {
            name: name.into(),
            uid,
            gid,
            home: home.into(),
        }
    }
}

/// Everything a step looks at.
pub struct Context<'a> {
    /// The host (root `/` or a fixture).
    pub host: Host,
    /// The user (rootless podman, kind).
    pub user: Option<User>,
    /// crun version to download, when given.
    pub crun_version: Option<String>,
    /// sha256 (64 hex digits) of the crun release binary; without it, nothing is
    /// downloaded (cgtree pins no checksum for crun releases).
    pub crun_sha256: Option<String>,
    /// sha256 (64 hex digits) of the CNI plugins 1.1.1 package; without it, nothing is
    /// downloaded.
    pub cni_sha256: Option<String>,
    /// PID whose cgroup is "the caller's" (live: cgtree's parent shell); `None`: use
    /// `proc/self` under the root.
    pub caller_pid: Option<u32>,
    /// Runs the plan's commands in [`apply()`] on the live host (checks run nothing).
    pub runner: Option<&'a mut dyn Runner>,
}

/// Largest host file read (`/var/lib/dpkg/status` of a big install, `/etc/passwd`).
pub const MAX_HOST_FILE: u64 = 32 << 20;

fn read(host: &Host, rel: &Path) -> Option<String> {
    let buf = user::read_host_file(host.root(), rel, MAX_HOST_FILE).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

fn rel(p: &Path) -> &Path {
    p.strip_prefix("/").unwrap_or(p)
}

impl<'a> Context<'a> {
    /// A context for `host` and `user`.
    pub fn new(host: Host, user: Option<User>) -> Context<'a> {
        Context {
            host,
            user,
            crun_version: None,
            crun_sha256: None,
            cni_sha256: None,
            caller_pid: None,
            runner: None,
        }
    }

    fn file(&self, path: &str) -> Option<String> {
        read(&self.host, rel(Path::new(path)))
    }

    /// Where `path` (as the host sees it) is, and so how it is reached: below the
    /// user's home or a Windows profile (`/mnt/c/Users/<name>`), a user's place (no
    /// links; on the live host as root, with the owner's filesystem credentials); else
    /// one of root's own files.
    pub fn place_of(&self, path: &Path) -> Place {
        let as_root = self.host.is_live() && nix::unistd::geteuid().is_root();
        if let Some(u) = &self.user {
            if u.home.is_absolute() && u.home != Path::new("/") && path.starts_with(&u.home) {
                return Place::User {
                    dir: u.home.clone(),
                    creds: (as_root && u.uid != 0).then_some((u.uid, u.gid)),
                };
            }
        }
        if let Ok(rest) = path.strip_prefix("/mnt/c/Users") {
            if let Some(Component::Normal(n)) = rest.components().next() {
                let dir = Path::new("/mnt/c/Users").join(n);
                let creds = if as_root {
                    user::host_dir_owner(self.host.root(), &dir)
                        .ok()
                        .filter(|(uid, _)| *uid != 0)
                } else {
                    None
                };
                return Place::User { dir, creds };
            }
        }
        Place::System
    }

    /// A configuration file, read by the rules of its place, at most
    /// [`MAX_CONFIG_FILE`] bytes (invalid UTF-8 replaced).
    fn config(&self, path: &Path) -> Result<String, FileError> {
        let place = self.place_of(path);
        user::read(self.host.root(), path, &place, MAX_CONFIG_FILE)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    fn exists(&self, path: &Path) -> bool {
        user::exists(self.host.root(), path, &self.place_of(path))
    }

    /// Whether the host is WSL (kernel release names Microsoft/WSL).
    pub fn is_wsl(&self) -> bool {
        let r = self
            .file("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .to_lowercase();
        let v = self
            .file("/proc/version")
            .unwrap_or_default()
            .to_lowercase();
        r.contains("microsoft") || r.contains("wsl") || v.contains("microsoft")
    }

    fn mountinfo(&self) -> String {
        self.file("/proc/self/mountinfo").unwrap_or_default()
    }

    fn dpkg_version(&self, package: &str) -> Option<String> {
        let status = self.file("/var/lib/dpkg/status")?;
        let mut found = false;
        for line in status.lines() {
            if let Some(p) = line.strip_prefix("Package: ") {
                found = p.trim() == package;
            } else if found {
                if let Some(v) = line.strip_prefix("Version: ") {
                    return Some(v.trim().to_string());
                }
            }
        }
        None
    }

    fn find_binary(&self, name: &str) -> Option<PathBuf> {
        let mut dirs = vec![
            PathBuf::from("/usr/local/bin"),
            PathBuf::from("/usr/bin"),
            PathBuf::from("/bin"),
        ];
        if let Some(u) = &self.user {
            dirs.push(u.home.join(".local/bin"));
            dirs.push(u.home.join("go/bin"));
        }
        dirs.into_iter()
            .map(|d| d.join(name))
            .find(|p| self.exists(p))
    }

    /// The cgroup2 mount point as the host sees it, if any.
    fn cgroup2(&self) -> Option<cgroup_core::CgroupMount> {
        self.host.find_cgroup2().ok()
    }

    fn controllers_of(&self, cgroup: &str) -> Option<Vec<String>> {
        let m = self.cgroup2()?;
        let rel = Path::new(cgroup.trim_start_matches('/')).join("cgroup.controllers");
        let text = user::read_beneath(&m.dir, &rel, MAX_CONFIG_FILE).ok()?;
        Some(
            String::from_utf8_lossy(&text)
                .split_whitespace()
                .map(str::to_string)
                .collect(),
        )
    }
}

/// Versions compare numerically, part by part (`1.1.1+ds1-3` >= `1.1.1`).
pub fn version_at_least(v: &str, min: &str) -> bool {
    let nums = |s: &str| -> Vec<u64> {
        let s = s.split(':').next_back().unwrap_or(s);
        s.split(['.', '+', '-', '~'])
            .map_while(|p| {
                p.chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .ok()
            })
            .collect()
    };
    let (a, b) = (nums(v), nums(min));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x > y;
        }
    }
    true
}

/// A key a step wants in a config file.
#[derive(Debug, Clone)]
enum Want {
    /// INI `[section] key=value` (`value` compared by `ok`).
    Ini {
        section: &'static str,
        key: &'static str,
        value: String,
        ok: fn(&str, &str) -> bool,
    },
    /// INI value that must hold these space-separated tokens.
    Tokens {
        section: &'static str,
        key: &'static str,
        tokens: &'static [&'static str],
    },
    /// TOML string key in a table.
    TomlStr {
        table: &'static [&'static str],
        key: &'static str,
        value: &'static str,
    },
    /// TOML string array.
    TomlArr {
        table: &'static [&'static str],
        key: &'static str,
        value: Vec<String>,
    },
    /// A TOML key that must not be at the top level (it belongs in a table).
    TomlNotTop {
        key: &'static str,
        belongs: &'static str,
    },
    /// A line (`fstab`): `matches` finds an existing line for the same thing.
    Line {
        line: String,
        matches: fn(&str) -> bool,
        good: fn(&str) -> bool,
    },
}

fn eq(a: &str, b: &str) -> bool {
    a == b
}

fn truthy(a: &str, _: &str) -> bool {
    matches!(a.to_ascii_lowercase().as_str(), "true" | "yes" | "1" | "on")
}

/// A config file and the keys wanted in it.
#[derive(Debug, Clone)]
struct FileWant {
    path: PathBuf,
    wants: Vec<Want>,
    owner: Option<(u32, u32)>,
}

/// At most 160 characters of a value from a file, for evidence (`...` when cut).
fn clip(s: &str) -> String {
    match s.char_indices().nth(160) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// (satisfied, evidence lines) for each want.
fn evaluate(cx: &Context<'_>, fw: &FileWant) -> Vec<(bool, String)> {
    let shown = fw.path.display();
    let text = match cx.config(&fw.path) {
        Ok(t) => t,
        Err(e) => {
            let why = if e.is_absent() {
                format!("{shown} does not exist")
            } else {
                format!("{shown}: cannot be read: {e}")
            };
            return fw.wants.iter().map(|_| (false, why.clone())).collect();
        }
    };
    let toml: Option<toml_edit::DocumentMut> = if fw.wants.iter().any(|w| {
        matches!(
            w,
            Want::TomlStr { .. } | Want::TomlArr { .. } | Want::TomlNotTop { .. }
        )
    }) {
        match text.parse() {
            Ok(d) => Some(d),
            Err(e) => {
                let msg = format!(
                    "{shown}: not valid TOML: {}",
                    e.to_string().lines().next().unwrap_or("")
                );
                return fw.wants.iter().map(|_| (false, msg.clone())).collect();
            }
        }
    } else {
        None
    };
    fw.wants
        .iter()
        .map(|w| match w {
            Want::Ini {
                section,
                key,
                value,
                ok,
            } => match ini_get(&text, section, key) {
                Some(h) if ok(&h.value, value) => (
                    true,
                    format!("{shown}:{}: [{section}] {key}={}", h.line, clip(&h.value)),
                ),
                Some(h) => (
                    false,
                    format!(
                        "{shown}:{}: [{section}] {key}={} (want {value})",
                        h.line,
                        clip(&h.value)
                    ),
                ),
                None => match ini_commented(&text, section, key) {
                    Some(l) => (
                        false,
                        format!("{shown}:{l}: [{section}] {key} is commented out"),
                    ),
                    None => (false, format!("{shown}: no {key} in [{section}]")),
                },
            },
            Want::Tokens {
                section,
                key,
                tokens,
            } => match ini_get(&text, section, key) {
                Some(h) => {
                    let missing: Vec<&str> = tokens
                        .iter()
                        .copied()
                        .filter(|t| !h.value.split_whitespace().any(|w| w == *t))
                        .collect();
                    if missing.is_empty() {
                        (
                            true,
                            format!(
                                "{shown}:{}: [{section}] {key} has {}",
                                h.line,
                                tokens.join(" ")
                            ),
                        )
                    } else {
                        (
                            false,
                            format!(
                                "{shown}:{}: [{section}] {key} lacks {}",
                                h.line,
                                missing.join(" ")
                            ),
                        )
                    }
                }
                None => (false, format!("{shown}: no {key} in [{section}]")),
            },
            Want::TomlStr { table, key, value } => {
                let doc = toml.as_ref();
                let item = doc.and_then(|d| toml_get(d, table, key));
                let t = table.join(".");
                if toml_str_is(item.as_ref(), value) {
                    (true, format!("{shown}: [{t}] {key} = \"{value}\""))
                } else if let Some(i) = item {
                    (
                        false,
                        format!(
                            "{shown}: [{t}] {key} = {} (want \"{value}\")",
                            clip(i.to_string().trim())
                        ),
                    )
                } else {
                    (false, format!("{shown}: no {key} in [{t}]"))
                }
            }
            Want::TomlArr { table, key, value } => {
                let item = toml.as_ref().and_then(|d| toml_get(d, table, key));
                let got: Option<Vec<String>> = item.as_ref().and_then(|i| i.as_array()).map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                });
                let t = table.join(".");
                match got {
                    Some(g) if g.first() == value.first() => (
                        true,
                        format!("{shown}: [{t}] {key} = {}", clip(&format!("{g:?}"))),
                    ),
                    Some(g) => (
                        false,
                        format!(
                            "{shown}: [{t}] {key} = {} (want {value:?} first)",
                            clip(&format!("{g:?}"))
                        ),
                    ),
                    None => (false, format!("{shown}: no {key} in [{t}]")),
                }
            }
            Want::TomlNotTop { key, belongs } => {
                if toml.as_ref().and_then(|d| toml_get(d, &[], key)).is_some() {
                    (
                        false,
                        format!(
                            "{shown}: {key} at the top level is ignored by podman: \
                         it belongs in [{belongs}]"
                        ),
                    )
                } else {
                    (true, String::new())
                }
            }
            Want::Line {
                line,
                matches,
                good,
            } => {
                match text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| !l.trim_start().starts_with('#'))
                    .find(|(_, l)| matches(l))
                {
                    Some((i, l)) if good(l) => {
                        (true, format!("{shown}:{}: {}", i + 1, clip(l.trim())))
                    }
                    Some((i, l)) => (
                        false,
                        format!("{shown}:{}: {} (want {line})", i + 1, clip(l.trim())),
                    ),
                    None => (false, format!("{shown}: no line `{line}`")),
                }
            }
        })
        .collect()
}

/// The file's content after every want is applied.
fn edited(cx: &Context<'_>, fw: &FileWant) -> Result<(Option<String>, String), String> {
    // A file that exists but cannot be read is planned as new: apply then refuses it
    // (it never writes over what it did not read), and the plan says why.
    let before = cx.config(&fw.path).ok();
    let mut text = before.clone().unwrap_or_default();
    let is_toml = |w: &Want| {
        matches!(
            w,
            Want::TomlStr { .. } | Want::TomlArr { .. } | Want::TomlNotTop { .. }
        )
    };
    if fw.wants.iter().any(is_toml) {
        // Misplaced top-level keys are commented out as text first (keeping their
        // comments), then the keys are set in their tables.
        for w in &fw.wants {
            if let Want::TomlNotTop { key, belongs } = w {
                text = toml_comment_out_top(
                    &text,
                    key,
                    &format!("cgtree: {key} belongs in [{belongs}]"),
                )
                .0;
            }
        }
        let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            format!(
                "{}: not valid TOML, not edited: {}",
                fw.path.display(),
                e.to_string().lines().next().unwrap_or("")
            )
        })?;
        for w in &fw.wants {
            match w {
                Want::TomlStr { table, key, value }
                    if !toml_str_is(toml_get(&doc, table, key).as_ref(), value) =>
                {
                    toml_set(&mut doc, table, key, (*value).into());
                }
                Want::TomlArr { table, key, value } => {
                    let have = toml_get(&doc, table, key);
                    let first = have
                        .as_ref()
                        .and_then(|i| i.as_array())
                        .and_then(|a| a.get(0))
                        .and_then(|v| v.as_str())
                        .map(str::to_string);
                    if first.as_ref() != value.first() {
                        let arr: toml_edit::Array = value.iter().map(String::as_str).collect();
                        toml_set(&mut doc, table, key, toml_edit::Value::Array(arr));
                    }
                }
                _ => {}
            }
        }
        return Ok((before, doc.to_string()));
    }
    for w in &fw.wants {
        match w {
            Want::Ini {
                section,
                key,
                value,
                ok,
            } if !ini_get(&text, section, key).is_some_and(|h| ok(&h.value, value)) => {
                text = ini_set(&text, section, key, value);
            }
            Want::Tokens {
                section,
                key,
                tokens,
            } => text = ini_add_tokens(&text, section, key, tokens),
            Want::Line {
                line,
                matches,
                good,
            } => {
                let mut replaced = false;
                let mut out = String::new();
                for l in text.split_inclusive('\n') {
                    if !replaced && !l.trim_start().starts_with('#') && matches(l) {
                        replaced = true;
                        if good(l) {
                            out.push_str(l);
                        } else {
                            out.push_str(line);
                            out.push('\n');
                        }
                    } else {
                        out.push_str(l);
                    }
                }
                if !replaced {
                    if !out.is_empty() && !out.ends_with('\n') {
                        out.push('\n');
                    }
                    out.push_str(line);
                    out.push('\n');
                }
                text = out;
            }
            _ => {}
        }
    }
    Ok((before, text))
}

fn plan_files(cx: &Context<'_>, files: &[FileWant]) -> Plan {
    let mut plan = Plan::default();
    for fw in files {
        if let Err(e) = cx.config(&fw.path) {
            if !e.is_absent() {
                plan.notes.push(format!(
                    "{}: cannot be read: {e}; apply refuses to replace it",
                    fw.path.display()
                ));
            }
        }
        match edited(cx, fw) {
            Ok((before, after)) => {
                if before.as_deref() != Some(after.as_str()) {
                    plan.changes.push(FileChange {
                        path: fw.path.clone(),
                        before,
                        after,
                        owner: fw.owner,
                    });
                }
            }
            Err(e) => plan.notes.push(e),
        }
    }
    plan
}

/// Combines file evaluation with the effective state into a [`Check`].
fn judge(
    cx: &Context<'_>,
    files: &[FileWant],
    effective: Option<(bool, String)>,
    pending: &str,
    fix: &str,
) -> Check {
    let mut evidence = Vec::new();
    let (mut good, mut total) = (0, 0);
    for fw in files {
        for (ok, e) in evaluate(cx, fw) {
            total += 1;
            if ok {
                good += 1;
            }
            if !e.is_empty() {
                evidence.push(e);
            }
        }
    }
    evidence.dedup();
    let configured = good == total;
    let (eff_ok, eff_text) = match effective {
        Some((ok, t)) => (Some(ok), Some(t)),
        None => (None, None),
    };
    if let Some(t) = eff_text {
        evidence.push(t);
    }
    let status = match (configured, eff_ok) {
        (true, Some(true) | None) => Status::Ok,
        (true, Some(false)) if total > 0 => Status::Pending,
        (_, Some(true)) if total == 0 => Status::Ok,
        (false, Some(true)) => Status::Partial,
        _ if good > 0 => Status::Partial,
        _ => Status::Missing,
    };
    let fix = match status {
        Status::Ok | Status::NotApplicable => None,
        Status::Pending => Some(pending.to_string()),
        _ => Some(fix.to_string()),
    };
    Check {
        status,
        evidence,
        fix,
    }
}

/// One step of the guide.
#[non_exhaustive]
pub struct Step {
    /// Stable id (`user-delegate`).
    pub id: &'static str,
    /// What it sets up.
    pub title: &'static str,
    /// The guide's references.
    pub refs: &'static [&'static str],
    check: fn(&mut Context<'_>) -> Check,
    plan: fn(&Context<'_>) -> Plan,
}

impl Step {
    /// Reads the state (never writes).
    pub fn check(&self, cx: &mut Context<'_>) -> Check {
        (self.check)(cx)
    }

    /// The changes and commands that would make it ok.
    pub fn plan(&self, cx: &Context<'_>) -> Plan {
        (self.plan)(cx)
    }
}

fn na(why: &str) -> Check {
    Check {
        status: Status::NotApplicable,
        evidence: vec![why.to_string()],
        fix: None,
    }
}

/// Whether `cgroup` has every controller in `want` (`cgroup.controllers`), with the
/// evidence; `None` when there is no cgroup2 mount or the file cannot be read.
fn controllers_have(cx: &Context<'_>, cgroup: &str, want: &[&str]) -> Option<(bool, String)> {
    let m = cx.cgroup2()?;
    if !user::is_dir_beneath(&m.dir, Path::new(cgroup.trim_start_matches('/'))) {
        return Some((
            false,
            format!("cgroup {cgroup} does not exist (no session of that user under systemd)"),
        ));
    }
    let have = cx.controllers_of(cgroup)?;
    let missing: Vec<&str> = want
        .iter()
        .copied()
        .filter(|w| !have.iter().any(|h| h == w))
        .collect();
    Some(if missing.is_empty() {
        (true, format!("{cgroup} has {}", want.join(" ")))
    } else {
        (
            false,
            format!(
                "{cgroup} has controllers `{}`, lacking {}",
                have.join(" "),
                missing.join(" ")
            ),
        )
    })
}

fn daemon_reload() -> Command {
    Command {
        argv: vec!["systemctl".into(), "daemon-reload".into()],
        user: None,
        why: "make systemd read the changed unit files".into(),
    }
}

fn with_files(
    cx: &Context<'_>,
    files: &[FileWant],
    commands: Vec<Command>,
    notes: Vec<String>,
) -> Plan {
    let mut p = plan_files(cx, files);
    if !p.changes.is_empty() {
        p.commands.extend(commands);
        p.notes.extend(notes);
    }
    p
}

/// 64 hex digits.
fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `s` as one shell word.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A `sh -c` script that downloads `url` over https only (redirects too) into a private
/// directory (`mktemp -d`: mode 0700, removed on exit), checks its sha256 before anything
/// uses it, then runs `then` with `"$f"` naming the checked file.
fn download_script(url: &str, sha256: &str, then: &str) -> Vec<String> {
    let script = format!(
        "set -eu; umask 077; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; f=\"$d/download\"; \
         curl -q --proto =https --proto-redir =https --tlsv1.2 -fsSL -o \"$f\" {url}; \
         printf '%s  %s\\n' {sha256} \"$f\" | sha256sum -c --quiet -; {then}",
        url = sh_quote(url),
        sha256 = sha256.to_ascii_lowercase(),
    );
    vec!["sh".into(), "-c".into(), script]
}

/// Every step, in the guide's order.
pub fn steps() -> &'static [Step] {
    &steps::STEPS
}

/// Looks a step up by id.
pub fn step(id: &str) -> Option<&'static Step> {
    steps::STEPS.iter().find(|s| s.id == id)
}

/// Looks the user up in the host's `etc/passwd`: by name or UID; without one, the first
/// user with UID >= 1000.
pub fn find_user(host: &Host, who: Option<&str>) -> Option<User> {
    let passwd = user::read_host_file(host.root(), Path::new("etc/passwd"), MAX_HOST_FILE).ok()?;
    let mut users: BTreeMap<u32, User> = BTreeMap::new();
    for e in user::passwd_entries(&passwd) {
        users.entry(e.uid).or_insert(User {
            name: e.name,
            uid: e.uid,
            gid: e.gid,
            home: e.home,
        });
    }
    match who {
        Some(w) => match w.parse::<u32>() {
            Ok(uid) => users.remove(&uid),
            Err(_) => users.into_values().find(|u| u.name == w),
        },
        None => users.into_values().find(|u| (1000..65534).contains(&u.uid)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_table() {
        assert!(version_at_least("1.1.1+ds1-3", "1.1.1"));
        assert!(version_at_least("1:1.14.4-1", "1.9.0"));
        assert!(!version_at_least("0.17+dfsg-1", "1.9.0"));
        assert!(!version_at_least("1.8.1-1", "1.9.0"));
        assert!(version_at_least("1.10", "1.9.0"));
        assert!(!version_at_least("0.9.1-2", "1.1.1"));
    }

    #[test]
    fn step_ids_are_unique_and_in_the_guide_order() {
        let ids: Vec<&str> = steps().iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                "wsl-systemd",
                "cgroup-v1-off",
                "cgroup2-mount",
                "podman-installed",
                "cni-plugins",
                "crun-version",
                "containers-conf",
                "user-0-slice",
                "user-slice-accounting",
                "user-delegate",
                "caller-controllers",
                "kind-installed",
                "kind-cluster"
            ]
        );
    }
}
