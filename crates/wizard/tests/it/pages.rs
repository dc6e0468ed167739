//! Each page drawn on a ratatui `TestBackend`, and the keys that move
//! between them, without a job.

use crate::common::*;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use transit_server::Role;
use transit_wizard::app::NoticeKind;
use transit_wizard::tree::Row;
use transit_wizard::{Effect, Page, Task, Wizard};

fn wizard(role: Role) -> (tempfile::TempDir, Wizard) {
    let dir = tempfile::tempdir().unwrap();
    let server = empty_server(&dir.path().join("server"), role);
    (dir, Wizard::new(server).unwrap())
}

#[test]
fn welcome_shows_the_version_and_build() {
    let (_dir, w) = wizard(Role::Cic);
    let m = &w.server().identity().migrator;
    let build = format!("Migrator {} build {}", m.release, m.build);
    let version = format!("Transit {}", env!("CARGO_PKG_VERSION"));
    assert_shows(
        &w,
        &[
            "Welcome",
            "Step 1 of 7",
            &version,
            &build,
            "CIC01 (CIC server), site Indy #1",
            "Service:",
            "Enter next",
            "q quit",
        ],
    );
}

#[test]
fn next_and_back_traverse_the_export_pages_before_the_job() {
    let (dir, mut w) = wizard(Role::Cic);
    let expected = [
        (Page::Welcome, "Welcome"),
        (Page::Task, "Task Selection"),
        (Page::Components, "Data Component Selection"),
        (Page::Configuration, "Configuration"),
        (Page::Confirmation, "Export Confirmation"),
    ];
    for (i, (page, title)) in expected.iter().enumerate() {
        assert_eq!(w.page(), *page);
        assert_shows(&w, &[title, &format!("Step {} of 7", i + 1), "Enter"]);
        if *page == Page::Configuration {
            type_text(&mut w, &dir.path().join("out").display().to_string());
        }
        if *page != Page::Confirmation {
            press(&mut w, KeyCode::Enter);
        }
    }
    let n = w.catalog().components.len();
    assert_shows(
        &w,
        &[
            "Ready to export",
            "Components:",
            &format!("{n} of {n} (all)"),
        ],
    );
    // Back through every page to Welcome; Back there stays.
    for (page, title) in expected.iter().rev().skip(1) {
        press(&mut w, KeyCode::Esc);
        assert_eq!(w.page(), *page);
        assert_shows(&w, &[title]);
        if *page != Page::Welcome {
            assert_shows(&w, &["Esc back"]);
        }
    }
    press(&mut w, KeyCode::Esc);
    assert_eq!(w.page(), Page::Welcome);
    // The typed folder survived the round trip.
    assert!(w.export_plan().folder.ends_with("out"));
}

#[test]
fn import_asks_for_the_file_before_the_components() {
    let (_dir, mut w) = wizard(Role::Cic);
    press(&mut w, KeyCode::Enter);
    assert_shows(
        &w,
        &[
            "(•) Export configuration data",
            "( ) Import configuration data",
        ],
    );
    press(&mut w, KeyCode::Down);
    assert_eq!(w.task(), Task::Import);
    assert_shows(&w, &["(•) Import configuration data"]);
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
    assert_shows(
        &w,
        &[
            "Step 3 of 7",
            "Select the configuration data to import",
            "Select folder to which to extract imported files",
            "Create registry and file restore point: [x]",
            "(•) Migration   ( ) Recovery",
        ],
    );
    // Next without a file is refused on the page, with the field focused.
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
    assert_eq!(w.notice().unwrap().kind, NoticeKind::Error);
    assert_shows(&w, &["Error: Type the path of the migration file."]);
    // A file that does not exist: the archive's error, on the page.
    type_text(&mut w, "/nonexistent/file.ininmigr");
    focus(&mut w, "extract");
    type_text(&mut w, "/tmp/transit-wizard-extract");
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
    assert_shows(&w, &["/nonexistent/file.ininmigr"]);
    assert!(w.notice().unwrap().text.contains("No such file"));
    press(&mut w, KeyCode::Esc);
    assert_eq!(w.page(), Page::Task);
}

#[test]
fn the_tree_starts_all_selected_and_locks_what_users_require() {
    let (_dir, mut w) = wizard(Role::Cic);
    press(&mut w, KeyCode::Enter);
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Components);
    let n = w.catalog().components.len();
    assert_shows(
        &w,
        &[
            "[x] Select All",
            &format!("{n} of {n} components selected"),
            "▾ [x] Directory Services",
            "[#] Users  (required by AdminConfig)",
            "[#] Workgroups  (required by Users)",
            "Space tick/untick",
        ],
    );
    while w.tree().unwrap().current() != Row::Component("Workgroups") {
        press(&mut w, KeyCode::Down);
    }
    press(&mut w, KeyCode::Char(' '));
    assert!(w.tree().unwrap().is_ticked("Workgroups"), "locked: stays");
    assert_shows(
        &w,
        &[
            "Error: Cannot untick: Workgroups is required by Users",
            "untick Users first",
        ],
    );
    // Select All off, then ticking Users brings Workgroups, explained.
    press(&mut w, KeyCode::Char('a'));
    assert_shows(
        &w,
        &[
            "[ ] Select All",
            &format!("0 of {n} components selected"),
            "[ ] Workgroups",
        ],
    );
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Components, "nothing selected: no Next");
    assert_shows(&w, &["Select at least one component."]);
    press(&mut w, KeyCode::Up);
    assert_eq!(w.tree().unwrap().current(), Row::Component("Users"));
    press(&mut w, KeyCode::Char(' '));
    assert_eq!(w.tree().unwrap().selected(), vec!["Users", "Workgroups"]);
    assert_shows(
        &w,
        &[
            "added Workgroups: required by Users",
            "[#] Workgroups",
            "[-] Select All",
        ],
    );
}

