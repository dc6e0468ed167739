//! Writing the outer migration file.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use transit_core::IoContext;

use tempfile::TempPath;
use zip::write::{FileOptions, SimpleFileOptions};
use zip::{AesMode, CompressionMethod, ZipWriter};

use crate::component::BuiltComponent;
use crate::error::ArchiveError;
use crate::hashing::BUF_SIZE;
use crate::manifest::{ComponentRecord, Manifest};
use crate::{FORMAT_VERSION, MANIFEST_ENTRY};

/// Entries at least this large get zip64 headers.
const ZIP64_THRESHOLD: u64 = u32::MAX as u64;

/// Progress is reported about every this many bytes.
const PROGRESS_STEP: u64 = 1024 * 1024;

/// Writes a migration file into `<dest>.partial-XXXXXX` and renames it onto
/// `dest` in [`MigrationWriter::finish`].
///
/// Cancellation: simply drop the writer. Dropping it without `finish()` deletes
/// the partial file; nothing ever appears at `dest`.
pub struct MigrationWriter {
    dest: PathBuf,
    zip: ZipWriter<BufWriter<File>>,
    temp: TempPath,
    password: Option<String>,
    records: Vec<ComponentRecord>,
}

impl std::fmt::Debug for MigrationWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationWriter")
            .field("dest", &self.dest)
            .field("partial", &self.temp)
            .field("encrypted", &self.password.is_some())
            .field("components", &self.records.len())
            .finish()
    }
}

/// Options of an outer entry: zip64 when large, AES-256 when a password is set.
fn entry_options(
    password: Option<&str>,
    method: CompressionMethod,
    size: u64,
) -> FileOptions<'_, '_, ()> {
    let opts = SimpleFileOptions::default()
        .compression_method(method)
        .large_file(size >= ZIP64_THRESHOLD);
    match password {
        Some(p) => opts.with_aes_encryption(AesMode::Aes256, p),
        None => opts,
    }
}

impl MigrationWriter {
    /// Creates `<dest>.partial-XXXXXX` (a temporary file in dest's directory);
    /// nothing appears at `dest` until [`MigrationWriter::finish`]. With a
    /// password every entry is encrypted with WinZip AES-256.
    ///
    /// Fails early with [`ArchiveError::Exists`] when `dest` already exists.
    pub fn create(dest: &Path, password: Option<&str>) -> Result<Self, ArchiveError> {
        if dest.exists() {
            return Err(ArchiveError::Exists {
                path: dest.to_path_buf(),
            });
        }
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "migration".to_string());
        let named = tempfile::Builder::new()
            .prefix(&format!("{name}.partial-"))
            .rand_bytes(6)
            .tempfile_in(dir)
            .at(dest)?;
        let (file, temp) = named.into_parts();
        // Held until the file is closed: a partial file whose lock is free
        // was left by an export that was killed.
        file.try_lock().map_err(|e| {
            ArchiveError::at(
                &temp,
                match e {
                    std::fs::TryLockError::Error(e) => e,
                    std::fs::TryLockError::WouldBlock => io::ErrorKind::WouldBlock.into(),
                },
            )
        })?;
        Ok(Self {
            dest: dest.to_path_buf(),
            zip: ZipWriter::new(BufWriter::with_capacity(BUF_SIZE, file)),
            temp,
            password: password.map(str::to_string),
            records: Vec::new(),
        })
    }

    /// The partial file being written (`<dest>.partial-XXXXXX`).
    pub fn partial_path(&self) -> &Path {
        &self.temp
    }

    /// Appends a built component's inner zip as one outer entry: method Stored
    /// (it is already compressed), AES-256 encrypted when a password was given.
    /// Streams the file, reporting `Event::Advance` of the component's ID
    /// (bytes written so far for this entry) about every MiB and once at the end.
    pub fn add_component(
        &mut self,
        built: BuiltComponent,
        progress: &dyn transit_core::Progress,
    ) -> Result<(), ArchiveError> {
        let record = built.record.clone();
        let mut source = File::open(built.path()).at(built.path())?;
        let opts = entry_options(
            self.password.as_deref(),
            CompressionMethod::Stored,
            record.size,
        );
        let partial = self.temp.to_path_buf();
        self.zip
            .start_file(record.entry.as_str(), opts)
            .map_err(|e| ArchiveError::from_zip(&partial, &record.entry, e))?;
        let mut buf = vec![0u8; BUF_SIZE];
        let mut total = 0u64;
        let mut reported = 0u64;
        loop {
            let n = match source.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = self.zip.abort_file();
                    return Err(ArchiveError::at(built.path(), e));
                }
            };
            if let Err(e) = self.zip.write_all(&buf[..n]) {
                let _ = self.zip.abort_file();
                return Err(ArchiveError::at(&partial, e));
            }
            total += n as u64;
            if total - reported >= PROGRESS_STEP {
                reported = total;
                progress.event(transit_core::Event::advance(&record.id, total));
            }
        }
        progress.event(transit_core::Event::advance(&record.id, total));
        if total != record.size {
            let _ = self.zip.abort_file();
            return Err(ArchiveError::SizeMismatch {
                path: built.path().to_path_buf(),
                entry: record.entry,
                declared: record.size,
                actual_at_least: total,
            });
        }
        self.records.push(record);
        Ok(())
    }

    /// Writes `manifest.json` (its `components` are replaced by the records of the
    /// components added, in add order, and `format_version` is set to
    /// [`FORMAT_VERSION`]), finishes the zip, fsyncs, and renames onto `dest`
    /// without ever overwriting ([`ArchiveError::Exists`] if `dest` appeared
    /// meanwhile; the partial file is then deleted). Returns the final size in bytes.
    pub fn finish(mut self, mut manifest: Manifest) -> Result<u64, ArchiveError> {
        let partial = self.temp.to_path_buf();
        manifest.format_version = FORMAT_VERSION;
        manifest.components = std::mem::take(&mut self.records);
        let json = manifest.to_json().map_err(|e| {
            ArchiveError::at(&partial, io::Error::new(io::ErrorKind::InvalidData, e))
        })?;
        let opts = entry_options(
            self.password.as_deref(),
            CompressionMethod::Deflated,
            json.len() as u64,
        );
        self.zip
            .start_file(MANIFEST_ENTRY, opts)
            .map_err(|e| ArchiveError::from_zip(&partial, MANIFEST_ENTRY, e))?;
        self.zip.write_all(&json).at(&partial)?;
        let buffered = self
            .zip
            .finish()
            .map_err(|e| ArchiveError::from_zip(&partial, "", e))?;
        let file = buffered
            .into_inner()
            .map_err(|e| e.into_error())
            .at(&partial)?;
        file.sync_all().at(&partial)?;
        let size = file.metadata().at(&partial)?.len();
        drop(file);
        self.temp.persist_noclobber(&self.dest).map_err(|e| {
            if e.error.kind() == io::ErrorKind::AlreadyExists {
                ArchiveError::Exists {
                    path: self.dest.clone(),
                }
            } else {
                ArchiveError::at(&self.dest, e.error)
            }
        })?;
        // Make the rename durable (best effort: not every platform can open a directory).
        if let Some(dir) = self.dest.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(size)
    }
}
