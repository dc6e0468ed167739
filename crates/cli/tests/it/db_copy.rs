//! `transit db copy` and `transit db validate` on the real binary and the
//! real servers: every engine pair the benchmark measures, hostile values
//! (equal or rejected with the database's error), merge mode, parents
//! before children, kills at random moments then `--resume`, a dropped
//! connection, a flipped value found by `validate`, and bad input.

use crate::common::{transit, Exit, ExitAssert};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use transit_dbassist::copy::Local;
use transit_dbassist::{Db, DbTarget};
use transit_testkit::tools::env_or_skip;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A server database that lives for one test.
struct ServerDb {
    admin: String,
    name: String,
    url: String,
    mysql: bool,
}

fn admin_exec(url: &str, sql: &str) {
    let target = DbTarget::parse(url).unwrap();
    let local = Local::new().unwrap();
    local
        .run(async {
            let mut db = Db::connect(&target).await?;
            db.exec(sql).await?;
            db.close().await
        })
        .unwrap();
}

fn query_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let target = DbTarget::parse(url).unwrap();
    let local = Local::new().unwrap();
    local
        .run(async {
            let mut db = Db::connect(&target).await?;
            let rows = db.rows(sql).await?;
            db.close().await?;
            Ok::<_, transit_dbassist::DbError>(rows)
        })
        .unwrap()
}

impl ServerDb {
    fn new(admin: &str, mysql: bool, dir: &Path, version: &str) -> ServerDb {
        let db = ServerDb::empty(admin, mysql);
        db_cmd(dir)
            .args(["upgrade", "--url", &db.url, "--to", version])
            .assert()
            .success();
        db
    }

    fn empty(admin: &str, mysql: bool) -> ServerDb {
        let name = format!(
            "transit_c_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        if mysql {
            admin_exec(
                admin,
                &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
            );
        } else {
            admin_exec(admin, &format!("CREATE DATABASE \"{name}\""));
        }
        let base = admin.rsplit_once('/').unwrap().0;
        ServerDb {
            admin: admin.to_string(),
            url: format!("{base}/{name}"),
            name,
            mysql,
        }
    }
}

impl Drop for ServerDb {
    fn drop(&mut self) {
        let sql = if self.mysql {
            format!("DROP DATABASE IF EXISTS `{}`", self.name)
        } else {
            format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)
        };
        admin_exec(&self.admin, &sql);
    }
}

fn db_cmd(dir: &Path) -> assert_cmd::Command {
    let mut cmd = transit(&dir.join("unused-root"));
    cmd.current_dir(dir)
        .env_remove("PGPASSWORD")
        .env_remove("MYSQL_PWD")
        .arg("db");
    cmd
}

fn pg() -> Option<String> {
    env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets")
}

fn mysql() -> Option<String> {
    let url = env_or_skip("TRANSIT_TEST_MYSQL", "a MariaDB URL, as .ci/run sets")?;
    // The fast path; .ci/run sets it too.
    admin_exec(&url, "SET GLOBAL local_infile = 1");
    Some(url)
}

/// A generated SQLite 3.0 source.
fn sqlite_source(dir: &Path, calls_per_day: u32) -> String {
    let url = format!("sqlite://{}", dir.join("source.db").display());
    db_cmd(dir)
        .args([
            "generate", "--url", &url, "--sites", "2", "--days", "5", "--seed", "9",
        ])
        .args(["--calls-per-day", &calls_per_day.to_string()])
        .assert()
        .success();
    url
}

fn copy_json(dir: &Path, source: &str, target: &str, extra: &[&str]) -> Value {
    let out = db_cmd(dir)
        .args(["copy", "--source", source, "--target", target, "--json"])
        .args(extra)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn table<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == name)
        .unwrap_or_else(|| panic!("{name} in {report}"))
}

