//! Files: staged (verified against the manifest) under the root on their
//! own thread while the registry is written, renamed into place after the
//! commit, then made durable with one file-system sync.

use super::check_cancel;
use super::faults::{crash_point, pause_point};
use super::plan::{Extract, FileWrite};
use crate::error::{MigratorError, Result};
use crate::import::report::ComponentReport;
use crate::import::rules::{file_names, Names};
use crate::restore::Journal;
use std::path::Path;
use transit_archive::MigrationReader;
use transit_core::{CancelToken, IoContext, PathIoError};
use transit_server::ServerRoot;

/// Renames the staged files into place, after the registry commit.
pub(super) fn move_into_place(
    staging: &Path,
    root: &ServerRoot,
    writes: &[FileWrite],
    extracts: &[Extract],
    component_reports: &mut [ComponentReport],
    journal: Option<&mut Journal>,
) -> Result<()> {
    if let Some(j) = journal {
        j.step("files")?;
    }
    for (n, w) in writes.iter().enumerate() {
        if n == writes.len() / 2 {
            crash_point("files-half");
        }
        let from = staging.join("files").join(&w.to);
        let to = root.dir().join(&w.to);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        std::fs::rename(&from, &to).at(&to)?;
        if let Some(cr) = component_reports.iter_mut().find(|c| c.id == w.component) {
            cr.files_written += 1;
            cr.files.push(w.to.clone());
        }
    }
    for extract in extracts {
        if let Some(cr) = component_reports
            .iter_mut()
            .find(|c| c.id == extract.component)
        {
            cr.files_extracted += 1;
            cr.files.push(extract.to.clone());
        }
    }
    Ok(())
}

/// A file whose server and site names were rewritten while staging.
pub(super) struct StagedRewrite {
    /// The component.
    pub component: String,
    /// The path relative to the root.
    pub to: String,
    /// What changed.
    pub changes: Vec<String>,
}

/// Copies every file the import writes into the staging folder, and every
/// extract-only file into the extraction folder, verifying each against the
/// manifest; files marked `rename` get the target's server and site names
/// (`names` is source, target). Runs on its own thread with its own reader
/// of the file.
#[allow(clippy::too_many_arguments)]
pub(super) fn stage_files(
    mut reader: MigrationReader,
    names: (&Names, &Names),
    writes: &[FileWrite],
    extracts: &[Extract],
    extract_to: &Path,
    staging: &Path,
    zips: &Path,
    cancel: &CancelToken,
    stop: &CancelToken,
) -> Result<Vec<StagedRewrite>> {
    let reader = &mut reader;
    let mut rewrites = Vec::new();
    let mut open: Option<(String, transit_archive::ComponentReader)> = None;
    for w in writes {
        check_stop(cancel, stop)?;
        if open.as_ref().is_none_or(|(id, _)| *id != w.component) {
            open = Some((
                w.component.clone(),
                reader.open_component(&w.component, zips)?,
            ));
        }
        let (_, component) = open.as_mut().expect("opened above");
        let dest = staging.join("files").join(&w.to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        if w.rename {
            // Read whole (verified by the reader), then rewrite.
            let mut bytes = Vec::with_capacity(w.size as usize);
            component.read_entry(&w.entry, |r| r.read_to_end(&mut bytes).map(|_| ()))?;
            if let Some(done) = file_names::rewrite(&bytes, names.0, names.1) {
                bytes = done.bytes;
                rewrites.push(StagedRewrite {
                    component: w.component.clone(),
                    to: w.to.clone(),
                    changes: done.changes,
                });
            }
            std::fs::write(&dest, &bytes).at(&dest)?;
            continue;
        }
        copy_entry(component, &w.entry, &dest)?;
    }
    let mut open: Option<(String, transit_archive::ComponentReader)> = None;
    for extract in extracts {
        check_stop(cancel, stop)?;
        if open.as_ref().is_none_or(|(id, _)| *id != extract.component) {
            open = Some((
                extract.component.clone(),
                reader.open_component(&extract.component, zips)?,
            ));
        }
        let (_, component) = open.as_mut().expect("opened above");
        let dest = extract_to.join(&extract.to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        copy_entry(component, &extract.entry, &dest)?;
    }
    tracing::debug!("files staged");
    crash_point("staged");
    pause_point("staged", cancel);
    Ok(rewrites)
}

/// Copies one entry into `dest`. A failure to write `dest` (a full disk)
/// names `dest`, not the migration file the bytes came from.
fn copy_entry(
    component: &mut transit_archive::ComponentReader,
    entry: &str,
    dest: &Path,
) -> Result<()> {
    let mut out = std::fs::File::create(dest).at(dest)?;
    let mut write_error = None;
    let read = component.read_entry(entry, |r| {
        let mut sink = WriteSide {
            inner: &mut out,
            error: &mut write_error,
        };
        std::io::copy(r, &mut sink).map(|_| ())
    });
    if let Some(e) = write_error {
        return Err(PathIoError::new(dest, e).into());
    }
    read?;
    Ok(())
}

/// A writer that keeps its own failure apart from the reader's.
struct WriteSide<'a, W> {
    inner: &'a mut W,
    error: &'a mut Option<std::io::Error>,
}

impl<W: std::io::Write> std::io::Write for WriteSide<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner
            .write(buf)
            .inspect_err(|e| *self.error = Some(copy_of(e)))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner
            .flush()
            .inspect_err(|e| *self.error = Some(copy_of(e)))
    }
}

/// An owned copy of an I/O error (keeping the OS error code).
fn copy_of(e: &std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(e.kind(), e.to_string()),
    }
}

/// Stops the stager when the user cancels or the registry side failed.
fn check_stop(cancel: &CancelToken, stop: &CancelToken) -> Result<()> {
    check_cancel(cancel)?;
    if stop.is_cancelled() {
        return Err(MigratorError::Cancelled);
    }
    Ok(())
}

/// Flushes every dirty page of the file system holding `dir` (syncfs(2)).
pub(super) fn sync_filesystem(dir: &Path) -> Result<()> {
    let handle = std::fs::File::open(dir).at(dir)?;
    use std::os::fd::AsRawFd;
    nix::unistd::syncfs(handle.as_raw_fd())
        .map_err(|e| MigratorError::from(PathIoError::new(dir, std::io::Error::from(e))))
}
