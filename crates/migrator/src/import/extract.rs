//! The extraction folder (handlers and other extract-only files).
//!
//! An import extracts into `.transit-extract-XXXXXX` inside the folder
//! (holding `flock` on its `.lock` file) and moves the files into place
//! only once the import completed, so a refused or stopped import leaves
//! the folder as it found it. A staging folder whose lock nobody holds was
//! left by a killed import; the next import into the folder removes it.

use crate::error::Result;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use transit_core::IoContext;

/// The name prefix of an import's staging folder in the extraction folder.
pub const STAGING_PREFIX: &str = ".transit-extract-";

const LOCK: &str = ".lock";

/// An import's staging folder inside the extraction folder; removed with
/// its content when dropped unless [`published`](ExtractStage::publish).
#[derive(Debug)]
pub(crate) struct ExtractStage {
    dir: Option<PathBuf>,
    _lock: File,
}

impl ExtractStage {
    /// Creates the staging folder in `folder` (creating `folder` if needed).
    pub(crate) fn create(folder: &Path) -> Result<ExtractStage> {
        std::fs::create_dir_all(folder).at(folder)?;
        let dir = tempfile::Builder::new()
            .prefix(STAGING_PREFIX)
            .tempdir_in(folder)
            .at(folder)?
            .keep();
        let lock_path = dir.join(LOCK);
        let lock = File::create(&lock_path).at(&lock_path)?;
        lock.try_lock()
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::WouldBlock))
            .at(&lock_path)?;
        Ok(ExtractStage {
            dir: Some(dir),
            _lock: lock,
        })
    }

    /// Where the files are extracted to.
    pub(crate) fn path(&self) -> &Path {
        self.dir.as_deref().expect("not yet published")
    }

    /// Moves every staged file to the same place under `folder`
    /// (replacing a file there, which only `--force` allows), then removes
    /// the staging folder.
    pub(crate) fn publish(mut self, folder: &Path) -> Result<()> {
        let dir = self.dir.take().expect("published once");
        let mut stack = vec![dir.clone()];
        while let Some(current) = stack.pop() {
            for entry in std::fs::read_dir(&current).at(&current)? {
                let entry = entry.at(&current)?;
                let path = entry.path();
                if current == dir && entry.file_name() == LOCK {
                    continue;
                }
                let relative = path.strip_prefix(&dir).expect("under the staging folder");
                let dest = folder.join(relative);
                if entry.file_type().at(&path)?.is_dir() {
                    std::fs::create_dir_all(&dest).at(&dest)?;
                    stack.push(path);
                } else {
                    std::fs::rename(&path, &dest).at(&dest)?;
                }
            }
        }
        std::fs::remove_dir_all(&dir).at(&dir)?;
        Ok(())
    }
}

impl Drop for ExtractStage {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Removes the staging folders of killed imports from `folder`.
pub(crate) fn clean_stale(folder: &Path) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let is_staging = entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
            && entry.file_type().is_ok_and(|t| t.is_dir());
        if !is_staging {
            continue;
        }
        let free = match OpenOptions::new().write(true).open(entry.path().join(LOCK)) {
            Ok(lock) => lock.try_lock().is_ok(),
            Err(_) => true,
        };
        if free {
            tracing::info!(path = %entry.path().display(), "removing the extraction leftovers of a killed import");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Whether `folder` holds anything but import staging folders.
pub(crate) fn holds_files(folder: &Path) -> Result<bool> {
    let entries = match std::fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(transit_core::PathIoError::new(folder, e).into()),
    };
    for entry in entries {
        let entry = entry.at(folder)?;
        if !entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
        {
            return Ok(true);
        }
    }
    Ok(false)
}
