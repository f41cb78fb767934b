//! A read-only reader of BoltDB (bbolt) files, for podman's `bolt_state.db`.
//!
//! The file format, from etcd-io/bbolt (`internal/common/page.go`, `meta.go`,
//! `bucket.go`, `inode.go`; `db.go` for the two meta pages; older releases keep the
//! same layout in `page.go`, `bucket.go`, `db.go`), all integers little-endian on the
//! hosts podman runs on:
//!
//! - the file is a sequence of pages of one size (the meta's `pageSize`); page `N`
//!   starts at `N * pageSize`. Every page starts with a 16-byte header: `id` (u64),
//!   `flags` (u16: 0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist), `count` (u16,
//!   elements), `overflow` (u32: the page spans `overflow + 1` pages).
//! - pages 0 and 1 are meta pages: after the header, `magic` 0xED0CDAED, `version` 2,
//!   `pageSize`, `flags`, the root bucket (`root` pgid u64, `sequence` u64), `freelist`
//!   pgid, `pgid` (the high-water mark: no page at or above it is in use), `txid`, and a
//!   `checksum`: FNV-1a 64 of the 56 bytes before it. The valid meta with the higher
//!   `txid` is the current one.
//! - a branch page holds `count` 16-byte elements `pos` (u32), `ksize` (u32), `pgid`
//!   (u64): the child page whose keys start at that key; a leaf page holds 16-byte
//!   elements `flags` (u32; 0x01: the value is a nested bucket), `pos`, `ksize`,
//!   `vsize`. `pos` counts from the element's own first byte; key and value follow each
//!   other there.
//! - a bucket's value is its header, `root` pgid (u64) and `sequence` (u64); a `root`
//!   of 0 is an inline bucket: its one leaf page follows the header inside the value.
//!
//! Only the tree is walked, from the current meta's root down: pages freed by earlier
//! transactions keep stale records (a removed container's config, for instance) and are
//! never read. Everything is bounded: tree depth ([`MAX_DEPTH`]), pages visited per
//! [`Bolt`] ([`MAX_PAGE_VISITS`]), every offset and length checked against the page it
//! is in. A corrupt file gives a [`BoltError`], never a panic.

use std::cell::Cell;
use std::fmt;

/// Deepest B+tree (and bucket nesting) followed. bbolt's trees are a few levels deep;
/// a loop in a corrupt file ends here.
pub const MAX_DEPTH: usize = 32;

/// Most pages visited through one [`Bolt`], over all its walks.
pub const MAX_PAGE_VISITS: usize = 1 << 20;

const PAGE_HEADER: usize = 16;
const ELEMENT: usize = 16;
const BUCKET_HEADER: usize = 16;
const META_LEN: usize = 64;
const MAGIC: u32 = 0xED0C_DAED;
const VERSION: u32 = 2;
const FLAG_BRANCH: u16 = 0x01;
const FLAG_LEAF: u16 = 0x02;
const FLAG_META: u16 = 0x04;
const LEAF_BUCKET: u32 = 0x01;
const MIN_PAGE: u32 = 512;
const MAX_PAGE: u32 = 1 << 16;

/// Why a BoltDB file could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoltError {
    /// Neither meta page is valid (magic, version, page size or checksum).
    NoValidMeta,
    /// A page number outside the file or at/above the meta's high-water mark.
    PageOutOfRange(u64),
    /// A page whose header does not match where it was reached from (its id, or a
    /// branch/leaf flag expected).
    BadPage(u64),
    /// An element whose key or value does not lie inside its page.
    BadElement(u64),
    /// Deeper than [`MAX_DEPTH`].
    TooDeep,
    /// More than [`MAX_PAGE_VISITS`] pages visited.
    TooManyPages,
}

