//! The dialects on the real engines: the idempotency clause inserts
//! nothing the second time, the upsert replaces, and foreign-key checks
//! switch off and on.

use crate::common::{TempDb, ENGINES};
use transit_core::{CancelToken, NoProgress};
use transit_dbassist::schema::{Schema, Version};
use transit_dbassist::upgrade;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insert_missing_is_idempotent_and_upsert_replaces() {
    for engine in ENGINES {
        let Some(tmp) = TempDb::new(engine).await else {
            continue;
        };
        let mut db = tmp.connect().await;
        upgrade::upgrade(&mut db, Version::R2015, &NoProgress, &CancelToken::new())
            .await
            .unwrap();
        let d = db.dialect();
        let table = Schema::reference().table("TITLE").unwrap();
        let mut staging = table.clone();
        staging.name = "TITLE_staging".into();
        staging.foreign_keys.clear();
        db.exec(&d.create_table(&staging, Version::R2015))
            .await
            .unwrap();
        let t = d.ident("TITLE_staging");
        let (id, name, ver) = (d.ident("TitleID"), d.ident("Name"), d.ident("Version"));
        db.exec(&format!(
            "INSERT INTO {t} ({id}, {name}, {ver}) VALUES (1, 'Mr.', 1), (2, 'Ms.', 1)"
        ))
        .await
        .unwrap();
        let cols = ["TitleID", "Name", "Version"];
        let sql = d.insert_missing("TITLE", "TITLE_staging", &cols, &["TitleID"]);
        assert_eq!(db.exec(&sql).await.unwrap(), 2, "{engine:?}");
        assert_eq!(
            db.exec(&sql).await.unwrap(),
            0,
            "{engine:?}: not idempotent"
        );
        db.exec(&format!(
            "UPDATE {t} SET {name} = 'Dr.', {ver} = 2 WHERE {id} = 2"
        ))
        .await
        .unwrap();
        db.exec(&d.upsert("TITLE", "TITLE_staging", &cols, &["TitleID"]))
            .await
            .unwrap();
        let rows = db
            .rows(&format!(
                "SELECT {}, {} FROM {} ORDER BY {id}",
                d.cast_text(&name),
                d.cast_text(&ver),
                d.ident("TITLE")
            ))
            .await
            .unwrap();
        assert_eq!(
            rows,
            vec![
                vec![Some("Mr.".to_string()), Some("1".to_string())],
                vec![Some("Dr.".to_string()), Some("2".to_string())]
            ],
            "{engine:?}"
        );

        // Checks off: a child row without its parent goes in; checks on
        // again find it (PostgreSQL's validation and SQLite's
        // foreign_key_check fail; MariaDB does not re-check old rows).
        let child = Schema::reference().table("CONNSUBTYPE").unwrap();
        for sql in d.suspend_checks(child) {
            db.exec(&sql).await.unwrap();
        }
        db.exec(&format!(
            "INSERT INTO {} ({}, {}) VALUES (1, 99)",
            d.ident("CONNSUBTYPE"),
            d.ident("ConnSubTypeID"),
            d.ident("ConnTypeID")
        ))
        .await
        .unwrap();
        let mut resumed = Ok(0);
        for sql in d.resume_checks(child) {
            resumed = db.exec(&sql).await;
            if resumed.is_err() {
                break;
            }
        }
        match engine {
            transit_dbassist::Engine::Postgres => assert!(resumed.is_err(), "validation passed"),
            transit_dbassist::Engine::Sqlite => {
                assert_eq!(db.rows("PRAGMA foreign_key_check").await.unwrap().len(), 1)
            }
            transit_dbassist::Engine::MySql => assert!(resumed.is_ok()),
        }
        db.close().await.unwrap();
        tmp.drop_db().await;
    }
}
