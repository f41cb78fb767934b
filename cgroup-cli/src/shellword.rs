//! The command line being completed, read as bash reads it, and completion candidates
//! quoted so that bash inserts them as literal text (used by the dynamic completion in
//! [`crate::docs`]).
//!
//! Cgroup names are untrusted bytes: a container or a user names them. A candidate such
//! as `$(touch x)` inserted as it is into the command line would run when Enter is
//! pressed, so bash gets every candidate quoted for where it goes ([`quote`]); and the
//! word typed so far (`/a\ b`, `'/a b`) is unquoted ([`lex`]) before it is matched.
//!
//! What bash does that this follows (bash(1), "QUOTING", "Programmable Completion"):
//! - a backslash outside quotes keeps the next character literal (a backslash-newline is
//!   removed); inside single quotes nothing is special; inside double quotes a backslash
//!   escapes only `$`, `` ` ``, `"`, `\` and newline; `$'...'` decodes ANSI-C escapes;
//! - `;`, `&`, `|`, `(`, `)` end a command (the words completed are the last command's),
//!   `<` and `>` a word (the next word is a redirection's target, not an argument);
//! - a `~` starting a word (or following the first `=` of a word, which bash expands
//!   outside POSIX mode: bash(1) "Tilde Expansion") and followed by `/` or the word's
//!   end is `$HOME`; anything else (`$VAR`, `$(...)`, globs) is never expanded: the
//!   completion runs nothing;
//! - readline replaces only the end of the word, its "text" (the completion function's
//!   `$2`): from just after an unclosed quote, else from after the last character of
//!   `COMP_WORDBREAKS` (`=` and `:` by default). A candidate replaces that text, so it
//!   is cut to what follows it and quoted as the context there demands (inside the
//!   user's open quote, or outside any).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt;

/// The quoting in force at a point of the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    /// Outside quotes.
    None,
    /// Inside `'...'`.
    Single,
    /// Inside `"..."` (or `$"..."`).
    Double,
    /// Inside `$'...'`.
    Ansi,
}

/// A command line up to the cursor, read as bash reads it.
#[derive(Debug, PartialEq, Eq)]
pub struct Lexed {
    /// The words of the last command, unquoted, the last being the word under the cursor
    /// (empty when the cursor follows a blank).
    pub words: Vec<OsString>,
    /// The unquoted text of the current word before the point where readline's text
    /// starts (see [`lex`]).
    pub before_text: Vec<u8>,
    /// The quoting in force where readline's text starts.
    pub quote: Quote,
}

