//! Upkeep in a running provider: the online roles are re-signed before a
//! client would find them expired, and bundles dropped into an Auto
//! update folder are ingested. The refresh schedule runs on a simulated
//! clock; the running provider's loops on a clock sped up 60 times.

use crate::common::{eventually, manifest, rt, Fixture, Running};
use std::cell::{Cell, RefCell};
use std::path::Path;
use std::time::Duration;
use transit_core::{CancelToken, NoProgress};
use transit_provider::upkeep::{refresh_loop, Upkeep};
use transit_provider::Database;
use transit_update::client::{self, ClientTrust, VerifyError};
use transit_update::keys::SigningKey;
use transit_update::publishers::AllowList;
use transit_update::scanner::Clock;
use transit_update::{Store, UpdateRepository};

const DAY: i64 = 86_400;

/// A clock that jumps to whatever time is slept until, recording it.
#[derive(Default)]
struct SimClock {
    now: Cell<Duration>,
    sleeps: RefCell<Vec<Duration>>,
}

impl Clock for &SimClock {
    fn now(&self) -> Duration {
        self.now.get()
    }

    fn sleep_until(&self, at: Duration) -> impl std::future::Future<Output = ()> {
        self.sleeps.borrow_mut().push(at);
        if at > self.now.get() {
            self.now.set(at);
        }
        std::future::ready(())
    }
}

fn days_ago(days: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second() - days * DAY).unwrap()
}

/// Re-signs the snapshot and timestamp as if it were 8 days ago: a valid
/// signature on a timestamp that expired a day ago (the 7-day default).
fn sign_expired(repo: &UpdateRepository) -> u64 {
    rt().block_on(repo.refresh_at(true, days_ago(8)))
        .unwrap()
        .unwrap()
        .timestamp_version
}

fn timestamp_version(repo: &UpdateRepository) -> u64 {
    repo.state().unwrap().timestamp.signed.version.get()
}

/// Transit's client, refreshing from a folder holding `metadata/`.
fn client_refresh(fx: &Fixture, served: &Path, store: &str) -> Result<(), VerifyError> {
    let trust = ClientTrust::new(
        fx.repo.root_json().unwrap(),
        AllowList::load(&fx.repo.publishers_path()).unwrap(),
        &fx.path(store),
    )
    .unwrap();
    rt().block_on(client::refresh(
        &trust,
        client::dir_url(&served.join("metadata")).unwrap(),
        client::dir_url(&served.join("targets")).unwrap(),
    ))
    .map(|_| ())
}

/// Fetches, over HTTP from the provider, every metadata file a client
/// walks (the roots, the timestamp, then the snapshot and targets it
/// names) into `to/metadata`.
fn mirror(base: &str, to: &Path) {
    let meta = to.join("metadata");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::create_dir_all(to.join("targets")).unwrap();
    rt().block_on(async {
        let http = reqwest::Client::new();
        let get = |name: String| {
            let http = http.clone();
            async move {
                let r = http
                    .get(format!("{base}/v1/repository/metadata/{name}"))
                    .send()
                    .await
                    .unwrap();
                if r.status() == reqwest::StatusCode::NOT_FOUND {
                    return None;
                }
                assert!(r.status().is_success(), "{name}: {}", r.status());
                Some(r.bytes().await.unwrap().to_vec())
            }
        };
        let mut n = 1;
        while let Some(root) = get(format!("{n}.root.json")).await {
            std::fs::write(meta.join(format!("{n}.root.json")), root).unwrap();
            n += 1;
        }
        let timestamp = get("timestamp.json".into()).await.unwrap();
        std::fs::write(meta.join("timestamp.json"), &timestamp).unwrap();
        let version = |bytes: &[u8], file: &str| -> u64 {
            let json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            json["signed"]["meta"][file]["version"].as_u64().unwrap()
        };
        let s = version(&timestamp, "snapshot.json");
        let snapshot = get(format!("{s}.snapshot.json")).await.unwrap();
        std::fs::write(meta.join(format!("{s}.snapshot.json")), &snapshot).unwrap();
        let t = version(&snapshot, "targets.json");
        let targets = get(format!("{t}.targets.json")).await.unwrap();
        std::fs::write(meta.join(format!("{t}.targets.json")), targets).unwrap();
    });
}

