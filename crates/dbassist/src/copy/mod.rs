//! `transit db copy` and `transit db validate`: rows between any two
//! engines, fast, resumably and verifiably (docs/dbassist.md, "Copy").
//!
//! Per table, a reader thread ([`read`]) and a writer ([`write`]) are
//! joined by a bounded channel of [`batch::Batch`]es, so memory stays flat
//! whatever the table's size. Batches follow the key; each one commits
//! with its resume marker ([`state`]) in one transaction on the target.
//! Tables run `--jobs` at a time, parents before children. After each
//! table, [`validate`] compares both sides.
//!
//! Each thread owns a small current-thread runtime ([`Local`]) for the
//! sqlx connections it opens, so the API is synchronous and threads can
//! borrow the caller's progress sink and cancel token.

pub mod batch;
pub mod canon;
pub mod derive;
pub mod keys;
pub mod plan;
pub mod read;
pub mod rejects;
pub mod stage;
pub mod state;
pub mod validate;
pub mod write;

use crate::db::Db;
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::schema::{Schema, Table, Version};
use crate::target::DbTarget;
use batch::Batch;
use canon::Checksum;
use plan::{Segment, TablePlan};
use read::Cut;
use rejects::RejectFile;
use serde::{Deserialize, Serialize};
use state::{Marker, Mode};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::Instant;
use transit_core::{CancelToken, Event, Progress, Unit};
pub use validate::TableValidation;
use write::Sink;

/// What to do with a row the target refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Stop the copy (committed batches stay; `--resume` goes on).
    Stop,
    /// Split the failing batch until the bad rows stand alone, write them
    /// to the reject file, load the rest.
    Reject,
}

/// The options of a copy, as recorded for `--resume` (no passwords).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CopyOptions {
    /// Tables (vendor names), in any order.
    pub tables: Vec<String>,
    /// `--where` conditions: `COND` for every table or `Table:COND`.
    pub filters: Vec<String>,
    /// Rows per batch (a batch runs on until the key changes).
    pub batch_rows: usize,
    /// Bad rows.
    pub on_error: OnError,
    /// Validate each table after copying it.
    pub validate: bool,
    /// Translate surrogate keys through `transit_migration.key_map` for
    /// this source identity ([`keys`]); `None` copies keys as they are.
    #[serde(default)]
    pub translate_keys: Option<String>,
    /// Target columns the writer fills ([`derive`]): UTC columns,
    /// `odsoffset`, constants.
    #[serde(default)]
    pub derive: Option<derive::DeriveSpec>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            tables: Vec::new(),
            filters: Vec::new(),
            batch_rows: write::DEFAULT_BATCH_ROWS,
            on_error: OnError::Stop,
            validate: true,
            translate_keys: None,
            derive: None,
        }
    }
}

/// How a copy runs (not recorded).
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Tables in parallel.
    pub jobs: usize,
    /// The folder that holds run folders.
    pub runs_dir: PathBuf,
    /// Continue this run instead of starting one.
    pub resume: Option<String>,
    /// Test hook: a pause after each committed batch.
    pub batch_delay: Option<std::time::Duration>,
    /// Copy only these tables of the run (a migrate run's table step).
    pub only: Option<Vec<String>>,
    /// Per table, the staging statements of its migrate step
    /// ([`stage`]), used when the table is merged.
    pub staging: std::collections::HashMap<String, stage::Staging>,
}

/// One table's copy.
#[derive(Debug, Clone, Serialize)]
pub struct TableReport {
    /// The table.
    pub table: String,
    /// How it was loaded.
    pub mode: Mode,
    /// Rows written, in all runs of this copy.
    pub rows: u64,
    /// Rows skipped because their key was already there (merge mode).
    pub skipped: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Seconds spent in this invocation.
    pub seconds: f64,
    /// The validation, unless switched off.
    pub validation: Option<TableValidation>,
}

/// What a copy did.
#[derive(Debug, Clone, Serialize)]
pub struct CopyReport {
    /// The run's name (for `--resume`).
    pub run: String,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The reject file, when rows were rejected.
    pub rejects_file: Option<PathBuf>,
    /// Per table, in copy order.
    pub tables: Vec<TableReport>,
    /// Seconds in all.
    pub seconds: f64,
}

