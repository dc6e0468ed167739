//! Local edits of `client.toml` (the vendor's Interactive Update Client
//! Configuration dialog): allowed only while the machine is in the
//! provider's default group; in any other group the administrator sets
//! them for the group on the provider, and the edit is refused with a
//! message that says so.

use crate::agent::Persisted;
use crate::config::{ClientConfig, ConfigError};
use std::path::{Path, PathBuf};
use transit_core::{ErrorKind, Kind};

/// The settings a user may change locally, and their types.
pub const EDITABLE: &[(&str, ValueType)] = &[
    ("check_min", ValueType::Text),
    ("check_max", ValueType::Text),
    ("max_message_size", ValueType::Integer),
    ("send_timeout", ValueType::Integer),
    ("verify_signatures", ValueType::Bool),
    ("providers", ValueType::List),
    ("discovery_key", ValueType::Text),
    ("max_rate", ValueType::Integer),
    ("proxy.url", ValueType::Text),
    ("proxy.user", ValueType::Text),
    ("proxy.password", ValueType::Text),
];

/// A setting's value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    /// A string.
    Text,
    /// A whole number.
    Integer,
    /// true or false.
    Bool,
    /// A comma-separated list of strings.
    List,
}

/// Why a local edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The machine is not in the default group.
    #[error("the settings are locked: this machine is in group `{group}`, whose settings its administrator sets on the provider (local changes are allowed only in the default group)")]
    Locked {
        /// The machine's group.
        group: String,
    },
    /// Not a setting that can be changed locally.
    #[error("`{0}` is not a setting that can be changed here (one of: {list})", list = EDITABLE.iter().map(|e| e.0).collect::<Vec<_>>().join(", "))]
    Unknown(String),
    /// The value has the wrong type.
    #[error("setting `{key}`: `{value}` is not {what}")]
    BadValue {
        /// The setting.
        key: String,
        /// The value given.
        value: String,
        /// What was expected.
        what: &'static str,
    },
    /// The edited file does not validate (the message names the setting).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Reading or writing the file failed.
    #[error(transparent)]
    Io(#[from] transit_core::PathIoError),
}

impl Kind for SettingsError {
    fn kind(&self) -> ErrorKind {
        match self {
            SettingsError::Locked { .. } => ErrorKind::Refused,
            SettingsError::Unknown(_) => ErrorKind::Usage,
            SettingsError::BadValue { .. } => ErrorKind::BadInput,
            SettingsError::Config(e) => e.kind(),
            SettingsError::Io(e) => e.kind(),
        }
    }
}

/// The group the machine was in at its last check-in, if it checked in.
pub fn group(config: &ClientConfig) -> Option<String> {
    let bytes = std::fs::read(config.state_dir.join("state.json")).ok()?;
    let state: Persisted = serde_json::from_slice(&bytes).ok()?;
    state.settings.map(|s| s.group)
}

/// Sets `key` to `value` in the settings file at `path`, if the machine
/// is in the default group; the result must validate before it is written.
/// (The file is rewritten: its comments are not kept.)
pub fn set(
    path: &Path,
    key: &str,
    value: &str,
    allow_unverified: bool,
) -> Result<PathBuf, SettingsError> {
    let config = ClientConfig::load(path, true)?;
    if let Some(g) = group(&config) {
        if g != transit_provider::store::DEFAULT_GROUP {
            return Err(SettingsError::Locked { group: g });
        }
    }
    let kind = EDITABLE
        .iter()
        .find(|e| e.0 == key)
        .map(|e| e.1)
        .ok_or_else(|| SettingsError::Unknown(key.to_string()))?;
    let bad = |what| SettingsError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        what,
    };
    let v = match kind {
        ValueType::Text => toml::Value::String(value.to_string()),
        ValueType::Integer => {
            toml::Value::Integer(value.trim().parse().map_err(|_| bad("a whole number"))?)
        }
        ValueType::Bool => {
            toml::Value::Boolean(value.trim().parse().map_err(|_| bad("true or false"))?)
        }
        ValueType::List => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
    };
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut doc: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        problem: e.message().to_string(),
    })?;
    let (table, field) = match key.split_once('.') {
        Some((t, f)) => (t, f),
        None => ("client", key),
    };
    doc.entry(table.to_string())
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or_else(|| bad("settable here"))?
        .insert(field.to_string(), v);
    let new = toml::to_string(&doc).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })?;
    ClientConfig::parse(&new, path, allow_unverified)?;
    crate::install::write_atomic(path, new.as_bytes())?;
    Ok(path.to_path_buf())
}
