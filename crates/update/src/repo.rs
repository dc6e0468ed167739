//! The provider's TUF repository, built and signed with tough.
//!
//! Layout of a provider's data folder:
//! ```text
//! update.toml                 expiry settings (timestamp 7 days by default)
//! keys/targets.key            the publishing administrator's targets key
//! keys/snapshot.key           online: re-signed automatically
//! keys/timestamp.key          online: re-signed automatically
//! publishers.toml             the publisher allow-list
//! provider.db                 the update catalog and the activity log (SQLite)
//! repository/metadata/        N.root.json, root.json, N.targets.json, N.snapshot.json, timestamp.json
//! repository/targets/         <sha256>.<target name>: the payloads
//! repository.lock             held while the repository is changed
//! ```
//! The root key is never in this folder: `keygen` writes it where the
//! administrator says, and only root rotation asks for it again.
//!
//! The repository uses consistent snapshots, so every new metadata
//! version and payload gets a new file name; a change writes its new
//! files first and replaces `timestamp.json` last, by rename, so a reader
//! (the provider serving clients) always sees one complete state.
//! **Invariant:** no file a client may be reading is ever rewritten in
//! place.

use crate::fsutil::{sync_dir, write_atomic};
use crate::keys::{KeyError, SigningKey};
use aws_lc_rs::rand::SystemRandom;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use tough::editor::signed::SignedRole;
use tough::editor::RepositoryEditor;
use tough::schema::{
    Hashes, KeyHolder, Metafile, RoleKeys, RoleType, Root, Signed, Snapshot, Target, Targets,
    Timestamp,
};
use transit_core::{ErrorKind, IoContext, Kind, PathIoError};

const SPEC_VERSION: &str = "1.0.0";
const DAY: i64 = 24 * 3600;

/// The TUF roles whose keys live in the data folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnlineRole {
    /// Signs the list of updates; held by the publishing administrator.
    Targets,
    /// Signs the snapshot; online.
    Snapshot,
    /// Signs the timestamp; online.
    Timestamp,
}

impl OnlineRole {
    /// All three, in signing order.
    pub const ALL: [OnlineRole; 3] = [
        OnlineRole::Targets,
        OnlineRole::Snapshot,
        OnlineRole::Timestamp,
    ];

    fn name(self) -> &'static str {
        match self {
            OnlineRole::Targets => "targets",
            OnlineRole::Snapshot => "snapshot",
            OnlineRole::Timestamp => "timestamp",
        }
    }

    fn role_type(self) -> RoleType {
        match self {
            OnlineRole::Targets => RoleType::Targets,
            OnlineRole::Snapshot => RoleType::Snapshot,
            OnlineRole::Timestamp => RoleType::Timestamp,
        }
    }
}

/// How long each role's metadata stays valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expiry {
    /// root.json, in days.
    pub root_days: u32,
    /// targets.json, in days.
    pub targets_days: u32,
    /// snapshot.json, in days.
    pub snapshot_days: u32,
    /// timestamp.json, in days (7 by default).
    pub timestamp_days: u32,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry {
            root_days: 365,
            targets_days: 365,
            snapshot_days: 30,
            timestamp_days: 7,
        }
    }
}

