//! Building one component's inner zip.

use super::folders::FileItem;
use crate::error::{MigratorError, Result};
use std::io::Write;
use std::path::Path;
use transit_archive::{BuiltComponent, ComponentBuilder};
use transit_core::{CancelToken, Event, Progress};
use transit_registry::interop::export_reg_many;
use transit_registry::regfile::RegFormat;
use transit_registry::{KeyPath, Snapshot};

/// The registry entry of a component's zip.
pub const REGISTRY_ENTRY: &str = "registry.reg";

/// Everything needed to build one component.
pub struct ComponentTask {
    /// The component ID.
    pub id: String,
    /// Registry subtrees to export.
    pub keys: Vec<KeyPath>,
    /// Files to export.
    pub files: Vec<FileItem>,
    /// Estimated bytes, for scheduling and progress.
    pub estimate: u64,
}

/// True once any of the tokens is cancelled.
fn stopped(tokens: &[&CancelToken]) -> bool {
    tokens.iter().any(|t| t.is_cancelled())
}

/// Passes writes through, counting bytes and failing once cancelled.
struct Watched<'a> {
    inner: &'a mut dyn Write,
    cancel: &'a [&'a CancelToken],
    bytes: u64,
    reported: u64,
    report: &'a dyn Fn(u64),
}

impl Write for Watched<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if stopped(self.cancel) {
            // Not `Interrupted`: `write_all` would retry that forever.
            return Err(std::io::Error::other("export stopped"));
        }
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        if self.bytes - self.reported >= 1 << 20 {
            self.reported = self.bytes;
            (self.report)(self.bytes);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Builds the inner zip of one component from a registry snapshot and its
/// files. Checks the stop tokens (the user's and the engine's) inside the
/// registry stream and between files; a stop is [`MigratorError::Cancelled`].
pub fn build(
    task: &ComponentTask,
    snapshot: &Snapshot,
    temp_dir: &Path,
    progress: &dyn Progress,
    cancel: &[&CancelToken],
) -> Result<BuiltComponent> {
    let mut builder = ComponentBuilder::new(&task.id, temp_dir)?;
    let report = |bytes: u64| progress.event(Event::advance(&task.id, bytes));
    let mut done = 0u64;
    if !task.keys.is_empty() {
        let outcome = builder.add_stream(REGISTRY_ENTRY, |w| {
            let mut watched = Watched {
                inner: w,
                cancel,
                bytes: 0,
                reported: 0,
                report: &report,
            };
            let (watched, stats) =
                export_reg_many(snapshot, &task.keys, &mut watched, RegFormat::Regedit5)
                    .map_err(std::io::Error::other)?;
            Ok((stats, watched.bytes))
        });
        let (stats, bytes) = match outcome {
            Ok(v) => v,
            Err(_) if stopped(cancel) => return Err(MigratorError::Cancelled),
            Err(e) => return Err(e.into()),
        };
        builder.add_counts(stats.keys, stats.values);
        done += bytes;
        report(done);
    }
    for file in &task.files {
        if stopped(cancel) {
            return Err(MigratorError::Cancelled);
        }
        builder.add_file(&file.entry, &file.source)?;
        done += file.size;
        report(done);
    }
    if stopped(cancel) {
        return Err(MigratorError::Cancelled);
    }
    Ok(builder.finish()?)
}
