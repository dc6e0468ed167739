//! The bundle manifest: the vendor's metadata of one update.
//!
//! A manifest is TOML. The publisher writes every field except
//! `[payload]`, which `transit update bundle` fills in (the payload's
//! length and SHA-256) before signing, so the publisher's signature
//! covers the payload too. Each field is validated on its own and an
//! error names the field.

use crate::version::InstallVersion;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use transit_core::{ErrorKind, Kind};
use transit_server::release::ProductRelease;

/// The vendor's install types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InstallType {
    /// A release's GA install (`.msi`): patch 0.
    Install,
    /// A cumulative patch of a release (`.msp`).
    Patch,
    /// An Engineering Special: a fix on top of one patch level.
    #[serde(rename = "ES")]
    Es,
}

impl fmt::Display for InstallType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InstallType::Install => "Install",
            InstallType::Patch => "Patch",
            InstallType::Es => "ES",
        })
    }
}

/// The payload's identity, filled in by the bundler.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PayloadInfo {
    /// The payload's length in bytes.
    pub length: u64,
    /// The payload's SHA-256, lowercase hex.
    pub sha256: String,
}

/// The metadata of one update, as the publisher signs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The application (product component), such as `Interaction Desktop`.
    pub application: String,
    /// The release, such as `2018 R1`.
    #[serde(with = "release_text")]
    pub release: ProductRelease,
    /// The patch number; 0 for the release's GA install.
    pub patch: u16,
    /// Install, Patch or ES.
    pub install_type: InstallType,
    /// The install version `MM.mm.PP.BB`.
    pub install_version: InstallVersion,
    /// The product's upgrade code (a GUID that never changes for a product).
    pub upgrade_code: String,
    /// The product code (a GUID shared by a release and its patches).
    pub product_code: String,
    /// Properties passed to the installer (`providerservername=…`).
    #[serde(default)]
    pub installer_properties: BTreeMap<String, String>,
    /// Pushed to every machine at its next check-in, whatever its settings.
    #[serde(default)]
    pub high_priority: bool,
    /// A link to the release's documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation: Option<String>,
    /// Applications whose install travels with this update.
    #[serde(default)]
    pub related_installs: Vec<String>,
    /// Who published the update; checked against the allow-list.
    pub publisher: String,
    /// The payload's length and hash (written by the bundler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<PayloadInfo>,
}

mod release_text {
    use super::*;

    pub fn serialize<S: serde::Serializer>(r: &ProductRelease, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(r)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ProductRelease, D::Error> {
        let text = String::deserialize(d)?;
        ProductRelease::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// A manifest that does not parse or validate.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not TOML, or a field of the wrong type or name.
    #[error("manifest: {0}")]
    Parse(String),
    /// One field holds a value that is not allowed.
    #[error("manifest field `{field}`: {problem}")]
    Field {
        /// The field's name.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
}

impl Kind for ManifestError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::BadInput
    }
}

fn field(field: &'static str, problem: impl Into<String>) -> ManifestError {
    ManifestError::Field {
        field,
        problem: problem.into(),
    }
}

fn is_guid(text: &str) -> bool {
    let inner = match text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        Some(inner) => inner,
        None => return false,
    };
    let groups: Vec<&str> = inner.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn plain_text(name: &'static str, text: &str, max: usize) -> Result<(), ManifestError> {
    if text.trim().is_empty() {
        return Err(field(name, "must not be empty"));
    }
    if text.len() > max {
        return Err(field(name, format!("longer than {max} bytes")));
    }
    if text.chars().any(char::is_control) || text.trim() != text {
        return Err(field(
            name,
            "must not hold control characters or surrounding spaces",
        ));
    }
    Ok(())
}

impl Manifest {
    /// Parses and validates manifest text.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let manifest: Manifest =
            toml::from_str(text).map_err(|e| ManifestError::Parse(e.message().to_string()))?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The manifest as TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("a manifest always serialises")
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> Result<(), ManifestError> {
        plain_text("application", &self.application, 200)?;
        plain_text("publisher", &self.publisher, 200)?;
        match self.install_type {
            InstallType::Install if self.patch != 0 => {
                return Err(field(
                    "patch",
                    "an Install is a release's GA install: patch must be 0",
                ))
            }
            InstallType::Patch if self.patch == 0 => {
                return Err(field("patch", "a Patch has a patch number of 1 or more"))
            }
            _ => {}
        }
        if let ProductRelease::Yearly { year, release } = self.release {
            let v = self.install_version;
            if v.major != year % 100 || v.minor != u16::from(release) {
                return Err(field(
                    "install_version",
                    format!(
                        "{v} does not belong to release {}: it must start with {:02}.{:02}",
                        self.release,
                        year % 100,
                        release
                    ),
                ));
            }
            if v.patch != self.patch {
                return Err(field(
                    "install_version",
                    format!(
                        "{v} has patch {} but the manifest says patch {}",
                        v.patch, self.patch
                    ),
                ));
            }
        }
        if !is_guid(&self.upgrade_code) {
            return Err(field(
                "upgrade_code",
                "must be a GUID such as {9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}",
            ));
        }
        if !is_guid(&self.product_code) {
            return Err(field(
                "product_code",
                "must be a GUID such as {9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}",
            ));
        }
        for (name, value) in &self.installer_properties {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(field(
                    "installer_properties",
                    format!("`{name}` is not a property name (letters, digits, _)"),
                ));
            }
            if value.chars().any(char::is_control) {
                return Err(field(
                    "installer_properties",
                    format!("`{name}` holds control characters"),
                ));
            }
        }
        if let Some(doc) = &self.documentation {
            if !(doc.starts_with("https://") || doc.starts_with("http://"))
                || doc.chars().any(char::is_whitespace)
            {
                return Err(field("documentation", "must be an http(s) link"));
            }
        }
        for related in &self.related_installs {
            plain_text("related_installs", related, 200)?;
            if related.eq_ignore_ascii_case(&self.application) {
                return Err(field(
                    "related_installs",
                    "an update cannot be its own related install",
                ));
            }
        }
        if let Some(payload) = &self.payload {
            if payload.sha256.len() != 64
                || !payload
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            {
                return Err(field("payload", "sha256 must be 64 lowercase hex digits"));
            }
        }
        Ok(())
    }