fn rejects(report: &Value) -> Vec<Value> {
    let Some(file) = report["rejects_file"].as_str() else {
        return Vec::new();
    };
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rejected_keys(lines: &[Value]) -> Vec<String> {
    let mut keys: Vec<String> = lines
        .iter()
        .filter_map(|l| l["key"]["CallId"].as_str().map(str::to_string))
        .filter(|k| k.starts_with("HOSTILE"))
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

const TABLES: &str =
    "CallDetail,IR_RecordingMedia,IR_RecordingAudit,QM_Questionnaire,QM_ScoreCard,IVRInterval";

#[test]
fn copies_between_engines_with_hostile_values_rejected_or_equal() {
    let (Some(pg), Some(my)) = (pg(), mysql()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = sqlite_source(d, 60);

    // SQLite -> PostgreSQL 2015 R1 (keys declared, foreign keys on),
    // parents before children with four jobs.
    let t1 = ServerDb::new(&pg, false, d, "2015R1");
    let report = copy_json(
        d,
        &source,
        &t1.url,
        &["--tables", TABLES, "--jobs", "4", "--on-error", "reject"],
    );
    for t in report["tables"].as_array().unwrap() {
        assert_eq!(t["mode"], "bulk", "{t}");
        assert_eq!(t["validation"]["equal"], true, "{t}");
    }
    let lines = rejects(&report);
    // NUL in text and text in an integer column cannot be held by
    // PostgreSQL; the 3.0 duplicates and NULL keys break 2015 R1's keys.
    assert_eq!(rejected_keys(&lines), ["HOSTILE-05", "HOSTILE-06"]);
    for line in &lines {
        let error = line["error"].as_str().unwrap();
        let key = line["key"]["CallId"].as_str().unwrap_or("");
        match key {
            "HOSTILE-05" => assert!(error.contains("0x00"), "{error}"),
            "HOSTILE-06" => assert!(error.contains("integer"), "{error}"),
            _ => assert!(
                error.contains("duplicate key") || error.contains("null value"),
                "{line}"
            ),
        }
    }
    let calls = table(&report, "CallDetail");
    assert!(calls["rejected"].as_u64().unwrap() > 2);

    // PostgreSQL -> MariaDB, MariaDB -> SQLite, PostgreSQL -> PostgreSQL,
    // PostgreSQL -> SQLite: everything arrives equal.
    let t2 = ServerDb::new(&my, true, d, "2015R1");
    let r2 = copy_json(d, &t1.url, &t2.url, &["--tables", TABLES]);
    assert_eq!(table(&r2, "CallDetail")["rows"], calls["rows"]);
    let t3 = format!("sqlite://{}", d.join("t3.db").display());
    db_cmd(d)
        .args(["upgrade", "--url", &t3, "--to", "2015R1"])
        .assert()
        .success();
    copy_json(d, &t2.url, &t3, &["--tables", TABLES]);
    let t4 = ServerDb::new(&pg, false, d, "3.0");
    copy_json(
        d,
        &t1.url,
        &t4.url,
        &["--tables", "CallDetail", "--batch-rows", "100"],
    );
    db_cmd(d)
        .args([
            "validate",
            "--source",
            &t3,
            "--target",
            &t4.url,
            "--tables",
            "CallDetail",
        ])
        .assert()
        .success();

    // SQLite -> MariaDB: MariaDB holds NUL; LOAD DATA's "12 s" -> 12 is
    // caught, not kept.
    let t5 = ServerDb::new(&my, true, d, "3.0");
    let r5 = copy_json(
        d,
        &source,
        &t5.url,
        &["--tables", "CallDetail", "--on-error", "reject"],
    );
    let lines = rejects(&r5);
    assert_eq!(rejected_keys(&lines), ["HOSTILE-06"]);
    assert!(lines[0]["error"]
        .as_str()
        .unwrap()
        .contains("HoldDurationSeconds"));
    let nul = query_rows(
        &t5.url,
        "SELECT HEX(RemoteName) FROM CallDetail WHERE CallId = 'HOSTILE-05'",
    );
    assert_eq!(nul[0][0].as_deref(), Some("416E6E004C6565"));

    // A second copy into tables that hold rows: the NOT EXISTS rule.
    let again = copy_json(d, &t1.url, &t4.url, &["--tables", "CallDetail"]);
    let c = table(&again, "CallDetail");
    assert_eq!(c["mode"], "merge");
    assert_eq!(c["rows"], 0);
    assert_eq!(c["skipped"], calls["rows"]);

    // One flipped value is found and named.
    let victim = query_rows(
        &t4.url,
        "SELECT callid FROM calldetail ORDER BY callid LIMIT 1 OFFSET 17",
    )[0][0]
        .clone()
        .unwrap();
    admin_exec(&t4.url, &format!("UPDATE calldetail SET holddurationseconds = holddurationseconds + 1 WHERE callid = '{victim}'"));
    db_cmd(d)
        .args([
            "validate",
            "--source",
            &t1.url,
            "--target",
            &t4.url,
            "--tables",
            "CallDetail",
        ])
        .assert()
        .exit(Exit::DbValidation)
        .stderr(predicates::str::contains(format!(
            "first differing key CallId={victim} (values differ)"
        )));
}

#[test]
fn a_mariadb_source_keeps_or_rejects_its_zero_dates_and_nuls() {
    let (Some(pg), Some(my)) = (pg(), mysql()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = ServerDb::empty(&my, true);
    db_cmd(d)
        .args([
            "generate",
            "--url",
            &src.url,
            "--sites",
            "1",
            "--days",
            "2",
            "--calls-per-day",
            "50",
        ])
        .assert()
        .success();
    let t = ServerDb::new(&pg, false, d, "3.0");
    let report = copy_json(
        d,
        &src.url,
        &t.url,
        &[
            "--tables",
            "CallDetail,IR_RecordingMedia",
            "--on-error",
            "reject",
        ],
    );
    assert_eq!(table(&report, "CallDetail")["validation"]["equal"], true);
    assert_eq!(
        table(&report, "IR_RecordingMedia")["validation"]["equal"],
        true
    );
    let lines = rejects(&report);
    // NUL text (HOSTILE-05) and the zero date (HOSTILE-06).
    assert_eq!(rejected_keys(&lines), ["HOSTILE-05", "HOSTILE-06"]);
    let blob = query_rows(&t.url, "SELECT encode(mediakey, 'hex') FROM ir_recordingmedia WHERE recordingid = 'HOSTILE-nul-bytes'");
    assert_eq!(blob[0][0].as_deref(), Some("00000100ff00"));
}

fn run_name(runs: &Path) -> Option<String> {
    std::fs::read_dir(runs)
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .next()
}

/// `transit db validate` of CallDetail, rejects of `run` taken out: its
/// JSON report, after checking that both sides are equal.
fn validate_call_detail(dir: &Path, source: &str, target: &str, run: &str) -> Value {
    let out = db_cmd(dir)
        .args([
            "validate",
            "--source",
            source,
            "--target",
            target,
            "--tables",
            "CallDetail",
            "--run",
            run,
            "--json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["equal"], true, "{v}");
    v
}

fn checksum(dir: &Path, source: &str, target: &str, run: &str) -> String {
    let v = validate_call_detail(dir, source, target, run);
    v["tables"][0]["target_checksum"]
        .as_str()
        .unwrap()
        .to_string()
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("transit")
}

#[test]
fn kills_at_random_moments_then_resume_give_the_clean_checksum() {
    let Some(pg) = pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 50k calls: about 50k CallDetail rows.
    let source = sqlite_source(d, 5000);
    let clean_db = ServerDb::new(&pg, false, d, "3.0");
    let runs = d.join("clean-runs");
    let args = |target: &str, runs: &Path| -> Vec<String> {
        [
            "db",
            "copy",
            "--source",
            &source,
            "--target",
            target,
            "--tables",
            "CallDetail",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            "--batch-rows".into(),
            "2000".into(),
            "--on-error".into(),
            "reject".into(),
        ])
        .chain(["--run-dir".into(), runs.display().to_string()])
        .collect()
    };
    transit(&d.join("r"))
        .args(args(&clean_db.url, &runs))
        .assert()
        .success();
    let clean = checksum(d, &source, &clean_db.url, &run_name(&runs).unwrap());

    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for trial in 0..5 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let wait_ms = 150 + seed % 1500;
        let target = ServerDb::new(&pg, false, d, "3.0");
        let runs = d.join(format!("runs-{trial}"));
        let mut child = std::process::Command::new(bin())
            .args(args(&target.url, &runs))
            .env("TRANSIT_COPY_BATCH_DELAY_MS", "15")
            .current_dir(d)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        // Resume (or start, when the kill came before the run existed).
        match run_name(&runs) {
            Some(run) => {
                transit(&d.join("r"))
                    .current_dir(d)
                    .args(["db", "copy", "--source", &source, "--target", &target.url])
                    .args(["--resume", &run, "--run-dir", &runs.display().to_string()])
                    .assert()
                    .success();
            }
            None => {
                transit(&d.join("r"))
                    .args(args(&target.url, &runs))
                    .assert()
                    .success();
            }
        }
        let run = run_name(&runs).unwrap();
        assert_eq!(
            checksum(d, &source, &target.url, &run),
            clean,
            "trial {trial} killed after {wait_ms} ms"
        );
        // No row lost or doubled.
        let count = |url: &str| query_rows(url, "SELECT COUNT(*) FROM calldetail")[0][0].clone();
        assert_eq!(count(&target.url), count(&clean_db.url), "trial {trial}");
    }
}

#[test]
fn a_dropped_connection_stops_clearly_and_resume_completes() {
    let Some(pg) = pg() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = sqlite_source(d, 400);
    let target = ServerDb::new(&pg, false, d, "3.0");
    let runs = d.join("runs");
    let child = std::process::Command::new(bin())
        .args([
            "db",
            "copy",
            "--source",
            &source,
            "--target",
            &target.url,
            "--tables",
            "CallDetail",
        ])
        .args([
            "--batch-rows",
            "200",
            "--on-error",
            "reject",
            "--run-dir",
            &runs.display().to_string(),
        ])
        .env("TRANSIT_COPY_BATCH_DELAY_MS", "100")
        .current_dir(d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the first committed batch, then terminate the copy's
    // backends from a second connection.
    let mut terminated = false;
    for _ in 0..500 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let exists = query_rows(
            &target.url,
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'transit_migration' AND table_name = 'copy_progress'",
        );
        if exists[0][0].as_deref() != Some("1") {
            continue;
        }
        let done = query_rows(
            &target.url,
            "SELECT CAST(COALESCE(SUM(rows_done), 0) AS bigint) FROM transit_migration.copy_progress",
        );
        let done: u64 = done[0][0].as_deref().unwrap_or("0").parse().unwrap_or(0);
        if done > 0 {
            admin_exec(
                &target.url,
                &format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' AND pid <> pg_backend_pid()",
                    target.name
                ),
            );
            terminated = true;
            break;
        }
    }
    assert!(terminated, "the copy never committed a batch");
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(i32::from(Exit::DbCopyStopped.code())),
        "{stderr}"
    );
    // The server's FATAL message is seen when the client reads it before
    // the socket closes; otherwise the driver sees end of file, which the
    // copy reports as a lost connection. Both name the cause.
    assert!(
        stderr.contains("terminating connection")
            || stderr.contains("connection to the target database was lost"),
        "{stderr}"
    );
    let run = run_name(&runs).unwrap();
    assert!(stderr.contains(&format!("--resume {run}")), "{stderr}");
    transit(&d.join("r"))
        .current_dir(d)
        .args(["db", "copy", "--source", &source, "--target", &target.url])
        .args(["--resume", &run, "--run-dir", &runs.display().to_string()])
        .assert()
        .success();
    checksum(d, &source, &target.url, &run);
}

#[test]
fn bad_copy_input_has_its_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = sqlite_source(d, 5);
    let target = format!("sqlite://{}", d.join("t.db").display());
    db_cmd(d)
        .args(["upgrade", "--url", &target, "--to", "3.0"])
        .assert()
        .success();
    db_cmd(d)
        .args([
            "copy",
            "--source",
            &source,
            "--target",
            &target,
            "--tables",
            "NoSuchTable",
        ])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicates::str::contains("NoSuchTable"));
    db_cmd(d)
        .args([
            "copy",
            "--source",
            &source,
            "--target",
            &target,
            "--resume",
            "copy-nope",
        ])
        .assert()
        .exit(Exit::Refused)
        .stderr(predicates::str::contains("no copy run `copy-nope`"));
    let empty = format!("sqlite://{}", d.join("empty.db").display());
    std::fs::write(d.join("empty.db"), b"").unwrap();
    db_cmd(d)
        .args([
            "copy",
            "--source",
            &source,
            "--target",
            &empty,
            "--tables",
            "CallDetail",
        ])
        .assert()
        .exit(Exit::DbVersion);
    // SQLite -> SQLite with JSON progress lines on standard output.
    let out = db_cmd(d)
        .args([
            "copy",
            "--source",
            &source,
            "--target",
            &target,
            "--tables",
            "CallDetail",
        ])
        .args(["--progress", "json", "--on-error", "reject"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines
        .iter()
        .any(|l| l["event"] == "begin" && l["task"] == "CallDetail"));
    assert!(lines.iter().any(|l| l["event"] == "advance"));
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "report");
    assert_eq!(last["report"]["tables"][0]["validation"]["equal"], true);
}

