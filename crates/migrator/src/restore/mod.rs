//! Restore points, rollback and crash recovery.
//!
//! A restore point (`restore-points/<id>/`) holds a registry backup taken
//! with SQLite's online backup, a copy of every file a change will
//! overwrite, and the list of files and folders it will create. Rolling
//! back restores the registry in one step, puts the copies back, and
//! removes what was created, which returns the server root to exactly the
//! state the restore point saw.
//!
//! An import writes a journal (`run/import.journal`) and holds
//! `run/import.lock` while it runs. A journal whose lock nobody holds
//! belongs to an interrupted import: [`recover`] rolls it back. Rollback is
//! idempotent, so a crash during recovery is recovered by the next run.

mod journal;
mod point;
mod rollback;

pub use journal::{journal_exists, recover, Journal, RecoveryOutcome};
pub use point::{
    checked_relative, create, list, prune, FileChanges, RestorePoint, RestorePointMeta,
};
pub use rollback::{rollback, STAGING_DIR};