impl Expiry {
    fn check(&self) -> Result<(), RepoError> {
        let all = [
            self.root_days,
            self.targets_days,
            self.snapshot_days,
            self.timestamp_days,
        ];
        if all.iter().any(|d| *d == 0 || *d > 3650) {
            return Err(RepoError::Config("expiry days must be 1 to 3650".into()));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RepoConfig {
    expiry: Expiry,
}

/// A repository operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// A key file is missing, exists already, or is not a key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// There is no repository in the folder.
    #[error("{}: no update repository here (create one with `transit update keygen`)", .0.display())]
    Missing(PathBuf),
    /// The folder holds a repository already.
    #[error("{}: an update repository exists here already", .0.display())]
    Exists(PathBuf),
    /// The root key file would sit inside the data folder.
    #[error("the root key {} must be kept outside the data folder {} (it is the offline key)", .key.display(), .dir.display())]
    RootKeyInside {
        /// The root key path.
        key: PathBuf,
        /// The data folder.
        dir: PathBuf,
    },
    /// A key given is not the key its role requires.
    #[error("{0}")]
    WrongKey(String),
    /// A metadata file in the repository is unreadable.
    #[error("{}: {problem}", .path.display())]
    Metadata {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// tough refused to build or sign.
    #[error("signing the repository: {0}")]
    Tough(String),
    /// `update.toml` is invalid.
    #[error("update.toml: {0}")]
    Config(String),
    /// The target exists already with other content.
    #[error("{0} is in the repository already with different content (delete it first)")]
    Conflict(String),
    /// The target is not in the repository.
    #[error("{0} is not in the repository")]
    NoSuchTarget(String),
}

impl Kind for RepoError {
    fn kind(&self) -> ErrorKind {
        match self {
            RepoError::Io(e) => e.kind(),
            RepoError::Key(e) => e.kind(),
            RepoError::Missing(_) | RepoError::WrongKey(_) => ErrorKind::UpdateKeys,
            RepoError::Exists(_) | RepoError::RootKeyInside { .. } | RepoError::Conflict(_) => {
                ErrorKind::Refused
            }
            RepoError::Metadata { .. } | RepoError::Config(_) => ErrorKind::BadInput,
            RepoError::NoSuchTarget(_) => ErrorKind::Usage,
            RepoError::Tough(_) => ErrorKind::Other,
        }
    }
}

fn tough_err(e: tough::error::Error) -> RepoError {
    RepoError::Tough(e.to_string())
}

fn expires_in(days: u32) -> jiff::Timestamp {
    expires_after(jiff::Timestamp::now(), days)
}

fn expires_after(now: jiff::Timestamp, days: u32) -> jiff::Timestamp {
    jiff::Timestamp::from_second(now.as_second() + i64::from(days) * DAY)
        .expect("a date within range")
}

fn nz(n: u64) -> NonZeroU64 {
    NonZeroU64::new(n).expect("versions start at 1")
}

/// The current, signed state of the repository, as read from disk.
#[derive(Debug, Clone)]
pub struct RepoState {
    /// root.json.
    pub root: Signed<Root>,
    /// timestamp.json.
    pub timestamp: Signed<Timestamp>,
    /// The snapshot the timestamp names.
    pub snapshot: Signed<Snapshot>,
    /// The targets the snapshot names.
    pub targets: Signed<Targets>,
}

/// What `keygen` made.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// The data folder.
    pub dir: PathBuf,
    /// The offline root key file.
    pub root_key: PathBuf,
    /// Key IDs by role.
    pub key_ids: HashMap<String, String>,
    /// The expiry settings.
    pub expiry: Expiry,
}

/// What a signing run produced.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Signed3 {
    /// The new targets version, if targets were re-signed.
    pub targets_version: Option<u64>,
    /// The new snapshot version, if re-signed.
    pub snapshot_version: Option<u64>,
    /// The new timestamp version.
    pub timestamp_version: u64,
}

/// A provider's data folder with its TUF repository.
#[derive(Debug, Clone)]
pub struct UpdateRepository {
    dir: PathBuf,
    expiry: Expiry,
}

impl UpdateRepository {
    /// The metadata folder of the repository in `dir`.
    pub fn metadata_dir_of(dir: &Path) -> PathBuf {
        dir.join("repository/metadata")
    }