/// An upgraded SQLite target at `version`.
fn sqlite_target(dir: &Path, name: &str, version: &str) -> String {
    let url = format!("sqlite://{}", dir.join(name).display());
    db_cmd(dir)
        .args(["upgrade", "--url", &url, "--to", version])
        .assert()
        .success();
    url
}

#[test]
fn the_copy_validates_the_rows_it_read_and_names_a_row_the_target_changed() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = sqlite_source(d, 60);
    let victim = query_rows(
        &source,
        "SELECT CallId FROM CallDetail WHERE CallId NOT LIKE 'HOSTILE%' ORDER BY CallId LIMIT 1 OFFSET 11",
    )[0][0]
        .clone()
        .unwrap();

    // The target changes one row as it arrives: the checksum of the rows
    // the copy read no longer matches, and the source is read again to
    // name the row.
    let target = sqlite_target(d, "changed.db", "3.0");
    admin_exec(
        &target,
        &format!(
            "CREATE TRIGGER bump AFTER INSERT ON CallDetail WHEN NEW.CallId = '{victim}' \
             BEGIN UPDATE CallDetail SET HoldDurationSeconds = coalesce(HoldDurationSeconds, 0) + 1 \
             WHERE CallId = NEW.CallId; END"
        ),
    );
    db_cmd(d)
        .args(["copy", "--source", &source, "--target", &target])
        .args(["--tables", "CallDetail", "--on-error", "reject"])
        .assert()
        .exit(Exit::DbValidation)
        .stderr(predicates::str::contains(format!(
            "first differing key CallId={victim} (values differ)"
        )));

    // Without the trigger, the copy's own checksum of the source equals
    // the one `validate` reads from the source afresh.
    let clean = sqlite_target(d, "clean.db", "3.0");
    let report = copy_json(
        d,
        &source,
        &clean,
        &["--tables", "CallDetail", "--on-error", "reject"],
    );
    let copied = table(&report, "CallDetail")["validation"].clone();
    assert_eq!(copied["equal"], true, "{copied}");
    let fresh = validate_call_detail(d, &source, &clean, report["run"].as_str().unwrap());
    assert_eq!(
        fresh["tables"][0]["source_checksum"],
        copied["source_checksum"]
    );
    assert_eq!(fresh["tables"][0]["source_rows"], copied["source_rows"]);
}

