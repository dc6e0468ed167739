//! Staged rollouts, download limits and surge control, end to end:
//! simulated clients (the provider's own API client, and the update
//! client's download and schedule code) against a real provider process.

use crate::common::{transit, Exit, ExitAssert};
use crate::update_client::{free_port, json, Fixture, Kid};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use transit_provider::api::{
    CheckIn, CheckInReply, InstalledJson, ResultEntry, ResultStatus, Results,
};
use transit_provider::client::ProviderClient;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A fixture with one GA update (Interaction Desktop patch 3) and a
/// running provider with a fast rollout evaluator.
struct Setup {
    f: Fixture,
    update: i64,
    provider: Option<Kid>,
    url: String,
    port: u16,
}

impl Setup {
    fn new(payload_bytes: usize, extra: &[&str]) -> Setup {
        let f = Fixture::new();
        // Incompressible (xorshift), so the payload keeps its size in the bundle.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let noise: Vec<u8> = (0..payload_bytes)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        let payload = f.payload("p3", &[("bin/setup.bin", noise)], None);
        let bundle = f.bundle(&payload, 3, "");
        let update = f.add_ga(&bundle, "data");
        let port = free_port();
        let mut args = vec!["--rollout-tick", "0.1"];
        args.extend_from_slice(extra);
        let (kid, url) = f.provider_with("data", port, &args);
        Setup {
            f,
            update,
            provider: Some(kid),
            url,
            port,
        }
    }

    fn client(&self) -> ProviderClient {
        ProviderClient::new(&self.url, None, 64).unwrap()
    }

