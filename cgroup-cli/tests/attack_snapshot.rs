//! `cgtree snapshot` against a local user who attacks it (issue #12): root never writes
//! through a path a user controls, never outside OUT, never leaves a partial OUT, and
//! copes with any cgroup depth.
//!
//! The attacker is a throw-away user (tests/support/throwaway_user.rs); the files it aims
//! at are throw-away root-owned files in a root-only temporary directory, never real
//! system files.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
#[path = "../../tests/support/throwaway_user.rs"]
mod throwaway_user;

use std::ffi::CString;
use std::fs;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use throwaway_user::ThrowawayUser;

/// A root-only (0700) directory holding root-owned victim files `etc/passwd` and
/// `p/cmdline`, each with a known content: the files the attacker aims at.
struct Victims {
    dir: tempfile::TempDir,
}

impl Victims {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cgtree-victim-")
            .tempdir()
            .unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        for f in ["etc/passwd", "p/cmdline"] {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, "victim\n").unwrap();
        }
        Victims { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Every victim file still holds "victim", and nothing was added next to them.
    fn assert_intact(&self, what: &str) {
        for f in ["etc/passwd", "p/cmdline"] {
            let got = fs::read(self.path().join(f)).unwrap();
            assert_eq!(
                got,
                b"victim\n",
                "{what}: root wrote through the user's link into {f}: {:?}",
                String::from_utf8_lossy(&got[..got.len().min(80)])
            );
        }
        let mut names: Vec<String> = Vec::new();
        for d in ["", "etc", "p"] {
            for e in fs::read_dir(self.path().join(d)).unwrap() {
                names.push(format!("{d}/{}", e.unwrap().file_name().to_string_lossy()));
            }
        }
        names.sort();
        assert_eq!(
            names,
            ["/etc", "/p", "etc/passwd", "p/cmdline"],
            "{what}: root created files in the victim directory"
        );
    }
}

/// A unique name in the shared temporary directory (`/tmp/cgtree-snap-<what>-...`).
fn shared_tmp(what: &str) -> PathBuf {
    std::env::temp_dir().join(common::unique_cgroup_name(&format!("snap-{what}")))
}

/// Removes `p` (a directory tree, or a link), whatever it is; links are not followed.
fn remove(p: &Path) {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            let _ = fs::remove_dir_all(p);
        }
        Ok(_) => {
            let _ = fs::remove_file(p);
        }
        Err(_) => {}
    }
}

/// Removes what a test made in the shared temporary directory, even on failure.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for p in &self.0 {
            remove(p);
        }
        // A staging directory a failed snapshot left next to OUT would be a bug, but is
        // removed too.
        let tmp = std::env::temp_dir();
        for p in &self.0 {
            let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            for e in fs::read_dir(&tmp).into_iter().flatten().flatten() {
                let n = e.file_name().to_string_lossy().into_owned();
                if n.starts_with(".cgtree-snapshot-") && n.contains(name) {
                    remove(&e.path());
                }
            }
        }
    }
}

/// The attacker's loop: as soon as `proc/self/mountinfo` appears in OUT (or in any
/// directory named like OUT next to it), link `etc` to the victims' `etc` and swap
/// `proc` for a directory whose `<its own pid>` links to the victims' `p`; as fast as it
/// can, until the deadline (seconds) or `stop` exists.
fn race_script(out: &Path, victims: &Path, stop: &Path, deadline: u32) -> String {
    let parent = out.parent().unwrap().display();
    let name = out.file_name().unwrap().to_string_lossy();
    format!(
        r#"
end=$(( $(date +%s) + {deadline} ))
while [ ! -e '{stop}' ] && [ $(date +%s) -lt $end ]; do
  for d in '{parent}/{name}' '{parent}'/.*{name}* '{parent}'/.cgtree-snapshot-*; do
    [ -e "$d/proc/self/mountinfo" ] || continue
    ln -s '{victims}/etc' "$d/etc" 2>/dev/null
    mv "$d/proc" "$d/proc.$$" 2>/dev/null && mkdir "$d/proc" 2>/dev/null
    ln -s '{victims}/p' "$d/proc/$$" 2>/dev/null
  done
done
"#,
        stop = stop.display(),
        victims = victims.display(),
    )
}

