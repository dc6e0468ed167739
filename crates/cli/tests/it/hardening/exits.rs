//! One test per row of the Migrator's exit-code table (README), each
//! reproducing the case the code stands for. The DB assistant's rows
//! (20–27) and the update service's (30–39) are tested in `db` and
//! `update`.

use crate::common::{demo, transit, Exit, ExitAssert};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// A demo server (10 users) and its encrypted export (password `pw`).
fn exported(dir: &Path) -> (PathBuf, PathBuf) {
    let root = dir.join("server");
    demo(&root, 10, 1);
    let v: serde_json::Value = serde_json::from_slice(
        &transit(&root)
            .args(["export", "--json", "--password-env", "PW", "--folder"])
            .arg(dir.join("out"))
            .env("PW", "pw")
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    (root, PathBuf::from(v["file"].as_str().unwrap()))
}

/// No message repeats its cause ("X: … (os error 2): … (os error 2)").
fn says_once(stderr: &[u8]) {
    let text = String::from_utf8_lossy(stderr);
    for line in text.lines() {
        assert!(line.matches("(os error").count() <= 1, "{line}");
        assert!(!line.contains("entry : "), "an empty entry name: {line}");
    }
}

#[test]
fn exit_0_success() {
    let dir = tempfile::tempdir().unwrap();
    transit(dir.path())
        .arg("components")
        .assert()
        .exit(Exit::Success);
}

#[test]
fn exit_1_any_other_failure() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 5, 1);
    transit(&root)
        .args(["server", "stop"])
        .assert()
        .exit(Exit::Failure)
        .stderr(predicate::str::contains("not running"));
}

#[test]
fn exit_2_usage_names_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    for (option, value) in [
        ("--site-id", "0"),
        ("--site-id", "40000"),
        ("--users", "4294967296"),
        ("--name", "a\\b"),
    ] {
        let mut args = vec![
            "server",
            "demo",
            "--name",
            "CIC01",
            "--site-name",
            "Indy",
            "--site-id",
            "1",
            "--release",
            "2015 R1",
        ];
        match args.iter().position(|a| *a == option) {
            Some(at) => args[at + 1] = value,
            None => args.extend([option, value]),
        }
        transit(&root)
            .args(&args)
            .assert()
            .exit(Exit::Usage)
            .stderr(
                predicate::str::contains(option).and(predicate::str::contains("server.toml").not()),
            );
        assert!(!root.exists(), "{option} {value}: nothing is created");
    }
}

#[test]
fn exit_3_bad_input_a_corrupt_registry_or_server_toml_from_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path());
    // Pages of the registry overwritten: the header still reads.
    let db = root.join("registry.db");
    let mut bytes = std::fs::read(&db).unwrap();
    let len = bytes.len();
    bytes[8192..len.min(8192 + 3 * 4096)].fill(0xff);
    std::fs::write(&db, bytes).unwrap();
    for args in [
        vec!["registry", "list", "EIC", "--recursive"],
        vec!["export", "--folder"],
        vec!["import"],
        vec!["server", "start", "--daemon"],
    ] {
        let mut cmd = transit(&root);
        cmd.args(&args).env("PW", "pw");
        match args[0] {
            "export" => {
                cmd.arg(dir.path().join("again"));
            }
            "import" => {
                cmd.arg(&file)
                    .args(["--mode", "recovery", "--password-env", "PW", "--extract-to"])
                    .arg(dir.path().join("x"));
            }
            _ => {}
        }
        let out = cmd.assert().exit(Exit::BadInput).get_output().clone();
        says_once(&out.stderr);
    }
    transit(&root)
        .args(["server", "status"])
        .assert()
        .stdout(predicate::str::contains("stopped"));

    let toml = root.join("server.toml");
    let mut text = std::fs::read(&toml).unwrap();
    text.extend_from_slice(b"# \xff\xfe not UTF-8\n");
    std::fs::write(&toml, text).unwrap();
    transit(&root)
        .args(["registry", "list"])
        .assert()
        .exit(Exit::BadInput)
        .stderr(predicate::str::contains("UTF-8"));
}

#[test]
fn exit_4_refused_by_a_safety_rule() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path());
    transit(&root)
        .args([
            "server",
            "init",
            "--name",
            "X",
            "--site-name",
            "Y",
            "--site-id",
            "2",
            "--release",
            "2015 R1",
        ])
        .assert()
        .exit(Exit::Refused);
    // A non-empty extraction folder, unless --force.
    let extract = dir.path().join("x");
    std::fs::create_dir_all(&extract).unwrap();
    std::fs::write(extract.join("mine.txt"), b"mine").unwrap();
    let import = |force: bool| {
        let mut cmd = transit(&root);
        cmd.env("PW", "pw")
            .arg("import")
            .arg(&file)
            .args(["--mode", "recovery", "--password-env", "PW", "--extract-to"])
            .arg(&extract);
        if force {
            cmd.arg("--force");
        }
        cmd.assert()
    };
    import(false)
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("not empty").and(predicate::str::contains("--force")));
    import(true).exit(Exit::Success);
    assert_eq!(std::fs::read(extract.join("mine.txt")).unwrap(), b"mine");
}

