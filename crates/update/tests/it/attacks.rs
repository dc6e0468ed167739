//! Interop with python-tuf's ngclient, and the attack matrix: each attack
//! is refused with its own error by Transit's client (tough) and by
//! python-tuf.

use crate::common::{copy_tree, manifest, patch3, python_tuf, rt, Fixture};
use aws_lc_rs::rand::SystemRandom;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use tough::editor::signed::SignedRole;
use tough::schema::{KeyHolder, Metafile, Root, Signed, Snapshot, Timestamp};
use transit_core::{ErrorKind, Kind};
use transit_update::client::{self, ClientTrust, VerifyError};
use transit_update::keys::SigningKey;
use transit_update::publishers::AllowList;
use transit_update::repo::{OnlineRole, UpdateRepository};

const ES: &str = "interaction-desktop-18.01.03.20-es.tar.zst";
const P3: &str = "interaction-desktop-18.01.03.12-patch.tar.zst";

/// The good repository (two updates: targets v3) and the served copies.
struct Matrix {
    fx: Fixture,
    served: PathBuf,
    first_root: Vec<u8>,
    client_allow: AllowList,
}

impl Matrix {
    fn new() -> Matrix {
        let fx = Fixture::new();
        let first_root = fx.repo.root_json().unwrap();
        fx.ingest(&fx.bundle("p3", &patch3(), None));
        fx.ingest(&fx.bundle(
            "es",
            &manifest("Interaction Desktop", "2018 R1", 3, "ES", "18.01.03.20"),
            None,
        ));
        let served = fx.path("served");
        copy_tree(&fx.data.join("repository"), &served.join("good"));
        let client_allow = AllowList::load(&fx.repo.publishers_path()).unwrap();
        Matrix {
            fx,
            served,
            first_root,
            client_allow,
        }
    }

    /// A copy of the served good repository, to tamper with.
    fn copy(&self, name: &str) -> PathBuf {
        let dir = self.served.join(name);
        copy_tree(&self.served.join("good"), &dir);
        dir
    }

    /// A copy of the whole data folder (with its keys), for attacks that
    /// need the online keys; `publish` copies its repository to `served`.
    fn data_copy(&self, name: &str) -> UpdateRepository {
        let dir = self.fx.path(&format!("attacker/{name}"));
        copy_tree(&self.fx.data, &dir);
        UpdateRepository::open(&dir).unwrap()
    }

    fn publish(&self, repo: &UpdateRepository, name: &str) -> PathBuf {
        let dir = self.served.join(name);
        copy_tree(&repo.dir().join("repository"), &dir);
        dir
    }

    /// Transit's client: refresh, then (for a target) check and download it.
    fn transit(
        &self,
        repo: &str,
        target: Option<&str>,
        datastore: &Path,
    ) -> Result<(), VerifyError> {
        let trust = ClientTrust::new(
            self.first_root.clone(),
            self.client_allow.clone(),
            datastore,
        )
        .unwrap();
        let dir = self.served.join(repo);
        let rt = rt();
        let verified = rt.block_on(client::refresh(
            &trust,
            client::dir_url(&dir.join("metadata")).unwrap(),
            client::dir_url(&dir.join("targets")).unwrap(),
        ))?;
        if let Some(target) = target {
            verified.update(target)?;
            rt.block_on(verified.download(target, &datastore.join("download")))?;
        }
        Ok(())
    }
}

fn nz(n: u64) -> std::num::NonZeroU64 {
    std::num::NonZeroU64::new(n).unwrap()
}

fn days_from_now(days: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() + days * 86400).unwrap()
}

fn metafile_of(path: &Path, version: u64) -> Metafile {
    let bytes = std::fs::read(path).unwrap();
    use sha2::Digest;
    serde_json::from_value(serde_json::json!({
        "version": version,
        "length": bytes.len(),
        "hashes": { "sha256": hex::encode(sha2::Sha256::digest(&bytes)) },
    }))
    .unwrap()
}

