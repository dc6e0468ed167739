//! `transit db …` end to end on the real binary: the SQLite walk-through
//! of the README, the vendor-style repair output, JSON reports, and the
//! exit code of each kind of bad input (20–27).

use crate::common::{transit, Exit, ExitAssert};
use predicates::prelude::*;
use serde_json::Value;
use std::path::Path;
use transit_testkit::tools::env_or_skip;

fn db(dir: &Path) -> assert_cmd::Command {
    let mut cmd = transit(&dir.join("unused-root"));
    cmd.env_remove("PGPASSWORD")
        .env_remove("MYSQL_PWD")
        .arg("db");
    cmd
}

fn sqlite(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

#[test]
fn the_sqlite_walk_through() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let url = sqlite(d, "source.db");
    let out = db(d)
        .args(["generate", "--url", &url, "--sites", "2", "--days", "2"])
        .args(["--calls-per-day", "40", "--seed", "7", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    let calls = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"] == "CallDetail")
        .unwrap()
        .clone();
    let planted = calls["planted_duplicates"].as_u64().unwrap();
    assert!(planted > 0);

    db(d)
        .args(["check", "--url", &url, "--expect", "3.0"])
        .assert()
        .success()
        .stdout(predicate::str::contains("PASS  schema version    3.0"));

    // A copy before the audit: `repair --delete` makes its audit tables
    // with the minute's stamp, so a second repair of the same file in the
    // same minute is refused (dbassist's repair test pins that with a fixed
    // clock); the delete runs on the copy instead of waiting a minute.
    for suffix in ["", "-wal"] {
        let from = d.join(format!("source.db{suffix}"));
        if from.exists() {
            std::fs::copy(&from, d.join(format!("target.db{suffix}"))).unwrap();
        }
    }

    // Audit only: the vendor's lines, and the upgrade still refuses.
    db(d)
        .args(["repair", "--url", &url])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Executing sproc Delete_Dups_CallDetail",
        ))
        .stdout(predicate::str::contains(format!("= {planted}\n")))
        .stdout(predicate::str::contains(
            "Rows inserted into main.CallDetail_d",
        ));
    db(d)
        .args(["upgrade", "--url", &url, "--to", "2015R1"])
        .assert()
        .exit(Exit::DbNeedsRepair)
        .stderr(predicate::str::contains(
            "run `transit db repair --delete` first",
        ));

    let url = sqlite(d, "target.db");
    db(d)
        .args(["repair", "--url", &url, "--delete"])
        .assert()
        .success()
        .stdout(predicate::str::contains(format!("= {planted}\n")));
    db(d)
        .args(["upgrade", "--url", &url, "--to", "2015R1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("applied 2015 R1 ICUpgrade"));
    db(d)
        .args(["upgrade", "--url", &url, "--to", "2015R1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing changed"));
    let out = db(d)
        .args(["check", "--url", &url, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let check: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(check["schema_version"], "2015 R1");
    db(d)
        .args(["setup-user", "--url", &url, "--user", "migrator"])
        .assert()
        .success()
        .stdout(predicate::str::contains("no users"));
}

#[test]
fn bad_input_has_its_own_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    db(d)
        .args(["check", "--url", "oracle://scott:tiger@db/orcl"])
        .assert()
        .exit(Exit::DbUnsupported)
        .stderr(predicate::str::contains("unsupported database URL"))
        .stderr(predicate::str::contains("tiger").not());
    db(d)
        .args([
            "check",
            "--url",
            "postgres://postgres:sekrit@127.0.0.1:1/test",
        ])
        .assert()
        .exit(Exit::DbUnreachable)
        .stdout(predicate::str::contains("FAIL  connection"))
        .stderr(predicate::str::contains("sekrit").not());
    db(d)
        .args(["repair", "--url", &sqlite(d, "absent.db")])
        .assert()
        .exit(Exit::DbMissing);
    assert!(!d.join("absent.db").exists());
    // An empty database has no CIC schema.
    let url = sqlite(d, "empty.db");
    db(d)
        .args(["upgrade", "--url", &url, "--to", "3.0"])
        .assert()
        .success();
    db(d)
        .args(["check", "--url", &url, "--expect", "2015R1"])
        .assert()
        .exit(Exit::DbVersion)
        .stdout(predicate::str::contains("FAIL  schema version"));
    db(d)
        .args(["generate", "--url", &url, "--schema", "2015R1"])
        .assert()
        .exit(Exit::Refused);
}

#[test]
fn server_logins_and_permissions() {
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = pg.rsplit_once('/').unwrap().0;
    let role = format!("transit_cli_nobody_{}", std::process::id());
    let wrong = base.replacen("postgres@", &format!("{role}:x@"), 1);
    db(d)
        .args(["check", "--url", &format!("{wrong}/test")])
        .assert()
        .exit(Exit::DbCredentials);
    db(d)
        .args([
            "check",
            "--url",
            &format!("{base}/transit_no_such_db_{}", std::process::id()),
        ])
        .assert()
        .exit(Exit::DbMissing);
    db(d)
        .args([
            "setup-user",
            "--url",
            &pg,
            "--user",
            "migrator",
            "--print-sql",
        ])
        .env("TRANSIT_DB_USER_PASSWORD", "hunter2")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "GRANT CONNECT, CREATE, TEMPORARY ON DATABASE \"test\"",
        ))
        .stdout(predicate::str::contains(":'password'"))
        .stdout(predicate::str::contains("hunter2").not());
    if let Some(my) = std::env::var("TRANSIT_TEST_MYSQL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        let base = my.rsplit_once('/').unwrap().0;
        let wrong = base.replacen("root@", "root:not-the-password@", 1);
        db(d)
            .args(["check", "--url", &format!("{wrong}/test")])
            .assert()
            .exit(Exit::DbCredentials)
            .stderr(predicate::str::contains("not-the-password").not());
    }
}

/// Runs admin SQL on `url` (the test server's admin login).
fn admin_exec(url: &str, sql: &[String]) {
    use transit_dbassist::{Db, DbTarget};
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut db = Db::connect(&DbTarget::parse(url).unwrap()).await.unwrap();
        for statement in sql {
            db.exec(statement).await.unwrap();
        }
        db.close().await.unwrap();
    });
}

