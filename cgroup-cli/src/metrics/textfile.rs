//! `cgtree metrics --textfile DIR`: `DIR/cgtree.prom` for node-exporter's textfile
//! collector, replaced atomically ([`cgroup_core::out::replace_file`]: a temporary
//! file in DIR, synced, renamed over it; mode 0644), once or every `--interval` until
//! SIGINT, SIGTERM or SIGHUP. Before each write, the temporary files a killed writer
//! left in DIR are removed ([`cgroup_core::out::replace_file`]).

use super::format::Format;
use super::Exporter;
use crate::term::Diag;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The file name node-exporter reads (`*.prom`).
pub const FILE_NAME: &std::ffi::CStr = c"cgtree.prom";

/// Writes `bytes` as `dir/cgtree.prom`, atomically, after removing the temporary files
/// of writers that were killed before their rename (`.cgtree.prom.<pid>.<n>` of a PID no
/// process has, or of this process's own PID: a restarted container's cgtree may have
/// its dead predecessor's).
///
/// # Errors
/// `dir` cannot be opened (a symlink in it owned by another user is refused), or the
/// file cannot be written or renamed: the message names the path.
pub fn write(dir: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let shown = || crate::sanitize::path(dir).into_owned();
    use cgroup_core::out::ReplaceError;
    let desc =
        |e: &std::io::Error| nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(0)).desc();
    cgroup_core::out::replace_file(dir, FILE_NAME, bytes).map_err(|e| match e {
        ReplaceError::Dir(e) => anyhow::anyhow!("{}: {}", shown(), desc(&e)),
        ReplaceError::ForeignSymlink => {
            anyhow::anyhow!("{}: a symlink owned by another user is on the way", shown())
        }
        ReplaceError::File(e) => anyhow::anyhow!("{}/cgtree.prom: {}", shown(), desc(&e)),
        e => anyhow::anyhow!("{}: {e}", shown()),
    })
}

/// One round: collect, write, report what could not be read. The exit status of the
/// round: 0, 1 (written, some files could not be read), 2 (nothing written).
fn round(exporter: &mut Exporter, dir: &Path, format: Format, diag: &mut Diag) -> u8 {
    let scrape = match exporter.collect() {
        Ok(s) => s,
        Err(e) => {
            diag.error(format_args!("{e:#}"));
            return crate::FATAL;
        }
    };
    if let Err(e) = write(dir, &scrape.encode(format)) {
        diag.error(format_args!("{e:#}"));
        return crate::FATAL;
    }
    if crate::report(scrape.errors(), diag) {
        crate::PARTIAL
    } else {
        crate::OK
    }
}

/// Writes the file once (`interval` `None`), or every `interval` until SIGINT, SIGTERM or
/// SIGHUP (then status 0; a failed round is reported on stderr and the next one runs).
///
/// # Errors
/// The signal handlers cannot be installed.
pub fn run(
    exporter: &mut Exporter,
    dir: &Path,
    format: Format,
    interval: Option<Duration>,
    diag: &mut Diag,
) -> anyhow::Result<u8> {
    let Some(interval) = interval else {
        return Ok(round(exporter, dir, format, diag));
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    while !stop.load(Ordering::Relaxed) {
        let next = Instant::now() + interval;
        round(exporter, dir, format, diag);
        // Wake often enough to end soon after a signal.
        while !stop.load(Ordering::Relaxed) {
            let now = Instant::now();
            if now >= next {
                break;
            }
            std::thread::sleep((next - now).min(Duration::from_millis(50)));
        }
    }
    Ok(crate::OK)
}
