//! `transit schedule` and `transit export --keep`: the units it writes,
//! what the scheduled command does, and its refusals.

use crate::common::{demo_named, transit, Exit, ExitAssert};
use predicates::prelude::*;
use std::path::{Path, PathBuf};

struct Setup {
    _dir: tempfile::TempDir,
    root: PathBuf,
    out: PathBuf,
    units: PathBuf,
    pw: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cic");
    demo_named(&root, "CICA", "Indy", 1, "2015 R1", 1);
    let out = dir.path().join("backups");
    std::fs::create_dir(&out).unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret\n").unwrap();
    let units = dir.path().join("units");
    Setup {
        root,
        out,
        units,
        pw,
        _dir: dir,
    }
}

fn add(s: &Setup, name: &str, every: &str, at: &str, keep: &str) -> assert_cmd::assert::Assert {
    transit(&s.root)
        .args([
            "schedule", "add", "--name", name, "--every", every, "--at", at, "--keep", keep,
        ])
        .arg("--folder")
        .arg(&s.out)
        .arg("--password-file")
        .arg(&s.pw)
        .arg("--unit-dir")
        .arg(&s.units)
        .assert()
}

/// The words of our own `ExecStart=` line (double-quoted, `\\`/`\"`
/// escaped, `%%` and `$$` for literal `%` and `$`).
fn exec_start(service: &str) -> Vec<String> {
    let line = service
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("an ExecStart line");
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut word = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => word.push(chars.next().unwrap()),
                '"' => break,
                '%' | '$' => {
                    assert_eq!(chars.next(), Some(c), "specials are doubled");
                    word.push(c);
                }
                other => word.push(other),
            }
        }
        words.push(word);
    }
    words
}

#[test]
fn add_list_run_and_remove_a_schedule() {
    let s = setup();
    add(&s, "nightly", "daily", "02:30", "2")
        .success()
        .stdout(predicate::str::contains("is not a folder systemd reads"));
    let service_path = s.units.join("transit-export-nightly.service");
    let timer_path = s.units.join("transit-export-nightly.timer");
    let service = std::fs::read_to_string(&service_path).unwrap();
    let timer = std::fs::read_to_string(&timer_path).unwrap();
    assert!(timer.contains("OnCalendar=*-*-* 02:30:00"), "{timer}");
    assert!(timer.contains("Persistent=true"));

    if let Some(analyze) =
        crate::common::tool_or_skip(&["systemd-analyze"], "apt-get install systemd")
    {
        let verify = std::process::Command::new(analyze)
            .arg("verify")
            .arg(&timer_path)
            .arg(&service_path)
            .output()
            .unwrap();
        assert!(verify.status.success(), "{verify:?}");
        assert!(
            verify.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&verify.stderr)
        );
    }

    // A second schedule, weekly, then list both.
    add(&s, "weekly-dr", "weekly:sun", "23:05", "4").success();
    let listed: serde_json::Value = serde_json::from_slice(
        &transit(&s.root)
            .args(["schedule", "list", "--json", "--unit-dir"])
            .arg(&s.units)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let names: Vec<_> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].clone())
        .collect();
    assert_eq!(names, ["nightly", "weekly-dr"]);
    assert_eq!(listed[1]["on_calendar"], "Sun *-*-* 23:05:00");
    assert_eq!(listed[1]["keep"], 4);
    transit(&s.root)
        .args(["schedule", "list", "--unit-dir"])
        .arg(&s.units)
        .assert()
        .success()
        .stdout(predicate::str::contains("nightly").and(predicate::str::contains("weekly:Sun")));

    // What the timer runs: a plain export, then retention, which keeps the
    // newest 2 of this server's files and touches nothing else.
    for name in [
        "CICA_01012020000000.ininmigr",
        "CICA_01012021000000.ininmigr",
        "CICB_01012019000000.ininmigr",
        "notes.txt",
    ] {
        std::fs::write(s.out.join(name), name).unwrap();
    }
    let words = exec_start(&service);
    let run = std::process::Command::new(&words[0])
        .args(&words[1..])
        .env_remove("TRANSIT_SERVER_ROOT")
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("retention: deleted") && stdout.contains("CICA_01012020000000"),
        "{stdout}"
    );
    let mut left: Vec<String> = std::fs::read_dir(&s.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left.len(), 4, "{left:?}");
    assert_eq!(&left[0], "CICA_01012021000000.ininmigr");
    assert!(left[1].starts_with("CICA_") && left[1] != "CICA_01012020000000.ininmigr");
    assert_eq!(&left[2..], ["CICB_01012019000000.ininmigr", "notes.txt"]);
    // The new file is encrypted with the schedule's password file.
    transit(&s.root)
        .arg("inspect")
        .arg(s.out.join(&left[1]))
        .assert()
        .exit(Exit::PasswordRequired);

    // Adding the same name again is refused; remove deletes both units.
    add(&s, "nightly", "hourly", "00:15", "1")
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("remove the schedule first"));
    transit(&s.root)
        .args(["schedule", "remove", "--name", "nightly", "--unit-dir"])
        .arg(&s.units)
        .assert()
        .success();
    assert!(!service_path.exists() && !timer_path.exists());
    transit(&s.root)
        .args(["schedule", "remove", "--name", "nightly", "--unit-dir"])
        .arg(&s.units)
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("no schedule named nightly"));
    // A unit transit did not write is never removed.
    std::fs::write(
        s.units.join("transit-export-mine.timer"),
        "[Timer]\nOnCalendar=daily\n",
    )
    .unwrap();
    transit(&s.root)
        .args(["schedule", "remove", "--name", "mine", "--unit-dir"])
        .arg(&s.units)
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("left alone"));
    assert!(s.units.join("transit-export-mine.timer").exists());
}

