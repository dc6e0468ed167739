//! The import rules (docs/migrator.md, "Import"), one small unit per rule.
//!
//! A rule has an ID (the one the catalog names and the report prints), a
//! predicate saying when it applies, and an apply step that changes one
//! registry key (or one file) and records what it did. [`KEY_RULES`] and
//! [`FILE_RULES`] are the tables, read top to bottom; the import engine
//! runs every applicable rule, in order, on each key and file of a
//! component.

mod attendant;
mod client_buttons;
pub mod component_tasks;
mod data_sources;
mod dial_plan;
pub mod dialer;
mod dnis;
mod ds_overwrite;
pub mod file_names;
mod files;
mod handlers;
mod mail_providers;
pub mod migrated_suffix;
pub mod name_change;
mod profile_languages;
mod rename_server_site;
mod rescue_id;
mod secrets;
mod telephony;
mod users;

use super::ImportMode;
use transit_catalog::Component;
use transit_registry::{KeyPath, NamedValue, ValueData};
use transit_server::ProductRelease;

pub use files::{
    decide, folder_renamed, report_path, FileContext, FileDecision, FileEntry, FileRule,
    FILE_RULES, SYSTEM_EXTRACT,
};

/// One registry key from a migration file, as the rules see and change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The key's path (rules may rewrite it).
    pub path: KeyPath,
    /// Its values (rules may change, add or remove them).
    pub values: Vec<NamedValue>,
}

impl KeyEntry {
    /// The value with this name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&ValueData> {
        self.values
            .iter()
            .find(|v| v.name.eq_ignore_ascii_case(name))
            .map(|v| &v.data)
    }

    /// Sets a value, replacing one of the same name.
    pub fn set(&mut self, name: &str, data: ValueData) {
        match self
            .values
            .iter_mut()
            .find(|v| v.name.eq_ignore_ascii_case(name))
        {
            Some(v) => v.data = data,
            None => self.values.push(NamedValue {
                name: name.to_string(),
                data,
            }),
        }
    }

    /// Removes a value; returns it if it was there.
    pub fn take(&mut self, name: &str) -> Option<NamedValue> {
        let at = self
            .values
            .iter()
            .position(|v| v.name.eq_ignore_ascii_case(name))?;
        Some(self.values.remove(at))
    }
}

/// A server's name and site, which locate its DS key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The server name.
    pub server: String,
    /// The site name.
    pub site: String,
    /// Its DS key, worked out once (the rules consult it for every key).
    ds: KeyPath,
    /// Its `<server>\IP` key outside DS.
    ip: KeyPath,
}

impl Names {
    /// The names of a server at a site.
    pub fn new(server: &str, site: &str) -> Names {
        Names {
            server: server.to_string(),
            site: site.to_string(),
            ds: transit_server::layout::ds_server(site, server),
            ip: transit_server::layout::server_ip(server),
        }
    }

    /// `EIC\Directory Services\Root\<site>\Production\<server>`.
    pub fn ds(&self) -> &KeyPath {
        &self.ds
    }

    /// `EIC\<server>\IP`, the server-level key outside DS.
    pub fn ip(&self) -> &KeyPath {
        &self.ip
    }

    /// One DS container of this server.
    pub fn container(&self, container: &str) -> KeyPath {
        self.ds
            .join(container)
            .expect("container names are valid key segments")
    }
}

/// Everything a rule may consult.
pub struct RuleContext<'a> {
    /// Migration or recovery.
    pub mode: ImportMode,
    /// The component being imported.
    pub component: &'a Component,
    /// The server the file came from.
    pub source: &'a Names,
    /// The server being imported into.
    pub target: &'a Names,
    /// The target's product release.
    pub target_release: ProductRelease,
    /// `--dev-mode`.
    pub dev_mode: bool,
    /// The source and the target run the same product release.
    pub same_release: bool,
    /// Looks up the target's current values of a key.
    pub existing: &'a dyn TargetKeys,
}

/// The target's registry as the rules read it, while the import writes.
pub trait TargetKeys {
    /// The key's current values (`None` if the key is absent).
    fn values(&self, path: &KeyPath) -> Option<Vec<NamedValue>>;

    /// The names of the key's current values, in no particular order
    /// (`None` if the key is absent); cheaper than [`values`](Self::values)
    /// when the data is not needed.
    fn value_names(&self, path: &KeyPath) -> Option<Vec<String>> {
        self.values(path)
            .map(|values| values.into_iter().map(|v| v.name).collect())
    }
}

