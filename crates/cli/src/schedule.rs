//! Scheduled exports (M-11) as systemd unit pairs: a oneshot `.service`
//! that runs `transit export … --keep K`, and a `.timer` that starts it.
//!
//! Both units carry a `# transit-schedule: {json}` line, so `list` and
//! `remove` recognise the units transit wrote and never touch others.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The marker that starts the metadata comment in both units.
pub const MARKER: &str = "# transit-schedule: ";

/// How often a schedule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    /// Every hour, at the minute of `--at`.
    Hourly,
    /// Every day at `--at`.
    Daily,
    /// Once a week, on this day, at `--at`.
    Weekly(Weekday),
}

/// A day of the week, as systemd spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

const WEEKDAYS: [(Weekday, &str, &str); 7] = [
    (Weekday::Mon, "Mon", "monday"),
    (Weekday::Tue, "Tue", "tuesday"),
    (Weekday::Wed, "Wed", "wednesday"),
    (Weekday::Thu, "Thu", "thursday"),
    (Weekday::Fri, "Fri", "friday"),
    (Weekday::Sat, "Sat", "saturday"),
    (Weekday::Sun, "Sun", "sunday"),
];

impl Weekday {
    /// cron's day number (Sunday is 0).
    fn cron_number(self) -> u8 {
        match self {
            Weekday::Sun => 0,
            Weekday::Mon => 1,
            Weekday::Tue => 2,
            Weekday::Wed => 3,
            Weekday::Thu => 4,
            Weekday::Fri => 5,
            Weekday::Sat => 6,
        }
    }

    fn short(self) -> &'static str {
        WEEKDAYS
            .iter()
            .find(|(d, _, _)| *d == self)
            .map_or("Mon", |(_, s, _)| s)
    }
}

impl Every {
    /// Parses `daily`, `hourly` or `weekly:DAY` (DAY as `Mon` or `monday`,
    /// any case).
    pub fn parse(text: &str) -> Result<Every, String> {
        let lower = text.trim().to_ascii_lowercase();
        match lower.as_str() {
            "daily" => return Ok(Every::Daily),
            "hourly" => return Ok(Every::Hourly),
            _ => {}
        }
        if let Some(day) = lower.strip_prefix("weekly:") {
            let day = day.trim();
            return WEEKDAYS
                .iter()
                .find(|(_, short, long)| short.eq_ignore_ascii_case(day) || *long == day)
                .map(|(d, _, _)| Every::Weekly(*d))
                .ok_or_else(|| {
                    format!("--every weekly:{day}: the day must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun")
                });
        }
        Err(format!(
            "--every {text}: expected daily, hourly or weekly:DAY (such as weekly:Sun)"
        ))
    }
}

impl fmt::Display for Every {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Every::Hourly => write!(f, "hourly"),
            Every::Daily => write!(f, "daily"),
            Every::Weekly(d) => write!(f, "weekly:{}", d.short()),
        }
    }
}

/// A time of day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct At {
    /// 0–23.
    pub hour: u32,
    /// 0–59.
    pub minute: u32,
}

impl At {
    /// Parses `HH:MM` (24-hour; one-digit hours allowed).
    pub fn parse(text: &str) -> Result<At, String> {
        let bad = || format!("--at {text}: expected a 24-hour time HH:MM, such as 02:30");
        let (h, m) = text.trim().split_once(':').ok_or_else(bad)?;
        let digits = |s: &str, max: usize| {
            (!s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())
                .flatten()
        };
        let (hour, minute) = (digits(h, 2).ok_or_else(bad)?, digits(m, 2).ok_or_else(bad)?);
        if m.len() != 2 || hour > 23 || minute > 59 {
            return Err(bad());
        }
        Ok(At { hour, minute })
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// A validated schedule: everything the two units need, with absolute paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The schedule's name (the units are `transit-export-<name>.*`).
    pub name: String,
    /// How often.
    pub every: Every,
    /// When.
    pub at: At,
    /// The `transit` binary the service runs.
    pub binary: PathBuf,
    /// The server root to export.
    pub server_root: PathBuf,
    /// The folder that receives the files.
    pub folder: PathBuf,
    /// `all` or a comma-separated component list.
    pub components: String,
    /// The password file, if the files are encrypted.
    pub password_file: Option<PathBuf>,
    /// How many of the server's files to keep, if retention applies.
    pub keep: Option<u32>,
}

/// Checks a schedule name: it becomes part of a unit file name.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "--name {name:?}: use 1 to 64 letters, digits, '-' or '_'"
        ))
    }
}

/// Checks `--keep`: at least one file must stay.
pub fn check_keep(keep: i64) -> Result<u32, String> {
    u32::try_from(keep).ok().filter(|k| *k >= 1).ok_or_else(|| {
        format!(
            "--keep {keep}: keep at least 1 migration file (K is how many of the newest are kept)"
        )
    })
}