/// Reads `line` (the command line up to the cursor, bytes) as bash does. `text_start`
/// is the byte offset where readline's text (the completion function's `$2`) starts:
/// the unquoted current word up to there and the quoting in force there are returned
/// (an offset outside the current word gives the whole word and the quoting at its
/// start). `home` stands for `~`.
pub fn lex(line: &[u8], text_start: usize, home: Option<&[u8]>) -> Lexed {
    let mut words: Vec<Vec<u8>> = Vec::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut in_word = false;
    let mut skip_next = false; // the word after `<` or `>`
    let mut q = Quote::None;
    let mut mark: Option<(usize, Quote)> = None; // (cur.len(), quote) at text_start
    let mut seen_eq = false; // an unquoted `=` in the current word
    let mut i = 0;
    let end_word =
        |words: &mut Vec<Vec<u8>>, cur: &mut Vec<u8>, in_word: &mut bool, skip_next: &mut bool| {
            if *in_word {
                if *skip_next {
                    *skip_next = false;
                } else {
                    words.push(std::mem::take(cur));
                }
            }
            cur.clear();
            *in_word = false;
        };
    while i < line.len() {
        if i == text_start {
            mark = Some((cur.len(), q));
        }
        let b = line[i];
        match q {
            Quote::Single => {
                if b == b'\'' {
                    q = Quote::None;
                } else {
                    cur.push(b);
                }
                i += 1;
            }
            Quote::Double => {
                if b == b'"' {
                    q = Quote::None;
                    i += 1;
                } else if b == b'\\' && i + 1 < line.len() {
                    let n = line[i + 1];
                    match n {
                        b'$' | b'`' | b'"' | b'\\' => cur.push(n),
                        b'\n' => {}
                        _ => cur.extend_from_slice(&[b'\\', n]),
                    }
                    i += 2;
                } else {
                    cur.push(b);
                    i += 1;
                }
            }
            Quote::Ansi => {
                if b == b'\'' {
                    q = Quote::None;
                    i += 1;
                } else if b == b'\\' && i + 1 < line.len() {
                    i += 1 + ansi_escape(&line[i + 1..], &mut cur);
                } else {
                    cur.push(b);
                    i += 1;
                }
            }
            Quote::None => {
                match b {
                    b' ' | b'\t' | b'\n' => {
                        end_word(&mut words, &mut cur, &mut in_word, &mut skip_next);
                        seen_eq = false;
                        mark = None;
                    }
                    b';' | b'&' | b'|' | b'(' | b')' => {
                        end_word(&mut words, &mut cur, &mut in_word, &mut skip_next);
                        words.clear();
                        skip_next = false;
                        seen_eq = false;
                        mark = None;
                    }
                    b'<' | b'>' => {
                        end_word(&mut words, &mut cur, &mut in_word, &mut skip_next);
                        skip_next = true;
                        seen_eq = false;
                        mark = None;
                    }
                    b'\\' => {
                        in_word = true;
                        if let Some(&n) = line.get(i + 1) {
                            if n != b'\n' {
                                cur.push(n);
                            }
                            i += 1;
                        }
                    }
                    b'\'' => {
                        in_word = true;
                        q = Quote::Single;
                    }
                    b'"' => {
                        in_word = true;
                        q = Quote::Double;
                    }
                    b'$' if matches!(line.get(i + 1), Some(b'\'' | b'"')) => {
                        in_word = true;
                        q = if line[i + 1] == b'\'' {
                            Quote::Ansi
                        } else {
                            Quote::Double
                        };
                        i += 1;
                    }
                    b'~' if (!in_word || (seen_eq && cur.last() == Some(&b'=')))
                        && matches!(line.get(i + 1), None | Some(b'/' | b' ' | b'\t' | b'\n'))
                        && home.is_some() =>
                    {
                        in_word = true;
                        cur.extend_from_slice(home.unwrap_or_default());
                    }
                    b'#' if !in_word => {
                        // A comment: nothing after it is a word.
                        break;
                    }
                    _ => {
                        if b == b'=' && !seen_eq {
                            seen_eq = true;
                        }
                        in_word = true;
                        cur.push(b);
                    }
                }
                i += 1;
            }
        }
    }
    if text_start >= line.len() && mark.is_none() {
        mark = Some((cur.len(), q));
    }
    let (cut, quote) = mark.unwrap_or((0, Quote::None));
    let before_text = cur[..cut.min(cur.len())].to_vec();
    if !skip_next || in_word {
        words.push(cur);
    }
    Lexed {
        words: words.into_iter().map(OsString::from_vec).collect(),
        before_text,
        quote,
    }
}

/// Decodes one `$'...'` escape (the bytes after the backslash) into `out`; returns how
/// many bytes it took (bash(1), "QUOTING": `\a \b \e \E \f \n \r \t \v \\ \' \" \?`,
/// `\nnn` octal, `\xHH` hex; anything else is kept with its backslash).
fn ansi_escape(s: &[u8], out: &mut Vec<u8>) -> usize {
    let simple = match s[0] {
        b'a' => Some(7),
        b'b' => Some(8),
        b'e' | b'E' => Some(0x1b),
        b'f' => Some(0x0c),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(0x0b),
        b'\\' | b'\'' | b'"' | b'?' => Some(s[0]),
        _ => None,
    };
    if let Some(c) = simple {
        out.push(c);
        return 1;
    }
    let digits = |start: usize, max: usize, radix: u32| {
        s[start..]
            .iter()
            .take(max)
            .take_while(|c| char::from(**c).is_digit(radix))
            .count()
    };
    let value = |d: &[u8], radix: u32| {
        d.iter().fold(0u32, |v, c| {
            v * radix + char::from(*c).to_digit(radix).unwrap_or(0)
        })
    };
    if s[0] == b'x' {
        let n = digits(1, 2, 16);
        if n > 0 {
            out.push(u8::try_from(value(&s[1..=n], 16) & 0xff).unwrap_or(0));
            return 1 + n;
        }
    } else if s[0].is_ascii_digit() && s[0] < b'8' {
        let n = digits(0, 3, 8);
        out.push(u8::try_from(value(&s[..n], 8) & 0xff).unwrap_or(0));
        return n;
    }
    out.extend_from_slice(&[b'\\', s[0]]);
    1
}

