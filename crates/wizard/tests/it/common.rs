//! Helpers for the wizard's tests: servers, keys and rendering.

#![allow(dead_code)]

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use std::path::Path;
use std::time::{Duration, Instant};
use transit_server::{Role, ServerRoot};
use transit_testkit::Sample;
use transit_wizard::{ui, Effect, Page, Wizard};

/// An empty server root (fast; enough for pages that run no job).
pub fn empty_server(dir: &Path, role: Role) -> ServerRoot {
    match role {
        Role::Cic => Sample::cic("CIC01"),
        Role::Media => Sample::media("CIC01"),
    }
    .empty(dir)
}

/// A demo CIC server `CIC01` at site `Indy` #1 with `users` users.
pub fn demo_server(dir: &Path, users: u64) -> ServerRoot {
    demo_named(dir, "CIC01", "Indy", 1, users)
}

/// A demo CIC server (2015 R1) with the given identity.
pub fn demo_named(dir: &Path, name: &str, site: &str, site_id: u32, users: u64) -> ServerRoot {
    Sample::cic(name)
        .site(site, site_id)
        .users(users)
        .seed(u64::from(site_id))
        .demo(dir)
}

/// A key with no modifiers.
pub fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

/// Presses one key.
pub fn press(w: &mut Wizard, code: KeyCode) -> Effect {
    w.handle(key(code))
}

/// Types text into the focused field.
pub fn type_text(w: &mut Wizard, text: &str) {
    for c in text.chars() {
        assert_eq!(w.handle(key(KeyCode::Char(c))), Effect::None);
    }
}

/// Presses Tab until the focused Configuration field has `label` in its label.
pub fn focus(w: &mut Wizard, label: &str) {
    for _ in 0..w.form().fields.len() {
        if w.form().focused().label.contains(label) {
            return;
        }
        press(w, KeyCode::Tab);
    }
    panic!("no field labelled {label:?}");
}

/// Draws the wizard on a `width` x `height` test terminal and returns the
/// screen as text, one line per row.
pub fn render(w: &Wizard, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| ui::draw(f, w)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut screen = String::new();
    for y in 0..height {
        for x in 0..width {
            screen.push_str(buffer.cell((x, y)).unwrap().symbol());
        }
        screen.push('\n');
    }
    screen
}

/// The screen at the usual 80x24.
pub fn screen(w: &Wizard) -> String {
    render(w, 80, 24)
}

/// Asserts the screen holds every one of `needles`.
pub fn assert_shows(w: &Wizard, needles: &[&str]) {
    let s = screen(w);
    for n in needles {
        assert!(s.contains(n), "screen lacks {n:?}:\n{s}");
    }
}

/// Waits (generously; never asserted as a duration) until the job ends.
pub fn wait_for_job(w: &mut Wizard) -> Effect {
    let deadline = Instant::now() + Duration::from_secs(180);
    while w.is_running() {
        assert!(Instant::now() < deadline, "the job did not end");
        if w.wait(Duration::from_millis(100)) == Effect::Quit {
            return Effect::Quit;
        }
    }
    Effect::None
}

/// From Welcome, goes to the page `page` of an export with `folder` typed
/// on the Configuration page.
pub fn export_to(w: &mut Wizard, folder: &Path) {
    assert_eq!(w.page(), Page::Welcome);
    press(w, KeyCode::Enter); // Task
    press(w, KeyCode::Enter); // Components (Export is the default)
    press(w, KeyCode::Enter); // Configuration
    assert_eq!(w.page(), Page::Configuration);
    focus(w, "save the exported");
    type_text(w, &folder.display().to_string());
}
