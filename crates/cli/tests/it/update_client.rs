//! `transit update client …` end to end: real providers on loopback
//! (`transit update provider`), real agents (`transit update client run`),
//! real bundles signed by a real publisher key.

use crate::common::{transit, Exit, ExitAssert};
use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(crate) fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

/// A child process killed when the test ends.
pub(crate) struct Kid(pub(crate) Child);

impl Drop for Kid {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

const APP: &str = "Interaction Desktop";

/// A provider's data folder with a trusted publisher, and the files a
/// client trusts.
pub(crate) struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub(crate) fn new() -> Fixture {
        let f = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        let data = f.p("data");
        transit(&f.root())
            .args(["update", "keygen", "--data"])
            .arg(&data)
            .arg("--root-key")
            .arg(f.p("offline/root.key"))
            .assert()
            .success();
        transit(&f.root())
            .args(["update", "keygen", "--publisher", "Genesys", "--out"])
            .arg(f.p("pub"))
            .assert()
            .success();
        transit(&f.root())
            .args(["update", "publishers", "add", "--data"])
            .arg(&data)
            .arg(f.p("pub/Genesys.pub"))
            .assert()
            .success();
        // The server root that holds the licence.
        std::fs::create_dir_all(f.p("cic")).unwrap();
        std::fs::write(f.p("cic/licence.txt"), "I3_FEATURE_SU_ALLOWED\n").unwrap();
        f
    }

