//! `transit diff` end to end: server roots, migration files and `.reg`
//! files against each other, text and JSON reports, exit codes,
//! passwords and bad input.

use crate::common::{demo, transit, Exit, ExitAssert};
use predicates::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

const USERS: &str = "EIC\\Directory Services\\Root\\Indy\\Production\\CIC01\\Users";

/// `transit diff` (the server root option is irrelevant to it).
fn diff(dir: &Path) -> assert_cmd::Command {
    let mut cmd = transit(&dir.join("unused-root"));
    cmd.arg("diff");
    cmd
}

/// Exports `root` into `folder`; returns the migration file.
fn export(root: &Path, folder: &Path, components: &str, password: Option<&Path>) -> PathBuf {
    let mut cmd = transit(root);
    cmd.args(["export", "--folder"])
        .arg(folder)
        .args(["--components", components, "--json"]);
    if let Some(p) = password {
        cmd.arg("--password-file").arg(p);
    }
    let out = cmd.assert().success().get_output().stdout.clone();
    let v: Value = serde_json::from_slice(&out).unwrap();
    PathBuf::from(v["file"].as_str().unwrap())
}

fn password_file(dir: &Path, password: &str) -> PathBuf {
    let f = dir.join(format!("pw-{password}"));
    std::fs::write(&f, format!("{password}\n")).unwrap();
    f
}

/// The demo's users, in registry order.
fn users(root: &Path) -> Vec<String> {
    let out = transit(root)
        .args(["registry", "list", USERS, "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

fn get(root: &Path, key: &str, name: &str) -> String {
    let out = transit(root)
        .args(["registry", "get", key, name])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap().trim_end().to_string()
}

/// The lines of one `== heading` section of a text report.
fn section<'t>(text: &'t str, heading: &str) -> Vec<&'t str> {
    let mut lines = text.lines().skip_while(|l| *l != format!("== {heading}"));
    assert!(lines.next().is_some(), "no section {heading} in:\n{text}");
    lines
        .take_while(|l| !l.starts_with("== ") && !l.is_empty())
        .collect()
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The JSON report's entry for one component.
fn component<'v>(report: &'v Value, id: &str) -> &'v Value {
    report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no component {id}"))
}

/// A demo server, its export, then three changes: a user attribute set,
/// another user deleted, a prompt file added. Returns (root, file, the
/// changed user, its old title, the deleted user).
fn changed_server(dir: &Path) -> (PathBuf, PathBuf, String, String, String) {
    let root = dir.join("server");
    demo(&root, 20, 1);
    let file = export(&root, &dir.join("out"), "all", None);
    let names = users(&root);
    let (changed, deleted) = (names[0].clone(), names[1].clone());
    let key = format!("{USERS}\\{changed}");
    let old_title = get(&root, &key, "Title");
    transit(&root)
        .args(["registry", "set", &key, "Title", "Chief Tester"])
        .assert()
        .success();
    transit(&root)
        .args(["registry", "delete", &format!("{USERS}\\{deleted}")])
        .assert()
        .success();
    let prompt = root.join("files/Resources/Prompts/zz-new.wav");
    std::fs::create_dir_all(prompt.parent().unwrap()).unwrap();
    std::fs::write(&prompt, b"RIFF0000WAVE").unwrap();
    (root, file, changed, old_title, deleted)
}

#[test]
fn diff_root_against_its_own_export_is_equal() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 20, 1);
    let file = export(&root, &dir.path().join("out"), "all", None);
    diff(dir.path())
        .arg(&root)
        .arg(&file)
        .assert()
        .exit(Exit::Success)
        .stdout(predicate::str::contains("A and B are the same"))
        .stderr("");
    let out = diff(dir.path())
        .arg(&file)
        .arg(&root)
        .arg("--json")
        .assert()
        .exit(Exit::Success)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["equal"], true);
    assert_eq!(report["a"]["kind"], "migration-file");
    assert_eq!(report["b"]["kind"], "server-root");
    assert_eq!(report["summary"]["total"]["keys_changed"], 0);
}

