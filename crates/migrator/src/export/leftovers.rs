//! What a killed export leaves in its folder, and how the next export of
//! the same server removes it.
//!
//! An export writes `<Server>_<stamp>.ininmigr.partial-XXXXXX` (locked with
//! `flock` for as long as the export runs) and builds its components in
//! `.transit-export-<that partial's name>`. A SIGKILL leaves both. A partial
//! file of this server whose lock nobody holds is stale; so is a staging
//! folder whose partial file is gone. Other servers' files, and anything
//! else, are never touched.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// The prefix of an export's staging folder.
pub const STAGING_PREFIX: &str = ".transit-export-";

/// The staging folder name of the export writing `partial`.
pub fn staging_name(partial: &Path) -> String {
    let name = partial
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!("{STAGING_PREFIX}{name}")
}

/// Whether `name` is a partial migration file of `server`:
/// `<server>_<14 digits>.ininmigr.partial-…`.
fn is_partial_of(name: &str, server: &str) -> bool {
    let Some(rest) = name.strip_prefix(server).and_then(|r| r.strip_prefix('_')) else {
        return false;
    };
    let (stamp, tail) = rest.split_at(rest.len().min(14));
    stamp.len() == 14
        && stamp.bytes().all(|b| b.is_ascii_digit())
        && tail.starts_with(&format!(".{}.partial-", transit_archive::EXTENSION))
}

/// Removes the stale partial files and staging folders of `server`'s
/// exports in `folder`; returns what was removed. Failures are logged and
/// skipped: a leftover that cannot be removed never stops an export.
pub fn clean_stale(folder: &Path, server: &str) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(entries) = std::fs::read_dir(folder) else {
        return removed;
    };
    let mut staging_dirs = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_file() && is_partial_of(&name, server) {
            // A running export holds the lock; a killed one does not.
            let free = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .is_ok_and(|f| f.try_lock().is_ok());
            if free {
                match std::fs::remove_file(&path) {
                    Ok(()) => removed.push(path),
                    Err(e) => {
                        tracing::warn!(path = %path.display(), "cannot remove a stale partial export: {e}")
                    }
                }
            }
        } else if kind.is_dir() {
            if let Some(partial) = name.strip_prefix(STAGING_PREFIX) {
                if is_partial_of(partial, server) {
                    staging_dirs.push((path, folder.join(partial)));
                }
            }
        }
    }
    for (dir, partial) in staging_dirs {
        if partial.exists() {
            continue;
        }
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => removed.push(dir),
            Err(e) => {
                tracing::warn!(path = %dir.display(), "cannot remove a stale export folder: {e}")
            }
        }
    }
    if !removed.is_empty() {
        tracing::info!(count = removed.len(), folder = %folder.display(), "removed leftovers of killed exports");
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_names_belong_to_their_server_only() {
        assert!(is_partial_of(
            "CIC01_11292026085000.ininmigr.partial-a1B2c3",
            "CIC01"
        ));
        assert!(!is_partial_of(
            "CIC01_X_11292026085000.ininmigr.partial-a1B2c3",
            "CIC01"
        ));
        assert!(!is_partial_of("CIC01_11292026085000.ininmigr", "CIC01"));
        assert!(!is_partial_of("CIC01_1129.ininmigr.partial-x", "CIC01"));
    }
}
