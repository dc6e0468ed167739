//! `transit db upgrade`: brings a database to a schema version by applying
//! the missing build scripts as versioned migrations, in the vendor's fixed
//! order (ICUpgrade, TrackerUpgrade, TrackerBuild, IRBuild, OptimizerBuild,
//! CSSurveyBuild, WorkflowBuild, [DialerBuild,] IWPBuild), version by
//! version. Each build script runs in one transaction together with its
//! row in the version table (MariaDB commits DDL as it goes, so there the
//! checks that can fail run first). A second run finds every build
//! recorded and changes nothing.

use crate::check::{self, Permission};
use crate::db::Db;
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::repair;
use crate::schema::{Schema, Version, VERSION_TABLE};
use crate::version::{self, SchemaStatus};
use serde::Serialize;
use transit_core::{CancelToken, Event, Progress, Unit};

/// One applied build script.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedBuild {
    /// The version it belongs to.
    pub version: Version,
    /// The vendor's script name.
    pub build: String,
    /// How many statements ran.
    pub statements: usize,
}

/// What an upgrade did.
#[derive(Debug, Clone, Serialize)]
pub struct UpgradeReport {
    /// The database (redacted URL).
    pub target: String,
    /// The version before.
    pub from: String,
    /// The version reached.
    pub to: Version,
    /// The build scripts applied (empty when it was already there).
    pub applied: Vec<AppliedBuild>,
}

/// The statements of one build script of one version, given which tables
/// exist already.
pub fn build_statements(db: &Db, version: Version, build: &str) -> Vec<String> {
    let d = db.dialect();
    let mut out = Vec::new();
    for table in Schema::reference()
        .tables
        .iter()
        .filter(|t| t.build == build)
    {
        if table.since == version {
            out.push(d.create_table(table, version));
            out.extend(d.create_indexes(table));
        } else if table.since < version {
            let new_columns: Vec<_> = table
                .columns
                .iter()
                .filter(|c| c.since == version)
                .collect();
            let gets_key = table.repair.is_some() && version == Version::R2015;
            if gets_key && db.engine() == Engine::Sqlite {
                // SQLite rebuilds the table, new columns included.
                out.extend(d.add_primary_key(table, version));
            } else {
                out.extend(new_columns.iter().map(|c| d.add_column(table, c)));
                if gets_key {
                    out.extend(d.add_primary_key(table, version));
                }
            }
        }
    }
    out
}

/// Upgrades the database to `to`.
pub async fn upgrade(
    db: &mut Db,
    to: Version,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<UpgradeReport> {
    let status = version::read(db).await?;
    let from = status.label();
    refuse_wrong_start(db, &status, to).await?;
    let todo = pending(&status, to);
    let mut report = UpgradeReport {
        target: db.target().to_string(),
        from,
        to,
        applied: Vec::new(),
    };
    if todo.is_empty() {
        return Ok(report);
    }
    check::require(db, &Permission::ALL).await?;
    if to >= Version::R2015 && status.current == Some(Version::V30) {
        let findings = repair::find(db).await?;
        let offending: Vec<String> = findings
            .iter()
            .filter(|f| f.rows > 0)
            .map(|f| format!("{} {} in {}", f.rows, f.kind.noun(), f.table))
            .collect();
        if !offending.is_empty() {
            return Err(DbError::NeedsRepair {
                target: db.target().to_string(),
                summary: format!("the 2015 R1 keys cannot be added: {}", offending.join(", ")),
            });
        }
    }

    let task = format!("upgrade to {to}");
    progress.event(Event::begin(&task, Unit::Items, Some(todo.len() as u64)));
    if !status.has_version_table {
        db.exec(&version::create_sql(db)).await?;
    }
    for (i, (version, build)) in todo.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        progress.event(Event::status(&task, format!("{version} {build}")));
        let statements = build_statements(db, *version, build);
        apply(db, *version, build, &statements).await?;
        report.applied.push(AppliedBuild {
            version: *version,
            build: build.clone(),
            statements: statements.len(),
        });
        progress.event(Event::advance(&task, i as u64 + 1));
    }
    progress.event(Event::end(&task));
    Ok(report)
}

/// Runs one build's statements and records it, in one transaction.
async fn apply(db: &mut Db, version: Version, build: &str, statements: &[String]) -> Result<()> {
    let record = version::record_sql(db, version, build);
    db.exec("BEGIN").await?;
    for sql in statements.iter().chain(std::iter::once(&record)) {
        if let Err(err) = db.exec(sql).await {
            let _ = db.exec("ROLLBACK").await;
            return Err(err);
        }
    }
    db.exec("COMMIT").await?;
    Ok(())
}

/// The (version, build) pairs still to apply to reach `to`, in order.
pub fn pending(status: &SchemaStatus, to: Version) -> Vec<(Version, String)> {
    let schema = Schema::reference();
    Version::ALL
        .into_iter()
        .filter(|v| *v <= to)
        .flat_map(|v| {
            schema
                .builds_at(v)
                .into_iter()
                .filter(move |b| !status.has(v, b))
                .map(move |b| (v, b.to_string()))
        })
        .collect()
}

async fn refuse_wrong_start(db: &mut Db, status: &SchemaStatus, to: Version) -> Result<()> {
    if let Some(current) = status.current {
        if current > to {
            return Err(DbError::WrongVersion {
                target: db.target().to_string(),
                found: status.label(),
                wanted: format!("an upgrade cannot go back to {to}"),
            });
        }
    }
    if !status.has_version_table {
        // Tables of the reference schema without a version table: not a
        // database this tool built or can reason about.
        for table in Schema::reference().tables_at(Version::V30).take(3) {
            if db.table_exists(&table.name).await? {
                return Err(DbError::WrongVersion {
                    target: db.target().to_string(),
                    found: format!(
                        "unknown (table {} exists but {VERSION_TABLE} does not)",
                        table.name
                    ),
                    wanted: "an empty database or one with a version table is needed".into(),
                });
            }
        }
    }
    Ok(())
}