/// Signs and writes a snapshot (role key from the data copy).
fn forge_snapshot(
    repo: &UpdateRepository,
    version: u64,
    meta: HashMap<String, Metafile>,
) -> Metafile {
    let state = repo.state().unwrap();
    let key = SigningKey::load(&repo.key_path(OnlineRole::Snapshot)).unwrap();
    let mut snapshot = Snapshot::new("1.0.0".into(), nz(version), days_from_now(30));
    snapshot.meta = meta;
    let signed = rt()
        .block_on(SignedRole::new(
            snapshot,
            &KeyHolder::Root(state.root.signed),
            &[key.source()],
            &SystemRandom::new(),
        ))
        .unwrap();
    let path = repo.metadata_dir().join(format!("{version}.snapshot.json"));
    std::fs::write(&path, signed.buffer()).unwrap();
    metafile_of(&path, version)
}

/// Signs and writes timestamp.json (role key from the data copy).
fn forge_timestamp(
    repo: &UpdateRepository,
    version: u64,
    snapshot: Metafile,
    expires: jiff::Timestamp,
) {
    let state = repo.state().unwrap();
    let key = SigningKey::load(&repo.key_path(OnlineRole::Timestamp)).unwrap();
    let mut timestamp = Timestamp::new("1.0.0".into(), nz(version), expires);
    timestamp.meta.insert("snapshot.json".into(), snapshot);
    let signed = rt()
        .block_on(SignedRole::new(
            timestamp,
            &KeyHolder::Root(state.root.signed),
            &[key.source()],
            &SystemRandom::new(),
        ))
        .unwrap();
    std::fs::write(repo.metadata_dir().join("timestamp.json"), signed.buffer()).unwrap();
}

/// The short name of a Transit refusal.
fn variant(e: &VerifyError) -> &'static str {
    match e {
        VerifyError::BadSignature { .. } => "BadSignature",
        VerifyError::Rollback { .. } => "Rollback",
        VerifyError::Expired { .. } => "Expired",
        VerifyError::Mismatch { .. } => "Mismatch",
        VerifyError::TooLarge { .. } => "TooLarge",
        VerifyError::RootOutOfOrder { .. } => "RootOutOfOrder",
        VerifyError::PayloadMismatch { .. } => "PayloadMismatch",
        VerifyError::Unsigned { .. } => "Unsigned",
        VerifyError::BadBundleSignature { .. } => "BadBundleSignature",
        VerifyError::Publisher { .. } => "Publisher",
        VerifyError::NotFound(_) => "NotFound",
        VerifyError::Unavailable(_) => "Unavailable",
        VerifyError::Io(_) => "Io",
    }
}

#[derive(Debug, Deserialize)]
struct PyResult {
    stage: String,
    error: Option<String>,
    message: String,
    sha256: Option<String>,
}

