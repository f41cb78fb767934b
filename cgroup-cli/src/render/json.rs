//! The JSON view (docs/json.md).

use cgroup_core::Tree;
use std::io::{self, Write};

/// Writes `tree` as pretty-printed JSON followed by a newline: written by the library
/// with an explicit stack (any depth, indentation capped), through
/// [`crate::term::JsonSafe`] (characters a terminal would act on are `\uXXXX` escapes).
pub fn render(tree: &Tree, out: &mut dyn Write) -> io::Result<()> {
    let mut w = crate::term::JsonSafe::new(out);
    tree.write_json(&mut w, true)?;
    w.write_all(b"\n")?;
    w.flush()
}