impl fmt::Display for BoltError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BoltError::NoValidMeta => f.write_str("not a BoltDB file (no valid meta page)"),
            BoltError::PageOutOfRange(p) => write!(f, "BoltDB page {p} out of range"),
            BoltError::BadPage(p) => write!(f, "BoltDB page {p} is not the page expected"),
            BoltError::BadElement(p) => write!(f, "BoltDB page {p} has an element outside it"),
            BoltError::TooDeep => write!(f, "BoltDB tree deeper than {MAX_DEPTH}"),
            BoltError::TooManyPages => {
                write!(f, "BoltDB walk visited more than {MAX_PAGE_VISITS} pages")
            }
        }
    }
}

impl std::error::Error for BoltError {}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A valid meta page at `offset`: `(page_size, root, high_water, txid)`.
fn meta_at(data: &[u8], offset: usize) -> Option<(u32, u64, u64, u64)> {
    let page = data.get(offset..offset.checked_add(PAGE_HEADER + META_LEN)?)?;
    if u16_at(page, 8)? & FLAG_META == 0 {
        return None;
    }
    let m = &page[PAGE_HEADER..];
    if u32_at(m, 0)? != MAGIC || u32_at(m, 4)? != VERSION {
        return None;
    }
    if fnv1a64(&m[..56]) != u64_at(m, 56)? {
        return None;
    }
    let page_size = u32_at(m, 8)?;
    if !(MIN_PAGE..=MAX_PAGE).contains(&page_size) || !page_size.is_power_of_two() {
        return None;
    }
    let root = u64_at(m, 16)?;
    let high = u64_at(m, 40)?;
    let txid = u64_at(m, 48)?;
    Some((page_size, root, high, txid))
}

/// An open BoltDB file (its bytes), at its current meta.
pub struct Bolt<'a> {
    data: &'a [u8],
    page_size: usize,
    root: u64,
    high: u64,
    visits: Cell<usize>,
}

/// Reads the meta pages of a BoltDB file.
pub fn bolt(data: &[u8]) -> Result<Bolt<'_>, BoltError> {
    let first = meta_at(data, 0);
    // The second meta is one page further: by the first meta's page size, else by the
    // sizes bbolt is built with (the OS page size).
    let sizes: Vec<usize> = match first {
        Some((ps, ..)) => vec![ps as usize],
        None => vec![4096, 8192, 16384, 65536],
    };
    let second = sizes
        .iter()
        .find_map(|&s| meta_at(data, s).filter(|m| m.0 as usize == s));
    let best = match (first, second) {
        (Some(a), Some(b)) => {
            if b.3 > a.3 {
                b
            } else {
                a
            }
        }
        (Some(a), None) | (None, Some(a)) => a,
        (None, None) => return Err(BoltError::NoValidMeta),
    };
    let (page_size, root, high, _) = best;
    if root < 2 || root >= high {
        return Err(BoltError::PageOutOfRange(root));
    }
    Ok(Bolt {
        data,
        page_size: page_size as usize,
        root,
        high,
        visits: Cell::new(0),
    })
}

/// A bucket: a B+tree rooted at a page, or an inline bucket's page inside its
/// parent's value.
#[derive(Clone, Copy)]
pub struct Bucket<'b, 'a> {
    db: &'b Bolt<'a>,
    root: Root<'a>,
    depth: usize,
}

#[derive(Clone, Copy)]
enum Root<'a> {
    Page(u64),
    Inline(&'a [u8]),
}

/// A value in a bucket: bytes, or a nested bucket.
pub enum Entry<'b, 'a> {
    /// A plain value.
    Value(&'a [u8]),
    /// A nested bucket.
    Bucket(Bucket<'b, 'a>),
}

impl<'a> Bolt<'a> {
    /// The root bucket (whose keys are the top-level buckets).
    pub fn root(&self) -> Bucket<'_, 'a> {
        Bucket {
            db: self,
            root: Root::Page(self.root),
            depth: 0,
        }
    }

