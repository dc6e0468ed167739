//! The import engine: preflight, plan, restore point, staged files, one
//! registry transaction, then the files renamed into place.

use super::preflight::{self, ImportMode};
use super::report::{ComponentReport, ImportReport};
use super::rules::{self, FileContext, FileDecision, FollowUp, KeyEntry, Names, RuleContext};
use crate::error::{MigratorError, Result};
use crate::export::REGISTRY_ENTRY;
use crate::restore::{self, FileChanges, Journal};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::time::Instant;
use transit_archive::{ArchiveError, MigrationReader};
use transit_catalog::{Catalog, Component};
use transit_core::{CancelToken, Event, Progress, Unit};
use transit_core::{IoContext, PathIoError};
use transit_registry::interop::registry_path;
use transit_registry::regfile::{RegItem, RegReader};
use transit_registry::{KeyPath, NamedValue, RegistryRead, WriteTxn};
use transit_server::ServerRoot;

/// The staging area inside the server root (removed on success and by rollback).
pub use crate::restore::STAGING_DIR;

/// What to import, and how.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// The migration file.
    pub file: PathBuf,
    /// Its password, if it is encrypted.
    pub password: Option<SecretString>,
    /// Where handlers (and other extract-only data) go; outside the root.
    pub extract_to: PathBuf,
    /// Migration (the default) or recovery.
    pub mode: ImportMode,
    /// Component names; `["all"]` for everything in the file.
    pub components: Vec<String>,
    /// Take a restore point first (the default).
    pub restore_point: bool,
    /// `--dev-mode`: skip the Recorder Rescue ID.
    pub dev_mode: bool,
    /// Plan and report only; change nothing.
    pub dry_run: bool,
}

/// The progress task that counts the components whose registry data is
/// applied.
pub const COMPONENTS_TASK: &str = "components";

