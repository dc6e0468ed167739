//! `transit db migrate` on the real binary: table groups and their
//! closure, the filters, the time zone at the DST boundaries, key
//! translation (reruns insert nothing, adjacent slices equal one run,
//! two sources in one target) and one test per group rule, named after
//! the rule (`rule_<id>`). SQLite files throughout (fast), PostgreSQL for
//! the target where the server is there.

use crate::common::{transit, Exit, ExitAssert};
use serde_json::Value;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use transit_dbassist::copy::Local;
use transit_dbassist::{Db, DbTarget};
use transit_testkit::tools::env_or_skip;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub(crate) fn db_cmd(dir: &Path) -> assert_cmd::Command {
    let mut cmd = transit(&dir.join("unused-root"));
    cmd.current_dir(dir)
        .env_remove("PGPASSWORD")
        .env_remove("MYSQL_PWD")
        .arg("db");
    cmd
}

pub(crate) fn exec(url: &str, sql: &str) {
    let target = DbTarget::parse(url).unwrap();
    Local::new()
        .unwrap()
        .run(async {
            let mut db = Db::connect(&target).await?;
            db.exec(sql).await?;
            db.close().await
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

pub(crate) fn rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let target = DbTarget::parse(url).unwrap();
    Local::new()
        .unwrap()
        .run(async {
            let mut db = Db::connect(&target).await?;
            let rows = db.rows(sql).await?;
            db.close().await?;
            Ok::<_, transit_dbassist::DbError>(rows)
        })
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

pub(crate) fn one(url: &str, sql: &str) -> String {
    rows(url, sql)[0][0].clone().unwrap_or_default()
}

pub(crate) fn sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

/// A generated, repaired 3.0 source (two sites, from 2013-03-07).
pub(crate) fn source(dir: &Path, name: &str, seed: u64) -> String {
    let url = sqlite(dir, name);
    db_cmd(dir)
        .args(["generate", "--url", &url, "--sites", "2", "--days", "6"])
        .args(["--calls-per-day", "40", "--start", "2013-03-07"])
        .args(["--seed", &seed.to_string()])
        .assert()
        .success();
    db_cmd(dir)
        .args(["repair", "--url", &url, "--delete"])
        .assert()
        .success();
    url
}

/// An empty 2015 R1 target.
pub(crate) fn target(dir: &Path, name: &str) -> String {
    let url = sqlite(dir, name);
    db_cmd(dir)
        .args(["upgrade", "--url", &url, "--to", "2015R1"])
        .assert()
        .success();
    url
}

pub(crate) const NY: &str = "(GMT-05:00) Eastern Time (US & Canada)";

fn migrate(
    dir: &Path,
    src: &str,
    tgt: &str,
    groups: &str,
    range: (&str, &str),
) -> assert_cmd::Command {
    let mut cmd = db_cmd(dir);
    cmd.args([
        "migrate", "--source", src, "--target", tgt, "--groups", groups,
    ])
    .args(["--start", range.0, "--end", range.1, "--source-tz", NY]);
    cmd
}

pub(crate) fn report(cmd: &mut assert_cmd::Command) -> Value {
    let out = cmd
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn inserted(report: &Value) -> u64 {
    report["copy"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum()
}

fn rule<'a>(report: &'a Value, id: &str) -> &'a str {
    report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["rule"] == id)
        .unwrap_or_else(|| panic!("rule {id} in {}", report["rules"]))["detail"]
        .as_str()
        .unwrap()
}

const GROUPS: &str = "reporting,tracker-intx,recorder,conference,director";
const ALL_TABLES: &str =
    "CallDetail,AgentActivityLog,ILineStats,IAgentQueueStats,LineConfig,UserWorkGroups,\
ICon_Conference,ICon_Participant,Director_CallHistory,INTXSEGMENT,INTX_PARTICIPANT,INDIVIDUAL,\
IR_RecordingMedia,IR_RecordingAudit,QM_ScoreCard";

#[test]
fn reruns_insert_nothing_and_adjacent_slices_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 3);
    let sliced = target(d, "sliced.db");
    let whole = target(d, "whole.db");

    let first = report(&mut migrate(
        d,
        &src,
        &sliced,
        GROUPS,
        ("2013-03-07", "2013-03-09"),
    ));
    // Tracker Configuration is added for Tracker interactions, with why.
    let added = first["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"]["id"] == "tracker-config")
        .unwrap();
    assert_eq!(added["added_for"][0], "tracker-intx");
    assert!(inserted(&first) > 0);
    let second = report(&mut migrate(
        d,
        &src,
        &sliced,
        GROUPS,
        ("2013-03-10", "2013-03-12"),
    ));
    assert!(inserted(&second) > 0);
    // The rerun of a range inserts nothing.
    let again = report(&mut migrate(
        d,
        &src,
        &sliced,
        GROUPS,
        ("2013-03-10", "2013-03-12"),
    ));
    let current: Vec<&str> = vec![
        "LineConfig",
        "LineGroupConfig",
        "LineGroupLines",
        "UserWorkGroups",
        "AccountCodeMirror",
    ];
    for t in again["copy"]["tables"].as_array().unwrap() {
        let name = t["table"].as_str().unwrap();
        if current.contains(&name) {
            continue; // deleted and reloaded on every run, by rule
        }
        assert_eq!(t["rows"], 0, "{t}");
    }
    report(&mut migrate(
        d,
        &src,
        &whole,
        GROUPS,
        ("2013-03-07", "2013-03-12"),
    ));
    db_cmd(d)
        .args(["validate", "--source", &sliced, "--target", &whole])
        .args(["--tables", ALL_TABLES])
        .assert()
        .success();
    // The UTC columns match too (validation compares the 3.0 columns).
    let utc = "SELECT COUNT(*), SUM(odsoffset), MIN(InitiatedDateTimeUTC), MAX(InitiatedDateTimeUTC) FROM CallDetail";
    assert_eq!(rows(&sliced, utc), rows(&whole, utc));
    assert_eq!(
        one(
            &whole,
            "SELECT COUNT(*) FROM CallDetail WHERE InitiatedDateTimeUTC IS NULL"
        ),
        "0"
    );
}

