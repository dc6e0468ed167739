//! `transit db generate`: a realistic, deterministic 3.0 history.
//!
//! For the same options and seed, the same rows arrive in the same order
//! (the report's `checksum` is a SHA-256 over them). The history covers
//! `sites` sites in four time zones ([`sites`]), `days` days from `start`,
//! and `calls_per_day` calls per site and day, with the tables around the
//! calls (Tracker interactions, recordings, surveys, Dialer, Director),
//! interval statistics, and current-state configuration. Into it go:
//! - the duplicates and NULLs the vendor's repair scripts look for, with
//!   exact counts per table ([`TableCount`]);
//! - hostile values ([`Hostile`]): NUL bytes, 4-byte UTF-8, strings at
//!   their maximum length, CHAR padding, quotes and escapes, zero dates
//!   (MariaDB) and text in integer columns (SQLite);
//! - call rows at both ends of each site's daylight-saving changes in the
//!   start year ([`DstRow`]).
//!
//! Rows are made on a producer thread and loaded through the engine's
//! bulk path ([`load`]); progress is reported per table.

pub mod fill;
pub mod load;
pub mod rows;
pub mod shape;
pub mod sites;

use crate::check::{self, Permission};
use crate::db::Db;
use crate::dialect::{dialect_for, Value};
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::schema::{Schema, Table, Version};
use crate::{upgrade, version};
use load::{Encoder, Msg};
use rows::TableRows;
use serde::Serialize;
use sha2::{Digest, Sha256};
use shape::Shape;
use sites::{transitions, zone_of, SiteInfo};
use time::macros::date;
use time::{Date, Duration, PrimitiveDateTime};
use transit_core::{CancelToken, Event, Progress};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Sites (IDs 1..=sites), at most 99.
    pub sites: u16,
    /// Days of history.
    pub days: u32,
    /// Calls per site and day.
    pub calls_per_day: u32,
    /// The seed.
    pub seed: u64,
    /// The first day.
    pub start: Date,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            sites: 2,
            days: 7,
            calls_per_day: 100,
            seed: 1,
            start: date!(2013 - 01 - 01),
        }
    }
}

/// One table's rows.
#[derive(Debug, Clone, Serialize)]
pub struct TableCount {
    /// The table.
    pub table: String,
    /// Every row written (planted and extra rows included).
    pub rows: u64,
    /// Extra rows sharing a key with an earlier row (what
    /// `Delete_Dups_<table>` finds).
    pub planted_duplicates: u64,
    /// Rows with a NULL key column (what `Delete_Nulls_<table>` finds).
    pub planted_nulls: u64,
}

/// A planted hostile value.
#[derive(Debug, Clone, Serialize)]
pub struct Hostile {
    /// What it is: `nul-text`, `nul-bytes`, `utf8-4byte`, `max-length`,
    /// `char-padding`, `quotes-escapes`, `zero-date`, `text-in-integer`.
    pub kind: &'static str,
    /// The table.
    pub table: &'static str,
    /// The key column.
    pub key_column: &'static str,
    /// The row's key.
    pub key: String,
    /// The column holding the value.
    pub column: &'static str,
}

/// A call row at a daylight-saving change.
#[derive(Debug, Clone, Serialize)]
pub struct DstRow {
    /// Its CallId.
    pub call_id: String,
    /// The site.
    pub site_id: u16,
    /// The site's zone (IANA).
    pub zone: &'static str,
    /// `before-gap`, `in-gap` (a local time that does not exist),
    /// `after-gap`, `in-overlap` (a local time that happens twice).
    pub kind: &'static str,
    /// The local time written to every time column of the row.
    pub local_time: String,
}

