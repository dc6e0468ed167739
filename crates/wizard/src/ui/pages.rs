//! The body of each page.

use crate::app::{Finished, Page, RunState, Task, Wizard};
use crate::form::Field;
use crate::tree::{Check, Row};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Gauge, Paragraph, Wrap};
use ratatui::Frame;
use std::time::Duration;
use transit_core::progress::human_bytes;
use transit_migrator::import::ImportMode;
use transit_server::layout::files::CUSTOM_HANDLERS;
use transit_server::lock::ServiceStatus;

/// Draws the current page's body into `area`.
pub fn draw(frame: &mut Frame<'_>, area: Rect, wizard: &Wizard) {
    match wizard.page() {
        Page::Welcome => text(frame, area, welcome(wizard)),
        Page::Task => text(frame, area, task(wizard)),
        Page::Components => components(frame, area, wizard),
        Page::Configuration => configuration(frame, area, wizard),
        Page::Confirmation => text(frame, area, confirmation(wizard)),
        Page::Status => status(frame, area, wizard),
        Page::Finish => finish(frame, area, wizard),
    }
}

fn text(frame: &mut Frame<'_>, area: Rect, text: Text<'static>) {
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), area);
}

fn dim(s: impl Into<String>) -> Line<'static> {
    Line::from(Span::styled(s.into(), Style::new().fg(Color::DarkGray)))
}

fn field_line(name: &str, value: impl Into<String>) -> Line<'static> {
    Line::from(vec![
        Span::styled(
            format!("{name:<15}"),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Span::raw(value.into()),
    ])
}

fn warning(s: impl Into<String>) -> Span<'static> {
    Span::styled(s.into(), Style::new().fg(Color::Yellow))
}

/// "1.4 s", "2 min 5 s".
pub fn elapsed(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1} s")
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

fn server_line(wizard: &Wizard) -> String {
    let s = &wizard.server().identity().server;
    format!(
        "{} ({} server), site {} #{}, {} patch {}",
        s.name,
        if wizard.is_media() { "Media" } else { "CIC" },
        s.site_name,
        s.site_id,
        s.product_release,
        s.patch
    )
}

fn service_text(service: Option<ServiceStatus>) -> String {
    match service {
        Some(ServiceStatus::Stopped) => "stopped".into(),
        Some(ServiceStatus::Running { pid }) => format!("running (pid {pid})"),
        None => "unknown".into(),
    }
}

fn welcome(wizard: &Wizard) -> Text<'static> {
    let mut lines = vec![
        Line::from("Welcome to the Interaction Migrator".bold()),
        Line::from(""),
        Line::from("This wizard exports this server's configuration data to a migration file, or imports a migration file into this server."),
        Line::from(""),
        field_line("Server:", server_line(wizard)),
        field_line("Server root:", wizard.server().dir().display().to_string()),
        field_line("Service:", service_text(wizard.service())),
        Line::from(""),
    ];
    if let Some(ServiceStatus::Running { .. }) = wizard.service() {
        lines.push(Line::from(warning(
            "Stop the server service before an import (transit server stop).",
        )));
    }
    lines.push(field_line("Version:", wizard.version_line()));
    lines.push(dim(
        "Give this version when you ask for migration assistance.",
    ));
    Text::from(lines)
}

fn task(wizard: &Wizard) -> Text<'static> {
    let option = |on: bool, label: &'static str, help: &'static str| {
        let mark = if on { "(•) " } else { "( ) " };
        let style = if on {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        } else {
            Style::new()
        };
        vec![
            Line::from(Span::styled(format!(" {mark}{label} "), style)),
            dim(format!("     {help}")),
            Line::from(""),
        ]
    };
    let mut lines = vec![Line::from("What do you want to do?"), Line::from("")];
    lines.extend(option(
        wizard.task() == Task::Export,
        "Export configuration data",
        "Write this server's configuration to a migration file (.ininmigr).",
    ));
    lines.extend(option(
        wizard.task() == Task::Import,
        "Import configuration data",
        "Load a migration file into this server (migration or recovery mode).",
    ));
    Text::from(lines)
}

