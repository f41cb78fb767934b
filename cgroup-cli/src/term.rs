//! The one way out: every byte cgtree writes to stdout or stderr goes through a [`Term`].
//!
//! A [`Term`] escapes whatever is written to it with [`crate::sanitize::escape_controls`]
//! (C0 and C1 controls, DEL, bidi controls, zero-width characters, U+2028/U+2029, invalid
//! UTF-8), line by line: the line feed is the only control character that passes. It
//! leaves backslashes alone: what reaches it is mostly names a renderer already escaped
//! with [`crate::sanitize::sanitize`], which a second escaping would garble. The
//! only other way to the terminal is [`Term::paint`], which frames escaped text with one
//! of cgtree's own colours ([`Sgr`]), and only when colours are on. So a renderer that
//! forgets to escape a field cannot move the cursor, clear the screen, set a title or
//! reorder a line: at worst the field is escaped here. A tab passes only through
//! [`Paint::with_tabs`] (the lines of a file shown in a diff).
//!
//! JSON goes through a [`Term`] too, after [`write_json`] has spelled every character
//! that the terminal would act on as a `\uXXXX` escape: the document parses to exactly
//! the same strings.
//!
//! Errors: a write that fails is returned as is (its [`io::ErrorKind`] kept, so that a
//! broken pipe can be told apart from a full disk).

use crate::sanitize::{escape_controls, must_escape};
use std::io::{self, Write};

/// cgtree's own colours: the only escape sequences it ever writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sgr {
    /// Bold (cgroup names).
    Bold,
    /// Dim (details).
    Dim,
    /// Red (errors).
    Red,
    /// Cyan (identities, roles).
    Cyan,
}

impl Sgr {
    fn code(self) -> &'static [u8] {
        match self {
            Sgr::Bold => b"\x1b[1m",
            Sgr::Dim => b"\x1b[2m",
            Sgr::Red => b"\x1b[31m",
            Sgr::Cyan => b"\x1b[36m",
        }
    }
}

const RESET: &[u8] = b"\x1b[0m";

/// A writer that escapes everything written to it for a terminal (see the module
/// documentation); `W` is the real output.
pub struct Term<W: Write> {
    inner: W,
    color: bool,
    /// The first bytes of a UTF-8 character cut by the end of the previous write.
    pending: Vec<u8>,
    /// Tabs pass (only within [`Paint::with_tabs`]).
    tabs: bool,
}

impl<W: Write> Term<W> {
    /// A terminal writer on `inner`; `color`: whether [`Term::paint`] colours.
    pub fn new(inner: W, color: bool) -> Self {
        Term {
            inner,
            color,
            pending: Vec::new(),
            tabs: false,
        }
    }

    /// The real output (after [`Write::flush`], nothing is held back).
    #[cfg(test)]
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Writes `text` escaped, framed with `sgr` and a reset when colours are on.
    pub fn paint(&mut self, sgr: Sgr, text: &str) -> io::Result<()> {
        if self.color {
            self.flush_pending()?;
            self.inner.write_all(sgr.code())?;
            self.write_all(text.as_bytes())?;
            self.flush_pending()?;
            self.inner.write_all(RESET)
        } else {
            self.write_all(text.as_bytes())
        }
    }

    /// Escapes and writes a partial character left by the previous write.
    fn flush_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let p = std::mem::take(&mut self.pending);
        self.inner.write_all(escape_controls(&p).as_bytes())
    }

    fn write_escaped(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.pending.is_empty() {
            return self.write_joined(buf);
        }
        let mut joined = std::mem::take(&mut self.pending);
        joined.extend_from_slice(buf);
        self.write_joined(&joined)
    }

    fn write_joined(&mut self, mut buf: &[u8]) -> io::Result<()> {
        // Printable ASCII and line feeds (nearly every write): nothing to escape, no
        // character cut, written as they are after one scan.
        if buf.iter().all(|&b| (0x20..0x7f).contains(&b) || b == b'\n') {
            return self.inner.write_all(buf);
        }
        // Keep an incomplete UTF-8 character at the end for the next write.
        if let Err(e) = std::str::from_utf8(buf) {
            if e.error_len().is_none() {
                let cut = e.valid_up_to();
                // Only a tail of at most 3 bytes can be an incomplete character.
                if buf.len() - cut <= 3 && buf[cut..].iter().all(|&b| b >= 0x80) {
                    self.pending = buf[cut..].to_vec();
                    buf = &buf[..cut];
                }
            }
        }
        let tabs = self.tabs;
        let mut rest = buf;
        while let Some(i) = rest
            .iter()
            .position(|&b| b == b'\n' || (tabs && b == b'\t'))
        {
            self.inner
                .write_all(escape_controls(&rest[..i]).as_bytes())?;
            self.inner.write_all(&rest[i..=i])?;
            rest = &rest[i + 1..];
        }
        self.inner.write_all(escape_controls(rest).as_bytes())
    }
}

