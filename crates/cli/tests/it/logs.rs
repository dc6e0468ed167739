//! `transit logs bundle` and log retention.

use crate::common::{demo_named, transit};
use std::io::Read;

fn entries(zip_path: &std::path::Path) -> Vec<(String, String)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            (f.name().unwrap().to_string(), text)
        })
        .collect()
}

#[test]
fn bundle_holds_logs_report_and_a_redacted_identity() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cic");
    demo_named(&root, "CICA", "Indy", 1, "2015 R1", 1);
    // Commands log to logs/; an import leaves its last report there.
    transit(&root).args(["registry", "list"]).assert().success();
    std::fs::write(
        root.join("logs/last-import-report.json"),
        "{\"mode\":\"migration\"}",
    )
    .unwrap();
    let out = dir.path().join("support.zip");
    let printed = transit(&root)
        .args(["logs", "bundle", "--out"])
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&printed).trim(),
        out.display().to_string()
    );
    let listed = entries(&out);
    let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("logs/transit.") && n.ends_with(".log")),
        "{names:?}"
    );
    assert!(names.contains(&"logs/last-import-report.json"), "{names:?}");
    assert!(names.contains(&"bundle.json"));
    assert!(
        !names
            .iter()
            .any(|n| n.contains("machine") || n.contains("registry.db")),
        "{names:?}"
    );
    let identity = &listed
        .iter()
        .find(|(n, _)| n == "server-identity.toml")
        .unwrap()
        .1;
    assert!(identity.contains("CICA"), "{identity}");
    assert!(
        identity.contains("machine_key_id = \"<removed>\""),
        "{identity}"
    );
    let real = std::fs::read_to_string(root.join("server.toml")).unwrap();
    let key_id = real
        .lines()
        .find_map(|l| l.strip_prefix("machine_key_id = "))
        .unwrap();
    assert!(!identity.contains(key_id));
    // An existing bundle is never overwritten.
    transit(&root)
        .args(["logs", "bundle", "--out"])
        .arg(&out)
        .assert()
        .failure();
    // A bundle written into the logs folder does not swallow itself.
    let inside = root.join("logs/support.zip");
    transit(&root)
        .args(["logs", "bundle", "--out"])
        .arg(&inside)
        .assert()
        .success();
    let names: Vec<String> = entries(&inside).into_iter().map(|(n, _)| n).collect();
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with(".zip") || n.contains(".transit-logs-")),
        "{names:?}"
    );
    // Without --out, a named zip in the current folder.
    let here = dir.path().join("here");
    std::fs::create_dir(&here).unwrap();
    transit(&root)
        .current_dir(&here)
        .args(["logs", "bundle"])
        .assert()
        .success();
    let made: Vec<String> = std::fs::read_dir(&here)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(made.len(), 1);
    assert!(
        made[0].starts_with("transit-logs-CICA-") && made[0].ends_with(".zip"),
        "{made:?}"
    );
}

#[test]
fn logs_are_kept_for_14_days_by_default_and_adjustably() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cic");
    demo_named(&root, "CICA", "Indy", 1, "2015 R1", 1);
    let logs = root.join("logs");
    let count = || {
        std::fs::read_dir(&logs)
            .unwrap()
            .filter(|e| {
                let name = e
                    .as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .into_owned();
                name.starts_with("transit.") && name.ends_with(".log")
            })
            .count()
    };
    for day in 1..=20 {
        std::fs::write(logs.join(format!("transit.2026-10-{day:02}.log")), "old\n").unwrap();
    }
    std::fs::write(logs.join("keep-me.txt"), "not a log").unwrap();
    transit(&root).args(["registry", "list"]).assert().success();
    assert_eq!(count(), 14);
    // Today's file is among them (it is where this command logged).
    let today = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.starts_with("transit.") && n.ends_with(".log") && !n.starts_with("transit.2026-10-")
        })
        .count();
    assert_eq!(today, 1);
    transit(&root)
        .env("TRANSIT_LOG_KEEP_DAYS", "3")
        .args(["registry", "list"])
        .assert()
        .success();
    assert_eq!(count(), 3);
    assert!(logs.join("keep-me.txt").exists());
}