/// Runs ngclient over a local HTTP server serving `served`.
fn ngclient(python: &Path, m: &Matrix, runs: serde_json::Value) -> Vec<PyResult> {
    let allow: HashMap<String, Vec<String>> = m
        .client_allow
        .publishers
        .iter()
        .map(|p| (p.name.clone(), p.keys.clone()))
        .collect();
    let root = m.fx.path("trusted-root.json");
    std::fs::write(&root, &m.first_root).unwrap();
    let config =
        serde_json::json!({ "serve": m.served, "root": root, "allow": allow, "runs": runs });
    let config_path = m.fx.path(&format!("ngclient-{}.json", rand_suffix()));
    std::fs::write(&config_path, serde_json::to_vec(&config).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/ngclient.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .arg(&config_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ngclient harness failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

#[test]
fn python_tuf_refreshes_and_downloads_what_transit_signed_and_follows_a_root_rotation() {
    let Some(python) = python_tuf() else { return };
    let m = Matrix::new();
    // Rotate every key on a copy and serve it too.
    let rotated = m.data_copy("rotated");
    rt().block_on(rotated.rotate(
        &m.fx.root_key,
        &m.fx.path("offline/root-2.key"),
        &[
            OnlineRole::Targets,
            OnlineRole::Snapshot,
            OnlineRole::Timestamp,
        ],
    ))
    .unwrap();
    m.publish(&rotated, "rotated");
    let local = |n: &str| m.fx.path(&format!("py/{n}"));
    let results = ngclient(
        &python,
        &m,
        serde_json::json!([
            { "repo": "good", "local": local("good"), "target": P3 },
            { "repo": "rotated", "local": local("rotated"), "target": ES },
        ]),
    );
    for r in &results {
        assert_eq!(
            (r.stage.as_str(), r.error.as_deref()),
            ("ok", None),
            "{}",
            r.message
        );
    }
    let state = m.fx.repo.state().unwrap();
    let want = |name: &str| {
        let t = state
            .targets
            .signed
            .targets
            .iter()
            .find(|(n, _)| n.raw() == name)
            .unwrap()
            .1;
        hex::encode(&*t.hashes.sha256)
    };
    assert_eq!(results[0].sha256.as_deref(), Some(want(P3).as_str()));
    assert_eq!(results[1].sha256.as_deref(), Some(want(ES).as_str()));
    // python-tuf kept the rotated root.
    let kept: Signed<Root> =
        serde_json::from_slice(&std::fs::read(local("rotated").join("root.json")).unwrap())
            .unwrap();
    assert_eq!(kept.signed.version.get(), 2);
}

/// One attack: how to make it, what it targets, and the refusals expected.
struct Case {
    name: &'static str,
    target: Option<&'static str>,
    baseline: bool,
    transit: &'static str,
    kind: ErrorKind,
    python: (&'static str, &'static str, &'static str),
}

#[test]
fn every_attack_is_refused_with_its_own_error_by_transit_and_by_python_tuf() {
    let m = Matrix::new();
    let state = m.fx.repo.state().unwrap();
    let ts_version = state.timestamp.signed.version.get();
    let snap_version = state.snapshot.signed.version.get();
    let targets_version = state.targets.signed.version.get();

    // 1. A tampered payload.
    let dir = m.copy("payload");
    let sha = hex::encode(
        &*state
            .targets
            .signed
            .targets
            .iter()
            .find(|(n, _)| n.raw() == P3)
            .unwrap()
            .1
            .hashes
            .sha256,
    );
    let file = dir.join("targets").join(format!("{sha}.{P3}"));
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[10] ^= 0x55;
    std::fs::write(&file, bytes).unwrap();

    // 2. Tampered metadata: the timestamp's expiry pushed out, signature kept.
    let dir = m.copy("metadata");
    let path = dir.join("metadata/timestamp.json");
    let mut json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    json["signed"]["expires"] = serde_json::json!("2099-01-01T00:00:00Z");
    std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();

    // 3. An unsigned bundle, listed by someone holding the targets key.
    let repo = m.data_copy("unsigned");
    let text = transit_update::Manifest::parse(&manifest(
        "Interaction Fax",
        "2018 R1",
        0,
        "Install",
        "18.01.00.1",
    ))
    .unwrap();
    let payload = m.fx.path("unsigned-payload");
    std::fs::write(&payload, b"not signed by anyone").unwrap();
    use sha2::Digest;
    let digest = hex::encode(sha2::Sha256::digest(b"not signed by anyone"));
    let mut with_payload = text.clone();
    with_payload.payload = Some(transit_update::manifest::PayloadInfo {
        length: 20,
        sha256: digest.clone(),
    });
    let mut custom = HashMap::new();
    custom.insert(
        "transit".to_string(),
        serde_json::json!({ "manifest": with_payload.to_toml() }),
    );
    let unsigned_target = text.target_name();
    {
        let _lock = repo.lock().unwrap();
        rt().block_on(repo.add_target(&unsigned_target, &payload, 20, &digest, custom, None))
            .unwrap();
    }
    m.publish(&repo, "unsigned");

    // 4. A publisher the provider was talked into trusting, unknown to the client.
    let repo = m.data_copy("publisher");
    let mallory = SigningKey::generate(&m.fx.path("mallory.key")).unwrap();
    let mut list = AllowList::load(&repo.publishers_path()).unwrap();
    list.trust("Mallory", &mallory.public());
    list.save(&repo.publishers_path()).unwrap();
    let evil = manifest("Interaction Fax", "2018 R1", 0, "Install", "18.01.00.2")
        .replace("publisher = \"Genesys\"", "publisher = \"Mallory\"");
    let bundle = m.fx.bundle("mallory", &evil, Some(&mallory));
    rt().block_on(transit_update::ingest::ingest_file(
        &repo,
        &bundle,
        None,
        &transit_core::CancelToken::new(),
        &transit_core::NoProgress,
    ))
    .unwrap();
    m.publish(&repo, "publisher");
    let evil_target = transit_update::Manifest::parse(&evil)
        .unwrap()
        .target_name();

    // 5. Rollback: online keys stolen; a new snapshot lists an older targets.
    let repo = m.data_copy("rollback");
    let mut meta = HashMap::new();
    let old = targets_version - 1;
    meta.insert(
        "targets.json".to_string(),
        metafile_of(
            &repo.metadata_dir().join(format!("{old}.targets.json")),
            old,
        ),
    );
    let snap = forge_snapshot(&repo, snap_version + 1, meta);
    forge_timestamp(&repo, ts_version + 1, snap, days_from_now(7));
    m.publish(&repo, "rollback");

    // 6. Freeze: a validly signed timestamp that has expired.
    let repo = m.data_copy("freeze");
    let snap = state.timestamp.signed.meta["snapshot.json"].clone();
    forge_timestamp(&repo, ts_version + 1, snap, days_from_now(-1));
    m.publish(&repo, "freeze");

    // 7. Mix-and-match: the snapshot the timestamp names is swapped for an
    // older, validly signed one.
    let dir = m.copy("mix");
    std::fs::copy(
        dir.join(format!("metadata/{}.snapshot.json", snap_version - 1)),
        dir.join(format!("metadata/{snap_version}.snapshot.json")),
    )
    .unwrap();

    // 8. Oversized metadata: a 2 MiB timestamp.
    let dir = m.copy("oversized");
    let path = dir.join("metadata/timestamp.json");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.resize(bytes.len() + (2 << 20), b' ');
    std::fs::write(&path, bytes).unwrap();

    // 9. A root version out of order: 2.root.json holds version 3.
    let repo = m.data_copy("rootorder");
    let mut root = state.root.signed.clone();
    root.version = nz(3);
    let key = SigningKey::load(&m.fx.root_key).unwrap();
    let signed = rt()
        .block_on(SignedRole::new(
            root.clone(),
            &KeyHolder::Root(root),
            &[key.source()],
            &SystemRandom::new(),
        ))
        .unwrap();
    std::fs::write(repo.metadata_dir().join("2.root.json"), signed.buffer()).unwrap();
    m.publish(&repo, "rootorder");

    let cases = [
        Case {
            name: "payload",
            target: Some(P3),
            baseline: false,
            transit: "PayloadMismatch",
            kind: ErrorKind::UpdateMismatch,
            python: (
                "download",
                "LengthOrHashMismatchError",
                "does not match expected hash",
            ),
        },
        Case {
            name: "metadata",
            target: None,
            baseline: false,
            transit: "BadSignature",
            kind: ErrorKind::UpdateBadSignature,
            python: ("refresh", "UnsignedMetadataError", "timestamp"),
        },
        Case {
            name: "unsigned",
            target: Some(Box::leak(unsigned_target.into_boxed_str())),
            baseline: false,
            transit: "Unsigned",
            kind: ErrorKind::UpdateUnsigned,
            python: ("publisher", "BundleUnsigned", "no publisher signature"),
        },
        Case {
            name: "publisher",
            target: Some(Box::leak(evil_target.into_boxed_str())),
            baseline: false,
            transit: "Publisher",
            kind: ErrorKind::UpdatePublisher,
            python: ("publisher", "PublisherNotAllowed", "Mallory"),
        },
        Case {
            name: "rollback",
            target: None,
            baseline: true,
            transit: "Rollback",
            kind: ErrorKind::UpdateRollback,
            python: ("refresh", "BadVersionNumberError", "targets.json"),
        },
        Case {
            name: "freeze",
            target: None,
            baseline: false,
            transit: "Expired",
            kind: ErrorKind::UpdateExpired,
            python: ("refresh", "ExpiredMetadataError", "timestamp"),
        },
        Case {
            name: "mix",
            target: None,
            baseline: false,
            transit: "Mismatch",
            kind: ErrorKind::UpdateMismatch,
            python: (
                "refresh",
                "LengthOrHashMismatchError",
                "does not match expected hash",
            ),
        },
        Case {
            name: "oversized",
            target: None,
            baseline: false,
            transit: "TooLarge",
            kind: ErrorKind::UpdateTooLarge,
            python: (
                "refresh",
                "DownloadLengthMismatchError",
                "exceeding the maximum allowed length",
            ),
        },
        Case {
            name: "rootorder",
            target: None,
            baseline: false,
            transit: "RootOutOfOrder",
            kind: ErrorKind::UpdateRootOrder,
            python: ("refresh", "BadVersionNumberError", "root"),
        },
    ];

    // Transit's client (tough): the good repository passes, every attack fails its own way.
    m.transit("good", Some(P3), &m.fx.path("tc/good")).unwrap();
    let mut seen = BTreeSet::new();
    for case in &cases {
        let store = m.fx.path(&format!("tc/{}", case.name));
        if case.baseline {
            m.transit("good", None, &store).unwrap();
        }
        let err = m
            .transit(case.name, case.target, &store)
            .expect_err(case.name);
        eprintln!("TRANSIT {} {} {err}", case.name, variant(&err));
        assert_eq!(variant(&err), case.transit, "{}: {err}", case.name);
        assert_eq!(err.kind(), case.kind, "{}: {err}", case.name);
        assert!(
            !store.join("download").exists(),
            "{}: nothing unverified was written",
            case.name
        );
        seen.insert(case.transit);
    }
    assert_eq!(
        seen.len(),
        cases.len(),
        "each attack has its own Transit error"
    );

    // python-tuf's ngclient over HTTP: the same.
    let Some(python) = python_tuf() else { return };
    let mut runs = Vec::new();
    for case in &cases {
        let local = m.fx.path(&format!("py/{}", case.name));
        if case.baseline {
            runs.push(serde_json::json!({ "repo": "good", "local": local, "target": null }));
        }
        runs.push(serde_json::json!({ "repo": case.name, "local": local, "target": case.target }));
    }
    let results = ngclient(&python, &m, serde_json::Value::Array(runs));
    let mut results = results.into_iter();
    let mut seen = BTreeSet::new();
    for case in &cases {
        if case.baseline {
            let base = results.next().unwrap();
            assert_eq!(base.error, None, "{} baseline: {}", case.name, base.message);
        }
        let r = results.next().unwrap();
        let (stage, class, fragment) = case.python;
        assert_eq!(
            (r.stage.as_str(), r.error.as_deref()),
            (stage, Some(class)),
            "{}: {}",
            case.name,
            r.message
        );
        eprintln!(
            "PY {} {} {} {}",
            case.name,
            r.stage,
            r.error.as_deref().unwrap_or("-"),
            r.message
        );
        assert!(
            r.message.contains(fragment),
            "{}: `{}` lacks `{fragment}`",
            case.name,
            r.message
        );
        seen.insert((stage, class, fragment));
    }
    assert_eq!(
        seen.len(),
        cases.len(),
        "each attack has its own python-tuf error"
    );
}
