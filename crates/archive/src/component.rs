//! Building one inner component zip into a temporary file.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use transit_core::IoContext;

use flate2::write::DeflateEncoder;
use flate2::Compression;
use tempfile::TempPath;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use crate::error::ArchiveError;
use crate::hashing::{HashingWriter, BUF_SIZE};
use crate::manifest::{component_entry_name, ComponentRecord, EntryRecord, ItemCounts};
use crate::safety::is_safe_entry_path;

/// Extensions whose content is already compressed: stored, not deflated.
const STORED_EXTENSIONS: &[&str] = &[
    "zip", "gz", "7z", "png", "jpg", "jpeg", "mp3", "ogg", "opus", "ininmigr",
];

/// Bytes sampled to decide whether deflate is worth it.
const SAMPLE_SIZE: usize = 64 * 1024;

/// Files at least this large are written with zip64 headers.
const ZIP64_THRESHOLD: u64 = 4 * 1024 * 1024 * 1024;

/// Builds one component's inner zip in a temporary file.
///
/// Dropping the builder without [`ComponentBuilder::finish`] deletes the file.
pub struct ComponentBuilder {
    id: String,
    zip: ZipWriter<BufWriter<File>>,
    temp: TempPath,
    entries: Vec<EntryRecord>,
    counts: ItemCounts,
}

/// A finished inner zip, ready for [`crate::MigrationWriter::add_component`].
///
/// Owns its temporary file, which is deleted when this value is dropped.
#[derive(Debug)]
pub struct BuiltComponent {
    /// The manifest record of the component (size and SHA-256 of the inner zip).
    pub record: ComponentRecord,
    pub(crate) temp: TempPath,
}

impl BuiltComponent {
    /// Path of the temporary inner zip file.
    pub fn path(&self) -> &Path {
        &self.temp
    }
}

fn deflate_options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(1))
}

impl ComponentBuilder {
    /// Starts an inner zip in a new temporary file inside `temp_dir`.
    pub fn new(id: &str, temp_dir: &Path) -> Result<Self, ArchiveError> {
        let named = tempfile::Builder::new()
            .prefix(".component-")
            .suffix(".zip")
            .tempfile_in(temp_dir)
            .at(temp_dir)?;
        let (file, temp) = named.into_parts();
        Ok(Self {
            id: id.to_string(),
            zip: ZipWriter::new(BufWriter::with_capacity(BUF_SIZE, file)),
            temp,
            entries: Vec::new(),
            counts: ItemCounts::default(),
        })
    }

    fn path(&self) -> PathBuf {
        self.temp.to_path_buf()
    }

    fn check_path(&self, path: &str) -> Result<(), ArchiveError> {
        if is_safe_entry_path(path) && !path.ends_with('/') {
            Ok(())
        } else {
            Err(ArchiveError::UnsafePath {
                path: self.path(),
                entry: path.to_string(),
            })
        }
    }

    fn zip_err(&self, entry: &str, e: zip::result::ZipError) -> ArchiveError {
        ArchiveError::from_zip(&self.path(), entry, e)
    }

    /// Adds an entry whose bytes a closure writes (streaming; e.g. a .reg export).
    ///
    /// Deflate level 1; the bytes are SHA-256 hashed and counted as they stream.
    /// The entry is written with zip64 headers since its size is not known up
    /// front. If the closure fails, the partial entry is removed.
    pub fn add_stream<T>(
        &mut self,
        path: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<T>,
    ) -> Result<T, ArchiveError> {
        self.check_path(path)?;
        let opts = deflate_options().large_file(true);
        self.zip
            .start_file(path, opts)
            .map_err(|e| self.zip_err(path, e))?;
        let result = {
            let mut hashing = HashingWriter::new(&mut self.zip);
            let outcome = {
                let mut buffered = BufWriter::with_capacity(BUF_SIZE, &mut hashing);
                let value = write(&mut buffered);
                let flushed = buffered.flush();
                value.and_then(|v| flushed.map(|()| v))
            };
            outcome.map(|v| (v, hashing.finish()))
        };
        match result {
            Ok((value, (size, sha256))) => {
                self.entries.push(EntryRecord {
                    path: path.to_string(),
                    size,
                    sha256,
                });
                Ok(value)
            }
            Err(e) => {
                let _ = self.zip.abort_file();
                Err(ArchiveError::at(&self.path(), e))
            }
        }
    }

