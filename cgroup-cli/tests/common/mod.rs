//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A `cgtree` command with a cleared environment (PATH kept, NO_COLOR=1, COLUMNS=100),
/// run from the repository root.
pub fn cgtree() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cgtree"));
    cmd.current_dir(repo_root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100");
    cmd
}

/// Runs cgtree with `--root fixtures/<scenario>` and `args`: (stdout, stderr, exit code).
pub fn run_fixture(scenario: &str, args: &[&str]) -> (String, String, i32) {
    let out = cgtree()
        .arg("--root")
        .arg(format!("fixtures/{scenario}"))
        .args(args)
        .output()
        .expect("run cgtree");
    (
        String::from_utf8(out.stdout).expect("utf-8 stdout"),
        String::from_utf8(out.stderr).expect("utf-8 stderr"),
        out.status.code().unwrap_or(-1),
    )
}

/// The JSON Schema embedded in docs/json.md (the ```json block after `<!-- schema -->`).
pub fn json_schema() -> serde_json::Value {
    let doc = std::fs::read_to_string(repo_root().join("docs/json.md")).expect("docs/json.md");
    let after = doc
        .split("<!-- schema -->")
        .nth(1)
        .expect("schema marker in docs/json.md");
    let body = after
        .split("```json")
        .nth(1)
        .expect("json block")
        .split("```")
        .next()
        .unwrap();
    serde_json::from_str(body).expect("docs/json.md schema is valid JSON")
}

/// Validates `doc` against the schema of docs/json.md, listing every violation.
pub fn validate(doc: &serde_json::Value) -> Result<(), String> {
    validate_with(doc, json_schema())
}

/// Validates a `cgtree pid --json` object against `#/$defs/trace` of docs/json.md.
pub fn validate_trace(doc: &serde_json::Value) -> Result<(), String> {
    validate_def(doc, "trace")
}

/// Validates `doc` against `#/$defs/<def>` of docs/json.md.
pub fn validate_def(doc: &serde_json::Value, def: &str) -> Result<(), String> {
    let main = json_schema();
    let schema = serde_json::json!({"$ref": format!("#/$defs/{def}"), "$defs": main["$defs"]});
    validate_with(doc, schema)
}

fn validate_with(doc: &serde_json::Value, schema: serde_json::Value) -> Result<(), String> {
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// One entry of a cgls-style tree text: its depth and the text after the branch glyph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeLine {
    pub depth: usize,
    pub text: String,
}

/// Parses tree text drawn with `├─`, `└─` and `│` in two-column steps. The first line
/// (the root) has depth 0.
pub fn parse_tree(text: &str) -> Vec<TreeLine> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if i == 0 {
            out.push(TreeLine {
                depth: 0,
                text: line.to_string(),
            });
            continue;
        }
        let chars: Vec<char> = line.chars().collect();
        let Some(pos) = chars.iter().position(|&c| c == '─') else {
            continue;
        };
        let text: String = chars[pos + 1..].iter().collect();
        out.push(TreeLine {
            depth: pos.div_ceil(2),
            text,
        });
    }
    out
}

/// For each line, the texts of its ancestors (root first) and its own text.
pub fn chains(lines: &[TreeLine]) -> Vec<(Vec<String>, String)> {
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for l in lines {
        stack.truncate(l.depth);
        out.push((stack.clone(), l.text.clone()));
        stack.push(l.text.clone());
    }
    out
}

/// Copies a directory tree (symlinks copied as symlinks).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let (src, dst) = (e.path(), to.join(e.file_name()));
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else if ft.is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// The cgroup2 mount point, read from /proc/self/mountinfo independently of cgtree
/// (`/sys/fs/cgroup` first, else the shortest).
pub fn cgroup2_mount() -> Option<PathBuf> {
    let mi = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut found: Vec<PathBuf> = mi
        .lines()
        .filter(|l| {
            l.split(" - ")
                .nth(1)
                .is_some_and(|t| t.starts_with("cgroup2 "))
        })
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from))
        .collect();
    found.sort_by_key(|p| (p != Path::new("/sys/fs/cgroup"), p.as_os_str().len()));
    found.into_iter().next()
}

/// The cgroup2 mount for a live test, which needs root: `None` (skip) only when
/// `CGTREE_SKIP_LIVE=1`; otherwise a missing mount or missing root fails the test.
pub fn live_mount(what: &str) -> Option<PathBuf> {
    let skip = std::env::var_os("CGTREE_SKIP_LIVE").is_some_and(|v| v == "1");
    match (cgroup2_mount(), nix::unistd::geteuid().is_root()) {
        (Some(m), true) => Some(m),
        _ if skip => {
            eprintln!("{what} skipped (CGTREE_SKIP_LIVE=1)");
            None
        }
        (None, _) => panic!("no cgroup2 mount on this host; set CGTREE_SKIP_LIVE=1 to skip {what}"),
        (Some(_), false) => panic!("{what} needs root; set CGTREE_SKIP_LIVE=1 to skip it"),
    }
}

