//! The BPF iterator fast path (feature `bpf`) against what the files say, on a live
//! cgroup2 tree this test builds (root): names, ids, parents, levels and `cgroup.type`
//! of every cgroup, with removed ("dying") cgroups the kernel has not released yet and
//! a threaded subtree; pid, ppid, comm, uid, gid, user namespace, cgroup and command
//! line of every process, with processes that start and exit meanwhile, one whose
//! command line is longer than the BPF copy, and one that rewrote its arguments.
//! Without privilege the loader refuses with an error, and says nothing on stderr.
//!
//! Skipped only with `CGTREE_SKIP_LIVE=1`; without root or a cgroup2 mount it fails.
#![cfg(feature = "bpf")]
#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cgroup_core::bpf::{snapshot, BpfError, ControllerNames, Walks, CMDLINE_MAX};
use cgroup_core::values::CgroupType;
use std::collections::{BTreeMap, HashMap};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn cgroup2_mount() -> Option<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    mi.lines()
        .filter(|l| {
            l.split(" - ")
                .nth(1)
                .is_some_and(|t| t.starts_with("cgroup2 "))
        })
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .min_by_key(|p| p.as_os_str().len())
}

fn live(what: &str) -> Option<PathBuf> {
    let skip = std::env::var_os("CGTREE_SKIP_LIVE").is_some_and(|v| v == "1");
    match (cgroup2_mount(), nix::unistd::geteuid().is_root()) {
        (Some(m), true) => Some(m),
        _ if skip => {
            eprintln!("{what} skipped (CGTREE_SKIP_LIVE=1)");
            None
        }
        (None, _) => panic!("no cgroup2 mount; set CGTREE_SKIP_LIVE=1 to skip {what}"),
        (Some(_), false) => panic!("{what} needs root; set CGTREE_SKIP_LIVE=1 to skip it"),
    }
}

fn unique(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("cgtree-bpf-{what}-{}-{nanos}", std::process::id())
}

/// Cgroups and processes this test made: processes killed by their own PIDs, cgroups
/// removed deepest first, also when an assertion fails.
#[derive(Default)]
struct Guard {
    dirs: Vec<PathBuf>,
    children: Vec<Child>,
}

impl Guard {
    fn mkdir(&mut self, p: &Path) {
        std::fs::create_dir(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        self.dirs.push(p.to_path_buf());
    }
    fn spawn_in(&mut self, cg: &Path, cmd: &mut Command) -> u32 {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        std::fs::write(cg.join("cgroup.procs"), pid.to_string()).unwrap();
        // Until its exec is done, the child is a copy of this test (its command line the
        // test's, its comm the test thread's), then a process whose command line is
        // empty (no stack set up yet): what two reads see then depends on when.
        let me = std::fs::read_link("/proc/self/exe").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        let execing = || {
            std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == me)
                || std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.is_empty())
        };
        while execing() {
            assert!(std::time::Instant::now() < deadline, "{pid} did not exec");
            std::thread::sleep(Duration::from_millis(5));
        }
        pid
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for d in self.dirs.iter().rev() {
            for _ in 0..100 {
                match std::fs::remove_dir(d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        }
    }
}

/// A process whose main thread (its leader) exits half a second after it starts, while
/// a second thread sleeps on: its leader is a zombie, the process lives.
fn zombie_leader() -> Command {
    let mut c = Command::new("python3");
    c.args([
        "-c",
        "import threading,time,ctypes\n\
         threading.Thread(target=time.sleep,args=(600,)).start()\n\
         time.sleep(0.5)\n\
         ctypes.CDLL(None).pthread_exit(None)",
    ]);
    c
}

/// Waits until the leader of `pid` is a zombie.
fn wait_zombie(pid: u32) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        if stat
            .rsplit_once(") ")
            .is_some_and(|(_, r)| r.starts_with('Z'))
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pid}'s leader did not exit"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// (id, parent id, name, level below the mount, cgroup.type) of `dir` and every
/// directory below it, by readdir, stat and read.
fn file_walk(mount: &Path, dir: &Path, out: &mut BTreeMap<u64, (u64, Vec<u8>, u32, String)>) {
    let md = std::fs::metadata(dir).unwrap();
    let parent = std::fs::metadata(dir.parent().unwrap()).unwrap().ino();
    let level = dir.strip_prefix(mount).unwrap().components().count() as u32;
    let t = std::fs::read_to_string(dir.join("cgroup.type")).unwrap_or_default();
    let name = dir.file_name().unwrap().as_bytes().to_vec();
    out.insert(md.ino(), (parent, name, level, t.trim().to_string()));
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            file_walk(mount, &e.path(), out);
        }
    }
}