impl Schedule {
    /// The unit name without its suffix.
    pub fn unit_stem(name: &str) -> String {
        format!("transit-export-{name}")
    }

    /// systemd's `OnCalendar=` expression.
    pub fn on_calendar(&self) -> String {
        let time = |hour: &str| format!("{hour}:{:02}:00", self.at.minute);
        match self.every {
            Every::Hourly => format!("*-*-* {}", time("*")),
            Every::Daily => format!("*-*-* {}", time(&format!("{:02}", self.at.hour))),
            Every::Weekly(day) => format!(
                "{} *-*-* {}",
                day.short(),
                time(&format!("{:02}", self.at.hour))
            ),
        }
    }

    /// The command line the service runs.
    pub fn command(&self) -> Vec<String> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut args = vec![
            path(&self.binary),
            "--server-root".into(),
            path(&self.server_root),
            "export".into(),
            "--folder".into(),
            path(&self.folder),
            "--components".into(),
            self.components.clone(),
        ];
        if let Some(file) = &self.password_file {
            args.extend(["--password-file".into(), path(file)]);
        }
        if let Some(keep) = self.keep {
            args.extend(["--keep".into(), keep.to_string()]);
        }
        args
    }

    fn marker(&self) -> String {
        format!(
            "{MARKER}{}",
            serde_json::to_string(self).expect("a schedule serialises")
        )
    }

    /// The `.service` unit.
    pub fn service_unit(&self) -> String {
        let exec: Vec<String> = self.command().iter().map(|a| quote(a)).collect();
        format!(
            "# Written by `transit schedule add`; `transit schedule remove --name {name}` deletes it.\n\
             {marker}\n\
             [Unit]\n\
             Description=Transit scheduled export {name} of {root}\n\
             \n\
             [Service]\n\
             Type=oneshot\n\
             ExecStart={exec}\n\
             Nice=10\n\
             IOSchedulingClass=idle\n",
            name = self.name,
            marker = self.marker(),
            root = escape_specifiers(&self.server_root.to_string_lossy()),
            exec = exec.join(" "),
        )
    }

    /// The `.timer` unit.
    pub fn timer_unit(&self) -> String {
        format!(
            "# Written by `transit schedule add`; `transit schedule remove --name {name}` deletes it.\n\
             {marker}\n\
             [Unit]\n\
             Description=Transit scheduled export {name} ({every} at {at})\n\
             \n\
             [Timer]\n\
             OnCalendar={calendar}\n\
             Persistent=true\n\
             Unit={stem}.service\n\
             \n\
             [Install]\n\
             WantedBy=timers.target\n",
            name = self.name,
            marker = self.marker(),
            every = self.every,
            at = self.at,
            calendar = self.on_calendar(),
            stem = Schedule::unit_stem(&self.name),
        )
    }

    /// The same schedule as one crontab line: the five time fields, then
    /// the command, each word single-quoted for `/bin/sh` and `%` escaped
    /// (cron turns a bare `%` into a newline).
    pub fn cron_line(&self) -> String {
        let (minute, hour) = (self.at.minute.to_string(), self.at.hour.to_string());
        let (hour, weekday) = match self.every {
            Every::Hourly => ("*".to_string(), "*".to_string()),
            Every::Daily => (hour, "*".to_string()),
            Every::Weekly(day) => (hour, day.cron_number().to_string()),
        };
        let words: Vec<String> = self.command().iter().map(|w| shell_quote(w)).collect();
        format!(
            "{minute} {hour} * * {weekday} {} # transit-schedule {}",
            words.join(" "),
            self.name
        )
    }

    /// Reads the schedule back from a unit's text, if transit wrote it.
    pub fn from_unit(text: &str) -> Option<Schedule> {
        text.lines()
            .find_map(|line| line.strip_prefix(MARKER))
            .and_then(|json| serde_json::from_str(json).ok())
    }
}

/// One `ExecStart=` word: double-quoted, with `\` and `"` escaped, and
/// systemd's `%` specifiers and `$` variables made literal.
fn quote(arg: &str) -> String {
    let escaped = escape_specifiers(arg)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$");
    format!("\"{escaped}\"")
}

/// One word for `/bin/sh` inside a crontab line: single-quoted (`'` as
/// `'\''`), with `%` escaped for cron.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''").replace('%', "\\%"))
}

fn escape_specifiers(text: &str) -> String {
    text.replace('%', "%%")
}

/// The default unit folder: `$XDG_CONFIG_HOME/systemd/user`, else
/// `~/.config/systemd/user`.
pub fn default_unit_dir() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("systemd").join("user"))
}

#[cfg(test)]
mod tests;
