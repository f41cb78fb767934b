//! A throw-away local user for the security tests: an attacker with nothing but an
//! account. Shared by the integration tests of both crates (`#[path]`-included).
//!
//! `ThrowawayUser::create` adds a user with a unique name (`cgtu<hex>`) and a free UID in
//! 2100..59999, a home directory it owns (mode 0755, under a root-owned temporary
//! directory), and no password. Everything it made is removed on `Drop`, also when the
//! test fails: the processes it started (by their own PIDs only), the user and its group
//! (`userdel`), its home and `/run/user/UID` when the test asked for one. Needs root; with
//! `CGTREE_SKIP_LIVE=1` it returns `None` (skip) instead of failing.
#![allow(dead_code, clippy::unwrap_used)]

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

/// A local user created for one test and removed after it.
pub struct ThrowawayUser {
    /// Login name.
    pub name: String,
    /// UID (== GID of its own group).
    pub uid: u32,
    /// GID of its own group.
    pub gid: u32,
    /// Its home directory (owned by it, mode 0755).
    pub home: PathBuf,
    base: tempfile::TempDir,
    children: Vec<Child>,
    run_user: Option<PathBuf>,
}

fn skip_live(what: &str) -> bool {
    let skip = std::env::var_os("CGTREE_SKIP_LIVE").is_some_and(|v| v == "1");
    if !nix::unistd::geteuid().is_root() {
        assert!(
            skip,
            "{what} needs root (a throw-away user); set CGTREE_SKIP_LIVE=1 to skip it"
        );
        eprintln!("{what} skipped (not root, CGTREE_SKIP_LIVE=1)");
        return true;
    }
    false
}

fn uid_taken(uid: u32) -> bool {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .is_some()
        || nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(uid))
            .ok()
            .flatten()
            .is_some()
}

impl ThrowawayUser {
    /// Creates the user, or `None` when live tests are skipped (`CGTREE_SKIP_LIVE=1`
    /// and not root). Panics when it cannot be made as root (`useradd` missing, ...).
    pub fn create(what: &str) -> Option<Self> {
        if skip_live(what) {
            return None;
        }
        let base = tempfile::Builder::new()
            .prefix("cgtree-user-")
            .tempdir()
            .unwrap();
        std::fs::set_permissions(base.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            ^ (u64::from(std::process::id()) << 20);
        for attempt in 0..200u64 {
            let x = seed
                .wrapping_add(attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15))
                .wrapping_mul(0x2545_f491_4f6c_dd1d);
            let uid = 2100 + (x % 57_000) as u32;
            if uid_taken(uid) {
                continue;
            }
            let name = format!("cgtu{:08x}", (x >> 16) as u32);
            let home = base.path().join(&name);
            let path = [("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")];
            // Its own group first (GID == UID), then the user in it.
            let g = Command::new("groupadd")
                .arg("-g")
                .arg(uid.to_string())
                .arg(&name)
                .envs(path)
                .output()
                .expect("groupadd (passwd package)");
            if !g.status.success() {
                // Taken meanwhile by a parallel test, or the lock was busy: retry.
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            }
            let out = Command::new("useradd")
                .args(["-M", "-s", "/bin/sh", "-g", &name])
                .arg("-u")
                .arg(uid.to_string())
                .arg("-d")
                .arg(&home)
                .arg(&name)
                .envs(path)
                .output()
                .expect("useradd (passwd package)");
            if !out.status.success() {
                let _ = Command::new("groupdel").arg(&name).envs(path).output();
                std::thread::sleep(std::time::Duration::from_millis(20));
                continue;
            }
            let user = ThrowawayUser {
                name,
                uid,
                gid: uid,
                home: home.clone(),
                base,
                children: Vec::new(),
                run_user: None,
            };
            std::fs::create_dir(&home).unwrap();
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::os::unix::fs::chown(&home, Some(uid), Some(uid)).unwrap();
            return Some(user);
        }
        panic!("no free UID for a throw-away user after 200 tries");
    }