    pub(crate) fn p(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub(crate) fn root(&self) -> PathBuf {
        self.p("no-server")
    }

    /// A payload folder: `files` plus an optional install hook.
    pub(crate) fn payload(
        &self,
        name: &str,
        files: &[(&str, Vec<u8>)],
        hook: Option<&str>,
    ) -> PathBuf {
        let dir = self.p(&format!("payloads/{name}"));
        for (rel, bytes) in files {
            let path = dir.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
        if let Some(script) = hook {
            use std::os::unix::fs::PermissionsExt;
            let path = dir.join("transit-hook");
            std::fs::write(&path, script).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    /// A signed bundle of `payload` for patch `patch` (version 18.01.PP.01).
    pub(crate) fn bundle(&self, payload: &Path, patch: u16, extra: &str) -> PathBuf {
        let manifest = self.p(&format!("m{patch}.toml"));
        std::fs::write(
            &manifest,
            format!(
                r#"application = "{APP}"
release = "2018 R1"
patch = {patch}
install_type = "Patch"
install_version = "18.01.{patch:02}.01"
upgrade_code = "{{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}}"
product_code = "{{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}}"
publisher = "Genesys"
{extra}
"#
            ),
        )
        .unwrap();
        let out = self.p(&format!("p{patch}.tbundle"));
        transit(&self.root())
            .args(["update", "bundle", "--from"])
            .arg(payload)
            .arg("--manifest")
            .arg(&manifest)
            .arg("--key")
            .arg(self.p("pub/Genesys.key"))
            .arg("-o")
            .arg(&out)
            .assert()
            .success();
        out
    }

    /// Adds a bundle to the provider's data folder and marks it GA; its ID.
    pub(crate) fn add_ga(&self, bundle: &Path, data: &str) -> i64 {
        let out = transit(&self.root())
            .args(["update", "add", "--json", "--data"])
            .arg(self.p(data))
            .arg(bundle)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let id = json(&out)["id"].as_i64().unwrap();
        transit(&self.root())
            .args(["update", "set-state", "--data"])
            .arg(self.p(data))
            .args([&id.to_string(), "ga"])
            .assert()
            .success();
        id
    }

    /// Starts a provider on `data` at `port`; returns it and its URL.
    pub(crate) fn provider(&self, data: &str, port: u16) -> (Kid, String) {
        self.provider_with(data, port, &[])
    }

    /// Starts a provider on `data` at `port` with `extra` arguments.
    pub(crate) fn provider_with(&self, data: &str, port: u16, extra: &[&str]) -> (Kid, String) {
        let listen = format!("127.0.0.1:{port}");
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
            .args(["update", "provider", "--release", "2018 R1", "--patch", "9"])
            .args(["--listen", &listen, "--data"])
            .arg(self.p(data))
            .args(extra)
            .env_remove("TRANSIT_LOG")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.contains("listening on http://"), "{line}");
        (Kid(child), format!("http://{listen}"))
    }

    /// Writes a client.toml for client `name` and returns its path.
    pub(crate) fn client(
        &self,
        name: &str,
        providers: &[&str],
        extra: &str,
        tail: &str,
    ) -> PathBuf {
        let dir = self.p(&format!("clients/{name}"));
        std::fs::create_dir_all(&dir).unwrap();
        let list: Vec<String> = providers.iter().map(|p| format!("{p:?}")).collect();
        let text = format!(
            r#"[client]
name = "{name}"
state_dir = "state"
install_root = "apps"
trust_root = {root:?}
publishers = {publishers:?}
server_root = {cic:?}
providers = [{list}]
check_min = "1s"
check_max = "2s"
{extra}
{tail}
"#,
            root = self.p("data/repository/metadata/1.root.json"),
            publishers = self.p("data/publishers.toml"),
            cic = self.p("cic"),
            list = list.join(", "),
        );
        let path = dir.join("client.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `transit update client install-bundle --config CONFIG BUNDLE`.
    pub(crate) fn install_bundle(&self, config: &Path, bundle: &Path) -> assert_cmd::Command {
        let mut cmd = transit(&self.root());
        cmd.args(["update", "client", "install-bundle", "--config"])
            .arg(config)
            .arg(bundle);
        cmd
    }

    /// `transit update client ARGS --config CONFIG`: the local control
    /// commands that talk to a running agent.
    fn ctl(&self, config: &Path, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = transit(&self.root());
        cmd.args(["update", "client"])
            .args(args)
            .arg("--config")
            .arg(config);
        cmd
    }

    /// Starts the agent as a daemon (`update client run`), stopped on drop.
    fn daemon(&self, config: &Path) -> Kid {
        Kid(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
                .args(["update", "client", "run", "--config"])
                .arg(config)
                .env_remove("TRANSIT_LOG")
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        )
    }

    fn run_once(&self, config: &Path, apply: bool) -> assert_cmd::Command {
        let mut cmd = transit(&self.root());
        cmd.args(["update", "client", "run", "--once", "--json", "--config"])
            .arg(config);
        if apply {
            cmd.arg("--apply");
        }
        cmd
    }
}

pub(crate) fn app_dir(config: &Path) -> PathBuf {
    config.parent().unwrap().join("apps").join(APP)
}

pub(crate) fn current(config: &Path) -> Option<String> {
    std::fs::read_link(app_dir(config).join("current"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// Asserts the tree `current` points at holds exactly `payload`'s files.
fn assert_tree(config: &Path, payload: &Path) {
    let tree = app_dir(config).join("current");
    let mut want = Vec::new();
    let mut got = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p.strip_prefix(base).unwrap().to_string_lossy().into_owned();
                out.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    walk(payload, payload, &mut want);
    let tree = tree.canonicalize().unwrap();
    walk(&tree, &tree, &mut got);
    want.sort();
    got.sort();
    let names = |v: &Vec<(String, Vec<u8>)>| v.iter().map(|x| x.0.clone()).collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want), "files of {}", tree.display());
    assert!(got == want, "file contents of {} differ", tree.display());
}

pub(crate) fn files(n: usize, tag: &str, size: usize) -> Vec<(String, Vec<u8>)> {
    (0..n)
        .map(|i| {
            let body: Vec<u8> = format!("{tag} file {i}\n")
                .into_bytes()
                .into_iter()
                .cycle()
                .take(size)
                .collect();
            (format!("bin/f{i:03}.txt"), body)
        })
        .collect()
}

pub(crate) fn as_refs(v: &[(String, Vec<u8>)]) -> Vec<(&str, Vec<u8>)> {
    v.iter().map(|(a, b)| (a.as_str(), b.clone())).collect()
}

#[test]
fn client_settings_are_validated_and_name_the_setting() {
    let f = Fixture::new();
    let cases = [
        ("max_message_size = 2147483648", "max_message_size"),
        ("send_timeout = 601", "send_timeout"),
        ("check_min = \"0s\"", "check_min"),
        ("verify_signatures = false", "--allow-unverified"),
    ];
    for (i, (extra, name)) in cases.iter().enumerate() {
        let config = f.client(&format!("bad{i}"), &["127.0.0.1:9"], extra, "");
        let out = f
            .run_once(&config, false)
            .assert()
            .exit(Exit::BadInput)
            .get_output()
            .stderr
            .clone();
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains(name), "{extra}: {text}");
    }
    // Turned off explicitly: allowed, and said loudly.
    let config = f.client("off", &["127.0.0.1:9"], "verify_signatures = false", "");
    let out = transit(&f.root())
        .args([
            "update",
            "client",
            "run",
            "--once",
            "--allow-unverified",
            "--config",
        ])
        .arg(&config)
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .stderr
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("verify_signatures is off"), "{text}");
    assert!(text.contains("no provider answered"), "{text}");
}

#[test]
fn agent_fails_over_installs_reports_and_rolls_back() {
    let f = Fixture::new();
    let v1_files = files(3, "v1", 100);
    let v1 = f.payload("v1", &as_refs(&v1_files), None);
    let v2_files = files(4, "v2", 200);
    let v2 = f.payload(
        "v2",
        &as_refs(&v2_files),
        Some("#!/bin/sh\necho \"$TRANSIT_APPLICATION $TRANSIT_VERSION from $TRANSIT_PREVIOUS\" > ../hook.log\nexit 10\n"),
    );
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    let id2 = f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());
    let dead = format!("http://127.0.0.1:{}", free_port());
    let log = f.p("stops.log");
    let control = format!(
        "[apps.\"{APP}\"]\nstop = [\"sh\", \"-c\", \"echo stop >> {l}\"]\nstart = [\"sh\", \"-c\", \"echo start >> {l}\"]\n",
        l = log.display()
    );
    let config = f.client("ws1", &[&dead, &url], "", &control);

    // The licence gate: nothing installs without the feature.
    std::fs::write(f.p("cic/licence.txt"), "I3_FEATURE_OTHER\n").unwrap();
    f.install_bundle(&config, &b1)
        .assert()
        .exit(Exit::Refused)
        .stderr(predicates::str::contains("I3_FEATURE_SU_ALLOWED"));
    std::fs::write(f.p("cic/licence.txt"), "I3_FEATURE_SU_ALLOWED\n").unwrap();
    f.install_bundle(&config, &b1).assert().success();
    assert_eq!(current(&config).as_deref(), Some("18.01.01.01"));
    assert_tree(&config, &v1);

    // Default group: Download mode. The dead provider is skipped.
    let out = f.run_once(&config, false).assert().success();
    let report = json(&out.get_output().stdout);
    assert_eq!(report["status"]["provider"], url.as_str(), "{report}");
    assert_eq!(report["results"][0]["status"], "Downloaded", "{report}");
    assert_eq!(current(&config).as_deref(), Some("18.01.01.01"));

    // Apply (Express): installed, hook run, restart required, apps stopped and started.
    let out = f.run_once(&config, true).assert().success();
    let report = json(&out.get_output().stdout);
    let results = report["results"].as_array().unwrap();
    let installed = results.iter().find(|r| r["status"] == "Installed").unwrap();
    assert_eq!(installed["id"], id2);
    assert!(installed["description"]
        .as_str()
        .unwrap()
        .contains("restart required"));
    assert_eq!(current(&config).as_deref(), Some("18.01.02.01"));
    assert_tree(&config, &v2);
    let prev = std::fs::read_link(app_dir(&config).join("previous")).unwrap();
    assert_eq!(prev.to_string_lossy(), "18.01.01.01");
    assert_eq!(
        std::fs::read_to_string(app_dir(&config).join("hook.log")).unwrap(),
        format!("{APP} 18.01.02.01 from 18.01.01.01\n")
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "stop\nstart\n");
    assert_eq!(report["status"]["restart_required"], true);

    // The provider has the results and the machine's report.
    let machine_id = report["status"]["machine_id"].as_str().unwrap().to_string();
    // One more check-in reports what is installed now.
    f.run_once(&config, false).assert().success();
    let out = transit(&f.root())
        .args([
            "update",
            "machines",
            "show",
            &machine_id,
            "--json",
            "--provider",
            &url,
        ])
        .assert()
        .success();
    let detail = json(&out.get_output().stdout);
    assert_eq!(
        detail["machine"]["installed"][0]["version"], "18.01.02.01",
        "{detail}"
    );
    assert_eq!(detail["machine"]["installed"][0]["previous"], "18.01.01.01");
    assert_eq!(detail["machine"]["restart_required"], true);
    let out = transit(&f.root())
        .args(["update", "activity", "--json", "--provider", &url])
        .assert()
        .success();
    let text = json(&out.get_output().stdout).to_string();
    assert!(
        text.contains("\"Installed\"") && text.contains("\"Downloaded\""),
        "{text}"
    );

    // The previous version is kept for rolling back: installing it again
    // is refused and its tree stays as it was (the Remove below uses it).
    f.install_bundle(&config, &b1)
        .assert()
        .exit(Exit::Refused)
        .stderr(predicates::str::contains(
            "previous version kept for rolling back",
        ));
    assert_eq!(current(&config).as_deref(), Some("18.01.02.01"));

    // Remove: back to the previous version at the next check-in, whatever the mode.
    transit(&f.root())
        .args([
            "update",
            "updates",
            "set-state",
            &id2.to_string(),
            "remove",
            "--provider",
            &url,
        ])
        .assert()
        .success();
    let out = f.run_once(&config, false).assert().success();
    let report = json(&out.get_output().stdout);
    assert_eq!(report["results"][0]["status"], "Removed", "{report}");
    assert_eq!(current(&config).as_deref(), Some("18.01.01.01"));
    assert_tree(&config, &v1);
    assert!(!app_dir(&config).join("18.01.02.01").exists());

    // Local settings: editable in the default group, validated, locked elsewhere.
    let set = |key: &str, value: &str| {
        let mut cmd = transit(&f.root());
        cmd.args(["update", "client", "set", "--config"])
            .arg(&config)
            .args([key, value]);
        cmd
    };
    set("send_timeout", "120").assert().success();
    assert!(std::fs::read_to_string(&config)
        .unwrap()
        .contains("send_timeout = 120"));
    set("max_message_size", "2147483648")
        .assert()
        .exit(Exit::BadInput)
        .stderr(predicates::str::contains("max_message_size"));
    transit(&f.root())
        .args(["update", "groups", "add", "North", "--provider", &url])
        .assert()
        .success();
    transit(&f.root())
        .args([
            "update",
            "groups",
            "add-members",
            "North",
            &machine_id,
            "--provider",
            &url,
        ])
        .assert()
        .success();
    f.run_once(&config, false).assert().success();
    set("send_timeout", "30")
        .assert()
        .exit(Exit::Refused)
        .stderr(predicates::str::contains(
            "locked: this machine is in group `North`",
        ));
}

#[test]
fn too_large_a_reply_names_max_message_size() {
    let f = Fixture::new();
    let (_p, url) = f.provider("data", free_port());
    let config = f.client("tiny", &[&url], "max_message_size = 64", "");
    f.run_once(&config, false)
        .assert()
        .exit(Exit::UpdateTooLarge)
        .stderr(predicates::str::contains("max_message_size (64 bytes)"));
}

#[test]
fn tampered_payload_or_metadata_is_never_unpacked_and_is_reported() {
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(2, "v1", 50)), None);
    let v2 = f.payload("v2", &as_refs(&files(2, "v2", 5000)), None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());
    let config = f.client("ws-t", &[&url], "", "");
    f.install_bundle(&config, &b1).assert().success();

    // A hostile provider serves a payload with one byte changed.
    let targets = f.p("data/repository/targets");
    let target = std::fs::read_dir(&targets)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().contains("18.01.02.01"))
        .unwrap();
    let good = std::fs::read(&target).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x40;
    std::fs::write(&target, &bad).unwrap();
    let out = f.run_once(&config, true).assert().success();
    let report = json(&out.get_output().stdout);
    let text = report["results"].to_string();
    assert!(
        text.contains("Download Failed") && text.contains("does not match"),
        "{text}"
    );
    assert_eq!(current(&config).as_deref(), Some("18.01.01.01"));
    assert!(!app_dir(&config).join("18.01.02.01").exists());
    assert!(!app_dir(&config).join(".staging-18.01.02.01").exists());
    let out = transit(&f.root())
        .args(["update", "activity", "--json", "--provider", &url])
        .assert()
        .success();
    let activity = json(&out.get_output().stdout).to_string();
    assert!(
        activity.contains("Download Failed") && activity.contains("does not match its metadata"),
        "{activity}"
    );