/// `text` quoted for bash where the quoting in force is `quote`, so that it reads back
/// as exactly `text` and runs nothing. Outside quotes every byte other than ASCII
/// letters, digits, `_ . / @ % + , -` and non-ASCII ones gets a backslash (so `=` and
/// `:`, word breaks for readline, too); inside `'...'` a `'` becomes `'\''`; inside
/// `"..."` `$`, `` ` ``, `"` and `\` get a backslash and `!` (history expansion, even
/// inside double quotes) becomes `"'!'"`; inside `$'...'` `\` and `'` get a backslash.
/// (readline itself closes an open quote after a single candidate.) A line feed cannot be quoted this way
/// outside quotes (`\` + newline is a line continuation): candidates never have one
/// (they are refused before: [`crate::docs`]).
pub fn quote(text: &[u8], quote: Quote) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() * 2);
    for &b in text {
        match quote {
            Quote::None => {
                if !(b.is_ascii_alphanumeric() || b >= 0x80 || b"_./@%+,-".contains(&b)) {
                    out.push(b'\\');
                }
                out.push(b);
            }
            Quote::Single => {
                if b == b'\'' {
                    out.extend_from_slice(b"'\\''");
                } else {
                    out.push(b);
                }
            }
            Quote::Double => match b {
                b'$' | b'`' | b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
                b'!' => out.extend_from_slice(b"\"'!'\""),
                _ => out.push(b),
            },
            Quote::Ansi => {
                if b == b'\\' || b == b'\'' {
                    out.push(b'\\');
                }
                out.push(b);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStrExt;

    fn words(l: &Lexed) -> Vec<String> {
        l.words
            .iter()
            .map(|w| w.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn words_are_unquoted_as_bash_does() {
        let line = br#"cgtree --root=~/x "a b" 'c d'e\ f $'\x41\n' "\$\q" /p"#;
        let l = lex(line, line.len() - 2, Some(b"/home/u"));
        assert_eq!(
            words(&l),
            [
                "cgtree",
                "--root=/home/u/x",
                "a b",
                "c de f",
                "A\n",
                "$\\q",
                "/p"
            ]
        );
        assert_eq!(l.before_text, b"");
        assert_eq!(l.quote, Quote::None);
        // The cursor after a blank: an empty current word.
        assert_eq!(words(&lex(b"cgtree -M ", 10, None)), ["cgtree", "-M", ""]);
        // The last command only; a redirection's target is no word.
        assert_eq!(
            words(&lex(b"ls; x=1 | cgtree > out /a", 23, None)),
            ["cgtree", "/a"]
        );
        // Nothing is expanded but a leading ~.
        assert_eq!(
            words(&lex(b"cgtree $HOME `y` * ~u ~", 23, Some(b"/h"))),
            ["cgtree", "$HOME", "`y`", "*", "~u", "/h"]
        );
        // A comment ends the words; a trailing backslash is nothing.
        assert_eq!(words(&lex(b"cgtree a\\", 9, None)), ["cgtree", "a"]);
    }

    #[test]
    fn the_quote_open_where_readlines_text_starts() {
        // `cgtree '/a b` : readline's text starts after the open quote.
        let l = lex(b"cgtree x'/a b", 9, None);
        assert_eq!(words(&l), ["cgtree", "x/a b"]);
        assert_eq!(
            (l.before_text.as_slice(), l.quote),
            (&b"x"[..], Quote::Single)
        );
        let l = lex(b"cgtree \"/a\\$", 8, None);
        assert_eq!(words(&l), ["cgtree", "/a$"]);
        assert_eq!(
            (l.before_text.as_slice(), l.quote),
            (&b""[..], Quote::Double)
        );
        // After `=` (a word break): the text is the value.
        let l = lex(b"cgtree --root=/a\\ b", 14, None);
        assert_eq!(words(&l), ["cgtree", "--root=/a b"]);
        assert_eq!(l.before_text, b"--root=");
        assert_eq!(l.quote, Quote::None);
    }

    #[test]
    fn quoted_text_reads_back_as_itself() {
        let hostile: &[&[u8]] = &[
            b"$(touch x)",
            b"`id`",
            b"a b*?[c]",
            b"it's \"q\"",
            b";&|<>(){}",
            b"\\x2d!#~=:",
            "é\u{a0}".as_bytes(),
        ];
        for &t in hostile {
            for q in [Quote::None, Quote::Single, Quote::Double, Quote::Ansi] {
                let opening: &[u8] = match q {
                    Quote::None => b"",
                    Quote::Single => b"'",
                    Quote::Double => b"\"",
                    Quote::Ansi => b"$'",
                };
                let mut line = b"cgtree ".to_vec();
                line.extend_from_slice(opening);
                line.extend_from_slice(&quote(t, q));
                line.extend_from_slice(&opening[opening.len().saturating_sub(1)..]);
                let l = lex(&line, line.len(), None);
                assert_eq!(
                    l.words.last().map(|w| w.as_bytes().to_vec()),
                    Some(t.to_vec()),
                    "{q:?} {:?}",
                    String::from_utf8_lossy(&line)
                );
                assert_eq!(l.words.len(), 2, "{:?}", String::from_utf8_lossy(&line));
            }
        }
    }
}
