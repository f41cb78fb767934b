//! `cgtree snapshot`: the state cgtree reads, written in the fixture format, so that
//! `cgtree --root OUT` prints the same tree and the same `pid` answers as the host did,
//! and a bug report can carry it.
//!
//! Written: `proc/self/mountinfo`; for every cgroup,
//! the interface files the walk reads (`cgroup.type`, `cgroup.procs`,
//! `cgroup.controllers`, `cgroup.subtree_control`, `cgroup.events`, `cgroup.threads`);
//! for every process listed, `cgroup`, `cmdline`, `comm`, the `status` lines cgtree
//! parses, `uid_map`, `gid_map`, the `ns/user` and `ns/pid` link targets, a containerd
//! shim's `cwd` link target (its bundle), and `stat` when the command line is empty;
//! the runtime state files the identification read, reduced to the fields cgtree parses
//! (never a process environment); `etc/passwd` reduced to names, IDs and homes. What
//! was left out is listed in `OUT/META`.
//!
//! Root writes a snapshot where other users may be watching (`/tmp`), and copies what
//! they control (cgroup names, command lines, runtime state, recorded paths), so:
//! - OUT is created by the snapshot itself: it is built in a private staging directory
//!   next to OUT (mode 0700, see `crate::fs::out`) and renamed into place when
//!   complete; a failed snapshot leaves neither OUT nor the staging directory. An
//!   existing OUT is refused unless it is an empty directory owned by the caller and not
//!   writable by group or others; a symlink in OUT's parent path must be root's own.
//! - Every directory, file and link is created relative to a directory fd, exclusively,
//!   without following links, its mode set on the fd created; never through a path.
//! - A path recorded from what the identification read is written only when, taken
//!   under OUT, it has no `..` (nor empty or NUL components); otherwise it is left out
//!   and META names it (escaped).
//! - Every read is bounded, takes regular files only and never blocks (a FIFO or a
//!   device is never opened): kernel files through `fs::out::read_regular` with the
//!   kernel-file limit, runtime state through the resolver's confined reads, the passwd
//!   of a container through [`crate::userns::read_passwd`] (confined to its root).
//! - The cgroup walk keeps an explicit stack and a bounded number of fds (going back up
//!   through `..`, checked by identity), so any depth is copied, past `PATH_MAX` too.
//! - Copied bytes are data, written as read; META and error messages show untrusted
//!   names escaped ([`shown`]).

use crate::error::Error;
use crate::fs;
use crate::fs::out::{self as fsout, Existing, FileId, Staging};
use crate::resolve::{Recorded, Resolver, RootKey};
use crate::{Host, TreeBuilder};
use std::collections::BTreeSet;
use std::ffi::{CStr, CString};
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Most bytes a snapshot writes; past it, files are left out and listed in META.
pub const MAX_SNAPSHOT_BYTES: u64 = 256 << 20;

/// Most levels of the cgroup walk that keep their two fds (source and copy) open; the
/// levels above are reopened through `..` when the walk comes back to them.
const FD_WINDOW: usize = 32;

/// What a snapshot wrote.
#[non_exhaustive]
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
    /// What was left out, one line each (untrusted names escaped).
    pub left_out: Vec<String>,
    /// What reading the trees (and tracing the PIDs) met: vanished cgroups and
    /// processes, interrupted reads, passes over `/proc`.
    pub stats: crate::Stats,
}

/// `bytes` (a name or path from the host, a user or a container) safe to show: ASCII
/// printable characters as they are, everything else (control characters, escapes,
/// non-ASCII bytes) as `\xNN` escapes; backslashes and quotes escaped too.
pub fn shown(bytes: &[u8]) -> String {
    bytes.escape_ascii().to_string()
}

/// The components of `rel` as a path inside the snapshot: a leading `/` means the
/// snapshot's root, `.` is dropped; `..`, an empty path and a NUL byte are refused.
fn tree_path(rel: &Path) -> Result<Vec<CString>, &'static str> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => {
                out.push(CString::new(n.as_bytes()).map_err(|_| "it holds a NUL byte")?);
            }
            Component::ParentDir => return Err("it climbs with `..`"),
            Component::Prefix(_) => return Err("it has a prefix"),
        }
    }
    if out.is_empty() {
        return Err("it is empty");
    }
    Ok(out)
}

/// The snapshot being written: a staging directory and the bytes spent.
struct Out {
    stage: Staging,
    report: Report,
    /// OUT as given, for messages.
    shown_root: PathBuf,
    /// The directory written to last, by its components, and its fd.
    cache: Option<(Vec<CString>, OwnedFd)>,
}

impl Out {
    /// `OUT/rel` for a message, escaped.
    fn display(&self, rel: &Path) -> PathBuf {
        self.shown_root.join(shown(rel.as_os_str().as_bytes()))
    }

    /// Whether `len` more bytes fit the budget; when not, `what` is left out and said.
    fn fits(&mut self, len: usize, what: impl FnOnce() -> String) -> bool {
        if self.report.bytes + len as u64 > MAX_SNAPSHOT_BYTES {
            let w = what();
            self.report
                .left_out
                .push(format!("{w}: over the {MAX_SNAPSHOT_BYTES}-byte limit"));
            return false;
        }
        true
    }

