//! Transit's client-side verification: refresh the TUF metadata through
//! tough, then check each update's publisher signature and the allow-list
//! again, and download payloads that must match their metadata.
//!
//! Every attack is refused with its own [`VerifyError`] variant, so a
//! client can report exactly what it saw (see the attack matrix in this
//! crate's tests, run against tough here and python-tuf's ngclient).

use crate::bundle::BundleSignature;
use crate::manifest::Manifest;
use crate::publishers::{AllowList, PublisherError};
use futures::StreamExt;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use tough::error::Error as ToughError;
use tough::schema::RoleType;
use tough::{ExpirationEnforcement, Limits, RepositoryLoader, TargetName};
use transit_core::{ErrorKind, IoContext, Kind, PathIoError};
use url::Url;

/// The key in a target's `custom` metadata under which Transit keeps the
/// signed manifest.
pub const CUSTOM_KEY: &str = "transit";

/// Why a client refuses the repository or an update.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// Metadata is not signed by the keys its role requires (tampered
    /// metadata, or signed by a stranger).
    #[error("{role} metadata is not signed by its role's keys (tampered): {detail}")]
    BadSignature {
        /// The role.
        role: String,
        /// tough's words.
        detail: String,
    },
    /// Metadata is older than what this client trusted before.
    #[error("rollback refused: {detail}")]
    Rollback {
        /// tough's words.
        detail: String,
    },
    /// Metadata has expired.
    #[error("metadata expired: the {role} role (a freeze attack, or a provider cut off from re-signing)")]
    Expired {
        /// The role.
        role: String,
    },
    /// A metadata file differs from what the role above it lists.
    #[error("metadata does not match what the role above it lists (mix-and-match): {detail}")]
    Mismatch {
        /// tough's words.
        detail: String,
    },
    /// A metadata file exceeds its size limit.
    #[error("metadata exceeds its size limit: {detail}")]
    TooLarge {
        /// tough's words.
        detail: String,
    },
    /// A root file's version is not the next one.
    #[error("root metadata version out of order: {detail}")]
    RootOutOfOrder {
        /// tough's words.
        detail: String,
    },
    /// A payload differs from its target metadata.
    #[error("payload of {target} does not match its metadata (tampered): {detail}")]
    PayloadMismatch {
        /// The target.
        target: String,
        /// What differed.
        detail: String,
    },
    /// The update carries no publisher signature.
    #[error("{target} carries no publisher signature (unsigned bundle)")]
    Unsigned {
        /// The target.
        target: String,
    },
    /// The publisher signature does not verify.
    #[error("{target}: the publisher signature does not match its manifest")]
    BadBundleSignature {
        /// The target.
        target: String,
    },
    /// The publisher is not on this client's allow-list.
    #[error("{target}: {source}")]
    Publisher {
        /// The target.
        target: String,
        /// Why.
        source: PublisherError,
    },
    /// The target is not in the repository.
    #[error("{0} is not in the repository")]
    NotFound(String),
    /// The repository could not be reached or read.
    #[error("the repository is unavailable: {0}")]
    Unavailable(String),
    /// A local file could not be written.
    #[error(transparent)]
    Io(#[from] PathIoError),
}

impl Kind for VerifyError {
    fn kind(&self) -> ErrorKind {
        match self {
            VerifyError::BadSignature { .. } => ErrorKind::UpdateBadSignature,
            VerifyError::Rollback { .. } => ErrorKind::UpdateRollback,
            VerifyError::Expired { .. } => ErrorKind::UpdateExpired,
            VerifyError::Mismatch { .. } | VerifyError::PayloadMismatch { .. } => {
                ErrorKind::UpdateMismatch
            }
            VerifyError::TooLarge { .. } => ErrorKind::UpdateTooLarge,
            VerifyError::RootOutOfOrder { .. } => ErrorKind::UpdateRootOrder,
            VerifyError::Unsigned { .. } | VerifyError::BadBundleSignature { .. } => {
                ErrorKind::UpdateUnsigned
            }
            VerifyError::Publisher { source, .. } => source.kind(),
            VerifyError::NotFound(_) => ErrorKind::Usage,
            VerifyError::Unavailable(_) => ErrorKind::Other,
            VerifyError::Io(e) => e.kind(),
        }
    }
}

fn role_name(role: &RoleType) -> String {
    role.to_string()
}