#[test]
fn rule_utc_columns() {
    // Rows at both DST boundaries land on the right UTC instant.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = sqlite(d, "src.db");
    db_cmd(d)
        .args(["upgrade", "--url", &src, "--to", "3.0"])
        .assert()
        .success();
    let tgt = target(d, "tgt.db");
    let cases = [
        ("S1", "2013-03-10 01:59:59", "2013-03-10 06:59:59", -18000),
        ("S2", "2013-03-10 02:30:00", "2013-03-10 07:30:00", -18000), // missing hour: offset before
        ("S3", "2013-03-10 03:00:00", "2013-03-10 07:00:00", -14400),
        ("A1", "2013-11-03 00:59:59", "2013-11-03 04:59:59", -14400),
        ("A2", "2013-11-03 01:30:00", "2013-11-03 05:30:00", -14400), // repeated hour: the first
        ("A3", "2013-11-03 02:00:00", "2013-11-03 07:00:00", -18000),
    ];
    for (id, local, _, _) in cases {
        exec(
            &src,
            &format!(
                "INSERT INTO CallDetail (CallId, InitiatedDate, TerminatedDate, SiteId) VALUES ('{id}', '{local}', '{local}', 1)"
            ),
        );
    }
    let r = report(&mut migrate(
        d,
        &src,
        &tgt,
        "reporting",
        ("2013-03-01", "2013-11-30"),
    ));
    assert!(rule(&r, "utc-columns").contains("America/New_York"));
    for (id, _, utc, offset) in cases {
        let got = rows(
            &tgt,
            &format!("SELECT InitiatedDateTimeUTC, TerminatedDateTimeUTC, odsoffset FROM CallDetail WHERE CallId = '{id}'"),
        );
        assert_eq!(got[0][0].as_deref(), Some(utc), "{id}");
        assert_eq!(got[0][1].as_deref(), Some(utc), "{id}");
        assert_eq!(
            got[0][2].as_deref(),
            Some(offset.to_string().as_str()),
            "{id}"
        );
    }
    // The date range is UTC: a row at 19:30 local on 2013-02-28 is
    // 00:30Z on 2013-03-01, inside; 18:59 local is outside.
    let tgt2 = target(d, "tgt2.db");
    exec(&src, "INSERT INTO CallDetail (CallId, InitiatedDate, SiteId) VALUES ('IN', '2013-02-28 19:30:00', 1)");
    exec(&src, "INSERT INTO CallDetail (CallId, InitiatedDate, SiteId) VALUES ('OUT', '2013-02-28 18:59:00', 1)");
    exec(&src, "INSERT INTO CallDetail (CallId, InitiatedDate, SiteId) VALUES ('END_IN', '2013-03-09 18:59:59', 1)");
    exec(&src, "INSERT INTO CallDetail (CallId, InitiatedDate, SiteId) VALUES ('END_OUT', '2013-03-09 19:00:00', 1)");
    report(&mut migrate(
        d,
        &src,
        &tgt2,
        "reporting",
        ("2013-03-01", "2013-03-09"),
    ));
    let ids: Vec<String> = rows(&tgt2, "SELECT CallId FROM CallDetail ORDER BY CallId")
        .into_iter()
        .map(|r| r[0].clone().unwrap())
        .collect();
    // 00:00Z on the start day is 19:00 EST the day before; 24:00Z on the
    // end day is 19:00 EST on it.
    assert_eq!(ids, ["END_IN", "IN"]);
}

#[test]
fn rule_many_to_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = source(d, "a.db", 1);
    let b = source(d, "b.db", 2);
    let tgt = target(d, "tgt.db");
    let range = ("2013-03-07", "2013-03-12");
    let groups = "reporting,conference,tracker-intx";
    let ra = report(migrate(d, &a, &tgt, groups, range).args(["--site-id", "1"]));
    assert!(rule(&ra, "many-to-one").starts_with("one-to-one"));
    // Many jobs, so tables without foreign keys (INTX_PARTICIPANT) are
    // ready long before INDIVIDUAL, which waits for its own parents.
    let rb = report(migrate(d, &b, &tgt, groups, range).args(["--site-id", "2", "--jobs", "8"]));
    assert!(
        rule(&rb, "many-to-one").starts_with("many-to-one"),
        "{}",
        rb["rules"]
    );
    // No collisions: every conference of both sources is there, its
    // participants point at it, and B's keys were translated.
    let count = |url: &str, site: i64| {
        one(
            url,
            &format!("SELECT COUNT(*) FROM ICon_Conference WHERE SiteId = {site}"),
        )
    };
    assert_eq!(count(&tgt, 1), count(&a, 1));
    assert_eq!(count(&tgt, 2), count(&b, 2));
    assert_ne!(count(&tgt, 2), "0");
    // Tracker Configuration ignores the site filter: B's individuals
    // collide with A's and get new keys, and B's interactions follow them.
    let moved = one(
        &tgt,
        "SELECT COUNT(*) FROM transit_migration_key_map WHERE tbl = 'INDIVIDUAL' AND src_key <> tgt_key",
    );
    assert_ne!(moved, "0");
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM INDIVIDUAL"),
        (one(&a, "SELECT COUNT(*) FROM INDIVIDUAL")
            .parse::<i64>()
            .unwrap()
            + one(&b, "SELECT COUNT(*) FROM INDIVIDUAL")
                .parse::<i64>()
                .unwrap())
        .to_string()
    );
    assert!(
        rb["not_validated"].to_string().contains("INDIVIDUAL"),
        "{}",
        rb["not_validated"]
    );
    let dangling = one(
        &tgt,
        "SELECT COUNT(*) FROM INTX_PARTICIPANT p LEFT JOIN INDIVIDUAL i ON i.IndivID = p.IndivID WHERE p.IndivID IS NOT NULL AND i.IndivID IS NULL",
    );
    assert_eq!(dangling, "0");
    // And each points at the right agent: B's participants name the same
    // ICUserIDs in the target as in B.
    let people = |url: &str| {
        rows(
            url,
            "SELECT p.InteractionIDKey, p.Role, i.ICUserID FROM INTX_PARTICIPANT p \
             LEFT JOIN INDIVIDUAL i ON i.IndivID = p.IndivID WHERE p.SiteId = 2 \
             ORDER BY 1, 2, 3",
        )
    };
    let in_b = people(&b);
    assert!(!in_b.is_empty());
    assert_eq!(people(&tgt), in_b);
    let orphans = one(
        &tgt,
        "SELECT COUNT(*) FROM ICon_Participant p JOIN ICon_Conference c ON c.ConferenceId = p.ConferenceId WHERE c.SiteId <> p.SiteId",
    );
    assert_eq!(orphans, "0");
    // A rerun of B inserts nothing.
    let again = report(migrate(d, &b, &tgt, groups, range).args(["--site-id", "2"]));
    for t in again["copy"]["tables"].as_array().unwrap() {
        if !t["table"].as_str().unwrap().contains("Line")
            && !["UserWorkGroups", "AccountCodeMirror"].contains(&t["table"].as_str().unwrap())
        {
            assert_eq!(t["rows"], 0, "{t}");
        }
    }
    // The refusals, each quoting the reference.
    let out = migrate(d, &b, &tgt, "survey", range)
        .args(["--site-id", "2"])
        .assert()
        .exit(Exit::Refused);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(
        err.contains("surveys have no distinguishing column for site ID"),
        "{err}"
    );
    let out = migrate(d, &b, &tgt, "optimizer", range)
        .args(["--site-id", "2", "--yes"])
        .assert()
        .exit(Exit::Refused);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("supports one-to-one migrations only"), "{err}");
    let out = migrate(d, &b, &tgt, "reporting", range)
        .args(["--site-id", "1"])
        .assert()
        .exit(Exit::Refused);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("site ID 1 was already migrated"), "{err}");
    assert!(err.contains("have different site IDs"), "{err}");
}