    // Tampered metadata: refused before any payload is fetched.
    std::fs::write(&target, &good).unwrap();
    let ts = f.p("data/repository/metadata/timestamp.json");
    let mut doc = json(&std::fs::read(&ts).unwrap());
    doc["signed"]["expires"] = serde_json::json!("2099-01-01T00:00:00Z");
    std::fs::write(&ts, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = f.run_once(&config, true).assert().success();
    let text = json(&out.get_output().stdout)["results"].to_string();
    assert!(
        text.contains("metadata refused") && text.contains("tampered"),
        "{text}"
    );
    assert_eq!(current(&config).as_deref(), Some("18.01.01.01"));
    let out = transit(&f.root())
        .args(["update", "activity", "--json", "--provider", &url])
        .assert()
        .success();
    assert!(json(&out.get_output().stdout)
        .to_string()
        .contains("metadata refused"));
    // The next check-in reports the errors: the machine is in ErrorState.
    let out = f.run_once(&config, false).assert().success();
    let machine_id = json(&out.get_output().stdout)["status"]["machine_id"]
        .as_str()
        .unwrap()
        .to_string();
    let out = transit(&f.root())
        .args([
            "update",
            "machines",
            "show",
            &machine_id,
            "--json",
            "--provider",
            &url,
        ])
        .assert()
        .success();
    let detail = json(&out.get_output().stdout);
    assert_eq!(detail["assessment"]["status"], "ErrorState", "{detail}");
    assert!(
        detail["machine"]["errors"]
            .to_string()
            .contains("metadata refused"),
        "{detail}"
    );
}

/// A TCP relay in front of a provider that cuts the first `drops`
/// connections after `after` bytes towards the client; counts the bytes
/// it passed to the client.
fn flaky_relay(upstream: String, after: u64, drops: u64) -> (u16, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let passed = Arc::new(AtomicU64::new(0));
    let left = Arc::new(AtomicU64::new(drops));
    let counter = Arc::clone(&passed);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(client) = conn else { break };
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (mut c_read, mut s_write) =
                (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut c_read, &mut s_write);
                let _ = s_write.shutdown(std::net::Shutdown::Write);
            });
            let counter = Arc::clone(&counter);
            let left = Arc::clone(&left);
            std::thread::spawn(move || {
                let (mut s_read, mut c_write) = (server, client);
                let mut buf = [0u8; 16 * 1024];
                let mut sent = 0u64;
                let cut = left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                loop {
                    let n = match s_read.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let n = if cut {
                        n.min((after - sent) as usize)
                    } else {
                        n
                    };
                    if c_write.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    sent += n as u64;
                    counter.fetch_add(n as u64, Ordering::SeqCst);
                    if cut && sent >= after {
                        let _ = c_write.shutdown(std::net::Shutdown::Both);
                        let _ = s_read.shutdown(std::net::Shutdown::Both);
                        break;
                    }
                }
            });
        }
    });
    (port, passed)
}

