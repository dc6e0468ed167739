//! Real exports and imports run through the state machine and the job
//! thread, on demo servers.

use crate::common::*;
use ratatui::crossterm::event::KeyCode;
use std::path::{Path, PathBuf};
use transit_core::CancelToken;
use transit_migrator::{export, ExportPlan};
use transit_wizard::app::{Finished, NoticeKind, RunState, EXPORT_STOPPED};
use transit_wizard::{Effect, Page, Task, Wizard};

fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn an_export_runs_to_finish_and_writes_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(&dir.path().join("server"), 40);
    let out = dir.path().join("out");
    let mut w = Wizard::new(server).unwrap();
    export_to(&mut w, &out);
    focus(&mut w, "password");
    type_text(&mut w, "pw");
    // The confirmation must match before the wizard moves on.
    focus(&mut w, "Confirm");
    type_text(&mut w, "pq");
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
    assert_shows(&w, &["The two passwords differ"]);
    press(&mut w, KeyCode::Backspace);
    type_text(&mut w, "w");
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Confirmation);
    assert_shows(&w, &["AES-256 (password set)", &out.display().to_string()]);
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Status);
    assert_shows(&w, &["Export Status", "s/Esc stop"]);
    wait_for_job(&mut w);

    assert_eq!(w.page(), Page::Finish, "{:?}", w.status().map(|s| &s.state));
    let Some(Finished::Export(outcome)) = w.finished() else {
        panic!("no export outcome");
    };
    assert!(outcome.path.is_file());
    assert_eq!(
        entries(&out),
        vec![outcome.path.clone()],
        "one file, no leftovers"
    );
    assert!(outcome.encrypted);
    let name = outcome
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(name.starts_with("CIC01_") && name.ends_with(".ininmigr"));
    let s = render(&w, 140, 24);
    for needle in [
        "Finish",
        "The export completed.",
        &name,
        "AES-256 encrypted",
        "Time:",
    ] {
        assert!(s.contains(needle), "{needle:?} missing:\n{s}");
    }
    // The file opens with the password and holds every component.
    let reader = transit_archive::MigrationReader::open(&outcome.path, Some("pw")).unwrap();
    assert_eq!(
        reader.manifest().components.len(),
        w.catalog().components.len()
    );
    // Back on Finish starts over; Enter on Finish leaves.
    press(&mut w, KeyCode::Esc);
    assert_eq!(w.page(), Page::Task);
    assert!(w.finished().is_none());
}

#[test]
fn stop_returns_to_the_selections_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(&dir.path().join("server"), 400);
    let out = dir.path().join("out");
    let mut w = Wizard::new(server).unwrap();
    export_to(&mut w, &out);
    press(&mut w, KeyCode::Enter);
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Status);
    // Stop at once: the engine checks the token while it reads the registry
    // and before it writes the manifest, long after this.
    press(&mut w, KeyCode::Char('s'));
    assert!(w.status().unwrap().stopping);
    assert_shows(&w, &["Stopping"]);
    wait_for_job(&mut w);

    assert_eq!(w.page(), Page::Components);
    let notice = w.notice().unwrap();
    assert_eq!(notice.kind, NoticeKind::Info);
    assert_eq!(notice.text, EXPORT_STOPPED);
    assert_shows(&w, &["nothing was written", "Data Component Selection"]);
    assert!(entries(&out).is_empty(), "left behind: {:?}", entries(&out));
    // The selections can change and the export start again.
    press(&mut w, KeyCode::Char('a'));
    press(&mut w, KeyCode::Char('a'));
    assert!(w.tree().unwrap().all_selected());
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
}

#[test]
fn quit_during_a_job_stops_it_and_then_quits() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(&dir.path().join("server"), 400);
    let out = dir.path().join("out");
    let mut w = Wizard::new(server).unwrap();
    export_to(&mut w, &out);
    press(&mut w, KeyCode::Enter);
    press(&mut w, KeyCode::Enter);
    assert_eq!(
        press(&mut w, KeyCode::Char('q')),
        Effect::None,
        "waits for the engine"
    );
    assert_eq!(wait_for_job(&mut w), Effect::Quit);
    assert!(entries(&out).is_empty());
}

