//! MariaDB: `LOAD DATA LOCAL INFILE` streamed from memory through the
//! `mysql` driver's local-infile handler (sqlx has no such path), one
//! statement per batch inside the batch's transaction; multi-row `INSERT`
//! where the server refuses local infile (with a note saying so).
//!
//! With `LOCAL`, MariaDB turns data errors into warnings and goes on
//! (truncating a string, reading `12 s` as 12, skipping a duplicate key).
//! So a load that leaves any warning, or fewer rows than it sent, counts
//! as refused: nothing is ever changed silently.

use super::{escape_tsv, Sink, SinkError, SinkResult};
use crate::copy::batch::Batch;
use crate::copy::canon::CanonKind;
use crate::copy::plan::TablePlan;
use crate::dialect::{dialect_for, Dialect, Value};
use crate::engine::Engine;
use crate::target::DbTarget;
use mysql::prelude::Queryable;
use std::io::Write;
use std::sync::{Arc, Mutex};

/// The session of every MariaDB copy connection: strict, but zero dates
/// allowed (a 3.0 source may hold them).
pub const SQL_MODE: &str = "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION'";

/// The MariaDB sink.
pub struct MySink {
    conn: mysql::Conn,
    slot: Arc<Mutex<Vec<u8>>>,
    load: String,
    load_columns: String,
    insert_head: String,
    insert_columns: String,
    kinds: Vec<CanonKind>,
    local: bool,
    note: Option<String>,
}

/// Server error numbers that end the copy rather than a row: lock wait
/// timeout and deadlock (both roll the transaction back), read-only,
/// out of space, server shutdown.
const FATAL_CODES: [u16; 6] = [1205, 1213, 1290, 1021, 1053, 1927];

/// Server refusals of `LOAD DATA LOCAL` (local_infile off).
const NO_LOCAL: [u16; 3] = [1148, 4166, 2068];

fn sink_error(e: mysql::Error) -> SinkError {
    match &e {
        mysql::Error::MySqlError(m) if !FATAL_CODES.contains(&m.code) => {
            SinkError::Data(format!("{} (error {})", m.message, m.code))
        }
        _ => SinkError::Fatal(e.to_string()),
    }
}

