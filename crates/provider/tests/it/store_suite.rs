//! One test suite, run on both stores: SQLite (a file per test) and
//! PostgreSQL (a database per test, made and dropped).

use crate::common::{rt, TempPg};
use transit_provider::api::{GroupSettings, InstallDay, Mode};
use transit_provider::store::postgres::PgStore;
use transit_provider::store::sqlite::SqliteStore;
use transit_provider::store::{
    AccessChanges, ActivityColumn, ActivityQuery, ActivityRow, CheckInRecord, Committed,
    MachineCounts, MachineExport, MachineQuery, ProgressRow, Store, StoreError, DEFAULT_GROUP,
};
use transit_update::store::ActivityStatus;

fn record(id: &str, name: &str, ip: &str, group: Option<&str>, time: i64) -> CheckInRecord {
    CheckInRecord {
        machine_id: id.into(),
        token_hash: format!("hash-{id}"),
        name: name.into(),
        ip: ip.into(),
        group_hint: group.map(str::to_string),
        cic_server: false,
        installed: "[]".into(),
        errors: "[]".into(),
        restart_required: false,
        time,
    }
}

fn saved(c: &Committed) -> bool {
    matches!(c, Committed::Saved { .. })
}

async fn group_of(store: &dyn Store, id: &str) -> String {
    store.machine(id).await.unwrap().unwrap().group
}

pub async fn groups_and_membership(store: &dyn Store) {
    let groups = store.groups().await.unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, DEFAULT_GROUP);
    assert!(groups[0].is_default());

    let north = store
        .create_group("North", &GroupSettings::default())
        .await
        .unwrap();
    assert_eq!(north.members, 0);
    assert!(matches!(
        store.create_group("north", &GroupSettings::default()).await,
        Err(StoreError::GroupExists(_))
    ));

    // A machine's first check-in places it in the group it asks for (if
    // it exists), else in the default group.
    let out = store
        .commit_checkins(&[
            record("m1", "WS-A", "10.0.0.1", Some("NORTH"), 100),
            record("m2", "WS-B", "10.0.0.2", None, 100),
            record("m3", "WS-C", "10.0.0.3", Some("Nowhere"), 100),
        ])
        .await
        .unwrap();
    assert!(out.iter().all(saved));
    assert_eq!(group_of(store, "m1").await, "North");
    assert_eq!(group_of(store, "m2").await, DEFAULT_GROUP);
    assert_eq!(group_of(store, "m3").await, DEFAULT_GROUP);
    // Later the provider's membership wins over the client's hint.
    store
        .commit_checkins(&[record("m1", "WS-A", "10.0.0.1", None, 200)])
        .await
        .unwrap();
    assert_eq!(group_of(store, "m1").await, "North");

    // Adding to another group moves; unknown IDs move nothing.
    assert_eq!(
        store.move_machines(&["m2".into()], "North").await.unwrap(),
        1
    );
    assert_eq!(group_of(store, "m2").await, "North");
    assert!(matches!(
        store
            .move_machines(&["m3".into(), "nobody".into()], "North")
            .await,
        Err(StoreError::NoSuchMachine(id)) if id == "nobody"
    ));
    assert_eq!(group_of(store, "m3").await, DEFAULT_GROUP, "all or nothing");
    assert!(matches!(
        store.move_machines(&["m3".into()], "Missing").await,
        Err(StoreError::NoSuchGroup(_))
    ));

    // The default group's settings can be edited.
    let manual = GroupSettings {
        mode: Mode::Manual,
        install_day: InstallDay::Sunday,
        install_hour: 23,
        providers: vec!["p1.example.com".into(), "p2.example.com".into()],
        allow_migration: true,
        max_downloads: 8,
        download_rate: 1 << 20,
    };
    let d = store
        .set_group_settings(DEFAULT_GROUP, &manual)
        .await
        .unwrap();
    assert_eq!(d.settings, manual);

    // Deleting a group sends its members to the default group; the
    // default group cannot be deleted.
    let north = store
        .groups()
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.name == "North")
        .unwrap();
    assert_eq!(north.members, 2);
    assert_eq!(store.delete_group("North").await.unwrap(), 2);
    assert_eq!(group_of(store, "m1").await, DEFAULT_GROUP);
    assert_eq!(group_of(store, "m2").await, DEFAULT_GROUP);
    assert!(matches!(
        store.delete_group(DEFAULT_GROUP).await,
        Err(StoreError::DefaultGroup)
    ));
    assert!(matches!(
        store.delete_group("North").await,
        Err(StoreError::NoSuchGroup(_))
    ));
    assert_eq!(store.groups().await.unwrap()[0].members, 3);
}