#[test]
fn filters_children_inherit_and_conference_ignores_dates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 4);
    let tgt = target(d, "tgt.db");
    report(
        migrate(
            d,
            &src,
            &tgt,
            "recorder,conference",
            ("2013-03-08", "2013-03-08"),
        )
        .args(["--site-id", "2"]),
    );
    // Conference ignores the dates: every site-2 conference came.
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM ICon_Conference"),
        one(
            &src,
            "SELECT COUNT(*) FROM ICon_Conference WHERE SiteId = 2"
        )
    );
    // Recordings: one day of site 2; every audit row of those recordings
    // came, whatever its own date (30 days later).
    let recs = one(&tgt, "SELECT COUNT(*) FROM IR_RecordingMedia");
    assert_ne!(recs, "0");
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM IR_RecordingMedia WHERE SiteId <> 2"
        ),
        "0"
    );
    let audits_src = one(
        &src,
        "SELECT COUNT(*) FROM IR_RecordingAudit a JOIN IR_RecordingMedia m ON m.RecordingId = a.RecordingId \
         WHERE m.SiteId = 2 AND m.RecordingDate >= '2013-03-07 19:00:00' AND m.RecordingDate < '2013-03-08 19:00:00'",
    );
    assert_ne!(audits_src, "0");
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM IR_RecordingAudit"),
        audits_src
    );
    assert_ne!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM IR_RecordingAudit WHERE AuditDate >= '2013-03-08 19:00:00'"
        ),
        "0",
        "audit rows dated after the range follow their recording"
    );
}

#[test]
fn bad_migrate_input_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tgt = target(d, "tgt.db");
    let src = sqlite(d, "src.db");
    db_cmd(d)
        .args(["upgrade", "--url", &src, "--to", "3.0"])
        .assert()
        .success();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let out = migrate(d, &src, &tgt, "reporting", ("2013-01-01", &today))
        .assert()
        .exit(Exit::Refused);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("includes today"));
    let out = db_cmd(d)
        .args([
            "migrate",
            "--source",
            &src,
            "--target",
            &tgt,
            "--groups",
            "reporting",
        ])
        .args([
            "--start",
            "2013-01-01",
            "--end",
            "2013-01-02",
            "--source-tz",
            "(GMT-05:00) Atlantis",
        ])
        .assert()
        .exit(Exit::Usage);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("not an IANA zone"));
    let out = migrate(d, &src, &tgt, "reportng", ("2013-01-01", "2013-01-02"))
        .assert()
        .exit(Exit::Usage);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("no table group `reportng`"));
    let out = migrate(d, &src, &tgt, "dialer", ("2013-01-01", "2013-01-02"))
        .assert()
        .exit(Exit::Usage);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("needs --dialer-config"));
    // A Dialer configuration that is no XML, and a picker that names no
    // workflow: refused before anything changes.
    std::fs::write(d.join("bad.xml"), "<DialerConfig><Workflow Name=").unwrap();
    let out = migrate(d, &src, &tgt, "dialer", ("2013-01-01", "2013-01-02"))
        .args(["--dialer-config", "bad.xml"])
        .assert()
        .exit(Exit::Usage);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("--dialer-config bad.xml"));
    std::fs::write(d.join("dialer_config.xml"), DIALER_CONFIG).unwrap();
    let out = migrate(d, &src, &tgt, "dialer", ("2013-01-01", "2013-01-02"))
        .args([
            "--dialer-config",
            "dialer_config.xml",
            "--workflows",
            "Salse",
        ])
        .assert()
        .exit(Exit::Usage);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("no workflow `Salse`"));
    let out = migrate(d, &src, &tgt, "reporting", ("2013-01-01", "2013-01-02"))
        .args(["--dialer-config", "dialer_config.xml"])
        .assert()
        .exit(Exit::Usage);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("is for the dialer group"));
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM CallHistory"),
        "0",
        "nothing changed"
    );
    // Source and target the wrong way round: the check before refuses.
    migrate(d, &tgt, &src, "reporting", ("2013-01-01", "2013-01-02"))
        .assert()
        .exit(Exit::DbVersion);
}

#[test]
fn rule_delete_existing_tracker_data() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 5);
    let tgt = target(d, "tgt.db");
    // The target has live interactions: refused, nothing deleted.
    exec(
        &tgt,
        "INSERT INTO TITLE (TitleID, Name, Version) VALUES (900, 'Live', 1)",
    );
    exec(
        &tgt,
        "INSERT INTO INTXSEGMENT (InteractionIDKey, SegmentSeq, SiteId) VALUES ('LIVE', 1, 9)",
    );
    let out = migrate(
        d,
        &src,
        &tgt,
        "tracker-config",
        ("2013-03-07", "2013-03-08"),
    )
    .arg("--delete-tracker-data")
    .assert()
    .exit(Exit::Refused);
    let err = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(err.contains("INTXSEGMENT holds 1 row"), "{err}");
    assert!(
        err.contains("preserve live 2015 R1 or later production data"),
        "{err}"
    );
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM TITLE WHERE TitleID = 900"),
        "1"
    );
    // Without them: deleted in the vendor's order, then loaded.
    exec(&tgt, "DELETE FROM INTXSEGMENT");
    let r = report(
        migrate(
            d,
            &src,
            &tgt,
            "tracker-config",
            ("2013-03-07", "2013-03-08"),
        )
        .arg("--delete-tracker-data"),
    );
    assert!(rule(&r, "delete-existing-tracker-data")
        .contains("INDIVCONNECTION, INDIVIDUAL, LOCATION, ORGANIZATION, ADDRTYPE"));
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM TITLE WHERE TitleID = 900"),
        "0"
    );
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM INDIVIDUAL"),
        one(&src, "SELECT COUNT(*) FROM INDIVIDUAL")
    );
    // Offered on the first run only.
    let out = migrate(
        d,
        &src,
        &tgt,
        "tracker-config",
        ("2013-03-07", "2013-03-08"),
    )
    .arg("--delete-tracker-data")
    .assert()
    .exit(Exit::Refused);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("first migration run only"));
}