/// What was generated.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateReport {
    /// The database (redacted URL).
    pub target: String,
    /// The seed.
    pub seed: u64,
    /// The first day.
    pub start: String,
    /// Days.
    pub days: u32,
    /// Calls per site and day.
    pub calls_per_day: u32,
    /// Calls in all.
    pub calls: u64,
    /// The sites.
    pub sites: Vec<SiteInfo>,
    /// Rows in all.
    pub total_rows: u64,
    /// Per table, in load order.
    pub tables: Vec<TableCount>,
    /// The hostile values planted.
    pub hostile: Vec<Hostile>,
    /// The daylight-saving rows.
    pub dst: Vec<DstRow>,
    /// SHA-256 over every generated row, in order: equal for equal options
    /// and seed on the same engine.
    pub checksum: String,
}

impl GenerateOptions {
    fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(DbError::Refused(format!("generate: {what}")));
        if self.sites == 0 || self.sites > 99 {
            return bad("--sites must be 1 to 99");
        }
        if self.days == 0 || self.days > 36_500 {
            return bad("--days must be 1 to 36500");
        }
        if self.calls_per_day == 0 || self.calls_per_day > 1_000_000 {
            return bad("--calls-per-day must be 1 to 1000000");
        }
        Ok(())
    }
}

/// The tables the generator fills, in load order.
pub fn tables() -> Vec<&'static Table> {
    Schema::reference()
        .tables_at(Version::V30)
        .filter(|t| Shape::parse(&t.shape).is_some_and(|s| s != Shape::None))
        .collect()
}

