//! The JSON form of a [`Tree`] (documented in `docs/json.md`, `"version": 1`).
//!
//! Bytes are never altered: a name, path or argument that is valid UTF-8 is a JSON
//! string; anything else is `{"bytes": "<base64>"}`.

use super::{ControllerList, Node, NodeError, NodeErrorKind, Process, Thread, Tree};
use base64::Engine;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;

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

/// Longest `path` written in JSON (`PATH_MAX`); a deeper cgroup's `path` is `null` (its
/// ancestors' names give it), so that the output grows with the number of cgroups, not
/// with the square of their depth.
pub const MAX_JSON_PATH: usize = 4096;

/// Trees deeper than this many levels are refused by the `Serialize` impl (which
/// recurses, one level of nesting per cgroup level); [`Tree::write_json`] writes any
/// depth.
pub const MAX_SERDE_DEPTH: u32 = 128;

/// Indentation of pretty JSON stops growing at this nesting level (valid JSON all the
/// same), so that a deep tree's output does not grow with the square of its depth.
const MAX_INDENT_LEVEL: usize = 64;

/// The fields of a node, without `children`.
fn node_fields<M: SerializeMap>(
    m: &mut M,
    n: &Node,
    path: &[u8],
    parent_id: Option<u64>,
) -> Result<(), M::Error> {
    m.serialize_entry("name", &Bytes(&n.name))?;
    if path.len() <= MAX_JSON_PATH {
        m.serialize_entry("path", &Bytes(path))?;
    } else {
        m.serialize_entry("path", &())?;
    }
    m.serialize_entry("id", &n.cgroup_id)?;
    m.serialize_entry("parent_id", &parent_id)?;
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
    if n.hidden_pids > 0 {
        m.serialize_entry("hidden_pids", &n.hidden_pids)?;
    }
    m.serialize_entry(
        "threads",
        &n.threads
            .as_ref()
            .map(|ts| ts.iter().map(ThreadJson).collect::<Vec<_>>()),
    )?;
    m.serialize_entry("truncated", &n.truncated)?;
    m.serialize_entry("errors", &Errors(n))?;
    Ok(())
}

/// A node without its children (for [`Tree::write_json`]).
struct NodeFields<'a> {
    node: &'a Node,
    path: &'a [u8],
    parent_id: Option<u64>,
}

impl Serialize for NodeFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        node_fields(&mut m, self.node, self.path, self.parent_id)?;
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
        node_fields(
            &mut m,
            n,
            &self.tree.path(self.id),
            self.tree.parent_cgroup_id(self.id),
        )?;
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

/// Writes JSON text for [`Tree::write_json`]: pretty (as `serde_json::to_writer_pretty`,
/// two spaces a level, up to [`MAX_INDENT_LEVEL`]) or compact.
struct JsonOut<'w, W: Write + ?Sized> {
    w: &'w mut W,
    pretty: bool,
    buf: Vec<u8>,
}