/// A cgroup subtree and processes this test made; `Drop` kills the processes it started
/// (by their own PIDs only) and removes the cgroups, deepest first.
#[derive(Default)]
pub struct LiveTree {
    pub dirs: Vec<PathBuf>,
    pub children: Vec<std::process::Child>,
}

impl LiveTree {
    pub fn mkdir(&mut self, p: &Path) {
        std::fs::create_dir(p).unwrap_or_else(|e| panic!("mkdir {}: {e}", p.display()));
        self.dirs.push(p.to_path_buf());
    }

    /// Starts `cmd` (standard streams to /dev/null), moves it into cgroup directory
    /// `cg` and keeps it to be killed: its PID.
    pub fn spawn_in(&mut self, cg: &Path, cmd: &mut Command) -> u32 {
        use std::process::Stdio;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push(child);
        std::fs::write(cg.join("cgroup.procs"), pid.to_string())
            .unwrap_or_else(|e| panic!("moving {pid} into {}: {e}", cg.display()));
        pid
    }

    pub fn spawn_sleep(&mut self) -> u32 {
        let child = std::process::Command::new("sleep")
            .arg("600")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn sleep");
        let pid = child.id();
        self.children.push(child);
        pid
    }
}

impl Drop for LiveTree {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for d in self.dirs.iter().rev() {
            // A cgroup whose last task just exited may stay busy for a moment.
            for _ in 0..100 {
                match std::fs::remove_dir(d) {
                    Ok(()) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                    Err(_) => std::thread::sleep(std::time::Duration::from_millis(20)),
                }
            }
            if d.exists() {
                eprintln!("live test: could not remove {}", d.display());
            }
        }
    }
}

/// Runs cgtree on the host rooted at `root`; the root's own path in the output is
/// replaced by `ROOT` so that two roots can be compared. (stdout, stderr, exit code)
pub fn run_root(root: &Path, args: &[&str]) -> (String, String, i32) {
    let out = cgtree()
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    let norm = |b: Vec<u8>| {
        String::from_utf8(b)
            .unwrap()
            .replace(&root.display().to_string(), "ROOT")
    };
    (
        norm(out.stdout),
        norm(out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

/// A cgroup name unique to this test run: `cgtree-<what>-<pid>-<nanos>`.
pub fn unique_cgroup_name(what: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("cgtree-{what}-{}-{nanos}", std::process::id())
}

/// Runs `cmd` and asserts it exits 0 (showing its stderr when it does not).
pub fn output_ok(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `line` without a cgroup's controller set (` {none}`, ` {cpu memory}`): it depends on
/// which controllers the host enables above a live test's subtree.
pub fn without_controllers(line: &str) -> String {
    if let Some(open) = line.find(" {") {
        if let Some(len) = line[open..].find('}') {
            let set = &line[open + 2..open + len];
            if set
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b' ' || b == b'_')
            {
                return format!("{}{}", &line[..open], &line[open + len + 1..]);
            }
        }
    }
    line.to_string()
}

/// Runs `cmd` to completion, killing it (by its own PID) after `deadline`: a hang becomes
/// a failure, never a stuck test. Returns the output and whether it was killed.
pub fn run_with_deadline(
    cmd: &mut Command,
    deadline: std::time::Duration,
) -> (std::process::Output, bool) {
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Drain the pipes on threads so that a large output cannot block the child.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut so, &mut v).ok();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut se, &mut v).ok();
        v
    });
    let start = std::time::Instant::now();
    let mut killed = false;
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > deadline {
            let _ = child.kill();
            killed = true;
            break child.wait().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let out = std::process::Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    };
    (out, killed)
}

/// `text` with the number after each `"id":` and `"parent_id":` key (pretty or compact
/// JSON; string values such as a container's `"id": "abc"` are left alone) replaced by
/// its rank of first appearance in `text`, so that equal ids stay equal: cgroup ids are
/// directory inodes, which differ between a fixture, its copy and its snapshot.
pub fn mask_ids(text: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    loop {
        let next = ["\"id\":", "\"parent_id\":"]
            .iter()
            .filter_map(|k| rest.find(k).map(|i| (i, k.len())))
            .min();
        let Some((at, klen)) = next else {
            out.push_str(rest);
            return out;
        };
        let after = &rest[at + klen..];
        let spaces = after.len() - after.trim_start_matches(' ').len();
        let digits = after[spaces..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        out.push_str(&rest[..at + klen + spaces]);
        let number = &after[spaces..spaces + digits];
        if digits > 0 {
            let rank = match seen.iter().position(|s| s == number) {
                Some(i) => i + 1,
                None => {
                    seen.push(number.to_string());
                    seen.len()
                }
            };
            out.push_str(&rank.to_string());
        }
        rest = &after[spaces + digits..];
    }
}

/// `promtool check metrics` on `text`: Ok, or its complaint. `None` when promtool is
/// not installed and CI is not set (a CI run without it fails).
pub fn promtool(text: &str) -> Option<Result<(), String>> {
    let child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("promtool is needed in CI: {e}")
        }
        Err(e) => {
            eprintln!("promtool not run: {e}");
            return None;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut stdin, text.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Some(if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    })
}