/// Maps a tough error from loading metadata to the attack it shows.
fn classify_load(err: &ToughError) -> VerifyError {
    let detail = err.to_string();
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if let Some(t) = e.downcast_ref::<ToughError>() {
            match t {
                ToughError::VerifyMetadata { role, .. } => {
                    return VerifyError::BadSignature {
                        role: role_name(role),
                        detail,
                    }
                }
                ToughError::VerifyRoleMetadata { role, .. } => {
                    return VerifyError::BadSignature {
                        role: role.clone(),
                        detail,
                    }
                }
                ToughError::VerifyTrustedMetadata { .. } => {
                    return VerifyError::BadSignature {
                        role: "root".into(),
                        detail,
                    }
                }
                ToughError::OlderMetadata {
                    role: RoleType::Root,
                    ..
                } => return VerifyError::RootOutOfOrder { detail },
                ToughError::OlderMetadata { .. }
                | ToughError::OlderSnapshotInTimestamp { .. }
                | ToughError::SnapshotRoleRollback { .. } => {
                    return VerifyError::Rollback { detail }
                }
                ToughError::ExpiredMetadata { role, .. } => {
                    return VerifyError::Expired {
                        role: role_name(role),
                    }
                }
                ToughError::MaxSizeExceeded { .. } => return VerifyError::TooLarge { detail },
                ToughError::HashMismatch { .. }
                | ToughError::VersionMismatch { .. }
                | ToughError::MetaMissing { .. }
                | ToughError::SnapshotTargetsMetaMissing { .. }
                | ToughError::SnapshotRoleMissing { .. } => {
                    return VerifyError::Mismatch { detail }
                }
                _ => {}
            }
        }
        cause = e.source();
    }
    VerifyError::Unavailable(detail)
}

/// What a client trusts.
#[derive(Debug, Clone)]
pub struct ClientTrust {
    /// The pinned root.json (shipped out of band; the client follows
    /// rotations from it).
    pub root: Vec<u8>,
    /// The publisher allow-list.
    pub allow: AllowList,
    /// A folder that keeps the newest trusted metadata between runs, so
    /// a rollback to older metadata is refused.
    pub datastore: PathBuf,
    /// Size limits for metadata.
    pub limits: Limits,
}

impl ClientTrust {
    /// Trust `root` and `allow`, remembering state in `datastore`
    /// (created if missing), with tough's default size limits.
    pub fn new(
        root: Vec<u8>,
        allow: AllowList,
        datastore: &Path,
    ) -> Result<ClientTrust, VerifyError> {
        std::fs::create_dir_all(datastore).at(datastore)?;
        Ok(ClientTrust {
            root,
            allow,
            datastore: datastore.to_path_buf(),
            limits: Limits::default(),
        })
    }
}

/// An update whose TUF metadata and publisher signature were verified.
#[derive(Debug, Clone, Serialize)]
pub struct VerifiedUpdate {
    /// The target name.
    pub target: String,
    /// The manifest, as the publisher signed it.
    pub manifest: Manifest,
    /// The signer's key ID.
    pub signer_key_id: String,
    /// The payload length.
    pub length: u64,
    /// The payload SHA-256, hex.
    pub sha256: String,
}

/// A refreshed, verified view of a repository.
#[derive(Debug)]
pub struct VerifiedRepo {
    repo: tough::Repository,
    allow: AllowList,
}

/// Refreshes the repository at `metadata_url` / `targets_url` (file or,
/// with a transport that supports it, http) through tough.
pub async fn refresh(
    trust: &ClientTrust,
    metadata_url: Url,
    targets_url: Url,
) -> Result<VerifiedRepo, VerifyError> {
    let loader = loader(trust, metadata_url, targets_url);
    finish(trust, loader).await
}

/// [`refresh`] through a caller's transport (the client agent's HTTP
/// transport with its proxy, timeouts, resume and rate limit).
pub async fn refresh_with<T: tough::Transport + Send + Sync + 'static>(
    trust: &ClientTrust,
    metadata_url: Url,
    targets_url: Url,
    transport: T,
) -> Result<VerifiedRepo, VerifyError> {
    let loader = loader(trust, metadata_url, targets_url).transport(transport);
    finish(trust, loader).await
}

fn loader<'a>(trust: &'a ClientTrust, metadata_url: Url, targets_url: Url) -> RepositoryLoader<'a> {
    RepositoryLoader::new(&trust.root, metadata_url, targets_url)
        .datastore(&trust.datastore)
        .limits(trust.limits)
        .expiration_enforcement(ExpirationEnforcement::Safe)
}

async fn finish(
    trust: &ClientTrust,
    loader: RepositoryLoader<'_>,
) -> Result<VerifiedRepo, VerifyError> {
    let repo = loader.load().await.map_err(|e| classify_load(&e))?;
    Ok(VerifiedRepo {
        repo,
        allow: trust.allow.clone(),
    })
}

