//! Makes untrusted bytes (cgroup names, command lines, runtime state) safe for a terminal
//! and for a metric's label value: valid UTF-8 without control characters.
//!
//! Escaped: invalid UTF-8 (`\xNN`), C0 controls and DEL (`\xNN`, with `\n`, `\t`, `\r`
//! spelled out), C1 controls, bidi controls (U+061C, U+200E/F, U+202A-U+202E,
//! U+2066-U+2069), zero-width and invisible characters (U+200B-U+200D, U+2060-U+2064,
//! U+FEFF, U+00AD), and the line/paragraph separators U+2028/U+2029 (`\u{XXXX}`).
//! A backslash is left alone: systemd unit names carry literal `\x2d` escapes, which must
//! read as they are on disk.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is one of the characters [`escape`] escapes.
pub fn must_escape(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || u == 0x7f
        || (0x80..=0x9f).contains(&u)
        || u == 0xad
        || u == 0x061c
        || (0x200b..=0x200f).contains(&u)
        || (0x2028..=0x202e).contains(&u)
        || (0x2060..=0x2064).contains(&u)
        || (0x2066..=0x2069).contains(&u)
        || u == 0xfeff
}

fn escape_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c if (c as u32) < 0x80 => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c => {
            let _ = write!(out, "\\u{{{:04x}}}", c as u32);
        }
    }
}

/// `bytes` as text that cannot move the cursor, change colours, reorder the line or hide
/// characters. Borrows when nothing needs escaping.
pub fn escape(bytes: &[u8]) -> Cow<'_, str> {
    // Most names and command lines are printable ASCII: one pass over the bytes, no
    // character decoding.
    if bytes.iter().all(|&b| (0x20..0x7f).contains(&b)) {
        // Printable ASCII is UTF-8.
        return Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default());
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !s.chars().any(must_escape) {
            return Cow::Borrowed(s);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if must_escape(c) {
                escape_char(&mut out, c);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    Cow::Owned(out)
}