fn components(frame: &mut Frame<'_>, area: Rect, wizard: &Wizard) {
    let Some(tree) = wizard.tree() else {
        text(
            frame,
            area,
            Text::from("Choose the migration file on the Configuration page first."),
        );
        return;
    };
    let [head, list, detail] = Layout::vertical([
        Constraint::Length(2),
        Constraint::Min(1),
        Constraint::Length(2),
    ])
    .areas(area);
    let intro = match (wizard.task(), wizard.opened()) {
        (Task::Import, Some(o)) => format!(
            "Select the components to import from {}:",
            o.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        _ => "Select the data components to export (Select All is recommended):".into(),
    };
    let count = format!(
        "{} of {} components selected",
        tree.selected().len(),
        tree.offered().count()
    );
    text(frame, head, Text::from(vec![Line::from(intro), dim(count)]));

    let rows = tree.rows();
    let height = list.height as usize;
    let cursor = tree.cursor().min(rows.len() - 1);
    let offset = (cursor + 1).saturating_sub(height);
    let mut lines = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(offset).take(height) {
        let mark = match tree.check(*row) {
            Check::On => "[x]",
            Check::Off => "[ ]",
            Check::Partial => "[-]",
            Check::Locked => "[#]",
        };
        let mut spans = match row {
            Row::All => vec![Span::raw(format!("{mark} Select All"))],
            Row::Group(g) => {
                let fold = if tree.is_expanded(g) { "▾" } else { "▸" };
                vec![Span::styled(
                    format!("{fold} {mark} {g}"),
                    Style::new().add_modifier(Modifier::BOLD),
                )]
            }
            Row::Component(id) => vec![Span::raw(format!("    {mark} {id}"))],
        };
        if let Row::Component(id) = row {
            if let Some(note) = tree.note(id) {
                spans.push(Span::styled(
                    format!("  ({note})"),
                    Style::new().fg(Color::DarkGray),
                ));
            }
        }
        let mut line = Line::from(spans);
        if i == cursor {
            line = line.style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    frame.render_widget(Paragraph::new(lines), list);
    if let Some(d) = wizard.component_details() {
        frame.render_widget(Paragraph::new(dim(d)).wrap(Wrap { trim: false }), detail);
    }
}

fn field_value(field: &Field, focused: bool, width: usize) -> String {
    let shown = field.display();
    let Some(cursor) = field.cursor().filter(|_| focused) else {
        return clip(&shown, shown.chars().count(), width);
    };
    // The cursor is a `_` inserted where typing goes, kept in view.
    let mut chars: Vec<char> = shown.chars().collect();
    let cursor = cursor.min(chars.len());
    chars.insert(cursor, '_');
    let value: String = chars.into_iter().collect();
    clip(&value, cursor + 1, width)
}

/// `value` cut to the room `width` leaves, keeping the character before
/// `keep` (the cursor, or the end) in view, with `…` where text is cut.
fn clip(value: &str, keep: usize, width: usize) -> String {
    let room = width.saturating_sub(4);
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= room || room < 3 {
        return value.to_string();
    }
    let end = keep.max(room - 1).min(chars.len());
    let start = end.saturating_sub(room - 1);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(&chars[start..end]);
    if end < chars.len() && out.chars().count() < room {
        out.push('…');
    }
    out
}

fn configuration(frame: &mut Frame<'_>, area: Rect, wizard: &Wizard) {
    let form = wizard.form();
    let mut lines = Vec::new();
    for (i, field) in form.fields.iter().enumerate() {
        let focused = i == form.focus;
        let label_style = if focused {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            Style::new()
        };
        let pointer = if focused { "> " } else { "  " };
        if field.is_text() {
            lines.push(Line::from(Span::styled(
                format!("{pointer}{}", field.label),
                label_style,
            )));
            let value = field_value(field, focused, area.width as usize);
            let style = if focused {
                Style::new().fg(Color::Black).bg(Color::Gray)
            } else {
                Style::new().fg(Color::Cyan)
            };
            lines.push(Line::from(vec![
                Span::raw("    "),
                Span::styled(format!("{value:<w$}", w = 10), style),
            ]));
        } else {
            lines.push(Line::from(vec![
                Span::styled(format!("{pointer}{}: ", field.label), label_style),
                Span::styled(
                    field.display(),
                    if focused {
                        Style::new().add_modifier(Modifier::REVERSED)
                    } else {
                        Style::new().fg(Color::Cyan)
                    },
                ),
            ]));
        }
    }
    lines.push(Line::from(""));
    lines.push(dim(form.focused().hint.clone()));
    text(frame, area, Text::from(lines));
}

fn list_ids(ids: &[String], max: usize) -> String {
    if ids.len() <= max {
        ids.join(", ")
    } else {
        format!("{}, … ({} more)", ids[..max].join(", "), ids.len() - max)
    }
}

fn confirmation(wizard: &Wizard) -> Text<'static> {
    let mut lines = Vec::new();
    let tree = wizard.tree();
    let selected = tree.map(|t| t.selected()).unwrap_or_default();
    let offered = tree.map_or(0, |t| t.offered().count());
    let components = format!(
        "{} of {}{}: {}",
        selected.len(),
        offered,
        if selected.len() == offered {
            " (all)"
        } else {
            ""
        },
        list_ids(&selected, 6)
    );
    let required: Vec<String> = tree
        .map(|t| {
            selected
                .iter()
                .filter_map(|id| t.lock(id).map(|l| format!("{id} ({})", l.short())))
                .collect()
        })
        .unwrap_or_default();
    match wizard.task() {
        Task::Export => {
            let plan = wizard.export_plan();
            let server = &wizard.server().identity().server;
            lines.push(Line::from(
                "Ready to export. Press Enter to start; Esc to change the selections.",
            ));
            lines.push(Line::from(""));
            lines.push(field_line("Server:", server_line(wizard)));
            lines.push(field_line("Components:", components));
            if !required.is_empty() {
                lines.push(field_line("Included:", list_ids(&required, 3)));
            }
            lines.push(field_line("Folder:", plan.folder.display().to_string()));
            lines.push(field_line(
                "File name:",
                format!("{}_<date and time>.ininmigr", server.name),
            ));
            lines.push(field_line(
                "Handlers:",
                plan.handlers
                    .unwrap_or_else(|| wizard.server().files_dir().join(CUSTOM_HANDLERS))
                    .display()
                    .to_string(),
            ));
            if plan.password.is_some() {
                lines.push(field_line("Encryption:", "AES-256 (password set)"));
            } else {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{:<15}", "Encryption:"),
                        Style::new().add_modifier(Modifier::BOLD),
                    ),
                    warning("NONE: the file is not encrypted and holds sensitive data"),
                ]));
            }
        }
        Task::Import => {
            let plan = wizard.import_plan();
            lines.push(Line::from(
                "Ready to import. Press Enter to start; Esc to change the selections.",
            ));
            lines.push(Line::from(""));
            if let Some(o) = wizard.opened() {
                let src = &o.manifest.source;
                lines.push(field_line(
                    "File:",
                    format!(
                        "{} ({}, {})",
                        o.path.display(),
                        human_bytes(o.size),
                        if o.encrypted {
                            "encrypted"
                        } else {
                            "not encrypted"
                        }
                    ),
                ));
                lines.push(field_line(
                    "From:",
                    format!(
                        "{}, site {} #{}, {} (exported {})",
                        src.server_name,
                        src.site_name,
                        src.site_id,
                        src.product_release,
                        o.manifest.created_utc
                    ),
                ));
            }
            lines.push(field_line("Into:", server_line(wizard)));
            lines.push(field_line(
                "Mode:",
                match plan.mode {
                    ImportMode::Migration => {
                        "Migration: import rules apply; server and site names become this server's"
                    }
                    ImportMode::Recovery => "Recovery: the data is restored exactly as exported",
                },
            ));
            lines.push(field_line("Components:", components));
            lines.push(field_line(
                "Extract to:",
                plan.extract_to.display().to_string(),
            ));
            if plan.restore_point {
                lines.push(field_line(
                    "Restore point:",
                    "yes (transit rollback can undo the import)",
                ));
            } else {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{:<15}", "Restore point:"),
                        Style::new().add_modifier(Modifier::BOLD),
                    ),
                    warning("NO: the import cannot be rolled back afterwards"),
                ]));
            }
            if let Some(ServiceStatus::Running { pid }) = wizard.service() {
                lines.push(Line::from(warning(format!(
                    "The server service runs (pid {pid}): the import will be refused; stop it first."
                ))));
            }
        }
    }
    Text::from(lines)
}

