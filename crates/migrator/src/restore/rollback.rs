//! Returning a server root to a restore point.

use super::point::{checked_relative, RestorePoint};
use crate::error::{MigratorError, Result};
use std::path::Path;
use transit_core::{IoContext, PathIoError};
use transit_server::lock::ServiceStatus;
use transit_server::{ServerError, ServerRoot};

/// Folder for in-flight file moves of an import, under the server root.
pub const STAGING_DIR: &str = ".transit-staging";

/// Restores the server root to `point`: the registry in one step, every
/// overwritten or removed file from its saved copy (temporary file, then rename), and
/// every created file and folder removed. Safe to run again after a crash
/// part-way. Refused while the server service runs.
pub fn rollback(root: &ServerRoot, point: &RestorePoint) -> Result<()> {
    if let ServiceStatus::Running { pid } = root.service_status()? {
        return Err(ServerError::ServiceRunning { pid }.into());
    }
    let mut registry = root.open_registry()?;
    registry.restore_from(&point.registry_backup())?;
    drop(registry);
    for relative in point.meta.overwritten.iter().chain(&point.meta.removed) {
        let relative = checked_relative(relative)?;
        let target = root.dir().join(relative);
        let saved = point.saved_copy(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        let temp = target.with_file_name(format!(
            ".{}.transit-restore",
            target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        std::fs::copy(&saved, &temp).at(&saved)?;
        std::fs::File::open(&temp)
            .and_then(|f| f.sync_all())
            .at(&temp)?;
        std::fs::rename(&temp, &target).at(&target)?;
    }
    for relative in &point.meta.created {
        let relative = checked_relative(relative)?;
        remove_if_present(&root.dir().join(relative))?;
    }
    for relative in point.meta.created_dirs.iter().rev() {
        let dir = root.dir().join(checked_relative(relative)?);
        // Only if empty: anything else in it was not ours.
        let _ = std::fs::remove_dir(&dir);
    }
    let staging = root.dir().join(STAGING_DIR);
    if staging.exists() {
        std::fs::remove_dir_all(&staging).at(&staging)?;
    }
    tracing::info!(restore_point = %point.meta.id, "rolled back");
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(MigratorError::from(PathIoError::new(path, e))),
    }
}
