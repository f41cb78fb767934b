//! The pager on a terminal, as systemd's tools open theirs (systemd's
//! src/shared/pager.c, `pager_open` and `pager_close`, as of systemd-stable 16a783b5):
//!
//! - only when standard output is a terminal (never into a pipe or a file), not with
//!   `--no-pager`, and not when `TERM` is unset, empty or `dumb` (systemd's
//!   `terminal_is_dumb()`; systemd pages with an empty `TERM`, cgtree does not, as it
//!   does not colour then either). The width and whether to colour are decided from the
//!   terminal before standard output is replaced by the pipe to the pager;
//! - the command is `$SYSTEMD_PAGER`, else `$PAGER`, split at blanks (no shell: the first
//!   word is the program, found in `PATH`, the others its arguments); set to nothing but
//!   blanks or to `cat`, there is no pager;
//! - secure mode (`$SYSTEMD_PAGERSECURE`, systemd(1) ENVIRONMENT): a boolean
//!   (systemd's `parse_boolean`: `1 yes y true t on`, `0 no n false f off`, any case).
//!   Unset, secure mode is on when `$SUDO_UID` is set or the effective UID is not the
//!   owner of the login session cgtree runs in ([`session_owner`], what
//!   `sd_pid_get_owner_uid` reads); not a boolean, it is on. In secure mode the pager gets
//!   `LESSSECURE=1` (less then refuses `!` shell commands, `v` editing, `s` log files),
//!   otherwise `LESSSECURE` is removed from its environment. Ignored (as unset) when
//!   cgtree runs set-user-ID or set-group-ID (systemd reads it with `secure_getenv`);
//! - which pager: `$SYSTEMD_PAGER`/`$PAGER` only when `$SYSTEMD_PAGERSECURE` is set to a
//!   boolean (systemd's `trust_pager`: a `$PAGER` set for every program may not suit secure
//!   mode); then, or when it cannot run, `pager` (Debian's alternative), `less`, `more`,
//!   of which secure mode keeps `less` only (the only pager known to implement it); with
//!   none of them, cgtree writes to the terminal itself (systemd's built-in fallback copies
//!   the pipe to the terminal). A pager "cannot run" when its first word does not resolve
//!   as `execvp` would (a path to an executable file, or one found in `PATH`) or when
//!   starting it fails;
//! - the pager's environment has `LESS` set to `$SYSTEMD_LESS`, else `FRSXMK` (quit when
//!   the text fits one screen, colours as they are, lines chopped, no terminal
//!   initialisation, long prompt, quit on Ctrl-C), and `LESSCHARSET` set to
//!   `$SYSTEMD_LESSCHARSET`, else `utf-8`. systemd sets `utf-8` only in a UTF-8 locale,
//!   where its glyphs are UTF-8; cgtree's tree glyphs (`├─`, `└─`, `│`) and the names it
//!   prints are UTF-8 in every locale (invalid bytes are escaped: [`crate::sanitize`]),
//!   so less is always told so and shows `├─`, not `<E2><94><9C>`;
//! - the pager is cgtree's child, as systemd's is (pager.c forks; the child becomes the
//!   pager, the parent goes on writing into the pipe and waits for the pager at the end):
//!   so the shell waits for cgtree and gets cgtree's exit status, not the pager's. The
//!   child asks for `SIGTERM` when cgtree dies (`PR_SET_PDEATHSIG`; systemd uses the
//!   same, and `SIGINT` since v254 to match less's `K`: `SIGTERM` ends any pager, whatever
//!   `$SYSTEMD_LESS` says) and, as pager.c, checks that cgtree did not die before that
//!   request (its parent is still the PID recorded before the fork): a killed cgtree
//!   does not leave a pager reading the terminal under the shell;
//! - standard output (and standard error while it is the same terminal) go to the pager;
//!   at the end cgtree closes its end of the pipe, sends the pager `SIGCONT` and waits
//!   for it. The pager's own exit status is not cgtree's: quitting it early (`q`) is no
//!   error, and what cgtree still writes then meets a broken pipe, a quiet end
//!   ([`crate::finish`]).
//!
//! Not done: systemd pages only when standard error is a terminal too (`on_tty()`), and
//! ignores `SIGINT` while a less without `K` runs; cgtree leaves signals as they are
//! (Ctrl-C reaches both, and `less` with `K` quits on it).

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `LESS` when `$SYSTEMD_LESS` is not set (systemd's default).
pub const DEFAULT_LESS: &str = "FRSXMK";

/// `LESSCHARSET` when `$SYSTEMD_LESSCHARSET` is not set: cgtree writes UTF-8.
pub const DEFAULT_LESSCHARSET: &str = "utf-8";

/// The pagers tried after `$SYSTEMD_PAGER`/`$PAGER`, in order (pager.c's `pagers[]`, whose
/// last entry is the built-in copy: here, cgtree writing to the terminal itself).
const FALLBACKS: [&str; 3] = ["pager", "less", "more"];

/// The only pager of [`FALLBACKS`] that implements secure mode (`LESSSECURE`).
const SECURE_PAGER: &str = "less";

/// What the environment says about the pager; [`PagerEnv::current`] reads it.
#[derive(Debug, Clone, Default)]
pub struct PagerEnv {
    /// `$SYSTEMD_PAGER`.
    pub systemd_pager: Option<OsString>,
    /// `$PAGER`.
    pub pager: Option<OsString>,
    /// `$SYSTEMD_LESS`.
    pub systemd_less: Option<OsString>,
    /// `$SYSTEMD_LESSCHARSET`.
    pub systemd_lesscharset: Option<OsString>,
    /// `$SYSTEMD_PAGERSECURE`.
    pub systemd_pagersecure: Option<OsString>,
    /// Whether `$SUDO_UID` is set (to anything).
    pub sudo_uid: bool,
    /// `$TERM`.
    pub term: Option<OsString>,
    /// Whether cgtree runs set-user-ID or set-group-ID (real and effective IDs differ):
    /// `$SYSTEMD_PAGERSECURE` is then ignored, as `secure_getenv` does.
    pub set_id: bool,
}

impl PagerEnv {
    /// Reads the process environment.
    pub fn current() -> Self {
        use nix::unistd::{getegid, geteuid, getgid, getuid};
        let var = std::env::var_os;
        PagerEnv {
            systemd_pager: var("SYSTEMD_PAGER"),
            pager: var("PAGER"),
            systemd_less: var("SYSTEMD_LESS"),
            systemd_lesscharset: var("SYSTEMD_LESSCHARSET"),
            systemd_pagersecure: var("SYSTEMD_PAGERSECURE"),
            sudo_uid: var("SUDO_UID").is_some(),
            term: var("TERM"),
            set_id: getuid() != geteuid() || getgid() != getegid(),
        }
    }
}

/// What to start: the commands to try in order, and the pager's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Each command's words (the program, then its arguments), in the order tried; when
    /// none can run, cgtree writes to the terminal itself.
    pub candidates: Vec<Vec<OsString>>,
    /// `LESS`.
    pub less: OsString,
    /// `LESSCHARSET`.
    pub lesscharset: OsString,
    /// Secure mode: `LESSSECURE=1` (otherwise `LESSSECURE` is removed).
    pub secure: bool,
}

