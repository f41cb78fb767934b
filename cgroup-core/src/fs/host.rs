//! A host rooted at a directory: `/` for the live host, a fixture or snapshot directory
//! otherwise.

use super::{errno_error, open_dir_path, read_file, Scratch};
use crate::error::Error;
use crate::parse;
use nix::errno::Errno;
use std::ffi::OsStr;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Where the cgroup2 hierarchy was found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MountSource {
    /// From `proc/self/mountinfo`, at `line`.
    Mountinfo {
        /// Line of the mount in mountinfo.
        line: u32,
    },
    /// No mountinfo under the root (a fixture): the default `sys/fs/cgroup` was used.
    Default,
}

/// The cgroup2 mount of a host.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CgroupMount {
    /// Mount point as the host sees it (`/sys/fs/cgroup`, `/sys/fs/cgroup/unified`).
    pub mount_point: PathBuf,
    /// The same directory under the host root (equal to `mount_point` on the live host).
    pub dir: PathBuf,
    /// The cgroup that is the root of this mount (`/` unless inside a cgroup namespace or
    /// a bind mount).
    pub fs_root: Vec<u8>,
    /// The superblock options (`rw`, `nsdelegate`, `memory_recursiveprot`, ...).
    pub options: Vec<String>,
    /// How it was found.
    pub source: MountSource,
}

impl CgroupMount {
    /// Whether the mount has the `nsdelegate` option.
    pub fn nsdelegate(&self) -> bool {
        self.options.iter().any(|o| o == "nsdelegate")
    }
}

/// A host rooted at a directory. All paths the library reads (cgroupfs, procfs, runtime
/// state) are taken relative to this root, so a fixture works like a live host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    root: PathBuf,
}

impl Default for Host {
    fn default() -> Self {
        Host::new()
    }
}

/// `proc/self/mountinfo`, relative to the host root.
pub const MOUNTINFO: &str = "proc/self/mountinfo";
/// The default cgroup2 mount point, relative to the host root.
pub const DEFAULT_CGROUP_DIR: &str = "sys/fs/cgroup";

impl Host {
    /// The live host (`/`).
    pub fn new() -> Self {
        Host {
            root: PathBuf::from("/"),
        }
    }

    /// A host rooted at `root` (a fixture or snapshot directory).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        Host { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Whether this is the live host (root `/`): then cgroupfs is checked with statfs.
    pub fn is_live(&self) -> bool {
        self.root == Path::new("/")
    }

    /// `rel` (absolute as the host sees it, or relative) under the root.
    pub fn path(&self, rel: impl AsRef<Path>) -> PathBuf {
        let rel = rel.as_ref();
        let rel = rel.strip_prefix("/").unwrap_or(rel);
        self.root.join(rel)
    }

    /// The `proc` directory under the root.
    pub fn proc_dir(&self) -> PathBuf {
        self.path("proc")
    }

    /// Opens the directory `dir` (a path under the root, as [`Host::path`] gives). On the
    /// live host, by path. Under a `--root` (an untrusted snapshot), relative to the
    /// root's descriptor: never leaving the root (`RESOLVE_BENEATH`: no `..` above it, no
    /// absolute symlink) and following no symlink at the last component, so a snapshot's
    /// `proc -> /proc` or a mountinfo naming `/../..` cannot make cgtree read the live
    /// host. A `dir` outside the root (given by the caller) is opened by path.
    ///
    /// # Errors
    /// The errno of the open (crate-private: it returns nix's `Errno`).
    pub(crate) fn open_dir(&self, dir: &Path) -> Result<OwnedFd, Errno> {
        if self.is_live() {
            return open_dir_path(dir);
        }
        let Ok(rel) = dir.strip_prefix(&self.root) else {
            return open_dir_path(dir);
        };
        let root = open_dir_path(&self.root)?;
        if rel.as_os_str().is_empty() {
            return Ok(root);
        }
        let rel = std::ffi::CString::new(rel.as_os_str().as_bytes()).map_err(|_| Errno::EINVAL)?;
        super::open_dir(root.as_fd(), &rel)
    }

