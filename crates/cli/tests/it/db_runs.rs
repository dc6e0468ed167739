//! Migrate runs and their scripts on the real binary (issue 15): the run
//! folder and `run-scripts.sh` against `--execute now` (same checksums, no
//! password in the folder), every status of the run history from its real
//! cause, `tune` taking effect by the next batch, cleanup and resume after
//! kills, and `--from-run`.

use crate::common::{Exit, ExitAssert};
use crate::db_migrate::{db_cmd, exec, one, source, sqlite, target, NY};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use transit_testkit::tools::env_or_skip;

const RANGE: (&str, &str) = ("2013-03-07", "2013-03-12");

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("transit")
}

/// `transit db migrate` of `groups` over RANGE into `tgt`, runs in `runs`.
fn migrate(d: &Path, src: &str, tgt: &str, groups: &str, runs: &Path) -> assert_cmd::Command {
    let mut cmd = db_cmd(d);
    cmd.args([
        "migrate", "--source", src, "--target", tgt, "--groups", groups,
    ])
    .args(["--start", RANGE.0, "--end", RANGE.1, "--source-tz", NY])
    .arg("--run-dir")
    .arg(runs);
    cmd
}

fn json_of(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd.arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The history as `transit db runs --json` lists it (from the folders, or
/// from the target's transit_migration).
fn history(d: &Path, runs: &Path, target: Option<&str>) -> Vec<Value> {
    let mut cmd = db_cmd(d);
    cmd.arg("runs").arg("--run-dir").arg(runs);
    if let Some(t) = target {
        cmd.args(["--target", t]);
    }
    json_of(&mut cmd).as_array().unwrap().clone()
}

fn status_of(d: &Path, runs: &Path, target: Option<&str>, run: &str) -> String {
    history(d, runs, target)
        .iter()
        .find(|r| r["run"] == run)
        .unwrap_or_else(|| panic!("run {run} in the history"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

fn tables_of(report: &Value) -> String {
    report["copy"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// `transit db validate` between two targets: every table equal.
fn assert_same(d: &Path, a: &str, b: &str, tables: &str, what: &str) {
    let out = db_cmd(d)
        .args([
            "validate", "--source", a, "--target", b, "--tables", tables, "--json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{what}: {}", String::from_utf8_lossy(&out.stderr)));
    for t in v["tables"].as_array().unwrap() {
        assert_eq!(t["equal"], true, "{what}: {t}");
    }
    assert!(out.status.success(), "{what}: {v}");
}

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

/// A PostgreSQL role with a password, owning two databases.
struct PgRole {
    admin: String,
    role: String,
    password: String,
    dbs: Vec<String>,
}

impl PgRole {
    fn new(admin: &str) -> PgRole {
        let role = format!("transit_pw_{}", std::process::id());
        let password = format!("Pw-{}-secret-x9", std::process::id());
        exec(admin, &format!("DROP ROLE IF EXISTS {role}"));
        exec(
            admin,
            &format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'"),
        );
        PgRole {
            admin: admin.into(),
            role,
            password,
            dbs: Vec::new(),
        }
    }

    /// A new database the role owns: its URL with the password.
    fn db(&mut self, tag: &str) -> String {
        let name = format!("{}_{tag}", self.role);
        exec(
            &self.admin,
            &format!("CREATE DATABASE \"{name}\" OWNER {}", self.role),
        );
        self.dbs.push(name.clone());
        let hostpart = self
            .admin
            .split_once("@")
            .unwrap()
            .1
            .rsplit_once('/')
            .unwrap()
            .0;
        format!(
            "postgres://{}:{}@{hostpart}/{name}",
            self.role, self.password
        )
    }
}

impl Drop for PgRole {
    fn drop(&mut self) {
        for db in &self.dbs {
            exec(
                &self.admin,
                &format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"),
            );
        }
        exec(&self.admin, &format!("DROP ROLE IF EXISTS {}", self.role));
    }
}

#[test]
fn run_scripts_and_execute_now_give_identical_checksums_and_no_password() {
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 51);
    // PostgreSQL refuses the generator's NUL rows (db_migrate covers them).
    exec(&src, "DELETE FROM CallDetail WHERE CallId LIKE 'HOSTILE%'");
    let mut role = PgRole::new(&pg);
    let (now_url, manual_url) = (role.db("now"), role.db("manual"));
    for url in [&now_url, &manual_url] {
        db_cmd(d)
            .args(["upgrade", "--url", url, "--to", "2015R1"])
            .assert()
            .success();
    }
    let groups = "reporting,recorder,conference";
    let now = json_of(&mut migrate(d, &src, &now_url, groups, &d.join("runs")));
    assert_eq!(now["status"], "Completed");

    let manual = json_of(
        migrate(d, &src, &manual_url, groups, &d.join("runs")).args(["--execute", "manual"]),
    );
    assert_eq!(manual["status"], "User completed");
    assert_eq!(manual["executed"], Value::Null);
    let run = manual["run"].as_str().unwrap().to_string();
    let run_dir = PathBuf::from(manual["run_dir"].as_str().unwrap());
    let steps = manual["steps"].as_u64().unwrap();
    // Nothing moved yet.
    assert_eq!(
        one(&pg_plain(&manual_url), "SELECT COUNT(*) FROM CallDetail"),
        "0"
    );
    // The preview: every step's header, SQL and expected rows.
    let out = db_cmd(d)
        .args(["scripts", &run, "--run-dir"])
        .arg(d.join("runs"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    for needle in [
        "step 1 of",
        "has site ID:",
        "date column:",
        "parent:",
        "target table has data:",
        "time zone:",
        "expected rows:",
        "NOT EXISTS",
        "transit_migration",
    ] {
        assert!(text.contains(needle), "{needle} in the preview:\n{text}");
    }
    let plans = json_of(
        db_cmd(d)
            .args(["scripts", &run, "--run-dir"])
            .arg(d.join("runs")),
    );
    assert_eq!(plans.as_array().unwrap().len() as u64, steps);
    let call_detail = plans
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["plan"]["name"] == "CallDetail")
        .unwrap();
    let expected = call_detail["plan"]["expected_rows"].as_i64().unwrap();
    assert!(expected > 0);
    assert_eq!(call_detail["plan"]["header"]["has_site_id"], true);
    assert_eq!(
        call_detail["plan"]["header"]["date_column"],
        "InitiatedDate"
    );

    // A DBA runs run-scripts.sh, from another folder, with the password in
    // the environment only.
    let out = Command::new("sh")
        .arg(run_dir.join("run-scripts.sh"))
        .current_dir(std::env::temp_dir())
        .env("TRANSIT", bin())
        .env("PGPASSWORD", &role.password)
        .env_remove("TRANSIT_SERVER_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        one(&pg_plain(&manual_url), "SELECT COUNT(*) FROM CallDetail"),
        expected.to_string()
    );
    assert_eq!(
        status_of(d, &d.join("runs"), Some(&manual_url), &run),
        "Completed"
    );
    assert_same(
        d,
        &now_url,
        &manual_url,
        &tables_of(&now),
        "run-scripts.sh vs now",
    );

    // No password anywhere in the run folders.
    let all = files(&d.join("runs"));
    assert!(all.len() > 10, "{} files", all.len());
    for (path, bytes) in all {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&role.password),
            "{} holds the password",
            path.display()
        );
    }
}

/// The URL without its password (the test's helpers connect as postgres
/// through trust).
fn pg_plain(url: &str) -> String {
    let (scheme_user, rest) = url.split_once('@').unwrap();
    let user = scheme_user.rsplit_once(':').unwrap().0;
    format!("{user}@{rest}")
}

/// Waits until `log` holds `needle` `times` times, or `child` ends.
fn wait_log(child: &mut std::process::Child, log: &Path, needle: &str, times: usize) -> bool {
    for _ in 0..3000 {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let n = std::fs::read_to_string(log)
            .map(|t| t.matches(needle).count())
            .unwrap_or(0);
        if n >= times {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{needle} never appeared in {}", log.display());
}

fn spawn(d: &Path, args: &[String], delay_ms: u32) -> std::process::Child {
    Command::new(bin())
        .args(args)
        .current_dir(d)
        .env("TRANSIT_COPY_BATCH_DELAY_MS", delay_ms.to_string())
        .env_remove("TRANSIT_SERVER_ROOT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn migrate_args(src: &str, tgt: &str, groups: &str, runs: &Path, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "db",
        "migrate",
        "--source",
        src,
        "--target",
        tgt,
        "--groups",
        groups,
        "--start",
        RANGE.0,
        "--end",
        RANGE.1,
        "--source-tz",
        NY,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend(extra.iter().map(|s| s.to_string()));
    v.push("--run-dir".into());
    v.push(runs.display().to_string());
    v
}

#[test]
fn every_status_arises_from_its_cause() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 52);
    let groups = "reporting,conference";

    // Completed: the steps were generated and ran.
    let runs = d.join("runs-now");
    let done = target(d, "done.db");
    let now = json_of(&mut migrate(d, &src, &done, groups, &runs));
    let tables = tables_of(&now);
    assert_eq!(
        status_of(d, &runs, None, now["run"].as_str().unwrap()),
        "Completed"
    );
    assert_eq!(
        status_of(d, &runs, Some(&done), now["run"].as_str().unwrap()),
        "Completed"
    );

    // Failed version check: the target is still at 3.0.
    let runs = d.join("runs-version");
    let old = sqlite(d, "old.db");
    db_cmd(d)
        .args(["upgrade", "--url", &old, "--to", "3.0"])
        .assert()
        .success();
    migrate(d, &src, &old, groups, &runs)
        .assert()
        .exit(Exit::DbVersion);
    let failed = history(d, &runs, None);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["status"], "Failed version check");
    assert!(
        failed[0]["detail"].as_str().unwrap().contains("2015"),
        "{}",
        failed[0]
    );
    let run = failed[0]["run"].as_str().unwrap();
    assert_eq!(status_of(d, &runs, Some(&old), run), "Failed version check");

    // Ready for restart: generated, not run; `resume` runs it.
    let runs = d.join("runs-later");
    let later_db = target(d, "later.db");
    let later = json_of(migrate(d, &src, &later_db, groups, &runs).args(["--execute", "later"]));
    let run = later["run"].as_str().unwrap().to_string();
    assert_eq!(
        status_of(d, &runs, Some(&later_db), &run),
        "Ready for restart"
    );
    assert_eq!(one(&later_db, "SELECT COUNT(*) FROM CallDetail"), "0");
    let resumed = json_of(db_cmd(d).args(["resume", &run, "--run-dir"]).arg(&runs));
    assert_eq!(resumed["status"], "Completed");
    assert_same(d, &done, &later_db, &tables, "later, then resume");
    // A Completed run is not run again.
    db_cmd(d)
        .args(["resume", &run, "--run-dir"])
        .arg(&runs)
        .assert()
        .exit(Exit::Refused);

    // User completed: generated for a DBA; the steps by hand, in order.
    let runs = d.join("runs-manual");
    let manual_db = target(d, "manual.db");
    let manual = json_of(migrate(d, &src, &manual_db, groups, &runs).args(["--execute", "manual"]));
    let run = manual["run"].as_str().unwrap().to_string();
    let steps = manual["steps"].as_u64().unwrap() as usize;
    assert_eq!(status_of(d, &runs, None, &run), "User completed");
    let step = |n: usize| {
        let mut cmd = db_cmd(d);
        cmd.args(["exec-step", &run, &n.to_string(), "--run-dir"])
            .arg(&runs);
        cmd
    };
    step(3).assert().exit(Exit::Refused);
    step(steps + 1).assert().exit(Exit::Usage);
    for n in 1..=steps {
        step(n).assert().success();
        let expect = if n < steps {
            "User completed"
        } else {
            "Completed"
        };
        assert_eq!(status_of(d, &runs, None, &run), expect, "after step {n}");
    }
    assert_same(d, &done, &manual_db, &tables, "exec-step by hand");

    // Incomplete: a run killed while its steps execute.
    let runs = d.join("runs-killed");
    let killed_db = target(d, "killed.db");
    let mut child = spawn(
        d,
        &migrate_args(&src, &killed_db, groups, &runs, &["--batch-rows", "20"]),
        100,
    );
    let run = loop {
        if let Ok(mut e) = std::fs::read_dir(&runs) {
            if let Some(Ok(first)) = e.next() {
                break first.file_name().to_string_lossy().into_owned();
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    assert!(
        wait_log(
            &mut child,
            &runs.join(&run).join("migrate.log"),
            "\"event\":\"advance\"",
            4
        ),
        "the run committed batches before the kill"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status_of(d, &runs, Some(&killed_db), &run), "Incomplete");
    // Cleanup: the tables are empty again (as before the run), still Incomplete.
    db_cmd(d)
        .args(["cleanup", &run, "--run-dir"])
        .arg(&runs)
        .assert()
        .success();
    for t in tables.split(',') {
        assert_eq!(
            one(&killed_db, &format!("SELECT COUNT(*) FROM {t}")),
            "0",
            "{t}"
        );
    }
    assert_eq!(status_of(d, &runs, None, &run), "Incomplete");
    let resumed = json_of(db_cmd(d).args(["resume", &run, "--run-dir"]).arg(&runs));
    assert_eq!(resumed["status"], "Completed");
    assert_same(d, &done, &killed_db, &tables, "killed, cleaned up, resumed");
}

#[test]
fn a_commit_frequency_change_takes_effect_by_the_next_batch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 53);
    let tgt = target(d, "tgt.db");
    let runs = d.join("runs");
    let manual = json_of(migrate(d, &src, &tgt, "reporting", &runs).args([
        "--execute",
        "manual",
        "--batch-rows",
        "40",
    ]));
    let run = manual["run"].as_str().unwrap().to_string();
    let plans = json_of(db_cmd(d).args(["scripts", &run, "--run-dir"]).arg(&runs));
    let plans = plans.as_array().unwrap();
    let n = plans
        .iter()
        .position(|s| s["plan"]["name"] == "CallDetail")
        .unwrap()
        + 1;
    assert!(plans[n - 1]["plan"]["expected_rows"].as_i64().unwrap() >= 300);
    for step in 1..n {
        db_cmd(d)
            .args(["exec-step", &run, &step.to_string(), "--run-dir"])
            .arg(&runs)
            .assert()
            .success();
    }
    // Bad input first.
    db_cmd(d)
        .args([
            "tune",
            &run,
            "--table",
            "NoSuchTable",
            "--commit-every",
            "5",
            "--run-dir",
        ])
        .arg(&runs)
        .assert()
        .exit(Exit::Usage);
    db_cmd(d)
        .args([
            "tune",
            &run,
            "--table",
            "CallDetail",
            "--commit-every",
            "0",
            "--run-dir",
        ])
        .arg(&runs)
        .assert()
        .exit(Exit::Usage);
    let log = runs.join(&run).join("migrate.log");
    let before = std::fs::read_to_string(&log).unwrap().len();
    let args: Vec<String> = ["db", "exec-step", &run, &n.to_string(), "--run-dir"]
        .iter()
        .map(|s| s.to_string())
        .chain([runs.display().to_string()])
        .collect();
    let mut child = spawn(d, &args, 250);
    let needle = "\"event\":\"advance\",\"task\":\"CallDetail\"";
    let seen = std::fs::read_to_string(&log)
        .unwrap()
        .matches(needle)
        .count();
    assert!(
        wait_log(&mut child, &log, needle, seen + 3),
        "CallDetail committed batches"
    );
    db_cmd(d)
        .args([
            "tune",
            &run,
            "--table",
            "CallDetail",
            "--commit-every",
            "15",
            "--run-dir",
        ])
        .arg(&runs)
        .assert()
        .success();
    assert!(child.wait().unwrap().success());
    // The commits of this invocation, in order: each `advance` is one
    // committed batch (its running total); the note marks where the writer
    // read the new frequency.
    let text = std::fs::read_to_string(&log).unwrap()[before..].to_string();
    let mut sizes_before = Vec::new();
    let mut sizes_after = Vec::new();
    let mut last = 0u64;
    let mut tuned = false;
    for line in text.lines() {
        let Some((_, json)) = line.split_once(' ') else {
            continue;
        };
        let v: Value = serde_json::from_str(json).unwrap();
        if v["event"] == "note"
            && v["text"]
                .as_str()
                .unwrap()
                .contains("CallDetail: commit every 15")
        {
            tuned = true;
        }
        if v["event"] == "advance" && v["task"] == "CallDetail" {
            let done = v["done"].as_u64().unwrap();
            if done > last {
                if tuned {
                    sizes_after.push(done - last);
                } else {
                    sizes_before.push(done - last);
                }
            }
            last = done;
        }
    }
    assert!(tuned, "the writer read the new frequency:\n{text}");
    assert!(
        sizes_before.len() >= 2 && sizes_before.iter().all(|&s| s == 40),
        "{sizes_before:?}"
    );
    assert!(!sizes_after.is_empty(), "batches after the change");
    assert!(sizes_after.iter().all(|&s| s <= 15), "{sizes_after:?}");
    assert!(sizes_after.contains(&15), "{sizes_after:?}");

    // Above the reader's batches (40 rows): the writer joins them, up to
    // the new frequency.
    let (m, next) = plans
        .iter()
        .enumerate()
        .skip(n)
        .find(|(_, s)| {
            s["plan"]["kind"] == "table" && s["plan"]["expected_rows"].as_i64().unwrap() >= 300
        })
        .map(|(i, s)| (i + 1, s["plan"]["name"].as_str().unwrap().to_string()))
        .expect("a later table step with 300 rows");
    for step in n + 1..m {
        db_cmd(d)
            .args(["exec-step", &run, &step.to_string(), "--run-dir"])
            .arg(&runs)
            .assert()
            .success();
    }
    db_cmd(d)
        .args([
            "tune",
            &run,
            "--table",
            &next,
            "--commit-every",
            "100",
            "--run-dir",
        ])
        .arg(&runs)
        .assert()
        .success();
    let before = std::fs::read_to_string(&log).unwrap().len();
    db_cmd(d)
        .args(["exec-step", &run, &m.to_string(), "--run-dir"])
        .arg(&runs)
        .assert()
        .success();
    let text = std::fs::read_to_string(&log).unwrap()[before..].to_string();
    let needle = format!("\"event\":\"advance\",\"task\":\"{next}\"");
    let mut last = 0u64;
    let mut sizes = Vec::new();
    for line in text.lines().filter(|l| l.contains(&needle)) {
        let v: Value = serde_json::from_str(line.split_once(' ').unwrap().1).unwrap();
        let done = v["done"].as_u64().unwrap();
        if done > last {
            sizes.push(done - last);
        }
        last = done;
    }
    assert!(sizes.iter().all(|&s| s <= 100), "{next}: {sizes:?}");
    assert!(sizes.iter().any(|&s| s > 40), "{next}: {sizes:?}");
}

#[test]
fn from_run_reuses_the_settings_with_a_new_range() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 54);
    let runs = d.join("runs");
    let one_run = target(d, "one.db");
    let whole = json_of(&mut migrate(d, &src, &one_run, "reporting,director", &runs));
    let sliced = target(d, "sliced.db");
    let first = json_of(
        db_cmd(d)
            .args(["migrate", "--source", &src, "--target", &sliced])
            .args(["--groups", "reporting,director", "--source-tz", NY])
            .args(["--start", "2013-03-07", "--end", "2013-03-09", "--run-dir"])
            .arg(&runs)
            .args(["--batch-rows", "700", "--jobs", "3", "--on-error", "reject"]),
    );
    let run = first["run"].as_str().unwrap();
    let second = json_of(
        db_cmd(d)
            .args([
                "migrate",
                "--from-run",
                run,
                "--start",
                "2013-03-10",
                "--end",
                "2013-03-12",
            ])
            .arg("--run-dir")
            .arg(&runs),
    );
    assert_eq!(second["status"], "Completed");
    // Options with defaults are the earlier run's too, unless given again.
    let settings = std::fs::read_to_string(
        runs.join(second["run"].as_str().unwrap())
            .join("migrate.toml"),
    )
    .unwrap();
    for line in ["batch_rows = 700", "jobs = 3"] {
        assert!(settings.contains(line), "{line} in:\n{settings}");
    }
    assert!(
        settings.contains("on_error = \"reject\""),
        "on_error in:\n{settings}"
    );
    let record = history(d, &runs, Some(&sliced))
        .into_iter()
        .find(|r| r["run"] == second["run"])
        .unwrap();
    assert_eq!(record["from_run"], run);
    assert_eq!(record["start"], "2013-03-10");
    assert_eq!(
        record["groups"],
        serde_json::json!(["reporting", "director"])
    );
    assert_same(
        d,
        &one_run,
        &sliced,
        &tables_of(&whole),
        "two slices by --from-run",
    );
    // An unknown run is a clear error.
    db_cmd(d)
        .args(["migrate", "--from-run", "migrate-nope", "--run-dir"])
        .arg(&runs)
        .assert()
        .exit(Exit::Usage);
}

/// A small deterministic generator for the kill points (its seed is in
/// every message, so a failure can be replayed).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below.max(1)
    }
}

/// Rows the newest run has committed, and its tables still open.
fn newest_run_progress(url: &str) -> (u64, u64) {
    let exists = one(
        url,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'transit_migration' AND table_name = 'copy_progress'",
    );
    if exists != "1" {
        return (0, 0);
    }
    let r = crate::db_migrate::rows(
        url,
        "SELECT CAST(COALESCE(SUM(rows_done), 0) AS bigint), CAST(COUNT(*) FILTER (WHERE done = 0) AS bigint) \
         FROM transit_migration.copy_progress WHERE run = (SELECT MAX(run) FROM transit_migration.copy_runs)",
    );
    let n = |i: usize| r[0][i].as_deref().unwrap_or("0").parse().unwrap();
    (n(0), n(1))
}

/// Starts `args` and SIGKILLs it once its run committed more than `after`
/// rows while tables remain; the run's name, or None when it ended first.
fn kill_after(d: &Path, args: &[String], url: &str, after: u64) -> Option<String> {
    let mut child = spawn(d, args, 2);
    for _ in 0..20000 {
        if child.try_wait().unwrap().is_some() {
            return None;
        }
        let (rows, open) = newest_run_progress(url);
        if rows > after && open > 0 {
            child.kill().unwrap();
            child.wait().unwrap();
            return Some(one(url, "SELECT MAX(run) FROM transit_migration.copy_runs"));
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("the migrate neither committed nor ended");
}

const KILL_GROUPS: &str = "reporting,recorder,conference,director";

fn key_map_rows(url: &str) -> String {
    one(url, "SELECT COUNT(*) FROM transit_migration.key_map")
}

#[test]
fn killed_runs_clean_up_to_pre_run_checksums_and_resume_to_clean_ones() {
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = sqlite(d, "src.db");
    db_cmd(d)
        .args(["generate", "--url", &src, "--sites", "2", "--days", "12"])
        .args([
            "--calls-per-day",
            "120",
            "--start",
            "2013-03-01",
            "--seed",
            "55",
        ])
        .assert()
        .success();
    db_cmd(d)
        .args(["repair", "--url", &src, "--delete"])
        .assert()
        .success();
    // PostgreSQL refuses the generator's NUL rows; they are not what this tests.
    exec(&src, "DELETE FROM CallDetail WHERE CallId LIKE 'HOSTILE%'");
    let range_a = ["--start", "2013-03-01", "--end", "2013-03-05"];
    let range_b = ["--start", "2013-03-06", "--end", "2013-03-12"];
    let args = |url: &str, range: [&str; 4], runs: &Path| -> Vec<String> {
        let mut v: Vec<String> = [
            "db",
            "migrate",
            "--source",
            &src,
            "--target",
            url,
            "--groups",
            KILL_GROUPS,
            "--source-tz",
            NY,
            "--batch-rows",
            "150",
            "--jobs",
            "1",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(range.iter().map(|s| s.to_string()));
        v.extend(["--run-dir".to_string(), runs.display().to_string()]);
        v
    };
    let run_to_end = |a: &[String]| {
        let out = Command::new(bin())
            .args(a)
            .args(["--json"])
            .current_dir(d)
            .env_remove("TRANSIT_SERVER_ROOT")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let dbs: Vec<crate::db_migrate::PgDb> =
        (0..3).map(|_| crate::db_migrate::PgDb::new(&pg)).collect();
    let (pre, clean, work) = (&dbs[0].url, &dbs[1].url, &dbs[2].url);
    for url in [pre, clean, work] {
        db_cmd(d)
            .args(["upgrade", "--url", url, "--to", "2015R1"])
            .assert()
            .success();
        run_to_end(&args(url, range_a, &d.join("runs-a")));
    }
    let b = run_to_end(&args(clean, range_b, &d.join("runs-clean")));
    let tables = tables_of(&b);
    let total: u64 = b["copy"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert!(total > 1000, "{total} rows in range B");

    let seed = std::process::id() as u64;
    let mut rng = Lcg(seed);
    let runs = d.join("runs-work");
    // Three kills at random points, each followed by cleanup: the tables
    // are at their checksums from before the run.
    for round in 1..=3 {
        let after = total / 10 + rng.next(total * 7 / 10);
        let Some(run) = kill_after(d, &args(work, range_b, &runs), work, after) else {
            panic!("seed {seed}, kill {round}: the run ended before {after} rows");
        };
        db_cmd(d)
            .args(["cleanup", &run, "--run-dir"])
            .arg(&runs)
            .assert()
            .success();
        assert_same(
            d,
            pre,
            work,
            &tables,
            &format!("seed {seed}, kill {round} at {after} rows, cleaned up"),
        );
        assert_eq!(
            key_map_rows(work),
            key_map_rows(pre),
            "seed {seed}, kill {round}: key map"
        );
        db_cmd(d)
            .args(["check", "--url", work, "--expect", "2015R1"])
            .assert()
            .success();
    }
    // Three kills, each followed by resume (the last to the end): the
    // clean run's checksums.
    let after = total / 10 + rng.next(total / 5);
    let run = kill_after(d, &args(work, range_b, &runs), work, after)
        .unwrap_or_else(|| panic!("seed {seed}: the run ended before {after} rows"));
    let resume: Vec<String> = ["db", "resume", &run, "--run-dir"]
        .iter()
        .map(|s| s.to_string())
        .chain([runs.display().to_string()])
        .collect();
    for share in [5, 7] {
        kill_after(d, &resume, work, total * share / 10);
    }
    run_to_end(&resume);
    assert_same(
        d,
        clean,
        work,
        &tables,
        &format!("seed {seed}: killed, resumed"),
    );
    assert_eq!(
        status_of(d, &runs, Some(work), &run),
        "Completed",
        "seed {seed}"
    );
}

#[test]
fn a_completed_run_folder_is_packed_into_an_aes_zip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 56);
    let tgt = target(d, "tgt.db");
    let runs = d.join("runs");
    let pw = "pack-Pw-7781";
    let report = json_of(
        migrate(d, &src, &tgt, "conference", &runs)
            .args(["--pack-password-env", "TRANSIT_TEST_PACK_PW"])
            .env("TRANSIT_TEST_PACK_PW", pw),
    );
    let run = report["run"].as_str().unwrap();
    let zip = runs.join(format!("{run}.zip"));
    assert!(zip.exists(), "{}", zip.display());
    // The zip holds the folder's files, encrypted: zip's reader needs the
    // password for each entry.
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip).unwrap()).unwrap();
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    for needed in [
        "migrate.toml",
        "history.json",
        "run-scripts.sh",
        "cleanup.sh",
        "migrate.log",
    ] {
        assert!(names.iter().any(|n| n == needed), "{needed} in {names:?}");
    }
    assert!(names
        .iter()
        .any(|n| n.starts_with("steps/") && n.ends_with(".sql")));
    assert!(archive.by_name("migrate.toml").is_err(), "encrypted");
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut archive
            .by_name_decrypt("migrate.toml", pw.as_bytes())
            .unwrap(),
        &mut text,
    )
    .unwrap();
    assert!(text.contains(run), "{text}");
    // A missing password variable is a clear error.
    migrate(d, &src, &target(d, "t2.db"), "conference", &runs)
        .args(["--pack-password-env", "TRANSIT_TEST_NO_SUCH_VAR"])
        .assert()
        .exit(Exit::Usage);
    let Some(sevenzip) = crate::common::tool_or_skip(&["7zz"], "apt-get install 7zip") else {
        return;
    };
    let ok = Command::new(sevenzip)
        .args(["t", &format!("-p{pw}")])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let listing = Command::new(sevenzip)
        .args(["l", "-slt", &format!("-p{pw}")])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&listing.stdout).contains("AES-256"),
        "{}",
        String::from_utf8_lossy(&listing.stdout)
    );
    let wrong = Command::new(sevenzip)
        .args(["t", "-pnot-it"])
        .arg(&zip)
        .output()
        .unwrap();
    assert!(!wrong.status.success(), "a wrong password fails");
}