fn status(frame: &mut Frame<'_>, area: Rect, wizard: &Wizard) {
    let Some(status) = wizard.status() else {
        return;
    };
    let [head, gauge, now, log] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Min(0),
    ])
    .areas(area);
    let what = match wizard.task() {
        Task::Export => format!("Exporting to {}", wizard.export_plan().folder.display()),
        Task::Import => format!("Importing {}", wizard.import_plan().file.display()),
    };
    text(frame, head, Text::from(what));
    let p = &status.progress;
    let label = if p.total == 0 {
        "planning…".to_string()
    } else {
        format!("{}/{} components", p.done, p.total)
    };
    frame.render_widget(
        Gauge::default()
            .ratio(p.ratio())
            .label(label)
            .gauge_style(Style::new().fg(Color::Green).bg(Color::DarkGray)),
        gauge,
    );
    let now_line = match &status.state {
        RunState::Running if status.stopping => Line::from(warning(
            "Stopping… waiting for the engine to stop and undo its work.",
        )),
        RunState::Running => Line::from(format!("Now: {}", p.activity)),
        RunState::Failed(_) => Line::from(Span::styled(
            match wizard.task() {
                Task::Export => "The export failed: nothing was written.",
                Task::Import => "The import failed: the server was not changed.",
            },
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        )),
    };
    text(frame, now, Text::from(now_line));
    let body: Text<'static> = match &status.state {
        RunState::Failed(message) => Text::from(vec![
            Line::from(Span::styled(message.clone(), Style::new().fg(Color::Red))),
            Line::from(""),
            dim("Press Esc to go back and change the settings."),
        ]),
        RunState::Running => {
            let height = log.height as usize;
            let skip = p.log.len().saturating_sub(height);
            Text::from(
                p.log
                    .iter()
                    .skip(skip)
                    .map(|l| dim(l.clone()))
                    .collect::<Vec<_>>(),
            )
        }
    };
    text(frame, log, body);
}