fn type_text(t: Option<CgroupType>) -> String {
    match t {
        None => String::new(),
        Some(CgroupType::Domain) => "domain".into(),
        Some(CgroupType::DomainThreaded) => "domain threaded".into(),
        Some(CgroupType::DomainInvalid) => "domain invalid".into(),
        Some(CgroupType::Threaded) => "threaded".into(),
        Some(_) => "?".into(),
    }
}

#[test]
fn cgroups_as_the_files_show_them() {
    let Some(mount) = live("bpf cgroups") else {
        return;
    };
    let mut g = Guard::default();
    let base = mount.join(unique("cg"));
    g.mkdir(&base);
    for name in ["a", "a/b", "sp ace", "ü\tx", "t", "t/t1", "t/t1/t2"] {
        g.mkdir(&base.join(name));
    }
    let long = "n".repeat(255);
    g.mkdir(&base.join(&long));
    // A threaded subtree: t becomes "domain threaded", a domain made below it after
    // that is "domain invalid" until made threaded.
    std::fs::write(base.join("t/t1/cgroup.type"), "threaded").unwrap();
    std::fs::write(base.join("t/t1/t2/cgroup.type"), "threaded").unwrap();
    g.mkdir(&base.join("t/inv"));
    g.spawn_in(&base.join("a/b"), Command::new("sleep").arg("600"));
    // Churn: 300 cgroups made and removed; the kernel keeps them "dying" a while.
    let mut removed = Vec::new();
    for i in 0..300 {
        let d = base.join(format!("churn-{i}"));
        std::fs::create_dir(&d).unwrap();
        removed.push(std::fs::metadata(&d).unwrap().ino());
        std::fs::remove_dir(&d).unwrap();
    }

    let dir = std::fs::File::open(&base).unwrap();
    let snap = snapshot(dir.as_fd(), Walks::CGROUPS).unwrap();
    let controllers = cgroup_core::bpf::ControllerNames::read(Path::new("/proc")).unwrap();
    let types = snap.cgroup_types(&controllers);
    let mut files = BTreeMap::new();
    file_walk(&mount, &base, &mut files);
    let mut owners = BTreeMap::new();
    let mut populated = BTreeMap::new();
    for r in &snap.cgroups {
        owners.insert(r.id, r.uid);
        populated.insert(r.id, r.populated);
    }

    let mut seen = BTreeMap::new();
    for (r, t) in snap.cgroups.iter().zip(&types) {
        seen.insert(
            r.id,
            (
                r.parent_id.unwrap(),
                r.name.to_vec(),
                r.level,
                type_text(*t),
            ),
        );
    }
    assert_eq!(seen, files, "BPF (left) and the files (right)");
    assert_eq!(seen.len(), 10);
    for id in removed {
        assert!(!seen.contains_key(&id), "a removed cgroup was listed");
    }
    // Pre-order: every parent before its children.
    let mut at = HashMap::new();
    for (i, r) in snap.cgroups.iter().enumerate() {
        at.insert(r.id, i);
        if i > 0 {
            assert!(at[&r.parent_id.unwrap()] < i);
        }
    }
    // The ancestors: the mount's root first, then each level down to the start.
    let root_ino = std::fs::metadata(&mount).unwrap().ino();
    assert_eq!(snap.ancestors.first().map(|r| r.id), Some(root_ino));
    assert_eq!(
        snap.ancestors.len(),
        1,
        "the start is one level below the root"
    );
    let expected = [
        ("t", "domain threaded"),
        ("t/t1", "threaded"),
        ("t/inv", "domain invalid"),
        ("a/b", "domain"),
    ];
    for (p, t) in expected {
        let ino = std::fs::metadata(base.join(p)).unwrap().ino();
        assert_eq!(seen[&ino].3, t, "{p}");
    }
    // Owners and cgroup.events "populated", as stat and the file say.
    std::os::unix::fs::chown(base.join("sp ace"), Some(4242), Some(4242)).unwrap();
    let snap2 = snapshot(dir.as_fd(), Walks::CGROUPS).unwrap();
    for r in &snap2.cgroups {
        let p = files_path(&base, &snap2, r.id);
        assert_eq!(
            r.uid,
            std::fs::metadata(&p).unwrap().uid(),
            "{}",
            p.display()
        );
        let ev = std::fs::read_to_string(p.join("cgroup.events")).unwrap();
        assert_eq!(
            ev.contains("populated 1"),
            r.populated,
            "{}: {ev}",
            p.display()
        );
    }
    assert!(snap2.cgroups.iter().any(|r| r.uid == 4242));
    assert!(populated.values().any(|p| *p) && owners.len() == 10);
    let b = std::fs::metadata(base.join("a/b")).unwrap().ino();
    assert!(snap.cgroups.iter().any(|r| r.id == b && r.has_tasks));
}