/// A `file://` URL of a folder.
pub fn dir_url(dir: &Path) -> Result<Url, VerifyError> {
    let abs = transit_core::paths::resolve(dir)?;
    Url::from_directory_path(&abs)
        .map_err(|_| VerifyError::Unavailable(format!("{} is not a usable path", abs.display())))
}

impl VerifiedRepo {
    /// The target names in the repository, sorted.
    pub fn target_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .repo
            .all_targets()
            .map(|(n, _)| n.raw().to_string())
            .collect();
        names.sort();
        names
    }

    /// The verified update `target`: its publisher signature is checked
    /// and its publisher must be on the allow-list.
    pub fn update(&self, target: &str) -> Result<VerifiedUpdate, VerifyError> {
        self.update_with(target, true)
    }

    /// [`VerifiedRepo::update`], with the publisher signature and
    /// allow-list checked only when `check_publisher` is true (a client
    /// whose `verify_signatures` was turned off explicitly). The TUF
    /// metadata was verified either way, and the payload's length and
    /// hash must still match the manifest.
    pub fn update_with(
        &self,
        target: &str,
        check_publisher: bool,
    ) -> Result<VerifiedUpdate, VerifyError> {
        let name =
            TargetName::new(target).map_err(|_| VerifyError::NotFound(target.to_string()))?;
        let info = self
            .repo
            .targets()
            .signed
            .find_target(&name, false)
            .map_err(|_| VerifyError::NotFound(target.to_string()))?;
        let custom = info.custom.get(CUSTOM_KEY);
        let text = custom
            .and_then(|c| c.get("manifest"))
            .and_then(|m| m.as_str());
        let signature: Option<BundleSignature> = custom
            .and_then(|c| c.get("signature"))
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        let (text, signature) = match (text, signature) {
            (Some(text), Some(signature)) => (text, signature),
            _ => {
                return Err(VerifyError::Unsigned {
                    target: target.to_string(),
                })
            }
        };
        let signer = signature.verify(text);
        if check_publisher && signer.is_none() {
            return Err(VerifyError::BadBundleSignature {
                target: target.to_string(),
            });
        }
        let manifest = Manifest::parse(text).map_err(|_| VerifyError::BadBundleSignature {
            target: target.to_string(),
        })?;
        if check_publisher {
            if let Some(signer) = &signer {
                self.allow
                    .check(&manifest.publisher, signer)
                    .map_err(|source| VerifyError::Publisher {
                        target: target.to_string(),
                        source,
                    })?;
            }
        }
        let sha256 = hex::encode(&*info.hashes.sha256);
        let payload = manifest.payload.clone();
        if payload.as_ref().map(|p| (p.length, p.sha256.as_str()))
            != Some((info.length, sha256.as_str()))
        {
            return Err(VerifyError::PayloadMismatch {
                target: target.to_string(),
                detail: "the target's length or hash differs from the publisher's manifest".into(),
            });
        }
        Ok(VerifiedUpdate {
            target: target.to_string(),
            manifest,
            signer_key_id: signer.map(|s| s.key_id()).unwrap_or_default(),
            length: info.length,
            sha256,
        })
    }

    /// Downloads the verified update `target` to `dest`: the file appears
    /// there only when its length and hash matched the metadata.
    pub async fn download(&self, target: &str, dest: &Path) -> Result<VerifiedUpdate, VerifyError> {
        self.download_with(target, dest, true).await
    }

    /// [`VerifiedRepo::download`] with the publisher check as in
    /// [`VerifiedRepo::update_with`].
    pub async fn download_with(
        &self,
        target: &str,
        dest: &Path,
        check_publisher: bool,
    ) -> Result<VerifiedUpdate, VerifyError> {
        let update = self.update_with(target, check_publisher)?;
        let name =
            TargetName::new(target).map_err(|_| VerifyError::NotFound(target.to_string()))?;
        let mismatch = |e: &ToughError| {
            let detail = e.to_string();
            match classify_load(e) {
                VerifyError::Expired { role } => VerifyError::Expired { role },
                VerifyError::Unavailable(_)
                    if !detail.contains("Hash mismatch") && !detail.contains("Maximum size") =>
                {
                    VerifyError::Unavailable(detail)
                }
                _ => VerifyError::PayloadMismatch {
                    target: target.to_string(),
                    detail,
                },
            }
        };
        let mut stream = self
            .repo
            .read_target(&name)
            .await
            .map_err(|e| mismatch(&e))?
            .ok_or_else(|| VerifyError::NotFound(target.to_string()))?;
        let dir = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).at(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).at(dir)?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| mismatch(&e))?;
            tmp.write_all(&chunk).at(dest)?;
        }
        tmp.as_file().sync_all().at(dest)?;
        tmp.persist(dest)
            .map_err(|e| PathIoError::new(dest, e.error))?;
        Ok(update)
    }
}
