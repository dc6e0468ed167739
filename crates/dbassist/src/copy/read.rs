//! Readers: each engine's fastest way out, into [`Batch`]es sent through a
//! bounded channel (so memory stays flat: the reader waits while the
//! writer is behind).
//!
//! - PostgreSQL: `COPY (SELECT …) TO STDOUT` in text format, unescaped;
//! - MariaDB: the text protocol, streamed row by row (sqlx);
//! - SQLite: rusqlite on its own thread.

use super::batch::Batch;
use super::canon::{float_canon, CanonKind};
use super::plan::{Segment, TablePlan};
use crate::db::{Conn, Db};
use crate::engine::Engine;
use crate::error::{DbError, Result};
use futures::StreamExt;
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::mpsc::Sender;
use transit_core::CancelToken;

/// Where a batch ends.
#[derive(Debug, Clone, Copy)]
pub struct Cut {
    /// Rows per batch (a batch may run on until the key changes).
    pub rows: usize,
    /// Bytes per batch.
    pub bytes: usize,
    /// Only cut where the key changes (copy); any row (validation).
    pub on_key_change: bool,
}

/// Cuts a stream of rows into batches.
struct Cutter<'a> {
    cut: Cut,
    key: &'a [usize],
    batch: Batch,
}

/// True when two key cells are the same for batching: trailing spaces
/// do not count (MariaDB and CHAR compare blank-padded).
fn same_key_cell(a: Option<&[u8]>, b: Option<&[u8]>) -> bool {
    let trim = |v: &[u8]| v.len() - v.iter().rev().take_while(|&&c| c == b' ').count();
    match (a, b) {
        (Some(a), Some(b)) => a[..trim(a)] == b[..trim(b)],
        (None, None) => true,
        _ => false,
    }
}

impl Cutter<'_> {
    fn row_done(&mut self) -> Option<Batch> {
        let n = self.batch.len();
        let full = n >= self.cut.rows || self.batch.bytes() >= self.cut.bytes;
        if !full {
            return None;
        }
        if !self.cut.on_key_change {
            let next = self.batch.empty_like();
            return Some(std::mem::replace(&mut self.batch, next));
        }
        // The batch holds one row more than it needs: the row that shows
        // whether the key changed.
        if n < 2 || (n == self.cut.rows && self.batch.bytes() < self.cut.bytes) {
            return None;
        }
        let same = self
            .key
            .iter()
            .all(|&k| same_key_cell(self.batch.cell(n - 2, k), self.batch.cell(n - 1, k)));
        if same {
            return None;
        }
        let rest = self.batch.split_off(n - 1);
        Some(std::mem::replace(&mut self.batch, rest))
    }

    fn finish(self) -> Option<Batch> {
        (!self.batch.is_empty()).then_some(self.batch)
    }
}

