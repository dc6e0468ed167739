//! Creating, listing and pruning restore points.

use crate::error::{MigratorError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use transit_core::{IoContext, PathIoError};
use transit_server::ServerRoot;

/// The files a change will touch, relative to the server root
/// (`/`-separated, such as `files/DialPlan/Default.i3dialplan`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChanges {
    /// Existing files the change will overwrite.
    pub overwrite: Vec<String>,
    /// Files the change will create.
    pub create: Vec<String>,
    /// Existing files the change will remove or move away.
    pub remove: Vec<String>,
}

/// What a restore point records (`meta.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestorePointMeta {
    /// The restore point's ID (its folder name).
    pub id: String,
    /// When it was taken (UTC, RFC 3339).
    pub created_utc: String,
    /// Why it was taken (for example "import of CIC01_….ininmigr").
    pub reason: String,
    /// The server it belongs to.
    pub server_name: String,
    /// Files copied into the restore point because the change overwrites them.
    pub overwritten: Vec<String>,
    /// Files the change creates (removed on rollback).
    pub created: Vec<String>,
    /// Folders the change creates (removed on rollback when empty).
    pub created_dirs: Vec<String>,
    /// Files copied into the restore point because the change removes or
    /// moves them (put back on rollback). Absent in older restore points.
    #[serde(default)]
    pub removed: Vec<String>,
}

/// A restore point on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestorePoint {
    /// Its folder.
    pub dir: PathBuf,
    /// Its record.
    pub meta: RestorePointMeta,
}

impl RestorePoint {
    /// The registry backup.
    pub fn registry_backup(&self) -> PathBuf {
        self.dir.join("registry.db")
    }

    /// Where the saved copy of an overwritten file lives.
    pub fn saved_copy(&self, relative: &str) -> PathBuf {
        self.dir.join("files").join(relative)
    }

    /// Sets the restore point aside because the import it was taken for
    /// did not happen (refused, stopped or interrupted, and rolled back):
    /// it is renamed to `.abandoned-<id>` (a rename needs no free space),
    /// so [`list`] no longer shows it and a default rollback never picks
    /// it; [`prune`] deletes it. Returns where it went. Idempotent.
    pub fn abandon(&self) -> Result<PathBuf> {
        let aside = abandoned_dir(&self.dir, &self.meta.id);
        if self.dir.exists() {
            std::fs::rename(&self.dir, &aside).at(&self.dir)?;
        }
        Ok(aside)
    }

    /// Reads a restore point folder.
    pub fn open(dir: &Path) -> Result<RestorePoint> {
        let path = dir.join("meta.json");
        let text = std::fs::read_to_string(&path).at(&path)?;
        let meta = serde_json::from_str(&text).map_err(|e| {
            MigratorError::Io(PathIoError::new(
                path.clone(),
                std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            ))
        })?;
        Ok(RestorePoint {
            dir: dir.to_path_buf(),
            meta,
        })
    }
}

/// The name prefix of an abandoned restore point's folder.
const ABANDONED_PREFIX: &str = ".abandoned-";

/// Where [`RestorePoint::abandon`] puts the restore point `id` of `dir`.
pub(crate) fn abandoned_dir(dir: &Path, id: &str) -> PathBuf {
    dir.with_file_name(format!("{ABANDONED_PREFIX}{id}"))
}

/// Checks a relative path names something inside the server root.
pub fn checked_relative(relative: &str) -> Result<&str> {
    let ok = !relative.is_empty()
        && !relative.starts_with('/')
        && relative
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..");
    if ok {
        Ok(relative)
    } else {
        Err(MigratorError::Io(PathIoError::new(
            PathBuf::from(relative),
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a relative path inside the server root",
            ),
        )))
    }
}

/// The folders `create` would bring into existence, deepest last.
fn missing_dirs(root: &Path, created: &[String]) -> Vec<String> {
    let mut dirs = Vec::new();
    for file in created {
        let mut prefix = String::new();
        let parts: Vec<&str> = file.split('/').collect();
        for part in &parts[..parts.len().saturating_sub(1)] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            if !root.join(&prefix).exists() && !dirs.contains(&prefix) {
                dirs.push(prefix.clone());
            }
        }
    }
    dirs
}

