//! The catalog and the activity log.

use crate::common::{patch3, Fixture};
use transit_core::{ErrorKind, Kind};
use transit_update::store::{ActivityStatus, NewActivity};
use transit_update::{Store, UpdateState};

#[test]
fn activity_is_newest_first_and_survives_reopening() {
    let fx = Fixture::new();
    let store = Store::open(&fx.repo.store_path()).unwrap();
    for (i, status) in [
        ActivityStatus::Downloaded,
        ActivityStatus::DownloadFailed,
        ActivityStatus::Installed,
    ]
    .into_iter()
    .enumerate()
    {
        store
            .log(
                status,
                NewActivity {
                    machine: format!("WS{i}"),
                    application: "Interaction Desktop".into(),
                    release: "2018 R1".into(),
                    patch: "3".into(),
                    description: format!("event {i}"),
                },
            )
            .unwrap();
    }
    drop(store);
    let store = Store::open(&fx.repo.store_path()).unwrap();
    let log = store.activity(2).unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].status, ActivityStatus::Installed);
    assert_eq!(log[1].machine, "WS1");
    assert_eq!(
        serde_json::to_value(log[1].status).unwrap(),
        "Download Failed"
    );
}

#[test]
fn state_changes_follow_the_rules_and_are_logged() {
    let fx = Fixture::new();
    let done = fx.ingest(&fx.bundle("p3", &patch3(), None));
    let store = Store::open(&fx.repo.store_path()).unwrap();
    let err = store.set_state(done.id, UpdateState::Remove).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    store.set_state(done.id, UpdateState::Ga).unwrap();
    assert_eq!(
        store.set_state(done.id, UpdateState::Remove).unwrap().state,
        UpdateState::Remove
    );
    assert_eq!(store.update(done.id).unwrap().state, UpdateState::Remove);
    let changes = store
        .activity(10)
        .unwrap()
        .into_iter()
        .filter(|a| a.status == ActivityStatus::StateChanged)
        .count();
    assert_eq!(changes, 2);
    assert_eq!(
        store.set_state(999, UpdateState::Ga).unwrap_err().kind(),
        ErrorKind::Usage
    );
}

#[test]
fn high_priority_set_in_the_console_wins_over_the_manifest() {
    let fx = Fixture::new();
    let done = fx.ingest(&fx.bundle("p3", &patch3(), None));
    let store = Store::open(&fx.repo.store_path()).unwrap();
    let published = store.update(done.id).unwrap().manifest.high_priority;
    let set = store.set_high_priority(done.id, !published).unwrap();
    assert_eq!(set.manifest.high_priority, !published);
    // Read back (the catalog the provider offers from), after reopening.
    drop(store);
    let store = Store::open(&fx.repo.store_path()).unwrap();
    assert_eq!(
        store.catalog().unwrap()[0].manifest.high_priority,
        !published
    );
    store.set_high_priority(done.id, published).unwrap();
    assert_eq!(
        store.update(done.id).unwrap().manifest.high_priority,
        published
    );
    assert!(store
        .activity(10)
        .unwrap()
        .iter()
        .any(|a| a.description.contains("High Priority")));
    assert_eq!(
        store.set_high_priority(999, true).unwrap_err().kind(),
        ErrorKind::Usage
    );
}
