//! Update bundles: a signed manifest plus a `tar.zst` payload, in one
//! file.
//!
//! A bundle is a plain tar with three entries, in this order:
//! - `manifest.toml`: the [`Manifest`], with `[payload]` filled in;
//! - `manifest.sig`: JSON `{"key": hex, "signature": hex}`, the
//!   publisher's Ed25519 signature of [`SIGNING_CONTEXT`] followed by the
//!   exact bytes of `manifest.toml` (absent in an unsigned bundle, which
//!   every reader refuses);
//! - `payload.tar.zst`: the payload, whose length and SHA-256 the
//!   manifest states.
//!
//! Reading treats the file as hostile: entries are checked by name, order
//! and size; the signature is checked before any payload byte is used;
//! the payload is hashed as it streams and must match the manifest.

use crate::keys::{PublicKey, SigningKey};
use crate::manifest::{Manifest, ManifestError, PayloadInfo};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use transit_core::{CancelToken, ErrorKind, Event, IoContext, Kind, PathIoError, Progress, Unit};

/// What a publisher signature covers before the manifest bytes, so a
/// bundle signature can never be mistaken for any other signature made
/// with the same key.
pub const SIGNING_CONTEXT: &[u8] = b"transit-update-bundle-v1\n";

const MANIFEST_ENTRY: &str = "manifest.toml";
const SIGNATURE_ENTRY: &str = "manifest.sig";
const PAYLOAD_ENTRY: &str = "payload.tar.zst";
const MAX_MANIFEST: u64 = 1 << 20;
const MAX_SIGNATURE: u64 = 4096;
const CHUNK: usize = 1 << 20;

/// A publisher's signature of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleSignature {
    /// The signing key's public half, hex.
    pub key: String,
    /// The Ed25519 signature, hex.
    pub signature: String,
}

impl BundleSignature {
    /// Signs `manifest_text` with `key`.
    pub fn sign(key: &SigningKey, manifest_text: &str) -> BundleSignature {
        BundleSignature {
            key: key.public().to_hex(),
            signature: hex::encode(key.sign(&signed_message(manifest_text))),
        }
    }

    /// The signer's key if the signature of `manifest_text` is valid.
    pub fn verify(&self, manifest_text: &str) -> Option<PublicKey> {
        let key = PublicKey::from_hex(&self.key)?;
        let signature = hex::decode(&self.signature).ok()?;
        key.verify(&signed_message(manifest_text), &signature)
            .then_some(key)
    }
}

/// The bytes a publisher signs: the context, then the manifest.
pub fn signed_message(manifest_text: &str) -> Vec<u8> {
    let mut message = SIGNING_CONTEXT.to_vec();
    message.extend_from_slice(manifest_text.as_bytes());
    message
}

/// A bundle that cannot be built or is refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// The manifest does not parse or validate.
    #[error("{}: {source}", .path.display())]
    Manifest {
        /// The bundle or manifest file.
        path: PathBuf,
        /// What is wrong.
        source: ManifestError,
    },
    /// The file is not a bundle (entries missing, misnamed, misordered, too large).
    #[error("{}: not an update bundle: {problem}", .path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The file ends early.
    #[error("{}: the bundle is truncated", .path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
    },
    /// The bundle carries no signature.
    #[error("{}: the bundle is not signed by a publisher", .path.display())]
    Unsigned {
        /// The file.
        path: PathBuf,
    },
    /// The signature does not match the manifest (the manifest was changed
    /// after signing, or the signature is not Ed25519 of this text).
    #[error("{}: the publisher signature does not match the manifest (tampered)", .path.display())]
    BadSignature {
        /// The file.
        path: PathBuf,
    },
    /// The payload differs from the manifest's length or SHA-256.
    #[error("{}: the payload does not match the manifest: {problem}", .path.display())]
    PayloadMismatch {
        /// The file.
        path: PathBuf,
        /// Expected against found.
        problem: String,
    },
    /// The publisher is refused.
    #[error("{}: {source}", .path.display())]
    Publisher {
        /// The file.
        path: PathBuf,
        /// Why.
        source: crate::publishers::PublisherError,
    },
    /// The user stopped the work; nothing was written.
    #[error("stopped; nothing was written")]
    Cancelled,
}

