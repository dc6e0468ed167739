//! The import journal and crash recovery.

use super::point::RestorePoint;
use super::rollback::rollback;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use transit_core::{IoContext, PathIoError};
use transit_server::ServerRoot;

const JOURNAL: &str = "import.journal";
const LOCK: &str = "import.lock";

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

/// An open journal: while it lives, the import lock is held. Dropping it
/// without [`finish`](Journal::finish) leaves the journal on disk, which is
/// exactly what a crash leaves, so the next run rolls back.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    record: JournalRecord,
    _lock: File,
}

fn lock_file(root: &ServerRoot) -> Result<File> {
    let run = root.run_dir();
    std::fs::create_dir_all(&run).at(&run)?;
    let path = run.join(LOCK);
    Ok(OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .at(&path)?)
}

impl Journal {
    /// Starts a journal for an import undone by `point`. Takes the import
    /// lock; fails if another import holds it.
    pub fn begin(root: &ServerRoot, point: &RestorePoint) -> Result<Journal> {
        let lock = lock_file(root)?;
        let lock_path = root.run_dir().join(LOCK);
        lock.try_lock().map_err(|_| {
            crate::error::MigratorError::Io(PathIoError::new(
                lock_path,
                std::io::Error::new(
                    std::io::ErrorKind::WouldBlock,
                    "another import is running on this server",
                ),
            ))
        })?;
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

/// Detects an interrupted import (a journal whose lock nobody holds) and
/// rolls it back to its restore point, then removes the journal.
pub fn recover(root: &ServerRoot) -> Result<RecoveryOutcome> {
    let path = root.run_dir().join(JOURNAL);
    if !path.exists() {
        return Ok(RecoveryOutcome::Clean);
    }
    let lock = lock_file(root)?;
    if lock.try_lock().is_err() {
        return Ok(RecoveryOutcome::ImportRunning);
    }
    let text = std::fs::read(&path).at(&path)?;
    let record: JournalRecord = serde_json::from_slice(&text).map_err(|e| {
        crate::error::MigratorError::Io(PathIoError::new(
            path.clone(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        ))
    })?;
    let point = RestorePoint::open(&root.restore_points_dir().join(&record.restore_point))?;
    tracing::warn!(restore_point = %record.restore_point, step = %record.step, "rolling back an interrupted import");
    rollback(root, &point)?;
    std::fs::remove_file(&path).at(&path)?;
    drop(lock);
    Ok(RecoveryOutcome::RolledBack {
        restore_point: record.restore_point,
        step: record.step,
    })
}