/// A function from a key to its values is a target (the rule tests' way).
impl<F: Fn(&KeyPath) -> Option<Vec<NamedValue>>> TargetKeys for F {
    fn values(&self, path: &KeyPath) -> Option<Vec<NamedValue>> {
        self(path)
    }
}

impl RuleContext<'_> {
    /// True when the component's catalog entry names rule `id`.
    pub fn names_rule(&self, id: &str) -> bool {
        self.component.rules.iter().any(|r| r == id)
    }

    /// The target DS container of the component's first registry selector,
    /// after renaming (such as `…\<target server>\Users`).
    pub fn target_container(&self, container: &str) -> KeyPath {
        match self.mode {
            ImportMode::Migration => self.target.container(container),
            ImportMode::Recovery => self.source.container(container),
        }
    }
}

/// A manual task the report must list after the import.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FollowUp {
    /// Compare an original and a `_migrated` entry, keep one.
    ReviewMigrated {
        /// The container.
        container: String,
        /// The original entry name.
        original: String,
        /// The imported entry name.
        imported: String,
        /// The target's own values (`None` when the target has no such entry).
        original_values: Option<String>,
        /// The imported values.
        imported_values: String,
    },
    /// A secret cannot be decrypted here and must be set again.
    ResetSecret {
        /// The structured parameter.
        parameter: String,
    },
    /// A handler was extracted and must be published by hand.
    PublishHandler {
        /// The handler file, relative to the extraction folder.
        handler: String,
    },
    /// Telephony resources must be re-detected.
    RedetectTelephony,
    /// Data source setup must be re-run (IC Setup Assistant).
    RerunDataSourceSetup,
    /// A mail provider was imported inactive.
    ReactivateMailProvider {
        /// The provider.
        provider: String,
    },
    /// The server's name changed: certificates tie to a host name and must
    /// be recreated (see [`name_change`]).
    RecreateCertificates {
        /// The role of the renamed server (`cic` or `media`).
        role: String,
        /// The source's server name.
        from: String,
        /// The target's server name.
        to: String,
    },
    /// Restart the server service so the import takes effect.
    RestartService,
    /// AdminConfig was imported: license allocation may need adjusting.
    AdjustLicenseAllocation,
    /// Lines were migrated: SIP lines need the same network adapter (NIC) name.
    CheckSipNic,
    /// Handlers were imported: modified base handlers must be re-published.
    RepublishBaseHandlers,
    /// Server parameters were imported: run IC Setup Assistant for the
    /// queue statistics intervals.
    QueueStatisticsIntervals,
    /// Attendant profiles were imported: errors are fixed by hand.
    FixAttendantErrors,
    /// The Recorder was migrated: update its recordings storage path.
    UpdateRecorderStoragePath,
    /// Tracker Config was migrated: the Tracker database must be migrated first.
    TrackerDatabaseFirst,
}

/// What the rules decided for one key, and what they did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// The key is not imported, for this reason.
    pub skip: Option<String>,
    /// What each rule changed, as (rule ID, description).
    pub notes: Vec<(&'static str, String)>,
    /// Further keys to write besides this one (such as Live Data).
    pub extra: Vec<KeyEntry>,
    /// Manual tasks for the report.
    pub follow_ups: Vec<FollowUp>,
    /// Values kept from the target instead of the file's (merge conflicts).
    pub conflicts: Vec<String>,
}

impl Effects {
    /// Records that `rule` skipped the key.
    pub fn skip(&mut self, rule: &'static str, reason: impl Into<String>) {
        let reason = reason.into();
        self.notes.push((rule, reason.clone()));
        self.skip = Some(reason);
    }

    /// Records a change.
    pub fn note(&mut self, rule: &'static str, what: impl Into<String>) {
        self.notes.push((rule, what.into()));
    }
}

