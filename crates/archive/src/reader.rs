//! Reading and verifying the outer migration file.

/// The progress task of [`MigrationReader::verify`], in bytes.
pub const VERIFY_TASK: &str = "verify";

use crate::stream_check::{check_stream, StreamCheck};
use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use transit_core::IoContext;

use zip::read::ZipFile;
use zip::ZipArchive;

use crate::component_reader::{problem_text, read_checked, ComponentReader, MAX_DEFLATE_RATIO};
use crate::error::ArchiveError;
use crate::hashing::{copy_bounded, BoundedCopy, BUF_SIZE};
use crate::manifest::{ComponentRecord, Manifest, MAX_MANIFEST_BYTES};
use crate::safety::is_safe_entry_path;
use crate::MANIFEST_ENTRY;

/// Local file header signature: what every zip starts with.
const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

/// An opened migration file with a validated manifest.
pub struct MigrationReader {
    path: PathBuf,
    zip: ZipArchive<BufReader<File>>,
    manifest: Arc<Manifest>,
    password: Option<String>,
    encrypted: bool,
    file_size: u64,
    /// Which file this is: (device, inode, size, modification time).
    identity: FileIdentity,
}

/// What tells one file apart from a replacement or an in-place rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileIdentity {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
}

impl FileIdentity {
    fn of(meta: &std::fs::Metadata) -> FileIdentity {
        use std::os::unix::fs::MetadataExt;
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
        }
    }
}

