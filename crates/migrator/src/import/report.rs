//! The post-import report (M-08), as JSON and as readable text.

use super::rules::FollowUp;
use super::ImportMode;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The JSON report's name in the extraction folder.
pub const REPORT_JSON: &str = "import-report.json";
/// The text report's name in the extraction folder.
pub const REPORT_TEXT: &str = "import-report.txt";
/// The copy of the last report in the server's `logs/`.
pub const LAST_REPORT: &str = "last-import-report.json";

/// What happened to one component.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ComponentReport {
    /// The component.
    pub id: String,
    /// Registry keys written.
    pub keys_imported: u64,
    /// Registry values written.
    pub values_imported: u64,
    /// Keys not imported, with the reason.
    pub keys_skipped: Vec<(String, String)>,
    /// Keys imported under another name (original, imported).
    pub renamed: Vec<(String, String)>,
    /// Values kept from the target instead of the file's (merge conflicts).
    pub conflicts: Vec<String>,
    /// Files written into the server root.
    pub files_written: u64,
    /// Files placed in the extraction folder.
    pub files_extracted: u64,
    /// Files not imported, with the reason.
    pub files_skipped: Vec<(String, String)>,
    /// Files whose server and site names were rewritten (path, what changed).
    pub files_rewritten: Vec<(String, String)>,
    /// The entries imported: the names directly under the component's
    /// registry keys (users, workgroups, parameters, …), as imported.
    pub items: Vec<String>,
    /// The files written into the server root and extracted, by path.
    pub files: Vec<String>,
    /// Folders renamed on the way in (from, to), such as the Attendant
    /// waves' `fr-fr` → `fr`.
    pub folders_renamed: Vec<(String, String)>,
    /// What the target already had that followed a rename (what, how),
    /// such as its own `Waves/fr-fr` folder.
    pub target_renamed: Vec<(String, String)>,
    /// How often each rule acted.
    pub rules: BTreeMap<String, u64>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The migration file.
    pub file: String,
    /// `migration` or `recovery`.
    pub mode: String,
    /// The source server, from the manifest.
    pub source_server: String,
    /// The target server.
    pub target_server: String,
    /// The source's product release, from the manifest.
    pub source_release: String,
    /// The target's product release.
    pub target_release: String,
    /// The Migrator release and build that wrote the file.
    pub file_migrator: String,
    /// The target's Migrator release and build, which imported it.
    pub target_migrator: String,
    /// Nothing was changed (`--dry-run`).
    pub dry_run: bool,
    /// The restore point taken first, if any.
    pub restore_point: Option<String>,
    /// Per component.
    pub components: Vec<ComponentReport>,
    /// The manual follow-ups, each once.
    pub follow_ups: Vec<FollowUp>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// The follow-ups already listed, to list each once in linear time.
    #[serde(skip)]
    seen: std::collections::HashSet<FollowUp>,
}

impl ImportReport {
    pub(crate) fn new(
        file: &str,
        mode: ImportMode,
        source: &str,
        source_release: &str,
        target: &str,
        dry_run: bool,
    ) -> ImportReport {
        ImportReport {
            file: file.to_string(),
            mode: match mode {
                ImportMode::Migration => "migration",
                ImportMode::Recovery => "recovery",
            }
            .into(),
            source_server: source.to_string(),
            target_server: target.to_string(),
            source_release: source_release.to_string(),
            target_release: String::new(),
            file_migrator: String::new(),
            target_migrator: String::new(),
            dry_run,
            restore_point: None,
            components: Vec::new(),
            follow_ups: Vec::new(),
            elapsed_ms: 0,
            seen: Default::default(),
        }
    }

    /// Re-reads the target's side of every `_migrated` pair with `current`
    /// (container, original name → rendered values), after every rule has
    /// run, so the report shows what the server holds (such as the Dialer
    /// rule's `1`) and not a value from before the rules.
    pub(crate) fn refresh_originals(&mut self, current: impl Fn(&str, &str) -> Option<String>) {
        for f in &mut self.follow_ups {
            if let FollowUp::ReviewMigrated {
                container,
                original,
                original_values,
                ..
            } = f
            {
                *original_values = current(container, original);
            }
        }
        self.seen = self.follow_ups.iter().cloned().collect();
    }

    pub(crate) fn follow_up(&mut self, f: FollowUp) {
        if self.seen.insert(f.clone()) {
            self.follow_ups.push(f);
        }
    }

    /// Writes the report where `transit import` and the wizard put it:
    /// `import-report.json` and `import-report.txt` in the extraction
    /// folder (created if needed), and `logs/last-import-report.json` of
    /// the server, for the support bundle. Returns the text report's path.
    pub fn save(
        &self,
        server: &transit_server::ServerRoot,
        extract_to: &std::path::Path,
    ) -> Result<std::path::PathBuf, transit_core::PathIoError> {
        use transit_core::IoContext;
        let json = self.to_json();
        let text_path = extract_to.join(REPORT_TEXT);
        std::fs::create_dir_all(extract_to).at(extract_to)?;
        let json_path = extract_to.join(REPORT_JSON);
        std::fs::write(&json_path, &json).at(&json_path)?;
        std::fs::write(&text_path, self.to_text()).at(&text_path)?;
        let logs = server.logs_dir();
        std::fs::create_dir_all(&logs).at(&logs)?;
        let last = logs.join(LAST_REPORT);
        std::fs::write(&last, &json).at(&last)?;
        Ok(text_path)
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises")
    }

