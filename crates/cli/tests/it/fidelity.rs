//! Migrator fidelity end to end (issue 10): a 2015 R1 source migrated
//! into a 2018 R1 target without hand edits, and the rules the vendor's
//! reference applies.

use crate::common::{demo_named, transit, Exit, ExitAssert};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

/// `transit export --json` with password `pw`; returns the file.
pub fn export_file(root: &Path, out: &Path) -> PathBuf {
    let v: serde_json::Value = serde_json::from_slice(
        &transit(root)
            .args(["export", "--json", "--password-env", "PW", "--folder"])
            .arg(out)
            .env("PW", "pw")
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    PathBuf::from(v["file"].as_str().unwrap())
}

/// `transit import FILE --extract-to DIR --password-env PW` plus `extra`.
pub fn import(root: &Path, file: &Path, extract: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = transit(root);
    cmd.env("PW", "pw")
        .arg("import")
        .arg(file)
        .arg("--extract-to")
        .arg(extract)
        .args(["--password-env", "PW"])
        .args(extra);
    cmd
}

fn log_text(root: &Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(root.join("logs")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "log") {
            text.push_str(&std::fs::read_to_string(p).unwrap());
        }
    }
    text
}

#[test]
fn a_2015_r1_source_migrates_into_2018_r1_after_migrator_install() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2015 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);

    // Exported with the source's own Migrator 2015 R1: the target refuses
    // and names the command that fixes it.
    let old = export_file(&a, &dir.path().join("out1"));
    import(&b, &old, &dir.path().join("x1"), &[])
        .assert()
        .exit(Exit::Refused)
        .stderr(
            predicate::str::contains("export again with Migrator 2018 R1").and(
                predicate::str::contains(r#"migrator install --release "2018 R1" --build 100"#),
            ),
        );

    // The vendor's step: install the target's Migrator on the source.
    transit(&a)
        .args(["migrator", "install", "--release", "2018 R1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Migrator 2018 R1 build 100 installed",
        ));
    assert!(
        log_text(&a).contains("Migrator 2018 R1 build 100 installed"),
        "the install is in the server's log"
    );
    // Never backwards.
    transit(&a)
        .args(["migrator", "install", "--release", "2015 R1"])
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("downgrade"));
    transit(&a)
        .args([
            "migrator",
            "install",
            "--release",
            "2018 R1",
            "--build",
            "99",
        ])
        .assert()
        .exit(Exit::Refused);

    let new = export_file(&a, &dir.path().join("out2"));
    import(&b, &new, &dir.path().join("x2"), &[])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("x2").join("import-report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["source_release"], "2015 R1");

    // Names inside files: the LRA configuration follows the rename, and
    // the report lists the rewrite.
    let lra = std::fs::read_to_string(b.join("files/Resources/LRA/LRAConfig.xml")).unwrap();
    assert!(lra.contains(r#"Server="CIC02" Site="Paris""#), "{lra}");
    let lra_report = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "LRA Configuration")
        .unwrap();
    assert_eq!(lra_report["rules"]["rename-server-site"], 1, "{lra_report}");
    let text = std::fs::read_to_string(dir.path().join("x2/import-report.txt")).unwrap();
    assert!(
        text.contains("rewrote LRA Configuration: files/Resources/LRA/LRAConfig.xml: server CIC01 → CIC02, site Indy → Paris"),
        "{text}"
    );
}

/// The README's "migrate 2015 R1 → 2018 R1" recipe, run as written by
/// bash in an empty folder with `transit` on the PATH.
#[test]
fn the_readme_migration_recipe_runs_as_written() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    let at = readme
        .find("**Recipe: migrate 2015 R1 → 2018 R1.**")
        .expect("the recipe is in the README");
    let rest = &readme[at..];
    let start = rest.find("```sh\n").unwrap() + "```sh\n".len();
    let script = &rest[start..start + rest[start..].find("```").unwrap()];
    assert!(script.contains("migrator install"), "{script}");
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("transit");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("bash")
        .args(["-euo", "pipefail", "-c", script])
        .current_dir(dir.path())
        .env("PATH", path)
        .env_remove("TRANSIT_SERVER_ROOT")
        .env_remove("TRANSIT_LOG")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the recipe failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.path().join("extracted/import-report.txt").is_file());
}

