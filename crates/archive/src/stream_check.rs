//! Checking a component as it is decrypted, without a temporary copy.
//!
//! `verify` used to decrypt each inner zip into a temporary file and then
//! read every entry back through the zip's central directory: every byte
//! of the migration file was written once and read twice more. Here the
//! decrypted bytes are hashed as they arrive and the inner zip is read in
//! the same pass, entry by entry, from its local headers.
//!
//! Only a component that is clean in every respect is settled this way:
//! its size and SHA-256 match the manifest, each local entry has a safe
//! UTF-8 path and is listed once, with its size and SHA-256, every listed entry is there, and the
//! central directory counts as many entries as the local headers. Anything
//! else (damage, an entry the stream cannot size, a zip whose directory
//! disagrees) is left to the thorough check through a temporary copy,
//! which names the problem exactly as before.

use crate::component_reader::MAX_DEFLATE_RATIO;
use crate::hashing::copy_bounded;
use crate::manifest::ComponentRecord;
use crate::safety::is_safe_entry_path;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::io::{self, Read};
use transit_core::{CancelToken, Event, Progress};

/// How a streamed check ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum StreamCheck {
    /// Everything matches the manifest: the inner zip's size and the
    /// number of its entries.
    Clean {
        /// Bytes of the inner zip.
        bytes: u64,
        /// Entries checked.
        entries: u64,
    },
    /// Something differs or could not be read as a stream: check again
    /// through a temporary copy.
    Unsettled,
}

/// The end of a zip the stream keeps: the end-of-central-directory record
/// (22 bytes without a comment), after the Zip64 one and its locator.
const TAIL: usize = 22 + 20 + 56;

/// Reads the decrypted inner zip, hashing and counting every byte (at most
/// `cap`), keeping the last [`TAIL`] bytes and reporting progress.
struct Tee<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha256,
    count: u64,
    cap: u64,
    tail: Vec<u8>,
    task: &'a str,
    progress: &'a dyn Progress,
    last_report: u64,
    stop: &'a CancelToken,
}

impl Read for Tee<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.is_cancelled() {
            return Err(io::Error::other("verification stopped"));
        }
        let room = usize::try_from(self.cap - self.count).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        if want == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..want])?;
        let data = &buf[..n];
        self.hasher.update(data);
        self.count += n as u64;
        if n >= TAIL {
            self.tail.clear();
            self.tail.extend_from_slice(&data[n - TAIL..]);
        } else {
            self.tail.extend_from_slice(data);
            let over = self.tail.len().saturating_sub(TAIL);
            self.tail.drain(..over);
        }
        if self.count - self.last_report >= 1024 * 1024 {
            self.last_report = self.count;
            self.progress.event(Event::advance(self.task, self.count));
        }
        Ok(n)
    }
}

/// The number of entries the central directory declares, from the end
/// of the zip: `None` when the end is not a plain end-of-central-directory
/// record (a comment, say).
fn declared_entries(tail: &[u8]) -> Option<u64> {
    let eocd = tail.get(tail.len().checked_sub(22)?..)?;
    if eocd[..4] != [0x50, 0x4b, 0x05, 0x06] {
        return None;
    }
    let total = u16::from_le_bytes([eocd[10], eocd[11]]);
    if total != u16::MAX {
        return Some(u64::from(total));
    }
    // Zip64: its end record sits before the 20-byte locator.
    let zip64 = tail.get(tail.len().checked_sub(TAIL)?..tail.len() - 42)?;
    if zip64[..4] != [0x50, 0x4b, 0x06, 0x06] {
        return None;
    }
    Some(u64::from_le_bytes(zip64[32..40].try_into().ok()?))
}

/// Checks the inner zip that `outer` yields against `record`, in one pass.
/// An error only when `stop` was cancelled; every other problem, including
/// a failed read, is [`StreamCheck::Unsettled`].
pub(crate) fn check_stream(
    outer: &mut dyn Read,
    record: &ComponentRecord,
    progress: &dyn Progress,
    stop: &CancelToken,
) -> io::Result<StreamCheck> {
    let mut tee = Tee {
        inner: outer,
        hasher: Sha256::new(),
        count: 0,
        cap: record.size.saturating_add(1),
        tail: Vec::with_capacity(2 * TAIL),
        task: &record.id,
        progress,
        last_report: 0,
        stop,
    };
    let settled = check_entries(&mut tee, record);
    if stop.is_cancelled() {
        return Err(io::Error::other("verification stopped"));
    }
    let Some(entries) = settled else {
        return Ok(StreamCheck::Unsettled);
    };
    // The central directory and the end record.
    if io::copy(&mut tee, &mut io::sink()).is_err() {
        return Ok(StreamCheck::Unsettled);
    }
    progress.event(Event::advance(&record.id, tee.count));
    let sha256 = hex::encode(std::mem::take(&mut tee.hasher).finalize());
    let clean = tee.count == record.size
        && sha256 == record.sha256
        && declared_entries(&tee.tail) == Some(entries);
    Ok(if clean {
        StreamCheck::Clean {
            bytes: tee.count,
            entries,
        }
    } else {
        StreamCheck::Unsettled
    })
}