/// A thread's own small runtime for its sqlx connections.
pub struct Local {
    rt: tokio::runtime::Runtime,
}

impl Local {
    /// A current-thread runtime.
    pub fn new() -> Result<Local> {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map(|rt| Local { rt })
            .map_err(|e| DbError::Refused(format!("cannot start a runtime: {e}")))
    }

    /// Runs a future to completion.
    pub fn run<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// Connects to `target`, with the copy's session settings.
    pub fn connect(&self, target: &DbTarget) -> Result<Db> {
        self.run(async {
            let mut db = Db::connect(target).await?;
            match db.engine() {
                Engine::Postgres => {
                    db.exec(write::pg::SESSION).await?;
                }
                Engine::MySql => {
                    db.exec(write::my::SQL_MODE).await?;
                }
                Engine::Sqlite => {}
            }
            Ok(db)
        })
    }
}

/// The schema version of a database, which must be a CIC schema.
fn version_of(local: &Local, db: &mut Db) -> Result<Version> {
    let status = local.run(crate::version::read(db))?;
    status.current.ok_or_else(|| DbError::WrongVersion {
        target: db.target().to_string(),
        found: status.label(),
        wanted: "the copy needs a CIC schema on both sides (`transit db upgrade`)".into(),
    })
}

/// Resolves table names into schema tables in schema order (parents
/// before children).
pub fn resolve_tables(names: &[String], from: Version, to: Version) -> Result<Vec<&'static Table>> {
    let schema = Schema::reference();
    let mut wanted = HashSet::new();
    for name in names
        .iter()
        .flat_map(|n| n.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let table = schema.table(name).ok_or_else(|| {
            DbError::Usage(format!(
                "--tables: no table `{name}` in the reference schema"
            ))
        })?;
        if table.since > from.min(to) {
            return Err(DbError::Usage(format!(
                "--tables: {} exists only from {} on",
                table.name, table.since
            )));
        }
        wanted.insert(table.name.as_str());
    }
    if wanted.is_empty() {
        return Err(DbError::Usage("--tables: name at least one table".into()));
    }
    Ok(schema
        .tables
        .iter()
        .filter(|t| wanted.contains(t.name.as_str()))
        .collect())
}

/// The `--where` condition of `table`.
pub fn filter_for(filters: &[String], table: &Table) -> Option<String> {
    let mut out: Vec<&str> = Vec::new();
    for f in filters {
        match f.split_once(':') {
            Some((name, cond)) if Schema::reference().table(name.trim()).is_some() => {
                if name.trim().eq_ignore_ascii_case(&table.name) {
                    out.push(cond);
                }
            }
            _ => out.push(f),
        }
    }
    (!out.is_empty()).then(|| {
        out.iter()
            .map(|c| format!("({c})"))
            .collect::<Vec<_>>()
            .join(" AND ")
    })
}