impl MySink {
    /// Connects to `target` for `plan`'s table.
    pub fn open(target: &DbTarget, plan: &TablePlan) -> SinkResult<MySink> {
        let (host, port) = target
            .host_port()
            .ok_or_else(|| SinkError::Fatal(format!("{target}: no host")))?;
        let slot: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
        let data = slot.clone();
        let handler = mysql::LocalInfileHandler::new(move |_name, out| {
            let bytes = data
                .lock()
                .map_err(|_| std::io::Error::other("batch lock"))?;
            out.write_all(&bytes)?;
            out.flush()
        });
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(host))
            .tcp_port(port.unwrap_or(3306))
            .user(Some(target.user()))
            .pass(target.password())
            .db_name(Some(target.database()))
            .prefer_socket(false)
            .local_infile_handler(Some(handler))
            .init(vec!["SET NAMES utf8mb4", SQL_MODE]);
        let conn =
            mysql::Conn::new(opts).map_err(|e| SinkError::Fatal(format!("{target}: {e}")))?;
        let d = dialect_for(Engine::MySql);
        let mut cols = Vec::new();
        let mut sets = Vec::new();
        for (i, c) in plan.columns.iter().enumerate() {
            if plan.kinds[i] == CanonKind::Blob {
                cols.push(format!("@b{i}"));
                sets.push(format!("{} = UNHEX(@b{i})", d.ident(&c.name)));
            } else {
                cols.push(d.ident(&c.name));
            }
        }
        let mut load_columns = format!(
            " CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' \
             LINES TERMINATED BY '\\n' ({})",
            cols.join(", ")
        );
        if !sets.is_empty() {
            load_columns.push_str(&format!(" SET {}", sets.join(", ")));
        }
        let mut sink = MySink {
            conn,
            slot,
            load: String::new(),
            load_columns,
            insert_head: String::new(),
            insert_columns: format!(" ({}) VALUES ", d.ident_list(&plan.names())),
            kinds: plan.kinds.clone(),
            local: true,
            note: None,
        };
        sink.load_into(&d.ident(&plan.table.name));
        Ok(sink)
    }

    fn encode(&self, batch: &Batch, out: &mut Vec<u8>) {
        out.clear();
        for r in 0..batch.len() {
            for (c, kind) in self.kinds.iter().enumerate() {
                if c > 0 {
                    out.push(b'\t');
                }
                match batch.cell(r, c) {
                    None => out.extend_from_slice(b"\\N"),
                    Some(b) if *kind == CanonKind::Blob => {
                        out.extend_from_slice(hex::encode(b).as_bytes())
                    }
                    Some(b) => escape_tsv(b, out, true),
                }
            }
            out.push(b'\n');
        }
    }

    fn load_local(&mut self, batch: &Batch) -> SinkResult<bool> {
        {
            let mut slot = self
                .slot
                .lock()
                .map_err(|_| SinkError::Fatal("batch lock".into()))?;
            let mut buf = std::mem::take(&mut *slot);
            self.encode(batch, &mut buf);
            *slot = buf;
        }
        let result = self.conn.query_drop(&self.load);
        self.slot.lock().map(|mut s| s.clear()).ok();
        match result {
            Ok(()) => {}
            Err(mysql::Error::MySqlError(e)) if NO_LOCAL.contains(&e.code) => return Ok(false),
            Err(mysql::Error::DriverError(mysql::DriverError::CleartextPluginDisabled)) => {
                return Ok(false)
            }
            Err(e) => return Err(sink_error(e)),
        }
        let affected = self.conn.affected_rows();
        let warnings = self.conn.warnings();
        if warnings > 0 || affected != batch.len() as u64 {
            let first: Option<(String, u16, String)> = self
                .conn
                .query_first("SHOW WARNINGS LIMIT 1")
                .map_err(sink_error)?;
            let message = match first {
                Some((_, code, text)) => format!(
                    "{text} (warning {code}; LOAD DATA LOCAL would have kept the row altered)"
                ),
                None => format!("only {affected} of {} rows were loaded", batch.len()),
            };
            return Err(SinkError::Data(message));
        }
        Ok(true)
    }

    fn load_insert(&mut self, batch: &Batch) -> SinkResult<()> {
        let d = dialect_for(Engine::MySql);
        let mut sql = String::new();
        for r in 0..batch.len() {
            sql.push_str(if sql.is_empty() {
                &self.insert_head
            } else {
                ","
            });
            sql.push('(');
            for (c, kind) in self.kinds.iter().enumerate() {
                if c > 0 {
                    sql.push(',');
                }
                let value = match batch.cell(r, c) {
                    None => Value::Null,
                    Some(b) if *kind == CanonKind::Blob => Value::Bytes(b.to_vec()),
                    Some(b) => match std::str::from_utf8(b) {
                        Ok(t) => Value::Text(t.to_string()),
                        Err(_) => Value::Bytes(b.to_vec()),
                    },
                };
                d.literal(&value, &mut sql);
            }
            sql.push(')');
            if sql.len() >= 1 << 20 {
                self.conn.query_drop(&sql).map_err(sink_error)?;
                sql.clear();
            }
        }
        if !sql.is_empty() {
            self.conn.query_drop(&sql).map_err(sink_error)?;
        }
        Ok(())
    }
}

impl Sink for MySink {
    fn exec(&mut self, sql: &str) -> SinkResult<()> {
        self.conn.query_drop(sql).map_err(sink_error)
    }

    fn exec_count(&mut self, sql: &str) -> SinkResult<u64> {
        self.conn.query_drop(sql).map_err(sink_error)?;
        Ok(self.conn.affected_rows())
    }

    fn load_into(&mut self, table: &str) {
        self.load = format!(
            "LOAD DATA LOCAL INFILE 'transit-batch' INTO TABLE {table}{}",
            self.load_columns
        );
        self.insert_head = format!("INSERT INTO {table}{}", self.insert_columns);
    }

    fn load(&mut self, batch: &Batch) -> SinkResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        if self.local {
            if self.load_local(batch)? {
                return Ok(());
            }
            self.local = false;
            self.note = Some(
                "MariaDB refused LOAD DATA LOCAL INFILE (local_infile is off): loading with multi-row INSERT, about half as fast; `SET GLOBAL local_infile = 1` enables the fast path".into(),
            );
        }
        self.load_insert(batch)
    }

    fn query(&mut self, sql: &str) -> SinkResult<Vec<Vec<Option<Vec<u8>>>>> {
        let rows: Vec<mysql::Row> = self.conn.query(sql).map_err(sink_error)?;
        Ok(rows
            .into_iter()
            .map(|row| {
                row.unwrap()
                    .into_iter()
                    .map(|v| match v {
                        mysql::Value::NULL => None,
                        mysql::Value::Bytes(b) => Some(b),
                        other => Some(other.as_sql(true).trim_matches('\'').as_bytes().to_vec()),
                    })
                    .collect()
            })
            .collect())
    }

    fn dialect(&self) -> &'static dyn Dialect {
        dialect_for(Engine::MySql)
    }

    fn take_note(&mut self) -> Option<String> {
        self.note.take()
    }
}