/// A rule over one registry key.
pub trait KeyRule: Sync {
    /// The rule's ID, as the catalog and the report name it.
    fn id(&self) -> &'static str;
    /// Whether it applies to this component in this mode.
    fn applies(&self, ctx: &RuleContext<'_>) -> bool;
    /// Changes the key and records what it did.
    fn apply(&self, entry: &mut KeyEntry, ctx: &RuleContext<'_>, effects: &mut Effects);
    /// Changes made once per component (before its keys), such as clearing
    /// the active Attendant configuration; returns keys to delete first.
    fn before_component(&self, _ctx: &RuleContext<'_>, _effects: &mut Effects) -> Vec<KeyPath> {
        Vec::new()
    }
    /// Manual tasks the component as a whole calls for, whatever its keys
    /// (such as re-detecting telephony resources).
    fn component_follow_ups(&self, _ctx: &RuleContext<'_>) -> Vec<FollowUp> {
        Vec::new()
    }
}

/// The follow-ups every applicable rule asks for because `ctx`'s
/// component was imported.
pub fn component_follow_ups(ctx: &RuleContext<'_>) -> Vec<FollowUp> {
    KEY_RULES
        .iter()
        .filter(|rule| rule.applies(ctx))
        .flat_map(|rule| rule.component_follow_ups(ctx))
        .chain(component_tasks::tasks(ctx))
        .collect()
}

/// Renders values as `name=data; …` for the report.
pub fn render_values(values: &[NamedValue]) -> String {
    values
        .iter()
        .map(|v| {
            let name = if v.name.is_empty() { "@" } else { &v.name };
            match &v.data {
                // One line per report entry: list items inline.
                ValueData::MultiSz(items) => format!("{name}=[{}]", items.join(", ")),
                data => format!("{name}={data}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Applies in migration mode when the component names the rule.
pub(crate) fn migration_rule(ctx: &RuleContext<'_>, id: &str) -> bool {
    ctx.mode == ImportMode::Migration && ctx.names_rule(id)
}

/// Every registry rule, in the order they run. Renaming runs first so later
/// rules see target paths.
pub static KEY_RULES: &[&dyn KeyRule] = &[
    &rename_server_site::RenameServerSite,
    &rescue_id::RescueIdDevMode,
    &handlers::HandlersExtractOnly,
    &data_sources::SkipDefaultDataSources,
    &migrated_suffix::SERVER_PARAMETERS,
    &migrated_suffix::IP_TABLES,
    &migrated_suffix::REGISTRATION_GROUPS,
    &users::Rehome,
    &users::StatusToLiveData,
    &mail_providers::Inactive,
    &client_buttons::ValidIcon,
    &dial_plan::Classifications,
    &secrets::FlagForReset,
    &dialer::ProcessorSwitch,
    &attendant::OverwriteActive,
    &profile_languages::ProfileLanguages,
    &dnis::Merge,
    &ds_overwrite::OverwriteAttributes,
    &telephony::Redetect,
];

/// Runs every applicable key rule on one key.
pub fn apply_key_rules(entry: &mut KeyEntry, ctx: &RuleContext<'_>) -> Effects {
    let mut effects = Effects::default();
    for rule in KEY_RULES {
        if effects.skip.is_some() {
            break;
        }
        if rule.applies(ctx) {
            rule.apply(entry, ctx, &mut effects);
        }
    }
    effects
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod table_tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn every_rule_the_catalog_names_is_implemented_once() {
        let mut ids: Vec<&str> = KEY_RULES.iter().map(|r| r.id()).collect();
        ids.extend(FILE_RULES.iter().map(|r| r.id()));
        for id in transit_catalog::RULE_IDS {
            assert!(ids.contains(id), "rule {id} has no implementation");
        }
        let mut key_ids: Vec<&str> = KEY_RULES.iter().map(|r| r.id()).collect();
        key_ids.sort();
        key_ids.dedup();
        assert_eq!(
            key_ids.len(),
            KEY_RULES.len(),
            "a key rule ID is used twice"
        );
    }

    #[test]
    fn the_table_runs_in_order_and_stops_at_a_skip() {
        with_ctx("Users", ImportMode::Migration, false, |ctx| {
            let mut e = entry(
                &ctx.source.container("Users").join("jdoe").unwrap(),
                &[("Home Site", sz("Indy")), ("Status", sz("Available"))],
            );
            let fx = apply_key_rules(&mut e, ctx);
            // Renamed first, so the user rules recognised the target path.
            assert_eq!(e.path, ctx.target.container("Users").join("jdoe").unwrap());
            assert_eq!(e.get("Home Site"), Some(&sz("Paris")));
            assert_eq!(fx.extra.len(), 1, "status moved to Live Data");
        });
        with_ctx("IP\\Handlers", ImportMode::Migration, false, |ctx| {
            let mut e = entry(&KeyPath::parse("EIC\\IP\\Handlers\\H").unwrap(), &[]);
            let fx = apply_key_rules(&mut e, ctx);
            assert!(fx.skip.is_some());
        });
    }
}