#[test]
fn dropped_connections_resume_with_range() {
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(1, "v1", 10)), None);
    // 3 MiB that zstd cannot shrink.
    let mut noise = vec![0u8; 3 << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let v2 = f.payload("v2", &[("big.bin", noise)], None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());
    let (port, passed) = flaky_relay(url.trim_start_matches("http://").to_string(), 700 * 1024, 3);
    let config = f.client("ws-r", &[&format!("http://127.0.0.1:{port}")], "", "");
    f.install_bundle(&config, &b1).assert().success();
    let out = f
        .run_once(&config, true)
        .arg("--max-rate")
        .arg("0")
        .assert()
        .success();
    let report = json(&out.get_output().stdout);
    let results = report["results"].to_string();
    assert!(results.contains("\"Installed\""), "{report}");
    assert_eq!(current(&config).as_deref(), Some("18.01.02.01"));
    assert_tree(&config, &v2);
    let status = &report["status"];
    assert!(
        status["dropped_connections"].as_u64().unwrap() >= 3,
        "{status}"
    );
    assert!(status["resumed"].as_u64().unwrap() >= 3, "{status}");
    let length = std::fs::metadata(
        std::fs::read_dir(f.p("data/repository/targets"))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().contains("18.01.02.01"))
            .unwrap(),
    )
    .unwrap()
    .len();
    // Nothing was fetched twice: what the agent received is the payload.
    assert_eq!(
        status["received_bytes"].as_u64().unwrap(),
        length,
        "{status}"
    );
    assert!(passed.load(Ordering::SeqCst) >= length);
}

