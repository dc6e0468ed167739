//! `transit db repair`: the vendor's duplicate and NULL clean-up on a 3.0
//! source, before its data can meet the 2015 R1 keys.
//!
//! For each table the vendor's scripts name (in their documented order,
//! NULLs before duplicates where both apply), the offending rows are
//! copied to an audit table `<table>_<d|n><YYMMDDhhmm>` (`d` duplicates,
//! `n` NULLs, UTC minute of the run) and counted as the vendor prints them:
//! `Rows inserted into X = N`. Audit-only (the default) changes no source
//! row; `--delete` also removes them, in one transaction per table.
//!
//! - A NULL row has a NULL in any column of the table's 2015 R1 key.
//! - Duplicates are the rows beyond the first of each group of rows with
//!   equal (non-NULL) keys, the first being the smallest by every column:
//!   the audit table holds exactly the rows `--delete` removes.

use crate::check::{self, Permission};
use crate::db::Db;
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::schema::{Repair, Schema, Table, Version};
use crate::version;
use serde::Serialize;
use time::OffsetDateTime;
use transit_core::{CancelToken, Event, Progress, Unit};

/// What the vendor's script looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Offence {
    /// `Delete_Dups_…`: rows sharing a key.
    Duplicates,
    /// `Delete_Nulls_…`: rows with a NULL key column.
    Nulls,
}

impl Offence {
    /// The audit-table letter.
    pub fn letter(self) -> char {
        match self {
            Offence::Duplicates => 'd',
            Offence::Nulls => 'n',
        }
    }

    /// "duplicate rows" / "NULL-key rows".
    pub fn noun(self) -> &'static str {
        match self {
            Offence::Duplicates => "duplicate rows",
            Offence::Nulls => "NULL-key rows",
        }
    }

    /// The vendor's script (and stored procedure) name for `table`.
    pub fn script(self, table: &str) -> String {
        match self {
            Offence::Duplicates => format!("Delete_Dups_{table}"),
            Offence::Nulls => format!("Delete_Nulls_{table}"),
        }
    }
}

/// Audit only, or audit and delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairMode {
    /// Copy offending rows to audit tables; change nothing else.
    AuditOnly,
    /// Copy them, then delete them from the source table.
    Delete,
}

/// One script's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptResult {
    /// The vendor's script name, e.g. `Delete_Dups_CallDetail`.
    pub script: String,
    /// The table (vendor name).
    pub table: String,
    /// What it looked for.
    pub kind: Offence,
    /// The audit table, qualified as the engine shows it
    /// (`public.calldetail_d2405101200`).
    pub audit_table: String,
    /// Rows copied to the audit table.
    pub rows_inserted: u64,
    /// Rows deleted from the table (0 in audit-only mode).
    pub rows_deleted: u64,
}

/// A repair run.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    /// The database (redacted URL).
    pub target: String,
    /// The mode.
    pub mode: RepairMode,
    /// The `YYMMDDhhmm` stamp of the audit tables.
    pub stamp: String,
    /// Each script, in the vendor's order.
    pub scripts: Vec<ScriptResult>,
}

/// One count found by [`find`].
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The table.
    pub table: String,
    /// What.
    pub kind: Offence,
    /// How many offending rows.
    pub rows: u64,
}

/// The scripts to run, in the vendor's order.
pub fn scripts() -> Vec<(&'static Table, Offence)> {
    let mut out = Vec::new();
    for table in Schema::reference().repair_tables() {
        let repair = table.repair.unwrap_or(Repair::Dups);
        if repair.nulls() {
            out.push((table, Offence::Nulls));
        }
        if repair.dups() {
            out.push((table, Offence::Duplicates));
        }
    }
    out
}

/// The audit-table stamp, `YYMMDDhhmm` (UTC).
pub fn stamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        at.year() % 100,
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Counts the offending rows of every script without changing anything
/// (`upgrade` uses it to refuse before it starts).
pub async fn find(db: &mut Db) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for (table, kind) in scripts() {
        let select = offending_select(db, table, kind);
        let rows = db
            .count(&format!("SELECT COUNT(*) FROM ({select}) o"))
            .await? as u64;
        out.push(Finding {
            table: table.name.clone(),
            kind,
            rows,
        });
    }
    Ok(out)
}

