//! Switchover pairs (Manage Database): a primary copies its own SQLite
//! data into a shared PostgreSQL database and uses it; a backup with data
//! of its own merges into it; both then serve the same machines. Done
//! over the administration API of running providers, with check-ins
//! arriving during the switch.

use crate::common::{checkin, rt, Fixture, Running, TempPg};
use transit_provider::api::GroupSettings;
use transit_provider::switchover::Action;
use transit_provider::Database;

#[test]
fn copy_use_and_merge_join_a_pair_on_one_database_and_lose_no_check_in() {
    let rt = rt();
    let Some(db) = rt.block_on(TempPg::new()) else {
        return;
    };
    let a = Fixture::new();
    let b = Fixture::new();
    let primary = Running::start(a.config(Database::Sqlite));
    let backup = Running::start(b.config(Database::Sqlite));
    let (pa, pb) = (primary.client(), backup.client());
    rt.block_on(async {
        // The primary's own data: a group, 30 machines, one of them in it.
        pa.create_group("Agents", Some(GroupSettings::default()))
            .await
            .unwrap();
        for i in 0..30 {
            pa.checkin(&checkin(&format!("a{i}"), &format!("WS-A{i}"), 3))
                .await
                .unwrap();
        }
        pa.add_members("Agents", &["a1".to_string()]).await.unwrap();
        // Contacts are in seconds: the backup's are a second later.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        // The backup's own data: a machine of its own, a machine the
        // primary also knows (seen later here), and one with a name the
        // primary has under another ID (seen later here too).
        for c in [
            checkin("b0", "WS-B0", 3),
            checkin("a2", "WS-A2", 4),
            checkin("b9", "ws-a3", 4),
        ] {
            pb.checkin(&c).await.unwrap();
        }
    });

    // Copy, while check-ins keep arriving at the primary.
    let url = db.url.clone();
    let copy = {
        let pa = pa.clone();
        let url = url.clone();
        std::thread::spawn(move || rt_switch(&pa, Action::Copy, &url))
    };
    let mut acked = 0;
    rt.block_on(async {
        for i in 0..40 {
            if pa
                .checkin(&checkin(&format!("late{i}"), &format!("WS-L{i}"), 3))
                .await
                .is_ok()
            {
                acked += 1;
            }
        }
    });
    let copied = copy.join().unwrap().expect("copy");
    assert_eq!(acked, 40, "check-ins are answered during the copy");
    assert_eq!(copied.action, Action::Copy);
    assert!(copied.now.starts_with("postgres://"), "{}", copied.now);
    assert!(copied.moved.machines.added >= 30, "{:?}", copied.moved);
    rt.block_on(async {
        let info = pa.database().await.unwrap();
        assert!(info.store.starts_with("postgres://"));
        assert_eq!(info.saved.unwrap().action, Action::Copy);
        // Every check-in the primary answered is in the shared database.
        assert_eq!(pa.machines(None, None, 1000).await.unwrap().len(), 30 + 40);
        assert_eq!(pa.machine("a1").await.unwrap().machine.group, "Agents");
    });
    // Copy into a database in use is refused.
    let again = rt_switch(&pb, Action::Copy, &url).unwrap_err();
    assert!(again.to_string().contains("Merge"), "{again}");

    // Merge: the backup's own data joins.
    let merged = rt_switch(&pb, Action::Merge, &url).expect("merge");
    let m = merged.moved.machines;
    assert_eq!(m.added, 2, "b0 and b9 {m:?}");
    assert_eq!(m.replaced, 1, "a2, seen later on the backup {m:?}");
    assert_eq!(m.duplicates_removed, 1, "a3, named like b9 but older {m:?}");
    rt.block_on(async {
        // Both providers now see one fleet.
        let seen_a = pa.machines(None, None, 1000).await.unwrap();
        let seen_b = pb.machines(None, None, 1000).await.unwrap();
        assert_eq!(seen_a.len(), 70 + 2 - 1);
        assert_eq!(
            seen_a.iter().map(|m| &m.id).collect::<Vec<_>>(),
            seen_b.iter().map(|m| &m.id).collect::<Vec<_>>()
        );
        let a2 = pb.machine("a2").await.unwrap().machine;
        assert_eq!(a2.installed[0].patch, 4, "the newest settings win");
        assert!(
            pa.machine("a3").await.is_err(),
            "the older duplicate is gone"
        );
        // A check-in at the backup is seen by the primary.
        pb.checkin(&checkin("b0", "WS-B0", 5)).await.unwrap();
        assert_eq!(
            pa.machine("b0").await.unwrap().machine.installed[0].patch,
            5
        );
    });
    // A restart starts on the saved choice.
    drop(primary);
    let mut again = a.config(Database::Sqlite);
    again.database = match transit_provider::switchover::saved(&a.data).unwrap() {
        Some(s) => Database::parse(Some(&s.url)).unwrap(),
        None => panic!("the choice was saved"),
    };
    let restarted = Running::start(again);
    rt.block_on(async {
        assert_eq!(
            restarted
                .client()
                .machines(None, None, 1000)
                .await
                .unwrap()
                .len(),
            71
        );
    });
    drop(restarted);
    drop(backup);
    rt.block_on(db.drop_db());
}

fn rt_switch(
    c: &transit_provider::client::ProviderClient,
    action: Action,
    url: &str,
) -> Result<transit_provider::switchover::Switched, transit_provider::client::ClientError> {
    rt().block_on(c.switch_database(action, url))
}

#[test]
fn a_switch_to_something_else_than_postgres_is_refused_and_changes_nothing() {
    let a = Fixture::new();
    let p = Running::start(a.config(Database::Sqlite));
    let e = rt_switch(&p.client(), Action::Use, "mysql://root@127.0.0.1/x").unwrap_err();
    assert!(e.to_string().contains("PostgreSQL"), "{e}");
    let e = rt_switch(
        &p.client(),
        Action::Use,
        "postgres://nobody@127.0.0.1:1/none",
    )
    .unwrap_err();
    assert!(e.to_string().contains("keeps its store"), "{e}");
    let info = rt().block_on(p.client().database()).unwrap();
    assert!(info.saved.is_none());
    assert!(!info.store.starts_with("postgres"), "{}", info.store);
}
