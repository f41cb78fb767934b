//! Records read from a fanotify group created with `FAN_REPORT_DFID_NAME` (and
//! `FAN_REPORT_FID`): `struct fanotify_event_metadata`, then info records
//! (`struct fanotify_event_info_fid`: a header, the filesystem id, a `struct file_handle`
//! and, for a directory-and-name record, the entry's NUL-terminated name).
//!
//! Source: fanotify(7) ("Reading fanotify events", "fanotify_event_info_fid") and
//! include/uapi/linux/fanotify.h. All integers are in the host's byte order. For cgroup2
//! (kernfs) the file handle's type is `FILEID_KERNFS` (0xfe) and its 8 bytes are the
//! kernfs node id: on 64-bit hosts the inode number of the cgroup directory, which is
//! the cgroup id BPF programs see.

/// Size of `struct fanotify_event_metadata`.
pub const FAN_METADATA_LEN: usize = 24;
/// `FANOTIFY_METADATA_VERSION`.
pub const FAN_METADATA_VERSION: u8 = 3;
/// `FAN_EVENT_INFO_TYPE_FID`: the object's own file handle.
pub const FAN_INFO_FID: u8 = 1;
/// `FAN_EVENT_INFO_TYPE_DFID_NAME`: the parent directory's handle and the entry's name.
pub const FAN_INFO_DFID_NAME: u8 = 2;
/// `FAN_EVENT_INFO_TYPE_DFID`: the parent directory's handle.
pub const FAN_INFO_DFID: u8 = 3;
/// `FILEID_KERNFS`: a kernfs (cgroup2, sysfs) file handle holding the 64-bit node id.
pub const FILEID_KERNFS: i32 = 0xfe;

/// A `struct file_handle` inside an info record: its type and its opaque bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanHandle<'a> {
    /// `handle_type` (`FILEID_KERNFS` for cgroup2).
    pub handle_type: i32,
    /// `f_handle[handle_bytes]`.
    pub bytes: &'a [u8],
}

impl FanHandle<'_> {
    /// The kernfs node id (the cgroup id, the directory's inode number on 64-bit hosts)
    /// when this is an 8-byte `FILEID_KERNFS` handle; otherwise `None`.
    pub fn kernfs_id(&self) -> Option<u64> {
        if self.handle_type != FILEID_KERNFS {
            return None;
        }
        let b: [u8; 8] = self.bytes.try_into().ok()?;
        Some(u64::from_ne_bytes(b))
    }
}

/// One event: its mask (`FAN_*` bits) and the records this parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanRecord<'a> {
    /// `mask`: `FAN_CREATE`, `FAN_DELETE`, `FAN_MODIFY`, `FAN_ONDIR`, `FAN_Q_OVERFLOW`...
    pub mask: u64,
    /// `fd` (`FAN_NOFD` = -1 with file-handle reporting).
    pub fd: i32,
    /// The parent directory's handle (`DFID_NAME` or `DFID` record).
    pub dir: Option<FanHandle<'a>>,
    /// The entry's name in that directory (`DFID_NAME` record; `.` for the directory
    /// itself), without its NUL.
    pub name: Option<&'a [u8]>,
    /// The object's own handle (`FID` record).
    pub object: Option<FanHandle<'a>>,
}

/// What was wrong with an event record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FanError {
    /// Fewer bytes than `event_len` (or than the metadata) are left.
    Truncated,
    /// `vers` is not [`FAN_METADATA_VERSION`].
    Version(u8),
    /// `event_len` or `metadata_len` is smaller than the metadata, or an info record's
    /// `len` does not fit its event.
    BadLength,
}

impl std::fmt::Display for FanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FanError::Truncated => f.write_str("truncated fanotify event"),
            FanError::Version(v) => write!(f, "fanotify metadata version {v}, expected 3"),
            FanError::BadLength => f.write_str("fanotify event with an impossible length"),
        }
    }
}

