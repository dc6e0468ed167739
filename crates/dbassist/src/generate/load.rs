//! Rows into a table through the engine's bulk path ([`BulkFormat`]): a
//! producer encodes chunks on its own thread; [`write`] sends them.
//!
//! - PostgreSQL: `COPY … FROM STDIN` (text format), 1 MiB at a time;
//! - MariaDB: multi-row `INSERT` statements of about 1 MiB, committed
//!   every 8 MiB;
//! - SQLite: one prepared multi-row `INSERT` bound again and again, the
//!   whole table in one transaction.

use crate::db::{Conn, Db};
use crate::dialect::{copy_row, BulkFormat, Dialect, Value};
use crate::error::{DbError, Result};
use sqlx::AssertSqlSafe;
use tokio::sync::mpsc::Receiver;
use transit_core::{CancelToken, Event, Progress, Unit};

/// One encoded batch of rows.
pub enum Chunk {
    /// COPY text.
    Copy(Vec<u8>),
    /// A complete multi-row INSERT.
    Sql(String),
    /// Rows to bind.
    Rows(Vec<Vec<Value>>),
}

/// A message from the producer.
pub enum Msg {
    /// A table starts.
    Begin {
        /// Its vendor name.
        table: String,
        /// Its columns.
        columns: Vec<String>,
        /// How many rows to expect.
        expected: u64,
    },
    /// Rows of the current table.
    Chunk(Chunk, u64),
    /// The current table is complete.
    End,
}

const CHUNK_BYTES: usize = 1 << 20;

/// Encodes one table's rows into chunks.
pub struct Encoder {
    format: BulkFormat,
    dialect: &'static dyn Dialect,
    head: String,
    columns: usize,
    copy: Vec<u8>,
    sql: String,
    rows: Vec<Vec<Value>>,
    count: u64,
}

impl Encoder {
    /// An encoder for `table`'s `columns`.
    pub fn new(dialect: &'static dyn Dialect, table: &str, columns: &[&str]) -> Encoder {
        Encoder {
            format: dialect.bulk_format(),
            dialect,
            head: format!(
                "INSERT INTO {} ({}) VALUES ",
                dialect.ident(table),
                dialect.ident_list(columns)
            ),
            columns: columns.len(),
            copy: Vec::new(),
            sql: String::new(),
            rows: Vec::new(),
            count: 0,
        }
    }

    /// Rows per prepared statement (SQLite allows 32766 parameters).
    pub fn batch_rows(columns: usize) -> usize {
        (32_000 / columns.max(1)).min(500)
    }

    /// Adds a row; returns a chunk when one is full.
    pub fn push(&mut self, row: Vec<Value>) -> Option<(Chunk, u64)> {
        self.count += 1;
        match self.format {
            BulkFormat::CopyText => {
                copy_row(&row, &mut self.copy);
                (self.copy.len() >= CHUNK_BYTES).then(|| self.take())
            }
            BulkFormat::MultiRowInsert => {
                if self.sql.is_empty() {
                    self.sql.push_str(&self.head);
                } else {
                    self.sql.push(',');
                }
                self.sql.push('(');
                for (i, v) in row.iter().enumerate() {
                    if i > 0 {
                        self.sql.push(',');
                    }
                    self.dialect.literal(v, &mut self.sql);
                }
                self.sql.push(')');
                (self.sql.len() >= CHUNK_BYTES).then(|| self.take())
            }
            BulkFormat::PreparedBatch => {
                self.rows.push(row);
                (self.rows.len() >= Self::batch_rows(self.columns)).then(|| self.take())
            }
        }
    }

    /// The last, partial chunk.
    pub fn finish(&mut self) -> Option<(Chunk, u64)> {
        (self.count > 0).then(|| self.take())
    }

    fn take(&mut self) -> (Chunk, u64) {
        let n = std::mem::take(&mut self.count);
        let chunk = match self.format {
            BulkFormat::CopyText => Chunk::Copy(std::mem::take(&mut self.copy)),
            BulkFormat::MultiRowInsert => Chunk::Sql(std::mem::take(&mut self.sql)),
            BulkFormat::PreparedBatch => Chunk::Rows(std::mem::take(&mut self.rows)),
        };
        (chunk, n)
    }
}