#[test]
fn bad_run_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 57);
    let tgt = target(d, "tgt.db");
    let runs = d.join("runs");
    let with_runs = |args: &[&str]| {
        let mut cmd = db_cmd(d);
        cmd.args(args).arg("--run-dir").arg(&runs);
        cmd
    };
    // No such run, for every command that reads a run folder.
    for args in [
        &["scripts", "migrate-nope"][..],
        &["resume", "migrate-nope"],
        &["exec-step", "migrate-nope", "1"],
        &["cleanup", "migrate-nope"],
        &[
            "tune",
            "migrate-nope",
            "--table",
            "CallDetail",
            "--commit-every",
            "5",
        ],
    ] {
        let out = with_runs(args).assert().exit(Exit::Usage);
        assert!(
            String::from_utf8_lossy(&out.get_output().stderr)
                .contains("no migrate run `migrate-nope`"),
            "{args:?}"
        );
    }
    let done = json_of(&mut migrate(d, &src, &tgt, "conference", &runs));
    let run = done["run"].as_str().unwrap();
    with_runs(&["scripts", run, "--step", "0"])
        .assert()
        .exit(Exit::Usage);
    // A Completed run is neither cleaned up nor resumed.
    with_runs(&["cleanup", run]).assert().exit(Exit::Refused);
    with_runs(&["resume", run]).assert().exit(Exit::Refused);
    // A table the run does not copy.
    with_runs(&["tune", run, "--table", "CallDetail", "--commit-every", "5"])
        .assert()
        .exit(Exit::Usage);
    // --execute with --resume.
    db_cmd(d)
        .args([
            "migrate",
            "--source",
            &src,
            "--target",
            &tgt,
            "--groups",
            "conference",
        ])
        .args(["--start", RANGE.0, "--end", RANGE.1, "--source-tz", NY])
        .args(["--execute", "later", "--resume", run])
        .assert()
        .exit(Exit::Usage);
}