    /// The directory `comps` of the snapshot, made as needed (each level created or
    /// opened relative to the one above, never following a link).
    fn dir_at(&mut self, comps: &[CString]) -> Result<BorrowedFd<'_>, Error> {
        let hit = matches!(&self.cache, Some((c, _)) if c.as_slice() == comps);
        if !hit {
            let mut cur: Option<OwnedFd> = None;
            for (i, c) in comps.iter().enumerate() {
                let parent = cur.as_ref().map_or(self.stage.root(), |f| f.as_fd());
                let fd = fsout::make_dir(parent, c, fsout::DIR_MODE).map_err(|e| {
                    let rel: PathBuf = comps[..=i]
                        .iter()
                        .map(|c| std::ffi::OsStr::from_bytes(c.as_bytes()))
                        .collect();
                    fs::errno_error(self.display(&rel), e)
                })?;
                cur = Some(fd);
            }
            let fd = match cur {
                Some(fd) => fd,
                None => self
                    .stage
                    .root()
                    .try_clone_to_owned()
                    .map_err(|e| Error::io(&self.shown_root, e))?,
            };
            self.cache = Some((comps.to_vec(), fd));
        }
        match &self.cache {
            Some((_, fd)) => Ok(fd.as_fd()),
            None => Err(fs::errno_error(&self.shown_root, nix::errno::Errno::EIO)),
        }
    }

    /// Writes the file `rel` (a path inside the snapshot). A path that would leave the
    /// snapshot is not written: it is left out, and said.
    fn write(&mut self, rel: &Path, bytes: &[u8]) -> Result<(), Error> {
        let comps = match tree_path(rel) {
            Ok(c) => c,
            Err(why) => {
                self.refuse(rel, why);
                return Ok(());
            }
        };
        if !self.fits(bytes.len(), || shown(rel.as_os_str().as_bytes())) {
            return Ok(());
        }
        let (name, dirs) = comps.split_last().unwrap_or((&comps[0], &[]));
        let dir = self.dir_at(dirs)?;
        match fsout::create_file(dir, name, bytes, fsout::FILE_MODE) {
            // Written once already (two reads that name one file): the first stays.
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(fs::errno_error(self.display(rel), e)),
        }
        self.report.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes the file `name` into the directory `dir` of the snapshot (`rel` names it
    /// in messages, made only when needed).
    fn write_at(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &CStr,
        bytes: &[u8],
        rel: impl Fn() -> PathBuf,
    ) -> Result<(), Error> {
        if !self.fits(bytes.len(), || shown(rel().as_os_str().as_bytes())) {
            return Ok(());
        }
        match fsout::create_file(dir, name, bytes, fsout::FILE_MODE) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => return Err(fs::errno_error(self.display(&rel()), e)),
        }
        self.report.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Creates the symlink `rel` to a namespace name (`user:[4026531837]`); any other
    /// target is left out, and said.
    fn ns_link(&mut self, rel: &Path, target: &[u8]) -> Result<(), Error> {
        if !is_ns_name(target) {
            self.report.left_out.push(format!(
                "{}: a namespace link whose target is not a namespace name",
                shown(rel.as_os_str().as_bytes())
            ));
            return Ok(());
        }
        self.link(rel, target)
    }

    /// Creates the symlink `rel` to `target`, a containerd shim's working directory
    /// that names its own bundle ([`crate::runtime::containerd::shim_state`]); any other
    /// target is left out, and said. (Only read back as a link, never followed.)
    fn shim_cwd_link(&mut self, rel: &Path, target: &[u8], args: &[&[u8]]) -> Result<(), Error> {
        let plain = Path::new(std::ffi::OsStr::from_bytes(target))
            .strip_prefix("/")
            .is_ok_and(|p| {
                p.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
            });
        if !plain || crate::runtime::containerd::shim_state(target, args).is_none() {
            self.report.left_out.push(format!(
                "{}: a shim's working directory that is not its bundle",
                shown(rel.as_os_str().as_bytes())
            ));
            return Ok(());
        }
        self.link(rel, target)
    }

    fn link(&mut self, rel: &Path, target: &[u8]) -> Result<(), Error> {
        let comps = match tree_path(rel) {
            Ok(c) => c,
            Err(why) => {
                self.refuse(rel, why);
                return Ok(());
            }
        };
        let (name, dirs) = comps.split_last().unwrap_or((&comps[0], &[]));
        let dir = self.dir_at(dirs)?;
        match fsout::create_symlink(dir, name, target) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => Ok(()),
            Err(e) => Err(fs::errno_error(self.display(rel), e)),
        }
    }

    /// Creates the directory `rel` (and those above it).
    fn dir(&mut self, rel: &Path) -> Result<(), Error> {
        match tree_path(rel) {
            Ok(c) => self.dir_at(&c).map(drop),
            Err(why) => {
                self.refuse(rel, why);
                Ok(())
            }
        }
    }

    fn refuse(&mut self, rel: &Path, why: &str) {
        self.report.left_out.push(format!(
            "{}: refused, {why}: a recorded path must stay inside the snapshot",
            shown(rel.as_os_str().as_bytes())
        ));
    }
}

/// `kind:[inode]`, as the kernel names a namespace (`user:[4026531837]`).
fn is_ns_name(t: &[u8]) -> bool {
    let Some(colon) = t.iter().position(|&b| b == b':') else {
        return false;
    };
    let (kind, rest) = (&t[..colon], &t[colon + 1..]);
    !kind.is_empty()
        && kind.iter().all(|b| b.is_ascii_lowercase() || *b == b'_')
        && rest.len() > 2
        && rest.starts_with(b"[")
        && rest.ends_with(b"]")
        && rest[1..rest.len() - 1].iter().all(u8::is_ascii_digit)
}

