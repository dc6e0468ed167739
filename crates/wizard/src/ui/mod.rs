//! Drawing: a pure function of the [`Wizard`]'s state.
//!
//! Every page has the same frame: a title bar (page title and step), the
//! page body in a bordered box, a notice line when there is one, and the
//! key-help footer.

mod pages;

use crate::app::{NoticeKind, Wizard};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};
use ratatui::Frame;

/// The smallest terminal the wizard draws in (columns).
pub const MIN_WIDTH: u16 = 60;
/// The smallest terminal the wizard draws in (rows).
pub const MIN_HEIGHT: u16 = 18;

/// Whether `area` is too small to draw the wizard.
pub fn too_small(area: Rect) -> bool {
    area.width < MIN_WIDTH || area.height < MIN_HEIGHT
}

/// Draws the whole wizard, or the resize message if the terminal is too small.
pub fn draw(frame: &mut Frame<'_>, wizard: &Wizard) {
    let area = frame.area();
    if too_small(area) {
        draw_too_small(frame, area);
        return;
    }
    let notice_height = if wizard.notice().is_some() { 2 } else { 0 };
    let [title, body, notice, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(notice_height),
        Constraint::Length(2),
    ])
    .areas(area);

    let step = format!("Step {} of {} ", wizard.step(), wizard.pages().len());
    let heading = format!(" Interaction Migrator · {}", wizard.title());
    let gap = (title.width as usize).saturating_sub(heading.chars().count() + step.chars().count());
    frame.render_widget(
        Paragraph::new(format!("{heading}{}{step}", " ".repeat(gap)))
            .style(Style::new().add_modifier(Modifier::REVERSED)),
        title,
    );

    let block = Block::bordered().title(format!(" {} ", wizard.title()).bold());
    let inner = block.inner(body);
    frame.render_widget(block, body);
    pages::draw(frame, inner, wizard);

    if let Some(n) = wizard.notice() {
        let style = match n.kind {
            NoticeKind::Info => Style::new().fg(Color::Cyan),
            NoticeKind::Error => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        };
        let prefix = match n.kind {
            NoticeKind::Info => "",
            NoticeKind::Error => "Error: ",
        };
        frame.render_widget(
            Paragraph::new(format!(" {prefix}{}", n.text))
                .style(style)
                .wrap(Wrap { trim: false }),
            notice,
        );
    }

    let mut spans = vec![Span::raw(" ")];
    for (i, (key, action)) in wizard.key_help().into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(key, Style::new().add_modifier(Modifier::BOLD)));
        spans.push(Span::raw(format!(" {action}")));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans))
            .style(Style::new().fg(Color::Gray))
            .wrap(Wrap { trim: false }),
        footer,
    );
}

fn draw_too_small(frame: &mut Frame<'_>, area: Rect) {
    let text = Text::from(vec![
        Line::from("Terminal too small".bold()),
        Line::from(format!("{}x{}", area.width, area.height)),
        Line::from(format!("Resize to at least {MIN_WIDTH}x{MIN_HEIGHT}")),
        Line::from("(q or Ctrl-C quits)"),
    ]);
    let height = (text.lines.len() as u16).min(area.height);
    let top = area.y + area.height.saturating_sub(height) / 2;
    frame.render_widget(
        Paragraph::new(text).centered().wrap(Wrap { trim: true }),
        Rect::new(area.x, top, area.width, height),
    );
}