#[test]
fn rule_tracker_difference_report_and_rule_tracker_update() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 6);
    let tgt = target(d, "tgt.db");
    let range = ("2013-03-07", "2013-03-08");
    let first = report(&mut migrate(d, &src, &tgt, "tracker-config", range));
    assert_eq!(first["tracker_changes"].as_array().unwrap().len(), 0);
    // Two rows change in the source; one new row appears.
    exec(&src, "UPDATE INDIVIDUAL SET Version = Version + 1, LastName = 'Changed', FirstName = 'Ann' WHERE IndivID = 3");
    exec(&src, "UPDATE INDIVIDUAL SET Version = Version + 1, LastName = NULL, FirstName = NULL WHERE IndivID = 5");
    exec(
        &src,
        "INSERT INTO INDIVIDUAL (IndivID, LastName, Version) VALUES (9999, 'New', 1)",
    );
    let r =
        report(migrate(d, &src, &tgt, "tracker-config", range).args(["--tracker-update", "none"]));
    let changes = r["tracker_changes"].as_array().unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0]["name"], "Changed, Ann");
    let icuser = one(&src, "SELECT ICUserID FROM INDIVIDUAL WHERE IndivID = 5");
    assert_eq!(changes[1]["name"].as_str().unwrap(), icuser);
    // New rows always migrate; changed ones only when selected.
    assert_eq!(
        one(&tgt, "SELECT LastName FROM INDIVIDUAL WHERE IndivID = 9999"),
        "New"
    );
    assert_ne!(
        one(&tgt, "SELECT LastName FROM INDIVIDUAL WHERE IndivID = 3"),
        "Changed"
    );
    // The update step (the last rule) writes the selected one.
    let r = report(migrate(d, &src, &tgt, "tracker-config", range).args(["--tracker-update", "3"]));
    assert_eq!(
        r["rules"].as_array().unwrap().last().unwrap()["rule"],
        "tracker-update"
    );
    assert_eq!(
        one(&tgt, "SELECT LastName FROM INDIVIDUAL WHERE IndivID = 3"),
        "Changed"
    );
    assert_eq!(
        one(&tgt, "SELECT Version FROM INDIVIDUAL WHERE IndivID = 3"),
        one(&src, "SELECT Version FROM INDIVIDUAL WHERE IndivID = 3")
    );
    let r =
        report(migrate(d, &src, &tgt, "tracker-config", range).args(["--tracker-update", "all"]));
    assert_eq!(r["tracker_changes"].as_array().unwrap().len(), 1);
    assert!(rule(&r, "tracker-update").starts_with("updated 1"));
    let r = report(&mut migrate(d, &src, &tgt, "tracker-config", range));
    assert_eq!(r["tracker_changes"].as_array().unwrap().len(), 0);
}

#[test]
fn rule_optimizer_wipe_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 7);
    let tgt = target(d, "tgt.db");
    let range = ("2013-03-07", "2013-03-08");
    exec(
        &tgt,
        "INSERT INTO IO_SchedulingUnit (SchedulingUnitId, Name, SiteId) VALUES (77, 'Native', 1)",
    );
    let out = migrate(d, &src, &tgt, "optimizer", range)
        .assert()
        .exit(Exit::Refused);
    assert!(String::from_utf8_lossy(&out.get_output().stderr).contains("confirm with --yes"));
    assert_eq!(one(&tgt, "SELECT COUNT(*) FROM IO_SchedulingUnit"), "1");
    let r = report(migrate(d, &src, &tgt, "optimizer", range).arg("--yes"));
    assert!(rule(&r, "optimizer-wipe-and-load").starts_with("deleted 1 "));
    // All rows, whatever the range: Optimizer ignores the filters.
    for t in ["IO_SchedulingUnit", "IO_Schedule", "IO_ScheduleAgent"] {
        let q = format!("SELECT COUNT(*) FROM {t}");
        assert_eq!(one(&tgt, &q), one(&src, &q), "{t}");
    }
    // A resumed run does not wipe a second time.
    let run = r["run"].as_str().unwrap();
    let again = report(migrate(d, &src, &tgt, "optimizer", range).args(["--yes", "--resume", run]));
    assert_eq!(
        rule(&again, "optimizer-wipe-and-load"),
        "wiped earlier in this run; not again"
    );
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM IO_ScheduleAgent"),
        one(&src, "SELECT COUNT(*) FROM IO_ScheduleAgent")
    );
}

#[test]
fn rule_current_state_reload() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 8);
    let tgt = target(d, "tgt.db");
    let range = ("2013-03-07", "2013-03-08");
    // A target-native line of another site stays; a stale line of site 1
    // is deleted and the source's lines are loaded again.
    exec(
        &tgt,
        "INSERT INTO LineConfig (LineId, SiteId, LineType) VALUES ('native', 9, 'SIP')",
    );
    exec(
        &tgt,
        "INSERT INTO LineConfig (LineId, SiteId, LineType) VALUES ('stale', 1, 'SIP')",
    );
    let r = report(&mut migrate(d, &src, &tgt, "reporting", range));
    assert!(
        rule(&r, "current-state-reload").contains("LineConfig (site 1, 2)"),
        "{}",
        r["rules"]
    );
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM LineConfig WHERE LineId = 'stale'"
        ),
        "0"
    );
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM LineConfig WHERE LineId = 'native'"
        ),
        "1"
    );
    exec(&src, "UPDATE LineConfig SET LineType = 'Analog'");
    report(&mut migrate(d, &src, &tgt, "reporting", range));
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM LineConfig WHERE LineType = 'Analog'"
        ),
        one(&src, "SELECT COUNT(*) FROM LineConfig")
    );
}