pub async fn checkins_and_claims(store: &dyn Store) {
    let batch: Vec<CheckInRecord> = (0..50)
        .map(|i| {
            record(
                &format!("id-{i:03}"),
                &format!("Host{i:03}"),
                &format!("192.168.{}.{}", i / 10, i),
                None,
                1000 + i,
            )
        })
        .collect();
    assert!(store
        .commit_checkins(&batch)
        .await
        .unwrap()
        .iter()
        .all(saved));
    assert!(store
        .commit_checkins(&batch[..10])
        .await
        .unwrap()
        .iter()
        .all(saved));
    assert_eq!(store.count_machines().await.unwrap(), 50);
    let m = store.machine("id-003").await.unwrap().unwrap();
    assert_eq!(
        (m.checkins, m.first_contact, m.last_contact),
        (2, 1003, 1003)
    );
    let m = store.machine("id-033").await.unwrap().unwrap();
    assert_eq!(m.checkins, 1);

    // Another machine claiming id-003 (another secret) is refused in the
    // same group as a good check-in, and changes nothing.
    let mut thief = record("id-003", "Thief", "6.6.6.6", None, 5000);
    thief.token_hash = "another".into();
    let out = store
        .commit_checkins(&[
            thief,
            record("id-004", "Host004", "192.168.0.4", None, 5000),
        ])
        .await
        .unwrap();
    assert_eq!(out[0], Committed::Claimed);
    assert!(saved(&out[1]));
    let m = store.machine("id-003").await.unwrap().unwrap();
    assert_eq!(
        (m.name.as_str(), m.ip.as_str(), m.checkins),
        ("Host003", "192.168.0.3", 2)
    );
    assert_eq!(
        store.token_hash("id-003").await.unwrap().as_deref(),
        Some("hash-id-003")
    );
    assert_eq!(store.token_hash("nobody").await.unwrap(), None);

    // Search by the start of the name (any case) or of the IP address.
    let q = |search: &str| MachineQuery {
        search: Some(search.into()),
        ..MachineQuery::default()
    };
    let names = |rows: Vec<transit_provider::store::MachineRow>| {
        rows.into_iter().map(|m| m.name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(store.machines(&q("host04")).await.unwrap()),
        [
            "Host040", "Host041", "Host042", "Host043", "Host044", "Host045", "Host046", "Host047",
            "Host048", "Host049"
        ]
    );
    assert_eq!(
        names(store.machines(&q("192.168.4.4")).await.unwrap()),
        [
            "Host040", "Host041", "Host042", "Host043", "Host044", "Host045", "Host046", "Host047",
            "Host048", "Host049"
        ]
    );
    assert_eq!(
        names(store.machines(&q("192.168.0.7")).await.unwrap()),
        ["Host007"]
    );
    assert!(
        store.machines(&q("ost")).await.unwrap().is_empty(),
        "start of the name only"
    );
    assert!(
        store.machines(&q("%")).await.unwrap().is_empty(),
        "LIKE wildcards are literal"
    );
    // The members dialog: "name contains" (any case) and "IP contains".
    let contains = |name: Option<&str>, ip: Option<&str>| MachineQuery {
        name_contains: name.map(str::to_string),
        ip_contains: ip.map(str::to_string),
        ..MachineQuery::default()
    };
    assert_eq!(
        store
            .machines(&contains(Some("ST04"), None))
            .await
            .unwrap()
            .len(),
        10
    );
    assert_eq!(
        names(
            store
                .machines(&contains(Some("st04"), Some("168.4.4")))
                .await
                .unwrap()
        )
        .len(),
        10
    );
    assert!(store
        .machines(&contains(Some("_"), None))
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .machines(&contains(None, Some("%")))
        .await
        .unwrap()
        .is_empty());
    let page = store
        .machines(&MachineQuery {
            limit: 5,
            offset: 10,
            ..MachineQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        names(page),
        ["Host010", "Host011", "Host012", "Host013", "Host014"]
    );
    let recent = store
        .machines(&MachineQuery {
            since: Some(1045),
            ..MachineQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(
        names(recent),
        ["Host004", "Host045", "Host046", "Host047", "Host048", "Host049"]
    );
}

fn entry(machine: &str, app: &str, patch: &str, status: ActivityStatus, time: &str) -> ActivityRow {
    ActivityRow {
        time: time.into(),
        machine: machine.into(),
        application: app.into(),
        release: "2018 R1".into(),
        patch: patch.into(),
        status,
        description: format!("{machine} {app}"),
    }
}

pub async fn activity_sort_group_page_clear(store: &dyn Store) {
    store
        .log(&[
            entry(
                "WS1",
                "Desktop",
                "1",
                ActivityStatus::Downloaded,
                "2026-11-01T10:00:00Z",
            ),
            entry(
                "WS2",
                "Connect",
                "2",
                ActivityStatus::DownloadFailed,
                "2026-11-01T11:00:00Z",
            ),
            entry(
                "WS3",
                "Desktop",
                "3",
                ActivityStatus::Installed,
                "2026-11-02T09:00:00Z",
            ),
            entry(
                "WS1",
                "Scripter",
                "1",
                ActivityStatus::InstallFailed,
                "2026-11-03T08:00:00Z",
            ),
            entry(
                "WS2",
                "Desktop",
                "2",
                ActivityStatus::Removed,
                "2026-11-03T09:00:00Z",
            ),
        ])
        .await
        .unwrap();
    let (all, total) = store.activity(&ActivityQuery::default()).await.unwrap();
    assert_eq!(total, 5);
    assert_eq!(all[0].machine, "WS2", "newest first");
    assert_eq!(all[1].status, ActivityStatus::InstallFailed);

    let by_machine = ActivityQuery {
        sort: ActivityColumn::Machine,
        descending: false,
        limit: 2,
        offset: 2,
        ..ActivityQuery::default()
    };
    let (page, total) = store.activity(&by_machine).await.unwrap();
    assert_eq!(total, 5);
    let got: Vec<(&str, &str)> = page
        .iter()
        .map(|a| (a.machine.as_str(), a.application.as_str()))
        .collect();
    assert_eq!(got, [("WS2", "Connect"), ("WS2", "Desktop")]);

    let grouped = ActivityQuery {
        group_by: Some(ActivityColumn::Application),
        sort: ActivityColumn::Time,
        descending: false,
        limit: 0,
        ..ActivityQuery::default()
    };
    let (rows, _) = store.activity(&grouped).await.unwrap();
    let keys: Vec<String> = rows
        .iter()
        .map(|a| ActivityColumn::Application.key(a))
        .collect();
    assert_eq!(
        keys,
        ["Connect", "Desktop", "Desktop", "Desktop", "Scripter"]
    );
    assert_eq!(rows[1].machine, "WS1", "within a group, by time");

    let (mine, total) = store
        .activity(&ActivityQuery {
            machine: Some("WS1".into()),
            ..ActivityQuery::default()
        })
        .await
        .unwrap();
    assert_eq!((mine.len(), total), (2, 2));

    assert_eq!(store.clear_activity().await.unwrap(), 5);
    assert_eq!(
        store.activity(&ActivityQuery::default()).await.unwrap().1,
        0
    );
}

pub async fn progress_keeps_the_latest(store: &dyn Store) {
    let row = |percent, time| ProgressRow {
        machine_id: "m1".into(),
        update_id: 7,
        phase: "download".into(),
        percent,
        time,
    };
    store.save_progress(&[row(10, 1)]).await.unwrap();
    store.save_progress(&[row(60, 2)]).await.unwrap();
    assert_eq!(store.progress("m1").await.unwrap(), vec![row(60, 2)]);
    assert!(store.progress("m2").await.unwrap().is_empty());
}

pub async fn users_and_peers_apply_all_or_nothing(store: &dyn Store) {
    assert!(store.users().await.unwrap().is_empty());
    let add = |name: &str| AccessChanges {
        add_users: vec![(name.to_string(), format!("hash-of-{name}"))],
        ..AccessChanges::default()
    };
    store.apply_access(&add("Admin")).await.unwrap();
    // Names compare in any case; the hash is kept as given.
    assert_eq!(
        store.password_hash("admin").await.unwrap().as_deref(),
        Some("hash-of-Admin")
    );
    assert!(store.password_hash("nobody").await.unwrap().is_none());
    assert!(matches!(
        store.apply_access(&add("ADMIN")).await,
        Err(StoreError::UserExists(_))
    ));

    // Peers and users together: added in order.
    store
        .apply_access(&AccessChanges {
            add_users: vec![("bob".into(), "h".into())],
            add_peers: vec![
                "p1.example.com".into(),
                "https://p2.example.com:8443".into(),
            ],
            ..AccessChanges::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.peers().await.unwrap(),
        ["p1.example.com", "https://p2.example.com:8443"]
    );
    let names: Vec<String> = store
        .users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["Admin", "bob"]);

    // One bad change (an unknown peer) and nothing of the batch applies.
    assert!(matches!(
        store
            .apply_access(&AccessChanges {
                remove_users: vec!["bob".into()],
                remove_peers: vec!["p9.example.com".into()],
                ..AccessChanges::default()
            })
            .await,
        Err(StoreError::NoSuchPeer(_))
    ));
    assert_eq!(store.users().await.unwrap().len(), 2);
    // The last user cannot go; removing and adding in one batch can.
    assert!(matches!(
        store
            .apply_access(&AccessChanges {
                remove_users: vec!["bob".into(), "admin".into()],
                ..AccessChanges::default()
            })
            .await,
        Err(StoreError::LastUser)
    ));
    assert_eq!(store.users().await.unwrap().len(), 2);
    store
        .apply_access(&AccessChanges {
            remove_users: vec!["bob".into()],
            remove_peers: vec!["P1.EXAMPLE.COM".into()],
            add_users: vec![("carol".into(), "h".into())],
            ..AccessChanges::default()
        })
        .await
        .unwrap();
    assert_eq!(
        store.peers().await.unwrap(),
        ["https://p2.example.com:8443"]
    );
    assert!(store.password_hash("bob").await.unwrap().is_none());
    assert!(store.password_hash("carol").await.unwrap().is_some());
}

pub async fn report_inputs_keep_the_stored_json(store: &dyn Store) {
    let mut a = record("r1", "WS-R1", "10.9.0.1", None, 100);
    a.installed =
        r#"[{"application":"X","release":"2018 R1","patch":1,"version":"18.01.01.01"}]"#.into();
    a.errors = r#"["disk full"]"#.into();
    a.restart_required = true;
    let b = record("r2", "WS-R2", "10.9.0.2", None, 300);
    store.commit_checkins(&[a.clone(), b]).await.unwrap();
    let mut all = store.report_inputs(None).await.unwrap();
    all.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(all.len(), 2);
    assert_eq!(
        (
            all[0].installed.as_str(),
            all[0].errors.as_str(),
            all[0].restart_required
        ),
        (a.installed.as_str(), a.errors.as_str(), true)
    );
    assert_eq!(
        (all[0].group.as_str(), all[0].last_contact),
        (DEFAULT_GROUP, 100)
    );
    let recent = store.report_inputs(Some(200)).await.unwrap();
    assert_eq!(recent.len(), 1);
    assert_eq!(recent[0].name, "WS-R2");
}

pub async fn rollouts_compare_and_set_and_keep_the_latest_outcome(store: &dyn Store) {
    use transit_provider::rollout::{ErrorThreshold, RolloutState, WaveSpec};
    use transit_provider::store::Outcome;
    let waves = vec![
        WaveSpec {
            group: Some("Pilot".into()),
            percent: 100,
            success: 950,
            errors: ErrorThreshold::Share(100),
            approve: true,
        },
        WaveSpec {
            group: None,
            percent: 100,
            success: 950,
            errors: ErrorThreshold::Count(3),
            approve: false,
        },
    ];
    let r = store.create_rollout(5, &waves, 1000).await.unwrap();
    assert_eq!(
        (r.update_id, r.state, r.current, r.version),
        (5, RolloutState::Running, 0, 1)
    );
    assert_eq!(r.waves, waves);
    assert!(matches!(
        store.create_rollout(5, &waves, 1001).await,
        Err(StoreError::RolloutExists { update_id: 5, rollout_id }) if rollout_id == r.id
    ));
    // Compare-and-set: the first writer wins, a stale copy is refused.
    let mut a = r.clone();
    a.current = 1;
    let mut stale = r.clone();
    stale.state = RolloutState::Stopped;
    assert!(store.save_rollout(&a).await.unwrap());
    assert!(!store.save_rollout(&stale).await.unwrap());
    let all = store.rollouts().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (all[0].current, all[0].state, all[0].version),
        (1, RolloutState::Running, 2)
    );
    let mut gone = r.clone();
    gone.id = 999;
    assert!(matches!(
        store.save_rollout(&gone).await,
        Err(StoreError::NoSuchRollout(999))
    ));
    // A machine's later outcome replaces its earlier one, even in one batch.
    let o = |m: &str, wave, installed, time| Outcome {
        rollout_id: r.id,
        machine_id: m.into(),
        wave,
        installed,
        time,
    };
    store
        .record_outcomes(&[
            o("m1", 0, false, 1),
            o("m2", 0, false, 1),
            o("m1", 0, true, 2),
        ])
        .await
        .unwrap();
    store.record_outcomes(&[o("m3", 1, true, 3)]).await.unwrap();
    assert_eq!(
        store.outcome_counts(r.id).await.unwrap(),
        vec![(0, 1, 1), (1, 1, 0)]
    );
    store
        .commit_checkins(&[record("m1", "WS-A", "10.0.0.1", None, 100)])
        .await
        .unwrap();
    assert_eq!(
        store.memberships().await.unwrap(),
        vec![("m1".to_string(), transit_provider::store::DEFAULT_GROUP_ID)]
    );
}

fn export(id: &str, name: &str, group: &str, last: i64, checkins: i64) -> MachineExport {
    MachineExport {
        id: id.into(),
        token_hash: format!("hash-{id}"),
        name: name.into(),
        ip: format!("10.0.0.{}", last % 250),
        group: group.into(),
        cic_server: false,
        installed: "[]".into(),
        errors: format!("[\"seen at {last}\"]"),
        restart_required: false,
        first_contact: last - 50,
        last_contact: last,
        checkins,
    }
}

/// Switchover's Merge: a machine in both keeps the newest contact (its
/// settings, its group); of machines with the same name only the newest
/// stays; activity joins without doubling.
pub async fn machines_join_with_the_newest_contact_winning(store: &dyn Store) {
    store
        .create_group("Agents", &GroupSettings::default())
        .await
        .unwrap();
    // In the store: m1 (seen at 100, Agents), m2 "Beta" (seen at 300).
    for r in [
        record("m1", "Alpha", "10.0.0.1", Some("Agents"), 100),
        record("m2", "Beta", "10.0.0.2", None, 300),
    ] {
        assert!(saved(&store.commit_checkins(&[r]).await.unwrap()[0]));
    }
    let counts = store
        .import_machines(&[
            // Newer than the store's m1: replaces it, into the default group.
            export("m1", "Alpha", DEFAULT_GROUP, 200, 4),
            // Older than the store's m2: kept as it is.
            export("m2", "Beta", "Agents", 250, 9),
            // Same name as m2 (other case), newer: m2 goes as a duplicate.
            export("m3", "BETA", "Agents", 400, 2),
            // New, into a group that is not there: the default group.
            export("m4", "Delta", "Nowhere", 150, 1),
        ])
        .await
        .unwrap();
    assert_eq!(
        counts,
        MachineCounts {
            added: 2,
            replaced: 1,
            kept: 1,
            duplicates_removed: 1
        }
    );
    let m1 = store.machine("m1").await.unwrap().unwrap();
    assert_eq!((m1.last_contact, m1.group.as_str()), (200, DEFAULT_GROUP));
    assert_eq!(m1.checkins, 1 + 4, "check-ins add up");
    assert_eq!(m1.first_contact, 100, "the first contact is the earliest");
    assert_eq!(
        m1.errors,
        vec!["seen at 200".to_string()],
        "the newest settings"
    );
    assert!(
        store.machine("m2").await.unwrap().is_none(),
        "duplicate removed"
    );
    let m3 = store.machine("m3").await.unwrap().unwrap();
    assert_eq!((m3.group.as_str(), m3.last_contact), ("Agents", 400));
    assert_eq!(group_of(store, "m4").await, DEFAULT_GROUP);
    assert_eq!(store.count_machines().await.unwrap(), 3);
    assert_eq!(
        store.token_hash("m3").await.unwrap().as_deref(),
        Some("hash-m3"),
        "the secret moves with the machine"
    );
    // Exported as imported.
    let out = store.export_machines().await.unwrap();
    assert_eq!(
        out.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        ["m1", "m3", "m4"]
    );
    // Activity joins once.
    let rows = vec![
        entry(
            "Alpha",
            "Interaction Desktop",
            "3",
            ActivityStatus::Installed,
            "2026-01-02T03:04:05Z",
        ),
        entry(
            "Beta",
            "Interaction Desktop",
            "3",
            ActivityStatus::Installed,
            "2026-01-02T03:04:06Z",
        ),
    ];
    assert_eq!(store.import_activity(&rows).await.unwrap(), 2);
    assert_eq!(store.import_activity(&rows).await.unwrap(), 0);
}

macro_rules! on_both_stores {
    ($($test:ident),*) => {
        mod sqlite {
            $(
                #[test]
                fn $test() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::SqliteStore::open(&dir.path().join("provider.db")).unwrap();
                    super::rt().block_on(super::$test(&store));
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $test() {
                    super::rt().block_on(async {
                        let Some(db) = super::TempPg::new().await else { return };
                        let store = super::PgStore::connect(&db.url).await.unwrap();
                        super::$test(&store).await;
                        store.close().await;
                        db.drop_db().await;
                    });
                }
            )*
        }
    };
}

on_both_stores!(
    groups_and_membership,
    checkins_and_claims,
    activity_sort_group_page_clear,
    progress_keeps_the_latest,
    users_and_peers_apply_all_or_nothing,
    report_inputs_keep_the_stored_json,
    rollouts_compare_and_set_and_keep_the_latest_outcome,
    machines_join_with_the_newest_contact_winning
);