/// Reads every local entry up to the central directory; the number of
/// entries when each is listed once, whole and intact, and every listed
/// one was there.
fn check_entries(tee: &mut Tee<'_>, record: &ComponentRecord) -> Option<u64> {
    let listed: HashMap<&str, usize> = record
        .entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.as_str(), i))
        .collect();
    let mut seen: HashSet<usize> = HashSet::with_capacity(listed.len());
    loop {
        let mut file = match zip::read::read_zipfile_from_stream(tee) {
            Ok(Some(file)) => file,
            Ok(None) => break,
            Err(_) => return None,
        };
        let name = std::str::from_utf8(file.name_raw()).ok()?;
        if !is_safe_entry_path(name) {
            return None;
        }
        let index = *listed.get(name)?;
        if !seen.insert(index) {
            return None;
        }
        let expected = &record.entries[index];
        let ceiling = file
            .compressed_size()
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(1024);
        if expected.size > ceiling {
            return None;
        }
        let quiet = |_: Event| {};
        let Ok(copy) = copy_bounded(&mut file, &mut io::sink(), expected.size, "", &quiet) else {
            return None;
        };
        if copy.exceeded || copy.count != expected.size || copy.sha256 != expected.sha256 {
            return None;
        }
    }
    (seen.len() == record.entries.len()).then_some(seen.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::BUF_SIZE;
    use crate::manifest::{EntryRecord, ItemCounts};
    use std::io::{Cursor, Write};

    fn sha(data: &[u8]) -> String {
        hex::encode(Sha256::digest(data))
    }

    /// An inner zip of `files` and its manifest record.
    fn component(files: &[(&str, &[u8])]) -> (Vec<u8>, ComponentRecord) {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files {
            zip.start_file(*name, opts).unwrap();
            zip.write_all(data).unwrap();
        }
        let bytes = zip.finish().unwrap().into_inner();
        let record = ComponentRecord {
            id: "Test".into(),
            entry: "components/Test.zip".into(),
            size: bytes.len() as u64,
            sha256: sha(&bytes),
            counts: ItemCounts::default(),
            entries: files
                .iter()
                .map(|(name, data)| EntryRecord {
                    path: name.to_string(),
                    size: data.len() as u64,
                    sha256: sha(data),
                })
                .collect(),
        };
        (bytes, record)
    }

    fn check(bytes: &[u8], record: &ComponentRecord) -> StreamCheck {
        check_stream(
            &mut Cursor::new(bytes),
            record,
            &|_: Event| {},
            &CancelToken::new(),
        )
        .unwrap()
    }

    #[test]
    fn an_intact_component_is_settled_in_one_pass() {
        let big = vec![7u8; 3 * BUF_SIZE + 5];
        let (bytes, record) = component(&[("a.txt", b"alpha"), ("dir/b.bin", &big)]);
        assert_eq!(
            check(&bytes, &record),
            StreamCheck::Clean {
                bytes: bytes.len() as u64,
                entries: 2
            }
        );
    }

    #[test]
    fn every_difference_is_left_to_the_thorough_check() {
        let (bytes, record) = component(&[("a.txt", b"alpha"), ("b.txt", b"beta")]);
        // An entry whose content differs from the manifest's hash.
        let mut wrong = record.clone();
        wrong.entries[1].sha256 = sha(b"other");
        assert_eq!(check(&bytes, &wrong), StreamCheck::Unsettled);
        // A listed entry missing from the zip.
        let mut more = record.clone();
        more.entries.push(EntryRecord {
            path: "c.txt".into(),
            size: 1,
            sha256: sha(b"c"),
        });
        assert_eq!(check(&bytes, &more), StreamCheck::Unsettled);
        // A path that would leave the folder it is extracted to.
        let (slip, slip_record) = component(&[("../evil.txt", b"x")]);
        assert_eq!(check(&slip, &slip_record), StreamCheck::Unsettled);
        // An entry the manifest does not list.
        let mut fewer = record.clone();
        fewer.entries.pop();
        assert_eq!(check(&bytes, &fewer), StreamCheck::Unsettled);
        // A flipped byte anywhere: the component's own hash differs.
        let mut flipped = bytes.clone();
        let at = flipped.len() - 30;
        flipped[at] ^= 0x5a;
        assert_eq!(check(&flipped, &record), StreamCheck::Unsettled);
        // A truncated component.
        assert_eq!(
            check(&bytes[..bytes.len() - 10], &record),
            StreamCheck::Unsettled
        );
    }

    #[test]
    fn a_stop_ends_the_check_with_an_error() {
        let (bytes, record) = component(&[("a.txt", b"alpha")]);
        let stop = CancelToken::new();
        stop.cancel();
        assert!(check_stream(&mut Cursor::new(&bytes), &record, &|_: Event| {}, &stop).is_err());
    }

    #[test]
    fn the_declared_count_is_read_from_the_end_record() {
        let (bytes, _) = component(&[("a", b"1"), ("b", b"2"), ("c", b"3")]);
        assert_eq!(declared_entries(&bytes[bytes.len() - TAIL..]), Some(3));
        assert_eq!(declared_entries(b"not a zip end record at all......"), None);
    }
}
