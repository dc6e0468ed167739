//! The import engine: preflight, plan, restore point, staged files, one
//! registry transaction, then the files renamed into place.
//!
//! - [`plan`]: the components, the file decisions and the space needed;
//! - [`parse`]: the thread that turns each component's `.reg` text into
//!   key batches;
//! - [`apply`]: the rules over those keys, into one transaction;
//! - [`stage`]: the file stager thread, the move into place, the sync;
//! - [`faults`]: the crash tests' fault-injection hooks.

mod apply;
mod disk_full;
mod faults;
mod parse;
mod plan;
mod saved;
mod stage;
mod target_waves;
mod verify;

pub use plan::ImportPlan;

use super::extract::{self, ExtractStage};
use super::preflight;
use super::report::{ComponentReport, ImportReport};
use super::rules::Names;
use crate::error::{MigratorError, Result};
use crate::locks::{ImportLock, ReadLock};
use crate::restore::{self, Journal};
use apply::{apply_registry, RegistryInputs};
use faults::crash_point;
use plan::FilePlan;
use saved::{PointRequest, Saved};
use secrecy::ExposeSecret;
use stage::{move_into_place, stage_files, sync_filesystem};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use transit_archive::MigrationReader;
use transit_catalog::{Catalog, Component};
use transit_core::{CancelToken, Event, IoContext, PathIoError, Progress};
use transit_server::ServerRoot;
use verify::Verification;

/// The staging area inside the server root (removed on success and by rollback).
pub use crate::restore::STAGING_DIR;

/// The progress task that counts the components whose registry data is
/// applied.
pub const COMPONENTS_TASK: &str = "components";

fn check_cancel(cancel: &CancelToken) -> Result<()> {
    if cancel.is_cancelled() {
        Err(MigratorError::Cancelled)
    } else {
        Ok(())
    }
}

