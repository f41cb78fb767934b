//! `cgtree top -b` (text blocks, like `systemd-cgtop -b`) and `cgtree top --json` (one
//! JSON object per line).
//!
//! A block: a header line (start cgroup, time, interval, order), a column header, then
//! one line per cgroup, the tree indented and siblings sorted, and an empty line. The
//! name column comes first, as wide as the widest name and identity, cut when the width
//! (terminal or `$COLUMNS`) is known; number columns that do not fit are left out.

use super::view::{columns_for, fit, label, sorted, width_of, View, GAP};
use super::{Frame, Order, Usage};
use crate::term::{Paint, Sgr};
use std::io::{self, Write};

/// Writes one block for `frame`, siblings sorted by `order`, cut to `width` (`None`: no
/// cut). Errors: the writer's.
pub fn write_block(
    frame: &Frame,
    order: Order,
    width: Option<usize>,
    out: &mut dyn Paint,
) -> io::Result<()> {
    out.paint(Sgr::Bold, &super::ui::header(frame, &View::new(order)))?;
    out.write_all(b"\n")?;
    let cols = columns_for(width, super::ui::MIN_NAME);
    let nums: usize = cols.iter().map(|c| c.width() + GAP).sum();
    let order_rows = sorted(frame, order);
    let cells: Vec<(usize, String, Option<String>)> = order_rows
        .iter()
        .map(|&i| {
            let r = &frame.rows[i];
            let (name, ident) = label(r);
            (2 * r.depth as usize, name, ident)
        })
        .collect();
    let widest = cells
        .iter()
        .map(|(d, n, i)| d + width_of(n) + i.as_ref().map_or(0, |i| width_of(i) + 1))
        .max()
        .unwrap_or(0)
        .max("CGROUP".len());
    let name_w = match width {
        Some(w) => widest.min(w.saturating_sub(nums)).max(1),
        None => widest,
    };
    let mut head = format!("{:<name_w$}", "CGROUP");
    for c in &cols {
        head.push_str(&format!(" {:>w$}", c.header(), w = c.width()));
    }
    out.write_all(head.trim_end().as_bytes())?;
    out.write_all(b"\n")?;
    for (&i, (depth, name, ident)) in order_rows.iter().zip(&cells) {
        // Indentation takes at most half the name column (and none without a width).
        let indent = match width {
            Some(_) => (*depth).min(name_w / 2),
            None => *depth,
        };
        let (name, ident) = fit(name, ident.as_deref(), name_w - indent);
        out.write_all(" ".repeat(indent).as_bytes())?;
        out.paint(Sgr::Bold, &name)?;
        if !ident.is_empty() {
            out.paint(Sgr::Cyan, &ident)?;
        }
        let used = indent + width_of(&name) + width_of(&ident);
        let mut line = " ".repeat(name_w.saturating_sub(used));
        for c in &cols {
            line.push_str(&format!(" {:>w$}", c.cell(&frame.rows[i]), w = c.width()));
        }
        out.write_all(line.trim_end().as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

fn usage_json(u: &Usage) -> serde_json::Value {
    serde_json::json!({
        "cpu_cores": u.cpu_cores,
        "throttled_ratio": u.throttled_ratio,
        "memory_working_set_bytes": u.mem_working_set,
        "memory_current_bytes": u.mem_current,
        "memory_max_bytes": u.mem_limit,
        "oom_kills": u.oom_kills,
        "tasks": u.tasks,
        "io_read_bytes_per_second": u.io_read_bps,
        "io_write_bytes_per_second": u.io_write_bps,
        "psi_cpu_some_ratio": u.psi_cpu_some,
        "psi_memory_some_ratio": u.psi_mem_some,
        "psi_memory_full_ratio": u.psi_mem_full,
        "psi_io_some_ratio": u.psi_io_some,
        "psi_io_full_ratio": u.psi_io_full,
    })
}

/// The JSON object of one row: its path (a string, or `{"bytes": base64}` when not
/// UTF-8, as docs/json.md), identity label, usage (`null` numbers: unknown) and errors.
pub fn row_json(r: &super::TopRow) -> serde_json::Value {
    serde_json::json!({
        "path": cgroup_core::tree::Bytes(&r.path),
        "identity": r.identity,
        "usage": usage_json(&r.usage),
        "errors": r.errors,
    })
}

/// The JSON object of a frame when the sampler made none: the time (Unix seconds), the
/// interval, and per cgroup (pre-order) its path (a string, or `{"bytes": base64}` when
/// not UTF-8, as docs/json.md), identity, usage (`null` numbers: unknown) and errors.
pub fn json_value(frame: &Frame) -> serde_json::Value {
    let time = frame
        .time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let rows: Vec<serde_json::Value> = frame.rows.iter().map(row_json).collect();
    serde_json::json!({
        "time": time,
        "interval_seconds": frame.interval.map(|i| i.as_secs_f64()),
        "cgroups": rows,
    })
}

/// Writes `frame` as one JSON line (the sampler's object, else [`json_value`]), with
/// characters a terminal acts on escaped ([`crate::term::write_json_line`]). Errors: the
/// writer's.
pub fn write_json_line(frame: &Frame, out: &mut dyn io::Write) -> io::Result<()> {
    match &frame.json {
        Some(line) => {
            let mut w = crate::term::JsonSafe::new(out);
            w.write_all(line)?;
            w.write_all(b"\n")?;
            w.flush()
        }
        None => crate::term::write_json_line(out, &json_value(frame)),
    }
}