#[test]
fn from_run_brings_another_source_with_another_site_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let first = source(d, "first.db", 58);
    let second = source(d, "second.db", 59);
    let tgt = target(d, "tgt.db");
    let runs = d.join("runs");
    let a =
        json_of(migrate(d, &first, &tgt, "reporting,conference", &runs).args(["--site-id", "1"]));
    let count = |url: &str, t: &str, site: i64| -> String {
        one(
            url,
            &format!("SELECT COUNT(*) FROM {t} WHERE SiteId = {site}"),
        )
    };
    let site1: Vec<String> = ["CallDetail", "ICon_Conference"]
        .iter()
        .map(|t| count(&tgt, t, 1))
        .collect();
    // The second CIC server's database, site 2, with the first run's settings.
    let b = json_of(
        db_cmd(d)
            .args(["migrate", "--from-run", a["run"].as_str().unwrap()])
            .args(["--source", &second, "--site-id", "2", "--run-dir"])
            .arg(&runs),
    );
    assert_eq!(b["status"], "Completed");
    let many = b["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == "many-to-one")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(many.starts_with("many-to-one"), "{many}");
    // Site 2's rows validated equal to the second source's (within the
    // range), and the first source's rows are untouched.
    let validated: Vec<&str> = b["validations"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|v| assert_eq!(v["equal"], true, "{v}"))
        .map(|v| v["table"].as_str().unwrap())
        .collect();
    assert!(validated.contains(&"CallDetail"), "{validated:?}");
    for (t, before) in ["CallDetail", "ICon_Conference"].iter().zip(&site1) {
        assert_ne!(count(&tgt, t, 2), "0", "{t}");
        assert_eq!(&count(&tgt, t, 1), before, "{t}: the first source's rows");
    }
    let record = history(d, &runs, Some(&tgt))
        .into_iter()
        .find(|r| r["run"] == b["run"])
        .unwrap();
    assert!(
        record["source"].as_str().unwrap().ends_with("second.db"),
        "{record}"
    );
    assert_eq!(record["site_id"], 2);
    assert_eq!(
        record["groups"],
        serde_json::json!(["reporting", "conference"])
    );
    assert_eq!(record["from_run"], a["run"]);
}

