//! Issue #12, `provision`: a local user U attacks root's `cgtree provision` through what
//! U controls (their home). Each test is a reproduction of the issue: U plants a program,
//! links, a FIFO, a device or a huge file; root runs `cgtree provision ... --user U` on
//! the live host; nothing U planted may run as root, be written through, hang cgtree or
//! grow its memory without bound. Live tests use a throw-away user, removed after.
//!
//! The root-owned files U aims at are throw-away files in a root-owned temporary
//! directory, never real `/etc` files.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
#[path = "../../tests/support/throwaway_user.rs"]
mod throwaway_user;

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use throwaway_user::ThrowawayUser;

/// What a run of cgtree gave: `None` when it did not finish before the deadline (killed).
struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Runs root's `cgtree ARGS` with `envs`, under a 2 GiB address-space limit (so that an
/// unbounded read fails instead of eating the machine's memory), killed after a generous
/// deadline (a hang becomes a failure, not a stuck test run).
fn cgtree_bounded(args: &[&str], envs: &[(&str, &str)]) -> Option<Run> {
    let mut cmd = Command::new("prlimit");
    cmd.arg("--as=2147483648")
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_cgtree"))
        .args(args)
        .current_dir(common::repo_root())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .envs(envs.iter().copied())
        .stdin(Stdio::null());
    let dir = tempfile::tempdir().unwrap();
    let (o, e) = (dir.path().join("out"), dir.path().join("err"));
    cmd.stdout(fs::File::create(&o).unwrap())
        .stderr(fs::File::create(&e).unwrap());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let status = status?;
    Some(Run {
        stdout: String::from_utf8_lossy(&fs::read(&o).unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&fs::read(&e).unwrap()).into_owned(),
        code: status.code(),
    })
}

/// A root-owned directory (0755) for the files U aims at, removed after.
fn root_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("cgtree-rootfiles-")
        .tempdir()
        .unwrap();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// Every name in `dir` with its bytes (symlinks as their target), sorted.
fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let ft = e.file_type().unwrap();
            let body = if ft.is_symlink() {
                fs::read_link(e.path())
                    .unwrap()
                    .into_os_string()
                    .into_encoded_bytes()
            } else if ft.is_file() {
                fs::read(e.path()).unwrap()
            } else {
                b"<dir>".to_vec()
            };
            (e.file_name().to_string_lossy().into_owned(), body)
        })
        .collect();
    v.sort();
    v
}

