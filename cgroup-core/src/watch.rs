//! A stream of cgroup events as they happen: cgroups created and removed, populated and
//! emptied, and identified ([`Watcher`]).
//!
//! Sources: the kernel's cgroup-v2.rst ("cgroup.events": "populated" is 1 when the
//! cgroup or a descendant has live processes; a modify event is generated on the file
//! when a value changes), fanotify(7) and inotify(7).
//!
//! Two mechanisms, chosen by [`Backend`]:
//!
//! - fanotify: one filesystem mark on the cgroup2 mount (needs `CAP_SYS_ADMIN`, Linux
//!   5.9): each event names the parent directory by its file handle (for cgroup2, the
//!   parent's cgroup id) and the entry by name, and the entry by its own handle (its id).
//!   Events outside the watched subtree are dropped after a hash look-up.
//!   The kernel gives a created directory's id only at its deletion
//!   (`FAN_REPORT_TARGET_FID`): a cgroup gone before the watcher could look at it is
//!   held until its deletion names it, then reported created, then removed, with what
//!   happened below it in between (at any depth: a child held the same way is released
//!   when its own deletion is replayed). Without `FAN_REPORT_TARGET_FID` (kernels before
//!   5.17) such a cgroup is reported with id 0, and when events below it were held,
//!   which cannot be told apart, an [`EventKind::Overflow`] and a walk follow.
//! - inotify: one watch on each directory of the subtree, added as directories appear
//!   (and the new directory listed right after its watch is added, so that a child made
//!   in between is not missed). Works unprivileged and on older kernels. Limit: when the
//!   watcher lags, a cgroup removed before its watch was added is reported created and
//!   removed (id 0 when its id could not be read either), and cgroups made and removed
//!   inside it are not seen at all: an [`EventKind::Overflow`] and a walk follow (the
//!   watcher cannot know whether anything happened there). A cgroup made and removed in
//!   a directory that still exists when its watch is added is missed without a trace.
//!
//! The kernel's queue is bounded (fanotify: `/proc/sys/fs/fanotify/max_queued_events`,
//! 16384 by default; inotify: `/proc/sys/fs/inotify/max_queued_events`), and so is the
//! watcher's own ([`Options::queue_limit`]). When either overflows, the watcher says so
//! ([`EventKind::Overflow`]), drops what the kernel still holds, walks the subtree again
//! and reports the difference with what it knew (created, removed, populated, emptied):
//! never a silent loss. The map of known cgroups holds what exists in the subtree.
//!
//! Times: [`Event::time`] and [`Event::monotonic`] are when the watcher read the event
//! (fanotify and inotify carry no time stamp).

use crate::fs::{self, notify, CgroupMount, Host, Scratch};
use crate::resolve::Identity;
use crate::{Error, TreeBuilder};
use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::fanotify::{Fanotify, MaskFlags};
use nix::sys::inotify::{AddWatchFlags, Inotify, WatchDescriptor};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, SystemTime};

/// Which notification mechanism a [`Watcher`] uses.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    /// fanotify when the kernel and privileges allow, else inotify.
    #[default]
    Auto,
    /// fanotify only (an error when it cannot be set up).
    Fanotify,
    /// inotify only.
    Inotify,
}

/// Settings of a [`Watcher`].
#[derive(Debug, Clone)]
pub struct Options {
    /// The mechanism (default [`Backend::Auto`]).
    pub backend: Backend,
    /// Say what each cgroup is (default on): the subtree is identified once at the
    /// start, and a cgroup again each time it becomes populated (runtime state usually
    /// appears after the cgroup, around the time its first process enters), once the
    /// kernel's queue is empty, so that identifications never delay the other events. An
    /// identity other than the one reported before gives an [`EventKind::Identified`]
    /// event. A `created` event carries no identity; later events carry the last one.
    pub identify: bool,
    /// Most events the watcher holds (read from the kernel, not yet returned by
    /// [`Watcher::next_event`]) before it drops the rest of the kernel's queue, reports an
    /// [`EventKind::Overflow`] and resynchronises (default 65536; at least 1). A test can
    /// make it small to force an overflow.
    pub queue_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            backend: Backend::Auto,
            identify: true,
            queue_limit: 65536,
        }
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
#[non_exhaustive]
pub enum EventKind {
    /// A cgroup was created (`mkdir`), or found by a resynchronising walk.
    Created,
    /// A cgroup was removed (`rmdir`), or found gone by a resynchronising walk.
    Removed,
    /// `populated` of `cgroup.events` went to 1.
    Populated,
    /// `populated` of `cgroup.events` went to 0.
    Emptied,
    /// An identification gave another identity than the one reported before.
    Identified,
    /// Events were lost (a queue overflowed); a resynchronising walk follows, whose
    /// differences are reported as the events above.
    Overflow,
}