/// A new run's name, `copy-YYYYMMDDThhmmssZ[-N]`, not yet in `runs_dir`.
fn new_run_name(runs_dir: &Path, mut n: u32) -> String {
    let base = format!(
        "copy-{}",
        transit_core::time::compact(transit_core::time::now())
    );
    let mut name = if n > 1 {
        format!("{base}-{n}")
    } else {
        base.clone()
    };
    while runs_dir.join(&name).exists() {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

/// Everything shared by the table jobs of one run.
struct RunContext<'a> {
    source: &'a DbTarget,
    target: &'a DbTarget,
    run: String,
    options: CopyOptions,
    to: Version,
    batch_delay: Option<std::time::Duration>,
    staging: &'a std::collections::HashMap<String, stage::Staging>,
    rejects: RejectFile,
    progress: &'a dyn Progress,
    cancel: &'a CancelToken,
}

/// Copies tables from `source` to `target`.
pub fn copy(
    source: &DbTarget,
    target: &DbTarget,
    options: &CopyOptions,
    run_options: &RunOptions,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<CopyReport> {
    let started = Instant::now();
    let local = Local::new()?;
    let mut src = local.connect(source)?;
    let mut tgt = local.connect(target)?;
    let from = version_of(&local, &mut src)?;
    let to = version_of(&local, &mut tgt)?;
    local.run(state::ensure(&mut tgt))?;
    let (run, options) = match &run_options.resume {
        Some(run) => {
            let stored = local
                .run(state::run_options(&mut tgt, run))?
                .ok_or_else(|| {
                    DbError::Refused(format!("{target}: no copy run `{run}` to resume"))
                })?;
            let options: CopyOptions = serde_json::from_str(&stored)
                .map_err(|e| DbError::Refused(format!("run `{run}`: unreadable options: {e}")))?;
            (run.clone(), options)
        }
        None => {
            resolve_tables(&options.tables, from, to)?;
            let mut run = new_run_name(&run_options.runs_dir, 1);
            let mut n = 1;
            while local.run(state::run_options(&mut tgt, &run))?.is_some() {
                n += 1;
                run = new_run_name(&run_options.runs_dir, n);
            }
            let stored = serde_json::to_string(options).unwrap_or_default();
            let now = transit_core::time::rfc3339(transit_core::time::now());
            local.run(state::create_run(&mut tgt, &run, &stored, &now))?;
            (run, options.clone())
        }
    };
    let mut tables = resolve_tables(&options.tables, from, to)?;
    if let Some(only) = &run_options.only {
        tables.retain(|t| only.iter().any(|o| o.eq_ignore_ascii_case(&t.name)));
    }
    let runs_dir = std::path::absolute(&run_options.runs_dir)
        .map_err(|e| DbError::Io(transit_core::PathIoError::new(&run_options.runs_dir, e)))?;
    let run_dir = runs_dir.join(&run);
    std::fs::create_dir_all(&run_dir)
        .map_err(|e| DbError::Io(transit_core::PathIoError::new(&run_dir, e)))?;
    let run_json = serde_json::json!({
        "run": run,
        "source": source.to_string(),
        "target": target.to_string(),
        "options": options,
    });
    let run_file = run_dir.join("run.json");
    std::fs::write(
        &run_file,
        serde_json::to_vec_pretty(&run_json).unwrap_or_default(),
    )
    .map_err(|e| DbError::Io(transit_core::PathIoError::new(&run_file, e)))?;
    let markers = local.run(state::markers(&mut tgt, &run))?;
    local.run(src.close())?;
    local.run(tgt.close())?;
    drop(local);

    let plans: Vec<TablePlan> = tables
        .iter()
        .map(|t| TablePlan::new(t, from, to, filter_for(&options.filters, t)))
        .collect();
    let cx = RunContext {
        source,
        target,
        run: run.clone(),
        options: options.clone(),
        to,
        batch_delay: run_options.batch_delay,
        staging: &run_options.staging,
        rejects: RejectFile::new(&run_dir),
        progress,
        cancel,
    };
    let reports = schedule(&plans, run_options.jobs.max(1), |plan| {
        copy_table(&cx, plan, markers.get(&plan.table.name).cloned())
    })?;
    let rejects_file = cx
        .rejects
        .path()
        .exists()
        .then(|| cx.rejects.path().to_path_buf());
    let report = CopyReport {
        run,
        run_dir,
        rejects_file,
        tables: reports,
        seconds: started.elapsed().as_secs_f64(),
    };
    if let Some(bad) = report
        .tables
        .iter()
        .filter_map(|t| t.validation.as_ref())
        .find(|v| !v.equal)
    {
        return Err(DbError::Validation {
            table: bad.table.clone(),
            detail: validation_detail(bad),
        });
    }
    Ok(report)
}

/// "1000 source rows, 999 target rows; first differing key …".
pub fn validation_detail(v: &TableValidation) -> String {
    let mut text = format!(
        "source {} rows ({}), target {} rows ({})",
        v.source_rows,
        &v.source_checksum[..16],
        v.target_rows,
        &v.target_checksum[..16]
    );
    if let Some(key) = &v.first_difference {
        text.push_str(&format!("; first differing key {key}"));
    }
    text
}

/// For each table, the tables of the selection it must wait for: the
/// parents of its foreign keys and of its `ref=` columns (references the
/// schema knows without a foreign key, which key translation follows
/// too, so a parent's key map must be complete before its children are
/// copied). Should the `ref=` links ever form a cycle, only the foreign
/// keys count, so the schedule can never wait forever.
fn dependencies(tables: &[&Table]) -> Vec<Vec<usize>> {
    let position = |name: &str| {
        tables
            .iter()
            .position(|t| t.name.eq_ignore_ascii_case(name))
    };
    let edges = |with_refs: bool| -> Vec<Vec<usize>> {
        tables
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let fks = t.foreign_keys.iter().map(|fk| fk.parent.as_str());
                let refs = t
                    .columns
                    .iter()
                    .filter(|_| with_refs)
                    .filter_map(|c| c.role.as_deref()?.strip_prefix("ref="))
                    .filter_map(|r| r.split('.').next());
                let mut out: Vec<usize> = Vec::new();
                for p in fks.chain(refs).filter_map(position) {
                    if p != i && !out.contains(&p) {
                        out.push(p);
                    }
                }
                out
            })
            .collect()
    };
    let with_refs = edges(true);
    if acyclic(&with_refs) {
        with_refs
    } else {
        edges(false)
    }
}

