//! Export: a server root to one migration file.

mod build;
pub mod folders;
pub mod leftovers;
pub mod retention;

pub use build::REGISTRY_ENTRY;

use crate::error::{MigratorError, Result};
use crate::import::Refusal;
use crate::locks::ReadLock;
use build::ComponentTask;
use secrecy::{ExposeSecret, SecretString};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};
use transit_archive::{
    ComponentRecord, Manifest, MigrationWriter, MigratorInfo, SourceInfo, FORMAT_VERSION,
};
use transit_catalog::{Added, Catalog};
use transit_core::IoContext;
use transit_core::{CancelToken, Event, Progress, Unit};
use transit_registry::{KeyPath, RegistryRead};
use transit_server::layout::files::CUSTOM_HANDLERS;
use transit_server::ServerRoot;

/// What to export, and where.
#[derive(Debug, Clone)]
pub struct ExportPlan {
    /// Component names or aliases; `["all"]` for everything.
    pub components: Vec<String>,
    /// The folder that receives the migration file (created if missing;
    /// never the server root or inside it).
    pub folder: PathBuf,
    /// The custom-handlers folder; `files/Handlers/Custom` if `None`.
    pub handlers: Option<PathBuf>,
    /// Encrypts the file with AES-256 when set.
    pub password: Option<SecretString>,
    /// Worker threads; all cores if `None`.
    pub threads: Option<usize>,
    /// Run the Dialer package creator (`dialer_migration.zip` from the
    /// server's `dialer_config.xml`) when the Dialer Package is exported;
    /// the console's `-noprompt` skips it, as the vendor's does.
    pub dialer_package: bool,
}

/// What an export produced.
#[derive(Debug, Clone)]
pub struct ExportOutcome {
    /// The migration file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Whether it is encrypted.
    pub encrypted: bool,
    /// The components written, in file order.
    pub components: Vec<ComponentRecord>,
    /// Components the dependency closure added.
    pub added: Vec<Added>,
    /// Wall time.
    pub elapsed: Duration,
}

/// The first free name `<Server>_<stamp>.ininmigr` from `now` on (the
/// next second when two exports start within one), and its writer. A
/// name is taken when its file exists or another export is writing it.
fn create_writer(
    folder: &std::path::Path,
    server: &str,
    now: transit_core::time::OffsetDateTime,
    plan: &ExportPlan,
    progress: &dyn Progress,
) -> Result<(PathBuf, MigrationWriter)> {
    let name_at = |offset: u64| {
        format!(
            "{server}_{}.{}",
            transit_core::time::file_stamp(now + Duration::from_secs(offset)),
            transit_archive::EXTENSION
        )
    };
    let busy = |name: &str| {
        std::fs::read_dir(folder).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(".partial-"))
            })
        })
    };
    /// Seconds tried before giving up (sixty exports within one minute).
    const TRIES: u64 = 60;
    let mut last = None;
    for offset in 0..TRIES {
        let name = name_at(offset);
        let dest = folder.join(&name);
        if dest.exists() || busy(&name) {
            continue;
        }
        match MigrationWriter::create(&dest, plan.password.as_ref().map(|p| p.expose_secret())) {
            Ok(writer) => {
                if offset > 0 {
                    progress.event(Event::note(format!(
                        "{} is taken (another export in the same second): this export is named {name}",
                        name_at(0)
                    )));
                }
                return Ok((dest, writer));
            }
            Err(e @ transit_archive::ArchiveError::Exists { .. }) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last
        .unwrap_or(transit_archive::ArchiveError::Exists {
            path: folder.join(name_at(0)),
        })
        .into())
}