impl Kind for BundleError {
    fn kind(&self) -> ErrorKind {
        match self {
            BundleError::Io(e) => e.kind(),
            BundleError::Manifest { .. }
            | BundleError::Malformed { .. }
            | BundleError::Truncated { .. }
            | BundleError::PayloadMismatch { .. } => ErrorKind::UpdateBadBundle,
            BundleError::Unsigned { .. } | BundleError::BadSignature { .. } => {
                ErrorKind::UpdateUnsigned
            }
            BundleError::Publisher { source, .. } => source.kind(),
            BundleError::Cancelled => ErrorKind::Cancelled,
        }
    }
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    length: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.length += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What [`build`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct BuiltBundle {
    /// The bundle file.
    pub path: PathBuf,
    /// The manifest as signed.
    pub manifest: Manifest,
    /// The number of files in the payload.
    pub files: u64,
    /// The signer's key ID, if signed.
    pub key_id: Option<String>,
}

fn walk(dir: &Path, rel: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<(), PathIoError> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .at(dir)?
        .collect::<Result<_, _>>()
        .at(dir)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = rel.join(entry.file_name());
        let kind = entry.file_type().at(&path)?;
        out.push((path.clone(), name.clone()));
        if kind.is_dir() {
            walk(&path, &name, out)?;
        }
    }
    Ok(())
}

/// Builds a bundle at `out` from the files under `from` and the manifest
/// text `manifest_text`, signed with `key` (`None` builds an unsigned
/// bundle, which only tests want). The file appears only when complete.
pub fn build(
    from: &Path,
    manifest_text: &str,
    key: Option<&SigningKey>,
    out: &Path,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<BuiltBundle, BundleError> {
    let mut manifest = Manifest::parse(manifest_text).map_err(|source| BundleError::Manifest {
        path: out.to_path_buf(),
        source,
    })?;
    let mut files = Vec::new();
    walk(from, Path::new(""), &mut files)?;
    let total: u64 = files
        .iter()
        .filter_map(|(p, _)| std::fs::symlink_metadata(p).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).at(dir)?;

    // 1. The payload, hashed as it is written.
    let payload = tempfile::NamedTempFile::new_in(dir).at(dir)?;
    progress.event(Event::begin("payload", Unit::Bytes, Some(total)));
    let hashing = HashingWriter {
        inner: BufWriter::with_capacity(CHUNK, payload.reopen().at(payload.path())?),
        hasher: Sha256::new(),
        length: 0,
    };
    let encoder = zstd::Encoder::new(hashing, 3).at(out)?;
    let mut tar = tar::Builder::new(encoder);
    tar.follow_symlinks(false);
    let mut done = 0u64;
    let mut count = 0u64;
    for (path, name) in &files {
        if cancel.is_cancelled() {
            return Err(BundleError::Cancelled);
        }
        tar.append_path_with_name(path, name).at(path)?;
        let meta = std::fs::symlink_metadata(path).at(path)?;
        if meta.is_file() {
            done += meta.len();
            count += 1;
            progress.event(Event::advance("payload", done));
        }
    }
    let encoder = tar.into_inner().at(out)?;
    let mut hashing = encoder.finish().at(out)?;
    hashing.flush().at(payload.path())?;
    progress.event(Event::end("payload"));
    let sha256 = hex::encode(hashing.hasher.finalize());
    let length = hashing.length;
    drop(hashing.inner);

    // 2. The manifest, completed and signed.
    manifest.payload = Some(PayloadInfo { length, sha256 });
    let text = manifest.to_toml();
    let signature = key.map(|k| BundleSignature::sign(k, &text));

    // 3. The bundle, under a temporary name until complete.
    let tmp = tempfile::NamedTempFile::new_in(dir).at(dir)?;
    {
        let mut bundle = tar::Builder::new(BufWriter::with_capacity(
            CHUNK,
            tmp.reopen().at(tmp.path())?,
        ));
        let mut append = |name: &str, size: u64, data: &mut dyn Read| -> std::io::Result<()> {
            let mut header = tar::Header::new_ustar();
            header.set_size(size);
            header.set_mode(0o644);
            header.set_mtime(crate::unix_now());
            header.set_cksum();
            bundle.append_data(&mut header, name, data)
        };
        append(MANIFEST_ENTRY, text.len() as u64, &mut text.as_bytes()).at(out)?;
        if let Some(sig) = &signature {
            let json = serde_json::to_vec(sig).expect("a signature serialises");
            append(SIGNATURE_ENTRY, json.len() as u64, &mut json.as_slice()).at(out)?;
        }
        let mut reader = File::open(payload.path()).at(payload.path())?;
        append(PAYLOAD_ENTRY, length, &mut reader).at(out)?;
        let mut inner = bundle.into_inner().at(out)?;
        inner.flush().at(out)?;
        inner.get_ref().sync_all().at(out)?;
    }
    if cancel.is_cancelled() {
        return Err(BundleError::Cancelled);
    }
    tmp.persist(out)
        .map_err(|e| PathIoError::new(out, e.error))?;
    Ok(BuiltBundle {
        path: out.to_path_buf(),
        manifest,
        files: count,
        key_id: key.map(SigningKey::key_id),
    })
}

/// A bundle whose structure, signature and payload were checked.
#[derive(Debug, Clone)]
pub struct VerifiedBundle {
    /// The manifest.
    pub manifest: Manifest,
    /// The manifest's exact text (what the signature covers).
    pub manifest_text: String,
    /// The signature.
    pub signature: BundleSignature,
    /// The key that made it.
    pub signer: PublicKey,
    /// The payload's length and SHA-256 (equal to the manifest's).
    pub payload: PayloadInfo,
}

impl VerifiedBundle {
    /// Checks the publisher against `allow`.
    pub fn check_publisher(
        &self,
        allow: &crate::publishers::AllowList,
        path: &Path,
    ) -> Result<(), BundleError> {
        allow
            .check(&self.manifest.publisher, &self.signer)
            .map_err(|source| BundleError::Publisher {
                path: path.to_path_buf(),
                source,
            })
    }
}

fn read_small(
    entry: &mut dyn Read,
    size: u64,
    max: u64,
    path: &Path,
    what: &str,
) -> Result<Vec<u8>, BundleError> {
    if size > max {
        return Err(BundleError::Malformed {
            path: path.to_path_buf(),
            problem: format!("{what} is {size} bytes (at most {max})"),
        });
    }
    let mut buf = Vec::with_capacity(size as usize);
    entry
        .take(max + 1)
        .read_to_end(&mut buf)
        .map_err(|e| truncated_or_io(path, e))?;
    if buf.len() as u64 != size {
        return Err(BundleError::Truncated {
            path: path.to_path_buf(),
        });
    }
    Ok(buf)
}

fn truncated_or_io(path: &Path, e: std::io::Error) -> BundleError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        BundleError::Truncated {
            path: path.to_path_buf(),
        }
    } else {
        BundleError::Io(PathIoError::new(path, e))
    }
}

