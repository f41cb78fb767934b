//! The JSON view (docs/json.md).

use cgroup_core::Tree;
use std::io::{self, Write};

/// Writes `tree` as pretty-printed JSON followed by a newline ([`crate::term::write_json`]:
/// characters a terminal would act on are `\uXXXX` escapes).
pub fn render(tree: &Tree, out: &mut dyn Write) -> io::Result<()> {
    crate::term::write_json(out, tree)
}
