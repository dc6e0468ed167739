//! Upgrade on all three engines: 3.0 then 2015 R1 in the vendor's build
//! order, a second run changes nothing, and no way back.

use crate::common::{TempDb, ENGINES};
use transit_core::{CancelToken, NoProgress};
use transit_dbassist::check;
use transit_dbassist::schema::{Schema, Version};
use transit_dbassist::{upgrade, version, DbError, Engine};

/// The builds with 2015 R1 changes, in the vendor's target order
/// (ICBuild, TrackerBuild, IRBuild, OptimizerBuild, CSSurveyBuild,
/// WorkflowBuild, DialerBuild, IWPBuild; OptimizerBuild and IWPBuild have
/// nothing for 2015 R1, and ICUpgrade is ICBuild for an existing schema).
const R2015_BUILDS: [&str; 6] = [
    "ICUpgrade",
    "TrackerBuild",
    "IRBuild",
    "CSSurveyBuild",
    "WorkflowBuild",
    "DialerBuild",
];

/// Every table's columns (type, default, nullability), every index, and
/// every table's row count: what a second upgrade must leave alone.
async fn schema_dump(db: &mut transit_dbassist::Db) -> Vec<Vec<Option<String>>> {
    let queries: &[&str] = match db.engine() {
        Engine::Sqlite => &["SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"],
        Engine::Postgres => &[
            "SELECT table_name, column_name, data_type, character_maximum_length, column_default, is_nullable \
             FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1, 2",
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1, 2",
        ],
        Engine::MySql => &[
            "SELECT table_name, column_name, column_type, column_default, is_nullable \
             FROM information_schema.columns WHERE table_schema = DATABASE() ORDER BY 1, 2",
            "SELECT table_name, index_name, seq_in_index, column_name, non_unique \
             FROM information_schema.statistics WHERE table_schema = DATABASE() ORDER BY 1, 2, 3",
        ],
    };
    let mut dump = Vec::new();
    for q in queries {
        dump.extend(db.rows(q).await.unwrap());
    }
    for table in Schema::reference().tables_at(Version::R2015) {
        let n = db.row_count(&table.name).await.unwrap();
        dump.push(vec![Some(table.name.clone()), Some(n.to_string())]);
    }
    dump
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrades_in_build_order_and_a_second_run_changes_nothing() {
    for engine in ENGINES {
        let Some(tmp) = TempDb::new(engine).await else {
            continue;
        };
        let mut db = tmp.connect().await;
        let cancel = CancelToken::new();
        let first = upgrade::upgrade(&mut db, Version::V30, &NoProgress, &cancel)
            .await
            .unwrap();
        let builds: Vec<&str> = first.applied.iter().map(|a| a.build.as_str()).collect();
        assert_eq!(
            builds,
            [
                "ICUpgrade",
                "TrackerUpgrade",
                "TrackerBuild",
                "IRBuild",
                "OptimizerBuild",
                "CSSurveyBuild",
                "WorkflowBuild",
                "IWPBuild"
            ],
            "{engine:?}"
        );
        let report = check::check_db(&mut db, Some(Version::V30)).await;
        assert!(report.passed(), "{engine:?} {:?}", report.checks);

        let up = upgrade::upgrade(&mut db, Version::R2015, &NoProgress, &cancel)
            .await
            .unwrap();
        assert!(up.applied.iter().all(|a| a.version == Version::R2015));
        let builds: Vec<&str> = up.applied.iter().map(|a| a.build.as_str()).collect();
        // The vendor's target order (ICBuild … IWPBuild; our ICUpgrade is
        // its ICBuild for an existing schema), DialerBuild only at 2015 R1.
        assert_eq!(builds, R2015_BUILDS, "{engine:?}");
        for table in Schema::reference().tables_at(Version::R2015) {
            assert!(
                db.table_exists(&table.name).await.unwrap(),
                "{engine:?} {}",
                table.name
            );
        }
        let d = db.dialect();
        // A 2015 R1 column exists and has its default.
        db.exec(&format!(
            "INSERT INTO {} ({}, {}, {}) VALUES ('w', '2013-01-01 00:00:00', 1)",
            d.ident("IStatsGroup"),
            d.ident("cName"),
            d.ident("dIntervalStart"),
            d.ident("SiteId")
        ))
        .await
        .unwrap();
        let sl = db
            .count(&format!(
                "SELECT {} FROM {}",
                d.ident("nServiceLevel2"),
                d.ident("IStatsGroup")
            ))
            .await
            .unwrap();
        assert_eq!(sl, 20);
        // The repair tables got their keys: a duplicate is refused.
        let dup = format!(
            "INSERT INTO {} ({}, {}) VALUES ('k', 1)",
            d.ident("LineGroupConfig"),
            d.ident("LineGroupId"),
            d.ident("SiteId")
        );
        db.exec(&dup).await.unwrap();
        assert!(
            db.exec(&dup).await.is_err(),
            "{engine:?}: no key on LineGroupConfig"
        );

        let before = schema_dump(&mut db).await;
        let again = upgrade::upgrade(&mut db, Version::R2015, &NoProgress, &cancel)
            .await
            .unwrap();
        assert!(again.applied.is_empty(), "{engine:?}");
        assert_eq!(
            schema_dump(&mut db).await,
            before,
            "{engine:?}: the second run changed the schema or the rows"
        );
        let status = version::read(&mut db).await.unwrap();
        assert_eq!(status.current, Some(Version::R2015));
        assert!(check::check_db(&mut db, Some(Version::R2015))
            .await
            .passed());

        let err = upgrade::upgrade(&mut db, Version::V30, &NoProgress, &cancel)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::WrongVersion { .. }), "{err}");
        db.close().await.unwrap();
        tmp.drop_db().await;
    }
}