/// True when the dependency lists can all be met in some order.
fn acyclic(parents: &[Vec<usize>]) -> bool {
    let mut done = vec![false; parents.len()];
    loop {
        let next = (0..parents.len()).find(|&i| !done[i] && parents[i].iter().all(|&p| done[p]));
        match next {
            Some(i) => done[i] = true,
            None => return done.iter().all(|&d| d),
        }
    }
}

/// Runs `job` on every plan, `jobs` at a time, each only after the tables
/// it references (within the selection, see [`dependencies`]) are done; returns the results in
/// plan order, or the first error (running jobs finish first).
fn schedule<T: Send>(
    plans: &[TablePlan],
    jobs: usize,
    job: impl Fn(&TablePlan) -> Result<T> + Sync,
) -> Result<Vec<T>> {
    struct Queue<T> {
        started: Vec<bool>,
        done: Vec<bool>,
        results: Vec<Option<T>>,
        error: Option<DbError>,
    }
    let tables: Vec<&Table> = plans.iter().map(|p| p.table).collect();
    let parents = dependencies(&tables);
    let queue = Mutex::new(Queue {
        started: vec![false; plans.len()],
        done: vec![false; plans.len()],
        results: (0..plans.len()).map(|_| None).collect(),
        error: None,
    });
    let ready = Condvar::new();
    std::thread::scope(|s| {
        for _ in 0..jobs.min(plans.len()) {
            s.spawn(|| loop {
                let next = {
                    let mut q = queue.lock().expect("queue");
                    loop {
                        if q.error.is_some() || q.started.iter().all(|&x| x) {
                            break None;
                        }
                        let pick = (0..plans.len())
                            .find(|&i| !q.started[i] && parents[i].iter().all(|&p| q.done[p]));
                        if let Some(i) = pick {
                            q.started[i] = true;
                            break Some(i);
                        }
                        q = ready.wait(q).expect("queue");
                    }
                };
                let Some(i) = next else {
                    ready.notify_all();
                    return;
                };
                let result = job(&plans[i]);
                let mut q = queue.lock().expect("queue");
                match result {
                    Ok(r) => {
                        q.results[i] = Some(r);
                        q.done[i] = true;
                    }
                    Err(e) => {
                        if q.error.is_none() {
                            q.error = Some(e);
                        }
                    }
                }
                ready.notify_all();
            });
        }
    });
    let q = queue.into_inner().expect("queue");
    if let Some(e) = q.error {
        return Err(e);
    }
    Ok(q.results.into_iter().flatten().collect())
}

fn open_sink(
    local: &Local,
    target: &DbTarget,
    plan: &TablePlan,
) -> std::result::Result<Box<dyn Sink>, write::SinkError> {
    Ok(match target.engine() {
        Engine::Postgres => {
            // The sink's connection lives on the sink's own runtime.
            let _ = local;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| write::SinkError::Fatal(e.to_string()))?;
            let db = rt
                .block_on(Db::connect(target))
                .map_err(|e| write::SinkError::Fatal(e.to_string()))?;
            let crate::db::Conn::Pg(conn) = db.into_conn() else {
                unreachable!("PostgreSQL connection")
            };
            Box::new(write::pg::PgSink::new(conn, rt, plan)?)
        }
        Engine::MySql => Box::new(write::my::MySink::open(target, plan)?),
        Engine::Sqlite => Box::new(write::lite::LiteSink::open(
            target.sqlite_path().unwrap_or(Path::new("")),
            plan,
        )?),
    })
}