/// A folder removed (with its content) when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Exports a server root to a migration file named
/// `<ServerName>_<MMDDYYYYhhmmss>.ininmigr` (UTC) in the plan's folder.
///
/// It reads one consistent registry snapshot, so it is safe while the
/// server service runs. Components build in parallel; the file is written
/// under a temporary name and renamed when complete, so an error or a
/// cancellation leaves nothing behind.
pub fn export(
    root: &ServerRoot,
    plan: &ExportPlan,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<ExportOutcome> {
    let started = Instant::now();
    let identity = root.identity();
    let catalog = Catalog::for_role(&identity.server.role.to_string())?;
    let selection = catalog.close(&catalog.resolve(&plan.components)?);
    for added in &selection.added {
        progress.event(Event::note(added.explain()));
    }
    let folder = folders::prepare_export_folder(&plan.folder, root.dir())?;
    // An import never runs while this lock is held, so the registry
    // snapshot and the files read later are of one and the same state.
    let _lock = ReadLock::acquire(root)?;
    if crate::restore::journal_exists(root) {
        return Err(Refusal::InterruptedImport.into());
    }
    leftovers::clean_stale(&folder, root.name());
    let handlers = match &plan.handlers {
        Some(dir) if !dir.is_dir() => return Err(MigratorError::HandlersFolder(dir.clone())),
        Some(dir) => dir.clone(),
        None => root.files_dir().join(CUSTOM_HANDLERS),
    };

    let registry = root.open_registry()?;
    let ds = root.ds_server().to_string();
    let mut tasks = Vec::new();
    for id in &selection.ids {
        let component = catalog
            .component(id)
            .expect("closed selections name catalog components");
        let keys = component
            .registry_keys(&ds, root.name())
            .iter()
            .map(|k| KeyPath::parse(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(transit_registry::RegistryError::from)?;
        let mut files = Vec::new();
        for selector in &component.files {
            files.extend(folders::list_files(&root.files_dir(), selector, "files")?);
        }
        if component.custom_handlers {
            files.extend(folders::list_files(&handlers, "", "handlers")?);
        }
        let mut estimate: u64 = files.iter().map(|f| f.size).sum();
        for key in &keys {
            // About 100 bytes of UTF-16 .reg text per value.
            estimate += registry.count(key)?.1 * 100;
        }
        tasks.push(ComponentTask {
            id: id.clone(),
            keys,
            files,
            estimate,
        });
    }
    // Largest first, so the longest builds start at once.
    tasks.sort_by_key(|t| std::cmp::Reverse(t.estimate));
    for task in &tasks {
        progress.event(Event::begin(&task.id, Unit::Bytes, Some(task.estimate)));
    }

    let now = transit_core::time::now();
    let (dest, mut writer) = create_writer(&folder, root.name(), now, plan, progress)?;
    let staging_dir = folder.join(leftovers::staging_name(writer.partial_path()));
    std::fs::create_dir(&staging_dir).at(&staging_dir)?;
    let staging = RemoveOnDrop(staging_dir);

    if let Some(task) = tasks.iter_mut().find(|t| t.id == crate::dialer::COMPONENT) {
        if !plan.dialer_package {
            progress.event(Event::note(
                "Dialer package creator skipped (-noprompt): no dialer_migration.zip",
            ));
        } else if let Some(item) = crate::dialer::create_package(root, &staging.0)? {
            task.estimate += item.size;
            task.files.push(item);
        }
    }

    let threads = plan
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .clamp(1, tasks.len().max(1));
    let snapshots = registry.snapshots(threads)?;
    drop(registry);
    let queue = Mutex::new(tasks.into_iter().collect::<VecDeque<_>>());
    // The internal stop: the first failure stops the other workers. It is
    // separate from the user's token, so a real error is never mistaken
    // for the user's Stop.
    let abort = CancelToken::new();
    let (done_tx, done_rx) = mpsc::channel();
    // The first real error (workers stopped by `abort` report `Cancelled`,
    // which must not hide the error that caused it).
    let mut failure: Option<MigratorError> = None;
    let mut components: Vec<ComponentRecord> = Vec::new();
    std::thread::scope(|scope| {
        for snapshot in snapshots {
            let done_tx = done_tx.clone();
            let (queue, abort, staging) = (&queue, &abort, staging.0.as_path());
            scope.spawn(move || loop {
                let Some(task) = queue.lock().expect("queue lock").pop_front() else {
                    break;
                };
                let result = build::build(&task, &snapshot, staging, progress, &[cancel, abort]);
                if result.is_err() {
                    abort.cancel();
                }
                if done_tx.send(result).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        // Pack components as they complete, while others still build.
        for result in done_rx {
            if failure.is_some() || abort.is_cancelled() && result.is_ok() {
                continue;
            }
            let packed = result.and_then(|built| {
                let id = built.record.id.clone();
                components.push(built.record.clone());
                progress.event(Event::status(
                    &id,
                    format!(
                        "packing {}",
                        transit_core::progress::human_bytes(built.record.size)
                    ),
                ));
                writer
                    .add_component(built, &|e: Event| {
                        if let Event::Advance { done, .. } = e {
                            progress.event(Event::status(
                                &id,
                                format!("packed {}", transit_core::progress::human_bytes(done)),
                            ))
                        }
                    })
                    .map_err(MigratorError::from)?;
                progress.event(Event::end(&id));
                Ok(())
            });
            match packed {
                Ok(()) => {}
                Err(MigratorError::Cancelled) => abort.cancel(),
                Err(e) => {
                    abort.cancel();
                    failure = Some(e);
                }
            }
        }
    });
    // The user's Stop wins: errors after it are its consequences.
    if cancel.is_cancelled() {
        return Err(MigratorError::Cancelled);
    }
    if let Some(err) = failure {
        return Err(err);
    }
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        migrator: MigratorInfo {
            release: identity.migrator.release.to_string(),
            build: identity.migrator.build,
        },
        source: SourceInfo {
            server_name: identity.server.name.clone(),
            site_name: identity.server.site_name.clone(),
            site_id: identity.server.site_id,
            role: identity.server.role.to_string(),
            product_release: identity.server.product_release.to_string(),
            patch: identity.server.patch,
        },
        created_utc: transit_core::time::rfc3339(now),
        components: Vec::new(),
    };
    let size = writer.finish(manifest)?;
    drop(staging);
    let outcome = ExportOutcome {
        path: dest,
        size,
        encrypted: plan.password.is_some(),
        components,
        added: selection.added,
        elapsed: started.elapsed(),
    };
    tracing::info!(
        file = %outcome.path.display(),
        size = outcome.size,
        components = outcome.components.len(),
        elapsed_ms = outcome.elapsed.as_millis() as u64,
        "export complete"
    );
    Ok(outcome)
}
