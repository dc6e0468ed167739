//! `transit export`, `inspect`, `verify` and `components` end to end,
//! including every bad-input case and 7-Zip interop.

use crate::common::{demo, transit, Exit, ExitAssert};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

fn exported(dir: &Path, password: Option<&str>, components: &str) -> (PathBuf, PathBuf) {
    let root = dir.join("server");
    if !root.exists() {
        demo(&root, 60, 1);
    }
    let out = dir.join(format!("out-{}", components.replace([',', ' '], "_")));
    let mut cmd = transit(&root);
    cmd.args(["export", "--folder"])
        .arg(&out)
        .args(["--components", components, "--json"]);
    if let Some(p) = password {
        let pf = dir.join("pass.txt");
        std::fs::write(&pf, format!("{p}\n")).unwrap();
        cmd.arg("--password-file").arg(&pf);
    }
    let output = cmd.assert().success().get_output().clone();
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let file = PathBuf::from(v["file"].as_str().unwrap());
    assert!(file.is_file());
    (root, file)
}

fn password_file(dir: &Path, p: &str) -> PathBuf {
    let f = dir.join(format!("pw-{p}"));
    std::fs::write(&f, p).unwrap();
    f
}

#[test]
fn export_prints_the_file_and_warns_without_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 30, 1);
    let out = dir.path().join("out");
    transit(&root)
        .args(["export", "--folder"])
        .arg(&out)
        .args(["--components", "users"])
        .assert()
        .success()
        .stdout(predicate::str::contains(".ininmigr").and(predicate::str::contains("keys")))
        .stderr(
            predicate::str::contains("NOT encrypted").and(predicate::str::contains(
                "added Workgroups: required by Users",
            )),
        );
}

#[test]
fn export_refusals_have_their_own_codes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 10, 1);
    transit(&root)
        .args(["export", "--folder"])
        .arg(root.join("inside"))
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("inside the server root"));
    transit(&root)
        .args(["export", "--folder"])
        .arg(dir.path().join("o"))
        .args(["--components", "Workgrups"])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("did you mean `Workgroups`"));
    transit(&root)
        .env("EMPTY_PW", "")
        .args(["export", "--folder"])
        .arg(dir.path().join("o"))
        .args(["--password-env", "EMPTY_PW"])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("empty"));
}

#[test]
fn inspect_and_verify_a_good_file() {
    let dir = tempfile::tempdir().unwrap();
    let (_root, file) = exported(dir.path(), Some("pw"), "all");
    let pw = password_file(dir.path(), "pw");
    transit(dir.path())
        .arg("inspect")
        .arg(&file)
        .arg("--password-file")
        .arg(&pw)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("CIC01")
                .and(predicate::str::contains("Users"))
                .and(predicate::str::contains("AES-256")),
        );
    let out = transit(dir.path())
        .arg("inspect")
        .arg(&file)
        .arg("--password-file")
        .arg(&pw)
        .arg("--json")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["encrypted"], true);
    assert!(v["components"].as_array().unwrap().len() > 30);
    transit(dir.path())
        .env("PW", "pw")
        .arg("verify")
        .arg(&file)
        .args(["--password-env", "PW"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("OK"));
}

#[test]
fn bad_migration_files_each_get_their_own_message_and_code() {
    let dir = tempfile::tempdir().unwrap();
    let (_root, enc) = exported(dir.path(), Some("right"), "Roles");
    let (_root, plain) = exported(dir.path(), None, "Skills");
    let right = password_file(dir.path(), "right");
    let wrong = password_file(dir.path(), "wrong");
    let check = |file: &Path, pw: Option<&Path>, code: Exit, needle: &str| {
        let mut cmd = transit(dir.path());
        cmd.arg("inspect").arg(file);
        if let Some(pw) = pw {
            cmd.arg("--password-file").arg(pw);
        }
        cmd.assert()
            .exit(code)
            .stderr(predicate::str::contains(needle));
    };
    check(&enc, Some(&wrong), Exit::WrongPassword, "wrong password");
    check(&enc, None, Exit::PasswordRequired, "password");
    check(
        &plain,
        Some(&right),
        Exit::PasswordNotNeeded,
        "not encrypted",
    );

    let bytes = std::fs::read(&enc).unwrap();
    let truncated = dir.path().join("truncated.ininmigr");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    check(&truncated, Some(&right), Exit::Truncated, "truncated");

    let not_zip = dir.path().join("notes.ininmigr");
    std::fs::write(&not_zip, "hello, I am not a zip file at all").unwrap();
    check(
        &not_zip,
        None,
        Exit::NotMigrationFile,
        "not a migration file",
    );

    // One byte flipped inside an encrypted entry: AES authentication (or
    // the hash) catches it; verify reports it with the tampered code.
    let mut flipped = bytes.clone();
    let at = flipped.len() / 3;
    flipped[at] ^= 0x01;
    let tampered = dir.path().join("tampered.ininmigr");
    std::fs::write(&tampered, &flipped).unwrap();
    transit(dir.path())
        .arg("verify")
        .arg(&tampered)
        .arg("--password-file")
        .arg(&right)
        .assert()
        .exit(Exit::Tampered);

    // The same in a plain file: the SHA-256 catches it.
    let mut flipped = std::fs::read(&plain).unwrap();
    let at = flipped.len() / 3;
    flipped[at] ^= 0x01;
    let tampered = dir.path().join("tampered-plain.ininmigr");
    std::fs::write(&tampered, &flipped).unwrap();
    transit(dir.path())
        .arg("verify")
        .arg(&tampered)
        .assert()
        .exit(Exit::Tampered);
}