    /// Opens the repository in `dir`.
    pub fn open(dir: &Path) -> Result<UpdateRepository, RepoError> {
        if !Self::metadata_dir_of(dir).join("root.json").is_file() {
            return Err(RepoError::Missing(dir.to_path_buf()));
        }
        let config_path = dir.join("update.toml");
        let config: RepoConfig = match std::fs::read_to_string(&config_path) {
            Ok(text) => {
                toml::from_str(&text).map_err(|e| RepoError::Config(e.message().to_string()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => RepoConfig::default(),
            Err(e) => return Err(PathIoError::new(&config_path, e).into()),
        };
        config.expiry.check()?;
        Ok(UpdateRepository {
            dir: dir.to_path_buf(),
            expiry: config.expiry,
        })
    }

    /// The data folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The expiry settings.
    pub fn expiry(&self) -> Expiry {
        self.expiry
    }

    /// `repository/metadata`: what the provider serves as TUF metadata.
    pub fn metadata_dir(&self) -> PathBuf {
        Self::metadata_dir_of(&self.dir)
    }

    /// `repository/targets`: what the provider serves as payloads.
    pub fn targets_dir(&self) -> PathBuf {
        self.dir.join("repository/targets")
    }

    /// The key file of an online role.
    pub fn key_path(&self, role: OnlineRole) -> PathBuf {
        key_path(&self.dir, role)
    }

    /// The publisher allow-list.
    pub fn publishers_path(&self) -> PathBuf {
        self.dir.join("publishers.toml")
    }

    /// The catalog and activity database.
    pub fn store_path(&self) -> PathBuf {
        self.dir.join("provider.db")
    }

    /// The newest root.json: what a client pins as its trusted root.
    pub fn root_json(&self) -> Result<Vec<u8>, RepoError> {
        let path = self.metadata_dir().join("root.json");
        Ok(std::fs::read(&path).at(&path)?)
    }

    /// Takes the repository's write lock (blocking) for as long as the
    /// guard lives, so two ingests never interleave.
    pub fn lock(&self) -> Result<RepoLock, RepoError> {
        let path = self.dir.join("repository.lock");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .at(&path)?;
        let lock = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, e)| PathIoError::new(&path, std::io::Error::from(e)))?;
        Ok(RepoLock { _lock: lock })
    }

    /// Reads the current signed state from disk.
    pub fn state(&self) -> Result<RepoState, RepoError> {
        let meta = self.metadata_dir();
        let root: Signed<Root> = read_json(&meta.join("root.json"))?;
        let timestamp: Signed<Timestamp> = read_json(&meta.join("timestamp.json"))?;
        let snap_meta =
            timestamp
                .signed
                .meta
                .get("snapshot.json")
                .ok_or_else(|| RepoError::Metadata {
                    path: meta.join("timestamp.json"),
                    problem: "no snapshot.json entry".into(),
                })?;
        let snap_path = meta.join(format!("{}.snapshot.json", snap_meta.version));
        let snapshot: Signed<Snapshot> = read_json(&snap_path)?;
        let targets_meta =
            snapshot
                .signed
                .meta
                .get("targets.json")
                .ok_or_else(|| RepoError::Metadata {
                    path: snap_path.clone(),
                    problem: "no targets.json entry".into(),
                })?;
        let targets: Signed<Targets> =
            read_json(&meta.join(format!("{}.targets.json", targets_meta.version)))?;
        Ok(RepoState {
            root,
            timestamp,
            snapshot,
            targets,
        })
    }

    /// The file that holds a target's payload.
    pub fn target_file(&self, name: &str, sha256_hex: &str) -> PathBuf {
        let (dir, base) = match name.rsplit_once('/') {
            Some((dir, base)) => (self.targets_dir().join(dir), base.to_string()),
            None => (self.targets_dir(), name.to_string()),
        };
        dir.join(format!("{sha256_hex}.{base}"))
    }

    fn load_online_keys(&self, targets_key: Option<&Path>) -> Result<Vec<SigningKey>, RepoError> {
        let mut keys = Vec::new();
        for role in OnlineRole::ALL {
            let path = match (role, targets_key) {
                (OnlineRole::Targets, Some(path)) => path.to_path_buf(),
                _ => self.key_path(role),
            };
            keys.push(SigningKey::load(&path)?);
        }
        Ok(keys)
    }

    fn check_role_key(
        &self,
        root: &Root,
        role: OnlineRole,
        key: &SigningKey,
    ) -> Result<(), RepoError> {
        let id = key.key_id();
        let listed = root
            .roles
            .get(&role.role_type())
            .is_some_and(|r| r.keyids.iter().any(|k| hex::encode(&**k) == id));
        if listed {
            Ok(())
        } else {
            Err(RepoError::WrongKey(format!(
                "{} (key {id}) is not the repository's {} key",
                key.path().display(),
                role.name()
            )))
        }
    }

    /// Changes the targets with `edit`, then re-signs targets, snapshot
    /// and timestamp (new versions, new expiries) and publishes them. The
    /// caller holds [`UpdateRepository::lock`].
    pub async fn edit_targets(
        &self,
        targets_key: Option<&Path>,
        edit: impl FnOnce(&mut RepositoryEditor, &Signed<Targets>) -> Result<(), RepoError>,
    ) -> Result<Signed3, RepoError> {
        let state = self.state()?;
        let keys = self.load_online_keys(targets_key)?;
        for (role, key) in OnlineRole::ALL.into_iter().zip(&keys) {
            self.check_role_key(&state.root.signed, role, key)?;
        }
        let mut editor = RepositoryEditor::new(self.metadata_dir().join("root.json"))
            .await
            .map_err(tough_err)?;
        editor.targets(state.targets.clone()).map_err(tough_err)?;
        edit(&mut editor, &state.targets)?;
        let targets_version = state.targets.signed.version.get() + 1;
        let snapshot_version = state.snapshot.signed.version.get() + 1;
        let timestamp_version = state.timestamp.signed.version.get() + 1;
        editor
            .targets_version(nz(targets_version))
            .map_err(tough_err)?
            .targets_expires(expires_in(self.expiry.targets_days))
            .map_err(tough_err)?
            .snapshot_version(nz(snapshot_version))
            .snapshot_expires(expires_in(self.expiry.snapshot_days))
            .timestamp_version(nz(timestamp_version))
            .timestamp_expires(expires_in(self.expiry.timestamp_days));
        let sources: Vec<_> = keys.iter().map(SigningKey::source).collect();
        let signed = editor.sign(&sources).await.map_err(tough_err)?;
        self.publish(|staging| async move { signed.write(staging).await.map_err(tough_err) })
            .await?;
        Ok(Signed3 {
            targets_version: Some(targets_version),
            snapshot_version: Some(snapshot_version),
            timestamp_version,
        })
    }

    /// Writes new metadata through a staging folder: every file but
    /// `timestamp.json` is renamed into place first, `timestamp.json` last.
    async fn publish<F, Fut>(&self, write: F) -> Result<(), RepoError>
    where
        F: FnOnce(PathBuf) -> Fut,
        Fut: std::future::Future<Output = Result<(), RepoError>>,
    {
        let meta = self.metadata_dir();
        let staging = tempfile::Builder::new()
            .prefix(".staging-")
            .tempdir_in(&meta)
            .at(&meta)?;
        write(staging.path().to_path_buf()).await?;
        let mut names: Vec<_> = std::fs::read_dir(staging.path())
            .at(staging.path())?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort_by_key(|n| n == "timestamp.json");
        for name in names {
            let from = staging.path().join(&name);
            let to = meta.join(&name);
            std::fs::File::open(&from)
                .and_then(|f| f.sync_all())
                .at(&from)?;
            if name == "timestamp.json" {
                sync_dir(&meta)?;
            }
            std::fs::rename(&from, &to).at(&to)?;
        }
        sync_dir(&meta)?;
        Ok(())
    }

    /// Adds a payload (already in `payload_file`, with its length and
    /// SHA-256) as target `name` with `custom` metadata, and re-signs. The
    /// payload file is moved into the content store. Adding a target that
    /// exists with the same hash and metadata changes nothing and returns
    /// `None`; the same name with anything else is a conflict.
    pub async fn add_target(
        &self,
        name: &str,
        payload_file: &Path,
        length: u64,
        sha256_hex: &str,
        custom: HashMap<String, serde_json::Value>,
        targets_key: Option<&Path>,
    ) -> Result<Option<Signed3>, RepoError> {
        let target_name = tough::TargetName::new(name).map_err(tough_err)?;
        let state = self.state()?;
        if let Some(existing) = state.targets.signed.targets.get(&target_name) {
            if hex::encode(&*existing.hashes.sha256) == sha256_hex && existing.custom == custom {
                return Ok(None);
            }
            return Err(RepoError::Conflict(name.to_string()));
        }
        let dest = self.target_file(name, sha256_hex);
        let dest_dir = dest
            .parent()
            .expect("a target file has a folder")
            .to_path_buf();
        std::fs::create_dir_all(&dest_dir).at(&dest_dir)?;
        std::fs::rename(payload_file, &dest).at(&dest)?;
        sync_dir(&dest_dir)?;
        let target = Target {
            length,
            hashes: Hashes {
                sha256: hex::decode(sha256_hex).expect("a hex hash").into(),
                _extra: HashMap::new(),
            },
            custom,
            _extra: HashMap::new(),
        };
        let result = self
            .edit_targets(targets_key, |editor, _| {
                editor.add_target(target_name, target).map_err(tough_err)?;
                Ok(())
            })
            .await;
        if result.is_err() {
            let _ = std::fs::remove_file(&dest);
        }
        result.map(Some)
    }

    /// Deletes target `name` from the repository (re-signing) and its
    /// payload from the content store. This is "Delete update", not the
    /// Remove state: machines that installed it keep it.
    pub async fn delete_target(
        &self,
        name: &str,
        targets_key: Option<&Path>,
    ) -> Result<Signed3, RepoError> {
        let target_name = tough::TargetName::new(name).map_err(tough_err)?;
        let state = self.state()?;
        let existing = state
            .targets
            .signed
            .targets
            .get(&target_name)
            .ok_or_else(|| RepoError::NoSuchTarget(name.to_string()))?
            .clone();
        let signed = self
            .edit_targets(targets_key, |editor, _| {
                editor.remove_target(&target_name).map_err(tough_err)?;
                Ok(())
            })
            .await?;
        let file = self.target_file(name, &hex::encode(&*existing.hashes.sha256));
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(PathIoError::new(&file, e).into())
            }
            _ => {}
        }
        Ok(signed)
    }

