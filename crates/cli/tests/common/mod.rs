//! Helpers shared by the CLI tests: they run the real `transit` binary.

#![allow(dead_code)]

use assert_cmd::Command;
use std::path::Path;

/// `transit --server-root ROOT`, with a clean environment.
pub fn transit(root: &Path) -> Command {
    let mut cmd = Command::cargo_bin("transit").unwrap();
    cmd.env_remove("TRANSIT_SERVER_ROOT")
        .env_remove("TRANSIT_LOG")
        .arg("--server-root")
        .arg(root);
    cmd
}

/// Creates an empty CIC server root.
pub fn init(root: &Path, name: &str, site_id: u32) {
    transit(root)
        .args([
            "server",
            "init",
            "--name",
            name,
            "--site-name",
            "Indy",
            "--release",
            "2015 R1",
        ])
        .args(["--site-id", &site_id.to_string()])
        .assert()
        .success();
}

/// Creates a demo CIC server.
pub fn demo(root: &Path, users: u64, seed: u64) {
    transit(root)
        .args([
            "server",
            "demo",
            "--name",
            "CIC01",
            "--site-name",
            "Indy",
            "--site-id",
            "1",
        ])
        .args([
            "--release",
            "2015 R1",
            "--users",
            &users.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .assert()
        .success();
}

/// `transit registry export` of the whole registry to a file; returns its bytes.
pub fn export(root: &Path, out: &Path) -> Vec<u8> {
    transit(root)
        .args(["registry", "export", "--output"])
        .arg(out)
        .assert()
        .success();
    std::fs::read(out).unwrap()
}