/// Imports a migration file into a server root. Every check runs before
/// anything changes; then (unless disabled) a restore point is taken, files
/// are staged under the root, the registry changes commit in one
/// transaction, and the staged files are renamed into place. A failure or
/// a Stop after the restore point rolls the server back to it.
pub fn import(
    root: &ServerRoot,
    plan: &ImportPlan,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ImportReport> {
    let started = Instant::now();
    // ---- Preflight: nothing changes until all of it passes. ----
    preflight::check_service(root)?;
    let extract_to = preflight::check_extraction_folder(&plan.extract_to, root.dir())?;
    if !plan.dry_run {
        extract::clean_stale(&extract_to);
        if !plan.force && extract::holds_files(&extract_to)? {
            return Err(preflight::Refusal::ExtractionFolderNotEmpty(extract_to).into());
        }
    }
    // The import lock comes first, before the restore point: an import
    // refused here leaves nothing behind. A dry run only reads, as an
    // export does.
    let lock = if plan.dry_run {
        Hold::Read(ReadLock::acquire(root)?)
    } else {
        Hold::Import(ImportLock::acquire(root)?)
    };
    let reader = MigrationReader::open(
        &plan.file,
        plan.password.as_ref().map(|p| p.expose_secret()),
    )?;
    // Every byte of the file is authenticated, including the components
    // the import will skip, on threads of its own while the work below
    // runs; the commit waits for it (see `verify`).
    progress.event(Event::step("verifying the migration file"));
    let mut check_reader = reader.reopen()?;
    let stop_check = CancelToken::new();
    std::thread::scope(|s| {
        let handle = s.spawn(|| {
            transit_core::priority::lower_thread_priority(verify::CHECK_NICE);
            check_reader.authenticate_until(progress, &stop_check)
        });
        let mut verification = Verification::new(handle, &stop_check, plan.file.clone());
        let done = import_verified(
            root,
            plan,
            &reader,
            &mut verification,
            (&extract_to, lock),
            progress,
            cancel,
        );
        match done {
            Ok(mut report) => {
                report.elapsed_ms = started.elapsed().as_millis() as u64;
                Ok(report)
            }
            Err(err) => Err(verification.explain(err, cancel)),
        }
    })
}

/// The import once its file is open and its check is running: every
/// refusal, the plan, the restore point and the work, with the commit
/// gated on `verification`.
fn import_verified(
    root: &ServerRoot,
    plan: &ImportPlan,
    reader: &MigrationReader,
    verification: &mut Verification<'_>,
    (extract_to, lock): (&Path, Hold),
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ImportReport> {
    check_cancel(cancel)?;
    let manifest = reader.manifest();
    let identity = root.identity();
    preflight::check_versions(manifest, identity, plan.mode)?;
    let catalog = Catalog::for_role(&identity.server.role.to_string())?;
    let components = plan::components(plan, manifest, catalog)?;
    let source = source_names(manifest, &plan.file)?;
    let target = match plan.mode {
        preflight::ImportMode::Migration => Names::new(root.name(), root.site_name()),
        preflight::ImportMode::Recovery => source.clone(),
    };

    // ---- Plan the files and check the space. ----
    let mut report = ImportReport::new(
        &plan.file.display().to_string(),
        plan.mode,
        &source.server,
        &manifest.source.product_release,
        root.name(),
        plan.dry_run,
    );
    report.target_release = identity.server.product_release.to_string();
    report.file_migrator = format!(
        "{} build {}",
        manifest.migrator.release, manifest.migrator.build
    );
    report.target_migrator = format!(
        "{} build {}",
        identity.migrator.release, identity.migrator.build
    );
    for follow_up in
        super::rules::name_change::follow_ups(plan.mode, identity.server.role, &source, &target)
    {
        report.follow_up(follow_up);
    }
    let mut files = plan::files(root, plan, manifest, &components, &mut report)?;
    let needed = plan::space_needed(root, plan, manifest, &components, &files);
    preflight::check_space(root.dir(), needed)?;
    check_cancel(cancel)?;

    // ---- The work, with the restore point and journal taken beside it. ----
    let point_request = (plan.restore_point && !plan.dry_run).then(|| PointRequest {
        reason: format!("import of {}", plan.file.display()),
        changes: &files.changes,
        held: match &lock {
            Hold::Import(held) => Some(held),
            Hold::Read(_) => None,
        },
    });
    let mut component_reports = std::mem::take(&mut files.component_reports);
    let staging = root.dir().join(STAGING_DIR);
    let work = Work {
        root,
        plan,
        reader,
        components: &components,
        source: &source,
        target: &target,
        files: &files,
        extract_to,
        staging: &staging,
        progress,
        cancel,
        committed: AtomicBool::new(false),
    };
    let mut saved = Saved::default();
    let outcome = work.run(
        &mut report,
        &mut component_reports,
        (point_request.as_ref(), &mut saved),
        verification,
    );
    let Saved { point, journal } = saved;
    report.restore_point = point.as_ref().map(|p| p.meta.id.clone());
    match outcome {
        Ok(()) => {
            // Make the moved files durable before the journal says "done":
            // one filesystem sync instead of one fsync per file.
            if !plan.dry_run {
                tracing::debug!("files moved into place");
                sync_filesystem(root.dir())?;
                tracing::debug!("file system synced");
            }
            if let Some(j) = journal {
                j.finish()?;
            }
            let _ = std::fs::remove_dir_all(&staging);
        }
        Err(err) => {
            // Undo everything the import did, then report why.
            let place = disk_full::place(&err, root);
            let undone = undo(
                root,
                point.as_ref(),
                journal,
                &staging,
                work.committed.load(Ordering::Relaxed),
            );
            return Err(match (place, undone) {
                (Some(place), undone) => MigratorError::DiskFull {
                    place,
                    rolled_back: undone.is_ok(),
                    cause: Box::new(err),
                },
                (None, Ok(())) => err,
                (None, Err(undo_err)) => {
                    tracing::error!("the import failed ({err}) and its rollback too ({undo_err}); the next command rolls it back");
                    undo_err
                }
            });
        }
    }
    report.components = component_reports;
    tracing::info!(file = %plan.file.display(), mode = %report.mode, dry_run = plan.dry_run, "import complete");
    drop(lock);
    Ok(report)
}

/// The source server's names from the manifest. They become registry key
/// segments, so a name that cannot be one (empty, with a backslash) makes
/// the file unusable: it was not written by an export.
fn source_names(manifest: &transit_archive::Manifest, file: &Path) -> Result<Names> {
    let fields = [
        ("source.server_name", &manifest.source.server_name),
        ("source.site_name", &manifest.source.site_name),
    ];
    for (field, value) in fields {
        if let Err(detail) = transit_server::identity::check_name(field, value) {
            return Err(MigratorError::Archive(
                transit_archive::ArchiveError::Tampered {
                    path: file.to_path_buf(),
                    entry: transit_archive::MANIFEST_ENTRY.to_string(),
                    detail,
                },
            ));
        }
    }
    Ok(Names::new(
        &manifest.source.server_name,
        &manifest.source.site_name,
    ))
}

/// Undoes a failed import. Before the registry commit nothing in the
/// root changed but the staging folder, so removing it is the whole
/// rollback (and needs no free space); after it, the restore point is
/// restored. The restore point is then set aside, since the import did not
/// happen, and the journal finished. On failure the journal stays, and the
/// next command rolls back.
fn undo(
    root: &ServerRoot,
    point: Option<&restore::RestorePoint>,
    journal: Option<Journal>,
    staging: &Path,
    committed: bool,
) -> Result<()> {
    match point {
        Some(p) if committed => restore::rollback(root, p)?,
        _ => {
            if staging.exists() {
                std::fs::remove_dir_all(staging).at(staging)?;
            }
        }
    }
    let aside = point.map(|p| p.abandon()).transpose()?;
    if let Some(j) = journal {
        j.finish()?;
    }
    if let Some(aside) = aside {
        let _ = std::fs::remove_dir_all(aside);
    }
    Ok(())
}

/// The lock an import holds on its server root for its whole run.
enum Hold {
    /// A real import: exclusive.
    Import(ImportLock),
    /// A dry run: shared, as an export's.
    #[allow(dead_code)]
    Read(ReadLock),
}

/// Everything the changing part of an import works with.
struct Work<'a> {
    root: &'a ServerRoot,
    plan: &'a ImportPlan,
    reader: &'a MigrationReader,
    components: &'a [&'a Component],
    source: &'a Names,
    target: &'a Names,
    files: &'a FilePlan,
    extract_to: &'a Path,
    staging: &'a Path,
    progress: &'a dyn Progress,
    cancel: &'a CancelToken,
    /// Set once the registry transaction committed.
    committed: AtomicBool,
}

