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

/// Creates a small demo CIC server with its own identity.
pub fn demo_named(root: &Path, name: &str, site: &str, site_id: u32, release: &str, seed: u64) {
    transit(root)
        .args([
            "server",
            "demo",
            "--name",
            name,
            "--site-name",
            site,
            "--release",
            release,
            "--users",
            "40",
        ])
        .args([
            "--site-id",
            &site_id.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .assert()
        .success();
}

/// True when `tool` is on the PATH.
pub fn which(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The first of `tools` on the PATH. When none is, the test is skipped
/// (printed), unless `TRANSIT_REQUIRE_TOOLS` is set, as in CI, where a
/// missing tool fails the test.
pub fn tool_or_skip<'a>(tools: &[&'a str], install: &str) -> Option<&'a str> {
    if let Some(tool) = tools.iter().copied().find(|t| which(t)) {
        return Some(tool);
    }
    assert!(
        std::env::var_os("TRANSIT_REQUIRE_TOOLS").is_none(),
        "{} is required here ({install})",
        tools.join(" or ")
    );
    eprintln!("SKIPPED: {} not installed ({install})", tools.join(" or "));
    None
}
