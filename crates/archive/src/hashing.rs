//! SHA-256 hashing and byte counting wrappers for streams.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};
use transit_core::{Event, Progress};

/// Buffer size used for all streaming copies.
pub const BUF_SIZE: usize = 256 * 1024;

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Lowercase hex SHA-256 of a file's contents, streamed: the same hash the
/// manifest records for every entry.
pub fn sha256_file(path: &std::path::Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hashing = HashingWriter::new(io::sink());
    io::copy(&mut file, &mut hashing)?;
    Ok(hashing.finish().1)
}

/// A writer that hashes and counts the bytes passing through to `inner`.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// Returns the byte count and lowercase hex SHA-256 of what was written.
    pub fn finish(self) -> (u64, String) {
        (self.count, hex::encode(self.hasher.finalize()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = buf.get(..n).unwrap_or(buf);
        self.hasher.update(written);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Result of [`copy_bounded`].
#[derive(Debug)]
pub struct BoundedCopy {
    /// Bytes read (at most `limit + 1`).
    pub count: u64,
    /// Lowercase hex SHA-256 of the bytes read.
    pub sha256: String,
    /// True when more than `limit` bytes were available (reading stopped at `limit + 1`).
    pub exceeded: bool,
}

/// Copies at most `limit + 1` bytes from `reader` to `writer`, hashing them and
/// reporting `Event::Advance` of `task` (bytes so far) about every MiB and at
/// the end. Never reads further than `limit + 1`.
pub fn copy_bounded(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    limit: u64,
    task: &str,
    progress: &dyn Progress,
) -> io::Result<BoundedCopy> {
    let cap = limit.saturating_add(1);
    // No larger than what may be read: a small entry gets a small buffer.
    let mut buf = vec![0u8; usize::try_from(cap).map_or(BUF_SIZE, |c| c.min(BUF_SIZE))];
    let mut hasher = Sha256::new();
    let mut count: u64 = 0;
    let mut last_report: u64 = 0;
    while count < cap {
        let want = usize::try_from((cap - count).min(BUF_SIZE as u64)).unwrap_or(BUF_SIZE);
        let chunk = &mut buf[..want];
        let n = match reader.read(chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let data = &chunk[..n];
        hasher.update(data);
        writer.write_all(data)?;
        count += n as u64;
        if count - last_report >= 1024 * 1024 {
            last_report = count;
            progress.event(Event::advance(task, count));
        }
    }
    progress.event(Event::advance(task, count));
    Ok(BoundedCopy {
        count,
        sha256: hex::encode(hasher.finalize()),
        exceeded: count > limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hashing_writer_counts() {
        let mut w = HashingWriter::new(Vec::new());
        w.write_all(b"ab").unwrap();
        w.write_all(b"c").unwrap();
        let (n, h) = w.finish();
        assert_eq!((n, h.as_str()), (3, sha256_hex(b"abc").as_str()));
    }

    #[test]
    fn bounded_copy_stops_after_limit_plus_one() {
        let mut src = io::repeat(0).take(10_000_000);
        let mut out = Vec::new();
        let r = copy_bounded(&mut src, &mut out, 1000, "t", &transit_core::NoProgress).unwrap();
        assert!(r.exceeded);
        assert_eq!(r.count, 1001);
        assert_eq!(out.len(), 1001);
        let mut src = &b"hello"[..];
        let r = copy_bounded(&mut src, &mut io::sink(), 5, "t", &transit_core::NoProgress).unwrap();
        assert!(!r.exceeded);
        assert_eq!(r.sha256, sha256_hex(b"hello"));
    }
}
