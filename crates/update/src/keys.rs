//! Ed25519 keys: generation, files, key IDs, and bundle signatures.
//!
//! A private key file holds the key's PKCS#8 document (DER), the form
//! tough's `LocalKeySource` reads, and is created with mode 0600 and
//! never overwritten. A key's ID is TUF's: the SHA-256 of the canonical
//! JSON of its public key, so the IDs printed here are the ones in
//! `root.json`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use tough::sign::Sign;
use transit_core::{ErrorKind, IoContext, Kind, PathIoError};

/// A key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the file failed.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// The file exists already; keys are never overwritten.
    #[error("{}: a key file exists already (keys are never overwritten)", .0.display())]
    Exists(PathBuf),
    /// The file is not an Ed25519 PKCS#8 key.
    #[error("{}: not an Ed25519 private key (PKCS#8)", .0.display())]
    NotAKey(PathBuf),
    /// Generating a key failed.
    #[error("generating an Ed25519 key failed")]
    Generate,
}

impl Kind for KeyError {
    fn kind(&self) -> ErrorKind {
        match self {
            KeyError::Io(e) => e.kind(),
            KeyError::Exists(_) => ErrorKind::Refused,
            KeyError::NotAKey(_) => ErrorKind::UpdateKeys,
            KeyError::Generate => ErrorKind::Other,
        }
    }
}

/// An Ed25519 private key loaded from its file.
#[derive(Debug)]
pub struct SigningKey {
    pair: Ed25519KeyPair,
    path: PathBuf,
}

/// An Ed25519 public key (32 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);

impl PublicKey {
    /// The key as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(text: &str) -> Option<PublicKey> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(PublicKey(bytes.try_into().ok()?))
    }

    /// The TUF key ID of this key (hex).
    pub fn key_id(&self) -> String {
        let key = tough::schema::key::Key::Ed25519 {
            keyval: tough::schema::key::Ed25519Key {
                public: self.0.to_vec().into(),
                _extra: Default::default(),
            },
            scheme: tough::schema::key::Ed25519Scheme::Ed25519,
            _extra: Default::default(),
        };
        hex::encode(&*key.key_id().expect("an Ed25519 key serialises"))
    }

    /// True when `signature` is this key's signature of `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }
}

/// Writes `bytes` to a new file with mode 0600, refusing an existing one.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(KeyError::Exists(path.to_path_buf()))
        }
        Err(e) => return Err(PathIoError::new(path, e).into()),
    };
    file.write_all(bytes).at(path)?;
    file.sync_all().at(path)?;
    Ok(())
}

impl SigningKey {
    /// Generates a new key and writes it to `path` (mode 0600; an
    /// existing file is refused).
    pub fn generate(path: &Path) -> Result<SigningKey, KeyError> {
        if path.exists() {
            return Err(KeyError::Exists(path.to_path_buf()));
        }
        let doc =
            Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).map_err(|_| KeyError::Generate)?;
        write_private(path, doc.as_ref())?;
        SigningKey::load(path)
    }

    /// Loads the key in `path`.
    pub fn load(path: &Path) -> Result<SigningKey, KeyError> {
        let bytes = std::fs::read(path).at(path)?;
        let pair = Ed25519KeyPair::from_pkcs8(&bytes)
            .map_err(|_| KeyError::NotAKey(path.to_path_buf()))?;
        Ok(SigningKey {
            pair,
            path: path.to_path_buf(),
        })
    }

    /// The file the key came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The public half.
    pub fn public(&self) -> PublicKey {
        let bytes: [u8; 32] = self
            .pair
            .public_key()
            .as_ref()
            .try_into()
            .expect("an Ed25519 public key is 32 bytes");
        PublicKey(bytes)
    }

    /// The TUF key ID (hex).
    pub fn key_id(&self) -> String {
        self.public().key_id()
    }

    /// The key in tough's form (for root.json).
    pub fn tuf_key(&self) -> tough::schema::key::Key {
        self.pair.tuf_key()
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }

    /// A tough key source reading this key's file.
    pub fn source(&self) -> Box<dyn tough::key_source::KeySource> {
        Box::new(tough::key_source::LocalKeySource {
            path: self.path.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_load_sign_verify() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k/targets.key");
        let key = SigningKey::generate(&path).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = SigningKey::load(&path).unwrap();
        assert_eq!(key.public(), again.public());
        assert_eq!(key.key_id(), hex::encode(&*key.tuf_key().key_id().unwrap()));
        let sig = key.sign(b"manifest");
        assert!(key.public().verify(b"manifest", &sig));
        assert!(!key.public().verify(b"manifesT", &sig));
        assert!(matches!(
            SigningKey::generate(&path),
            Err(KeyError::Exists(_))
        ));
        std::fs::write(dir.path().join("junk"), b"junk").unwrap();
        assert!(matches!(
            SigningKey::load(&dir.path().join("junk")),
            Err(KeyError::NotAKey(_))
        ));
        assert_eq!(
            PublicKey::from_hex(&key.public().to_hex()),
            Some(key.public())
        );
    }
}