    /// Re-signs the online roles when they near expiry (less than half
    /// their lifetime left) or when `force` is set: the timestamp always
    /// then, the snapshot when it is due. Needs only the online keys.
    /// The running provider calls it every minute (`transit_provider::upkeep`);
    /// `transit update refresh` calls it by hand. The caller holds
    /// [`UpdateRepository::lock`].
    pub async fn refresh(&self, force: bool) -> Result<Option<Signed3>, RepoError> {
        self.refresh_at(force, jiff::Timestamp::now()).await
    }

    /// [`UpdateRepository::refresh`] as if the time were `now`: what is due
    /// is judged at `now`, and the new expiry dates count from `now`. A
    /// `now` in the past signs metadata that may already have expired
    /// (the tests' freeze).
    pub async fn refresh_at(
        &self,
        force: bool,
        now: jiff::Timestamp,
    ) -> Result<Option<Signed3>, RepoError> {
        let state = self.state()?;
        let now_s = now.as_second();
        let due = |expires: jiff::Timestamp, days: u32| {
            expires.as_second() - now_s < i64::from(days) * DAY / 2
        };
        let snapshot_due = force || due(state.snapshot.signed.expires, self.expiry.snapshot_days);
        let timestamp_due =
            snapshot_due || due(state.timestamp.signed.expires, self.expiry.timestamp_days);
        if !timestamp_due {
            return Ok(None);
        }
        let rng = SystemRandom::new();
        let holder = KeyHolder::Root(state.root.signed.clone());
        let ts_key = SigningKey::load(&self.key_path(OnlineRole::Timestamp))?;
        self.check_role_key(&state.root.signed, OnlineRole::Timestamp, &ts_key)?;
        let mut result = Signed3::default();
        let mut new_snapshot = None;
        let snapshot_meta = if snapshot_due {
            let key = SigningKey::load(&self.key_path(OnlineRole::Snapshot))?;
            self.check_role_key(&state.root.signed, OnlineRole::Snapshot, &key)?;
            let version = state.snapshot.signed.version.get() + 1;
            let mut snapshot = Snapshot::new(
                SPEC_VERSION.into(),
                nz(version),
                expires_after(now, self.expiry.snapshot_days),
            );
            snapshot.meta = state.snapshot.signed.meta.clone();
            let signed = SignedRole::new(snapshot, &holder, &[key.source()], &rng)
                .await
                .map_err(tough_err)?;
            result.snapshot_version = Some(version);
            let meta = metafile(&signed, version);
            new_snapshot = Some(signed);
            meta
        } else {
            state.timestamp.signed.meta["snapshot.json"].clone()
        };
        let version = state.timestamp.signed.version.get() + 1;
        let mut timestamp = Timestamp::new(
            SPEC_VERSION.into(),
            nz(version),
            expires_after(now, self.expiry.timestamp_days),
        );
        timestamp.meta.insert("snapshot.json".into(), snapshot_meta);
        let signed_ts = SignedRole::new(timestamp, &holder, &[ts_key.source()], &rng)
            .await
            .map_err(tough_err)?;
        result.timestamp_version = version;
        self.publish(|staging| async move {
            if let Some(snapshot) = new_snapshot {
                snapshot.write(&staging, true).await.map_err(tough_err)?;
            }
            signed_ts.write(&staging, true).await.map_err(tough_err)
        })
        .await?;
        Ok(Some(result))
    }
}

