//! `server.toml`: who a server is.

use crate::error::{Result, ServerError};
use crate::release::ProductRelease;
use serde::{Deserialize, Serialize};
use std::path::Path;
use transit_core::IoContext;

/// The role of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A CIC (contact-center) server.
    Cic,
    /// A Media Server.
    Media,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::Cic => "cic",
            Role::Media => "media",
        })
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cic" => Ok(Role::Cic),
            "media" => Ok(Role::Media),
            _ => Err(format!("`{s}` is not a role (expected cic or media)")),
        }
    }
}

/// The `[server]` table: the server's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// The server (host) name, such as `CIC01`.
    pub name: String,
    /// The site name, such as `Indianapolis`.
    pub site_name: String,
    /// The numeric site ID (1 to 32767).
    pub site_id: u32,
    /// `cic` or `media`.
    pub role: Role,
    /// The installed product release.
    pub product_release: ProductRelease,
    /// The installed patch level.
    pub patch: u32,
    /// The ID of the machine key that encrypts this server's secrets.
    pub machine_key_id: String,
}

/// The `[migrator]` table: the Migrator installed on the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigratorSection {
    /// The Migrator's release; it follows the product releases.
    pub release: ProductRelease,
    /// The Migrator's build number within its release.
    pub build: u32,
}

/// The whole of `server.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerIdentity {
    /// Who the server is.
    pub server: ServerSection,
    /// Which Migrator it runs.
    pub migrator: MigratorSection,
}

/// The highest site ID the vendor's product allows.
pub const MAX_SITE_ID: u32 = 32767;

/// Checks a server or site name: it becomes a registry key segment, so it
/// must be non-empty and hold no backslash or control character.
pub fn check_name(field: &str, value: &str) -> std::result::Result<(), String> {
    if value.trim().is_empty() {
        return Err(format!("`{field}` must not be empty"));
    }
    // It becomes a registry key segment and part of file names.
    if value.contains(['\\', '/'])
        || value.chars().any(char::is_control)
        || value == "."
        || value == ".."
    {
        return Err(format!(
            "`{field}` = {value:?} must not contain a backslash, slash or control character, nor be . or .."
        ));
    }
    if value.trim() != value {
        return Err(format!(
            "`{field}` = {value:?} has leading or trailing spaces"
        ));
    }
    Ok(())
}

impl ServerIdentity {
    /// Checks every field's value (types are checked by parsing).
    pub fn validate(&self) -> std::result::Result<(), String> {
        check_name("server.name", &self.server.name)?;
        check_name("server.site_name", &self.server.site_name)?;
        if !(1..=MAX_SITE_ID).contains(&self.server.site_id) {
            return Err(format!(
                "`server.site_id` = {} is outside 1..={MAX_SITE_ID}",
                self.server.site_id
            ));
        }
        if self.server.machine_key_id.len() != 16
            || !self
                .server
                .machine_key_id
                .bytes()
                .all(|b| b.is_ascii_hexdigit())
        {
            return Err("`server.machine_key_id` must be 16 hex digits".into());
        }
        Ok(())
    }

    /// Reads and validates `server.toml`.
    pub fn load(path: &Path) -> Result<ServerIdentity> {
        let bytes = std::fs::read(path).at(path)?;
        let bad = |reason: String| ServerError::BadIdentity {
            path: path.to_path_buf(),
            reason,
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            bad(format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ))
        })?;
        let identity: ServerIdentity =
            toml::from_str(&text).map_err(|e| bad(e.to_string().trim_end().to_string()))?;
        identity.validate().map_err(bad)?;
        Ok(identity)
    }

    /// Writes `server.toml` atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = toml::to_string_pretty(self).map_err(|e| ServerError::BadIdentity {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).at(&tmp)?;
        Ok(std::fs::rename(&tmp, path).at(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[server]
name = "CIC01"
site_name = "Indy"
site_id = 1
role = "cic"
product_release = "2015 R1"
patch = 3
machine_key_id = "0123456789abcdef"

[migrator]
release = "2015 R1"
build = 12
"#;

    fn load(text: &str) -> Result<ServerIdentity> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("server.toml");
        std::fs::write(&p, text).unwrap();
        ServerIdentity::load(&p)
    }

    #[test]
    fn loads_a_valid_identity() {
        let id = load(GOOD).unwrap();
        assert_eq!(id.server.name, "CIC01");
        assert_eq!(id.server.role, Role::Cic);
        assert_eq!(id.migrator.build, 12);
    }

    #[test]
    fn missing_field_is_named() {
        let err = load(&GOOD.replace("site_id = 1\n", "")).unwrap_err();
        assert!(err.to_string().contains("site_id"), "{err}");
    }

    #[test]
    fn invalid_fields_are_named() {
        let cases = [
            (GOOD.replace("site_id = 1", "site_id = 0"), "site_id"),
            (
                GOOD.replace("\"2015 R1\"\npatch", "\"2015 R9\"\npatch"),
                "2015 R9",
            ),
            (GOOD.replace("role = \"cic\"", "role = \"edge\""), "edge"),
            (
                GOOD.replace("name = \"CIC01\"", "name = \"a\\\\b\""),
                "server.name",
            ),
            (
                GOOD.replace("name = \"CIC01\"", "name = \"../x\""),
                "server.name",
            ),
            (
                GOOD.replace("name = \"CIC01\"", "name = \"..\""),
                "server.name",
            ),
            (GOOD.replace("0123456789abcdef", "xyz"), "machine_key_id"),
            (GOOD.replace("patch = 3", "patch = \"three\""), "patch"),
            (format!("{GOOD}\nextra = 1\n"), "extra"),
            ("not toml at all [".to_string(), "server.toml"),
        ];
        for (text, needle) in cases {
            let err = load(&text).unwrap_err();
            assert!(
                matches!(err, ServerError::BadIdentity { .. }),
                "{needle}: {err:?}"
            );
            assert!(err.to_string().contains(needle), "{needle}: {err}");
        }
    }
}