/// Takes a restore point before a change: backs up the registry, copies
/// every file in `changes.overwrite` and `changes.remove`, and records
/// `changes.create`. The
/// restore point appears under its final name only once complete.
pub fn create(root: &ServerRoot, reason: &str, changes: &FileChanges) -> Result<RestorePoint> {
    let base = root.restore_points_dir();
    std::fs::create_dir_all(&base).at(&base)?;
    let now = transit_core::time::now();
    let stamp = transit_core::time::compact(now);
    let mut id = stamp.clone();
    let mut n = 1;
    while base.join(&id).exists() {
        n += 1;
        id = format!("{stamp}-{n:03}");
    }
    let staging = tempfile::Builder::new()
        .prefix(".partial-")
        .tempdir_in(&base)
        .at(&base)?;
    // The registry's backup and the copies of the files run side by side:
    // both mostly wait on the kernel, and a large import replaces
    // thousands of files.
    let registry_copy = staging.path().join("registry.db");
    let (backed_up, copied) = std::thread::scope(|s| {
        let backup = s.spawn(|| -> Result<()> {
            root.open_registry()?.backup_to(&registry_copy)?;
            Ok(())
        });
        let copied = copy_files(root, staging.path(), changes);
        let backed_up = backup.join().unwrap_or_else(|_| {
            Err(PathIoError::new(
                registry_copy.clone(),
                std::io::Error::other("the registry backup thread panicked"),
            )
            .into())
        });
        (backed_up, copied)
    });
    backed_up?;
    copied?;
    for relative in &changes.create {
        checked_relative(relative)?;
    }
    let meta = RestorePointMeta {
        id: id.clone(),
        created_utc: transit_core::time::rfc3339(now),
        reason: reason.to_string(),
        server_name: root.name().to_string(),
        overwritten: changes.overwrite.clone(),
        created: changes.create.clone(),
        created_dirs: missing_dirs(root.dir(), &changes.create),
        removed: changes.remove.clone(),
    };
    let meta_path = staging.path().join("meta.json");
    let text = serde_json::to_string_pretty(&meta).expect("restore point metadata serialises");
    std::fs::write(&meta_path, text).at(&meta_path)?;
    let dir = base.join(&id);
    let kept = staging.keep();
    std::fs::rename(&kept, &dir).at(&dir)?;
    tracing::info!(restore_point = %id, overwritten = meta.overwritten.len(), created = meta.created.len(), "restore point taken");
    Ok(RestorePoint { dir, meta })
}

/// Copies the files an import overwrites or removes into the restore
/// point's `files/`.
fn copy_files(root: &ServerRoot, point_dir: &Path, changes: &FileChanges) -> Result<()> {
    for relative in changes.overwrite.iter().chain(&changes.remove) {
        let relative = checked_relative(relative)?;
        let source = root.dir().join(relative);
        let copy = point_dir.join("files").join(relative);
        if let Some(parent) = copy.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        std::fs::copy(&source, &copy).at(&source)?;
    }
    Ok(())
}

/// Every complete restore point of a server, oldest first (abandoned ones,
/// whose names start with a dot, left out).
pub fn list(root: &ServerRoot) -> Result<Vec<RestorePoint>> {
    let base = root.restore_points_dir();
    let mut points = Vec::new();
    let Ok(entries) = std::fs::read_dir(&base) else {
        return Ok(points);
    };
    for entry in entries {
        let entry = entry.at(&base)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || !entry.path().join("meta.json").is_file() {
            continue;
        }
        points.push(RestorePoint::open(&entry.path())?);
    }
    points.sort_by(|a, b| a.meta.id.cmp(&b.meta.id));
    Ok(points)
}

/// Deletes all but the newest `keep` restore points (and any partial or
/// abandoned ones); returns the IDs deleted.
pub fn prune(root: &ServerRoot, keep: crate::export::retention::Keep) -> Result<Vec<String>> {
    let base = root.restore_points_dir();
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".partial-") || name.starts_with(ABANDONED_PREFIX) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let points = list(root)?;
    let excess = points.len().saturating_sub(keep.get());
    let mut deleted = Vec::new();
    for point in points.into_iter().take(excess) {
        std::fs::remove_dir_all(&point.dir).at(&point.dir)?;
        deleted.push(point.meta.id);
    }
    Ok(deleted)
}
