//! Remote providers (a per-site cache with no console) across network
//! namespaces: the local provider ("HQ") in namespace a, the remote in
//! b, the site's clients in c. Cutting b's link to the bridge is the WAN
//! going down. Where namespaces cannot be made, the tests skip loudly,
//! except under `TRANSIT_REQUIRE_TOOLS=1`.

use crate::netns::{in_ns, listening, Lan};
use crate::update_client::{as_refs, current, files, json, wait_for, Fixture, Kid};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Starts `transit ARGS` in `ns` and waits for its "listening" line.
fn serve(ns: &str, root: &Path, args: &[&str], data: &Path) -> Kid {
    let mut cmd = in_ns(ns, root);
    cmd.args(args).arg("--data").arg(data);
    listening(cmd)
}

/// The local provider (HQ) in `lan`'s namespace a, on every address.
fn hq(lan: &Lan, f: &Fixture, extra: &[&str]) -> Kid {
    let mut args = vec![
        "update",
        "provider",
        "--release",
        "2018 R1",
        "--patch",
        "9",
        "--listen",
        "0.0.0.0:8092",
        "--check-min",
        "90s",
        "--check-max",
        "120s",
    ];
    args.extend_from_slice(extra);
    serve(&lan.ns('a'), &f.root(), &args, &f.p("data"))
}

/// The remote provider in namespace b, relaying to HQ.
fn remote(lan: &Lan, f: &Fixture) -> Kid {
    let upstream = format!("http://{}:8092", lan.addr('a'));
    serve(
        &lan.ns('b'),
        &f.root(),
        &[
            "update",
            "provider",
            "--kind",
            "remote",
            "--upstream",
            &upstream,
            "--listen",
            "0.0.0.0:8092",
            "--metadata-ttl",
            "1s",
            "--relay-retry",
            "1s",
        ],
        &f.p("remote-data"),
    )
}