/// Without --unit-dir the units go to the user's systemd folder, with the
/// `--user` commands and the lingering hint; remove finds them there.
#[test]
fn the_default_folder_is_the_users_systemd_folder() {
    let s = setup();
    let config = s.units.join("config");
    transit(&s.root)
        .env("XDG_CONFIG_HOME", &config)
        .args([
            "schedule", "add", "--name", "n", "--every", "daily", "--at", "03:00", "--folder",
        ])
        .arg(&s.out)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("systemctl --user enable --now transit-export-n.timer")
                .and(predicate::str::contains("loginctl enable-linger")),
        );
    let user_dir = config.join("systemd/user");
    assert!(user_dir.join("transit-export-n.timer").is_file());
    std::fs::create_dir_all(user_dir.join("timers.target.wants")).unwrap();
    std::os::unix::fs::symlink(
        user_dir.join("transit-export-n.timer"),
        user_dir.join("timers.target.wants/transit-export-n.timer"),
    )
    .unwrap();
    transit(&s.root)
        .env("XDG_CONFIG_HOME", &config)
        .args(["schedule", "remove", "--name", "n"])
        .assert()
        .success()
        .stdout(predicate::str::contains("systemctl --user daemon-reload"));
    assert!(!user_dir.join("transit-export-n.timer").exists());
    assert!(!user_dir.join("transit-export-n.service").exists());
    assert!(!user_dir
        .join("timers.target.wants/transit-export-n.timer")
        .is_symlink());
}

#[test]
fn print_shows_the_units_and_writes_nothing() {
    let s = setup();
    transit(&s.root)
        .args([
            "schedule", "add", "--name", "h", "--every", "hourly", "--at", "00:15", "--print",
        ])
        .arg("--folder")
        .arg(&s.out)
        .arg("--unit-dir")
        .arg(&s.units)
        .assert()
        .success()
        .stdout(
            predicate::str::contains("[Service]")
                .and(predicate::str::contains("OnCalendar=*-*-* *:15:00")),
        );
    assert!(!s.units.exists());
}

