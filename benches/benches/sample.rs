//! One sample (`cgroup_core::sample::Sampler::sample`) of fixtures/stats-kind (23
//! cgroups with every usage file), and of a synthetic tree of 2,000 cgroups written to a
//! temporary directory (the same files in each: cpu.stat, memory.*, pids.*, io.stat,
//! the pressure files), with directory descriptors kept between samples (the default)
//! and with none kept (each cgroup reopened by path at every sample). Fixture and
//! temporary-directory files are read as untrusted (type checked on an `O_PATH`
//! descriptor, reopened through `/proc/thread-self/fd`: five system calls more per
//! file than on cgroupfs). When run as root on a host with a cgroup2 mount, also one
//! sample of 211 live cgroups this benchmark makes (and removes) under the mount, read
//! as cgroupfs files are.

use cgroup_core::sample::{SampleOptions, Sampler};
use cgroup_core::TreeBuilder;
use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};

/// Files of every synthetic cgroup, in the kernel's formats.
const FILES: &[(&str, &str)] = &[
    ("cgroup.type", "domain\n"),
    ("cgroup.procs", ""),
    ("cgroup.controllers", "cpu io memory pids\n"),
    ("cgroup.subtree_control", "cpu io memory pids\n"),
    ("cpu.stat", "usage_usec 8364911\nuser_usec 5263125\nsystem_usec 3101786\ncore_sched.force_idle_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n"),
    ("memory.current", "260046848\n"),
    ("memory.max", "max\n"),
    ("memory.high", "max\n"),
    ("memory.swap.current", "0\n"),
    ("memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"),
    ("memory.events.local", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n"),
    ("pids.current", "9\n"),
    ("pids.max", "max\n"),
    ("io.stat", "8:0 rbytes=104857600 wbytes=0 rios=800 wios=0 dbytes=0 dios=0\n259:0 rbytes=31457280 wbytes=10485760 rios=2000 wios=700 dbytes=0 dios=0\n"),
    ("cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=900000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
    ("memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=200000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=150000\n"),
    ("io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=60000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=30000\n"),
];

fn write_cgroup(dir: &Path) {
    std::fs::create_dir_all(dir).expect("mkdir");
    for (f, v) in FILES {
        std::fs::write(dir.join(f), v).expect("write");
    }
}

/// A host root with 20 slices of 100 services each (2,021 cgroups with the root).
fn synthetic() -> PathBuf {
    let root = std::env::temp_dir().join(format!("cgtree-bench-sample-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let cg = root.join("sys/fs/cgroup");
    std::fs::create_dir_all(root.join("proc/self")).expect("mkdir");
    std::fs::write(
        root.join("proc/self/mountinfo"),
        "26 21 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw\n",
    )
    .expect("mountinfo");
    write_cgroup(&cg);
    for s in 0..20 {
        let slice = cg.join(format!("s{s}.slice"));
        write_cgroup(&slice);
        for u in 0..100 {
            write_cgroup(&slice.join(format!("u{u}.service")));
        }
    }
    root
}

fn bench(c: &mut Criterion) {
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/stats-kind");
    let mut g = c.benchmark_group("sample");
    let tree = TreeBuilder::new()
        .host_root(fixture)
        .include_empty(true)
        .build()
        .expect("fixture builds");
    let mut sampler = Sampler::new(&tree, SampleOptions::default()).expect("sampler");
    g.bench_function("stats-kind", |b| {
        b.iter(|| sampler.sample(&tree).usage.len())
    });

    let root = synthetic();
    let tree = TreeBuilder::new()
        .host_root(&root)
        .include_empty(true)
        .processes(false)
        .build()
        .expect("synthetic tree builds");
    assert_eq!(tree.nodes().len(), 2021);
    for (name, keep) in [
        ("synthetic-2021/kept-fds", 4096),
        ("synthetic-2021/reopen", 0),
    ] {
        let opts = SampleOptions {
            max_open_dirs: keep,
            ..SampleOptions::default()
        };
        let mut sampler = Sampler::new(&tree, opts).expect("sampler");
        g.bench_function(name, |b| b.iter(|| sampler.sample(&tree).usage.len()));
    }
    let _ = std::fs::remove_dir_all(&root);

    if let Some(live) = LiveTree::make() {
        let tree = TreeBuilder::new()
            .start(format!("/{}", live.name))
            .include_empty(true)
            .processes(false)
            .build()
            .expect("live tree builds");
        assert_eq!(tree.nodes().len(), 211);
        let mut sampler = Sampler::new(&tree, SampleOptions::default()).expect("sampler");
        g.bench_function("live-211", |b| b.iter(|| sampler.sample(&tree).usage.len()));
    } else {
        eprintln!("sample/live-211 skipped: needs root and a cgroup2 mount");
    }
    // A tree of ../shared/bench (make-tree.sh) when one is up: CGBENCH_START=/cgbench
    // (the start cgroup under the live cgroup2 mount). One sample of every cgroup
    // (`cgtree top -a`) and of the populated ones (`cgtree top`'s default).
    if let Some(start) = std::env::var_os("CGBENCH_START") {
        let start = start.to_string_lossy().into_owned();
        for (name, all) in [("cgbench/all", true), ("cgbench/populated", false)] {
            let tree = TreeBuilder::new()
                .start(start.clone())
                .include_empty(all)
                .processes(false)
                .build()
                .expect("the CGBENCH_START tree builds");
            eprintln!("sample/{name}: {} cgroups", tree.nodes().len());
            // As `cgtree top` sets it: every descriptor the soft limit allows kept.
            let opts = SampleOptions {
                max_open_dirs: usize::MAX,
                ..SampleOptions::default()
            };
            let mut sampler = Sampler::new(&tree, opts).expect("sampler");
            g.bench_function(name, |b| b.iter(|| sampler.sample(&tree).usage.len()));
        }
    }
    g.finish();
}

/// 10 x 20 cgroups (and their parents) under the live cgroup2 mount, removed on drop.
struct LiveTree {
    name: String,
    dirs: Vec<PathBuf>,
}

impl LiveTree {
    fn make() -> Option<LiveTree> {
        if !nix_is_root() {
            return None;
        }
        let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
        let mount = mi
            .lines()
            .filter(|l| {
                l.split(" - ")
                    .nth(1)
                    .is_some_and(|t| t.starts_with("cgroup2 "))
            })
            .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
            .min_by_key(|p| p.as_os_str().len())?;
        let name = format!("cgtree-bench-sample-{}", std::process::id());
        let mut t = LiveTree {
            name: name.clone(),
            dirs: Vec::new(),
        };
        let top = mount.join(&name);
        std::fs::create_dir(&top).ok()?;
        t.dirs.push(top.clone());
        for s in 0..10 {
            let d = top.join(format!("s{s}"));
            std::fs::create_dir(&d).ok()?;
            t.dirs.push(d.clone());
            for u in 0..20 {
                let e = d.join(format!("u{u}"));
                std::fs::create_dir(&e).ok()?;
                t.dirs.push(e);
            }
        }
        Some(t)
    }
}

impl Drop for LiveTree {
    fn drop(&mut self) {
        for d in self.dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

criterion_group!(benches, bench);
criterion_main!(benches);