#[test]
fn rule_service_level_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 10);
    let a = target(d, "a.db");
    report(&mut migrate(
        d,
        &src,
        &a,
        "reporting",
        ("2013-03-07", "2013-03-07"),
    ));
    assert_eq!(
        one(&a, "SELECT COUNT(*) FROM IAgentQueueStats WHERE nServiceLevel1 = 10 AND nServiceLevel4 = 60"),
        one(&a, "SELECT COUNT(*) FROM IAgentQueueStats")
    );
    let b = target(d, "b.db");
    report(
        migrate(d, &src, &b, "reporting", ("2013-03-07", "2013-03-07"))
            .args(["--service-level", "nServiceLevel1=15"]),
    );
    assert_eq!(
        one(&b, "SELECT MIN(nServiceLevel1) FROM IWrkgrpQueueStats"),
        "15"
    );
    assert_eq!(
        one(&b, "SELECT MAX(nServiceLevel2) FROM IWrkgrpQueueStats"),
        "20"
    );
}

#[test]
fn rule_recording_paths_and_rule_conference_site_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 11);
    let tgt = target(d, "tgt.db");
    let uri = one(&src, "SELECT MediaUri FROM IR_RecordingMedia LIMIT 1");
    let (prefix, _) = uri.split_at(uri.find('/').map_or(3, |i| i + 1));
    let map = format!("{prefix}=//nas/recordings/");
    let r = report(
        migrate(
            d,
            &src,
            &tgt,
            "recorder,conference",
            ("2013-03-07", "2013-03-12"),
        )
        .args(["--recording-path-map", &map, "--conference-site-id", "2=7"]),
    );
    assert!(rule(&r, "recording-paths").contains("files themselves are not moved"));
    assert_eq!(
        one(
            &tgt,
            &format!("SELECT COUNT(*) FROM IR_RecordingMedia WHERE MediaUri LIKE '{prefix}%'")
        ),
        "0"
    );
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM IR_RecordingMedia WHERE MediaUri LIKE '//nas/recordings/%'"
        ),
        one(&tgt, "SELECT COUNT(*) FROM IR_RecordingMedia")
    );
    // A NEW that starts with its OLD, run twice: each path is rewritten
    // once. Two maps that would chain (P=Pold/, Pold/=/elsewhere/): a
    // path is rewritten by one map only.
    let count = |url: &str, like: &str| {
        one(
            url,
            &format!("SELECT COUNT(*) FROM IR_RecordingMedia WHERE MediaUri LIKE '{like}%'"),
        )
    };
    let range = ("2013-03-07", "2013-03-12");
    let tgt2 = target(d, "tgt2.db");
    for _ in 0..2 {
        migrate(d, &src, &tgt2, "recorder", range)
            .args(["--recording-path-map", &format!("{prefix}={prefix}old/")])
            .assert()
            .success();
    }
    let total = one(&tgt2, "SELECT COUNT(*) FROM IR_RecordingMedia");
    assert_ne!(total, "0");
    assert_eq!(count(&tgt2, &format!("{prefix}old/")), total);
    assert_eq!(count(&tgt2, &format!("{prefix}old/old/")), "0");
    let tgt3 = target(d, "tgt3.db");
    migrate(d, &src, &tgt3, "recorder", range)
        .args(["--recording-path-map", &format!("{prefix}={prefix}old/")])
        .args(["--recording-path-map", &format!("{prefix}old/=/elsewhere/")])
        .assert()
        .success();
    assert_eq!(count(&tgt3, &format!("{prefix}old/")), total);
    assert!(rule(&r, "conference-site-id").starts_with("IConSiteID: site ID 2 -> 7"));
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM ICon_Conference WHERE SiteId = 2"
        ),
        "0"
    );
    assert_eq!(
        one(
            &tgt,
            "SELECT COUNT(*) FROM ICon_Conference WHERE SiteId = 7"
        ),
        one(
            &src,
            "SELECT COUNT(*) FROM ICon_Conference WHERE SiteId = 2"
        )
    );
}

#[test]
fn rule_duplicate_users() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 12);
    let tgt = target(d, "tgt.db");
    let user = one(
        &src,
        "SELECT ICUserID FROM INDIVIDUAL WHERE ICUserID IS NOT NULL ORDER BY IndivID LIMIT 1",
    );
    // The target already knew this user under a low ID.
    exec(&tgt, &format!("INSERT INTO INDIVIDUAL (IndivID, ICUserID, LastName, Version) VALUES (0, '{user}', 'Native', 1)"));
    let r = report(&mut migrate(
        d,
        &src,
        &tgt,
        "tracker-intx",
        ("2013-03-07", "2013-03-08"),
    ));
    let merged = rule(&r, "duplicate-users");
    assert!(
        merged.starts_with("merged ") && !merged.starts_with("merged 0 "),
        "{merged}"
    );
    assert_eq!(
        one(
            &tgt,
            &format!("SELECT COUNT(*) FROM INDIVIDUAL WHERE ICUserID = '{user}'")
        ),
        "1"
    );
    assert_eq!(
        one(&tgt, "SELECT COUNT(*) FROM INTX_PARTICIPANT p LEFT JOIN INDIVIDUAL i ON i.IndivID = p.IndivID WHERE p.IndivID IS NOT NULL AND i.IndivID IS NULL"),
        "0"
    );
}

