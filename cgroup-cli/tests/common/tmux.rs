//! A tmux server of its own for tests that need a terminal (`cgtree top`'s screen, the
//! pager): keys sent, screen captured, the session killed at the end.

use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own (its socket in a temporary directory) with one session;
/// killed (that session, by its unique name, on that socket) when dropped, even on
/// failure, and the socket's directory removed.
pub struct Tmux {
    dir: tempfile::TempDir,
    /// The session's name (unique).
    pub session: String,
}

impl Tmux {
    /// `tmux -S SOCKET`.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(self.dir.path().join("socket"));
        c
    }

    /// Starts `shell_command` in a 160x40 session.
    pub fn start(what: &str, shell_command: &str) -> Tmux {
        Tmux::start_sized(what, shell_command, 160, 40)
    }

    /// Starts `shell_command` in a `width` x `height` session.
    pub fn start_sized(what: &str, shell_command: &str, width: u16, height: u16) -> Tmux {
        if Command::new("tmux").arg("-V").output().is_err() {
            panic!("tmux is needed for this test (.ci/run installs it)");
        }
        let t = Tmux {
            dir: tempfile::tempdir().unwrap(),
            session: super::unique_cgroup_name(what),
        };
        let st = t
            .cmd()
            .args(["-f", "/dev/null", "new-session", "-d", "-s", &t.session])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(shell_command)
            .env_remove("TMUX")
            .status()
            .unwrap();
        assert!(st.success());
        t
    }

    /// `send-keys`.
    pub fn send(&self, keys: &[&str]) {
        let st = self
            .cmd()
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .unwrap();
        assert!(st.success(), "send-keys {keys:?}");
    }

    /// The visible screen (`capture-pane -p`).
    pub fn screen(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its SGR sequences (`capture-pane -e`).
    pub fn screen_sgr(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-e", "-p", "-t", &self.session])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A `display-message` format, e.g. `#{pane_pid}`.
    pub fn format(&self, f: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", "-t", &self.session, f])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits (up to 15 s, a guard against a hang, not a speed check) until the screen
    /// passes `ok`; returns it, or fails showing the last screen.
    pub fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let end = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            assert!(Instant::now() < end, "waiting for {what}; screen:\n{s}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .cmd()
            .args(["kill-session", "-t", &self.session])
            .output();
    }
}
