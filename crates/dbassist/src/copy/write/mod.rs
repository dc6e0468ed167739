//! Writers: each engine's fastest bulk path behind one [`Sink`], and the
//! one loop that commits batches with their resume markers and isolates
//! bad rows ([`write_table`]).
//!
//! A writer runs on a blocking thread; the PostgreSQL sink drives sqlx
//! through the runtime's handle, MariaDB's uses the `mysql` driver for
//! `LOAD DATA LOCAL INFILE`, SQLite's uses rusqlite.

pub mod lite;
pub mod my;
pub mod pg;

use super::batch::Batch;
use super::canon::{self, CanonKind};
use super::plan::TablePlan;
use super::rejects::RejectFile;
use super::state::{Marker, Mode};
use crate::error::DbError;
use std::collections::HashSet;
use tokio::sync::mpsc::Receiver;
use transit_core::{CancelToken, Event, Progress};

/// Why a sink operation failed.
#[derive(Debug)]
pub enum SinkError {
    /// The database refused the data (a bad value, a duplicate key): the
    /// transaction is still usable after rolling back to a savepoint.
    Data(String),
    /// The connection or the database failed; nothing more can be done.
    Fatal(String),
}

impl transit_core::Kind for SinkError {
    /// Either way the copy stops on it (a rejected row, or a lost
    /// connection), and `--resume` carries on.
    fn kind(&self) -> transit_core::ErrorKind {
        transit_core::ErrorKind::DbCopyStopped
    }
}

impl std::fmt::Display for SinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SinkError::Data(m) | SinkError::Fatal(m) => f.write_str(m),
        }
    }
}

/// Result of a sink operation.
pub type SinkResult<T> = std::result::Result<T, SinkError>;

/// One engine's bulk path into one table, inside transactions.
pub trait Sink: Send {
    /// Runs a statement without results.
    fn exec(&mut self, sql: &str) -> SinkResult<()>;
    /// Loads rows through the bulk path.
    fn load(&mut self, batch: &Batch) -> SinkResult<()>;
    /// Runs a statement without results and returns the rows it changed.
    fn exec_count(&mut self, sql: &str) -> SinkResult<u64>;
    /// Points the bulk path at another table with the same columns
    /// (`table` quoted, and qualified where needed): the staging table of
    /// a merge ([`super::stage`]), or back at the final table.
    fn load_into(&mut self, table: &str);
    /// Runs a query whose cells are text, returning its rows.
    fn query(&mut self, sql: &str) -> SinkResult<Vec<Vec<Option<Vec<u8>>>>>;
    /// The target's dialect.
    fn dialect(&self) -> &'static dyn crate::dialect::Dialect;
    /// The statement that opens a batch's transaction.
    fn begin(&self) -> &'static str {
        "BEGIN"
    }
    /// A note for the user, once (such as a slower fallback).
    fn take_note(&mut self) -> Option<String> {
        None
    }
}

/// What one table's write did.
#[derive(Debug, Clone, Default)]
pub struct Written {
    /// Batches committed.
    pub batches: u64,
}

/// Everything the write loop needs besides the sink and the rows.
pub struct WriteContext<'a> {
    /// The run.
    pub run: &'a str,
    /// The plan.
    pub plan: &'a TablePlan,
    /// Isolate bad rows (true) or stop at the first (false).
    pub reject: bool,
    /// Where rejects go.
    pub rejects: &'a RejectFile,
    /// Progress sink.
    pub progress: &'a dyn Progress,
    /// Cancellation.
    pub cancel: &'a CancelToken,
    /// Test hook: sleep this long after each commit.
    pub delay: Option<std::time::Duration>,
    /// Translate surrogate keys through `transit_migration.key_map`, for
    /// this source (see [`super::keys`]).
    pub translate: Option<&'a str>,
    /// Target columns filled as rows are written ([`super::derive`]); the
    /// sink was opened with [`super::derive::Deriver::write_plan`].
    pub derive: Option<&'a std::sync::Mutex<super::derive::Deriver>>,
    /// The staging statements of a migrate step, used when the table is
    /// merged (it held rows when its copy began).
    pub stage: Option<&'a super::stage::Staging>,
}

