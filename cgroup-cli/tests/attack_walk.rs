//! Issue #12, the walk: a local user (or a snapshot someone sends) makes the tree walk
//! crash by depth, run out of file descriptors, hang on a FIFO, eat memory, or report a
//! partial read as a full one. Each test reproduces one attack and checks that cgtree
//! finishes, with the truth on stderr and in its exit status.
//!
//! Live tests (root, the live cgroup2 mount) make their cgroups under a unique name and
//! remove them deepest first on drop, also when the test fails.
#![allow(clippy::unwrap_used)]

mod common;

use common::{cgtree, live_mount, unique_cgroup_name};
use nix::fcntl::{openat, OFlag};
use nix::sys::stat::{mkdirat, Mode};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn describe(o: &Output) -> String {
    use std::os::unix::process::ExitStatusExt;
    format!(
        "status {:?} (signal {:?})\nstderr: {}",
        o.status.code(),
        o.status.signal(),
        String::from_utf8_lossy(&o.stderr[..o.stderr.len().min(4000)])
    )
}

const DIR: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

/// Makes `depth` nested directories named `d` below `base` (which exists), with `mkdirat`
/// relative to the parent's descriptor (the paths are far longer than PATH_MAX); calls
/// `each(fd, level)` in each new directory (level 1 = the first `d`).
fn make_chain(base: &Path, depth: usize, mut each: impl FnMut(&OwnedFd, usize)) {
    let mut fd = nix::fcntl::open(base, DIR, Mode::empty()).unwrap();
    for level in 1..=depth {
        mkdirat(fd.as_fd(), "d", Mode::from_bits_truncate(0o755))
            .unwrap_or_else(|e| panic!("mkdir level {level}: {e}"));
        fd = openat(fd.as_fd(), "d", DIR, Mode::empty()).unwrap();
        each(&fd, level);
    }
}

/// Removes a chain of `d` directories below `base`, deepest first, then `base`: going
/// down with one descriptor at a time, then back up through `..`.
fn remove_chain(base: &Path) {
    let Ok(mut fd) = nix::fcntl::open(base, DIR, Mode::empty()) else {
        return;
    };
    let mut depth = 0usize;
    while let Ok(next) = openat(fd.as_fd(), "d", DIR, Mode::empty()) {
        fd = next;
        depth += 1;
    }
    while depth > 0 {
        // A directory of a `--root` tree holds files; a cgroup's go with it.
        let _ = nix::unistd::unlinkat(
            fd.as_fd(),
            "cgroup.procs",
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        let parent = openat(fd.as_fd(), "..", DIR, Mode::empty()).unwrap();
        // A cgroup whose last process just exited may stay busy for a moment.
        for _ in 0..100 {
            match nix::unistd::unlinkat(parent.as_fd(), "d", nix::unistd::UnlinkatFlags::RemoveDir)
            {
                Err(nix::errno::Errno::EBUSY) => std::thread::sleep(Duration::from_millis(20)),
                _ => break,
            }
        }
        fd = parent;
        depth -= 1;
    }
    drop(fd);
    for _ in 0..100 {
        match std::fs::remove_dir(base) {
            Err(e) if e.raw_os_error() == Some(nix::libc::EBUSY) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            _ => break,
        }
    }
}

/// A chain of cgroups (or directories) removed deepest first on drop, with the processes
/// the test started killed first.
struct Chain {
    base: PathBuf,
    children: Vec<std::process::Child>,
}

impl Drop for Chain {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        remove_chain(&self.base);
        if self.base.exists() {
            eprintln!("attack_walk: could not remove {}", self.base.display());
        }
    }
}

