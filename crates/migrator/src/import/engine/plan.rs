//! What an import will do, decided before anything changes: the
//! components (closed over their dependencies), where each file goes, and
//! how much disk space it all needs.

use super::super::preflight::ImportMode;
use super::super::report::{ComponentReport, ImportReport};
use super::super::rules::{self, FileContext, FileDecision, FollowUp};
use super::target_waves;
use crate::error::Result;
use crate::export::REGISTRY_ENTRY;
use crate::restore::{self, FileChanges};
use secrecy::SecretString;
use std::path::PathBuf;
use transit_archive::{ArchiveError, Manifest};
use transit_catalog::{Catalog, Component};
use transit_server::ServerRoot;

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
    /// `--force`: extract into a folder that already holds files,
    /// overwriting them (refused otherwise).
    pub force: bool,
}

/// One file the import writes into the server root.
pub(super) struct FileWrite {
    /// The component it belongs to.
    pub component: String,
    /// Its entry in the component's inner zip.
    pub entry: String,
    /// Where it goes, relative to the server root.
    pub to: String,
    /// Its size.
    pub size: u64,
    /// Rewrite the server and site names inside it (`rename-server-site`).
    pub rename: bool,
}

/// One file the import only extracts (handlers), never into the root.
pub(super) struct Extract {
    /// The component it belongs to.
    pub component: String,
    /// Its entry in the component's inner zip.
    pub entry: String,
    /// Where it goes, relative to the extraction folder.
    pub to: String,
}

/// The files an import writes and extracts, and what the restore point
/// must save.
#[derive(Default)]
pub(super) struct FilePlan {
    /// Files written into the root.
    pub writes: Vec<FileWrite>,
    /// Files extracted into the extraction folder.
    pub extracts: Vec<Extract>,
    /// What the restore point saves (overwritten) and removes (created).
    pub changes: FileChanges,
    /// One report per component, with its file decisions.
    pub component_reports: Vec<ComponentReport>,
    /// The target's own wave files that follow the language rename.
    pub waves: target_waves::WaveMoves,
}

/// The catalog components the plan selects (`all` is the file's own
/// components), closed over their dependencies, in catalog order. Each
/// must be in the file.
pub(super) fn components<'c>(
    plan: &ImportPlan,
    manifest: &Manifest,
    catalog: &'c Catalog,
) -> Result<Vec<&'c Component>> {
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
    // Name what the user asked for first; a missing dependency is named
    // with the component that needs it.
    for id in &wanted {
        if manifest.component(id).is_none() {
            return Err(ArchiveError::UnknownComponent {
                path: plan.file.clone(),
                id: id.clone(),
            }
            .into());
        }
    }
    for id in &selection.ids {
        if manifest.component(id).is_none() {
            let required_by = selection
                .added
                .iter()
                .find(|a| &a.id == id)
                .map(|a| a.required_by.clone())
                .unwrap_or_default();
            return Err(crate::MigratorError::MissingRequired {
                file: plan.file.clone(),
                component: required_by,
                missing: id.clone(),
            });
        }
    }
    Ok(selection
        .ids
        .iter()
        .filter_map(|id| catalog.component(id))
        .collect())
}

/// Decides every file of the selected components by the file rules.
pub(super) fn files(
    root: &ServerRoot,
    plan: &ImportPlan,
    manifest: &Manifest,
    components: &[&Component],
    report: &mut ImportReport,
) -> Result<FilePlan> {
    let report_path = rules::report_path(root);
    let mut out = FilePlan::default();
    let waves_component = target_waves::component(components);
    let waves = if plan.mode == ImportMode::Migration && waves_component.is_some() {
        target_waves::plan(root.dir())?
    } else {
        target_waves::WaveMoves::default()
    };
    for (from, to) in &waves.moves {
        restore::checked_relative(from)?;
        restore::checked_relative(to)?;
        out.changes.remove.push(from.clone());
        out.changes.create.push(to.clone());
    }
    // Where the target's own waves are going, as a set: looked up for
    // every file entry (a list made this quadratic at scale).
    let moved_to: std::collections::HashSet<&str> =
        waves.moves.iter().map(|(_, to)| to.as_str()).collect();
    for component in components {
        let record = manifest
            .component(&component.id)
            .expect("checked by components()");
        let mut cr = ComponentReport {
            id: component.id.clone(),
            ..Default::default()
        };
        // The target's own waves count as where they are going.
        let exists = |rel: &str| moved_to.contains(rel) || root.dir().join(rel).exists();
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
            if let Some(renamed) = rules::folder_renamed(&entry.path, &decided) {
                if !cr.folders_renamed.contains(&renamed) {
                    cr.folders_renamed.push(renamed);
                }
            }
            match decided.decision {
                FileDecision::Write { to, overwrite } => {
                    // Never write outside the root's file areas.
                    restore::checked_relative(&to)?;
                    if exists(&to) {
                        if !overwrite {
                            cr.files_skipped
                                .push((entry.path.clone(), format!("{to} exists on the target")));
                            continue;
                        }
                        out.changes.overwrite.push(to.clone());
                    } else {
                        out.changes.create.push(to.clone());
                    }
                    let rename = plan.mode == ImportMode::Migration
                        && component.rules.iter().any(|r| r == rules::file_names::ID)
                        && entry.size <= rules::file_names::MAX_REWRITE;
                    if rename && plan.dry_run {
                        cr.files_rewritten.push((
                            to.clone(),
                            "server and site names are rewritten when the file is imported".into(),
                        ));
                    }
                    out.writes.push(FileWrite {
                        component: component.id.clone(),
                        entry: entry.path.clone(),
                        to,
                        size: entry.size,
                        rename,
                    });
                }
                FileDecision::Extract { to } => {
                    restore::checked_relative(&to)?;
                    if !to.starts_with(rules::SYSTEM_EXTRACT) {
                        report.follow_up(FollowUp::PublishHandler {
                            handler: to.clone(),
                        });
                    }
                    out.extracts.push(Extract {
                        component: component.id.clone(),
                        entry: entry.path.clone(),
                        to,
                    });
                }
                FileDecision::Skip(reason) => cr.files_skipped.push((entry.path.clone(), reason)),
            }
        }
        if waves_component.is_some_and(|c| c.id == component.id) {
            target_waves::report(&waves, &mut cr);
        }
        out.component_reports.push(cr);
    }
    out.waves = waves;
    Ok(out)
}

/// Bytes the import needs free: the decrypted inner zips (the largest can
/// be there twice at once, as the stager and the registry parser may open
/// the same one), the staged files, and the restore point (the registry
/// backup plus copies of overwritten files).
pub(super) fn space_needed(
    root: &ServerRoot,
    plan: &ImportPlan,
    manifest: &Manifest,
    components: &[&Component],
    files: &FilePlan,
) -> u64 {
    let registry_size = std::fs::metadata(root.registry_path())
        .map(|m| m.len())
        .unwrap_or(0);
    let overwritten: u64 = files
        .changes
        .overwrite
        .iter()
        .chain(&files.changes.remove)
        .filter_map(|rel| std::fs::metadata(root.dir().join(rel)).ok())
        .map(|m| m.len())
        .sum();
    let inner: Vec<u64> = components
        .iter()
        .filter_map(|c| manifest.component(&c.id))
        .map(|r| r.size)
        .collect();
    inner.iter().sum::<u64>()
        + inner.iter().copied().max().unwrap_or(0)
        + files.writes.iter().map(|w| w.size).sum::<u64>()
        + if plan.restore_point {
            registry_size + overwritten
        } else {
            0
        }
}
