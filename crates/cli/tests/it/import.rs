//! `transit import` end to end: the report, the crash test (SIGKILL at
//! every step and at random moments, then `transit recover`), Ctrl-C, and
//! `transit review server-params`.

use crate::common::{demo_named, export, transit, Exit, ExitAssert};
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A (site 1) exports with the same Migrator release as B (site 2, 2018 R1).
fn setup(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let a = dir.join("a");
    let b = dir.join("b");
    demo_named(&a, "CICA", "Indy", 1, "2015 R1", 1);
    demo_named(&b, "CICB", "Paris", 2, "2018 R1", 2);
    transit(&a)
        .args(["migrator", "install", "--release", "2018 R1"])
        .assert()
        .success();
    let out = dir.join("out");
    let v: serde_json::Value = serde_json::from_slice(
        &transit(&a)
            .args(["export", "--json", "--password-env", "PW", "--folder"])
            .arg(&out)
            .env("PW", "pw")
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    (a, b, PathBuf::from(v["file"].as_str().unwrap()))
}

/// The registry export plus every file under files/ (paths and bytes).
fn state(root: &Path, scratch: &Path) -> (Vec<u8>, BTreeMap<String, Vec<u8>>) {
    let reg = export(root, &scratch.join("state.reg"));
    let mut files = BTreeMap::new();
    let mut stack = vec![root.join("files")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() {
                files.insert(format!("{rel}/"), Vec::new());
                stack.push(p);
            } else {
                files.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    (reg, files)
}

fn copy_dir(from: &Path, to: &Path) {
    let status = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

fn import_cmd(root: &Path, file: &Path, extract: &Path) -> std::process::Command {
    let mut cmd = std::process::Command::new(cargo_bin("transit"));
    cmd.env_remove("TRANSIT_LOG")
        .env("PW", "pw")
        .arg("--server-root")
        .arg(root)
        .arg("import")
        .arg(file)
        .arg("--extract-to")
        .arg(extract)
        .args(["--password-env", "PW"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    cmd
}

#[test]
fn import_prints_and_writes_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = setup(dir.path());
    let extract = dir.path().join("extract");
    transit(&b)
        .env("PW", "pw")
        .arg("import")
        .arg(&file)
        .arg("--extract-to")
        .arg(&extract)
        .args(["--password-env", "PW"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Manual follow-ups")
                .and(predicate::str::contains("_migrated")),
        );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(extract.join("import-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["mode"], "migration");
    assert!(report["restore_point"].is_string());
    assert!(b.join("logs/last-import-report.json").is_file());

    // The _migrated clean-up in one step.
    transit(&b)
        .args(["review", "server-params", "--keep", "imported"])
        .assert()
        .success()
        .stdout(predicate::str::contains("resolved"));
    let params = String::from_utf8(
        transit(&b)
            .args([
                "registry",
                "list",
                r"EIC\Directory Services\Root\Paris\Production\CICB\Server Parameters",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(!params.contains("_migrated"), "{params}");
}

#[test]
fn import_refusals_have_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, file) = setup(dir.path());
    transit(&b)
        .arg("import")
        .arg(&file)
        .arg("--extract-to")
        .arg(b.join("inside"))
        .env("PW", "pw")
        .args(["--password-env", "PW"])
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("inside the server root"));
    transit(&a)
        .arg("import")
        .arg(&file)
        .arg("--extract-to")
        .arg(dir.path().join("x"))
        .env("PW", "pw")
        .args(["--password-env", "PW"])
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("site ID"));
    transit(&b)
        .args(["server", "start", "--daemon"])
        .assert()
        .success();
    transit(&b)
        .arg("import")
        .arg(&file)
        .arg("--extract-to")
        .arg(dir.path().join("x"))
        .env("PW", "pw")
        .args(["--password-env", "PW"])
        .assert()
        .exit(Exit::ServiceRunning)
        .stderr(predicate::str::contains("stop the server service first"));
    transit(&b).args(["server", "stop"]).assert().success();
}

/// SIGKILL at every step of the import (fault injection) and at random
/// moments: after `transit recover`, the server is byte-identical to before.
#[test]
fn a_killed_import_is_always_recovered_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, template, file) = setup(dir.path());
    let before = state(&template, dir.path());
    let steps = [
        "restore-point",
        "staged",
        "registry-written",
        "committed",
        "files-half",
    ];
    let mut trials = 0;
    for round in 0..4 {
        for step in steps {
            let b = dir.path().join(format!("b-{round}-{step}"));
            copy_dir(&template, &b);
            let out = import_cmd(&b, &file, &dir.path().join(format!("x-{round}-{step}")))
                .env("TRANSIT_CRASH_AT", step)
                .output()
                .unwrap();
            assert_eq!(
                std::os::unix::process::ExitStatusExt::signal(&out.status),
                Some(9),
                "{step}: not killed"
            );
            transit(&b)
                .arg("recover")
                .assert()
                .success()
                .stdout(predicate::str::contains("rolled back"));
            assert!(
                state(&b, dir.path()) == before,
                "{step} (round {round}): not restored exactly"
            );
            trials += 1;
        }
    }
    // Random moments: kill -9 after a pseudo-random delay.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for n in 0..6 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let b = dir.path().join(format!("r-{n}"));
        copy_dir(&template, &b);
        let mut child = import_cmd(&b, &file, &dir.path().join(format!("xr-{n}")))
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(seed % 400));
        let _ = child.kill();
        let _ = child.wait();
        transit(&b).arg("recover").assert().success();
        let after = state(&b, dir.path());
        let completed = !b.join("run/import.journal").exists() && after != before;
        if !completed {
            assert!(after == before, "random kill {n}: not restored exactly");
        }
        trials += 1;
    }
    assert!(trials >= 20);
}

#[test]
fn ctrl_c_during_an_import_rolls_back_and_says_so() {
    // While files are staged (second thread), and while the registry is
    // written from parsed key batches (main and parsing threads).
    for pause_at in ["staged", "registry-batch"] {
        ctrl_c_at(pause_at);
    }
}

fn ctrl_c_at(pause_at: &str) {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = setup(dir.path());
    let before = state(&b, dir.path());
    let mut child = import_cmd(&b, &file, &dir.path().join("x"))
        .env("TRANSIT_PAUSE_AT", pause_at)
        .spawn()
        .unwrap();
    // Wait for the journal: the import is past its restore point.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !b.join("run/import.journal").exists() {
        assert!(std::time::Instant::now() < deadline, "import never started");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let code = child.wait().unwrap().code();
    assert_eq!(
        code,
        Some(i32::from(Exit::Stopped.code())),
        "{pause_at}: {stderr}"
    );
    assert!(stderr.contains("rolled back"), "{pause_at}: {stderr}");
    assert!(state(&b, dir.path()) == before, "{pause_at}");
}
