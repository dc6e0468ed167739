//! `transit wizard` end to end: the real binary in a real terminal (tmux),
//! driven with keys from Welcome to Finish through an export; and the
//! terminal restored after a panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Single-quotes a word for the shell tmux runs the command with.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// A tmux server of our own (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-f", "/dev/null", "-L", &self.socket])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("running tmux")
    }

    fn send(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "wizard"];
        args.extend_from_slice(keys);
        let out = self.run(&args);
        assert!(out.status.success(), "send-keys {keys:?}: {out:?}");
    }

    /// Starts `command` in a detached `cols` x `rows` session "wizard".
    fn start_session(&self, cols: u16, rows: u16, command: &str) {
        let (cols, rows) = (cols.to_string(), rows.to_string());
        let started = self.run(&[
            "new-session",
            "-d",
            "-s",
            "wizard",
            "-x",
            &cols,
            "-y",
            &rows,
            command,
        ]);
        assert!(started.status.success(), "tmux new-session: {started:?}");
    }

    fn type_text(&self, text: &str) {
        self.send(&["-l", text]);
    }

    fn capture(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "wizard"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Takes the terminal away from the wizard: the tmux server is
    /// SIGKILLed (so no SIGHUP comes); returns once the wizard process
    /// (the pane's, or its child) has exited, and fails after 60 s.
    fn lose_terminal(&self) {
        let pane = self.run(&["list-panes", "-t", "wizard", "-F", "#{pane_pid}"]);
        let shell = String::from_utf8_lossy(&pane.stdout).trim().to_string();
        let wizard = children(&shell).into_iter().next().unwrap_or(shell);
        let server = self.run(&["display-message", "-p", "#{pid}"]);
        let server = String::from_utf8_lossy(&server.stdout).trim().to_string();
        assert!(Command::new("kill")
            .args(["-KILL", &server])
            .status()
            .unwrap()
            .success());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Path::new(&format!("/proc/{wizard}")).exists() {
            assert!(
                Instant::now() < deadline,
                "the wizard still runs after its terminal went away"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls the screen until it shows every one of `needles`.
    fn wait_for(&self, needles: &[&str], timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.capture();
            if needles.iter().all(|n| screen.contains(n)) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {needles:?}; it shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// Skips (or, under `TRANSIT_REQUIRE_TOOLS`, fails) without tmux.
fn have_tmux() -> bool {
    transit_testkit::tools::tool_or_skip(&["tmux"], "apt-get install tmux").is_some()
}

/// Creates a small demo server and starts `transit wizard` on it in a
/// 100x30 tmux pane, with `env` set. When the wizard exits, the pane shows
/// its exit status and `stty -a` (is raw mode off again?), then stays.
fn start(dir: &Path, env: &str) -> Tmux {
    let transit = PathBuf::from(env!("CARGO_BIN_EXE_transit"));
    let root = dir.join("server");
    let demo = Command::new(&transit)
        .env_remove("TRANSIT_SERVER_ROOT")
        .arg("--server-root")
        .arg(&root)
        .args(["server", "demo", "--name", "CIC01", "--site-name", "Indy"])
        .args(["--site-id", "1", "--release", "2015 R1", "--users", "50"])
        .output()
        .unwrap();
    assert!(demo.status.success(), "demo: {demo:?}");

    let tmux = Tmux {
        socket: format!(
            "transit-wizard-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ),
    };
    let command = format!(
        "env {env} {} --server-root {} wizard; echo \"wizard exited with $?\"; stty -a; sleep 600",
        quoted(&transit),
        quoted(&root)
    );
    tmux.start_session(100, 30, &command);
    tmux
}

/// Asserts the pane shows a restored terminal: no wizard screen left and
/// canonical mode (not raw) back on.
fn assert_restored(screen: &str) {
    assert!(!screen.contains("Interaction Migrator"), "{screen}");
    assert!(
        screen.contains(" icanon") && !screen.contains("-icanon"),
        "raw mode still on:\n{screen}"
    );
}

const STEP: Duration = Duration::from_secs(30);

#[test]
fn the_wizard_exports_in_a_real_terminal() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("exports");
    let tmux = start(dir.path(), "TRANSIT_LOG=info");

    tmux.wait_for(&["Welcome", "Migrator 2015 R1 build", "Enter next"], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["Task Selection", "(•) Export configuration data"], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for(
        &[
            "Data Component Selection",
            "[x] Select All",
            "(required by Users)",
        ],
        STEP,
    );
    tmux.send(&["Enter"]);
    tmux.wait_for(
        &["Configuration", "save the exported configuration data"],
        STEP,
    );
    tmux.type_text(&out.display().to_string());
    tmux.wait_for(&[&format!("{}_", out.display())], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["Export Confirmation", "Ready to export"], STEP);
    tmux.send(&["Enter"]);
    let finish = tmux.wait_for(
        &["Finish", "The export completed."],
        Duration::from_secs(60),
    );

    let files: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("CIC01_") && name.ends_with(".ininmigr"),
        "{name}"
    );
    assert!(finish.contains(&name), "Finish names the file:\n{finish}");

    // Enter on Finish leaves, and the terminal is itself again.
    tmux.send(&["Enter"]);
    let after = tmux.wait_for(&["wizard exited with 0", "icanon"], STEP);
    assert_restored(&after);
}

#[test]
fn a_panic_restores_the_terminal() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = start(dir.path(), "TRANSIT_WIZARD_PANIC=F12 RUST_BACKTRACE=0");
    tmux.wait_for(&["Welcome", "Enter next"], STEP);
    tmux.send(&["F12"]);
    let after = tmux.wait_for(&["wizard exited with 101", "icanon"], STEP);
    assert!(
        after.contains("injected panic"),
        "the panic message shows:\n{after}"
    );
    assert_restored(&after);
}

/// The children of process `pid`.
fn children(pid: &str) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
                .flat_map(|c| c.split_whitespace().map(str::to_string).collect::<Vec<_>>())
                .collect()
        })
        .unwrap_or_default()
}

/// The terminal goes away (its tmux server is SIGKILLed, so no SIGHUP
/// comes) while the wizard runs an import: the wizard stops the import,
/// which rolls back, and exits instead of spinning.
#[test]
fn a_lost_terminal_stops_the_import_and_the_wizard_exits() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let transit = PathBuf::from(env!("CARGO_BIN_EXE_transit"));
    let root = dir.path().join("server");
    let run = |args: &[&str]| {
        let out = Command::new(&transit)
            .env_remove("TRANSIT_SERVER_ROOT")
            .env("PW", "pw")
            .arg("--server-root")
            .arg(&root)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        out.stdout
    };
    run(&[
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
        "--users",
        "30",
    ]);
    let exports = dir.path().join("exports");
    let v: serde_json::Value = serde_json::from_slice(&run(&[
        "export",
        "--json",
        "--password-env",
        "PW",
        "--folder",
        exports.to_str().unwrap(),
    ]))
    .unwrap();
    let file = v["file"].as_str().unwrap().to_string();
    let before = run(&["registry", "export"]);

    let tmux = Tmux {
        socket: format!("transit-wizard-lost-{}", std::process::id()),
    };
    let flag = dir.path().join("paused");
    let command = format!(
        "env TRANSIT_PAUSE_AT=staged TRANSIT_PAUSE_FILE={} TRANSIT_LOG=info {} --server-root {} wizard",
        quoted(&flag),
        quoted(&transit),
        quoted(&root),
    );
    tmux.start_session(100, 30, &command);
    tmux.wait_for(&["Welcome"], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["Task Selection"], STEP);
    tmux.send(&["i"]);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["Configuration"], STEP);
    tmux.type_text(&file);
    tmux.send(&["Tab"]);
    tmux.type_text(&dir.path().join("extract").display().to_string());
    tmux.send(&["Tab"]);
    tmux.type_text("pw");
    tmux.send(&["Tab", "Tab", "Space"]);
    tmux.wait_for(&["Recovery"], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["Select the components to import from"], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["Import Confirmation"], STEP);
    tmux.send(&["Enter"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while !flag.exists() {
        assert!(
            Instant::now() < deadline,
            "the import never paused:\n{}",
            tmux.capture()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(root.join("run/import.journal").exists());

    tmux.lose_terminal();
    let logs: String = std::fs::read_dir(root.join("logs"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    assert!(logs.contains("the terminal went away"), "{logs}");
    assert!(
        !root.join("run/import.journal").exists(),
        "rolled back at once"
    );
    assert_eq!(run(&["registry", "export"]), before);
}

/// `transit db wizard` in a tmux pane (in `d`, runs in `d/runs`), with a
/// pause of `delay_ms` after each committed batch, walked to the start of
/// Execute: reporting over six days from a generated SQLite source into
/// an empty SQLite target.
fn db_wizard_executing(d: &Path, delay_ms: u32, socket: &str) -> Tmux {
    let src = crate::db_migrate::source(d, "src.db", 64);
    let tgt = crate::db_migrate::target(d, "tgt.db");
    let transit = PathBuf::from(env!("CARGO_BIN_EXE_transit"));
    let tmux = Tmux {
        socket: format!("{socket}-{}", std::process::id()),
    };
    let command = format!(
        "cd {} && env TRANSIT_COPY_BATCH_DELAY_MS={delay_ms} {} db wizard --run-dir runs; \
         echo \"wizard exited with $?\"; sleep 600",
        quoted(d),
        quoted(&transit)
    );
    tmux.start_session(110, 40, &command);
    tmux.wait_for(&["1/6 Source and target"], STEP);
    tmux.type_text(&src);
    tmux.send(&["Tab"]);
    tmux.type_text(&tgt);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["2/6 Check", "PASS"], STEP);
    tmux.send(&["Enter"]);
    tmux.wait_for(&["3/6 Table groups"], STEP);
    let reporting = transit_dbassist::migrate::groups::all()
        .iter()
        .filter(|g| g.id != "dialer")
        .position(|g| g.id == "reporting")
        .unwrap();
    for _ in 0..reporting {
        tmux.send(&["Down"]);
    }
    tmux.send(&["Space", "Enter"]);
    tmux.wait_for(&["4/6 Filters"], STEP);
    tmux.type_text("2013-03-07");
    tmux.send(&["Tab"]);
    tmux.type_text("2013-03-12");
    tmux.send(&["Enter"]);
    tmux.wait_for(&["5/6 Preview the steps", "CallDetail"], STEP);
    tmux.send(&["Enter"]);
    tmux
}

/// `transit db wizard` in a real terminal: the run's progress is drawn
/// while it executes, Esc stops it between batches, and Enter goes on to
/// the end.
#[test]
fn the_db_wizard_shows_live_progress_and_stops_on_esc() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let tmux = db_wizard_executing(dir.path(), 400, "transit-dbwizard");
    // Live: a table line with its rows and the filter's total.
    let screen = tmux.wait_for(&["6/6 Executing", " rows", " of "], STEP);
    assert!(screen.contains("Esc stops between batches"), "{screen}");
    tmux.send(&["Escape"]);
    let screen = tmux.wait_for(&["stopped between batches", "5/6 Preview"], STEP);
    assert!(!screen.contains("Completed"), "{screen}");
    // Enter goes on from the committed batches, to the end.
    tmux.send(&["Enter"]);
    let screen = tmux.wait_for(&["6/6 Done", "Completed"], Duration::from_secs(120));
    assert!(screen.contains("CallDetail"), "{screen}");
    assert!(screen.contains("done"), "{screen}");
    tmux.send(&["Escape"]);
    tmux.wait_for(&["wizard exited with 0"], STEP);
}

/// The terminal goes away (its tmux server is SIGKILLed) while the db
/// wizard executes a run: the run stops between batches (Incomplete, not
/// Completed) and the wizard exits instead of spinning; `resume` finishes
/// the run.
#[test]
fn a_lost_terminal_stops_the_db_wizard_run() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmux = db_wizard_executing(d, 1000, "transit-dbwizard-lost");
    tmux.wait_for(&["6/6 Executing", " rows"], STEP);
    tmux.lose_terminal();
    let db = |args: &[&str]| {
        crate::db_migrate::db_cmd(d)
            .args(args)
            .arg("--run-dir")
            .arg(d.join("runs"))
            .arg("--json")
            .output()
            .unwrap()
    };
    let runs: serde_json::Value = serde_json::from_slice(&db(&["runs"]).stdout).unwrap();
    let run = &runs.as_array().unwrap()[0];
    assert_eq!(run["status"], "Incomplete", "{run}");
    let name = run["run"].as_str().unwrap();
    let done = db(&["resume", name]);
    assert!(done.status.success(), "{done:?}");
    let done: serde_json::Value = serde_json::from_slice(&done.stdout).unwrap();
    assert_eq!(done["status"], "Completed", "{done}");
}
