//! Issue #12, `provision`'s I/O primitive (`cgroup_core::files`) against a throw-away user: in a
//! user's home, root reads and writes with the user's filesystem credentials (the kernel
//! refuses what the user could not do), follows no link, and other threads keep root's
//! credentials.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

#[path = "../../tests/support/throwaway_user.rs"]
mod throwaway_user;

use cgroup_core::files::{self as user, FileError, Place, Replaced, Write};
use nix::errno::Errno;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use throwaway_user::ThrowawayUser;

fn write<'a>(expect: Option<&'a [u8]>, content: &'a [u8]) -> Write<'a> {
    let mut w = Write::new(expect, content);
    w.keep_mask = 0o644;
    w
}

#[test]
fn a_users_home_is_worked_in_with_the_users_rights() {
    let Some(u) = ThrowawayUser::create("fs::user credentials") else {
        return;
    };
    let place = Place::User {
        dir: u.home.clone(),
        creds: Some((u.uid, u.gid)),
    };
    let root = Path::new("/");
    // A root-only file in U's home: root could read it, U cannot; so neither may
    // cgtree working there.
    let secret = u.path("root-only");
    fs::write(&secret, "TOPSECRET").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    assert_eq!(
        user::read(root, &secret, &place, 1 << 20),
        Err(FileError::Os(Errno::EACCES as i32))
    );
    // Without the user's credentials (a fixture), the same read works: the refusal
    // above is the kernel applying U's rights.
    let as_root = Place::User {
        dir: u.home.clone(),
        creds: None,
    };
    assert_eq!(
        user::read(root, &secret, &as_root, 1 << 20).unwrap(),
        b"TOPSECRET"
    );
    // A new file (and its directories) in U's home, made as U: U's, because the kernel
    // made them with U's filesystem credentials (no chown).
    let r = user::replace(
        root,
        &u.path(".config/containers/containers.conf"),
        &place,
        &write(None, b"[engine]\n"),
    )
    .unwrap();
    assert_eq!(r, Replaced::Written(None));
    for p in [
        u.path(".config"),
        u.path(".config/containers"),
        u.path(".config/containers/containers.conf"),
    ] {
        let m = fs::symlink_metadata(&p).unwrap();
        assert_eq!((m.uid(), m.gid()), (u.uid, u.gid), "{}", p.display());
    }
    assert_eq!(
        fs::metadata(u.path(".config")).unwrap().mode() & 0o777,
        0o700
    );
    // A FIFO U planted: not opened for reading, no hang.
    u.sh("mkfifo .config/containers/fifo");
    assert_eq!(
        user::read(root, &u.path(".config/containers/fifo"), &place, 100),
        Err(FileError::NotRegular)
    );
    // A root-owned directory U links to: refused at the link (a parent component).
    let rd = tempfile::tempdir().unwrap();
    fs::write(rd.path().join("f"), "root's").unwrap();
    std::os::unix::fs::symlink(rd.path(), u.path("l")).unwrap();
    assert_eq!(
        user::replace(root, &u.path("l/f"), &place, &write(Some(b"root's"), b"x")),
        Err(FileError::Os(Errno::ELOOP as i32))
    );
    assert_eq!(fs::read(rd.path().join("f")).unwrap(), b"root's");
    // The rest of the process is still root.
    assert!(nix::unistd::geteuid().is_root());
    assert_eq!(fs::read(&secret).unwrap(), b"TOPSECRET");
    let fsuid = nix::unistd::setfsuid(nix::unistd::Uid::from_raw(0));
    assert_eq!(fsuid.as_raw(), 0, "this thread's fsuid is root's");
}

