//! The pager on a terminal, as systemd's tools open theirs (systemd's
//! src/shared/pager.c, `pager_open` and `pager_close`):
//!
//! - the command is `$SYSTEMD_PAGER`, else `$PAGER`; set to the empty string or to `cat`,
//!   there is no pager; unset, `less`;
//! - the pager's environment has `LESS` set to `$SYSTEMD_LESS`, else `FRSXMK` (quit when
//!   the text fits one screen, colours as they are, lines chopped, no terminal
//!   initialisation, long prompt, quit on Ctrl-C);
//! - only when standard output is a terminal (never into a pipe or a file), and not with
//!   `--no-pager`; the width and whether to colour are decided from the terminal before
//!   standard output is replaced by the pipe to the pager;
//! - a command with no blank or shell character is run as it is (found in `PATH`), any
//!   other through `sh -c`, as systemd (`execlp`, then `sh -c`);
//! - standard output (and standard error while it is the same terminal) go to the pager;
//!   at the end cgtree closes its end of the pipe, sends the pager `SIGCONT` and waits
//!   for it. The pager's own exit status is not cgtree's: quitting it early (`q`) is no
//!   error, and what cgtree still writes then meets a broken pipe, a quiet end
//!   ([`crate::finish`]).
//!
//! Unlike systemd (pager.c as of commits 01da2014 and ce30c8dc of systemd/systemd), a
//! pager that cannot be started (not found, not executable) is not replaced by `pager`,
//! `more` or a copy loop: cgtree writes to the terminal itself. Not done either:
//! `PR_SET_PDEATHSIG` in the child (it needs an unsafe `pre_exec`; cgtree waits for the
//! pager instead, and a killed cgtree closes the pipe, which ends the pager's input) and
//! `LESSCHARSET`. Signals are left as they are: Ctrl-C reaches both, and `less` with `K`
//! quits on it, as with systemd's tools.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::process::{Child, Command, Stdio};

/// `LESS` when `$SYSTEMD_LESS` is not set (systemd's default).
pub const DEFAULT_LESS: &str = "FRSXMK";

/// The pager when neither `$SYSTEMD_PAGER` nor `$PAGER` is set.
pub const DEFAULT_PAGER: &str = "less";

/// The pager command from `$SYSTEMD_PAGER` and `$PAGER` (the first that is set wins);
/// `None`: no pager (set to the empty string or to `cat`).
pub fn command(systemd_pager: Option<&OsStr>, pager: Option<&OsStr>) -> Option<OsString> {
    match systemd_pager.or(pager) {
        Some(p) if p.is_empty() || p == "cat" => None,
        Some(p) => Some(p.to_os_string()),
        None => Some(DEFAULT_PAGER.into()),
    }
}

/// `LESS` for the pager: `$SYSTEMD_LESS` when set, else [`DEFAULT_LESS`].
pub fn less_options(systemd_less: Option<&OsStr>) -> OsString {
    systemd_less.map_or_else(|| DEFAULT_LESS.into(), OsStr::to_os_string)
}

/// Whether `cmd` needs a shell (a blank, a quote or any other character `sh` acts on):
/// then it runs as `sh -c CMD`; otherwise as the program `CMD`.
fn needs_shell(cmd: &OsStr) -> bool {
    use std::os::unix::ffi::OsStrExt;
    cmd.as_bytes().iter().any(|b| {
        b.is_ascii_whitespace()
            || matches!(
                b,
                b'\''
                    | b'"'
                    | b'\\'
                    | b'$'
                    | b'`'
                    | b'|'
                    | b'&'
                    | b';'
                    | b'<'
                    | b'>'
                    | b'('
                    | b')'
                    | b'*'
                    | b'?'
                    | b'['
                    | b'~'
                    | b'#'
                    | b'='
            )
    })
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
/// `None` when there is none to start or it could not be started (the output then goes
/// to the terminal as it is). The caller decides everything that depends on the
/// terminal (width, colours) before calling this.
pub fn open() -> Option<Pager> {
    if !crate::term::stdout_is_terminal() {
        return None;
    }
    let cmd = command(
        std::env::var_os("SYSTEMD_PAGER").as_deref(),
        std::env::var_os("PAGER").as_deref(),
    )?;
    let less = less_options(std::env::var_os("SYSTEMD_LESS").as_deref());
    spawn(&cmd, &less).ok()
}

/// Starts `cmd` reading a new pipe, with `LESS=less`, and moves standard output (and
/// standard error while it is a terminal) to the pipe. Errors: the pipe, the start of
/// the pager, or a descriptor that cannot be duplicated (then nothing was redirected
/// and the pager, if started, is waited for).
fn spawn(cmd: &OsStr, less: &OsStr) -> io::Result<Pager> {
    let (read, write) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    let mut c = if needs_shell(cmd) {
        let mut c = Command::new("/bin/sh");
        c.arg("-c").arg(cmd);
        c
    } else {
        Command::new(cmd)
    };
    let mut child = c.stdin(Stdio::from(read)).env("LESS", less).spawn()?;
    match crate::term::redirect_stdio(&write) {
        Ok((saved_out, saved_err)) => Ok(Pager {
            child,
            saved_out,
            saved_err,
        }),
        Err(e) => {
            // Our end closed: the pager sees the end of its input and exits.
            drop(write);
            let _ = child.wait();
            Err(e)
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

    fn os(s: &str) -> Option<&OsStr> {
        Some(OsStr::new(s))
    }

    #[test]
    fn systemd_pager_then_pager_then_less() {
        assert_eq!(command(None, None), Some("less".into()));
        assert_eq!(command(None, os("most")), Some("most".into()));
        assert_eq!(command(os("pg"), os("most")), Some("pg".into()));
        // Empty or `cat`: no pager, and `$PAGER` is not looked at then.
        assert_eq!(command(os(""), os("most")), None);
        assert_eq!(command(os("cat"), os("most")), None);
        assert_eq!(command(None, os("")), None);
        assert_eq!(command(None, os("cat")), None);
        // Only exactly `cat`.
        assert_eq!(command(None, os("/bin/cat")), Some("/bin/cat".into()));
    }

    #[test]
    fn less_options_default_to_systemds() {
        assert_eq!(less_options(None), OsString::from("FRSXMK"));
        assert_eq!(less_options(os("R")), OsString::from("R"));
        assert_eq!(less_options(os("")), OsString::from(""));
    }

    #[test]
    fn a_command_with_arguments_goes_through_the_shell() {
        assert!(!needs_shell(OsStr::new("less")));
        assert!(!needs_shell(OsStr::new("/usr/bin/less")));
        assert!(needs_shell(OsStr::new("less -R")));
        assert!(needs_shell(OsStr::new("LESS=x less")));
        assert!(needs_shell(OsStr::new("less|tee")));
    }
}
