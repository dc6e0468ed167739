//! `registry export -o`: through a symlink to its target, into a FIFO as
//! a stream, `-` as standard output; the atomic rename only for regular
//! files. And read-only commands change nothing.

use crate::common::{demo, transit, Exit, ExitAssert};
use predicates::prelude::*;
use std::path::Path;

fn exported_bytes(root: &Path) -> Vec<u8> {
    transit(root)
        .args(["registry", "export", "--key", "EIC\\Directory Services"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone()
}

#[test]
fn export_writes_through_symlinks_into_fifos_and_to_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 5, 1);
    let expected = exported_bytes(&root);
    let export_to = |out: &Path| {
        transit(&root)
            .args([
                "registry",
                "export",
                "--key",
                "EIC\\Directory Services",
                "-o",
            ])
            .arg(out)
            .assert()
    };

    // A symlink stays a symlink; its target gets the export.
    let target = dir.path().join("target.reg");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.reg");
    std::os::unix::fs::symlink("target.reg", &link).unwrap();
    export_to(&link).success();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), expected);
    // A dangling symlink creates its target.
    let dangling = dir.path().join("dangling.reg");
    std::os::unix::fs::symlink("made.reg", &dangling).unwrap();
    export_to(&dangling).success();
    assert!(std::fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        std::fs::read(dir.path().join("made.reg")).unwrap(),
        expected
    );

    // A FIFO is written as a stream and stays a FIFO.
    let fifo = dir.path().join("pipe.reg");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    export_to(&fifo).success();
    assert_eq!(reader.join().unwrap(), expected);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    // A character device: written to, never replaced.
    export_to(Path::new("/dev/null")).success();
    assert!(std::fs::symlink_metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());

    // `-` is standard output; no file named `-` appears.
    let out = transit(&root)
        .current_dir(dir.path())
        .args([
            "registry",
            "export",
            "--key",
            "EIC\\Directory Services",
            "-o",
            "-",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(out, expected);
    assert!(!dir.path().join("-").exists());

    // A regular file is still replaced atomically.
    let plain = dir.path().join("plain.reg");
    export_to(&plain).success();
    assert_eq!(std::fs::read(&plain).unwrap(), expected);
    // A folder is a usage error.
    export_to(dir.path()).exit(Exit::Usage);
}

#[test]
fn read_only_commands_change_nothing_and_server_start_checks_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 5, 1);
    let db = root.join("registry.db");
    std::fs::remove_file(&db).unwrap();
    for wal in ["registry.db-wal", "registry.db-shm"] {
        let _ = std::fs::remove_file(root.join(wal));
    }
    std::fs::write(&db, b"").unwrap();
    transit(&root)
        .args(["registry", "list"])
        .assert()
        .exit(Exit::BadInput);
    transit(&root)
        .args(["registry", "get", "EIC"])
        .assert()
        .exit(Exit::BadInput);
    assert_eq!(
        std::fs::metadata(&db).unwrap().len(),
        0,
        "the empty file stays empty"
    );
    assert!(!root.join("registry.db-wal").exists());

    transit(&root)
        .args(["server", "start", "--daemon"])
        .assert()
        .exit(Exit::BadInput);
    transit(&root)
        .args(["server", "status"])
        .assert()
        .success()
        .stdout(predicates::str::contains("stopped"));
}

#[test]
fn a_reg_file_without_its_final_line_end_is_warned_about_and_refused_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 5, 1);
    let file = dir.path().join("cut.reg");
    std::fs::write(
        &file,
        "REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC\\Cut]\r\n\"Blob\"=hex:00,01,02",
    )
    .unwrap();
    transit(&root)
        .args(["registry", "import", "--strict"])
        .arg(&file)
        .assert()
        .exit(Exit::BadInput)
        .stderr(predicates::str::contains("line end"));
    transit(&root)
        .args(["registry", "get", "EIC\\Cut"])
        .assert()
        .failure();
    let out = transit(&root)
        .args(["registry", "import", "--json"])
        .arg(&file)
        .assert()
        .success()
        .stderr(predicates::str::contains("warning:").and(predicates::str::contains("line 4")))
        .get_output()
        .stdout
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["values"], 1);
    assert!(v["warnings"][0]
        .as_str()
        .unwrap()
        .contains("may be cut off"));
}