/// Kills the process at a named step when `TRANSIT_CRASH_AT` names it: the
/// fault-injection hook of the crash tests (SIGKILL, like a power cut).
fn crash_point(step: &str) {
    if std::env::var("TRANSIT_CRASH_AT").is_ok_and(|s| s == step) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

/// Waits (up to ten seconds) at a named step when `TRANSIT_PAUSE_AT` names
/// it, until the import is stopped: the hook that lets tests deliver Ctrl-C
/// at a known point.
fn pause_point(step: &str, cancel: &CancelToken) {
    if std::env::var("TRANSIT_PAUSE_AT").is_ok_and(|s| s == step) {
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        while !cancel.is_cancelled() && Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// Flushes every dirty page of the file system holding `dir` (syncfs(2)).
fn sync_filesystem(dir: &Path) -> Result<()> {
    let handle = std::fs::File::open(dir).at(dir)?;
    use std::os::fd::AsRawFd;
    nix::unistd::syncfs(handle.as_raw_fd())
        .map_err(|e| MigratorError::from(PathIoError::new(dir, std::io::Error::from(e))))
}

fn check_cancel(cancel: &CancelToken) -> Result<()> {
    if cancel.is_cancelled() {
        Err(MigratorError::Cancelled)
    } else {
        Ok(())
    }
}

/// One file the import writes into the server root.
struct FileWrite {
    component: String,
    entry: String,
    to: String,
    size: u64,
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
    let reader = MigrationReader::open(
        &plan.file,
        plan.password.as_ref().map(|p| p.expose_secret()),
    )?;
    let manifest = reader.manifest();
    let identity = root.identity();
    preflight::check_versions(manifest, identity, plan.mode)?;
    let catalog = Catalog::for_role(&identity.server.role.to_string())?;
    let wanted: Vec<String> = if plan
        .components
        .iter()
        .any(|c| c.trim().eq_ignore_ascii_case("all"))
    {
        manifest.components.iter().map(|c| c.id.clone()).collect()
    } else {
        catalog.resolve(&plan.components)?
    };
    let selection = catalog.close(&wanted);
    for id in &selection.ids {
        if manifest.component(id).is_none() {
            return Err(ArchiveError::UnknownComponent {
                path: plan.file.clone(),
                id: id.clone(),
            }
            .into());
        }
    }
    let components: Vec<&Component> = selection
        .ids
        .iter()
        .filter_map(|id| catalog.component(id))
        .collect();

    let source = Names {
        server: manifest.source.server_name.clone(),
        site: manifest.source.site_name.clone(),
    };
    let target = match plan.mode {
        ImportMode::Migration => Names {
            server: root.name().to_string(),
            site: root.site_name().to_string(),
        },
        ImportMode::Recovery => source.clone(),
    };
    let registry = root.open_registry()?;
    let report_path = registry
        .get_string(
            &root
                .ds_container("Server Parameters")
                .join("Report File Path")
                .expect("constant name"),
            "Value",
        )
        .ok()
        .map(|p| format!("files/{}", p.trim_matches('/')));
    drop(registry);

    // ---- Plan the files. ----
    let mut report = ImportReport::new(
        &plan.file.display().to_string(),
        plan.mode,
        &source.server,
        &manifest.source.product_release,
        root.name(),
        plan.dry_run,
    );
    let mut writes: Vec<FileWrite> = Vec::new();
    let mut extracts: Vec<(String, String, String)> = Vec::new();
    let mut changes = FileChanges::default();
    let mut component_reports: Vec<ComponentReport> = Vec::new();
    for component in &components {
        let record = manifest.component(&component.id).expect("checked above");
        let mut cr = ComponentReport {
            id: component.id.clone(),
            ..Default::default()
        };
        let exists = |rel: &str| root.dir().join(rel).exists();
        let ctx = FileContext {
            mode: plan.mode,
            component,
            exists: &exists,
            report_path: report_path.clone(),
        };
        for entry in record.entries.iter().filter(|e| e.path != REGISTRY_ENTRY) {
            let decided = rules::decide(&entry.path, &ctx);
            for (rule, _) in &decided.notes {
                *cr.rules.entry(rule.to_string()).or_default() += 1;
            }
            match decided.decision {
                FileDecision::Write { to, overwrite } => {
                    // Never write outside the root's file areas.
                    restore::checked_relative(&to)?;
                    if root.dir().join(&to).exists() {
                        if !overwrite {
                            cr.files_skipped
                                .push((entry.path.clone(), format!("{to} exists on the target")));
                            continue;
                        }
                        changes.overwrite.push(to.clone());
                    } else {
                        changes.create.push(to.clone());
                    }
                    writes.push(FileWrite {
                        component: component.id.clone(),
                        entry: entry.path.clone(),
                        to,
                        size: entry.size,
                    });
                }
                FileDecision::Extract { to } => {
                    restore::checked_relative(&to)?;
                    report.follow_up(FollowUp::PublishHandler {
                        handler: to.clone(),
                    });
                    extracts.push((component.id.clone(), entry.path.clone(), to));
                }
                FileDecision::Skip(reason) => cr.files_skipped.push((entry.path.clone(), reason)),
            }
        }
        component_reports.push(cr);
    }

    // ---- Space: staged inner zips and files, plus the restore point. ----
    let registry_size = std::fs::metadata(root.registry_path())
        .map(|m| m.len())
        .unwrap_or(0);
    let overwritten: u64 = changes
        .overwrite
        .iter()
        .filter_map(|rel| std::fs::metadata(root.dir().join(rel)).ok())
        .map(|m| m.len())
        .sum();
    // Inner zips are decrypted into staging (the largest can be there twice
    // at once: the stager and the registry parser may open the same one).
    let inner: Vec<u64> = components
        .iter()
        .filter_map(|c| manifest.component(&c.id))
        .map(|r| r.size)
        .collect();
    let needed = inner.iter().sum::<u64>()
        + inner.iter().copied().max().unwrap_or(0)
        + writes.iter().map(|w| w.size).sum::<u64>()
        + if plan.restore_point {
            registry_size + overwritten
        } else {
            0
        };
    preflight::check_space(root.dir(), needed)?;
    check_cancel(cancel)?;

    // ---- Restore point and journal. ----
    let staging = root.dir().join(STAGING_DIR);
    let point = if plan.restore_point && !plan.dry_run {
        progress.event(Event::step("restore point"));
        Some(restore::create(
            root,
            &format!("import of {}", plan.file.display()),
            &changes,
        )?)
    } else {
        None
    };
    report.restore_point = point.as_ref().map(|p| p.meta.id.clone());
    let mut journal = match &point {
        Some(p) => Some(Journal::begin(root, p)?),
        None => None,
    };
    crash_point("restore-point");

    let outcome = run(
        root,
        plan,
        &reader,
        &components,
        &source,
        &target,
        &writes,
        &extracts,
        &extract_to,
        &staging,
        &mut report,
        &mut component_reports,
        journal.as_mut(),
        progress,
        cancel,
    );
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
            if let (Some(p), false) = (&point, plan.dry_run) {
                restore::rollback(root, p)?;
                if let Some(j) = journal {
                    j.finish()?;
                }
            } else {
                let _ = std::fs::remove_dir_all(&staging);
            }
            return Err(err);
        }
    }
    report.components = component_reports;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    tracing::info!(file = %plan.file.display(), mode = %report.mode, dry_run = plan.dry_run, "import complete");
    Ok(report)
}

/// The part of an import that changes things (or, in a dry run, rehearses).
#[allow(clippy::too_many_arguments)]
fn run(
    root: &ServerRoot,
    plan: &ImportPlan,
    reader: &MigrationReader,
    components: &[&Component],
    source: &Names,
    target: &Names,
    writes: &[FileWrite],
    extracts: &[(String, String, String)],
    extract_to: &Path,
    staging: &Path,
    report: &mut ImportReport,
    component_reports: &mut [ComponentReport],
    mut journal: Option<&mut Journal>,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<()> {
    let zips = staging.join("components");
    if !plan.dry_run {
        std::fs::create_dir_all(&zips).at(&zips)?;
    }
    let temp_for_zips = if plan.dry_run {
        std::env::temp_dir()
    } else {
        zips.clone()
    };

    // The files are staged (verified against the manifest) on a second
    // thread with its own reader, while this one writes the registry in
    // one transaction; both finish before anything is committed.
    let mut registry = root.open_registry()?;
    let mut txn = registry.write()?;
    let stop = CancelToken::new();
    let stage_reader = if plan.dry_run {
        None
    } else {
        Some(reader.reopen()?)
    };
    let (staged, applied) = std::thread::scope(|s| {
        let stager = stage_reader.map(|stage_reader| {
            let stop = &stop;
            s.spawn(move || {
                let result = stage_files(
                    stage_reader,
                    writes,
                    extracts,
                    extract_to,
                    staging,
                    &zips,
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
            root,
            plan,
            components,
            source,
            target,
            progress,
            cancel,
            stop: &stop,
        };
        let applied = apply_registry(
            &mut txn,
            &inputs,
            reader,
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
            None => Ok(()),
        };
        (staged, applied)
    });
    // A user's stop is reported as such, whichever thread noticed it
    // first; then the registry's own error explains more than the
    // stager's reaction to it.
    check_cancel(cancel)?;
    applied?;
    staged?;
    tracing::debug!("registry changes applied");
    if let Some(j) = journal.as_deref_mut() {
        j.step("registry")?;
    }
    crash_point("registry-written");
    if plan.dry_run {
        txn.rollback()?;
        return Ok(());
    }
    txn.commit()?;
    tracing::debug!("registry committed");
    crash_point("committed");
    progress.event(Event::step("moving files into place"));
    move_into_place(staging, root, writes, extracts, component_reports, journal)
}

/// What the registry side of an import works with.
struct RegistryInputs<'a> {
    root: &'a ServerRoot,
    plan: &'a ImportPlan,
    components: &'a [&'a Component],
    source: &'a Names,
    target: &'a Names,
    progress: &'a dyn Progress,
    /// The user's stop.
    cancel: &'a CancelToken,
    /// Set when the file stager failed.
    stop: &'a CancelToken,
}

/// Applies every component's registry data to the transaction.
fn apply_registry(
    txn: &mut WriteTxn<'_>,
    inputs: &RegistryInputs<'_>,
    reader: &MigrationReader,
    temp_for_zips: &Path,
    report: &mut ImportReport,
    component_reports: &mut [ComponentReport],
) -> Result<()> {
    let RegistryInputs {
        plan,
        components,
        cancel,
        ..
    } = *inputs;
    // A second thread decrypts and parses each component's .reg text, in
    // component order, while this one runs the rules and writes.
    let (sender, entries) = std::sync::mpsc::sync_channel::<Parsed>(16);
    let parse_stop = CancelToken::new();
    let parse_reader = reader.reopen()?;
    std::thread::scope(|s| {
        let parser = {
            let parse_stop = &parse_stop;
            s.spawn(move || {
                parse_components(
                    parse_reader,
                    plan,
                    components,
                    temp_for_zips,
                    &sender,
                    cancel,
                    parse_stop,
                )
            })
        };
        let applied = apply_components(txn, inputs, reader, &entries, report, component_reports);
        // Unblock the parser if this side stopped early.
        parse_stop.cancel();
        drop(entries);
        let _ = parser.join();
        applied
    })
}

/// One message from the parsing thread.
enum Parsed {
    /// The next keys of the current component.
    Keys(Vec<KeyEntry>),
    /// The current component has no more keys.
    End,
    /// Parsing failed; nothing more follows.
    Failed(MigratorError),
}

/// How many keys travel in one message.
const BATCH: usize = 512;

/// Sends, for each component in order, its registry keys in batches and
/// then `End` (components without registry data send only `End`).
fn parse_components(
    mut reader: MigrationReader,
    plan: &ImportPlan,
    components: &[&Component],
    temp: &Path,
    sender: &std::sync::mpsc::SyncSender<Parsed>,
    cancel: &CancelToken,
    stop: &CancelToken,
) {
    for component in components {
        if has_registry_entry(&reader, component) {
            if let Err(e) =
                parse_component(&mut reader, plan, component, temp, sender, cancel, stop)
            {
                // A stop by the user is reported as one, not as the read
                // error it caused.
                let e = if cancel.is_cancelled() {
                    MigratorError::Cancelled
                } else {
                    e
                };
                let _ = sender.send(Parsed::Failed(e));
                return;
            }
        }
        if sender.send(Parsed::End).is_err() {
            return;
        }
    }
}

/// True when the component selects registry data and its inner zip has it.
fn has_registry_entry(reader: &MigrationReader, component: &Component) -> bool {
    !component.registry.is_empty()
        && reader
            .manifest()
            .component(&component.id)
            .is_some_and(|r| r.entries.iter().any(|e| e.path == REGISTRY_ENTRY))
}

/// Streams one component's `.reg` text as key batches.
fn parse_component(
    reader: &mut MigrationReader,
    plan: &ImportPlan,
    component: &Component,
    temp: &Path,
    sender: &std::sync::mpsc::SyncSender<Parsed>,
    cancel: &CancelToken,
    stop: &CancelToken,
) -> Result<()> {
    let mut component_zip = reader.open_component(&component.id, temp)?;
    let mut failure: Option<MigratorError> = None;
    let gone = || std::io::Error::other("the import stopped");
    let result = component_zip.read_entry(REGISTRY_ENTRY, |r| {
        let items = RegReader::new(r).map_err(std::io::Error::other)?;
        let mut batch: Vec<KeyEntry> = Vec::with_capacity(BATCH);
        for item in items {
            let item = item.map_err(std::io::Error::other)?;
            match item {
                RegItem::Key { path, line } => {
                    if batch.len() >= BATCH {
                        if cancel.is_cancelled() || stop.is_cancelled() {
                            return Err(gone());
                        }
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                        sender.send(Parsed::Keys(full)).map_err(|_| gone())?;
                    }
                    match registry_path(&path) {
                        Some(Ok(key)) => batch.push(KeyEntry {
                            path: key,
                            values: Vec::new(),
                        }),
                        _ => {
                            failure = Some(MigratorError::Archive(ArchiveError::Tampered {
                                path: plan.file.clone(),
                                entry: format!("{REGISTRY_ENTRY} in {}", component.id),
                                detail: format!("line {line}: key outside the registry root"),
                            }));
                            return Err(gone());
                        }
                    }
                }
                RegItem::Value { name, data, .. } => {
                    if let Some(entry) = batch.last_mut() {
                        entry.values.push(NamedValue {
                            name: name.unwrap_or_default(),
                            data,
                        });
                    }
                }
                RegItem::DeleteKey { .. } | RegItem::DeleteValue { .. } => {}
            }
        }
        if !batch.is_empty() {
            sender.send(Parsed::Keys(batch)).map_err(|_| gone())?;
        }
        Ok(())
    });
    match (result, failure) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(e.into()),
        (Ok(()), None) => Ok(()),
    }
}

/// Runs the rules on every component's keys, in order, into the transaction.
fn apply_components(
    txn: &mut WriteTxn<'_>,
    inputs: &RegistryInputs<'_>,
    reader: &MigrationReader,
    entries: &std::sync::mpsc::Receiver<Parsed>,
    report: &mut ImportReport,
    component_reports: &mut [ComponentReport],
) -> Result<()> {
    let RegistryInputs {
        root,
        plan,
        components,
        source,
        target,
        progress,
        cancel,
        stop,
    } = *inputs;
    let total = components.len() as u64;
    progress.event(Event::begin(COMPONENTS_TASK, Unit::Items, Some(total)));
    for (index, component) in components.iter().enumerate() {
        if stop.is_cancelled() {
            // The stager failed; its error is the one reported.
            return Ok(());
        }
        check_cancel(cancel)?;
        progress.event(Event::advance(COMPONENTS_TASK, index as u64));
        progress.event(Event::status(
            COMPONENTS_TASK,
            format!("{} ({} of {total})", component.id, index + 1),
        ));
        let cr = component_reports
            .iter_mut()
            .find(|c| c.id == component.id)
            .expect("one report per component");
        let release = root.identity().server.product_release;
        let scope = Scope {
            plan,
            component,
            source,
            target,
            release,
            same_release: report.source_release == release.to_string(),
            cancel,
        };
        import_component_registry(txn, reader, entries, &scope, report, cr)?;
        if plan.mode == ImportMode::Migration
            && ["Lines", "Line Groups", "Workstations", "IP Phones"]
                .contains(&component.id.as_str())
        {
            report.follow_up(FollowUp::RedetectTelephony);
        }
    }
    progress.event(Event::advance(COMPONENTS_TASK, total));
    progress.event(Event::end(COMPONENTS_TASK));
    Ok(())
}

/// Renames the staged files into place, after the registry commit.
fn move_into_place(
    staging: &Path,
    root: &ServerRoot,
    writes: &[FileWrite],
    extracts: &[(String, String, String)],
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
        }
    }
    for (component_id, _, _) in extracts {
        if let Some(cr) = component_reports.iter_mut().find(|c| &c.id == component_id) {
            cr.files_extracted += 1;
        }
    }
    Ok(())
}

/// Copies every file the import writes into the staging folder, and every
/// extract-only file into the extraction folder, verifying each against the
/// manifest. Runs on its own thread with its own reader of the file.
#[allow(clippy::too_many_arguments)]
fn stage_files(
    mut reader: MigrationReader,
    writes: &[FileWrite],
    extracts: &[(String, String, String)],
    extract_to: &Path,
    staging: &Path,
    zips: &Path,
    cancel: &CancelToken,
    stop: &CancelToken,
) -> Result<()> {
    let reader = &mut reader;
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
        let mut out = std::fs::File::create(&dest).at(&dest)?;
        component.read_entry(&w.entry, |r| std::io::copy(r, &mut out).map(|_| ()))?;
    }
    let mut open: Option<(String, transit_archive::ComponentReader)> = None;
    for (component_id, entry, to) in extracts {
        check_stop(cancel, stop)?;
        if open.as_ref().is_none_or(|(id, _)| id != component_id) {
            open = Some((
                component_id.clone(),
                reader.open_component(component_id, zips)?,
            ));
        }
        let (_, component) = open.as_mut().expect("opened above");
        let dest = extract_to.join(to);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).at(parent)?;
        }
        let mut out = std::fs::File::create(&dest).at(&dest)?;
        component.read_entry(entry, |r| std::io::copy(r, &mut out).map(|_| ()))?;
    }
    tracing::debug!("files staged");
    crash_point("staged");
    pause_point("staged", cancel);
    Ok(())
}