impl EventKind {
    /// The lowercase name (`created`, ..., as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Removed => "removed",
            EventKind::Populated => "populated",
            EventKind::Emptied => "emptied",
            EventKind::Identified => "identified",
            EventKind::Overflow => "overflow",
        }
    }
}

/// One event of a [`Watcher`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The cgroup id: the inode number of its cgroup2 directory (what BPF tools see); 0
    /// when unknown (a cgroup removed before it could be looked at, with inotify; an
    /// overflow).
    pub id: u64,
    /// The parent cgroup's id (0 when unknown or for an overflow).
    pub parent_id: u64,
    /// The cgroup's path relative to the cgroup2 mount (`/a/b`); for an overflow, the
    /// watched subtree's path.
    pub path: Vec<u8>,
    /// Wall-clock time the watcher read the event.
    pub time: SystemTime,
    /// `CLOCK_MONOTONIC` time the watcher read the event (comparable with other
    /// processes' `clock_gettime(CLOCK_MONOTONIC)`).
    pub monotonic: Duration,
    /// What the cgroup is, as far as known when the event is made (as
    /// [`crate::Node::identity`]); `None` when not identified or not asked for.
    pub identity: Option<Identity>,
}

/// `time` as RFC 3339 in UTC with microseconds: `2026-12-01T03:19:31.123456Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let d = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs();
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Days to civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

#[cfg(feature = "serde")]
impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("event", &self.kind)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("parent_id", &self.parent_id)?;
        m.serialize_entry("path", &crate::tree::Bytes(&self.path))?;
        m.serialize_entry("time", &rfc3339(self.time))?;
        m.serialize_entry(
            "monotonic_ns",
            &u64::try_from(self.monotonic.as_nanos()).unwrap_or(u64::MAX),
        )?;
        m.serialize_entry("identity", &self.identity)?;
        m.end()
    }
}

/// What the watcher knows of one cgroup.
#[derive(Debug)]
struct Entry {
    parent: u64,
    name: Box<[u8]>,
    path: Vec<u8>,
    populated: Option<bool>,
    identity: Option<Identity>,
    wd: Option<WatchDescriptor>,
}

enum Source {
    Fan(Fanotify),
    Ino(Inotify),
}

/// Watches a cgroup subtree: see the module documentation.
///
/// ```no_run
/// use cgroup_core::watch::{Options, Watcher};
/// use std::time::Duration;
/// let mut w = Watcher::new(&cgroup_core::Host::new(), "/system.slice", Options::default())?;
/// while let Some(ev) = w.next_event(Some(Duration::from_secs(5)))? {
///     println!("{} {} {}", ev.kind.as_str(), ev.id, String::from_utf8_lossy(&ev.path));
/// }
/// # Ok::<(), cgroup_core::Error>(())
/// ```
pub struct Watcher {
    host: Host,
    mount: CgroupMount,
    mount_fd: OwnedFd,
    src: Source,
    start: Vec<u8>,
    root: u64,
    root_parent: Option<(u64, Box<[u8]>)>,
    known: HashMap<u64, Entry>,
    /// (parent id, name) to id, ordered: a cgroup's children are one range.
    by_name: BTreeMap<(u64, Box<[u8]>), u64>,
    wds: HashMap<WatchDescriptor, u64>,
    pending: VecDeque<Event>,
    buf: Vec<u8>,
    dirbuf: Vec<u8>,
    scratch: Scratch,
    opts: Options,
    ended: bool,
    /// Cgroups to identify once the kernel has nothing more to report (bounded by the
    /// known set: a cgroup is queued once, when it appears or becomes populated).
    to_identify: VecDeque<u64>,
    /// inotify: the watch on the start's parent, for the start's own removal.
    parent_wd: Option<WatchDescriptor>,
    /// fanotify: creations whose cgroup was gone before its id could be read, held
    /// until their deletion (which names the id): (parent id, name).
    limbo: Vec<(u64, Box<[u8]>)>,
    /// fanotify, while `limbo` is not empty: events in directories not known (yet):
    /// (mask, directory id, name, entry id).
    strays: VecDeque<Stray>,
    /// fanotify: how deep [`Watcher::out_of_limbo`] is nested now.
    limbo_depth: usize,
    /// Events may have been lost (fanotify: held events could not be placed, the kernel
    /// gave no id or the nesting is past [`MAX_LIMBO_DEPTH`]; inotify: a directory went
    /// before its watch was added): the batch ends with an [`EventKind::Overflow`].
    lost: bool,
}

/// A fanotify event held while a creation is in limbo: (mask, directory id, name,
/// entry id).
type Stray = (u64, u64, Box<[u8]>, Option<u64>);

/// A cgroup found by a walk: (path, parent id, name, id).
type Found = (Vec<u8>, u64, Box<[u8]>, u64);

/// Most events held in [`Watcher`]'s `limbo` and `strays` before the watcher gives up
/// and resynchronises (an [`EventKind::Overflow`]).
const MAX_LIMBO: usize = 4096;

