//! The provider's catalog and activity log, in SQLite (`provider.db`).
//!
//! Three tables: `updates` (each ingested update with its manifest and
//! state), `activity` (the activity log: time, machine, application,
//! release, patch, status, description) and `folders` (update folders
//! and their Auto flags). The provider issue adds its own tables beside
//! these; the activity log's shape is the console's Activity page.

use crate::applicability::CatalogEntry;
use crate::manifest::Manifest;
use crate::states::UpdateState;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use transit_core::{ErrorKind, Kind};

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("{}: {source}", .path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A stored row does not parse.
    #[error("{}: update {id}: {problem}", .path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// The row.
        id: i64,
        /// What is wrong.
        problem: String,
    },
    /// No update with that ID.
    #[error("no update with ID {0}")]
    NoSuchUpdate(i64),
    /// The state change is refused.
    #[error(transparent)]
    State(#[from] crate::states::StateError),
}

impl Kind for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Sqlite { .. } => ErrorKind::Other,
            StoreError::Corrupt { .. } => ErrorKind::BadInput,
            StoreError::NoSuchUpdate(_) => ErrorKind::Usage,
            StoreError::State(e) => e.kind(),
        }
    }
}

/// What an activity entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivityStatus {
    /// An update was ingested.
    Ingested,
    /// An update file was refused at ingest (left in place with a reason file).
    #[serde(rename = "Ingest Failed")]
    IngestFailed,
    /// An update's state changed.
    #[serde(rename = "State Changed")]
    StateChanged,
    /// An update was deleted from the provider.
    Deleted,
    /// A machine downloaded an update.
    Downloaded,
    /// A machine's download failed.
    #[serde(rename = "Download Failed")]
    DownloadFailed,
    /// A machine installed an update.
    Installed,
    /// A machine's install failed.
    #[serde(rename = "Install Failed")]
    InstallFailed,
    /// A machine removed an update.
    Removed,
}

impl ActivityStatus {
    /// The status as the activity log shows it (`Download Failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityStatus::Ingested => "Ingested",
            ActivityStatus::IngestFailed => "Ingest Failed",
            ActivityStatus::StateChanged => "State Changed",
            ActivityStatus::Deleted => "Deleted",
            ActivityStatus::Downloaded => "Downloaded",
            ActivityStatus::DownloadFailed => "Download Failed",
            ActivityStatus::Installed => "Installed",
            ActivityStatus::InstallFailed => "Install Failed",
            ActivityStatus::Removed => "Removed",
        }
    }

    /// The status for its [`ActivityStatus::as_str`] text.
    pub fn parse(text: &str) -> Option<ActivityStatus> {
        [
            ActivityStatus::Ingested,
            ActivityStatus::IngestFailed,
            ActivityStatus::StateChanged,
            ActivityStatus::Deleted,
            ActivityStatus::Downloaded,
            ActivityStatus::DownloadFailed,
            ActivityStatus::Installed,
            ActivityStatus::InstallFailed,
            ActivityStatus::Removed,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One activity-log entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// The entry's ID (ascending with time).
    pub id: i64,
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The machine, or `provider` for the provider's own events.
    pub machine: String,
    /// The application, if known.
    pub application: String,
    /// The release, if known.
    pub release: String,
    /// The patch, if known.
    pub patch: String,
    /// What happened.
    pub status: ActivityStatus,
    /// Details.
    pub description: String,
}

/// A new activity entry (the store stamps the time and ID).
#[derive(Debug, Clone, Default)]
pub struct NewActivity {
    /// The machine.
    pub machine: String,
    /// The application.
    pub application: String,
    /// The release.
    pub release: String,
    /// The patch.
    pub patch: String,
    /// Details.
    pub description: String,
}

/// An update in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredUpdate {
    /// The catalog ID.
    pub id: i64,
    /// The TUF target name.
    pub target: String,
    /// The current state.
    pub state: UpdateState,
    /// When it was ingested (RFC 3339, UTC).
    pub inserted: String,
    /// The manifest.
    pub manifest: Manifest,
}