/// Iterator over the events of one `read(2)` of a fanotify descriptor: [`fanotify_events`].
/// After an error it stops (the rest of the buffer cannot be framed).
#[derive(Debug, Clone)]
pub struct FanEvents<'a> {
    rest: &'a [u8],
}

/// The events in `buf` (the bytes one `read(2)` returned).
pub fn fanotify_events(buf: &[u8]) -> FanEvents<'_> {
    FanEvents { rest: buf }
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
}

/// Parses one `fanotify_event_info_fid` body (after the 4-byte header): fsid, handle and,
/// when `named`, the NUL-terminated name.
fn info_fid(body: &[u8], named: bool) -> Option<(FanHandle<'_>, Option<&[u8]>)> {
    // 8 bytes of fsid, then struct file_handle { u32 handle_bytes; i32 handle_type; ... }.
    let handle_bytes = u32_at(body, 8)? as usize;
    let handle_type = u32_at(body, 12)? as i32;
    let start = 16usize;
    let end = start.checked_add(handle_bytes)?;
    let bytes = body.get(start..end)?;
    let name = if named {
        let tail = body.get(end..)?;
        let nul = memchr::memchr(0, tail)?;
        Some(&tail[..nul])
    } else {
        None
    };
    Some((FanHandle { handle_type, bytes }, name))
}

