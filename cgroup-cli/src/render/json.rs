//! The JSON view (docs/json.md).

use cgroup_core::Tree;
use std::io::{self, Write};

/// Writes `tree` as pretty-printed JSON followed by a newline (with an explicit stack:
/// any depth).
pub fn render(tree: &Tree, out: &mut dyn Write) -> io::Result<()> {
    tree.write_json(&mut *out, true)?;
    out.write_all(b"\n")
}
