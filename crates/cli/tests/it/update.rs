//! `transit update …` end to end: the real binary, a real repository.

use crate::common::{transit, Exit, ExitAssert};
use std::path::Path;

fn write_manifest(path: &Path, publisher: &str, version: &str, patch: u16) {
    std::fs::write(
        path,
        format!(
            r#"application = "Interaction Desktop"
release = "2018 R1"
patch = {patch}
install_type = "Patch"
install_version = "{version}"
upgrade_code = "{{9F11553F-55EE-4E3F-A6ED-D21BB0B29D01}}"
product_code = "{{1A2B3C4D-0000-4E3F-A6ED-D21BB0B29D01}}"
publisher = "{publisher}"
"#
        ),
    )
    .unwrap();
}

fn json(out: &[u8]) -> serde_json::Value {
    serde_json::from_slice(out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(out)))
}

#[test]
fn keygen_bundle_verify_add_scan_check_and_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let p = |rel: &str| dir.path().join(rel);
    let root = p("no-server");
    let data = p("data");
    let data_s = data.to_str().unwrap();
    transit(&root)
        .args(["update", "keygen", "--data", data_s, "--root-key"])
        .arg(p("offline/root.key"))
        .assert()
        .success();
    // A second keygen over the same folder is refused.
    transit(&root)
        .args(["update", "keygen", "--data", data_s, "--root-key"])
        .arg(p("offline/root2.key"))
        .assert()
        .exit(Exit::Refused);
    transit(&root)
        .args(["update", "keygen", "--publisher", "Genesys", "--out"])
        .arg(p("pub"))
        .assert()
        .success();
    transit(&root)
        .args(["update", "keygen", "--publisher", "Mallory", "--out"])
        .arg(p("evil"))
        .assert()
        .success();
    transit(&root)
        .args(["update", "publishers", "add", "--data", data_s])
        .arg(p("pub/Genesys.pub"))
        .assert()
        .success();

    std::fs::create_dir_all(p("payload/bin")).unwrap();
    std::fs::write(p("payload/bin/setup.sh"), "#!/bin/sh\necho installed\n").unwrap();
    write_manifest(&p("m3.toml"), "Genesys", "18.01.03.12", 3);
    let bundle = |manifest: &str, key: &str, out: &str| {
        transit(&root)
            .args(["update", "bundle", "--from"])
            .arg(p("payload"))
            .arg("--manifest")
            .arg(p(manifest))
            .arg("--key")
            .arg(p(key))
            .arg("-o")
            .arg(p(out))
            .assert()
            .success();
    };
    bundle("m3.toml", "pub/Genesys.key", "p3.tbundle");
    let publishers = data.join("publishers.toml");
    transit(&root)
        .args(["update", "verify"])
        .arg(p("p3.tbundle"))
        .arg("--publishers")
        .arg(&publishers)
        .assert()
        .success();

    // Refusals, each with its exit status: a stranger's bundle, a tampered one.
    write_manifest(&p("evil.toml"), "Mallory", "18.01.03.13", 3);
    bundle("evil.toml", "evil/Mallory.key", "evil.tbundle");
    transit(&root)
        .args(["update", "verify"])
        .arg(p("evil.tbundle"))
        .arg("--publishers")
        .arg(&publishers)
        .assert()
        .exit(Exit::UpdatePublisher);
    transit(&root)
        .args(["update", "add", "--data", data_s])
        .arg(p("evil.tbundle"))
        .assert()
        .exit(Exit::UpdatePublisher);
    let mut bytes = std::fs::read(p("p3.tbundle")).unwrap();
    // The payload's data starts one 512-byte header block after its name.
    let at = bytes
        .windows(15)
        .position(|w| w == b"payload.tar.zst")
        .unwrap()
        + 512
        + 10;
    bytes[at] ^= 1;
    std::fs::write(p("tampered.tbundle"), bytes).unwrap();
    transit(&root)
        .args(["update", "verify"])
        .arg(p("tampered.tbundle"))
        .assert()
        .exit(Exit::UpdateBadBundle);
    // An unsigned bundle (the CLI always signs; the library can leave the
    // signature out) is refused by verify and by add, with its own code.
    transit_update::bundle::build(
        &p("payload"),
        &std::fs::read_to_string(p("m3.toml")).unwrap(),
        None,
        &p("unsigned.tbundle"),
        &transit_core::CancelToken::new(),
        &transit_core::NoProgress,
    )
    .unwrap();
    transit(&root)
        .args(["update", "verify"])
        .arg(p("unsigned.tbundle"))
        .arg("--publishers")
        .arg(&publishers)
        .assert()
        .exit(Exit::UpdateUnsigned);
    transit(&root)
        .args(["update", "add", "--data", data_s])
        .arg(p("unsigned.tbundle"))
        .assert()
        .exit(Exit::UpdateUnsigned);
    assert!(p("unsigned.tbundle").exists(), "a refused bundle is kept");

    // Upload: Pre-Approval; a state change that breaks the rules is refused.
    let out = transit(&root)
        .args(["update", "add", "--json", "--data", data_s])
        .arg(p("p3.tbundle"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let added = json(&out);
    assert_eq!(added["state"], "Pre-Approval");
    let target = added["target"].as_str().unwrap().to_string();
    transit(&root)
        .args(["update", "set-state", "--data", data_s, "1", "remove"])
        .assert()
        .exit(Exit::Refused);
    transit(&root)
        .args(["update", "set-state", "--data", data_s, "1", "ga"])
        .assert()
        .success();

    // The scanner's manual pass: the file is ingested and leaves its folder.
    std::fs::create_dir_all(p("drop")).unwrap();
    write_manifest(&p("m4.toml"), "Genesys", "18.01.04.2", 4);
    bundle("m4.toml", "pub/Genesys.key", "drop/p4.tbundle");
    transit(&root)
        .args(["update", "folders", "add", "--auto", "--data", data_s])
        .arg(p("drop"))
        .assert()
        .success();
    let out = transit(&root)
        .args(["update", "scan", "--once", "--data", data_s])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8_lossy(&out);
    assert!(
        text.contains("mark 1 ") && text.contains("Inactive"),
        "only the latest patch should be GA: {text}"
    );
    assert!(!p("drop/p4.tbundle").exists());
    let list = json(
        &transit(&root)
            .args(["update", "list", "--json", "--data", data_s])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    );
    assert_eq!(list.as_array().unwrap().len(), 2);
    let activity = json(
        &transit(&root)
            .args(["update", "activity", "--json", "--data", data_s])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    );
    let statuses: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"Ingest Failed")
            && statuses.contains(&"Ingested")
            && statuses.contains(&"State Changed"),
        "{statuses:?}"
    );

    // A client checks the repository through tough and downloads the payload.
    let repo = data.join("repository");
    let first_root = repo.join("metadata/1.root.json");
    transit(&root)
        .args(["update", "refresh", "--force", "--data", data_s])
        .assert()
        .success();
    transit(&root)
        .args(["update", "rotate-root", "--data", data_s, "--root-key"])
        .arg(p("offline/root.key"))
        .arg("--new-root-key")
        .arg(p("offline/root-2.key"))
        .args(["--rotate", "timestamp"])
        .assert()
        .success();
    let check = transit(&root)
        .args(["update", "check", "--json", "--repo"])
        .arg(&repo)
        .arg("--root")
        .arg(&first_root)
        .arg("--publishers")
        .arg(&publishers)
        .arg("--state")
        .arg(p("client"))
        .args(["--download", &target, "-o"])
        .arg(p("got.tar.zst"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json(&check)["updates"].as_array().unwrap().len(), 2);
    assert!(p("got.tar.zst").is_file());
    // Tampered metadata: the client refuses it.
    let ts = repo.join("metadata/timestamp.json");
    let mut doc = json(&std::fs::read(&ts).unwrap());
    doc["signed"]["expires"] = serde_json::json!("2099-01-01T00:00:00Z");
    std::fs::write(&ts, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    transit(&root)
        .args(["update", "check", "--repo"])
        .arg(&repo)
        .arg("--root")
        .arg(&first_root)
        .arg("--publishers")
        .arg(&publishers)
        .arg("--state")
        .arg(p("client2"))
        .assert()
        .exit(Exit::UpdateBadSignature);
}