/// The directory of the cgroup `id` of a snapshot taken at `base`.
fn files_path(base: &Path, snap: &cgroup_core::bpf::Snapshot, id: u64) -> PathBuf {
    let by_id: HashMap<u64, _> = snap.cgroups.iter().map(|r| (r.id, r)).collect();
    let mut parts = Vec::new();
    let mut at = by_id[&id];
    while at.id != snap.cgroups[0].id {
        parts.push(std::ffi::OsStr::from_bytes(&at.name).to_owned());
        at = by_id[&at.parent_id.unwrap()];
    }
    let mut p = base.to_path_buf();
    for part in parts.iter().rev() {
        p.push(part);
    }
    p
}

/// What /proc says of a process, read twice around the snapshot: kept only when both
/// reads agree (a process that started, exited or changed meanwhile is churn).
#[derive(Debug, PartialEq, Eq, Clone)]
struct ProcFacts {
    ppid: u32,
    uid: u32,
    gid: u32,
    euid: u32,
    egid: u32,
    suid: u32,
    fsuid: u32,
    comm: Vec<u8>,
    cmdline: Vec<u8>,
    cgroup: Option<u64>,
    userns: u64,
}

fn proc_facts(mount: &Path) -> HashMap<u32, ProcFacts> {
    let mut out = HashMap::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let p = e.path();
        let (Ok(status), Ok(comm), Ok(cmdline), Ok(cg), Ok(ns)) = (
            std::fs::read_to_string(p.join("status")),
            std::fs::read(p.join("comm")),
            std::fs::read(p.join("cmdline")),
            std::fs::read_to_string(p.join("cgroup")),
            std::fs::metadata(p.join("ns/user")),
        ) else {
            continue;
        };
        let nth = |k: &str, n: usize| -> u32 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .and_then(|v| v.split_whitespace().nth(n))
                .and_then(|v| v.parse().ok())
                .unwrap()
        };
        let field = |k: &str| nth(k, 0);
        let cgroup = cg
            .lines()
            .find_map(|l| l.strip_prefix("0::"))
            .and_then(|p| std::fs::metadata(mount.join(p.trim_start_matches('/'))).ok())
            .map(|m| m.ino());
        out.insert(
            pid,
            ProcFacts {
                ppid: field("PPid:"),
                uid: field("Uid:"),
                gid: field("Gid:"),
                euid: nth("Uid:", 1),
                egid: nth("Gid:", 1),
                suid: nth("Uid:", 2),
                fsuid: nth("Uid:", 3),
                comm: comm.strip_suffix(b"\n").unwrap_or(&comm).to_vec(),
                cmdline,
                cgroup,
                userns: ns.ino(),
            },
        );
    }
    out
}

