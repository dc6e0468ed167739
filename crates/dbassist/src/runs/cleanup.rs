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
//!   recorded in each batch's transaction (by the step's SQL in
//!   `transit_migration.keys_<hash>_<table>`, or by the direct path in
//!   `transit_migration.run_rows`), are deleted, and the table's staging
//!   and key-record tables are dropped.
//!
//! The rows the run deleted before its copy are put back: the
//! current-state rows it deleted to reload them, the Tracker tables
//! "Delete existing Tracker data" emptied and the Optimizer rows of the
//! wipe-and-load (each kept by its rule in
//! `transit_migration.cs_<hash>_<table>`, the key-map rows in
//! `km_<hash>_<rule>`, until the run completes). Then the key-translation rows that no longer lead to a row are
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
    let scope = crate::copy::state::scope_of(target);
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
        let out = local.run(clean_table(&mut db, run, &scope, table, marker.mode))?;
        tables.push(out);
    }
    // The current-state rows the run deleted to reload them come back.
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
            restored(&mut tables, name, n);
        }
    }
    // The Tracker and Optimizer rows the run deleted come back (with
    // their key-map rows), parents first.
    // A rule killed before its deletes committed deleted nothing, but
    // "Delete existing Tracker data" may have left the foreign keys and
    // triggers it switched off: they are switched on again.
    for (rule, names) in wiped_tables() {
        let put_back = crate::migrate::rules::step_done(&local, &mut db, run, rule)?;
        if !put_back && rule != "delete-existing-tracker-data" {
            continue;
        }
        for (name, n) in local.run(restore_rows(&mut db, &scope, run, rule, &names, put_back))? {
            restored(&mut tables, &name, n);
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

/// Records `n` rows put back into `name` (a table the run only deleted
/// from gets its own line).
fn restored(tables: &mut Vec<TableCleanup>, name: &str, n: u64) {
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

async fn clean_table(
    db: &mut Db,
    run: &str,
    scope: &str,
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
            // Looked up before the transaction: on PostgreSQL a failed
            // statement would end it.
            let keys_table = crate::copy::stage::keys_name(d, scope, run, &table.name);
            let staged_keys = db
                .rows(&format!("SELECT COUNT(*) FROM {keys_table}"))
                .await
                .is_ok()
                .then_some(keys_table);
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
            // The keys the step's SQL recorded (staged merges).
            if let Some(keys) = staged_keys.as_deref() {
                let matched = table
                    .key()
                    .iter()
                    .map(|k| format!("r.{0} = {ident}.{0}", d.ident(k)))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                match db
                    .exec(&format!(
                        "DELETE FROM {ident} WHERE EXISTS (SELECT 1 FROM {keys} r WHERE {matched})"
                    ))
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
            drop_staging(db, scope, run, &table.name).await?;
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

/// Drops the staging and key-record tables of `table` in `run` (the run
/// completed, or was cleaned up).
pub async fn drop_staging(db: &mut Db, scope: &str, run: &str, table: &str) -> Result<()> {
    let d = db.dialect();
    for name in [
        crate::copy::stage::stage_name(d, scope, run, table),
        crate::copy::stage::keys_name(d, scope, run, table),
    ] {
        db.exec(&format!("DROP TABLE IF EXISTS {name}")).await?;
    }
    Ok(())
}

/// The table that keeps a current-state table's rows a run deleted to
/// reload them (`transit_migration`, named from the run and, on MariaDB,
/// the target database: `cs_<hash>_<table>`).
pub fn saved_table(d: &dyn Dialect, scope: &str, run: &str, table: &str) -> String {
    state::run_table(d, scope, run, "cs", table)
}

/// The tables a destructive rule deletes before the copy, by rule:
/// "Delete existing Tracker data" and the Optimizer wipe.
fn wiped_tables() -> [(&'static str, Vec<&'static str>); 2] {
    let optimizer = crate::migrate::groups::find("optimizer")
        .map(|g| {
            g.tables(Version::R2015)
                .into_iter()
                .map(|t| t.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    [
        (
            "delete-existing-tracker-data",
            crate::migrate::rules::TRACKER_DELETE_ORDER.to_vec(),
        ),
        ("optimizer-wipe-and-load", optimizer),
    ]
}

/// The table that keeps the key-map rows a destructive rule deleted.
fn saved_key_map(d: &dyn Dialect, scope: &str, run: &str, rule: &str) -> String {
    let short = rule
        .split('-')
        .find(|w| *w == "tracker" || *w == "optimizer")
        .unwrap_or(rule);
    state::run_table(d, scope, run, "km", short)
}

/// The key-map rows of `names` in `scope`.
fn key_map_rows_of(d: &dyn Dialect, scope: &str, names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| lit(d, n)).collect();
    format!(
        "tbl IN ({}) AND {}",
        list.join(", "),
        crate::migrate::rules::in_scope(d, scope)
    )
}

/// Keeps the rows of `names` (and their key-map rows) that `rule` is
/// about to delete, until the run completes: `transit db cleanup` puts
/// them back when the rule's step was recorded.
pub fn save_rows(
    local: &Local,
    db: &mut Db,
    scope: &str,
    run: &str,
    rule: &str,
    names: &[&str],
) -> Result<()> {
    let d = db.dialect();
    let mut statements = Vec::new();
    for name in names {
        let saved = saved_table(d, scope, run, name);
        statements.push(format!("DROP TABLE IF EXISTS {saved}"));
        statements.push(format!(
            "CREATE TABLE {saved} AS SELECT * FROM {}",
            d.ident(name)
        ));
    }
    let km = saved_key_map(d, scope, run, rule);
    statements.push(format!("DROP TABLE IF EXISTS {km}"));
    statements.push(format!(
        "CREATE TABLE {km} AS SELECT * FROM {} WHERE {}",
        table_name(d, "key_map"),
        key_map_rows_of(d, scope, names)
    ));
    for sql in statements {
        local.run(db.exec(&sql))?;
    }
    Ok(())
}

/// Puts back the rows `rule` deleted (parents first, with the foreign
/// keys off around the inserts as the rule had them), and their key-map
/// rows; returns the rows per table. Without `put_back` (the rule's
/// deletes never committed) it only switches the checks of the tables it
/// saved off and on again, which re-enables any the rule left off.
async fn restore_rows(
    db: &mut Db,
    scope: &str,
    run: &str,
    rule: &str,
    names: &[&str],
    put_back: bool,
) -> Result<Vec<(String, u64)>> {
    let d = db.dialect();
    let mut order: Vec<&'static crate::schema::Table> = names
        .iter()
        .filter_map(|n| Schema::reference().table(n))
        .collect();
    let position = |t: &crate::schema::Table| {
        Schema::reference()
            .tables
            .iter()
            .position(|x| x.name == t.name)
            .unwrap_or(0)
    };
    order.sort_by_key(|t| position(t));
    let mut present = Vec::new();
    for t in &order {
        let saved = saved_table(d, scope, run, &t.name);
        if db
            .rows(&format!("SELECT COUNT(*) FROM {saved}"))
            .await
            .is_ok()
        {
            present.push((*t, saved));
        }
    }
    for (t, _) in &present {
        for sql in d.suspend_checks(t) {
            db.exec(&sql).await?;
        }
    }
    // Looked up before the transaction: on PostgreSQL a failed statement
    // would end it.
    let km = saved_key_map(d, scope, run, rule);
    let km_saved = db.rows(&format!("SELECT COUNT(*) FROM {km}")).await.is_ok();
    if !put_back {
        for (t, _) in &present {
            for sql in d.resume_checks(t) {
                db.exec(&sql).await?;
            }
        }
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut failed = None;
    db.exec("BEGIN").await?;
    for (t, saved) in &present {
        match db
            .exec(&format!(
                "INSERT INTO {} SELECT * FROM {saved}",
                d.ident(&t.name)
            ))
            .await
        {
            Ok(n) => out.push((t.name.clone(), n)),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    if failed.is_none() && km_saved {
        let statements = [
            format!(
                "DELETE FROM {} WHERE {}",
                table_name(d, "key_map"),
                key_map_rows_of(d, scope, names)
            ),
            format!(
                "INSERT INTO {} SELECT * FROM {km}",
                table_name(d, "key_map")
            ),
        ];
        for sql in statements {
            if let Err(e) = db.exec(&sql).await {
                failed = Some(e);
                break;
            }
        }
    }
    let end = if failed.is_some() {
        "ROLLBACK"
    } else {
        "COMMIT"
    };
    let ended = db.exec(end).await;
    for (t, _) in &present {
        for sql in d.resume_checks(t) {
            db.exec(&sql).await?;
        }
    }
    if let Some(e) = failed {
        return Err(e);
    }
    ended?;
    Ok(out)
}

/// Drops the run's saved rows (the run completed, or its rows were put
/// back): the current-state rows and those of the destructive rules.
pub fn drop_saved(local: &Local, db: &mut Db, scope: &str, run: &str) -> Result<()> {
    let d = db.dialect();
    let mut names: Vec<String> = crate::migrate::rules::CURRENT_STATE
        .iter()
        .map(|n| saved_table(d, scope, run, n))
        .collect();
    for (rule, tables) in wiped_tables() {
        names.extend(tables.iter().map(|n| saved_table(d, scope, run, n)));
        names.push(saved_key_map(d, scope, run, rule));
    }
    for name in names {
        local.run(db.exec(&format!("DROP TABLE IF EXISTS {name}")))?;
    }
    Ok(())
}
