//! The file rules: where each file of a component goes, and whether it
//! may replace what the target has.
//!
//! `handlers-extract-only`, `waves-base-language`,
//! `reports-production-custom`, `files-overwrite` and `files-keep-existing`
//! run in that order on every file entry. In recovery mode files are
//! restored exactly: every file overwrites and no entry is renamed
//! (handlers still go to the extraction folder only), except that a
//! production report is skipped in both modes, as the reference says.

use crate::import::ImportMode;
use transit_catalog::Component;

/// One file of a component and what will happen to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The entry's path inside the component's zip (`files/…` or `handlers/…`).
    pub entry: String,
    /// The decision so far.
    pub decision: FileDecision,
    /// What each rule did, as (rule ID, description).
    pub notes: Vec<(&'static str, String)>,
}

/// Where a file goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDecision {
    /// Into the server root at this relative path.
    Write {
        /// The path relative to the server root.
        to: String,
        /// Whether an existing file there is replaced.
        overwrite: bool,
    },
    /// Into the extraction folder at this relative path, never the server.
    Extract {
        /// The path relative to the extraction folder.
        to: String,
    },
    /// Not imported, for this reason.
    Skip(String),
}

impl FileEntry {
    /// A file that, until a rule says otherwise, lands where it was
    /// exported from (overwriting only in recovery mode).
    pub fn new(entry: &str, mode: ImportMode) -> FileEntry {
        FileEntry {
            entry: entry.to_string(),
            decision: FileDecision::Write {
                to: entry.to_string(),
                overwrite: mode == ImportMode::Recovery,
            },
            notes: Vec::new(),
        }
    }
}

/// The target's Report File Path server parameter as a path under the
/// root (`files/…`), which decides production against custom reports
/// (`reports-production-custom`); `None` when it is not set.
pub fn report_path(root: &transit_server::ServerRoot) -> Option<String> {
    use transit_registry::RegistryRead;
    let key = root
        .ds_container("Server Parameters")
        .join("Report File Path")
        .expect("constant name");
    let registry = root.open_registry().ok()?;
    registry
        .get_string(&key, "Value")
        .ok()
        .map(|p| format!("files/{}", p.trim_matches('/')))
}

/// What a file rule may consult.
pub struct FileContext<'a> {
    /// Migration or recovery.
    pub mode: ImportMode,
    /// The component the file belongs to.
    pub component: &'a Component,
    /// Whether a path (relative to the server root) exists on the target.
    pub exists: &'a dyn Fn(&str) -> bool,
    /// The target's `Report File Path` server parameter, relative to the
    /// server root (such as `files/Reports/Production`).
    pub report_path: Option<String>,
}

/// A rule over one file entry.
pub trait FileRule: Sync {
    /// The rule's ID.
    fn id(&self) -> &'static str;
    /// Changes the entry's decision.
    fn apply(&self, file: &mut FileEntry, ctx: &FileContext<'_>);
}

fn names(ctx: &FileContext<'_>, id: &str) -> bool {
    ctx.component.rules.iter().any(|r| r == id)
}

/// `handlers-extract-only`: custom handlers (`handlers/…`) go to the
/// extraction folder to be published by hand; base handlers
/// (`files/Handlers/System/…`) go to its `System/` folder, to compare with
/// the target's own (the reference: "CIC base handlers change substantially
/// in each release. […] inventory each modified base handler and modify and
/// publish the base handlers on the new CIC server post-import").
pub struct HandlersToExtraction;

/// Base handlers inside a component zip.
pub const SYSTEM_HANDLERS: &str = "files/Handlers/System/";
/// Where base handlers go in the extraction folder.
pub const SYSTEM_EXTRACT: &str = "System/";

impl FileRule for HandlersToExtraction {
    fn id(&self) -> &'static str {
        "handlers-extract-only"
    }

    fn apply(&self, file: &mut FileEntry, _ctx: &FileContext<'_>) {
        // The source's base (system) handlers: extracted beside the custom
        // ones for comparison, never over the target's own release's.
        if let Some(rest) = file.entry.strip_prefix(SYSTEM_HANDLERS) {
            file.decision = FileDecision::Extract {
                to: format!("{SYSTEM_EXTRACT}{rest}"),
            };
            file.notes.push((
                self.id(),
                "base handler extracted for comparison, never published".into(),
            ));
            return;
        }
        if let Some(rest) = file.entry.strip_prefix("handlers/") {
            file.decision = FileDecision::Extract {
                to: rest.to_string(),
            };
            file.notes
                .push((self.id(), "extracted for manual publishing".into()));
        }
    }
}

/// `waves-base-language`: `Waves/fr-fr/x.wav` → `Waves/fr/x.wav`.
pub struct WavesBaseLanguage;

/// The Attendant waves area inside a component zip.
const WAVES: &str = "files/Resources/Attendant/Waves/";