/// Rule 1 for `--run-commands`: a user's command runs as that user (UID, GID, no root
/// groups), with a cleared environment; a program is taken only from root's directories.
#[test]
fn commands_run_as_the_user_with_a_clean_environment() {
    use cgroup_provision::{Command, Runner, SystemRunner};
    let Some(u) = ThrowawayUser::create("provision runner") else {
        return;
    };
    let out = tempfile::Builder::new()
        .prefix("cgtree-runner-")
        .tempdir()
        .unwrap();
    fs::set_permissions(out.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let f = out.path().join("seen");
    // A variable only root's environment has: the user's command must not see it.
    std::env::set_var("CGTREE_ROOT_ONLY_SECRET", "x");
    let cmd = Command::new(
        vec![
            "sh".into(),
            "-c".into(),
            format!("{{ id -u; id -G; env; }} > {}", f.display()),
        ],
        "test",
    )
    .as_user(u.name.clone());
    assert_eq!(SystemRunner::default().run(&cmd).unwrap().code, 0);
    let seen = fs::read_to_string(&f).unwrap();
    let mut lines = seen.lines();
    assert_eq!(lines.next(), Some(u.uid.to_string().as_str()), "{seen}");
    assert_eq!(
        lines.next(),
        Some(u.gid.to_string().as_str()),
        "no other group: {seen}"
    );
    assert!(!seen.contains("CGTREE_ROOT_ONLY_SECRET"), "{seen}");
    assert!(
        seen.contains(&format!("HOME={}", u.home.display())),
        "{seen}"
    );
    assert_eq!(fs::metadata(&f).unwrap().uid(), u.uid);
    // Only programs from root's own directories, by name.
    for bad in [
        u.path("crun").display().to_string(),
        "../bin/sh".into(),
        String::new(),
    ] {
        let c = Command::new(vec![bad.clone()], "test");
        assert!(SystemRunner::default().run(&c).is_err(), "{bad:?} was run");
    }
}

/// The breaker's finding after the first fix: a user's command inherited root's terminal
/// (its controlling terminal, stdout and stderr), so it could push keystrokes into root's
/// shell (`TIOCSTI`) or write raw escapes around cgtree's output, and it ran with no
/// timeout. Now it leads a session of its own (no controlling terminal), its output is
/// captured (bounded, for the renderer to escape), and it is killed with its process
/// group at the timeout.
#[test]
fn commands_have_no_terminal_their_output_is_captured_and_they_time_out() {
    use cgroup_provision::{Command, Runner, SystemRunner};
    let Some(u) = ThrowawayUser::create("provision runner session") else {
        return;
    };
    let cmd = Command::new(
        vec![
            "sh".into(),
            "-c".into(),
            "printf '\\033]0;title\\007'; cat /proc/self/stat; echo; echo $$".into(),
        ],
        "test",
    )
    .as_user(u.name.clone());
    let done = SystemRunner::default().run(&cmd).unwrap();
    assert_eq!(done.code, 0);
    assert!(!done.timed_out);
    // Captured, raw (the renderer escapes it): nothing reached our own stdout or stderr.
    assert!(
        done.output.starts_with(b"\x1b]0;title\x07"),
        "{:?}",
        done.output
    );
    let text = String::from_utf8_lossy(&done.output).into_owned();
    let stat = text
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("\u{1b}]0;title\u{7}");
    // /proc/PID/stat after the command name: state ppid pgrp session tty_nr ...
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split(' ').collect();
    let (pgrp, session, tty_nr) = (f[2], f[3], f[4]);
    assert_eq!(tty_nr, "0", "no controlling terminal: {stat}");
    let shell = text.lines().last().unwrap();
    assert_eq!(session, shell, "the command leads its own session: {stat}");
    assert_eq!(pgrp, shell, "and its own process group: {stat}");

    // The timeout kills the command and what it started in its group.
    let slow = Command::new(
        vec![
            "sh".into(),
            "-c".into(),
            "sleep 600 & sleep 600; echo never".into(),
        ],
        "test",
    )
    .as_user(u.name.clone());
    let runner = &mut SystemRunner {
        timeout: std::time::Duration::from_secs(1),
    };
    let done = runner.run(&slow).unwrap();
    assert!(done.timed_out && done.code == -1, "{done:?}");
    assert!(!String::from_utf8_lossy(&done.output).contains("never"));
    for _ in 0..100 {
        if throwaway_user::pids_of_uid(u.uid).is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(
        throwaway_user::pids_of_uid(u.uid).is_empty(),
        "the command's background job was killed with it"
    );
}