impl<W: Write + ?Sized> JsonOut<'_, W> {
    fn newline(&mut self, level: usize) -> io::Result<()> {
        if self.pretty {
            const SPACES: [u8; 2 * MAX_INDENT_LEVEL] = [b' '; 2 * MAX_INDENT_LEVEL];
            self.w.write_all(b"\n")?;
            self.w
                .write_all(&SPACES[..2 * level.min(MAX_INDENT_LEVEL)])?;
        }
        Ok(())
    }

    /// Writes `v` as if it were nested at `level`; `trim` bytes of its end are left out.
    fn value<T: Serialize + ?Sized>(&mut self, v: &T, level: usize, trim: usize) -> io::Result<()> {
        self.buf.clear();
        if self.pretty {
            serde_json::to_writer_pretty(&mut self.buf, v)?;
        } else {
            serde_json::to_writer(&mut self.buf, v)?;
        }
        let end = self.buf.len().saturating_sub(trim);
        let buf = std::mem::take(&mut self.buf);
        let mut rest = &buf[..end];
        // Newlines in serde_json's output are structural (a newline inside a string is
        // escaped), so re-indenting after each one is exact.
        while let Some(i) = memchr::memchr(b'\n', rest) {
            self.w.write_all(&rest[..i])?;
            self.newline(level)?;
            rest = &rest[i + 1..];
        }
        self.w.write_all(rest)?;
        self.buf = buf;
        Ok(())
    }

    fn key(&mut self, first: bool, key: &str, level: usize) -> io::Result<()> {
        if !first {
            self.w.write_all(b",")?;
        }
        self.newline(level)?;
        self.w.write_all(b"\"")?;
        self.w.write_all(key.as_bytes())?;
        self.w.write_all(if self.pretty { b"\": " } else { b"\":" })
    }

    /// Opens node `n` (at nesting `level`): its fields, then `"children": [`, or the
    /// whole node when it has no children. Returns whether children follow.
    fn open_node(
        &mut self,
        n: &Node,
        path: &[u8],
        parent_id: Option<u64>,
        level: usize,
    ) -> io::Result<bool> {
        // The fields as a map, without its closing brace ("\n}" pretty, "}" compact).
        let trim = if self.pretty { 2 } else { 1 };
        self.value(
            &NodeFields {
                node: n,
                path,
                parent_id,
            },
            level,
            trim,
        )?;
        self.key(false, "children", level + 1)?;
        if n.children.is_empty() {
            self.w.write_all(b"[]")?;
            self.newline(level)?;
            self.w.write_all(b"}")?;
            return Ok(false);
        }
        self.w.write_all(b"[")?;
        Ok(true)
    }

    fn close_node(&mut self, level: usize) -> io::Result<()> {
        self.newline(level + 1)?;
        self.w.write_all(b"]")?;
        self.newline(level)?;
        self.w.write_all(b"}")
    }
}

impl Tree {
    /// Writes the JSON document of `docs/json.md` to `w`: pretty-printed exactly as
    /// `serde_json::to_writer_pretty(w, &tree)` (for trees up to [`MAX_SERDE_DEPTH`]
    /// levels), or compact. No trailing newline.
    ///
    /// Unlike the `Serialize` impl, this walks the arena with an explicit stack: memory
    /// and stack stay bounded however deep the tree. Indentation stops growing past
    /// 64 levels of nesting, and a `path` longer than [`MAX_JSON_PATH`] bytes is `null`,
    /// so that the output grows linearly with the tree.
    ///
    /// Errors: those of `w`, unchanged (a broken pipe stays [`io::ErrorKind::BrokenPipe`]).
    ///
    /// # Errors
    /// The writer's errors, as they come.
    pub fn write_json<W: Write + ?Sized>(&self, w: &mut W, pretty: bool) -> io::Result<()> {
        let mut out = JsonOut {
            w,
            pretty,
            buf: Vec::new(),
        };
        out.w.write_all(b"{")?;
        out.key(true, "version", 1)?;
        out.value(&JSON_VERSION, 1, 0)?;
        out.key(false, "host_root", 1)?;
        out.value(&Bytes(self.host.root().as_os_str().as_bytes()), 1, 0)?;
        out.key(false, "mount", 1)?;
        out.value(&MountJson(self), 1, 0)?;
        out.key(false, "cgroup", 1)?;
        // The path of the node being written, and where each open level's path ends.
        let mut path: Vec<u8> = self.nodes[0].name.to_vec();
        // (node, next child, nesting level, path length of the node)
        let mut stack: Vec<(usize, usize, usize, usize)> = Vec::new();
        if out.open_node(&self.nodes[0], &path, self.parent_cgroup_id(0), 1)? {
            stack.push((0, 0, 1, path.len()));
        }
        while let Some(top) = stack.last_mut() {
            let (id, next, level, len) = *top;
            let children = &self.nodes[id].children;
            if next == children.len() {
                stack.pop();
                out.close_node(level)?;
                continue;
            }
            top.1 += 1;
            if next > 0 {
                out.w.write_all(b",")?;
            }
            out.newline(level + 2)?;
            let child = children[next];
            path.truncate(len);
            if path.last() != Some(&b'/') {
                path.push(b'/');
            }
            path.extend_from_slice(&self.nodes[child].name);
            let parent_id = self.nodes[id].cgroup_id;
            if out.open_node(&self.nodes[child], &path, parent_id, level + 2)? {
                stack.push((child, 0, level + 2, path.len()));
            }
        }
        out.newline(0)?;
        out.w.write_all(b"}")
    }
}

