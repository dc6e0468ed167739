//! Each kind of bad input gets its own error (and so its own exit code)
//! and changes nothing: an unsupported engine, an unreachable server,
//! wrong credentials, a missing database, a schema at the wrong version,
//! and a user without the needed permissions (a real restricted user).

use crate::common::{server_url, unique, TempDb, ENGINES};
use secrecy::SecretString;
use transit_core::{CancelToken, ErrorKind, Kind, NoProgress};
use transit_dbassist::check::check;
use transit_dbassist::repair::{self, RepairMode};
use transit_dbassist::schema::{Schema, Version};
use transit_dbassist::{upgrade, Db, DbError, DbTarget, Engine};

#[test]
fn an_unsupported_engine_is_named_without_the_password() {
    let err = DbTarget::parse("oracle://scott:tiger@db/orcl").unwrap_err();
    assert!(matches!(err, DbError::UnsupportedEngine { .. }));
    assert_eq!(err.kind(), ErrorKind::DbUnsupported);
    assert!(!err.to_string().contains("tiger"));
}

#[tokio::test]
async fn an_unreachable_server() {
    for url in [
        "postgres://postgres@127.0.0.1:1/test",
        "mysql://root@127.0.0.1:1/test",
    ] {
        let err = Db::connect(&DbTarget::parse(url).unwrap())
            .await
            .err()
            .unwrap();
        assert!(matches!(err, DbError::Unreachable { .. }), "{url}: {err}");
        assert_eq!(err.kind(), ErrorKind::DbUnreachable);
    }
}

#[tokio::test]
async fn a_missing_database() {
    for engine in [Engine::Postgres, Engine::MySql] {
        let Some(admin) = server_url(engine) else {
            continue;
        };
        let target = admin.with_database(&unique("transit_missing"));
        let err = Db::connect(&target).await.err().unwrap();
        assert!(
            matches!(err, DbError::MissingDatabase { .. }),
            "{engine:?}: {err}"
        );
        assert_eq!(err.kind(), ErrorKind::DbMissing);
        let report = check(&target, None).await;
        assert!(!report.passed());
        assert!(matches!(
            report.failure,
            Some(DbError::MissingDatabase { .. })
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.db");
    let target = DbTarget::parse(&format!("sqlite://{}", path.display())).unwrap();
    let err = Db::connect(&target).await.err().unwrap();
    assert!(matches!(err, DbError::MissingDatabase { .. }), "{err}");
    assert!(!path.exists(), "the check created the file");
}

#[tokio::test]
async fn wrong_credentials() {
    if let Some(admin) = server_url(Engine::Postgres) {
        // The test server trusts local logins, so a wrong user is what it refuses.
        let target = admin.with_login(&unique("nobody"), Some(SecretString::from("x")));
        let err = Db::connect(&target).await.err().unwrap();
        assert!(matches!(err, DbError::Credentials { .. }), "{err}");
        assert_eq!(err.kind(), ErrorKind::DbCredentials);
        assert!(!err.to_string().contains("password=x"));
    }
    if let Some(tmp) = TempDb::new(Engine::MySql).await {
        let user = unique("tr_cred");
        tmp.admin_exec(&format!(
            "CREATE USER '{user}'@'%' IDENTIFIED BY 'right-one'"
        ))
        .await;
        let target = tmp
            .target
            .with_login(&user, Some(SecretString::from("wrong-one")));
        let err = Db::connect(&target).await.err().unwrap();
        assert!(matches!(err, DbError::Credentials { .. }), "{err}");
        assert!(!err.to_string().contains("wrong-one"));
        tmp.admin_exec(&format!("DROP USER '{user}'@'%'")).await;
        tmp.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_at_the_wrong_version() {
    for engine in ENGINES {
        let Some(tmp) = TempDb::new(engine).await else {
            continue;
        };
        let mut db = tmp.connect().await;
        let cancel = CancelToken::new();
        // No schema at all: repair refuses and creates nothing.
        let err = repair::repair(
            &mut db,
            RepairMode::Delete,
            transit_core::time::now(),
            &NoProgress,
            &cancel,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, DbError::WrongVersion { .. }),
            "{engine:?}: {err}"
        );
        assert_eq!(err.kind(), ErrorKind::DbVersion);
        assert!(!db.table_exists("CallDetail").await.unwrap());
        upgrade::upgrade(&mut db, Version::V30, &NoProgress, &cancel)
            .await
            .unwrap();
        let report = check(&tmp.target, Some(Version::R2015)).await;
        assert!(matches!(report.failure, Some(DbError::WrongVersion { .. })));
        let item = report
            .checks
            .iter()
            .find(|c| c.name == "schema version")
            .unwrap();
        assert!(
            !item.passed && item.detail.contains("3.0"),
            "{}",
            item.detail
        );
        db.close().await.unwrap();
        tmp.drop_db().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_without_permissions() {
    for engine in [Engine::Postgres, Engine::MySql] {
        let Some(tmp) = TempDb::new(engine).await else {
            continue;
        };
        let user = unique("tr_ro");
        let database = tmp.target.database();
        match engine {
            Engine::Postgres => {
                tmp.admin_exec(&format!("CREATE ROLE \"{user}\" LOGIN"))
                    .await;
                tmp.admin_exec(&format!(
                    "GRANT CONNECT ON DATABASE \"{database}\" TO \"{user}\""
                ))
                .await;
            }
            _ => {
                tmp.admin_exec(&format!("CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'"))
                    .await;
                tmp.admin_exec(&format!("GRANT SELECT ON `{database}`.* TO '{user}'@'%'"))
                    .await;
            }
        }
        let target = tmp.target.with_login(&user, Some(SecretString::from("pw")));
        let report = check(&target, None).await;
        let item = report
            .checks
            .iter()
            .find(|c| c.name == "permissions")
            .unwrap();
        assert!(!item.passed, "{engine:?}");
        assert!(item.detail.contains("create"), "{}", item.detail);
        let mut db = Db::connect(&target).await.unwrap();
        let err = upgrade::upgrade(&mut db, Version::R2015, &NoProgress, &CancelToken::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, DbError::Permission { .. }),
            "{engine:?}: {err}"
        );
        assert_eq!(err.kind(), ErrorKind::DbPermission);
        db.close().await.unwrap();
        // Nothing was created.
        let mut admin_db = tmp.connect().await;
        for table in Schema::reference().tables.iter().take(3) {
            assert!(!admin_db.table_exists(&table.name).await.unwrap());
        }
        assert!(!admin_db.table_exists("ININ_APP_VERSION").await.unwrap());
        admin_db.close().await.unwrap();
        tmp.drop_db().await;
        let drop = match engine {
            Engine::Postgres => format!("DROP ROLE \"{user}\""),
            _ => format!("DROP USER '{user}'@'%'"),
        };
        crate::common::admin_exec(engine, &drop).await;
    }
}