/// The DB wizard's state machine, driven as the terminal drives it: the
/// same steps as the command line, ending with a Completed run.
#[test]
fn the_db_wizard_walks_source_to_execute() {
    use transit_wizard::db::{DbEffect, DbPage, DbWizard, KeyCode, KeyEvent, KeyModifiers};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 60);
    let tgt = target(d, "tgt.db");
    let runs = d.join("runs");
    let cancel = transit_core::CancelToken::new();
    let mut w = DbWizard::new(runs.clone());
    let key = |c: KeyCode| KeyEvent::new(c, KeyModifiers::NONE);
    let typed = |w: &mut DbWizard, text: &str| {
        for c in text.chars() {
            assert_eq!(w.handle(key(KeyCode::Char(c))), DbEffect::None);
        }
    };
    typed(&mut w, &src);
    w.handle(key(KeyCode::Tab));
    // A wrong target first: the check says so and the page stays.
    typed(&mut w, &src);
    assert_eq!(w.handle(key(KeyCode::Enter)), DbEffect::Check);
    w.perform(DbEffect::Check, &cancel);
    assert_eq!(w.page, DbPage::Check);
    assert!(!w.checked);
    assert!(
        w.report.iter().any(|l| l.contains("FAIL")),
        "{:?}",
        w.report
    );
    w.connect[1].text = tgt.clone();
    assert_eq!(w.handle(key(KeyCode::Enter)), DbEffect::Check);
    w.perform(DbEffect::Check, &cancel);
    assert!(w.checked, "{:?}", w.report);
    assert_eq!(w.handle(key(KeyCode::Enter)), DbEffect::None);
    assert_eq!(w.page, DbPage::Groups);
    // No group: refused with a message.
    w.handle(key(KeyCode::Enter));
    assert_eq!(w.page, DbPage::Groups);
    assert!(w.message.contains("at least one group"));
    let conference = w.groups.iter().position(|g| g.0 == "conference").unwrap();
    for _ in 0..conference {
        w.handle(key(KeyCode::Down));
    }
    w.handle(key(KeyCode::Char(' ')));
    w.handle(key(KeyCode::Enter));
    assert_eq!(w.page, DbPage::Filters);
    typed(&mut w, RANGE.0);
    w.handle(key(KeyCode::Tab));
    typed(&mut w, RANGE.1);
    assert_eq!(w.handle(key(KeyCode::Enter)), DbEffect::Generate);
    w.perform(DbEffect::Generate, &cancel);
    assert_eq!(w.page, DbPage::Preview, "{}", w.message);
    let run = w.run.clone().unwrap();
    assert!(
        w.steps.iter().any(|s| s.contains("ICon_Conference")),
        "{:?}",
        w.steps
    );
    assert_eq!(status_of(d, &runs, None, &run), "Ready for restart");
    assert!(transit_wizard::db::ui::lines(&w)[0].contains(&run));
    assert_eq!(w.handle(key(KeyCode::Enter)), DbEffect::Execute);
    w.perform(DbEffect::Execute, &cancel);
    assert_eq!(w.page, DbPage::Done, "{}", w.message);
    assert!(w.message.contains("Completed"), "{}", w.message);
    // The progress the terminal drew while it ran: every table to its end.
    let conference = w
        .live
        .tables
        .iter()
        .find(|t| t.table == "ICon_Conference")
        .unwrap_or_else(|| panic!("{:?}", w.live));
    assert!(conference.ended && conference.total == Some(conference.done));
    assert!(conference.done > 0);
    assert!(transit_wizard::db::ui::lines(&w)
        .iter()
        .any(|l| l.contains("ICon_Conference") && l.contains("done")));
    assert_eq!(status_of(d, &runs, None, &run), "Completed");
    assert_ne!(one(&tgt, "SELECT COUNT(*) FROM ICon_Conference"), "0");
    assert_eq!(w.handle(key(KeyCode::Esc)), DbEffect::Quit);
}

