//! Churn: cgroups are created and removed, processes started and killed, under a unique
//! subtree of the host's cgroup2 mount, while cgtree (tree, --json, pid, userns) runs
//! against it. Every run must exit 0 or 1 (pid: 0, or 2 for a process that went away,
//! with a one-line reason), never panic, print a coherent tree, and never report a
//! vanished cgroup or process as an error. The races actually hit are counted
//! (`CGTREE_STATS=1`) and printed, and must not be zero.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const MIN_WALKS: usize = 300;
const MAX_WALKS: usize = 1500;

struct Churn {
    base: PathBuf,
    stop: AtomicBool,
    live: Mutex<Vec<u32>>,
    children: Mutex<BTreeMap<u32, Child>>,
    created: AtomicU64,
    removed: AtomicU64,
}

impl Churn {
    fn spawn_into(&self, cg: &Path) {
        let Ok(child) = Command::new("sleep")
            .arg("600")
            .stdin(Stdio::null())
            .spawn()
        else {
            return;
        };
        let pid = child.id();
        self.children.lock().unwrap().insert(pid, child);
        if fs::write(cg.join("cgroup.procs"), pid.to_string()).is_ok() {
            self.live.lock().unwrap().push(pid);
        }
    }

    fn kill(&self, pid: u32) {
        self.live.lock().unwrap().retain(|p| *p != pid);
        if let Some(mut c) = self.children.lock().unwrap().remove(&pid) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn run(&self) {
        let mut slots: Vec<Option<(PathBuf, Vec<u32>)>> = vec![None; 12];
        let mut i = 0usize;
        while !self.stop.load(Ordering::Relaxed) {
            i += 1;
            let k = (i * 7) % slots.len();
            match slots[k].take() {
                None => {
                    let top = self.base.join(format!("s{k}-{i}"));
                    let leaf = top.join("leaf.scope");
                    if fs::create_dir(&top).is_ok() && fs::create_dir(&leaf).is_ok() {
                        self.created.fetch_add(2, Ordering::Relaxed);
                        self.spawn_into(&leaf);
                        self.spawn_into(&leaf);
                        let pids = self
                            .live
                            .lock()
                            .unwrap()
                            .iter()
                            .rev()
                            .take(2)
                            .copied()
                            .collect();
                        slots[k] = Some((top, pids));
                    }
                }
                Some((top, pids)) => {
                    for p in pids {
                        self.kill(p);
                    }
                    for d in [top.join("leaf.scope"), top] {
                        for _ in 0..200 {
                            if fs::remove_dir(&d).is_ok() || !d.exists() {
                                self.removed.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            std::thread::sleep(Duration::from_micros(200));
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_micros(300));
        }
    }

    /// Kills every process it started (by PID) and removes its subtree, deepest first.
    fn cleanup(&self) {
        let pids: Vec<u32> = self.children.lock().unwrap().keys().copied().collect();
        for p in pids {
            self.kill(p);
        }
        let mut dirs = Vec::new();
        let mut stack = vec![self.base.clone()];
        while let Some(d) = stack.pop() {
            dirs.push(d.clone());
            if let Ok(rd) = fs::read_dir(&d) {
                stack.extend(
                    rd.filter_map(Result::ok)
                        .filter(|e| e.path().is_dir())
                        .map(|e| e.path()),
                );
            }
        }
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in dirs {
            for _ in 0..200 {
                if fs::remove_dir(&d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

struct Guard(Arc<Churn>, Option<std::thread::JoinHandle<()>>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.1.take() {
            let _ = h.join();
        }
        self.0.cleanup();
        assert!(
            !self.0.base.exists(),
            "churn subtree left behind: {}",
            self.0.base.display()
        );
    }
}

fn stats(stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("cgtree: stats:"))
        .expect("stats line");
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn cgtree_survives_churn() {
    let Some(mount) = common::live_mount("the churn test") else {
        return;
    };
    let name = common::unique_cgroup_name("churn");
    let base = mount.join(&name);
    fs::create_dir(&base).unwrap();
    let churn = Arc::new(Churn {
        base,
        stop: AtomicBool::new(false),
        live: Mutex::new(Vec::new()),
        children: Mutex::new(BTreeMap::new()),
        created: AtomicU64::new(0),
        removed: AtomicU64::new(0),
    });
    let c2 = churn.clone();
    let guard = Guard(churn.clone(), Some(std::thread::spawn(move || c2.run())));
    std::thread::sleep(Duration::from_millis(50));

    let start = format!("/{name}");
    let (mut runs, mut vanished_cg, mut vanished_proc) =
        (BTreeMap::<&str, usize>::new(), 0u64, 0u64);
    let mut codes: BTreeMap<i32, usize> = BTreeMap::new();
    let mut walks = 0;
    while walks < MIN_WALKS || (vanished_cg + vanished_proc == 0 && walks < MAX_WALKS) {
        let kind = ["tree", "json", "tree", "json", "pid", "pid", "userns"][walks % 7];
        let pid = churn
            .live
            .lock()
            .unwrap()
            .last()
            .copied()
            .unwrap_or(1)
            .to_string();
        let args: Vec<&str> = match kind {
            "tree" => vec![&start, "--all", "-U"],
            "json" => vec!["--json", &start],
            "pid" => vec!["pid", &pid],
            _ => vec!["userns", "--json"],
        };
        let out = common::cgtree()
            .env("CGTREE_STATS", "1")
            .args(&args)
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        let code = out.status.code().unwrap_or(-1);
        assert!(!stderr.contains("panicked"), "{kind}: {stderr}");
        let (c, p) = stats(&stderr);
        vanished_cg += c;
        vanished_proc += p;
        *codes.entry(code).or_default() += 1;
        *runs.entry(kind).or_default() += 1;
        let errors: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.starts_with("cgtree: stats:"))
            .collect();
        for e in &errors {
            for vanished in ["No such file", "No such device", "No such process"] {
                assert!(
                    !e.contains(vanished),
                    "a vanished object reported as an error ({kind}): {e}"
                );
            }
        }
        match kind {
            "pid" => {
                assert!(code == 0 || code == 2, "pid exit {code}: {stderr}");
                if code == 2 {
                    assert!(
                        errors.len() == 1
                            && (errors[0].contains("no process")
                                || errors[0].contains("exited while it was read")),
                        "{stderr}"
                    );
                }
            }
            _ => assert!(code == 0 || code == 1, "{kind} exit {code}: {stderr}"),
        }
        if kind == "tree" {
            assert!(stdout.starts_with(&start), "{stdout}");
        }
        if kind == "json" {
            let v: serde_json::Value =
                serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
            common::validate(&v).unwrap();
            assert_eq!(v["cgroup"]["path"], start.as_str());
        }
        if kind == "userns" {
            let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            common::validate_def(&v, "userns_doc").unwrap();
        }
        walks += 1;
    }
    let created = churn.created.load(Ordering::Relaxed);
    let removed = churn.removed.load(Ordering::Relaxed);
    drop(guard);
    println!(
        "churn: {walks} cgtree runs {runs:?}, exit codes {codes:?}; races hit: {vanished_cg} vanished cgroups, {vanished_proc} vanished processes; churn created {created} and removed {removed} cgroups"
    );
    assert!(
        vanished_cg + vanished_proc > 0,
        "no race was hit in {walks} runs: the test did not exercise them"
    );
}
