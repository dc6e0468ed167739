//! Draws a [`DbWizard`] (pure rendering).

use super::{DbPage, DbWizard};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

fn title(page: DbPage) -> &'static str {
    match page {
        DbPage::Connect => "1/6 Source and target",
        DbPage::Check => "2/6 Check",
        DbPage::Groups => "3/6 Table groups",
        DbPage::Filters => "4/6 Filters",
        DbPage::Preview => "5/6 Preview the steps",
        DbPage::Done => "6/6 Done",
    }
}

/// The page's lines.
pub fn lines(w: &DbWizard) -> Vec<String> {
    let fields = |fs: &[super::Field]| -> Vec<String> {
        fs.iter()
            .enumerate()
            .map(|(i, f)| {
                let mark = if i == w.focus { ">" } else { " " };
                format!("{mark} {:<26} {}", f.label, f.text)
            })
            .collect()
    };
    match w.page {
        DbPage::Connect => fields(&w.connect),
        DbPage::Check => w.report.clone(),
        DbPage::Groups => w
            .groups
            .iter()
            .enumerate()
            .map(|(i, (id, t, on))| {
                let mark = if i == w.cursor { ">" } else { " " };
                let check = if *on { "[x]" } else { "[ ]" };
                format!("{mark} {check} {id:<16} {t}")
            })
            .collect(),
        DbPage::Filters => fields(&w.filters),
        DbPage::Preview => {
            let mut v = vec![format!(
                "run {} ({} steps, Ready for restart)",
                w.run.as_deref().unwrap_or("?"),
                w.steps.len()
            )];
            v.extend(w.steps.iter().cloned());
            v
        }
        DbPage::Done => Vec::new(),
    }
}

/// Draws the wizard; `busy` while an effect runs.
pub fn draw(f: &mut Frame, w: &DbWizard, busy: bool) {
    let [body, foot] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(f.area());
    let text: Vec<Line> = lines(w).into_iter().map(Line::from).collect();
    f.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(
            Block::default()
                .borders(Borders::ALL)
                .title(format!(" transit db wizard: {} ", title(w.page))),
        ),
        body,
    );
    let help = if busy {
        "working…".to_string()
    } else if !w.message.is_empty() {
        w.message.clone()
    } else {
        match w.page {
            DbPage::Groups => "Up/Down move, Space selects, Enter next, Esc quit".into(),
            DbPage::Preview => {
                "Enter executes the steps now, Esc quits (transit db resume later)".into()
            }
            DbPage::Done => "Enter or Esc quits".into(),
            _ => "Tab next field, Enter next page, Esc quit".into(),
        }
    };
    f.render_widget(
        Paragraph::new(help)
            .style(Style::default().add_modifier(Modifier::BOLD))
            .block(Block::default().borders(Borders::ALL)),
        foot,
    );
}
