//! Repair on all three engines: the audit tables hold exactly the planted
//! duplicates and NULLs, audit-only changes no source row, `--delete`
//! removes exactly the audited rows, and then the 2015 R1 upgrade goes
//! through.

use crate::common::{TempDb, ENGINES};
use std::collections::HashMap;
use transit_core::{CancelToken, NoProgress};
use transit_dbassist::generate::{self, GenerateOptions};
use transit_dbassist::repair::{self, Offence, RepairMode};
use transit_dbassist::schema::{Version, REPAIR_ORDER};
use transit_dbassist::{upgrade, version, DbError};

fn opts() -> GenerateOptions {
    GenerateOptions {
        sites: 2,
        days: 2,
        calls_per_day: 60,
        seed: 42,
        ..GenerateOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_counts_equal_the_planted_counts_on_every_engine() {
    for engine in ENGINES {
        let Some(tmp) = TempDb::new(engine).await else {
            continue;
        };
        let mut db = tmp.connect().await;
        let cancel = CancelToken::new();
        let report = generate::generate(&mut db, &opts(), &NoProgress, &cancel)
            .await
            .unwrap();
        let planted: HashMap<&str, (u64, u64)> = report
            .tables
            .iter()
            .map(|t| (t.table.as_str(), (t.planted_duplicates, t.planted_nulls)))
            .collect();
        let before: HashMap<String, i64> = {
            let mut m = HashMap::new();
            for t in &report.tables {
                m.insert(t.table.clone(), db.row_count(&t.table).await.unwrap());
            }
            m
        };
        for t in &report.tables {
            assert_eq!(before[&t.table] as u64, t.rows, "{engine:?} {}", t.table);
        }

        // The upgrade refuses while the keys would break, and changes nothing.
        let err = upgrade::upgrade(&mut db, Version::R2015, &NoProgress, &cancel)
            .await
            .unwrap_err();
        assert!(
            matches!(err, DbError::NeedsRepair { .. }),
            "{engine:?} {err}"
        );
        assert_eq!(
            version::read(&mut db).await.unwrap().current,
            Some(Version::V30)
        );

        let at = transit_core::time::parse_rfc3339("2013-05-10T03:53:00Z").unwrap();
        let audit = repair::repair(&mut db, RepairMode::AuditOnly, at, &NoProgress, &cancel)
            .await
            .unwrap();
        assert_eq!(audit.stamp, "1305100353");
        assert_eq!(audit.scripts.len(), 19);
        let mut tables_seen = std::collections::HashSet::new();
        for script in &audit.scripts {
            tables_seen.insert(script.table.clone());
            let (dups, nulls) = planted[script.table.as_str()];
            let want = match script.kind {
                Offence::Duplicates => dups,
                Offence::Nulls => nulls,
            };
            assert!(want > 0, "{engine:?} {}: nothing planted", script.script);
            assert_eq!(script.rows_inserted, want, "{engine:?} {}", script.script);
            assert_eq!(script.rows_deleted, 0);
            // The audit table itself holds them.
            let name = script.audit_table.rsplit('.').next().unwrap();
            let counted = db
                .count(&format!(
                    "SELECT COUNT(*) FROM {}",
                    db.dialect().quote(name)
                ))
                .await
                .unwrap();
            assert_eq!(counted as u64, want, "{engine:?} {name}");
            let letter = if script.kind == Offence::Duplicates {
                'd'
            } else {
                'n'
            };
            assert!(
                name.eq_ignore_ascii_case(&format!("{}_{letter}1305100353", script.table)),
                "{name}"
            );
        }
        assert_eq!(tables_seen.len(), REPAIR_ORDER.len());
        for (table, rows) in &before {
            assert_eq!(
                db.row_count(table).await.unwrap(),
                *rows,
                "audit-only changed {table}"
            );
        }

        // A second run in the same minute is refused before anything.
        let err = repair::repair(&mut db, RepairMode::Delete, at, &NoProgress, &cancel)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Refused(_)), "{err}");

        let later = transit_core::time::parse_rfc3339("2013-05-10T03:54:00Z").unwrap();
        let deleted = repair::repair(&mut db, RepairMode::Delete, later, &NoProgress, &cancel)
            .await
            .unwrap();
        for script in &deleted.scripts {
            let (dups, nulls) = planted[script.table.as_str()];
            let want = if script.kind == Offence::Duplicates {
                dups
            } else {
                nulls
            };
            assert_eq!(script.rows_inserted, want, "{engine:?} {}", script.script);
            assert_eq!(script.rows_deleted, want, "{engine:?} {}", script.script);
        }
        for t in &report.tables {
            let expected = t.rows - t.planted_duplicates - t.planted_nulls;
            assert_eq!(
                db.row_count(&t.table).await.unwrap() as u64,
                expected,
                "{engine:?} {}",
                t.table
            );
        }
        assert!(repair::find(&mut db)
            .await
            .unwrap()
            .iter()
            .all(|f| f.rows == 0));

        // Now the target version's keys fit.
        let up = upgrade::upgrade(&mut db, Version::R2015, &NoProgress, &cancel)
            .await
            .unwrap();
        assert!(!up.applied.is_empty());
        assert_eq!(
            version::read(&mut db).await.unwrap().current,
            Some(Version::R2015)
        );

        // Repair works on the 3.0 source only.
        let err = repair::repair(&mut db, RepairMode::AuditOnly, later, &NoProgress, &cancel)
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::WrongVersion { .. }), "{err}");
        db.close().await.unwrap();
        tmp.drop_db().await;
    }
}
