//! `provision`: the guide's setup ("Kind with Podman rootless mode on WSL2") as steps
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
//! the one bounded reader of [`crate::fs::user`] (regular files only, size-limited,
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

pub mod apply;
pub mod edit;

pub use apply::{
    apply, ApplyOptions, ApplyReport, CommandOutcome, FileOutcome, Finished, Runner, SystemRunner,
};

use crate::fs::user::{self, FileError, Place, MAX_CONFIG_FILE};
use crate::fs::Host;
use crate::parse;
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

/// What a step would do.
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
    fn cgroup2(&self) -> Option<crate::CgroupMount> {
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
            Want::Ini { section, key, value, ok } => match ini_get(&text, section, key) {
                Some(h) if ok(&h.value, value) => (true, format!("{shown}:{}: [{section}] {key}={}", h.line, clip(&h.value))),
                Some(h) => (false, format!("{shown}:{}: [{section}] {key}={} (want {value})", h.line, clip(&h.value))),
                None => match ini_commented(&text, section, key) {
                    Some(l) => (false, format!("{shown}:{l}: [{section}] {key} is commented out")),
                    None => (false, format!("{shown}: no {key} in [{section}]")),
                },
            },
            Want::Tokens { section, key, tokens } => match ini_get(&text, section, key) {
                Some(h) => {
                    let missing: Vec<&str> = tokens.iter().copied().filter(|t| !h.value.split_whitespace().any(|w| w == *t)).collect();
                    if missing.is_empty() {
                        (true, format!("{shown}:{}: [{section}] {key} has {}", h.line, tokens.join(" ")))
                    } else {
                        (false, format!("{shown}:{}: [{section}] {key} lacks {}", h.line, missing.join(" ")))
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
                    (false, format!("{shown}: [{t}] {key} = {} (want \"{value}\")", clip(i.to_string().trim())))
                } else {
                    (false, format!("{shown}: no {key} in [{t}]"))
                }
            }
            Want::TomlArr { table, key, value } => {
                let item = toml.as_ref().and_then(|d| toml_get(d, table, key));
                let got: Option<Vec<String>> = item.as_ref().and_then(|i| i.as_array()).map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect());
                let t = table.join(".");
                match got {
                    Some(g) if g.first() == value.first() => (true, format!("{shown}: [{t}] {key} = {}", clip(&format!("{g:?}")))),
                    Some(g) => (false, format!("{shown}: [{t}] {key} = {} (want {value:?} first)", clip(&format!("{g:?}")))),
                    None => (false, format!("{shown}: no {key} in [{t}]")),
                }
            }
            Want::TomlNotTop { key, belongs } => {
                if toml.as_ref().and_then(|d| toml_get(d, &[], key)).is_some() {
                    (false, format!("{shown}: {key} at the top level is ignored by podman: it belongs in [{belongs}]"))
                } else {
                    (true, String::new())
                }
            }
            Want::Line { line, matches, good } => {
                match text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with('#')).find(|(_, l)| matches(l)) {
                    Some((i, l)) if good(l) => (true, format!("{shown}:{}: {}", i + 1, clip(l.trim()))),
                    Some((i, l)) => (false, format!("{shown}:{}: {} (want {line})", i + 1, clip(l.trim()))),
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

const WSL_CONF: &str = "/etc/wsl.conf";
const KERNEL_ARGS: &[&str] = &["cgroup_no_v1=all", "systemd.unified_cgroup_hierarchy=1"];
const FSTAB_LINE: &str =
    "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0";
const CONTAINERS_CONF: &str = "/etc/containers/containers.conf";
const USER_0_SLICE: &str = "/etc/systemd/system/user-0.slice";
const USER_SLICE_OVERRIDE: &str = "/etc/systemd/system/user-.slice.d/override.conf";
const DELEGATE_CONF: &str = "/etc/systemd/system/user@.service.d/delegate.conf";
const DELEGATED: &[&str] = &["cpu", "cpuset", "io", "memory", "pids"];

fn wsl_systemd_files() -> Vec<FileWant> {
    vec![FileWant {
        path: WSL_CONF.into(),
        wants: vec![Want::Ini {
            section: "boot",
            key: "systemd",
            value: "true".into(),
            ok: truthy,
        }],
        owner: None,
    }]
}

fn pid1_is_systemd(cx: &Context<'_>) -> (bool, String) {
    let comm = cx.file("/proc/1/comm").unwrap_or_default();
    let comm = comm.trim();
    (
        comm == "systemd",
        format!(
            "PID 1 is {}",
            if comm.is_empty() { "unknown" } else { comm }
        ),
    )
}

/// The `.wslconfig` WSL reads: `C:\Users\<name>\.wslconfig`, seen at `/mnt/c/Users/<name>`.
fn wslconfig(cx: &Context<'_>) -> Option<PathBuf> {
    let mut names: Vec<String> = user::list_host_dirs(cx.host.root(), Path::new("mnt/c/Users"))
        .ok()?
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| {
            !matches!(
                n.as_str(),
                "Public" | "Default" | "Default User" | "All Users" | "defaultuser0"
            )
        })
        .collect();
    names.sort();
    let pick = match &cx.user {
        Some(u) if names.iter().any(|n| n.eq_ignore_ascii_case(&u.name)) => {
            names.into_iter().find(|n| n.eq_ignore_ascii_case(&u.name))
        }
        _ if names.len() == 1 => names.pop(),
        _ => None,
    }?;
    Some(PathBuf::from(format!("/mnt/c/Users/{pick}/.wslconfig")))
}

fn v1_mounts(cx: &Context<'_>) -> Vec<String> {
    let mi = cx.mountinfo();
    parse::mountinfo(mi.as_bytes())
        .filter_map(Result::ok)
        .filter(|m| m.is_cgroup1())
        .map(|m| String::from_utf8_lossy(m.mount_point).into_owned())
        .collect()
}

fn v1_effective(cx: &Context<'_>) -> (bool, String) {
    let cmdline = cx.file("/proc/cmdline").unwrap_or_default();
    let missing: Vec<&str> = KERNEL_ARGS
        .iter()
        .copied()
        .filter(|a| !cmdline.split_whitespace().any(|w| w == *a))
        .collect();
    let mounts = v1_mounts(cx);
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("/proc/cmdline lacks {}", missing.join(" ")));
    }
    if !mounts.is_empty() {
        parts.push(format!("cgroup v1 still mounted: {}", mounts.join(", ")));
    }
    if parts.is_empty() {
        (
            true,
            "kernel booted with cgroup v1 off; no v1 mounts".into(),
        )
    } else {
        (mounts.is_empty() && missing.is_empty(), parts.join("; "))
    }
}

