//! Small file helpers: atomic writes and directory syncs.

use std::io::Write;
use std::path::Path;
use transit_core::{IoContext, PathIoError};

/// Writes `bytes` to `path` through a temporary file in the same folder
/// and a rename, then syncs the folder: readers see the old file or the
/// new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PathIoError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).at(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).at(dir)?;
    tmp.write_all(bytes).at(path)?;
    tmp.as_file().sync_all().at(path)?;
    tmp.persist(path)
        .map_err(|e| PathIoError::new(path, e.error))?;
    sync_dir(dir)
}

/// Syncs a folder, so renames in it survive a crash.
pub fn sync_dir(dir: &Path) -> Result<(), PathIoError> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).at(dir)
}