/// Stops the stager when the user cancels or the registry side failed.
fn check_stop(cancel: &CancelToken, stop: &CancelToken) -> Result<()> {
    check_cancel(cancel)?;
    if stop.is_cancelled() {
        return Err(MigratorError::Cancelled);
    }
    Ok(())
}

/// What every rule run over one component shares.
struct Scope<'a> {
    plan: &'a ImportPlan,
    component: &'a Component,
    source: &'a Names,
    target: &'a Names,
    /// The target's product release.
    release: transit_server::ProductRelease,
    /// Source and target run the same release (for the data-source follow-up).
    same_release: bool,
    /// The user's stop, checked between key batches.
    cancel: &'a CancelToken,
}

impl Scope<'_> {
    /// The rule context, with `existing` looking up the target's values.
    fn rule_context<'b>(
        &'b self,
        existing: &'b dyn Fn(&KeyPath) -> Option<Vec<NamedValue>>,
    ) -> RuleContext<'b> {
        RuleContext {
            mode: self.plan.mode,
            component: self.component,
            source: self.source,
            target: self.target,
            target_release: self.release,
            dev_mode: self.plan.dev_mode,
            existing,
        }
    }
}

/// Runs the key rules over one component's parsed keys (from the parsing
/// thread) and writes what they leave into the transaction.
fn import_component_registry(
    txn: &mut WriteTxn<'_>,
    reader: &MigrationReader,
    entries: &std::sync::mpsc::Receiver<Parsed>,
    scope: &Scope<'_>,
    report: &mut ImportReport,
    cr: &mut ComponentReport,
) -> Result<()> {
    let (component, plan, source) = (scope.component, scope.plan, scope.source);
    let next = || {
        entries.recv().unwrap_or_else(|_| {
            Parsed::Failed(MigratorError::Io(PathIoError::new(
                plan.file.clone(),
                std::io::Error::other("the registry-parsing thread stopped"),
            )))
        })
    };
    if !has_registry_entry(reader, component) {
        return match next() {
            Parsed::End => Ok(()),
            Parsed::Failed(e) => Err(e),
            Parsed::Keys(_) => unreachable!("no keys for a component without registry data"),
        };
    }
    // Before the component: clear what must be replaced.
    {
        let none = |_: &KeyPath| -> Option<Vec<NamedValue>> { None };
        let ctx = scope.rule_context(&none);
        let mut fx = rules::Effects::default();
        let mut clear: Vec<KeyPath> = Vec::new();
        for rule in rules::KEY_RULES {
            if rule.applies(&ctx) {
                clear.extend(rule.before_component(&ctx, &mut fx));
            }
        }
        if plan.mode == ImportMode::Recovery {
            // Recovery restores exactly: the component's subtrees are
            // replaced by the exported ones.
            for key in component.registry_keys(&source.ds().to_string(), &source.server) {
                clear.push(KeyPath::parse(&key).map_err(transit_registry::RegistryError::from)?);
            }
        }
        for key in clear {
            txn.delete_key(&key)?;
        }
        for (rule, _) in &fx.notes {
            *cr.rules.entry(rule.to_string()).or_default() += 1;
        }
        write_extra(txn, &fx.extra)?;
    }
    loop {
        match next() {
            Parsed::Keys(batch) => {
                check_cancel(scope.cancel)?;
                for entry in batch {
                    apply_entry(txn, entry, scope, report, cr)?;
                }
                pause_point("registry-batch", scope.cancel);
            }
            Parsed::End => return Ok(()),
            Parsed::Failed(e) => return Err(e),
        }
    }
}

