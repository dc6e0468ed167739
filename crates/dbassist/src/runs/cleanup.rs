//! `transit db cleanup RUN` (and the run folder's `cleanup.sh`): returns
//! the tables a failed or killed run touched to their state before it
//! (the vendor's `MigrationCleanup.bat`).
//!
//! Per table the run began (its resume marker says how it was loaded):
//!
//! - loaded in bulk (the table was empty when the run began): every row is
//!   deleted, and the secondary indexes the bulk load dropped are built
//!   again;
//! - merged (the table held rows): the rows whose keys the run inserted,
//!   recorded in `transit_migration.run_rows` in each batch's transaction,
//!   are deleted.
//!
//! The current-state rows the run deleted to reload them (kept by the
//! `current-state-reload` rule in `transit_migration.cs_<hash>_<table>`)
//! are put back. Then the key-translation rows that no longer lead to a row are
//! removed, and the run's markers, recorded rule steps, tuning and row
//! records are deleted, so `transit db resume RUN` starts the run over.
//! The run's status becomes Incomplete.

use crate::copy::plan::TablePlan;
use crate::copy::state::{self, table_name, Mode};
use crate::copy::Local;
use crate::db::Db;
use crate::dialect::{Dialect, Value};
use crate::error::Result;
use crate::schema::{Schema, Version};
use crate::target::DbTarget;
use serde::Serialize;
use std::path::Path;

/// What cleanup did to one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableCleanup {
    /// The table.
    pub table: String,
    /// `bulk` or `merge`.
    pub mode: String,
    /// Rows deleted.
    pub rows_deleted: u64,
    /// Rows put back (current-state rows the run deleted to reload them).
    pub rows_restored: u64,
    /// Secondary indexes built again.
    pub indexes_rebuilt: usize,
    /// Key-translation rows removed.
    pub key_map_rows: u64,
}

/// What `transit db cleanup` did.
#[derive(Debug, Clone, Serialize)]
pub struct CleanupReport {
    /// The run.
    pub run: String,
    /// The target (no password).
    pub target: String,
    /// Per table the run had begun.
    pub tables: Vec<TableCleanup>,
}

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

/// Cleans up run `run` of `runs_dir` on `target`.
pub fn cleanup(runs_dir: &Path, run: &str, target: &DbTarget) -> Result<CleanupReport> {
    let local = Local::new()?;
    let mut db = local.connect(target)?;
    local.run(state::ensure(&mut db))?;
    let markers = local.run(state::markers(&mut db, run))?;
    let mut names: Vec<&String> = markers.keys().collect();
    // Children before parents.
    let order = |n: &str| {
        Schema::reference()
            .tables
            .iter()
            .position(|t| t.name == n)
            .unwrap_or(0)
    };
    names.sort_by_key(|n| std::cmp::Reverse(order(n)));
    let mut tables = Vec::new();
    for name in names {
        let marker = &markers[name];
        let Some(table) = Schema::reference().table(name) else {
            continue;
        };
        let out = local.run(clean_table(&mut db, run, table, marker.mode))?;
        tables.push(out);
    }
    // The current-state rows the run deleted to reload them come back.
    let scope = match target.engine() {
        crate::engine::Engine::MySql => format!("{}:", target.database()),
        _ => String::new(),
    };
    if crate::migrate::rules::step_done(&local, &mut db, run, "current-state-reload")? {
        let d = db.dialect();
        for name in crate::migrate::rules::CURRENT_STATE {
            let saved = saved_table(d, &scope, run, name);
            if local
                .run(db.rows(&format!("SELECT COUNT(*) FROM {saved}")))
                .is_err()
            {
                continue;
            }
            let n = local.run(db.exec(&format!(
                "INSERT INTO {} SELECT * FROM {saved}",
                d.ident(name)
            )))?;
            match tables.iter_mut().find(|t| t.table == name) {
                Some(t) => t.rows_restored = n,
                None => tables.push(TableCleanup {
                    table: name.to_string(),
                    mode: "deleted only".into(),
                    rows_deleted: 0,
                    rows_restored: n,
                    indexes_rebuilt: 0,
                    key_map_rows: 0,
                }),
            }
        }
    }
    drop_saved(&local, &mut db, &scope, run)?;
    let d = db.dialect();
    for (t, col) in [
        ("copy_progress", "run"),
        ("run_rows", "run"),
        ("migrate_steps", "run"),
        ("tuning", "run"),
    ] {
        local.run(db.exec(&format!(
            "DELETE FROM {} WHERE {col} = {}",
            table_name(d, t),
            lit(d, run)
        )))?;
    }
    local.run(db.close())?;
    if runs_dir.join(run).join("history.json").exists() {
        super::history::set_status(
            runs_dir,
            run,
            target,
            super::Status::Incomplete,
            "cleaned up: the touched tables are back at their state before the run; \
             `transit db resume` starts it over",
        )?;
    }
    Ok(CleanupReport {
        run: run.to_string(),
        target: target.to_string(),
        tables,
    })
}