/// A writer that can also colour: what renderers that colour are given ([`Term`] is the
/// only implementation).
pub trait Paint: Write {
    /// Writes `text` escaped, in colour `sgr` when colours are on.
    fn paint(&mut self, sgr: Sgr, text: &str) -> io::Result<()>;
    /// Writes `text` escaped but for its tabs, which pass as they are: for a file's lines
    /// quoted whole (the bodies of `provision plan`'s diffs), where a tab is layout.
    fn with_tabs(&mut self, text: &str) -> io::Result<()>;
}

impl<W: Write> Paint for Term<W> {
    fn paint(&mut self, sgr: Sgr, text: &str) -> io::Result<()> {
        Term::paint(self, sgr, text)
    }
    fn with_tabs(&mut self, text: &str) -> io::Result<()> {
        self.tabs = true;
        let r = self.write_all(text.as_bytes());
        self.tabs = false;
        r
    }
}

impl<W: Write> Write for Term<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_escaped(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.flush_pending()?;
        self.inner.flush()
    }
}

/// Standard output, buffered, escaped; `color` as [`crate::config::Config::color`].
pub fn stdout(color: bool) -> Term<io::BufWriter<io::StdoutLock<'static>>> {
    Term::new(
        io::BufWriter::with_capacity(64 * 1024, io::stdout().lock()),
        color,
    )
}

/// Standard output as it is, for the full-screen `cgtree top` only: ratatui writes its
/// own cursor moves and colours there, so it cannot go through a [`Term`]; every string
/// it puts in a cell was escaped with [`crate::sanitize::sanitize`] by `crate::top::ui` first.
pub fn screen() -> io::Stdout {
    io::stdout()
}

/// The standard output handle, for its descriptor (`cgtree watch` polls it: a pipe
/// whose reader is gone reports `POLLERR`); never written through.
pub fn stdout_handle() -> io::Stdout {
    io::stdout()
}

/// Standard output for `cgtree watch`, buffered and escaped as [`stdout`], but never
/// blocked in `write(2)` past a stop: see [`PolledOut`].
pub fn stdout_polled<'a>(
    out: std::os::fd::BorrowedFd<'a>,
    stop: std::os::fd::BorrowedFd<'a>,
) -> Term<io::BufWriter<PolledOut<'a>>> {
    Term::new(
        io::BufWriter::with_capacity(64 * 1024, PolledOut { out, stop }),
        false,
    )
}

/// Most bytes one `write(2)` of a [`PolledOut`] hands over: `PIPE_BUF`, which a pipe
/// that polls writable takes whole without blocking (pipe(7): `POLLOUT` means a free
/// buffer page; a write of at most `PIPE_BUF` bytes is atomic).
const POLLED_CHUNK: usize = 4096;

/// A writer on the descriptor `out` that waits in `poll(2)` for `out` to take bytes
/// (`POLLOUT`) together with `stop` (`POLLIN`: e.g. a signalfd), then writes at most
/// `PIPE_BUF` bytes: a full pipe (a reader that stopped reading) holds it in `poll`,
/// which ends when `stop` becomes readable.
///
/// # Errors
///
/// `write` returns [`io::ErrorKind::Other`] with [`Stopped`] inside once `stop` is
/// readable (it stays so: every later write fails the same way at once), and `poll`'s
/// or `write`'s own errors (`EPIPE`: [`io::ErrorKind::BrokenPipe`]).
#[derive(Debug)]
pub struct PolledOut<'a> {
    out: std::os::fd::BorrowedFd<'a>,
    stop: std::os::fd::BorrowedFd<'a>,
}

/// The error inside a [`PolledOut`] write that ended because its stop descriptor was
/// readable.
#[derive(Debug)]
pub struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped while waiting to write")
    }
}