struct Errors<'a>(&'a Node);

impl Serialize for Errors<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ErrorsJson(&self.0.errors).serialize(s)
    }
}

/// Errors as the JSON documents list them (docs/json.md, "Error"): the file, the kind,
/// the errno or the line, the message. Shared by the tree and the sample documents.
pub(crate) struct ErrorsJson<'a>(pub(crate) &'a [NodeError]);

impl Serialize for ErrorsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for e in self.0 {
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

/// Recursive, one level of Rust stack per cgroup level: refused (an error of the
/// serializer) for a tree deeper than [`MAX_SERDE_DEPTH`]; [`Tree::write_json`] writes the
/// same document for any depth.
impl Serialize for Tree {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let depth = self.nodes.iter().map(|n| n.depth).max().unwrap_or(0);
        if depth > MAX_SERDE_DEPTH {
            return Err(S::Error::custom(format!(
                "cgroup tree {depth} levels deep: deeper than {MAX_SERDE_DEPTH}, use Tree::write_json"
            )));
        }
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

/// Serializes a value with the keys of every object in byte order, at every level: the
/// `cgtree pid` and `cgtree userns` documents of version 1 have always been written so
/// (and the tree's in field order), whatever features serde_json is built with.
struct Sorted<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Sorted<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        SortedValue(&v).serialize(s)
    }
}

struct SortedValue<'a>(&'a serde_json::Value);

impl Serialize for SortedValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            serde_json::Value::Object(m) => {
                let mut entries: Vec<_> = m.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
                let mut out = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    out.serialize_entry(k, &SortedValue(v))?;
                }
                out.end()
            }
            serde_json::Value::Array(a) => s.collect_seq(a.iter().map(SortedValue)),
            v => v.serialize(s),
        }
    }
}

/// `errors` of a `pid` document: `{"file", "kind", "message"}`.
struct TraceErrorJson<'a>(&'a super::NodeError);

impl Serialize for TraceErrorJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let e = self.0;
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("file", &Bytes(e.path.as_os_str().as_bytes()))?;
        m.serialize_entry("kind", e.kind.code())?;
        m.serialize_entry("message", &e.to_string())?;
        m.end()
    }
}

/// One cgroup of a trace's `chain`: `{"path", "identity"}`.
struct ChainJson<'a>(&'a crate::trace::ChainEntry);

impl Serialize for ChainJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("path", &Bytes(&self.0.path))?;
        m.serialize_entry("identity", &self.0.identity)?;
        m.end()
    }
}

/// A trace's `pod`: the pod with the containers it serves (a shim's).
struct PodJson<'a>(
    &'a crate::resolve::PodRef,
    &'a [crate::resolve::PodContainer],
);

impl Serialize for PodJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("namespace", &self.0.namespace)?;
        m.serialize_entry("name", &self.0.name)?;
        m.serialize_entry("uid", &self.0.uid)?;
        m.serialize_entry("static", &self.0.is_static)?;
        m.serialize_entry("containers", self.1)?;
        m.end()
    }
}

/// The fields of a `cgtree pid --json` object, in the documented order (written sorted).
struct TraceFields<'a>(&'a crate::trace::Trace);

