//! Terminal injection and output size (rules 5 and 6 of the security model, CLI side).
//!
//! - Every fixture is copied with hostile bytes injected into everything a user or a
//!   container controls (cgroup names, command lines, comm, runtime-state names and
//!   images, the ids conmon and shims take from their command line, user names, the
//!   files `provision` quotes in its diffs), and every renderer is run on it: neither
//!   stdout nor stderr may hold a raw control character (C0 but the line feed, DEL, C1),
//!   a bidi control, a zero-width character or a line/paragraph separator; a line feed
//!   from the input never starts a line; `--json` keeps the exact bytes.
//! - A live process of a throw-away user named `conmon` with escapes in its argv.
//! - A chain of cgroups 1,800 levels deep: the tree and `pid` grow linearly with depth.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;
#[path = "../../tests/support/throwaway_user.rs"]
mod throwaway_user;

use base64::Engine;
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

/// Hostile bytes for names without line structure (NUL-separated command lines).
const H: &[u8] =
    b"\x1b[2J\x1b]0;pwned\x07\xc2\x9b31m\xe2\x80\xae\xe2\x80\x8b\xe2\x80\xa8\x7f\nFORGED\xff";
/// For names inside line-based files and directory names (no line feed, no `/`, `:`).
const H_LINE: &[u8] =
    b"\x1b[2J\x1b]0;pwned\x07\xc2\x9b31m\xe2\x80\xae\xe2\x81\xa6\xe2\x80\x8b\xe2\x80\xa9\xff";
/// For JSON strings (valid UTF-8).
const H_JSON: &str =
    "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202e}\u{2067}\u{200d}\u{2028}\u{feff}\nFORGED";

fn bad_char(c: char) -> bool {
    let u = c as u32;
    (u < 0x20 && c != '\n')
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        || u == 0x061c
        || (0x200b..=0x200f).contains(&u)
        || (0x2028..=0x202e).contains(&u)
        || (0x2060..=0x2069).contains(&u)
        || u == 0xfeff
}

/// What in `bytes` a terminal would act on. `sgr`: cgtree's own colour codes
/// (`ESC [ digits m`) are allowed; `tabs`: tabs are (diff bodies).
fn violations(bytes: &[u8], sgr: bool, tabs: bool) -> Vec<String> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return vec![format!("invalid UTF-8 at byte {}", e.valid_up_to())],
    };
    let mut out = Vec::new();
    let mut skip_to = 0;
    for (i, c) in text.char_indices() {
        if i < skip_to {
            continue;
        }
        if c == '\x1b' && sgr {
            let rest = &text.as_bytes()[i + 1..];
            if rest.first() == Some(&b'[') {
                let n = rest[1..]
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(rest.len() - 1);
                if rest.get(1 + n) == Some(&b'm') && n > 0 {
                    skip_to = i + 1 + 1 + n + 1;
                    continue;
                }
            }
        }
        if c == '\t' && tabs {
            continue;
        }
        if bad_char(c) {
            let context: String = text[..i]
                .chars()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .chain(text[i..].chars().take(20))
                .collect();
            out.push(format!("U+{:04X} at {i}: {context:?}", c as u32));
        }
    }
    if text.contains("\nFORGED") {
        out.push("a line starts with FORGED: a line feed from the input passed".into());
    }
    out
}

fn appended(name: &[u8], h: &[u8]) -> Vec<u8> {
    let mut v = name.to_vec();
    v.extend_from_slice(h);
    v
}

/// Renames every cgroup below a cgroup2 root (a directory whose parent has
/// `cgroup.controllers`), deepest first, appending `H_LINE`; returns how many.
fn rename_cgroups(dir: &Path) -> usize {
    let mut n = 0;
    let is_v2 = dir.join("cgroup.controllers").exists();
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let subdirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.path())
        .collect();
    for d in subdirs {
        n += rename_cgroups(&d);
        if is_v2 {
            let name = appended(d.file_name().unwrap().as_bytes(), H_LINE);
            fs::rename(&d, d.with_file_name(OsString::from_vec(name))).unwrap();
            n += 1;
        }
    }
    n
}

