//! Switchover pairs and several providers on one PostgreSQL database,
//! end to end with real provider processes: Manage Database's Copy and
//! Use from the command line, then a provider of the pair killed
//! (SIGKILL) under load: the load goes on through the other, and every
//! check-in a provider answered is in the database. And three providers
//! on one database under a spread load: each check-in counted once.

use crate::common::transit;
use crate::update_client::{free_port, json, Fixture, Kid};
use std::process::Stdio;
use transit_dbassist::{Db, DbTarget};
use transit_testkit::tools::env_or_skip;

/// A database on `TRANSIT_TEST_PG` for one test, dropped at the end.
pub(crate) struct SharedDb {
    admin: String,
    name: String,
    /// Its URL.
    pub(crate) url: String,
}

fn admin_exec(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut db = Db::connect(&DbTarget::parse(url).unwrap()).await.unwrap();
        db.exec(sql).await.unwrap();
        db.close().await.unwrap();
    });
}

impl SharedDb {
    pub(crate) fn new(tag: &str) -> Option<SharedDb> {
        let admin = env_or_skip("TRANSIT_TEST_PG", "a PostgreSQL URL, as .ci/run sets")?;
        let name = format!("transit_{tag}_{}", std::process::id());
        admin_exec(
            &admin,
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        );
        admin_exec(&admin, &format!("CREATE DATABASE \"{name}\""));
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(SharedDb {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }
}

impl Drop for SharedDb {
    fn drop(&mut self) {
        admin_exec(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        );
    }
}

/// A copy of the fixture's data folder (the same signed repository).
fn data_copy(f: &Fixture, name: &str) -> String {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(f.p("data"))
        .arg(f.p(name))
        .status()
        .unwrap();
    assert!(status.success());
    name.to_string()
}

fn update(f: &Fixture, args: &[&str]) -> serde_json::Value {
    let out = transit(&f.root())
        .arg("update")
        .args(args)
        .arg("--json")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    json(&out)
}

/// Every machine's check-in count, summed, as `provider` reads the store.
fn checkins_stored(f: &Fixture, provider: &str) -> i64 {
    let machines = update(
        f,
        &[
            "machines",
            "list",
            "--provider",
            provider,
            "--limit",
            "100000",
        ],
    );
    machines
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["checkins"].as_i64().unwrap())
        .sum()
}

fn simulate(
    f: &Fixture,
    providers: &[&str],
    clients: u32,
    rate: u32,
    seconds: u32,
) -> std::process::Child {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"));
    cmd.args(["--server-root"]).arg(f.root()).args([
        "update",
        "simulate",
        "--provider",
        providers[0],
    ]);
    for p in &providers[1..] {
        cmd.args(["--also", p]);
    }
    cmd.args([
        "--clients",
        &clients.to_string(),
        "--rate",
        &rate.to_string(),
    ])
    .args([
        "--duration",
        &seconds.to_string(),
        "--connections",
        "16",
        "--json",
    ])
    .env_remove("TRANSIT_LOG")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

fn finished(sim: std::process::Child) -> serde_json::Value {
    let out = sim.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

#[test]
fn killing_one_provider_of_a_switchover_pair_loses_no_committed_check_in() {
    let Some(db) = SharedDb::new("pair") else {
        return;
    };
    let f = Fixture::new();
    let b_data = data_copy(&f, "data-b");
    let (pa, pb) = (free_port(), free_port());
    let (mut a, url_a) = f.provider("data", pa);
    let (_b, url_b) = f.provider(&b_data, pb);
    // The primary has data of its own before the pair forms.
    let first = finished(simulate(&f, &[&url_a], 50, 50, 1));
    assert_eq!(first["ok"], first["sent"], "{first:#}");
    // Manage Database: the primary copies, the backup uses.
    let copied = update(&f, &["database", "--provider", &url_a, "copy", &db.url]);
    assert_eq!(copied["moved"]["machines"]["added"], 50, "{copied:#}");
    let used = update(&f, &["database", "--provider", &url_b, "use", &db.url]);
    assert!(
        used["now"].as_str().unwrap().starts_with("postgres://"),
        "{used:#}"
    );
    let before = checkins_stored(&f, &url_b);
    assert_eq!(before, first["ok"].as_i64().unwrap());

    // Load over the pair; the primary is killed in the middle.
    let sim = simulate(&f, &[&url_a, &url_b], 300, 150, 6);
    std::thread::sleep(std::time::Duration::from_secs(3));
    a.0.kill().unwrap();
    let _ = a.0.wait();
    let load = finished(sim);
    let ok = load["ok"].as_i64().unwrap();
    let failovers = load["failovers"].as_i64().unwrap();
    assert!(load["errors"].as_array().unwrap().is_empty(), "{load:#}");
    assert!(failovers > 0, "the kill made clients fail over: {load:#}");
    assert!(load["per_provider"][0].as_i64().unwrap() > 0, "{load:#}");
    // Every answered check-in is stored. A check-in the primary committed
    // but could not answer before it died is retried at the backup, so at
    // most the failovers are stored twice.
    let stored = checkins_stored(&f, &url_b) - before;
    assert!(
        stored >= ok && stored <= ok + failovers,
        "stored {stored}, answered {ok}, failed over {failovers}"
    );
    drop(db);
}

#[test]
fn three_providers_on_one_database_count_each_check_in_once() {
    let Some(db) = SharedDb::new("three") else {
        return;
    };
    let f = Fixture::new();
    let mut urls = Vec::new();
    let mut kids: Vec<Kid> = Vec::new();
    for i in 0..3 {
        let data = if i == 0 {
            "data".to_string()
        } else {
            data_copy(&f, &format!("data-{i}"))
        };
        let (kid, url) = f.provider_with(&data, free_port(), &["--database", &db.url]);
        kids.push(kid);
        urls.push(url);
    }
    let refs: Vec<&str> = urls.iter().map(String::as_str).collect();
    let load = finished(simulate(&f, &refs, 600, 200, 4));
    let ok = load["ok"].as_i64().unwrap();
    assert_eq!(load["sent"].as_i64().unwrap(), ok, "{load:#}");
    for (i, n) in load["per_provider"].as_array().unwrap().iter().enumerate() {
        assert!(
            n.as_i64().unwrap() > ok / 6,
            "provider {i} took its share: {load:#}"
        );
    }
    // Every provider reads the same fleet, each check-in counted once.
    for url in &urls {
        assert_eq!(checkins_stored(&f, url), ok, "as {url} reads it");
    }
    let report = update(&f, &["report", "--provider", &urls[2]]);
    assert_eq!(report["machines"].as_array().unwrap().len(), 600);
    drop(kids);
    drop(db);
}
