//! The reject file: `rejects.jsonl` in the run folder, one JSON line per
//! row the target database refused, with the database's error:
//!
//! ```json
//! {"table":"CallDetail","key":{"CallId":"HOSTILE-05"},"error":"…","row":{"CallId":"HOSTILE-05","RemoteName":"Ann\u0000Lee",…}}
//! ```
//!
//! Text is shown as UTF-8 (invalid bytes replaced); blobs as `\x` and hex.
//! A line is written and flushed before its batch commits, so a kill can
//! repeat a line on `--resume`, never lose one.

use super::batch::Batch;
use super::canon::CanonKind;
use super::plan::TablePlan;
use serde_json::{Map, Value};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use transit_core::{IoContext, PathIoError};

/// The reject file of one run, shared by the tables being copied.
pub struct RejectFile {
    path: PathBuf,
    out: Mutex<Option<BufWriter<File>>>,
}

impl RejectFile {
    /// The reject file in `run_dir` (created on the first reject).
    pub fn new(run_dir: &Path) -> RejectFile {
        RejectFile {
            path: run_dir.join("rejects.jsonl"),
            out: Mutex::new(None),
        }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends row `r` of `batch` with `error`.
    pub fn write(
        &self,
        plan: &TablePlan,
        batch: &Batch,
        r: usize,
        error: &str,
    ) -> Result<(), PathIoError> {
        let mut row = Map::new();
        for (i, c) in plan.columns.iter().enumerate() {
            row.insert(c.name.clone(), cell_json(plan.kinds[i], batch.cell(r, i)));
        }
        let mut key = Map::new();
        for &k in &plan.key {
            key.insert(
                plan.columns[k].name.clone(),
                cell_json(plan.kinds[k], batch.cell(r, k)),
            );
        }
        let mut line = Map::new();
        line.insert("table".into(), Value::String(plan.table.name.clone()));
        line.insert("key".into(), Value::Object(key));
        line.insert("error".into(), Value::String(error.to_string()));
        line.insert("row".into(), Value::Object(row));
        let text = Value::Object(line).to_string();
        let mut guard = self.out.lock().expect("reject file lock");
        if guard.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .at(&self.path)?;
            *guard = Some(BufWriter::new(file));
        }
        let out = guard.as_mut().expect("opened");
        writeln!(out, "{text}").at(&self.path)
    }

    /// Flushes written lines to disk.
    pub fn flush(&self) -> Result<(), PathIoError> {
        let mut guard = self.out.lock().expect("reject file lock");
        if let Some(out) = guard.as_mut() {
            out.flush().at(&self.path)?;
            out.get_ref().sync_data().at(&self.path)?;
        }
        Ok(())
    }
}

fn cell_json(kind: CanonKind, cell: Option<&[u8]>) -> Value {
    match cell {
        None => Value::Null,
        Some(b) if kind == CanonKind::Blob => Value::String(format!("\\x{}", hex::encode(b))),
        Some(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
    }
}