#[test]
fn checks_run_at_0_60_120_s_and_re_sign_only_what_is_due() {
    let fx = Fixture::new();
    let forged = sign_expired(&fx.repo);
    let clock = SimClock::default();
    let stop = CancelToken::new();
    let mut checks = Vec::new();
    rt().block_on(refresh_loop(&fx.repo, &&clock, &stop, |at, done| {
        checks.push((at.as_secs(), done.unwrap().map(|s| s.timestamp_version)));
        if checks.len() == 2 {
            // The timestamp is near expiry again before the third check
            // (signed on another thread: this one is inside the runtime).
            std::thread::scope(|s| s.spawn(|| sign_expired(&fx.repo)).join().unwrap());
        }
        if checks.len() == 3 {
            stop.cancel();
        }
    }));
    assert_eq!(
        checks,
        [(0, Some(forged + 1)), (60, None), (120, Some(forged + 3))],
        "an expired timestamp is re-signed at once, a fresh one is left alone"
    );
    let slept: Vec<u64> = clock.sleeps.borrow().iter().map(|d| d.as_secs()).collect();
    // After the third check it waits for the fourth (at 180 s) and is stopped.
    assert_eq!(slept, [0, 60, 120, 180]);
    let left = fx
        .repo
        .state()
        .unwrap()
        .timestamp
        .signed
        .expires
        .as_second()
        - jiff::Timestamp::now().as_second();
    assert!(
        left > 6 * DAY,
        "the new timestamp runs 7 days: {left} s left"
    );
}

#[test]
fn a_running_provider_re_signs_an_expired_timestamp_and_clients_refresh_again() {
    let fx = Fixture::new();
    let forged = sign_expired(&fx.repo);
    // Without upkeep a client refuses the repository: the freeze.
    let refused = client_refresh(&fx, &fx.data.join("repository"), "client-a").unwrap_err();
    assert!(matches!(refused, VerifyError::Expired { .. }), "{refused}");

    let mut config = fx.config(Database::Sqlite);
    config.upkeep.scan = false;
    let p = Running::start(config);
    eventually(|| timestamp_version(&fx.repo) > forged);
    let served = fx.path("served");
    mirror(&p.url(), &served);
    let state = fx.repo.state().unwrap();
    assert_eq!(
        std::fs::read(served.join("metadata/timestamp.json")).unwrap(),
        std::fs::read(fx.repo.metadata_dir().join("timestamp.json")).unwrap(),
        "the provider serves the re-signed timestamp"
    );
    assert!(state.timestamp.signed.expires > jiff::Timestamp::now());
    client_refresh(&fx, &served, "client-b").unwrap();
    // A client that saw the expired timestamp before accepts the new one.
    client_refresh(&fx, &served, "client-a").unwrap();
    p.stop().unwrap();
}

#[test]
fn without_upkeep_the_expired_timestamp_stays() {
    let fx = Fixture::new();
    let forged = sign_expired(&fx.repo);
    let mut config = fx.config(Database::Sqlite);
    config.upkeep = Upkeep {
        refresh: false,
        scan: false,
        ..Upkeep::default()
    };
    let p = Running::start(config);
    // The provider answers, so it ran its start-up; nothing re-signed.
    rt().block_on(p.client().status()).unwrap();
    p.stop().unwrap();
    assert_eq!(timestamp_version(&fx.repo), forged);
}

#[test]
fn a_bundle_dropped_into_an_auto_folder_is_ingested_by_the_running_provider() {
    let fx = Fixture::new();
    let auto = fx.path("incoming");
    let manual = fx.path("manual");
    std::fs::create_dir_all(&auto).unwrap();
    std::fs::create_dir_all(&manual).unwrap();
    let store = Store::open(&fx.repo.store_path()).unwrap();
    store.set_folder(&auto, true).unwrap();
    store.set_folder(&manual, false).unwrap();
    let publisher = SigningKey::load(&fx.path("publisher/Genesys.key")).unwrap();
    let bundle = |name: &str, patch: u16, version: &str, to: &Path| {
        let from = fx.path(&format!("payload-{name}"));
        std::fs::create_dir_all(&from).unwrap();
        std::fs::write(from.join("setup.bin"), format!("patch {patch}")).unwrap();
        let built = fx.path(&format!("{name}.tbundle"));
        transit_update::bundle::build(
            &from,
            &manifest("Interaction Desktop", "2018 R1", patch, "Patch", version),
            Some(&publisher),
            &built,
            &CancelToken::new(),
            &NoProgress,
        )
        .unwrap();
        std::fs::rename(&built, to.join(format!("{name}.tbundle"))).unwrap();
    };

    let mut config = fx.config(Database::Sqlite);
    config.upkeep.speed = 60; // the first scan at 90 s comes after 1.5 s
    let p = Running::start(config);
    bundle("p4", 4, "18.01.04.7", &auto);
    bundle("p5", 5, "18.01.05.2", &manual);
    let c = p.client();
    let rt = rt();
    eventually(|| !auto.join("p4.tbundle").exists());
    assert!(!auto.join("p4.tbundle.reason.txt").exists());
    eventually(|| rt.block_on(c.updates()).unwrap().len() == 2);
    let updates = rt.block_on(c.updates()).unwrap();
    assert!(
        updates
            .iter()
            .any(|u| u.patch == 4 && u.version.to_string() == "18.01.04.07"),
        "{updates:?}"
    );
    assert!(
        manual.join("p5.tbundle").exists(),
        "a folder without Auto is not scanned"
    );
    p.stop().unwrap();
    assert_eq!(store.updates().unwrap().len(), 2);
}
