//! The run state on the target, beside the rows it describes (as the
//! vendor keeps `ININ_MIGRATION`): a `transit_migration` schema
//! (PostgreSQL) or database (MariaDB), or `transit_migration_…` tables in
//! the SQLite file.
//!
//! - `copy_runs`: one row per run, with its options (never a password);
//! - `copy_progress`: one row per run and table, the resume marker. Each
//!   batch's marker is updated in the same transaction as the batch's
//!   rows, so after a kill the marker names exactly the rows that are
//!   there;
//! - `key_map`: source keys to target keys ([`super::keys`]), inserted in
//!   the transaction of the batch that moved them;
//! - `migrate_steps`: the group-rule steps of a `db migrate` run that are
//!   done (a resumed run never repeats one, such as the Optimizer wipe);
//! - `migrate_sources`: the site IDs each source brought (many-to-one);
//! - `run_rows`: the keys a run inserted into tables that held rows
//!   (merge), for `transit db cleanup`;
//! - `tuning`: a table's commit frequency in a run (`transit db tune`);
//! - `migrate_runs`: the run history ([`crate::runs::history`]).

use super::canon::Checksum;
use crate::db::Db;
use crate::dialect::{Dialect, Value};
use crate::engine::Engine;
use crate::error::{DbError, Result};
use std::collections::HashMap;

/// How a table is loaded, decided when its copy first starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The target table was empty: straight bulk load, secondary indexes
    /// built after the load, no check for existing keys.
    Bulk,
    /// The target table held rows: rows whose key is already there are
    /// skipped (the NOT EXISTS rule).
    Merge,
}

/// One table's resume marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// The load mode.
    pub mode: Mode,
    /// The NULL-key rows have been copied.
    pub nulls_done: bool,
    /// The key of the last committed row (text cells).
    pub last_key: Option<Vec<String>>,
    /// Rows written.
    pub rows: u64,
    /// Rows skipped because their key was already in the target (merge).
    pub skipped: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// The checksum of the rejected rows (taken out of the source's for
    /// validation).
    pub rejected_sum: Checksum,
    /// The checksum of every source row of the committed batches (written,
    /// skipped or rejected): validation compares it with the target instead
    /// of reading the source again. `None` when not known for every batch
    /// (a marker written before it was kept).
    pub source_sum: Option<Checksum>,
    /// The table is complete (indexes built).
    pub done: bool,
}

impl Marker {
    /// A fresh marker.
    pub fn new(mode: Mode) -> Marker {
        Marker {
            mode,
            nulls_done: false,
            last_key: None,
            rows: 0,
            skipped: 0,
            rejected: 0,
            rejected_sum: Checksum::default(),
            source_sum: Some(Checksum::default()),
            done: false,
        }
    }
}

/// A state table's name, quoted for the target's engine.
pub fn table_name(d: &dyn Dialect, name: &str) -> String {
    match d.engine() {
        Engine::Sqlite => d.quote(&format!("transit_migration_{name}")),
        _ => format!("{}.{}", d.quote("transit_migration"), d.quote(name)),
    }
}

/// The target's scope in `transit_migration`: `db:` on MariaDB, whose
/// `transit_migration` database is shared by the server's databases;
/// empty elsewhere (the state lives in the target database itself).
pub fn scope_of(target: &crate::target::DbTarget) -> String {
    match target.engine() {
        Engine::MySql => format!("{}:", target.database()),
        _ => String::new(),
    }
}

/// A state table that belongs to one run and one table
/// (`<prefix>_<hash>_<table>`): the hash is taken over the target's
/// scope and the run, so that runs (and, on MariaDB, target databases
/// sharing `transit_migration`) never share one.
pub fn run_table(d: &dyn Dialect, scope: &str, run: &str, prefix: &str, table: &str) -> String {
    use sha2::Digest;
    let hash = hex::encode(&sha2::Sha256::digest(format!("{scope}{run}").as_bytes())[..4]);
    table_name(
        d,
        &format!("{prefix}_{hash}_{}", table.to_ascii_lowercase()),
    )
}

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

