//! `migrate.log` in the run folder: every progress event of the run's
//! invocations, one line each (`time event JSON`), appended, and passed on
//! to the caller's progress sink. Each committed batch of a table is one
//! `advance` line, so the log shows the commit sizes (and `tune` taking
//! effect).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use transit_core::{Event, Progress};

/// A progress sink that logs to the run folder and forwards.
pub struct Log<'a> {
    file: Mutex<Option<File>>,
    inner: &'a dyn Progress,
}

impl<'a> Log<'a> {
    /// Appends to `run_dir/migrate.log` (a log that cannot be opened is
    /// skipped: the run does not depend on it).
    pub fn open(run_dir: &Path, inner: &'a dyn Progress) -> Log<'a> {
        let _ = std::fs::create_dir_all(run_dir);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(run_dir.join("migrate.log"))
            .ok();
        Log {
            file: Mutex::new(file),
            inner,
        }
    }

    /// Writes a free line.
    pub fn line(&self, text: &str) {
        let now = transit_core::time::rfc3339(transit_core::time::now());
        if let Ok(mut guard) = self.file.lock() {
            if let Some(f) = guard.as_mut() {
                let _ = writeln!(f, "{now} {text}");
            }
        }
    }
}

impl Progress for Log<'_> {
    fn event(&self, event: Event) {
        self.line(&serde_json::to_string(&event).unwrap_or_default());
        self.inner.event(event);
    }
}