    /// The names of the cgroups directly below `rel` in `mount` (`rel` relative to the
    /// mount, with or without a leading `/`; empty for its root), sorted bytewise: one
    /// directory listing (`getdents64`), opened as
    /// the walk opens (under a `--root`, never leaving it). A `rel` with a `..`
    /// component lists nothing. Names are raw bytes (a cgroup's name is any bytes but
    /// `/` and NUL): sanitize before a terminal or a shell.
    ///
    /// # Errors
    /// [`Error::Io`] naming the directory when it cannot be opened or read.
    pub fn child_cgroups(&self, mount: &CgroupMount, rel: &Path) -> Result<Vec<Box<[u8]>>, Error> {
        use std::path::Component;
        if rel
            .components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::RootDir))
        {
            return Ok(Vec::new());
        }
        let dir = mount.dir.join(rel.strip_prefix("/").unwrap_or(rel));
        let fd = self.open_dir(&dir).map_err(|e| errno_error(&dir, e))?;
        let mut buf = Vec::new();
        let mut names = super::subdirs(fd.as_fd(), &mut buf).map_err(|e| errno_error(&dir, e))?;
        names.sort();
        Ok(names)
    }

    /// Finds the cgroup2 mount: from `proc/self/mountinfo` when it exists (a hybrid host
    /// has it at `/sys/fs/cgroup/unified`), else the default `sys/fs/cgroup` of a fixture.
    ///
    /// With several cgroup2 mounts, `/sys/fs/cgroup` wins, then the mount of the
    /// hierarchy's root (`/`) with the shortest mount point.
    ///
    /// Under a root other than `/` (a fixture, a snapshot, a directory given by mistake),
    /// the mount's directory must hold a `cgroup.procs` regular file, as every cgroup2
    /// directory does; the live host's mount is checked with `fstatfs` by the walk.
    ///
    /// # Errors
    ///
    /// [`Error::NoCgroup2Mount`]: mountinfo lists no cgroup2 mount (or, without
    /// mountinfo, there is no `sys/fs/cgroup`); [`Error::NoCgroupProcs`]: the mount's
    /// directory under the root has no `cgroup.procs`; [`Error::Parse`]: mountinfo does
    /// not parse; [`Error::Io`]: mountinfo or the directory cannot be read.
    pub fn find_cgroup2(&self) -> Result<CgroupMount, Error> {
        let mount = self.find_cgroup2_mount()?;
        if !self.is_live() {
            self.check_hierarchy(&mount.dir)?;
        }
        Ok(mount)
    }

    /// Checks that `dir` (under the root) holds a `cgroup.procs` regular file. Errors:
    /// [`Error::NoCgroupProcs`] when it does not (or `dir` does not exist),
    /// [`Error::Io`] when it cannot be looked at.
    fn check_hierarchy(&self, dir: &Path) -> Result<(), Error> {
        let fd = match self.open_dir(dir) {
            Ok(fd) => fd,
            Err(Errno::ENOENT | Errno::ENOTDIR) => {
                return Err(Error::NoCgroupProcs {
                    path: dir.to_path_buf(),
                })
            }
            Err(e) => return Err(errno_error(dir, e)),
        };
        match super::regular_file_exists(fd.as_fd(), c"cgroup.procs") {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::NoCgroupProcs {
                path: dir.to_path_buf(),
            }),
            Err(e) => Err(errno_error(dir.join("cgroup.procs"), e)),
        }
    }

    /// [`Host::find_cgroup2`] without the check of the directory.
    fn find_cgroup2_mount(&self) -> Result<CgroupMount, Error> {
        let root_fd = open_dir_path(&self.root).map_err(|e| errno_error(&self.root, e))?;
        let mut scratch = Scratch::new();
        let bytes = match read_file(root_fd.as_fd(), c"proc/self/mountinfo", &mut scratch) {
            Ok(b) => b,
            Err(Errno::ENOENT) if !self.is_live() => {
                let dir = self.path(DEFAULT_CGROUP_DIR);
                return if dir.is_dir() {
                    Ok(CgroupMount {
                        mount_point: PathBuf::from("/sys/fs/cgroup"),
                        dir,
                        fs_root: b"/".to_vec(),
                        options: Vec::new(),
                        source: MountSource::Default,
                    })
                } else {
                    Err(Error::NoCgroup2Mount {
                        mountinfo: self.path(MOUNTINFO),
                        v1: false,
                    })
                };
            }
            Err(e) => return Err(errno_error(self.path(MOUNTINFO), e)),
        };
        let mut best: Option<(u32, parse::MountInfoEntry<'_>)> = None;
        let mut v1 = false;
        for entry in parse::mountinfo(bytes) {
            // A bad line is skipped: the mount we look for may still be listed.
            let Ok(e) = entry else { continue };
            if e.is_cgroup1() {
                v1 = true;
            }
            if !e.is_cgroup2() {
                continue;
            }
            let rank = if e.mount_point == b"/sys/fs/cgroup" {
                0
            } else if e.root == b"/" {
                1
            } else {
                2
            };
            let better = match &best {
                None => true,
                Some((r, b)) => {
                    rank < *r || (rank == *r && e.mount_point.len() < b.mount_point.len())
                }
            };
            if better {
                best = Some((rank, e));
            }
        }
        let Some((_, e)) = best else {
            return Err(Error::NoCgroup2Mount {
                mountinfo: self.path(MOUNTINFO),
                v1,
            });
        };
        let mount_point = PathBuf::from(OsStr::from_bytes(&parse::unescape_mount_path(
            e.mount_point,
        )));
        Ok(CgroupMount {
            dir: self.path(&mount_point),
            mount_point,
            fs_root: parse::unescape_mount_path(e.root).into_owned(),
            options: e
                .super_options
                .iter()
                .map(|o| String::from_utf8_lossy(o).into_owned())
                .collect(),
            source: MountSource::Mountinfo { line: e.line },
        })
    }
}