/// The step file of `table` in a run folder.
fn step_file(run_dir: &Path, table: &str) -> PathBuf {
    std::fs::read_dir(run_dir.join("steps"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "sql")
                && p.file_stem()
                    .unwrap()
                    .to_string_lossy()
                    .ends_with(&format!("-{table}"))
        })
        .unwrap_or_else(|| panic!("the step of {table} in {}", run_dir.display()))
}

/// A merged table step runs the statements its SQL file holds: a
/// statement a DBA adds between the marker lines runs for every batch, a
/// step whose markers were damaged is refused with the file's name, and
/// the staging tables are gone once the run completes.
#[test]
fn a_merged_step_runs_the_sql_its_file_holds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 61);
    let tgt = target(d, "tgt.db");
    let runs = d.join("runs");
    let range = |end: &str| {
        let mut cmd = db_cmd(d);
        cmd.args([
            "migrate",
            "--source",
            &src,
            "--target",
            &tgt,
            "--groups",
            "reporting",
        ])
        .args(["--start", "2013-03-07", "--end", end, "--source-tz", NY])
        .args(["--batch-rows", "25"])
        .arg("--run-dir")
        .arg(&runs);
        cmd
    };
    // The first days: CallDetail holds rows from now on.
    let first = json_of(&mut range("2013-03-09"));
    assert_eq!(first["status"], "Completed");
    let held: u64 = one(&tgt, "SELECT COUNT(*) FROM CallDetail")
        .parse()
        .unwrap();
    assert!(held > 0);

    // The whole range, prepared for later: its CallDetail step merges.
    let later = json_of(range("2013-03-12").args(["--execute", "later"]));
    let run = later["run"].as_str().unwrap().to_string();
    let run_dir = PathBuf::from(later["run_dir"].as_str().unwrap());
    let step = step_file(&run_dir, "CallDetail");
    let sql = std::fs::read_to_string(&step).unwrap();
    for needle in [
        transit_dbassist::copy::stage::SETUP,
        transit_dbassist::copy::stage::BATCH,
        transit_dbassist::copy::stage::COUNTED,
        transit_dbassist::copy::stage::END,
        "NOT EXISTS",
        "transit_migration_stage_",
        "transit_migration_keys_",
    ] {
        assert!(
            sql.contains(needle),
            "{needle} in {}:\n{sql}",
            step.display()
        );
    }
    // A damaged step is refused, naming its file; nothing moves.
    std::fs::write(
        &step,
        sql.replace(transit_dbassist::copy::stage::COUNTED, ""),
    )
    .unwrap();
    let out = db_cmd(d)
        .args(["resume", &run, "--run-dir"])
        .arg(&runs)
        .assert()
        .exit(Exit::Usage);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("CallDetail.sql"), "{stderr}");
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM CallDetail"),
        held.to_string()
    );
    // A DBA's statement: each batch counts its staged rows in a witness
    // table before the merge.
    let stage = sql
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.contains("transit_migration_stage_"))
                .map(|w| w.to_string())
        })
        .unwrap();
    let edited = sql
        .replacen(
            transit_dbassist::copy::stage::BATCH,
            &format!(
                "CREATE TABLE IF NOT EXISTS witness (n INTEGER);\n{}\nINSERT INTO witness SELECT COUNT(*) FROM {stage};",
                transit_dbassist::copy::stage::BATCH
            ),
            1,
        );
    // The CREATE belongs to the setup, the INSERT to each batch.
    std::fs::write(&step, &edited).unwrap();
    let done = json_of(db_cmd(d).args(["resume", &run, "--run-dir"]).arg(&runs));
    assert_eq!(done["status"], "Completed", "{done}");
    let call_detail = done["copy"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "CallDetail")
        .unwrap()
        .clone();
    assert_eq!(call_detail["mode"], "merge");
    let (rows, skipped) = (
        call_detail["rows"].as_u64().unwrap(),
        call_detail["skipped"].as_u64().unwrap(),
    );
    assert!(rows > 0 && skipped > 0, "{call_detail}");
    let batches: u64 = one(&tgt, "SELECT COUNT(*) FROM witness").parse().unwrap();
    assert!(batches > 1, "{batches} batches");
    assert_eq!(
        one(&tgt, "SELECT SUM(n) FROM witness"),
        (rows + skipped).to_string(),
        "every staged row passed the DBA's statement"
    );
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM CallDetail"),
        (held + rows).to_string()
    );
    // A completed run leaves no staging or key-record table behind.
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'transit_migration_stage_%' \
             OR name LIKE 'transit_migration_keys_%'"
        ),
        "0"
    );
}

