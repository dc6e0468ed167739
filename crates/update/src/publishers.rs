//! The publisher allow-list and publisher key files.
//!
//! The allow-list (`publishers.toml` in the provider's data folder, and
//! the same list on a client) names each trusted publisher with the
//! public keys it signs bundles with. An update is accepted only when
//! the publisher its manifest names is listed *and* its signature was
//! made by one of that publisher's keys: a known name with a stranger's
//! key, or a stranger's name with a known key, is refused.

use crate::keys::PublicKey;
use serde::{Deserialize, Serialize};
use std::path::Path;
use transit_core::{ErrorKind, IoContext, Kind, PathIoError};

/// One trusted publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedPublisher {
    /// The name manifests carry in `publisher` (compared exactly).
    pub name: String,
    /// The publisher's Ed25519 public keys, hex.
    pub keys: Vec<String>,
}

/// The publishers whose updates are accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowList {
    /// The publishers, in the order they were added.
    #[serde(default, rename = "publisher")]
    pub publishers: Vec<TrustedPublisher>,
}

/// A publisher's public key file (`NAME.pub`), handed to providers and
/// clients to put on their allow-lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherKeyFile {
    /// The publisher's name.
    pub name: String,
    /// The public key, hex.
    pub key: String,
}

/// Why a publisher is refused, or a list cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum PublisherError {
    /// Reading or writing the list failed.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// The list or key file is not valid TOML of the expected shape.
    #[error("{path}: {problem}")]
    Malformed {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// The manifest's publisher is not on the allow-list.
    #[error("publisher `{0}` is not on the allow-list")]
    Unknown(String),
    /// The bundle was signed by a key the named publisher does not own.
    #[error("the bundle is signed by key {key_id}, which is not a key of publisher `{publisher}`")]
    WrongKey {
        /// The publisher the manifest names.
        publisher: String,
        /// The key that signed.
        key_id: String,
    },
}

impl Kind for PublisherError {
    fn kind(&self) -> ErrorKind {
        match self {
            PublisherError::Io(e) => e.kind(),
            PublisherError::Malformed { .. } => ErrorKind::BadInput,
            PublisherError::Unknown(_) | PublisherError::WrongKey { .. } => {
                ErrorKind::UpdatePublisher
            }
        }
    }
}

fn malformed(path: &Path, problem: impl ToString) -> PublisherError {
    PublisherError::Malformed {
        path: path.display().to_string(),
        problem: problem.to_string(),
    }
}

impl AllowList {
    /// Reads a list; a missing file is an empty list.
    pub fn load(path: &Path) -> Result<AllowList, PublisherError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(AllowList::default()),
            Err(e) => return Err(PathIoError::new(path, e).into()),
        };
        let list: AllowList = toml::from_str(&text).map_err(|e| malformed(path, e.message()))?;
        for publisher in &list.publishers {
            for key in &publisher.keys {
                if PublicKey::from_hex(key).is_none() {
                    return Err(malformed(
                        path,
                        format!(
                            "publisher `{}`: `{key}` is not an Ed25519 public key",
                            publisher.name
                        ),
                    ));
                }
            }
        }
        Ok(list)
    }

    /// Writes the list (through a temporary file and a rename).
    pub fn save(&self, path: &Path) -> Result<(), PublisherError> {
        let text = toml::to_string(self).expect("an allow-list serialises");
        crate::fsutil::write_atomic(path, text.as_bytes())?;
        Ok(())
    }

    /// Adds `key` to publisher `name` (creating it); returns false when
    /// the key was listed already.
    pub fn trust(&mut self, name: &str, key: &PublicKey) -> bool {
        let hex = key.to_hex();
        match self.publishers.iter_mut().find(|p| p.name == name) {
            Some(p) if p.keys.contains(&hex) => false,
            Some(p) => {
                p.keys.push(hex);
                true
            }
            None => {
                self.publishers.push(TrustedPublisher {
                    name: name.to_string(),
                    keys: vec![hex],
                });
                true
            }
        }
    }

    /// Accepts `publisher` signing with `key`, or says why not.
    pub fn check(&self, publisher: &str, key: &PublicKey) -> Result<(), PublisherError> {
        let entry = self
            .publishers
            .iter()
            .find(|p| p.name == publisher)
            .ok_or_else(|| PublisherError::Unknown(publisher.to_string()))?;
        if entry
            .keys
            .iter()
            .any(|k| PublicKey::from_hex(k).as_ref() == Some(key))
        {
            Ok(())
        } else {
            Err(PublisherError::WrongKey {
                publisher: publisher.to_string(),
                key_id: key.key_id(),
            })
        }
    }
}

impl PublisherKeyFile {
    /// Reads a `NAME.pub` file.
    pub fn load(path: &Path) -> Result<(String, PublicKey), PublisherError> {
        let text = std::fs::read_to_string(path).at(path)?;
        let file: PublisherKeyFile =
            toml::from_str(&text).map_err(|e| malformed(path, e.message()))?;
        let key = PublicKey::from_hex(&file.key)
            .ok_or_else(|| malformed(path, "`key` is not an Ed25519 public key"))?;
        Ok((file.name, key))
    }

    /// The file's text.
    pub fn render(name: &str, key: &PublicKey) -> String {
        toml::to_string(&PublisherKeyFile {
            name: name.to_string(),
            key: key.to_hex(),
        })
        .expect("a key file serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_and_key_must_both_match() {
        let a = PublicKey([1; 32]);
        let b = PublicKey([2; 32]);
        let mut list = AllowList::default();
        assert!(list.trust("Genesys", &a));
        assert!(!list.trust("Genesys", &a));
        list.trust("Other", &b);
        assert!(list.check("Genesys", &a).is_ok());
        assert!(matches!(
            list.check("Genesys", &b),
            Err(PublisherError::WrongKey { .. })
        ));
        assert!(matches!(
            list.check("Mallory", &a),
            Err(PublisherError::Unknown(_))
        ));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("publishers.toml");
        assert_eq!(AllowList::load(&path).unwrap(), AllowList::default());
        list.save(&path).unwrap();
        assert_eq!(AllowList::load(&path).unwrap(), list);
        std::fs::write(&path, "[[publisher]]\nname = \"x\"\nkeys = [\"zz\"]\n").unwrap();
        assert!(matches!(
            AllowList::load(&path),
            Err(PublisherError::Malformed { .. })
        ));
    }
}