/// Reads and checks the bundle at `path`, streaming its payload into
/// `payload_sink` (pass `std::io::sink()` to only check it). Checks, in
/// order: the structure, the manifest, the signature (an unsigned or
/// mis-signed bundle is refused before any payload byte is read), then the
/// payload's length and hash. The publisher is checked separately
/// ([`VerifiedBundle::check_publisher`]); a caller must not use what went
/// into `payload_sink` unless this returns `Ok`.
pub fn verify(
    path: &Path,
    payload_sink: &mut dyn Write,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<VerifiedBundle, BundleError> {
    let malformed = |problem: String| BundleError::Malformed {
        path: path.to_path_buf(),
        problem,
    };
    let file = File::open(path).at(path)?;
    let mut archive = tar::Archive::new(std::io::BufReader::with_capacity(CHUNK, file));
    let mut entries = archive.entries().map_err(|e| truncated_or_io(path, e))?;
    let mut next = |expect: &str| -> Result<tar::Entry<'_, std::io::BufReader<File>>, BundleError> {
        match entries.next() {
            None => Err(BundleError::Truncated {
                path: path.to_path_buf(),
            }),
            Some(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                Err(BundleError::Truncated {
                    path: path.to_path_buf(),
                })
            }
            Some(Err(e)) => Err(malformed(format!("{e} (expected {expect})"))),
            Some(Ok(entry)) => Ok(entry),
        }
    };
    let entry_name = |entry: &tar::Entry<'_, _>| -> String {
        entry
            .path()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };

    let mut first = next(MANIFEST_ENTRY)?;
    if entry_name(&first) != MANIFEST_ENTRY {
        return Err(malformed(format!(
            "the first entry is `{}`, not {MANIFEST_ENTRY}",
            entry_name(&first)
        )));
    }
    let size = first
        .header()
        .size()
        .map_err(|e| malformed(e.to_string()))?;
    let text = read_small(&mut first, size, MAX_MANIFEST, path, MANIFEST_ENTRY)?;
    drop(first);
    let manifest_text =
        String::from_utf8(text).map_err(|_| malformed("the manifest is not UTF-8".into()))?;

    let mut entry = next(SIGNATURE_ENTRY)?;
    let signature = if entry_name(&entry) == SIGNATURE_ENTRY {
        let size = entry
            .header()
            .size()
            .map_err(|e| malformed(e.to_string()))?;
        let raw = read_small(&mut entry, size, MAX_SIGNATURE, path, SIGNATURE_ENTRY)?;
        drop(entry);
        let sig: BundleSignature =
            serde_json::from_slice(&raw).map_err(|_| BundleError::BadSignature {
                path: path.to_path_buf(),
            })?;
        entry = next(PAYLOAD_ENTRY)?;
        Some(sig)
    } else {
        None
    };
    if entry_name(&entry) != PAYLOAD_ENTRY {
        return Err(malformed(format!(
            "unexpected entry `{}`",
            entry_name(&entry)
        )));
    }
    let signature = signature.ok_or_else(|| BundleError::Unsigned {
        path: path.to_path_buf(),
    })?;
    let signer = signature
        .verify(&manifest_text)
        .ok_or_else(|| BundleError::BadSignature {
            path: path.to_path_buf(),
        })?;
    let manifest = Manifest::parse(&manifest_text).map_err(|source| BundleError::Manifest {
        path: path.to_path_buf(),
        source,
    })?;
    let expected = manifest
        .payload
        .clone()
        .ok_or_else(|| malformed("the manifest has no [payload]".into()))?;
    let size = entry
        .header()
        .size()
        .map_err(|e| malformed(e.to_string()))?;
    if size != expected.length {
        return Err(BundleError::PayloadMismatch {
            path: path.to_path_buf(),
            problem: format!("{size} bytes, the manifest says {}", expected.length),
        });
    }

    progress.event(Event::begin("verify", Unit::Bytes, Some(size)));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut done = 0u64;
    loop {
        if cancel.is_cancelled() {
            return Err(BundleError::Cancelled);
        }
        let n = entry.read(&mut buf).map_err(|e| truncated_or_io(path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        payload_sink
            .write_all(&buf[..n])
            .map_err(|e| BundleError::Io(PathIoError::new(path, e)))?;
        done += n as u64;
        progress.event(Event::advance("verify", done));
    }
    progress.event(Event::end("verify"));
    if done != size {
        return Err(BundleError::Truncated {
            path: path.to_path_buf(),
        });
    }
    let sha256 = hex::encode(hasher.finalize());
    if sha256 != expected.sha256 {
        return Err(BundleError::PayloadMismatch {
            path: path.to_path_buf(),
            problem: format!("SHA-256 {sha256}, the manifest says {}", expected.sha256),
        });
    }
    drop(entry);
    if let Some(Ok(extra)) = entries.next() {
        return Err(malformed(format!(
            "unexpected entry `{}` after the payload",
            entry_name(&extra)
        )));
    }
    Ok(VerifiedBundle {
        manifest,
        manifest_text,
        signature,
        signer,
        payload: expected,
    })
}