#[test]
fn components_prints_the_tree_for_each_role() {
    let dir = tempfile::tempdir().unwrap();
    transit(&dir.path().join("none"))
        .arg("components")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("Directory Services")
                .and(predicate::str::contains("├─ Users")),
        );
    let out = transit(dir.path())
        .args(["components", "--role", "media", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["role"], "media");
    assert_eq!(v["groups"][0]["components"].as_array().unwrap().len(), 3);
}

/// 7-Zip opens our encrypted file, and the Users .reg inside equals a
/// `transit registry export` of the same subtree.
#[test]
fn sevenzip_extracts_an_encrypted_export() {
    let Some(sevenzip) = crate::common::tool_or_skip(&["7zz", "7z"], "apt-get install 7zip") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path(), Some("s3cret pw"), "Users");
    let outer = dir.path().join("outer");
    let status = std::process::Command::new(sevenzip)
        .args(["x", "-y", "-ps3cret pw"])
        .arg(format!("-o{}", outer.display()))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    assert!(outer.join("manifest.json").is_file());
    let inner = dir.path().join("inner");
    let status = std::process::Command::new(sevenzip)
        .args(["x", "-y"])
        .arg(format!("-o{}", inner.display()))
        .arg(outer.join("components/Users.zip"))
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let users_reg = std::fs::read(inner.join("registry.reg")).unwrap();

    let direct = dir.path().join("direct.reg");
    transit(&root)
        .args([
            "registry",
            "export",
            "--key",
            r"EIC\Directory Services\Root\Indy\Production\CIC01\Users",
            "-o",
        ])
        .arg(&direct)
        .assert()
        .success();
    assert!(
        users_reg == std::fs::read(&direct).unwrap(),
        "7-Zip's Users .reg differs from registry export"
    );

    let bad = std::process::Command::new(sevenzip)
        .args(["x", "-y", "-pnope"])
        .arg(format!("-o{}", dir.path().join("bad").display()))
        .arg(&file)
        .output()
        .unwrap();
    assert!(!bad.status.success(), "7-Zip accepted a wrong password");
}

/// Writes a plain zip with the given entries.
fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
    let mut zip = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        std::io::Write::write_all(&mut zip, bytes).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn foreign_zips_and_newer_formats_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let holiday = dir.path().join("holiday.zip");
    write_zip(&holiday, &[("photo.txt", b"sunny")]);
    transit(dir.path())
        .arg("inspect")
        .arg(&holiday)
        .assert()
        .exit(Exit::NotMigrationFile)
        .stderr(predicate::str::contains("not a migration file"));

    // A manifest from a future format, with fields this build has never seen.
    let future = dir.path().join("future.ininmigr");
    let manifest = br#"{"format_version": 99, "hologram": true, "components": []}"#;
    write_zip(&future, &[("manifest.json", manifest)]);
    transit(dir.path())
        .arg("inspect")
        .arg(&future)
        .assert()
        .exit(Exit::NewerFormat)
        .stderr(predicate::str::contains("99"));
}

/// Ctrl-C (SIGINT) and SIGTERM mid-export: exit 130, and the export folder
/// holds nothing afterwards, neither the file nor staging leftovers.
#[test]
fn a_signal_mid_export_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 3000, 1);
    for (n, signal) in [(0, "INT"), (1, "TERM")] {
        let out = dir.path().join(format!("out{n}"));
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
            .env_remove("TRANSIT_LOG")
            .arg("--server-root")
            .arg(&root)
            .args(["export", "--folder"])
            .arg(&out)
            .env("PW", "pw")
            .args(["--password-env", "PW"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the export is building (its staging folder exists).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let staging = std::fs::read_dir(&out)
                .map(|d| {
                    d.flatten().any(|e| {
                        e.file_name()
                            .to_string_lossy()
                            .starts_with(".transit-export-")
                    })
                })
                .unwrap_or(false);
            if staging {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "export never started building"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let kill = std::process::Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(
            output.status.code(),
            Some(i32::from(Exit::Stopped.code())),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(String::from_utf8_lossy(&output.stderr).contains("stopped"));
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "SIG{signal} left {left:?}");
    }
}

#[test]
fn argument_errors_under_json_are_json_on_stdout_too() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["export", "--json", "--keep", "0"][..],
        &["inspect", "x.ininmigr", "--json", "--no-such-flag"][..],
    ] {
        let out = transit(dir.path())
            .args(args)
            .assert()
            .exit(Exit::Usage)
            .get_output()
            .clone();
        let value: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
        assert_eq!(value["error"]["code"], 2, "{args:?}");
        assert_eq!(value["error"]["kind"], "Usage");
        let message = value["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("--keep") || message.contains("--no-such-flag"),
            "{message}"
        );
        assert!(!message.starts_with("error:"), "{message}");
        // clap's own text still goes to standard error.
        assert!(String::from_utf8_lossy(&out.stderr).contains("error:"));
    }
    // Without --json, no JSON.
    transit(dir.path())
        .args(["export", "--keep", "0"])
        .assert()
        .exit(Exit::Usage)
        .stdout("");
}

#[test]
fn errors_under_json_are_json_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing.ininmigr");
    let out = transit(dir.path())
        .arg("inspect")
        .arg(&missing)
        .arg("--json")
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .stdout
        .clone();
    let value: serde_json::Value = serde_json::from_slice(&out).expect("stdout is JSON");
    assert_eq!(value["error"]["code"], 1);
    assert_eq!(value["error"]["kind"], "Failure");
    assert!(value["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nothing.ininmigr"));
}