#[test]
fn an_engine_error_shows_on_the_status_page() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(&dir.path().join("server"), 10);
    let handlers = dir.path().join("handlers");
    std::fs::create_dir(&handlers).unwrap();
    let mut w = Wizard::new(server).unwrap();
    export_to(&mut w, &dir.path().join("out"));
    focus(&mut w, "handler");
    w.handle(ratatui::crossterm::event::KeyEvent::new(
        KeyCode::Char('u'),
        ratatui::crossterm::event::KeyModifiers::CONTROL,
    ));
    type_text(&mut w, &handlers.display().to_string());
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Confirmation);
    // The folder disappears between Confirmation and the start.
    std::fs::remove_dir(&handlers).unwrap();
    press(&mut w, KeyCode::Enter);
    wait_for_job(&mut w);
    assert_eq!(w.page(), Page::Status);
    let Some(RunState::Failed(message)) = w.status().map(|s| s.state.clone()) else {
        panic!("not failed");
    };
    assert!(message.contains("custom handlers folder"), "{message}");
    assert_shows(
        &w,
        &["The export failed", "custom handlers folder", "Esc back"],
    );
    press(&mut w, KeyCode::Esc);
    assert_eq!(w.page(), Page::Confirmation);
}

#[test]
fn a_recovery_import_runs_to_finish_and_writes_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let server = demo_server(&dir.path().join("server"), 30);
    let outcome = export(
        &server,
        &ExportPlan {
            components: vec!["all".into()],
            folder: dir.path().join("out"),
            handlers: None,
            password: Some("pw".into()),
            threads: None,
            dialer_package: true,
        },
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let extract = dir.path().join("extract");
    let logs = server.logs_dir();
    let mut w = Wizard::new(server).unwrap();
    press(&mut w, KeyCode::Enter);
    press(&mut w, KeyCode::Char('i'));
    press(&mut w, KeyCode::Enter);
    assert_eq!((w.task(), w.page()), (Task::Import, Page::Configuration));
    type_text(&mut w, &outcome.path.display().to_string());
    focus(&mut w, "extract");
    type_text(&mut w, &extract.display().to_string());
    // A wrong password is reported on the page, with the password focused.
    focus(&mut w, "Password");
    type_text(&mut w, "wrong");
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
    assert_eq!(w.notice().unwrap().kind, NoticeKind::Error);
    assert_shows(&w, &["Error: wrong password for"]);
    assert!(w.form().focused().label.contains("Password"));
    for _ in 0..5 {
        press(&mut w, KeyCode::Backspace);
    }
    type_text(&mut w, "pw");
    // Migration mode into the same site is refused by the preflight.
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
    assert!(
        w.notice().unwrap().text.contains("site ID"),
        "{:?}",
        w.notice()
    );
    // Recovery mode into the same server is what this file is for.
    focus(&mut w, "Import mode");
    press(&mut w, KeyCode::Char(' '));
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Components);
    let tree = w.tree().unwrap();
    assert!(tree.all_selected());
    let n = w.catalog().components.len();
    assert_eq!(tree.selected().len(), n);
    assert_shows(
        &w,
        &[
            "Select the components to import from",
            &format!("{n} of {n} components"),
        ],
    );
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Confirmation);
    assert_shows(
        &w,
        &[
            "Import Confirmation",
            "Recovery: the data is restored",
            "Restore point:",
        ],
    );
    press(&mut w, KeyCode::Enter);
    wait_for_job(&mut w);

    assert_eq!(w.page(), Page::Finish, "{:?}", w.status().map(|s| &s.state));
    let Some(Finished::Import(done)) = w.finished() else {
        panic!("no import outcome");
    };
    assert!(done.write_error.is_none(), "{:?}", done.write_error);
    assert_eq!(done.report.mode, "recovery");
    assert!(done.report.restore_point.is_some());
    assert!(extract.join("import-report.txt").is_file());
    assert!(extract.join("import-report.json").is_file());
    assert!(logs.join("last-import-report.json").is_file());
    assert_eq!(
        std::fs::read_to_string(extract.join("import-report.txt")).unwrap(),
        done.report.to_text()
    );
    assert_shows(
        &w,
        &[
            "The import completed in",
            "import-report.txt",
            "Import recovery",
        ],
    );
    // The report scrolls, and stops at its last line.
    let text = done.report.to_text();
    let last = text.lines().last().unwrap().trim().to_string();
    for _ in 0..1000 {
        press(&mut w, KeyCode::Down);
    }
    assert_eq!(usize::from(w.scroll()), text.lines().count() + 2);
    let wide = render(&w, 200, 24);
    assert!(wide.contains(&last), "{wide}");
    press(&mut w, KeyCode::Up);
    assert_eq!(usize::from(w.scroll()), text.lines().count() + 1);
    assert_eq!(press(&mut w, KeyCode::Enter), Effect::Quit);
}