impl std::error::Error for Stopped {}

impl Write for PolledOut<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        use nix::errno::Errno;
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let mut fds = [
                PollFd::new(self.stop, PollFlags::POLLIN),
                PollFd::new(self.out, PollFlags::POLLOUT),
            ];
            match poll(&mut fds, PollTimeout::NONE) {
                Ok(_) | Err(Errno::EINTR) => {}
                Err(e) => return Err(e.into()),
            }
            if fds[0].revents().is_some_and(|r| !r.is_empty()) {
                return Err(io::Error::other(Stopped));
            }
            // POLLERR or POLLHUP too: the write then says what is wrong (EPIPE).
            if fds[1].revents().is_some_and(|r| !r.is_empty()) {
                let n = buf.len().min(POLLED_CHUNK);
                match nix::unistd::write(self.out, &buf[..n]) {
                    Ok(n) => return Ok(n),
                    Err(Errno::EAGAIN | Errno::EINTR) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether the error is a [`PolledOut`]'s [`Stopped`] (found through wrappers that
/// keep the inner error, as serde_json's).
pub fn is_stopped(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|i| i.is::<Stopped>())
}

/// Moves standard output, and standard error while it is a terminal, to `pipe` (the
/// pager's input: [`crate::pager`]); returns copies of what they were, for
/// [`restore_stdio`]. Errors: `dup`/`dup2`'s (then nothing stays redirected).
pub fn redirect_stdio(
    pipe: &std::os::fd::OwnedFd,
) -> io::Result<(std::os::fd::OwnedFd, Option<std::os::fd::OwnedFd>)> {
    use std::io::IsTerminal;
    use std::os::fd::AsFd;
    let saved_out = io::stdout().as_fd().try_clone_to_owned()?;
    let saved_err = if io::stderr().is_terminal() {
        Some(io::stderr().as_fd().try_clone_to_owned()?)
    } else {
        None
    };
    io::stdout().flush()?;
    nix::unistd::dup2_stdout(pipe)?;
    if saved_err.is_some() {
        if let Err(e) = nix::unistd::dup2_stderr(pipe) {
            let _ = nix::unistd::dup2_stdout(&saved_out);
            return Err(e.into());
        }
    }
    Ok((saved_out, saved_err))
}

/// Flushes standard output and puts back what [`redirect_stdio`] saved (errors ignored:
/// this runs at the end, where nothing is left to do about them).
pub fn restore_stdio(out: &std::os::fd::OwnedFd, err: Option<&std::os::fd::OwnedFd>) {
    let _ = io::stdout().flush();
    let _ = nix::unistd::dup2_stdout(out);
    if let Some(e) = err {
        let _ = nix::unistd::dup2_stderr(e);
    }
}

/// Whether standard output is a terminal.
pub fn stdout_is_terminal() -> bool {
    use std::io::IsTerminal;
    io::stdout().is_terminal()
}

/// Standard error, escaped, never coloured: where [`Diag`] writes.
fn stderr() -> Term<io::StderrLock<'static>> {
    Term::new(io::stderr().lock(), false)
}

/// Messages for stderr (`cgtree: ...` lines). A message that cannot be written (stderr
/// closed, full) is dropped: it never changes the exit status the run computed.
#[derive(Debug, Default)]
pub struct Diag {
    /// How many messages were given.
    pub count: usize,
}

impl Diag {
    /// Writes `cgtree: <msg>` and a line feed, escaped, on one line (a line feed inside
    /// `msg` is escaped too); ignores a failing stderr.
    pub fn error(&mut self, msg: impl std::fmt::Display) {
        self.count += 1;
        let line = format!("cgtree: {}\n", escape_controls(msg.to_string().as_bytes()));
        let mut err = stderr();
        let _ = err.write_all(line.as_bytes()).and_then(|()| err.flush());
    }

    /// Writes `text` as it is (escaped), for messages that carry their own prefix
    /// (clap's `error: ...`); ignores a failing stderr.
    pub fn raw(&mut self, text: &str) {
        self.count += 1;
        let mut err = stderr();
        let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
    }
}

/// Nesting levels indented in JSON; deeper values are indented as at this level, so that
/// a document nested thousands of levels deep does not grow with depth squared.
pub const MAX_JSON_INDENT: usize = 64;