/// The words of a pager command: split at blanks (systemd's `strv_split(pager,
/// WHITESPACE)`: space, tab, line feed, carriage return).
fn words(cmd: &OsStr) -> Vec<OsString> {
    cmd.as_bytes()
        .split(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
        .filter(|w| !w.is_empty())
        .map(|w| OsStr::from_bytes(w).to_os_string())
        .collect()
}

/// systemd's `parse_boolean`: `None` when `v` is not one of its words.
fn parse_boolean(v: &OsStr) -> Option<bool> {
    let v = v.to_str()?.to_ascii_lowercase();
    match v.as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// Whether `TERM` names no terminal that a pager can drive: unset, empty or `dumb`.
fn terminal_is_dumb(term: Option<&OsStr>) -> bool {
    term.is_none_or(|t| t.is_empty() || t == "dumb")
}

/// The pager to start, as pager.c decides it (see the module documentation); `None`: no
/// pager (a dumb terminal, or the command is turned off). `escalated` tells whether
/// cgtree runs with more privileges than the session's owner (asked only when
/// `$SYSTEMD_PAGERSECURE` is unset): [`running_with_escalated_privileges`].
pub fn plan(env: &PagerEnv, escalated: impl FnOnce() -> bool) -> Option<Plan> {
    if terminal_is_dumb(env.term.as_deref()) {
        return None;
    }
    let args = env
        .systemd_pager
        .as_deref()
        .or(env.pager.as_deref())
        .map(words);
    if let Some(a) = &args {
        if a.is_empty() || a.as_slice() == [OsString::from("cat")] {
            return None;
        }
    }
    let pagersecure = if env.set_id {
        None
    } else {
        env.systemd_pagersecure.as_deref()
    };
    // pager.c: `trust_pager` only when $SYSTEMD_PAGERSECURE parses as a boolean; not a
    // boolean: secure, and the pager not trusted.
    let (secure, trust) = match pagersecure {
        None => (escalated(), false),
        Some(v) => parse_boolean(v).map_or((true, false), |b| (b, true)),
    };
    let mut candidates = Vec::new();
    if trust {
        candidates.extend(args);
    }
    for p in FALLBACKS {
        if !secure || p == SECURE_PAGER {
            candidates.push(vec![p.into()]);
        }
    }
    Some(Plan {
        candidates,
        less: env
            .systemd_less
            .clone()
            .unwrap_or_else(|| DEFAULT_LESS.into()),
        lesscharset: env
            .systemd_lesscharset
            .clone()
            .unwrap_or_else(|| DEFAULT_LESSCHARSET.into()),
        secure,
    })
}

/// pager.c's `running_with_escalated_privileges`: `$SUDO_UID` set, or the effective UID
/// is not the owner of the login session (none found counts as not).
fn running_with_escalated_privileges(sudo_uid: bool) -> bool {
    sudo_uid || session_owner() != Some(nix::unistd::geteuid().as_raw())
}

/// The UID owning the login session cgtree runs in, read as `sd_pid_get_owner_uid(0)`
/// does without libsystemd (systemd's src/basic/cgroup-util.c, `cg_pid_get_owner_uid`):
/// the cgroup of `/proc/self/cgroup`, made relative to the root of PID 1's (so inside a
/// container its own hierarchy), whose leading run of slices ends in `user-UID.slice`:
/// `/user.slice/user-1000.slice/session-2.scope` and
/// `/user.slice/user-1000.slice/user@1000.service/...` are UID 1000's. `None` when either
/// file cannot be read or no such slice leads the path.
fn session_owner() -> Option<u32> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let pid1 = std::fs::read_to_string("/proc/1/cgroup").ok()?;
    let root = root_path(systemd_cgroup(&pid1)?);
    owner_uid(shift_path(systemd_cgroup(&own)?, root))
}

/// The cgroup path of a `/proc/PID/cgroup` text that systemd tracks processes in: the
/// cgroup2 line's (`0::PATH`), else the v1 `name=systemd` hierarchy's.
fn systemd_cgroup(text: &str) -> Option<&str> {
    let mut named = None;
    for line in text.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(id), Some(controllers), Some(path)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        if id == "0" && controllers.is_empty() {
            return Some(path);
        }
        if controllers.split(',').any(|c| c == "name=systemd") {
            named = Some(path);
        }
    }
    named
}