fn v1_files(cx: &Context<'_>) -> Vec<FileWant> {
    match wslconfig(cx) {
        Some(p) if cx.is_wsl() => vec![FileWant {
            path: p,
            wants: vec![Want::Tokens {
                section: "wsl2",
                key: "kernelCommandLine",
                tokens: KERNEL_ARGS,
            }],
            owner: None,
        }],
        _ => Vec::new(),
    }
}

fn fstab_matches(l: &str) -> bool {
    let f: Vec<&str> = l.split_whitespace().collect();
    f.len() >= 3 && f[1] == "/sys/fs/cgroup" && f[2] == "cgroup2"
}

fn fstab_good(l: &str) -> bool {
    fstab_matches(l)
        && l.split_whitespace()
            .nth(3)
            .is_some_and(|o| o.split(',').any(|x| x == "nsdelegate"))
}

fn cgroup2_effective(cx: &Context<'_>) -> (bool, String) {
    let mi = cx.mountinfo();
    let v2: Vec<(String, bool)> = parse::mountinfo(mi.as_bytes())
        .filter_map(Result::ok)
        .filter(|m| m.is_cgroup2())
        .map(|m| {
            (
                String::from_utf8_lossy(m.mount_point).into_owned(),
                m.super_options.has("nsdelegate"),
            )
        })
        .collect();
    match v2.iter().find(|(p, _)| p == "/sys/fs/cgroup") {
        Some((_, true)) => (
            true,
            "cgroup2 mounted on /sys/fs/cgroup with nsdelegate".into(),
        ),
        Some((_, false)) => (
            false,
            "cgroup2 mounted on /sys/fs/cgroup without nsdelegate".into(),
        ),
        None if v2.is_empty() => (false, "no cgroup2 mount".into()),
        None => (
            false,
            format!(
                "cgroup2 mounted on {}, not /sys/fs/cgroup",
                v2.iter()
                    .map(|(p, _)| p.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
    }
}

fn user_conf(cx: &Context<'_>) -> Option<(PathBuf, PathBuf, (u32, u32))> {
    let u = cx.user.as_ref()?;
    Some((
        u.home.join(".config/containers/containers.conf"),
        u.home.join(".local/bin/crun"),
        (u.uid, u.gid),
    ))
}

fn crun_files(cx: &Context<'_>) -> Vec<FileWant> {
    match user_conf(cx) {
        Some((conf, local, owner)) => vec![FileWant {
            path: conf,
            wants: vec![Want::TomlArr {
                table: &["engine", "runtimes"],
                key: "crun",
                value: vec![local.display().to_string(), "/usr/bin/crun".into()],
            }],
            owner: Some(owner),
        }],
        None => Vec::new(),
    }
}

fn containers_conf_files() -> Vec<FileWant> {
    vec![FileWant {
        path: CONTAINERS_CONF.into(),
        wants: vec![
            Want::TomlStr {
                table: &["containers"],
                key: "log_driver",
                value: "k8s-file",
            },
            Want::TomlStr {
                table: &["engine"],
                key: "events_logger",
                value: "file",
            },
            Want::TomlStr {
                table: &["engine"],
                key: "cgroup_manager",
                value: "cgroupfs",
            },
            Want::TomlNotTop {
                key: "log_driver",
                belongs: "containers",
            },
            Want::TomlNotTop {
                key: "events_logger",
                belongs: "engine",
            },
            Want::TomlNotTop {
                key: "cgroup_manager",
                belongs: "engine",
            },
        ],
        owner: None,
    }]
}

fn ini(path: &str, section: &'static str, key: &'static str, value: &str) -> Want {
    let _ = path;
    Want::Ini {
        section,
        key,
        value: value.into(),
        ok: eq,
    }
}

fn user_0_files() -> Vec<FileWant> {
    vec![FileWant {
        path: USER_0_SLICE.into(),
        wants: vec![
            ini(USER_0_SLICE, "Unit", "Before", "systemd-logind.service"),
            ini(USER_0_SLICE, "Slice", "Slice", "user.slice"),
            ini(USER_0_SLICE, "Install", "WantedBy", "multi-user.target"),
        ],
        owner: None,
    }]
}

fn accounting_files() -> Vec<FileWant> {
    vec![FileWant {
        path: USER_SLICE_OVERRIDE.into(),
        wants: [
            "CPUAccounting",
            "MemoryAccounting",
            "IOAccounting",
            "TasksAccounting",
        ]
        .into_iter()
        .map(|k| Want::Ini {
            section: "Slice",
            key: k,
            value: "yes".into(),
            ok: truthy,
        })
        .collect(),
        owner: None,
    }]
}

fn delegate_ok(v: &str, _: &str) -> bool {
    truthy(v, "")
        || DELEGATED
            .iter()
            .all(|c| v.split_whitespace().any(|w| w == *c))
}

fn delegate_files() -> Vec<FileWant> {
    vec![FileWant {
        path: DELEGATE_CONF.into(),
        wants: vec![Want::Ini {
            section: "Service",
            key: "Delegate",
            value: DELEGATED.join(" "),
            ok: delegate_ok,
        }],
        owner: None,
    }]
}

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

fn caller_cgroup(cx: &Context<'_>) -> Option<String> {
    let file = match cx.caller_pid {
        Some(pid) => format!("/proc/{pid}/cgroup"),
        None => "/proc/self/cgroup".into(),
    };
    let text = cx.file(&file)?;
    let pc = parse::proc_pid_cgroup(text.as_bytes()).ok()?;
    pc.unified.map(|u| String::from_utf8_lossy(u).into_owned())
}

fn kind_cluster(cx: &Context<'_>) -> (bool, String) {
    let mut b = crate::TreeBuilder::new();
    b.host_root(cx.host.root()).identify(true);
    let Ok(tree) = b.build() else {
        return (false, "cannot read the cgroup tree".into());
    };
    for (i, n) in tree.nodes().iter().enumerate() {
        let Some(k) = n.identity.as_ref().and_then(|x| x.kind_node.as_ref()) else {
            continue;
        };
        // A kube-apiserver process anywhere below the node's cgroup.
        let mut stack = vec![i];
        while let Some(c) = stack.pop() {
            let node = tree.node(c);
            if node.processes.iter().flatten().any(|p| {
                p.args()
                    .next()
                    .is_some_and(|a| a.ends_with(b"kube-apiserver"))
            }) {
                return (true, format!("kind node {} runs kube-apiserver", k.name));
            }
            stack.extend(node.children.iter().copied());
        }
        return (
            false,
            format!("kind node {} has no kube-apiserver process", k.name),
        );
    }
    (
        false,
        "no kind node container found in the cgroup tree".into(),
    )
}

/// A release version as the download URL takes it: digits and dots only.
fn plain_version(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= 32
        && v.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
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

/// The CNI plugins package the guide installs, and where it is fetched over https (the
/// Ubuntu archive's files, served by Launchpad).
const CNI_DEB: &str = "containernetworking-plugins_1.1.1+ds1-3_amd64.deb";
const CNI_URL: &str = "https://launchpad.net/ubuntu/+archive/primary/+files/containernetworking-plugins_1.1.1+ds1-3_amd64.deb";

/// Every step, in the guide's order.
pub fn steps() -> &'static [Step] {
    &STEPS
}

/// Looks a step up by id.
pub fn step(id: &str) -> Option<&'static Step> {
    STEPS.iter().find(|s| s.id == id)
}

static STEPS: [Step; 13] = [
    Step {
        id: "wsl-systemd",
        title: "WSL boots systemd ([boot] systemd=true in /etc/wsl.conf)",
        refs: &["https://learn.microsoft.com/windows/wsl/wsl-config"],
        check: |cx| {
            if !cx.is_wsl() {
                return na("not WSL");
            }
            judge(cx, &wsl_systemd_files(), Some(pid1_is_systemd(cx)), "restart WSL: `wsl --shutdown` in Windows, then open the distro again", "set [boot] systemd=true in /etc/wsl.conf")
        },
        plan: |cx| {
            if !cx.is_wsl() {
                return Plan::default();
            }
            with_files(cx, &wsl_systemd_files(), vec![], vec!["then restart WSL: `wsl --shutdown` in Windows".into()])
        },
    },
    Step {
        id: "cgroup-v1-off",
        title: "cgroup v1 off (cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1)",
        refs: &["https://docs.kernel.org/admin-guide/cgroup-v2.html", "https://github.com/spurin/wsl-cgroupsv2"],
        check: |cx| {
            let eff = v1_effective(cx);
            if cx.is_wsl() {
                let files = v1_files(cx);
                if files.is_empty() {
                    let mut c = judge(cx, &[], Some(eff), "", "");
                    if c.status != Status::Ok {
                        c.status = Status::Unknown;
                        c.evidence.push("cannot tell which C:\\Users\\<name>\\.wslconfig WSL reads (none or several under /mnt/c/Users)".into());
                        c.fix = Some("add `kernelCommandLine = cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1` under [wsl2] in %USERPROFILE%\\.wslconfig on Windows, then `wsl --shutdown`".into());
                    }
                    return c;
                }
                return judge(cx, &files, Some(eff), "restart WSL so the kernel reads .wslconfig: `wsl --shutdown` in Windows", "add the kernel arguments under [wsl2] kernelCommandLine in the Windows-side .wslconfig (WSL does not read kernelCommandLine from /etc/wsl.conf)");
            }
            let mut c = judge(cx, &[], Some(eff), "", "boot the kernel with cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 (e.g. GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot)");
            if c.status == Status::Partial {
                c.status = Status::Missing;
            }
            c
        },
        plan: |cx| {
            if cx.is_wsl() {
                let files = v1_files(cx);
                if files.is_empty() {
                    return Plan { notes: vec!["add `kernelCommandLine = cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1` under [wsl2] in %USERPROFILE%\\.wslconfig on Windows".into()], ..Plan::default() };
                }
                return with_files(cx, &files, vec![], vec!["then restart WSL: `wsl --shutdown` in Windows".into()]);
            }
            if v1_effective(cx).0 {
                return Plan::default();
            }
            Plan { notes: vec!["not WSL: add cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 to the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, `update-grub`, reboot); cgtree does not edit boot loaders".into()], ..Plan::default() }
        },
    },
    Step {
        id: "cgroup2-mount",
        title: "cgroup2 mounted on /sys/fs/cgroup with nsdelegate (/etc/fstab)",
        refs: &["https://docs.kernel.org/admin-guide/cgroup-v2.html"],
        check: |cx| {
            let files = vec![FileWant { path: "/etc/fstab".into(), wants: vec![Want::Line { line: FSTAB_LINE.into(), matches: fstab_matches, good: fstab_good }], owner: None }];
            let pending = if v1_mounts(cx).is_empty() { "mount it now: `mount -a`" } else { "after cgroup v1 is off (cgroup-v1-off), `mount -a`" };
            judge(cx, &files, Some(cgroup2_effective(cx)), pending, "add the cgroup2 line with nsdelegate to /etc/fstab")
        },
        plan: |cx| {
            let files = vec![FileWant { path: "/etc/fstab".into(), wants: vec![Want::Line { line: FSTAB_LINE.into(), matches: fstab_matches, good: fstab_good }], owner: None }];
            let mut p = plan_files(cx, &files);
            if !cgroup2_effective(cx).0 {
                if v1_mounts(cx).is_empty() {
                    p.commands.push(Command { argv: vec!["mount".into(), "-a".into()], user: None, why: "mount cgroup2 on /sys/fs/cgroup now".into() });
                } else {
                    p.notes.push("cgroup v1 is still mounted on /sys/fs/cgroup: the mount takes effect after cgroup-v1-off and a restart".into());
                }
            }
            p
        },
    },
    Step {
        id: "podman-installed",
        title: "podman installed",
        refs: &["https://docs.podman.io/en/stable/markdown/podman.1.html"],
        check: |cx| match cx.find_binary("podman") {
            Some(p) => Check { status: Status::Ok, evidence: vec![format!("{} ({})", p.display(), cx.dpkg_version("podman").map(|v| format!("podman {v}")).unwrap_or_else(|| "version unknown".into()))], fix: None },
            None => Check { status: Status::Missing, evidence: vec!["no podman in /usr/local/bin, /usr/bin, /bin".into()], fix: Some("install podman: `apt-get install -y podman`".into()) },
        },
        plan: |cx| {
            if cx.find_binary("podman").is_some() {
                return Plan::default();
            }
            Plan { commands: vec![Command { argv: vec!["apt-get".into(), "install".into(), "-y".into(), "podman".into()], user: None, why: "install podman".into() }], ..Plan::default() }
        },
    },
    Step {
        id: "cni-plugins",
        title: "CNI plugins >= 1.1.1",
        refs: &["https://bugs.launchpad.net/ubuntu/+source/libpod/+bug/2024394"],
        check: |cx| match cx.dpkg_version("containernetworking-plugins") {
            Some(v) if version_at_least(&v, "1.1.1") => Check { status: Status::Ok, evidence: vec![format!("containernetworking-plugins {v}")], fix: None },
            Some(v) => Check { status: Status::Partial, evidence: vec![format!("containernetworking-plugins {v} is older than 1.1.1")], fix: Some("install containernetworking-plugins 1.1.1 or newer".into()) },
            None => Check { status: Status::Missing, evidence: vec!["containernetworking-plugins is not installed (/var/lib/dpkg/status)".into()], fix: Some("install containernetworking-plugins 1.1.1 or newer".into()) },
        },
        plan: |cx| {
            if cx.dpkg_version("containernetworking-plugins").is_some_and(|v| version_at_least(&v, "1.1.1")) {
                return Plan::default();
            }
            match cx.cni_sha256.as_deref() {
                Some(sum) if is_sha256(sum) => Plan {
                    commands: vec![Command {
                        argv: download_script(CNI_URL, sum, "dpkg -i \"$f\""),
                        user: None,
                        why: format!("fetch {CNI_DEB} over https into a private directory, check its sha256, install it"),
                    }],
                    ..Plan::default()
                },
                Some(_) => Plan { notes: vec!["--cni-sha256 must be 64 hex digits: nothing is downloaded".into()], ..Plan::default() },
                None => Plan {
                    notes: vec![format!("{CNI_DEB} is downloaded only with its sha256, checked before dpkg sees it; cgtree pins none (no published checksum was at hand to verify one): give --cni-sha256 HEX from the Ubuntu archive's Packages index (SHA256 of {CNI_DEB}), or install containernetworking-plugins >= 1.1.1 from your distribution")],
                    ..Plan::default()
                },
            }
        },
    },
    Step {
        id: "crun-version",
        title: "crun >= 1.9.0 registered in the user's containers.conf",
        refs: &["https://noobient.com/2023/11/15/fixing-ubuntu-containers-failing-to-start-with-systemd/"],
        check: |cx| {
            let system = cx.dpkg_version("crun");
            if system.as_deref().is_some_and(|v| version_at_least(v, "1.9.0")) {
                return Check { status: Status::Ok, evidence: vec![format!("crun {} (/usr/bin/crun)", system.unwrap_or_default())], fix: None };
            }
            let Some((_, local, _)) = user_conf(cx) else {
                return Check { status: Status::Unknown, evidence: vec!["no user given (--user) for ~/.local/bin/crun".into()], fix: None };
            };
            let files = crun_files(cx);
            // A check executes nothing: the user's file is looked at, never run.
            let eff = if cx.exists(&local) {
                (true, format!("{} exists (its version is not checked: cgtree does not run a user's file; run `{} --version` as the user)", local.display(), local.display()))
            } else {
                (false, format!("{} does not exist; system crun is {}", local.display(), system.as_deref().unwrap_or("not installed")))
            };
            judge(cx, &files, Some(eff), "download crun >= 1.9.0 to ~/.local/bin/crun: `cgtree provision apply crun-version --crun-version X.Y.Z --crun-sha256 HEX --yes --run-commands`", "register ~/.local/bin/crun in [engine.runtimes] of the user's containers.conf and download crun >= 1.9.0 there")
        },
        plan: |cx| {
            if cx.dpkg_version("crun").is_some_and(|v| version_at_least(&v, "1.9.0")) {
                return Plan::default();
            }
            let Some((_, local, _)) = user_conf(cx) else { return Plan { notes: vec!["give --user to plan ~/.local/bin/crun".into()], ..Plan::default() } };
            let mut p = plan_files(cx, &crun_files(cx));
            if !cx.exists(&local) {
                let user = cx.user.as_ref().map(|u| u.name.clone());
                match &cx.crun_version {
                    Some(v) if !plain_version(v) => p.notes.push("--crun-version takes a release number (X.Y.Z): nothing is downloaded".into()),
                    Some(v) if version_at_least(v, "1.9.0") => match cx.crun_sha256.as_deref() {
                        Some(sum) if is_sha256(sum) => {
                            // As the user: the file lands in the user's home with the
                            // user's rights, never root's.
                            let dir = local.parent().map(|d| d.display().to_string()).unwrap_or_default();
                            let install = format!("mkdir -p {}; install -m 0755 \"$f\" {}", sh_quote(&dir), sh_quote(&local.display().to_string()));
                            p.commands.push(Command {
                                argv: download_script(&format!("https://github.com/containers/crun/releases/download/{v}/crun-{v}-linux-amd64"), sum, &install),
                                user,
                                why: format!("download crun {v} over https into a private directory, check its sha256, install it as ~/.local/bin/crun (as the user)"),
                            });
                        }
                        Some(_) => p.notes.push("--crun-sha256 must be 64 hex digits: nothing is downloaded".into()),
                        None => p.notes.push(format!("crun {v} is downloaded only with its sha256, checked before it is installed; cgtree pins no checksum for crun releases: give --crun-sha256 HEX, the SHA-256 of crun-{v}-linux-amd64 from https://github.com/containers/crun/releases/tag/{v}")),
                    },
                    Some(v) => p.notes.push(format!("crun {v} is older than 1.9.0: give --crun-version 1.9.0 or newer")),
                    None => p.notes.push("give --crun-version X.Y.Z (>= 1.9.0) to plan the download of ~/.local/bin/crun (the guide leaves CRUN_VER unset)".into()),
                }
            }
            p
        },
    },
    Step {
        id: "containers-conf",
        title: "podman: log_driver k8s-file, events_logger file, cgroup_manager cgroupfs",
        refs: &["https://github.com/containers/common/blob/main/docs/containers.conf.5.md"],
        check: |cx| judge(cx, &containers_conf_files(), None, "", "set the keys in their tables of /etc/containers/containers.conf (log_driver in [containers]; events_logger and cgroup_manager in [engine])"),
        plan: |cx| plan_files(cx, &containers_conf_files()),
    },
    Step {
        id: "user-0-slice",
        title: "user-0.slice unit for root's session",
        refs: &["https://www.freedesktop.org/software/systemd/man/latest/systemd.slice.html"],
        check: |cx| judge(cx, &user_0_files(), None, "", "create /etc/systemd/system/user-0.slice"),
        plan: |cx| with_files(cx, &user_0_files(), vec![daemon_reload()], vec![]),
    },
    Step {
        id: "user-slice-accounting",
        title: "CPU, memory, IO and task accounting for user slices",
        refs: &["https://www.freedesktop.org/software/systemd/man/latest/systemd.resource-control.html"],
        check: |cx| {
            let eff = cx.user.as_ref().and_then(|u| controllers_have(cx, &format!("/user.slice/user-{}.slice", u.uid), &["cpu", "io", "memory", "pids"]));
            judge(cx, &accounting_files(), eff, "`systemctl daemon-reload`, then log out and in again", "add the accounting keys to /etc/systemd/system/user-.slice.d/override.conf")
        },
        plan: |cx| with_files(cx, &accounting_files(), vec![daemon_reload()], vec![]),
    },
    Step {
        id: "user-delegate",
        title: "Delegate=cpu cpuset io memory pids for user managers",
        refs: &["https://www.freedesktop.org/software/systemd/man/latest/user@.service.html", "https://unix.stackexchange.com/questions/624428/cgroups-v2-cgroup-controllers-not-delegated-to-non-privileged-users-on-centos-s/625079#625079"],
        check: |cx| {
            let eff = cx.user.as_ref().and_then(|u| controllers_have(cx, &format!("/user.slice/user-{0}.slice/user@{0}.service", u.uid), DELEGATED));
            judge(cx, &delegate_files(), eff, "`systemctl daemon-reload`, then restart the user manager (log out and in, or `systemctl restart user@UID.service`)", "set Delegate=cpu cpuset io memory pids in /etc/systemd/system/user@.service.d/delegate.conf")
        },
        plan: |cx| with_files(cx, &delegate_files(), vec![daemon_reload()], vec![]),
    },
    Step {
        id: "caller-controllers",
        title: "the caller's cgroup has cpu, memory and pids (what rootless podman and kind check)",
        refs: &["https://kind.sigs.k8s.io/docs/user/rootless/"],
        check: |cx| {
            let Some(cg) = caller_cgroup(cx) else {
                return Check { status: Status::Unknown, evidence: vec!["the caller's /proc/PID/cgroup cannot be read".into()], fix: None };
            };
            match controllers_have(cx, &cg, &["cpu", "memory", "pids"]) {
                Some((true, e)) => Check { status: Status::Ok, evidence: vec![format!("caller's cgroup {e}")], fix: None },
                Some((false, e)) => Check {
                    status: Status::Missing,
                    evidence: vec![format!("caller's cgroup: {e}")],
                    fix: Some("kind will refuse (\"running kind with rootless provider requires setting systemd property \\\"Delegate=yes\\\"\") although delegation may be set: run it below the user manager, `systemd-run --scope --user kind create cluster`".into()),
                },
                None => Check { status: Status::Unknown, evidence: vec![format!("cannot read cgroup.controllers of {cg}")], fix: None },
            }
        },
        plan: |cx| {
            let bad = caller_cgroup(cx).and_then(|cg| controllers_have(cx, &cg, &["cpu", "memory", "pids"])).is_some_and(|(ok, _)| !ok);
            if bad {
                Plan { notes: vec!["start podman and kind through `systemd-run --scope --user ...` so they run below user@UID.service".into()], ..Plan::default() }
            } else {
                Plan::default()
            }
        },
    },
    Step {
        id: "kind-installed",
        title: "kind installed",
        refs: &["https://kind.sigs.k8s.io/docs/user/quick-start/#installation"],
        check: |cx| match cx.find_binary("kind") {
            Some(p) => Check { status: Status::Ok, evidence: vec![p.display().to_string()], fix: None },
            None => Check { status: Status::Missing, evidence: vec!["no kind in /usr/local/bin, /usr/bin, /bin, ~/.local/bin, ~/go/bin".into()], fix: Some("install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)".into()) },
        },
        plan: |cx| {
            if cx.find_binary("kind").is_some() {
                return Plan::default();
            }
            Plan { notes: vec!["install kind: `go install sigs.k8s.io/kind@latest`, or a release binary in /usr/local/bin".into()], ..Plan::default() }
        },
    },
    Step {
        id: "kind-cluster",
        title: "a kind cluster runs under rootless podman",
        refs: &["https://kind.sigs.k8s.io/docs/user/rootless/#creating-a-kind-cluster-with-rootless-podman"],
        check: |cx| {
            let (ok, e) = kind_cluster(cx);
            Check { status: if ok { Status::Ok } else { Status::Missing }, evidence: vec![e], fix: (!ok).then(|| "create it: `KIND_EXPERIMENTAL_PROVIDER=podman systemd-run --scope --user kind create cluster`".into()) }
        },
        plan: |cx| {
            if kind_cluster(cx).0 {
                return Plan::default();
            }
            Plan {
                commands: vec![Command {
                    argv: vec!["env".into(), "KIND_EXPERIMENTAL_PROVIDER=podman".into(), "systemd-run".into(), "--scope".into(), "--user".into(), "kind".into(), "create".into(), "cluster".into()],
                    user: cx.user.as_ref().map(|u| u.name.clone()),
                    why: "create the cluster below the user manager".into(),
                }],
                ..Plan::default()
            }
        },
    },
];

/// Looks the user up in the host's `etc/passwd`: by name or UID; without one, the first
/// user with UID >= 1000.
pub fn find_user(host: &Host, who: Option<&str>) -> Option<User> {
    use std::os::unix::ffi::OsStrExt;
    let passwd = user::read_host_file(host.root(), Path::new("etc/passwd"), MAX_HOST_FILE).ok()?;
    let mut users: BTreeMap<u32, User> = BTreeMap::new();
    for e in crate::parse::passwd(&passwd).flatten() {
        users.entry(e.uid).or_insert(User {
            name: String::from_utf8_lossy(e.name).into_owned(),
            uid: e.uid,
            gid: e.gid,
            home: PathBuf::from(std::ffi::OsStr::from_bytes(e.home)),
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