/// Reads `segment` of `plan` from `db` and sends its batches; returns the
/// rows read. A closed channel (the writer stopped) ends the read early.
pub async fn read(
    db: &mut Db,
    plan: &TablePlan,
    segment: &Segment,
    cut: Cut,
    tx: &Sender<Batch>,
    cancel: &CancelToken,
) -> Result<u64> {
    let cut = if *segment == Segment::NullKeys {
        // The NULL-key rows have no order: they travel as one batch.
        Cut {
            rows: usize::MAX,
            bytes: usize::MAX,
            on_key_change: false,
        }
    } else {
        cut
    };
    let sql = plan.select(db.dialect(), segment);
    let context = format!("{}: reading {}", db.target(), plan.table.name);
    let mut cutter = Cutter {
        cut,
        key: &plan.key,
        batch: Batch::new(plan.columns.len()),
    };
    let mut rows = 0u64;
    macro_rules! emit {
        ($batch:expr) => {{
            if cancel.is_cancelled() {
                return Err(DbError::Cancelled);
            }
            if tx.send($batch).await.is_err() {
                return Ok(rows);
            }
        }};
    }
    match db.engine() {
        Engine::Postgres => {
            let Conn::Pg(conn) = db.conn() else {
                unreachable!("PostgreSQL connection")
            };
            let mut stream = conn
                .copy_out_raw(&format!("COPY ({sql}) TO STDOUT"))
                .await
                .map_err(DbError::sql(&context))?;
            let mut pending: Vec<u8> = Vec::new();
            let mut scratch = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(DbError::sql(&context))?;
                pending.extend_from_slice(&chunk);
                let mut start = 0;
                while let Some(nl) = memchr(&pending[start..]) {
                    let line = &pending[start..start + nl];
                    parse_copy_line(line, &plan.kinds, &mut cutter.batch, &mut scratch)
                        .map_err(|e| DbError::Refused(format!("{context}: {e}")))?;
                    rows += 1;
                    start += nl + 1;
                    if let Some(b) = cutter.row_done() {
                        emit!(b);
                    }
                }
                pending.drain(..start);
            }
        }
        Engine::MySql => {
            let Conn::My(conn) = db.conn() else {
                unreachable!("MariaDB connection")
            };
            let columns = plan.columns.len();
            let mut stream = sqlx::raw_sql(AssertSqlSafe(sql)).fetch(&mut *conn);
            while let Some(row) = stream.next().await {
                let row = row.map_err(DbError::sql(&context))?;
                for i in 0..columns {
                    let v: Option<&[u8]> =
                        row.try_get_unchecked(i).map_err(DbError::sql(&context))?;
                    cutter.batch.push_opt(v);
                }
                rows += 1;
                if let Some(b) = cutter.row_done() {
                    emit!(b);
                }
            }
        }
        Engine::Sqlite => {
            let path = db
                .target()
                .sqlite_path()
                .map(|p| p.to_path_buf())
                .unwrap_or_default();
            let tx = tx.clone();
            let cancel = cancel.clone();
            let columns = plan.columns.len();
            let key = plan.key.clone();
            let nulls = *segment == Segment::NullKeys;
            let handle = tokio::task::spawn_blocking(move || {
                read_sqlite(&path, &sql, columns, &key, cut, nulls, &tx, &cancel)
            });
            return handle
                .await
                .map_err(|e| DbError::Refused(format!("{context}: reader thread failed: {e}")))?
                .map_err(|e| match e {
                    DbError::Driver { message, .. } => DbError::Driver { context, message },
                    other => other,
                });
        }
    }
    let nulls = *segment == Segment::NullKeys;
    match cutter.finish() {
        Some(b) => emit!(b),
        // The writer marks the NULL-key segment done with its one batch,
        // even an empty one.
        None if nulls => emit!(Batch::new(plan.columns.len())),
        None => {}
    }
    Ok(rows)
}

fn memchr(bytes: &[u8]) -> Option<usize> {
    bytes.iter().position(|&b| b == b'\n')
}

#[allow(clippy::too_many_arguments)]
fn read_sqlite(
    path: &std::path::Path,
    sql: &str,
    columns: usize,
    key: &[usize],
    cut: Cut,
    nulls: bool,
    tx: &Sender<Batch>,
    cancel: &CancelToken,
) -> Result<u64> {
    use rusqlite::types::ValueRef;
    let err = |e: rusqlite::Error| DbError::Driver {
        context: String::new(),
        message: e.to_string(),
    };
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(err)?;
    let mut stmt = conn.prepare(sql).map_err(err)?;
    let mut result = stmt.query([]).map_err(err)?;
    let mut cutter = Cutter {
        cut,
        key,
        batch: Batch::new(columns),
    };
    let mut rows = 0u64;
    let mut text = String::new();
    while let Some(row) = result.next().map_err(err)? {
        for i in 0..columns {
            match row.get_ref(i).map_err(err)? {
                ValueRef::Null => cutter.batch.push_null(),
                ValueRef::Integer(n) => {
                    text.clear();
                    use std::fmt::Write;
                    let _ = write!(text, "{n}");
                    cutter.batch.push(text.as_bytes());
                }
                ValueRef::Real(f) => cutter.batch.push(float_canon(f).as_bytes()),
                ValueRef::Text(b) | ValueRef::Blob(b) => cutter.batch.push(b),
            }
        }
        rows += 1;
        if let Some(b) = cutter.row_done() {
            if cancel.is_cancelled() {
                return Err(DbError::Cancelled);
            }
            if tx.blocking_send(b).is_err() {
                return Ok(rows);
            }
        }
    }
    let last = match cutter.finish() {
        Some(b) => Some(b),
        None if nulls => Some(Batch::new(columns)),
        None => None,
    };
    if let Some(b) = last {
        let _ = tx.blocking_send(b);
    }
    Ok(rows)
}