    /// Adds a file from disk under `path` (relative, `/`-separated), streaming it.
    ///
    /// Stored for already-compressed extensions (zip, gz, 7z, png, jpg, jpeg, mp3,
    /// ogg, opus, ininmigr) and for files where deflate of the first 64 KiB saves
    /// less than 10 %; otherwise Deflate level 1. zip64 when the file is at least
    /// 4 GiB. Counts one file.
    pub fn add_file(&mut self, path: &str, source: &Path) -> Result<(), ArchiveError> {
        self.check_path(path)?;
        let mut file = File::open(source).at(source)?;
        let len = file.metadata().at(source)?.len();
        let method = choose_method(source, &mut file).at(source)?;
        file.seek(SeekFrom::Start(0)).at(source)?;
        let opts = match method {
            CompressionMethod::Stored => {
                SimpleFileOptions::default().compression_method(CompressionMethod::Stored)
            }
            _ => deflate_options(),
        }
        .large_file(len >= ZIP64_THRESHOLD);
        self.zip
            .start_file(path, opts)
            .map_err(|e| self.zip_err(path, e))?;
        let mut hashing = HashingWriter::new(&mut self.zip);
        let mut buf = vec![0u8; BUF_SIZE];
        let copied: Result<(), ArchiveError> = loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(ArchiveError::at(source, e)),
            };
            if let Err(e) = hashing.write_all(&buf[..n]) {
                break Err(ArchiveError::at(&self.temp, e));
            }
        };
        let (size, sha256) = hashing.finish();
        if let Err(e) = copied {
            let _ = self.zip.abort_file();
            return Err(e);
        }
        self.entries.push(EntryRecord {
            path: path.to_string(),
            size,
            sha256,
        });
        self.counts.files += 1;
        Ok(())
    }

    /// Adds a key count / value count the caller computed (registry data).
    pub fn add_counts(&mut self, keys: u64, values: u64) {
        self.counts.keys += keys;
        self.counts.values += values;
    }

    /// Finishes the inner zip and hashes it.
    pub fn finish(self) -> Result<BuiltComponent, ArchiveError> {
        let path = self.path();
        let buffered = self
            .zip
            .finish()
            .map_err(|e| ArchiveError::from_zip(&path, "", e))?;
        let mut file = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .at(&path)?;
        file.flush().at(&path)?;
        file.seek(SeekFrom::Start(0)).at(&path)?;
        let mut hashing = HashingWriter::new(io::sink());
        io::copy(
            &mut io::BufReader::with_capacity(BUF_SIZE, &mut file),
            &mut hashing,
        )
        .at(&path)?;
        let (size, sha256) = hashing.finish();
        Ok(BuiltComponent {
            record: ComponentRecord {
                entry: component_entry_name(&self.id),
                id: self.id,
                size,
                sha256,
                counts: self.counts,
                entries: self.entries,
            },
            temp: self.temp,
        })
    }
}

/// Stored for known-compressed extensions and for content deflate cannot shrink
/// by at least 10 % (judged on the first 64 KiB); Deflated otherwise.
fn choose_method(source: &Path, file: &mut File) -> io::Result<CompressionMethod> {
    let ext = source
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if ext.is_some_and(|e| STORED_EXTENSIONS.contains(&e.as_str())) {
        return Ok(CompressionMethod::Stored);
    }
    let mut sample = Vec::with_capacity(SAMPLE_SIZE);
    file.take(SAMPLE_SIZE as u64).read_to_end(&mut sample)?;
    if sample.is_empty() {
        return Ok(CompressionMethod::Stored);
    }
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::new(1));
    enc.write_all(&sample)?;
    let compressed = enc.finish()?;
    // Saves < 10 %  <=>  compressed > 90 % of the sample.
    if compressed.len() * 10 > sample.len() * 9 {
        Ok(CompressionMethod::Stored)
    } else {
        Ok(CompressionMethod::Deflated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_choice() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("a.txt");
        std::fs::write(&text, "hello world ".repeat(10_000)).unwrap();
        let mut f = File::open(&text).unwrap();
        assert_eq!(
            choose_method(&text, &mut f).unwrap(),
            CompressionMethod::Deflated
        );
        let png = dir.path().join("a.PNG");
        std::fs::write(&png, "hello world ".repeat(10_000)).unwrap();
        let mut f = File::open(&png).unwrap();
        assert_eq!(
            choose_method(&png, &mut f).unwrap(),
            CompressionMethod::Stored
        );
        // Pseudo-random bytes do not compress.
        let rnd = dir.path().join("r.bin");
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let bytes: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        std::fs::write(&rnd, bytes).unwrap();
        let mut f = File::open(&rnd).unwrap();
        assert_eq!(
            choose_method(&rnd, &mut f).unwrap(),
            CompressionMethod::Stored
        );
    }

    #[test]
    fn builder_records_entries() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("data.txt");
        std::fs::write(&src, b"file content").unwrap();
        let mut b = ComponentBuilder::new("IP\\Handlers", dir.path()).unwrap();
        let n = b
            .add_stream("export.reg", |w| w.write_all(b"REGEDIT4\r\n").map(|()| 7))
            .unwrap();
        assert_eq!(n, 7);
        b.add_file("files/data.txt", &src).unwrap();
        b.add_counts(2, 3);
        assert!(matches!(
            b.add_file("../x", &src),
            Err(ArchiveError::UnsafePath { .. })
        ));
        let failed = b.add_stream("bad.reg", |w| {
            w.write_all(b"partial")?;
            Err::<(), _>(io::Error::other("boom"))
        });
        assert!(failed.is_err());
        let built = b.finish().unwrap();
        let r = &built.record;
        assert_eq!(r.entry, "components/IP_Handlers.zip");
        assert_eq!(
            r.counts,
            ItemCounts {
                keys: 2,
                values: 3,
                files: 1
            }
        );
        assert_eq!(r.entries.len(), 2);
        assert_eq!(r.entries[0].size, 10);
        assert_eq!(
            r.entries[1].sha256,
            crate::hashing::sha256_hex(b"file content")
        );
        let bytes = std::fs::read(built.path()).unwrap();
        assert_eq!(r.size, bytes.len() as u64);
        assert_eq!(r.sha256, crate::hashing::sha256_hex(&bytes));
        let path = built.path().to_path_buf();
        drop(built);
        assert!(!path.exists());
    }
}