/// A [`serde_json::ser::Formatter`] that writes as [`serde_json::ser::PrettyFormatter`]
/// (two spaces per level, up to [`MAX_JSON_INDENT`] levels). Its output goes through
/// [`JsonSafe`].
#[derive(Default)]
struct SafeFormatter {
    current_indent: usize,
    has_value: bool,
}

fn indent<W: ?Sized + Write>(w: &mut W, n: usize) -> io::Result<()> {
    for _ in 0..n.min(MAX_JSON_INDENT) {
        w.write_all(b"  ")?;
    }
    Ok(())
}

impl serde_json::ser::Formatter for SafeFormatter {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            indent(w, self.current_indent)?;
        }
        w.write_all(b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.current_indent)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.current_indent += 1;
        self.has_value = false;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.current_indent -= 1;
        if self.has_value {
            w.write_all(b"\n")?;
            indent(w, self.current_indent)?;
        }
        w.write_all(b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        w.write_all(if first { b"\n" } else { b",\n" })?;
        indent(w, self.current_indent)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// Writes `value` as pretty-printed JSON and a line feed, through [`JsonSafe`]: strings
/// keep their exact characters; those a terminal would act on are `\uXXXX` escapes.
/// Indentation stops growing past [`MAX_JSON_INDENT`] levels. Errors: the writer's,
/// with their kind (a serialization error is [`io::ErrorKind::InvalidData`]).
pub fn write_json<T: serde::Serialize + ?Sized>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut w = JsonSafe::new(out);
    let mut ser = serde_json::Serializer::with_formatter(&mut w, SafeFormatter::default());
    value.serialize(&mut ser).map_err(io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// Writes `value` as compact JSON on one line and a line feed (JSON Lines), through
/// [`JsonSafe`] as [`write_json`]. Errors: as [`write_json`].
pub fn write_json_line<T: serde::Serialize + ?Sized>(
    out: &mut dyn Write,
    value: &T,
) -> io::Result<()> {
    let mut w = JsonSafe::new(out);
    serde_json::to_writer(&mut w, value).map_err(io::Error::from)?;
    w.write_all(b"\n")?;
    w.flush()
}

/// A writer of JSON text that writes every character a terminal would act on and that
/// serde_json leaves as it is (DEL, C1 controls, bidi and zero-width characters,
/// U+2028/2029: [`must_escape`] above ASCII's controls) as a `\uXXXX` escape. In JSON
/// text such characters stand only inside strings (the structure is ASCII), where the
/// escape means the same character: the document's values are unchanged. serde_json
/// already escapes the ASCII controls inside strings; the line feeds and spaces of the
/// layout pass. A character split across two writes is held until it is whole.
pub struct JsonSafe<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> JsonSafe<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        JsonSafe {
            inner,
            pending: Vec::new(),
        }
    }

    fn drain(&mut self, all: bool) -> io::Result<()> {
        let mut done = 0;
        loop {
            let rest = &self.pending[done..];
            let (valid, bad) = match std::str::from_utf8(rest) {
                Ok(s) => (s, None),
                Err(e) => (
                    std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""),
                    Some(e.error_len()),
                ),
            };
            let mut start = 0;
            for (i, c) in valid.char_indices() {
                if (c as u32) >= 0x7f && must_escape(c) {
                    self.inner.write_all(&valid.as_bytes()[start..i])?;
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        write!(self.inner, "\\u{u:04x}")?;
                    }
                    start = i + c.len_utf8();
                }
            }
            self.inner.write_all(&valid.as_bytes()[start..])?;
            done += valid.len();
            match bad {
                None => break,
                // Not UTF-8 (serde_json never writes it): passed as it is.
                Some(Some(n)) => {
                    self.inner.write_all(&self.pending[done..done + n])?;
                    done += n;
                }
                // An incomplete character at the end: kept for the next write.
                Some(None) if !all => break,
                Some(None) => {
                    self.inner.write_all(&self.pending[done..])?;
                    done = self.pending.len();
                    break;
                }
            }
        }
        self.pending.drain(..done);
        Ok(())
    }
}

