//! The JSON view (docs/json.md).

use crate::top::Frame;
use cgroup_core::Tree;
use std::io::{self, Write};

/// Writes `tree` as pretty-printed JSON followed by a newline: written by the library
/// with an explicit stack (any depth, indentation capped), through
/// [`crate::term::JsonSafe`] (characters a terminal would act on are `\uXXXX` escapes).
/// With `usage` (`--stats`), the document also has a `usage` member: the sample
/// document of the frame (docs/json.md, "Sample"). Errors: the writer's.
pub fn render(tree: &Tree, usage: Option<&Frame>, out: &mut dyn Write) -> io::Result<()> {
    let mut w = crate::term::JsonSafe::new(out);
    match usage {
        None => tree.write_json(&mut w, true)?,
        Some(frame) => {
            // The document's last bytes (`\n}`) are held back, to add a member.
            let mut held = HoldBack {
                inner: &mut w,
                held: Vec::with_capacity(4),
            };
            tree.write_json(&mut held, true)?;
            if held.held != b"\n}" {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the tree's JSON document does not end with a closing brace",
                ));
            }
            w.write_all(b",\n  \"usage\": ")?;
            match &frame.json {
                // The library's sample document (docs/json.md, "Sample").
                Some(line) => w.write_all(line)?,
                None => w.write_all(b"null")?,
            }
            w.write_all(b"\n}")?;
        }
    }
    w.write_all(b"\n")?;
    w.flush()
}

/// Passes everything written to it on to `inner` but its last two bytes.
struct HoldBack<'a, W: Write> {
    inner: &'a mut W,
    held: Vec<u8>,
}

impl<W: Write> Write for HoldBack<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.held.extend_from_slice(buf);
        if self.held.len() > 2 {
            let n = self.held.len() - 2;
            self.inner.write_all(&self.held[..n])?;
            self.held.drain(..n);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