#[test]
fn processes_as_proc_shows_them() {
    let Some(mount) = live("bpf tasks") else {
        return;
    };
    let mut g = Guard::default();
    let base = mount.join(unique("task"));
    g.mkdir(&base);
    // A command line longer than the BPF copy: read from /proc instead.
    let long_arg = "x".repeat(CMDLINE_MAX + 10);
    let long = g.spawn_in(
        &base,
        Command::new("perl").args(["-e", "sleep 600", &long_arg]),
    );
    // A zombie (exited, not yet reaped): cgroup.procs no longer lists it.
    let zombie = g.spawn_in(&base, Command::new("sleep").arg("0.2"));
    // A process that rewrote its arguments (Perl's $0 writes over argv).
    let renamed = g.spawn_in(
        &base,
        Command::new("perl").args(["-e", "$0 = 'renamed by perl'; sleep 600", "pad pad pad"]),
    );
    // An ordinary one, with an empty argument and odd bytes.
    let plain = g.spawn_in(
        &base,
        Command::new("perl").args(["-e", "sleep 600", "", "a\tb ü"]),
    );
    // Real and effective IDs that differ (the effective ones are what status's second
    // fields and cgtree's users show).
    let setuid = g.spawn_in(
        &base,
        Command::new("setpriv").args([
            "--ruid=0",
            "--euid=65534",
            "--rgid=0",
            "--egid=65533",
            "--clear-groups",
            "--",
            "sleep",
            "600",
        ]),
    );
    // Churn: short processes that start and exit while the snapshot runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let churn = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = Command::new("true").status();
            }
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let before = proc_facts(&mount);
    let dir = std::fs::File::open(&mount).unwrap();
    let snap = snapshot(dir.as_fd(), Walks::TASKS).unwrap();
    let after = proc_facts(&mount);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    churn.join().unwrap();

    let by_pid: HashMap<u32, _> = snap.tasks.iter().map(|t| (t.pid, t)).collect();
    assert_eq!(by_pid.len(), snap.tasks.len(), "a PID listed twice");
    let mut compared = 0;
    for (pid, f) in &before {
        if after.get(pid) != Some(f) {
            continue;
        }
        let t = by_pid
            .get(pid)
            .unwrap_or_else(|| panic!("process {pid} ({f:?}) missing from BPF"));
        assert_eq!(t.ppid, f.ppid, "ppid of {pid}");
        assert_eq!((t.uid, t.gid), (f.uid, f.gid), "uid/gid of {pid}");
        assert_eq!(
            (t.euid, t.egid, t.suid, t.fsuid),
            (f.euid, f.egid, f.suid, f.fsuid),
            "effective uid/gid, saved and filesystem uid of {pid}"
        );
        match &t.comm {
            Some(c) => assert_eq!(c.as_ref(), f.comm.as_slice(), "comm of {pid}"),
            None => assert!(t.kernel_thread, "comm of {pid} left to /proc"),
        }
        // A cgroup path /proc gives that cannot be looked up (longer than PATH_MAX, in
        // another test's deep chain, say) is not compared.
        if f.cgroup.is_some() {
            assert_eq!(Some(t.cgroup_id), f.cgroup, "cgroup of {pid}");
        }
        assert_eq!(u64::from(t.userns), f.userns, "user namespace of {pid}");
        if let Some(c) = &t.cmdline {
            assert_eq!(c.as_ref(), f.cmdline.as_slice(), "cmdline of {pid}");
        }
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} stable processes compared");
    assert_eq!(by_pid[&long].cmdline, None, "longer than the copy: /proc");
    assert!(by_pid[&long].listed);
    assert!(!by_pid[&zombie].listed, "the zombie");
    assert_eq!(
        by_pid[&zombie].cmdline.as_deref(),
        Some(&b""[..]),
        "as /proc's"
    );
    assert_eq!(by_pid[&renamed].cmdline, None, "rewritten: /proc");
    let s = by_pid[&setuid];
    assert_eq!(
        (s.uid, s.gid, s.euid, s.egid, s.suid, s.fsuid),
        (0, 0, 65534, 65533, 65534, 65534),
        "real and effective IDs (execve sets the saved and filesystem UIDs to the effective one)"
    );
    assert_eq!(
        by_pid[&plain].cmdline.as_deref(),
        Some("perl\u{0}-e\u{0}sleep 600\u{0}\u{0}a\tb ü\u{0}".as_bytes())
    );
    assert!(!by_pid[&plain].kernel_thread && by_pid[&plain].listed);
    assert!(by_pid[&2].kernel_thread, "kthreadd");
    assert_eq!(by_pid[&2].comm, None, "a kernel thread's comm is /proc's");
    assert_eq!(by_pid[&plain].comm.as_deref(), Some(&b"perl"[..]));
    assert_eq!(by_pid[&2].cmdline.as_deref(), Some(&b""[..]));
}

/// Not root: the loader refuses, with an error and nothing on stderr. Run as a child
/// process under `setpriv` by [`unprivileged_is_refused_quietly`].
#[test]
#[ignore = "run by unprivileged_is_refused_quietly as another user"]
fn child_unprivileged() {
    let dir = std::fs::File::open("/proc").unwrap();
    match snapshot(dir.as_fd(), Walks::ALL) {
        Err(BpfError::Load(e)) => println!("REFUSED: {e}"),
        other => panic!("expected a load error, got {other:?}"),
    }
}

