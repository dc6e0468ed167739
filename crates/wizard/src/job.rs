//! The export or import running on a background thread, reporting through a
//! channel and stopped with a [`CancelToken`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::Duration;
use transit_core::{CancelToken, Event};
use transit_migrator::import::{ImportPlan, ImportReport};
use transit_migrator::{ExportOutcome, ExportPlan, MigratorError};
use transit_server::ServerRoot;

/// The name of the job thread (as seen in logs and debuggers).
pub const THREAD_NAME: &str = "wizard-job";

/// What to run.
#[derive(Debug, Clone)]
pub enum Request {
    /// `transit_migrator::export` with this plan.
    Export(ExportPlan),
    /// `transit_migrator::import::import` with this plan; the reports are
    /// then written like `transit import` does.
    Import(ImportPlan),
}

/// A completed import and where its report went.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The engine's report.
    pub report: ImportReport,
    /// `import-report.txt` in the extraction folder.
    pub report_file: PathBuf,
    /// Why a report file could not be written, if one could not (the
    /// import itself succeeded).
    pub write_error: Option<String>,
}

/// What a finished job produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The export wrote a migration file.
    Exported(ExportOutcome),
    /// The import completed.
    Imported(Box<Imported>),
}

/// Why a job produced nothing.
#[derive(Debug)]
pub enum Failure {
    /// Stopped by the user; the engine undid or wrote nothing.
    Cancelled,
    /// The engine refused or failed.
    Engine(MigratorError),
    /// The engine panicked (a bug), with the panic message.
    Panicked(String),
}

/// One message from the job thread.
#[derive(Debug)]
pub enum Message {
    /// Progress of the export or import.
    Progress(Event),
    /// The job ended; no message follows.
    Done(Result<Outcome, Failure>),
}

/// A running (or finished) job. Dropping it stops the engine and waits for
/// it, so an import is never abandoned half-way.
#[derive(Debug)]
pub struct Job {
    rx: Receiver<Message>,
    cancel: CancelToken,
    handle: Option<JoinHandle<()>>,
    ended: bool,
}

impl Job {
    /// Starts `request` on its own thread against `server`.
    pub fn start(server: ServerRoot, request: Request) -> std::io::Result<Job> {
        let (tx, rx) = mpsc::channel();
        let cancel = CancelToken::new();
        let token = cancel.clone();
        let handle = std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                let result = catch_unwind(AssertUnwindSafe(|| run(&server, &request, &tx, &token)))
                    .unwrap_or_else(|payload| Err(Failure::Panicked(panic_text(&*payload))));
                let _ = tx.send(Message::Done(result));
            })?;
        Ok(Job {
            rx,
            cancel,
            handle: Some(handle),
            ended: false,
        })
    }

    /// Asks the engine to stop; it ends with [`Failure::Cancelled`] (or,
    /// if it was already past its last check, completes).
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether [`Job::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Every message waiting now, without blocking.
    pub fn drain(&mut self) -> Vec<Message> {
        let messages: Vec<Message> = self.rx.try_iter().collect();
        self.note_end(&messages);
        messages
    }

    /// Waits up to `timeout` for a message, then takes every other waiting one.
    pub fn wait(&mut self, timeout: Duration) -> Vec<Message> {
        let mut messages = match self.rx.recv_timeout(timeout) {
            Ok(m) => vec![m],
            Err(RecvTimeoutError::Timeout) => return Vec::new(),
            Err(RecvTimeoutError::Disconnected) => {
                self.ended = true;
                return Vec::new();
            }
        };
        messages.extend(self.rx.try_iter());
        self.note_end(&messages);
        messages
    }

    fn note_end(&mut self, messages: &[Message]) {
        if messages.iter().any(|m| matches!(m, Message::Done(_))) {
            self.ended = true;
            if let Some(handle) = self.handle.take() {
                let _ = handle.join();
            }
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            if !self.ended {
                self.cancel.cancel();
            }
            let _ = handle.join();
        }
    }
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

fn run(
    server: &ServerRoot,
    request: &Request,
    tx: &Sender<Message>,
    cancel: &CancelToken,
) -> Result<Outcome, Failure> {
    let engine = |e: MigratorError| match e {
        MigratorError::Cancelled => Failure::Cancelled,
        other => Failure::Engine(other),
    };
    let tx = Mutex::new(tx.clone());
    let sink = |e: Event| {
        let _ = tx.lock().map(|tx| tx.send(Message::Progress(e)));
    };
    match request {
        Request::Export(plan) => transit_migrator::export(server, plan, &sink, cancel)
            .map(Outcome::Exported)
            .map_err(engine),
        Request::Import(plan) => {
            let report =
                transit_migrator::import::import(server, plan, &sink, cancel).map_err(engine)?;
            let write_error = if plan.dry_run {
                None
            } else {
                report
                    .save(server, &plan.extract_to)
                    .err()
                    .map(|e| e.to_string())
            };
            Ok(Outcome::Imported(Box::new(Imported {
                report_file: plan
                    .extract_to
                    .join(transit_migrator::import::report::REPORT_TEXT),
                report,
                write_error,
            })))
        }
    }
}