/// Adds `copy_progress.source_sum` to a state table made before it was
/// kept (its markers read back with an unknown source checksum).
async fn add_source_sum(db: &mut Db) -> Result<()> {
    let present = match db.engine() {
        Engine::Postgres | Engine::MySql => db.count(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'transit_migration' \
             AND table_name = 'copy_progress' AND column_name = 'source_sum'",
        )
        .await?,
        Engine::Sqlite => db.count(
            "SELECT COUNT(*) FROM pragma_table_info('transit_migration_copy_progress') WHERE name = 'source_sum'",
        )
        .await?,
    };
    if present == 0 {
        let d = db.dialect();
        db.exec(&format!(
            "ALTER TABLE {} ADD COLUMN source_sum VARCHAR(96)",
            table_name(d, "copy_progress")
        ))
        .await?;
    }
    Ok(())
}

/// `rows:hex` of a known source checksum, or NULL.
fn source_sum_lit(d: &dyn Dialect, sum: Option<&Checksum>) -> String {
    match sum {
        Some(c) => lit(d, &format!("{}:{}", c.rows, c.hex())),
        None => "NULL".into(),
    }
}

/// Reads [`source_sum_lit`]'s text back (`None` for NULL or a damaged value).
fn parse_source_sum(text: Option<&str>) -> Option<Checksum> {
    let (rows, hex) = text?.split_once(':')?;
    Checksum::from_hex(rows.parse().ok()?, hex)
}

/// Creates the state schema and tables when missing.
pub async fn ensure(db: &mut Db) -> Result<()> {
    let d = db.dialect();
    match db.engine() {
        Engine::Postgres => {
            db.exec("CREATE SCHEMA IF NOT EXISTS transit_migration")
                .await?;
        }
        Engine::MySql => {
            db.exec("CREATE DATABASE IF NOT EXISTS transit_migration CHARACTER SET utf8mb4")
                .await?;
        }
        Engine::Sqlite => {}
    }
    let text = match db.engine() {
        Engine::MySql => "MEDIUMTEXT",
        _ => "TEXT",
    };
    db.exec(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run VARCHAR(64) NOT NULL PRIMARY KEY, options {text} NOT NULL, started VARCHAR(32) NOT NULL)",
        table_name(d, "copy_runs")
    ))
    .await?;
    db.exec(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, mode VARCHAR(8) NOT NULL, \
         nulls_done INTEGER NOT NULL, last_key {text}, rows_done BIGINT NOT NULL, skipped BIGINT NOT NULL, \
         rejected BIGINT NOT NULL, rejected_sum VARCHAR(64) NOT NULL, done INTEGER NOT NULL, \
         source_sum VARCHAR(96), PRIMARY KEY (run, tbl))",
        table_name(d, "copy_progress")
    ))
    .await?;
    add_source_sum(db).await?;
    db.exec(&super::keys::create_sql(d)).await?;
    db.exec(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run VARCHAR(64) NOT NULL, step VARCHAR(64) NOT NULL, \
         detail {text}, PRIMARY KEY (run, step))",
        table_name(d, "migrate_steps")
    ))
    .await?;
    db.exec(&format!(
        "CREATE TABLE IF NOT EXISTS {} (source VARCHAR(255) NOT NULL, site_id BIGINT NOT NULL, \
         PRIMARY KEY (source, site_id))",
        table_name(d, "migrate_sources")
    ))
    .await?;
    db.exec(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, row_key {text} NOT NULL)",
        table_name(d, "run_rows")
    ))
    .await?;
    db.exec(&format!(
        "CREATE TABLE IF NOT EXISTS {} (run VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, \
         commit_every BIGINT NOT NULL, PRIMARY KEY (run, tbl))",
        table_name(d, "tuning")
    ))
    .await?;
    db.exec(&crate::runs::history::create_sql(d)).await?;
    Ok(())
}

/// The query of a table's tuned commit frequency in a run (none: no row).
pub fn tuned_sql(d: &dyn Dialect, run: &str, table: &str) -> String {
    format!(
        "SELECT {} FROM {} WHERE run = {} AND tbl = {}",
        d.cast_text("commit_every"),
        table_name(d, "tuning"),
        lit(d, run),
        lit(d, table)
    )
}

/// Sets a table's commit frequency in a run (`transit db tune`); the
/// writer reads it between batches.
pub async fn tune(db: &mut Db, run: &str, table: &str, rows: u64) -> Result<()> {
    let d = db.dialect();
    db.exec("BEGIN").await?;
    db.exec(&format!(
        "DELETE FROM {} WHERE run = {} AND tbl = {}",
        table_name(d, "tuning"),
        lit(d, run),
        lit(d, table)
    ))
    .await?;
    db.exec(&format!(
        "INSERT INTO {} (run, tbl, commit_every) VALUES ({}, {}, {rows})",
        table_name(d, "tuning"),
        lit(d, run),
        lit(d, table)
    ))
    .await?;
    db.exec("COMMIT").await?;
    Ok(())
}