/// Root, with an address space only a little larger than what this process already
/// maps: the ring buffers cannot be mapped, and the error says memory, not privilege.
/// Run as a child process by [`no_memory_is_said_so`].
#[test]
#[ignore = "run by no_memory_is_said_so in a child process"]
fn child_low_memory() {
    let dir = std::fs::File::open(cgroup2_mount().unwrap()).unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let vm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    // 64 KiB more than now: no room to map a ring buffer (twice its size, 64 KiB at
    // least) or a thread's stack (walked on this thread then).
    let limit = (vm_kib + 64) * 1024;
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, limit, limit).unwrap();
    let got = snapshot(dir.as_fd(), Walks::ALL);
    nix::sys::resource::setrlimit(
        nix::sys::resource::Resource::RLIMIT_AS,
        nix::sys::resource::RLIM_INFINITY,
        nix::sys::resource::RLIM_INFINITY,
    )
    .ok();
    match got {
        Err(e @ BpfError::NoMemory(_)) => println!("NO MEMORY: {} / {e}", e.reason()),
        other => panic!("expected a memory error, got {other:?}"),
    }
}

/// Root, under an address-space limit that leaves 24 MiB: the tree builder declines the
/// BPF path before it starts any thread (an allocation failing on one of them would
/// abort the process), says why, and builds the tree from the files. Run as a child
/// process by [`no_memory_is_said_so`].
#[test]
#[ignore = "run by no_memory_is_said_so in a child process"]
fn child_tree_low_memory() {
    let mount = cgroup2_mount().unwrap();
    let name = std::env::var("CGTREE_TEST_CGROUP").unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let vm_kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmSize:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    let limit = (vm_kib + 24 * 1024) * 1024;
    nix::sys::resource::setrlimit(nix::sys::resource::Resource::RLIMIT_AS, limit, limit).unwrap();
    let mut b = cgroup_core::TreeBuilder::new();
    b.start(format!("/{name}"))
        .processes(true)
        .identify(true)
        .bpf(true);
    let tree = b.build().unwrap();
    assert!(mount.join(&name).is_dir());
    println!(
        "TREE: {} nodes, BPF {}, declined: {:?}",
        tree.nodes().len(),
        tree.stats().bpf_walks,
        tree.stats().bpf_declined
    );
}

#[test]
fn no_memory_is_said_so() {
    if live("bpf no memory").is_none() {
        return;
    }
    let o = Command::new(std::env::current_exe().unwrap())
        .args(["child_low_memory", "--exact", "--ignored", "--nocapture"])
        .env("RUST_TEST_THREADS", "1")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("NO MEMORY: not enough memory"), "{out}");
    assert!(!err.contains("libbpf"), "libbpf wrote to stderr: {err}");

    // The tree builder under such a limit: the files, and why.
    let Some(mount) = live("bpf no memory, tree") else {
        return;
    };
    let mut g = Guard::default();
    let name = unique("nomem");
    g.mkdir(&mount.join(&name));
    g.spawn_in(&mount.join(&name), Command::new("sleep").arg("600"));
    let o = Command::new(std::env::current_exe().unwrap())
        .args([
            "child_tree_low_memory",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env("RUST_TEST_THREADS", "1")
        .env("CGTREE_TEST_CGROUP", &name)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("TREE: 1 nodes, BPF 0, declined: Some(\"not enough memory"),
        "{out}"
    );
}

#[test]
fn unprivileged_is_refused_quietly() {
    if live("bpf unprivileged").is_none() {
        return;
    }
    // A copy of this test binary another user may run.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        tmp.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let exe = tmp.path().join("bpf_live");
    std::fs::copy(std::env::current_exe().unwrap(), &exe).unwrap();
    let run = || {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&exe)
            .args(["child_unprivileged", "--exact", "--ignored", "--nocapture"])
            .env("RUST_TEST_THREADS", "1")
            .output()
            .unwrap()
    };
    // A process another test forks while the copy is open for writing holds it until it
    // execs: the copy's exec can fail with ETXTBSY for that moment.
    let mut o = run();
    for _ in 0..20 {
        if !String::from_utf8_lossy(&o.stderr).contains("Text file busy") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        o = run();
    }
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(out.contains("REFUSED: "), "{out}");
    assert!(!err.contains("libbpf"), "libbpf wrote to stderr: {err}");
}