/// Runs every script. `at` gives the audit tables' stamp.
pub async fn repair(
    db: &mut Db,
    mode: RepairMode,
    at: OffsetDateTime,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<RepairReport> {
    let status = version::read(db).await?;
    if status.current != Some(Version::V30) || !status.missing.is_empty() {
        return Err(DbError::WrongVersion {
            target: db.target().to_string(),
            found: status.label(),
            wanted: "repair works on a 3.0 source schema".into(),
        });
    }
    let mut needed = vec![Permission::Create, Permission::Insert];
    if mode == RepairMode::Delete {
        needed.push(Permission::Delete);
    }
    check::require(db, &needed).await?;

    let stamp = stamp(at);
    let list = scripts();
    for (table, kind) in &list {
        let audit = audit_name(table, *kind, &stamp);
        if db.table_exists(&audit).await? {
            return Err(DbError::Refused(format!(
                "{}: audit table {} exists already (a repair ran this minute); nothing was changed, try again in a minute",
                db.target(),
                db.dialect().physical(&audit)
            )));
        }
    }
    let qualifier = qualifier(db).await?;
    let task = "repair";
    progress.event(Event::begin(task, Unit::Items, Some(list.len() as u64)));
    let mut report = RepairReport {
        target: db.target().to_string(),
        mode,
        stamp: stamp.clone(),
        scripts: Vec::new(),
    };
    for (i, (table, kind)) in list.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        let script = kind.script(&table.name);
        progress.event(Event::status(task, format!("Executing sproc {script}")));
        let audit = audit_name(table, *kind, &stamp);
        let (inserted, deleted) = run_script(db, table, *kind, &audit, mode).await?;
        report.scripts.push(ScriptResult {
            script,
            table: table.name.clone(),
            kind: *kind,
            audit_table: format!("{qualifier}.{}", db.dialect().physical(&audit)),
            rows_inserted: inserted,
            rows_deleted: deleted,
        });
        progress.event(Event::advance(task, i as u64 + 1));
    }
    progress.event(Event::end(task));
    Ok(report)
}

/// `<table>_<d|n><YYMMDDhhmm>` (vendor case; the dialect folds it).
pub fn audit_name(table: &Table, kind: Offence, stamp: &str) -> String {
    format!("{}_{}{}", table.name, kind.letter(), stamp)
}

async fn qualifier(db: &mut Db) -> Result<String> {
    Ok(match db.engine() {
        Engine::Postgres => db
            .rows("SELECT current_schema()::text")
            .await?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
            .unwrap_or_else(|| "public".into()),
        Engine::MySql => db.target().database(),
        Engine::Sqlite => "main".into(),
    })
}

fn columns(table: &Table) -> Vec<&str> {
    table
        .columns_at(Version::V30)
        .map(|c| c.name.as_str())
        .collect()
}

