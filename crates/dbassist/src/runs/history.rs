//! The run history (D-06): one record per `transit db migrate` run, with
//! the vendor's statuses, kept twice: in the target's
//! `transit_migration.migrate_runs` (beside the rows it describes) and as
//! `history.json` in the run folder (readable when the target is gone, and
//! the only place a run that failed its version check before it could
//! write to the target is kept).

use crate::copy::state::table_name;
use crate::copy::Local;
use crate::db::Db;
use crate::dialect::Value;
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::target::DbTarget;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The vendor's statuses of a run ("Past Migration Utility Executions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    /// The steps were generated and ran to the end.
    Completed,
    /// The source or the target was not at the schema version the
    /// assistant supports.
    #[serde(rename = "Failed version check")]
    FailedVersionCheck,
    /// The run stopped before it completed: cancelled, killed, failed, or
    /// cleaned up after one of those.
    Incomplete,
    /// The steps were generated and not run (`--execute later`):
    /// `transit db resume RUN` runs them.
    #[serde(rename = "Ready for restart")]
    ReadyForRestart,
    /// The steps were generated for a DBA (`--execute manual`):
    /// `run-scripts.sh` runs them.
    #[serde(rename = "User completed")]
    UserCompleted,
}

impl Status {
    /// The vendor's words.
    pub fn label(self) -> &'static str {
        match self {
            Status::Completed => "Completed",
            Status::FailedVersionCheck => "Failed version check",
            Status::Incomplete => "Incomplete",
            Status::ReadyForRestart => "Ready for restart",
            Status::UserCompleted => "User completed",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One run in the history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run's name.
    pub run: String,
    /// Its status.
    pub status: Status,
    /// When it was started (RFC 3339, UTC).
    pub executed: String,
    /// When its status last changed.
    pub updated: String,
    /// The first day of its range.
    pub start: String,
    /// The last day of its range.
    pub end: String,
    /// Its site ID filter.
    pub site_id: Option<i64>,
    /// The source (no password).
    pub source: String,
    /// The target (no password).
    pub target: String,
    /// The table groups as given.
    pub groups: Vec<String>,
    /// now, later or manual.
    pub execute: super::Execute,
    /// What happened last, in a line.
    pub detail: String,
    /// The run this one took its settings from (`--from-run`).
    #[serde(default)]
    pub from_run: Option<String>,
    /// `<database>:` on MariaDB, whose `transit_migration` serves every
    /// database of the server; empty elsewhere.
    #[serde(default)]
    pub scope: String,
}

fn lit(d: &dyn crate::dialect::Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

/// `CREATE TABLE` of the history, when missing.
pub fn create_sql(d: &dyn crate::dialect::Dialect) -> String {
    let text = match d.engine() {
        Engine::MySql => "MEDIUMTEXT",
        _ => "TEXT",
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {} (run VARCHAR(64) NOT NULL PRIMARY KEY, status VARCHAR(32) NOT NULL, \
         scope VARCHAR(255) NOT NULL, record {text} NOT NULL)",
        table_name(d, "migrate_runs")
    )
}

/// Writes `record` to the target's history (insert or replace).
pub async fn save_db(db: &mut Db, record: &RunRecord) -> Result<()> {
    let d = db.dialect();
    db.exec(&create_sql(d)).await?;
    let json = serde_json::to_string(record).unwrap_or_default();
    db.exec(&format!(
        "DELETE FROM {} WHERE run = {}",
        table_name(d, "migrate_runs"),
        lit(d, &record.run)
    ))
    .await?;
    db.exec(&format!(
        "INSERT INTO {} (run, status, scope, record) VALUES ({}, {}, {}, {})",
        table_name(d, "migrate_runs"),
        lit(d, &record.run),
        lit(d, record.status.label()),
        lit(d, &record.scope),
        lit(d, &json)
    ))
    .await?;
    Ok(())
}

/// Writes `record` to `history.json` in its run folder.
pub fn save_file(run_dir: &Path, record: &RunRecord) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(record).unwrap_or_default();
    super::settings::write(&run_dir.join("history.json"), &bytes)
}

/// Reads `history.json` of `run`.
pub fn load_file(runs_dir: &Path, run: &str) -> Result<RunRecord> {
    let path = runs_dir.join(run).join("history.json");
    let text = std::fs::read(&path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            DbError::Usage(format!(
                "no migrate run `{run}` in {}; `transit db runs` lists them",
                runs_dir.display()
            ))
        } else {
            DbError::Io(transit_core::PathIoError::new(&path, e))
        }
    })?;
    serde_json::from_slice(&text)
        .map_err(|e| DbError::Usage(format!("{}: unreadable: {e}", path.display())))
}

/// Sets the status of `run` in both places (the target's side is best
/// effort when `target` is unreachable, which the folder still records).
pub fn set_status(
    runs_dir: &Path,
    run: &str,
    target: &DbTarget,
    status: Status,
    detail: &str,
) -> Result<RunRecord> {
    let mut record = load_file(runs_dir, run)?;
    record.status = status;
    record.detail = detail.to_string();
    record.updated = transit_core::time::rfc3339(transit_core::time::now());
    save_file(&runs_dir.join(run), &record)?;
    let local = Local::new()?;
    local.run(async {
        let mut db = Db::connect(target).await?;
        crate::copy::state::ensure(&mut db).await?;
        save_db(&mut db, &record).await?;
        db.close().await
    })?;
    Ok(record)
}

/// Every run the target's history holds (of its own database on
/// MariaDB), oldest first.
pub async fn list_db(db: &mut Db) -> Result<Vec<RunRecord>> {
    let d = db.dialect();
    let exists = match db.engine() {
        Engine::Sqlite => {
            db.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'transit_migration_migrate_runs'")
                .await?
        }
        _ => {
            db.count("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'transit_migration' AND table_name = 'migrate_runs'")
                .await?
        }
    };
    if exists == 0 {
        return Ok(Vec::new());
    }
    let scope = match db.engine() {
        Engine::MySql => format!("{}:", db.target().database()),
        _ => String::new(),
    };
    let rows = db
        .rows(&format!(
            "SELECT record FROM {} WHERE scope = {}",
            table_name(d, "migrate_runs"),
            lit(d, &scope)
        ))
        .await?;
    let mut out: Vec<RunRecord> = rows
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .filter_map(|j| serde_json::from_str(&j).ok())
        .collect();
    out.sort_by(|a, b| (&a.executed, &a.run).cmp(&(&b.executed, &b.run)));
    Ok(out)
}

/// Every run folder's record under `runs_dir`, oldest first (folders
/// without a `history.json`, such as `db copy` runs, are left out).
pub fn list_files(runs_dir: &Path) -> Result<Vec<RunRecord>> {
    let entries = match std::fs::read_dir(runs_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(DbError::Io(transit_core::PathIoError::new(runs_dir, e))),
    };
    let mut out = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join("history.json");
        if let Ok(bytes) = std::fs::read(&path) {
            if let Ok(r) = serde_json::from_slice::<RunRecord>(&bytes) {
                out.push(r);
            }
        }
    }
    out.sort_by(|a, b| (&a.executed, &a.run).cmp(&(&b.executed, &b.run)));
    Ok(out)
}