fn finish(frame: &mut Frame<'_>, area: Rect, wizard: &Wizard) {
    let Some(finished) = wizard.finished() else {
        return;
    };
    let mut lines = Vec::new();
    match finished {
        Finished::Export(o) => {
            let (mut keys, mut values, mut files) = (0, 0, 0);
            for c in &o.components {
                keys += c.counts.keys;
                values += c.counts.values;
                files += c.counts.files;
            }
            lines.push(Line::from("The export completed.".bold()));
            lines.push(Line::from(""));
            lines.push(field_line("File:", o.path.display().to_string()));
            lines.push(field_line(
                "Size:",
                format!(
                    "{}, {}",
                    human_bytes(o.size),
                    if o.encrypted {
                        "AES-256 encrypted"
                    } else {
                        "not encrypted"
                    }
                ),
            ));
            lines.push(field_line(
                "Contents:",
                format!(
                    "{} components: {keys} keys, {values} values, {files} files",
                    o.components.len()
                ),
            ));
            lines.push(field_line("Time:", elapsed(o.elapsed)));
            lines.push(Line::from(""));
            lines.push(dim(
                "Copy the file to the target server and import it there.",
            ));
        }
        Finished::Import(i) => {
            lines.push(Line::from(
                format!(
                    "The import completed in {}.",
                    elapsed(Duration::from_millis(i.report.elapsed_ms))
                )
                .bold(),
            ));
            match &i.write_error {
                None => lines.push(field_line("Report:", i.report_file.display().to_string())),
                Some(e) => lines.push(Line::from(warning(format!(
                    "The report could not be written: {e}"
                )))),
            }
            lines.push(Line::from(""));
            lines.extend(
                i.report
                    .to_text()
                    .lines()
                    .map(|l| Line::from(l.to_string())),
            );
        }
    }
    frame.render_widget(Paragraph::new(lines).scroll((wizard.scroll(), 0)), area);
}