#[test]
fn kills_during_apply_and_remove_complete_or_roll_back() {
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(20, "v1", 4000)), None);
    let v2 = f.payload(
        "v2",
        &as_refs(&files(40, "v2", 8000)),
        Some("#!/bin/sh\nexit 0\n"),
    );
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    let id2 = f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());

    let fresh = |name: &str| {
        let config = f.client(name, &[&url], "", "");
        f.install_bundle(&config, &b1).assert().success();
        config
    };
    let killed = |config: &Path, step: &str, apply: bool| {
        let out = f
            .run_once(config, apply)
            .env("TRANSIT_CRASH_AT", format!("client:{step}"))
            .output()
            .unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(out.status.signal(), Some(9), "{step}: {out:?}");
    };
    // Killed at each step of an install: the old tree before Ready, the new one after.
    for (step, after) in [
        ("journal", "18.01.01.01"),
        ("unpacking", "18.01.01.01"),
        ("unpacked", "18.01.01.01"),
        ("ready", "18.01.02.01"),
        ("switched", "18.01.02.01"),
    ] {
        let config = fresh(&format!("k-{step}"));
        killed(&config, step, true);
        // Whatever the kill left, `current` is a complete tree.
        match current(&config).as_deref() {
            Some("18.01.01.01") => assert_tree(&config, &v1),
            Some("18.01.02.01") => assert_tree(&config, &v2),
            other => panic!("{step}: current is {other:?}"),
        }
        // The next start completes or rolls back, and reports it.
        let out = f.run_once(&config, false).assert().success();
        let report = json(&out.get_output().stdout);
        assert_eq!(current(&config).as_deref(), Some(after), "{step}");
        if after == "18.01.01.01" {
            assert_tree(&config, &v1);
            assert!(
                !app_dir(&config).join(".staging-18.01.02.01").exists(),
                "{step}"
            );
        } else {
            assert_tree(&config, &v2);
        }
        assert!(!config.parent().unwrap().join("state/journal.json").exists());
        let log =
            std::fs::read_to_string(config.parent().unwrap().join("state/agent.log")).unwrap();
        assert!(
            log.contains("recovered an interrupted Install"),
            "{step}: {log}"
        );
        let _ = report;
    }

    // Killed during Remove: the next start finishes the rollback.
    transit(&f.root())
        .args([
            "update",
            "updates",
            "set-state",
            &id2.to_string(),
            "remove",
            "--provider",
            &url,
        ])
        .assert()
        .success();
    for step in ["remove-journal", "remove-switched"] {
        let config = fresh(&format!("k-{step}"));
        // Install v2 (the Remove state hides it from new offers, so install the bundle).
        f.install_bundle(&config, &b2).assert().success();
        killed(&config, step, false);
        match current(&config).as_deref() {
            Some("18.01.01.01") => assert_tree(&config, &v1),
            Some("18.01.02.01") => assert_tree(&config, &v2),
            other => panic!("{step}: current is {other:?}"),
        }
        f.run_once(&config, false).assert().success();
        assert_eq!(current(&config).as_deref(), Some("18.01.01.01"), "{step}");
        assert_tree(&config, &v1);
        assert!(!app_dir(&config).join("18.01.02.01").exists(), "{step}");
    }
}

