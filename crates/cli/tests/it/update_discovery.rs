//! Provider discovery across network namespaces (loopback has no
//! broadcast): two providers with different discovery keys and a client,
//! each in its own namespace, joined by veth pairs to a bridge in a hub
//! namespace that the test makes and removes. Where namespaces cannot be
//! made (no root, no `ip`), the test skips loudly, except under
//! `TRANSIT_REQUIRE_TOOLS=1`.

use crate::common::{init, transit};
use crate::netns::{in_ns, listening, Lan};
use crate::update_client::{json, Fixture, Kid};
use std::path::Path;

/// Starts a provider in `ns` on `addr:8092` with discovery `key`.
fn provider(ns: &str, root: &Path, data: &Path, addr: &str, key: &str) -> Kid {
    let mut cmd = in_ns(ns, root);
    cmd.args([
        "update",
        "provider",
        "--release",
        "2018 R1",
        "--patch",
        "9",
        "--discovery",
    ])
    .args([
        "--discovery-key",
        key,
        "--listen",
        &format!("{addr}:8092"),
        "--data",
    ])
    .arg(data);
    listening(cmd)
}

#[test]
fn clients_find_the_providers_with_their_key_and_fall_back_to_the_registered_one() {
    let Some(lan) = Lan::new() else { return };
    let f = Fixture::new();
    // Provider A runs for a server root, and registers itself in it.
    let cic = f.p("cic01");
    init(&cic, "CIC01", 1);
    transit(&f.root())
        .args(["update", "keygen", "--data"])
        .arg(f.p("data-b"))
        .arg("--root-key")
        .arg(f.p("offline/root-b.key"))
        .assert()
        .success();
    let _a = provider(
        &lan.ns('a'),
        &cic,
        &f.p("data"),
        &lan.addr('a'),
        "Production",
    );
    let _b = provider(
        &lan.ns('b'),
        &f.root(),
        &f.p("data-b"),
        &lan.addr('b'),
        "Lab",
    );
    let url_a = format!("http://{}:8092", lan.addr('a'));
    let url_b = format!("http://{}:8092", lan.addr('b'));
    // The registration is in CIC01's registry.
    let out = transit(&cic)
        .args(["registry", "get", "EIC\\CIC01\\Update Service", "Provider"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&url_a),
        "registered: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let config_for = |name: &str, key: &str| {
        let config = f.client(
            name,
            &[],
            &format!(
                "discovery = true\ndiscovery_key = \"{key}\"\ndiscovery_addresses = [\"{}\"]\ndiscovery_wait = \"2s\"",
                lan.broadcast()
            ),
            "",
        );
        // The client's licence root is CIC01 (its registration is the fallback).
        let text = std::fs::read_to_string(&config).unwrap().replace(
            &format!("server_root = {:?}", f.p("cic")),
            &format!("server_root = {cic:?}"),
        );
        std::fs::write(&config, text).unwrap();
        config
    };
    let discover = |name: &str, key: &str| -> serde_json::Value {
        let config = config_for(name, key);
        let out = in_ns(&lan.ns('c'), &f.root())
            .args(["update", "client", "discover", "--json", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        json(&out.stdout)
    };
    let production = discover("prod", "Production");
    assert_eq!(
        production["found"],
        serde_json::json!([url_a]),
        "{production:#}"
    );
    let lab = discover("lab", "Lab");
    assert_eq!(lab["found"], serde_json::json!([url_b]), "{lab:#}");
    let none = discover("other", "Nowhere");
    assert_eq!(none["found"], serde_json::json!([]), "{none:#}");
    assert_eq!(none["fallback"], true);
    assert_eq!(none["registered"], url_a.as_str());
    // The agent discovers when it starts, and checks in with what it found,
    // or with the registered provider when discovery found nothing.
    for (name, key) in [("agent-prod", "Production"), ("agent-other", "Nowhere")] {
        let config = config_for(name, key);
        let out = in_ns(&lan.ns('c'), &f.root())
            .args(["update", "client", "run", "--once", "--json", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report = json(&out.stdout);
        assert_eq!(
            report["status"]["provider"],
            url_a.as_str(),
            "{name}: {report:#}"
        );
    }
}