/// Cleanup puts back what the destructive rules deleted before the copy:
/// the Tracker tables "Delete existing Tracker data" emptied and the
/// Optimizer rows of the wipe-and-load, with the target's own rows; on
/// SQLite and on PostgreSQL (where the rule drops and adds back foreign
/// keys and switches triggers off and on around its deletes).
#[test]
fn cleanup_puts_back_the_tracker_and_optimizer_rows_the_run_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 63);
    // SQLite: the target file, and a copy of it taken before the run.
    let tgt = target(d, "tgt.db");
    seed_wiped_rows(&tgt);
    let pre = sqlite(d, "pre.db");
    std::fs::copy(
        tgt.trim_start_matches("sqlite://"),
        pre.trim_start_matches("sqlite://"),
    )
    .unwrap();
    wipe_and_clean_up(d, &src, &tgt, &pre, &d.join("runs-lite"));
    // PostgreSQL: the same on a database, the copy made from it.
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let (tgt, pre) = (
        crate::db_migrate::PgDb::new(&pg),
        crate::db_migrate::PgDb::new(&pg),
    );
    for url in [&tgt.url, &pre.url] {
        db_cmd(d)
            .args(["upgrade", "--url", url, "--to", "2015R1"])
            .assert()
            .success();
    }
    seed_wiped_rows(&tgt.url);
    db_cmd(d)
        .args(["copy", "--source", &tgt.url, "--target", &pre.url])
        .args(["--tables", "TITLE,IO_SchedulingUnit", "--run-dir"])
        .arg(d.join("runs-seed"))
        .assert()
        .success();
    wipe_and_clean_up(d, &src, &tgt.url, &pre.url, &d.join("runs-pg"));
    // The foreign keys the rule dropped are back, validated.
    assert_eq!(
        one(
            &tgt.url,
            "SELECT COUNT(*) FROM pg_constraint WHERE contype = 'f' AND NOT convalidated"
        ),
        "0"
    );
    assert_ne!(
        one(
            &tgt.url,
            "SELECT COUNT(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE c.contype = 'f' AND t.relname = 'indivconnection'"
        ),
        "0"
    );
}