/// `k1 IS NULL OR k2 IS NULL …`
fn null_condition(db: &Db, table: &Table) -> String {
    let d = db.dialect();
    table
        .key()
        .iter()
        .map(|k| format!("{} IS NULL", d.ident(k)))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// The rows of each duplicate group, numbered (`transit_rn`) and counted
/// (`transit_cnt`), NULL keys excluded.
fn numbered(db: &Db, table: &Table) -> String {
    let d = db.dialect();
    let cols = d.ident_list(&columns(table));
    let key = d.ident_list(&table.key());
    let order: Vec<String> = columns(table)
        .iter()
        .filter(|c| {
            // Long text and bytes cannot be sorted everywhere cheaply; the
            // other columns decide which row is kept.
            !matches!(
                table.column(c).map(|c| c.ty),
                Some(crate::schema::SqlType::Text | crate::schema::SqlType::Blob)
            )
        })
        .map(|c| d.ident(c))
        .collect();
    let not_null: Vec<String> = table
        .key()
        .iter()
        .map(|k| format!("{} IS NOT NULL", d.ident(k)))
        .collect();
    format!(
        "SELECT {cols}, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY {}) AS transit_rn, \
         COUNT(*) OVER (PARTITION BY {key}) AS transit_cnt FROM {} WHERE {}",
        order.join(", "),
        d.ident(&table.name),
        not_null.join(" AND ")
    )
}

/// The offending rows (all columns).
fn offending_select(db: &Db, table: &Table, kind: Offence) -> String {
    let d = db.dialect();
    let cols = d.ident_list(&columns(table));
    match kind {
        Offence::Nulls => format!(
            "SELECT {cols} FROM {} WHERE {}",
            d.ident(&table.name),
            null_condition(db, table)
        ),
        Offence::Duplicates => format!(
            "SELECT {cols} FROM ({}) n WHERE transit_rn > 1",
            numbered(db, table)
        ),
    }
}

/// Runs one script: audit table, copy, and (in delete mode) delete, in
/// one transaction. Returns (inserted, deleted).
async fn run_script(
    db: &mut Db,
    table: &Table,
    kind: Offence,
    audit: &str,
    mode: RepairMode,
) -> Result<(u64, u64)> {
    let d = db.dialect();
    let t = d.ident(&table.name);
    let a = d.ident(audit);
    let cols = d.ident_list(&columns(table));
    let create = format!("CREATE TABLE {a} AS SELECT {cols} FROM {t} WHERE 1 = 0");
    // MariaDB commits DDL at once: create the audit table first, and drop
    // it again if the rest fails.
    let ddl_commits = db.engine() == Engine::MySql;
    if ddl_commits {
        db.exec(&create).await?;
    }
    let result = async {
        db.exec("BEGIN").await?;
        if !ddl_commits {
            db.exec(&create).await?;
        }
        let inserted = db
            .exec(&format!(
                "INSERT INTO {a} ({cols}) {}",
                offending_select(db, table, kind)
            ))
            .await?;
        let deleted = if mode == RepairMode::Delete {
            delete_offending(db, table, kind).await?
        } else {
            0
        };
        if mode == RepairMode::Delete && deleted != inserted {
            return Err(DbError::Refused(format!(
                "{}: {} would delete {deleted} rows but audited {inserted}; rolled back",
                db.target(),
                kind.script(&table.name)
            )));
        }
        db.exec("COMMIT").await?;
        Ok((inserted, deleted))
    }
    .await;
    if result.is_err() {
        let _ = db.exec("ROLLBACK").await;
        if ddl_commits {
            let _ = db.exec(&format!("DROP TABLE IF EXISTS {a}")).await;
        }
    }
    result
}

/// Deletes the offending rows (inside the caller's transaction); returns
/// how many rows left the table.
async fn delete_offending(db: &mut Db, table: &Table, kind: Offence) -> Result<u64> {
    let d = db.dialect();
    let t = d.ident(&table.name);
    match kind {
        Offence::Nulls => {
            db.exec(&format!(
                "DELETE FROM {t} WHERE {}",
                null_condition(db, table)
            ))
            .await
        }
        Offence::Duplicates => {
            // Rows of a duplicate group may be identical, so they cannot be
            // told apart: keep the first of each group aside, delete the
            // whole groups, and put the kept rows back.
            let cols = d.ident_list(&columns(table));
            let key = d.ident_list(&table.key());
            let keep = d.ident("transit_keep");
            let temp = match db.engine() {
                Engine::MySql => "CREATE TEMPORARY TABLE",
                _ => "CREATE TEMP TABLE",
            };
            db.exec(&format!(
                "{temp} {keep} AS SELECT {cols} FROM ({}) n WHERE transit_rn = 1 AND transit_cnt > 1",
                numbered(db, table)
            ))
            .await?;
            let removed = db
                .exec(&format!(
                    "DELETE FROM {t} WHERE ({key}) IN (SELECT {key} FROM {keep})"
                ))
                .await?;
            let restored = db
                .exec(&format!(
                    "INSERT INTO {t} ({cols}) SELECT {cols} FROM {keep}"
                ))
                .await?;
            let drop = match db.engine() {
                Engine::MySql => format!("DROP TEMPORARY TABLE {keep}"),
                _ => format!("DROP TABLE {keep}"),
            };
            db.exec(&drop).await?;
            Ok(removed - restored)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_vendor_order_has_nineteen_scripts() {
        let list = scripts();
        assert_eq!(list.len(), 19);
        assert_eq!(list[0].0.name, "AgentActivityLog");
        let sotsp: Vec<Offence> = list
            .iter()
            .filter(|(t, _)| t.name == "SurveyObjectToSurveyPrompt")
            .map(|(_, k)| *k)
            .collect();
        assert_eq!(sotsp, [Offence::Nulls, Offence::Duplicates]);
    }

    #[test]
    fn stamps_are_yymmddhhmm() {
        let at = transit_core::time::from_unix(1_368_158_580); // 2013-05-10 04:03 UTC
        assert_eq!(stamp(at), "1305100403");
        let table = Schema::reference().table("AgentActivityLog").unwrap();
        assert_eq!(
            audit_name(table, Offence::Duplicates, "1305100353"),
            "AgentActivityLog_d1305100353"
        );
    }
}
