//! Makes untrusted bytes (cgroup names, command lines) safe for a terminal.
//!
//! Escaped: invalid UTF-8 (`\xNN`), C0 controls and DEL (`\xNN`, with `\n`, `\t`, `\r`
//! spelled out), C1 controls, bidi controls (U+061C, U+200E/F, U+202A-U+202E,
//! U+2066-U+2069), zero-width and invisible characters (U+200B-U+200D, U+2060-U+2064,
//! U+FEFF, U+00AD), and the line/paragraph separators U+2028/U+2029 (`\u{XXXX}`).
//! A backslash is left alone: systemd unit names carry literal `\x2d` escapes, which must
//! read as they are on disk.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` is one of the characters [`sanitize`] escapes.
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
pub fn sanitize(bytes: &[u8]) -> Cow<'_, str> {
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

/// A path's bytes, escaped as [`sanitize`] does (unlike `Path::display`, which replaces
/// invalid UTF-8 and escapes nothing).
pub fn path(p: &std::path::Path) -> Cow<'_, str> {
    sanitize(p.as_os_str().as_encoded_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_table() {
        let cases: &[(&[u8], &str)] = &[
            (b"plain.slice", "plain.slice"),
            (b"machine-lxc\\x2d1.scope", "machine-lxc\\x2d1.scope"),
            (b"a\x1b[31mred", "a\\x1b[31mred"),
            (b"line\nbreak\ttab\rcr", "line\\nbreak\\ttab\\rcr"),
            (b"del\x7f", "del\\x7f"),
            (b"bad\xff\xfeutf8", "bad\\xff\\xfeutf8"),
            ("c1\u{9b}31m".as_bytes(), "c1\\u{009b}31m"),
            ("bidi\u{202e}txt.exe".as_bytes(), "bidi\\u{202e}txt.exe"),
            ("iso\u{2066}x\u{2069}".as_bytes(), "iso\\u{2066}x\\u{2069}"),
            (
                "zw\u{200b}j\u{200d}\u{feff}".as_bytes(),
                "zw\\u{200b}j\\u{200d}\\u{feff}",
            ),
            ("sep\u{2028}\u{2029}".as_bytes(), "sep\\u{2028}\\u{2029}"),
            ("alm\u{061c}".as_bytes(), "alm\\u{061c}"),
            ("soft\u{ad}hyphen".as_bytes(), "soft\\u{00ad}hyphen"),
            ("ünïcødé 日本".as_bytes(), "ünïcødé 日本"),
            (b"nul\0byte", "nul\\x00byte"),
            (b"", ""),
        ];
        for (input, want) in cases {
            assert_eq!(sanitize(input), *want, "{input:?}");
        }
        assert!(matches!(sanitize(b"ok"), Cow::Borrowed(_)));
    }

    #[test]
    fn sanitized_output_has_no_control_characters() {
        let all: Vec<u8> = (0..=255u8).collect();
        let s = sanitize(&all);
        assert!(!s.chars().any(must_escape), "{s}");
    }
}
