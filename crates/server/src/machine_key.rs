//! The machine key: it encrypts a server's Secrets structured parameters.
//!
//! The key lives in `<root>/machine.key` (mode 0600) and is never exported,
//! so a secret moved to another server cannot be decrypted there and must
//! be reset — as with the vendor's machine-bound encryption.

use crate::error::{Result, ServerError};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;
use transit_core::IoContext;

/// Marks an encrypted secret: magic, then a 12-byte nonce, then ciphertext.
const SECRET_MAGIC: &[u8; 4] = b"TSK1";
const NONCE_LEN: usize = 12;

/// A 256-bit machine key.
#[derive(Clone)]
pub struct MachineKey {
    bytes: [u8; 32],
}

impl std::fmt::Debug for MachineKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MachineKey({})", self.id())
    }
}

impl MachineKey {
    /// A fresh key from the operating system's random source.
    pub fn generate() -> MachineKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        MachineKey { bytes }
    }

    /// A key drawn from a caller's random generator (the demo generator
    /// uses its seeded one, so the same seed gives the same server).
    pub fn from_rng(rng: &mut impl RngCore) -> MachineKey {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        MachineKey { bytes }
    }

    /// The key's public ID: 16 hex digits of its SHA-256.
    pub fn id(&self) -> String {
        hex::encode(&Sha256::digest(self.bytes)[..8])
    }

    /// Reads a key file.
    pub fn load(path: &Path) -> Result<MachineKey> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::MachineKey(format!("cannot read {}: {e}", path.display())))?;
        let raw = hex::decode(text.trim())
            .map_err(|_| ServerError::MachineKey(format!("{} is not a hex key", path.display())))?;
        let bytes: [u8; 32] = raw.try_into().map_err(|_| {
            ServerError::MachineKey(format!("{} does not hold a 256-bit key", path.display()))
        })?;
        Ok(MachineKey { bytes })
    }

    /// Writes the key file, readable by its owner only.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .at(path)?;
        Ok(writeln!(file, "{}", hex::encode(self.bytes)).at(path)?)
    }

    /// Encrypts a secret with a nonce drawn from `rng`.
    pub fn encrypt_with(&self, plaintext: &[u8], rng: &mut impl RngCore) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&self.bytes));
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .expect("ChaCha20-Poly1305 encryption of an in-memory buffer cannot fail");
        let mut out = Vec::with_capacity(4 + NONCE_LEN + sealed.len());
        out.extend_from_slice(SECRET_MAGIC);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Encrypts a secret with a random nonce.
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        self.encrypt_with(plaintext, &mut rand::rngs::OsRng)
    }

    /// Decrypts a secret sealed with this key.
    pub fn decrypt(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        let body = sealed
            .strip_prefix(SECRET_MAGIC.as_slice())
            .filter(|b| b.len() >= NONCE_LEN)
            .ok_or(ServerError::SecretUndecryptable)?;
        let (nonce, ciphertext) = body.split_at(NONCE_LEN);
        ChaCha20Poly1305::new(Key::from_slice(&self.bytes))
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| ServerError::SecretUndecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_open_only_with_their_own_key() {
        let a = MachineKey::generate();
        let b = MachineKey::generate();
        let sealed = a.encrypt(b"hunter2");
        assert_eq!(a.decrypt(&sealed).unwrap(), b"hunter2");
        assert!(matches!(
            b.decrypt(&sealed),
            Err(ServerError::SecretUndecryptable)
        ));
        assert!(a.decrypt(b"junk").is_err());
    }

    #[test]
    fn key_file_round_trips_and_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("machine.key");
        let k = MachineKey::generate();
        k.save(&p).unwrap();
        assert_eq!(MachineKey::load(&p).unwrap().id(), k.id());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
