//! A closed standard output (`transit … | head`) is not a crash: the
//! command exits quietly, and an import still completes.

use crate::common::{demo, transit};
use assert_cmd::cargo::cargo_bin;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs `transit` with standard output a pipe whose reader is already
/// gone, so every write fails with EPIPE.
fn run_with_closed_stdout(root: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = Command::new(cargo_bin("transit"));
    cmd.env_remove("TRANSIT_LOG")
        .env_remove("TRANSIT_SERVER_ROOT")
        .env("PW", "pw")
        .arg("--server-root")
        .arg(root)
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped());
    cmd.output().unwrap()
}

fn assert_quiet(output: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
        "{what}: {stderr}"
    );
    assert_eq!(output.status.code(), Some(0), "{what}: {stderr}");
}

#[test]
fn inspect_components_and_import_exit_quietly_into_a_closed_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo(&a, 10, 1);
    let out = dir.path().join("out");
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
    let file = v["file"].as_str().unwrap().to_string();

    let inspect = run_with_closed_stdout(&a, &["inspect", &file, "--password-env", "PW"]);
    assert_quiet(&inspect, "inspect");
    assert_quiet(&run_with_closed_stdout(&a, &["components"]), "components");
    assert_quiet(
        &run_with_closed_stdout(&a, &["completions", "bash"]),
        "completions",
    );

    // Recovery into the same server: the import completes although nobody
    // reads its report.
    let extract = dir.path().join("extract");
    let import = run_with_closed_stdout(
        &a,
        &[
            "import",
            &file,
            "--mode",
            "recovery",
            "--password-env",
            "PW",
            "--extract-to",
            extract.to_str().unwrap(),
        ],
    );
    assert_quiet(&import, "import");
    assert!(extract.join("import-report.json").is_file());
}