impl<'a> Iterator for FanEvents<'a> {
    type Item = Result<FanRecord<'a>, FanError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let r = parse_one(self.rest);
        match r {
            Ok((rec, used)) => {
                self.rest = self.rest.get(used..).unwrap_or_default();
                Some(Ok(rec))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

fn parse_one(b: &[u8]) -> Result<(FanRecord<'_>, usize), FanError> {
    let event_len = u32_at(b, 0).ok_or(FanError::Truncated)? as usize;
    let vers = *b.get(4).ok_or(FanError::Truncated)?;
    let metadata_len = u16_at(b, 6).ok_or(FanError::Truncated)? as usize;
    let mask = u64_at(b, 8).ok_or(FanError::Truncated)?;
    let fd = u32_at(b, 16).ok_or(FanError::Truncated)? as i32;
    if vers != FAN_METADATA_VERSION {
        return Err(FanError::Version(vers));
    }
    if event_len < FAN_METADATA_LEN || metadata_len < FAN_METADATA_LEN || metadata_len > event_len {
        return Err(FanError::BadLength);
    }
    let ev = b.get(..event_len).ok_or(FanError::Truncated)?;
    let mut rec = FanRecord {
        mask,
        fd,
        dir: None,
        name: None,
        object: None,
    };
    let mut info = ev.get(metadata_len..).unwrap_or_default();
    while !info.is_empty() {
        let info_type = *info.first().ok_or(FanError::BadLength)?;
        let len = u16_at(info, 2).ok_or(FanError::BadLength)? as usize;
        if len < 4 || len > info.len() {
            return Err(FanError::BadLength);
        }
        let body = &info[4..len];
        match info_type {
            FAN_INFO_DFID_NAME => {
                if let Some((h, name)) = info_fid(body, true) {
                    rec.dir = Some(h);
                    rec.name = name;
                }
            }
            FAN_INFO_DFID => {
                if let Some((h, _)) = info_fid(body, false) {
                    rec.dir = Some(h);
                }
            }
            FAN_INFO_FID => {
                if let Some((h, _)) = info_fid(body, false) {
                    rec.object = Some(h);
                }
            }
            // PIDFD, ERROR, rename records: not used here.
            _ => {}
        }
        info = &info[len..];
    }
    Ok((rec, event_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(kind: u8, id: u64, name: Option<&[u8]>) -> Vec<u8> {
        let mut body = vec![0u8; 8]; // fsid
        body.extend_from_slice(&8u32.to_ne_bytes());
        body.extend_from_slice(&FILEID_KERNFS.to_ne_bytes());
        body.extend_from_slice(&id.to_ne_bytes());
        if let Some(n) = name {
            body.extend_from_slice(n);
            body.push(0);
        }
        while (body.len() + 4) % 4 != 0 {
            body.push(0);
        }
        let mut v = vec![kind, 0];
        v.extend_from_slice(&((body.len() + 4) as u16).to_ne_bytes());
        v.extend_from_slice(&body);
        v
    }

    fn event(mask: u64, infos: &[Vec<u8>]) -> Vec<u8> {
        let len: usize = FAN_METADATA_LEN + infos.iter().map(Vec::len).sum::<usize>();
        let mut v = Vec::new();
        v.extend_from_slice(&(len as u32).to_ne_bytes());
        v.push(FAN_METADATA_VERSION);
        v.push(0);
        v.extend_from_slice(&(FAN_METADATA_LEN as u16).to_ne_bytes());
        v.extend_from_slice(&mask.to_ne_bytes());
        v.extend_from_slice(&(-1i32).to_ne_bytes());
        v.extend_from_slice(&42i32.to_ne_bytes());
        for i in infos {
            v.extend_from_slice(i);
        }
        v
    }

    #[test]
    fn create_with_dir_name_and_object() {
        let mut buf = event(
            0x4000_0100,
            &[
                info(FAN_INFO_DFID_NAME, 77, Some(b"pod-a")),
                info(FAN_INFO_FID, 78, None),
            ],
        );
        buf.extend(event(0x4000, &[])); // an overflow: no records
        let evs: Vec<_> = fanotify_events(&buf).collect();
        assert_eq!(evs.len(), 2);
        let e = evs[0].expect("first");
        assert_eq!(e.mask, 0x4000_0100);
        assert_eq!(e.fd, -1);
        assert_eq!(e.dir.and_then(|h| h.kernfs_id()), Some(77));
        assert_eq!(e.name, Some(&b"pod-a"[..]));
        assert_eq!(e.object.and_then(|h| h.kernfs_id()), Some(78));
        let o = evs[1].expect("second");
        assert_eq!((o.mask, o.dir, o.name), (0x4000, None, None));
    }

    #[test]
    fn bad_input_is_an_error_never_a_panic() {
        let good = event(0x100, &[info(FAN_INFO_DFID_NAME, 1, Some(b"x"))]);
        for cut in 0..good.len() {
            let r: Vec<_> = fanotify_events(&good[..cut]).collect();
            assert!(cut == 0 || r.iter().any(Result::is_err), "cut {cut}");
        }
        let mut v = good.clone();
        v[4] = 2;
        assert_eq!(fanotify_events(&v).next(), Some(Err(FanError::Version(2))));
        let mut v = good.clone();
        v[0..4].copy_from_slice(&3u32.to_ne_bytes());
        assert_eq!(fanotify_events(&v).next(), Some(Err(FanError::BadLength)));
        // A handle longer than its record: the record is skipped, the event kept.
        let mut v = good;
        v[FAN_METADATA_LEN + 12..FAN_METADATA_LEN + 16].copy_from_slice(&999u32.to_ne_bytes());
        let e = fanotify_events(&v).next().expect("one").expect("ok");
        assert_eq!((e.dir, e.name), (None, None));
    }

    #[test]
    fn any_bytes_never_panic() {
        // Every one-byte change of two valid events, and pseudo-random buffers.
        let mut good = event(0x100, &[info(FAN_INFO_DFID_NAME, 1, Some(b"x"))]);
        good.extend(event(0x200, &[info(FAN_INFO_FID, 2, None)]));
        for i in 0..good.len() {
            for b in [0u8, 1, 2, 3, 0x7f, 0xff] {
                let mut v = good.clone();
                v[i] = b;
                for r in fanotify_events(&v).flatten() {
                    let _ = (r.dir.and_then(|h| h.kernfs_id()), r.name);
                }
            }
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in 0..600 {
            let v: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            assert!(fanotify_events(&v).count() <= v.len() / FAN_METADATA_LEN + 1);
        }
    }
}
