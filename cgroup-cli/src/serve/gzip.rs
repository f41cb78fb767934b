//! gzip for `/metrics` responses (RFC 1952, deflate RFC 1951, through flate2): a scrape's
//! body is compressed once and kept with the scrape; each response adds its compressed
//! self-metrics and the trailer, so that every response is one gzip member (what any
//! client reads, not only those that read concatenated members).
//!
//! The kept stream ends with a sync flush: an empty stored block that is not the last,
//! ending on a byte boundary, after which the self-metrics' own deflate blocks (the last
//! one final) follow in the same member. The member's CRC-32 is the body's combined with
//! the self-metrics' (crc32fast's `Hasher::combine`), its length their sum (mod 2^32).

use crc32fast::Hasher;
use flate2::{Compress, Compression, FlushCompress, Status};
use hyper::body::Bytes;

/// Whether an `Accept-Encoding` value accepts gzip (RFC 9110, section 12.5.3): `gzip` or
/// `x-gzip` with a `q` above 0, or `*` with a `q` above 0 when gzip is not listed.
/// `None` (no header): no.
pub(crate) fn accepts_gzip(value: Option<&str>) -> bool {
    let Some(value) = value else {
        return false;
    };
    let (mut gzip, mut any) = (None::<bool>, false);
    for (name, q) in super::weighted(value) {
        match name.as_str() {
            "gzip" | "x-gzip" => gzip = Some(gzip.unwrap_or(false) || q > 0.0),
            "*" => any |= q > 0.0,
            _ => {}
        }
    }
    gzip.unwrap_or(any)
}

/// The fixed gzip header: deflate, no flags, no time, no extra flags, OS unknown.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// The compression level: the fastest (the body is compressed at every scrape, and
/// Prometheus's text compresses well at any level).
fn level() -> Compression {
    Compression::fast()
}

/// `input` as raw deflate blocks, ended by `flush` (`Sync`: not final, byte-aligned;
/// `Finish`: final). `None` when the compressor refuses (it does not on valid use).
fn deflate(input: &[u8], flush: FlushCompress) -> Option<Vec<u8>> {
    let mut c = Compress::new(level(), false);
    let mut out = Vec::with_capacity(input.len() / 8 + 1024);
    loop {
        let done = usize::try_from(c.total_in()).ok()?;
        let rest = input.get(done..)?;
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(4096));
        }
        let before = (c.total_in(), c.total_out());
        let status = c.compress_vec(rest, &mut out, flush).ok()?;
        let all_in = usize::try_from(c.total_in()).ok()? == input.len();
        match (flush, status) {
            (_, Status::StreamEnd) => return Some(out),
            // A flush is complete when it left room in the output.
            (FlushCompress::Sync, _) if all_in && out.len() < out.capacity() => return Some(out),
            _ => {}
        }
        if (c.total_in(), c.total_out()) == before && out.len() < out.capacity() {
            // No progress with room to spare: would loop for ever.
            return None;
        }
    }
}

/// A scrape body's deflate stream (sync-flushed), its CRC-32 and length.
pub(crate) struct Deflated {
    data: Bytes,
    crc: Hasher,
    /// The body's length, in bytes.
    data_len: u64,
}

impl Deflated {
    /// Compresses `body` (`None` when the compressor refused: the response is then sent
    /// as it is).
    pub(crate) fn new(body: &[u8]) -> Option<Self> {
        let data = Bytes::from(deflate(body, FlushCompress::Sync)?);
        let mut crc = Hasher::new();
        crc.update(body);
        Some(Deflated {
            data,
            crc,
            data_len: body.len() as u64,
        })
    }

    /// One gzip member of the body and `tail` after it: the header, the kept stream (shared,
    /// not copied), then `tail`'s final blocks and the trailer.
    pub(crate) fn member(&self, tail: &[u8]) -> Option<[Bytes; 3]> {
        let mut end = deflate(tail, FlushCompress::Finish)?;
        let mut crc = self.crc.clone();
        let mut tail_crc = Hasher::new();
        tail_crc.update(tail);
        crc.combine(&tail_crc);
        let len = self.data_len.wrapping_add(tail.len() as u64);
        end.extend_from_slice(&crc.finalize().to_le_bytes());
        // ISIZE: the length mod 2^32.
        end.extend_from_slice(&((len & 0xffff_ffff) as u32).to_le_bytes());
        Some([
            Bytes::from_static(&HEADER),
            self.data.clone(),
            Bytes::from(end),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Decompresses one gzip member that must fill `gz` exactly.
    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut d = flate2::read::GzDecoder::new(gz);
        let mut out = Vec::new();
        d.read_to_end(&mut out).expect("a valid gzip member");
        assert!(d.into_inner().is_empty(), "bytes after the first member");
        out
    }

    #[test]
    fn one_member_of_body_and_tail() {
        let mut body = Vec::new();
        // Large enough for the output to grow several times; and empty.
        for i in 0..40_000u32 {
            body.extend_from_slice(format!("m{{i=\"{i}\"}} {}\n", i * 7 % 1013).as_bytes());
        }
        for (body, tail) in [
            (&body[..], &b"# EOF\n"[..]),
            (&body[..], &b""[..]),
            (&b""[..], &b"x 1\n"[..]),
            (&b""[..], &b""[..]),
        ] {
            let d = Deflated::new(body).expect("deflate");
            let gz: Vec<u8> = d.member(tail).expect("member").concat();
            let mut want = body.to_vec();
            want.extend_from_slice(tail);
            assert_eq!(gunzip(&gz), want);
            if body.len() > 100_000 {
                assert!(gz.len() < body.len() / 3, "{} of {}", gz.len(), body.len());
            }
        }
    }

    #[test]
    fn accept_encoding() {
        assert!(!accepts_gzip(None));
        assert!(!accepts_gzip(Some("")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(Some("br, deflate")));
        // What Prometheus and curl --compressed send.
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, gzip")));
        assert!(accepts_gzip(Some("GZip;q=0.5")));
        assert!(accepts_gzip(Some("x-gzip")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("gzip; q=0.000")));
        assert!(!accepts_gzip(Some("gzip;q=nan")));
        assert!(accepts_gzip(Some("*")));
        assert!(!accepts_gzip(Some("*;q=0")));
        // Listed with q=0, not taken back by `*`.
        assert!(!accepts_gzip(Some("gzip;q=0, *")));
    }
}