impl Serialize for TraceFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("version", &JSON_VERSION)?;
        m.serialize_entry("pid", &t.pid)?;
        m.serialize_entry(
            "cmdline",
            &crate::parse::cmdline(&t.cmdline)
                .map(Bytes)
                .collect::<Vec<_>>(),
        )?;
        m.serialize_entry("comm", &t.comm.as_deref().map(Bytes))?;
        m.serialize_entry("ppid", &t.ppid)?;
        m.serialize_entry("uid", &t.uid.map(|u| u[0]))?;
        m.serialize_entry("gid", &t.gid.map(|g| g[0]))?;
        m.serialize_entry("nspid", &t.nspid)?;
        m.serialize_entry("cgroup", &Bytes(&t.cgroup))?;
        m.serialize_entry("outside_namespace", &t.outside_namespace)?;
        m.serialize_entry("cgroup_deleted", &t.cgroup_deleted)?;
        m.serialize_entry("host_namespaces", &t.host_namespaces)?;
        m.serialize_entry("chain", &t.chain.iter().map(ChainJson).collect::<Vec<_>>())?;
        m.serialize_entry("role", &t.role)?;
        m.serialize_entry("container", &t.container)?;
        m.serialize_entry("kind_node", &t.kind_node)?;
        m.serialize_entry("node", &t.node)?;
        m.serialize_entry(
            "pod",
            &t.pod.as_ref().map(|p| PodJson(p, &t.pod_containers)),
        )?;
        m.serialize_entry("pod_container", &t.pod_container)?;
        m.serialize_entry("user", &t.user)?;
        m.serialize_entry("userns", &t.userns)?;
        m.serialize_entry(
            "errors",
            &t.errors.iter().map(TraceErrorJson).collect::<Vec<_>>(),
        )?;
        m.end()
    }
}

/// The `cgtree pid --json` object of one process (docs/json.md).
impl Serialize for crate::trace::Trace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Sorted(&TraceFields(self)).serialize(s)
    }
}

/// The fields of a `cgtree id --json` object, in the documented order (written sorted).
struct CgroupTraceFields<'a>(&'a crate::trace::CgroupTrace);

impl Serialize for CgroupTraceFields<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("version", &JSON_VERSION)?;
        m.serialize_entry("id", &t.id)?;
        m.serialize_entry("path", &Bytes(&t.path))?;
        m.serialize_entry("chain", &t.chain.iter().map(ChainJson).collect::<Vec<_>>())?;
        m.serialize_entry("container", &t.container)?;
        m.serialize_entry("kind_node", &t.kind_node)?;
        m.serialize_entry("node", &t.node)?;
        m.serialize_entry("pod", &t.pod.as_ref().map(|p| PodJson(p, &[])))?;
        m.serialize_entry("pod_container", &t.pod_container)?;
        m.serialize_entry(
            "errors",
            &t.errors.iter().map(TraceErrorJson).collect::<Vec<_>>(),
        )?;
        m.end()
    }
}

/// The `cgtree id --json` object of docs/json.md, keys in byte order.
impl Serialize for crate::trace::CgroupTrace {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Sorted(&CgroupTraceFields(self)).serialize(s)
    }
}

/// One line of `cgtree ids --jsonl`.
struct IndexLine<'a> {
    node: &'a Node,
    path: &'a [u8],
    parent_id: Option<u64>,
}

impl Serialize for IndexLine<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(5))?;
        m.serialize_entry("id", &self.node.cgroup_id)?;
        m.serialize_entry("parent_id", &self.parent_id)?;
        m.serialize_entry("name", &Bytes(&self.node.name))?;
        if self.path.len() <= MAX_JSON_PATH {
            m.serialize_entry("path", &Bytes(self.path))?;
        } else {
            m.serialize_entry("path", &())?;
        }
        m.serialize_entry("identity", &self.node.identity)?;
        m.end()
    }
}