#[test]
fn diff_shows_changed_deleted_and_added_under_their_components() {
    let dir = tempfile::tempdir().unwrap();
    let (root, file, changed, old_title, deleted) = changed_server(dir.path());

    // A is the export (before), B the root (after).
    let out = diff(dir.path())
        .arg(&file)
        .arg(&root)
        .assert()
        .exit(Exit::Failure)
        .stderr("")
        .get_output()
        .clone();
    let text = stdout(&out);
    let users = section(&text, "Users");
    let at = users
        .iter()
        .position(|l| *l == format!("~ {{ds}}\\Users\\{changed}"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        users[at + 1],
        format!("    Title: \"{old_title}\" -> \"Chief Tester\"")
    );
    assert!(users.contains(&format!("- {{ds}}\\Users\\{deleted}").as_str()));
    assert!(users
        .iter()
        .any(|l| l.starts_with("-- Users: keys +0 -1 ~1")));
    let prompts = section(&text, "Prompts and Resources");
    assert!(prompts.contains(&"+ files/Resources/Prompts/zz-new.wav  (12 bytes)"));
    // Nothing else differs.
    assert_eq!(text.matches("\n== ").count(), 2, "{text}");
    assert!(text.contains("A and B differ in 2 of 35 groups"));

    let out = diff(dir.path())
        .arg(&file)
        .arg(&root)
        .arg("--json")
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["equal"], false);
    assert_eq!(report["summary"]["components_different"], 2);
    let users = component(&report, "Users");
    let keys = users["keys"].as_array().unwrap();
    let key = keys
        .iter()
        .find(|k| k["key"] == format!("{{ds}}\\Users\\{changed}"))
        .unwrap();
    assert_eq!(key["change"], "changed");
    assert_eq!(
        key["values"],
        serde_json::json!([{
            "name": "Title", "change": "changed",
            "old": { "type": "REG_SZ", "data": old_title },
            "new": { "type": "REG_SZ", "data": "Chief Tester" },
        }])
    );
    let gone = keys
        .iter()
        .find(|k| k["key"] == format!("{{ds}}\\Users\\{deleted}"))
        .unwrap();
    assert_eq!(gone["change"], "removed");
    assert!(gone["values"]
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["name"] == "Title"));
    assert_eq!(users["counts"]["keys_removed"], 1);
    assert_eq!(users["counts"]["keys_changed"], 1);
    let prompts = component(&report, "Prompts and Resources");
    assert_eq!(
        prompts["file_changes"],
        serde_json::json!([{
            "path": "files/Resources/Prompts/zz-new.wav", "change": "added",
            "new": { "size": 12, "sha256": null },
        }])
    );
    assert_eq!(component(&report, "Roles")["keys"], serde_json::json!([]));

    // --components limits the output to Users.
    let out = diff(dir.path())
        .arg(&file)
        .arg(&root)
        .args(["--components", "users", "--json"])
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["Users"]);
    assert_eq!(report["summary"]["total"]["files_added"], 0);

    // --stat: counts only.
    let out = diff(dir.path())
        .arg(&file)
        .arg(&root)
        .arg("--stat")
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .clone();
    let text = stdout(&out);
    assert!(text.contains("\nUsers: keys +0 -1 ~1, values +0 -"));
    assert!(
        text.contains("\nPrompts and Resources: keys +0 -0 ~0, values +0 -0 ~0, files +1 -0 ~0")
    );
    assert!(!text.contains("~ {ds}"), "{text}");
    let out = diff(dir.path())
        .arg(&file)
        .arg(&root)
        .args(["--stat", "--json"])
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .clone();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let users = component(&report, "Users");
    assert!(users.get("keys").is_none());
    assert_eq!(users["counts"]["keys_changed"], 1);
}

#[test]
fn diff_root_against_reg_files_compares_everything_but_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 15, 2);
    let reg5 = dir.path().join("all5.reg");
    crate::common::export(&root, &reg5);
    let reg4 = dir.path().join("all4.reg");
    transit(&root)
        .args(["registry", "export", "--format", "regedit4", "--output"])
        .arg(&reg4)
        .assert()
        .success();
    for reg in [&reg5, &reg4] {
        diff(dir.path())
            .arg(&root)
            .arg(reg)
            .assert()
            .exit(Exit::Success)
            .stdout(
                predicate::str::contains("A and B are the same (36 groups compared)").and(
                    predicate::str::contains("holds no files: files are not compared"),
                ),
            );
    }
    // A key outside every component is in the other group.
    transit(&root)
        .args(["registry", "set", "EIC\\Custom Area", "Owner", "me"])
        .assert()
        .success();
    let out = diff(dir.path())
        .arg(&reg5)
        .arg(&root)
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .clone();
    let text = stdout(&out);
    assert_eq!(
        section(&text, "(other registry)"),
        [
            "+ EIC\\Custom Area",
            "    + Owner: \"me\"",
            "-- (other registry): keys +1 -0 ~0, values +1 -0 ~0, files +0 -0 ~0"
        ]
    );
    // Against a migration file there is no other group.
    let file = export(&root, &dir.path().join("out"), "all", None);
    diff(dir.path())
        .arg(&file)
        .arg(&reg5)
        .assert()
        .exit(Exit::Success)
        .stdout(predicate::str::contains("(other registry)").not());
}

