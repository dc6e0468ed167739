//! `check` finds disabled objects on each engine, and passes on a clean
//! schema.

use crate::common::TempDb;
use transit_core::{CancelToken, NoProgress};
use transit_dbassist::check::{check, check_db};
use transit_dbassist::schema::Version;
use transit_dbassist::{upgrade, DbError, Engine};

async fn upgraded(engine: Engine) -> Option<(TempDb, transit_dbassist::Db)> {
    let tmp = TempDb::new(engine).await?;
    let mut db = tmp.connect().await;
    upgrade::upgrade(&mut db, Version::R2015, &NoProgress, &CancelToken::new())
        .await
        .unwrap();
    Some((tmp, db))
}

#[tokio::test]
async fn postgres_not_valid_constraints_invalid_indexes_and_disabled_triggers() {
    let Some((tmp, mut db)) = upgraded(Engine::Postgres).await else {
        return;
    };
    assert!(check(&tmp.target, Some(Version::R2015)).await.passed());
    db.exec("ALTER TABLE calldetail ADD CONSTRAINT ck_site CHECK (siteid > 0) NOT VALID")
        .await
        .unwrap();
    db.exec("CREATE TABLE dupes (x integer); INSERT INTO dupes VALUES (1), (1)")
        .await
        .unwrap();
    assert!(db
        .exec("CREATE UNIQUE INDEX CONCURRENTLY ix_dupes ON dupes (x)")
        .await
        .is_err());
    db.exec(
        "CREATE FUNCTION noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$; \
         CREATE TRIGGER tr_noop BEFORE INSERT ON calldetail FOR EACH ROW EXECUTE FUNCTION noop(); \
         ALTER TABLE calldetail DISABLE TRIGGER tr_noop",
    )
    .await
    .unwrap();
    let report = check(&tmp.target, None).await;
    let item = report
        .checks
        .iter()
        .find(|c| c.name == "disabled objects")
        .unwrap();
    assert!(!item.passed);
    for needle in ["ck_site", "ix_dupes", "tr_noop"] {
        assert!(item.detail.contains(needle), "{}", item.detail);
    }
    assert!(matches!(
        report.failure,
        Some(DbError::DisabledObjects { count: 3, .. })
    ));
    db.close().await.unwrap();
    tmp.drop_db().await;
}

#[tokio::test]
async fn mariadb_foreign_key_checks() {
    let Some((tmp, mut db)) = upgraded(Engine::MySql).await else {
        return;
    };
    assert!(check_db(&mut db, Some(Version::R2015)).await.passed());
    db.exec("SET SESSION foreign_key_checks = 0").await.unwrap();
    let report = check_db(&mut db, None).await;
    assert!(!report.passed(), "{:?}", report.checks);
    assert!(matches!(
        report.failure,
        Some(DbError::DisabledObjects { .. })
    ));
    db.close().await.unwrap();
    tmp.drop_db().await;
}

#[tokio::test]
async fn sqlite_foreign_keys_pragma_and_violations() {
    let Some((tmp, mut db)) = upgraded(Engine::Sqlite).await else {
        return;
    };
    assert!(check_db(&mut db, None).await.passed());
    db.exec("PRAGMA foreign_keys = OFF").await.unwrap();
    db.exec(
        "INSERT INTO ICon_Participant (ParticipantId, ConferenceId, SiteId) VALUES (1, 404, 1)",
    )
    .await
    .unwrap();
    let report = check_db(&mut db, None).await;
    let item = report
        .checks
        .iter()
        .find(|c| c.name == "disabled objects")
        .unwrap();
    assert!(
        item.detail.contains("foreign_keys is off"),
        "{}",
        item.detail
    );
    assert!(item.detail.contains("violate"), "{}", item.detail);
    db.close().await.unwrap();
    // A new connection has the pragma on, but the violation remains.
    let report = check(&tmp.target, None).await;
    assert!(matches!(
        report.failure,
        Some(DbError::DisabledObjects { count: 1, .. })
    ));
}