/// The repository's write lock.
#[derive(Debug)]
pub struct RepoLock {
    _lock: nix::fcntl::Flock<std::fs::File>,
}

fn metafile<T: tough::schema::Role + Serialize>(signed: &SignedRole<T>, version: u64) -> Metafile {
    serde_json::from_value(serde_json::json!({
        "version": version,
        "length": *signed.length(),
        "hashes": { "sha256": hex::encode(signed.sha256()) },
    }))
    .expect("a metafile")
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RepoError> {
    let bytes = std::fs::read(path).at(path)?;
    serde_json::from_slice(&bytes).map_err(|e| RepoError::Metadata {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })
}

fn key_path(dir: &Path, role: OnlineRole) -> PathBuf {
    dir.join("keys").join(format!("{}.key", role.name()))
}

fn role_keys(id: &tough::schema::decoded::Decoded<tough::schema::decoded::Hex>) -> RoleKeys {
    RoleKeys {
        keyids: vec![id.clone()],
        threshold: nz(1),
        _extra: HashMap::new(),
    }
}

fn key_id_of(key: &SigningKey) -> tough::schema::decoded::Decoded<tough::schema::decoded::Hex> {
    key.tuf_key().key_id().expect("an Ed25519 key serialises")
}

/// Builds a root with the given keys (one per role, threshold 1).
fn build_root(version: u64, days: u32, root: &SigningKey, roles: [&SigningKey; 3]) -> Root {
    let mut keys = HashMap::new();
    let mut role_map = HashMap::new();
    keys.insert(key_id_of(root), root.tuf_key());
    role_map.insert(RoleType::Root, role_keys(&key_id_of(root)));
    for (role, key) in OnlineRole::ALL.into_iter().zip(roles) {
        keys.insert(key_id_of(key), key.tuf_key());
        role_map.insert(role.role_type(), role_keys(&key_id_of(key)));
    }
    Root {
        spec_version: SPEC_VERSION.into(),
        consistent_snapshot: true,
        version: nz(version),
        expires: expires_in(days),
        keys,
        roles: role_map,
        _extra: HashMap::new(),
    }
}

fn inside(path: &Path, dir: &Path) -> Result<bool, RepoError> {
    let path = transit_core::paths::resolve(path)?;
    let dir = transit_core::paths::resolve(dir)?;
    Ok(path.starts_with(dir))
}

/// Creates a repository in `dir`: the root key at `root_key` (outside
/// `dir`), the targets, snapshot and timestamp keys in `dir/keys`, a
/// signed root, empty targets, snapshot and timestamp, an empty allow-list.
pub async fn init(dir: &Path, root_key: &Path, expiry: Expiry) -> Result<InitReport, RepoError> {
    expiry.check()?;
    if UpdateRepository::metadata_dir_of(dir).exists() {
        return Err(RepoError::Exists(dir.to_path_buf()));
    }
    if inside(root_key, dir)? {
        return Err(RepoError::RootKeyInside {
            key: root_key.to_path_buf(),
            dir: dir.to_path_buf(),
        });
    }
    for role in OnlineRole::ALL {
        if key_path(dir, role).exists() {
            return Err(KeyError::Exists(key_path(dir, role)).into());
        }
    }
    let root = SigningKey::generate(root_key)?;
    let targets = SigningKey::generate(&key_path(dir, OnlineRole::Targets))?;
    let snapshot = SigningKey::generate(&key_path(dir, OnlineRole::Snapshot))?;
    let timestamp = SigningKey::generate(&key_path(dir, OnlineRole::Timestamp))?;
    let config = toml::to_string(&RepoConfig { expiry }).expect("config serialises");
    write_atomic(&dir.join("update.toml"), config.as_bytes())?;
    let meta = UpdateRepository::metadata_dir_of(dir);
    std::fs::create_dir_all(&meta).at(&meta)?;
    std::fs::create_dir_all(dir.join("repository/targets")).at(dir)?;

    let root_role = build_root(
        1,
        expiry.root_days,
        &root,
        [&targets, &snapshot, &timestamp],
    );
    let holder = KeyHolder::Root(root_role.clone());
    let signed_root = SignedRole::new(root_role, &holder, &[root.source()], &SystemRandom::new())
        .await
        .map_err(tough_err)?;
    write_atomic(&meta.join("1.root.json"), signed_root.buffer())?;
    write_atomic(&meta.join("root.json"), signed_root.buffer())?;

    let repo = UpdateRepository {
        dir: dir.to_path_buf(),
        expiry,
    };
    let mut editor = RepositoryEditor::new(meta.join("root.json"))
        .await
        .map_err(tough_err)?;
    editor
        .targets_version(nz(1))
        .map_err(tough_err)?
        .targets_expires(expires_in(expiry.targets_days))
        .map_err(tough_err)?
        .snapshot_version(nz(1))
        .snapshot_expires(expires_in(expiry.snapshot_days))
        .timestamp_version(nz(1))
        .timestamp_expires(expires_in(expiry.timestamp_days));
    let sources = vec![targets.source(), snapshot.source(), timestamp.source()];
    let signed = editor.sign(&sources).await.map_err(tough_err)?;
    repo.publish(|staging| async move { signed.write(staging).await.map_err(tough_err) })
        .await?;
    crate::publishers::AllowList::default()
        .save(&repo.publishers_path())
        .map_err(|e| RepoError::Tough(e.to_string()))?;
    let mut key_ids = HashMap::new();
    key_ids.insert("root".to_string(), root.key_id());
    for (role, key) in OnlineRole::ALL
        .into_iter()
        .zip([&targets, &snapshot, &timestamp])
    {
        key_ids.insert(role.name().to_string(), key.key_id());
    }
    Ok(InitReport {
        dir: dir.to_path_buf(),
        root_key: root_key.to_path_buf(),
        key_ids,
        expiry,
    })
}

/// What a root rotation did.
#[derive(Debug, Clone, Serialize)]
pub struct RotateReport {
    /// The new root version.
    pub root_version: u64,
    /// The roles whose keys were replaced (the old key files are kept in
    /// `keys/retired/`).
    pub rotated: Vec<OnlineRole>,
    /// The versions the re-signing produced.
    pub signed: Signed3,
}

impl UpdateRepository {
    /// Rotates the root key (from `old_root` to `new_root`; both files are
    /// needed: the new root is signed by both, so clients that trust the
    /// old one follow) and, for each role in `roles`, replaces its key.
    /// Then re-signs targets, snapshot and timestamp with the current keys.
    pub async fn rotate(
        &self,
        old_root: &Path,
        new_root: &Path,
        roles: &[OnlineRole],
    ) -> Result<RotateReport, RepoError> {
        if inside(new_root, &self.dir)? {
            return Err(RepoError::RootKeyInside {
                key: new_root.to_path_buf(),
                dir: self.dir.clone(),
            });
        }
        let _lock = self.lock()?;
        let state = self.state()?;
        let old_key = SigningKey::load(old_root)?;
        let old_id = old_key.key_id();
        let is_root = state.root.signed.roles[&RoleType::Root]
            .keyids
            .iter()
            .any(|k| hex::encode(&**k) == old_id);
        if !is_root {
            return Err(RepoError::WrongKey(format!(
                "{} (key {old_id}) is not the repository's current root key",
                old_root.display()
            )));
        }
        let new_key = if new_root.exists() {
            SigningKey::load(new_root)?
        } else {
            SigningKey::generate(new_root)?
        };
        let retired = self.dir.join("keys/retired");
        let version = state.root.signed.version.get() + 1;
        for role in roles {
            std::fs::create_dir_all(&retired).at(&retired)?;
            let from = self.key_path(*role);
            let to = retired.join(format!("{}-root-v{}.key", role.name(), version - 1));
            std::fs::rename(&from, &to).at(&to)?;
            SigningKey::generate(&from)?;
        }
        let keys = self.load_online_keys(None)?;
        let root_role = build_root(
            version,
            self.expiry.root_days,
            &new_key,
            [&keys[0], &keys[1], &keys[2]],
        );
        let rng = SystemRandom::new();
        let signed_new = SignedRole::new(
            root_role.clone(),
            &KeyHolder::Root(root_role.clone()),
            &[new_key.source()],
            &rng,
        )
        .await
        .map_err(tough_err)?;
        let signed_old = SignedRole::new(
            root_role,
            &KeyHolder::Root(state.root.signed.clone()),
            &[old_key.source()],
            &rng,
        )
        .await
        .map_err(tough_err)?;
        let signed_root = signed_new
            .add_old_signatures(signed_old.signed().signatures.clone())
            .map_err(tough_err)?;
        let meta = self.metadata_dir();
        write_atomic(
            &meta.join(format!("{version}.root.json")),
            signed_root.buffer(),
        )?;
        write_atomic(&meta.join("root.json"), signed_root.buffer())?;
        let signed = self.edit_targets(None, |_, _| Ok(())).await?;
        Ok(RotateReport {
            root_version: version,
            rotated: roles.to_vec(),
            signed,
        })
    }
}
