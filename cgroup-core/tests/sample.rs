//! The sampler on fixtures/stats-kind (arch-docker-kind plus usage files written by
//! fixtures/gen_stats.py): raw numbers, working set, OOM kills, throttling, per-device
//! I/O with names, PSI, rates between two readings of a copy whose counters the test
//! advances by known amounts over a known interval, aggregates of a container, a pod
//! and a kind node, and bad or missing files.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cgroup_core::parse::{Centi, Limit};
use cgroup_core::sample::group::{self, GroupKind};
use cgroup_core::sample::{Rates, SampleOptions, Sampler, Usage};
use cgroup_core::{NodeErrorKind, Tree, TreeBuilder};
use std::path::{Path, PathBuf};
use std::time::Duration;

const NODE: &str =
    "/system.slice/docker-8aea66260a20e4fe20c03c3424d4f294b56eab451430492123e736c3f749ebca.scope";
const POD_REL: &str = "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-podf78d871c_d823_805f_e557_5008baa0e371.slice";
const APP_ID: &str = "4b4974ea50c495be13861ede4c4c06cd5c9bd2299d8eb212cef6b1b9fed56e12";
const PAUSE_ID: &str = "6d3c9dbc864125d20774b7cd3087e342ac7866178cbf0c33d24a0181a8284c82";
const MIB: u64 = 1 << 20;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/stats-kind")
}

fn pod() -> String {
    format!("{NODE}{POD_REL}")
}
fn app() -> String {
    format!("{}/cri-containerd-{APP_ID}.scope", pod())
}
fn pause() -> String {
    format!("{}/cri-containerd-{PAUSE_ID}.scope", pod())
}

fn tree(root: &Path) -> Tree {
    TreeBuilder::new()
        .host_root(root)
        .include_empty(true)
        .identify(true)
        .build()
        .unwrap()
}

fn id(t: &Tree, path: &str) -> usize {
    (0..t.nodes().len())
        .find(|&i| t.path(i) == path.as_bytes())
        .unwrap_or_else(|| panic!("no {path}"))
}

/// A copy of the fixture (`cp -a`: the fixture's symlinks stay symlinks).
fn copy() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let to = d.path().join("root");
    let st = std::process::Command::new("cp")
        .arg("-a")
        .arg(fixture())
        .arg(&to)
        .status()
        .unwrap();
    assert!(st.success());
    (d, to)
}

fn cg(root: &Path, path: &str) -> PathBuf {
    root.join("sys/fs/cgroup")
        .join(path.trim_start_matches('/'))
}

/// Adds `by` to `key` (a flat-keyed line, or `sub=` of a nested line starting with
/// `line`) in `file` of the cgroup and of every ancestor, as the kernel's hierarchical
/// counters move.
fn advance(root: &Path, path: &str, file: &str, line: &str, key: &str, by: u64) {
    let mut p = path.to_string();
    loop {
        let f = cg(root, &p).join(file);
        if f.exists() {
            let text = std::fs::read_to_string(&f).unwrap();
            let out: Vec<String> = text.lines().map(|l| bump(l, line, key, by)).collect();
            std::fs::write(&f, out.join("\n") + "\n").unwrap();
        }
        match p.rfind('/') {
            Some(0) | None => break,
            Some(i) => p.truncate(i),
        }
    }
}

