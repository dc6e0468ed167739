//! `transit console`: the reference's three example command lines, run
//! through a real shell with Unix paths, plus its refusals.

use crate::common::{demo_named, transit, Exit, ExitAssert};
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Runs `transit --server-root ROOT console <switches>` through `sh -c`,
/// so the shell handles the quotes exactly as a script's would.
fn console_line(root: &Path, switches: &str) -> Output {
    let line = format!(
        "'{}' --server-root '{}' console {switches}",
        cargo_bin("transit").display(),
        root.display()
    );
    std::process::Command::new("sh")
        .args(["-c", &line])
        .env_remove("TRANSIT_LOG")
        .env_remove("TRANSIT_SERVER_ROOT")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "status {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn only_file(folder: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

fn inspect(file: &Path, password: Option<&str>) -> serde_json::Value {
    let mut cmd = transit(Path::new("/nonexistent"));
    cmd.arg("inspect").arg(file).arg("--json");
    if let Some(pw) = password {
        cmd.env("PW", pw).args(["--password-env", "PW"]);
    }
    serde_json::from_slice(&cmd.assert().success().get_output().stdout).unwrap()
}

fn component_ids(manifest: &serde_json::Value) -> Vec<String> {
    manifest["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

/// Reference example 1: export all nodes with no user interaction, with a
/// password and a custom-handlers folder (paths with spaces, quoted).
#[test]
fn example_export_all_nodes_with_password() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CICA", "Indy", 1, "2015 R1", 1);
    let out = dir.path().join("d temp");
    let handlers = dir.path().join("custom Handlers");
    std::fs::create_dir_all(&handlers).unwrap();
    std::fs::write(handlers.join("MyHandler.ihd"), b"<handler/>").unwrap();
    let stdout = ok(&console_line(
        &a,
        &format!(
            "-export -exportfolder=\"{}\" -exportNodes=\"all\" -customHandlerPath=\"{}\" -password=foo noprompt",
            out.display(),
            handlers.display()
        ),
    ));
    let file = only_file(&out);
    assert!(stdout.contains(&file.display().to_string()), "{stdout}");
    assert!(file
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with("CICA_"));
    let manifest = inspect(&file, Some("foo"));
    assert_eq!(manifest["encrypted"], true);
    let all = transit(&a)
        .args(["components", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let catalog: serde_json::Value = serde_json::from_slice(&all).unwrap();
    let total: usize = catalog["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["components"].as_array().unwrap().len())
        .sum();
    assert_eq!(component_ids(&manifest).len(), total, "all nodes exported");
    // The custom-handlers folder went in, and the file needs its password.
    let handlers_files = manifest["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"].as_str().unwrap().contains("Handler"))
        .map(|c| c["counts"]["files"].as_u64().unwrap())
        .sum::<u64>();
    assert!(handlers_files >= 1, "{manifest}");
    transit(Path::new("/nonexistent"))
        .arg("inspect")
        .arg(&file)
        .assert()
        .exit(Exit::PasswordRequired);
}

/// Reference example 2: export users and workgroups (lower-case node
/// names, no password; the line wrap of the reference kept as `-` and a
/// dashless switch).
#[test]
fn example_export_users_and_workgroups() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CICA", "Indy", 1, "2015 R1", 1);
    let out = dir.path().join("out");
    let output = console_line(
        &a,
        &format!(
            "-export -exportfolder=\"{}\" -exportNodes=\"users, workgroups\" - customHandlerPath=\"{}\" noprompt",
            out.display(),
            dir.path().join("nohandlers").display()
        ),
    );
    // The handlers folder does not exist: a clear refusal naming it.
    assert_eq!(
        output.status.code(),
        Some(i32::from(Exit::Usage.code())),
        "{output:?}"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("nohandlers"));
    std::fs::create_dir_all(dir.path().join("nohandlers")).unwrap();
    let output = console_line(
        &a,
        &format!(
            "-export -exportfolder=\"{}\" -exportNodes=\"users, workgroups\" - customHandlerPath=\"{}\" noprompt",
            out.display(),
            dir.path().join("nohandlers").display()
        ),
    );
    ok(&output);
    assert!(String::from_utf8_lossy(&output.stderr).contains("NOT encrypted"));
    let manifest = inspect(&only_file(&out), None);
    assert_eq!(manifest["encrypted"], false);
    let mut ids = component_ids(&manifest);
    ids.sort();
    assert_eq!(ids, ["Users", "Workgroups"]);
}

/// Reference example 3: import all nodes from an export file with a
/// password, into another server (migration mode, the default).
#[test]
fn example_import_all_nodes_with_password() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CICA", "Indy", 1, "2015 R1", 1);
    demo_named(&b, "CICB", "Paris", 2, "2015 R1", 2);
    let out = dir.path().join("out");
    ok(&console_line(
        &a,
        &format!(
            "-EXPORT -ExportFolder=\"{}\" -password=\"1234\" -NOPROMPT",
            out.display()
        ),
    ));
    let file = only_file(&out);
    let extract = dir.path().join("My Import Folder");
    let stdout = ok(&console_line(
        &b,
        &format!(
            "-import -importfile=\"{}\" -importNodes=\"all\" -extractionFolder=\"{}\" -password=\"1234\" noprompt",
            file.display(),
            extract.display()
        ),
    ));
    assert!(stdout.contains("Manual follow-ups"), "{stdout}");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(extract.join("import-report.json")).unwrap())
            .unwrap();
    assert_eq!(report["mode"], "migration");

    // -importmode=1 (recovery) into another server is refused by the
    // version and identity rules, with the import rules' own exit code.
    let refused = console_line(
        &b,
        &format!(
            "-import -importfile=\"{}\" -extractionFolder=\"{}\" -password=1234 -importmode=1 noprompt",
            file.display(),
            extract.display()
        ),
    );
    assert_eq!(
        refused.status.code(),
        Some(i32::from(Exit::Refused.code())),
        "{refused:?}"
    );
}

#[test]
fn without_noprompt_a_terminal_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CICA", "Indy", 1, "2015 R1", 1);
    let output = console_line(
        &a,
        &format!(
            "-export -exportFolder=\"{}\"",
            dir.path().join("o").display()
        ),
    );
    assert_eq!(output.status.code(), Some(i32::from(Exit::Usage.code())));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("-noprompt"), "{stderr}");
    assert!(!dir.path().join("o").exists(), "nothing ran");
}

