//! `cgtree snapshot`: the state cgtree reads, written in the fixture format, so that
//! `cgtree --root OUT` prints the same tree and the same `pid` answers as the host did,
//! and a bug report can carry it.
//!
//! Written: `proc/self/mountinfo`; for every cgroup,
//! the interface files the walk reads (`cgroup.type`, `cgroup.procs`,
//! `cgroup.controllers`, `cgroup.subtree_control`, `cgroup.events`, `cgroup.threads`);
//! for every process listed, `cgroup`, `cmdline`, `comm`, the `status` lines cgtree
//! parses, `uid_map`, `gid_map`, the `ns/user` and `ns/pid` link targets, and `stat` when
//! the command line is empty; the runtime state files the identification read, reduced
//! to the fields cgtree parses (never a process environment); `etc/passwd` reduced to
//! names, IDs and homes. What was left out is listed in `OUT/META`.

use crate::error::Error;
use crate::fs::{self, Scratch};
use crate::resolve::{Recorded, Resolver, RootKey};
use crate::{Host, TreeBuilder};
use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::CString;
use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

/// Most bytes a snapshot writes; past it, files are left out and listed in META.
pub const MAX_SNAPSHOT_BYTES: u64 = 256 << 20;

/// What a snapshot wrote.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Cgroups written.
    pub cgroups: usize,
    /// Processes written.
    pub processes: usize,
    /// Runtime state files written.
    pub state_files: usize,
    /// Bytes written.
    pub bytes: u64,
    /// What was left out, one line each.
    pub left_out: Vec<String>,
}

struct Out {
    root: PathBuf,
    report: Report,
}

impl Out {
    fn write(&mut self, rel: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        if self.report.bytes + bytes.len() as u64 > MAX_SNAPSHOT_BYTES {
            self.report.left_out.push(format!(
                "{}: over the {MAX_SNAPSHOT_BYTES}-byte limit",
                rel.display()
            ));
            return Ok(());
        }
        let p = self.root.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        std::fs::write(&p, bytes)?;
        self.report.bytes += bytes.len() as u64;
        Ok(())
    }

    fn symlink(&mut self, rel: &Path, target: &[u8]) -> std::io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let p = self.root.join(rel.strip_prefix("/").unwrap_or(rel));
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d)?;
        }
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(target), p)
    }

    fn dir(&mut self, rel: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(self.root.join(rel.strip_prefix("/").unwrap_or(rel)))
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::io(path, e)
}

/// The `status` lines cgtree parses (`Name:` first: ancestors are written without it).
const STATUS_LINES: [&[u8]; 6] = [b"Name:", b"PPid:", b"Uid:", b"Gid:", b"NStgid:", b"NSpid:"];