pub(crate) fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn daemon_checks_in_on_its_timer_obeys_the_socket_and_moves_provider() {
    let f = Fixture::new();
    let port2 = free_port();
    let v1 = f.payload("v1", &as_refs(&files(1, "v1", 10)), None);
    let v2 = f.payload("v2", &as_refs(&files(2, "v2", 10)), None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(
        &v2,
        2,
        &format!("[installer_properties]\nprovidername = \"x\"\nproviderservername = \"127.0.0.1:{port2}\""),
    );
    let id2 = f.add_ga(&b2, "data");
    // The second provider serves a copy of the same repository.
    let copy = std::process::Command::new("cp")
        .arg("-a")
        .arg(f.p("data"))
        .arg(f.p("data2"))
        .status()
        .unwrap();
    assert!(copy.success());
    let (_p1, url1) = f.provider("data", free_port());
    let (_p2, url2) = f.provider("data2", port2);
    let config = f.client("ws-d", &[&url1], "", "");
    f.install_bundle(&config, &b1).assert().success();
    let daemon = f.daemon(&config);
    let ctl = |args: &[&str]| f.ctl(&config, args);
    // The timer's first check-in comes 1-2 s after the start.
    wait_for("the first check-in", || {
        let out = ctl(&["status", "--json"]).output().unwrap();
        out.status.success() && json(&out.stdout)["last_checkin"].is_string()
    });
    let out = ctl(&["status", "--json"]).assert().success();
    let status = json(&out.get_output().stdout);
    assert_eq!(status["provider"], url1.as_str());
    assert_eq!(status["settings"]["mode"], "Download");
    assert_eq!(status["discovery_key"], "Production");

    // A manual check lists the offer; "later" waits for the schedule.
    let out = ctl(&["check", "--json"]).assert().success();
    let check = json(&out.get_output().stdout);
    assert_eq!(check["available"][0]["id"], id2, "{check}");
    ctl(&["apply", "--later"])
        .assert()
        .success()
        .stdout(predicates::str::contains("next scheduled time"));
    assert_eq!(
        json(&ctl(&["status", "--json"]).output().unwrap().stdout)["later"],
        true
    );
    // Custom apply of the chosen update: installed; the update moves the client.
    let out = ctl(&["apply", "--id", &id2.to_string(), "--json"])
        .assert()
        .success();
    let applied = json(&out.get_output().stdout);
    assert_eq!(applied[0]["status"], "Installed", "{applied}");
    assert!(applied[0]["description"].as_str().unwrap().contains(&url2));
    assert_eq!(current(&config).as_deref(), Some("18.01.02.01"));
    ctl(&["cancel"])
        .assert()
        .success()
        .stdout(predicates::str::contains("nothing to cancel"));
    // The next check goes to the provider the update named.
    let out = ctl(&["check", "--json"]).assert().success();
    assert_eq!(json(&out.get_output().stdout)["provider"], url2.as_str());
    let machine = json(&ctl(&["status", "--json"]).output().unwrap().stdout)["machine_id"]
        .as_str()
        .unwrap()
        .to_string();
    transit(&f.root())
        .args(["update", "machines", "show", &machine, "--provider", &url2])
        .assert()
        .success();
    let out = ctl(&["log", "--lines", "100"]).assert().success();
    let log = String::from_utf8_lossy(&out.get_output().stdout).into_owned();
    assert!(
        log.contains("providerservername") && log.contains("checked in at"),
        "{log}"
    );
    // Only one agent per state folder.
    f.run_once(&config, false).assert().exit(Exit::Refused);
    // SIGTERM stops it and removes its socket.
    let term = std::process::Command::new("kill")
        .args(["-TERM", &daemon.0.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    wait_for("the socket to go", || {
        !config.parent().unwrap().join("state/control.sock").exists()
    });
    ctl(&["status"]).assert().exit(Exit::Refused);
}

#[test]
fn install_unit_writes_a_marked_daemon_unit() {
    let f = Fixture::new();
    let config = f.client("ws-u", &["127.0.0.1:9"], "", "");
    let units = f.p("units");
    transit(&f.root())
        .args(["update", "client", "install-unit", "--config"])
        .arg(&config)
        .arg("--unit-dir")
        .arg(&units)
        .assert()
        .success();
    let text = std::fs::read_to_string(units.join("transit-update-client.service")).unwrap();
    assert!(
        text.contains("Type=simple") && text.contains("Restart=on-failure"),
        "{text}"
    );
    assert!(
        text.contains(r#""update" "client" "run" "--config""#),
        "{text}"
    );
    assert!(text.contains("# transit-update-client:"), "{text}");
    if let Some(analyze) =
        crate::common::tool_or_skip(&["systemd-analyze"], "apt-get install systemd")
    {
        let verify = std::process::Command::new(analyze)
            .arg("verify")
            .arg(units.join("transit-update-client.service"))
            .output()
            .unwrap();
        assert!(verify.status.success(), "{verify:?}");
        assert!(
            verify.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&verify.stderr)
        );
    }
}

/// A forward HTTP proxy on loopback that wants `alice:s3cret` (Basic) on
/// the first request of each connection (407 otherwise) and then relays
/// the connection to the host the request names; counts both outcomes.
fn auth_proxy() -> (u16, Arc<AtomicU64>, Arc<AtomicU64>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let forwarded = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let (fw, rf) = (Arc::clone(&forwarded), Arc::clone(&refused));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut client) = conn else { break };
            let (fw, rf) = (Arc::clone(&fw), Arc::clone(&rf));
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match client.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let text = String::from_utf8_lossy(&head).to_string();
                let authorized = text.lines().any(|l| {
                    l.to_ascii_lowercase().starts_with("proxy-authorization:")
                        && l.ends_with("Basic YWxpY2U6czNjcmV0")
                });
                if !authorized {
                    rf.fetch_add(1, Ordering::SeqCst);
                    let _ = client.write_all(
                        b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    return;
                }
                let target = text.split_whitespace().nth(1).unwrap_or("").to_string();
                let host = target
                    .trim_start_matches("http://")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let Ok(mut server) = TcpStream::connect(&host) else {
                    return;
                };
                fw.fetch_add(1, Ordering::SeqCst);
                if server.write_all(&head).is_err() {
                    return;
                }
                let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c2, &mut s2);
                    let _ = s2.shutdown(std::net::Shutdown::Write);
                });
                let _ = std::io::copy(&mut server, &mut client);
                let _ = client.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    (port, forwarded, refused)
}