async fn clean_table(
    db: &mut Db,
    run: &str,
    table: &'static crate::schema::Table,
    mode: Mode,
) -> Result<TableCleanup> {
    let d = db.dialect();
    let ident = d.ident(&table.name);
    let mut out = TableCleanup {
        table: table.name.clone(),
        mode: if mode == Mode::Bulk { "bulk" } else { "merge" }.into(),
        rows_deleted: 0,
        rows_restored: 0,
        indexes_rebuilt: 0,
        key_map_rows: 0,
    };
    match mode {
        Mode::Bulk => {
            out.rows_deleted = db.exec(&format!("DELETE FROM {ident}")).await?;
            for sql in d.drop_indexes(table) {
                db.exec(&sql).await?;
            }
            for sql in d.create_indexes(table) {
                db.exec(&sql).await?;
                out.indexes_rebuilt += 1;
            }
        }
        Mode::Merge => {
            let plan = TablePlan::new(table, Version::V30, Version::R2015, None);
            let keys = db
                .rows(&format!(
                    "SELECT row_key FROM {} WHERE run = {} AND tbl = {}",
                    table_name(d, "run_rows"),
                    lit(d, run),
                    lit(d, &table.name)
                ))
                .await?;
            let keys: Vec<Vec<String>> = keys
                .into_iter()
                .filter_map(|r| r.into_iter().next().flatten())
                .filter_map(|k| serde_json::from_str(&k).ok())
                .collect();
            db.exec("BEGIN").await?;
            for chunk in keys.chunks(200) {
                let conds: Vec<String> = chunk
                    .iter()
                    .map(|key| {
                        let parts: Vec<String> = plan
                            .key
                            .iter()
                            .zip(key)
                            .map(|(&i, v)| {
                                format!(
                                    "{} = {}",
                                    d.ident(&plan.columns[i].name),
                                    plan.key_literal(d, i, v)
                                )
                            })
                            .collect();
                        format!("({})", parts.join(" AND "))
                    })
                    .collect();
                match db
                    .exec(&format!("DELETE FROM {ident} WHERE {}", conds.join(" OR ")))
                    .await
                {
                    Ok(n) => out.rows_deleted += n,
                    Err(e) => {
                        let _ = db.exec("ROLLBACK").await;
                        return Err(e);
                    }
                }
            }
            db.exec("COMMIT").await?;
        }
    }
    if crate::copy::keys::translated(table) {
        let key = table.key();
        if let Some(k) = key.first() {
            out.key_map_rows = db
                .exec(&format!(
                    "DELETE FROM {km} WHERE tbl = {t} AND NOT EXISTS (SELECT 1 FROM {ident} f WHERE f.{k} = {km}.tgt_key)",
                    km = table_name(d, "key_map"),
                    t = lit(d, &table.name),
                    k = d.ident(k),
                ))
                .await?;
        }
    }
    Ok(out)
}

/// The table that keeps a current-state table's rows a run deleted to
/// reload them (`transit_migration`, named from the run and, on MariaDB,
/// the target database: `cs_<hash>_<table>`).
pub fn saved_table(d: &dyn Dialect, scope: &str, run: &str, table: &str) -> String {
    use sha2::Digest;
    let hash = hex::encode(&sha2::Sha256::digest(format!("{scope}{run}").as_bytes())[..4]);
    table_name(d, &format!("cs_{hash}_{}", table.to_ascii_lowercase()))
}

/// Drops the run's saved current-state rows (the run completed, or its
/// rows were put back).
pub fn drop_saved(local: &Local, db: &mut Db, scope: &str, run: &str) -> Result<()> {
    let d = db.dialect();
    for name in crate::migrate::rules::CURRENT_STATE {
        local.run(db.exec(&format!(
            "DROP TABLE IF EXISTS {}",
            saved_table(d, scope, run, name)
        )))?;
    }
    Ok(())
}