/// Only the `status` lines in `keep`.
fn status_lines(bytes: &[u8], keep: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        if keep.iter().any(|k| line.starts_with(k)) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

/// Only what cgtree parses of a runtime state file, by its name.
fn reduce_state(path: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
    let name = path.file_name()?.to_string_lossy().into_owned();
    let pick = |v: &Value, keys: &[&str]| -> Value {
        let mut m = serde_json::Map::new();
        for k in keys {
            if let Some(x) = v.get(*k) {
                m.insert((*k).to_string(), x.clone());
            }
        }
        Value::Object(m)
    };
    let v = || serde_json::from_slice::<Value>(bytes).ok();
    let reduced = match name.as_str() {
        "config.json" => pick(&v()?, &["annotations"]),
        "config.v2.json" => {
            let v = v()?;
            let mut out = pick(&v, &["ID", "Name"]);
            if let Some(c) = v.get("Config") {
                out["Config"] = pick(c, &["Image", "Labels"]);
            }
            if let Some(st) = v.get("State") {
                out["State"] = pick(st, &["Pid"]);
            }
            out
        }
        "containers.json" => Value::Array(
            v()?.as_array()?
                .iter()
                .map(|e| {
                    let mut o = pick(e, &["id", "names"]);
                    if let Some(m) = e
                        .get("metadata")
                        .and_then(Value::as_str)
                        .and_then(|m| serde_json::from_str::<Value>(m).ok())
                    {
                        o["metadata"] =
                            Value::String(pick(&m, &["image-name", "name"]).to_string());
                    }
                    o
                })
                .collect(),
        ),
        "status" => pick(&v()?, &["pid", "cgroup-path"]),
        "state.json" => pick(&v()?, &["id", "init_process_pid"]),
        "hostname" => {
            return Some(
                bytes
                    .split(|&b| b == b'\n')
                    .next()
                    .unwrap_or(&[])
                    .iter()
                    .copied()
                    .chain([b'\n'])
                    .collect(),
            )
        }
        "passwd" => return Some(passwd_lines(bytes)),
        // conmon's pidfiles: one PID.
        "pidfile" | "exec_pid" => {
            let pid = std::str::from_utf8(bytes)
                .ok()?
                .trim()
                .parse::<u32>()
                .ok()?;
            return Some(format!("{pid}\n").into_bytes());
        }
        _ => return None,
    };
    Some(format!("{reduced}\n").into_bytes())
}

/// `etc/passwd` without the GECOS field and the shell.
fn passwd_lines(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for line in bytes.split(|&b| b == b'\n') {
        let f: Vec<&[u8]> = line.split(|&b| b == b':').collect();
        if f.len() >= 7 {
            for (i, part) in [f[0], b"x", f[2], f[3], b"", f[5], b""].iter().enumerate() {
                if i > 0 {
                    out.push(b':');
                }
                out.extend_from_slice(part);
            }
            out.push(b'\n');
        }
    }
    out
}

/// Where a cgroup stands to the subtrees a snapshot is limited to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// In a chosen subtree (or no subtree was chosen): written whole.
    In,
    /// Above a chosen subtree: the directory and its interface files, without its
    /// processes; only the children on the way down are followed.
    Above,
    /// Elsewhere: not written.
    Out,
}

/// `rel` (a cgroup path relative to the mount, no leading slash) against `only`.
fn scope(rel: &Path, only: &[PathBuf]) -> Scope {
    if only.is_empty() || only.iter().any(|o| rel.starts_with(o)) {
        Scope::In
    } else if only.iter().any(|o| o.starts_with(rel)) {
        Scope::Above
    } else {
        Scope::Out
    }
}

/// The lines of a (reduced) passwd file whose UID is in `uids`.
fn passwd_only(passwd: &[u8], uids: &BTreeSet<u32>) -> Vec<u8> {
    let mut out = Vec::new();
    for line in passwd.split(|&b| b == b'\n') {
        let uid = line
            .split(|&b| b == b':')
            .nth(2)
            .and_then(|f| std::str::from_utf8(f).ok()?.parse::<u32>().ok());
        if uid.is_some_and(|u| uids.contains(&u)) {
            out.extend_from_slice(line);
            out.push(b'\n');
        }
    }
    out
}