/// The library's trees from both paths are equal node for node (every field: ids,
/// owners, types, controllers, `populated`, processes, errors), for each option that
/// changes the walk.
#[test]
fn trees_from_both_paths_are_equal() {
    let Some(mount) = live("bpf trees") else {
        return;
    };
    let mut g = Guard::default();
    let name = unique("tree");
    let base = mount.join(&name);
    g.mkdir(&base);
    for d in [
        "a",
        "a/b",
        "a/b/c",
        "owned",
        "owned/inner",
        "t",
        "t/t1",
        "e",
        "e/f",
    ] {
        g.mkdir(&base.join(d));
    }
    std::fs::write(base.join("t/t1/cgroup.type"), "threaded").unwrap();
    g.mkdir(&base.join("t/inv"));
    std::os::unix::fs::chown(base.join("owned"), Some(4343), Some(4343)).unwrap();
    std::os::unix::fs::chown(base.join("owned/inner"), Some(4343), Some(4343)).unwrap();
    g.spawn_in(&base.join("a/b/c"), Command::new("sleep").arg("600"));
    g.spawn_in(&base.join("owned/inner"), Command::new("sleep").arg("600"));
    g.spawn_in(&base.join("t"), Command::new("sleep").arg("600"));
    let zombie = g.spawn_in(&base.join("a"), &mut zombie_leader());
    wait_zombie(zombie);
    let start = format!("/{name}");
    for (empty, depth) in [
        (false, None),
        (true, None),
        (true, Some(2)),
        (false, Some(1)),
    ] {
        for procs in [true, false] {
            let build = |bpf: bool| {
                let mut b = cgroup_core::TreeBuilder::new();
                b.start(start.clone())
                    .include_empty(empty)
                    .max_depth(depth)
                    .processes(procs)
                    .monitor_status(true)
                    .identify(true)
                    .bpf(bpf);
                b.build().unwrap()
            };
            let files = build(false);
            let fast = build(true);
            assert_eq!(files.stats().bpf_walks, 0);
            assert_eq!(fast.stats().bpf_walks, 1, "the BPF path ran");
            // The first node that differs, whole, when they do.
            let first = fast.nodes().iter().zip(files.nodes()).find(|(a, b)| a != b);
            assert!(
                first.is_none() && fast.nodes().len() == files.nodes().len(),
                "empty={empty} depth={depth:?} procs={procs}: {} vs {} nodes, first \
                 difference (BPF, files): {first:#?}",
                fast.nodes().len(),
                files.nodes().len()
            );
            assert!(files.nodes().len() >= 3);
        }
    }
}