#[test]
fn a_marker_without_the_source_checksum_reads_the_source_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let source = sqlite_source(d, 40);
    let target = sqlite_target(d, "target.db", "3.0");
    // A state table as an earlier release made it, without source_sum.
    admin_exec(
        &target,
        "CREATE TABLE transit_migration_copy_progress (run VARCHAR(64) NOT NULL, tbl VARCHAR(64) NOT NULL, \
         mode VARCHAR(8) NOT NULL, nulls_done INTEGER NOT NULL, last_key TEXT, rows_done BIGINT NOT NULL, \
         skipped BIGINT NOT NULL, rejected BIGINT NOT NULL, rejected_sum VARCHAR(64) NOT NULL, \
         done INTEGER NOT NULL, PRIMARY KEY (run, tbl))",
    );
    let runs = d.join("runs");
    let runs_arg = runs.display().to_string();
    let report = copy_json(
        d,
        &source,
        &target,
        &[
            "--tables",
            "CallDetail",
            "--on-error",
            "reject",
            "--run-dir",
            &runs_arg,
        ],
    );
    assert_eq!(table(&report, "CallDetail")["validation"]["equal"], true);
    let run = report["run"].as_str().unwrap().to_string();
    let kept = query_rows(
        &target,
        "SELECT source_sum FROM transit_migration_copy_progress WHERE tbl = 'CallDetail'",
    );
    assert!(
        kept[0][0].as_deref().is_some_and(|s| s.contains(':')),
        "{kept:?}"
    );

    // Unknown (NULL) or damaged: the resumed run's validation reads both
    // sides, and they agree.
    for value in ["NULL", "'7:zz'"] {
        admin_exec(
            &target,
            &format!("UPDATE transit_migration_copy_progress SET source_sum = {value}"),
        );
        let again = copy_json(
            d,
            &source,
            &target,
            &["--resume", &run, "--run-dir", &runs_arg],
        );
        let v = &table(&again, "CallDetail")["validation"];
        assert_eq!(v["equal"], true, "{value}: {v}");
        assert_eq!(v["source_rows"], v["target_rows"], "{value}: {v}");
    }
}