fn write_extra(txn: &mut WriteTxn<'_>, extra: &[KeyEntry]) -> Result<()> {
    for e in extra {
        let id = txn.create_key(&e.path)?;
        for v in &e.values {
            txn.set_value_at(id, &v.name, &v.data)?;
        }
    }
    Ok(())
}

/// Runs the key rules on one key and writes what they leave.
fn apply_entry(
    txn: &mut WriteTxn<'_>,
    mut entry: KeyEntry,
    scope: &Scope<'_>,
    report: &mut ImportReport,
    cr: &mut ComponentReport,
) -> Result<()> {
    let original = entry.path.clone();
    let fx = {
        let lookup = |p: &KeyPath| txn.values(p).ok();
        rules::apply_key_rules(&mut entry, &scope.rule_context(&lookup))
    };
    for (rule, _) in &fx.notes {
        *cr.rules.entry(rule.to_string()).or_default() += 1;
    }
    for f in &fx.follow_ups {
        // Data-source setup is re-run only after a same-release move.
        if *f == FollowUp::RerunDataSourceSetup && !scope.same_release {
            continue;
        }
        report.follow_up(f.clone());
    }
    cr.conflicts.extend(fx.conflicts.iter().cloned());
    if let Some(reason) = fx.skip {
        cr.keys_skipped.push((original.to_string(), reason));
        return Ok(());
    }
    if fx.notes.iter().any(|(rule, _)| rule.ends_with("-migrated")) {
        cr.renamed
            .push((original.to_string(), entry.path.to_string()));
    }
    let id = txn.create_key(&entry.path)?;
    for v in &entry.values {
        txn.set_value_at(id, &v.name, &v.data)?;
    }
    cr.keys_imported += 1;
    cr.values_imported += entry.values.len() as u64;
    write_extra(txn, &fx.extra)
}
