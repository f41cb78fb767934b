//! Makes untrusted bytes (cgroup names, command lines, runtime state) safe for a terminal
//! and for a metric's label value: valid UTF-8 without control characters.
//!
//! Escaped: invalid UTF-8 (`\xNN`), C0 controls and DEL (`\xNN`, with `\n`, `\t`, `\r`
//! spelled out), C1 controls, bidi controls (U+061C, U+200E/F, U+202A-U+202E,
//! U+2066-U+2069), zero-width and invisible characters (U+200B-U+200D, U+2060-U+2064,
//! U+FEFF, U+00AD), and the line/paragraph separators U+2028/U+2029 (`\u{XXXX}`).
//! A backslash is left alone, except where it would read as the start of one of these
//! escapes (followed by `n`, `t`, `r`, `u{`, or `x` and two hex digits naming a byte this
//! module would escape, or `5c`): then it is written `\x5c`, so that every output reads
//! back to one input (a cgroup literally named `a\x1b` prints `a\x5cx1b`, one holding
//! ESC prints `a\x1b`). systemd unit names carry literal `\x2d`-style escapes of
//! printable bytes (systemd's `unit_name_escape`, src/basic/unit-name.c), which are not
//! ambiguous and read as they are on disk.

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

/// Whether a backslash followed by `rest` would read as one of [`escape`]'s escapes.
fn backslash_is_ambiguous(rest: &[u8]) -> bool {
    match rest {
        [b'n' | b't' | b'r', ..] | [b'u', b'{', ..] => true,
        [b'x', h, l, ..] => {
            let hex = |d: u8| (d as char).to_digit(16);
            match (hex(*h), hex(*l)) {
                // The escaper writes `\xNN` for C0 controls, DEL, bytes of invalid UTF-8
                // (0x80 and up) and, here, the backslash itself.
                (Some(h), Some(l)) => {
                    let b = h * 16 + l;
                    !(0x20..0x7f).contains(&b) || b == 0x5c
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// `bytes` as text that cannot move the cursor, change colours, reorder the line or hide
/// characters, and that reads back to one input (see the module documentation for the
/// backslash). Borrows when nothing needs escaping.
pub fn escape(bytes: &[u8]) -> Cow<'_, str> {
    escape_with(bytes, true)
}

/// `bytes` with only the characters a terminal acts on escaped, as [`escape`] escapes
/// them, and every backslash left as it is: for text that is already [`escape`]'s output
/// with words of one's own around it (a message, a rendered line), where escaping the
/// backslashes again would show `\x5cx1b` for a name shown once as `\x1b`. Output that
/// contains no character [`must_escape`] holds is returned borrowed and unchanged, so this
/// is idempotent. Borrows when nothing needs escaping.
pub fn escape_controls(bytes: &[u8]) -> Cow<'_, str> {
    escape_with(bytes, false)
}

fn escape_with(bytes: &[u8], backslashes: bool) -> Cow<'_, str> {
    let ambiguous_backslash =
        |i: usize| backslashes && bytes[i] == b'\\' && backslash_is_ambiguous(&bytes[i + 1..]);
    // Most names and command lines are printable ASCII: one pass over the bytes, no
    // character decoding.
    if bytes.iter().all(|&b| (0x20..0x7f).contains(&b))
        && !(0..bytes.len()).any(ambiguous_backslash)
    {
        // Printable ASCII is UTF-8.
        return Cow::Borrowed(std::str::from_utf8(bytes).unwrap_or_default());
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        if !s.chars().any(must_escape) && !(0..bytes.len()).any(ambiguous_backslash) {
            return Cow::Borrowed(s);
        }
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    let mut start = 0;
    for chunk in bytes.utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            if must_escape(c) {
                escape_char(&mut out, c);
            } else if c == '\\' && ambiguous_backslash(start + i) {
                out.push_str("\\x5c");
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
        start += chunk.valid().len() + chunk.invalid().len();
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The reading of [`escape`]'s output back to bytes: `\n`, `\t`, `\r`, `\xNN` for a
    /// byte the escaper escapes (controls, DEL, 0x80 and up, the backslash), `\u{X...}` (a
    /// character); any other backslash is itself (`\x2d` stays four bytes).
    fn unescape(s: &str) -> Vec<u8> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' {
                match &b[i + 1..] {
                    [b'n', ..] => (out.push(b'\n'), i += 2).1,
                    [b't', ..] => (out.push(b'\t'), i += 2).1,
                    [b'r', ..] => (out.push(b'\r'), i += 2).1,
                    [b'x', h, l, ..]
                        if h.is_ascii_hexdigit()
                            && l.is_ascii_hexdigit()
                            && backslash_is_ambiguous(&b[i + 1..]) =>
                    {
                        let v = u8::from_str_radix(&s[i + 2..i + 4], 16).unwrap();
                        out.push(v);
                        i += 4;
                    }
                    [b'u', b'{', rest @ ..] if rest.contains(&b'}') => {
                        let end = rest.iter().position(|&c| c == b'}').unwrap();
                        let hex = &s[i + 3..i + 3 + end];
                        let c = char::from_u32(u32::from_str_radix(hex, 16).unwrap()).unwrap();
                        let mut buf = [0; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        i += 3 + end + 1;
                    }
                    _ => (out.push(b'\\'), i += 1).1,
                }
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        out
    }

    #[test]
    fn a_backslash_is_escaped_only_where_it_would_read_as_an_escape() {
        let cases: &[(&[u8], &str)] = &[
            // systemd's escapes of printable bytes read as they are on disk.
            (
                b"dev-disk-by\\x2duuid.device",
                "dev-disk-by\\x2duuid.device",
            ),
            (b"a\\x1b", "a\\x5cx1b"),
            (b"a\x1b", "a\\x1b"),
            (b"a\\x5c", "a\\x5cx5c"),
            (b"a\\xff", "a\\x5cxff"),
            (b"a\\n", "a\\x5cn"),
            (b"a\\u{202e}", "a\\x5cu{202e}"),
            (b"a\\u202e", "a\\u202e"),
            (b"trailing\\", "trailing\\"),
            (b"\\x4", "\\x4"),
            (b"\\\\x2d", "\\\\x2d"),
            ("\u{e9}\\t".as_bytes(), "\u{e9}\\x5ct"),
            (b"\xff\\x00", "\\xff\\x5cx00"),
        ];
        for (input, want) in cases {
            assert_eq!(escape(input), *want, "{input:?}");
            assert_eq!(unescape(&escape(input)), *input, "{input:?}");
        }
        assert!(matches!(escape(b"a\\x2d"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_controls_leaves_backslashes_and_is_idempotent() {
        let once = escape("a\x1b\u{202e}b\\x1b".as_bytes());
        assert_eq!(once, "a\\x1b\\u{202e}b\\x5cx1b");
        assert_eq!(escape_controls(once.as_bytes()), once);
        assert!(matches!(escape_controls(once.as_bytes()), Cow::Borrowed(_)));
        assert_eq!(escape_controls(b"m\x1b\\n"), "m\\x1b\\n");
    }

    proptest! {
        #[test]
        fn every_output_reads_back_to_its_input(
            input in proptest::collection::vec(
                prop_oneof![
                    Just(b'\\'), Just(b'x'), Just(b'u'), Just(b'{'), Just(b'n'),
                    Just(b'1'), Just(b'b'), Just(b'5'), Just(b'c'), Just(b'f'), any::<u8>()
                ],
                0..24,
            )
        ) {
            let out = escape(&input);
            prop_assert!(!out.chars().any(must_escape));
            prop_assert_eq!(unescape(&out), input);
        }
    }
}