#[test]
fn a_user_without_permissions_gets_its_own_exit_code_and_changes_nothing() {
    let Some(pg) = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = pg.rsplit_once('/').unwrap().0;
    let name = format!("transit_cli_perm_{}", std::process::id());
    let role = format!("transit_cli_ro_{}", std::process::id());
    admin_exec(
        &pg,
        &[
            format!("DROP DATABASE IF EXISTS \"{name}\""),
            format!("DROP ROLE IF EXISTS \"{role}\""),
            format!("CREATE DATABASE \"{name}\""),
            format!("CREATE ROLE \"{role}\" LOGIN PASSWORD 'pw'"),
            format!("GRANT CONNECT ON DATABASE \"{name}\" TO \"{role}\""),
        ],
    );
    // PostgreSQL before 15 lets every role create in `public`: take it back.
    admin_exec(
        &format!("{base}/{name}"),
        &["REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_string()],
    );
    let login = base.replacen("postgres@", &format!("{role}:pw@"), 1);
    let url = format!("{login}/{name}");
    db(d)
        .args(["upgrade", "--url", &url, "--to", "2015R1"])
        .assert()
        .exit(Exit::DbPermission)
        .stderr(predicate::str::contains("pw@").not());
    db(d)
        .args(["check", "--url", &url])
        .assert()
        .stdout(predicate::str::contains("FAIL  permissions"));
    // Nothing was created: the admin sees no CIC table.
    let out = db(d)
        .args(["check", "--url", &format!("{base}/{name}"), "--json"])
        .assert()
        .get_output()
        .stdout
        .clone();
    // The report, then (the check fails: no CIC schema) the error.
    let check: Value = serde_json::Deserializer::from_slice(&out)
        .into_iter()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(check["schema_version"], "none", "{check}");
    admin_exec(
        &pg,
        &[
            format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            format!("DROP ROLE IF EXISTS \"{role}\""),
        ],
    );
}

#[test]
fn passwords_come_from_the_environment_and_the_option_file() {
    // MariaDB checks passwords (the PostgreSQL test server trusts every
    // login, so it cannot show which password arrived).
    let Some(my) = env_or_skip("TRANSIT_TEST_MYSQL", "a MariaDB URL, as .ci/run sets") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = my.rsplit_once('/').unwrap().0;
    let user = format!("transit_cli_pw_{}", std::process::id());
    let secret = format!("pw-{user}");
    admin_exec(
        &my,
        &[
            format!("DROP USER IF EXISTS '{user}'@'%'"),
            format!("CREATE USER '{user}'@'%' IDENTIFIED BY '{secret}'"),
            format!("GRANT SELECT ON `test`.* TO '{user}'@'%'"),
        ],
    );
    let url = format!("{}/test", base.replacen("root@", &format!("{user}@"), 1));
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let check = |pwd: Option<&str>| {
        let mut cmd = db(d);
        cmd.env("HOME", &home).args(["check", "--url", &url]);
        if let Some(pwd) = pwd {
            cmd.env("MYSQL_PWD", pwd);
        }
        cmd.assert()
    };
    // No password anywhere: the login is refused.
    check(None).exit(Exit::DbCredentials);
    // MYSQL_PWD.
    check(Some(&secret)).stdout(predicate::str::contains("PASS  connection"));
    check(Some("bad-pw-zz9"))
        .exit(Exit::DbCredentials)
        .stderr(predicate::str::contains("bad-pw-zz9").not());
    // ~/.my.cnf's [client] section, when the environment has none.
    std::fs::write(
        home.join(".my.cnf"),
        format!("[mysqld]\npassword = server-side\n[client]\npassword = \"{secret}\"\n"),
    )
    .unwrap();
    check(None).stdout(predicate::str::contains("PASS  connection"));
    // The environment comes before the file.
    check(Some("bad-pw-zz9")).exit(Exit::DbCredentials);
    admin_exec(&my, &[format!("DROP USER IF EXISTS '{user}'@'%'")]);
}