/// Most levels of cgroups in limbo below one another that the watcher replays (one
/// level of recursion each); deeper, it resynchronises (an [`EventKind::Overflow`]).
const MAX_LIMBO_DEPTH: usize = 256;

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("start", &String::from_utf8_lossy(&self.start))
            .field("backend", &self.backend())
            .field("known", &self.known.len())
            .finish()
    }
}

fn join(parent: &[u8], name: &[u8]) -> Vec<u8> {
    let mut p = parent.to_vec();
    if p.last() != Some(&b'/') {
        p.push(b'/');
    }
    p.extend_from_slice(name);
    p
}

fn now() -> (SystemTime, Duration) {
    let mono = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(Duration::from)
        .unwrap_or_default();
    (SystemTime::now(), mono)
}

impl Watcher {
    /// Watches the subtree at `start` (relative to the cgroup2 mount of `host`, e.g.
    /// `/` or `/system.slice`), with `opts`. Reads the subtree once (and identifies it,
    /// when asked) to know what exists; reports nothing for it.
    ///
    /// # Errors
    ///
    /// No cgroup2 mount ([`Error::NoUnifiedCgroup`] and the like), an invalid or missing
    /// `start` ([`Error::InvalidPath`], [`Error::Io`]), or the mechanism's set-up
    /// failing: fanotify when it is forced ([`Backend::Fanotify`]: `EPERM` without
    /// `CAP_SYS_ADMIN`, `EXDEV` when the mount is not cgroup2, e.g. a fixture), inotify's
    /// limits (`EMFILE`, `ENOSPC`).
    pub fn new(host: &Host, start: &str, opts: Options) -> Result<Watcher, Error> {
        let mount = host.find_cgroup2()?;
        let mount_fd = host
            .open_dir(&mount.dir)
            .map_err(|e| fs::errno_error(&mount.dir, e))?;
        let start = crate::tree::normalize_start(start)?;
        let start_b = start.as_bytes().to_vec();
        let root = notify::cgroup_id(mount_fd.as_fd(), &start_b)
            .map_err(|e| fs::errno_error(mount.dir.join(start.trim_start_matches('/')), e))?;
        // fanotify's handles name cgroups only on cgroup2 (kernfs handles); a fixture
        // directory is watched with inotify.
        let cgroup2 = fs::is_fs_type(mount_fd.as_fd(), nix::sys::statfs::CGROUP2_SUPER_MAGIC);
        let src = match opts.backend {
            Backend::Inotify => None,
            Backend::Fanotify if !cgroup2 => {
                return Err(fs::errno_error(&mount.dir, Errno::EXDEV));
            }
            Backend::Fanotify => Some(
                notify::fanotify_filesystem(mount_fd.as_fd())
                    .map_err(|e| fs::errno_error(&mount.dir, e))?,
            ),
            Backend::Auto if !cgroup2 => None,
            Backend::Auto => notify::fanotify_filesystem(mount_fd.as_fd()).ok(),
        };
        let src = match src {
            Some(f) => Source::Fan(f),
            None => Source::Ino(notify::inotify().map_err(|e| fs::errno_error("inotify", e))?),
        };
        let root_parent = match start_b.iter().rposition(|&b| b == b'/') {
            Some(i) if start_b.len() > 1 => {
                let parent = if i == 0 { &b"/"[..] } else { &start_b[..i] };
                notify::cgroup_id(mount_fd.as_fd(), parent)
                    .ok()
                    .map(|id| (id, Box::from(&start_b[i + 1..])))
            }
            _ => None,
        };
        let mut w = Watcher {
            host: host.clone(),
            mount,
            mount_fd,
            src,
            start: start_b.clone(),
            root,
            root_parent,
            known: HashMap::new(),
            by_name: BTreeMap::new(),
            wds: HashMap::new(),
            pending: VecDeque::new(),
            buf: vec![0; 64 * 1024],
            dirbuf: Vec::new(),
            scratch: Scratch::new(),
            opts,
            ended: false,
            to_identify: VecDeque::new(),
            parent_wd: None,
            limbo: Vec::new(),
            strays: VecDeque::new(),
            limbo_depth: 0,
            lost: false,
        };
        let root_name: Box<[u8]> = w
            .root_parent
            .as_ref()
            .map(|(_, n)| n.clone())
            .unwrap_or_default();
        if let (Source::Ino(ino), Some(i)) = (&w.src, start_b.iter().rposition(|&b| b == b'/')) {
            if start_b.len() > 1 {
                let parent = if i == 0 { &b"/"[..] } else { &start_b[..i] };
                w.parent_wd = notify::inotify_watch_removals(ino, w.mount_fd.as_fd(), parent).ok();
            }
        }
        let wd = w.add_watch(&start_b);
        if matches!(w.src, Source::Ino(_)) && wd.is_none() {
            return Err(fs::errno_error(&start, Errno::ENOENT));
        }
        let populated = w.read_populated(&start_b);
        w.known.insert(
            root,
            Entry {
                parent: w.root_parent.as_ref().map_or(0, |p| p.0),
                name: root_name,
                path: start_b.clone(),
                populated,
                identity: None,
                wd,
            },
        );
        if let Some(wd) = wd {
            w.wds.insert(wd, root);
        }
        // What exists now, without events.
        w.resync(false);
        if w.opts.identify {
            w.identify_all(&start);
        }
        Ok(w)
    }

