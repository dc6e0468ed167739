//! Provider discovery across network namespaces (loopback has no
//! broadcast): two providers with different discovery keys and a client,
//! each in its own namespace, joined by veth pairs to a bridge in a hub
//! namespace that the test makes and removes. Where namespaces cannot be
//! made (no root, no `ip`), the test skips loudly, except under
//! `TRANSIT_REQUIRE_TOOLS=1`.

use crate::common::{init, transit};
use crate::update_client::{json, Fixture, Kid};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Namespaces `<p>h` (the bridge), `<p>a`, `<p>b`, `<p>c` on 10.231.N.0/24;
/// removed (with their links) when dropped.
struct Lan {
    prefix: String,
    subnet: String,
}

impl Lan {
    fn new() -> Option<Lan> {
        let n = std::process::id() % 200 + 20;
        let prefix = format!("tn{n}");
        let lan = Lan {
            subnet: format!("10.231.{n}"),
            prefix,
        };
        let hub = lan.ns('h');
        if !ip(&["netns", "add", &hub]) {
            return transit_testkit::tools::skip(
                "network namespaces (`ip netns add` as root)",
                "run as root with iproute2",
            );
        }
        let ok = ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"])
            && ip(&["-n", &hub, "link", "set", "br0", "up"])
            && ['a', 'b', 'c'].iter().enumerate().all(|(i, side)| {
                let ns = lan.ns(*side);
                let (outer, inner) = (
                    format!("{}{side}o", lan.prefix),
                    format!("{}{side}i", lan.prefix),
                );
                ip(&["netns", "add", &ns])
                    && ip(&[
                        "link", "add", &outer, "type", "veth", "peer", "name", &inner,
                    ])
                    && ip(&["link", "set", &outer, "netns", &hub])
                    && ip(&["link", "set", &inner, "netns", &ns])
                    && ip(&["-n", &hub, "link", "set", &outer, "master", "br0", "up"])
                    && ip(&[
                        "-n",
                        &ns,
                        "addr",
                        "add",
                        &format!("{}.{}/24", lan.subnet, i + 1),
                        "dev",
                        &inner,
                    ])
                    && ip(&["-n", &ns, "link", "set", &inner, "up"])
                    && ip(&["-n", &ns, "link", "set", "lo", "up"])
            });
        assert!(ok, "setting up the namespaces failed");
        Some(lan)
    }

    fn ns(&self, side: char) -> String {
        format!("{}{side}", self.prefix)
    }

    fn addr(&self, side: char) -> String {
        let i = match side {
            'a' => 1,
            'b' => 2,
            _ => 3,
        };
        format!("{}.{i}", self.subnet)
    }

    fn broadcast(&self) -> String {
        format!("{}.255", self.subnet)
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for side in ['a', 'b', 'c', 'h'] {
            ip(&["netns", "del", &self.ns(side)]);
        }
    }
}

/// `transit … ARGS` inside namespace `ns`.
fn in_ns(ns: &str, root: &Path) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns])
        .arg(assert_cmd::cargo::cargo_bin("transit"))
        .arg("--server-root")
        .arg(root)
        .env_remove("TRANSIT_LOG");
    c
}

/// Starts a provider in `ns` on `addr:8092` with discovery `key`.
fn provider(ns: &str, root: &Path, data: &Path, addr: &str, key: &str) -> Kid {
    let mut child = in_ns(ns, root)
        .args([
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
        .arg(data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on http://"), "{line}");
    Kid(child)
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
