//! `setup-user` creates a migration user that passes `check` and can run
//! the repair, on PostgreSQL and MariaDB; SQLite has no users.

use crate::common::{unique, TempDb};
use secrecy::SecretString;
use transit_core::{CancelToken, NoProgress};
use transit_dbassist::check::check;
use transit_dbassist::generate::{self, GenerateOptions};
use transit_dbassist::repair::{self, RepairMode};
use transit_dbassist::setup_user::{setup_user, MigrationUser};
use transit_dbassist::{Db, Engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_user_can_check_and_repair() {
    for engine in [Engine::Postgres, Engine::MySql] {
        let Some(tmp) = TempDb::new(engine).await else {
            continue;
        };
        let mut admin = tmp.connect().await;
        let opts = GenerateOptions {
            sites: 1,
            days: 1,
            calls_per_day: 40,
            ..GenerateOptions::default()
        };
        generate::generate(&mut admin, &opts, &NoProgress, &CancelToken::new())
            .await
            .unwrap();
        let name = unique("tr_mig");
        let password = format!("pw-{name}");
        let user = MigrationUser {
            name: name.clone(),
            host: "%".into(),
            password: Some(SecretString::from(password.clone())),
        };
        let first = setup_user(&mut admin, &user).await.unwrap();
        assert!(!first.existed);
        let again = setup_user(&mut admin, &user).await.unwrap();
        assert!(again.existed);
        admin.close().await.unwrap();

        let target = tmp
            .target
            .with_login(&name, Some(SecretString::from(password)));
        let report = check(&target, None).await;
        assert!(report.passed(), "{engine:?}: {:?}", report.checks);
        let mut db = Db::connect(&target).await.unwrap();
        let audit = repair::repair(
            &mut db,
            RepairMode::AuditOnly,
            transit_core::time::now(),
            &NoProgress,
            &CancelToken::new(),
        )
        .await
        .unwrap();
        assert!(audit.scripts.iter().all(|s| s.rows_inserted > 0));
        // Least privilege: nothing beyond what check, upgrade and repair need.
        let d = db.dialect();
        let probe = unique("tr_probe");
        let mut refused = vec![
            format!("CREATE DATABASE {}", d.ident(&probe)),
            match engine {
                Engine::Postgres => format!("CREATE ROLE \"{probe}\""),
                _ => format!("CREATE USER '{probe}'@'%'"),
            },
        ];
        match engine {
            Engine::Postgres => {
                // The tables belong to the admin: the user cannot drop them.
                refused.push(format!("DROP TABLE {}", d.ident("CallDetail")));
                assert_eq!(
                    db.rows("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user")
                        .await
                        .unwrap()[0]
                        .iter()
                        .map(|v| v.as_deref().unwrap_or(""))
                        .collect::<Vec<_>>(),
                    ["false", "false", "false"]
                );
            }
            _ => {
                // Rights on this database only: not the server's tables,
                // not another database.
                refused.push("SELECT COUNT(*) FROM mysql.user".to_string());
                let other = tmp.admin.as_ref().unwrap().database().to_string();
                refused.push(format!("CREATE TABLE `{other}`.`{probe}` (a INT)"));
            }
        }
        for sql in &refused {
            let err = db.exec(sql).await.expect_err(sql);
            assert!(
                matches!(err, transit_dbassist::DbError::Permission { .. }),
                "{engine:?} {sql}: {err}"
            );
        }
        assert!(db.table_exists("CallDetail").await.unwrap());
        db.close().await.unwrap();
        tmp.drop_db().await;
        let drop = match engine {
            Engine::Postgres => format!("DROP ROLE \"{name}\""),
            _ => format!("DROP USER '{name}'@'%'"),
        };
        crate::common::admin_exec(engine, &drop).await;
    }
}

#[tokio::test]
async fn sqlite_has_no_users() {
    let tmp = TempDb::new(Engine::Sqlite).await.unwrap();
    let mut db = tmp.connect().await;
    let user = MigrationUser {
        name: "migrator".into(),
        host: "%".into(),
        password: None,
    };
    let report = setup_user(&mut db, &user).await.unwrap();
    assert!(report.note.unwrap().contains("no users"));
    assert_eq!(report.statements, 0);
}