/// Generates a 3.0 history into `db`: the schema is created when the
/// database is empty; a 3.0 schema must have empty tables.
pub async fn generate(
    db: &mut Db,
    opts: &GenerateOptions,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<GenerateReport> {
    opts.validate()?;
    let status = version::read(db).await?;
    match status.current {
        None if !status.has_version_table => {
            check::require(db, &Permission::ALL).await?;
            progress.event(Event::step("creating the 3.0 schema"));
            upgrade::upgrade(db, Version::V30, progress, cancel).await?;
        }
        Some(Version::V30) if status.missing.is_empty() => {
            check::require(db, &[Permission::Insert]).await?;
            for table in tables() {
                if db.row_count(&table.name).await? > 0 {
                    return Err(DbError::Refused(format!(
                        "{}: table {} already holds rows; generate into an empty database",
                        db.target(),
                        table.name
                    )));
                }
            }
        }
        _ => return Err(DbError::WrongVersion {
            target: db.target().to_string(),
            found: status.label(),
            wanted:
                "the generator writes a 3.0 history into an empty database or an empty 3.0 schema"
                    .into(),
        }),
    }
    if db.engine() == Engine::MySql {
        // Strict, but zero dates allowed (one hostile value is one).
        db.exec("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION'")
            .await?;
    }
    let list = tables();
    for table in &list {
        for sql in db.dialect().drop_indexes(table) {
            db.exec(&sql).await?;
        }
    }

    progress.event(Event::step("generating"));
    let engine = db.engine();
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let producer_opts = opts.clone();
    let producer_cancel = cancel.clone();
    let producer = std::thread::Builder::new()
        .name("generate".into())
        .spawn(move || produce(&producer_opts, engine, tx, &producer_cancel))
        .map_err(|e| DbError::Refused(format!("cannot start the generator thread: {e}")))?;
    let written = load::write(db, rx, progress, cancel).await;
    let produced = producer
        .join()
        .map_err(|_| DbError::Refused("the generator thread panicked".into()))?;
    let written = written?;
    if cancel.is_cancelled() {
        return Err(DbError::Cancelled);
    }

    progress.event(Event::step("building indexes"));
    for table in &list {
        for sql in db.dialect().create_indexes(table) {
            db.exec(&sql).await?;
        }
    }
    let mut report = produced;
    report.target = db.target().to_string();
    for (count, (table, rows)) in report.tables.iter().zip(&written) {
        debug_assert_eq!(&count.table, table);
        debug_assert_eq!(count.rows, *rows);
    }
    Ok(report)
}

/// Makes every row and sends encoded chunks; returns the report (without
/// the target).
fn produce(
    opts: &GenerateOptions,
    engine: Engine,
    tx: tokio::sync::mpsc::Sender<Msg>,
    cancel: &CancelToken,
) -> GenerateReport {
    let dialect = dialect_for(engine);
    let mut hasher = Sha256::new();
    let (extras, hostile, dst) = extras(opts, engine);
    let mut report = GenerateReport {
        target: String::new(),
        seed: opts.seed,
        start: opts.start.to_string(),
        days: opts.days,
        calls_per_day: opts.calls_per_day,
        calls: shape::calls(opts),
        sites: (1..=opts.sites)
            .map(|s| SiteInfo {
                site_id: s,
                windows_zone: zone_of(s).windows,
                iana_zone: zone_of(s).iana,
            })
            .collect(),
        total_rows: 0,
        tables: Vec::new(),
        hostile,
        dst,
        checksum: String::new(),
    };
    let mut extras = extras;
    for table in tables() {
        let columns: Vec<&str> = table
            .columns_at(Version::V30)
            .map(|c| c.name.as_str())
            .collect();
        let table_extras = extras.remove(table.name.as_str()).unwrap_or_default();
        let mut gen = TableRows::new(table, opts, table_extras);
        let expected = gen.regular_rows();
        let begin = Msg::Begin {
            table: table.name.clone(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            expected,
        };
        if tx.blocking_send(begin).is_err() {
            return report;
        }
        hasher.update(table.name.as_bytes());
        let mut encoder = Encoder::new(dialect, &table.name, &columns);
        let mut rows = 0u64;
        for row in gen.by_ref() {
            hash_row(&mut hasher, &row);
            rows += 1;
            if let Some((chunk, n)) = encoder.push(row) {
                if cancel.is_cancelled() || tx.blocking_send(Msg::Chunk(chunk, n)).is_err() {
                    return report;
                }
            }
        }
        if let Some((chunk, n)) = encoder.finish() {
            if tx.blocking_send(Msg::Chunk(chunk, n)).is_err() {
                return report;
            }
        }
        if tx.blocking_send(Msg::End).is_err() {
            return report;
        }
        report.total_rows += rows;
        report.tables.push(TableCount {
            table: table.name.clone(),
            rows,
            planted_duplicates: gen.planted_duplicates,
            planted_nulls: gen.planted_nulls,
        });
    }
    report.checksum = hex::encode(hasher.finalize());
    report
}

fn hash_row(hasher: &mut Sha256, row: &[Value]) {
    for value in row {
        match value {
            Value::Null => hasher.update([0u8]),
            Value::Int(i) => {
                hasher.update([1u8]);
                hasher.update(i.to_le_bytes());
            }
            Value::Float(f) => {
                hasher.update([2u8]);
                hasher.update(f.to_le_bytes());
            }
            Value::Text(s) => {
                hasher.update([3u8]);
                hasher.update((s.len() as u64).to_le_bytes());
                hasher.update(s.as_bytes());
            }
            Value::Bytes(b) => {
                hasher.update([4u8]);
                hasher.update((b.len() as u64).to_le_bytes());
                hasher.update(b);
            }
            Value::Timestamp(t) => {
                hasher.update([5u8]);
                hasher.update(t.assume_utc().unix_timestamp().to_le_bytes());
            }
        }
    }
    hasher.update([0xff]);
}

type Extras = std::collections::HashMap<&'static str, Vec<Vec<Value>>>;

/// The hostile and daylight-saving rows, by table.
fn extras(opts: &GenerateOptions, engine: Engine) -> (Extras, Vec<Hostile>, Vec<DstRow>) {
    let schema = Schema::reference();
    let calls = schema.table("CallDetail").expect("CallDetail");
    let cols: Vec<&str> = calls
        .columns_at(Version::V30)
        .map(|c| c.name.as_str())
        .collect();
    let col = |name: &str| {
        cols.iter()
            .position(|c| *c == name)
            .expect("CallDetail column")
    };
    let base: Vec<Value> = TableRows::new(calls, opts, Vec::new())
        .next()
        .expect("at least one call");

    let mut cases: Vec<(&'static str, &'static str, Value)> = vec![
        (
            "utf8-4byte",
            "RemoteName",
            Value::Text("Zoë 😀 𝄞 客户".into()),
        ),
        (
            "max-length",
            "RemoteName",
            Value::Text(format!("€😀{}", "x".repeat(48))),
        ),
        ("char-padding", "CallDirection", Value::Text("In  ".into())),
        (
            "quotes-escapes",
            "RemoteName",
            Value::Text("O'Brien \\ \"q\"\t\r\n,;".into()),
        ),
    ];
    if engine != Engine::Postgres {
        cases.push(("nul-text", "RemoteName", Value::Text("Ann\0Lee".into())));
    }
    if engine == Engine::MySql {
        cases.push((
            "zero-date",
            "ConnectedDate",
            Value::Text("0000-00-00 00:00:00".into()),
        ));
    }
    if engine == Engine::Sqlite {
        cases.push((
            "text-in-integer",
            "HoldDurationSeconds",
            Value::Text("12 s".into()),
        ));
    }
    let mut call_rows = Vec::new();
    let mut hostile = Vec::new();
    for (i, (kind, column, value)) in cases.into_iter().enumerate() {
        let key = format!("HOSTILE-{:02}", i + 1);
        let mut row = base.clone();
        row[col("CallId")] = Value::Text(key.clone());
        row[col(column)] = value;
        call_rows.push(row);
        hostile.push(Hostile {
            kind,
            table: "CallDetail",
            key_column: "CallId",
            key,
            column,
        });
    }

    let mut dst = Vec::new();
    let year = opts.start.year();
    for site in 1..=opts.sites {
        let zone = zone_of(site);
        let Some((gap, overlap)) = transitions(zone.rule, year) else {
            continue;
        };
        let moments: [(&'static str, PrimitiveDateTime); 4] = [
            ("before-gap", gap - Duration::seconds(1)),
            ("in-gap", gap + Duration::minutes(30)),
            ("after-gap", gap + Duration::hours(1)),
            ("in-overlap", overlap + Duration::minutes(30)),
        ];
        for (kind, local) in moments {
            let call_id = format!("DST-{site}-{kind}");
            let mut row = base.clone();
            row[col("CallId")] = Value::Text(call_id.clone());
            row[col("SiteId")] = Value::Int(i64::from(site));
            for (i, c) in calls.columns_at(Version::V30).enumerate() {
                if c.ty == crate::schema::SqlType::Timestamp {
                    row[i] = Value::Timestamp(local);
                }
            }
            call_rows.push(row);
            let mut text = String::new();
            crate::dialect::timestamp_text(local, &mut text);
            dst.push(DstRow {
                call_id,
                site_id: site,
                zone: zone.iana,
                kind,
                local_time: text,
            });
        }
    }

    let media = schema
        .table("IR_RecordingMedia")
        .expect("IR_RecordingMedia");
    let mut media_row: Vec<Value> = TableRows::new(media, opts, Vec::new())
        .next()
        .unwrap_or_default();
    let mut out = Extras::new();
    if !media_row.is_empty() {
        let mcols: Vec<&str> = media
            .columns_at(Version::V30)
            .map(|c| c.name.as_str())
            .collect();
        let mcol = |name: &str| mcols.iter().position(|c| *c == name).expect("column");
        let key = "HOSTILE-nul-bytes".to_string();
        media_row[mcol("RecordingId")] = Value::Text(key.clone());
        media_row[mcol("MediaKey")] = Value::Bytes(vec![0, 0, 1, 0, 0xff, 0]);
        hostile.push(Hostile {
            kind: "nul-bytes",
            table: "IR_RecordingMedia",
            key_column: "RecordingId",
            key,
            column: "MediaKey",
        });
        out.insert("IR_RecordingMedia", vec![media_row]);
    }
    out.insert("CallDetail", call_rows);
    (out, hostile, dst)
}
