//! `manifest.json`: what the migration file holds, with sizes and SHA-256 digests.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::ArchiveError;
use crate::safety::is_safe_entry_path;
use crate::FORMAT_VERSION;

/// Folder of the outer zip that holds the inner component zips.
pub const COMPONENTS_DIR: &str = "components/";

/// Largest `manifest.json` this build reads (hostile-file bound).
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024 * 1024;

/// The top-level description of a migration file, stored as pretty JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Format version of the file; see [`crate::FORMAT_VERSION`].
    pub format_version: u32,
    /// The Migrator that wrote the file.
    pub migrator: MigratorInfo,
    /// The server the data was exported from.
    pub source: SourceInfo,
    /// Creation time, RFC 3339 (supplied by the caller), e.g. `2026-11-23T10:00:00Z`.
    pub created_utc: String,
    /// One record per inner component zip, in file order.
    pub components: Vec<ComponentRecord>,
}

/// Release of the Migrator that wrote the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigratorInfo {
    /// Release name, e.g. `"2026 R1"`.
    pub release: String,
    /// Build number.
    pub build: u32,
}

/// The exporting server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Server (host) name.
    pub server_name: String,
    /// Site name.
    pub site_name: String,
    /// Site id.
    pub site_id: u32,
    /// Server role, e.g. `"Primary"`.
    pub role: String,
    /// Product release of the server.
    pub product_release: String,
    /// Patch level of the server.
    pub patch: u32,
}

/// One component: an inner zip stored as one outer entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentRecord {
    /// Component id, e.g. `"Users"` or `"IP Phone Proxy Groups"`.
    pub id: String,
    /// Outer entry name, see [`component_entry_name`].
    pub entry: String,
    /// Size in bytes of the inner zip.
    pub size: u64,
    /// Lowercase hex SHA-256 of the inner zip bytes.
    pub sha256: String,
    /// Item counts (keys/values from the caller, files from the builder).
    pub counts: ItemCounts,
    /// Every entry inside the inner zip.
    pub entries: Vec<EntryRecord>,
}

/// How many items a component holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemCounts {
    /// Registry keys.
    pub keys: u64,
    /// Registry values.
    pub values: u64,
    /// Files added with [`crate::ComponentBuilder::add_file`].
    pub files: u64,
}

/// One entry inside an inner zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryRecord {
    /// Relative `/`-separated path inside the inner zip.
    pub path: String,
    /// Uncompressed size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256 of the uncompressed bytes.
    pub sha256: String,
}

/// The outer entry name of component `id`: `components/<id>.zip`, with every
/// character outside `[A-Za-z0-9._ -]` replaced by `_` (so `IP\Handlers` becomes
/// `components/IP_Handlers.zip`).
pub fn component_entry_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ' ' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{COMPONENTS_DIR}{safe}.zip")
}

impl Manifest {
    /// Finds the record of component `id`.
    pub fn component(&self, id: &str) -> Option<&ComponentRecord> {
        self.components.iter().find(|c| c.id == id)
    }

    /// Serializes as pretty JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec_pretty(self)
    }

    /// Parses and validates `manifest.json` bytes read from `path`.
    ///
    /// `format_version` is checked before full deserialization, so a newer
    /// manifest with unknown fields gives [`ArchiveError::NewerFormat`].
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self, ArchiveError> {
        let not_migr = |detail: String| ArchiveError::NotAMigrationFile {
            path: path.to_path_buf(),
            detail,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| not_migr(format!("manifest.json is not valid JSON: {e}")))?;
        let version = value
            .get("format_version")
            .and_then(serde_json::Value::as_u64)
            .ok_or_else(|| not_migr("manifest.json has no format_version".to_string()))?;
        if version > u64::from(FORMAT_VERSION) {
            return Err(ArchiveError::NewerFormat {
                path: path.to_path_buf(),
                found: u32::try_from(version).unwrap_or(u32::MAX),
                supported: FORMAT_VERSION,
            });
        }
        let manifest: Manifest = serde_json::from_value(value)
            .map_err(|e| not_migr(format!("manifest.json is invalid: {e}")))?;
        let mut ids = HashSet::new();
        let mut entries = HashSet::new();
        for c in &manifest.components {
            if !is_safe_entry_path(&c.entry) {
                return Err(ArchiveError::UnsafePath {
                    path: path.to_path_buf(),
                    entry: c.entry.clone(),
                });
            }
            if !c.entry.starts_with(COMPONENTS_DIR) || c.entry.ends_with('/') {
                return Err(not_migr(format!(
                    "component {:?} has entry {:?} outside {COMPONENTS_DIR}",
                    c.id, c.entry
                )));
            }
            if !ids.insert(c.id.as_str()) || !entries.insert(c.entry.as_str()) {
                return Err(not_migr(format!(
                    "component {:?} / entry {:?} listed twice",
                    c.id, c.entry
                )));
            }
        }
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            format_version: FORMAT_VERSION,
            migrator: MigratorInfo {
                release: "2026 R1".into(),
                build: 7,
            },
            source: SourceInfo {
                server_name: "ic1".into(),
                site_name: "Main".into(),
                site_id: 1,
                role: "Primary".into(),
                product_release: "2015 R4".into(),
                patch: 3,
            },
            created_utc: "2026-11-23T10:00:00Z".into(),
            components: vec![ComponentRecord {
                id: "IP\\Handlers".into(),
                entry: component_entry_name("IP\\Handlers"),
                size: 3,
                sha256: "00".into(),
                counts: ItemCounts::default(),
                entries: vec![],
            }],
        }
    }

    #[test]
    fn entry_names_are_sanitized() {
        assert_eq!(component_entry_name("Users"), "components/Users.zip");
        assert_eq!(
            component_entry_name("IP Phone Proxy Groups"),
            "components/IP Phone Proxy Groups.zip"
        );
        assert_eq!(
            component_entry_name("IP\\Handlers/../x:"),
            "components/IP_Handlers_.._x_.zip"
        );
    }

    #[test]
    fn round_trips() {
        let m = sample();
        let json = m.to_json().unwrap();
        assert_eq!(Manifest::parse(Path::new("f"), &json).unwrap(), m);
    }

    #[test]
    fn newer_version_with_unknown_fields() {
        let json = br#"{"format_version": 99, "whatever": {"new": true}}"#;
        match Manifest::parse(Path::new("f"), json) {
            Err(ArchiveError::NewerFormat { found: 99, .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn entry_outside_components_is_refused() {
        let mut m = sample();
        m.components[0].entry = "manifest.json".into();
        let json = m.to_json().unwrap();
        assert!(matches!(
            Manifest::parse(Path::new("f"), &json),
            Err(ArchiveError::NotAMigrationFile { .. })
        ));
        m.components[0].entry = "components/../../x.zip".into();
        let json = m.to_json().unwrap();
        assert!(matches!(
            Manifest::parse(Path::new("f"), &json),
            Err(ArchiveError::UnsafePath { .. })
        ));
    }

    #[test]
    fn garbage_is_not_a_migration_file() {
        assert!(matches!(
            Manifest::parse(Path::new("f"), b"\xff\x00"),
            Err(ArchiveError::NotAMigrationFile { .. })
        ));
    }
}
