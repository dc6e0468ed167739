//! Stop during an import, through the wizard. Its own test binary: it sets
//! `TRANSIT_PAUSE_AT` (the engine's test hook) for the whole process.

use crate::common::*;
use ratatui::crossterm::event::KeyCode;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use transit_archive::MigrationReader;
use transit_core::CancelToken;
use transit_migrator::{export, ExportPlan};
use transit_server::ServerRoot;
use transit_wizard::app::{NoticeKind, IMPORT_STOPPED};
use transit_wizard::{Page, Task, Wizard};

fn export_all(server: &ServerRoot, folder: &Path) -> PathBuf {
    let plan = ExportPlan {
        components: vec!["all".into()],
        folder: folder.to_path_buf(),
        handlers: None,
        password: None,
        threads: None,
        dialer_package: true,
    };
    export(server, &plan, &|_| {}, &CancelToken::new())
        .unwrap()
        .path
}

/// The content hashes of every entry a full export of `server` holds: equal
/// fingerprints mean equal registry data and files.
fn fingerprint(server: &ServerRoot, folder: &Path) -> Vec<(String, String, String)> {
    let file = export_all(server, folder);
    let reader = MigrationReader::open(&file, None).unwrap();
    let mut entries: Vec<_> = reader
        .manifest()
        .components
        .iter()
        .flat_map(|c| {
            c.entries
                .iter()
                .map(|e| (c.id.clone(), e.path.clone(), e.sha256.clone()))
        })
        .collect();
    entries.sort();
    entries
}

#[test]
fn stop_during_an_import_rolls_back_and_returns_to_the_selections() {
    let dir = tempfile::tempdir().unwrap();
    let a = demo_named(&dir.path().join("a"), "CICA", "Indy", 1, 30);
    let b = demo_named(&dir.path().join("b"), "CICB", "Paris", 2, 30);
    let file = export_all(&a, &dir.path().join("from-a"));
    let before = fingerprint(&b, &dir.path().join("b-before"));
    let extract = dir.path().join("extract");

    // The engine's test hook: it waits after staging the files until it is
    // stopped.
    std::env::set_var("TRANSIT_PAUSE_AT", "staged");
    let mut w = Wizard::new(b.clone()).unwrap();
    press(&mut w, KeyCode::Enter);
    press(&mut w, KeyCode::Char('i'));
    press(&mut w, KeyCode::Enter);
    assert_eq!((w.task(), w.page()), (Task::Import, Page::Configuration));
    type_text(&mut w, &file.display().to_string());
    focus(&mut w, "extract");
    type_text(&mut w, &extract.display().to_string());
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Components, "{:?}", w.notice());
    press(&mut w, KeyCode::Enter);
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Status);
    // Stop once the engine has reported its first step (it then pauses
    // after staging until stopped, so it cannot finish first).
    let deadline = Instant::now() + Duration::from_secs(120);
    while w.status().unwrap().progress.log.is_empty() {
        assert!(w.is_running(), "{:?}", w.status().map(|s| &s.state));
        assert!(Instant::now() < deadline, "the import never reported");
        w.wait(Duration::from_millis(20));
    }
    assert_shows(&w, &["Import Status", "s/Esc stop"]);
    press(&mut w, KeyCode::Esc);
    wait_for_job(&mut w);

    assert_eq!(w.page(), Page::Components);
    let notice = w.notice().unwrap();
    assert_eq!(notice.kind, NoticeKind::Info);
    assert_eq!(notice.text, IMPORT_STOPPED);
    assert_shows(&w, &["nothing on the server was changed"]);
    assert!(!extract.join("import-report.txt").exists());
    assert!(!b.logs_dir().join("last-import-report.json").exists());
    let after = fingerprint(&b, &dir.path().join("b-after"));
    assert!(before == after, "the server changed");
    // The same import can be started again from here.
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Confirmation);
}