impl Host {
    /// The `hidepid` option of the `/proc` mount (`hidepid=2`, `hidepid=invisible`, ...),
    /// when it hides processes (not `0`/`off`); from `proc/self/mountinfo` (the last
    /// mount on `/proc` wins, as it is the one seen). `None` when not set or unknown.
    pub fn proc_hidepid(&self) -> Option<String> {
        let root_fd = open_dir_path(&self.root).ok()?;
        let mut scratch = Scratch::new();
        let bytes = read_file(root_fd.as_fd(), c"proc/self/mountinfo", &mut scratch).ok()?;
        let mut found = None;
        for e in parse::mountinfo(bytes).flatten() {
            if e.mount_point != b"/proc" || e.fs_type != b"proc" {
                continue;
            }
            found = e
                .super_options
                .iter()
                .chain(e.mount_options.iter())
                .find(|o| o.starts_with(b"hidepid="))
                .filter(|o| !matches!(&o[8..], b"0" | b"off"))
                .map(|o| String::from_utf8_lossy(&o[..o.len().min(32)]).into_owned());
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_joins_absolute_under_root() {
        let h = Host::with_root("/tmp/fx");
        assert_eq!(
            h.path("/sys/fs/cgroup"),
            PathBuf::from("/tmp/fx/sys/fs/cgroup")
        );
        assert_eq!(h.path("proc"), PathBuf::from("/tmp/fx/proc"));
        assert!(!h.is_live());
        assert!(Host::new().is_live());
    }

    fn fixture(files: &[(&str, &str)]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for (p, c) in files {
            let p = d.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, c).unwrap();
        }
        d
    }

    #[test]
    fn find_cgroup2_prefers_sys_fs_cgroup_and_reads_options() {
        let d = fixture(&[
            ("proc/self/mountinfo", "1 0 0:1 / / rw - ext4 /dev/x rw\n2 1 0:2 / /mnt/other rw - cgroup2 cgroup2 rw\n3 1 0:2 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n"),
            ("sys/fs/cgroup/cgroup.procs", ""),
        ]);
        let m = Host::with_root(d.path()).find_cgroup2().unwrap();
        assert_eq!(m.mount_point, PathBuf::from("/sys/fs/cgroup"));
        assert_eq!(m.dir, d.path().join("sys/fs/cgroup"));
        assert!(m.nsdelegate());
        assert_eq!(m.source, MountSource::Mountinfo { line: 3 });
    }

    #[test]
    fn find_cgroup2_on_hybrid_and_v1_only_hosts() {
        let d = fixture(&[("proc/self/mountinfo", "1 0 0:1 / / rw - ext4 /dev/x rw\n2 1 0:3 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\nbroken line\n3 1 0:4 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"), ("sys/fs/cgroup/unified/cgroup.procs", "")]);
        let m = Host::with_root(d.path()).find_cgroup2().unwrap();
        assert_eq!(m.mount_point, PathBuf::from("/sys/fs/cgroup/unified"));
        assert!(!m.nsdelegate());

        let d = fixture(&[("proc/self/mountinfo", "1 0 0:1 / / rw - ext4 /dev/x rw\n2 1 0:3 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")]);
        let e = Host::with_root(d.path()).find_cgroup2().unwrap_err();
        assert!(matches!(e, Error::NoCgroup2Mount { v1: true, .. }), "{e:?}");
        assert!(e.to_string().contains("only cgroup v1"), "{e}");
    }

    #[test]
    fn find_cgroup2_defaults_without_mountinfo() {
        let d = fixture(&[("sys/fs/cgroup/cgroup.procs", "")]);
        let m = Host::with_root(d.path()).find_cgroup2().unwrap();
        assert_eq!(m.source, MountSource::Default);
        let d = fixture(&[("etc/hostname", "x")]);
        assert!(matches!(
            Host::with_root(d.path()).find_cgroup2(),
            Err(Error::NoCgroup2Mount { v1: false, .. })
        ));
    }

    #[test]
    fn open_dir_stays_under_a_snapshot_root() {
        let d = fixture(&[("root/sys/fs/cgroup/cgroup.procs", "")]);
        std::os::unix::fs::symlink("/proc", d.path().join("root/proc")).unwrap();
        let h = Host::with_root(d.path().join("root"));
        assert!(h.open_dir(&h.path("sys/fs/cgroup")).is_ok());
        assert!(
            h.open_dir(&h.proc_dir()).is_err(),
            "proc -> /proc is not followed"
        );
        assert!(h.open_dir(&h.path("sys/../../..")).is_err());
        assert!(Host::new().open_dir(&Host::new().proc_dir()).is_ok());
    }

    #[test]
    fn proc_hidepid_from_mountinfo() {
        let d = fixture(&[(
            "proc/self/mountinfo",
            "1 0 0:1 / / rw - ext4 /dev/x rw\n22 1 0:5 / /proc rw,nosuid - proc proc rw,hidepid=invisible\n",
        )]);
        assert_eq!(
            Host::with_root(d.path()).proc_hidepid().as_deref(),
            Some("hidepid=invisible")
        );
        let d = fixture(&[(
            "proc/self/mountinfo",
            "22 1 0:5 / /proc rw - proc proc rw,hidepid=2\n23 1 0:6 / /proc rw - proc proc rw\n",
        )]);
        assert_eq!(
            Host::with_root(d.path()).proc_hidepid(),
            None,
            "the last mount is seen"
        );
        let d = fixture(&[(
            "proc/self/mountinfo",
            "22 1 0:5 / /proc rw - proc proc rw,hidepid=0\n",
        )]);
        assert_eq!(Host::with_root(d.path()).proc_hidepid(), None);
    }

    #[test]
    fn find_cgroup2_unescapes_mount_point() {
        let d = fixture(&[
            (
                "proc/self/mountinfo",
                "3 1 0:4 / /mnt/cg\\040two rw - cgroup2 none rw\n",
            ),
            ("mnt/cg two/cgroup.procs", ""),
        ]);
        let m = Host::with_root(d.path()).find_cgroup2().unwrap();
        assert_eq!(m.mount_point, PathBuf::from("/mnt/cg two"));
    }

    /// A directory where the cgroup2 mount should be but without `cgroup.procs` (an
    /// empty directory, a v1 hierarchy) is refused, naming the directory; with and
    /// without mountinfo.
    #[test]
    fn find_cgroup2_refuses_a_mount_without_cgroup_procs() {
        let d = fixture(&[("sys/fs/cgroup/cgroup.controllers", "")]);
        let e = Host::with_root(d.path()).find_cgroup2().unwrap_err();
        assert!(
            matches!(&e, Error::NoCgroupProcs { path } if *path == d.path().join("sys/fs/cgroup")),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "{}/sys/fs/cgroup is not a cgroup2 hierarchy: it has no cgroup.procs",
                d.path().display()
            )
        );
        // Mountinfo names /sys/fs/cgroup/unified; cgroup.procs only at the top is not it.
        let d = fixture(&[
            (
                "proc/self/mountinfo",
                "3 1 0:4 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
            ),
            ("sys/fs/cgroup/cgroup.procs", ""),
        ]);
        let e = Host::with_root(d.path()).find_cgroup2().unwrap_err();
        assert!(
            matches!(&e, Error::NoCgroupProcs { path } if *path == d.path().join("sys/fs/cgroup/unified")),
            "{e:?}"
        );
        // A directory (or a symlink) named cgroup.procs is not the file.
        let d = fixture(&[("sys/fs/cgroup/cgroup.procs/x", "")]);
        assert!(matches!(
            Host::with_root(d.path()).find_cgroup2(),
            Err(Error::NoCgroupProcs { .. })
        ));
        let d = fixture(&[("etc/passwd", "")]);
        std::fs::create_dir_all(d.path().join("sys/fs/cgroup")).unwrap();
        std::os::unix::fs::symlink(
            "/sys/fs/cgroup/unified/cgroup.procs",
            d.path().join("sys/fs/cgroup/cgroup.procs"),
        )
        .unwrap();
        assert!(matches!(
            Host::with_root(d.path()).find_cgroup2(),
            Err(Error::NoCgroupProcs { .. })
        ));
    }
}