    fn cli(&self, args: &[&str]) -> serde_json::Value {
        let out = transit(&self.f.root())
            .args(["update"])
            .args(args)
            .args(["--provider", &self.url, "--json"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        json(&out)
    }

    fn status(&self, id: i64) -> serde_json::Value {
        self.cli(&["rollout", "status", &id.to_string()])
    }

    /// Waits (up to 30 s) until rollout `id` is in `state`; its status.
    fn wait_state(&self, id: i64, state: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = self.status(id);
            if s["state"] == state {
                return s;
            }
            assert!(Instant::now() < deadline, "rollout never {state}: {s:#}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Machine `i`, on patch 2 of Interaction Desktop (so patch 3 applies).
fn machine(i: usize, group: Option<&str>) -> CheckIn {
    CheckIn {
        machine_id: format!("m-{i:04}"),
        token: format!("token-of-machine-{i:04}"),
        name: format!("WS{i:04}"),
        ip: Some(format!("10.1.{}.{}", i / 250, i % 250 + 1)),
        group: group.map(str::to_string),
        cic_server: false,
        installed: vec![InstalledJson {
            application: "Interaction Desktop".into(),
            release: "2018 R1".into(),
            patch: 2,
            version: "18.01.02.01".parse().unwrap(),
            previous: None,
        }],
        errors: Vec::new(),
        restart_required: false,
    }
}

fn offered(reply: &CheckInReply, update: i64) -> bool {
    reply.updates.iter().any(|o| o.id == update)
}

/// Checks `machines` in; which of them are offered `update`.
async fn check_in_all(c: &ProviderClient, machines: &[CheckIn], update: i64) -> Vec<bool> {
    let mut out = Vec::new();
    for m in machines {
        out.push(offered(&c.checkin(m).await.unwrap(), update));
    }
    out
}

async fn report(c: &ProviderClient, m: &CheckIn, update: i64, installed: bool) {
    c.results(&Results {
        machine_id: m.machine_id.clone(),
        token: m.token.clone(),
        results: vec![ResultEntry {
            update_id: update,
            status: if installed {
                ResultStatus::Installed
            } else {
                ResultStatus::InstallFailed
            },
            description: String::new(),
        }],
    })
    .await
    .unwrap();
}

#[test]
fn thirty_percent_failing_stops_the_rollout_before_wave_two() {
    let mut s = Setup::new(4096, &[]);
    let rt = rt();
    let c = s.client();
    let machines: Vec<CheckIn> = (0..100).map(|i| machine(i, None)).collect();
    // Known before the rollout: every machine is offered the GA update.
    assert!(rt
        .block_on(check_in_all(&c, &machines, s.update))
        .iter()
        .all(|o| *o));
    let created = s.cli(&[
        "rollout",
        "create",
        "--update",
        &s.update.to_string(),
        "--wave",
        "*:50%",
        "--wave",
        "*",
        "--success",
        "95%",
        "--errors",
        "10%",
    ]);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["state"], "running");
    let offers = rt.block_on(check_in_all(&c, &machines, s.update));
    let wave1: Vec<&CheckIn> = machines
        .iter()
        .zip(&offers)
        .filter(|(_, o)| **o)
        .map(|(m, _)| m)
        .collect();
    let size = created["waves"][0]["size"].as_u64().unwrap() as usize;
    assert_eq!(wave1.len(), size, "exactly wave 1 is offered the update");
    assert!((30..=70).contains(&size), "about half: {size}");
    // 30 % of wave 1 fail.
    rt.block_on(async {
        for (k, m) in wave1.iter().enumerate() {
            report(&c, m, s.update, k % 10 >= 3).await;
        }
    });
    let stopped = s.wait_state(id, "stopped");
    assert_eq!(stopped["current_wave"], 1, "{stopped:#}");
    assert_eq!(stopped["waves"][1]["started"], false);
    let reason = stopped["reason"].as_str().unwrap();
    assert!(
        reason.contains("wave 1") && reason.contains("error threshold (10 % failed)"),
        "{reason}"
    );
    // The remaining wave is never offered the update.
    let after = rt.block_on(check_in_all(&c, &machines, s.update));
    assert_eq!(after, offers, "no new machine is offered the update");
    // A restarted provider gates its very first check-ins too.
    drop(s.provider.take());
    let (kid, _) =
        s.f.provider_with("data", s.port, &["--rollout-tick", "0.1"]);
    s.provider = Some(kid);
    let late = machines
        .iter()
        .zip(&offers)
        .find(|(_, o)| !**o)
        .map(|(m, _)| m)
        .unwrap();
    let reply = rt.block_on(c.checkin(late)).unwrap();
    assert!(
        !offered(&reply, s.update),
        "a wave-2 machine right after a restart"
    );
    // Pause refuses (stopped); resume forgives the failures so far, and the
    // wave does not reach 95 %, so it stays at wave 1.
    transit(&s.f.root())
        .args([
            "update",
            "rollout",
            "pause",
            &id.to_string(),
            "--provider",
            &s.url,
        ])
        .assert()
        .exit(Exit::Refused);
    let resumed = s.cli(&["rollout", "resume", &id.to_string()]);
    assert_eq!(resumed["state"], "running");
    std::thread::sleep(Duration::from_millis(500));
    let s2 = s.status(id);
    assert_eq!(
        (s2["state"].as_str(), s2["current_wave"].as_u64()),
        (Some("running"), Some(1)),
        "{s2:#}"
    );
    let stopped = s.cli(&["rollout", "stop", &id.to_string()]);
    assert_eq!(stopped["reason"], "stopped by command");
    // One rollout per update.
    transit(&s.f.root())
        .args([
            "update",
            "rollout",
            "create",
            "--update",
            &s.update.to_string(),
            "--wave",
            "*",
            "--provider",
            &s.url,
        ])
        .assert()
        .exit(Exit::Refused);
}

#[test]
fn a_wave_at_its_success_threshold_waits_for_approval_then_the_next_starts() {
    let s = Setup::new(4096, &[]);
    let rt = rt();
    let c = s.client();
    s.cli(&["groups", "add", "Pilot"]);
    let pilots: Vec<CheckIn> = (0..20).map(|i| machine(i, Some("Pilot"))).collect();
    let others: Vec<CheckIn> = (20..50).map(|i| machine(i, None)).collect();
    rt.block_on(check_in_all(&c, &pilots, s.update));
    rt.block_on(check_in_all(&c, &others, s.update));
    let created = s.cli(&[
        "rollout",
        "create",
        "--update",
        &s.update.to_string(),
        "--wave",
        "Pilot,success=95%,approve",
        "--wave",
        "Default:100%",
    ]);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["waves"][0]["size"], 20);
    assert_eq!(created["waves"][1]["size"], 30);
    assert!(rt
        .block_on(check_in_all(&c, &pilots, s.update))
        .iter()
        .all(|o| *o));
    assert!(rt
        .block_on(check_in_all(&c, &others, s.update))
        .iter()
        .all(|o| !*o));
    // 19 of 20 = 95 %: the wave succeeds and waits for approval.
    rt.block_on(async {
        for (k, m) in pilots.iter().enumerate() {
            report(&c, m, s.update, k != 7).await;
        }
    });
    let paused = s.wait_state(id, "paused");
    assert_eq!(paused["awaiting_approval"], true);
    assert!(
        paused["reason"]
            .as_str()
            .unwrap()
            .contains("waiting for approval to start wave 2"),
        "{paused:#}"
    );
    assert!(rt
        .block_on(check_in_all(&c, &others, s.update))
        .iter()
        .all(|o| !*o));
    let resumed = s.cli(&["rollout", "resume", &id.to_string()]);
    assert_eq!(
        (resumed["state"].as_str(), resumed["current_wave"].as_u64()),
        (Some("running"), Some(2))
    );
    assert!(rt
        .block_on(check_in_all(&c, &others, s.update))
        .iter()
        .all(|o| *o));
    rt.block_on(async {
        for m in &others {
            report(&c, m, s.update, true).await;
        }
    });
    let done = s.wait_state(id, "completed");
    assert_eq!(done["waves"][1]["installed"], 30, "{done:#}");
    // The text status names the state and each wave.
    let out = transit(&s.f.root())
        .args(["update", "rollout", "status", "--provider", &s.url])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("completed") && text.contains("wave 2") && text.contains("Pilot"),
        "{text}"
    );
}

#[test]
fn bad_rollouts_are_refused_with_the_reason() {
    let s = Setup::new(4096, &[]);
    let bad = |args: &[&str], exit: Exit, says: &str| {
        let out = transit(&s.f.root())
            .args(["update", "rollout", "create"])
            .args(args)
            .args(["--provider", &s.url])
            .assert()
            .exit(exit)
            .get_output()
            .stderr
            .clone();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains(says), "{args:?}: {text}");
    };
    let id = s.update.to_string();
    bad(
        &["--update", &id, "--wave", "Nobody"],
        Exit::Usage,
        "no group named `Nobody`",
    );
    bad(
        &["--update", "999", "--wave", "*"],
        Exit::Usage,
        "no update with ID 999",
    );
    bad(
        &["--update", &id, "--wave", "*:50%", "--wave", "*:25%"],
        Exit::Usage,
        "wave 2",
    );
    bad(
        &["--update", &id, "--wave", "*,speed=3"],
        Exit::Usage,
        "speed=3",
    );
    bad(
        &["--update", &id, "--wave", "*", "--errors", "lots"],
        Exit::Usage,
        "lots",
    );
    transit(&s.f.root())
        .args(["update", "rollout", "resume", "42", "--provider", &s.url])
        .assert()
        .exit(Exit::Usage);
}

/// The content store's payload: its URL path and bytes.
fn payload_of(s: &Setup) -> (String, PathBuf) {
    let dir = s.f.p("data/repository/targets");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.zst"))
        .expect("a payload in the content store");
    let name = file.file_name().unwrap().to_string_lossy().to_string();
    (format!("{}/v1/repository/targets/{name}", s.url), file)
}

#[test]
fn two_hundred_simultaneous_downloads_are_capped_and_all_complete() {
    // 200 downloads of 256 KiB share 10 MiB/s (about 5 s), 8 at a time: most wait
    // in the provider's line, and those still waiting after 2 s are told to
    // come back, which the client honours.
    let s = Setup::new(256 << 10, &[]);
    s.cli(&[
        "groups",
        "set",
        "Default",
        "--max-downloads",
        "8",
        "--download-rate",
        "10485760",
    ]);
    let rt = rt();
    let c = s.client();
    let machines: Vec<CheckIn> = (0..200).map(|i| machine(i, None)).collect();
    rt.block_on(check_in_all(&c, &machines, s.update));
    let (url, stored) = payload_of(&s);
    let expected = std::fs::read(&stored).unwrap();
    let sha = stored
        .file_name()
        .unwrap()
        .to_string_lossy()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    let work = tempfile::tempdir().unwrap();
    let config_path = s.f.client("sim", &[&s.url], "", "");
    let config = transit_client::ClientConfig::load(&config_path, false).unwrap();
    let results = rt.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        // Every client ready first, then all 200 start at once.
        let go = Arc::new(tokio::sync::Barrier::new(machines.len()));
        for m in &machines {
            let net = transit_client::net::Net::new(&config, &m.machine_id).unwrap();
            let downloads = Arc::new(transit_client::net::Downloads::new(
                work.path().join(&m.machine_id),
                0,
            ));
            downloads.expect(&sha, expected.len() as u64);
            let transport = net.transport(Arc::clone(&downloads));
            let url = url.clone();
            let go = Arc::clone(&go);
            tasks.spawn(async move {
                go.wait().await;
                let path = transport.download(&url).await;
                (
                    path,
                    downloads
                        .stats
                        .queued
                        .load(std::sync::atomic::Ordering::Relaxed),
                )
            });
        }
        let mut out = Vec::new();
        while let Some(r) = tasks.join_next().await {
            out.push(r.unwrap());
        }
        out
    });
    assert_eq!(results.len(), 200);
    let mut waited = 0;
    for (path, queued) in &results {
        let path = path
            .as_ref()
            .unwrap_or_else(|e| panic!("a download failed: {e}"));
        assert!(
            std::fs::read(path).unwrap() == expected,
            "{} differs",
            path.display()
        );
        waited += queued;
    }
    let status = rt.block_on(c.status()).unwrap();
    let default = status
        .downloads
        .iter()
        .find(|g| g.group_id == 1)
        .expect("the default group's counters");
    assert_eq!(
        (default.max_downloads, default.download_rate),
        (8, 10_485_760)
    );
    assert!(default.peak <= 8, "peak {} above the cap", default.peak);
    assert!(default.peak >= 2, "downloads ran in parallel: {default:?}");
    assert!(
        default.queued > 0 && waited > 0,
        "some waited their turn: {default:?}, {waited}"
    );
    assert_eq!(default.active, 0);
}