/// Rule 1: root never executes anything a user controls; a check executes nothing.
#[test]
fn provision_never_runs_the_users_crun() {
    let Some(u) = ThrowawayUser::create("provision runs no user program") else {
        return;
    };
    // A marker directory both root and U could write to: whoever runs the script leaves
    // their UID there.
    let marks = tempfile::Builder::new()
        .prefix("cgtree-marks-")
        .tempdir()
        .unwrap();
    fs::set_permissions(marks.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let mark = marks.path().join("ran");
    u.sh(&format!(
        "mkdir -p .local/bin && printf '#!/bin/sh\\nid -u >> {}\\necho crun version 1.99.0\\n' > .local/bin/crun && chmod 755 .local/bin/crun",
        mark.display()
    ));
    let who = u.name.as_str();
    type Env<'a> = Vec<(&'a str, &'a str)>;
    let runs: Vec<(Vec<&str>, Env<'_>)> = vec![
        (
            vec!["provision", "check", "crun-version", "--user", who],
            vec![],
        ),
        (
            vec!["provision", "check", "crun-version"],
            vec![("SUDO_USER", who)],
        ),
        (vec!["provision", "--user", who], vec![]),
        (
            vec!["provision", "plan", "crun-version", "--user", who],
            vec![],
        ),
        (
            vec!["provision", "apply", "crun-version", "--user", who],
            vec![],
        ),
    ];
    for (args, envs) in runs {
        let r = cgtree_bounded(&args, &envs).expect("cgtree finished");
        let ran = fs::read_to_string(&mark).unwrap_or_default();
        assert!(
            !ran.lines().any(|l| l.trim() == "0"),
            "`cgtree {}` ran U's ~/.local/bin/crun as root",
            args.join(" ")
        );
        assert!(
            ran.is_empty(),
            "`cgtree {}` executed U's file (a check executes nothing): uids {ran:?}",
            args.join(" ")
        );
        if args.contains(&"check") {
            assert!(
                r.stdout.contains("not run"),
                "the evidence says the version was not read by running it: {}",
                r.stdout
            );
        }
    }
}

/// Rule 2: a link as U's containers.conf to a root-owned file: root edits neither it nor
/// its directory (no backup, no temporary file), and does not show a root-only file's
/// content in the plan.
#[test]
fn apply_never_writes_through_a_users_file_link() {
    let Some(u) = ThrowawayUser::create("provision file link") else {
        return;
    };
    let rd = root_dir();
    let target = rd.path().join("containers.conf");
    fs::write(&target, "[engine]\n# root's own runtime config\n").unwrap();
    fs::set_permissions(&target, fs::Permissions::from_mode(0o644)).unwrap();
    let secret = rd.path().join("secret.toml");
    fs::write(&secret, "secret = \"TOPSECRET-provision\"\n").unwrap();
    fs::set_permissions(&secret, fs::Permissions::from_mode(0o600)).unwrap();
    let before = listing(rd.path());

    u.sh(&format!(
        "mkdir -p .config/containers && ln -s {} .config/containers/containers.conf",
        secret.display()
    ));
    for args in [
        vec!["provision", "plan", "crun-version", "--user", &u.name],
        vec![
            "provision",
            "--json",
            "plan",
            "crun-version",
            "--user",
            &u.name,
        ],
        vec!["provision", "check", "crun-version", "--user", &u.name],
    ] {
        let r = cgtree_bounded(&args, &[]).expect("cgtree finished");
        assert!(
            !r.stdout.contains("TOPSECRET") && !r.stderr.contains("TOPSECRET"),
            "`cgtree {}` showed a root-only file through U's link: {}{}",
            args.join(" "),
            r.stdout,
            r.stderr
        );
    }

    u.sh(&format!(
        "ln -sfn {} .config/containers/containers.conf",
        target.display()
    ));
    let r = cgtree_bounded(
        &[
            "provision",
            "apply",
            "--yes",
            "crun-version",
            "--user",
            &u.name,
        ],
        &[],
    )
    .expect("cgtree finished");
    assert_eq!(
        listing(rd.path()),
        before,
        "root wrote through U's link: {}",
        r.stdout
    );
    assert!(
        fs::symlink_metadata(u.path(".config/containers/containers.conf"))
            .unwrap()
            .file_type()
            .is_symlink(),
        "U's link is left as it is"
    );
    assert!(r.stdout.contains("refused"), "{}", r.stdout);
}

/// Rule 2: `~/.config/containers -> <a root-owned directory>`: the directory link is
/// refused as well (every component, not only the last).
#[test]
fn apply_never_writes_through_a_users_directory_link() {
    let Some(u) = ThrowawayUser::create("provision directory link") else {
        return;
    };
    let rd = root_dir();
    fs::write(rd.path().join("containers.conf"), "[engine]\n").unwrap();
    let before = listing(rd.path());
    u.sh(&format!(
        "mkdir -p .config && ln -s {} .config/containers",
        rd.path().display()
    ));
    let r = cgtree_bounded(
        &[
            "provision",
            "apply",
            "--yes",
            "crun-version",
            "--user",
            &u.name,
        ],
        &[],
    )
    .expect("cgtree finished");
    assert_eq!(
        listing(rd.path()),
        before,
        "root wrote through U's directory link: {}",
        r.stdout
    );
    assert!(r.stdout.contains("refused"), "{}", r.stdout);
}

/// Rule 2: a planted `containers.conf.cgtree-backup -> <root's path>`: the backup is
/// created exclusively under a new name, never through the link; U's file mode (0755)
/// is not copied; the edited file and its backup belong to U.
#[test]
fn backup_is_exclusive_and_modes_are_not_copied() {
    let Some(u) = ThrowawayUser::create("provision backup link") else {
        return;
    };
    let rd = root_dir();
    let aim = rd.path().join("x.sh");
    u.sh(&format!(
        "mkdir -p .config/containers && printf '[engine]\\n# mine\\n' > .config/containers/containers.conf && chmod 0755 .config/containers/containers.conf && ln -s {} .config/containers/containers.conf.cgtree-backup",
        aim.display()
    ));
    let r = cgtree_bounded(
        &[
            "provision",
            "apply",
            "--yes",
            "crun-version",
            "--user",
            &u.name,
        ],
        &[],
    )
    .expect("cgtree finished");
    assert!(
        !aim.exists() && fs::symlink_metadata(&aim).is_err(),
        "root created {} through U's backup link: {}",
        aim.display(),
        r.stdout
    );
    assert!(listing(rd.path()).is_empty());
    let conf = u.path(".config/containers/containers.conf");
    let m = fs::symlink_metadata(&conf).unwrap();
    assert!(m.file_type().is_file());
    assert_eq!((m.uid(), m.gid()), (u.uid, u.gid), "the file stays U's");
    assert_eq!(m.mode() & 0o111, 0, "U's exec bits are not copied");
    assert!(
        fs::read_to_string(&conf).unwrap().contains("crun"),
        "U's own file is edited: {}",
        r.stdout
    );
    // The link is untouched; the backup has another name, U's, with U's old bytes.
    assert_eq!(
        fs::read_link(u.path(".config/containers/containers.conf.cgtree-backup")).unwrap(),
        aim
    );
    let backups: Vec<PathBuf> = fs::read_dir(u.path(".config/containers"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with("containers.conf.cgtree-backup") && !n.ends_with("-backup")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    let b = fs::symlink_metadata(&backups[0]).unwrap();
    assert!(b.file_type().is_file());
    assert_eq!(b.uid(), u.uid);
    assert_eq!(b.mode() & 0o111, 0);
    assert_eq!(fs::read(&backups[0]).unwrap(), b"[engine]\n# mine\n");
}

/// Rule 3: a FIFO, `/dev/zero` (link or device) or a huge sparse file as U's
/// containers.conf: check, plan, dry run and apply finish, memory bounded, and say the
/// file was not read.
#[test]
fn fifo_device_and_huge_file_as_containers_conf_do_not_hang_or_grow() {
    let Some(u) = ThrowawayUser::create("provision fifo") else {
        return;
    };
    let setups = [
        "mkfifo .config/containers/containers.conf",
        "ln -s /dev/zero .config/containers/containers.conf",
        "truncate -s 3G .config/containers/containers.conf",
    ];
    for setup in setups {
        u.sh(&format!(
            "mkdir -p .config/containers && rm -f .config/containers/containers.conf && {setup}"
        ));
        for args in [
            vec!["provision", "check", "crun-version", "--user", &u.name],
            vec!["provision", "plan", "crun-version", "--user", &u.name],
            vec!["provision", "apply", "crun-version", "--user", &u.name],
            vec![
                "provision",
                "apply",
                "--yes",
                "crun-version",
                "--user",
                &u.name,
            ],
        ] {
            let r = cgtree_bounded(&args, &[])
                .unwrap_or_else(|| panic!("`cgtree {}` hung with {setup}", args.join(" ")));
            assert!(
                matches!(r.code, Some(0 | 1)),
                "`cgtree {}` with {setup}: exit {:?}: {}",
                args.join(" "),
                r.code,
                r.stderr
            );
            if args.contains(&"check") {
                assert!(
                    r.stdout.contains("containers.conf: cannot be read: "),
                    "the check says the file was not read: {}",
                    r.stdout
                );
            }
            if args.contains(&"--yes") {
                assert_eq!(r.code, Some(1), "apply refuses it: {}", r.stdout);
                assert!(r.stdout.contains("refused"), "{}", r.stdout);
            }
        }
    }
}

/// Rule 8: what `--run-commands` downloads comes over https, is checked against a
/// sha256 before use, into a private directory; without a known checksum, nothing is
/// downloaded and the plan says which checksum to give. No network: the plan's argv.
#[test]
fn downloads_are_https_checksummed_and_private() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("host");
    common::copy_tree(
        &common::repo_root().join("fixtures/wsl-fresh-ubuntu"),
        &root,
    );
    let (out, err, code) = common::run_root(
        &root,
        &[
            "provision",
            "--json",
            "plan",
            "cni-plugins",
            "crun-version",
            "--crun-version",
            "1.14.4",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut downloads = 0;
    let mut notes = String::new();
    for s in v["steps"].as_array().unwrap() {
        for n in s["plan"]["notes"].as_array().unwrap() {
            notes.push_str(n.as_str().unwrap());
            notes.push('\n');
        }
        for c in s["plan"]["commands"].as_array().unwrap() {
            let argv: Vec<&str> = c["argv"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            let line = argv.join(" ");
            assert!(!line.contains("http://"), "plain http: {line}");
            assert!(
                !(argv.first() == Some(&"dpkg") || argv.first() == Some(&"curl")),
                "a bare download or install (working directory, no checksum): {line}"
            );
            if line.contains("curl") || line.contains("wget") {
                downloads += 1;
                assert!(line.contains("https://"), "{line}");
                assert!(
                    line.contains("--proto =https") || line.contains("--proto '=https'"),
                    "{line}"
                );
                assert!(line.contains("mktemp -d"), "a private directory: {line}");
                // `-q` first: curl reads no ~/.curlrc (a user's could point it at a socket
                // that never answers, or add raw escapes to its output).
                assert!(line.contains("curl -q --"), "curl reads no rc file: {line}");
                assert!(line.contains("sha256sum"), "a checksum check: {line}");
                let hex = line
                    .split(|c: char| !c.is_ascii_hexdigit())
                    .any(|w| w.len() == 64);
                assert!(hex, "a pinned sha256: {line}");
            }
        }
    }
    if downloads < 2 {
        assert!(
            notes.contains("sha256"),
            "without a known checksum the plan asks for one: {notes}"
        );
    }
}

/// Rule 2 for root's own files: in a directory someone else may change (owned by
/// another UID, here `etc/systemd/system` of a fixture copy), a planted link is not
/// followed and nothing is written there; root's files keep being edited through root's
/// own links.
#[test]
fn roots_files_behind_a_directory_others_control_are_refused() {
    if !nix::unistd::geteuid().is_root() {
        return; // chown needs root
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("host");
    common::copy_tree(
        &common::repo_root().join("fixtures/wsl-fresh-ubuntu"),
        &root,
    );
    let units = root.join("etc/systemd/system");
    fs::create_dir_all(&units).unwrap();
    // Another user's directory (UID 4242), holding that user's link to root's passwd.
    std::os::unix::fs::chown(&units, Some(4242), Some(4242)).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", units.join("user-0.slice")).unwrap();
    let passwd = fs::read(root.join("etc/passwd")).unwrap();
    let (out, _, code) = common::run_root(&root, &["provision", "apply", "--yes", "user-0-slice"]);
    assert_eq!(fs::read(root.join("etc/passwd")).unwrap(), passwd, "{out}");
    assert!(
        fs::read_dir(root.join("etc")).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("cgtree")),
        "no backup or temporary file next to root's passwd: {out}"
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("refused"), "{out}");
}
