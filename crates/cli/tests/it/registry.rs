//! `transit registry …` end to end.

use crate::common::{export, init, transit, Exit, ExitAssert};
use predicates::prelude::*;

#[test]
fn set_get_list_delete() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 1);
    let set = |args: &[&str]| {
        transit(&root)
            .args(["registry", "set"])
            .args(args)
            .assert()
            .success()
    };
    set(&["EIC\\Test", "Name", "hello world"]);
    set(&["EIC\\Test", "Count", "--type", "REG_DWORD", "0x10"]);
    set(&["EIC\\Test", "Big", "-t", "qword", "18446744073709551615"]);
    set(&["EIC\\Test", "List", "-t", "REG_MULTI_SZ", "a", "b c"]);
    set(&["EIC\\Test", "Blob", "-t", "REG_BINARY", "01,ff,10"]);
    set(&["EIC\\Test", "@", "default"]);
    transit(&root)
        .args(["registry", "get", "eic\\test", "count"])
        .assert()
        .success()
        .stdout("16\n");
    transit(&root)
        .args(["registry", "get", "EIC\\Test", "Blob"])
        .assert()
        .success()
        .stdout("01,ff,10\n");
    let out = transit(&root)
        .args(["registry", "get", "EIC\\Test", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // In the order they were set, as regedit lists them.
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Name", "Count", "Big", "List", "Blob", ""]);
    assert_eq!(v[5]["data"], "default");
    let list = transit(&root)
        .args(["registry", "get", "EIC\\Test", "List", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(v["type"], "REG_MULTI_SZ");
    assert_eq!(v["data"], serde_json::json!(["a", "b c"]));
    transit(&root)
        .args(["registry", "list", "EIC"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Test\n"));

    transit(&root)
        .args(["registry", "delete", "EIC\\Test", "Name"])
        .assert()
        .success();
    transit(&root)
        .args(["registry", "get", "EIC\\Test", "Name"])
        .assert()
        .exit(Exit::Failure)
        .stderr(predicate::str::contains("does not exist"));
    transit(&root)
        .args(["registry", "delete", "EIC\\Test"])
        .assert()
        .success();
    transit(&root)
        .args(["registry", "delete", "EIC\\Test"])
        .assert()
        .exit(Exit::Failure);
}

#[test]
fn bad_values_and_paths_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 1);
    transit(&root)
        .args(["registry", "set", "EIC\\\\x", "n", "v"])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("empty segment"));
    transit(&root)
        .args([
            "registry",
            "set",
            "EIC\\x",
            "n",
            "-t",
            "REG_DWORD",
            "4294967296",
        ])
        .assert()
        .exit(Exit::Usage);
    transit(&root)
        .args(["registry", "set", "EIC\\x", "n", "-t", "REG_NONE", "1"])
        .assert()
        .exit(Exit::Usage);
    transit(&root)
        .args(["registry", "set", "EIC\\x", "n", "-t", "REG_BINARY", "0g"])
        .assert()
        .exit(Exit::Usage);
}

#[test]
fn reg_files_round_trip_through_the_cli_in_both_formats() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 1);
    transit(&root)
        .args(["registry", "set", "EIC\\Test", "Name", "Zoë"])
        .assert()
        .success();
    let reg5 = export(&root, &dir.path().join("all.reg"));
    assert_eq!(&reg5[..2], &[0xff, 0xfe], "REGEDIT5 is UTF-16LE with a BOM");
    transit(&root)
        .args([
            "registry",
            "export",
            "--key",
            "EIC\\Test",
            "--format",
            "regedit4",
            "-o",
        ])
        .arg(dir.path().join("sub.reg"))
        .assert()
        .success();
    let reg4 = std::fs::read(dir.path().join("sub.reg")).unwrap();
    assert_eq!(
        reg4,
        b"REGEDIT4\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC\\Test]\r\n\"Name\"=\"Zo\xeb\"\r\n\r\n"
    );
    let other = dir.path().join("t");
    init(&other, "CIC01", 1);
    transit(&other)
        .args(["registry", "import"])
        .arg(dir.path().join("sub.reg"))
        .assert()
        .success();
    transit(&other)
        .args(["registry", "get", "EIC\\Test", "Name"])
        .assert()
        .success()
        .stdout("Zoë\n");
}

#[test]
fn a_bad_reg_file_is_exit_3_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 1);
    transit(&root)
        .args(["registry", "set", "EIC\\Keep", "v", "1"])
        .assert()
        .success();
    let before = export(&root, &dir.path().join("before.reg"));
    let bad = dir.path().join("bad.reg");
    std::fs::write(
        &bad,
        "REGEDIT4\r\n\r\n[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC]\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC\\New]\r\n\"x\"=hex:0q\r\n",
    )
    .unwrap();
    transit(&root)
        .args(["registry", "import"])
        .arg(&bad)
        .assert()
        .exit(Exit::BadInput)
        .stderr(predicate::str::contains("line 6"));
    std::fs::write(&bad, "REGEDIT4\r\n\r\n[HKEY_CURRENT_USER\\Software]\r\n").unwrap();
    transit(&root)
        .args(["registry", "import"])
        .arg(&bad)
        .assert()
        .exit(Exit::BadInput)
        .stderr(predicate::str::contains("line 3").and(predicate::str::contains("outside")));
    assert_eq!(export(&root, &dir.path().join("after.reg")), before);
}

#[test]
fn logs_go_to_the_server_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("s");
    init(&root, "CIC01", 1);
    transit(&root)
        .env("TRANSIT_LOG", "debug")
        .args(["registry", "list"])
        .assert()
        .success();
    let logs: Vec<_> = std::fs::read_dir(root.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let text = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(text.contains("DEBUG"), "{text}");
}
