//! Makes untrusted bytes (cgroup names, command lines) safe for a terminal: the
//! library's [`cgroup_core::escape`] (also what metric label values go through), and
//! paths.
//!
//! Escaped: invalid UTF-8 (`\xNN`), C0 controls and DEL (`\xNN`, with `\n`, `\t`, `\r`
//! spelled out), C1 controls, bidi controls, zero-width and invisible characters, and the
//! line/paragraph separators (`\u{XXXX}`). A backslash is written `\x5c` only where it
//! would read as one of these escapes (systemd's `\x2d` in unit names stays as it is).

pub use cgroup_core::escape::{escape as sanitize, escape_controls, must_escape};
use std::borrow::Cow;

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
            (b"looks-like-esc\\x1b[31m", "looks-like-esc\\x5cx1b[31m"),
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
