//! `server demo` bounds: a capped `--users` (tested with the usage exits),
//! a free-space check before anything is written, and no valid-looking
//! root after a SIGTERM.

use crate::common::{transit, Exit, ExitAssert, Sample};
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use std::process::Command;

#[test]
fn a_demo_too_large_for_the_disk_is_refused_before_anything_is_written() {
    let ok = Command::new("unshare")
        .args(["-rm", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        transit_testkit::tools::skip::<()>(
            "a private mount namespace (unshare -rm)",
            "util-linux, and user namespaces enabled",
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir_all(&disk).unwrap();
    let args = Sample::cic("CIC01").users(1000).demo_args().join("' '");
    let out = Command::new("unshare")
        .args([
            "-rm",
            "sh",
            "-eu",
            "-c",
            &format!(
                r#"mount -t tmpfs -o size=4m tmpfs "$D"
                   code=0
                   "$T" --server-root "$D/s" '{args}' || code=$?
                   echo "$code"
                   ls -A "$D""#
            ),
        ])
        .env("T", cargo_bin("transit"))
        .env("D", &disk)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(Exit::Refused.code().to_string().as_str()),
        "{stderr}"
    );
    assert_eq!(lines.next(), None, "nothing was written: {stdout}");
    assert!(stderr.contains("not enough free space"), "{stderr}");
}

#[test]
fn a_demo_stopped_half_way_leaves_no_server_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    let mut child = Command::new(cargo_bin("transit"))
        .env_remove("TRANSIT_LOG")
        .arg("--server-root")
        .arg(&root)
        .args(Sample::cic("CIC01").users(5000).demo_args())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !root.join("registry.db").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the demo never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert!(!child.wait().unwrap().success());
    assert!(!root.join("server.toml").exists());
    transit(&root)
        .args(["registry", "list"])
        .assert()
        .failure()
        .stderr(predicate::str::contains("not a server root"));
    // Another demo there is refused rather than mixed with the leftovers.
    transit(&root)
        .args(Sample::cic("CIC01").users(5).demo_args())
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("left from an earlier server"));
}
