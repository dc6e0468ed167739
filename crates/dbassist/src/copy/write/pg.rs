//! PostgreSQL: `COPY … FROM STDIN` in text format through sqlx's
//! `copy_in_raw`, one COPY per batch inside the batch's transaction.
//!
//! The session runs with `synchronous_commit = off`: a server crash can
//! lose the last few commits, but each commit holds its rows *and* its
//! marker, so a resume after one is still exact; a client kill loses
//! nothing that committed.

use super::{escape_tsv, Sink, SinkError, SinkResult};
use crate::copy::batch::Batch;
use crate::copy::canon::CanonKind;
use crate::copy::plan::TablePlan;
use crate::dialect::{dialect_for, Dialect};
use crate::engine::Engine;
use sqlx::postgres::PgConnection;
use sqlx::{AssertSqlSafe, Row};
use tokio::runtime::Runtime;

/// The PostgreSQL sink.
pub struct PgSink {
    conn: PgConnection,
    rt: Runtime,
    copy: String,
    columns: String,
    kinds: Vec<CanonKind>,
    buf: Vec<u8>,
}

/// Sorts a driver error: data errors leave the transaction usable after a
/// rollback to a savepoint; connection and server failures do not.
pub fn sink_error(e: sqlx::Error) -> SinkError {
    if let Some(db) = e.as_database_error() {
        let code = db.code().map(|c| c.to_string()).unwrap_or_default();
        // 08 connection exception, 57 operator intervention (a terminated
        // backend), 53 insufficient resources, 58 system error.
        if !matches!(code.get(..2), Some("08" | "57" | "53" | "58")) {
            return SinkError::Data(db.message().to_string());
        }
    }
    SinkError::Fatal(fatal_text(&e))
}

/// The text of a fatal driver error. When the server closes the socket
/// before its error message is read (a terminated backend can race the
/// client's next read), the driver only sees an end of file; that is
/// said plainly as a lost connection.
fn fatal_text(e: &sqlx::Error) -> String {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => {
            format!("the connection to the target database was lost ({e})")
        }
        _ => e.to_string(),
    }
}

/// The session settings of every copy connection (readers and writers):
/// ISO dates, shortest exact floats, hex bytea, UTF-8.
pub const SESSION: &str = "SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 1; \
     SET bytea_output = 'hex'; SET client_encoding = 'UTF8'";

impl PgSink {
    /// A sink into `plan`'s table over `conn`, which was opened on `rt`.
    pub fn new(conn: PgConnection, rt: Runtime, plan: &TablePlan) -> SinkResult<PgSink> {
        let d = dialect_for(Engine::Postgres);
        let mut sink = PgSink {
            conn,
            rt,
            copy: String::new(),
            columns: d.ident_list(&plan.names()),
            kinds: plan.kinds.clone(),
            buf: Vec::new(),
        };
        sink.load_into(&d.ident(&plan.table.name));
        sink.exec(SESSION)?;
        sink.exec("SET synchronous_commit = off")?;
        Ok(sink)
    }

    fn encode(&mut self, batch: &Batch) {
        self.buf.clear();
        for r in 0..batch.len() {
            for (c, kind) in self.kinds.iter().enumerate() {
                if c > 0 {
                    self.buf.push(b'\t');
                }
                match batch.cell(r, c) {
                    None => self.buf.extend_from_slice(b"\\N"),
                    Some(b) if *kind == CanonKind::Blob => {
                        self.buf.extend_from_slice(b"\\\\x");
                        let start = self.buf.len();
                        self.buf.resize(start + b.len() * 2, 0);
                        hex::encode_to_slice(b, &mut self.buf[start..]).expect("sized");
                    }
                    Some(b) => escape_tsv(b, &mut self.buf, false),
                }
            }
            self.buf.push(b'\n');
        }
    }
}

impl Sink for PgSink {
    fn exec(&mut self, sql: &str) -> SinkResult<()> {
        let conn = &mut self.conn;
        self.rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(conn))
            .map(|_| ())
            .map_err(sink_error)
    }

    fn exec_count(&mut self, sql: &str) -> SinkResult<u64> {
        let conn = &mut self.conn;
        self.rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(sql.to_string())).execute(conn))
            .map(|r| r.rows_affected())
            .map_err(sink_error)
    }

    fn load_into(&mut self, table: &str) {
        self.copy = format!("COPY {table} ({}) FROM STDIN", self.columns);
    }

    fn load(&mut self, batch: &Batch) -> SinkResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.encode(batch);
        let (conn, copy, buf) = (&mut self.conn, &self.copy, &self.buf);
        self.rt
            .block_on(async move {
                let mut c = conn.copy_in_raw(copy).await?;
                c.send(buf.as_slice()).await?;
                c.finish().await
            })
            .map(|_| ())
            .map_err(sink_error)
    }

    fn query(&mut self, sql: &str) -> SinkResult<Vec<Vec<Option<Vec<u8>>>>> {
        let conn = &mut self.conn;
        let rows = self
            .rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(sql.to_string())).fetch_all(conn))
            .map_err(sink_error)?;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|i| {
                        // Queries here select text (keys cast to text).
                        row.try_get_unchecked::<Option<String>, _>(i)
                            .map(|v| v.map(String::into_bytes))
                            .map_err(sink_error)
                    })
                    .collect()
            })
            .collect()
    }

    fn dialect(&self) -> &'static dyn Dialect {
        dialect_for(Engine::Postgres)
    }
}