/// The key of row `r` as text cells (for markers and messages).
pub fn key_text(plan: &TablePlan, batch: &Batch, r: usize) -> Vec<String> {
    plan.key
        .iter()
        .map(|&k| String::from_utf8_lossy(batch.cell(r, k).unwrap_or_default()).into_owned())
        .collect()
}

/// The key of row `r` for messages (`NULL` shown as such).
pub fn key_shown(plan: &TablePlan, batch: &Batch, r: usize) -> String {
    plan.key
        .iter()
        .map(|&k| {
            let v = batch.cell(r, k).map_or_else(
                || "NULL".to_string(),
                |b| String::from_utf8_lossy(b).into_owned(),
            );
            format!("{}={v}", plan.columns[k].name)
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "CallId=ABC, SiteId=1".
pub fn key_display(plan: &TablePlan, key: &[String]) -> String {
    plan.key_names()
        .iter()
        .zip(key)
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The canonical bytes of row `r`'s key.
pub fn canon_key(plan: &TablePlan, batch: &Batch, r: usize) -> Vec<u8> {
    let mut out = Vec::new();
    canon_key_into(plan, batch, r, &mut out);
    out
}

/// Appends the canonical bytes of row `r`'s key to `out`.
pub fn canon_key_into(plan: &TablePlan, batch: &Batch, r: usize, out: &mut Vec<u8>) {
    for &k in &plan.key {
        canon::cell(plan.kinds[k], batch.cell(r, k), out);
    }
}

/// Commits every batch from `rx`, each with its marker, starting from
/// `marker`; the first batch is the NULL-key segment when `nulls_first`.
pub fn write_table(
    sink: &mut dyn Sink,
    rx: &mut Receiver<Batch>,
    marker: &mut Marker,
    mut nulls_first: bool,
    cx: &WriteContext<'_>,
) -> Result<Written, DbError> {
    let mut written = Written::default();
    let table = &cx.plan.table.name;
    let stopped = |cause: String, marker: &Marker| DbError::CopyStopped {
        table: table.clone(),
        run: cx.run.to_string(),
        cause,
        committed: marker.rows,
    };
    let d = sink.dialect();
    let mut scratch = Vec::new();
    let mut translator = cx
        .translate
        .and_then(|source| super::keys::Translator::new(cx.plan, source));
    // The commit frequency `transit db tune` set for this table, read
    // between batches ([`super::state::tuned_sql`]); a batch from the
    // reader is committed in pieces of at most that many rows (cut where
    // the key changes, as the reader cuts).
    let tuned_sql = super::state::tuned_sql(d, cx.run, table);
    let mut commit_every =
        read_tuned(sink, &tuned_sql).map_err(|e| stopped(e.to_string(), marker))?;
    // The staging table of a merged migrate step: created once, loaded by
    // every batch.
    let staged = cx.stage.filter(|_| marker.mode == Mode::Merge);
    if let Some(st) = staged {
        st.setup
            .iter()
            .try_for_each(|sql| sink.exec(sql))
            .map_err(|e| stopped(format!("preparing the staging table: {e}"), marker))?;
        sink.load_into(&st.table);
    }
    while let Some(incoming) = rx.blocking_recv() {
        let is_nulls = std::mem::take(&mut nulls_first);
        // A frequency tuned above the reader's batches: the writer joins
        // them (each ends where the key changes) up to that many rows.
        let incoming = if is_nulls || commit_every == usize::MAX {
            incoming
        } else {
            coalesce(incoming, rx, commit_every)
        };
        let mut pieces = std::collections::VecDeque::from(if is_nulls {
            vec![incoming]
        } else {
            split_at_keys(cx.plan, incoming, commit_every)
        });
        while let Some(batch) = pieces.pop_front() {
            if cx.cancel.is_cancelled() {
                return Err(DbError::Cancelled);
            }
            let mut next = marker.clone();
            // The source's rows as read, before any translation: the
            // checksum validation compares with the target's.
            if let Some(sum) = next.source_sum.as_mut() {
                for r in 0..batch.len() {
                    sum.add(&canon::row_digest(
                        &cx.plan.kinds,
                        batch.row(r),
                        &mut scratch,
                    ));
                }
            }
            if is_nulls {
                next.nulls_done = true;
            } else if !batch.is_empty() {
                next.last_key = Some(key_text(cx.plan, &batch, batch.len() - 1));
            }
            // A merged table of a migrate step goes through its staging
            // table ([`super::stage`]): the engine only gives new source
            // keys their target keys, and the step's SQL does the rest.
            let staging = staged.filter(|_| !batch.is_empty());
            let (mut batch, map_rows) = match staging {
                Some(_) => {
                    let map_rows = match translator.as_mut() {
                        Some(t) => t
                            .allocate(sink, cx.plan, &batch)
                            .map_err(|e| stopped(e.to_string(), marker))?,
                        None => Vec::new(),
                    };
                    (derived(cx, batch), map_rows)
                }
                None => {
                    let (batch, map_rows) =
                        direct(sink, cx, translator.as_mut(), batch, marker.mode, &mut next)
                            .map_err(|e| stopped(e.to_string(), marker))?;
                    (derived(cx, batch), map_rows)
                }
            };
            sink.exec(sink.begin())
                .map_err(|e| stopped(e.to_string(), marker))?;
            let result = map_rows
                .iter()
                .try_for_each(|sql| sink.exec(sql))
                .and_then(|()| match staging {
                    Some(st) => match merge_staged(sink, st, &batch) {
                        Ok(inserted) => Ok(Loaded::Merged(inserted)),
                        // A row the merge refuses: this batch takes the
                        // direct path, which finds it.
                        Err(SinkError::Data(_)) if cx.reject => {
                            sink.load_into(&d.ident(table));
                            let fallback = direct(
                                sink,
                                cx,
                                translator.as_mut(),
                                batch.clone(),
                                Mode::Merge,
                                &mut next,
                            )
                            .and_then(|(kept, rows)| {
                                rows.iter().try_for_each(|sql| sink.exec(sql))?;
                                batch = kept;
                                load_isolating(sink, &batch).map(Loaded::Direct)
                            });
                            sink.load_into(&st.table);
                            fallback
                        }
                        Err(e) => Err(e),
                    },
                    None if cx.reject => load_isolating(sink, &batch).map(Loaded::Direct),
                    None => sink.load(&batch).map(|()| Loaded::Direct(Vec::new())),
                });
            let bad = match result {
                Ok(Loaded::Merged(inserted)) => {
                    next.skipped += batch.len() as u64 - inserted.min(batch.len() as u64);
                    next.rows += inserted;
                    Vec::new()
                }
                Ok(Loaded::Direct(bad)) => {
                    next.rows += (batch.len() - bad.len()) as u64;
                    bad
                }
                Err(e) => {
                    let _ = sink.exec("ROLLBACK");
                    let first = if batch.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " (in the batch from {} to {})",
                            key_shown(cx.plan, &batch, 0),
                            key_shown(cx.plan, &batch, batch.len() - 1)
                        )
                    };
                    return Err(stopped(format!("{e}{first}"), marker));
                }
            };
            for (r, error) in &bad {
                let digest = canon::row_digest(&cx.plan.kinds, batch.row(*r), &mut scratch);
                next.rejected_sum.add(&digest);
                next.rejected += 1;
                cx.rejects
                    .write(cx.plan, &batch, *r, error)
                    .map_err(|e| stopped(e.to_string(), marker))?;
            }
            if !bad.is_empty() {
                cx.rejects
                    .flush()
                    .map_err(|e| stopped(e.to_string(), marker))?;
            }
            let update = super::state::update_sql(d, cx.run, table, &next);
            let commit = sink.exec(&update).and_then(|()| sink.exec("COMMIT"));
            if let Err(e) = commit {
                let _ = sink.exec("ROLLBACK");
                return Err(stopped(e.to_string(), marker));
            }
            *marker = next;
            written.batches += 1;
            if let Some(note) = sink.take_note() {
                cx.progress.event(Event::note(note));
            }
            cx.progress.event(Event::advance(
                table.clone(),
                marker.rows + marker.rejected + marker.skipped,
            ));
            if let Some(delay) = cx.delay {
                std::thread::sleep(delay);
            }
            let tuned = read_tuned(sink, &tuned_sql).map_err(|e| stopped(e.to_string(), marker))?;
            if tuned != commit_every {
                commit_every = tuned;
                cx.progress.event(Event::note(format!(
                    "{table}: commit every {} rows from the next batch",
                    tuned
                )));
                let rest: Vec<Batch> = pieces.drain(..).collect();
                for b in rest {
                    pieces.extend(split_at_keys(cx.plan, b, commit_every));
                }
            }
        }
    }
    if let Some(st) = staged {
        sink.load_into(&d.ident(table));
        st.done
            .iter()
            .try_for_each(|sql| sink.exec(sql))
            .map_err(|e| stopped(format!("dropping the staging table: {e}"), marker))?;
    }
    Ok(written)
}

/// How a batch was written.
enum Loaded {
    /// Straight into the table: the rows refused (with `--on-error reject`).
    Direct(Vec<(usize, String)>),
    /// Merged from the staging table: the rows inserted.
    Merged(u64),
}

/// The batch with the written columns filled ([`super::derive`]).
fn derived(cx: &WriteContext<'_>, batch: Batch) -> Batch {
    match cx.derive {
        Some(dv) if !batch.is_empty() => dv.lock().expect("deriver").extend(&batch),
        _ => batch,
    }
}

/// The direct path of a batch: source keys become target keys, a merged
/// table keeps only the rows whose key it does not hold (the NOT EXISTS
/// rule, counted in `next.skipped`), and the inserted keys are recorded
/// for `transit db cleanup`. Returns the rows and the statements to run
/// in the batch's transaction before them.
fn direct(
    sink: &mut dyn Sink,
    cx: &WriteContext<'_>,
    translator: Option<&mut super::keys::Translator>,
    batch: Batch,
    mode: Mode,
    next: &mut Marker,
) -> SinkResult<(Batch, Vec<String>)> {
    let (batch, mut statements) = match translator {
        Some(t) if !batch.is_empty() => {
            let done = t.apply(sink, cx.plan, &batch)?;
            (done.batch, done.inserts)
        }
        _ => (batch, Vec::new()),
    };
    if mode != Mode::Merge || batch.is_empty() {
        return Ok((batch, statements));
    }
    let existing = existing_keys(sink, cx.plan, &batch)?;
    let kept = batch.filter(|r| !existing.contains(&canon_key(cx.plan, &batch, r)));
    next.skipped += (batch.len() - kept.len()) as u64;
    if !kept.is_empty() {
        statements.extend(run_rows_sql(sink.dialect(), cx.run, cx.plan, &kept));
    }
    Ok((kept, statements))
}

/// Loads `batch` into the staging table and runs the step's batch
/// statements, inside a savepoint (a refused row leaves the transaction
/// usable); returns the rows inserted into the final table.
fn merge_staged(sink: &mut dyn Sink, st: &super::stage::Staging, batch: &Batch) -> SinkResult<u64> {
    sink.exec("SAVEPOINT transit_stage")?;
    let mut run = || -> SinkResult<u64> {
        sink.load(batch)?;
        let mut inserted = 0;
        for (i, sql) in st.batch.iter().enumerate() {
            let n = sink.exec_count(sql)?;
            if i == st.counted {
                inserted = n;
            }
        }
        Ok(inserted)
    };
    match run() {
        Ok(n) => {
            sink.exec("RELEASE SAVEPOINT transit_stage")?;
            Ok(n)
        }
        Err(SinkError::Data(m)) => {
            sink.exec("ROLLBACK TO SAVEPOINT transit_stage")?;
            sink.exec("RELEASE SAVEPOINT transit_stage")?;
            Err(SinkError::Data(m))
        }
        Err(fatal) => Err(fatal),
    }
}

/// The most bytes of rows the writer joins into one commit when a tuned
/// frequency is above the reader's batches (the reader's own cut).
const COALESCE_BYTES: usize = 64 << 20;

/// `batch` followed by the next batches of `rx` while it has fewer than
/// `rows` rows (and fewer than [`COALESCE_BYTES`]).
fn coalesce(mut batch: Batch, rx: &mut Receiver<Batch>, rows: usize) -> Batch {
    while batch.len() < rows && batch.bytes() < COALESCE_BYTES {
        match rx.blocking_recv() {
            Some(next) => batch.append(&next),
            None => break,
        }
    }
    batch
}

/// The tuned commit frequency (rows), or no limit.
fn read_tuned(sink: &mut dyn Sink, sql: &str) -> SinkResult<usize> {
    let rows = sink.query(sql)?;
    Ok(rows
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|v| String::from_utf8_lossy(&v).trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(usize::MAX))
}

/// `batch` in pieces of at most `rows` rows, each ending where the key
/// changes (a piece runs on past `rows` while the key repeats).
pub fn split_at_keys(plan: &TablePlan, batch: Batch, rows: usize) -> Vec<Batch> {
    if batch.len() <= rows || rows == 0 {
        return vec![batch];
    }
    let same = |a: usize, b: usize| {
        plan.key
            .iter()
            .all(|&k| batch.cell(a, k) == batch.cell(b, k))
    };
    let mut out = Vec::new();
    let mut start = 0;
    while start < batch.len() {
        let mut end = (start + rows).min(batch.len());
        while end < batch.len() && same(end - 1, end) {
            end += 1;
        }
        out.push(batch.slice(start..end));
        start = end;
    }
    out
}

/// `INSERT`s recording the keys of `batch` (rows a merge inserts) in
/// `transit_migration.run_rows`.
fn run_rows_sql(
    d: &dyn crate::dialect::Dialect,
    run: &str,
    plan: &TablePlan,
    batch: &Batch,
) -> Vec<String> {
    let lit = |t: &str| {
        let mut out = String::new();
        d.literal(&crate::dialect::Value::Text(t.to_string()), &mut out);
        out
    };
    let (run, tbl) = (lit(run), lit(&plan.table.name));
    let values: Vec<String> = (0..batch.len())
        .map(|r| {
            let key = serde_json::to_string(&key_text(plan, batch, r)).unwrap_or_default();
            format!("({run}, {tbl}, {})", lit(&key))
        })
        .collect();
    values
        .chunks(500)
        .map(|c| {
            format!(
                "INSERT INTO {} (run, tbl, row_key) VALUES {}",
                super::state::table_name(d, "run_rows"),
                c.join(", ")
            )
        })
        .collect()
}

/// Loads `batch` inside savepoints, splitting any piece the database
/// refuses until the refused rows stand alone; returns them with the
/// database's error.
fn load_isolating(sink: &mut dyn Sink, batch: &Batch) -> SinkResult<Vec<(usize, String)>> {
    let mut bad = Vec::new();
    let mut stack: Vec<std::ops::Range<usize>> = Vec::new();
    stack.push(0..batch.len());
    while let Some(range) = stack.pop() {
        if range.is_empty() {
            continue;
        }
        let piece = if range.len() == batch.len() {
            None
        } else {
            Some(batch.slice(range.clone()))
        };
        sink.exec("SAVEPOINT transit_piece")?;
        match sink.load(piece.as_ref().unwrap_or(batch)) {
            Ok(()) => sink.exec("RELEASE SAVEPOINT transit_piece")?,
            Err(SinkError::Data(message)) => {
                sink.exec("ROLLBACK TO SAVEPOINT transit_piece")?;
                sink.exec("RELEASE SAVEPOINT transit_piece")?;
                if range.len() == 1 {
                    bad.push((range.start, message));
                } else {
                    let mid = range.start + range.len() / 2;
                    stack.push(mid..range.end);
                    stack.push(range.start..mid);
                }
            }
            Err(fatal) => return Err(fatal),
        }
    }
    bad.sort_by_key(|(r, _)| *r);
    Ok(bad)
}

/// The canonical keys of `batch` that the target already holds.
fn existing_keys(
    sink: &mut dyn Sink,
    plan: &TablePlan,
    batch: &Batch,
) -> SinkResult<HashSet<Vec<u8>>> {
    let d = sink.dialect();
    let names = plan.key_names();
    let select: Vec<String> = names.iter().map(|n| d.cast_text(&d.ident(n))).collect();
    let mut found = HashSet::new();
    for start in (0..batch.len()).step_by(500) {
        let end = (start + 500).min(batch.len());
        let tuples: Vec<String> = (start..end)
            .map(|r| {
                let lits: Vec<String> = plan
                    .key
                    .iter()
                    .map(|&k| {
                        let text = String::from_utf8_lossy(batch.cell(r, k).unwrap_or_default())
                            .into_owned();
                        plan.key_literal(d, k, &text)
                    })
                    .collect();
                if lits.len() == 1 {
                    lits[0].clone()
                } else {
                    format!("({})", lits.join(", "))
                }
            })
            .collect();
        let left = if names.len() == 1 {
            d.ident(names[0])
        } else {
            format!("({})", d.ident_list(&names))
        };
        let list = if names.len() > 1 && d.engine() == crate::engine::Engine::Sqlite {
            format!("VALUES {}", tuples.join(", "))
        } else {
            tuples.join(", ")
        };
        let sql = format!(
            "SELECT {} FROM {} WHERE {left} IN ({list})",
            select.join(", "),
            d.ident(&plan.table.name)
        );
        for row in sink.query(&sql)? {
            let mut key = Vec::new();
            for (i, &k) in plan.key.iter().enumerate() {
                let kind: CanonKind = plan.kinds[k];
                canon::cell(kind, row.get(i).and_then(|v| v.as_deref()), &mut key);
            }
            found.insert(key);
        }
    }
    Ok(found)
}

/// Appends `bytes` escaped for a tab-separated bulk format (PostgreSQL COPY
/// text, MariaDB LOAD DATA with `ESCAPED BY '\\'`).
pub fn escape_tsv(bytes: &[u8], out: &mut Vec<u8>, nul_escape: bool) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0 if nul_escape => b"\\0",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The rows written per key-ordered batch, for messages and docs.
pub const DEFAULT_BATCH_ROWS: usize = 20_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Schema, Version};

    /// Tuned pieces never split rows of one key (a resume reads the keys
    /// after the last committed one), and hold at most N rows otherwise.
    #[test]
    fn tuned_pieces_end_where_the_key_changes() {
        let t = Schema::reference().table("CallDetail").unwrap();
        let plan = TablePlan::new(t, Version::V30, Version::R2015, None);
        let k = plan.key[0];
        let mut batch = Batch::new(plan.columns.len());
        for key in ["a", "b", "b", "b", "c", "d", "e"] {
            for c in 0..plan.columns.len() {
                if c == k {
                    batch.push(key.as_bytes());
                } else {
                    batch.push_null();
                }
            }
        }
        let pieces = split_at_keys(&plan, batch.clone(), 2);
        let sizes: Vec<usize> = pieces.iter().map(Batch::len).collect();
        assert_eq!(sizes, vec![4, 2, 1], "the b rows stay together");
        assert_eq!(split_at_keys(&plan, batch.clone(), usize::MAX).len(), 1);
        assert_eq!(
            split_at_keys(&plan, batch, 1)
                .iter()
                .map(Batch::len)
                .collect::<Vec<_>>(),
            vec![1, 3, 1, 1, 1]
        );
    }
}