#[test]
fn exit_5_the_service_or_an_import_is_running() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path());
    // An import paused while it holds its lock: an export is refused.
    let flag = dir.path().join("paused");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .env_remove("TRANSIT_LOG")
        .env("PW", "pw")
        .env("TRANSIT_PAUSE_AT", "staged")
        .env("TRANSIT_PAUSE_FILE", &flag)
        .arg("--server-root")
        .arg(&root)
        .arg("import")
        .arg(&file)
        .args(["--mode", "recovery", "--password-env", "PW", "--extract-to"])
        .arg(dir.path().join("x"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !flag.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never paused"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    transit(&root)
        .args(["export", "--folder"])
        .arg(dir.path().join("during"))
        .assert()
        .exit(Exit::ServiceRunning)
        .stderr(predicate::str::contains("an import is running"));
    std::fs::remove_file(&flag).unwrap();
    assert!(child.wait().unwrap().success());
    assert!(!dir.path().join("during").join("x").exists());

    transit(&root)
        .args(["server", "start", "--daemon"])
        .assert()
        .success();
    transit(&root)
        .env("PW", "pw")
        .arg("import")
        .arg(&file)
        .args(["--mode", "recovery", "--password-env", "PW", "--extract-to"])
        .arg(dir.path().join("y"))
        .assert()
        .exit(Exit::ServiceRunning);
    transit(&root).args(["server", "stop"]).assert().success();
}

#[test]
fn exit_6_to_8_password_situations() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path());
    let inspect = |password: Option<&str>| {
        let mut cmd = transit(&root);
        cmd.arg("inspect").arg(&file);
        if let Some(p) = password {
            cmd.env("PW", p).args(["--password-env", "PW"]);
        }
        cmd.assert()
    };
    inspect(Some("wrong"))
        .exit(Exit::WrongPassword)
        .stderr(predicate::str::contains("wrong password"));
    inspect(None).exit(Exit::PasswordRequired);
    let plain = dir.path().join("plain");
    transit(&root)
        .args(["export", "--folder"])
        .arg(&plain)
        .assert()
        .success();
    let plain_file = std::fs::read_dir(&plain)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    transit(&root)
        .arg("inspect")
        .arg(&plain_file)
        .env("PW", "pw")
        .args(["--password-env", "PW"])
        .assert()
        .exit(Exit::PasswordNotNeeded);
}

#[test]
fn exit_9_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path());
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    transit(&root)
        .env("PW", "pw")
        .arg("import")
        .arg(&file)
        .args(["--mode", "recovery", "--password-env", "PW", "--extract-to"])
        .arg(dir.path().join("x"))
        .assert()
        .exit(Exit::Truncated);
}

#[test]
fn exit_10_tampered_also_for_a_component_the_import_skips() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path());
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&file, bytes).unwrap();
    transit(&root)
        .env("PW", "pw")
        .args(["verify", "--password-env", "PW"])
        .arg(&file)
        .assert()
        .exit(Exit::Tampered);
    let out = transit(&root)
        .env("PW", "pw")
        .arg("import")
        .arg(&file)
        .args([
            "--mode",
            "recovery",
            "--components",
            "Server Parameters",
            "--password-env",
            "PW",
            "--extract-to",
        ])
        .arg(dir.path().join("x"))
        .assert()
        .exit(Exit::Tampered)
        .stderr(predicate::str::contains("tampered with or damaged"))
        .get_output()
        .clone();
    says_once(&out.stderr);
    assert!(!dir.path().join("x").join("import-report.json").exists());
}

#[test]
fn exit_11_not_a_migration_file_even_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("a-folder.ininmigr");
    std::fs::create_dir_all(&folder).unwrap();
    let out = transit(dir.path())
        .arg("inspect")
        .arg(&folder)
        .assert()
        .exit(Exit::NotMigrationFile)
        .stderr(predicate::str::contains("folder"))
        .get_output()
        .clone();
    says_once(&out.stderr);
    let text = dir.path().join("notes.ininmigr");
    std::fs::write(&text, b"hello").unwrap();
    transit(dir.path())
        .arg("inspect")
        .arg(&text)
        .assert()
        .exit(Exit::NotMigrationFile);
}

#[test]
fn exit_12_newer_format() {
    let dir = tempfile::tempdir().unwrap();
    let future = dir.path().join("future.ininmigr");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&future).unwrap());
    zip.start_file("manifest.json", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut zip, br#"{"format_version": 99, "components": []}"#).unwrap();
    zip.finish().unwrap();
    transit(dir.path())
        .arg("inspect")
        .arg(&future)
        .assert()
        .exit(Exit::NewerFormat);
}

#[test]
fn exit_14_a_regedit4_export_that_cannot_hold_a_character() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 5, 1);
    transit(&root)
        .args([
            "registry",
            "set",
            "EIC\\Test",
            "Weather",
            "--type",
            "REG_SZ",
            "snow \u{2603}",
        ])
        .assert()
        .success();
    transit(&root)
        .args(["registry", "export", "--format", "regedit4", "-o"])
        .arg(dir.path().join("out.reg"))
        .assert()
        .exit(Exit::ExportUnrepresentable)
        .stderr(predicate::str::contains("U+2603"));
    assert!(!dir.path().join("out.reg").exists());
}

#[test]
fn exit_130_stopped_by_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file) = exported(dir.path());
    let flag = dir.path().join("paused");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("transit"))
        .env_remove("TRANSIT_LOG")
        .env("PW", "pw")
        .env("TRANSIT_PAUSE_AT", "staged")
        .env("TRANSIT_PAUSE_FILE", &flag)
        .arg("--server-root")
        .arg(&root)
        .arg("import")
        .arg(&file)
        .args(["--mode", "recovery", "--password-env", "PW", "--extract-to"])
        .arg(dir.path().join("x"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !flag.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never paused"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(i32::from(Exit::Stopped.code())));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rolled back"));
}