    /// Page `pgid` with its overflow pages, checked to be a branch or leaf page.
    fn page(&self, pgid: u64) -> Result<&'a [u8], BoltError> {
        let n = self.visits.get() + 1;
        if n > MAX_PAGE_VISITS {
            return Err(BoltError::TooManyPages);
        }
        self.visits.set(n);
        if pgid < 2 || pgid >= self.high {
            return Err(BoltError::PageOutOfRange(pgid));
        }
        let out = BoltError::PageOutOfRange(pgid);
        let start = usize::try_from(pgid)
            .ok()
            .and_then(|p| p.checked_mul(self.page_size))
            .ok_or(out)?;
        let head = self
            .data
            .get(start..start.checked_add(PAGE_HEADER).ok_or(out)?)
            .ok_or(out)?;
        let (id, flags, overflow) = (
            u64_at(head, 0).ok_or(out)?,
            u16_at(head, 8).ok_or(out)?,
            u32_at(head, 12).ok_or(out)?,
        );
        if id != pgid || flags & (FLAG_BRANCH | FLAG_LEAF) == 0 {
            return Err(BoltError::BadPage(pgid));
        }
        let len = (overflow as usize)
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.page_size))
            .ok_or(out)?;
        if u128::from(pgid) + u128::from(overflow) >= u128::from(self.high) {
            return Err(out);
        }
        self.data
            .get(start..start.checked_add(len).ok_or(out)?)
            .ok_or(out)
    }
}

/// One element of a page: a leaf's `(flags, key, value)` or a branch's `(key, child)`.
enum Elem<'a> {
    Leaf(u32, &'a [u8], &'a [u8]),
    Branch(&'a [u8], u64),
}

/// Element `i` of `page` (`branch`: the page's kind).
fn elem(page: &[u8], i: usize, branch: bool, pgid: u64) -> Result<Elem<'_>, BoltError> {
    let bad = BoltError::BadElement(pgid);
    let at = PAGE_HEADER
        .checked_add(i.checked_mul(ELEMENT).ok_or(bad)?)
        .ok_or(bad)?;
    let e = page
        .get(at..at.checked_add(ELEMENT).ok_or(bad)?)
        .ok_or(bad)?;
    let slice = |from: usize, len: u32| -> Result<&[u8], BoltError> {
        let from = at.checked_add(from).ok_or(bad)?;
        page.get(from..from.checked_add(len as usize).ok_or(bad)?)
            .ok_or(bad)
    };
    if branch {
        let pos = u32_at(e, 0).ok_or(bad)?;
        let ksize = u32_at(e, 4).ok_or(bad)?;
        let child = u64_at(e, 8).ok_or(bad)?;
        Ok(Elem::Branch(slice(pos as usize, ksize)?, child))
    } else {
        let flags = u32_at(e, 0).ok_or(bad)?;
        let pos = u32_at(e, 4).ok_or(bad)? as usize;
        let ksize = u32_at(e, 8).ok_or(bad)?;
        let vsize = u32_at(e, 12).ok_or(bad)?;
        let key = slice(pos, ksize)?;
        let value = slice(pos.checked_add(ksize as usize).ok_or(bad)?, vsize)?;
        Ok(Elem::Leaf(flags, key, value))
    }
}