/// Records a new run with its options (JSON, without passwords).
pub async fn create_run(db: &mut Db, run: &str, options: &str, started: &str) -> Result<()> {
    let d = db.dialect();
    let sql = format!(
        "INSERT INTO {} (run, options, started) VALUES ({}, {}, {})",
        table_name(d, "copy_runs"),
        lit(d, run),
        lit(d, options),
        lit(d, started)
    );
    db.exec(&sql).await.map(|_| ())
}

/// The options of a recorded run, or `None`.
pub async fn run_options(db: &mut Db, run: &str) -> Result<Option<String>> {
    let d = db.dialect();
    let exists = match db.engine() {
        Engine::Postgres => db.count("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'transit_migration' AND table_name = 'copy_runs'").await?,
        Engine::MySql => db.count("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'transit_migration' AND table_name = 'copy_runs'").await?,
        Engine::Sqlite => db.count("SELECT COUNT(*) FROM sqlite_master WHERE name = 'transit_migration_copy_runs'").await?,
    };
    if exists == 0 {
        return Ok(None);
    }
    let sql = format!(
        "SELECT options FROM {} WHERE run = {}",
        table_name(d, "copy_runs"),
        lit(d, run)
    );
    Ok(db
        .rows(&sql)
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten()))
}

/// Every table marker of `run`.
pub async fn markers(db: &mut Db, run: &str) -> Result<HashMap<String, Marker>> {
    let d = db.dialect();
    let sql = format!(
        "SELECT tbl, mode, nulls_done, last_key, rows_done, skipped, rejected, rejected_sum, done, source_sum FROM {} WHERE run = {}",
        table_name(d, "copy_progress"),
        lit(d, run)
    );
    let mut out = HashMap::new();
    for row in db.rows(&sql).await? {
        let get = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let num = |i: usize| get(i).parse::<u64>().unwrap_or(0);
        let last_key = row
            .get(3)
            .cloned()
            .flatten()
            .map(|k| serde_json::from_str::<Vec<String>>(&k))
            .transpose()
            .map_err(|e| DbError::Refused(format!("corrupt resume marker of {}: {e}", get(0))))?;
        let marker = Marker {
            mode: if get(1) == "merge" {
                Mode::Merge
            } else {
                Mode::Bulk
            },
            nulls_done: num(2) != 0,
            last_key,
            rows: num(4),
            skipped: num(5),
            rejected: num(6),
            rejected_sum: Checksum::from_hex(num(6), &get(7)).unwrap_or_default(),
            source_sum: parse_source_sum(row.get(9).cloned().flatten().as_deref()),
            done: num(8) != 0,
        };
        out.insert(get(0), marker);
    }
    Ok(out)
}

/// `INSERT` of a table's first marker.
pub fn insert_sql(d: &dyn Dialect, run: &str, table: &str, m: &Marker) -> String {
    format!(
        "INSERT INTO {} (run, tbl, mode, nulls_done, last_key, rows_done, skipped, rejected, rejected_sum, done, source_sum) \
         VALUES ({}, {}, {}, 0, NULL, 0, 0, 0, {}, 0, {})",
        table_name(d, "copy_progress"),
        lit(d, run),
        lit(d, table),
        lit(d, if m.mode == Mode::Merge { "merge" } else { "bulk" }),
        lit(d, &Checksum::default().hex()),
        source_sum_lit(d, m.source_sum.as_ref()),
    )
}

/// `UPDATE` of a table's marker (run in the batch's transaction).
pub fn update_sql(d: &dyn Dialect, run: &str, table: &str, m: &Marker) -> String {
    let last_key = match &m.last_key {
        Some(k) => lit(d, &serde_json::to_string(k).unwrap_or_default()),
        None => "NULL".into(),
    };
    format!(
        "UPDATE {} SET nulls_done = {}, last_key = {last_key}, rows_done = {}, skipped = {}, rejected = {}, \
         rejected_sum = {}, done = {}, source_sum = {} WHERE run = {} AND tbl = {}",
        table_name(d, "copy_progress"),
        u8::from(m.nulls_done),
        m.rows,
        m.skipped,
        m.rejected,
        lit(d, &m.rejected_sum.hex()),
        u8::from(m.done),
        source_sum_lit(d, m.source_sum.as_ref()),
        lit(d, run),
        lit(d, table),
    )
}