#[test]
fn the_password_is_masked() {
    let (_dir, mut w) = wizard(Role::Cic);
    for _ in 0..3 {
        press(&mut w, KeyCode::Enter);
    }
    focus(&mut w, "password");
    type_text(&mut w, "s3cret");
    let s = screen(&w);
    assert!(s.contains("******_"), "{s}");
    assert!(!s.contains("s3cret"), "{s}");
    assert_eq!(
        w.export_plan()
            .password
            .as_ref()
            .map(secrecy::ExposeSecret::expose_secret),
        Some("s3cret")
    );
    // Neither the plans nor the form show it in Debug output.
    let debug = format!("{:?} {:?} {:?}", w.export_plan(), w.import_plan(), w.form());
    assert!(!debug.contains("s3cret"), "{debug}");
}

#[test]
fn the_cursor_edits_inside_a_path_and_is_drawn_there() {
    let (_dir, mut w) = wizard(Role::Cic);
    for _ in 0..3 {
        press(&mut w, KeyCode::Enter);
    }
    let ctrl_u = KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL);
    w.handle(ctrl_u);
    type_text(&mut w, "/srv/exprts");
    for _ in 0..3 {
        press(&mut w, KeyCode::Left);
    }
    assert!(screen(&w).contains("/srv/exp_rts"), "{}", screen(&w));
    type_text(&mut w, "o");
    assert_eq!(w.form().focused().display(), "/srv/exports");
    assert!(screen(&w).contains("/srv/expo_rts"), "{}", screen(&w));
}

#[test]
fn text_fields_take_q_and_only_ctrl_c_quits_there() {
    let (_dir, mut w) = wizard(Role::Cic);
    for _ in 0..3 {
        press(&mut w, KeyCode::Enter);
    }
    type_text(&mut w, "/tmp/q");
    assert_eq!(w.form().focused().display(), "/tmp/q");
    press(&mut w, KeyCode::Backspace);
    assert_eq!(w.form().focused().display(), "/tmp/");
    assert_shows(&w, &["Ctrl-C quit", "Tab/↑/↓ field", "type edit"]);
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(w.handle(ctrl_c), Effect::Quit);
}

#[test]
fn q_quits_on_pages_without_text() {
    let (_dir, mut w) = wizard(Role::Cic);
    assert_eq!(press(&mut w, KeyCode::Char('q')), Effect::Quit);
    press(&mut w, KeyCode::Enter);
    assert_eq!(press(&mut w, KeyCode::Char('q')), Effect::Quit);
}

#[test]
fn export_refuses_a_folder_inside_the_server_root() {
    let (dir, mut w) = wizard(Role::Cic);
    for _ in 0..3 {
        press(&mut w, KeyCode::Enter);
    }
    let inside = dir.path().join("server").join("exports");
    type_text(&mut w, &inside.display().to_string());
    press(&mut w, KeyCode::Enter);
    assert_eq!(w.page(), Page::Configuration);
    assert_shows(&w, &["Error: export folder", "inside the server root"]);
    assert!(!inside.exists(), "nothing created");
}

#[test]
fn a_media_server_offers_only_migration_mode() {
    let (_dir, mut w) = wizard(Role::Media);
    press(&mut w, KeyCode::Enter);
    press(&mut w, KeyCode::Char('i'));
    press(&mut w, KeyCode::Enter);
    focus(&mut w, "Import mode");
    let s = screen(&w);
    assert!(s.contains("Import mode: (•) Migration"), "{s}");
    assert!(!s.contains("( ) Recovery"), "{s}");
    assert!(
        s.contains("Media Server supports Migration mode only"),
        "{s}"
    );
    press(&mut w, KeyCode::Char(' '));
    assert_eq!(
        w.form().chosen(transit_wizard::form::FieldId::Mode),
        "Migration"
    );

    let (_dir, mut cic) = wizard(Role::Cic);
    press(&mut cic, KeyCode::Enter);
    press(&mut cic, KeyCode::Char('i'));
    press(&mut cic, KeyCode::Enter);
    focus(&mut cic, "Import mode");
    press(&mut cic, KeyCode::Char(' '));
    assert_shows(&cic, &["Import mode: ( ) Migration   (•) Recovery"]);
}

#[test]
fn a_small_terminal_shows_the_resize_message() {
    let (_dir, w) = wizard(Role::Cic);
    let s = render(&w, 50, 15);
    assert!(s.contains("Terminal too small"), "{s}");
    assert!(s.contains("50x15"), "{s}");
    assert!(s.contains("at least 60x18"), "{s}");
    assert!(!s.contains("Welcome"), "{s}");
    let s = render(&w, 60, 18);
    assert!(!s.contains("too small"), "{s}");
    assert!(s.contains("Welcome"), "{s}");
}

#[test]
fn every_page_fits_the_minimum_terminal_with_its_footer() {
    let (dir, mut w) = wizard(Role::Cic);
    for _ in 0..4 {
        let s = render(&w, 60, 18);
        assert!(s.contains(w.title()), "{s}");
        assert!(s.contains("q quit") || s.contains("Ctrl-C quit"), "{s}");
        if w.page() == Page::Configuration {
            type_text(&mut w, &dir.path().join("o").display().to_string());
        }
        press(&mut w, KeyCode::Enter);
    }
    assert_eq!(w.page(), Page::Confirmation);
    let s = render(&w, 60, 18);
    assert!(s.contains("Ready to export"), "{s}");
}