/// An update folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateFolder {
    /// The folder.
    pub path: PathBuf,
    /// Scanned automatically.
    pub auto: bool,
}

/// The SQLite store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS updates(
  id INTEGER PRIMARY KEY,
  target TEXT NOT NULL UNIQUE,
  application TEXT NOT NULL,
  release TEXT NOT NULL,
  patch INTEGER NOT NULL,
  install_type TEXT NOT NULL,
  install_version TEXT NOT NULL,
  state TEXT NOT NULL,
  inserted TEXT NOT NULL,
  manifest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS activity(
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  machine TEXT NOT NULL,
  application TEXT NOT NULL,
  release TEXT NOT NULL,
  patch TEXT NOT NULL,
  status TEXT NOT NULL,
  description TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_time ON activity(time);
CREATE TABLE IF NOT EXISTS folders(
  path TEXT PRIMARY KEY,
  auto INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS priority(
  update_id INTEGER PRIMARY KEY,
  high INTEGER NOT NULL
);
";

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Records an activity entry; returns its ID.
    pub fn log(&self, status: ActivityStatus, entry: NewActivity) -> Result<i64, StoreError> {
        self.conn
            .execute(
                "INSERT INTO activity(time, machine, application, release, patch, status, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    transit_core::time::rfc3339(transit_core::time::now()),
                    entry.machine,
                    entry.application,
                    entry.release,
                    entry.patch,
                    status.as_str(),
                    entry.description
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The newest `limit` activity entries, newest first.
    pub fn activity(&self, limit: usize) -> Result<Vec<Activity>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, time, machine, application, release, patch, status, description FROM activity ORDER BY id DESC LIMIT ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get::<_, String>(6)?,
                    r.get(7)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, time, machine, application, release, patch, status, description) =
                row.map_err(|e| self.err(e))?;
            let status = ActivityStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                path: self.path.clone(),
                id,
                problem: format!("unknown activity status `{status}`"),
            })?;
            out.push(Activity {
                id,
                time,
                machine,
                application,
                release,
                patch,
                status,
                description,
            });
        }
        Ok(out)
    }

    /// Adds an ingested update in Pre-Approval; returns its ID (an update
    /// with the same target returns the existing ID).
    pub fn insert_update(&self, target: &str, manifest: &Manifest) -> Result<i64, StoreError> {
        if let Some(id) = self
            .conn
            .query_row("SELECT id FROM updates WHERE target = ?1", [target], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))?
        {
            return Ok(id);
        }
        self.conn
            .execute(
                "INSERT INTO updates(target, application, release, patch, install_type, install_version, state, inserted, manifest) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    target,
                    manifest.application,
                    manifest.release.to_string(),
                    manifest.patch,
                    manifest.install_type.to_string(),
                    manifest.install_version.to_string(),
                    UpdateState::DEFAULT.to_string(),
                    transit_core::time::rfc3339(transit_core::time::now()),
                    manifest.to_toml()
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Every update, oldest first (the console's default order).
    pub fn updates(&self) -> Result<Vec<StoredUpdate>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT u.id, u.target, u.state, u.inserted, u.manifest, p.high
                 FROM updates u LEFT JOIN priority p ON p.update_id = u.id ORDER BY u.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get::<_, String>(2)?,
                    r.get(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<bool>>(5)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, target, state, inserted, manifest, high) = row.map_err(|e| self.err(e))?;
            let corrupt = |problem: String| StoreError::Corrupt {
                path: self.path.clone(),
                id,
                problem,
            };
            let state = state
                .parse()
                .map_err(|e: crate::states::StateError| corrupt(e.to_string()))?;
            let mut manifest = Manifest::parse(&manifest).map_err(|e| corrupt(e.to_string()))?;
            // The console's High Priority setting wins over the publisher's.
            if let Some(high) = high {
                manifest.high_priority = high;
            }
            out.push(StoredUpdate {
                id,
                target,
                state,
                inserted,
                manifest,
            });
        }
        Ok(out)
    }

    /// The catalog as the applicability rules take it.
    pub fn catalog(&self) -> Result<Vec<CatalogEntry>, StoreError> {
        Ok(self
            .updates()?
            .into_iter()
            .map(|u| CatalogEntry {
                id: u.id,
                manifest: u.manifest,
                state: u.state,
            })
            .collect())
    }

    /// One update.
    pub fn update(&self, id: i64) -> Result<StoredUpdate, StoreError> {
        self.updates()?
            .into_iter()
            .find(|u| u.id == id)
            .ok_or(StoreError::NoSuchUpdate(id))
    }

    /// Changes an update's state (if the rules allow) and logs it.
    pub fn set_state(&self, id: i64, to: UpdateState) -> Result<StoredUpdate, StoreError> {
        let update = self.update(id)?;
        update.state.change_to(to)?;
        self.conn
            .execute(
                "UPDATE updates SET state = ?1 WHERE id = ?2",
                params![to.to_string(), id],
            )
            .map_err(|e| self.err(e))?;
        self.log(
            ActivityStatus::StateChanged,
            NewActivity {
                machine: "provider".into(),
                application: update.manifest.application.clone(),
                release: update.manifest.release.to_string(),
                patch: update.manifest.patch.to_string(),
                description: format!("{}: {} -> {to}", update.target, update.state),
            },
        )?;
        Ok(StoredUpdate {
            state: to,
            ..update
        })
    }

    /// Sets an update's High Priority (the console's setting, which wins
    /// over the manifest's): High Priority updates are installed at once,
    /// whatever a group's mode and schedule. Logged.
    pub fn set_high_priority(&self, id: i64, high: bool) -> Result<StoredUpdate, StoreError> {
        let mut update = self.update(id)?;
        self.conn
            .execute(
                "INSERT INTO priority(update_id, high) VALUES (?1, ?2) ON CONFLICT(update_id) DO UPDATE SET high = excluded.high",
                params![id, high],
            )
            .map_err(|e| self.err(e))?;
        self.log(
            ActivityStatus::StateChanged,
            NewActivity {
                machine: "provider".into(),
                application: update.manifest.application.clone(),
                release: update.manifest.release.to_string(),
                patch: update.manifest.patch.to_string(),
                description: format!(
                    "{}: High Priority {}",
                    update.target,
                    if high { "on" } else { "off" }
                ),
            },
        )?;
        update.manifest.high_priority = high;
        Ok(update)
    }

    /// Removes an update from the catalog (after its target was deleted).
    pub fn delete_update(&self, id: i64) -> Result<StoredUpdate, StoreError> {
        let update = self.update(id)?;
        self.conn
            .execute("DELETE FROM updates WHERE id = ?1", [id])
            .map_err(|e| self.err(e))?;
        self.conn
            .execute("DELETE FROM priority WHERE update_id = ?1", [id])
            .map_err(|e| self.err(e))?;
        Ok(update)
    }

    /// Adds or changes an update folder.
    pub fn set_folder(&self, path: &Path, auto: bool) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO folders(path, auto) VALUES (?1, ?2) ON CONFLICT(path) DO UPDATE SET auto = excluded.auto",
                params![path.to_string_lossy(), auto],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Removes an update folder; returns whether it was listed.
    pub fn remove_folder(&self, path: &Path) -> Result<bool, StoreError> {
        let n = self
            .conn
            .execute(
                "DELETE FROM folders WHERE path = ?1",
                [path.to_string_lossy()],
            )
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// The update folders, by path.
    pub fn folders(&self) -> Result<Vec<UpdateFolder>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT path, auto FROM folders ORDER BY path")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(UpdateFolder {
                    path: PathBuf::from(r.get::<_, String>(0)?),
                    auto: r.get(1)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }
}
