//! The sampler on the live cgroup2 hierarchy (root): a busy loop this test spawns uses
//! about one core, a sleeping process about none, and systemd-cgtop, run on the same
//! cgroups in a private mount namespace where cgroup2 is mounted on /sys/fs/cgroup,
//! agrees. Skipped only with `CGTREE_SKIP_LIVE=1`; without root or a cgroup2 mount it
//! fails.
//!
//! Everything made here has a unique name and is removed by a `Drop` guard, even when
//! an assertion fails: the processes this test spawned are killed by their own PIDs, the
//! cgroups removed deepest first.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use cgroup_core::sample::{SampleOptions, Sampler};
use cgroup_core::TreeBuilder;
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

/// Cgroups and processes this test made.
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

    /// Spawns `cmd` and moves it into the cgroup `dir`.
    fn spawn_into(&mut self, cmd: &mut Command, dir: &Path) -> u32 {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        std::fs::write(dir.join("cgroup.procs"), pid.to_string()).unwrap();
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
            if d.exists() {
                eprintln!("sample_live: could not remove {}", d.display());
            }
        }
    }
}

/// utime + stime of process `pid`, in clock ticks (fields 14 and 15 of /proc/PID/stat,
/// counted after the `)` that ends the command name).
fn proc_cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    // After `)`: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// `%CPU` of `path` in the last iteration of `systemd-cgtop -b --raw` output.
fn cgtop_cpu(out: &str, path: &str) -> Option<f64> {
    out.lines()
        .filter(|l| l.split_whitespace().next() == Some(path))
        .filter_map(|l| l.split_whitespace().nth(2)?.parse().ok())
        .next_back()
}

#[test]
fn busy_loop_uses_one_core_and_cgtop_agrees() {
    let skip = std::env::var_os("CGTREE_SKIP_LIVE").is_some_and(|v| v == "1");
    let mount = match (cgroup2_mount(), nix::unistd::geteuid().is_root()) {
        (Some(m), true) => m,
        _ if skip => return eprintln!("sample_live skipped (CGTREE_SKIP_LIVE=1)"),
        (None, _) => panic!("no cgroup2 mount; CGTREE_SKIP_LIVE=1 skips this test"),
        (Some(_), false) => panic!("needs root; CGTREE_SKIP_LIVE=1 skips this test"),
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name = format!("cgtree-sample-{}-{nanos}", std::process::id());
    let mut g = Guard::default();
    let top = mount.join(&name);
    g.mkdir(&top);
    g.mkdir(&top.join("busy"));
    g.mkdir(&top.join("idle"));
    let busy_pid = g.spawn_into(
        Command::new("sh").args(["-c", "while :; do :; done"]),
        &top.join("busy"),
    );
    g.spawn_into(Command::new("sleep").arg("600"), &top.join("idle"));

    let tree = TreeBuilder::new()
        .start(format!("/{name}"))
        .processes(false)
        .include_empty(true)
        .build()
        .unwrap();
    let paths: Vec<String> = (0..tree.nodes().len())
        .map(|i| String::from_utf8(tree.path(i)).unwrap())
        .collect();
    let busy = paths.iter().position(|p| p.ends_with("/busy")).unwrap();
    let idle = paths.iter().position(|p| p.ends_with("/idle")).unwrap();
    let mut sampler = Sampler::new(&tree, SampleOptions::default()).unwrap();

    // systemd-cgtop on the same cgroups over about the same 2 s, seeing cgroup2 at
    // /sys/fs/cgroup in a private mount namespace; its %CPU is per 100 = one CPU.
    let cgtop = Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c"])
        .arg(format!(
            "mount -t cgroup2 none /sys/fs/cgroup && exec systemd-cgtop -b -n 2 -d 2 --raw /{name}"
        ))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let p1 = proc_cpu_ticks(busy_pid);
    let s1 = sampler.sample(&tree);
    std::thread::sleep(Duration::from_millis(2000));
    let p2 = proc_cpu_ticks(busy_pid);
    let s2 = sampler.sample(&tree);
    let out = cgtop.wait_with_output().unwrap();

    let rates = s2.rates(&s1);
    let busy_cores = rates[busy].as_ref().unwrap().cpu.unwrap().cores.unwrap();
    let idle_cores = rates[idle].as_ref().unwrap().cpu.unwrap().cores.unwrap();
    let interval = s2.at - s1.at;
    // The busy process's own utime + stime (/proc/PID/stat, in USER_HZ = 100 ticks a
    // second) over the same interval: an independent measure of the same CPU time.
    let proc_cores = (p2 - p1) as f64 / 100.0 / interval.as_secs_f64();
    eprintln!(
        "busy {busy_cores:.3} cores (its /proc/PID/stat: {proc_cores:.3}), idle {idle_cores:.4} cores over {interval:?}"
    );
    assert!(
        (busy_cores - proc_cores).abs() <= 0.05,
        "cgroup {busy_cores} vs process {proc_cores}"
    );
    // About one core; less when the two shared CPUs are busy with other work.
    assert!(
        (0.5..=1.1).contains(&busy_cores),
        "busy loop: {busy_cores} cores"
    );
    assert!(idle_cores < 0.02, "sleeping: {idle_cores} cores");
    // The parent's cpu.stat includes its children's (hierarchical).
    let parent = rates[0].as_ref().unwrap().cpu.unwrap().cores.unwrap();
    assert!(parent >= busy_cores * 0.95, "{parent} < {busy_cores}");
    // Files the kernel gives every cgroup2 cgroup here (only hugetlb is enabled): PSI.
    let u = s2.get(busy).unwrap();
    assert!(u.errors.is_empty(), "{:?}", u.errors);
    assert!(u.pressure.cpu.is_some_and(|p| p.some.is_some()));
    assert!(u.id.is_some());

    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "systemd-cgtop: {text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cgtop_busy = cgtop_cpu(&text, &format!("/{name}/busy"))
        .unwrap_or_else(|| panic!("no busy line in\n{text}"))
        / 100.0;
    eprintln!("systemd-cgtop: busy {cgtop_busy:.3} cores");
    assert!(
        (cgtop_busy - busy_cores).abs() <= 0.1,
        "systemd-cgtop {cgtop_busy} vs cgtree {busy_cores}"
    );
    // cgtop prints `-` (no number) for a cgroup with no CPU use, or a small one.
    if let Some(c) = cgtop_cpu(&text, &format!("/{name}/idle")) {
        assert!(c / 100.0 < 0.02, "systemd-cgtop idle {c}%");
    }
}