/// The task walk places each process where `cgroup.procs` lists it: every process of
/// the test's cgroups (a threaded child's in its domain), and the stable processes of
/// the hierarchy's root.
#[test]
fn tasks_are_where_cgroup_procs_lists_them() {
    let Some(mount) = live("bpf members") else {
        return;
    };
    let mut g = Guard::default();
    let base = mount.join(unique("members"));
    g.mkdir(&base);
    g.mkdir(&base.join("inner"));
    g.mkdir(&base.join("inner/thr"));
    std::fs::write(base.join("inner/thr/cgroup.type"), "threaded").unwrap();
    let mut want: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for (cg, n, listed_by) in [
        ("", 3, ""),
        ("inner", 1, "inner"),
        ("inner/thr", 2, "inner"),
    ] {
        let id = std::fs::metadata(base.join(listed_by)).unwrap().ino();
        for _ in 0..n {
            // Into a threaded cgroup only from its own threaded domain.
            let pid = g.spawn_in(&base.join(listed_by), Command::new("sleep").arg("600"));
            if cg != listed_by {
                std::fs::write(base.join(cg).join("cgroup.procs"), pid.to_string()).unwrap();
            }
            want.entry(id).or_default().push(pid);
        }
    }
    // A process whose leader has exited while another thread runs (a zombie leader):
    // cgroup.procs still lists it.
    let inner = std::fs::metadata(base.join("inner")).unwrap().ino();
    let pid = g.spawn_in(&base.join("inner"), &mut zombie_leader());
    wait_zombie(pid);
    want.entry(inner).or_default().push(pid);
    // What the files say, for the cgroups that can be read.
    for cg in ["", "inner"] {
        let dir = base.join(cg);
        let id = std::fs::metadata(&dir).unwrap().ino();
        let listed: Vec<u32> = std::fs::read_to_string(dir.join("cgroup.procs"))
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        let mut w = want[&id].clone();
        w.sort_unstable();
        let mut l = listed.clone();
        l.sort_unstable();
        assert_eq!(l, w, "cgroup.procs of {}", dir.display());
    }
    let procs = |p: &Path| -> Vec<u32> {
        let mut v: Vec<u32> = std::fs::read_to_string(p.join("cgroup.procs"))
            .unwrap()
            .lines()
            .map(|l| l.parse().unwrap())
            .collect();
        v.sort_unstable();
        v
    };
    let root_before = procs(&mount);
    let dir = std::fs::File::open(&mount).unwrap();
    let snap = snapshot(dir.as_fd(), Walks::ALL).unwrap();
    let root_after = procs(&mount);
    let types = snap.cgroup_types(&ControllerNames::read(Path::new("/proc")).unwrap());
    let at: HashMap<u64, usize> = snap
        .cgroups
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id, i))
        .collect();
    // The cgroup whose cgroup.procs lists a process of cgroup `id`: its domain.
    let domain = |mut id: u64| -> u64 {
        while types[at[&id]] == Some(CgroupType::Threaded) {
            id = snap.cgroups[at[&id]].parent_id.unwrap();
        }
        id
    };
    let mut got: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
    for t in snap.tasks.iter().filter(|t| t.listed) {
        if at.contains_key(&t.cgroup_id) {
            got.entry(domain(t.cgroup_id)).or_default().push(t.pid);
        }
    }
    for v in got.values_mut() {
        v.sort_unstable();
    }
    for (id, pids) in &mut want {
        pids.sort_unstable();
        assert_eq!(got.get(id), Some(&*pids), "members of cgroup {id}");
    }
    let root_id = std::fs::metadata(&mount).unwrap().ino();
    let listed = got.get(&root_id).cloned().unwrap_or_default();
    let stable: Vec<u32> = root_before
        .iter()
        .filter(|p| root_after.contains(p))
        .copied()
        .collect();
    let missing: Vec<u32> = stable
        .iter()
        .filter(|p| !listed.contains(p))
        .copied()
        .collect();
    // PID 1 is the one process the task iterator does not visit on this machine's
    // kernel (6.18; cause not found): the tree builder places it from /proc
    // (tree::fast), and the trees of both paths are compared whole by
    // trees_from_both_paths_are_equal.
    assert!(
        missing.iter().all(|&p| p == 1),
        "root's cgroup.procs lists {missing:?}, BPF does not"
    );
}

/// More command-line bytes than the first task ring holds: the task walk runs again
/// with a larger ring (the cgroup walk's records are kept) and every process is there,
/// its command line whole.
#[test]
fn a_full_task_ring_is_walked_again() {
    let Some(mount) = live("bpf retry") else {
        return;
    };
    let mut g = Guard::default();
    let base = mount.join(unique("retry"));
    g.mkdir(&base);
    // coreutils sleep sums its arguments: 600 and 1,900 zeros, about 3.8 KB of command
    // line each (under CMDLINE_MAX). The first task ring holds about 420 bytes a
    // thread the kernel counts (/proc/loadavg), rounded up to a power of two: twice
    // that, for 1,000 more threads than now, is more than it holds.
    let threads: usize = std::fs::read_to_string("/proc/loadavg")
        .unwrap()
        .split_whitespace()
        .nth(3)
        .and_then(|f| f.split('/').nth(1)?.parse().ok())
        .unwrap();
    let n = ((threads + 1000) * 420 * 2 / 3800).min(6000);
    let mut args = vec!["600".to_string()];
    args.extend(std::iter::repeat_n("0".to_string(), 1900));
    let mut pids = Vec::new();
    for _ in 0..n {
        pids.push(g.spawn_in(&base, Command::new("sleep").args(&args)));
    }
    let dir = std::fs::File::open(&mount).unwrap();
    let snap = snapshot(dir.as_fd(), Walks::ALL).unwrap();
    let id = std::fs::metadata(&base).unwrap().ino();
    assert!(
        snap.retries >= 1,
        "the first ring held 4 MB: {}",
        snap.retries
    );
    assert!(
        snap.cgroups.iter().any(|c| c.id == id),
        "the cgroup walk's records"
    );
    let want: Vec<u8> = std::iter::once("sleep")
        .chain(args.iter().map(String::as_str))
        .flat_map(|a| a.bytes().chain([0]))
        .collect();
    let by_pid: HashMap<u32, _> = snap.tasks.iter().map(|t| (t.pid, t)).collect();
    let mut members: Vec<u32> = snap
        .tasks
        .iter()
        .filter(|t| t.listed && t.cgroup_id == id)
        .map(|t| t.pid)
        .collect();
    members.sort_unstable();
    let mut sorted = pids.clone();
    sorted.sort_unstable();
    assert_eq!(members, sorted, "members of the test's cgroup");
    for pid in &pids {
        let t = by_pid
            .get(pid)
            .unwrap_or_else(|| panic!("{pid} missing after a retry"));
        assert_eq!(
            t.cmdline.as_deref(),
            Some(&want[..]),
            "command line of {pid}"
        );
    }
}