fn bump(l: &str, line: &str, key: &str, by: u64) -> String {
    if line.is_empty() {
        // flat keyed: `key value`
        let mut it = l.split(' ');
        if it.next() == Some(key) {
            let v: u64 = it.next().unwrap().parse().unwrap();
            return format!("{key} {}", v + by);
        }
        return l.to_string();
    }
    if !l.starts_with(&format!("{line} ")) {
        return l.to_string();
    }
    l.split(' ')
        .map(|f| match f.strip_prefix(&format!("{key}=")) {
            Some(v) => format!("{key}={}", v.parse::<u64>().unwrap() + by),
            None => f.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn usage<'a>(s: &'a cgroup_core::sample::Sample, t: &Tree, path: &str) -> &'a Usage {
    s.get(id(t, path)).unwrap()
}

#[test]
fn one_reading_of_the_fixture() {
    let t = tree(&fixture());
    let mut sampler = Sampler::new(&t, SampleOptions::default()).unwrap();
    let s = sampler.sample(&t);
    let errors: Vec<_> = s.usage.iter().flatten().flat_map(|u| &u.errors).collect();
    assert!(errors.is_empty(), "{errors:?}");

    let a = usage(&s, &t, &app());
    let mem = a.memory.unwrap();
    // memory.current 248 MiB (anon 180 + file 60 + kernel 8), inactive_file 40 MiB.
    assert_eq!(mem.current, Some(248 * MIB));
    assert_eq!(mem.working_set(), Some(208 * MIB));
    assert_eq!(mem.stat.unwrap().anon, Some(180 * MIB));
    assert_eq!(mem.stat.unwrap().file, Some(60 * MIB));
    assert_eq!(mem.max, Some(Limit::Value(256 * MIB)));
    assert_eq!(mem.high, Some(Limit::Max));
    assert_eq!(mem.swap_current, Some(0));
    assert_eq!(a.memory_events.unwrap().oom_kill, Some(2));
    assert_eq!(a.memory_events_local.unwrap().oom_kill, Some(2));
    let cpu = a.cpu.unwrap();
    assert_eq!(
        (cpu.usage_usec, cpu.user_usec, cpu.system_usec),
        (Some(120_000_000), Some(100_000_000), Some(20_000_000))
    );
    assert_eq!(
        (cpu.nr_periods, cpu.nr_throttled, cpu.throttled_usec),
        (Some(1000), Some(250), Some(5_000_000))
    );
    let pids = a.pids.unwrap();
    assert_eq!(
        (pids.current, pids.max),
        (Some(9), Some(Limit::Value(1024)))
    );
    let io = a.io.as_ref().unwrap();
    let names: Vec<_> = io
        .iter()
        .map(|d| (d.stat.major, d.stat.minor, d.name.as_deref()))
        .collect();
    assert_eq!(names, [(8, 0, Some("sda")), (259, 0, Some("nvme0n1"))]);
    assert_eq!(io[0].stat.rbytes, 100 * MIB);
    let cpu_psi = a.pressure.cpu.unwrap().some.unwrap();
    assert_eq!((cpu_psi.avg10, cpu_psi.total), (Centi(1250), 900_000));
    assert!(a.id.is_some());

    // memory.events is hierarchical, memory.events.local is not: the pod counts its
    // container's OOM kills, locally it has none.
    let p = usage(&s, &t, &pod());
    assert_eq!(p.memory_events.unwrap().oom_kill, Some(2));
    assert_eq!(p.memory_events_local.unwrap().oom_kill, Some(0));
    // The root has only the files the kernel gives it.
    let root = s.get(0).unwrap();
    assert!(root.cpu.is_some() && root.pids.is_none() && root.memory_events.is_none());
    let rm = root.memory.unwrap();
    assert!(rm.current.is_none() && rm.max.is_none() && rm.stat.is_some());
    assert!(root.io.is_some() && root.pressure.io.is_some());
    // A missing file is "not available", not an error.
    let init = usage(&s, &t, "/init.scope");
    assert_eq!(init.memory.unwrap().swap_current, None);
    assert!(init.errors.is_empty());
}

#[test]
fn options_select_what_is_read() {
    let t = tree(&fixture());
    let opts = SampleOptions {
        max_depth: Some(1),
        ..SampleOptions::default()
    };
    let mut sampler = Sampler::new(&t, opts).unwrap();
    let s = sampler.sample(&t);
    let read: Vec<usize> = (0..t.nodes().len())
        .filter(|&i| s.get(i).is_some())
        .collect();
    assert!(read.iter().all(|&i| t.node(i).depth <= 1));
    assert!(read.len() >= 4 && read.len() < t.nodes().len());
    // Populated cgroups only: those with processes in their subtree, and the root.
    let opts = SampleOptions {
        populated_only: true,
        ..SampleOptions::default()
    };
    let (_keep, root) = copy();
    let empty_dir = cg(&root, "/system.slice/empty.service");
    std::fs::create_dir(&empty_dir).unwrap();
    for (f, v) in [
        ("cgroup.type", "domain\n"),
        ("cgroup.procs", ""),
        ("cgroup.events", "populated 0\nfrozen 0\n"),
        ("cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n"),
    ] {
        std::fs::write(empty_dir.join(f), v).unwrap();
    }
    let t = tree(&root);
    let mut pop = Sampler::new(&t, opts).unwrap();
    let ps = pop.sample(&t);
    let empty = (0..t.nodes().len())
        .filter(|&i| {
            let n = t.node(i);
            n.parent.is_some()
                && n.populated != Some(true)
                && n.processes.as_ref().is_none_or(|p| p.is_empty())
        })
        .collect::<Vec<_>>();
    assert_eq!(empty, [id(&t, "/system.slice/empty.service")]);
    for i in 0..t.nodes().len() {
        assert_eq!(ps.get(i).is_some(), !empty.contains(&i), "{i}");
    }
    // Descriptors kept for the nodes read, and a cap is honoured.
    assert_eq!(sampler.open_dirs(), read.len());
    let opts = SampleOptions {
        max_open_dirs: 3,
        ..SampleOptions::default()
    };
    let mut sampler = Sampler::new(&t, opts).unwrap();
    let a = sampler.sample(&t);
    let b = sampler.sample(&t);
    assert_eq!(sampler.open_dirs(), 3);
    // Reopened by path, the nodes past the cap read the same.
    assert_eq!(a.usage, b.usage);
}

/// Two readings 2 s apart of a copy whose counters were advanced by known amounts.
#[test]
fn rates_between_two_readings() {
    let (_keep, root) = copy();
    let t = tree(&root);
    let mut sampler = Sampler::new(&t, SampleOptions::default()).unwrap();
    let mut s1 = sampler.sample(&t);
    let app = app();
    // In 2 s: 1.5 s of CPU (1.2 user, 0.3 system), 20 periods of which 5 throttled
    // (0.1 s throttled), one OOM kill, 2 MiB read and 4 MiB written on nvme0n1 with 10
    // and 30 operations, 1 MiB read from sda, 0.5 s of some CPU pressure, 0.2 s of full
    // memory pressure.
    for (file, line, key, by) in [
        ("cpu.stat", "", "usage_usec", 1_500_000),
        ("cpu.stat", "", "user_usec", 1_200_000),
        ("cpu.stat", "", "system_usec", 300_000),
        ("memory.events", "", "oom_kill", 1),
        ("memory.events", "", "oom", 1),
        ("io.stat", "259:0", "rbytes", 2 * MIB),
        ("io.stat", "259:0", "wbytes", 4 * MIB),
        ("io.stat", "259:0", "rios", 10),
        ("io.stat", "259:0", "wios", 30),
        ("io.stat", "8:0", "rbytes", MIB),
        ("cpu.pressure", "some", "total", 500_000),
        ("memory.pressure", "full", "total", 200_000),
    ] {
        advance(&root, &app, file, line, key, by);
    }
    // Throttling is the container's own cpu.max: not moved up the tree.
    let f = cg(&root, &app).join("cpu.stat");
    let text = std::fs::read_to_string(&f).unwrap();
    let text = [
        ("nr_periods", 20),
        ("nr_throttled", 5),
        ("throttled_usec", 100_000),
    ]
    .iter()
    .fold(text, |t, (k, by)| {
        t.lines()
            .map(|l| bump(l, "", k, *by))
            .collect::<Vec<_>>()
            .join("\n")
    });
    std::fs::write(&f, text + "\n").unwrap();
    // The node's journald restarted: its counters went back.
    std::fs::write(
        cg(&root, &format!("{NODE}/system.slice/systemd-journald.service")).join("cpu.stat"),
        "usage_usec 10\nuser_usec 5\nsystem_usec 5\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
    )
    .unwrap();
    let mut s2 = sampler.sample(&t);
    // The interval is the samples' own clock: set for the test.
    s1.at = Duration::from_secs(100);
    s2.at = Duration::from_secs(102);
    let rates = s2.rates(&s1);
    let r = |p: &str| rates[id(&t, p)].clone().unwrap();

    let a = r(&app);
    assert_eq!(a.interval, Duration::from_secs(2));
    let cpu = a.cpu.unwrap();
    assert_eq!(cpu.cores, Some(0.75));
    assert_eq!(cpu.user_cores, Some(0.6));
    assert_eq!(cpu.system_cores, Some(0.15));
    assert_eq!((cpu.periods, cpu.throttled_periods), (Some(20), Some(5)));
    assert_eq!(cpu.throttled_ratio, Some(0.25));
    assert_eq!(cpu.throttled_time, Some(0.05));
    let ev = a.memory_events.unwrap();
    assert_eq!((ev.oom_kill, ev.oom), (Some(1), Some(1)));
    let io = a.io.unwrap();
    assert_eq!(io.read_bytes, 1.5 * MIB as f64);
    assert_eq!(io.write_bytes, 2.0 * MIB as f64);
    let nvme = io.devices.iter().find(|d| d.major == 259).unwrap();
    assert_eq!(nvme.name.as_deref(), Some("nvme0n1"));
    assert_eq!(
        (
            nvme.read_bytes,
            nvme.write_bytes,
            nvme.read_ios,
            nvme.write_ios
        ),
        (MIB as f64, 2.0 * MIB as f64, 5.0, 15.0)
    );
    let sda = io.devices.iter().find(|d| d.major == 8).unwrap();
    assert_eq!(
        (sda.name.as_deref(), sda.read_bytes),
        (Some("sda"), 0.5 * MIB as f64)
    );
    let psi = a.pressure.cpu.unwrap();
    assert_eq!(psi.some, Some(0.25));
    assert_eq!(psi.some_avg10, Some(Centi(1250)));
    assert_eq!(a.pressure.memory.unwrap().full, Some(0.1));
    assert_eq!(a.pressure.io.unwrap().some, Some(0.0));

    // A counter that went back restarts its rate: no rate, no error.
    let j = r(&format!("{NODE}/system.slice/systemd-journald.service"));
    assert_eq!(j.cpu.unwrap().cores, None);
    assert!(s2
        .get(id(
            &t,
            &format!("{NODE}/system.slice/systemd-journald.service")
        ))
        .unwrap()
        .errors
        .is_empty());
    // An idle cgroup: 0 cores.
    assert_eq!(r("/init.scope").cpu.unwrap().cores, Some(0.0));

    // Aggregates: the container, the pod (its own cgroup) and the kind node (the node's
    // container) are one cgroup each, whose counters include what is below.
    let groups = group::groups(&t);
    let find = |kind: GroupKind, key: &str| {
        groups
            .iter()
            .find(|g| g.kind == kind && g.key == key)
            .unwrap_or_else(|| panic!("no {kind:?} {key}"))
    };
    let c = find(GroupKind::Container, APP_ID);
    assert_eq!(c.members, [id(&t, &app)]);
    assert_eq!(c.name.as_deref(), Some("kube-apiserver"));
    let p = find(GroupKind::Pod, "f78d871c-d823-805f-e557-5008baa0e371");
    assert_eq!(p.members, [id(&t, &pod())]);
    let n = find(GroupKind::KubeNode, "kind-control-plane");
    assert_eq!(n.members, [id(&t, NODE)]);
    let u = find(GroupKind::User, "1000");
    assert_eq!(u.members, [id(&t, "/user.slice/user-1000.slice")]);
    for g in [c, p, n] {
        let gr = g.rates(&s1, &s2).unwrap();
        assert_eq!(gr.cpu.unwrap().cores, Some(0.75), "{:?}", g.kind);
        assert_eq!(gr.memory_events.unwrap().oom_kill, Some(1));
        assert_eq!(gr.io.unwrap().read_bytes, 1.5 * MIB as f64);
    }
    // The pod's numbers are the kernel's for its cgroup: 248 MiB + the pause container's
    // 320 KiB, and the OOM kills below it.
    let pu = p.usage(&s2).unwrap();
    assert_eq!(pu.memory.unwrap().current, Some(248 * MIB + 320 * 1024));
    assert_eq!(pu.memory_events.unwrap().oom_kill, Some(3));
    // The node: every cgroup inside it.
    let nu = n.usage(&s2).unwrap();
    assert_eq!(
        nu.cpu.unwrap().usage_usec,
        s2.get(id(&t, NODE)).unwrap().cpu.unwrap().usage_usec
    );

    // A pod without a cgroup of its own (its containers side by side) is the sum of its
    // containers: here the same pod's two containers, summed, equal what the kernel
    // gives the pod's cgroup.
    let split = group::Group::new(
        GroupKind::Pod,
        "split",
        None,
        vec![id(&t, &app), id(&t, &pause())],
    );
    let su = split.usage(&s2).unwrap();
    assert_eq!(su.cpu.unwrap().usage_usec, pu.cpu.unwrap().usage_usec);
    assert_eq!(su.memory.unwrap().current, pu.memory.unwrap().current);
    assert_eq!(su.memory.unwrap().stat, pu.memory.unwrap().stat);
    assert_eq!(su.memory_events, pu.memory_events);
    assert_eq!(su.pids.unwrap().current, pu.pids.unwrap().current);
    assert_eq!(su.io, pu.io);
    // What cannot be added is left out.
    assert_eq!(su.memory.unwrap().max, None);
    assert_eq!(su.memory_events_local, None);
    assert_eq!(su.pressure.cpu, None);
    let sr = split.rates(&s1, &s2).unwrap();
    assert_eq!(sr.cpu.unwrap().cores, Some(0.75));
    assert_eq!(sr.cpu.unwrap().throttled_ratio, Some(0.25));
    assert_eq!(sr.pressure.cpu.unwrap().some, Some(0.25));
}

/// A node new in the second sample has no rate; a removed one no usage.
#[test]
fn new_and_removed_cgroups() {
    let (_keep, root) = copy();
    let t1 = tree(&root);
    let mut sampler = Sampler::new(&t1, SampleOptions::default()).unwrap();
    let mut s1 = sampler.sample(&t1);
    let new = cg(&root, "/system.slice/new.service");
    std::fs::create_dir(&new).unwrap();
    for (f, v) in [
        ("cgroup.type", "domain\n"),
        ("cgroup.procs", ""),
        ("cgroup.controllers", "cpu io memory pids\n"),
        ("cgroup.subtree_control", ""),
        ("cpu.stat", "usage_usec 5\nuser_usec 5\nsystem_usec 0\n"),
    ] {
        std::fs::write(new.join(f), v).unwrap();
    }
    std::fs::remove_dir_all(cg(&root, "/system.slice/docker.service")).unwrap();
    let t2 = tree(&root);
    let mut s2 = sampler.sample(&t2);
    s1.at = Duration::from_secs(1);
    s2.at = Duration::from_secs(2);
    let rates = s2.rates(&s1);
    let n = id(&t2, "/system.slice/new.service");
    assert!(s2.get(n).unwrap().cpu.is_some());
    assert!(rates[n].is_none());
    assert!(rates[id(&t2, "/init.scope")].is_some());
    // Removed and made again under the same path (a restarted unit): the kept
    // descriptor is stale, the sampler opens the path again and reads the new cgroup,
    // whose counters start again; another cgroup id, so no rate.
    let svc = cg(&root, "/system.slice/containerd.service");
    let saved = root.join("saved");
    // (cgroup2 cannot rename a cgroup: a stale descriptor is always of a removed one.)
    std::fs::create_dir(&saved).unwrap();
    for e in std::fs::read_dir(&svc).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), saved.join(e.file_name())).unwrap();
    }
    std::fs::remove_dir_all(&svc).unwrap();
    std::fs::create_dir(&svc).unwrap();
    for e in std::fs::read_dir(&saved).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), svc.join(e.file_name())).unwrap();
    }
    std::fs::write(
        svc.join("cpu.stat"),
        "usage_usec 7\nuser_usec 7\nsystem_usec 0\n",
    )
    .unwrap();
    let mut s4 = sampler.sample(&t2);
    s4.at = Duration::from_secs(3);
    let c = id(&t2, "/system.slice/containerd.service");
    let (old_u, new_u) = (s2.get(c).unwrap(), s4.get(c).unwrap());
    assert_eq!(new_u.cpu.unwrap().usage_usec, Some(7));
    assert_ne!(old_u.id, new_u.id);
    assert!(new_u.errors.is_empty());
    assert!(s4.rates(&s2)[c].is_none());
    // Removed between the tree and the sample: no usage, no error.
    std::fs::remove_dir_all(cg(&root, "/init.scope")).unwrap();
    let s3 = sampler.sample(&t2);
    assert!(s3.get(id(&t2, "/init.scope")).is_none());
}