/// `cgtree snapshot OUT` (whole host, live) while `user` runs the race script; returns
/// cgtree's (stdout, stderr, exit code).
fn snapshot_racing(
    user: &mut ThrowawayUser,
    out: &Path,
    victims: &Victims,
    stop: &Path,
) -> (String, String, i32) {
    let script = race_script(out, victims.path(), stop, 60);
    let pid = user.spawn(user.command("sh").arg("-c").arg(&script));
    // Let the loop start spinning.
    std::thread::sleep(Duration::from_millis(200));
    let o = common::cgtree()
        .args(["snapshot", out.to_str().unwrap()])
        .output()
        .unwrap();
    // Give the attacker a moment after the snapshot too, then stop it.
    std::thread::sleep(Duration::from_millis(300));
    fs::write(stop, "").unwrap();
    let _ = pid;
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
        o.status.code().unwrap_or(-1),
    )
}

/// Reproduction 1 (live race): U makes an empty OUT it owns and, as soon as the
/// snapshot's mountinfo appears, links `etc` and `proc/<pid>` to root's files. Root must
/// not write through them: an OUT the user owns is refused before anything is written.
#[test]
fn snapshot_into_a_users_directory_never_writes_through_the_users_links() {
    let Some(mut user) = ThrowawayUser::create("the snapshot race test") else {
        return;
    };
    let victims = Victims::new();
    let out = shared_tmp("race");
    let stop = shared_tmp("race-stop");
    let _clean = Cleanup(vec![out.clone(), stop.clone()]);
    user.sh(&format!("mkdir '{}'", out.display()));
    let (so, se, code) = snapshot_racing(&mut user, &out, &victims, &stop);
    victims.assert_intact("snapshot into a user's directory");
    assert_eq!(code, 2, "a user's OUT must be refused: {so}{se}");
    assert!(
        se.contains("exists") && se.contains("owned by"),
        "the refusal says why: {se}"
    );
    // Nothing of the host landed in the user's directory.
    assert!(!out.join("proc/self/mountinfo").exists());
}

/// Reproduction 1 (live race, fresh OUT): the same attacker races a snapshot into a path
/// that does not exist yet; the snapshot builds in a private directory and only then
/// puts OUT in place, so there is no moment when the user can reach inside it.
#[test]
fn snapshot_into_a_fresh_path_leaves_no_window_for_the_user() {
    let Some(mut user) = ThrowawayUser::create("the fresh snapshot race test") else {
        return;
    };
    let victims = Victims::new();
    let out = shared_tmp("fresh");
    let stop = shared_tmp("fresh-stop");
    let _clean = Cleanup(vec![out.clone(), stop.clone()]);
    let (so, se, code) = snapshot_racing(&mut user, &out, &victims, &stop);
    victims.assert_intact("snapshot into a fresh path");
    assert_eq!(code, 0, "{so}{se}");
    let m = fs::symlink_metadata(&out).unwrap();
    assert!(m.is_dir() && m.uid() == 0, "OUT is root's own directory");
    assert_eq!(m.mode() & 0o077, 0, "OUT is closed to group and others");
    for link in ["etc", "proc"] {
        let m = fs::symlink_metadata(out.join(link)).unwrap();
        assert!(!m.file_type().is_symlink(), "{link} is a link");
    }
    assert!(out.join("proc/self/mountinfo").is_file());
    assert!(fs::read_to_string(out.join("META"))
        .unwrap()
        .contains("Captured with `cgtree snapshot`"));
}