impl std::fmt::Debug for MigrationReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationReader")
            .field("path", &self.path)
            .field("encrypted", &self.encrypted)
            .field("file_size", &self.file_size)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`MigrationReader::verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries inside the inner zips that were checked.
    pub checked_entries: u64,
    /// Bytes of inner zips that were read and hashed.
    pub checked_bytes: u64,
    /// Every problem found.
    pub mismatches: Vec<Mismatch>,
}

/// One problem found by [`MigrationReader::verify`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mismatch {
    /// The component id (or the outer entry name when it is not in the manifest).
    pub component: String,
    /// The entry inside the inner zip, when the problem concerns one.
    pub entry: Option<String>,
    /// Human text, e.g. `SHA-256 differs: manifest abc…, file def…`.
    pub problem: String,
}

impl VerifyReport {
    /// True when no mismatch was found.
    pub fn is_ok(&self) -> bool {
        self.mismatches.is_empty()
    }
}

/// What checking one component found.
#[derive(Default)]
struct Checked {
    /// Bytes of the inner zip read.
    bytes: u64,
    /// Entries checked.
    entries: u64,
    /// Problems found.
    mismatches: Vec<Mismatch>,
}

/// How deep a whole-file check looks into each component.
#[derive(Clone, Copy)]
enum Depth {
    /// Every entry of every inner zip, as `verify` does.
    Entries,
    /// Each inner zip as a whole, as an import needs.
    Components,
}

/// Why a component copy did not match its record.
enum CopyCheck {
    Ok,
    Bad(ArchiveError),
}

impl MigrationReader {
    /// Opens `path`, checks the password situation and reads and validates
    /// `manifest.json`.
    pub fn open(path: &Path, password: Option<&str>) -> Result<Self, ArchiveError> {
        // A folder, FIFO or device is not a migration file (and opening a
        // FIFO would wait for a writer).
        let kind = std::fs::metadata(path).at(path)?.file_type();
        if !kind.is_file() {
            return Err(ArchiveError::NotAMigrationFile {
                path: path.to_path_buf(),
                detail: if kind.is_dir() {
                    "it is a folder".to_string()
                } else {
                    "it is not a regular file".to_string()
                },
            });
        }
        let file = File::open(path).at(path)?;
        let meta = file.metadata().at(path)?;
        let file_size = meta.len();
        let zip = match ZipArchive::new(BufReader::with_capacity(BUF_SIZE, file)) {
            Ok(z) => z,
            Err(e) => return Err(classify_open_failure(path, e)),
        };
        let mut reader = Self {
            path: path.to_path_buf(),
            zip,
            manifest: Arc::new(placeholder_manifest()),
            password: password.map(str::to_string),
            encrypted: false,
            file_size,
            identity: FileIdentity::of(&meta),
        };
        reader.check_entries()?;
        reader.manifest = Arc::new(reader.read_manifest()?);
        // A stored entry cannot be larger than the file that holds it.
        if let Some(record) = reader
            .manifest
            .components
            .iter()
            .find(|c| c.size > reader.file_size)
        {
            return Err(ArchiveError::Tampered {
                path: reader.path.clone(),
                entry: record.entry.clone(),
                detail: format!(
                    "declared size {} is larger than the whole file ({} bytes)",
                    record.size, reader.file_size
                ),
            });
        }
        Ok(reader)
    }

    /// A second reader of the same file, for another thread, sharing the
    /// validated manifest (no second copy in memory). The path is opened
    /// again and must still be the very same file, unchanged (same device,
    /// inode, size and modification time); a file replaced or rewritten
    /// since [`MigrationReader::open`] is refused as tampered.
    pub fn reopen(&self) -> Result<Self, ArchiveError> {
        let path = &self.path;
        let file = File::open(path).at(path)?;
        let meta = file.metadata().at(path)?;
        if FileIdentity::of(&meta) != self.identity {
            return Err(ArchiveError::Tampered {
                path: path.clone(),
                entry: String::new(),
                detail: "the file was replaced or changed while it was being read".into(),
            });
        }
        let zip = ZipArchive::new(BufReader::with_capacity(BUF_SIZE, file))
            .map_err(|e| classify_open_failure(path, e))?;
        let mut reader = Self {
            path: path.clone(),
            zip,
            manifest: Arc::clone(&self.manifest),
            password: self.password.clone(),
            encrypted: false,
            file_size: self.file_size,
            identity: self.identity,
        };
        reader.check_entries()?;
        Ok(reader)
    }

    /// A read failure on a file that was changed since it was opened (say,
    /// overwritten in place during an import) is reported as that change.
    fn explain_change(&self, err: ArchiveError) -> ArchiveError {
        let unchanged = std::fs::metadata(&self.path)
            .is_ok_and(|meta| FileIdentity::of(&meta) == self.identity);
        if unchanged {
            err
        } else {
            ArchiveError::Tampered {
                path: self.path.clone(),
                entry: String::new(),
                detail: "the file was replaced or changed while it was being read".into(),
            }
        }
    }

    /// Checks entry names and the encryption situation.
    fn check_entries(&mut self) -> Result<(), ArchiveError> {
        let path = &self.path;
        if self.zip.has_duplicate_names() {
            return Err(ArchiveError::Tampered {
                path: path.clone(),
                entry: String::new(),
                detail: "duplicate entry names".to_string(),
            });
        }
        let mut encrypted = Vec::new();
        let mut plain = Vec::new();
        for i in 0..self.zip.len() {
            let entry = self
                .zip
                .by_index_data(i)
                .map_err(|e| ArchiveError::from_zip(path, "", e))?;
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            if !is_safe_entry_path(&name) {
                return Err(ArchiveError::UnsafePath {
                    path: path.clone(),
                    entry: name,
                });
            }
            // The writer stores inner zips as they are (they are already
            // compressed); a compressed outer entry could inflate far beyond
            // the file's size, so it is refused.
            if name.starts_with(crate::COMPONENTS_DIR)
                && entry.compression() != zip::CompressionMethod::Stored
            {
                return Err(ArchiveError::Tampered {
                    path: path.clone(),
                    entry: name,
                    detail: "component entries must be stored, not compressed".to_string(),
                });
            }
            if entry.encrypted() {
                encrypted.push(name);
            } else {
                plain.push(name);
            }
        }
        if !encrypted.is_empty() {
            if let Some(first_plain) = plain.into_iter().next() {
                return Err(ArchiveError::Tampered {
                    path: path.clone(),
                    entry: first_plain,
                    detail: "entry is not encrypted while others are".to_string(),
                });
            }
            self.encrypted = true;
            if self.password.is_none() {
                return Err(ArchiveError::PasswordRequired { path: path.clone() });
            }
        } else if self.password.is_some() && !plain.is_empty() {
            return Err(ArchiveError::PasswordNotNeeded { path: path.clone() });
        }
        Ok(())
    }

    fn read_manifest(&mut self) -> Result<Manifest, ArchiveError> {
        let path = self.path.clone();
        let index = self.zip.index_for_name(MANIFEST_ENTRY).ok_or_else(|| {
            ArchiveError::NotAMigrationFile {
                path: path.clone(),
                detail: format!("no {MANIFEST_ENTRY}"),
            }
        })?;
        let mut bytes = Vec::new();
        let copy = {
            let read = self
                .open_outer(index, MANIFEST_ENTRY)
                .and_then(|mut entry| {
                    copy_bounded(
                        &mut entry,
                        &mut bytes,
                        MAX_MANIFEST_BYTES,
                        MANIFEST_ENTRY,
                        &transit_core::NoProgress,
                    )
                    .map_err(|e| ArchiveError::from_read(&path, MANIFEST_ENTRY, e))
                });
            match read {
                Ok(copy) => copy,
                // A wrong password passes the 2-byte verifier once in
                // 65,536 tries and then fails the HMAC: damage is only
                // certain when the password opens another entry.
                Err(ArchiveError::Tampered { .. })
                    if self.encrypted && !self.password_opens_another(index) =>
                {
                    return Err(ArchiveError::WrongPassword {
                        path,
                        certain: self.zip.len() > 1,
                    })
                }
                Err(e) => return Err(e),
            }
        };
        if copy.exceeded {
            return Err(ArchiveError::NotAMigrationFile {
                path,
                detail: format!("{MANIFEST_ENTRY} is larger than {MAX_MANIFEST_BYTES} bytes"),
            });
        }
        Manifest::parse(&path, &bytes)
    }

    fn open_outer(
        &mut self,
        index: usize,
        name: &str,
    ) -> Result<ZipFile<'_, BufReader<File>>, ArchiveError> {
        let password = match &self.password {
            Some(p) if self.encrypted => p.clone(),
            _ => {
                return self
                    .zip
                    .by_index(index)
                    .map_err(|e| ArchiveError::from_zip_read(&self.path, name, e))
            }
        };
        // Opening checks the entry's password verifier; a refusal is looked
        // at more closely before the entry is opened for reading.
        if let Err(e) = self
            .zip
            .by_index_decrypt(index, password.as_bytes())
            .map(drop)
        {
            return Err(self.password_failure(index, name, e));
        }
        self.zip
            .by_index_decrypt(index, password.as_bytes())
            .map_err(|e| ArchiveError::from_zip_read(&self.path, name, e))
    }

    /// Tells a wrong password from a damaged entry. WinZip AES keeps a salt
    /// and a 2-byte password verifier per entry: when another entry accepts
    /// the same password, the password is right and this entry's salt or
    /// verifier is damaged; when none does, the password is wrong.
    fn password_failure(
        &mut self,
        index: usize,
        name: &str,
        err: zip::result::ZipError,
    ) -> ArchiveError {
        if !matches!(err, zip::result::ZipError::InvalidPassword) {
            return ArchiveError::from_zip_read(&self.path, name, err);
        }
        if self.password_opens_another(index) {
            return ArchiveError::Tampered {
                path: self.path.clone(),
                entry: name.to_string(),
                detail: "its AES salt or password verifier is damaged (the password opens the other entries)".to_string(),
            };
        }
        ArchiveError::WrongPassword {
            path: self.path.clone(),
            certain: self.zip.len() > 1,
        }
    }

    /// Whether the password fully opens (verifier **and** HMAC) one of
    /// the smallest other entries. A matching 2-byte verifier alone is no
    /// proof: a wrong password passes it once in 65,536 tries.
    fn password_opens_another(&mut self, index: usize) -> bool {
        /// Enough other entries to be sure, without deriving a key for
        /// each of thousands of junk entries.
        const PROBES: usize = 4;
        let Some(password) = self.password.clone() else {
            return false;
        };
        let mut others: Vec<(u64, usize)> = (0..self.zip.len())
            .filter(|&i| i != index)
            .filter_map(|i| {
                self.zip
                    .by_index_raw(i)
                    .ok()
                    .map(|e| (e.compressed_size(), i))
            })
            .collect();
        others.sort_unstable();
        others.into_iter().take(PROBES).any(|(_, other)| {
            self.zip
                .by_index_decrypt(other, password.as_bytes())
                .is_ok_and(|mut entry| io::copy(&mut entry, &mut io::sink()).is_ok())
        })
    }

    /// The validated manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Whether the file is AES encrypted.
    pub fn encrypted(&self) -> bool {
        self.encrypted
    }

    /// Size of the migration file in bytes.
    pub fn file_size(&self) -> u64 {
        self.file_size
    }

    /// Copies (decrypting) the inner zip of `record` into `out`, reading at most
    /// `record.size + 1` bytes.
    fn copy_component(
        &mut self,
        record: &ComponentRecord,
        out: &mut dyn Write,
        progress: &dyn transit_core::Progress,
    ) -> Result<BoundedCopy, ArchiveError> {
        let path = self.path.clone();
        let index =
            self.zip
                .index_for_name(&record.entry)
                .ok_or_else(|| ArchiveError::Tampered {
                    path: path.clone(),
                    entry: record.entry.clone(),
                    detail: "listed in the manifest but missing from the file".to_string(),
                })?;
        let mut entry = self.open_outer(index, &record.entry)?;
        copy_bounded(&mut entry, out, record.size, &record.id, progress)
            .map_err(|e| ArchiveError::from_read(&path, &record.entry, e))
    }

    fn check_copy(&self, record: &ComponentRecord, copy: &BoundedCopy) -> CopyCheck {
        if copy.exceeded || copy.count != record.size {
            return CopyCheck::Bad(ArchiveError::SizeMismatch {
                path: self.path.clone(),
                entry: record.entry.clone(),
                declared: record.size,
                actual_at_least: copy.count,
            });
        }
        if copy.sha256 != record.sha256 {
            return CopyCheck::Bad(ArchiveError::Tampered {
                path: self.path.clone(),
                entry: record.entry.clone(),
                detail: format!(
                    "SHA-256 differs: manifest {}, file {}",
                    record.sha256, copy.sha256
                ),
            });
        }
        CopyCheck::Ok
    }

    /// Checks every inner zip's size and SHA-256 against the manifest, then every
    /// entry inside it, and reports outer entries not listed in the manifest and
    /// listed components missing from the file.
    ///
    /// Returns all mismatches found (it does not stop at the first), in
    /// manifest order; errors only for what stops checking entirely (I/O,
    /// wrong password). `progress` gets one task, [`VERIFY_TASK`], counting
    /// the bytes of inner zips checked. Two components are checked at a time,
    /// each by its own reader of the file on its own thread. Each inner zip is
    /// decrypted into an anonymous temporary file in the system temp directory
    /// (`TMPDIR`), so that needs room for the two largest components.
    pub fn verify(
        &mut self,
        progress: &dyn transit_core::Progress,
    ) -> Result<VerifyReport, ArchiveError> {
        self.verify_until(progress, &transit_core::CancelToken::new())
    }

    /// [`verify`](Self::verify), giving up soon after `stop` is cancelled
    /// (between two reads of at most a buffer). A report returned after the
    /// stop is incomplete: the caller that stopped it must not trust it.
    pub fn verify_until(
        &mut self,
        progress: &dyn transit_core::Progress,
        stop: &transit_core::CancelToken,
    ) -> Result<VerifyReport, ArchiveError> {
        self.check_until(Depth::Entries, progress, stop)
    }

    /// Authenticates every byte of the file, as an import needs before it
    /// commits: each inner zip is decrypted (its WinZip AES code checked)
    /// and its size and SHA-256 compared with the manifest, whose own code
    /// authenticates it; outer entries the manifest does not list and
    /// listed components missing from the file are reported, as by
    /// [`verify`](Self::verify). Unlike `verify`, the entries inside an
    /// inner zip whose hash matches are not inflated and hashed one by
    /// one: the component's hash already fixes every byte of them, and a
    /// reader of an entry checks it against the manifest as it reads. A
    /// listed entry whose path would leave its folder is reported too.
    /// `checked_entries` stays 0. Gives up soon after `stop` is cancelled.
    pub fn authenticate_until(
        &mut self,
        progress: &dyn transit_core::Progress,
        stop: &transit_core::CancelToken,
    ) -> Result<VerifyReport, ArchiveError> {
        self.check_until(Depth::Components, progress, stop)
    }

    /// The check behind [`verify_until`](Self::verify_until) and
    /// [`authenticate_until`](Self::authenticate_until).
    fn check_until(
        &mut self,
        depth: Depth,
        progress: &dyn transit_core::Progress,
        stop: &transit_core::CancelToken,
    ) -> Result<VerifyReport, ArchiveError> {
        use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
        use std::sync::Mutex;
        use transit_core::{Event, Unit};
        let total: u64 = self.manifest.components.iter().map(|c| c.size).sum();
        progress.event(Event::begin(VERIFY_TASK, Unit::Bytes, Some(total)));
        let mut report = VerifyReport::default();
        let listed: HashSet<String> = self
            .manifest
            .components
            .iter()
            .map(|c| c.entry.clone())
            .collect();
        let names: Vec<String> = (0..self.zip.len())
            .filter_map(|i| self.zip.name_for_index(i))
            .filter_map(Result::ok)
            .map(|n| n.into_owned())
            .collect();
        for name in names {
            if name != MANIFEST_ENTRY && !listed.contains(&name) {
                report.mismatches.push(Mismatch {
                    component: name,
                    entry: None,
                    problem: "entry is not listed in the manifest".to_string(),
                });
            }
        }
        let manifest = Arc::clone(&self.manifest);
        let records = &manifest.components;
        // The largest first, so the two workers finish close together.
        let mut queue: Vec<usize> = (0..records.len()).collect();
        queue.sort_by_key(|&i| std::cmp::Reverse(records[i].size));
        let next = AtomicUsize::new(0);
        // The bytes checked so far (under the lock, so the position only grows).
        let done = Mutex::new(0u64);
        let outcomes: Mutex<Vec<Option<Result<Checked, ArchiveError>>>> =
            Mutex::new((0..records.len()).map(|_| None).collect());
        // A fatal error stops the components after it in manifest order
        // (those before it still run: the first fatal error is the one
        // reported, as when checking one after the other).
        let fatal_at = AtomicUsize::new(usize::MAX);
        let work = |reader: &mut MigrationReader| loop {
            let Some(&index) = queue.get(next.fetch_add(1, Ordering::Relaxed)) else {
                return;
            };
            if index > fatal_at.load(Ordering::Relaxed) {
                continue;
            }
            if stop.is_cancelled() {
                return;
            }
            // This component's bytes so far, added to the shared position.
            let seen = AtomicU64::new(0);
            let advance = |e: Event| {
                if let Event::Advance { done: n, .. } = e {
                    let mut done = done.lock().unwrap_or_else(|p| p.into_inner());
                    *done += n.saturating_sub(seen.swap(n, Ordering::Relaxed));
                    progress.event(Event::advance(VERIFY_TASK, *done));
                }
            };
            let outcome = match depth {
                Depth::Entries => reader.verify_component(&records[index], &advance, stop),
                Depth::Components => reader.authenticate_component(&records[index], &advance, stop),
            };
            if outcome.is_err() {
                fatal_at.fetch_min(index, Ordering::Relaxed);
            }
            outcomes.lock().unwrap_or_else(|p| p.into_inner())[index] = Some(outcome);
        };
        let mut second = if records.len() > 1 {
            Some(self.reopen()?)
        } else {
            None
        };
        std::thread::scope(|s| {
            if let Some(second) = second.as_mut() {
                s.spawn(|| work(second));
            }
            work(self);
        });
        for outcome in outcomes.into_inner().unwrap_or_else(|p| p.into_inner()) {
            match outcome {
                Some(Ok(checked)) => {
                    report.checked_bytes += checked.bytes;
                    report.checked_entries += checked.entries;
                    report.mismatches.extend(checked.mismatches);
                }
                Some(Err(e)) => return Err(e),
                // Skipped after a fatal error in an earlier component,
                // which the loop returns first.
                None => {}
            }
        }
        progress.event(Event::end(VERIFY_TASK));
        Ok(report)
    }

    /// Checks one component's size and SHA-256 against the manifest, as
    /// [`authenticate_until`](Self::authenticate_until) does: an error only
    /// for what stops checking entirely, every other problem a mismatch.
    fn authenticate_component(
        &mut self,
        record: &ComponentRecord,
        progress: &dyn transit_core::Progress,
        stop: &transit_core::CancelToken,
    ) -> Result<Checked, ArchiveError> {
        let mut checked = Checked::default();
        let mut out = UntilStopped {
            inner: io::sink(),
            stop,
        };
        let problem = match self.copy_component(record, &mut out, progress) {
            Ok(copy) => {
                checked.bytes = copy.count;
                match self.check_copy(record, &copy) {
                    CopyCheck::Ok => None,
                    CopyCheck::Bad(e) => Some(e),
                }
            }
            Err(e) if is_fatal(&e) || stop.is_cancelled() => return Err(e),
            Err(e) => Some(e),
        };
        if let Some(e) = problem {
            checked.mismatches.push(Mismatch {
                component: record.id.clone(),
                entry: None,
                problem: problem_text(&e),
            });
        }
        // The manifest alone says where each entry would be written: a
        // path that leaves its folder is refused as `verify` refuses it.
        for entry in record
            .entries
            .iter()
            .filter(|e| !is_safe_entry_path(&e.path))
        {
            checked.mismatches.push(Mismatch {
                component: record.id.clone(),
                entry: Some(entry.path.clone()),
                problem: problem_text(&ArchiveError::UnsafePath {
                    path: self.path.clone(),
                    entry: entry.path.clone(),
                }),
            });
        }
        Ok(checked)
    }

    /// Checks one component as [`verify`](Self::verify) does: an error only
    /// for what stops checking entirely, every other problem as a mismatch.
    fn verify_component(
        &mut self,
        record: &ComponentRecord,
        progress: &dyn transit_core::Progress,
        stop: &transit_core::CancelToken,
    ) -> Result<Checked, ArchiveError> {
        let mut checked = Checked::default();
        let mismatch = |problem: String| Mismatch {
            component: record.id.clone(),
            entry: None,
            problem,
        };
        // One pass first, without a temporary copy (see `stream_check`);
        // the thorough check below settles whatever that leaves open.
        if let Some(index) = self.zip.index_for_name(&record.entry) {
            let path = self.path.clone();
            if let Ok(mut entry) = self.open_outer(index, &record.entry) {
                match check_stream(&mut entry, record, progress, stop) {
                    Ok(StreamCheck::Clean { bytes, entries }) => {
                        checked.bytes = bytes;
                        checked.entries = entries;
                        return Ok(checked);
                    }
                    Ok(StreamCheck::Unsettled) => {}
                    Err(e) => return Err(ArchiveError::from_read(&path, &record.entry, e)),
                }
            }
        }
        let temp = tempfile::tempfile().at(&self.path)?;
        let mut out = BufWriter::with_capacity(BUF_SIZE, UntilStopped { inner: temp, stop });
        let copy = match self.copy_component(record, &mut out, progress) {
            Ok(c) => c,
            Err(e) => {
                if is_fatal(&e) {
                    return Err(e);
                }
                checked.mismatches.push(mismatch(problem_text(&e)));
                return Ok(checked);
            }
        };
        checked.bytes = copy.count;
        if let CopyCheck::Bad(e) = self.check_copy(record, &copy) {
            checked.mismatches.push(mismatch(problem_text(&e)));
            return Ok(checked);
        }
        let mut temp = out
            .into_inner()
            .map_err(|e| e.into_error())
            .at(&self.path)?
            .inner;
        temp.seek(SeekFrom::Start(0)).at(&self.path)?;
        let mut inner = match ComponentReader::open(&self.path, record.clone(), temp, None) {
            Ok(r) => r,
            Err(e) => {
                checked.mismatches.push(mismatch(problem_text(&e)));
                return Ok(checked);
            }
        };
        let mut problems = Vec::new();
        checked.entries = inner.check_all(&mut problems)?;
        checked
            .mismatches
            .extend(problems.into_iter().map(|(entry, problem)| Mismatch {
                component: record.id.clone(),
                entry: Some(entry),
                problem,
            }));
        Ok(checked)
    }

    /// Decrypts and copies one component's inner zip to a temporary file in
    /// `temp_dir` while checking its size and SHA-256 against the manifest, then
    /// opens it.
    ///
    /// A SHA-256 mismatch is [`ArchiveError::Tampered`]; a size above the declared
    /// one is stopped early ([`ArchiveError::SizeMismatch`]): never more than the
    /// manifest's size + 1 bytes are written.
    pub fn open_component(
        &mut self,
        id: &str,
        temp_dir: &Path,
    ) -> Result<ComponentReader, ArchiveError> {
        let record =
            self.manifest
                .component(id)
                .cloned()
                .ok_or_else(|| ArchiveError::UnknownComponent {
                    path: self.path.clone(),
                    id: id.to_string(),
                })?;
        let named = tempfile::Builder::new()
            .prefix(".component-")
            .suffix(".zip")
            .tempfile_in(temp_dir)
            .at(temp_dir)?;
        let (file, temp_path) = named.into_parts();
        let mut out = BufWriter::with_capacity(BUF_SIZE, file);
        let copy = self
            .copy_component(&record, &mut out, &transit_core::NoProgress)
            .map_err(|e| self.explain_change(e))?;
        if let CopyCheck::Bad(e) = self.check_copy(&record, &copy) {
            return Err(self.explain_change(e));
        }
        let mut file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .at(&temp_path)?;
        file.flush().at(&temp_path)?;
        file.seek(SeekFrom::Start(0)).at(&temp_path)?;
        ComponentReader::open(&self.path, record, file, Some(temp_path))
    }
}

impl MigrationReader {
    /// Streams entry `path` of component `id` through `f` straight from the
    /// decrypting stream, without a temporary copy of the component, when
    /// it is the component's first entry (an export writes registry data
    /// first). `Ok(None)` when it is not first, or the stream cannot tell:
    /// the caller then opens the component with
    /// [`open_component`](Self::open_component).
    ///
    /// The entry gets the checks of [`ComponentReader::read_entry`]: a safe
    /// path listed in the manifest, at most its declared size (reading
    /// stops at `size + 1`), within deflate's ratio, and the SHA-256 and
    /// final size the manifest gives, checked when `f` returns. The
    /// component's own size and hash are not checked, since its other
    /// entries are not read: [`verify`](Self::verify) does that.
    pub fn read_leading_entry<T>(
        &mut self,
        id: &str,
        path: &str,
        f: impl FnOnce(&mut dyn Read) -> io::Result<T>,
    ) -> Result<Option<T>, ArchiveError> {
        // The manifest is shared: held here, it needs no copy of the record
        // while the reader is borrowed to decrypt.
        let manifest = Arc::clone(&self.manifest);
        let Some(record) = manifest.component(id) else {
            return Ok(None);
        };
        let Some(expected) = record.entries.iter().find(|e| e.path == path) else {
            return Ok(None);
        };
        if !is_safe_entry_path(path) {
            return Ok(None);
        }
        let Some(index) = self.zip.index_for_name(&record.entry) else {
            return Ok(None);
        };
        let file = self.path.clone();
        let mut outer = self.open_outer(index, &record.entry)?;
        let mut entry = match zip::read::read_zipfile_from_stream(&mut outer) {
            Ok(Some(entry)) => entry,
            _ => return Ok(None),
        };
        let ceiling = entry
            .compressed_size()
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(1024);
        if entry.name_raw() != path.as_bytes() || expected.size > ceiling {
            return Ok(None);
        }
        let label = format!("{path} in {}", record.entry);
        read_checked(&mut entry, expected, &file, label, f).map(Some)
    }
}

/// Errors after which `verify` cannot go on.
fn is_fatal(e: &ArchiveError) -> bool {
    matches!(
        e,
        ArchiveError::WrongPassword { .. }
            | ArchiveError::PasswordRequired { .. }
            | ArchiveError::Io(_)
    )
}

/// Maps a failure to read the central directory: Truncated when the file starts
/// like a zip, NotAMigrationFile otherwise.
fn classify_open_failure(path: &Path, err: zip::result::ZipError) -> ArchiveError {
    if let zip::result::ZipError::Io(e) = &err {
        if e.kind() != io::ErrorKind::UnexpectedEof && e.kind() != io::ErrorKind::InvalidData {
            return ArchiveError::at(path, io::Error::new(e.kind(), e.to_string()));
        }
    }
    let mut head = [0u8; 4];
    let starts_like_zip = File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head == ZIP_MAGIC;
    if starts_like_zip {
        ArchiveError::Truncated {
            path: path.to_path_buf(),
            detail: format!("no readable end of central directory ({err})"),
        }
    } else {
        ArchiveError::NotAMigrationFile {
            path: path.to_path_buf(),
            detail: format!("not a zip file ({err})"),
        }
    }
}

fn placeholder_manifest() -> Manifest {
    Manifest {
        format_version: 0,
        migrator: crate::manifest::MigratorInfo {
            release: String::new(),
            build: 0,
        },
        source: crate::manifest::SourceInfo {
            server_name: String::new(),
            site_name: String::new(),
            site_id: 0,
            role: String::new(),
            product_release: String::new(),
            patch: 0,
        },
        created_utc: String::new(),
        components: Vec::new(),
    }
}

/// A writer that fails once `stop` is cancelled, so a copy into it ends
/// within one buffer of the stop.
struct UntilStopped<'a, W> {
    inner: W,
    stop: &'a transit_core::CancelToken,
}

impl<W: Write> Write for UntilStopped<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.stop.is_cancelled() {
            return Err(std::io::Error::other("verification stopped"));
        }
        self.inner.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}