fn copy_table(
    cx: &RunContext<'_>,
    plan: &TablePlan,
    marker: Option<Marker>,
) -> Result<TableReport> {
    let started = Instant::now();
    let table = plan.table.name.clone();
    let stopped = |cause: String, rows: u64| DbError::CopyStopped {
        table: table.clone(),
        run: cx.run.clone(),
        cause,
        committed: rows,
    };
    let local = Local::new()?;
    let mut tgt = local.connect(cx.target)?;
    let mut src = local.connect(cx.source)?;
    let d = tgt.dialect();
    let total = local.run(src.count(&plan.count(src.dialect())))? as u64;
    cx.progress
        .event(Event::begin(&table, Unit::Rows, Some(total)));
    let mut marker = match marker {
        Some(m) => m,
        None => {
            let empty = local.run(tgt.row_count(&table))? == 0;
            let m = Marker::new(if empty { Mode::Bulk } else { Mode::Merge });
            local.run(tgt.exec(&state::insert_sql(d, &cx.run, &table, &m)))?;
            m
        }
    };
    if !marker.done {
        if marker.mode == Mode::Bulk {
            for sql in d.drop_indexes(plan.table) {
                local.run(tgt.exec(&sql))?;
            }
        }
        cx.progress.event(Event::advance(
            &table,
            marker.rows + marker.rejected + marker.skipped,
        ));
        let deriver = match &cx.options.derive {
            Some(spec) => derive::Deriver::new(plan, cx.to, spec)?,
            None => None,
        };
        let write_plan = deriver.as_ref().map(|dv| dv.write_plan(plan));
        let mut sink = open_sink(&local, cx.target, write_plan.as_ref().unwrap_or(plan))
            .map_err(|e| stopped(e.to_string(), marker.rows))?;
        let deriver = deriver.map(std::sync::Mutex::new);
        let (tx, rx) = tokio::sync::mpsc::channel::<Batch>(4);
        let cut = Cut {
            rows: cx.options.batch_rows.max(1),
            bytes: 64 << 20,
            on_key_change: true,
        };
        let nulls_first = plan.nullable_key && !marker.nulls_done;
        let after = marker.last_key.clone();
        let wcx = write::WriteContext {
            run: &cx.run,
            plan,
            reject: cx.options.on_error == OnError::Reject,
            rejects: &cx.rejects,
            progress: cx.progress,
            cancel: cx.cancel,
            delay: cx.batch_delay,
            translate: cx.options.translate_keys.as_deref(),
            derive: deriver.as_ref(),
            stage: cx.staging.get(&table),
        };
        let (read_result, write_result) = std::thread::scope(|s| {
            // The writer owns the receiver: when it stops, the reader's
            // next send fails instead of waiting forever.
            let writer = s.spawn(|| {
                let mut rx = rx;
                write::write_table(&mut *sink, &mut rx, &mut marker, nulls_first, &wcx)
            });
            let read_result = local.run(async {
                let mut n = 0;
                if nulls_first {
                    n +=
                        read::read(&mut src, plan, &Segment::NullKeys, cut, &tx, cx.cancel).await?;
                }
                n += read::read(&mut src, plan, &Segment::Keys(after), cut, &tx, cx.cancel).await?;
                Ok::<u64, DbError>(n)
            });
            drop(tx);
            (read_result, writer.join())
        });
        drop(sink);
        write_result.map_err(|_| DbError::Refused(format!("the writer of {table} panicked")))??;
        read_result.map_err(|e| match e {
            DbError::Cancelled => DbError::Cancelled,
            other => stopped(other.to_string(), marker.rows),
        })?;
        if cx.cancel.is_cancelled() {
            return Err(DbError::Cancelled);
        }
        if marker.mode == Mode::Bulk {
            cx.progress.event(Event::status(&table, "building indexes"));
            for sql in d
                .drop_indexes(plan.table)
                .into_iter()
                .chain(d.create_indexes(plan.table))
            {
                local.run(tgt.exec(&sql))?;
            }
        }
        marker.done = true;
        local.run(tgt.exec(&state::update_sql(d, &cx.run, &table, &marker)))?;
    }
    let validation = if cx.options.validate {
        cx.progress.event(Event::status(&table, "validating"));
        Some(validate::validate_table(
            cx.source,
            cx.target,
            plan,
            &marker.rejected_sum,
            marker.source_sum.as_ref(),
            cx.cancel,
        )?)
    } else {
        None
    };
    cx.progress.event(Event::end(&table));
    let _ = local.run(src.close());
    let _ = local.run(tgt.close());
    Ok(TableReport {
        table,
        mode: marker.mode,
        rows: marker.rows,
        skipped: marker.skipped,
        rejected: marker.rejected,
        seconds: started.elapsed().as_secs_f64(),
        validation,
    })
}

