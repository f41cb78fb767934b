//! `cgtree watch` lines: text (one line an event, escaped by [`crate::term::Term`]) or
//! JSON Lines (docs/json.md, "watch --jsonl").

use cgroup_core::watch::{rfc3339, Event};
use std::io::{self, Write};

/// Writes `ev` as one text line: time, event, path, `id=` and, when known, what the
/// cgroup is (`2026-12-01T03:19:31.123456Z created    /a/b id=1234 podman container web`).
pub fn line(ev: &Event, out: &mut dyn Write) -> io::Result<()> {
    let what = ev
        .identity
        .as_ref()
        .and_then(super::identity::identity_text)
        .map(|t| format!(" {t}"))
        .unwrap_or_default();
    // The path may hold any bytes, a line feed too: escaped here, not only by the Term.
    writeln!(
        out,
        "{} {:<10} {} id={}{what}",
        rfc3339(ev.time),
        ev.kind.as_str(),
        crate::sanitize::sanitize(&ev.path),
        ev.id
    )
}

/// Writes `ev` as one compact JSON object and a line feed, through
/// [`crate::term::JsonSafe`].
pub fn jsonl(ev: &Event, out: &mut dyn Write) -> io::Result<()> {
    let mut w = crate::term::JsonSafe::new(out);
    serde_json::to_writer(&mut w, ev).map_err(io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}
