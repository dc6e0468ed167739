//! A full disk during an import: the message names the place that filled
//! up, says the import was rolled back (exit 13), and the rollback happens
//! at once.
//!
//! The disk is a small tmpfs mounted in a private mount namespace
//! (`unshare -rm`, which needs no root where user namespaces are allowed),
//! so nothing stays mounted after the test; a shell inside the namespace
//! runs the import and records what happened in files outside it.

use crate::common::{demo, demo_named, export, transit, Exit};
use assert_cmd::cargo::cargo_bin;
use std::path::{Path, PathBuf};
use std::process::Command;
use transit_testkit::tools;

/// `unshare -rm` works here, or a skip.
fn namespaces_or_skip() -> Option<()> {
    let ok = Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /tmp"])
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some(())
    } else {
        tools::skip(
            "a private mount namespace (unshare -rm with tmpfs)",
            "util-linux, and user namespaces enabled",
        )
    }
}

/// Runs `script` with `sh -eu` in a private mount namespace, with the
/// environment given; returns its standard output.
fn in_namespace(script: &str, env: &[(&str, &Path)]) -> String {
    let mut cmd = Command::new("unshare");
    cmd.args(["-rm", "sh", "-eu", "-c", script])
        .env("T", cargo_bin("transit"))
        .env("PW", "pw")
        .env_remove("TRANSIT_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Two servers and an export of the first, as `transit` makes them.
fn setup(dir: &Path) -> (PathBuf, PathBuf) {
    let a = dir.join("a");
    demo(&a, 30, 1);
    let v: serde_json::Value = serde_json::from_slice(
        &transit(&a)
            .args(["export", "--json", "--password-env", "PW", "--folder"])
            .arg(dir.join("out"))
            .env("PW", "pw")
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    (a, PathBuf::from(v["file"].as_str().unwrap()))
}

#[test]
fn a_full_extraction_folder_is_named_and_the_import_rolled_back() {
    if namespaces_or_skip().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (a, file) = setup(dir.path());
    let before = export(&a, &dir.path().join("before.reg"));
    let extract = dir.path().join("extract");
    std::fs::create_dir_all(&extract).unwrap();
    let out = in_namespace(
        r#"mount -t tmpfs -o size=32k tmpfs "$X"
           code=0
           "$T" --server-root "$A" import "$F" --mode recovery --password-env PW --extract-to "$X" >/dev/null 2>"$E" || code=$?
           echo "$code"
           ls -A "$X""#,
        &[
            ("X", &extract),
            ("A", &a),
            ("F", &file),
            ("E", &dir.path().join("stderr")),
        ],
    );
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some(Exit::DiskFull.code().to_string().as_str()),
        "{stderr}"
    );
    assert_eq!(lines.next(), None, "the extraction folder is left empty");
    assert!(stderr.contains("disk is full"), "{stderr}");
    assert!(stderr.contains(&extract.display().to_string()), "{stderr}");
    assert!(
        !stderr.contains(&format!("{}:", file.display())),
        "{stderr}"
    );
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert_eq!(export(&a, &dir.path().join("after.reg")), before);
    assert!(!a.join("run/import.journal").exists());
}

#[test]
fn a_server_root_that_fills_up_mid_import_is_rolled_back_at_once() {
    if namespaces_or_skip().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (_a, file) = setup(dir.path());
    let b = dir.path().join("b");
    demo_named(&b, "CICB", "Paris", 2, "2015 R1", 2);
    let before = export(&b, &dir.path().join("before.reg"));
    let mount = dir.path().join("disk");
    std::fs::create_dir_all(&mount).unwrap();
    let flag = dir.path().join("paused");
    // The root moves onto a tmpfs with room for the import's checks and
    // restore point; at the pause after the restore point, the rest of the
    // disk is filled, so the registry and the staged files run out of room.
    let out = in_namespace(
        r#"mount -t tmpfs -o size=64m tmpfs "$M"
           cp -a "$B" "$M/b"
           code=0
           TRANSIT_PAUSE_AT=restore-point TRANSIT_PAUSE_FILE="$P" \
             "$T" --server-root "$M/b" import "$F" --password-env PW --extract-to "$X" >/dev/null 2>"$E" &
           pid=$!
           while [ ! -e "$P" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
           dd if=/dev/zero of="$M/fill" bs=64k 2>/dev/null || true
           rm -f "$P"
           wait "$pid" || code=$?
           echo "$code"
           test -e "$M/b/run/import.journal" && echo journal || echo no-journal
           ls -A "$M/b/restore-points" | wc -l
           rm "$M/fill"
           "$T" --server-root "$M/b" registry export -o "$R" 2>/dev/null"#,
        &[
            ("M", &mount),
            ("B", &b),
            ("F", &file),
            ("P", &flag),
            ("X", &dir.path().join("x")),
            ("E", &dir.path().join("stderr")),
            ("R", &dir.path().join("after.reg")),
        ],
    );
    let stderr = std::fs::read_to_string(dir.path().join("stderr")).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], Exit::DiskFull.code().to_string(), "{stderr}");
    assert!(stderr.contains("disk is full"), "{stderr}");
    assert!(
        stderr.contains("rolled back: the server is as it was"),
        "{stderr}"
    );
    assert!(!stderr.contains("disk I/O error\n"), "{stderr}");
    assert_eq!(lines[1], "no-journal", "rolled back at once: {stderr}");
    assert_eq!(lines[2], "0", "no restore point is left: {stderr}");
    assert_eq!(std::fs::read(dir.path().join("after.reg")).unwrap(), before);
}
