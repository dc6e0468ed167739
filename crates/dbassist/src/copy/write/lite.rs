//! SQLite: one prepared `INSERT`, bound again for each row, inside one
//! transaction per batch (rusqlite; see ARCHITECTURE.md, "SQLite
//! linking"). Cells are bound by the column's type: an integer or float
//! that parses is bound as a number, anything else as the text it is
//! (SQLite's loose typing keeps it as it came).

use super::{Sink, SinkError, SinkResult};
use crate::copy::batch::Batch;
use crate::copy::canon::CanonKind;
use crate::copy::plan::TablePlan;
use crate::dialect::{dialect_for, Dialect};
use crate::engine::Engine;
use rusqlite::types::{ToSqlOutput, ValueRef};
use std::path::Path;

/// The SQLite sink.
pub struct LiteSink {
    conn: rusqlite::Connection,
    insert: String,
    columns: String,
    kinds: Vec<CanonKind>,
}

fn sink_error(e: rusqlite::Error) -> SinkError {
    use rusqlite::ErrorCode as C;
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, C::ConstraintViolation | C::TypeMismatch | C::TooBig) =>
        {
            SinkError::Data(e.to_string())
        }
        rusqlite::Error::ToSqlConversionFailure(_) | rusqlite::Error::InvalidParameterCount(..) => {
            SinkError::Data(e.to_string())
        }
        _ => SinkError::Fatal(e.to_string()),
    }
}

impl LiteSink {
    /// Opens the SQLite file for `plan`'s table.
    pub fn open(path: &Path, plan: &TablePlan) -> SinkResult<LiteSink> {
        let conn = rusqlite::Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(sink_error)?;
        conn.busy_timeout(std::time::Duration::from_secs(60))
            .map_err(sink_error)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
        )
        .map_err(sink_error)?;
        let d = dialect_for(Engine::Sqlite);
        let names = plan.names();
        let mut sink = LiteSink {
            conn,
            insert: String::new(),
            columns: format!(
                "({}) VALUES ({})",
                d.ident_list(&names),
                vec!["?"; names.len()].join(", ")
            ),
            kinds: plan.kinds.clone(),
        };
        sink.load_into(&d.ident(&plan.table.name));
        Ok(sink)
    }
}

fn bind_value(kind: CanonKind, cell: Option<&[u8]>) -> ToSqlOutput<'_> {
    let Some(b) = cell else {
        return ToSqlOutput::Borrowed(ValueRef::Null);
    };
    let text = || std::str::from_utf8(b).ok();
    let v = match kind {
        CanonKind::Int => match text().and_then(|t| t.parse::<i64>().ok()) {
            Some(n) => ValueRef::Integer(n),
            None => ValueRef::Text(b),
        },
        CanonKind::Float => match text().and_then(|t| t.parse::<f64>().ok()) {
            Some(f) if !f.is_nan() => ValueRef::Real(f),
            _ => ValueRef::Text(b),
        },
        CanonKind::Blob => ValueRef::Blob(b),
        _ => ValueRef::Text(b),
    };
    ToSqlOutput::Borrowed(v)
}

impl Sink for LiteSink {
    fn exec(&mut self, sql: &str) -> SinkResult<()> {
        self.conn.execute_batch(sql).map_err(sink_error)
    }

    fn exec_count(&mut self, sql: &str) -> SinkResult<u64> {
        self.conn
            .execute(sql, [])
            .map(|n| n as u64)
            .map_err(sink_error)
    }

    fn load_into(&mut self, table: &str) {
        self.insert = format!("INSERT INTO {table} {}", self.columns);
    }

    fn load(&mut self, batch: &Batch) -> SinkResult<()> {
        let mut stmt = self.conn.prepare_cached(&self.insert).map_err(sink_error)?;
        for r in 0..batch.len() {
            for (c, kind) in self.kinds.iter().enumerate() {
                stmt.raw_bind_parameter(c + 1, bind_value(*kind, batch.cell(r, c)))
                    .map_err(sink_error)?;
            }
            stmt.raw_execute().map_err(sink_error)?;
        }
        Ok(())
    }

    fn query(&mut self, sql: &str) -> SinkResult<Vec<Vec<Option<Vec<u8>>>>> {
        let mut stmt = self.conn.prepare(sql).map_err(sink_error)?;
        let n = stmt.column_count();
        let mut rows = stmt.query([]).map_err(sink_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(sink_error)? {
            let mut cells = Vec::with_capacity(n);
            for i in 0..n {
                cells.push(match row.get_ref(i).map_err(sink_error)? {
                    ValueRef::Null => None,
                    ValueRef::Integer(v) => Some(v.to_string().into_bytes()),
                    ValueRef::Real(f) => Some(crate::copy::canon::float_canon(f).into_bytes()),
                    ValueRef::Text(b) | ValueRef::Blob(b) => Some(b.to_vec()),
                });
            }
            out.push(cells);
        }
        Ok(out)
    }

    fn dialect(&self) -> &'static dyn Dialect {
        dialect_for(Engine::Sqlite)
    }

    /// Takes the write lock at once: two tables copied in parallel into
    /// one file then wait for each other instead of deadlocking.
    fn begin(&self) -> &'static str {
        "BEGIN IMMEDIATE"
    }
}