    /// The report as readable text.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Import {}{} of {} ({} → {}) in {} ms",
            self.mode,
            if self.dry_run {
                " (dry run: nothing changed)"
            } else {
                ""
            },
            self.file,
            self.source_server,
            self.target_server,
            self.elapsed_ms
        );
        let _ = writeln!(
            t,
            "Releases: {} → {}; file written by Migrator {}, imported by Migrator {}",
            self.source_release, self.target_release, self.file_migrator, self.target_migrator
        );
        if let Some(rp) = &self.restore_point {
            let _ = writeln!(t, "Restore point: {rp} (undo with `transit rollback {rp}`)");
        }
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "{:<30} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "component", "keys", "values", "skipped", "renamed", "files", "skipped"
        );
        for c in &self.components {
            let _ = writeln!(
                t,
                "{:<30} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
                c.id,
                c.keys_imported,
                c.values_imported,
                c.keys_skipped.len(),
                c.renamed.len(),
                c.files_written + c.files_extracted,
                c.files_skipped.len()
            );
        }
        for c in &self.components {
            for (key, reason) in c.keys_skipped.iter().take(20) {
                let _ = writeln!(t, "  skipped {}: {key}: {reason}", c.id);
            }
            for conflict in &c.conflicts {
                let _ = writeln!(t, "  conflict {}: {conflict}", c.id);
            }
            for (from, to) in &c.folders_renamed {
                let _ = writeln!(t, "  renamed folder {}: {from} → {to}", c.id);
            }
            for (what, how) in &c.target_renamed {
                let _ = writeln!(t, "  target's own {}: {what} {how}", c.id);
            }
            if !c.items.is_empty() {
                const SHOWN: usize = 12;
                let more = c.items.len().saturating_sub(SHOWN);
                let _ = writeln!(
                    t,
                    "  imported {}: {}{}",
                    c.id,
                    c.items[..c.items.len().min(SHOWN)].join(", "),
                    if more > 0 {
                        format!(" … and {more} more (all in import-report.json)")
                    } else {
                        String::new()
                    }
                );
            }
            for (path, what) in &c.files_rewritten {
                let _ = writeln!(t, "  rewrote {}: {path}: {what}", c.id);
            }
        }
        if !self.follow_ups.is_empty() {
            let _ = writeln!(t, "\nManual follow-ups (`transit review server-params --keep original|imported` finishes the _migrated pairs):");
            for f in &self.follow_ups {
                let line = match f {
                    FollowUp::ReviewMigrated {
                        container,
                        original,
                        imported,
                        original_values,
                        imported_values,
                    } => format!(
                        "review {container}: {original} [{}] vs {imported} [{imported_values}]",
                        original_values.as_deref().unwrap_or("not on this server")
                    ),
                    FollowUp::ResetSecret { parameter } => {
                        format!("reset the secret of structured parameter {parameter}")
                    }
                    FollowUp::PublishHandler { handler } => {
                        format!("publish handler {handler} from the extraction folder")
                    }
                    FollowUp::RedetectTelephony => {
                        "re-detect telephony resources in Interaction Administrator".into()
                    }
                    FollowUp::RerunDataSourceSetup => {
                        "re-run setup for data sources (IC Setup Assistant)".into()
                    }
                    FollowUp::ReactivateMailProvider { provider } => {
                        format!("re-activate mail provider {provider}")
                    }
                    FollowUp::RestartService => {
                        "restart the server service so the imported configuration takes effect".into()
                    }
                    FollowUp::AdjustLicenseAllocation => {
                        "adjust license allocation (AdminConfig was imported; licensing changes with each release)".into()
                    }
                    FollowUp::CheckSipNic => {
                        "SIP lines: check the network adapter and that the NIC (or NIC team) has the same name as on the source".into()
                    }
                    FollowUp::RepublishBaseHandlers => {
                        "re-publish every modified base handler on this server (base handlers change with each release; compare Handlers/System with `transit diff`)".into()
                    }
                    FollowUp::QueueStatisticsIntervals => {
                        "run IC Setup Assistant to move the queue statistics intervals (LineQueueReportingInterval, QueuePeriodStatisticsInterval) to Report Configuration".into()
                    }
                    FollowUp::FixAttendantErrors => {
                        "open Interaction Attendant and fix by hand any error the imported profiles show".into()
                    }
                    FollowUp::UpdateRecorderStoragePath => {
                        "copy the stored recordings and update the Recorder's recordings storage path".into()
                    }
                    FollowUp::TrackerDatabaseFirst => {
                        "Tracker Config: the Tracker database must have been migrated (DB assistant) before this import, or entries duplicate".into()
                    }
                    FollowUp::RecreateCertificates { role, from, to } => {
                        if role == "media" {
                            format!("recreate the certificates: this Media Server was {from} and is now {to}; remove and add back every CIC server on it and mark their certificates Trusted (CIC Server Sub-System Certificates Configuration)")
                        } else {
                            format!("recreate the certificates: this CIC server was {from} and is now {to}; add {to} to each Media Server and mark its certificates Trusted")
                        }
                    }
                };
                let _ = writeln!(t, "  - {line}");
            }
        }
        t
    }
}