fn spawn_sleep() -> std::process::Child {
    // Long enough to outlive the test on a loaded machine (the 9,000 levels alone took six
    // minutes at a load of 20, and a sleeper that exits first leaves the chain empty,
    // which the tree hides); `Chain`'s drop kills it by its PID.
    Command::new("sleep")
        .arg("7200")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// Writes `pid` into `cgroup.procs` of the directory `fd`.
fn move_into(fd: &OwnedFd, pid: u32) {
    let f = openat(
        fd.as_fd(),
        "cgroup.procs",
        OFlag::O_WRONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    let mut f = std::fs::File::from(f);
    f.write_all(format!("{pid}\n").as_bytes()).unwrap();
}

/// Issue #12, depth: a user with a delegated cgroup makes 9,000 nested cgroups; `cgtree`,
/// `--json` and `userns` died of stack overflow (SIGABRT), and with `ulimit -n` low the
/// walk ran out of descriptors (one held per level). Now: exit 0, every level read, with
/// 64 descriptors as well.
///
/// The process sits at level 2,100 (its cgroup path is longer than PATH_MAX), not at the
/// bottom: a process 9,000 levels down costs every reader of its `/proc/PID/cgroup` time
/// that grows faster than the square of the depth, and this machine's PID 1 polls it.
/// Measured (2026-12-02, 6 s windows): PID 1 used 5 ticks with the process at level
/// 1,000, 59 at 3,000, 272 at 6,000 and 852 (1.4 of the 2 cores) at 9,000, and while it
/// did, a plain Python reader of the chain's `cgroup.procs` took 786 s instead of 0.1 s
/// (the kernel's css_set lock, which `/proc/PID/cgroup` and `cgroup.procs` both take).
/// The walk of all 9,000 levels is what this test is for, and `--all` shows the empty
/// ones below the process.
#[test]
fn nine_thousand_nested_cgroups_live() {
    let Some(mount) = live_mount("attack_walk depth") else {
        return;
    };
    let name = unique_cgroup_name("deep");
    let base = mount.join(&name);
    std::fs::create_dir(&base).unwrap();
    let mut chain = Chain {
        base: base.clone(),
        children: Vec::new(),
    };
    const DEPTH: usize = 9000;
    // Deeper than PATH_MAX (two bytes a level), far from the bottom (see above).
    const PROCESS_LEVEL: usize = 2100;
    let sleeper = spawn_sleep();
    let pid = sleeper.id();
    chain.children.push(sleeper);
    make_chain(&base, DEPTH, |fd, level| {
        if level == PROCESS_LEVEL {
            move_into(fd, pid);
        }
    });
    let start = format!("/{name}");
    let deadline = Duration::from_secs(600);

    // --json --all: the whole chain, the process at its level, exit 0.
    let (o, killed) =
        common::run_with_deadline(cgtree().args([&start, "--json", "--all"]), deadline);
    assert!(!killed, "cgtree --json --all hung");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.matches("\"name\": \"d\"").count(), DEPTH);
    assert_eq!(
        text.matches(&format!("\"pid\": {pid}")).count(),
        1,
        "the process, once"
    );
    assert!(text.ends_with("}\n"));
    // Linear output: indentation stops growing, long paths are null.
    assert!(
        text.len() < DEPTH * 4096,
        "{} bytes of JSON for {DEPTH} levels",
        text.len()
    );

    // Without --all, the empty levels below the process are hidden, the ones above shown.
    let (o, killed) = common::run_with_deadline(cgtree().args([&start, "--json"]), deadline);
    assert!(!killed, "cgtree --json hung");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.matches("\"name\": \"d\"").count(), PROCESS_LEVEL);
    assert!(text.contains(&format!("\"pid\": {pid}")));

    // The same with 64 descriptors: no EMFILE, nothing missing.
    let (o, killed) = common::run_with_deadline(
        Command::new("prlimit")
            .args(["--nofile=64:64", "--"])
            .arg(env!("CARGO_BIN_EXE_cgtree"))
            .args([&start, "--json", "--all"])
            .env("NO_COLOR", "1"),
        deadline,
    );
    assert!(!killed, "cgtree --json with 64 fds hung");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.matches("\"name\": \"d\"").count(), DEPTH);
    assert!(text.contains(&format!("\"pid\": {pid}")));

    // userns builds the whole live tree (this chain included).
    let (o, killed) = common::run_with_deadline(cgtree().arg("userns"), deadline);
    assert!(!killed, "cgtree userns hung");
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));

    // provision check builds the live tree too (kind-cluster check): no crash.
    let (o, killed) = common::run_with_deadline(cgtree().args(["provision", "check"]), deadline);
    assert!(!killed, "cgtree provision check hung");
    assert!(
        o.status.code().is_some(),
        "provision check {}",
        describe(&o)
    );
    assert_ne!(
        o.status.code(),
        Some(101),
        "provision check {}",
        describe(&o)
    );

    // The text view: an explicit stack in the renderer too.
    let (o, killed) = common::run_with_deadline(cgtree().arg(&start), deadline);
    assert!(!killed, "cgtree hung");
    assert_eq!(o.status.code(), Some(0), "cgtree (text) {}", describe(&o));
    drop(chain);
    assert!(!base.exists());
}