/// `cg_get_root_path`: PID 1's cgroup without its `/init.scope` (or the legacy
/// `/system.slice`, `/system`).
fn root_path(pid1: &str) -> &str {
    ["/init.scope", "/system.slice", "/system"]
        .iter()
        .find_map(|s| pid1.strip_suffix(s))
        .unwrap_or(pid1)
}

/// `cg_shift_path`: `cgroup` relative to `root` when below it, else as it is.
fn shift_path<'a>(cgroup: &'a str, root: &str) -> &'a str {
    let root = root.trim_end_matches('/');
    if root.is_empty() {
        return cgroup;
    }
    match cgroup.strip_prefix(root) {
        Some("") => "/",
        Some(rest) if rest.starts_with('/') => rest,
        _ => cgroup,
    }
}

/// `cg_path_get_owner_uid`: the right-most slice of the run of slices that starts the
/// path (`cg_path_get_slice`), when it is `user-UID.slice` with a valid UID.
fn owner_uid(path: &str) -> Option<u32> {
    let mut slice = None;
    for c in path.split('/').filter(|c| !c.is_empty()) {
        if !is_slice_name(c) {
            break;
        }
        slice = Some(c);
    }
    let uid = slice?.strip_prefix("user-")?.strip_suffix(".slice")?;
    if uid.is_empty() || !uid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // systemd's uid_is_valid: not (uid_t) -1 nor the 16-bit -1.
    uid.parse::<u32>()
        .ok()
        .filter(|&u| u != u32::MAX && u != 0xFFFF)
}