#[test]
fn check_ins_and_downloads_go_through_the_authenticating_proxy() {
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(1, "v1", 10)), None);
    let v2 = f.payload("v2", &as_refs(&files(2, "v2", 3000)), None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());
    let (proxy, forwarded, refused) = auth_proxy();
    let tail = |password: &str| {
        format!(
            "[proxy]\nurl = \"127.0.0.1:{proxy}\"\nuser = \"alice\"\npassword = \"{password}\"\n"
        )
    };
    let wrong = f.client("ws-p1", &[&url], "", &tail("guess"));
    f.run_once(&wrong, false)
        .assert()
        .exit(Exit::Failure)
        .stderr(predicates::str::contains("407"));
    assert!(refused.load(Ordering::SeqCst) >= 1);
    assert_eq!(forwarded.load(Ordering::SeqCst), 0);

    let config = f.client("ws-p2", &[&url], "", &tail("s3cret"));
    f.install_bundle(&config, &b1).assert().success();
    let out = f.run_once(&config, true).assert().success();
    let report = json(&out.get_output().stdout);
    assert!(
        report["results"].to_string().contains("\"Installed\""),
        "{report}"
    );
    assert_eq!(current(&config).as_deref(), Some("18.01.02.01"));
    assert!(forwarded.load(Ordering::SeqCst) >= 1);
}

#[test]
fn cancel_stops_a_running_download_and_installs_nothing() {
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(1, "v1", 10)), None);
    let mut noise = vec![0u8; 2 << 20];
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let v2 = f.payload("v2", &[("big.bin", noise)], None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());
    // The default group is in Download mode: the timer's first check-in
    // would download at once, so it is pushed 10 minutes out.
    let config = f
        .client("ws-c", &[&url], "max_rate = 100000", "")
        .to_path_buf();
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "check_min = \"1s\"\ncheck_max = \"2s\"",
        "check_min = \"10m\"\ncheck_max = \"10m\"",
    );
    std::fs::write(&config, text).unwrap();
    f.install_bundle(&config, &b1).assert().success();
    let _daemon = f.daemon(&config);
    let ctl = |args: &[&str]| f.ctl(&config, args);
    wait_for("the control socket", || {
        ctl(&["status"]).output().unwrap().status.success()
    });
    // Apply runs in the background: 2 MiB at 100 kB/s takes about 20 s.
    let apply = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .args(["--server-root"])
        .arg(f.root())
        .args(["update", "client", "apply", "--json", "--config"])
        .arg(&config)
        .env_remove("TRANSIT_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("the download to start", || {
        let out = ctl(&["status", "--json"]).output().unwrap();
        out.status.success() && json(&out.stdout)["received_bytes"].as_u64().unwrap_or(0) > 0
    });
    ctl(&["cancel"])
        .assert()
        .success()
        .stdout(predicates::str::contains("cancelled"));
    let out = apply.wait_with_output().unwrap();
    assert!(!out.status.success(), "apply after cancel: {out:?}");
    let results = json(&out.stdout);
    assert_eq!(results[0]["status"], "Download Failed", "{results}");
    assert!(results[0]["description"]
        .as_str()
        .unwrap()
        .contains("cancelled"));
    assert_eq!(current(&config).as_deref(), Some("18.01.01.01"));
    assert!(!app_dir(&config).join("18.01.02.01").exists());
}