#[test]
fn unknown_and_conflicting_switches_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CICA", "Indy", 1, "2015 R1", 1);
    transit(&a)
        .args([
            "console",
            "-export",
            "-exportFolder=/tmp/x",
            "-verbose",
            "-noprompt",
        ])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("`-verbose`"));
    transit(&a)
        .args(["console", "-export", "-import", "-noprompt"])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("-export").and(predicate::str::contains("-import")));
    transit(&a)
        .args([
            "console",
            "-export",
            "-exportFolder=/tmp/x",
            "-devMode",
            "noprompt",
        ])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains(
            "`-devMode` applies to -import only",
        ));
    transit(&a)
        .args([
            "console",
            "-export",
            "-exportFolder=/tmp/x",
            "-exportNodes=Userz",
            "noprompt",
        ])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("Userz"));
}

/// With a terminal, the console waits for a keystroke before it starts.
#[test]
fn with_a_terminal_it_waits_for_a_keystroke() {
    let Some(tmux) = crate::common::tool_or_skip(&["tmux"], "apt-get install tmux") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CICA", "Indy", 1, "2015 R1", 1);
    let out = dir.path().join("out");
    let socket = format!("transit-console-{}", std::process::id());
    let command = format!(
        "'{}' --server-root '{}' console -export -exportFolder='{}'; echo EXIT=$?; sleep 30",
        cargo_bin("transit").display(),
        a.display(),
        out.display()
    );
    let tmux_cmd = |args: &[&str]| {
        std::process::Command::new(tmux)
            .args(["-L", &socket])
            .args(args)
            .output()
            .unwrap()
    };
    let started = tmux_cmd(&["new-session", "-d", "-x", "120", "-y", "30", &command]);
    assert!(started.status.success(), "{started:?}");
    let pane =
        |_: ()| String::from_utf8_lossy(&tmux_cmd(&["capture-pane", "-p"]).stdout).into_owned();
    let wait_for = |needle: &str| {
        for _ in 0..300 {
            let text = pane(());
            if text.contains(needle) {
                return text;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let text = pane(());
        tmux_cmd(&["kill-server"]);
        panic!("timed out waiting for {needle:?}; pane:\n{text}");
    };
    wait_for("Press any key");
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(!out.exists(), "the export must wait for the keystroke");
    tmux_cmd(&["send-keys", "x"]);
    let text = wait_for("EXIT=");
    tmux_cmd(&["kill-server"]);
    assert!(text.contains("EXIT=0"), "{text}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
}
