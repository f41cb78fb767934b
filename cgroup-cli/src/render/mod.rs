//! Renderers: each writes to any `io::Write`.

pub mod identity;
pub mod json;
pub mod pid;
pub mod provision;
pub mod tree;
pub mod userns;
pub mod watch;
