//! The JSON view (docs/json.md).

use cgroup_core::Tree;
use std::io::{self, Write};

/// Writes `tree` as pretty-printed JSON followed by a newline.
pub fn render(tree: &Tree, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, tree).map_err(io::Error::from)?;
    out.write_all(b"\n")
}
