//! `transit update provider` and the commands over its API, end to end:
//! the real binary as the provider and as the client.

use crate::common::{transit, Exit, ExitAssert};
use std::io::BufRead;
use std::process::{Child, Stdio};

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

struct Provider(Child);

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn provider_and_the_groups_machines_updates_report_activity_and_simulate_commands() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("no-server");
    let data = dir.path().join("data");
    transit(&root)
        .args(["update", "keygen", "--data"])
        .arg(&data)
        .arg("--root-key")
        .arg(dir.path().join("offline/root.key"))
        .assert()
        .success();
    // Without a server root, the version gate must be given.
    transit(&root)
        .args(["update", "provider", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .assert()
        .exit(Exit::Usage);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .args(["update", "provider", "--release", "2018 R1", "--patch", "5"])
        .args(["--listen", &listen, "--data"])
        .arg(&data)
        .env_remove("TRANSIT_LOG")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _provider = Provider(child);
    assert!(line.contains("listening on http://"), "{line}");
    let url = format!("http://{listen}");
    let api = |args: &[&str]| {
        let mut cmd = transit(&root);
        cmd.args(["update"]).args(args).args(["--provider", &url]);
        cmd
    };

    let out = api(&[
        "simulate",
        "--clients",
        "20",
        "--rate",
        "40",
        "--duration",
        "1",
        "--json",
    ])
    .assert()
    .success();
    let report = json(&out.get_output().stdout);
    assert_eq!(report["sent"], 40);
    assert_eq!(report["ok"], 40);
    assert_eq!(report["errors"], serde_json::json!([]));

    let out = api(&[
        "groups", "add", "North", "--mode", "notify", "--day", "sunday", "--hour", "3", "--json",
    ])
    .assert()
    .success();
    assert_eq!(json(&out.get_output().stdout)["settings"]["mode"], "Notify");
    api(&[
        "groups",
        "add-members",
        "North",
        "sim-1-0000001",
        "sim-1-0000002",
    ])
    .assert()
    .success();
    let out = api(&["groups", "list", "--json"]).assert().success();
    let groups = json(&out.get_output().stdout);
    assert_eq!(groups[0]["name"], "Default");
    assert_eq!(groups[0]["members"], 18);
    assert_eq!(groups[1]["members"], 2);
    let out = api(&["machines", "list", "--search", "ws000000", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out.get_output().stdout).as_array().unwrap().len(), 10);
    api(&["machines", "show", "sim-1-0000001"])
        .assert()
        .success()
        .stdout(predicates::str::contains("in group North"));
    api(&["groups", "delete", "Default"])
        .assert()
        .exit(Exit::Refused);
    api(&["groups", "remove-member", "North", "sim-1-0000001"])
        .assert()
        .success();
    let out = api(&["groups", "delete", "North", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out.get_output().stdout)["changed"], 1);
    api(&["machines", "show", "nobody"])
        .assert()
        .exit(Exit::Usage);

    let out = api(&["report", "--since", "2w", "--json"])
        .assert()
        .success();
    let report = json(&out.get_output().stdout);
    assert_eq!(report["machines"].as_array().unwrap().len(), 20);
    api(&["report", "--since", "soon"])
        .assert()
        .exit(Exit::Usage);
    let out = api(&["updates", "list", "--json"]).assert().success();
    assert_eq!(json(&out.get_output().stdout), serde_json::json!([]));

    api(&["activity", "--csv"])
        .assert()
        .success()
        .stdout(predicates::str::starts_with(
            "time,machine,application,release,patch,status,description",
        ));
    let out = api(&["activity", "--sort", "machine", "--asc", "--json"])
        .assert()
        .success();
    assert_eq!(json(&out.get_output().stdout)["total"], 0);
    api(&["activity", "--clear"]).assert().success();

    // Nothing listens: a clear failure, not a hang.
    transit(&root)
        .args([
            "update",
            "groups",
            "list",
            "--provider",
            "http://127.0.0.1:9",
        ])
        .assert()
        .exit(Exit::Failure);
}

#[test]
fn server_start_hosts_the_provider_and_stop_ends_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    transit(&root)
        .args([
            "server",
            "init",
            "--name",
            "CIC01",
            "--site-name",
            "Indy",
            "--site-id",
            "1",
        ])
        .args(["--release", "2018 R1"])
        .assert()
        .success();
    let data = dir.path().join("data");
    transit(&root)
        .args(["update", "keygen", "--data"])
        .arg(&data)
        .arg("--root-key")
        .arg(dir.path().join("offline/root.key"))
        .assert()
        .success();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    transit(&root)
        .args([
            "server",
            "start",
            "--daemon",
            "--update-listen",
            &listen,
            "--update-data",
        ])
        .arg(&data)
        .assert()
        .success();
    let url = format!("http://{listen}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let out = transit(&root)
            .args(["update", "groups", "list", "--json", "--provider", &url])
            .output()
            .unwrap();
        if out.status.success() {
            assert_eq!(json(&out.stdout)[0]["name"], "Default");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the hosted provider never answered"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    transit(&root).args(["server", "stop"]).assert().success();
    transit(&root)
        .args(["update", "groups", "list", "--provider", &url])
        .assert()
        .exit(Exit::Failure);
}