impl<'b, 'a> Bucket<'b, 'a> {
    /// The bucket or value a leaf element holds.
    fn entry(&self, flags: u32, value: &'a [u8], pgid: u64) -> Result<Entry<'b, 'a>, BoltError> {
        if flags & LEAF_BUCKET == 0 {
            return Ok(Entry::Value(value));
        }
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(BoltError::TooDeep);
        }
        let root = u64_at(value, 0).ok_or(BoltError::BadElement(pgid))?;
        let root = if root == 0 {
            let inline = value
                .get(BUCKET_HEADER..)
                .ok_or(BoltError::BadElement(pgid))?;
            Root::Inline(inline)
        } else {
            Root::Page(root)
        };
        Ok(Entry::Bucket(Bucket {
            db: self.db,
            root,
            depth,
        }))
    }

    /// Calls `f` with every key and entry, in the tree's order, until it returns
    /// `false`.
    pub fn for_each(
        &self,
        f: &mut dyn FnMut(&'a [u8], Entry<'b, 'a>) -> bool,
    ) -> Result<(), BoltError> {
        match self.root {
            Root::Inline(page) => self.walk_page(page, 0, 0, f).map(|_| ()),
            Root::Page(p) => self.walk(p, 0, f).map(|_| ()),
        }
    }

    /// Walks page `pgid` at tree depth `level`; `Ok(false)`: `f` asked to stop.
    fn walk(
        &self,
        pgid: u64,
        level: usize,
        f: &mut dyn FnMut(&'a [u8], Entry<'b, 'a>) -> bool,
    ) -> Result<bool, BoltError> {
        if level > MAX_DEPTH {
            return Err(BoltError::TooDeep);
        }
        let page = self.db.page(pgid)?;
        self.walk_page(page, pgid, level, f)
    }

    fn walk_page(
        &self,
        page: &'a [u8],
        pgid: u64,
        level: usize,
        f: &mut dyn FnMut(&'a [u8], Entry<'b, 'a>) -> bool,
    ) -> Result<bool, BoltError> {
        let flags = u16_at(page, 8).ok_or(BoltError::BadPage(pgid))?;
        let count = usize::from(u16_at(page, 10).ok_or(BoltError::BadPage(pgid))?);
        let branch = flags & FLAG_BRANCH != 0;
        // An inline bucket's page is a leaf.
        if matches!(self.root, Root::Inline(_)) && (branch || flags & FLAG_LEAF == 0) {
            return Err(BoltError::BadPage(pgid));
        }
        for i in 0..count {
            match elem(page, i, branch, pgid)? {
                Elem::Branch(_, child) => {
                    if !self.walk(child, level + 1, f)? {
                        return Ok(false);
                    }
                }
                Elem::Leaf(fl, key, value) => {
                    if !f(key, self.entry(fl, value, pgid)?) {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }

    /// The entry under `key`, by descending the tree (at each branch, the last child
    /// whose first key is at most `key`).
    pub fn get(&self, key: &[u8]) -> Result<Option<Entry<'b, 'a>>, BoltError> {
        let (mut page, mut pgid) = match self.root {
            Root::Inline(p) => (p, 0),
            Root::Page(p) => (self.db.page(p)?, p),
        };
        for _ in 0..=MAX_DEPTH {
            let flags = u16_at(page, 8).ok_or(BoltError::BadPage(pgid))?;
            let count = usize::from(u16_at(page, 10).ok_or(BoltError::BadPage(pgid))?);
            if flags & FLAG_BRANCH != 0 {
                if matches!(self.root, Root::Inline(_)) {
                    return Err(BoltError::BadPage(pgid));
                }
                let mut next = None;
                for i in 0..count {
                    if let Elem::Branch(k, child) = elem(page, i, true, pgid)? {
                        if k > key && next.is_some() {
                            break;
                        }
                        next = Some(child);
                    }
                }
                let Some(child) = next else {
                    return Ok(None);
                };
                pgid = child;
                page = self.db.page(child)?;
                continue;
            }
            for i in 0..count {
                if let Elem::Leaf(fl, k, v) = elem(page, i, false, pgid)? {
                    if k == key {
                        return self.entry(fl, v, pgid).map(Some);
                    }
                }
            }
            return Ok(None);
        }
        Err(BoltError::TooDeep)
    }

    /// The nested bucket under `key` (`None`: no such key, or a plain value).
    pub fn bucket(&self, key: &[u8]) -> Result<Option<Bucket<'b, 'a>>, BoltError> {
        Ok(match self.get(key)? {
            Some(Entry::Bucket(b)) => Some(b),
            _ => None,
        })
    }

    /// The plain value under `key` (`None`: no such key, or a bucket).
    pub fn value(&self, key: &[u8]) -> Result<Option<&'a [u8]>, BoltError> {
        Ok(match self.get(key)? {
            Some(Entry::Value(v)) => Some(v),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real file: Debian's podman 4.3.1 (`podman --root T --runroot T
    /// --storage-driver vfs create --label ...` from an imported one-file image): four
    /// containers (kind-style labels, toolbox, distrobox, a plain one), and one more
    /// created with label `removed.label=yes` and then removed (`podman rm`), whose
    /// config stays in freed pages.
    const PODMAN_431: &[u8] = include_bytes!("../../testdata/podman-4.3.1-bolt_state.db");

    fn keys(b: &Bucket<'_, '_>) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        b.for_each(&mut |k, _| {
            v.push(k.to_vec());
            true
        })
        .expect("walk");
        v
    }

    #[test]
    fn podman_431_buckets_and_configs() {
        let db = bolt(PODMAN_431).expect("meta");
        let root = db.root();
        let top = keys(&root);
        for want in [&b"ctr"[..], b"all-ctrs", b"id-registry", b"runtime-config"] {
            assert!(
                top.iter().any(|k| k == want),
                "{:?}",
                String::from_utf8_lossy(want)
            );
        }
        let ctrs = root.bucket(b"ctr").expect("walk").expect("ctr bucket");
        let ids = keys(&ctrs);
        assert_eq!(ids.len(), 4, "the removed container is not in the tree");
        let mut labels = Vec::new();
        for id in &ids {
            let c = ctrs.bucket(id).expect("walk").expect("container bucket");
            let config = c.value(b"config").expect("walk").expect("config");
            // A config is several pages long: it is read through its overflow pages.
            assert!(config.len() > 4096, "{}", config.len());
            let v: serde_json::Value = serde_json::from_slice(config).expect("json");
            assert_eq!(v["id"].as_str().map(str::as_bytes), Some(&id[..]));
            labels.push(v["labels"].to_string());
        }
        labels.sort();
        assert_eq!(
            labels,
            [
                r#"{"a":"b"}"#,
                r#"{"com.github.containers.toolbox":"true"}"#,
                r#"{"io.x-k8s.kind.cluster":"kind","io.x-k8s.kind.role":"control-plane"}"#,
                r#"{"manager":"distrobox"}"#,
            ]
        );
        // The removed container's config is still in the file's bytes (freed pages),
        // but not reachable.
        assert!(memchr::memmem::find(PODMAN_431, b"removed.label").is_some());
        let all = root.bucket(b"all-ctrs").expect("walk").expect("all-ctrs");
        assert_eq!(keys(&all), {
            let mut i = ids.clone();
            i.sort();
            i
        });
        assert!(ctrs.get(b"nope").expect("walk").is_none());
    }

    #[test]
    fn corrupt_podman_file_errors_never_panics() {
        // Truncated anywhere.
        for len in (0..PODMAN_431.len()).step_by(509) {
            if let Ok(db) = bolt(&PODMAN_431[..len]) {
                let _ = walk_all(&db);
            }
        }
        // Any byte flipped (a sample of offsets over every page).
        let mut copy = PODMAN_431.to_vec();
        for at in (0..copy.len()).step_by(7) {
            for x in [0xff_u8, 0x01, 0x80] {
                copy[at] ^= x;
                if let Ok(db) = bolt(&copy) {
                    let _ = walk_all(&db);
                }
                copy[at] ^= x;
            }
        }
        assert!(matches!(bolt(b""), Err(BoltError::NoValidMeta)));
    }

    /// Every bucket and value, recursively; the number of entries.
    fn walk_all(db: &Bolt<'_>) -> Result<usize, BoltError> {
        fn go(b: &Bucket<'_, '_>, n: &mut usize) -> Result<(), BoltError> {
            let mut inner = Vec::new();
            b.for_each(&mut |_, e| {
                *n += 1;
                if let Entry::Bucket(x) = e {
                    inner.push(x);
                }
                true
            })?;
            for x in inner {
                go(&x, n)?;
            }
            Ok(())
        }
        let mut n = 0;
        go(&db.root(), &mut n)?;
        Ok(n)
    }

    // A synthetic file, written by the layout above, for the shapes a small podman
    // database does not have (branch pages, loops).
    const PS: usize = 512;

    fn header(buf: &mut [u8], id: u64, flags: u16, count: u16, overflow: u32) {
        buf[0..8].copy_from_slice(&id.to_le_bytes());
        buf[8..10].copy_from_slice(&flags.to_le_bytes());
        buf[10..12].copy_from_slice(&count.to_le_bytes());
        buf[12..16].copy_from_slice(&overflow.to_le_bytes());
    }

    fn meta(file: &mut [u8], page: usize, root: u64, high: u64, txid: u64) {
        let p = &mut file[page * PS..];
        header(p, page as u64, FLAG_META, 0, 0);
        let m = &mut p[PAGE_HEADER..PAGE_HEADER + META_LEN];
        m[0..4].copy_from_slice(&MAGIC.to_le_bytes());
        m[4..8].copy_from_slice(&VERSION.to_le_bytes());
        m[8..12].copy_from_slice(&(PS as u32).to_le_bytes());
        m[16..24].copy_from_slice(&root.to_le_bytes());
        m[40..48].copy_from_slice(&high.to_le_bytes());
        m[48..56].copy_from_slice(&txid.to_le_bytes());
        let sum = fnv1a64(&m[..56]);
        m[56..64].copy_from_slice(&sum.to_le_bytes());
    }

    /// A leaf page image (header id `id`) of `(flags, key, value)`.
    fn leaf(id: u64, items: &[(u32, &[u8], &[u8])]) -> Vec<u8> {
        let mut p = vec![0u8; PAGE_HEADER + ELEMENT * items.len()];
        header(&mut p, id, FLAG_LEAF, items.len() as u16, 0);
        for (i, (fl, k, v)) in items.iter().enumerate() {
            let at = PAGE_HEADER + i * ELEMENT;
            let pos = (p.len() - at) as u32;
            p[at..at + 4].copy_from_slice(&fl.to_le_bytes());
            p[at + 4..at + 8].copy_from_slice(&pos.to_le_bytes());
            p[at + 8..at + 12].copy_from_slice(&(k.len() as u32).to_le_bytes());
            p[at + 12..at + 16].copy_from_slice(&(v.len() as u32).to_le_bytes());
            p.extend_from_slice(k);
            p.extend_from_slice(v);
        }
        p
    }

    fn branch(id: u64, items: &[(&[u8], u64)]) -> Vec<u8> {
        let mut p = vec![0u8; PAGE_HEADER + ELEMENT * items.len()];
        header(&mut p, id, FLAG_BRANCH, items.len() as u16, 0);
        for (i, (k, child)) in items.iter().enumerate() {
            let at = PAGE_HEADER + i * ELEMENT;
            let pos = (p.len() - at) as u32;
            p[at..at + 4].copy_from_slice(&pos.to_le_bytes());
            p[at + 4..at + 8].copy_from_slice(&(k.len() as u32).to_le_bytes());
            p[at + 8..at + 16].copy_from_slice(&child.to_le_bytes());
            p.extend_from_slice(k);
        }
        p
    }

    fn bucket_value(root: u64, inline: &[u8]) -> Vec<u8> {
        let mut v = root.to_le_bytes().to_vec();
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(inline);
        v
    }

    /// Pages 2.. from images; each image may span several pages (overflow).
    fn file(pages: &[Vec<u8>], root: u64) -> Vec<u8> {
        let mut f = vec![0u8; 2 * PS];
        for img in pages {
            let n = img.len().div_ceil(PS).max(1);
            let start = f.len();
            f.resize(start + n * PS, 0);
            f[start..start + img.len()].copy_from_slice(img);
            let ov = (n - 1) as u32;
            f[start + 12..start + 16].copy_from_slice(&ov.to_le_bytes());
        }
        let high = (f.len() / PS) as u64;
        meta(&mut f, 0, root, high, 1);
        meta(&mut f, 1, root, high, 2);
        f
    }

    #[test]
    fn branches_inline_buckets_overflow() {
        let big = vec![b'x'; 3 * PS];
        let inline = leaf(0, &[(0, b"k", b"inline value")]);
        // Page 2: branch root -> pages 3 and 4 (leaves); page 3 holds an inline bucket,
        // page 4 a value spanning three more pages, then page 8: a bucket's own root.
        let pages = vec![
            branch(2, &[(b"a", 3), (b"m", 4)]),
            leaf(
                3,
                &[
                    (LEAF_BUCKET, b"a-inline", &bucket_value(0, &inline)),
                    (LEAF_BUCKET, b"b-paged", &bucket_value(8, &[])),
                ],
            ),
            leaf(4, &[(0, b"m-big", &big), (0, b"z", b"last")]),
            leaf(8, &[(0, b"deep", b"yes")]),
        ];
        let f = file(&pages, 2);
        let db = bolt(&f).expect("meta");
        let root = db.root();
        assert_eq!(keys(&root), [&b"a-inline"[..], b"b-paged", b"m-big", b"z"]);
        assert_eq!(root.value(b"m-big").expect("walk"), Some(&big[..]));
        assert_eq!(root.value(b"z").expect("walk"), Some(&b"last"[..]));
        let i = root.bucket(b"a-inline").expect("walk").expect("inline");
        assert_eq!(i.value(b"k").expect("walk"), Some(&b"inline value"[..]));
        let p = root.bucket(b"b-paged").expect("walk").expect("paged");
        assert_eq!(p.value(b"deep").expect("walk"), Some(&b"yes"[..]));
        assert!(root.bucket(b"z").expect("walk").is_none());
        assert_eq!(walk_all(&db), Ok(6));
    }

    #[test]
    fn loops_and_bad_pointers_are_errors() {
        // A branch pointing to itself.
        let f = file(&[branch(2, &[(b"a", 2)])], 2);
        let db = bolt(&f).expect("meta");
        assert_eq!(walk_all(&db), Err(BoltError::TooDeep));
        assert_eq!(db.root().get(b"a").err(), Some(BoltError::TooDeep));
        // A bucket whose root is its parent's page, at every nesting: the depth bound.
        let f = file(&[leaf(2, &[(LEAF_BUCKET, b"b", &bucket_value(2, &[]))])], 2);
        let db = bolt(&f).expect("meta");
        assert_eq!(walk_all(&db), Err(BoltError::TooDeep));
        // A child past the high-water mark, a meta page, a page whose id is not its own.
        for child in [9, 1, 0] {
            let f = file(&[branch(2, &[(b"a", child)])], 2);
            let db = bolt(&f).expect("meta");
            assert_eq!(walk_all(&db), Err(BoltError::PageOutOfRange(child)));
        }
        let f = file(&[branch(2, &[(b"a", 3)]), leaf(7, &[])], 2);
        let db = bolt(&f).expect("meta");
        assert_eq!(walk_all(&db), Err(BoltError::BadPage(3)));
        // An element whose key runs past its page.
        let mut img = leaf(2, &[(0, b"k", b"v")]);
        img[PAGE_HEADER + 8..PAGE_HEADER + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let f = file(&[img], 2);
        let db = bolt(&f).expect("meta");
        assert_eq!(walk_all(&db), Err(BoltError::BadElement(2)));
        // A wide tree of shared children: bounded by the page budget, not exponential.
        let wide: Vec<(&[u8], u64)> = (0..28).map(|_| (&b"a"[..], 2u64)).collect();
        let f = file(&[branch(2, &wide)], 2);
        let db = bolt(&f).expect("meta");
        assert!(walk_all(&db).is_err());
    }

    #[test]
    fn newer_valid_meta_wins_and_a_bad_checksum_falls_back() {
        let mut f = file(
            &[leaf(2, &[(0, b"old", b"1")]), leaf(3, &[(0, b"new", b"2")])],
            2,
        );
        let high = (f.len() / PS) as u64;
        meta(&mut f, 1, 3, high, 9);
        assert_eq!(keys(&bolt(&f).expect("meta").root()), [b"new"]);
        f[PS + PAGE_HEADER + 20] ^= 1; // meta 1's root, checksum now wrong
        assert_eq!(keys(&bolt(&f).expect("meta").root()), [b"old"]);
        f[PAGE_HEADER] ^= 1; // meta 0's magic
        assert!(matches!(bolt(&f), Err(BoltError::NoValidMeta)));
    }
}