/// Reads the kernel file `rel` under `dir` (cgroupfs, procfs, or the same files of a
/// `--root`) with [`fsout::read_regular`]: bounded by [`fs::MAX_KERNEL_FILE`], no
/// symlink followed, the type checked before the open (a FIFO or a device is never
/// opened), never blocking.
fn read_kernel<'b>(dir: BorrowedFd<'_>, rel: &str, buf: &'b mut Vec<u8>) -> Option<&'b [u8]> {
    fsout::read_regular(dir, Path::new(rel), fs::MAX_KERNEL_FILE as u64, buf).ok()?;
    Some(buf.as_slice())
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

/// Only what cgtree parses of a state file: `etc/passwd` without GECOS and shell,
/// anything else what the runtime family that reads it keeps
/// ([`crate::runtime::Runtime::snapshot_keep`]); `None`: not kept.
fn reduce_state(path: &Path, bytes: &[u8]) -> Option<Vec<u8>> {
    if path.file_name().is_some_and(|n| n == "passwd") {
        return Some(passwd_lines(bytes));
    }
    crate::runtime::snapshot_keep(path, bytes)
}

/// `etc/passwd` without the GECOS field and the shell.
/// Only the entries [`crate::parse::passwd`] reads are kept (comments, NIS lines and
/// malformed lines are dropped).
fn passwd_lines(bytes: &[u8]) -> Vec<u8> {
    passwd_entries(bytes, |_| true)
}

/// The entries of `bytes` whose UID `keep` takes, as `name:x:UID:GID::home:` lines.
fn passwd_entries(bytes: &[u8], keep: impl Fn(u32) -> bool) -> Vec<u8> {
    use std::io::Write as _;
    let mut out = Vec::new();
    for e in crate::parse::passwd(bytes)
        .flatten()
        .filter(|e| keep(e.uid))
    {
        out.extend_from_slice(e.name);
        let _ = write!(out, ":x:{}:{}::", e.uid, e.gid);
        out.extend_from_slice(e.home);
        out.extend_from_slice(b":\n");
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

/// The entries of a (reduced) passwd file whose UID is in `uids`, reduced the same way.
fn passwd_only(passwd: &[u8], uids: &BTreeSet<u32>) -> Vec<u8> {
    passwd_entries(passwd, |uid| uids.contains(&uid))
}

/// The cgroup subtrees a snapshot for `pids` keeps: each process's cgroup, and its
/// parent's when that is not the root cgroup (a container init that podman's conmon
/// started in the caller's cgroup is named through that conmon).
/// # Errors
/// [`Error::NoSuchProcess`] for a PID with no `/proc` entry; [`Error::Io`] or
/// [`Error::Parse`] naming `/proc/PID/cgroup` when it cannot be read or parsed.
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

/// Writes a snapshot of `host` into `out`, a new directory (see [`write_subtrees`]).
/// # Errors
/// [`Error::Io`] naming the path when the cgroup2 mount cannot be found or read, or
/// `out_dir` cannot be created or written (it must not exist yet).
pub fn write(host: &Host, out_dir: &Path) -> Result<Report, Error> {
    write_subtrees(host, out_dir, &[])
}

/// Chooses where the snapshot goes: opens OUT's parent (following only root's symlinks),
/// refuses an OUT that exists unless it is an empty directory of the caller's own, closed
/// to group and others, and makes the staging directory. Returns it, OUT's name in the
/// parent, and whether an (empty) OUT is to be replaced.
fn prepare(out_dir: &Path) -> Result<(Staging, CString, bool), Error> {
    let refused = |reason: &'static str| Error::Refused {
        what: out_dir.display().to_string(),
        reason,
    };
    let name = match out_dir.components().next_back() {
        Some(Component::Normal(n)) => {
            CString::new(n.as_bytes()).map_err(|_| refused("holds a NUL byte"))?
        }
        _ => {
            return Err(refused(
                "does not end in a directory name (snapshot creates OUT itself)",
            ))
        }
    };
    let parent = match out_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let pfd = fsout::open_parent_dir(parent).map_err(|e| match e {
        fsout::ParentError::ForeignSymlink => Error::Refused {
            what: parent.display().to_string(),
            reason: "a symlink on the way to OUT is owned neither by root nor by the user running cgtree: snapshot does not write through another user's link",
        },
        fsout::ParentError::Errno(e) => fs::errno_error(parent, e),
    })?;
    let replace = match fsout::existing(pfd.as_fd(), &name)
        .map_err(|e| fs::errno_error(out_dir, e))?
    {
        Existing::Absent => false,
        Existing::Symlink => {
            return Err(refused(
                "is a symlink: snapshot creates OUT itself, give a path that does not exist",
            ))
        }
        Existing::NotDir => return Err(refused("exists and is not a directory")),
        Existing::Dir { uid, mode, empty } => {
            if uid != nix::unistd::geteuid().as_raw() || mode & 0o022 != 0 {
                return Err(refused(
                    "exists, and is not owned by the user running cgtree or is writable by group or others: snapshot creates OUT itself, give a path that does not exist",
                ));
            }
            if !empty {
                return Err(refused("exists and is not empty"));
            }
            true
        }
    };
    let stage = Staging::create(pfd, name.as_bytes()).map_err(|e| fs::errno_error(parent, e))?;
    Ok((stage, name, replace))
}

/// One cgroup on the walk's stack: its name, where it stands, its path below the mount
/// while it is above the chosen subtrees (bounded by their length), its source and copy
/// directories (fds only while within [`FD_WINDOW`] of the bottom; identities always),
/// and its subgroups still to copy.
struct Frame {
    name: Box<[u8]>,
    scope: Scope,
    rel: Option<PathBuf>,
    src: Option<OwnedFd>,
    src_id: FileId,
    out: Option<OwnedFd>,
    out_id: FileId,
    pending: Vec<Box<[u8]>>,
}

/// The path of the cgroup on top of `stack` (relative to the snapshot root) for a
/// message, escaped; the middle of a deep path is elided.
fn frame_path(mount_rel: &Path, stack: &[Frame], name: Option<&[u8]>) -> PathBuf {
    let mut names: Vec<&[u8]> = stack.iter().skip(1).map(|f| &*f.name).collect();
    names.extend(name);
    let mut p = PathBuf::from(shown(mount_rel.as_os_str().as_bytes()));
    if names.len() > 8 {
        for n in &names[..3] {
            p.push(shown(n));
        }
        p.push(format!("...({} levels)...", names.len() - 6));
        for n in &names[names.len() - 3..] {
            p.push(shown(n));
        }
    } else {
        for n in names {
            p.push(shown(n));
        }
    }
    p
}

/// The interface files of a cgroup the walk reads.
const CGROUP_FILES: [&CStr; 6] = [
    c"cgroup.type",
    c"cgroup.procs",
    c"cgroup.controllers",
    c"cgroup.subtree_control",
    c"cgroup.events",
    c"cgroup.threads",
];

/// Copies the interface files of the cgroup on top of `stack` and lists its subgroups.
fn copy_cgroup(
    out: &mut Out,
    stack: &mut [Frame],
    mount_rel: &Path,
    buf: &mut Vec<u8>,
    dirbuf: &mut Vec<u8>,
    pids: &mut BTreeSet<u32>,
) -> Result<(), Error> {
    let is_root = stack.len() == 1;
    let Some((top, above)) = stack.split_last_mut() else {
        return Ok(());
    };
    let (Some(src), Some(dst)) = (top.src.as_ref(), top.out.as_ref()) else {
        return Ok(());
    };
    let path = |name: &str| frame_path(mount_rel, above, Some(&top.name)).join(name);
    let path = |name: &str| {
        if is_root {
            PathBuf::from(shown(mount_rel.as_os_str().as_bytes())).join(name)
        } else {
            path(name)
        }
    };
    out.report.cgroups += 1;
    for f in CGROUP_FILES {
        let name = std::str::from_utf8(f.to_bytes()).unwrap_or_default();
        let procs = name == "cgroup.procs" || name == "cgroup.threads";
        if top.scope == Scope::Above && procs {
            out.write_at(dst.as_fd(), f, b"", || path(name))?;
            out.report.left_out.push(format!(
                "{}: the processes of a cgroup above the chosen subtrees",
                path(name).display()
            ));
            continue;
        }
        match read_kernel(src.as_fd(), name, buf) {
            Some(b) => {
                if procs {
                    pids.extend(
                        crate::parse::pids(b)
                            .filter_map(Result::ok)
                            .filter(|&p| p != 0),
                    );
                }
                let b = std::mem::take(buf);
                let r = out.write_at(dst.as_fd(), f, &b, || path(name));
                *buf = b;
                r?;
            }
            // The fixture format wants the four main files in every cgroup.
            None if name != "cgroup.events"
                && name != "cgroup.threads"
                && !(is_root && name == "cgroup.type") =>
            {
                out.write_at(dst.as_fd(), f, b"", || path(name))?;
            }
            None => {}
        }
    }
    let mut kids = fs::subdirs(src.as_fd(), dirbuf).unwrap_or_default();
    kids.reverse();
    top.pending = kids;
    Ok(())
}

/// Copies the cgroups of `mount` (every directory below the mount, and the interface
/// files the walk reads) that `only` keeps; returns the PIDs listed in them. An explicit
/// stack, at most [`FD_WINDOW`] levels holding fds: any depth.
fn copy_cgroups(
    out: &mut Out,
    mount: &crate::CgroupMount,
    mount_rel: &Path,
    only: &[PathBuf],
) -> Result<BTreeSet<u32>, Error> {
    let mut pids = BTreeSet::new();
    let mut buf = Vec::new();
    let mut dirbuf = Vec::new();
    let src = fs::open_dir_path(&mount.dir).map_err(|e| fs::errno_error(&mount.dir, e))?;
    let comps = tree_path(mount_rel).map_err(|reason| Error::Refused {
        what: format!(
            "the cgroup2 mount point {}",
            shown(mount_rel.as_os_str().as_bytes())
        ),
        reason,
    })?;
    let dst = out
        .dir_at(&comps)?
        .try_clone_to_owned()
        .map_err(|e| Error::io(&out.shown_root, e))?;
    out.cache = None;
    let id = |fd: &OwnedFd, p: &Path| fsout::file_id(fd.as_fd()).map_err(|e| fs::errno_error(p, e));
    let root = Frame {
        name: Box::default(),
        scope: scope(Path::new(""), only),
        rel: Some(PathBuf::new()),
        src_id: id(&src, &mount.dir)?,
        out_id: id(&dst, &out.shown_root)?,
        src: Some(src),
        out: Some(dst),
        pending: Vec::new(),
    };
    if root.scope == Scope::Out {
        return Ok(pids);
    }
    let mut stack = vec![root];
    copy_cgroup(out, &mut stack, mount_rel, &mut buf, &mut dirbuf, &mut pids)?;
    let mut lost = false;
    while let Some(top) = stack.last_mut() {
        let Some(child) = top.pending.pop() else {
            // Done with it: back up, reopening the parent when its fds were let go.
            let Some(done) = stack.pop() else { break };
            if let Some(up) = stack.last_mut() {
                if up.src.is_none() || up.out.is_none() {
                    let reopened = match (&done.src, &done.out) {
                        (Some(s), Some(o)) => fsout::reopen_parent(s.as_fd(), up.src_id)
                            .and_then(|s| Ok((s, fsout::reopen_parent(o.as_fd(), up.out_id)?)))
                            .ok(),
                        _ => None,
                    };
                    match reopened {
                        Some((s, o)) => {
                            up.src = Some(s);
                            up.out = Some(o);
                        }
                        None => {
                            // Moved or removed while copied: its other subgroups cannot
                            // be reached the way the walk came.
                            if !up.pending.is_empty() && !lost {
                                lost = true;
                                out.report.left_out.push(
                                    "some cgroups: their parent was moved or removed while the snapshot was taken".into(),
                                );
                            }
                            up.pending.clear();
                        }
                    }
                }
            }
            continue;
        };
        let (Some(psrc), Some(pout)) = (top.src.as_ref(), top.out.as_ref()) else {
            top.pending.clear();
            continue;
        };
        let Ok(c) = CString::new(child.to_vec()) else {
            continue;
        };
        let (scope_here, rel) = match (&top.scope, &top.rel) {
            (Scope::Above, Some(r)) => {
                let r = r.join(std::ffi::OsStr::from_bytes(&child));
                let s = scope(&r, only);
                (s, (s == Scope::Above).then_some(r))
            }
            _ => (Scope::In, None),
        };
        if scope_here == Scope::Out {
            continue;
        }
        // Gone meanwhile: not copied.
        let Ok(csrc) = fs::open_dir(psrc.as_fd(), &c) else {
            continue;
        };
        let cout = fsout::make_dir(pout.as_fd(), &c, fsout::DIR_MODE).map_err(|e| {
            fs::errno_error(out.display(&frame_path(mount_rel, &stack, Some(&child))), e)
        })?;
        let frame = Frame {
            src_id: id(&csrc, &mount.dir)?,
            out_id: id(&cout, &out.shown_root)?,
            name: child,
            scope: scope_here,
            rel,
            src: Some(csrc),
            out: Some(cout),
            pending: Vec::new(),
        };
        stack.push(frame);
        let n = stack.len();
        if n > FD_WINDOW {
            let f = &mut stack[n - 1 - FD_WINDOW];
            f.src = None;
            f.out = None;
        }
        copy_cgroup(out, &mut stack, mount_rel, &mut buf, &mut dirbuf, &mut pids)?;
    }
    Ok(pids)
}

/// Writes a snapshot of the cgroup subtrees `only` (paths relative to the cgroup2
/// mount, like `/kubepods.slice`; empty: the whole hierarchy) into `out_dir`. The cgroups
/// above a chosen subtree are written without their processes, and the mount table
/// keeps only its cgroup2 lines; META says so.
///
/// OUT is created by the snapshot (mode 0700, owned by the caller), built in a staging
/// directory next to it and renamed into place when complete.
///
/// # Errors
///
/// [`Error::Refused`] when OUT exists (unless it is an empty directory of the caller's
/// own, closed to group and others, which is replaced), is a symlink, or lies below a
/// symlink root does not own; [`Error::InvalidPath`] for a path in `only` with `.` or
/// `..`; [`Error::Io`] when the host cannot be read or the snapshot cannot be written
/// (then nothing is left behind).
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
            path: shown(bad.as_os_str().as_bytes()),
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
    let (stage, name, replace) = prepare(out_dir)?;
    let mut out = Out {
        stage,
        report: Report::default(),
        shown_root: PathBuf::from(shown(out_dir.as_os_str().as_bytes())),
        cache: None,
    };
    // From here on, an error drops `out.stage`, which removes the staging directory.
    fill(host, &mut out, &only)?;
    let Out { stage, report, .. } = out;
    stage
        .publish(&name, replace)
        .map_err(|e| fs::errno_error(out_dir, e))?;
    Ok(report)
}

/// Writes everything into the staging directory of `out`.
fn fill(host: &Host, out: &mut Out, only: &[PathBuf]) -> Result<(), Error> {
    let mount = host.find_cgroup2()?;
    let root_fd = fs::open_dir_path(host.root()).map_err(|e| fs::errno_error(host.root(), e))?;
    let mut buf = Vec::new();

    // mountinfo, whole: its line numbers are part of cgtree's answers.
    // (On the live host `proc/self` is a link, which the reader does not follow: our own
    // PID names the same directory.)
    let mountinfo = if host.is_live() {
        format!("proc/{}/mountinfo", std::process::id())
    } else {
        "proc/self/mountinfo".to_string()
    };
    if let Some(mi) = read_kernel(root_fd.as_fd(), &mountinfo, &mut buf) {
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
        out.write(Path::new("proc/self/mountinfo"), &mi)?;
    }

    // The cgroups: every directory, and the interface files the walk reads.
    let mount_rel = mount
        .mount_point
        .strip_prefix("/")
        .unwrap_or(&mount.mount_point)
        .to_path_buf();
    let pids = copy_cgroups(out, &mount, &mount_rel, only)?;
    let mut uids: BTreeSet<u32> = BTreeSet::new();
    let mut parents: BTreeSet<u32> = BTreeSet::new();

    // The processes.
    let proc_fd =
        fs::open_dir_path(&host.proc_dir()).map_err(|e| fs::errno_error(host.proc_dir(), e))?;
    for pid in &pids {
        let file = |n: &str| format!("{pid}/{n}");
        let base = PathBuf::from(format!("proc/{pid}"));
        // Each file as far as it exists (a thread listed in cgroup.threads has only its
        // comm read; a process may exit meanwhile).
        let mut any = false;
        if let Some(cg) = read_kernel(proc_fd.as_fd(), &file("cgroup"), &mut buf) {
            any = true;
            let cg = cg.to_vec();
            out.write(&base.join("cgroup"), &cg)?;
        }
        let cmdline = read_kernel(proc_fd.as_fd(), &file("cmdline"), &mut buf).map(<[u8]>::to_vec);
        if let Some(c) = &cmdline {
            any = true;
            out.write(&base.join("cmdline"), c)?;
        }
        let cmdline = cmdline.unwrap_or_default();
        for name in ["comm", "uid_map", "gid_map"] {
            if let Some(b) = read_kernel(proc_fd.as_fd(), &file(name), &mut buf) {
                any = true;
                let b = b.to_vec();
                out.write(&base.join(name), &b)?;
            }
        }
        if any {
            out.report.processes += 1;
        }
        if let Some(b) = read_kernel(proc_fd.as_fd(), &file("status"), &mut buf) {
            if let Ok(st) = crate::parse::status(b) {
                // etc/passwd of a subtree snapshot keeps the users of its processes; the
                // parents lead to the ancestors below.
                uids.extend(st.uid.map(|u| u[0]));
                parents.extend(st.ppid);
            }
            let b = status_lines(b, &STATUS_LINES);
            out.write(&base.join("status"), &b)?;
        }
        if cmdline.is_empty() {
            if let Some(b) = read_kernel(proc_fd.as_fd(), &file("stat"), &mut buf) {
                let b = b.to_vec();
                out.write(&base.join("stat"), &b)?;
            }
        }
        for ns in ["user", "pid", "mnt"] {
            if let Ok(t) =
                nix::fcntl::readlinkat(proc_fd.as_fd(), file(&format!("ns/{ns}")).as_str())
            {
                out.ns_link(&base.join("ns").join(ns), t.as_bytes())?;
            }
        }
        // A containerd shim's working directory is its bundle: where its containerd
        // keeps its state (`Resolver::note_process`).
        let args: Vec<&[u8]> = crate::parse::cmdline(&cmdline).collect();
        let is_shim = args.first().is_some_and(|exe| {
            exe.rsplit(|&b| b == b'/')
                .next()
                .is_some_and(|b| b.starts_with(b"containerd-shim"))
        });
        if is_shim {
            if let Ok(t) = nix::fcntl::readlinkat(proc_fd.as_fd(), file("cwd").as_str()) {
                out.shim_cwd_link(&base.join("cwd"), t.as_bytes(), &args)?;
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
            let file = |n: &str| format!("{pid}/{n}");
            let base = PathBuf::from(format!("proc/{pid}"));
            if let Some(b) = read_kernel(proc_fd.as_fd(), &file("status"), &mut buf) {
                if let Some(pp) = crate::parse::status(b).ok().and_then(|st| st.ppid) {
                    if !pids.contains(&pp) {
                        todo.push(pp);
                    }
                }
                let b = status_lines(b, &STATUS_LINES[1..]);
                out.write(&base.join("status"), &b)?;
            }
            for name in ["uid_map", "gid_map"] {
                if let Some(b) = read_kernel(proc_fd.as_fd(), &file(name), &mut buf) {
                    let b = b.to_vec();
                    out.write(&base.join(name), &b)?;
                }
            }
            if let Ok(t) = nix::fcntl::readlinkat(proc_fd.as_fd(), file("ns/user").as_str()) {
                out.ns_link(&base.join("ns/user"), t.as_bytes())?;
            }
        }
        // PID 1's namespaces: what "a host process" is compared with (`cgtree pid`'s
        // `host_namespaces`).
        if !pids.contains(&1) {
            for ns in ["user", "pid", "mnt"] {
                if ns == "user" && ancestors.contains(&1) {
                    continue;
                }
                if let Ok(t) =
                    nix::fcntl::readlinkat(proc_fd.as_fd(), format!("1/ns/{ns}").as_str())
                {
                    out.ns_link(&PathBuf::from("proc/1/ns").join(ns), t.as_bytes())?;
                }
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
        out.report.stats += tree.stats();
        trees.push(tree);
    }
    if !only.is_empty() {
        // What the cgroups above the subtrees are (a kind node around a pod) is read
        // too: `pid` answers name the whole chain.
        for &pid in &pids {
            if let Ok(t) = crate::trace::trace_with(host, &mount, pid, &mut r) {
                out.report.stats += t.stats;
            }
        }
    }
    write_recorded(out, r.take_recorded(), only, &uids)?;

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
                out.write(&rel, &passwd_lines(&pw))?;
            }
        }
    }

    // The kernel's version, for META only (escaped: a `--root` may hold anything).
    let osrelease = read_kernel(root_fd.as_fd(), "proc/sys/kernel/osrelease", &mut buf)
        .map(|b| shown(b.trim_ascii()))
        .filter(|s| !s.is_empty() && s.len() <= 256);
    let mut meta = Vec::new();
    let _ = writeln!(
        meta,
        "Captured with `cgtree snapshot` (cgtree {}) from {} ({}kernel {}).",
        env!("CARGO_PKG_VERSION"),
        shown(host.root().as_os_str().as_bytes()),
        if host.is_live() {
            "the live host, "
        } else {
            ""
        },
        osrelease.as_deref().unwrap_or("unknown")
    );
    let _ = writeln!(
        meta,
        "{} cgroups, {} processes, {} runtime state files, {} bytes.",
        out.report.cgroups, out.report.processes, out.report.state_files, out.report.bytes
    );
    let _ = writeln!(meta, "Left out by design: process environments; every field of the runtime state files that cgtree does not parse (config.json keeps its annotations, config.v2.json its ID, Name, Config.Image, Config.Labels and State.Pid, containers.json its ids, names and image names, crun/runc state its PIDs and cgroup path, conmon's pidfiles their PID); /proc/PID/status lines other than Name, PPid, Uid, Gid, NStgid, NSpid; the GECOS field and shell of etc/passwd.");
    if !only.is_empty() {
        let list: Vec<String> = only
            .iter()
            .map(|o| format!("/{}", shown(o.as_os_str().as_bytes())))
            .collect();
        let _ = writeln!(
            meta,
            "Limited to the cgroup subtrees {}: other cgroups, their processes and state are not here.",
            list.join(", ")
        );
    }
    for l in &out.report.left_out {
        let _ = writeln!(meta, "Left out: {l}");
    }
    // META is always written, whatever the budget.
    out.report.bytes += meta.len() as u64;
    let dir = out.dir_at(&[])?;
    fsout::create_file(dir, c"META", &meta, fsout::FILE_MODE)
        .map_err(|e| fs::errno_error(out.display(Path::new("META")), e))?;
    Ok(())
}

/// Writes what the resolver read (recorded as paths under a root: the host's, or a
/// process's `proc/PID/root`), reduced to what cgtree parses. A recorded path that would
/// leave the snapshot (`..`) is left out and named in META; so is a listed entry name
/// that is not a plain name.
fn write_recorded(
    out: &mut Out,
    recorded: Vec<Recorded>,
    only: &[PathBuf],
    uids: &BTreeSet<u32>,
) -> Result<(), Error> {
    // Where a recorded path goes in the snapshot; `Err` with the path shown and why not.
    let place = |root: RootKey, path: &Path| -> Result<PathBuf, (PathBuf, &'static str)> {
        let prefix = match root {
            RootKey::Host => PathBuf::new(),
            RootKey::Proc(pid) => PathBuf::from(format!("proc/{pid}/root")),
        };
        let inner = tree_path(path)
            .map_err(|why| (prefix.join(path.strip_prefix("/").unwrap_or(path)), why))?;
        Ok(prefix.join(
            inner
                .iter()
                .map(|c| std::ffi::OsStr::from_bytes(c.as_bytes()))
                .collect::<PathBuf>(),
        ))
    };
    // Files read, so that a listing that names one (a graph root listed for its
    // `<driver>-containers` directories, with podman's `db.sql` beside them) does not
    // make it a directory.
    let read_files: BTreeSet<PathBuf> = recorded
        .iter()
        .filter_map(|rec| match rec {
            Recorded::File { root, path, .. } => place(*root, path).ok(),
            Recorded::Dir { .. } => None,
        })
        .collect();
    let mut seen = BTreeSet::new();
    for rec in recorded {
        let (root, path) = match &rec {
            Recorded::File { root, path, .. } | Recorded::Dir { root, path, .. } => {
                (*root, path.clone())
            }
        };
        let dest = match place(root, &path) {
            Ok(d) => d,
            Err((shown_path, why)) => {
                out.refuse(&shown_path, why);
                continue;
            }
        };
        if !seen.insert(dest.clone()) {
            continue;
        }
        match rec {
            Recorded::File { bytes, .. } => match reduce_state(&path, &bytes) {
                Some(reduced)
                    if root == RootKey::Host
                        && dest == Path::new("etc/passwd")
                        && !only.is_empty() =>
                {
                    let kept = passwd_only(&reduced, uids);
                    out.report.left_out.push(
                        "etc/passwd: the users no process of the chosen subtrees runs as".into(),
                    );
                    out.report.state_files += 1;
                    out.write(&dest, &kept)?;
                }
                Some(reduced) => {
                    out.report.state_files += 1;
                    out.write(&dest, &reduced)?;
                }
                None => out.report.left_out.push(format!(
                    "{}: not a file cgtree parses",
                    shown(dest.as_os_str().as_bytes())
                )),
            },
            Recorded::Dir { entries, .. } => {
                // Only the names are read (kubelet's log directories, bundle lists).
                let files = dest.ends_with("var/log/containers");
                out.dir(&dest)?;
                for e in entries {
                    let plain = !e.is_empty()
                        && e != b"."
                        && e != b".."
                        && !e.contains(&b'/')
                        && !e.contains(&0);
                    let p = dest.join(std::ffi::OsStr::from_bytes(&e));
                    if !plain {
                        out.refuse(&p, "it is not a plain name");
                        continue;
                    }
                    if files {
                        out.write(&p, b"")?;
                    } else if !read_files.contains(&p) {
                        out.dir(&p)?;
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn passwd_is_reduced_to_the_entries_the_parser_reads() {
        let f = b"# c\nroot:x:0:0:root:/root:/bin/bash\n+nis\nshort:x:5:5\n\
                  u:secret:1000:100:U,,,:/home/u:/bin/sh\n";
        assert_eq!(
            passwd_lines(f),
            b"root:x:0:0::/root:\nu:x:1000:100::/home/u:\n".to_vec()
        );
        let uids = BTreeSet::from([1000]);
        assert_eq!(
            passwd_only(&passwd_lines(f), &uids),
            b"u:x:1000:100::/home/u:\n".to_vec()
        );
    }

    fn dir_fd(p: &Path) -> OwnedFd {
        fs::open_dir_path(p).unwrap()
    }

    fn out_in(dir: &Path) -> Out {
        Out {
            stage: Staging::create(dir_fd(dir), b"t").unwrap(),
            report: Report::default(),
            shown_root: dir.join("OUT"),
            cache: None,
        }
    }

    /// Every name in `dir` (recursively, without following links), relative to it.
    fn listing(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let p = e.path();
                out.push(p.strip_prefix(dir).unwrap().display().to_string());
                if e.file_type().unwrap().is_dir() {
                    todo.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn tree_paths_never_climb() {
        let ok = |p: &str| tree_path(Path::new(p)).map(|c| c.len());
        assert_eq!(ok("/etc/passwd"), Ok(2));
        assert_eq!(ok("etc/./passwd"), Ok(2));
        assert_eq!(ok("run//x/"), Ok(2));
        for bad in ["", "/", ".", "..", "/run/../../x", "a/b/..", "../etc"] {
            assert!(tree_path(Path::new(bad)).is_err(), "{bad:?}");
        }
        assert!(is_ns_name(b"user:[4026531837]"));
        assert!(is_ns_name(b"pid_for_children:[1]"));
        for bad in [
            &b"user:[]"[..],
            b"../../etc/passwd",
            b"user:[1]x",
            b"User:[1]",
            b":[1]",
        ] {
            assert!(!is_ns_name(bad), "{}", shown(bad));
        }
        assert_eq!(shown(b"a\x1b[2J\xc2\x9b/b"), "a\\x1b[2J\\xc2\\x9b/b");
    }

    #[test]
    fn recorded_paths_that_climb_are_left_out_and_named() {
        let tmp = tempfile::tempdir().unwrap();
        let mut out = out_in(tmp.path());
        let file = |root, path: &str, bytes: &[u8]| Recorded::File {
            root,
            path: PathBuf::from(path),
            bytes: bytes.to_vec(),
        };
        let recs = vec![
            // conmon's pidfile, as named on a command line: `..` climbs out of OUT.
            file(
                RootKey::Host,
                "/run/x/../../../../../escaped/pidfile",
                b"42\n",
            ),
            file(RootKey::Proc(7), "/../../../escaped/hostname", b"h\n"),
            file(RootKey::Host, "/run/ok/pidfile", b"43\n"),
            Recorded::Dir {
                root: RootKey::Host,
                path: PathBuf::from("/var/log/containers"),
                entries: vec![b"..".to_vec(), b"a/b".to_vec(), b"pod_ns_c-1.log".to_vec()],
            },
        ];
        write_recorded(&mut out, recs, &[], &BTreeSet::new()).unwrap();
        let staged = listing(tmp.path());
        assert!(
            staged
                .iter()
                .all(|p| p.starts_with(".cgtree-snapshot-") && !p.contains("escaped")),
            "{staged:?}"
        );
        let root = tmp.path().join(&staged[0]);
        assert_eq!(std::fs::read(root.join("run/ok/pidfile")).unwrap(), b"43\n");
        assert!(root.join("var/log/containers/pod_ns_c-1.log").is_file());
        assert_eq!(
            listing(&root.join("var/log/containers")),
            ["pod_ns_c-1.log"]
        );
        let left = out.report.left_out.join("\n");
        for named in [
            "run/x/../../../../../escaped/pidfile: refused, it climbs with `..`",
            "proc/7/root/../../../escaped/hostname: refused",
            "var/log/containers/..: refused, it is not a plain name",
            "var/log/containers/a/b: refused",
        ] {
            assert!(left.contains(named), "{named} in {left}");
        }
        drop(out);
        assert!(
            listing(tmp.path()).is_empty(),
            "the staging directory is removed"
        );
    }

    #[test]
    fn a_cgroup_tree_of_any_depth_is_copied_with_an_explicit_stack() {
        // 600 levels (past the fd window many times over), each with a sibling leaf (so the walk comes back up through
        // levels whose fds it let go), cgroup names that make the path far longer than
        // PATH_MAX.
        let tmp = tempfile::tempdir().unwrap();
        let fx = tmp.path().join("fx");
        let cg = fx.join("sys/fs/cgroup");
        std::fs::create_dir_all(&cg).unwrap();
        std::fs::write(cg.join("cgroup.procs"), "").unwrap();
        const DEPTH: usize = 600;
        let name = CString::new("n".repeat(200)).unwrap();
        let mut cur = dir_fd(&cg);
        for _ in 0..DEPTH {
            for n in [c"leaf", name.as_c_str()] {
                nix::sys::stat::mkdirat(
                    cur.as_fd(),
                    n,
                    nix::sys::stat::Mode::from_bits_truncate(0o755),
                )
                .unwrap();
            }
            let leaf = fs::open_dir(cur.as_fd(), c"leaf").unwrap();
            fsout::create_file(leaf.as_fd(), c"cgroup.procs", b"", 0o644).unwrap();
            cur = fs::open_dir(cur.as_fd(), &name).unwrap();
        }
        drop(cur);
        let host = Host::with_root(&fx);
        let mount = host.find_cgroup2().unwrap();
        let outdir = tmp.path().join("out");
        std::fs::create_dir(&outdir).unwrap();
        let mut out = out_in(&outdir);
        copy_cgroups(&mut out, &mount, Path::new("sys/fs/cgroup"), &[]).unwrap();
        assert_eq!(out.report.cgroups, 1 + 2 * DEPTH);
        assert!(out.report.left_out.is_empty(), "{:?}", out.report.left_out);
        // Walk the copy down through fds: every level has its leaf and its files.
        let mut cur = fsout::make_dir(out.stage.root(), c"sys", 0o755).unwrap();
        for n in [c"fs", c"cgroup"] {
            cur = fs::open_dir(cur.as_fd(), n).unwrap();
        }
        for level in 0..DEPTH {
            for f in [c"cgroup.procs", c"leaf/cgroup.procs", c"cgroup.controllers"] {
                assert!(
                    nix::sys::stat::fstatat(
                        cur.as_fd(),
                        f,
                        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW
                    )
                    .is_ok(),
                    "level {level}: {f:?}"
                );
            }
            cur = fs::open_dir(cur.as_fd(), &name).unwrap();
        }
        drop(cur);
        // And removed whole when the snapshot fails (dropped unpublished), depth or not.
        drop(out);
        assert!(listing(&outdir).is_empty());
    }
}
