//! The TUF repository: keygen, ingest, refresh, delete, root rotation,
//! read back through Transit's client (tough).

use crate::common::{manifest, patch3, rt, Fixture};
use std::os::unix::fs::PermissionsExt;
use transit_core::{ErrorKind, Kind};
use transit_update::client::{self, ClientTrust};
use transit_update::publishers::AllowList;
use transit_update::repo::{self, Expiry, OnlineRole, RepoError};
use transit_update::UpdateState;

fn client_for(fx: &Fixture, root: Vec<u8>, state: &str) -> (ClientTrust, url::Url, url::Url) {
    let allow = AllowList::load(&fx.repo.publishers_path()).unwrap();
    let trust = ClientTrust::new(root, allow, &fx.path(state)).unwrap();
    (
        trust,
        client::dir_url(&fx.repo.metadata_dir()).unwrap(),
        client::dir_url(&fx.repo.targets_dir()).unwrap(),
    )
}

#[test]
fn keygen_lays_out_keys_and_a_signed_empty_repository() {
    let fx = Fixture::new();
    for role in OnlineRole::ALL {
        let mode = std::fs::metadata(fx.repo.key_path(role))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(fx.root_key.is_file());
    assert!(!fx.data.join("keys/root.key").exists());
    let state = fx.repo.state().unwrap();
    assert!(state.root.signed.consistent_snapshot);
    assert_eq!(state.timestamp.signed.version.get(), 1);
    let days = (state.timestamp.signed.expires.as_second() - jiff::Timestamp::now().as_second())
        as f64
        / 86400.0;
    assert!(
        (6.9..=7.0).contains(&days),
        "timestamp expires in {days} days"
    );
    // A second keygen is refused, and so is a root key inside the folder.
    let again = rt()
        .block_on(repo::init(
            &fx.data,
            &fx.path("other/root.key"),
            Expiry::default(),
        ))
        .unwrap_err();
    assert!(matches!(again, RepoError::Exists(_)));
    let inside = rt()
        .block_on(repo::init(
            &fx.path("d2"),
            &fx.path("d2/root.key"),
            Expiry::default(),
        ))
        .unwrap_err();
    assert!(
        matches!(inside, RepoError::RootKeyInside { .. }),
        "{inside}"
    );
    assert_eq!(inside.kind(), ErrorKind::Refused);
}

#[test]
fn an_ingested_update_is_listed_verified_and_downloadable() {
    let fx = Fixture::new();
    let bundle = fx.bundle("p3", &patch3(), None);
    let done = fx.ingest(&bundle);
    assert_eq!(done.state, UpdateState::PreApproval);
    assert_eq!(done.target, "interaction-desktop-18.01.03.12-patch.tar.zst");
    assert_eq!(done.signed.as_ref().unwrap().timestamp_version, 2);
    let (trust, meta, targets) = client_for(&fx, fx.repo.root_json().unwrap(), "client");
    let rt = rt();
    let verified = rt.block_on(client::refresh(&trust, meta, targets)).unwrap();
    assert_eq!(verified.target_names(), vec![done.target.clone()]);
    let update = verified.update(&done.target).unwrap();
    assert_eq!(update.manifest.install_version.to_string(), "18.01.03.12");
    assert_eq!(update.signer_key_id, fx.publisher.key_id());
    let out = fx.path("download/payload.tar.zst");
    rt.block_on(verified.download(&done.target, &out)).unwrap();
    assert_eq!(std::fs::metadata(&out).unwrap().len(), done.length);
    // The same bundle again changes nothing; other content under the same name is refused.
    let again = fx.ingest(&bundle);
    assert!(again.already_present);
    assert_eq!(again.id, done.id);
    let other = fx.bundle(
        "p3b",
        &patch3().replace("high_priority = false", "high_priority = true"),
        None,
    );
    let err = rt
        .block_on(transit_update::ingest::ingest_file(
            &fx.repo,
            &other,
            None,
            &transit_core::CancelToken::new(),
            &transit_core::NoProgress,
        ))
        .unwrap_err();
    assert!(err.to_string().contains("different content"), "{err}");
    assert_eq!(err.kind(), ErrorKind::Refused);
}

#[test]
fn a_newer_patch_suggests_marking_the_older_one_inactive() {
    let fx = Fixture::new();
    let p2 = fx.ingest(&fx.bundle(
        "p2",
        &manifest("Interaction Desktop", "2018 R1", 2, "Patch", "18.01.02.7"),
        None,
    ));
    let store = transit_update::Store::open(&fx.repo.store_path()).unwrap();
    store.set_state(p2.id, UpdateState::Ga).unwrap();
    let p3 = fx.ingest(&fx.bundle("p3", &patch3(), None));
    assert_eq!(p3.superseded.len(), 1);
    assert_eq!(p3.superseded[0].id, p2.id);
    assert_eq!(p3.superseded[0].state, UpdateState::Ga);
    store.set_state(p2.id, UpdateState::Inactive).unwrap();
    let es = fx.ingest(&fx.bundle(
        "es",
        &manifest("Interaction Desktop", "2018 R1", 3, "ES", "18.01.03.20"),
        None,
    ));
    assert!(es.superseded.is_empty());
}

#[test]
fn refresh_resigns_the_online_roles_only_when_due_or_forced() {
    let fx = Fixture::new();
    fx.ingest(&fx.bundle("p3", &patch3(), None));
    let rt = rt();
    let _lock = fx.repo.lock().unwrap();
    assert!(rt.block_on(fx.repo.refresh(false)).unwrap().is_none());
    let before = fx.repo.state().unwrap();
    let done = rt.block_on(fx.repo.refresh(true)).unwrap().unwrap();
    assert_eq!(
        done.timestamp_version,
        before.timestamp.signed.version.get() + 1
    );
    assert_eq!(
        done.snapshot_version,
        Some(before.snapshot.signed.version.get() + 1)
    );
    let after = fx.repo.state().unwrap();
    assert_eq!(after.targets.signed.version, before.targets.signed.version);
    let (trust, meta, targets) = client_for(&fx, fx.repo.root_json().unwrap(), "client");
    assert_eq!(
        rt.block_on(client::refresh(&trust, meta, targets))
            .unwrap()
            .target_names()
            .len(),
        1
    );
}

#[test]
fn delete_is_not_remove_it_takes_the_update_off_the_provider() {
    let fx = Fixture::new();
    let done = fx.ingest(&fx.bundle("p3", &patch3(), None));
    let sha = fx
        .repo
        .state()
        .unwrap()
        .targets
        .signed
        .targets
        .values()
        .next()
        .map(|t| hex::encode(&*t.hashes.sha256))
        .unwrap();
    let file = fx.repo.target_file(&done.target, &sha);
    assert!(file.is_file());
    let rt = rt();
    {
        let _lock = fx.repo.lock().unwrap();
        rt.block_on(fx.repo.delete_target(&done.target, None))
            .unwrap();
    }
    assert!(!file.exists());
    let (trust, meta, targets) = client_for(&fx, fx.repo.root_json().unwrap(), "client");
    assert!(rt
        .block_on(client::refresh(&trust, meta, targets))
        .unwrap()
        .target_names()
        .is_empty());
    let err = rt
        .block_on(fx.repo.delete_target(&done.target, None))
        .unwrap_err();
    assert!(matches!(err, RepoError::NoSuchTarget(_)));
}

#[test]
fn a_targets_key_that_is_not_the_roles_is_refused() {
    let fx = Fixture::new();
    let wrong = transit_update::keys::SigningKey::generate(&fx.path("wrong-targets.key")).unwrap();
    let err = rt()
        .block_on(transit_update::ingest::ingest_file(
            &fx.repo,
            &fx.bundle("p3", &patch3(), None),
            Some(wrong.path()),
            &transit_core::CancelToken::new(),
            &transit_core::NoProgress,
        ))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UpdateKeys, "{err}");
    assert!(fx.repo.state().unwrap().targets.signed.targets.is_empty());
}