impl FileRule for WavesBaseLanguage {
    fn id(&self) -> &'static str {
        "waves-base-language"
    }

    fn apply(&self, file: &mut FileEntry, ctx: &FileContext<'_>) {
        if ctx.mode != ImportMode::Migration || !names(ctx, self.id()) {
            return;
        }
        let FileDecision::Write { to, .. } = &mut file.decision else {
            return;
        };
        let Some(rest) = to.strip_prefix(WAVES) else {
            return;
        };
        let Some((lang, tail)) = rest.split_once('/') else {
            return;
        };
        if let Some((base, _region)) = lang.split_once('-') {
            let renamed = format!("{WAVES}{}/{tail}", base.to_ascii_lowercase());
            file.notes
                .push((self.id(), format!("{lang} → {}", base.to_ascii_lowercase())));
            *to = renamed;
        }
    }
}

/// `reports-production-custom`: a report whose `.rpt` already exists under
/// the target's Report File Path is a production report and is skipped,
/// in migration and in recovery mode. The reference, under "importing data
/// components in both Migration and Recovery modes": "Reports - […] If the
/// .rpt file exists in the Report File Path on the server, Interaction
/// Migrator assumes that the report is a production report and does not
/// import the equivalent .rpt file from the CIC configuration data file."
pub struct ProductionReports;

impl FileRule for ProductionReports {
    fn id(&self) -> &'static str {
        "reports-production-custom"
    }

    fn apply(&self, file: &mut FileEntry, ctx: &FileContext<'_>) {
        // Both modes (see above).
        if !names(ctx, self.id()) || !file.entry.ends_with(".rpt") {
            return;
        }
        let (Some(report_path), Some(name)) = (&ctx.report_path, file.entry.rsplit('/').next())
        else {
            return;
        };
        if (ctx.exists)(&format!("{}/{name}", report_path.trim_end_matches('/'))) {
            file.decision = FileDecision::Skip(
                "production report: it exists under the target's Report File Path".into(),
            );
            file.notes
                .push((self.id(), format!("{name} is a production report")));
        } else {
            file.notes
                .push((self.id(), format!("{name} is a custom report")));
        }
    }
}

/// `dialer-package`: the Dialer package (`dialer_migration.zip`) is
/// extracted for the Dialer server, replacing an unprocessed one, after a
/// migration; the Dialer server processes it (see `crate::dialer`).
pub struct DialerPackage;

impl FileRule for DialerPackage {
    fn id(&self) -> &'static str {
        "dialer-package"
    }

    fn apply(&self, file: &mut FileEntry, ctx: &FileContext<'_>) {
        if file.entry != crate::dialer::ENTRY || !names(ctx, self.id()) {
            return;
        }
        if ctx.mode == ImportMode::Migration {
            file.decision = FileDecision::Write {
                to: format!("files/{}", transit_server::layout::files::DIALER_PACKAGE),
                overwrite: true,
            };
            file.notes
                .push((self.id(), "extracted for the Dialer server".into()));
        } else {
            let reason = "the Dialer package is processed after a migration only";
            file.notes.push((self.id(), reason.into()));
            file.decision = FileDecision::Skip(reason.into());
        }
    }
}

/// `files-overwrite`: the LRA configuration and dial-plan files replace
/// the target's.
pub struct Overwrite;

impl FileRule for Overwrite {
    fn id(&self) -> &'static str {
        "files-overwrite"
    }

    fn apply(&self, file: &mut FileEntry, ctx: &FileContext<'_>) {
        if !names(ctx, self.id()) {
            return;
        }
        if let FileDecision::Write { overwrite, .. } = &mut file.decision {
            *overwrite = true;
        }
    }
}

/// `files-keep-existing`: any other file never replaces an existing one.
pub struct KeepExisting;

impl FileRule for KeepExisting {
    fn id(&self) -> &'static str {
        "files-keep-existing"
    }

    fn apply(&self, file: &mut FileEntry, ctx: &FileContext<'_>) {
        if let FileDecision::Write {
            to,
            overwrite: false,
        } = &file.decision
        {
            if (ctx.exists)(to) {
                let reason = format!("{to} exists on the target and is kept");
                file.notes.push((self.id(), reason.clone()));
                file.decision = FileDecision::Skip(reason);
            }
        }
    }
}

/// The folder a file rule renamed on the way in, as (from, to) folder
/// paths relative to the root, such as the waves' `…/fr-fr` → `…/fr`.
pub fn folder_renamed(entry: &str, file: &FileEntry) -> Option<(String, String)> {
    let FileDecision::Write { to, .. } = &file.decision else {
        return None;
    };
    if to == entry {
        return None;
    }
    let from_dir = entry.rsplit_once('/')?.0;
    let to_dir = to.rsplit_once('/')?.0;
    (from_dir != to_dir
        && file
            .notes
            .iter()
            .any(|(id, _)| *id == "waves-base-language"))
    .then(|| (from_dir.to_string(), to_dir.to_string()))
}