/// Reproduction 1 (deterministic): links the user planted before the snapshot starts:
/// OUT itself a link to a root-only directory, OUT below a user's link, OUT an empty
/// directory the user owns. Each is refused, nothing is written anywhere.
#[test]
fn snapshot_refuses_out_paths_the_user_controls() {
    let Some(user) = ThrowawayUser::create("the planted snapshot links test") else {
        return;
    };
    let victims = Victims::new();
    let empty = victims.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let link = user.path("snap-link");
    let via = user.path("via");
    let owned = user.path("owned");
    user.sh(&format!(
        "ln -s '{e}' '{l}' && ln -s '{v}' '{via}' && mkdir '{o}'",
        e = empty.display(),
        l = link.display(),
        v = victims.path().display(),
        via = via.display(),
        o = owned.display(),
    ));
    for (out, why) in [
        (link.clone(), "a symlink"),
        (via.join("new"), "symlink"),
        (owned.clone(), "owned by"),
    ] {
        let o = common::cgtree()
            .args(["snapshot", out.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}: {err}", out.display());
        assert!(err.contains(why), "{}: {err}", out.display());
    }
    assert_eq!(
        fs::read_dir(&empty).unwrap().count(),
        0,
        "wrote into the link"
    );
    assert!(!victims.path().join("new").exists(), "wrote through `via`");
    assert_eq!(fs::read_dir(&owned).unwrap().count(), 0);
    fs::remove_dir(&empty).unwrap();
    victims.assert_intact("planted links");
}

/// Reproduction 2: a conmon whose pidfile path climbs out with `..` (the resolver reads
/// it inside the root, where `..` stops at the root) must not make the snapshot write
/// outside OUT; the path is left out and META names it.
#[test]
fn a_recorded_pidfile_path_with_dotdot_stays_inside_out() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = tmp.path().join("fx");
    common::copy_tree(
        &common::repo_root().join("fixtures/podman-rootless-cgroupfs"),
        &fx,
    );
    let id = "8746a85f2eedee4963a2b83f08fc774e5eb07f05922362e5d7e61be4d747a55c";
    let userdata =
        format!("/home/bob/.local/share/containers/storage/vfs-containers/{id}/userdata");
    // OUT = tmp/snap: OUT/<userdata: 9 components>/ + 10 `..` is tmp itself.
    let evil = format!("{userdata}{}/escaped/pidfile", "/..".repeat(10));
    let cmdline = fs::read(fx.join("proc/5090/cmdline")).unwrap();
    let old = format!("{userdata}/pidfile");
    let mut args: Vec<Vec<u8>> = cmdline
        .split(|&b| b == 0)
        .filter(|a| !a.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    for a in &mut args {
        if *a == old.as_bytes() {
            *a = evil.clone().into_bytes();
        }
    }
    let mut new = args.join(&0u8);
    new.push(0);
    fs::write(fx.join("proc/5090/cmdline"), new).unwrap();
    // Where the resolver reads it: `..` stops at the root.
    let pidfile = fs::read(fx.join(&old[1..])).unwrap();
    fs::create_dir_all(fx.join("escaped")).unwrap();
    fs::write(fx.join("escaped/pidfile"), pidfile).unwrap();

    let snap = tmp.path().join("snap");
    let (out, err, code) = common::run_root(&fx, &["snapshot", snap.to_str().unwrap()]);
    assert!(
        !tmp.path().join("escaped").exists(),
        "the snapshot wrote outside OUT: {out}{err}"
    );
    assert_eq!(code, 0, "{out}{err}");
    // Refused and named (unless the resolver no longer reads such a pidfile at all).
    let meta = fs::read_to_string(snap.join("META")).unwrap();
    assert!(
        !meta.contains("escaped/pidfile")
            || meta.contains(&format!(
                "{}/escaped/pidfile: refused, it climbs with `..`",
                &evil[1..evil.len() - "/escaped/pidfile".len()]
            )),
        "{meta}"
    );
}

/// A guard for cgroups made with `mkdirat` (paths longer than PATH_MAX): removes them
/// deepest first through directory fds.
struct DeepCgroup {
    base: PathBuf,
    names: Vec<CString>,
}

impl DeepCgroup {
    fn create(base: PathBuf, names: Vec<CString>) -> Self {
        fs::create_dir(&base).unwrap();
        let g = DeepCgroup {
            base,
            names: Vec::new(),
        };
        let mut g = g;
        let mut cur: OwnedFd = open_dir(&g.base);
        for n in names {
            nix::sys::stat::mkdirat(
                cur.as_fd(),
                n.as_c_str(),
                nix::sys::stat::Mode::from_bits_truncate(0o755),
            )
            .unwrap();
            let next = nix::fcntl::openat(
                cur.as_fd(),
                n.as_c_str(),
                nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
                nix::sys::stat::Mode::empty(),
            )
            .unwrap();
            g.names.push(n);
            cur = next;
        }
        g
    }
}

fn open_dir(p: &Path) -> OwnedFd {
    nix::fcntl::open(
        p,
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
        nix::sys::stat::Mode::empty(),
    )
    .unwrap()
}

impl Drop for DeepCgroup {
    fn drop(&mut self) {
        // fds for every level but the last (the test's depth is small enough).
        let mut fds = vec![open_dir(&self.base)];
        for n in &self.names[..self.names.len().saturating_sub(1)] {
            let Ok(fd) = nix::fcntl::openat(
                fds.last().unwrap().as_fd(),
                n.as_c_str(),
                nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
                nix::sys::stat::Mode::empty(),
            ) else {
                break;
            };
            fds.push(fd);
        }
        for (fd, n) in fds.iter().zip(&self.names).rev() {
            let _ = nix::unistd::unlinkat(
                fd.as_fd(),
                n.as_c_str(),
                nix::unistd::UnlinkatFlags::RemoveDir,
            );
        }
        if fs::remove_dir(&self.base).is_err() {
            eprintln!("live test: could not remove {}", self.base.display());
        }
    }
}

/// Reproduction 3: 16 nested 255-byte cgroup names (a path past PATH_MAX) are copied,
/// and the snapshot answers for them like the live host.
#[test]
fn a_cgroup_path_longer_than_path_max_is_snapshotted() {
    let Some(mount) = common::live_mount("the deep-name snapshot test") else {
        return;
    };
    let name = common::unique_cgroup_name("snapdeep");
    let names: Vec<CString> = (0..16)
        .map(|i| CString::new(format!("{i:02}{}", "x".repeat(253))).unwrap())
        .collect();
    let _g = DeepCgroup::create(mount.join(&name), names.clone());
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    let start = format!("/{name}");
    let o = common::cgtree()
        .args(["snapshot", snap.to_str().unwrap(), "--cgroup", &start])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The deepest cgroup's files are there (reached through fds: the path is too long).
    let rel = mount.strip_prefix("/").unwrap().join(&name);
    let mut cur = open_dir(&snap.join(rel));
    for n in &names {
        cur = nix::fcntl::openat(
            cur.as_fd(),
            n.as_c_str(),
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
    }
    nix::sys::stat::fstatat(
        cur.as_fd(),
        "cgroup.procs",
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .unwrap();
    // And it reads back like the live host.
    let args = ["--json", &start];
    let live = common::cgtree().args(args).output().unwrap();
    let snapped = common::cgtree()
        .arg("--root")
        .arg(&snap)
        .args(args)
        .output()
        .unwrap();
    let strip = |b: &[u8]| {
        // Cgroup ids are the directories' inodes: a snapshot's are its own.
        let text = common::mask_ids(std::str::from_utf8(b).unwrap());
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v["mount"]["mountinfo_line"] = serde_json::Value::Null;
        v["cgroup"].clone()
    };
    assert_eq!(strip(&live.stdout), strip(&snapped.stdout));
}

/// Reproduction 4: a FIFO in a hostile `--root` where snapshot reads a kernel file (a
/// process's `comm`, which only the snapshot reads when the command line is not empty)
/// and the kernel version: the snapshot neither hangs nor copies it.
#[test]
fn a_fifo_in_a_hostile_root_neither_hangs_nor_is_copied() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = tmp.path().join("fx");
    common::copy_tree(&common::repo_root().join("fixtures/odd-names"), &fx);
    // A FIFO where a kernel file and where the kernel version would be.
    let victim_fifo = |p: &Path| {
        let _ = fs::remove_file(p);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        nix::unistd::mkfifo(p, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    };
    victim_fifo(&fx.join("proc/sys/kernel/osrelease"));
    let pid = fs::read_dir(fx.join("proc"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| {
            n.parse::<u32>().is_ok()
                && fs::metadata(fx.join("proc").join(n).join("cmdline")).is_ok_and(|m| m.len() > 0)
        })
        .unwrap();
    victim_fifo(&fx.join("proc").join(&pid).join("comm"));
    let snap = tmp.path().join("snap");
    let mut child = common::cgtree()
        .arg("--root")
        .arg(&fx)
        .args(["snapshot", snap.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // A generous deadline only turns a hang into a failure.
    let mut status = None;
    for _ in 0..600 {
        if let Some(s) = child.try_wait().unwrap() {
            status = Some(s);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        panic!("snapshot hung on a FIFO");
    }
    assert!(!snap.join("proc").join(&pid).join("comm").exists());
    let meta = fs::read_to_string(snap.join("META")).unwrap();
    assert!(meta.contains("kernel unknown"), "{meta}");
}

/// Reproduction 3 (depth): a 9,000-deep cgroup tree (as a user with a delegated cgroup
/// can make) in a `--root`: the snapshot neither crashes nor fails, and holds it whole.
/// The snapshot's own copy is iterative (see the unit test
/// `snapshot::tests::a_cgroup_tree_of_any_depth_is_copied_with_an_explicit_stack`), and so
/// is the tree builder that the identification it runs uses.
#[test]
fn a_9000_deep_cgroup_tree_is_snapshotted() {
    const DEPTH: usize = 9000;
    let tmp = tempfile::tempdir().unwrap();
    let fx = tmp.path().join("fx");
    let cg = fx.join("sys/fs/cgroup");
    fs::create_dir_all(&cg).unwrap();
    fs::create_dir_all(fx.join("proc")).unwrap();
    fs::write(cg.join("cgroup.procs"), "").unwrap();
    let mut cur = open_dir(&cg);
    for _ in 0..DEPTH {
        nix::sys::stat::mkdirat(
            cur.as_fd(),
            "d",
            nix::sys::stat::Mode::from_bits_truncate(0o755),
        )
        .unwrap();
        cur = nix::fcntl::openat(
            cur.as_fd(),
            "d",
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )
        .unwrap();
    }
    drop(cur);
    let snap = tmp.path().join("snap");
    let (out, err, code) = common::run_root(&fx, &["snapshot", snap.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("snapshot: {} cgroups", DEPTH + 1)),
        "{out}"
    );
}

/// A snapshot that fails part-way (here: mountinfo names a cgroup2 mount whose directory
/// is missing, found after mountinfo was copied) leaves no partial OUT and no staging
/// directory behind.
#[test]
fn a_failed_snapshot_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    let fx = tmp.path().join("fx");
    fs::create_dir_all(fx.join("proc/self")).unwrap();
    fs::write(
        fx.join("proc/self/mountinfo"),
        "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
    )
    .unwrap();
    let (_, err, code) = common::run_root(&fx, &["snapshot", snap.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("fx")], "{err}");
}

/// Reproduction 5: what a user can influence (a cgroup name with terminal escapes) never
/// reaches the snapshot's stderr raw; META, a report meant to be read, escapes it too.
#[test]
fn untrusted_names_are_escaped_in_messages_and_meta() {
    let tmp = tempfile::tempdir().unwrap();
    let fx = tmp.path().join("fx");
    common::copy_tree(&common::repo_root().join("fixtures/odd-names"), &fx);
    let evil = "evil\u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m";
    let cg = fx.join("sys/fs/cgroup").join(evil);
    fs::create_dir_all(&cg).unwrap();
    fs::write(cg.join("cgroup.procs"), "").unwrap();
    let snap = tmp.path().join("snap");
    let o = common::cgtree()
        .arg("--root")
        .arg(&fx)
        .args([
            "snapshot",
            snap.to_str().unwrap(),
            "--cgroup",
            &format!("/{evil}"),
        ])
        .output()
        .unwrap();
    for (what, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
        assert!(
            !bytes.contains(&0x1b) && !String::from_utf8_lossy(bytes).contains('\u{9b}'),
            "{what} holds raw escapes: {:?}",
            String::from_utf8_lossy(bytes)
        );
    }
    let meta = fs::read(snap.join("META")).unwrap();
    assert!(!meta.contains(&0x1b), "META holds raw escapes");
    // The name itself is data: copied as it is.
    assert!(snap
        .join("sys/fs/cgroup")
        .join(evil)
        .join("cgroup.procs")
        .exists());
}
