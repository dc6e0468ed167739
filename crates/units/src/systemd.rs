//! systemd unit files: a `.service` that runs one command, and a `.timer`
//! that starts it on a [`Calendar`].

use crate::calendar::Calendar;

/// How systemd runs a service's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceKind {
    /// Runs once to completion (scheduled work).
    Oneshot,
    /// Keeps running (a daemon); restarted when it fails.
    Daemon,
}

/// A `.service` unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceUnit {
    /// Comment lines at the top (without `# `), such as who wrote it.
    pub comments: Vec<String>,
    /// The marker line ([`crate::marker::line`]).
    pub marker: String,
    /// `Description=`.
    pub description: String,
    /// How it runs.
    pub kind: ServiceKind,
    /// The command: program and arguments, quoted here for systemd.
    pub command: Vec<String>,
    /// Further `[Service]` lines, such as `Nice=10`.
    pub extra: Vec<String>,
}

impl ServiceUnit {
    /// The unit file's text.
    pub fn render(&self) -> String {
        let exec: Vec<String> = self.command.iter().map(|a| quote_exec(a)).collect();
        let mut text = header(&self.comments, &self.marker);
        text.push_str(&format!(
            "[Unit]\nDescription={}\n",
            escape_specifiers(&self.description)
        ));
        if self.kind == ServiceKind::Daemon {
            text.push_str("After=network-online.target\nWants=network-online.target\n");
        }
        text.push_str("\n[Service]\n");
        text.push_str(match self.kind {
            ServiceKind::Oneshot => "Type=oneshot\n",
            ServiceKind::Daemon => "Type=simple\n",
        });
        text.push_str(&format!("ExecStart={}\n", exec.join(" ")));
        if self.kind == ServiceKind::Daemon {
            text.push_str("Restart=on-failure\nRestartSec=5\n");
        }
        for line in &self.extra {
            text.push_str(line);
            text.push('\n');
        }
        if self.kind == ServiceKind::Daemon {
            text.push_str("\n[Install]\nWantedBy=default.target\n");
        }
        text
    }
}

/// A `.timer` unit that starts a service on a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerUnit {
    /// Comment lines at the top (without `# `).
    pub comments: Vec<String>,
    /// The marker line ([`crate::marker::line`]).
    pub marker: String,
    /// `Description=`.
    pub description: String,
    /// When it fires.
    pub calendar: Calendar,
    /// The service it starts, such as `transit-export-nightly.service`.
    pub unit: String,
}

impl TimerUnit {
    /// The unit file's text. Missed runs (the machine was off) run at the
    /// next boot (`Persistent=true`).
    pub fn render(&self) -> String {
        let mut text = header(&self.comments, &self.marker);
        text.push_str(&format!(
            "[Unit]\nDescription={}\n\n[Timer]\nOnCalendar={}\nPersistent=true\nUnit={}\n\n[Install]\nWantedBy=timers.target\n",
            escape_specifiers(&self.description),
            self.calendar.on_calendar(),
            self.unit,
        ));
        text
    }
}

fn header(comments: &[String], marker: &str) -> String {
    let mut text = String::new();
    for comment in comments {
        text.push_str(&format!("# {comment}\n"));
    }
    text.push_str(marker);
    text.push('\n');
    text
}

/// One `ExecStart=` word: double-quoted, with `\` and `"` escaped, and
/// systemd's `%` specifiers and `$` variables made literal.
pub fn quote_exec(arg: &str) -> String {
    let escaped = escape_specifiers(arg)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$");
    format!("\"{escaped}\"")
}

/// Makes `%` literal in a unit file.
pub fn escape_specifiers(text: &str) -> String {
    text.replace('%', "%%")
}

/// True when `text` cannot go into a unit file line (it holds a line break).
pub fn has_line_break(text: &str) -> bool {
    text.contains(['\n', '\r'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{At, Every};

    #[test]
    fn exec_words_escape_systemd_specials() {
        assert_eq!(quote_exec("/a b/100%/$HOME"), r#""/a b/100%%/$$HOME""#);
        assert_eq!(quote_exec(r#"say "hi"\"#), r#""say \"hi\"\\""#);
    }

    #[test]
    fn a_daemon_restarts_and_installs_into_the_default_target() {
        let unit = ServiceUnit {
            comments: vec!["Written by a test".into()],
            marker: "# transit-test: {}".into(),
            description: "Transit update client".into(),
            kind: ServiceKind::Daemon,
            command: vec!["/usr/bin/transit".into(), "update".into()],
            extra: vec![],
        }
        .render();
        insta::assert_snapshot!("daemon_unit", unit);
    }

    #[test]
    fn a_timer_names_its_service() {
        let timer = TimerUnit {
            comments: vec![],
            marker: "# transit-test: {}".into(),
            description: "every day".into(),
            calendar: Calendar {
                every: Every::Daily,
                at: At { hour: 1, minute: 5 },
            },
            unit: "x.service".into(),
        }
        .render();
        assert!(timer.contains("OnCalendar=*-*-* 01:05:00\n"));
        assert!(timer.contains("Unit=x.service\n"));
    }
}