#[test]
fn a_provider_restart_does_not_bring_the_fleet_back_at_once() {
    // 1,000 simulated agents with the agent's schedule, checking in every
    // 8-12 s (about 100/s); the provider is killed at 20 s and back at 25 s.
    let s = Setup::new(4096, &["--check-min", "8s", "--check-max", "12s"]);
    let mut s = s;
    let options = transit_client::fleet::FleetOptions {
        clients: 1000,
        check_min: Duration::from_secs(8),
        check_max: Duration::from_secs(12),
        duration: Duration::from_secs(50),
        connections: 256,
        seed: 7,
    };
    let c = s.client();
    let stop = transit_core::CancelToken::new();
    let fleet = {
        let c = c.clone();
        let stop = stop.clone();
        std::thread::spawn(move || rt().block_on(transit_client::fleet::run(&c, &options, &stop)))
    };
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs(20).saturating_sub(start.elapsed()));
    if let Some(mut kid) = s.provider.take() {
        kid.0.kill().unwrap();
        kid.0.wait().unwrap();
    }
    std::thread::sleep(Duration::from_secs(25).saturating_sub(start.elapsed()));
    let (kid, _) = s.f.provider_with(
        "data",
        s.port,
        &[
            "--rollout-tick",
            "0.1",
            "--check-min",
            "8s",
            "--check-max",
            "12s",
        ],
    );
    s.provider = Some(kid);
    let report = fleet.join().unwrap();
    let steady = transit_client::fleet::mean(&report.arrivals, 13, 20);
    // The peak over 2-second windows: a herd of the 1,000 machines coming
    // back at once would be about 500/s or more; a one-second burst of the
    // simulator catching up after the machine starved it (a loaded CI
    // runner) is not what is measured.
    let peak = report.arrivals[26..50]
        .windows(2)
        .map(|w| (w[0] + w[1]) as f64 / 2.0)
        .fold(0.0, f64::max);
    let settled = transit_client::fleet::mean(&report.arrivals, 40, 50);
    let figures = format!(
        "steady {steady:.0}/s, peak after restart {peak}/s, settled {settled:.0}/s; arrivals {:?}",
        report.arrivals
    );
    eprintln!("{figures}");
    assert!(
        steady >= 60.0,
        "the fleet checks in at about 100/s: {figures}"
    );
    assert!(
        report.unreachable[20..25].iter().sum::<u64>() > 100,
        "the outage was felt: {figures}"
    );
    assert!(
        peak <= 3.0 * steady,
        "arrivals after the restart stay within 3x steady: {figures}"
    );
    assert!(
        (0.6 * steady..=1.4 * steady).contains(&settled),
        "back to steady within 25 s: {figures}"
    );
    assert_eq!(report.failing_at_end, 0, "{figures}");
    assert_eq!(report.never_checked_in, 0, "{figures}");
    let rt = rt();
    let r = rt.block_on(c.report(None)).unwrap();
    assert_eq!(r.machines.len(), 1000);
    let errors: Vec<_> = r
        .machines
        .iter()
        .filter(|m| m.status == transit_provider::report::MachineStatus::ErrorState)
        .collect();
    assert!(
        errors.is_empty(),
        "no machine in ErrorState: {:?}",
        errors.first()
    );
}
