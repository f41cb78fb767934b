//! Renderers: each writes to any `io::Write`.

pub mod json;
pub mod tree;