/// A slice unit's name: `NAME.slice` in unit name characters (systemd's
/// `valid_slice_name`).
fn is_slice_name(c: &str) -> bool {
    c.len() > ".slice".len()
        && c.ends_with(".slice")
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.' | b'\\'))
}

/// Where `execvp` would find `name`: `name` itself when it holds a `/`, else the first
/// `DIR/name` of `path` (`$PATH`; unset, glibc's default `/bin:/usr/bin`; an empty entry
/// is the current directory) that is an executable regular file.
fn resolve(name: &OsStr, path: Option<&OsStr>) -> Option<PathBuf> {
    if name.is_empty() {
        return None;
    }
    if name.as_bytes().contains(&b'/') {
        let p = Path::new(name);
        return is_executable(p).then(|| p.to_path_buf());
    }
    let path = path.unwrap_or(OsStr::new("/bin:/usr/bin"));
    path.as_bytes()
        .split(|&b| b == b':')
        .map(|dir| {
            if dir.is_empty() {
                Path::new(".").join(name)
            } else {
                Path::new(OsStr::from_bytes(dir)).join(name)
            }
        })
        .find(|p| is_executable(p))
}

/// A regular file (after symbolic links) that `access(2)` says can be executed.
fn is_executable(p: &Path) -> bool {
    p.metadata().is_ok_and(|m| m.is_file())
        && nix::unistd::access(p, nix::unistd::AccessFlags::X_OK).is_ok()
}

/// A running pager that standard output (and maybe standard error) was handed to; see
/// the module documentation. [`Pager::close`] (or dropping it) gives the descriptors
/// back and waits for the pager.
pub struct Pager {
    child: Child,
    /// The terminal standard output was, put back at the close.
    saved_out: OwnedFd,
    /// The terminal standard error was, when it was redirected too.
    saved_err: Option<OwnedFd>,
}

/// Starts the pager when standard output is a terminal and the environment names one;
/// `None` when there is none to start or none could be started (the output then goes
/// to the terminal as it is). The caller decides everything that depends on the
/// terminal (width, colours) before calling this.
pub fn open() -> Option<Pager> {
    if !crate::term::stdout_is_terminal() {
        return None;
    }
    let env = PagerEnv::current();
    let plan = plan(&env, || running_with_escalated_privileges(env.sudo_uid))?;
    start(&plan, std::env::var_os("PATH").as_deref())
}

/// Starts the first of the plan's commands that resolves and starts, and moves
/// standard output (and standard error while it is a terminal) to its pipe. `None`: none
/// started, or the descriptors could not be moved (then the pager started is waited
/// for, its input closed).
fn start(plan: &Plan, path: Option<&OsStr>) -> Option<Pager> {
    for argv in &plan.candidates {
        let Some((name, args)) = argv.split_first() else {
            continue;
        };
        let Some(program) = resolve(name, path) else {
            continue;
        };
        let Ok((child, write)) = spawn(&program, name, args, plan) else {
            continue;
        };
        return redirect(child, write);
    }
    None
}