#[test]
fn migrates_into_postgresql() {
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 13);
    let name = format!(
        "transit_m_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    exec(&pg, &format!("CREATE DATABASE \"{name}\""));
    let base = pg.rsplit_once('/').unwrap().0;
    let tgt = format!("{base}/{name}");
    let result = std::panic::catch_unwind(|| {
        db_cmd(d)
            .args(["upgrade", "--url", &tgt, "--to", "2015R1"])
            .assert()
            .success();
        let groups = "reporting,tracker-intx,recorder,conference,director,optimizer";
        // PostgreSQL cannot hold the generator's NUL character: rejected,
        // with the database's error, and taken out of the validation.
        let first = report(
            migrate(d, &src, &tgt, groups, ("2013-03-07", "2013-03-12")).args([
                "--yes",
                "--on-error",
                "reject",
            ]),
        );
        let rejected: u64 = first["copy"]["tables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["rejected"].as_u64().unwrap())
            .sum();
        assert_eq!(rejected, 2, "{}", first["copy"]);
        assert!(inserted(&first) > 0);
        assert_eq!(
            one(&tgt, "SELECT COUNT(*) FROM calldetail WHERE initiateddatetimeutc IS NULL OR odsoffset IS NULL"),
            "0"
        );
        let again = report(
            migrate(
                d,
                &src,
                &tgt,
                "reporting,tracker-intx,recorder",
                ("2013-03-07", "2013-03-12"),
            )
            .args(["--on-error", "reject"]),
        );
        for t in again["copy"]["tables"].as_array().unwrap() {
            let n = t["table"].as_str().unwrap();
            if !n.contains("Line") && n != "UserWorkGroups" && n != "AccountCodeMirror" {
                assert_eq!(t["rows"], 0, "{t}");
            }
        }
    });
    exec(
        &pg,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    );
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn migrates_into_mariadb() {
    let Some(my) = env_or_skip("TRANSIT_TEST_MYSQL", "a MariaDB URL, as .ci/run sets") else {
        return;
    };
    exec(&my, "SET GLOBAL local_infile = 1");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 14);
    let name = format!(
        "transit_m_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    exec(
        &my,
        &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
    );
    let base = my.rsplit_once('/').unwrap().0;
    let tgt = format!("{base}/{name}");
    let result = std::panic::catch_unwind(|| {
        db_cmd(d)
            .args(["upgrade", "--url", &tgt, "--to", "2015R1"])
            .assert()
            .success();
        let groups = "reporting,tracker-intx,recorder,conference";
        let range = ("2013-03-09", "2013-03-11");
        let first = report(
            migrate(d, &src, &tgt, groups, range)
                .args(["--on-error", "reject"])
                .args(["--service-level", "nServiceLevel1=12"]),
        );
        assert!(inserted(&first) > 0);
        assert_eq!(
            one(&tgt, "SELECT COUNT(*) FROM CallDetail WHERE InitiatedDateTimeUTC IS NULL OR odsoffset IS NULL"),
            "0"
        );
        // 2013-03-10 is the spring change in New York: both offsets are there.
        assert_eq!(
            one(&tgt, "SELECT COUNT(DISTINCT odsoffset) FROM CallDetail"),
            "2"
        );
        assert_eq!(
            one(&tgt, "SELECT MIN(nServiceLevel1) FROM IAgentQueueStats"),
            "12"
        );
        let again = report(migrate(d, &src, &tgt, groups, range).args(["--on-error", "reject"]));
        for t in again["copy"]["tables"].as_array().unwrap() {
            let n = t["table"].as_str().unwrap();
            if !n.contains("Line") && n != "UserWorkGroups" && n != "AccountCodeMirror" {
                assert_eq!(t["rows"], 0, "{t}");
            }
        }
    });
    exec(&my, &format!("DROP DATABASE IF EXISTS `{name}`"));
    // The server-wide state database keeps no rows of the dropped one.
    for t in ["key_map", "migrate_sources"] {
        exec(
            &my,
            &format!("DELETE FROM transit_migration.{t} WHERE source LIKE '{name}:%'"),
        );
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// Three workflows: Sales (active), Collect (paused, off, another data
/// source) and Ghost (deleted, its tables were purged).
const DIALER_CONFIG: &str = r#"<?xml version="1.0"?>
<DialerConfig Server="CIC01">
  <Workflows>
    <Workflow Name="Sales" Status="Active" DataSource="ContactsA"/>
    <Workflow Name="Collect" Status="Off" Paused="true" DataSource="ContactsB"/>
    <Workflow Name="Ghost" Status="Completed" Deleted="true" DataSource="ContactsA"/>
  </Workflows>
</DialerConfig>
"#;

/// Source rows of a workflow table in the New York window of
/// 2013-03-07..2013-03-09 (all EST: before the spring change).
fn dialer_expected(src: &str, table: &str, col: &str) -> String {
    one(
        src,
        &format!(
            "SELECT COUNT(*) FROM {table} WHERE {col} >= '2013-03-06 19:00:00' AND {col} < '2013-03-09 19:00:00'"
        ),
    )
}

/// The `dialer` group into `tgt` (any engine): the picker, the consolidation
/// with the date filter, the UTC columns, the missing workflow reported, a
/// rerun inserting nothing and the next slice adding the rest.
fn check_dialer_consolidation(d: &Path, src: &str, tgt: &str) {
    std::fs::write(d.join("dialer_config.xml"), DIALER_CONFIG).unwrap();
    let range = ("2013-03-07", "2013-03-09");
    let first = report(
        migrate(d, src, tgt, "dialer", range)
            .args(["--dialer-config", "dialer_config.xml"])
            .args(["--workflows", "status=active,paused,deleted"]),
    );
    let dialer = &first["dialer"];
    let picked: Vec<&str> = dialer["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(picked, ["Sales", "Collect", "Ghost"]);
    // The purged workflow's tables are reported, not fatal.
    assert_eq!(
        dialer["missing"],
        serde_json::json!(["I3_GHOST_CH0", "I3_GHOST_AS0"])
    );
    assert!(rule(&first, "dialer-consolidation").contains("missing in the source"));
    let mut total = 0;
    for (wf, prefix) in [("Sales", "I3_SALES"), ("Collect", "I3_COLLECT")] {
        for (suffix, target, col) in [
            ("_CH0", "CallHistory", "CallTime"),
            ("_AS0", "AgentStats", "AgentTime"),
        ] {
            let want = dialer_expected(src, &format!("{prefix}{suffix}"), col);
            let got = one(
                tgt,
                &format!("SELECT COUNT(*) FROM {target} WHERE DialerWorkflow = '{wf}'"),
            );
            assert_eq!(got, want, "{wf} {target}");
            assert_ne!(want, "0", "{prefix}{suffix} has rows in the range");
            total += want.parse::<u64>().unwrap();
        }
    }
    assert_eq!(dialer["rows"], total);
    for (target, key, col) in [
        ("CallHistory", "CallHistoryId", "CallTime"),
        ("AgentStats", "AgentStatsId", "AgentTime"),
    ] {
        // The workflows' keys collide (each starts at 1): consolidated, they
        // are distinct.
        assert_eq!(
            one(tgt, &format!("SELECT COUNT(DISTINCT {key}) FROM {target}")),
            one(tgt, &format!("SELECT COUNT(*) FROM {target}"))
        );
        // EST in the whole range: UTC is local + 5 h.
        assert_eq!(
            one(
                tgt,
                &format!(
                    "SELECT COUNT(*) FROM {target} WHERE {col}UTC IS NULL OR odsoffset <> -18000"
                )
            ),
            "0"
        );
        let row = &rows(
            tgt,
            &format!(
                "SELECT {}, {} FROM {target} ORDER BY {key}",
                text_of(tgt, col),
                text_of(tgt, &format!("{col}UTC"))
            ),
        )[0];
        let local = row[0].clone().unwrap();
        let utc = row[1].clone().unwrap();
        let parse = |t: &str| {
            time::PrimitiveDateTime::parse(
                &t[..19],
                time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
            )
            .unwrap()
        };
        assert_eq!(
            parse(&utc) - parse(&local),
            time::Duration::hours(5),
            "{target}"
        );
    }
    // A rerun of the same range inserts nothing.
    let again = report(migrate(d, src, tgt, "dialer", range).args([
        "--dialer-config",
        "dialer_config.xml",
        "--workflows",
        "all",
    ]));
    assert_eq!(again["dialer"]["rows"], 0, "{}", again["dialer"]);
    // Picking by data source: the next slice of ContactsB's workflow only.
    let next = report(
        migrate(d, src, tgt, "dialer", ("2013-03-10", "2013-03-12")).args([
            "--dialer-config",
            "dialer_config.xml",
            "--workflows",
            "source=ContactsB",
        ]),
    );
    let picked: Vec<&str> = next["dialer"]["workflows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(picked, ["Collect"]);
    assert!(next["dialer"]["rows"].as_u64().unwrap() > 0);
    assert_eq!(
        one(tgt, "SELECT COUNT(*) FROM CallHistory WHERE DialerWorkflow = 'Collect'"),
        one(src, "SELECT COUNT(*) FROM I3_COLLECT_CH0 WHERE CallTime >= '2013-03-06 19:00:00' AND CallTime < '2013-03-12 20:00:00'")
    );
    // The spring change (2013-03-10) is inside: both offsets are there.
    assert_eq!(
        one(
            tgt,
            "SELECT COUNT(DISTINCT odsoffset) FROM CallHistory WHERE DialerWorkflow = 'Collect'"
        ),
        "2"
    );
}

/// A timestamp column as `YYYY-MM-DD hh:mm:ss` text on any engine.
fn text_of(url: &str, col: &str) -> String {
    if url.starts_with("postgres") {
        format!("CAST({col} AS text)")
    } else if url.starts_with("mysql") {
        format!("CAST({col} AS CHAR)")
    } else {
        col.to_string()
    }
}

#[test]
fn rule_dialer_consolidation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 21);
    let tgt = target(d, "tgt.db");
    check_dialer_consolidation(d, &src, &tgt);
}

#[test]
fn rule_dialer_consolidation_into_postgresql() {
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 22);
    let name = format!(
        "transit_m_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    exec(&pg, &format!("CREATE DATABASE \"{name}\""));
    let tgt = format!("{}/{name}", pg.rsplit_once('/').unwrap().0);
    let result = std::panic::catch_unwind(|| {
        db_cmd(d)
            .args(["upgrade", "--url", &tgt, "--to", "2015R1"])
            .assert()
            .success();
        check_dialer_consolidation(d, &src, &tgt);
    });
    exec(
        &pg,
        &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
    );
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

#[test]
fn rule_dialer_consolidation_into_mariadb() {
    let Some(my) = env_or_skip("TRANSIT_TEST_MYSQL", "a MariaDB URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 23);
    let name = format!(
        "transit_m_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    exec(
        &my,
        &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
    );
    let tgt = format!("{}/{name}", my.rsplit_once('/').unwrap().0);
    let result = std::panic::catch_unwind(|| {
        db_cmd(d)
            .args(["upgrade", "--url", &tgt, "--to", "2015R1"])
            .assert()
            .success();
        check_dialer_consolidation(d, &src, &tgt);
    });
    exec(&my, &format!("DROP DATABASE IF EXISTS `{name}`"));
    for t in ["key_map", "migrate_sources"] {
        exec(
            &my,
            &format!("DELETE FROM transit_migration.{t} WHERE source LIKE '{name}:%'"),
        );
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// A PostgreSQL database for one test, dropped (with its connections) at
/// the end.
pub(crate) struct PgDb {
    admin: String,
    name: String,
    pub(crate) url: String,
}

impl PgDb {
    pub(crate) fn new(admin: &str) -> PgDb {
        let name = format!(
            "transit_m_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        exec(admin, &format!("CREATE DATABASE \"{name}\""));
        let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
        PgDb {
            admin: admin.to_string(),
            name,
            url,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        exec(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// Rows the copy has committed in `url` (0 before its state exists).
fn committed(url: &str) -> (u64, u64) {
    let exists = one(
        url,
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'transit_migration' AND table_name = 'copy_progress'",
    );
    if exists != "1" {
        return (0, 0);
    }
    let r = &rows(
        url,
        "SELECT CAST(COALESCE(SUM(rows_done), 0) AS bigint), CAST(COUNT(*) FILTER (WHERE done = 0) AS bigint) FROM transit_migration.copy_progress",
    )[0];
    let n = |i: usize| r[i].as_deref().unwrap_or("0").parse().unwrap();
    (n(0), n(1))
}

const KILL_GROUPS: &str = "reporting,recorder,conference,director";
const KILL_TABLES: &str = "CallDetail,AgentActivityLog,AgentQueueActivationHist,IACChangeLog,\
ICDirChangeLog,ILineGroupStats,ILineStats,IVRInterval,IAgentQueueStats,IWrkgrpQueueStats,\
IStatsGroup,LineConfig,LineGroupConfig,LineGroupLines,UserWorkGroups,AccountCodeMirror,\
IR_RecordingMedia,IR_RecordingAudit,ICon_Conference,ICon_Participant,Director_CallHistory";

fn kill_args(src: &str, tgt: &str, runs: &Path) -> Vec<String> {
    [
        "db",
        "migrate",
        "--source",
        src,
        "--target",
        tgt,
        "--groups",
        KILL_GROUPS,
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(
        [
            "--start",
            "2013-03-01",
            "--end",
            "2013-03-20",
            "--source-tz",
            NY,
            "--batch-rows",
            "500",
            "--jobs",
            "1",
            "--on-error",
            "reject",
        ]
        .iter()
        .map(|s| s.to_string()),
    )
    .chain(["--run-dir".into(), runs.display().to_string()])
    .collect()
}

/// Starts a migrate and SIGKILLs it once the target has committed more
/// than `after` rows (polled from the progress table) while tables remain
/// to copy; returns false when the migrate ended before that.
fn kill_when_committed(d: &Path, args: &[String], tgt: &str, after: u64) -> bool {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .args(args)
        .current_dir(d)
        .env_remove("TRANSIT_SERVER_ROOT")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..6000 {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let (rows, open) = committed(tgt);
        if rows > after && open > 0 {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the migrate neither committed nor ended");
}

fn run_of(url: &str) -> String {
    one(url, "SELECT run FROM transit_migration.copy_runs")
}

/// The target's tables after a migrate equal `clean`'s, by row count and
/// checksum (`transit db validate` between the two targets).
fn assert_same_as(d: &Path, clean: &str, tgt: &str, what: &str) {
    let out = db_cmd(d)
        .args(["validate", "--source", clean, "--target", tgt])
        .args(["--tables", KILL_TABLES, "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{what}: {}", String::from_utf8_lossy(&out.stderr)));
    for t in v["tables"].as_array().unwrap() {
        assert_eq!(t["equal"], true, "{what}: {t}");
    }
    assert!(out.status.success(), "{what}: {v}");
}

#[test]
fn a_killed_migrate_resumes_to_a_clean_runs_checksums() {
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = sqlite(d, "src.db");
    db_cmd(d)
        .args(["generate", "--url", &src, "--sites", "2", "--days", "20"])
        .args([
            "--calls-per-day",
            "150",
            "--start",
            "2013-03-01",
            "--seed",
            "31",
        ])
        .assert()
        .success();
    db_cmd(d)
        .args(["repair", "--url", &src, "--delete"])
        .assert()
        .success();
    let upgraded = |db: &PgDb| {
        db_cmd(d)
            .args(["upgrade", "--url", &db.url, "--to", "2015R1"])
            .assert()
            .success();
    };
    let clean = PgDb::new(&pg);
    upgraded(&clean);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .args(kill_args(&src, &clean.url, &d.join("clean-runs")))
        .current_dir(d)
        .env_remove("TRANSIT_SERVER_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (total, _) = committed(&clean.url);

    // One kill in the middle of the copy, then --resume.
    let once = PgDb::new(&pg);
    upgraded(&once);
    let runs = d.join("once-runs");
    let args = kill_args(&src, &once.url, &runs);
    assert!(
        kill_when_committed(d, &args, &once.url, total / 2),
        "killed mid-copy"
    );
    // Killed before the run was complete. (A table open when the poll saw
    // it may have finished between that look and the kill, so the count of
    // open tables after the kill can be 0; what matters is that rows are
    // missing and the resume below brings them.)
    let (rows, open) = committed(&once.url);
    assert!(rows < total, "{rows} of {total} rows, {open} tables open");
    let mut resume = args.clone();
    resume.extend(["--resume".into(), run_of(&once.url)]);
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .args(&resume)
        .current_dir(d)
        .env_remove("TRANSIT_SERVER_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_as(d, &clean.url, &once.url, "killed once");

    // Reduced repeated kills: three kills at growing progress, each
    // followed by a resume that is killed again, then a resume to the end.
    let many = PgDb::new(&pg);
    upgraded(&many);
    let runs = d.join("many-runs");
    let args = kill_args(&src, &many.url, &runs);
    assert!(kill_when_committed(d, &args, &many.url, total / 8));
    let mut resume = args.clone();
    resume.extend(["--resume".into(), run_of(&many.url)]);
    for share in [3, 5] {
        kill_when_committed(d, &resume, &many.url, total * share / 8);
    }
    let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .args(&resume)
        .current_dir(d)
        .env_remove("TRANSIT_SERVER_ROOT")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_same_as(d, &clean.url, &many.url, "killed three times");
}

#[test]
fn rule_ranges_already_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let src = source(d, "src.db", 41);
    let tgt = target(d, "tgt.db");
    let range = ("2013-03-07", "2013-03-09");
    let first = report(&mut migrate(d, &src, &tgt, "reporting", range));
    assert!(inserted(&first) > 0);
    let copied: Vec<String> = first["copy"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap().to_string())
        .collect();
    // The same range again: every table but the current-state ones (which
    // are reloaded by rule) is skipped, unread.
    let again = report(&mut migrate(d, &src, &tgt, "reporting", range));
    let detail = rule(&again, "ranges-already-migrated");
    for t in &copied {
        let current = [
            "LineConfig",
            "LineGroupConfig",
            "LineGroupLines",
            "UserWorkGroups",
            "AccountCodeMirror",
        ]
        .contains(&t.as_str());
        assert_eq!(detail.contains(t.as_str()), !current, "{t}: {detail}");
    }
    assert!(again["copy"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["table"].as_str().unwrap().contains("Line")
            || ["UserWorkGroups", "AccountCodeMirror"].contains(&t["table"].as_str().unwrap())));
    // A source that grew in the range, and a target that lost a row: those
    // tables copy again, and only the missing rows land.
    exec(&src, "CREATE TABLE grow AS SELECT * FROM CallDetail WHERE InitiatedDate >= '2013-03-08' AND CallId NOT LIKE 'HOSTILE%' LIMIT 1");
    exec(&src, "UPDATE grow SET CallId = 'GROWN-1'");
    exec(&src, "INSERT INTO CallDetail SELECT * FROM grow");
    exec(&src, "DROP TABLE grow");
    let lost = one(&tgt, "SELECT COUNT(*) FROM AgentActivityLog");
    exec(
        &tgt,
        "DELETE FROM AgentActivityLog WHERE rowid IN (SELECT rowid FROM AgentActivityLog LIMIT 1)",
    );
    let third = report(&mut migrate(d, &src, &tgt, "reporting", range));
    let rows_of = |name: &str| {
        third["copy"]["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["table"] == name)
            .unwrap_or_else(|| panic!("{name} copied: {}", third["copy"]))["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows_of("CallDetail"), 1);
    assert_eq!(rows_of("AgentActivityLog"), 1);
    assert_eq!(one(&tgt, "SELECT COUNT(*) FROM AgentActivityLog"), lost);
    assert!(!rule(&third, "ranges-already-migrated").contains("CallDetail"));
}
