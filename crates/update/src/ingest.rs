//! Ingest: a bundle file becomes a signed update in the repository.
//!
//! [`stage`] (blocking: it reads the whole file) checks the bundle's
//! structure, signature and payload and the publisher against the
//! allow-list, copying the payload into the content store's incoming
//! folder as it hashes it. [`publish`] (async) adds it to the TUF
//! repository under the repository lock, re-signs, and records it in the
//! catalog in Pre-Approval. [`ingest_file`] does both and logs a refusal
//! to the activity log.

use crate::applicability::superseded_by;
use crate::bundle::{self, BundleError, VerifiedBundle};
use crate::client::CUSTOM_KEY;
use crate::publishers::{AllowList, PublisherError};
use crate::repo::{RepoError, Signed3, UpdateRepository};
use crate::states::UpdateState;
use crate::store::{ActivityStatus, NewActivity, Store, StoreError};
use serde::Serialize;
use std::collections::HashMap;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use transit_core::{CancelToken, ErrorKind, IoContext, Kind, Progress};

/// An ingest that failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The bundle is refused.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The allow-list cannot be read.
    #[error(transparent)]
    Publishers(#[from] PublisherError),
    /// The repository refused or failed.
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// The catalog failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Kind for IngestError {
    fn kind(&self) -> ErrorKind {
        match self {
            IngestError::Bundle(e) => e.kind(),
            IngestError::Publishers(e) => e.kind(),
            IngestError::Repo(e) => e.kind(),
            IngestError::Store(e) => e.kind(),
        }
    }
}

/// A checked bundle whose payload waits in the content store.
#[derive(Debug)]
pub struct Staged {
    /// The bundle file.
    pub source: PathBuf,
    /// What was verified.
    pub bundle: VerifiedBundle,
    payload: tempfile::TempPath,
}

/// An older update an administrator should mark Inactive.
#[derive(Debug, Clone, Serialize)]
pub struct Superseded {
    /// Its catalog ID.
    pub id: i64,
    /// Its target name.
    pub target: String,
    /// Its state now.
    pub state: UpdateState,
}

/// What an ingest did.
#[derive(Debug, Clone, Serialize)]
pub struct Ingested {
    /// The catalog ID.
    pub id: i64,
    /// The TUF target name.
    pub target: String,
    /// The application.
    pub application: String,
    /// The release.
    pub release: String,
    /// The patch.
    pub patch: u16,
    /// The install version.
    pub install_version: String,
    /// The publisher.
    pub publisher: String,
    /// The payload's size.
    pub length: u64,
    /// True when the same update was in the repository already (nothing
    /// was re-signed).
    pub already_present: bool,
    /// The new metadata versions.
    pub signed: Option<Signed3>,
    /// The state it is in (Pre-Approval for a new update).
    pub state: UpdateState,
    /// "Only the latest patch should be GA": older patches still GA or
    /// Pre-Approval, to mark Inactive.
    pub superseded: Vec<Superseded>,
}

/// Checks `path` and copies its payload into the content store's
/// incoming folder. Blocking.
pub fn stage(
    repo: &UpdateRepository,
    path: &Path,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Staged, IngestError> {
    let allow = AllowList::load(&repo.publishers_path())?;
    let incoming = repo.targets_dir().join(".incoming");
    std::fs::create_dir_all(&incoming)
        .at(&incoming)
        .map_err(BundleError::from)?;
    let tmp = tempfile::NamedTempFile::new_in(&incoming)
        .at(&incoming)
        .map_err(BundleError::from)?;
    let (file, payload) = tmp.into_parts();
    let mut writer = BufWriter::with_capacity(1 << 20, file);
    let verified = bundle::verify(path, &mut writer, cancel, progress)?;
    let file = writer
        .into_inner()
        .map_err(|e| BundleError::from(transit_core::PathIoError::new(&payload, e.into_error())))?;
    file.sync_all().at(&payload).map_err(BundleError::from)?;
    verified.check_publisher(&allow, path)?;
    Ok(Staged {
        source: path.to_path_buf(),
        bundle: verified,
        payload,
    })
}

/// Adds a staged bundle to the repository and the catalog.
pub async fn publish(
    repo: &UpdateRepository,
    staged: Staged,
    targets_key: Option<&Path>,
) -> Result<Ingested, IngestError> {
    let manifest = staged.bundle.manifest.clone();
    let target = manifest.target_name();
    let mut custom = HashMap::new();
    custom.insert(
        CUSTOM_KEY.to_string(),
        serde_json::json!({
            "manifest": staged.bundle.manifest_text,
            "signature": staged.bundle.signature,
        }),
    );
    let signed = {
        let _lock = repo.lock()?;
        let signed = repo
            .add_target(
                &target,
                &staged.payload,
                staged.bundle.payload.length,
                &staged.bundle.payload.sha256,
                custom,
                targets_key,
            )
            .await?;
        let store = Store::open(&repo.store_path())?;
        let id = store.insert_update(&target, &manifest)?;
        if signed.is_some() {
            store.log(
                ActivityStatus::Ingested,
                NewActivity {
                    machine: "provider".into(),
                    application: manifest.application.clone(),
                    release: manifest.release.to_string(),
                    patch: manifest.patch.to_string(),
                    description: format!(
                        "{} from {} ({})",
                        target,
                        staged.source.display(),
                        manifest.publisher
                    ),
                },
            )?;
        }
        (signed, id, store)
    };
    let (signed, id, store) = signed;
    let updates = store.updates()?;
    let state = updates
        .iter()
        .find(|u| u.id == id)
        .map_or(UpdateState::DEFAULT, |u| u.state);
    let catalog = store.catalog()?;
    let superseded = superseded_by(&catalog, &manifest)
        .into_iter()
        .filter_map(|sid| updates.iter().find(|u| u.id == sid))
        .map(|u| Superseded {
            id: u.id,
            target: u.target.clone(),
            state: u.state,
        })
        .collect();
    Ok(Ingested {
        id,
        target,
        application: manifest.application.clone(),
        release: manifest.release.to_string(),
        patch: manifest.patch,
        install_version: manifest.install_version.to_string(),
        publisher: manifest.publisher.clone(),
        length: staged.bundle.payload.length,
        already_present: signed.is_none(),
        signed,
        state,
        superseded,
    })
}

/// Stages and publishes `path`; a refusal is logged to the activity log
/// (and returned).
pub async fn ingest_file(
    repo: &UpdateRepository,
    path: &Path,
    targets_key: Option<&Path>,
    cancel: &CancelToken,
    progress: &dyn Progress,
) -> Result<Ingested, IngestError> {
    let result = match stage(repo, path, cancel, progress) {
        Ok(staged) => publish(repo, staged, targets_key).await,
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        if e.kind() != ErrorKind::Cancelled {
            let store = Store::open(&repo.store_path())?;
            store.log(
                ActivityStatus::IngestFailed,
                NewActivity {
                    machine: "provider".into(),
                    description: format!("{}: {e}", path.display()),
                    ..NewActivity::default()
                },
            )?;
        }
    }
    result
}
