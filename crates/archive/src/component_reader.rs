//! Reading one inner component zip (already decrypted into a temporary file).

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use transit_core::IoContext;

use sha2::{Digest, Sha256};
use tempfile::TempPath;
use zip::ZipArchive;

use crate::error::ArchiveError;
use crate::hashing::BUF_SIZE;
use crate::manifest::{ComponentRecord, EntryRecord};
use crate::safety::is_safe_entry_path;

/// One component's inner zip, opened from a verified temporary copy.
///
/// Owns the temporary file, which is deleted when this value is dropped.
pub struct ComponentReader {
    /// The migration file, for error messages.
    file: PathBuf,
    record: ComponentRecord,
    /// Entry path → index in `record.entries`, so lookups stay O(1) in
    /// components with tens of thousands of files.
    index: std::collections::HashMap<String, usize>,
    zip: ZipArchive<BufReader<File>>,
    _temp: Option<TempPath>,
}

impl std::fmt::Debug for ComponentReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentReader")
            .field("file", &self.file)
            .field("component", &self.record.id)
            .finish_non_exhaustive()
    }
}

/// A reader that hashes and counts what it yields and stops after `declared + 1` bytes.
struct CheckedReader<'a> {
    inner: &'a mut dyn Read,
    declared: u64,
    count: u64,
    hasher: Sha256,
    /// The first error of the inner reader, kept to be mapped after `f` returns.
    failure: Option<io::Error>,
    exceeded: bool,
}

impl Read for CheckedReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.exceeded {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "entry is larger than the manifest declares",
            ));
        }
        if let Some(e) = &self.failure {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
        let cap = self.declared.saturating_add(1) - self.count;
        let want = usize::try_from(cap.min(buf.len() as u64)).unwrap_or(buf.len());
        match self.inner.read(&mut buf[..want]) {
            Ok(n) => {
                let data = &buf[..n];
                self.hasher.update(data);
                self.count += n as u64;
                if self.count > self.declared {
                    self.exceeded = true;
                    // Hand out only the bytes within the declared size.
                    let keep = n - usize::try_from(self.count - self.declared).unwrap_or(n);
                    if keep == 0 {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            "entry is larger than the manifest declares",
                        ));
                    }
                    return Ok(keep);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failure = Some(e);
                Err(copy)
            }
        }
    }
}

impl CheckedReader<'_> {
    /// Reads what `f` left unread (still bounded by `declared + 1`).
    fn drain(&mut self) {
        let mut buf = vec![0u8; BUF_SIZE];
        while !self.exceeded && self.failure.is_none() {
            match self.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    }
}

/// Hands `inner`, an entry's content, to `f` with the checks of
/// [`ComponentReader::read_entry`]: at most `expected.size` bytes reach
/// `f`, reading stops at `size + 1`, and the SHA-256 and final size must
/// match once `f` returns (what it left unread is read and hashed too).
/// `label` names the entry in errors about `file`.
pub(crate) fn read_checked<T>(
    inner: &mut dyn Read,
    expected: &EntryRecord,
    file: &Path,
    label: String,
    f: impl FnOnce(&mut dyn Read) -> io::Result<T>,
) -> Result<T, ArchiveError> {
    let mut checked = CheckedReader {
        inner,
        declared: expected.size,
        count: 0,
        hasher: Sha256::new(),
        failure: None,
        exceeded: false,
    };
    let outcome = f(&mut checked);
    if outcome.is_ok() {
        checked.drain();
    }
    if checked.exceeded {
        return Err(ArchiveError::SizeMismatch {
            path: file.to_path_buf(),
            entry: label,
            declared: expected.size,
            actual_at_least: checked.count,
        });
    }
    if let Some(e) = checked.failure.take() {
        return Err(ArchiveError::from_read(file, &label, e));
    }
    let value = outcome.at(file)?;
    if checked.count != expected.size {
        return Err(ArchiveError::SizeMismatch {
            path: file.to_path_buf(),
            entry: label,
            declared: expected.size,
            actual_at_least: checked.count,
        });
    }
    let actual = hex::encode(checked.hasher.finalize());
    if actual != expected.sha256 {
        return Err(ArchiveError::Tampered {
            path: file.to_path_buf(),
            entry: label,
            detail: format!(
                "SHA-256 differs: manifest {}, file {actual}",
                expected.sha256
            ),
        });
    }
    Ok(value)
}