/// `transit update ARGS --json` in `ns`, which must succeed; its JSON.
fn update_json(lan_ns: &str, f: &Fixture, args: &[&str]) -> serde_json::Value {
    let out = in_ns(lan_ns, &f.root())
        .arg("update")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

/// `transit update client run --once [--apply] --json` in namespace c.
fn once(lan: &Lan, f: &Fixture, config: &Path, apply: bool) -> std::process::Output {
    let mut cmd = in_ns(&lan.ns('c'), &f.root());
    cmd.args(["update", "client", "run", "--once", "--json", "--config"])
        .arg(config);
    if apply {
        cmd.arg("--apply");
    }
    cmd.output().unwrap()
}

#[test]
fn a_remote_fetches_each_payload_once_for_20_site_clients_who_fail_over_when_it_dies() {
    let Some(lan) = Lan::new() else { return };
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(2, "v1", 100)), None);
    // Big enough that the 20 downloads overlap.
    let v2 = f.payload("v2", &as_refs(&files(8, "v2", 512 * 1024)), None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    f.add_ga(&b2, "data");
    let _hq = hq(&lan, &f, &[]);
    let mut site = remote(&lan, &f);
    let (hq_url, remote_url) = (
        format!("http://{}:8092", lan.addr('a')),
        format!("http://{}:8092", lan.addr('b')),
    );
    let configs: Vec<_> = (0..20)
        .map(|i| {
            let config = f.client(&format!("site{i:02}"), &[&remote_url, &hq_url], "", "");
            f.install_bundle(&config, &b1).assert().success();
            config
        })
        .collect();
    // All 20 at once (Express), through the remote.
    let runs: Vec<_> = configs
        .iter()
        .map(|config| {
            let mut cmd = in_ns(&lan.ns('c'), &f.root());
            cmd.args([
                "update", "client", "run", "--once", "--apply", "--json", "--config",
            ])
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for (i, run) in runs.into_iter().enumerate() {
        let out = run.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "client {i}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json(&out.stdout);
        assert_eq!(
            report["status"]["provider"],
            remote_url.as_str(),
            "{report:#}"
        );
        assert!(
            report["results"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["status"] == "Installed"),
            "client {i}: {report:#}"
        );
        assert_eq!(current(&configs[i]).as_deref(), Some("18.01.02.01"));
    }
    // One payload download at HQ; one fetch at the remote.
    let at_hq = update_json(
        &lan.ns('a'),
        &f,
        &["status", "--provider", "http://127.0.0.1:8092"],
    );
    assert_eq!(at_hq["targets_served"], 1, "{at_hq:#}");
    let at_site = update_json(&lan.ns('c'), &f, &["status", "--provider", &remote_url]);
    assert_eq!(at_site["kind"], "remote");
    assert_eq!(at_site["remote"]["target_fetches"], 1, "{at_site:#}");
    assert_eq!(at_site["remote"]["outbox"], 0, "{at_site:#}");
    // HQ's report sees every site machine (check-ins and results relayed).
    let report = update_json(
        &lan.ns('a'),
        &f,
        &["report", "--provider", "http://127.0.0.1:8092"],
    );
    assert_eq!(
        report["machines"].as_array().unwrap().len(),
        20,
        "{report:#}"
    );
    wait_for("the relayed results in HQ's activity", || {
        let a = update_json(
            &lan.ns('a'),
            &f,
            &[
                "activity",
                "--provider",
                "http://127.0.0.1:8092",
                "--per-page",
                "200",
            ],
        );
        a["groups"][0]["entries"]
            .as_array()
            .is_some_and(|e| e.iter().filter(|x| x["status"] == "Installed").count() == 20)
    });

    // The remote dies: its clients fail over to HQ.
    drop(site.0.kill());
    let _ = site.0.wait();
    let out = once(&lan, &f, &configs[0], false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    assert_eq!(report["status"]["provider"], hq_url.as_str(), "{report:#}");
}

#[test]
fn cut_off_past_the_timestamps_expiry_its_clients_refuse_to_install_and_hq_sees_error_state() {
    let Some(lan) = Lan::new() else { return };
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(2, "v1", 100)), None);
    let v2 = f.payload("v2", &as_refs(&files(2, "v2", 100)), None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    f.add_ga(&b2, "data");
    // HQ does not re-sign by itself; its timestamp has 25 s left.
    let _hq = hq(&lan, &f, &["--no-resign"]);
    let expires = Instant::now() + Duration::from_secs(25);
    {
        let repo = transit_update::UpdateRepository::open(&f.p("data")).unwrap();
        let _lock = repo.lock().unwrap();
        let week = jiff::SignedDuration::from_hours(7 * 24);
        let as_if = jiff::Timestamp::now() - week + jiff::SignedDuration::from_secs(25);
        transit_testkit::update::rt()
            .block_on(repo.refresh_at(true, as_if))
            .unwrap();
    }
    update_json(
        &lan.ns('a'),
        &f,
        &[
            "groups",
            "set",
            "--provider",
            "http://127.0.0.1:8092",
            "Default",
            "--mode",
            "manual",
        ],
    );
    let _site = remote(&lan, &f);
    let remote_url = format!("http://{}:8092", lan.addr('b'));
    let config = f.client("ws1", &[&remote_url], "", "");
    f.install_bundle(&config, &b1).assert().success();

    // Connected: the check-in is relayed and offers the update (Manual
    // mode: nothing downloads); the remote warms its timestamp.json.
    let out = once(&lan, &f, &config, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_for("the remote's timestamp.json", || {
        update_json(&lan.ns('c'), &f, &["status", "--provider", &remote_url])["remote"]
            ["metadata_fetches"]
            .as_u64()
            .unwrap_or(0)
            >= 1
    });
    assert!(
        Instant::now() < expires,
        "the machine was too slow to set the scene up"
    );

    // The WAN goes down, and stays down past the expiry.
    lan.cut('a');
    std::thread::sleep(expires.saturating_duration_since(Instant::now()) + Duration::from_secs(2));
    let out = once(&lan, &f, &config, true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = json(&out.stdout);
    let text = report.to_string();
    assert!(
        text.contains("answered by the remote provider"),
        "{report:#}"
    );
    let failed = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "Download Failed")
        .unwrap_or_else(|| panic!("no failed download: {report:#}"));
    assert!(
        failed["description"]
            .as_str()
            .unwrap()
            .contains("metadata expired"),
        "{failed:#}"
    );
    assert_eq!(
        current(&config).as_deref(),
        Some("18.01.01.01"),
        "nothing installed"
    );

    // Back online: what the remote kept reaches HQ, and the next check-in
    // carries the error: HQ's report shows ErrorState "metadata expired".
    lan.mend('a');
    wait_for("the remote's outbox to drain", || {
        update_json(&lan.ns('c'), &f, &["status", "--provider", &remote_url])["remote"]["outbox"]
            == 0
    });
    let out = once(&lan, &f, &config, false);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = update_json(
        &lan.ns('a'),
        &f,
        &["report", "--provider", "http://127.0.0.1:8092"],
    );
    let ws1 = &report["machines"][0];
    assert_eq!(ws1["status"], "ErrorState", "{report:#}");
    assert!(
        ws1["reasons"].to_string().contains("metadata expired"),
        "{report:#}"
    );
}