#[test]
fn recovery_before_2015_r1_is_refused_with_the_reference_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CIC01", "Indy", 1, "4.0", 1);
    let file = export_file(&a, &dir.path().join("out"));
    import(&a, &file, &dir.path().join("x"), &["--mode", "recovery"])
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("only from 2015 R1 on"));
}

#[test]
fn a_renamed_media_server_gets_the_certificate_follow_up() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("ms01"), dir.path().join("ms02"));
    for (root, name, site, id) in [(&a, "MS01", "Indy", 1), (&b, "MS02", "Paris", 2)] {
        let sample = crate::common::Sample::media(name)
            .site(site, id)
            .release("2018 R1");
        transit(root).args(sample.demo_args()).assert().success();
    }
    let file = export_file(&a, &dir.path().join("out"));
    import(&b, &file, &dir.path().join("x"), &["--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("recreate-certificates"));
    let text = std::fs::read_to_string(dir.path().join("x/import-report.txt")).unwrap();
    assert!(
        text.contains("recreate the certificates: this Media Server was MS01 and is now MS02"),
        "{text}"
    );
    let xml = std::fs::read_to_string(b.join("files/Config/mediaserver.xml")).unwrap();
    assert!(xml.contains(r#"name="MS02""#), "{xml}");
    assert!(
        text.contains(
            "rewrote Media Configuration: files/Config/mediaserver.xml: server MS01 → MS02"
        ),
        "{text}"
    );

    // The same name at the same release is refused before anything changes.
    let c = dir.path().join("ms01-again");
    let sample = crate::common::Sample::media("MS01")
        .site("Paris", 3)
        .release("2018 R1");
    transit(&c).args(sample.demo_args()).assert().success();
    import(&c, &file, &dir.path().join("y"), &[])
        .assert()
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("must have a different name"));
}

/// "Interaction Migrator does the following when importing data components
/// in both Migration and Recovery modes": secrets, dial-plan
/// classifications and production reports, here in recovery mode.
#[test]
fn the_both_modes_rules_apply_in_recovery() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CIC01", "Indy", 1, "2015 R1", 1);
    // The exported classifications lack this release's class.
    let classes = r"EIC\Directory Services\Root\Indy\Production\CIC01\Dial Plan\Classifications";
    transit(&a)
        .args([
            "registry",
            "set",
            classes,
            "Classes",
            "--type",
            "REG_MULTI_SZ",
        ])
        .args(["Local", "Emergency"])
        .assert()
        .success();
    let file = export_file(&a, &dir.path().join("out"));
    let x = dir.path().join("x");
    import(&a, &file, &x, &["--mode", "recovery"])
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(x.join("import-report.json")).unwrap()).unwrap();
    let follow_ups = report["follow_ups"].as_array().unwrap();
    assert!(
        follow_ups.iter().any(|f| f["kind"] == "reset-secret"),
        "secrets are flagged in recovery: {follow_ups:?}"
    );
    let component = |id: &str| {
        report["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let reports = component("Reports");
    assert!(
        reports["files_skipped"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s[1].as_str().unwrap().contains("production report")),
        "{reports}"
    );
    assert_eq!(
        component("Dial Plan")["rules"]["dial-plan-classifications"],
        1
    );
    transit(&a)
        .args(["registry", "get", classes, "Classes"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Release 2015 R1"));
}

/// The follow-ups each imported component calls for, `review` of IP
/// tables and registration groups, and `--only` matching nothing.
#[test]
fn component_follow_ups_and_review_of_every_migrated_container() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2018 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    let file = export_file(&a, &dir.path().join("out"));
    // Only Users (and the Workgroups they need): no licence, NIC, Tracker tasks.
    let x = dir.path().join("x1");
    import(
        &b,
        &file,
        &x,
        &["--components", "Users", "--dry-run", "--json"],
    )
    .assert()
    .success()
    .stdout(
        predicate::str::contains("restart-service")
            .and(predicate::str::contains("adjust-license-allocation").not())
            .and(predicate::str::contains("tracker-database-first").not()),
    );
    let x = dir.path().join("x2");
    import(&b, &file, &x, &[]).assert().success();
    let text = std::fs::read_to_string(x.join("import-report.txt")).unwrap();
    for task in [
        "restart the server service",
        "adjust license allocation",
        "SIP lines: check the network adapter",
        "re-publish every modified base handler",
        "queue statistics intervals",
        "fix by hand any error the imported profiles show",
        "recordings storage path",
        "the Tracker database must have been migrated",
    ] {
        assert!(text.contains(task), "{task} missing from:\n{text}");
    }
    transit(&b)
        .args([
            "review",
            "ip-tables",
            "--keep",
            "original",
            "--only",
            "No Such Table",
        ])
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("No Such Table"));
    transit(&b)
        .args(["review", "ip-tables", "--keep", "imported"])
        .assert()
        .success()
        .stdout(predicate::str::contains("resolved Table 1"));
    transit(&b)
        .args(["review", "registration-groups", "--keep", "original"])
        .assert()
        .success();
    let listed = String::from_utf8(
        transit(&b)
            .args([
                "registry",
                "list",
                r"EIC\Directory Services\Root\Paris\Production\CIC02",
                "--recursive",
            ])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    for container in ["IP Tables", "Registration Groups"] {
        assert!(
            !listed
                .lines()
                .any(|l| l.contains(container) && l.contains("_migrated")),
            "{container} still has _migrated entries"
        );
    }
}

/// Base handlers (`Handlers/System`) export as their own component, diff
/// against a server, and import into the extraction folder only.
#[test]
fn base_handlers_are_exported_diffed_and_extracted_only() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2018 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    let file = export_file(&a, &dir.path().join("out"));
    let diff = |root: &Path| {
        let mut cmd = transit(root);
        cmd.env("PW", "pw").arg("diff").arg(root).arg(&file).args([
            "--password-env",
            "PW",
            "--components",
            "System Handlers",
        ]);
        cmd
    };
    diff(&a).assert().success();
    let target_own = std::fs::read(b.join("files/Handlers/System/System_Email.ihd")).unwrap();
    diff(&b)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("System_Email.ihd"));
    let x = dir.path().join("x");
    import(&b, &file, &x, &["--components", "System Handlers"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "re-publish every modified base handler",
        ));
    assert!(x.join("System/System_Email.ihd").is_file());
    assert_eq!(
        std::fs::read(b.join("files/Handlers/System/System_Email.ihd")).unwrap(),
        target_own,
        "the target's base handlers are never overwritten"
    );
}

/// The Dialer rule's `1` is what the report shows as the original, and
/// `review --keep imported` never sets it back to the source's `0`.
#[test]
fn the_dialer_switch_survives_the_report_and_the_review() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2018 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    let file = export_file(&a, &dir.path().join("out"));
    let x = dir.path().join("x");
    import(&b, &file, &x, &[]).assert().success();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(x.join("import-report.json")).unwrap()).unwrap();
    let pair = report["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["original"] == "Launch Dialer Migration Package Processor")
        .expect("the parameter is reviewed");
    assert_eq!(pair["original_values"], "Value=1", "{pair}");
    assert_eq!(pair["imported_values"], "Value=0", "{pair}");
    transit(&b)
        .args(["review", "server-params", "--keep", "imported"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "kept Launch Dialer Migration Package Processor",
        ));
    let key = r"EIC\Directory Services\Root\Paris\Production\CIC02\Server Parameters\Launch Dialer Migration Package Processor";
    transit(&b)
        .args(["registry", "get", key, "Value"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("1"));
}

const DIALER_KEY: &str = r"EIC\Directory Services\Root\Paris\Production\CIC02\Server Parameters\Launch Dialer Migration Package Processor";

/// Starts B's server service, waits until the Dialer server's package
/// processor has reset the switch, and stops the service.
fn run_dialer_server(b: &Path) {
    transit(b)
        .args(["server", "start", "--daemon"])
        .assert()
        .success();
    let mut value = String::new();
    for _ in 0..300 {
        value = String::from_utf8(
            transit(b)
                .args(["registry", "get", DIALER_KEY, "Value"])
                .assert()
                .success()
                .get_output()
                .stdout
                .clone(),
        )
        .unwrap();
        if value.trim() == "0" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    transit(b).args(["server", "stop"]).assert().success();
    assert_eq!(value.trim(), "0", "the Dialer server reset the switch");
}

#[test]
fn the_dialer_package_is_created_extracted_and_processed() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2018 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    let file = export_file(&a, &dir.path().join("out"));
    transit(&a)
        .env("PW", "pw")
        .arg("inspect")
        .arg(&file)
        .args(["--password-env", "PW", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("dialer/dialer_migration.zip"));
    import(
        &b,
        &file,
        &dir.path().join("x"),
        &["--components", "Dialer Package"],
    )
    .assert()
    .success();
    assert!(b.join("files/Dialer/dialer_migration.zip").is_file());
    run_dialer_server(&b);
    assert_eq!(
        std::fs::read(b.join("files/Server/dialer_config.xml")).unwrap(),
        std::fs::read(a.join("files/Server/dialer_config.xml")).unwrap(),
        "the package's configuration is the Dialer server's now"
    );
    assert!(!b.join("files/Dialer/dialer_migration.zip").exists());
    assert!(log_text(&b).contains("package processor completed: successful"));
}

#[test]
fn without_a_dialer_package_the_dialer_server_still_resets_the_switch() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2018 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    let out = dir.path().join("out");
    // The console's -noprompt skips the Dialer package creator.
    transit(&a)
        .arg("console")
        .arg("-export")
        .arg(format!("-exportFolder={}", out.display()))
        .args(["-exportNodes=Dialer Package", "-password=pw", "-noprompt"])
        .assert()
        .success();
    let file = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "ininmigr"))
        .unwrap();
    transit(&a)
        .env("PW", "pw")
        .arg("inspect")
        .arg(&file)
        .args(["--password-env", "PW", "--json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("dialer_migration.zip").not());
    import(&b, &file, &dir.path().join("x"), &[])
        .assert()
        .success();
    assert!(!b.join("files/Dialer/dialer_migration.zip").exists());
    run_dialer_server(&b);
    assert!(log_text(&b).contains("unable to find dialer_migration.zip"));
}

/// A dry run shows the files the real run writes; the report lists items,
/// the wave-folder renames, the releases and the Migrator builds.
#[test]
fn dry_runs_and_reports_tell_the_truth() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2015 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    // The target has no German waves of its own, so the file's are written.
    std::fs::remove_dir_all(b.join("files/Resources/Attendant/Waves/de-de")).unwrap();
    transit(&a)
        .args([
            "migrator",
            "install",
            "--release",
            "2018 R1",
            "--build",
            "90",
        ])
        .assert()
        .success();
    let file = export_file(&a, &dir.path().join("out"));
    let json = |args: &[&str]| -> serde_json::Value {
        serde_json::from_slice(
            &import(&b, &file, &dir.path().join("x"), args)
                .assert()
                .success()
                .get_output()
                .stdout,
        )
        .unwrap()
    };
    let files = |report: &serde_json::Value| -> Vec<(String, u64, u64)> {
        report["components"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["id"].as_str().unwrap().to_string(),
                    c["files_written"].as_u64().unwrap(),
                    c["files_extracted"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let dry = json(&["--dry-run", "--json"]);
    let real = json(&["--json"]);
    assert_eq!(
        files(&dry),
        files(&real),
        "the dry run shows the real files"
    );
    let count = |id: &str| {
        files(&dry)
            .into_iter()
            .find(|(c, _, _)| c == id)
            .map(|(_, w, e)| w + e)
            .unwrap()
    };
    assert!(count("Dial Plan") > 0 && count("LRA Configuration") == 1);
    assert!(count("Attendant Waves") > 0 && count("IP\\Handlers") > 0);

    let component = |id: &str| {
        real["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap()
            .clone()
    };
    let users = component("Users");
    // The demo's 40 users, by name (each user key is one item).
    let items = users["items"].as_array().unwrap();
    assert_eq!(items.len(), 40, "{users}");
    assert!(users["keys_imported"].as_u64().unwrap() >= 40);
    let waves = component("Attendant Waves");
    assert!(
        waves["folders_renamed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "files/Resources/Attendant/Waves/de-de"
                && r[1] == "files/Resources/Attendant/Waves/de"),
        "{waves}"
    );
    // The target's own fr-fr folder followed the rename.
    assert!(
        waves["target_renamed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r[0] == "files/Resources/Attendant/Waves/fr-fr"),
        "{waves}"
    );
    assert_eq!(real["target_release"], "2018 R1");
    assert_eq!(real["file_migrator"], "2018 R1 build 90");
    assert_eq!(real["target_migrator"], "2018 R1 build 100");
    let text = std::fs::read_to_string(dir.path().join("x/import-report.txt")).unwrap();
    assert!(text.contains("renamed folder Attendant Waves"), "{text}");
    // The profiles' Language values follow the wave rename.
    let profiles = component("Attendant Profiles");
    assert!(
        profiles["rules"]["waves-base-language"].as_u64().unwrap() > 0,
        "{profiles}"
    );
    // Profile 2 was fr-fr on the source (the demo cycles en-us, fr-fr, de-de).
    transit(&b)
        .args([
            "registry",
            "get",
            r"EIC\Directory Services\Root\Paris\Production\CIC02\Attendant Profiles\Profile 2",
            "Language",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("fr\n"));
    assert!(text.contains("imported Users: "), "{text}");
}

/// A password holding `"` reaches the console through TRANSIT_PASSWORD
/// and an empty `-password=`; without it, the empty switch is refused.
#[test]
fn the_console_takes_any_password_through_transit_password() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    demo_named(&a, "CIC01", "Indy", 1, "2018 R1", 1);
    let out = dir.path().join("out");
    let password = r#"pa"ss w'rd\"#;
    let console = |env: Option<&str>| {
        let mut cmd = transit(&a);
        cmd.env_remove("TRANSIT_PASSWORD")
            .arg("console")
            .arg("-export")
            .arg(format!("-exportFolder={}", out.display()))
            .args(["-exportNodes=Roles", "-password=", "-noprompt"]);
        if let Some(p) = env {
            cmd.env("TRANSIT_PASSWORD", p);
        }
        cmd
    };
    console(None)
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("TRANSIT_PASSWORD"));
    console(Some(password)).assert().success();
    let file = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "ininmigr"))
        .unwrap();
    transit(&a)
        .env("PW", password)
        .arg("verify")
        .arg(&file)
        .args(["--password-env", "PW"])
        .assert()
        .success();
}

/// Asking for a component whose requirement the file lacks names both.
#[test]
fn a_missing_requirement_is_named_with_the_component_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2018 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    let out = dir.path().join("out");
    let v: serde_json::Value = serde_json::from_slice(
        &transit(&a)
            .args(["export", "--json", "--components", "Users", "--folder"])
            .arg(&out)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let file = PathBuf::from(v["file"].as_str().unwrap());
    transit(&b)
        .arg("import")
        .arg(&file)
        .arg("--extract-to")
        .arg(dir.path().join("x"))
        .args(["--components", "AdminConfig"])
        .assert()
        .exit(Exit::Usage)
        .stderr(
            predicate::str::contains(r#"no component "AdminConfig""#)
                .and(predicate::str::contains("Workstations").not()),
        );
    transit(&b)
        .arg("import")
        .arg(&file)
        .arg("--extract-to")
        .arg(dir.path().join("x"))
        .args(["--components", "Users,AdminConfig"])
        .assert()
        .exit(Exit::Usage);
}

/// When the waves are renamed (`fr-fr` → `fr`), the target's own `fr-fr`
/// folder follows, reported; the restore point holds the moved files, so
/// a rollback puts every one back.
#[test]
fn the_targets_own_waves_follow_the_language_rename() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    demo_named(&a, "CIC01", "Indy", 1, "2015 R1", 1);
    demo_named(&b, "CIC02", "Paris", 2, "2018 R1", 2);
    transit(&a)
        .args(["migrator", "install", "--release", "2018 R1"])
        .assert()
        .success();
    let file = export_file(&a, &dir.path().join("out"));
    let root = transit_server::ServerRoot::open(&b).unwrap();
    let waves = b.join("files/Resources/Attendant/Waves");
    let own_wave = std::fs::read(waves.join("fr-fr/greeting1.wav")).unwrap();
    let before = transit_testkit::state::state(&root);

    let report: serde_json::Value = serde_json::from_slice(
        &import(&b, &file, &dir.path().join("x"), &["--json"])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert!(
        !waves.join("fr-fr").exists(),
        "the target's fr-fr folder moved"
    );
    assert_eq!(
        std::fs::read(waves.join("fr/greeting1.wav")).unwrap(),
        own_wave,
        "the target's own wave wins over the file's (files-keep-existing)"
    );
    assert!(waves.join("de/greeting1.wav").is_file());
    let moved = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "Attendant Waves")
        .unwrap()["target_renamed"]
        .to_string();
    assert!(
        moved.contains("Waves/fr-fr") && moved.contains("files of the target's own"),
        "{moved}"
    );
    let text = std::fs::read_to_string(dir.path().join("x/import-report.txt")).unwrap();
    assert!(text.contains("target's own Attendant Waves"), "{text}");

    transit(&b).arg("rollback").assert().success();
    transit_testkit::state::assert_same(&before, &transit_testkit::state::state(&root));
}