/// Writes every table the producer sends; returns the rows written per
/// table, in order.
pub async fn write(
    db: &mut Db,
    mut rx: Receiver<Msg>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Vec<(String, u64)>> {
    let mut written = Vec::new();
    while let Some(msg) = rx.recv().await {
        let Msg::Begin {
            table,
            columns,
            expected,
        } = msg
        else {
            continue;
        };
        progress.event(Event::begin(&table, Unit::Rows, Some(expected)));
        let cols: Vec<&str> = columns.iter().map(String::as_str).collect();
        let n = write_table(db, &mut rx, &table, &cols, progress, cancel).await?;
        progress.event(Event::end(&table));
        written.push((table, n));
    }
    Ok(written)
}

async fn write_table(
    db: &mut Db,
    rx: &mut Receiver<Msg>,
    table: &str,
    columns: &[&str],
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<u64> {
    let d = db.dialect();
    let target = db.target().to_string();
    let context = |what: &str| format!("{target}: loading {table} ({what})");
    let mut done = 0u64;
    match db.dialect().bulk_format() {
        BulkFormat::CopyText => {
            let statement = format!(
                "COPY {} ({}) FROM STDIN",
                d.ident(table),
                d.ident_list(columns)
            );
            let Conn::Pg(conn) = db.conn() else {
                unreachable!("COPY is PostgreSQL's")
            };
            let mut copy = conn
                .copy_in_raw(&statement)
                .await
                .map_err(DbError::sql(context("COPY")))?;
            while let Some(msg) = rx.recv().await {
                match msg {
                    Msg::Chunk(Chunk::Copy(bytes), n) => {
                        if cancel.is_cancelled() {
                            let _ = copy.abort("stopped by the user").await;
                            return Err(DbError::Cancelled);
                        }
                        copy.send(bytes)
                            .await
                            .map_err(DbError::sql(context("COPY data")))?;
                        done += n;
                        progress.event(Event::advance(table, done));
                    }
                    Msg::End => break,
                    _ => {}
                }
            }
            copy.finish()
                .await
                .map_err(DbError::sql(context("COPY end")))?;
        }
        BulkFormat::MultiRowInsert => {
            db.exec("BEGIN").await?;
            let mut since_commit = 0usize;
            while let Some(msg) = rx.recv().await {
                match msg {
                    Msg::Chunk(Chunk::Sql(sql), n) => {
                        if cancel.is_cancelled() {
                            let _ = db.exec("ROLLBACK").await;
                            return Err(DbError::Cancelled);
                        }
                        since_commit += sql.len();
                        db.exec(&sql).await?;
                        if since_commit >= 8 * CHUNK_BYTES {
                            db.exec("COMMIT").await?;
                            db.exec("BEGIN").await?;
                            since_commit = 0;
                        }
                        done += n;
                        progress.event(Event::advance(table, done));
                    }
                    Msg::End => break,
                    _ => {}
                }
            }
            db.exec("COMMIT").await?;
        }
        BulkFormat::PreparedBatch => {
            db.exec("BEGIN").await?;
            let head = format!(
                "INSERT INTO {} ({}) VALUES ",
                d.ident(table),
                d.ident_list(columns)
            );
            let one = format!("({})", vec!["?"; columns.len()].join(","));
            let mut statements: std::collections::HashMap<usize, String> = Default::default();
            while let Some(msg) = rx.recv().await {
                match msg {
                    Msg::Chunk(Chunk::Rows(rows), n) => {
                        if cancel.is_cancelled() {
                            let _ = db.exec("ROLLBACK").await;
                            return Err(DbError::Cancelled);
                        }
                        let sql = statements
                            .entry(rows.len())
                            .or_insert_with(|| {
                                format!("{head}{}", vec![one.as_str(); rows.len()].join(","))
                            })
                            .clone();
                        let Conn::Lite(conn) = db.conn() else {
                            unreachable!("prepared batches are SQLite's")
                        };
                        let mut query = sqlx::query(AssertSqlSafe(sql));
                        for row in rows {
                            for value in row {
                                query = match value {
                                    Value::Null => query.bind(None::<String>),
                                    Value::Int(i) => query.bind(i),
                                    Value::Float(f) => query.bind(f),
                                    Value::Text(s) => query.bind(s),
                                    Value::Bytes(b) => query.bind(b),
                                    Value::Timestamp(t) => {
                                        let mut s = String::with_capacity(19);
                                        crate::dialect::timestamp_text(t, &mut s);
                                        query.bind(s)
                                    }
                                };
                            }
                        }
                        if let Err(e) = query.execute(&mut *conn).await {
                            let err = db.classify(e, &head);
                            let _ = db.exec("ROLLBACK").await;
                            return Err(err);
                        }
                        done += n;
                        progress.event(Event::advance(table, done));
                    }
                    Msg::End => break,
                    _ => {}
                }
            }
            db.exec("COMMIT").await?;
        }
    }
    Ok(done)
}
