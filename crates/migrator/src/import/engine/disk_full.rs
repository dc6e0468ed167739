//! Telling a full disk from other failures, and naming where it filled up.

use crate::error::MigratorError;
use transit_archive::ArchiveError;
use transit_registry::RegistryError;
use transit_server::{ServerError, ServerRoot};

/// Below this many free bytes, SQLite's "disk I/O error" on the registry
/// is taken for a full disk (SQLite reports a failed write to its WAL or
/// shared-memory file that way, rather than as "database or disk is full").
const NEARLY_FULL: u64 = 1024 * 1024;

/// Where the disk filled up, if `err` is a full disk.
pub(super) fn place(err: &MigratorError, root: &ServerRoot) -> Option<std::path::PathBuf> {
    match err {
        MigratorError::Io(e) | MigratorError::Archive(ArchiveError::Io(e)) if e.is_disk_full() => {
            Some(e.path().to_path_buf())
        }
        MigratorError::Registry(e) | MigratorError::Server(ServerError::Registry(e)) => {
            registry_full(e, root).then(|| root.registry_path())
        }
        MigratorError::Server(ServerError::Io(e)) if e.is_disk_full() => {
            Some(e.path().to_path_buf())
        }
        _ => None,
    }
}

fn registry_full(err: &RegistryError, root: &ServerRoot) -> bool {
    err.is_disk_full()
        || err.is_disk_io_error()
            && crate::import::preflight::free_space(root.dir()).is_ok_and(|free| free < NEARLY_FULL)
}