#[test]
fn root_rotation_is_followed_by_a_client_pinned_to_the_first_root() {
    let fx = Fixture::new();
    let first_root = fx.repo.root_json().unwrap();
    let done = fx.ingest(&fx.bundle("p3", &patch3(), None));
    let rt = rt();
    // A client that refreshed before the rotation, and one that never did.
    let (trust, meta, targets) = client_for(&fx, first_root.clone(), "early");
    rt.block_on(client::refresh(&trust, meta.clone(), targets.clone()))
        .unwrap();
    let new_root = fx.path("offline/root-2.key");
    let report = rt
        .block_on(fx.repo.rotate(
            &fx.root_key,
            &new_root,
            &[
                OnlineRole::Targets,
                OnlineRole::Snapshot,
                OnlineRole::Timestamp,
            ],
        ))
        .unwrap();
    assert_eq!(report.root_version, 2);
    assert!(fx.data.join("repository/metadata/2.root.json").is_file());
    assert_eq!(
        std::fs::read_dir(fx.data.join("keys/retired"))
            .unwrap()
            .count(),
        3
    );
    for state in ["early", "late"] {
        let (trust, meta, targets) = client_for(&fx, first_root.clone(), state);
        let verified = rt.block_on(client::refresh(&trust, meta, targets)).unwrap();
        assert_eq!(
            verified.target_names(),
            vec![done.target.clone()],
            "{state}"
        );
    }
    // The old root key cannot rotate again; the new one can; ingest goes on.
    let err = rt
        .block_on(
            fx.repo
                .rotate(&fx.root_key, &fx.path("offline/root-3.key"), &[]),
        )
        .unwrap_err();
    assert!(matches!(err, RepoError::WrongKey(_)), "{err}");
    assert_eq!(err.kind(), ErrorKind::UpdateKeys);
    rt.block_on(
        fx.repo
            .rotate(&new_root, &fx.path("offline/root-3.key"), &[]),
    )
    .unwrap();
    fx.ingest(&fx.bundle(
        "es",
        &manifest("Interaction Desktop", "2018 R1", 3, "ES", "18.01.03.20"),
        None,
    ));
    let (trust, meta, targets) = client_for(&fx, first_root, "early");
    assert_eq!(
        rt.block_on(client::refresh(&trust, meta, targets))
            .unwrap()
            .target_names()
            .len(),
        2
    );
}
