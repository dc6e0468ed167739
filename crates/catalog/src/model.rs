//! The catalog's data model, as read from the embedded TOML.

use serde::Deserialize;

/// How the importer treats a component's data (the vendor's "Import Methods").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportMethod {
    /// DS entries overwrite attribute by attribute; target-only attributes stay.
    DsOverwrite,
    /// Files never overwrite an existing file.
    FileKeepExisting,
    /// Files overwrite existing ones (LRA configuration, dial plan).
    FileOverwrite,
    /// Entries merge with the target's; nothing is deleted (DNIS mappings).
    Merge,
    /// Entries import as `<name>_migrated` beside the target's own.
    RenameMigrated,
    /// Data goes to the extraction folder only (handlers).
    ExtractOnly,
    /// Default entries are skipped in migration mode (data sources).
    SkipDefault,
}

impl ImportMethod {
    /// The kebab-case name used in the catalog files.
    pub fn name(self) -> &'static str {
        match self {
            ImportMethod::DsOverwrite => "ds-overwrite",
            ImportMethod::FileKeepExisting => "file-keep-existing",
            ImportMethod::FileOverwrite => "file-overwrite",
            ImportMethod::Merge => "merge",
            ImportMethod::RenameMigrated => "rename-migrated",
            ImportMethod::ExtractOnly => "extract-only",
            ImportMethod::SkipDefault => "skip-default",
        }
    }
}

/// A node of the component tree that only groups components.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// The group's name, shown in the tree.
    pub id: String,
}

/// One data component: what it exports and how it imports.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// The component's ID, also its display name (such as `Users`).
    pub id: String,
    /// Other names it answers to (console node names, older labels).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// The tree group it sits under.
    pub parent: String,
    /// Registry subtrees, with `{ds}` and `{server}` placeholders.
    #[serde(default)]
    pub registry: Vec<String>,
    /// File areas or files under `files/`, `/`-separated.
    #[serde(default)]
    pub files: Vec<String>,
    /// Whether it takes the custom-handlers folder chosen at export time.
    #[serde(default)]
    pub custom_handlers: bool,
    /// How the importer treats it.
    pub method: ImportMethod,
    /// The import rules (by ID) that apply to it.
    #[serde(default)]
    pub rules: Vec<String>,
    /// Components that must travel with it.
    #[serde(default)]
    pub requires: Vec<String>,
    /// Why those components are required, for the closure's explanation.
    #[serde(default)]
    pub why: Option<String>,
}

impl Component {
    /// True when `name` is this component's ID or one of its aliases,
    /// ignoring letter case and surrounding spaces.
    pub fn answers_to(&self, name: &str) -> bool {
        let name = name.trim();
        self.id.eq_ignore_ascii_case(name)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(name))
    }

    /// The registry selectors with `{ds}` and `{server}` filled in.
    pub fn registry_keys(&self, ds: &str, server: &str) -> Vec<String> {
        self.registry
            .iter()
            .map(|s| s.replace("{ds}", ds).replace("{server}", server))
            .collect()
    }
}

/// The import rule IDs a catalog may name. The importer implements one unit
/// per ID; a catalog naming anything else is refused when loaded.
pub const RULE_IDS: &[&str] = &[
    "ds-overwrite-attributes",
    "server-params-migrated",
    "ip-tables-migrated",
    "registration-groups-migrated",
    "dnis-merge",
    "handlers-extract-only",
    "data-sources-skip-default",
    "mail-providers-inactive",
    "users-rehome",
    "users-status-live-data",
    "client-button-icons",
    "dial-plan-classifications",
    "reports-production-custom",
    "attendant-overwrite",
    "waves-base-language",
    "files-keep-existing",
    "files-overwrite",
    "secrets-reset",
    "dialer-processor",
    "dialer-package",
    "recorder-rescue-id-dev-mode",
    "rename-server-site",
    "telephony-redetect",
];
