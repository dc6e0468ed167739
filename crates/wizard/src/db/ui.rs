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
        DbPage::Running => "6/6 Executing",
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
        DbPage::Running | DbPage::Done => live_lines(w),
    }
}

/// The run's progress: one line per table (rows done of the filter's,
/// with a bar), the current step, the latest log lines.
fn live_lines(w: &DbWizard) -> Vec<String> {
    let l = &w.live;
    let mut v = vec![format!(
        "run {}{}",
        w.run.as_deref().unwrap_or("?"),
        if l.step.is_empty() {
            String::new()
        } else {
            format!(": {}", l.step)
        }
    )];
    for t in &l.tables {
        let bar = match t.total {
            Some(total) if total > 0 => {
                let filled = ((t.done.min(total) * 20) / total) as usize;
                format!("[{}{}]", "#".repeat(filled), ".".repeat(20 - filled))
            }
            _ => " ".repeat(22),
        };
        let of = t.total.map_or(String::new(), |n| format!(" of {n}"));
        let state = if t.ended {
            "done".to_string()
        } else {
            t.status.clone()
        };
        v.push(format!(
            "  {:<26} {bar} {:>9}{of} rows  {state}",
            t.table, t.done
        ));
    }
    let shown = l.log.len().saturating_sub(6);
    v.extend(l.log[shown..].iter().map(|line| format!("  · {line}")));
    v
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
    let help = if busy && w.page == DbPage::Running {
        "stopping after the batch in flight…".to_string()
    } else if busy {
        "working…".to_string()
    } else if !w.message.is_empty() {
        w.message.clone()
    } else {
        match w.page {
            DbPage::Groups => "Up/Down move, Space selects, Enter next, Esc quit".into(),
            DbPage::Preview => {
                "Enter executes the steps now, Esc quits (transit db resume later)".into()
            }
            DbPage::Running => "executing… Esc stops between batches".into(),
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