    /// The mechanism in use: [`Backend::Fanotify`] or [`Backend::Inotify`].
    pub fn backend(&self) -> Backend {
        match self.src {
            Source::Fan(_) => Backend::Fanotify,
            Source::Ino(_) => Backend::Inotify,
        }
    }

    /// Whether the watched cgroup itself was removed: no event will come any more.
    pub fn ended(&self) -> bool {
        self.ended && self.pending.is_empty()
    }

    /// Number of cgroups the watcher knows in its subtree (the start included).
    pub fn known(&self) -> usize {
        self.known.len()
    }

    /// The next event: one already read, else waits for the kernel's for at most
    /// `timeout` (`None`: without limit). `Ok(None)` when the time ran out, or when the
    /// watched cgroup itself was removed (after its [`EventKind::Removed`]; every later
    /// call returns `Ok(None)` at once).
    ///
    /// # Errors
    ///
    /// `poll(2)`'s or `read(2)`'s on the notification descriptor (never for a cgroup that
    /// vanished while it was looked at: that is a [`EventKind::Removed`]).
    pub fn next_event(&mut self, timeout: Option<Duration>) -> Result<Option<Event>, Error> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Ok(Some(e));
            }
            if self.ended {
                return Ok(None);
            }
            if !self.to_identify.is_empty() {
                // Kernel events first: an identification waits for a quiet queue.
                if self.poll_once(PollTimeout::ZERO)? {
                    self.read_batch()?;
                } else if let Some(id) = self.to_identify.pop_front() {
                    self.reidentify(id);
                }
                continue;
            }
            let wait = match deadline {
                None => PollTimeout::NONE,
                Some(d) => {
                    let left = d.saturating_duration_since(std::time::Instant::now());
                    PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
                }
            };
            if self.poll_once(wait)? {
                self.read_batch()?;
            } else if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// Whether the notification descriptor is readable within `wait`.
    fn poll_once(&self, wait: PollTimeout) -> Result<bool, Error> {
        let mut fds = [PollFd::new(self.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, wait) {
            Ok(n) => Ok(n > 0),
            Err(Errno::EINTR) => Ok(false),
            Err(e) => Err(fs::errno_error("poll", e)),
        }
    }

    /// Identifies a known cgroup again; an [`EventKind::Identified`] when the identity
    /// is another one than reported before.
    fn reidentify(&mut self, id: u64) {
        let Some(path) = self.known.get(&id).map(|e| e.path.clone()) else {
            return; // gone meanwhile
        };
        let fresh = self.identify(&path);
        let Some(e) = self.known.get_mut(&id) else {
            return;
        };
        if fresh.is_some() && fresh != e.identity {
            e.identity = fresh.clone();
            self.push(EventKind::Identified, id, fresh);
        }
    }

    /// Reads one batch from the kernel and turns it into events.
    fn read_batch(&mut self) -> Result<(), Error> {
        match &self.src {
            Source::Fan(f) => {
                let mut buf = std::mem::take(&mut self.buf);
                let r = notify::read_queued(f.as_fd(), &mut buf);
                if let Ok(n) = r {
                    self.fan_records(&buf[..n]);
                }
                self.buf = buf;
                r.map(|_| ()).map_err(|e| fs::errno_error("fanotify", e))
            }
            Source::Ino(ino) => {
                let evs = match ino.read_events() {
                    Ok(v) => v,
                    Err(Errno::EAGAIN | Errno::EINTR) => return Ok(()),
                    Err(e) => return Err(fs::errno_error("inotify", e)),
                };
                self.ino_records(evs);
                Ok(())
            }
        }
    }

    fn full(&mut self) -> bool {
        self.pending.len() >= self.opts.queue_limit.max(1)
    }

    fn fan_records(&mut self, bytes: &[u8]) {
        for rec in crate::parse::fanotify_events(bytes) {
            let Ok(rec) = rec else {
                // A batch that cannot be framed: its events are lost.
                self.overflow();
                return;
            };
            if rec.mask & MaskFlags::FAN_Q_OVERFLOW.bits() != 0 {
                self.overflow();
                return;
            }
            if self.full() {
                self.overflow();
                return;
            }
            let (Some(dir), Some(name)) = (rec.dir.and_then(|h| h.kernfs_id()), rec.name) else {
                continue;
            };
            let obj = rec.object.and_then(|h| h.kernfs_id());
            self.fan_one(rec.mask, dir, name, obj);
            if self.limbo.is_empty() {
                self.strays.clear();
            }
            if self.lost || self.limbo.len() + self.strays.len() > MAX_LIMBO {
                self.overflow();
                return;
            }
        }
    }

    /// One fanotify event on the entry `name` of the directory `dir` (`obj`: the entry's
    /// own id, when the event carries it).
    fn fan_one(&mut self, mask: u64, dir: u64, name: &[u8], obj: Option<u64>) {
        let create = (MaskFlags::FAN_CREATE | MaskFlags::FAN_MOVED_TO).bits();
        let delete = (MaskFlags::FAN_DELETE | MaskFlags::FAN_MOVED_FROM).bits();
        if mask & MaskFlags::FAN_ONDIR.bits() != 0 {
            let known = self.known.contains_key(&dir);
            if mask & delete != 0 {
                if let Some(i) = self
                    .limbo
                    .iter()
                    .position(|(p, n)| *p == dir && &n[..] == name)
                {
                    self.limbo.remove(i);
                    self.out_of_limbo(dir, name, obj);
                } else if known
                    || self.by_name.contains_key(&(dir, Box::from(name)))
                    || self.root_parent.as_ref().is_some_and(|(p, _)| *p == dir)
                {
                    self.on_gone(dir, name);
                } else if !self.limbo.is_empty() {
                    self.strays.push_back((mask, dir, name.into(), obj));
                }
            }
            if mask & create != 0 {
                if known {
                    if !self.on_created(dir, name, obj) {
                        self.limbo.push((dir, name.into()));
                    }
                } else if !self.limbo.is_empty() {
                    self.strays.push_back((mask, dir, name.into(), obj));
                }
            }
        } else if mask & MaskFlags::FAN_MODIFY.bits() != 0
            && name == b"cgroup.events"
            && self.known.contains_key(&dir)
        {
            self.on_events(dir);
        }
    }

    /// A cgroup whose creation was seen but not its id (gone before it was looked at)
    /// is deleted, and the deletion names its id: reports it created, then what
    /// happened below it meanwhile (the events held in `strays` for its directory, in
    /// their order), then removed. A replayed deletion of a child in limbo comes here
    /// again for that child, whose own held events are still in `strays` wherever they
    /// sit (each replayed event is taken out of `strays` alone): any depth works, one
    /// level of recursion a level of nesting (bounded by [`MAX_LIMBO_DEPTH`], past which
    /// the watcher resynchronises).
    fn out_of_limbo(&mut self, parent: u64, name: &[u8], obj: Option<u64>) {
        let Some(path) = self.known.get(&parent).map(|p| join(&p.path, name)) else {
            return;
        };
        let Some(id) = obj else {
            // No id (a kernel without FAN_REPORT_TARGET_FID): events held below it cannot
            // be told from others' and are lost: say so when there are any.
            self.push_raw(EventKind::Created, 0, parent, path.clone(), None);
            self.push_raw(EventKind::Removed, 0, parent, path, None);
            if !self.strays.is_empty() {
                self.lost = true;
            }
            return;
        };
        if self.limbo_depth >= MAX_LIMBO_DEPTH {
            self.lost = true;
            return;
        }
        self.limbo_depth += 1;
        self.insert(id, parent, name, path, true);
        // The known `id` is never held again (only events in unknown directories are),
        // so this ends; nested calls take out only their own directories' events.
        while let Some(i) = self.strays.iter().position(|st| st.1 == id) {
            let Some(st) = self.strays.remove(i) else {
                break;
            };
            self.fan_one(st.0, st.1, &st.2, st.3);
            if self.lost {
                break;
            }
        }
        self.remove(id);
        self.limbo_depth -= 1;
    }

    fn ino_records(&mut self, evs: Vec<nix::sys::inotify::InotifyEvent>) {
        use std::os::unix::ffi::OsStrExt;
        for ev in evs {
            if ev.mask.contains(AddWatchFlags::IN_Q_OVERFLOW) {
                self.overflow();
                return;
            }
            if self.full() {
                self.overflow();
                return;
            }
            let wd = ev.wd;
            if Some(wd) == self.parent_wd {
                // Outside the subtree: only the start's own removal counts.
                let root_name = self.root_parent.as_ref().map(|(_, n)| n.clone());
                let name = ev.name.as_ref().map(|n| n.as_bytes());
                if ev.mask.contains(AddWatchFlags::IN_ISDIR)
                    && name.is_some()
                    && name == root_name.as_deref()
                    && self.known.contains_key(&self.root)
                {
                    self.remove(self.root);
                }
                continue;
            }
            if ev.mask.contains(AddWatchFlags::IN_IGNORED) {
                if let Some(id) = self.wds.remove(&wd) {
                    if id == self.root && self.known.contains_key(&id) {
                        self.remove(id);
                    }
                }
                continue;
            }
            let Some(&dir) = self.wds.get(&wd) else {
                continue;
            };
            let Some(name) = ev.name.as_ref().map(|n| n.as_bytes()) else {
                continue;
            };
            if ev.mask.contains(AddWatchFlags::IN_ISDIR) {
                if ev
                    .mask
                    .intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM)
                {
                    self.on_gone(dir, name);
                }
                if ev
                    .mask
                    .intersects(AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
                {
                    self.on_created(dir, name, None);
                }
            } else if ev.mask.contains(AddWatchFlags::IN_MODIFY) && name == b"cgroup.events" {
                self.on_events(dir);
            }
            if self.lost {
                self.overflow();
                return;
            }
        }
    }

    fn push(&mut self, kind: EventKind, id: u64, identity: Option<Identity>) {
        let (parent, path) = match self.known.get(&id) {
            Some(e) => (e.parent, e.path.clone()),
            None => (0, self.start.clone()),
        };
        self.push_raw(kind, id, parent, path, identity);
    }

    fn push_raw(
        &mut self,
        kind: EventKind,
        id: u64,
        parent_id: u64,
        path: Vec<u8>,
        identity: Option<Identity>,
    ) {
        let (time, monotonic) = now();
        self.pending.push_back(Event {
            kind,
            id,
            parent_id,
            path,
            time,
            monotonic,
            identity,
        });
    }

    /// The directory `name` of the known cgroup `parent` appeared (`obj`: its id when the
    /// event carried it).
    /// `false` when the cgroup is already gone and its id unknown, with fanotify (the
    /// caller holds it until its deletion names the id).
    fn on_created(&mut self, parent: u64, name: &[u8], obj: Option<u64>) -> bool {
        let Some(p) = self.known.get(&parent) else {
            return true;
        };
        let path = join(&p.path, name);
        let id = match obj {
            Some(id) => Some(id),
            None => notify::cgroup_id(self.mount_fd.as_fd(), &path).ok(),
        };
        let key: (u64, Box<[u8]>) = (parent, name.into());
        if let Some(&old) = self.by_name.get(&key) {
            if Some(old) == id {
                return true; // already known (a resync or a scan saw it first)
            }
            self.remove(old);
        }
        let Some(id) = id else {
            if matches!(self.src, Source::Fan(_)) {
                return false;
            }
            // Removed before it could be looked at (inotify): both events, no id; what
            // was made and removed inside it was never seen: an overflow says so.
            self.push_raw(EventKind::Created, 0, parent, path.clone(), None);
            self.push_raw(EventKind::Removed, 0, parent, path, None);
            self.lost = true;
            return true;
        };
        if !self.known.contains_key(&id) {
            self.insert(id, parent, name, path, true);
        }
        true
    }

    /// Adds a cgroup to the known set and reports it; with inotify, watches it and lists
    /// it (children made before the watch existed). `report`: emit events.
    fn insert(&mut self, id: u64, parent: u64, name: &[u8], path: Vec<u8>, report: bool) {
        let wd = self.add_watch(&path);
        if matches!(self.src, Source::Ino(_)) && wd.is_none() {
            // Gone (or past the watch limit) before its watch: nothing inside it is seen.
            self.lost = true;
        }
        let populated = self.read_populated(&path);
        if report && self.opts.identify && populated == Some(true) {
            self.to_identify.push_back(id);
        }
        let identity = None;
        self.by_name.insert((parent, name.into()), id);
        if let Some(wd) = wd {
            self.wds.insert(wd, id);
        }
        self.known.insert(
            id,
            Entry {
                parent,
                name: name.into(),
                path: path.clone(),
                populated,
                identity: identity.clone(),
                wd,
            },
        );
        if report {
            self.push(EventKind::Created, id, identity);
            if populated == Some(true) {
                self.push(EventKind::Populated, id, None);
            }
        }
        if wd.is_some() {
            // Children made before the watch: list them now.
            let mut buf = std::mem::take(&mut self.dirbuf);
            let subs = self.list(&path, &mut buf);
            self.dirbuf = buf;
            for sub in subs {
                self.on_created(id, &sub, None);
            }
        }
    }

    fn on_gone(&mut self, parent: u64, name: &[u8]) {
        if let Some(id) = self.by_name.get(&(parent, Box::from(name))).copied() {
            self.remove(id);
        } else if self
            .root_parent
            .as_ref()
            .is_some_and(|(p, n)| *p == parent && &n[..] == name)
            && self.known.contains_key(&self.root)
        {
            self.remove(self.root);
        }
    }

    /// Reports a cgroup and what is still known below it removed (deepest first).
    fn remove(&mut self, id: u64) {
        let kids: Vec<u64> = self
            .by_name
            .range((id, Box::<[u8]>::default())..)
            .take_while(|((p, _), _)| *p == id)
            .map(|(_, k)| *k)
            .filter(|k| *k != id)
            .collect();
        for k in kids {
            self.remove(k);
        }
        let Some(e) = self.known.get(&id) else {
            return;
        };
        let identity = e.identity.clone();
        self.push(EventKind::Removed, id, identity);
        if let Some(e) = self.known.remove(&id) {
            self.by_name.remove(&(e.parent, e.name));
            if let (Some(wd), Source::Ino(ino)) = (e.wd, &self.src) {
                self.wds.remove(&wd);
                // Already gone with its directory, most of the time.
                let _ = ino.rm_watch(wd);
            }
        }
        if id == self.root {
            self.ended = true;
        }
    }

    /// `cgroup.events` of a known cgroup changed.
    fn on_events(&mut self, id: u64) {
        let Some(path) = self.known.get(&id).map(|e| e.path.clone()) else {
            return;
        };
        let now = self.read_populated(&path);
        let before = self.known.get(&id).and_then(|e| e.populated);
        self.populated_changed(id, before, now);
    }

    fn populated_changed(&mut self, id: u64, before: Option<bool>, now: Option<bool>) {
        let Some(now) = now else { return };
        if before == Some(now) {
            return;
        }
        if before.is_none() && !now {
            if let Some(e) = self.known.get_mut(&id) {
                e.populated = Some(now);
            }
            return;
        }
        if let Some(e) = self.known.get_mut(&id) {
            e.populated = Some(now);
        }
        let identity = self.known.get(&id).and_then(|e| e.identity.clone());
        self.push(
            if now {
                EventKind::Populated
            } else {
                EventKind::Emptied
            },
            id,
            identity.clone(),
        );
        if now && self.opts.identify && !self.to_identify.contains(&id) {
            self.to_identify.push_back(id);
        }
    }

    /// Reports the loss, drops what the kernel still holds, and walks again.
    fn overflow(&mut self) {
        self.push(EventKind::Overflow, 0, None);
        // Drop the kernel's backlog (bounded: a churn that never stops cannot hold the
        // watcher here); whatever comes after the walk below is checked against it.
        for _ in 0..256 {
            let got = match &self.src {
                Source::Fan(f) => notify::read_queued(f.as_fd(), &mut self.buf).unwrap_or(0),
                Source::Ino(ino) => ino.read_events().map(|v| v.len()).unwrap_or(0),
            };
            if got == 0 {
                break;
            }
        }
        self.resync(true);
    }

    /// Walks the subtree and brings the known set in line with it; `report`: emit the
    /// differences as events.
    fn resync(&mut self, report: bool) {
        self.limbo.clear();
        self.strays.clear();
        self.lost = false;
        // (path, parent id, name, id), parents before children.
        let mut found: Vec<Found> = Vec::new();
        let mut queue: VecDeque<(Vec<u8>, u64)> = VecDeque::new();
        if notify::cgroup_id(self.mount_fd.as_fd(), &self.start) != Ok(self.root) {
            if report && self.known.contains_key(&self.root) {
                self.remove(self.root);
            }
            self.ended = true;
            return;
        }
        queue.push_back((self.start.clone(), self.root));
        let mut watched: HashMap<u64, WatchDescriptor> = HashMap::new();
        let mut buf = std::mem::take(&mut self.dirbuf);
        while let Some((path, id)) = queue.pop_front() {
            if !self.known.contains_key(&id) {
                // Watch before listing (a child made meanwhile is then an event).
                if let Some(wd) = self.add_watch(&path) {
                    self.wds.insert(wd, id);
                    watched.insert(id, wd);
                }
            }
            for name in self.list(&path, &mut buf) {
                let p = join(&path, &name);
                if let Ok(cid) = notify::cgroup_id(self.mount_fd.as_fd(), &p) {
                    found.push((p.clone(), id, name, cid));
                    queue.push_back((p, cid));
                }
            }
        }
        self.dirbuf = buf;
        let live: HashMap<u64, usize> = found.iter().enumerate().map(|(i, f)| (f.3, i)).collect();
        // Gone (or moved: reported as removed, then created at its new path).
        let mut gone: Vec<(usize, u64)> = self
            .known
            .iter()
            .filter(|(id, e)| {
                **id != self.root && live.get(id).is_none_or(|&i| found[i].0 != e.path)
            })
            .map(|(id, e)| (e.path.len(), *id))
            .collect();
        gone.sort_unstable_by(|a, b| b.cmp(a));
        for (_, id) in gone {
            if report {
                self.remove(id);
            } else if let Some(e) = self.known.remove(&id) {
                self.by_name.remove(&(e.parent, e.name));
            }
        }
        for (path, parent, name, id) in found {
            if let Some(e) = self.known.get(&id) {
                let before = e.populated;
                if report {
                    let now = self.read_populated(&path);
                    self.populated_changed(id, before, now);
                }
                continue;
            }
            // Parent-first order: the parent is known by now.
            if self.known.contains_key(&parent) {
                let wd = watched.get(&id).copied();
                self.insert_found(id, parent, &name, path, wd, report);
            }
        }
        if report {
            let root_path = self.start.clone();
            let before = self.known.get(&self.root).and_then(|e| e.populated);
            let now = self.read_populated(&root_path);
            self.populated_changed(self.root, before, now);
        }
    }

    /// [`Watcher::insert`] for a cgroup found by a walk (its children come from the walk,
    /// not from a listing).
    fn insert_found(
        &mut self,
        id: u64,
        parent: u64,
        name: &[u8],
        path: Vec<u8>,
        wd: Option<WatchDescriptor>,
        report: bool,
    ) {
        let populated = self.read_populated(&path);
        if report && self.opts.identify && populated == Some(true) {
            self.to_identify.push_back(id);
        }
        let identity = None;
        self.by_name.insert((parent, name.into()), id);
        self.known.insert(
            id,
            Entry {
                parent,
                name: name.into(),
                path,
                populated,
                identity: identity.clone(),
                wd,
            },
        );
        if report {
            self.push(EventKind::Created, id, identity);
            if populated == Some(true) {
                self.push(EventKind::Populated, id, None);
            }
        }
    }

    fn add_watch(&self, path: &[u8]) -> Option<WatchDescriptor> {
        match &self.src {
            Source::Ino(ino) => notify::inotify_watch(ino, self.mount_fd.as_fd(), path).ok(),
            Source::Fan(_) => None,
        }
    }

    fn list(&self, path: &[u8], buf: &mut Vec<u8>) -> Vec<Box<[u8]>> {
        let rel = path.strip_prefix(b"/").unwrap_or(path);
        let fd = if rel.is_empty() {
            nix::unistd::dup(self.mount_fd.as_fd()).ok()
        } else {
            std::ffi::CString::new(rel)
                .ok()
                .and_then(|c| fs::open_dir(self.mount_fd.as_fd(), &c).ok())
        };
        fd.and_then(|fd| fs::subdirs(fd.as_fd(), buf).ok())
            .unwrap_or_default()
    }

    fn read_populated(&mut self, path: &[u8]) -> Option<bool> {
        let rel = path.strip_prefix(b"/").unwrap_or(path);
        let name = if rel.is_empty() {
            b"cgroup.events".to_vec()
        } else {
            join(rel, b"cgroup.events")
        };
        let c = std::ffi::CString::new(name).ok()?;
        let bytes = fs::read_kernel_file(self.mount_fd.as_fd(), &c, &mut self.scratch).ok()?;
        crate::parse::cgroup_events(bytes).ok()?.populated
    }

    /// What the cgroup at `path` is, as the tree says (`None` when it is gone, its path
    /// is not UTF-8, or nothing is recognised).
    fn identify(&self, path: &[u8]) -> Option<Identity> {
        let start = std::str::from_utf8(path).ok()?;
        let mut b = TreeBuilder::new();
        b.host_root(self.host.root())
            .start(start)
            .max_depth(Some(0))
            .include_empty(true)
            .identify(true);
        let tree = b.build_at(self.mount.clone()).ok()?;
        tree.root().identity.clone()
    }

    /// Identities of the whole subtree, from one tree walk (at start).
    fn identify_all(&mut self, start: &str) {
        let mut b = TreeBuilder::new();
        b.host_root(self.host.root())
            .start(start)
            .include_empty(true)
            .identify(true);
        let Ok(tree) = b.build_at(self.mount.clone()) else {
            return;
        };
        let by_path: HashMap<Vec<u8>, u64> = self
            .known
            .iter()
            .map(|(id, e)| (e.path.clone(), *id))
            .collect();
        for (i, n) in tree.nodes().iter().enumerate() {
            if let Some(id) = by_path.get(&tree.path(i)) {
                if let Some(e) = self.known.get_mut(id) {
                    e.identity = n.identity.clone();
                }
            }
        }
    }
}

impl AsFd for Watcher {
    /// The notification descriptor (fanotify or inotify), to poll with others; readable
    /// when [`Watcher::next_event`] has kernel events to read.
    fn as_fd(&self) -> BorrowedFd<'_> {
        match &self.src {
            Source::Fan(f) => f.as_fd(),
            Source::Ino(i) => i.as_fd(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        let t = |s: u64, us: u32| rfc3339(SystemTime::UNIX_EPOCH + Duration::new(s, us * 1000));
        assert_eq!(t(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(t(951_782_400, 5), "2000-02-29T00:00:00.000005Z");
        assert_eq!(t(1_796_095_171, 123_456), "2026-12-01T03:19:31.123456Z");
        assert_eq!(t(4_107_542_399, 999_999), "2100-02-28T23:59:59.999999Z");
    }

    #[test]
    fn join_paths() {
        assert_eq!(join(b"/", b"a"), b"/a");
        assert_eq!(join(b"/a", b"b"), b"/a/b");
    }
}