/// Parses one line of `COPY … TO STDOUT` text into cells (bytea's `\x…`
/// hex becomes raw bytes).
pub fn parse_copy_line(
    line: &[u8],
    kinds: &[CanonKind],
    batch: &mut Batch,
    scratch: &mut Vec<u8>,
) -> std::result::Result<(), String> {
    let mut fields = line.split(|&b| b == b'\t');
    for kind in kinds {
        let field = fields.next().ok_or_else(|| {
            format!(
                "COPY row with too few fields: {}",
                String::from_utf8_lossy(line)
            )
        })?;
        if field == b"\\N" {
            batch.push_null();
            continue;
        }
        if *kind == CanonKind::Blob {
            scratch.clear();
            unescape(field, scratch);
            let hex = scratch
                .strip_prefix(b"\\x")
                .ok_or("bytea not in hex output (SET bytea_output = 'hex')")?;
            let bytes = hex::decode(hex).map_err(|e| format!("bytea hex: {e}"))?;
            batch.push(&bytes);
        } else {
            let start = batch.begin_cell();
            unescape(field, batch.buf());
            batch.end_cell(start);
        }
    }
    if fields.next().is_some() {
        return Err("COPY row with too many fields".into());
    }
    Ok(())
}

fn unescape(field: &[u8], out: &mut Vec<u8>) {
    if !field.contains(&b'\\') {
        out.extend_from_slice(field);
        return;
    }
    let mut i = 0;
    while i < field.len() {
        let b = field[i];
        if b != b'\\' || i + 1 == field.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let c = field[i + 1];
        i += 2;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                let mut k = 0;
                while k < 2 && i < field.len() && (b'0'..=b'7').contains(&field[i]) {
                    v = v * 8 + u32::from(field[i] - b'0');
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            b'x' => {
                let mut v = 0u32;
                let mut k = 0;
                while k < 2 && i < field.len() && field[i].is_ascii_hexdigit() {
                    v = v * 16 + (field[i] as char).to_digit(16).unwrap_or(0);
                    i += 1;
                    k += 1;
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_unescapes_and_bytea_decodes() {
        let mut b = Batch::new(4);
        let mut scratch = Vec::new();
        parse_copy_line(
            b"7\t\\N\ta\\tb\\\\c\\nd\t\\\\x00ff",
            &[
                CanonKind::Int,
                CanonKind::Text,
                CanonKind::Text,
                CanonKind::Blob,
            ],
            &mut b,
            &mut scratch,
        )
        .unwrap();
        assert_eq!(b.cell(0, 0), Some(&b"7"[..]));
        assert_eq!(b.cell(0, 1), None);
        assert_eq!(b.cell(0, 2), Some(&b"a\tb\\c\nd"[..]));
        assert_eq!(b.cell(0, 3), Some(&[0u8, 255][..]));
        assert!(parse_copy_line(
            b"1",
            &[CanonKind::Int, CanonKind::Int],
            &mut b,
            &mut scratch
        )
        .is_err());
    }

    #[test]
    fn batches_end_only_where_the_key_changes() {
        let key = [0usize];
        let mut c = Cutter {
            cut: Cut {
                rows: 2,
                bytes: usize::MAX,
                on_key_change: true,
            },
            key: &key,
            batch: Batch::new(1),
        };
        let mut out = Vec::new();
        for k in ["a", "b", "b", "b ", "c", "d"] {
            c.batch.push(k.as_bytes());
            if let Some(b) = c.row_done() {
                out.push(b.len());
            }
        }
        // "b", "b" and "b " stay together.
        assert_eq!(out, vec![4]);
        assert_eq!(c.finish().unwrap().len(), 2);
    }
}