/// A 9,000-deep `--root` tree (the library's walk and JSON writer, no live cgroups), with
/// a process at the bottom.
#[test]
fn nine_thousand_nested_directories_root() {
    let d = tempfile::tempdir().unwrap();
    let cg = d.path().join("sys/fs/cgroup");
    std::fs::create_dir_all(&cg).unwrap();
    std::fs::write(cg.join("cgroup.procs"), "").unwrap();
    std::fs::create_dir_all(d.path().join("proc/4242")).unwrap();
    std::fs::write(d.path().join("proc/4242/cmdline"), "bottom\0").unwrap();
    const DEPTH: usize = 9000;
    make_chain(&cg, DEPTH, |fd, level| {
        let body: &[u8] = if level == DEPTH { b"4242\n" } else { b"" };
        let f = openat(
            fd.as_fd(),
            "cgroup.procs",
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        std::fs::File::from(f).write_all(body).unwrap();
    });
    let root = d.path().to_str().unwrap().to_string();
    for args in [&["--json"][..], &["--json", "--all"][..]] {
        let (o, killed) = common::run_with_deadline(
            Command::new("prlimit")
                .args(["--nofile=64:64", "--"])
                .arg(env!("CARGO_BIN_EXE_cgtree"))
                .args(["--root", &root])
                .args(args),
            Duration::from_secs(600),
        );
        assert!(!killed, "{args:?} hung");
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", describe(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        assert_eq!(text.matches("\"name\": \"d\"").count(), DEPTH, "{args:?}");
        assert!(text.contains("\"bottom\""), "{args:?}");
    }
    // Removing 9,000 levels needs descriptors too: deepest first.
    remove_chain(&cg);
}