/// A start cgroup removed after it was opened: the iterator does not attach, and the
/// error says so (not a load failure).
#[test]
fn a_removed_start_does_not_attach() {
    let Some(mount) = live("bpf removed start") else {
        return;
    };
    let mut g = Guard::default();
    let base = mount.join(unique("gone"));
    g.mkdir(&base);
    let dir = std::fs::File::open(&base).unwrap();
    std::fs::remove_dir(&base).unwrap();
    match snapshot(dir.as_fd(), Walks::CGROUPS) {
        Err(e @ BpfError::Attach(_)) => assert!(e.reason().contains("did not attach"), "{e}"),
        other => panic!("expected an attach error, got {other:?}"),
    }
}

/// The task walk split between two threads (by TGID parity, on a machine with a second
/// CPU) and the single walk a one-CPU reader takes give the same processes, each once,
/// with the same facts: checked on processes of both parities this test keeps alive.
#[test]
fn split_and_single_task_walks_agree() {
    let Some(mount) = live("bpf split") else {
        return;
    };
    let mut g = Guard::default();
    let base = mount.join(unique("split"));
    g.mkdir(&base);
    let id = std::fs::metadata(&base).unwrap().ino();
    let mut mine = Vec::new();
    while mine.len() < 8 || !(mine.iter().any(|p| p % 2 == 0) && mine.iter().any(|p| p % 2 == 1)) {
        let arg = format!("{}", 600 + mine.len());
        mine.push(g.spawn_in(&base, Command::new("sleep").arg(arg)));
        assert!(mine.len() < 64, "no PIDs of both parities: {mine:?}");
    }
    mine.sort_unstable();
    let dir = std::fs::File::open(&base).unwrap();
    let walk = || {
        let snap = snapshot(dir.as_fd(), Walks::ALL).unwrap();
        let mut pids: Vec<u32> = snap.tasks.iter().map(|t| t.pid).collect();
        pids.sort_unstable();
        let n = pids.len();
        pids.dedup();
        assert_eq!(pids.len(), n, "a process sent twice");
        let mut ours: Vec<_> = snap
            .tasks
            .into_iter()
            .filter(|t| t.cgroup_id == id)
            .map(|t| (t.pid, t.cmdline, t.comm, t.ppid, t.uid, t.listed))
            .collect();
        ours.sort_unstable();
        ours
    };
    assert!(
        std::thread::available_parallelism().unwrap().get() > 1,
        "one CPU: the split walk cannot be compared"
    );
    let split = walk();
    // One CPU: available_parallelism follows this thread's affinity.
    let mut one = nix::sched::CpuSet::new();
    one.set(0).unwrap();
    let before = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).unwrap();
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &one).unwrap();
    assert_eq!(std::thread::available_parallelism().unwrap().get(), 1);
    let single = walk();
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &before).unwrap();
    assert_eq!(
        split.iter().map(|t| t.0).collect::<Vec<_>>(),
        mine,
        "the split walk's processes of the test's cgroup"
    );
    assert_eq!(split, single);
    for (pid, cmdline, ..) in &split {
        let want = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
        assert_eq!(cmdline.as_deref(), Some(&want[..]), "{pid}'s command line");
    }
}