    /// A command that runs `program` as this user (`setpriv`, its UID, GID and only its
    /// own group, environment cleared but PATH and HOME).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("setpriv");
        c.arg(format!("--reuid={}", self.uid))
            .arg(format!("--regid={}", self.gid))
            .arg("--clear-groups")
            .arg("--")
            .arg(program)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &self.home)
            .current_dir(&self.home)
            .stdin(Stdio::null());
        c
    }

    /// Runs `sh -c script` as this user and asserts it succeeds.
    pub fn sh(&self, script: &str) -> Output {
        let out = self.command("sh").arg("-c").arg(script).output().unwrap();
        assert!(
            out.status.success(),
            "as {}: {script}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts `cmd` (made with [`command`](Self::command)) in the background, waits until
    /// it runs as the user (setpriv has exec'd it), and returns its PID; it is killed by
    /// its own PID when this user is dropped.
    pub fn spawn(&mut self, cmd: &mut Command) -> u32 {
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        // Wait (up to 10 s) until setpriv has switched to the user and exec'd the program,
        // so that the caller sees the process as it will stay.
        for _ in 0..1000 {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let uid_ok = status.lines().any(|l| {
                l.strip_prefix("Uid:")
                    .and_then(|r| r.split_whitespace().next())
                    .is_some_and(|u| u == self.uid.to_string())
            });
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if uid_ok && comm.trim_end() != "setpriv" {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        pid
    }

    /// Creates `/run/user/UID` (owned by the user, 0700), removed on drop.
    pub fn runtime_dir(&mut self) -> PathBuf {
        let d = PathBuf::from(format!("/run/user/{}", self.uid));
        std::fs::create_dir_all("/run/user").unwrap();
        std::fs::create_dir(&d).unwrap();
        std::os::unix::fs::chown(&d, Some(self.uid), Some(self.gid)).unwrap();
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
        self.run_user = Some(d.clone());
        d
    }

    /// `rel` under the home directory.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.home.join(rel)
    }
}

impl Drop for ThrowawayUser {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Whatever else runs as this UID was started by the test through this user (a
        // shell's background child, a double fork): the UID is unique to the test, so
        // every process with it is the test's own. Kill them by PID until none is left.
        for _ in 0..100 {
            let pids = pids_of_uid(self.uid);
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if let Some(d) = &self.run_user {
            // remove_dir_all does not follow the user's symlinks.
            let _ = std::fs::remove_dir_all(d);
        }
        let env = [("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")];
        // userdel refuses while a process of the UID exists, a zombie included (one
        // this test started and has not reaped: reaped here when it is this process's
        // child), and while another test holds the passwd lock: up to 15 s of retries.
        let mut ok = false;
        let mut last = String::new();
        for _ in 0..300 {
            let out = Command::new("userdel").arg(&self.name).envs(env).output();
            match out {
                Ok(o) if o.status.success() => {
                    ok = true;
                    break;
                }
                Ok(o) => last = String::from_utf8_lossy(&o.stderr).trim().to_string(),
                Err(e) => last = e.to_string(),
            }
            for pid in zombies_of_uid(self.uid) {
                let _ = nix::sys::wait::waitpid(
                    nix::unistd::Pid::from_raw(pid),
                    Some(nix::sys::wait::WaitPidFlag::WNOHANG),
                );
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let _ = Command::new("groupdel").arg(&self.name).envs(env).output();
        if !ok || uid_taken(self.uid) {
            eprintln!(
                "throw-away user {} ({}) not removed: {last}",
                self.name, self.uid
            );
        }
        // The home goes with `base` (TempDir, whose removal does not follow links).
    }
}

/// PIDs of the living processes whose real or effective UID is `uid`.
pub fn pids_of_uid(uid: u32) -> Vec<i32> {
    uid_processes(uid, false)
}

/// PIDs of the zombies whose real or effective UID is `uid`.
fn zombies_of_uid(uid: u32) -> Vec<i32> {
    uid_processes(uid, true)
}

/// PIDs of the processes whose real or effective UID is `uid`: the zombies, or the
/// others.
fn uid_processes(uid: u32, zombies: bool) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let mine = status.lines().any(|l| {
            l.strip_prefix("Uid:")
                .is_some_and(|r| r.split_whitespace().take(2).any(|u| u == uid.to_string()))
        });
        let zombie = status
            .lines()
            .any(|l| l.starts_with("State:") && l.contains('Z'));
        if mine && zombie == zombies {
            out.push(pid);
        }
    }
    out
}