/// Issue #12, descriptors: 1,000 levels with `ulimit -n 64`. Before: EMFILE about 60
/// levels down, the error pruned with its empty ancestors, exit 0 and nothing on stderr.
#[test]
fn thousand_levels_with_64_descriptors() {
    let d = tempfile::tempdir().unwrap();
    let cg = d.path().join("sys/fs/cgroup");
    std::fs::create_dir_all(&cg).unwrap();
    // The mount's own cgroup.procs: without it the root is not a cgroup2 hierarchy.
    std::fs::write(cg.join("cgroup.procs"), "").unwrap();
    std::fs::create_dir_all(d.path().join("proc/777")).unwrap();
    std::fs::write(d.path().join("proc/777/cmdline"), "deep-one\0").unwrap();
    make_chain(&cg, 1000, |fd, level| {
        let f = openat(
            fd.as_fd(),
            "cgroup.procs",
            OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        let body: &[u8] = if level == 1000 { b"777\n" } else { b"" };
        std::fs::File::from(f).write_all(body).unwrap();
    });
    let (o, killed) = common::run_with_deadline(
        Command::new("prlimit")
            .args(["--nofile=64:64", "--"])
            .arg(env!("CARGO_BIN_EXE_cgtree"))
            .arg("--root")
            .arg(d.path())
            .arg("--json"),
        Duration::from_secs(300),
    );
    assert!(!killed);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert!(o.stderr.is_empty(), "{}", describe(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text.matches("\"name\": \"d\"").count(), 1000);
    assert!(text.contains("\"deep-one\""));
    remove_chain(&cg);
}

/// Issue #12, status that lies: an empty cgroup whose `cgroup.procs` nobody may read
/// (mode 000), read as `nobody`, was dropped with its empty parents: exit 0, silent.
#[test]
fn unreadable_cgroup_procs_is_reported_not_pruned() {
    let Some(mount) = live_mount("attack_walk unreadable") else {
        return;
    };
    let name = unique_cgroup_name("noread");
    let base = mount.join(&name);
    let mut tree = common::LiveTree::default();
    tree.mkdir(&base);
    tree.mkdir(&base.join("a"));
    tree.mkdir(&base.join("a/b"));
    let procs = base.join("a/b/cgroup.procs");
    std::fs::set_permissions(&procs, std::fs::Permissions::from_mode(0o000)).unwrap();
    let (o, killed) = common::run_with_deadline(
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(env!("CARGO_BIN_EXE_cgtree"))
            .arg(format!("/{name}"))
            .env("NO_COLOR", "1"),
        Duration::from_secs(120),
    );
    assert!(!killed);
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}\n{stdout}", describe(&o));
    assert!(
        stderr.contains(&format!("{name}/a/b/cgroup.procs: permission denied")),
        "{stderr}"
    );
    assert!(
        stdout.contains("└─b"),
        "the unreadable cgroup is shown:\n{stdout}"
    );
}

/// Issue #12: under `/proc` mounted with `hidepid=2`, a user saw 1 of ~75 processes, exit
/// 0, silent, and `cgtree pid` said "no process". Now the hidden processes are counted,
/// reported on stderr (exit 1), and `pid` says the process is hidden. Run in a private
/// mount namespace with a fresh proc mounted with hidepid=2, as `nobody`.
#[test]
fn processes_hidden_by_hidepid_are_reported() {
    let Some(mount) = live_mount("attack_walk hidepid") else {
        return;
    };
    let name = unique_cgroup_name("hidepid");
    let base = mount.join(&name);
    let mut tree = common::LiveTree::default();
    tree.mkdir(&base);
    let pid = tree.spawn_sleep();
    std::fs::write(base.join("cgroup.procs"), format!("{pid}\n")).unwrap();
    let bin = env!("CARGO_BIN_EXE_cgtree");
    let script = format!(
        "mount -t proc -o hidepid=2 proc /proc || exit 99
         as_nobody() {{ setpriv --reuid=65534 --regid=65534 --clear-groups -- \"$@\"; }}
         as_nobody {bin} /{name} --json > \"$OUT/json\" 2> \"$OUT/json.err\"; echo $? > \"$OUT/json.rc\"
         as_nobody {bin} /{name} > \"$OUT/tree\" 2> \"$OUT/tree.err\"; echo $? > \"$OUT/tree.rc\"
         as_nobody {bin} pid {pid} > \"$OUT/pid\" 2> \"$OUT/pid.err\"; echo $? > \"$OUT/pid.rc\""
    );
    let out = tempfile::tempdir().unwrap();
    std::fs::set_permissions(out.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (o, killed) = common::run_with_deadline(
        Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .env("OUT", out.path())
            .env("NO_COLOR", "1"),
        Duration::from_secs(120),
    );
    assert!(!killed);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let read = |f: &str| std::fs::read_to_string(out.path().join(f)).unwrap();
    // The tree: the process is counted as hidden, reported, exit 1.
    assert_eq!(read("json.rc").trim(), "1", "{}", read("json.err"));
    let doc: serde_json::Value = serde_json::from_str(&read("json")).unwrap();
    assert_eq!(doc["cgroup"]["hidden_pids"], 1, "{doc}");
    assert_eq!(doc["cgroup"]["processes"], serde_json::json!([]));
    common::validate(&doc).unwrap();
    for err in ["json.err", "tree.err"] {
        let e = read(err);
        assert!(
            e.contains("1 listed process hidden from this user by /proc (mounted with hidepid="),
            "{err}: {e}"
        );
    }
    assert_eq!(read("tree.rc").trim(), "1");
    // `pid`: hidden, not "no process".
    let e = read("pid.err");
    assert!(
        e.contains(&format!("process {pid} is hidden from this user by /proc")),
        "{e}"
    );
    assert!(!e.contains("no process"), "{e}");
    assert_ne!(read("pid.rc").trim(), "0");
}

/// A `--root` host whose `proc/self/mountinfo` says `/proc` had hidepid: PIDs listed in
/// `cgroup.procs` without a `proc/PID` are counted as hidden, not as vanished.
#[test]
fn hidepid_in_a_snapshot_counts_hidden_processes() {
    let d = tempfile::tempdir().unwrap();
    let w = |rel: &str, body: &str| {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    };
    w(
        "proc/self/mountinfo",
        "1 0 0:1 / / rw - ext4 /dev/x rw\n22 1 0:5 / /proc rw - proc proc rw,hidepid=2\n30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
    );
    w("sys/fs/cgroup/cgroup.procs", "");
    w("sys/fs/cgroup/a/cgroup.type", "domain\n");
    w("sys/fs/cgroup/a/cgroup.procs", "10\n11\n12\n");
    w("proc/10/cmdline", "visible\0");
    let o = cgtree()
        .arg("--root")
        .arg(d.path())
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let a = &doc["cgroup"]["children"][0];
    assert_eq!(a["hidden_pids"], 2, "{a}");
    assert_eq!(a["processes"].as_array().unwrap().len(), 1);
    common::validate(&doc).unwrap();
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("2 listed processes hidden from this user by /proc (mounted with hidepid=2)"));
}

/// Issue #12, hostile `--root`: a FIFO as `cgroup.procs` or as a process's `cmdline` hung
/// cgtree forever. Now: refused before it is opened, reported, the walk goes on.
#[test]
fn fifo_in_a_snapshot_is_refused_not_read() {
    for fifo in ["sys/fs/cgroup/a/cgroup.procs", "proc/10/cmdline"] {
        let d = tempfile::tempdir().unwrap();
        let w = |rel: &str, body: &str| {
            let p = d.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, body).unwrap();
        };
        w("sys/fs/cgroup/cgroup.procs", "");
        w("sys/fs/cgroup/a/cgroup.type", "domain\n");
        w("sys/fs/cgroup/a/cgroup.procs", "10\n");
        w("sys/fs/cgroup/b/cgroup.type", "domain\n");
        w("sys/fs/cgroup/b/cgroup.procs", "20\n");
        w("proc/10/cmdline", "ten\0");
        w("proc/20/cmdline", "twenty\0");
        let p = d.path().join(fifo);
        std::fs::remove_file(&p).unwrap();
        nix::unistd::mkfifo(&p, Mode::from_bits_truncate(0o644)).unwrap();
        let (o, killed) = common::run_with_deadline(
            cgtree().arg("--root").arg(d.path()),
            Duration::from_secs(60),
        );
        assert!(!killed, "{fifo}: cgtree hung on a FIFO");
        assert_eq!(o.status.code(), Some(1), "{fifo}: {}", describe(&o));
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            stderr.contains(&format!("{fifo}: not a regular file")),
            "{fifo}: {stderr}"
        );
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(stdout.contains("twenty"), "the walk goes on:\n{stdout}");
    }
}

/// Issue #12, hostile `--root`: a 63 MB `cgroup.procs` took 4.4 GB and 28 s. Now memory
/// is bounded: PIDs above PID_MAX_LIMIT are bad lines and a tree lists at most 2^20
/// processes. Run under a 1 GiB address-space limit: it finishes with a partial result
/// and the reasons on stderr, not an allocation failure.
#[test]
fn huge_cgroup_procs_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let cg = d.path().join("sys/fs/cgroup");
    std::fs::create_dir_all(cg.join("a")).unwrap();
    std::fs::write(cg.join("cgroup.procs"), "").unwrap();
    std::fs::write(cg.join("a/cgroup.type"), "domain\n").unwrap();
    let mut body = Vec::with_capacity(64 << 20);
    for pid in 1..=8_000_000u32 {
        writeln!(body, "{pid}").unwrap();
    }
    assert!(body.len() > 62_000_000 && body.len() < 64 << 20, "63 MB");
    std::fs::write(cg.join("a/cgroup.procs"), &body).unwrap();
    drop(body);
    let (o, killed) = common::run_with_deadline(
        Command::new("prlimit")
            .args(["--as=1073741824", "--"])
            .arg(env!("CARGO_BIN_EXE_cgtree"))
            .arg("--root")
            .arg(d.path())
            .arg("--json"),
        Duration::from_secs(600),
    );
    assert!(!killed, "hung");
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("a/cgroup.procs: line 4194305: value out of range"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a/cgroup.procs: the tree already lists 1048576 processes"),
        "{stderr}"
    );
}

/// Errors never quote a snapshot's bytes raw: a `cgroup.type` holding terminal escapes
/// and bidi controls is reported with the excerpt escaped (ParseError's Display uses
/// `escape_ascii`), in the text view, on stderr and in JSON.
#[test]
fn parse_errors_escape_untrusted_excerpts() {
    let d = tempfile::tempdir().unwrap();
    let cg = d.path().join("sys/fs/cgroup");
    std::fs::create_dir_all(cg.join("a")).unwrap();
    std::fs::write(cg.join("cgroup.procs"), "").unwrap();
    std::fs::write(
        cg.join("a/cgroup.type"),
        "\x1b]0;owned\x07\x1b[2J\u{202e}\u{9b}x\n",
    )
    .unwrap();
    std::fs::write(cg.join("a/cgroup.procs"), "1\x1b[31m\n").unwrap();
    for args in [&[][..], &["--json"][..]] {
        let o = cgtree()
            .arg("--root")
            .arg(d.path())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        for (what, bytes) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text.chars().any(|c| (c.is_control() && c != '\n')
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)),
                "{args:?} {what}: {text:?}"
            );
        }
        assert!(String::from_utf8_lossy(&o.stderr).contains("unknown value in \"\\x1b]0;owned"));
    }
}