#[test]
fn bad_files_keep_the_rest_of_the_row() {
    let (_keep, root) = copy();
    let app = app();
    let dir = cg(&root, &app);
    std::fs::write(
        dir.join("memory.stat"),
        "anon 1\nfile 2\ninactive_file lots\n",
    )
    .unwrap();
    std::fs::write(dir.join("io.stat"), "259:0 rbytes=1 wbytes\n").unwrap();
    std::fs::remove_file(dir.join("pids.current")).unwrap();
    nix::unistd::mkfifo(
        &dir.join("pids.current"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    std::fs::remove_file(dir.join("memory.swap.current")).unwrap();
    let t = tree(&root);
    let mut sampler = Sampler::new(&t, SampleOptions::default()).unwrap();
    let s = sampler.sample(&t);
    let u = usage(&s, &t, &app);
    let errs: Vec<(String, Option<u32>)> = u
        .errors
        .iter()
        .map(|e| {
            let line = match &e.kind {
                NodeErrorKind::Parse(p) => Some(p.line),
                _ => None,
            };
            (
                e.path.file_name().unwrap().to_string_lossy().into_owned(),
                line,
            )
        })
        .collect();
    assert_eq!(
        errs,
        [
            ("memory.stat".to_string(), Some(3)),
            ("pids.current".to_string(), None),
            ("io.stat".to_string(), Some(1)),
        ]
    );
    assert!(u.errors.iter().all(|e| e.path.starts_with(&root)));
    assert_eq!(u.errors[1].kind, NodeErrorKind::NotRegular);
    // The rest of the row is there.
    let m = u.memory.unwrap();
    assert_eq!(
        (m.current, m.stat, m.swap_current),
        (Some(248 * MIB), None, None)
    );
    assert_eq!(m.working_set(), None);
    assert_eq!(u.pids.unwrap().max, Some(Limit::Value(1024)));
    assert!(u.io.is_none());
    assert_eq!(u.cpu.unwrap().usage_usec, Some(120_000_000));
    assert!(u.pressure.cpu.is_some());
    // Other cgroups are unaffected.
    assert!(usage(&s, &t, &pod()).errors.is_empty());
}

#[test]
fn rates_need_a_positive_interval_and_the_same_cgroup() {
    let t = tree(&fixture());
    let mut sampler = Sampler::new(&t, SampleOptions::default()).unwrap();
    let s = sampler.sample(&t);
    let u = usage(&s, &t, &app()).clone();
    assert!(Rates::between(&u, &u, Duration::ZERO).is_none());
    let r = Rates::between(&u, &u, Duration::from_secs(1)).unwrap();
    assert_eq!(r.cpu.unwrap().cores, Some(0.0));
    // The same path, another cgroup (recreated): no rates.
    let mut other = u.clone();
    other.id = u.id.map(|i| i + 1);
    assert!(Rates::between(&u, &other, Duration::from_secs(1)).is_none());
}

/// Only the files of the controllers enabled for a cgroup are opened: a cgroup whose
/// parent grants only `cpu` has no memory, I/O or PID numbers (even if such files lay
/// in a snapshot), and no error.
#[test]
fn only_enabled_controllers_are_read() {
    let (_keep, root) = copy();
    std::fs::write(
        cg(&root, "/user.slice/user-1000.slice").join("cgroup.subtree_control"),
        "cpu\n",
    )
    .unwrap();
    let t = tree(&root);
    let mut sampler = Sampler::new(&t, SampleOptions::default()).unwrap();
    let s = sampler.sample(&t);
    let u = usage(&s, &t, "/user.slice/user-1000.slice/session-2.scope");
    assert!(u.cpu.is_some() && u.pressure.memory.is_some());
    assert!(u.memory.is_none() && u.io.is_none() && u.pids.is_none());
    assert!(u.memory_events.is_none() && u.errors.is_empty());
    // Its parent still has them.
    assert!(usage(&s, &t, "/user.slice/user-1000.slice")
        .memory
        .is_some());
}

/// A chain of cgroups whose paths pass `PATH_MAX` (100 levels of 60-byte names): each
/// is opened below its parent's kept descriptor, so every level is read.
#[test]
fn cgroups_deeper_than_path_max_are_read() {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::Mode;
    use std::os::fd::AsFd;
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    std::fs::create_dir_all(root.join("proc/self")).unwrap();
    std::fs::write(
        root.join("proc/self/mountinfo"),
        "26 21 0:23 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n",
    )
    .unwrap();
    let top = root.join("sys/fs/cgroup");
    std::fs::create_dir_all(&top).unwrap();
    let write_files = |dir: std::os::fd::BorrowedFd<'_>, n: usize| {
        for (f, v) in [
            ("cgroup.type", "domain\n".to_string()),
            ("cgroup.procs", String::new()),
            ("cgroup.controllers", String::new()),
            ("cgroup.subtree_control", String::new()),
            (
                "cpu.stat",
                format!("usage_usec {n}\nuser_usec {n}\nsystem_usec 0\n"),
            ),
        ] {
            let fd = openat(
                dir,
                f,
                OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_CLOEXEC,
                Mode::from_bits_truncate(0o644),
            )
            .unwrap();
            nix::unistd::write(&fd, v.as_bytes()).unwrap();
        }
    };
    let mut cur =
        nix::fcntl::open(&top, OFlag::O_DIRECTORY | OFlag::O_RDONLY, Mode::empty()).unwrap();
    write_files(cur.as_fd(), 0);
    let name = "d".repeat(60);
    for level in 1..=100 {
        nix::sys::stat::mkdirat(cur.as_fd(), name.as_str(), Mode::from_bits_truncate(0o755))
            .unwrap();
        cur = openat(
            cur.as_fd(),
            name.as_str(),
            OFlag::O_DIRECTORY | OFlag::O_RDONLY,
            Mode::empty(),
        )
        .unwrap();
        write_files(cur.as_fd(), level);
    }
    let t = TreeBuilder::new()
        .host_root(root)
        .include_empty(true)
        .processes(false)
        .build()
        .unwrap();
    assert_eq!(t.nodes().len(), 101);
    assert!(t.path(100).len() > 4096);
    let mut sampler = Sampler::new(&t, SampleOptions::default()).unwrap();
    for _ in 0..2 {
        let s = sampler.sample(&t);
        for i in 0..101 {
            let u = s.get(i).unwrap();
            assert!(u.errors.is_empty(), "{i}: {:?}", u.errors);
            assert_eq!(u.cpu.unwrap().usage_usec, Some(i as u64), "{i}");
        }
    }
    // With no descriptor kept, a path past PATH_MAX cannot be opened: an error on that
    // cgroup, the others read.
    let opts = SampleOptions {
        max_open_dirs: 0,
        ..SampleOptions::default()
    };
    let s = Sampler::new(&t, opts).unwrap().sample(&t);
    assert!(s.get(1).unwrap().cpu.is_some());
    let deep = s.get(100).unwrap();
    assert!(deep.cpu.is_none() && !deep.errors.is_empty());
}