#[test]
fn bad_schedules_are_refused_with_a_clear_message() {
    let s = setup();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--every", "daily", "--at", "25:00", "--keep", "3"],
            "'--at <HH:MM>': 25:00: expected a 24-hour time HH:MM",
        ),
        (
            &["--every", "daily", "--at", "noon", "--keep", "3"],
            "HH:MM",
        ),
        (
            &["--every", "monthly", "--at", "01:00", "--keep", "3"],
            "monthly: expected daily, hourly or weekly:DAY",
        ),
        (
            &["--every", "weekly:Funday", "--at", "01:00", "--keep", "3"],
            "Mon, Tue",
        ),
        (
            &["--every", "daily", "--at", "01:00", "--keep", "0"],
            "keep at least 1",
        ),
        (
            &["--every", "daily", "--at", "01:00", "--keep", "-2"],
            "keep at least 1",
        ),
    ];
    for (args, message) in cases {
        transit(&s.root)
            .args(["schedule", "add", "--name", "x"])
            .args(*args)
            .arg("--folder")
            .arg(&s.out)
            .arg("--unit-dir")
            .arg(&s.units)
            .assert()
            .exit(Exit::Usage)
            .stderr(predicate::str::contains(*message));
    }
    let missing = s.out.join("nope");
    transit(&s.root)
        .args([
            "schedule", "add", "--name", "x", "--every", "daily", "--at", "01:00", "--folder",
        ])
        .arg(&missing)
        .arg("--unit-dir")
        .arg(&s.units)
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("no such folder"));
    transit(&s.root)
        .args([
            "schedule", "add", "--name", "x", "--every", "daily", "--at", "01:00", "--folder",
        ])
        .arg(s.root.join("files"))
        .arg("--unit-dir")
        .arg(&s.units)
        .assert()
        // The same refusal as `export`: a safety rule (4), not usage.
        .exit(Exit::Refused)
        .stderr(predicate::str::contains("inside the server root"));
    transit(&s.root)
        .args([
            "schedule", "add", "--name", "../x", "--every", "daily", "--at", "01:00", "--folder",
        ])
        .arg(&s.out)
        .arg("--unit-dir")
        .arg(&s.units)
        .assert()
        .exit(Exit::Usage);
    assert!(!s.units.exists(), "nothing written");
}

#[test]
fn export_keep_applies_retention_by_hand() {
    let s = setup();
    // One old file, one stamped in the future (a clock stepped back, or a
    // copied-in file), one of another server, and one that is not ours.
    for name in [
        "CICA_06302026120000.ininmigr",
        "CICA_01012099120000.ininmigr",
        "cica_07012025120000.ininmigr",
        "x.ininmigr",
    ] {
        std::fs::write(s.out.join(name), b"old").unwrap();
    }
    let out: serde_json::Value = serde_json::from_slice(
        &transit(&s.root)
            .args([
                "export",
                "--components",
                "Users",
                "--keep",
                "1",
                "--json",
                "--folder",
            ])
            .arg(&s.out)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
    .unwrap();
    let new = PathBuf::from(out["file"].as_str().unwrap());
    let deleted: Vec<String> = out["retention_deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            Path::new(v.as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(
        deleted,
        [
            "CICA_01012099120000.ininmigr",
            "CICA_06302026120000.ininmigr"
        ]
    );
    let mut names: Vec<String> = std::fs::read_dir(&s.out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected = vec![
        new.file_name().unwrap().to_string_lossy().into_owned(),
        "cica_07012025120000.ininmigr".to_string(),
        "x.ininmigr".to_string(),
    ];
    expected.sort();
    assert_eq!(names, expected, "the new export survives; others untouched");
    transit(&s.root)
        .args(["export", "--keep", "0", "--folder"])
        .arg(&s.out)
        .assert()
        .exit(Exit::Usage);
}

/// `--cron` prints one crontab line and writes nothing; its command, run as
/// cron would (`\%` → `%`, then `/bin/sh -c`), exports.
#[test]
fn cron_prints_a_line_whose_command_runs() {
    let s = setup();
    let folder = s.out.join("it's 100% backups");
    std::fs::create_dir(&folder).unwrap();
    let line = String::from_utf8(
        transit(&s.root)
            .args([
                "schedule",
                "add",
                "--name",
                "c",
                "--every",
                "weekly:Sat",
                "--at",
                "04:05",
                "--cron",
            ])
            .args(["--components", "Users", "--keep", "3", "--folder"])
            .arg(&folder)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone(),
    )
    .unwrap();
    let line = line.trim();
    assert!(line.starts_with("5 4 * * 6 "), "{line}");
    assert!(!s.units.exists());
    let command = line
        .splitn(6, ' ')
        .nth(5)
        .unwrap()
        .rsplit_once(" # transit-schedule")
        .unwrap()
        .0
        .replace("\\%", "%");
    let run = std::process::Command::new("sh")
        .args(["-c", &command])
        .env_remove("TRANSIT_SERVER_ROOT")
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
}