/// Starts `program` (called `name`, with `args`) reading a new pipe, in the pager's
/// environment, asking for `SIGTERM` when cgtree dies; returns it and the pipe's write
/// end.
fn spawn(
    program: &Path,
    name: &OsStr,
    args: &[OsString],
    plan: &Plan,
) -> io::Result<(Child, OwnedFd)> {
    use std::os::unix::process::CommandExt;
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let mut c = Command::new(program);
    c.arg0(name)
        .args(args)
        .stdin(Stdio::from(read))
        .env("LESS", &plan.less)
        .env("LESSCHARSET", &plan.lesscharset);
    if plan.secure {
        c.env("LESSSECURE", "1");
    } else {
        c.env_remove("LESSSECURE");
    }
    die_with_parent(&mut c);
    Ok((c.spawn()?, write))
}

/// Makes the child of `c` get `SIGTERM` when its parent (this thread: cgtree's main
/// thread, which opens the pager and waits for it) dies, and end at once when the parent
/// died before that request (pager.c: `PR_SET_PDEATHSIG`, then `getppid()` against the
/// PID recorded before the fork). The signal survives the `exec` of the pager (it is
/// reset only for set-user-ID programs).
fn die_with_parent(c: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = nix::unistd::getpid();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe functions may be called: it makes two system calls, prctl(2) and
    // getppid(2), through nix's wrappers (no allocation, no lock), and its errors are
    // built from a raw errno (`io::Error::from_raw_os_error`, no allocation either). It
    // captures only a `Pid` (a plain integer) by value.
    #[allow(unsafe_code)]
    unsafe {
        c.pre_exec(move || {
            nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM)?;
            if nix::unistd::getppid() != parent {
                return Err(nix::errno::Errno::ESRCH.into());
            }
            Ok(())
        });
    }
}

/// Moves standard output (and standard error while it is a terminal) to `write`, the
/// pipe `child` reads. `None` when a descriptor could not be duplicated: then nothing
/// was redirected, and the pager is waited for after the pipe is closed (it sees the end
/// of its input).
fn redirect(mut child: Child, write: OwnedFd) -> Option<Pager> {
    match crate::term::redirect_stdio(&write) {
        Ok((saved_out, saved_err)) => Some(Pager {
            child,
            saved_out,
            saved_err,
        }),
        Err(_) => {
            drop(write);
            let _ = child.wait();
            None
        }
    }
}