/// The target's own Tracker and Optimizer rows, which the rules delete.
fn seed_wiped_rows(tgt: &str) {
    for sql in [
        "INSERT INTO TITLE (TitleID, Name, Version) VALUES (900, 'Live', 1)",
        "INSERT INTO TITLE (TitleID, Name, Version) VALUES (901, 'Other', 2)",
        "INSERT INTO IO_SchedulingUnit (SchedulingUnitId, Name, SiteId) VALUES (77, 'Native', 1)",
    ] {
        exec(tgt, sql);
    }
}

/// A run with both destructive rules, stopped after its first table steps,
/// cleaned up: `tgt` equals `pre` again; then the run starts over.
fn wipe_and_clean_up(d: &Path, src: &str, tgt: &str, pre: &str, runs: &Path) {
    let tables = "TITLE,IO_SchedulingUnit";
    let later = json_of(
        migrate(d, src, tgt, "tracker-config,optimizer", runs).args([
            "--delete-tracker-data",
            "--yes",
            "--execute",
            "later",
        ]),
    );
    let run = later["run"].as_str().unwrap().to_string();
    // The prepare step deletes, the first table steps load; then the run
    // stops (as a kill would leave it).
    for step in ["1", "2", "3"] {
        db_cmd(d)
            .args(["exec-step", "--run-dir"])
            .arg(runs)
            .args([&run, step])
            .assert()
            .success();
    }
    assert_eq!(
        one(tgt, "SELECT COUNT(*) FROM TITLE WHERE TitleID >= 900"),
        "0"
    );
    assert_eq!(
        one(
            tgt,
            "SELECT COUNT(*) FROM IO_SchedulingUnit WHERE SchedulingUnitId = 77"
        ),
        "0"
    );
    let report = json_of(db_cmd(d).args(["cleanup", &run, "--run-dir"]).arg(runs));
    let restored = |t: &str| {
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["table"] == t)
            .map_or(0, |x| x["rows_restored"].as_u64().unwrap())
    };
    assert_eq!(restored("TITLE"), 2, "{report}");
    assert_eq!(restored("IO_SchedulingUnit"), 1, "{report}");
    assert_same(
        d,
        pre,
        tgt,
        tables,
        "cleaned up after the destructive rules",
    );
    // And the run can start over: it deletes again and completes.
    let done = json_of(db_cmd(d).args(["resume", &run, "--run-dir"]).arg(runs));
    assert_eq!(done["status"], "Completed", "{done}");
    assert_eq!(
        one(tgt, "SELECT COUNT(*) FROM TITLE WHERE TitleID >= 900"),
        "0"
    );
}
