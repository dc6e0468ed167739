//! Group commit: check-ins queued together are committed as one group;
//! two check-ins of one machine never share a group.

use crate::common::TempPg;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use transit_provider::commit::Committer;
use transit_provider::store::postgres::PgStore;
use transit_provider::store::sqlite::SqliteStore;
use transit_provider::store::{CheckInRecord, Committed, Store};

fn record(id: &str, token: &str) -> CheckInRecord {
    CheckInRecord {
        machine_id: id.into(),
        token_hash: token.into(),
        name: format!("N-{id}"),
        ip: "10.0.0.1".into(),
        group_hint: None,
        cic_server: false,
        installed: "[]".into(),
        errors: "[]".into(),
        restart_required: false,
        time: 1,
    }
}

/// On a current-thread runtime every check-in is queued before the
/// writer first runs, so the grouping is deterministic.
async fn groups_of_queued_checkins(store: Arc<dyn Store>) {
    let (committer, writer) = Committer::start(Arc::clone(&store));
    let outcomes = futures::future::join_all(
        (0..100).map(|i| committer.commit(record(&format!("m{i}"), "t"))),
    )
    .await;
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Ok(Committed::Saved { .. }))));
    assert_eq!(committer.stats().groups.load(Ordering::Relaxed), 1);
    assert_eq!(committer.stats().checkins.load(Ordering::Relaxed), 100);

    // The same machine twice, and a claimed ID: three groups, in order.
    let outcomes = futures::future::join_all([
        committer.commit(record("m1", "t")),
        committer.commit(record("m1", "t")),
        committer.commit(record("m1", "other")),
    ])
    .await;
    assert!(matches!(outcomes[0], Ok(Committed::Saved { .. })));
    assert!(matches!(outcomes[1], Ok(Committed::Saved { .. })));
    assert!(matches!(outcomes[2], Ok(Committed::Claimed)));
    assert_eq!(committer.stats().groups.load(Ordering::Relaxed), 4);
    assert_eq!(store.machine("m1").await.unwrap().unwrap().checkins, 3);
    drop(committer);
    writer.await.unwrap();
}

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn sqlite_commits_queued_checkins_as_one_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(&dir.path().join("provider.db")).unwrap());
    current_thread().block_on(groups_of_queued_checkins(store));
}

#[test]
fn postgres_commits_queued_checkins_as_one_group() {
    current_thread().block_on(async {
        let Some(db) = TempPg::new().await else {
            return;
        };
        let store = Arc::new(PgStore::connect(&db.url).await.unwrap());
        groups_of_queued_checkins(Arc::clone(&store) as Arc<dyn Store>).await;
        store.close().await;
        db.drop_db().await;
    });
}

/// With several groups committing at once (PostgreSQL), each machine's
/// check-ins still commit one after another, in order: none is lost and
/// the last one sent is the one stored.
#[test]
fn postgres_parallel_groups_keep_each_machines_order() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let Some(db) = TempPg::new().await else {
                return;
            };
            let store = Arc::new(PgStore::connect(&db.url).await.unwrap());
            assert!(store.commit_parallelism() > 1);
            let (committer, writer) = Committer::start(Arc::clone(&store) as Arc<dyn Store>);
            let mut tasks = Vec::new();
            for round in 0..20 {
                for m in 0..50 {
                    let committer = committer.clone();
                    let mut r = record(&format!("m{m}"), "t");
                    r.name = format!("round {round}");
                    r.time = round;
                    tasks.push(tokio::spawn(async move { committer.commit(r).await }));
                    if m % 10 == 0 {
                        tokio::task::yield_now().await;
                    }
                }
                // Each round's check-in of a machine is sent after the
                // previous round's was answered, as a client does.
                for t in tasks.drain(..) {
                    assert!(matches!(t.await.unwrap(), Ok(Committed::Saved { .. })));
                }
            }
            assert!(committer.stats().groups.load(Ordering::Relaxed) >= 20);
            // Five check-ins of each machine sent at once, in order: each
            // waits for the one before, and the last one sent is stored.
            let burst = (0..5).flat_map(|n| {
                (0..50).map(move |m| {
                    let mut r = record(&format!("m{m}"), "t");
                    r.name = format!("burst {n}");
                    r
                })
            });
            let outcomes = futures::future::join_all(burst.map(|r| committer.commit(r))).await;
            assert!(outcomes
                .iter()
                .all(|o| matches!(o, Ok(Committed::Saved { .. }))));
            for m in 0..50 {
                let row = store.machine(&format!("m{m}")).await.unwrap().unwrap();
                assert_eq!(row.checkins, 25);
                assert_eq!(row.name, "burst 4");
            }
            drop(committer);
            writer.await.unwrap();
            store.close().await;
            db.drop_db().await;
        });
}