impl Tree {
    /// Writes the cgroup id index of `docs/json.md` (`cgtree ids --jsonl`): one compact
    /// JSON object per node and line, in tree order (a parent before its children):
    /// `{"id", "parent_id", "name", "path", "identity"}`, `path` null past
    /// [`MAX_JSON_PATH`] bytes (the `name`s along `parent_id` give it). Memory and time
    /// linear in the tree (paths are built incrementally).
    ///
    /// Errors: those of `w`, unchanged.
    ///
    /// # Errors
    /// The writer's errors, as they come.
    pub fn write_id_index<W: Write + ?Sized>(&self, w: &mut W) -> io::Result<()> {
        let mut path: Vec<u8> = Vec::new();
        // (node, length of `path` up to and including it): the ancestors of the node
        // being written. The arena is in pre-order, so a node's parent is on this stack.
        let mut stack: Vec<(usize, usize)> = Vec::new();
        let mut buf = Vec::new();
        for (id, n) in self.nodes.iter().enumerate() {
            match n.parent {
                None => {
                    stack.clear();
                    path.clear();
                    path.extend_from_slice(&n.name);
                }
                Some(p) => {
                    while stack.last().is_some_and(|&(top, _)| top != p) {
                        stack.pop();
                    }
                    path.truncate(stack.last().map_or(0, |&(_, len)| len));
                    if path.last() != Some(&b'/') {
                        path.push(b'/');
                    }
                    path.extend_from_slice(&n.name);
                }
            }
            stack.push((id, path.len()));
            buf.clear();
            serde_json::to_writer(
                &mut buf,
                &IndexLine {
                    node: n,
                    path: &path,
                    parent_id: self.parent_cgroup_id(id),
                },
            )?;
            buf.push(b'\n');
            w.write_all(&buf)?;
        }
        Ok(())
    }
}

/// The `cgtree userns [NS] --json` document: see [`super::userns::Report::json`].
pub struct UsernsJson<'r, 'a> {
    report: &'r super::userns::Report<'a>,
    only: Option<u64>,
}

struct UsernsFields<'r, 'a>(&'r UsernsJson<'r, 'a>);

struct NsProcessJson<'a>(&'a Process);

impl Serialize for NsProcessJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("pid", &self.0.pid)?;
        m.serialize_entry("user", &self.0.user)?;
        m.serialize_entry("cmdline", &Args(self.0))?;
        m.end()
    }
}

struct NamespaceJson<'r, 'a> {
    report: &'r super::userns::Report<'a>,
    ns: &'r crate::userns::UserNs,
    holds: &'r super::userns::Holdings,
}

impl Serialize for NamespaceJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (n, h) = (self.ns, self.holds);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("inode", &n.inode)?;
        m.serialize_entry("nprocs", &n.pids.len())?;
        m.serialize_entry("pid", &n.first_pid())?;
        m.serialize_entry("uid_map", &n.uid_map.ranges)?;
        m.serialize_entry("gid_map", &n.gid_map.ranges)?;
        m.serialize_entry("initial", &n.uid_map.is_initial())?;
        m.serialize_entry("owner", &n.owner)?;
        m.serialize_entry("owner_source", &n.owner_source)?;
        m.serialize_entry("parent", &n.lineage.parent)?;
        m.serialize_entry("depth", &n.lineage.depth)?;
        m.serialize_entry("lineage_source", &n.lineage.source)?;
        m.serialize_entry("containers", &h.containers)?;
        m.serialize_entry("kind_nodes", &h.kind_nodes)?;
        m.serialize_entry("pods", &h.pods)?;
        m.serialize_entry(
            "processes",
            &n.pids
                .iter()
                .filter_map(|&pid| self.report.process(pid))
                .map(NsProcessJson)
                .collect::<Vec<_>>(),
        )?;
        m.end()
    }
}

impl Serialize for UsernsFields<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0.report;
        let only = self.0.only;
        let list: Vec<NamespaceJson<'_, '_>> = r
            .namespaces
            .iter()
            .zip(&r.holdings)
            .filter(|(n, _)| only.is_none_or(|o| o == n.inode))
            .map(|(ns, holds)| NamespaceJson {
                report: r,
                ns,
                holds,
            })
            .collect();
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("version", &JSON_VERSION)?;
        m.serialize_entry("namespaces", &list)?;
        m.end()
    }
}

impl Serialize for UsernsJson<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Sorted(&UsernsFields(self)).serialize(s)
    }
}

impl<'a> super::userns::Report<'a> {
    /// The `cgtree userns --json` document (docs/json.md): every namespace, or only the
    /// one whose inode is `only`.
    pub fn json(&self, only: Option<u64>) -> UsernsJson<'_, 'a> {
        UsernsJson { report: self, only }
    }
}