#[test]
fn group_modes_decide_and_high_priority_ignores_them() {
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(1, "v1", 10)), None);
    let v2 = f.payload("v2", &as_refs(&files(2, "v2", 10)), None);
    let v3 = f.payload("v3", &as_refs(&files(3, "v3", 10)), None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    let b3 = f.bundle(&v3, 3, "high_priority = true");
    f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());
    // The Automatic group's install hour is 12 hours away: it only downloads now.
    let hour = (time::OffsetDateTime::now_utc().hour() + 12) % 24;
    for (group, mode) in [("N", "notify"), ("M", "manual"), ("A", "automatic")] {
        transit(&f.root())
            .args([
                "update", "groups", "add", group, "--mode", mode, "--day", "everyday",
            ])
            .args(["--hour", &hour.to_string(), "--provider", &url])
            .assert()
            .success();
    }
    let mode_of = |g: &str| match g {
        "N" => "notify",
        "M" => "manual",
        _ => "automatic",
    };
    let mut configs = Vec::new();
    for group in ["N", "M", "A"] {
        let config = f.client(
            &format!("ws-{group}"),
            &[&url],
            &format!("group = {group:?}"),
            "",
        );
        f.install_bundle(&config, &b1).assert().success();
        let out = f.run_once(&config, false).assert().success();
        let report = json(&out.get_output().stdout);
        assert_eq!(report["status"]["settings"]["group"], group, "{report}");
        let mode = report["status"]["settings"]["mode"]
            .as_str()
            .unwrap()
            .to_lowercase();
        assert_eq!(mode, mode_of(group), "{report}");
        assert_eq!(report["status"]["available"].as_array().unwrap().len(), 1);
        let statuses = report["results"].to_string();
        if group == "A" {
            assert!(statuses.contains("\"Downloaded\""), "{group}: {report}");
        } else {
            assert_eq!(
                report["results"],
                serde_json::json!([]),
                "{group}: {report}"
            );
            assert_eq!(report["status"]["downloaded"], serde_json::json!([]));
        }
        assert_eq!(current(&config).as_deref(), Some("18.01.01.01"), "{group}");
        configs.push(config);
    }
    // A High Priority patch: installed at the next check-in, even in Manual mode.
    f.add_ga(&b3, "data");
    transit(&f.root())
        .args(["update", "updates", "list", "--provider", &url])
        .assert()
        .success();
    let out = f.run_once(&configs[1], false).assert().success();
    let report = json(&out.get_output().stdout);
    assert!(
        report["results"].to_string().contains("\"Installed\""),
        "{report}"
    );
    assert_eq!(current(&configs[1]).as_deref(), Some("18.01.03.01"));
    assert_tree(&configs[1], &v3);
}

#[test]
fn manual_mode_on_the_cic_servers_client_pauses_downloads_to_the_others() {
    let f = Fixture::new();
    let v1 = f.payload("v1", &as_refs(&files(1, "v1", 10)), None);
    let v2 = f.payload("v2", &as_refs(&files(2, "v2", 10)), None);
    let b1 = f.bundle(&v1, 1, "");
    let b2 = f.bundle(&v2, 2, "");
    f.add_ga(&b2, "data");
    let (_p, url) = f.provider("data", free_port());
    transit(&f.root())
        .args([
            "update",
            "groups",
            "add",
            "Servers",
            "--mode",
            "manual",
            "--provider",
            &url,
        ])
        .assert()
        .success();
    let cic = f.client(
        "cic01",
        &[&url],
        "cic_server = true\ngroup = \"Servers\"",
        "",
    );
    let ws = f.client("ws-m", &[&url], "", "");
    for config in [&cic, &ws] {
        f.install_bundle(config, &b1).assert().success();
    }
    f.run_once(&cic, false).assert().success();
    let out = f.run_once(&ws, false).assert().success();
    let text = json(&out.get_output().stdout)["results"].to_string();
    assert!(
        text.contains("Download Failed") && text.contains("paused"),
        "{text}"
    );
    // The CIC server's own client still gets its updates.
    let out = f.run_once(&cic, true).assert().success();
    assert!(json(&out.get_output().stdout)["results"]
        .to_string()
        .contains("\"Installed\""));
    // Out of Manual mode (seen at its next check-in): the others download again.
    transit(&f.root())
        .args([
            "update",
            "groups",
            "set",
            "Servers",
            "--mode",
            "notify",
            "--provider",
            &url,
        ])
        .assert()
        .success();
    f.run_once(&cic, false).assert().success();
    let out = f.run_once(&ws, false).assert().success();
    let text = json(&out.get_output().stdout)["results"].to_string();
    assert!(text.contains("\"Downloaded\""), "{text}");
}