/// Deflate's maximum expansion ratio, rounded up.
pub(crate) const MAX_DEFLATE_RATIO: u64 = 1100;

impl ComponentReader {
    /// Opens the inner zip in `file` (a temporary copy owned via `temp`).
    pub(crate) fn open(
        migration_file: &Path,
        record: ComponentRecord,
        file: File,
        temp: Option<TempPath>,
    ) -> Result<Self, ArchiveError> {
        let tampered = |detail: String| ArchiveError::Tampered {
            path: migration_file.to_path_buf(),
            entry: record.entry.clone(),
            detail,
        };
        let zip = ZipArchive::new(BufReader::with_capacity(BUF_SIZE, file))
            .map_err(|e| tampered(format!("inner zip is unreadable: {e}")))?;
        if zip.has_duplicate_names() {
            return Err(tampered("inner zip has duplicate entry names".to_string()));
        }
        let index: std::collections::HashMap<String, usize> = record
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.path.clone(), i))
            .collect();
        // Deflate cannot expand more than about 1032:1, so a declared size
        // beyond that ratio is a lie (a zip bomb announcing itself as big).
        let mut zip = zip;
        for i in 0..zip.len() {
            let entry = zip
                .by_index_raw(i)
                .map_err(|e| tampered(format!("inner zip is unreadable: {e}")))?;
            let name = String::from_utf8_lossy(entry.name_raw()).into_owned();
            let compressed = entry.compressed_size();
            if let Some(expected) = index.get(&name).map(|&i| &record.entries[i]) {
                if expected.size
                    > compressed
                        .saturating_mul(MAX_DEFLATE_RATIO)
                        .saturating_add(1024)
                {
                    return Err(tampered(format!(
                        "entry {name} declares {} bytes from {compressed} compressed bytes, beyond what deflate can produce",
                        expected.size
                    )));
                }
            }
        }
        Ok(Self {
            file: migration_file.to_path_buf(),
            record,
            index,
            zip,
            _temp: temp,
        })
    }

    /// The manifest record of this component.
    pub fn record(&self) -> &ComponentRecord {
        &self.record
    }

    /// Entry paths in the inner zip, in stored order (names that are not UTF-8 are
    /// given lossily).
    pub fn entry_paths(&self) -> Vec<String> {
        (0..self.zip.len())
            .map(|i| match self.zip.name_for_index(i) {
                Some(Ok(name)) => name.into_owned(),
                _ => self
                    .zip
                    .by_index_data(i)
                    .map(|e| String::from_utf8_lossy(e.name_raw()).into_owned())
                    .unwrap_or_default(),
            })
            .collect()
    }

    fn label(&self, path: &str) -> String {
        format!("{path} in {}", self.record.entry)
    }

    fn tampered(&self, path: &str, detail: impl Into<String>) -> ArchiveError {
        ArchiveError::Tampered {
            path: self.file.clone(),
            entry: self.label(path),
            detail: detail.into(),
        }
    }

    fn expected(&self, path: &str) -> Result<EntryRecord, ArchiveError> {
        if !is_safe_entry_path(path) {
            return Err(ArchiveError::UnsafePath {
                path: self.file.clone(),
                entry: path.to_string(),
            });
        }
        self.index
            .get(path)
            .map(|&i| self.record.entries[i].clone())
            .ok_or_else(|| self.tampered(path, "entry is not listed in the manifest"))
    }

    /// Streams one entry through `f`.
    ///
    /// Enforced: the path is safe ([`ArchiveError::UnsafePath`]); at most the
    /// manifest's declared size is handed to `f`, and reading stops once
    /// `size + 1` bytes appear ([`ArchiveError::SizeMismatch`], a zip-bomb bound);
    /// the SHA-256 and the final size match the manifest
    /// ([`ArchiveError::Tampered`] / [`ArchiveError::SizeMismatch`]).
    ///
    /// The check runs when `f` returns: whatever `f` did not read is then read
    /// (still bounded) and hashed, and a mismatch turns the result into an error
    /// even if `f` succeeded. So the bytes `f` saw are only known to be the verified
    /// ones once this returns `Ok`; `f` should not commit them before that.
    pub fn read_entry<T>(
        &mut self,
        path: &str,
        f: impl FnOnce(&mut dyn Read) -> io::Result<T>,
    ) -> Result<T, ArchiveError> {
        let expected = self.expected(path)?;
        let label = self.label(path);
        let index = self
            .zip
            .index_for_name(path)
            .ok_or_else(|| self.tampered(path, "entry is listed in the manifest but missing"))?;
        let file = self.file.clone();
        let mut entry = self
            .zip
            .by_index(index)
            .map_err(|e| ArchiveError::from_zip_read(&file, &label, e))?;
        read_checked(&mut entry, &expected, &file, label, f)
    }

    /// Extracts every entry under `dest` (creating directories), with the same
    /// checks as [`ComponentReader::read_entry`]. An unsafe path is refused before
    /// anything is written for that entry; files are created new (an existing file
    /// is an error, never overwritten or followed); a file that fails its check is
    /// removed. Also fails when a manifest entry is missing from the zip.
    /// Returns the number of files written.
    pub fn extract_all(&mut self, dest: &Path) -> Result<u64, ArchiveError> {
        let mut written = 0u64;
        let mut seen = HashSet::new();
        for name in self.entry_paths() {
            self.expected(&name)?;
            let target = dest.join(&name);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).at(parent)?;
            }
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&target)
                .at(&target)?;
            let result = self.read_entry(&name, |r| {
                let mut w = io::BufWriter::with_capacity(BUF_SIZE, &mut out);
                io::copy(r, &mut w)?;
                w.flush()
            });
            drop(out);
            if let Err(e) = result {
                let _ = fs::remove_file(&target);
                return Err(e);
            }
            seen.insert(name);
            written += 1;
        }
        if let Some(missing) = self.record.entries.iter().find(|e| !seen.contains(&e.path)) {
            return Err(self.tampered(&missing.path, "entry is listed in the manifest but missing"));
        }
        Ok(written)
    }

    /// Checks every entry against the manifest, collecting problems as
    /// `(entry, problem)` instead of stopping. Fatal errors (I/O, password) are
    /// returned. Returns the number of entries checked.
    pub(crate) fn check_all(
        &mut self,
        problems: &mut Vec<(String, String)>,
    ) -> Result<u64, ArchiveError> {
        let mut checked = 0u64;
        let names = self.entry_paths();
        let listed: HashSet<&str> = names.iter().map(String::as_str).collect();
        for missing in self
            .record
            .entries
            .iter()
            .filter(|e| !listed.contains(e.path.as_str()))
        {
            problems.push((
                missing.path.clone(),
                "listed in the manifest but missing from the component".to_string(),
            ));
        }
        for name in &names {
            checked += 1;
            match self.read_entry(name, |r| io::copy(r, &mut io::sink())) {
                Ok(_) => {}
                Err(ArchiveError::Io(e)) if e.path() != self.file => {
                    return Err(ArchiveError::Io(e));
                }
                Err(
                    e
                    @ (ArchiveError::WrongPassword { .. } | ArchiveError::PasswordRequired { .. }),
                ) => return Err(e),
                Err(e) => problems.push((name.clone(), problem_text(&e))),
            }
        }
        Ok(checked)
    }
}

/// Human text of a per-entry problem (without the file name).
pub(crate) fn problem_text(e: &ArchiveError) -> String {
    match e {
        ArchiveError::Tampered { detail, .. } | ArchiveError::Truncated { detail, .. } => {
            detail.clone()
        }
        ArchiveError::SizeMismatch {
            declared,
            actual_at_least,
            ..
        } => format!("size differs: manifest {declared} bytes, file at least {actual_at_least}"),
        ArchiveError::UnsafePath { .. } => "unsafe entry path".to_string(),
        other => other.to_string(),
    }
}