    /// The target name of this update in the TUF repository:
    /// `<application>-<install version>-<type>.tar.zst`, with the
    /// application lowercased and anything but letters and digits as `-`.
    pub fn target_name(&self) -> String {
        let mut slug = String::new();
        for c in self.application.chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug = slug.trim_matches('-');
        let kind = match self.install_type {
            InstallType::Install => "install",
            InstallType::Patch => "patch",
            InstallType::Es => "es",
        };
        format!("{slug}-{}-{kind}.tar.zst", self.install_version)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub const SAMPLE: &str = r#"
application = "Interaction Desktop"
release = "2018 R1"
patch = 3
install_type = "Patch"
install_version = "18.01.03.12"
upgrade_code = "{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}"
product_code = "{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}"
high_priority = false
documentation = "https://help.example.com/pureconnect/2018r1"
related_installs = ["Interaction Desktop Add-ins"]
publisher = "Genesys"

[installer_properties]
providerservername = "cic01.example.com"
"#;

    #[test]
    fn the_sample_parses_and_round_trips() {
        let m = Manifest::parse(SAMPLE).unwrap();
        assert_eq!(m.install_type, InstallType::Patch);
        assert_eq!(
            m.target_name(),
            "interaction-desktop-18.01.03.12-patch.tar.zst"
        );
        assert_eq!(Manifest::parse(&m.to_toml()).unwrap(), m);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                "application = \"Interaction Desktop\"",
                "application = \"\"",
                "application",
            ),
            ("release = \"2018 R1\"", "release = \"2018 R9\"", "release"),
            ("patch = 3", "patch = 0", "patch"),
            (
                "install_version = \"18.01.03.12\"",
                "install_version = \"18.02.03.12\"",
                "install_version",
            ),
            (
                "install_version = \"18.01.03.12\"",
                "install_version = \"18.01.04.12\"",
                "install_version",
            ),
            (
                "upgrade_code = \"{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}\"",
                "upgrade_code = \"9F11\"",
                "upgrade_code",
            ),
            (
                "product_code = \"{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}\"",
                "product_code = \"{x}\"",
                "product_code",
            ),
            (
                "documentation = \"https://help.example.com/pureconnect/2018r1\"",
                "documentation = \"ftp://x\"",
                "documentation",
            ),
            (
                "providerservername = \"cic01.example.com\"",
                "\"bad name\" = \"x\"",
                "installer_properties",
            ),
            ("publisher = \"Genesys\"", "publisher = \" \"", "publisher"),
            (
                "publisher = \"Genesys\"",
                "publisher = \"Genesys\"\nsurprise = 1",
                "surprise",
            ),
        ];
        for (from, to, name) in cases {
            let text = SAMPLE.replace(from, to);
            let err = Manifest::parse(&text).unwrap_err().to_string();
            assert!(err.contains(name), "{to}: {err}");
        }
    }
}