/// `/proc/<pid>/cgroup` with every component of the cgroup2 path (`0::/a/b`) renamed
/// as [`rename_cgroups`] did.
fn rename_in_proc_cgroup(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in text.split_inclusive(|&b| b == b'\n') {
        if let Some(path) = line.strip_prefix(b"0::") {
            let (path, nl) = match path.strip_suffix(b"\n") {
                Some(p) => (p, &b"\n"[..]),
                None => (path, &b""[..]),
            };
            out.extend_from_slice(b"0::");
            for (i, comp) in path.split(|&b| b == b'/').enumerate() {
                if i > 0 {
                    out.push(b'/');
                }
                out.extend_from_slice(comp);
                if !comp.is_empty() {
                    out.extend_from_slice(H_LINE);
                }
            }
            out.extend_from_slice(nl);
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Command line arguments after the first: values get `H` (`--cid=X` -> `--cid=XH`,
/// `-c X` -> `-c XH`), flags stay, so that roles (conmon, shims) are still recognised.
fn hostile_cmdline(raw: &[u8]) -> Vec<u8> {
    if raw.is_empty() {
        return Vec::new();
    }
    let body = raw.strip_suffix(b"\0").unwrap_or(raw);
    let mut out = Vec::new();
    for (i, arg) in body.split(|&b| b == 0).enumerate() {
        out.extend_from_slice(arg);
        if i > 0 && (!arg.starts_with(b"-") || arg.contains(&b'=')) {
            out.extend_from_slice(H);
        }
        out.push(0);
    }
    out
}

/// JSON strings under keys naming things (`name`, `Names`, `image`, `hostname`,
/// annotations ending in `name`) get `H_JSON`.
fn hostile_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                let k = k.to_ascii_lowercase();
                let naming = k.ends_with("name") || k.ends_with("names") || k.contains("image");
                match val {
                    serde_json::Value::String(s) if naming => s.push_str(H_JSON),
                    serde_json::Value::Array(a) if naming => {
                        for x in a {
                            if let serde_json::Value::String(s) = x {
                                s.push_str(H_JSON);
                            }
                        }
                    }
                    other => hostile_json(other),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(hostile_json),
        _ => {}
    }
}

fn walk_files(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries {
        let e = e.unwrap();
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            walk_files(&e.path(), f);
        } else if ft.is_file() {
            f(&e.path());
        }
    }
}

/// Which parts get hostile bytes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Variant {
    /// Cgroup names (and the `/proc/<pid>/cgroup` paths naming them), comm, user names.
    Names,
    /// Command lines (argv ids included), runtime-state names and images, user names,
    /// the config files `provision` quotes.
    Labels,
}

fn hostile_copy(fixture: &Path, to: &Path, variant: Variant) {
    common::copy_tree(fixture, to);
    let mut files = Vec::new();
    walk_files(to, &mut |p| files.push(p.to_path_buf()));
    for p in files {
        let rel = p.strip_prefix(to).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap_or("").to_string();
        let in_proc = rel.starts_with("proc") && rel.components().count() == 3;
        let Ok(data) = fs::read(&p) else { continue };
        let new = match (variant, name.as_str()) {
            (Variant::Names, "cgroup") if in_proc => Some(rename_in_proc_cgroup(&data)),
            (Variant::Names, "comm") if in_proc => {
                let base = data.strip_suffix(b"\n").unwrap_or(&data);
                Some([base, H_LINE, b"\n"].concat())
            }
            (Variant::Labels, "cmdline") if in_proc => Some(hostile_cmdline(&data)),
            (_, "passwd") if rel.starts_with("etc") => {
                let mut out = Vec::new();
                for line in data.split_inclusive(|&b| b == b'\n') {
                    match line.iter().position(|&b| b == b':') {
                        Some(c) => {
                            out.extend_from_slice(&line[..c]);
                            out.extend_from_slice(H_LINE);
                            out.extend_from_slice(&line[c..]);
                        }
                        None => out.extend_from_slice(line),
                    }
                }
                Some(out)
            }
            (Variant::Labels, n) if n.ends_with(".conf") || n == "fstab" || n == ".wslconfig" => {
                Some([b"# ", H_LINE, b"\n", &data[..]].concat())
            }
            (Variant::Labels, n) if n.ends_with(".json") => {
                match serde_json::from_slice::<serde_json::Value>(&data) {
                    Ok(mut v) => {
                        hostile_json(&mut v);
                        Some(serde_json::to_vec(&v).unwrap())
                    }
                    Err(_) => None,
                }
            }
            _ => None,
        };
        if let Some(new) = new {
            fs::write(&p, new).unwrap();
        }
    }
    if variant == Variant::Names {
        rename_cgroups(&to.join("sys/fs/cgroup"));
    }
    if variant == Variant::Labels {
        // A user's containers.conf where there is none, for provision plan's diffs.
        if let Ok(homes) = fs::read_dir(to.join("home")) {
            for h in homes {
                let dir = h.unwrap().path().join(".config/containers");
                let conf = dir.join("containers.conf");
                if !conf.exists() {
                    fs::create_dir_all(&dir).unwrap();
                    let body = format!(
                        "# {H_JSON_LINE}\n[engine]\nevents_logger = \"x{}\"\n",
                        "\u{202e}\u{9b}"
                    );
                    fs::write(conf, body).unwrap();
                }
            }
        }
    }
}

const H_JSON_LINE: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{9b}31m\u{202e}\u{2067}\u{200d}\u{2028}";

fn fixtures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(common::repo_root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn pids_of(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(root.join("proc"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

struct Run {
    what: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

fn run(root: &Path, args: &[&str]) -> Run {
    let out = common::cgtree()
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "cgtree {args:?} on {}: {:?}\n{}",
        root.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Run {
        what: format!("{args:?}"),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

/// The byte strings a JSON document holds: strings as UTF-8, `{"bytes": b64}` decoded.
fn json_strings(v: &serde_json::Value, out: &mut Vec<Vec<u8>>) {
    match v {
        serde_json::Value::String(s) => out.push(s.as_bytes().to_vec()),
        serde_json::Value::Object(m) => {
            if let (1, Some(serde_json::Value::String(b))) = (m.len(), m.get("bytes")) {
                if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(b) {
                    out.push(d);
                }
            }
            m.values().for_each(|x| json_strings(x, out));
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| json_strings(x, out)),
        _ => {}
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn every_renderer_escapes_hostile_names_in_every_fixture() {
    let mut failures = Vec::new();
    let mut json_exact = [false; 2];
    let mut reached = std::collections::BTreeSet::new();
    for fixture in fixtures() {
        for (vi, variant) in [Variant::Names, Variant::Labels].into_iter().enumerate() {
            let tmp = tempfile::tempdir().unwrap();
            // The root's own name is hostile too: it is in error messages and headers.
            let root = tmp.path().join(OsString::from_vec([b"r", H_LINE].concat()));
            hostile_copy(&fixture, &root, variant);
            let pids = pids_of(&root);
            let mut runs = vec![
                run(&root, &["--color=never", "-U", "-l", "-a", "-k", "-T"]),
                run(&root, &["--color=never", "-U", "-a"]),
                run(&root, &["--json", "-U", "-a", "-k", "-T"]),
                run(&root, &["userns"]),
                run(&root, &["--json", "userns"]),
                run(&root, &["provision", "check"]),
                run(&root, &["--json", "provision", "check"]),
                run(&root, &["provision", "plan"]),
                run(&root, &["provision", "apply"]),
                run(
                    &root,
                    &["--color=never", "top", "-b", "-n", "1", "-d", "0.01"],
                ),
                run(&root, &["--json", "top", "-n", "1", "-d", "0.01"]),
                run(&root, &["--json", "--stats", "-a"]),
            ];
            let colour = run(&root, &["--color=always", "-U", "-a"]);
            let mut pid_args = vec!["pid"];
            pid_args.extend(pids.iter().map(String::as_str));
            if !pids.is_empty() {
                runs.push(run(&root, &pid_args));
                let mut j = vec!["--json"];
                j.extend(&pid_args);
                runs.push(run(&root, &j));
            }
            // One namespace at a time, as `userns NS` lists them.
            let doc: serde_json::Value =
                serde_json::from_slice(&runs[4].stdout).unwrap_or_default();
            for ns in doc["namespaces"].as_array().into_iter().flatten().take(6) {
                let ino = ns["inode"].to_string();
                runs.push(run(&root, &["userns", &ino]));
            }
            // --json keeps the exact bytes of what it shows.
            let mut strings = Vec::new();
            for r in runs
                .iter()
                .filter(|r| r.what.contains("--json") && !r.stdout.is_empty())
            {
                let v: serde_json::Value =
                    serde_json::from_slice(&r.stdout).unwrap_or_else(|e| panic!("{}: {e}", r.what));
                json_strings(&v, &mut strings);
            }
            let needle: &[u8] = match variant {
                Variant::Names => H_LINE,
                Variant::Labels => H,
            };
            if strings.iter().any(|s| contains(s, needle))
                || strings.iter().any(|s| contains(s, H_JSON.as_bytes()))
            {
                json_exact[vi] = true;
            }
            let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
            for r in &runs {
                // The injection reached this renderer (shown escaped).
                if contains(&r.stdout, b"\\x1b[2J") || contains(&r.stdout, b"\\u001b[2J") {
                    let kind = r
                        .what
                        .split('"')
                        .find(|w| w.chars().all(|c| c.is_ascii_lowercase()) && !w.is_empty())
                        .unwrap_or("tree");
                    let kind = if r.what.contains("--json") {
                        format!("{kind} --json")
                    } else {
                        kind.to_string()
                    };
                    reached.insert(format!("{kind} ({variant:?})"));
                }
                let tabs = r.what.contains("provision");
                for (stream, bytes) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
                    let v = violations(bytes, false, tabs);
                    if !v.is_empty() {
                        failures.push(format!(
                            "{name} ({variant:?}) {} {stream}: {}",
                            r.what,
                            v[..v.len().min(3)].join("; ")
                        ));
                    }
                }
            }
            let v = violations(&colour.stdout, true, false);
            if !v.is_empty() {
                failures.push(format!("{name} ({variant:?}) colour: {}", v[0]));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} unescaped outputs:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every renderer showed injected bytes (escaped) for some fixture.
    for want in [
        "tree (Names)",
        "tree (Labels)",
        "tree --json (Names)",
        "pid (Names)",
        "pid (Labels)",
        "pid --json (Labels)",
        "userns (Labels)",
        "userns (Names)",
        "provision (Labels)",
        "top (Names)",
        "top (Labels)",
        "top --json (Names)",
    ] {
        assert!(
            reached.contains(want),
            "{want} never showed the injected bytes: {reached:?}"
        );
    }
    assert_eq!(
        json_exact,
        [true, true],
        "--json shows the hostile bytes exactly (names, labels)"
    );
}

#[test]
fn live_conmon_with_escapes_in_its_argv_is_printed_escaped() {
    let Some(mount) = common::live_mount("live terminal injection test") else {
        return;
    };
    // The cgroup guard first, so that it is dropped last: the user's processes (killed
    // when the user is dropped) must be gone before the cgroup can be removed.
    let mut tree = common::LiveTree::default();
    let Some(mut user) = throwaway_user::ThrowawayUser::create("live terminal injection test")
    else {
        return;
    };
    let name = common::unique_cgroup_name("inject");
    let cg = mount.join(&name);
    tree.mkdir(&cg);
    // `sh -c SCRIPT` named conmon: conmon's `-c` (its container id) is the script, whose
    // comment holds the escapes; `-n`, `--cid=`, `-u` carry more. The second one has no
    // name, so its label is its id cut to 12 characters, and the script's 12th byte is
    // inside a character (`é`), which the short id used to answer with the whole id.
    let scripts = [
        (
            "sleep 600; exit 0 # \x1b[2J\x1b]0;pwned\x07\u{9b}31m\u{202e}",
            "-n '\x1b[31mevil\u{202e}db' --cid='\x1b[2Jcid\u{9b}' -u 'x\u{200b}\ny'",
        ),
        ("sleep 600 #é\x1b[2J\x1b]0;pwned\x07\nexit 0", ""),
    ];
    let mut pids = Vec::new();
    for (script, rest) in scripts {
        let mut cmd = user.command("bash");
        cmd.arg("-c")
            .arg(format!("exec -a conmon sh -c '{script}' {rest}"));
        let pid = user.spawn(&mut cmd);
        // Wait for the exec, then move it into the test's cgroup.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if cmdline.starts_with(b"conmon\0") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the process never became conmon"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        fs::write(cg.join("cgroup.procs"), pid.to_string()).unwrap();
        pids.push(pid.to_string());
    }
    let start = format!("/{name}");
    let mut runs = vec![
        vec!["--color=never", "-U", "-l", start.as_str()],
        vec!["--color=never", start.as_str()],
        vec!["--json", start.as_str()],
    ];
    for p in &pids {
        runs.push(vec!["pid", p.as_str()]);
        runs.push(vec!["--json", "pid", p.as_str()]);
    }
    for args in runs {
        let out = common::cgtree().args(&args).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for p in &pids {
            let shown = text.contains(p.as_str());
            let asked = !args.contains(&"pid") || args.contains(&p.as_str());
            assert!(shown || !asked, "{args:?}: {p} not shown: {text}");
        }
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let v = violations(bytes, false, false);
            assert!(v.is_empty(), "{args:?} {stream}: {v:?}\n{text}");
        }
        if args[0] != "--json" {
            assert!(
                text.contains("\\x1b[2J"),
                "{args:?}: escaped, shown: {text}"
            );
        }
    }
    drop(user);
    drop(tree);
    assert!(!cg.exists(), "the test's cgroup is removed");
}

/// Makes `levels` nested cgroups named `d` under `base` relative to directory fds (the
/// whole path may be longer than PATH_MAX), each with a `cgroup.type`.
fn nested_chain(base: &Path, levels: usize) {
    use nix::fcntl::{openat, OFlag};
    use nix::sys::stat::{mkdirat, Mode};
    use std::os::fd::OwnedFd;
    let mut dir: OwnedFd = fs::File::open(base).unwrap().into();
    for _ in 0..levels {
        mkdirat(&dir, "d", Mode::from_bits_truncate(0o755)).unwrap();
        dir = openat(
            &dir,
            "d",
            OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        let t = openat(
            &dir,
            "cgroup.type",
            OFlag::O_CREAT | OFlag::O_WRONLY | OFlag::O_CLOEXEC,
            Mode::from_bits_truncate(0o644),
        )
        .unwrap();
        std::io::Write::write_all(&mut fs::File::from(t), b"domain\n").unwrap();
    }
}

#[test]
fn deep_chains_grow_linearly_in_the_tree_and_in_pid() {
    // 1,800 levels: the whole path stays under PATH_MAX, so the library reads it today;
    // the output must not grow with depth squared (it was about 3 MB for the tree and
    // 3 MB for pid at this depth; 100 MB for pid at 10,000 levels).
    const LEVELS: usize = 1800;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let cg = root.join("sys/fs/cgroup");
    fs::create_dir_all(&cg).unwrap();
    for f in [
        "cgroup.controllers",
        "cgroup.subtree_control",
        "cgroup.procs",
    ] {
        fs::write(cg.join(f), "").unwrap();
    }
    nested_chain(&cg, LEVELS);
    // One process at the bottom.
    let proc_dir = root.join("proc/4242");
    fs::create_dir_all(&proc_dir).unwrap();
    fs::create_dir_all(root.join("proc/self")).unwrap();
    fs::write(
        root.join("proc/self/mountinfo"),
        "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n",
    )
    .unwrap();
    let path: String = "/d".repeat(LEVELS);
    fs::write(proc_dir.join("cgroup"), format!("0::{path}\n")).unwrap();
    fs::write(proc_dir.join("cmdline"), b"deep\0").unwrap();
    fs::write(
        proc_dir.join("status"),
        "Name:\tdeep\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
    )
    .unwrap();
    // Bound: a fixed width per line (guides are cut to about 70 columns).
    let bound = |lines: usize| lines * 200;
    let tree = run(root, &["--color=never", "-a", "--no-procs"]);
    let text = String::from_utf8(tree.stdout).unwrap();
    let lines = text.lines().count();
    assert!(lines > LEVELS, "{lines} lines");
    assert!(
        text.len() < bound(lines),
        "the tree of a {LEVELS}-deep chain is {} bytes for {lines} lines",
        text.len()
    );
    assert!(
        text.contains("[+1767 levels]"),
        "the deepest line: {}",
        text.lines().last().unwrap()
    );
    // JSON: indentation stops growing (cgroup-core's `path` of every node, the whole
    // path, still grows with depth squared: left out of the count).
    let json = run(root, &["--json", "-a", "--no-procs"]);
    let text = String::from_utf8(json.stdout).unwrap();
    let lines = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"path\""))
        .count();
    let bytes: usize = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"path\""))
        .map(|l| l.len() + 1)
        .sum();
    assert!(
        bytes < bound(lines),
        "the JSON of a {LEVELS}-deep chain is {bytes} bytes for {lines} lines (paths aside)"
    );
    let pid = run(root, &["pid", "4242"]);
    let text = String::from_utf8(pid.stdout).unwrap();
    let lines = text.lines().count();
    assert!(lines > LEVELS, "{lines} lines: {text:.2000}");
    assert!(
        text.len() < bound(lines),
        "pid of a process {LEVELS} levels deep prints {} bytes",
        text.len()
    );
}

#[test]
fn error_messages_escape_what_they_quote() {
    let tmp = tempfile::tempdir().unwrap();
    let odd = tmp.path().join(OsString::from_vec([b"x", H].concat()));
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        // Not a directory: the anyhow chain quotes the path.
        vec!["--root".into(), odd.clone().into_os_string()],
        // clap's own error quotes the value.
        vec!["pid".into(), OsString::from_vec(H.to_vec())],
        vec!["--color".into(), OsString::from_vec(H.to_vec())],
        // A cgroup path that does not exist.
        vec![
            "--root".into(),
            "fixtures/docker".into(),
            OsString::from_vec([b"/", H_LINE].concat()),
        ],
        // An unknown user and an unknown step.
        vec![
            "--root".into(),
            "fixtures/docker".into(),
            "provision".into(),
            "--user".into(),
            OsString::from_vec(H_LINE.to_vec()),
        ],
        vec![
            "provision".into(),
            "check".into(),
            OsString::from_vec(H.to_vec()),
        ],
    ];
    for args in cases {
        let out = common::cgtree().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!out.stderr.is_empty(), "{args:?}");
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let v = violations(bytes, false, false);
            assert!(
                v.is_empty(),
                "{args:?} {stream}: {v:?}: {}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

/// Runs cgtree on fixtures/docker with stdout on a terminal (`script` makes one), the
/// environment cleared but for PATH and `env`, without a pager (`less` on a dumb
/// terminal would wait for a key; the pager has its own tests: pager.rs); returns what
/// the terminal received.
fn on_a_terminal(env: &[(&str, &str)], args: &str) -> String {
    let bin = env!("CARGO_BIN_EXE_cgtree");
    let mut cmd = std::process::Command::new("script");
    cmd.current_dir(common::repo_root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args([
            "-qec",
            &format!("{bin} --root fixtures/docker --no-pager {args}"),
            "/dev/null",
        ])
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script (util-linux)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colours_only_on_a_terminal_that_has_them() {
    // The control: a real terminal type gets colours.
    let coloured = on_a_terminal(&[("TERM", "xterm-256color")], "");
    assert!(coloured.contains("\x1b[1m"), "{coloured}");
    assert!(violations(coloured.replace('\r', "").as_bytes(), true, false).is_empty());
    // A dumb terminal, no TERM, NO_COLOR: none; --color=always wins.
    for (env, args) in [
        (&[("TERM", "dumb")][..], ""),
        (&[][..], ""),
        (&[("TERM", "xterm-256color"), ("NO_COLOR", "1")][..], ""),
        (&[("TERM", "xterm-256color")][..], "--color=never"),
    ] {
        let text = on_a_terminal(env, args);
        assert!(text.contains("docker"), "{env:?}: {text}");
        assert!(!text.contains('\x1b'), "{env:?} {args}: colours: {text:?}");
    }
    let text = on_a_terminal(&[("TERM", "dumb")], "--color=always");
    assert!(text.contains("\x1b[1m"), "{text}");
}

#[test]
fn only_term_writes_to_stdout_and_stderr() {
    // The structural rule: no renderer reaches stdout or stderr but through term.rs.
    let src = common::repo_root().join("cgroup-cli/src");
    let mut offenders = Vec::new();
    walk_files(&src, &mut |p| {
        if p.file_name().is_some_and(|n| n == "term.rs") {
            return;
        }
        let text = fs::read_to_string(p).unwrap();
        for needle in [
            "io::stdout(",
            "io::stderr(",
            "println!",
            "print!(",
            "eprint",
            "std::process::exit",
        ] {
            if text.contains(needle) {
                offenders.push(format!("{}: {needle}", p.display()));
            }
        }
    });
    assert!(offenders.is_empty(), "{offenders:?}");
}
