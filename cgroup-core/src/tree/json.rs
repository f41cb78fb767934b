//! The JSON form of a [`Tree`] (documented in `docs/json.md`, `"version": 1`).
//!
//! Bytes are never altered: a name, path or argument that is valid UTF-8 is a JSON
//! string; anything else is `{"bytes": "<base64>"}`.

use super::{ControllerList, Node, NodeErrorKind, Process, Thread, Tree};
use base64::Engine;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

/// Version of the JSON document; bumped on any incompatible change.
pub const JSON_VERSION: u32 = 1;

/// Raw bytes, serialized as a string when UTF-8 and as `{"bytes": base64}` otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Bytes<'a>(pub &'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(self.0) {
            Ok(text) => s.serialize_str(text),
            Err(_) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(
                    "bytes",
                    &base64::engine::general_purpose::STANDARD.encode(self.0),
                )?;
                m.end()
            }
        }
    }
}

struct Args<'a>(&'a Process);

impl Serialize for Args<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for a in self.0.args() {
            seq.serialize_element(&Bytes(a))?;
        }
        seq.end()
    }
}

struct Controllers<'a>(&'a ControllerList);

impl Serialize for Controllers<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.names().map(Bytes))
    }
}

struct ProcessJson<'a>(&'a Process);

impl Serialize for ProcessJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("pid", &p.pid)?;
        m.serialize_entry("cmdline", &Args(p))?;
        m.serialize_entry("comm", &p.comm.as_deref().map(Bytes))?;
        m.serialize_entry("kernel_thread", &p.kernel_thread)?;
        m.serialize_entry("role", &p.role)?;
        if let Some(u) = &p.user {
            m.serialize_entry("user", u)?;
        }
        m.end()
    }
}

struct ThreadJson<'a>(&'a Thread);

impl Serialize for ThreadJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("tid", &self.0.tid)?;
        m.serialize_entry("comm", &self.0.comm.as_deref().map(Bytes))?;
        m.end()
    }
}

struct NodeJson<'a> {
    tree: &'a Tree,
    id: usize,
}

impl Serialize for NodeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n: &Node = &self.tree.nodes[self.id];
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &Bytes(&n.name))?;
        m.serialize_entry("path", &Bytes(&self.tree.path(self.id)))?;
        m.serialize_entry("type", &n.cgroup_type)?;
        m.serialize_entry("identity", &n.identity)?;
        m.serialize_entry("controllers", &n.controllers.as_ref().map(Controllers))?;
        m.serialize_entry(
            "subtree_control",
            &n.subtree_control.as_ref().map(Controllers),
        )?;
        m.serialize_entry("populated", &n.populated)?;
        m.serialize_entry(
            "processes",
            &n.processes
                .as_ref()
                .map(|ps| ps.iter().map(ProcessJson).collect::<Vec<_>>()),
        )?;
        m.serialize_entry("foreign_pids", &n.foreign_pids)?;
        m.serialize_entry(
            "threads",
            &n.threads
                .as_ref()
                .map(|ts| ts.iter().map(ThreadJson).collect::<Vec<_>>()),
        )?;
        m.serialize_entry("truncated", &n.truncated)?;
        m.serialize_entry("errors", &Errors(n))?;
        m.serialize_entry(
            "children",
            &n.children
                .iter()
                .map(|&id| NodeJson {
                    tree: self.tree,
                    id,
                })
                .collect::<Vec<_>>(),
        )?;
        m.end()
    }
}

struct Errors<'a>(&'a Node);

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use std::os::unix::ffi::OsStrExt;
        let mut seq = s.serialize_seq(Some(self.0.errors.len()))?;
        for e in &self.0.errors {
            let (errno, line) = match &e.kind {
                NodeErrorKind::Io(n) => (Some(*n), None),
                NodeErrorKind::Parse(p) => (None, Some(p.line)),
                _ => (None, None),
            };
            seq.serialize_element(&ErrorJson {
                file: Bytes(e.path.as_os_str().as_bytes()),
                kind: e.kind.code(),
                errno,
                line,
                message: e.to_string(),
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    file: Bytes<'a>,
    kind: &'static str,
    errno: Option<i32>,
    line: Option<u32>,
    message: String,
}

impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use std::os::unix::ffi::OsStrExt;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("version", &JSON_VERSION)?;
        m.serialize_entry("host_root", &Bytes(self.host.root().as_os_str().as_bytes()))?;
        m.serialize_entry("mount", &MountJson(self))?;
        m.serialize_entry("cgroup", &NodeJson { tree: self, id: 0 })?;
        m.end()
    }
}

struct MountJson<'a>(&'a Tree);

impl Serialize for MountJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use std::os::unix::ffi::OsStrExt;
        let mount = &self.0.mount;
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("path", &Bytes(mount.mount_point.as_os_str().as_bytes()))?;
        m.serialize_entry("root", &Bytes(&mount.fs_root))?;
        m.serialize_entry("options", &mount.options)?;
        let (source, line) = match mount.source {
            crate::fs::MountSource::Mountinfo { line } => ("mountinfo", Some(line)),
            crate::fs::MountSource::Default => ("default", None),
        };
        m.serialize_entry("source", source)?;
        m.serialize_entry("mountinfo_line", &line)?;
        m.end()
    }
}