/// The cgroup subtrees a snapshot for `pids` keeps: each process's cgroup, and its
/// parent's when that is not the root cgroup (a container init that podman's conmon
/// started in the caller's cgroup is named through that conmon).
pub fn subtrees_of_pids(host: &Host, pids: &[u32]) -> Result<Vec<String>, Error> {
    let mount = host.find_cgroup2()?;
    let mut out = Vec::new();
    for &pid in pids {
        let (cgroup, ppid) = crate::trace::cgroup_and_ppid(host, &mount, pid)?;
        if cgroup == b"/" {
            return Err(Error::Refused {
                what: format!("snapshot --pids {pid}"),
                reason: "it is in the root cgroup, whose subtree is the whole host; leave out --pids for a whole snapshot",
            });
        }
        out.push(String::from_utf8_lossy(&cgroup).into_owned());
        if let Some(pp) = ppid.filter(|&p| p > 1) {
            match crate::trace::cgroup_and_ppid(host, &mount, pp) {
                Ok((parent, _)) if parent != b"/" => {
                    out.push(String::from_utf8_lossy(&parent).into_owned());
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

/// Writes a snapshot of `host` into `out` (which must not exist or be empty).
pub fn write(host: &Host, out_dir: &Path) -> Result<Report, Error> {
    write_subtrees(host, out_dir, &[])
}

/// Writes a snapshot of the cgroup subtrees `only` (paths relative to the cgroup2
/// mount, like `/kubepods.slice`; empty: the whole hierarchy) into `out`, which must
/// not exist or be empty. The cgroups above a chosen subtree are written without their
/// processes, and the mount table keeps only its cgroup2 lines; META says so.
pub fn write_subtrees(host: &Host, out_dir: &Path, only: &[String]) -> Result<Report, Error> {
    let only: Vec<PathBuf> = only
        .iter()
        .map(|o| PathBuf::from(o.trim_start_matches('/')))
        .collect();
    if let Some(bad) = only.iter().find(|o| {
        o.components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    }) {
        return Err(Error::InvalidPath {
            path: bad.display().to_string(),
            reason: "a cgroup path may not contain `.` or `..`",
        });
    }
    // Each subtree once: a path given twice, or below another given path, adds nothing.
    let only: Vec<PathBuf> = only
        .iter()
        .filter(|o| !only.iter().any(|p| p != *o && o.starts_with(p)))
        .fold(Vec::new(), |mut v, o| {
            if !v.contains(o) {
                v.push(o.clone());
            }
            v
        });
    if out_dir.exists()
        && std::fs::read_dir(out_dir)
            .map_err(|e| io(out_dir, e))?
            .next()
            .is_some()
    {
        return Err(Error::Refused {
            what: out_dir.display().to_string(),
            reason: "exists and is not empty",
        });
    }
    std::fs::create_dir_all(out_dir).map_err(|e| io(out_dir, e))?;
    let mut out = Out {
        root: out_dir.to_path_buf(),
        report: Report::default(),
    };
    let w = |out: &mut Out, rel: &Path, b: &[u8]| {
        out.write(rel, b).map_err(|e| io(&out_dir.join(rel), e))
    };
    let mount = host.find_cgroup2()?;

    // mountinfo, whole: its line numbers are part of cgtree's answers.
    let mut scratch = Scratch::new();
    let root_fd = fs::open_dir_path(host.root()).map_err(|e| fs::errno_error(host.root(), e))?;
    if let Ok(mi) = fs::read_file(root_fd.as_fd(), c"proc/self/mountinfo", &mut scratch) {
        let mi = if only.is_empty() {
            mi.to_vec()
        } else {
            // A subtree snapshot is for sharing: the host's other mounts stay out.
            let cgroup2: BTreeSet<u32> = crate::parse::mountinfo(mi)
                .filter_map(Result::ok)
                .filter(|m| m.fs_type == b"cgroup2")
                .map(|m| m.line)
                .collect();
            let mut kept = Vec::new();
            for (n, line) in (1..).zip(mi.split(|&b| b == b'\n')) {
                if cgroup2.contains(&n) {
                    kept.extend_from_slice(line);
                    kept.push(b'\n');
                }
            }
            out.report
                .left_out
                .push("proc/self/mountinfo: every line but the cgroup2 mounts".into());
            kept
        };
        w(&mut out, Path::new("proc/self/mountinfo"), &mi)?;
    }

    // The cgroups: every directory, and the interface files the walk reads.
    let mount_rel = mount
        .mount_point
        .strip_prefix("/")
        .unwrap_or(&mount.mount_point)
        .to_path_buf();
    let mount_fd = fs::open_dir_path(&mount.dir).map_err(|e| fs::errno_error(&mount.dir, e))?;
    let mut stack: Vec<(PathBuf, std::os::fd::OwnedFd)> = vec![(PathBuf::new(), mount_fd)];
    let mut dirbuf = Vec::new();
    let mut pids: BTreeSet<u32> = BTreeSet::new();
    let mut uids: BTreeSet<u32> = BTreeSet::new();
    let mut parents: BTreeSet<u32> = BTreeSet::new();
    let files = [
        c"cgroup.type",
        c"cgroup.procs",
        c"cgroup.controllers",
        c"cgroup.subtree_control",
        c"cgroup.events",
        c"cgroup.threads",
    ];
    while let Some((rel, fd)) = stack.pop() {
        let here = scope(&rel, &only);
        if here == Scope::Out {
            continue;
        }
        out.report.cgroups += 1;
        let dir = mount_rel.join(&rel);
        out.dir(&dir).map_err(|e| io(&out_dir.join(&dir), e))?;
        for f in files {
            let name = std::str::from_utf8(f.to_bytes()).unwrap_or_default();
            if here == Scope::Above && (name == "cgroup.procs" || name == "cgroup.threads") {
                w(&mut out, &dir.join(name), b"")?;
                out.report.left_out.push(format!(
                    "{}: the processes of a cgroup above the chosen subtrees",
                    dir.join(name).display()
                ));
                continue;
            }
            match fs::read_file(fd.as_fd(), f, &mut scratch) {
                Ok(b) => {
                    if name == "cgroup.procs" || name == "cgroup.threads" {
                        pids.extend(
                            crate::parse::pids(b)
                                .filter_map(Result::ok)
                                .filter(|&p| p != 0),
                        );
                    }
                    let b = b.to_vec();
                    w(&mut out, &dir.join(name), &b)?;
                }
                // The fixture format wants the four main files in every cgroup.
                Err(_)
                    if name != "cgroup.events"
                        && name != "cgroup.threads"
                        && !(rel.as_os_str().is_empty() && name == "cgroup.type") =>
                {
                    w(&mut out, &dir.join(name), b"")?;
                }
                Err(_) => {}
            }
        }
        for child in fs::subdirs(fd.as_fd(), &mut dirbuf).unwrap_or_default() {
            use std::os::unix::ffi::OsStrExt;
            let Ok(c) = CString::new(child.to_vec()) else {
                continue;
            };
            if let Ok(cfd) = fs::open_dir(fd.as_fd(), &c) {
                stack.push((rel.join(std::ffi::OsStr::from_bytes(&child)), cfd));
            }
        }
    }

    // The processes.
    let proc_fd =
        fs::open_dir_path(&host.proc_dir()).map_err(|e| fs::errno_error(host.proc_dir(), e))?;
    for pid in &pids {
        let file = |n: &str| CString::new(format!("{pid}/{n}")).unwrap_or_default();
        let base = PathBuf::from(format!("proc/{pid}"));
        // Each file as far as it exists (a thread listed in cgroup.threads has only its
        // comm read; a process may exit meanwhile).
        let mut any = false;
        if let Ok(cg) =
            fs::read_file(proc_fd.as_fd(), &file("cgroup"), &mut scratch).map(<[u8]>::to_vec)
        {
            any = true;
            w(&mut out, &base.join("cgroup"), &cg)?;
        }
        let cmdline =
            fs::read_file(proc_fd.as_fd(), &file("cmdline"), &mut scratch).map(<[u8]>::to_vec);
        if let Ok(c) = &cmdline {
            any = true;
            w(&mut out, &base.join("cmdline"), c)?;
        }
        let cmdline = cmdline.unwrap_or_default();
        for name in ["comm", "uid_map", "gid_map"] {
            if let Ok(b) =
                fs::read_file(proc_fd.as_fd(), &file(name), &mut scratch).map(<[u8]>::to_vec)
            {
                any = true;
                w(&mut out, &base.join(name), &b)?;
            }
        }
        if any {
            out.report.processes += 1;
        }
        if let Ok(b) = fs::read_file(proc_fd.as_fd(), &file("status"), &mut scratch) {
            if let Ok(st) = crate::parse::status(b) {
                // etc/passwd of a subtree snapshot keeps the users of its processes; the
                // parents lead to the ancestors below.
                uids.extend(st.uid.map(|u| u[0]));
                parents.extend(st.ppid);
            }
            let b = status_lines(b, &STATUS_LINES);
            w(&mut out, &base.join("status"), &b)?;
        }
        if cmdline.is_empty() {
            if let Ok(b) =
                fs::read_file(proc_fd.as_fd(), &file("stat"), &mut scratch).map(<[u8]>::to_vec)
            {
                w(&mut out, &base.join("stat"), &b)?;
            }
        }
        for ns in ["user", "pid"] {
            if let Ok(t) =
                nix::fcntl::readlinkat(proc_fd.as_fd(), file(&format!("ns/{ns}")).as_c_str())
            {
                use std::os::unix::ffi::OsStrExt;
                out.symlink(&base.join("ns").join(ns), t.as_bytes())
                    .map_err(|e| io(&out_dir.join(&base), e))?;
            }
        }
    }

    // A subtree's processes have ancestors outside it: where a user namespace sits is
    // inferred from the PPid chain when the kernel cannot be asked (as on a snapshot), so
    // the chain goes along, each with its PPid, IDs, maps and user namespace only.
    {
        // Each ancestor's status is read once: for its lines and its own parent.
        let mut ancestors = BTreeSet::new();
        let mut todo: Vec<u32> = parents
            .iter()
            .copied()
            .filter(|p| !pids.contains(p))
            .collect();
        while let Some(pid) = todo.pop() {
            if pid == 0 || ancestors.len() >= 4096 || !ancestors.insert(pid) {
                continue;
            }
            let file = |n: &str| CString::new(format!("{pid}/{n}")).unwrap_or_default();
            let base = PathBuf::from(format!("proc/{pid}"));
            if let Ok(b) = fs::read_file(proc_fd.as_fd(), &file("status"), &mut scratch) {
                if let Some(pp) = crate::parse::status(b).ok().and_then(|st| st.ppid) {
                    if !pids.contains(&pp) {
                        todo.push(pp);
                    }
                }
                let b = status_lines(b, &STATUS_LINES[1..]);
                w(&mut out, &base.join("status"), &b)?;
            }
            for name in ["uid_map", "gid_map"] {
                if let Ok(b) =
                    fs::read_file(proc_fd.as_fd(), &file(name), &mut scratch).map(<[u8]>::to_vec)
                {
                    w(&mut out, &base.join(name), &b)?;
                }
            }
            if let Ok(t) = nix::fcntl::readlinkat(proc_fd.as_fd(), file("ns/user").as_c_str()) {
                use std::os::unix::ffi::OsStrExt;
                out.symlink(&base.join("ns/user"), t.as_bytes())
                    .map_err(|e| io(&out_dir.join(&base), e))?;
            }
        }
        if !ancestors.is_empty() {
            out.report.left_out.push(format!(
                "proc/{{{}}}: ancestors outside the subtrees, with only their status lines PPid, Uid, Gid, NStgid, NSpid, their ID maps and user namespace",
                ancestors.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
            ));
        }
    }

    // Runtime state: what the identification reads, recorded and reduced.
    let mut r = Resolver::new(host);
    r.record();
    let _ = r.passwd();
    let starts: Vec<String> = if only.is_empty() {
        vec!["/".to_string()]
    } else {
        only.iter().map(|o| format!("/{}", o.display())).collect()
    };
    let mut trees = Vec::new();
    for start in starts {
        let mut b = TreeBuilder::new();
        b.host_root(host.root()).include_empty(true).start(start);
        let mut tree = b.build_at(mount.clone())?;
        tree.identify_with(&mut r);
        trees.push(tree);
    }
    if !only.is_empty() {
        // What the cgroups above the subtrees are (a kind node around a pod) is read
        // too: `pid` answers name the whole chain.
        for &pid in &pids {
            let _ = crate::trace::trace_with(host, &mount, pid, &mut r);
        }
    }
    let mut seen = BTreeSet::new();
    for rec in r.take_recorded() {
        let (root, path) = match &rec {
            Recorded::File { root, path, .. } | Recorded::Dir { root, path, .. } => {
                (*root, path.clone())
            }
        };
        let prefix = match root {
            RootKey::Host => PathBuf::new(),
            RootKey::Proc(pid) => PathBuf::from(format!("proc/{pid}/root")),
        };
        let dest = prefix.join(path.strip_prefix("/").unwrap_or(&path));
        if !seen.insert(dest.clone()) {
            continue;
        }
        match rec {
            Recorded::File { bytes, .. } => match reduce_state(&path, &bytes) {
                Some(reduced)
                    if root == RootKey::Host
                        && path.strip_prefix("/").unwrap_or(&path) == Path::new("etc/passwd")
                        && !only.is_empty() =>
                {
                    let kept = passwd_only(&reduced, &uids);
                    out.report.left_out.push(
                        "etc/passwd: the users no process of the chosen subtrees runs as".into(),
                    );
                    out.report.state_files += 1;
                    w(&mut out, &dest, &kept)?;
                }
                Some(reduced) => {
                    out.report.state_files += 1;
                    w(&mut out, &dest, &reduced)?;
                }
                None => out
                    .report
                    .left_out
                    .push(format!("{}: not a file cgtree parses", dest.display())),
            },
            Recorded::Dir { entries, .. } => {
                use std::os::unix::ffi::OsStrExt;
                // Only the names are read (kubelet's log directories, bundle lists).
                let files = dest.ends_with("var/log/containers");
                for e in entries {
                    let p = dest.join(std::ffi::OsStr::from_bytes(&e));
                    if files {
                        if !out.root.join(&p).exists() {
                            w(&mut out, &p, b"")?;
                        }
                    } else {
                        out.dir(&p).map_err(|e| io(&out_dir.join(&p), e))?;
                    }
                }
            }
        }
    }
    // The user names of processes in other user namespaces, from their roots.
    let mut users = crate::userns::UserReader::new(host).ok();
    for node in trees.iter().flat_map(|t| t.nodes()) {
        for p in node.processes.iter().flatten() {
            let rel = PathBuf::from(format!("proc/{}/root/etc/passwd", p.pid));
            let initial = users
                .as_mut()
                .and_then(|r| {
                    let ns = r.userns(p.pid).ok()?;
                    r.maps(p.pid, ns).ok()
                })
                .is_none_or(|(m, _)| m.is_initial());
            if initial {
                continue;
            }
            if let Some(pw) = crate::userns::read_passwd(&host.path(format!("proc/{}/root", p.pid)))
            {
                w(&mut out, &rel, &passwd_lines(&pw))?;
            }
        }
    }

    let osrelease =
        std::fs::read_to_string(host.path("proc/sys/kernel/osrelease")).unwrap_or_default();
    let mut meta = Vec::new();
    let _ = writeln!(
        meta,
        "Captured with `cgtree snapshot` (cgtree {}) from {} ({}kernel {}).",
        env!("CARGO_PKG_VERSION"),
        host.root().display(),
        if host.is_live() {
            "the live host, "
        } else {
            ""
        },
        if osrelease.trim().is_empty() {
            "unknown"
        } else {
            osrelease.trim()
        }
    );
    let _ = writeln!(
        meta,
        "{} cgroups, {} processes, {} runtime state files, {} bytes.",
        out.report.cgroups, out.report.processes, out.report.state_files, out.report.bytes
    );
    let _ = writeln!(meta, "Left out by design: process environments; every field of the runtime state files that cgtree does not parse (config.json keeps its annotations, config.v2.json its ID, Name, Config.Image, Config.Labels and State.Pid, containers.json its ids, names and image names, crun/runc state its PIDs and cgroup path, conmon's pidfiles their PID); /proc/PID/status lines other than Name, PPid, Uid, Gid, NStgid, NSpid; the GECOS field and shell of etc/passwd.");
    if !only.is_empty() {
        let list: Vec<String> = only.iter().map(|o| format!("/{}", o.display())).collect();
        let _ = writeln!(
            meta,
            "Limited to the cgroup subtrees {}: other cgroups, their processes and state are not here.",
            list.join(", ")
        );
    }
    for l in &out.report.left_out {
        let _ = writeln!(meta, "Left out: {l}");
    }
    out.write(Path::new("META"), &meta)
        .map_err(|e| io(&out_dir.join("META"), e))?;
    Ok(out.report)
}