impl<W: Write> Write for JsonSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(true)?;
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(color: bool, f: impl FnOnce(&mut Term<&mut Vec<u8>>)) -> String {
        let mut v = Vec::new();
        let mut t = Term::new(&mut v, color);
        f(&mut t);
        t.flush().unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn json_safe_escapes_terminal_characters_and_keeps_values() {
        let value = serde_json::json!({"name": "a\u{202e}b\u{9b}c\u{7f}\u{2028}é\x1b\n"});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let mut v = Vec::new();
        let mut w = JsonSafe::new(&mut v);
        // Written a byte at a time: characters split across writes are held until whole.
        for b in text.as_bytes() {
            w.write_all(std::slice::from_ref(b)).unwrap();
        }
        w.flush().unwrap();
        let out = String::from_utf8(v).unwrap();
        assert!(out.chars().all(|c| c == '\n' || !must_escape(c)), "{out:?}");
        assert!(out.contains("\\u202e") && out.contains("\\u009b") && out.contains("\\u2028"));
        assert!(out.contains('é') && out.contains("{\n  \"name\""));
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn names_escaped_by_a_renderer_pass_unchanged() {
        // A name with a literal `\x1b`, ESC itself and U+202E: escaped once by the
        // renderer, the Term must not escape its backslashes a second time, in plain
        // ASCII lines or in lines with other characters, painted or not.
        let name = "lit\\x1b esc\x1b bidi\u{202e} é".as_bytes();
        let once = crate::sanitize::sanitize(name).into_owned();
        assert_eq!(once, "lit\\x5cx1b esc\\x1b bidi\\u{202e} é");
        for color in [false, true] {
            let s = through(color, |t| {
                t.write_all(once.as_bytes()).unwrap();
                t.write_all(b"\n").unwrap();
                t.paint(Sgr::Bold, &once).unwrap();
            });
            let plain: String = s.replace("\x1b[1m", "").replace("\x1b[0m", "");
            assert_eq!(plain, format!("{once}\n{once}"), "{s:?}");
        }
    }

    #[test]
    fn term_escapes_all_but_line_feeds_and_own_colours() {
        let s = through(false, |t| {
            write!(t, "a\x1b[2J\u{9b}1m\u{202e}b\nc\r").unwrap();
            t.paint(Sgr::Red, "x\x07").unwrap();
        });
        assert_eq!(s, "a\\x1b[2J\\u{009b}1m\\u{202e}b\nc\\rx\\x07");
        let s = through(true, |t| t.paint(Sgr::Bold, "n\x1b]0;t\x07").unwrap());
        assert_eq!(s, "\x1b[1mn\\x1b]0;t\\x07\x1b[0m");
        let s = through(false, |t| {
            t.write_all(b"a\tb").unwrap();
            t.with_tabs("c\td\x1b\n").unwrap();
            t.write_all(b"\t").unwrap();
        });
        assert_eq!(s, "a\\tbc\td\\x1b\n\\t");
    }

    #[test]
    fn term_joins_characters_split_across_writes() {
        let s = through(false, |t| {
            let b = "é\u{202e}".as_bytes();
            t.write_all(&b[..1]).unwrap();
            t.write_all(&b[1..3]).unwrap();
            t.write_all(&b[3..]).unwrap();
            t.write_all(b"\xff").unwrap();
        });
        assert_eq!(s, "é\\u{202e}\\xff");
        // A lone lead byte at the very end is escaped at the flush.
        let s = through(false, |t| t.write_all(b"x\xc3").unwrap());
        assert_eq!(s, "x\\xc3");
    }

    #[test]
    fn json_indentation_stops_growing() {
        let mut v = serde_json::json!(1);
        for _ in 0..100 {
            v = serde_json::json!([v]);
        }
        let mut out = Vec::new();
        write_json(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        let widest = text.lines().map(str::len).max().unwrap();
        assert_eq!(widest, 2 * MAX_JSON_INDENT + 1, "{text:.400}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn json_escapes_terminal_characters_and_keeps_values() {
        let v =
            serde_json::json!({"k\u{202e}": "a\x1b[2J\u{9b}\u{200b}\u{2028}\x7f\n", "n": [1, 2]});
        let mut out = Vec::new();
        write_json(&mut out, &v).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.chars().any(|c| c != '\n' && must_escape(c)), "{text}");
        assert!(text.contains("\\u009b"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        // Without anything to escape, the same bytes as serde_json's pretty printer.
        let plain = serde_json::json!({"a": [1, {"b": "c"}, [], {}], "d": null, "e": [[[]]]});
        let mut out = Vec::new();
        write_json(&mut out, &plain).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            serde_json::to_string_pretty(&plain).unwrap() + "\n"
        );
    }
}