#[test]
fn diff_two_migration_files_with_their_own_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 15, 3);
    let (one, two) = (
        password_file(dir.path(), "one"),
        password_file(dir.path(), "two"),
    );
    let before = export(&root, &dir.path().join("o1"), "Users", Some(&one));
    let name = users(&root)[3].clone();
    transit(&root)
        .args(["registry", "set", &format!("{USERS}\\{name}"), "Pager"])
        .args(["--type", "REG_DWORD", "0x10"])
        .assert()
        .success();
    let after = export(&root, &dir.path().join("o2"), "Users", Some(&two));

    let out = diff(dir.path())
        .arg(&before)
        .arg(&after)
        .arg("--password-file")
        .arg(&one)
        .arg("--b-password-file")
        .arg(&two)
        .assert()
        .exit(Exit::Failure)
        .get_output()
        .clone();
    let text = stdout(&out);
    assert_eq!(
        section(&text, "Users")[..2],
        [
            format!("~ {{ds}}\\Users\\{name}").as_str(),
            "    + Pager: dword:16"
        ]
    );
    // The Users export carries Workgroups too (closure); it is equal.
    assert!(!text.contains("== Workgroups"));
    // The same file on both sides, one shared password.
    diff(dir.path())
        .arg(&after)
        .arg(&after)
        .arg("--password-file")
        .arg(&two)
        .assert()
        .exit(Exit::Success);
    // The shared password is ignored for a side that is not encrypted.
    let plain = export(&root, &dir.path().join("o3"), "Users", None);
    diff(dir.path())
        .arg(&plain)
        .arg(&after)
        .arg("--password-file")
        .arg(&two)
        .assert()
        .exit(Exit::Success);
}

#[test]
fn diff_with_a_wrong_or_missing_password_fails_like_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 5, 1);
    let right = password_file(dir.path(), "right");
    let wrong = password_file(dir.path(), "wrong");
    let file = export(&root, &dir.path().join("out"), "Users", Some(&right));
    transit(&root)
        .arg("inspect")
        .arg(&file)
        .arg("--password-file")
        .arg(&wrong)
        .assert()
        .exit(Exit::WrongPassword)
        .stderr(predicate::str::contains("wrong password"));
    diff(dir.path())
        .arg(&root)
        .arg(&file)
        .arg("--password-file")
        .arg(&wrong)
        .assert()
        .exit(Exit::WrongPassword)
        .stdout("")
        .stderr(predicate::str::contains("wrong password"));
    diff(dir.path())
        .arg(&root)
        .arg(&file)
        .arg("--b-password-file")
        .arg(&wrong)
        .assert()
        .exit(Exit::WrongPassword);
    diff(dir.path())
        .arg(&file)
        .arg(&root)
        .assert()
        .exit(Exit::PasswordRequired)
        .stderr(predicate::str::contains("a password is required"));
    diff(dir.path())
        .arg(&file)
        .arg(&root)
        .arg("--password-file")
        .arg(&right)
        .assert()
        .exit(Exit::Success);
}

#[test]
fn diff_bad_input_is_reported_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    demo(&root, 3, 1);
    diff(dir.path())
        .arg(&root)
        .arg(dir.path().join("missing.reg"))
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains(
            "missing.reg: no such file or directory",
        ));
    std::fs::create_dir(dir.path().join("plain")).unwrap();
    diff(dir.path())
        .arg(dir.path().join("plain"))
        .arg(&root)
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains(
            "not a server root (a directory with server.toml)",
        ));
    std::fs::write(dir.path().join("notes.txt"), "just text").unwrap();
    diff(dir.path())
        .arg(&root)
        .arg(dir.path().join("notes.txt"))
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("notes.txt: not a server root"));
    let bad = dir.path().join("bad.reg");
    std::fs::write(
        &bad,
        "Windows Registry Editor Version 5.00\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence\\EIC]\n\"n\"=dword:12\n\"m\"=dword:xyz\n",
    )
    .unwrap();
    diff(dir.path())
        .arg(&root)
        .arg(&bad)
        .assert()
        .exit(Exit::BadInput)
        .stderr(predicate::str::contains("bad.reg: line 5"));
    diff(dir.path())
        .arg(&root)
        .arg(&root)
        .args(["--components", "Userz"])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("did you mean `Users`"));
}
