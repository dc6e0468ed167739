//! The generator: the same seed gives the same data (checksums over the
//! database contents and over the generated stream), hostile values and
//! daylight-saving rows arrive, and progress is reported per table.

use crate::common::{content_checksum, TempDb, ENGINES};
use std::sync::Mutex;
use transit_core::{CancelToken, Event, NoProgress};
use transit_dbassist::generate::{self, GenerateOptions, GenerateReport};
use transit_dbassist::{DbError, Engine};

fn opts(seed: u64) -> GenerateOptions {
    GenerateOptions {
        sites: 3,
        days: 2,
        calls_per_day: 50,
        seed,
        ..GenerateOptions::default()
    }
}

async fn generate_into(tmp: &TempDb, seed: u64) -> (GenerateReport, String) {
    let mut db = tmp.connect().await;
    let report = generate::generate(&mut db, &opts(seed), &NoProgress, &CancelToken::new())
        .await
        .unwrap();
    let sum = content_checksum(&mut db).await;
    db.close().await.unwrap();
    (report, sum)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_the_same_data() {
    for engine in ENGINES {
        let Some(a) = TempDb::new(engine).await else {
            continue;
        };
        let b = TempDb::new(engine).await.unwrap();
        let c = TempDb::new(engine).await.unwrap();
        let (ra, sa) = generate_into(&a, 7).await;
        let (rb, sb) = generate_into(&b, 7).await;
        let (rc, sc) = generate_into(&c, 8).await;
        assert_eq!(ra.checksum, rb.checksum, "{engine:?}");
        assert_eq!(sa, sb, "{engine:?}: same seed, different contents");
        assert_ne!(ra.checksum, rc.checksum, "{engine:?}");
        assert_ne!(sa, sc, "{engine:?}: another seed, same contents");
        assert_eq!(ra.total_rows, ra.tables.iter().map(|t| t.rows).sum::<u64>());
        for t in [a, b, c] {
            t.drop_db().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_values_and_dst_rows_arrive() {
    for engine in ENGINES {
        let Some(tmp) = TempDb::new(engine).await else {
            continue;
        };
        let events = Mutex::new(Vec::new());
        let sink = |e: Event| events.lock().unwrap().push(e);
        let mut db = tmp.connect().await;
        let report = generate::generate(&mut db, &opts(3), &sink, &CancelToken::new())
            .await
            .unwrap();
        let kinds: Vec<&str> = report.hostile.iter().map(|h| h.kind).collect();
        for kind in [
            "utf8-4byte",
            "max-length",
            "char-padding",
            "quotes-escapes",
            "nul-bytes",
        ] {
            assert!(kinds.contains(&kind), "{engine:?} {kind}");
        }
        assert_eq!(kinds.contains(&"zero-date"), engine == Engine::MySql);
        assert_eq!(kinds.contains(&"text-in-integer"), engine == Engine::Sqlite);
        assert_eq!(kinds.contains(&"nul-text"), engine != Engine::Postgres);
        let d = db.dialect();
        for h in &report.hostile {
            let n = db
                .count(&format!(
                    "SELECT COUNT(*) FROM {} WHERE {} = '{}'",
                    d.ident(h.table),
                    d.ident(h.key_column),
                    h.key
                ))
                .await
                .unwrap();
            assert_eq!(n, 1, "{engine:?} {}", h.kind);
        }
        // The values themselves arrive, not only their rows.
        for h in &report.hostile {
            let (cond, want): (String, &str) = match h.kind {
                "max-length" => (
                    format!("{} = '€😀{}'", d.ident(h.column), "x".repeat(48)),
                    "the 50 characters",
                ),
                "quotes-escapes" => {
                    let rows = db
                        .rows(&format!(
                            "SELECT {} FROM {} WHERE {} = '{}'",
                            d.ident(h.column),
                            d.ident(h.table),
                            d.ident(h.key_column),
                            h.key
                        ))
                        .await
                        .unwrap();
                    assert_eq!(
                        rows[0][0].as_deref(),
                        Some("O'Brien \\ \"q\"\t\r\n,;"),
                        "{engine:?}"
                    );
                    continue;
                }
                "char-padding" => (
                    format!("{} LIKE 'In%'", d.ident(h.column)),
                    "In, padded as the engine pads CHAR",
                ),
                "nul-text" => (
                    match engine {
                        Engine::Sqlite => format!("hex({}) = '416E6E004C6565'", d.ident(h.column)),
                        _ => format!("HEX({}) = '416E6E004C6565'", d.ident(h.column)),
                    },
                    "Ann NUL Lee",
                ),
                "nul-bytes" => (
                    match engine {
                        Engine::Postgres => {
                            format!("encode({}, 'hex') = '00000100ff00'", d.ident(h.column))
                        }
                        Engine::Sqlite => format!("hex({}) = '00000100FF00'", d.ident(h.column)),
                        Engine::MySql => format!("HEX({}) = '00000100FF00'", d.ident(h.column)),
                    },
                    "the six bytes with their NULs",
                ),
                "zero-date" => (
                    format!(
                        "CAST({} AS CHAR) = '0000-00-00 00:00:00'",
                        d.ident(h.column)
                    ),
                    "MariaDB's zero date",
                ),
                "text-in-integer" => (
                    format!("typeof({0}) = 'text' AND {0} = '12 s'", d.ident(h.column)),
                    "text kept in an INTEGER column",
                ),
                _ => continue,
            };
            let n = db
                .count(&format!(
                    "SELECT COUNT(*) FROM {} WHERE {} = '{}' AND {cond}",
                    d.ident(h.table),
                    d.ident(h.key_column),
                    h.key
                ))
                .await
                .unwrap();
            assert_eq!(n, 1, "{engine:?} {}: {want}", h.kind);
        }
        // The 4-byte characters survive the engine's bulk path.
        let utf8 = report
            .hostile
            .iter()
            .find(|h| h.kind == "utf8-4byte")
            .unwrap();
        let rows = db
            .rows(&format!(
                "SELECT {} FROM {} WHERE {} = '{}'",
                d.ident("RemoteName"),
                d.ident("CallDetail"),
                d.ident("CallId"),
                utf8.key
            ))
            .await
            .unwrap();
        assert_eq!(rows[0][0].as_deref(), Some("Zoë 😀 𝄞 客户"), "{engine:?}");
        // Three of the four zones change clocks: four rows each.
        assert_eq!(report.dst.len(), 12);
        let gap = report
            .dst
            .iter()
            .find(|r| r.site_id == 1 && r.kind == "in-gap")
            .unwrap();
        assert_eq!(gap.local_time, "2013-03-10 02:30:00");
        let n = db
            .count(&format!(
                "SELECT COUNT(*) FROM {} WHERE {} LIKE 'DST-%'",
                d.ident("CallDetail"),
                d.ident("CallId")
            ))
            .await
            .unwrap();
        assert_eq!(n, 12);
        // Progress: every table begins and ends, with its regular rows as total.
        let events = events.into_inner().unwrap();
        for t in &report.tables {
            assert!(events
                .iter()
                .any(|e| matches!(e, Event::Begin { task, .. } if *task == t.table)));
            assert!(events
                .iter()
                .any(|e| matches!(e, Event::End { task } if *task == t.table)));
        }
        // A second generate into the same database is refused.
        let err = generate::generate(&mut db, &opts(3), &NoProgress, &CancelToken::new())
            .await
            .unwrap_err();
        assert!(matches!(err, DbError::Refused(_)), "{err}");
        db.close().await.unwrap();
        tmp.drop_db().await;
    }
}

#[tokio::test]
async fn a_stop_request_stops_the_load() {
    let tmp = TempDb::new(Engine::Sqlite).await.unwrap();
    let mut db = tmp.connect().await;
    let cancel = CancelToken::new();
    let stopper = cancel.clone();
    let sink = move |e: Event| {
        if matches!(e, Event::Begin { ref task, .. } if task == "CallDetail") {
            stopper.cancel();
        }
    };
    let err = generate::generate(&mut db, &opts(1), &sink, &cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Cancelled), "{err}");
}