/// Every file rule, in the order they run.
pub static FILE_RULES: &[&dyn FileRule] = &[
    &HandlersToExtraction,
    &WavesBaseLanguage,
    &ProductionReports,
    &DialerPackage,
    &Overwrite,
    &KeepExisting,
];

/// Decides what happens to one file entry.
pub fn decide(entry: &str, ctx: &FileContext<'_>) -> FileEntry {
    let mut file = FileEntry::new(entry, ctx.mode);
    for rule in FILE_RULES {
        if matches!(file.decision, FileDecision::Skip(_)) {
            break;
        }
        rule.apply(&mut file, ctx);
    }
    file
}

#[cfg(test)]
mod tests {
    use super::super::testing::component;
    use super::*;

    fn ctx<'a>(id: &str, mode: ImportMode, exists: &'a dyn Fn(&str) -> bool) -> FileContext<'a> {
        FileContext {
            mode,
            component: component(id),
            exists,
            report_path: Some("files/Reports/Production".into()),
        }
    }

    #[test]
    fn handlers_go_to_the_extraction_folder_only() {
        let none = |_: &str| false;
        let f = decide(
            "handlers/Routing/A.ihd",
            &ctx("IP\\Handlers", ImportMode::Recovery, &none),
        );
        assert_eq!(
            f.decision,
            FileDecision::Extract {
                to: "Routing/A.ihd".into()
            }
        );
    }

    #[test]
    fn base_handlers_are_extracted_for_comparison_in_both_modes() {
        let none = |_: &str| false;
        for mode in [ImportMode::Migration, ImportMode::Recovery] {
            let f = decide(
                "files/Handlers/System/System_Email.ihd",
                &ctx("System Handlers", mode, &none),
            );
            assert_eq!(
                f.decision,
                FileDecision::Extract {
                    to: "System/System_Email.ihd".into()
                }
            );
        }
    }

    #[test]
    fn waves_base_language_renames_region_folders_in_migration_mode() {
        let none = |_: &str| false;
        let f = decide(
            "files/Resources/Attendant/Waves/fr-fr/g1.wav",
            &ctx("Attendant Waves", ImportMode::Migration, &none),
        );
        assert_eq!(
            f.decision,
            FileDecision::Write {
                to: "files/Resources/Attendant/Waves/fr/g1.wav".into(),
                overwrite: false
            }
        );
        let f = decide(
            "files/Resources/Attendant/Waves/fr-fr/g1.wav",
            &ctx("Attendant Waves", ImportMode::Recovery, &none),
        );
        assert_eq!(
            f.decision,
            FileDecision::Write {
                to: "files/Resources/Attendant/Waves/fr-fr/g1.wav".into(),
                overwrite: true
            }
        );
    }

    #[test]
    fn reports_production_custom_splits_by_the_targets_report_path() {
        let exists = |p: &str| p == "files/Reports/Production/Agent.rpt";
        let c = ctx("Reports", ImportMode::Migration, &exists);
        assert!(matches!(
            decide("files/Reports/Production/Agent.rpt", &c).decision,
            FileDecision::Skip(_)
        ));
        assert!(matches!(
            decide("files/Reports/Custom/Mine.rpt", &c).decision,
            FileDecision::Write { .. }
        ));
        let r = ctx("Reports", ImportMode::Recovery, &exists);
        assert!(
            matches!(
                decide("files/Reports/Production/Agent.rpt", &r).decision,
                FileDecision::Skip(_)
            ),
            "production reports are skipped in recovery too"
        );
        assert_eq!(
            decide("files/Reports/Custom/Mine.rpt", &r).decision,
            FileDecision::Write {
                to: "files/Reports/Custom/Mine.rpt".into(),
                overwrite: true
            }
        );
    }

    #[test]
    fn files_keep_existing_and_files_overwrite() {
        let exists = |_: &str| true;
        let prompts = decide(
            "files/Resources/Prompts/en-us/p1.wav",
            &ctx("Prompts", ImportMode::Migration, &exists),
        );
        assert!(
            matches!(prompts.decision, FileDecision::Skip(_)),
            "existing files are kept"
        );
        let lra = decide(
            "files/Resources/LRA/LRAConfig.xml",
            &ctx("LRA Configuration", ImportMode::Migration, &exists),
        );
        assert_eq!(
            lra.decision,
            FileDecision::Write {
                to: "files/Resources/LRA/LRAConfig.xml".into(),
                overwrite: true
            }
        );
        let dial = decide(
            "files/DialPlan/Default.i3dialplan",
            &ctx("Dial Plan", ImportMode::Migration, &exists),
        );
        assert!(matches!(
            dial.decision,
            FileDecision::Write {
                overwrite: true,
                ..
            }
        ));
        let restored = decide(
            "files/Resources/Prompts/en-us/p1.wav",
            &ctx("Prompts", ImportMode::Recovery, &exists),
        );
        assert!(
            matches!(
                restored.decision,
                FileDecision::Write {
                    overwrite: true,
                    ..
                }
            ),
            "recovery restores exactly"
        );
    }
}