impl Pager {
    /// Flushes standard output, puts the terminal back on standard output and standard
    /// error (so that the pager reads the end of its input), sends the pager `SIGCONT`
    /// (a pager stopped with Ctrl-Z would never read it) and waits for it to exit. Its
    /// exit status is not looked at.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for Pager {
    fn drop(&mut self) {
        crate::term::restore_stdio(&self.saved_out, self.saved_err.as_ref());
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGCONT,
            );
        }
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> Option<OsString> {
        Some(OsString::from(s))
    }

    fn env() -> PagerEnv {
        PagerEnv {
            term: os("xterm-256color"),
            ..PagerEnv::default()
        }
    }

    fn names(p: &Plan) -> Vec<String> {
        p.candidates
            .iter()
            .map(|c| {
                c.iter()
                    .map(|w| w.to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    fn never() -> bool {
        panic!("asked whether escalated")
    }

    #[test]
    fn systemd_pager_then_pager_only_when_pagersecure_is_set() {
        let trusted = |sp: Option<&str>, p: Option<&str>| {
            let e = PagerEnv {
                systemd_pager: sp.map(Into::into),
                pager: p.map(Into::into),
                systemd_pagersecure: os("0"),
                ..env()
            };
            plan(&e, never).map(|p| names(&p))
        };
        assert_eq!(trusted(None, None).unwrap(), ["pager", "less", "more"]);
        assert_eq!(
            trusted(None, Some("most")).unwrap(),
            ["most", "pager", "less", "more"]
        );
        assert_eq!(trusted(Some("pg"), Some("most")).unwrap()[0], "pg");
        // Split at blanks, no shell.
        assert_eq!(
            trusted(Some(" less\t-R  -x "), None).unwrap()[0],
            "less -R -x"
        );
        // Empty, blanks or `cat`: no pager; `$PAGER` is not looked at then.
        for off in ["", "  ", "cat", " cat "] {
            assert_eq!(trusted(Some(off), Some("most")), None, "{off:?}");
            assert_eq!(trusted(None, Some(off)), None, "{off:?}");
        }
        // Only exactly `cat`.
        assert_eq!(trusted(None, Some("/bin/cat")).unwrap()[0], "/bin/cat");
        assert_eq!(trusted(None, Some("cat -v")).unwrap()[0], "cat -v");
    }

    #[test]
    fn secure_mode_as_systemd() {
        let with = |secure: Option<&str>, escalated: bool| {
            let e = PagerEnv {
                pager: os("most"),
                systemd_pagersecure: secure.map(Into::into),
                ..env()
            };
            let p = plan(&e, || escalated).unwrap();
            (names(&p), p.secure)
        };
        // Unset: secure when escalated; `$PAGER` never trusted.
        assert_eq!(with(None, true), (vec!["less".into()], true));
        assert_eq!(
            with(None, false),
            (vec!["pager".into(), "less".into(), "more".into()], false)
        );
        // Set to a boolean: that, and `$PAGER` trusted.
        for yes in ["1", "yes", "Y", "true", "T", "ON"] {
            assert_eq!(
                with(Some(yes), false),
                (vec!["most".into(), "less".into()], true),
                "{yes}"
            );
        }
        for no in ["0", "no", "N", "false", "f", "Off"] {
            assert_eq!(
                with(Some(no), true),
                (
                    vec!["most".into(), "pager".into(), "less".into(), "more".into()],
                    false
                ),
                "{no}"
            );
        }
        // Not a boolean: secure, not trusted.
        for bad in ["", "2", "maybe", " 1"] {
            assert_eq!(
                with(Some(bad), false),
                (vec!["less".into()], true),
                "{bad:?}"
            );
        }
        // Set-user-ID: as unset.
        let e = PagerEnv {
            pager: os("most"),
            systemd_pagersecure: os("0"),
            set_id: true,
            ..env()
        };
        let p = plan(&e, || true).unwrap();
        assert_eq!((names(&p), p.secure), (vec!["less".into()], true));
    }

    #[test]
    fn no_pager_on_a_dumb_terminal() {
        for term in [None, os(""), os("dumb")] {
            let e = PagerEnv { term, ..env() };
            assert_eq!(plan(&e, never), None);
        }
        assert!(plan(&env(), || false).is_some());
    }

    #[test]
    fn less_variables() {
        let p = plan(&env(), || false).unwrap();
        assert_eq!(
            (p.less.to_str(), p.lesscharset.to_str()),
            (Some("FRSXMK"), Some("utf-8"))
        );
        let e = PagerEnv {
            systemd_less: os("R"),
            systemd_lesscharset: os("latin1"),
            ..env()
        };
        let p = plan(&e, || false).unwrap();
        assert_eq!(
            (p.less.to_str(), p.lesscharset.to_str()),
            (Some("R"), Some("latin1"))
        );
        let e = PagerEnv {
            systemd_less: os(""),
            ..env()
        };
        assert_eq!(plan(&e, || false).unwrap().less, OsString::new());
    }

    #[test]
    fn session_owner_from_the_cgroup_path() {
        let cases = [
            ("/user.slice/user-1000.slice/session-2.scope", Some(1000)),
            (
                "/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope",
                Some(1000),
            ),
            ("/user.slice/user-0.slice/session-c1.scope", Some(0)),
            ("/user.slice/user-1000.slice", Some(1000)),
            // Slices below the first non-slice unit do not count.
            (
                "/system.slice/foo.service/user.slice/user-5.slice/session-1.scope",
                None,
            ),
            ("/user.slice/session-2.scope", None),
            ("/system.slice/sshd.service", None),
            ("/", None),
            ("", None),
            ("/user.slice/user-.slice/x.scope", None),
            ("/user.slice/user-10x.slice/x.scope", None),
            ("/user.slice/user-+1.slice/x.scope", None),
            ("/user.slice/user-4294967295.slice/x.scope", None),
            ("/user.slice/user-65535.slice/x.scope", None),
            ("/user.slice/user-99999999999.slice/x.scope", None),
            (
                "/user.slice/user-1000.slice/user-2000.slice/x.scope",
                Some(2000),
            ),
        ];
        for (path, want) in cases {
            assert_eq!(owner_uid(path), want, "{path}");
        }
    }

    #[test]
    fn cgroup_lines_and_the_root_of_pid_1() {
        let v2 = "0::/user.slice/user-7.slice/session-1.scope\n";
        assert_eq!(
            systemd_cgroup(v2),
            Some("/user.slice/user-7.slice/session-1.scope")
        );
        let hybrid = "12:pids:/x\n1:name=systemd:/a.slice/b.scope\n0::/c\n";
        assert_eq!(systemd_cgroup(hybrid), Some("/c"));
        let v1 = "12:pids:/x\n1:name=systemd:/a.slice/b.scope\n";
        assert_eq!(systemd_cgroup(v1), Some("/a.slice/b.scope"));
        assert_eq!(systemd_cgroup("garbage\n\n::\n3:cpu\n"), None);
        // A path may hold a colon.
        assert_eq!(systemd_cgroup("0::/a:b\n"), Some("/a:b"));

        assert_eq!(root_path("/init.scope"), "");
        assert_eq!(
            root_path("/machine.slice/m.scope/init.scope"),
            "/machine.slice/m.scope"
        );
        assert_eq!(root_path("/"), "/");
        let own = "/machine.slice/m.scope/user.slice/user-5.slice/session-1.scope";
        let shifted = shift_path(own, root_path("/machine.slice/m.scope/init.scope"));
        assert_eq!(shifted, "/user.slice/user-5.slice/session-1.scope");
        assert_eq!(owner_uid(shifted), Some(5));
        assert_eq!(owner_uid(own), None);
        assert_eq!(shift_path("/a/b", ""), "/a/b");
        assert_eq!(shift_path("/a/b", "/"), "/a/b");
        assert_eq!(shift_path("/ab/c", "/a"), "/ab/c");
        assert_eq!(shift_path("/a", "/a"), "/");
    }

    #[test]
    fn resolve_as_execvp() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let exe = d.path().join("mypager");
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let plain = d.path().join("plain");
        std::fs::write(&plain, "").unwrap();
        std::fs::set_permissions(&plain, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::create_dir(d.path().join("dir")).unwrap();
        let path = OsString::from(format!("/nonexistent:{}", d.path().display()));
        let path = Some(path.as_os_str());
        assert_eq!(resolve(OsStr::new("mypager"), path), Some(exe.clone()));
        assert_eq!(resolve(exe.as_os_str(), None), Some(exe.clone()));
        assert_eq!(resolve(OsStr::new("missing-program"), path), None);
        assert_eq!(resolve(OsStr::new("dir"), path), None);
        assert_eq!(resolve(OsStr::new(""), path), None);
        assert_eq!(resolve(d.path().join("nope").as_os_str(), path), None);
        assert_eq!(resolve(d.path().join("dir").as_os_str(), path), None);
        // Not executable (root's access(2) wants one execute bit).
        assert_eq!(resolve(OsStr::new("plain"), path), None);
        assert_eq!(resolve(plain.as_os_str(), path), None);
        // A name with a slash is not looked up in PATH.
        assert_eq!(resolve(OsStr::new("x/mypager"), path), None);
    }
}