/// What `transit db validate` compares.
#[derive(Debug, Clone, Copy)]
pub struct ValidateSelection<'a> {
    /// The tables (vendor names).
    pub tables: &'a [String],
    /// `--where` conditions: `COND` for every table or `Table:COND`.
    pub filters: &'a [String],
    /// The copy run whose rejected rows are taken out of the source's side.
    pub run: Option<&'a str>,
    /// Tables compared at the same time (each reads both sides at once).
    pub jobs: usize,
}

/// `transit db validate`: every table of the selection, with its filters;
/// the results come in the order of its tables.
pub fn validate(
    source: &DbTarget,
    target: &DbTarget,
    selection: ValidateSelection<'_>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<Vec<TableValidation>> {
    let ValidateSelection {
        tables,
        filters,
        run,
        jobs,
    } = selection;
    let local = Local::new()?;
    let mut src = local.connect(source)?;
    let mut tgt = local.connect(target)?;
    let from = version_of(&local, &mut src)?;
    let to = version_of(&local, &mut tgt)?;
    let markers = match run {
        Some(run) => local.run(state::markers(&mut tgt, run))?,
        None => Default::default(),
    };
    let _ = local.run(src.close());
    let _ = local.run(tgt.close());
    let tables = resolve_tables(tables, from, to)?;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<Mutex<Option<Result<TableValidation>>>> =
        tables.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, tables.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(table) = tables.get(i) else {
                    return;
                };
                let result = if cancel.is_cancelled() {
                    Err(DbError::Cancelled)
                } else {
                    let plan = TablePlan::new(table, from, to, filter_for(filters, table));
                    progress.event(Event::step(format!("validating {}", table.name)));
                    let rejected = markers
                        .get(&table.name)
                        .map(|m| m.rejected_sum)
                        .unwrap_or_else(Checksum::default);
                    // Asked to compare both sides as they are now: the
                    // source is read again.
                    validate::validate_table(source, target, &plan, &rejected, None, cancel)
                };
                let failed = result.is_err();
                *results[i].lock().expect("result") = Some(result);
                if failed {
                    // The first error ends the validation: no new table.
                    next.store(tables.len(), std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
    });
    let mut out = Vec::new();
    for slot in results {
        match slot.into_inner().expect("result") {
            Some(result) => out.push(result?),
            None => break,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child whose reference to a translated parent has no foreign key
    /// (`INTX_PARTICIPANT.IndivID`, a `ref=` column) still waits for that
    /// parent, so the parent's key map is complete when the child's
    /// references are translated.
    #[test]
    fn children_wait_for_the_parents_of_their_ref_columns_too() {
        let s = Schema::reference();
        let names = ["INTX_PARTICIPANT", "INTXSEGMENT", "INDIVIDUAL", "INTXTYPE"];
        let tables: Vec<&Table> = names.iter().map(|n| s.table(n).unwrap()).collect();
        let deps = dependencies(&tables);
        assert!(
            deps[0].contains(&2),
            "INTX_PARTICIPANT waits for INDIVIDUAL"
        );
        assert!(deps[1].contains(&3), "INTXSEGMENT waits for INTXTYPE");
        assert!(acyclic(&deps));
        let everything: Vec<&Table> = s.tables.iter().collect();
        assert!(acyclic(&dependencies(&everything)));
    }

    #[test]
    fn a_cycle_is_found() {
        assert!(!acyclic(&[vec![1], vec![0]]));
        assert!(acyclic(&[vec![1], vec![]]));
    }
}
