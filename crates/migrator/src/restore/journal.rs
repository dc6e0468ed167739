//! The import journal and crash recovery.

use super::point::{abandoned_dir, RestorePoint};
use super::rollback::rollback;
use crate::error::{MigratorError, Result};
use crate::import::Refusal;
use crate::locks::ImportLock;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::PathBuf;
use transit_core::{IoContext, PathIoError};
use transit_server::ServerRoot;

const JOURNAL: &str = "import.journal";

/// The journal's content: which restore point undoes the import in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalRecord {
    /// The restore point's ID.
    pub restore_point: String,
    /// The import's process ID.
    pub pid: u32,
    /// The last step the import reached.
    pub step: String,
}

/// An open journal: while it lives, the import lock is held (by the
/// journal itself, or by the caller of [`Journal::begin_held`]). Dropping
/// it without [`finish`](Journal::finish) leaves the journal on disk, which
/// is exactly what a crash leaves, so the next run rolls back.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    record: JournalRecord,
    _lock: Option<ImportLock>,
}

impl Journal {
    /// Starts a journal for an import undone by `point`. Takes the import
    /// lock; fails if another import holds it.
    pub fn begin(root: &ServerRoot, point: &RestorePoint) -> Result<Journal> {
        let lock = ImportLock::acquire(root)?;
        Journal::start(root, point, Some(lock))
    }

    /// Starts a journal for an import that already holds `_held`, the
    /// import lock, and keeps holding it while the journal lives.
    pub fn begin_held(
        root: &ServerRoot,
        point: &RestorePoint,
        _held: &ImportLock,
    ) -> Result<Journal> {
        Journal::start(root, point, None)
    }

    fn start(root: &ServerRoot, point: &RestorePoint, lock: Option<ImportLock>) -> Result<Journal> {
        let mut journal = Journal {
            path: root.run_dir().join(JOURNAL),
            record: JournalRecord {
                restore_point: point.meta.id.clone(),
                pid: std::process::id(),
                step: "begun".into(),
            },
            _lock: lock,
        };
        journal.write()?;
        Ok(journal)
    }

    /// Records progress (written and synced before the step's effects).
    pub fn step(&mut self, step: &str) -> Result<()> {
        self.record.step = step.to_string();
        self.write()
    }

    fn write(&mut self) -> Result<()> {
        let temp = self.path.with_extension("journal.tmp");
        let text = serde_json::to_vec(&self.record).expect("journal record serialises");
        {
            use std::io::Write;
            let mut f = File::create(&temp).at(&temp)?;
            f.write_all(&text).at(&temp)?;
            f.sync_all().at(&temp)?;
        }
        Ok(std::fs::rename(&temp, &self.path).at(&self.path)?)
    }

    /// The import completed: removes the journal.
    pub fn finish(self) -> Result<()> {
        Ok(std::fs::remove_file(&self.path).at(&self.path)?)
    }
}

/// What [`recover`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// No interrupted import.
    Clean,
    /// An import is running right now (its lock is held); nothing done.
    ImportRunning,
    /// An interrupted import was rolled back to this restore point.
    RolledBack {
        /// The restore point used.
        restore_point: String,
        /// The step the import had reached.
        step: String,
    },
}

/// Whether an interrupted (or running) import left its journal.
pub fn journal_exists(root: &ServerRoot) -> bool {
    root.run_dir().join(JOURNAL).exists()
}

/// Detects an interrupted import (a journal whose lock nobody holds) and
/// rolls it back to its restore point, sets the restore point aside (the
/// import never happened) and removes the journal.
pub fn recover(root: &ServerRoot) -> Result<RecoveryOutcome> {
    let path = root.run_dir().join(JOURNAL);
    if !path.exists() {
        return Ok(RecoveryOutcome::Clean);
    }
    let lock = match ImportLock::acquire(root) {
        Ok(lock) => lock,
        Err(MigratorError::Refused(Refusal::ImportRunning)) => {
            return Ok(RecoveryOutcome::ImportRunning)
        }
        Err(e) => return Err(e),
    };
    let text = std::fs::read(&path).at(&path)?;
    let record: JournalRecord = serde_json::from_slice(&text).map_err(|e| {
        MigratorError::Io(PathIoError::new(
            path.clone(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        ))
    })?;
    let dir = root.restore_points_dir().join(&record.restore_point);
    let aside = abandoned_dir(&dir, &record.restore_point);
    if !dir.exists() && aside.exists() {
        // The rollback was done and the restore point set aside; only the
        // journal was left.
        tracing::warn!(restore_point = %record.restore_point, "finishing the rollback of an interrupted import");
    } else {
        let point = RestorePoint::open(&dir)?;
        tracing::warn!(restore_point = %record.restore_point, step = %record.step, "rolling back an interrupted import");
        rollback(root, &point)?;
        // The import never happened: its restore point must not be the one
        // a later default `rollback` picks.
        point.abandon()?;
    }
    std::fs::remove_file(&path).at(&path)?;
    let _ = std::fs::remove_dir_all(&aside);
    drop(lock);
    Ok(RecoveryOutcome::RolledBack {
        restore_point: record.restore_point,
        step: record.step,
    })
}