impl Work<'_> {
    /// The part of an import that changes things (or, in a dry run,
    /// rehearses): files staged on a second thread with its own reader
    /// while this one writes the registry in one transaction; both finish
    /// before anything is committed; then the files move into place.
    fn run(
        &self,
        report: &mut ImportReport,
        component_reports: &mut [ComponentReport],
        (point_request, saved): (Option<&PointRequest<'_>>, &mut Saved),
        verification: &mut Verification<'_>,
    ) -> Result<()> {
        let (plan, staging, cancel) = (self.plan, self.staging, self.cancel);
        let zips = staging.join("components");
        if !plan.dry_run {
            // A staging folder left by an import killed before its journal
            // existed (its restore point unfinished) holds nothing anyone
            // needs: this import holds the lock, and any journal was
            // recovered before it started.
            if staging.exists() {
                std::fs::remove_dir_all(staging).at(staging)?;
            }
            std::fs::create_dir_all(&zips).at(&zips)?;
        }
        let temp_for_zips = if plan.dry_run {
            std::env::temp_dir()
        } else {
            zips.clone()
        };
        let mut registry = self.root.open_registry()?;
        // Its checkpoint waits for the close, after the commit (see below).
        registry.defer_checkpoints()?;
        let mut txn = registry.write()?;
        let stop = CancelToken::new();
        if point_request.is_some() {
            self.progress.event(Event::step("restore point"));
        }
        let stage_reader = if plan.dry_run {
            None
        } else {
            Some(self.reader.reopen()?)
        };
        // Extract-only files wait in a staging folder inside the
        // extraction folder until the import completes.
        let extract_stage = if plan.dry_run || self.files.extracts.is_empty() {
            None
        } else {
            Some(ExtractStage::create(self.extract_to)?)
        };
        let extract_into = extract_stage
            .as_ref()
            .map_or(self.extract_to, ExtractStage::path);
        let (staged, applied, point_taken) = std::thread::scope(|s| {
            // Started once the transaction holds the write lock, so the
            // registry backup is exactly what the import changes.
            let saver = point_request.map(|request| {
                let stop = &stop;
                s.spawn(move || saved::save(self.root, request, cancel, stop))
            });
            let stager = stage_reader.map(|stage_reader| {
                let (stop, zips) = (&stop, &zips);
                s.spawn(move || {
                    let result = stage_files(
                        stage_reader,
                        (self.source, self.target),
                        &self.files.writes,
                        &self.files.extracts,
                        extract_into,
                        staging,
                        zips,
                        cancel,
                        stop,
                    );
                    if result.is_err() {
                        stop.cancel();
                    }
                    result
                })
            });
            let inputs = RegistryInputs {
                root: self.root,
                plan,
                components: self.components,
                source: self.source,
                target: self.target,
                progress: self.progress,
                cancel,
                stop: &stop,
            };
            let applied = apply_registry(
                &mut txn,
                &inputs,
                self.reader,
                &temp_for_zips,
                report,
                component_reports,
            );
            if applied.is_err() {
                stop.cancel();
            }
            let staged = match stager {
                Some(handle) => handle.join().unwrap_or_else(|_| {
                    Err(MigratorError::Io(PathIoError::new(
                        staging.to_path_buf(),
                        std::io::Error::other("the file-staging thread panicked"),
                    )))
                }),
                None => Ok(Vec::new()),
            };
            let point_taken = match saver {
                Some(handle) => match handle.join() {
                    Ok((done, taken)) => {
                        *saved = done;
                        taken
                    }
                    Err(_) => Err(MigratorError::Io(PathIoError::new(
                        self.root.restore_points_dir(),
                        std::io::Error::other("the restore-point thread panicked"),
                    ))),
                },
                None => Ok(()),
            };
            (staged, applied, point_taken)
        });
        // A user's stop is reported as such, whichever thread noticed it
        // first; then the registry's own error explains more than the
        // stager's reaction to it.
        check_cancel(cancel)?;
        // A restore point that could not be taken stopped the rest.
        point_taken?;
        if applied.is_err() || staged.is_err() {
            // A damaged file's damage is the error to report (the caller
            // prefers it); the check must end before the undo anyway.
            verification.wait()?;
        }
        applied?;
        let staged = staged?;
        // Nothing is committed, nor a dry run reported, before the whole
        // file has been checked.
        tracing::debug!("registry written and files staged; waiting for the file check");
        verification.wait()?;
        for rewrite in staged {
            if let Some(cr) = component_reports
                .iter_mut()
                .find(|c| c.id == rewrite.component)
            {
                *cr.rules
                    .entry(super::rules::file_names::ID.to_string())
                    .or_default() += 1;
                cr.files_rewritten
                    .push((rewrite.to, rewrite.changes.join(", ")));
            }
        }
        tracing::debug!("migration file verified");
        if let Some(j) = saved.journal.as_mut() {
            j.step("registry")?;
        }
        crash_point("registry-written");
        if plan.dry_run {
            txn.rollback()?;
            // What the real run writes and extracts, counted the same way.
            for w in &self.files.writes {
                if let Some(cr) = component_reports.iter_mut().find(|c| c.id == w.component) {
                    cr.files_written += 1;
                    cr.files.push(w.to.clone());
                }
            }
            for e in &self.files.extracts {
                if let Some(cr) = component_reports.iter_mut().find(|c| c.id == e.component) {
                    cr.files_extracted += 1;
                    cr.files.push(e.to.clone());
                }
            }
            return Ok(());
        }
        txn.commit()?;
        self.committed.store(true, Ordering::Relaxed);
        tracing::debug!("registry committed");
        crash_point("committed");
        self.progress.event(Event::step("moving files into place"));
        // The registry's checkpoint (its log copied into the database file,
        // as the connection closes) runs while the files move; the sync
        // after both makes them durable together.
        std::thread::scope(|s| {
            let closing = s.spawn(move || registry.close());
            let moved = self.move_files(component_reports, saved, extract_stage);
            let closed = closing.join().unwrap_or_else(|_| {
                Err(transit_registry::RegistryError::Invalid(
                    "the registry-closing thread panicked".into(),
                ))
            });
            moved?;
            Ok(closed?)
        })
    }

    /// Renames the staged files into place, moves the target's own wave
    /// folders and publishes the extracted files.
    fn move_files(
        &self,
        component_reports: &mut [ComponentReport],
        saved: &mut Saved,
        extract_stage: Option<ExtractStage>,
    ) -> Result<()> {
        move_into_place(
            self.staging,
            self.root,
            &self.files.writes,
            &self.files.extracts,
            component_reports,
            saved.journal.as_mut(),
        )?;
        target_waves::apply(self.root.dir(), &self.files.waves)?;
        if let Some(stage) = extract_stage {
            stage.publish(self.extract_to)?;
        }
        Ok(())
    }
}
