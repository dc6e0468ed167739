//! The restore point, taken beside the work.
//!
//! Until the registry commits, nothing the import does is visible: the
//! transaction is its own, the files wait in the staging folder and the
//! extraction folder's stage. So the restore point (a backup of the
//! registry and copies of the files the import replaces) need not come
//! first; it is taken on its own thread while the files are staged and the
//! registry is written, and the commit waits for it and its journal.
//!
//! The registry backup starts once the import's write transaction holds
//! the write lock, so no other writer can commit between the backup and
//! the import's changes: the backup is exactly the registry the import
//! changes.

use super::faults::{crash_point, pause_point};
use crate::error::Result;
use crate::locks::ImportLock;
use crate::restore::{self, FileChanges, Journal, RestorePoint};
use transit_core::CancelToken;
use transit_server::ServerRoot;

/// What the restore-point thread leaves behind: the restore point once
/// taken (even when its journal could not be started, so that it is set
/// aside), and the journal that names it.
#[derive(Default)]
pub(super) struct Saved {
    /// The restore point, once complete.
    pub(super) point: Option<RestorePoint>,
    /// The journal, once started (only a real import holding the import
    /// lock keeps one).
    pub(super) journal: Option<Journal>,
}

/// What taking the restore point needs.
pub(super) struct PointRequest<'a> {
    /// Why it is taken (shown by `restore-points list`).
    pub(super) reason: String,
    /// The files the import writes, replaces or removes.
    pub(super) changes: &'a FileChanges,
    /// The import lock the journal is held under.
    pub(super) held: Option<&'a ImportLock>,
}

/// Takes the restore point, then starts the journal that names it. On a
/// failure, `stop` is cancelled so the staging and the registry writer
/// stop early; the error is returned beside what was done.
pub(super) fn save(
    root: &ServerRoot,
    request: &PointRequest<'_>,
    cancel: &CancelToken,
    stop: &CancelToken,
) -> (Saved, Result<()>) {
    let mut saved = Saved::default();
    let result = save_into(root, request, cancel, &mut saved);
    if result.is_err() {
        stop.cancel();
    }
    (saved, result)
}

fn save_into(
    root: &ServerRoot,
    request: &PointRequest<'_>,
    cancel: &CancelToken,
    saved: &mut Saved,
) -> Result<()> {
    let point = restore::create(root, &request.reason, request.changes)?;
    let point = saved.point.insert(point);
    if let Some(held) = request.held {
        saved.journal = Some(Journal::begin_held(root, point, held)?);
    }
    crash_point("restore-point");
    pause_point("restore-point", cancel);
    Ok(())
}
