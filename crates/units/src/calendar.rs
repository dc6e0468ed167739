//! When scheduled work runs: `hourly`, `daily` or `weekly:DAY`, at `HH:MM`.
//!
//! [`Every`] and [`At`] implement `FromStr`, so a command line parses them
//! directly (clap's value parser), with messages that say what is wanted.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

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

const WEEKDAYS: [(Weekday, &str, &str, u8); 7] = [
    (Weekday::Mon, "Mon", "monday", 1),
    (Weekday::Tue, "Tue", "tuesday", 2),
    (Weekday::Wed, "Wed", "wednesday", 3),
    (Weekday::Thu, "Thu", "thursday", 4),
    (Weekday::Fri, "Fri", "friday", 5),
    (Weekday::Sat, "Sat", "saturday", 6),
    (Weekday::Sun, "Sun", "sunday", 0),
];

impl Weekday {
    fn row(self) -> &'static (Weekday, &'static str, &'static str, u8) {
        WEEKDAYS
            .iter()
            .find(|row| row.0 == self)
            .expect("every weekday has a row")
    }

    /// cron's day number (Sunday is 0).
    pub fn cron_number(self) -> u8 {
        self.row().3
    }

    /// The three-letter name systemd uses (`Mon`).
    pub fn short(self) -> &'static str {
        self.row().1
    }
}

/// How often scheduled work runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Every {
    /// Every hour, at the minute of [`At`].
    Hourly,
    /// Every day at [`At`].
    Daily,
    /// Once a week, on this day, at [`At`].
    Weekly(Weekday),
}

impl FromStr for Every {
    type Err = String;

    /// `daily`, `hourly` or `weekly:DAY` (DAY as `Mon` or `monday`, any
    /// letter case).
    fn from_str(text: &str) -> Result<Every, String> {
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
                .find(|(_, short, long, _)| short.eq_ignore_ascii_case(day) || *long == day)
                .map(|row| Every::Weekly(row.0))
                .ok_or_else(|| {
                    format!(
                        "weekly:{day}: the day must be one of Mon, Tue, Wed, Thu, Fri, Sat, Sun"
                    )
                });
        }
        Err(format!(
            "{text}: expected daily, hourly or weekly:DAY (such as weekly:Sun)"
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

impl FromStr for At {
    type Err = String;

    /// `HH:MM`, 24-hour (a one-digit hour is allowed).
    fn from_str(text: &str) -> Result<At, String> {
        let bad = || format!("{text}: expected a 24-hour time HH:MM, such as 02:30");
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

/// A recurring time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    /// How often.
    pub every: Every,
    /// When.
    pub at: At,
}

impl Calendar {
    /// systemd's `OnCalendar=` expression.
    pub fn on_calendar(&self) -> String {
        let time = |hour: &str| format!("{hour}:{:02}:00", self.at.minute);
        let hour = format!("{:02}", self.at.hour);
        match self.every {
            Every::Hourly => format!("*-*-* {}", time("*")),
            Every::Daily => format!("*-*-* {}", time(&hour)),
            Every::Weekly(day) => format!("{} *-*-* {}", day.short(), time(&hour)),
        }
    }

    /// cron's five time fields (`minute hour day month weekday`).
    pub fn cron_fields(&self) -> String {
        let minute = self.at.minute.to_string();
        let (hour, weekday) = match self.every {
            Every::Hourly => ("*".to_string(), "*".to_string()),
            Every::Daily => (self.at.hour.to_string(), "*".to_string()),
            Every::Weekly(day) => (self.at.hour.to_string(), day.cron_number().to_string()),
        };
        format!("{minute} {hour} * * {weekday}")
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.every, self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parses_the_three_forms_and_refuses_the_rest() {
        assert_eq!("daily".parse(), Ok(Every::Daily));
        assert_eq!("HOURLY".parse(), Ok(Every::Hourly));
        assert_eq!("weekly:sun".parse(), Ok(Every::Weekly(Weekday::Sun)));
        assert_eq!("weekly:Wednesday".parse(), Ok(Every::Weekly(Weekday::Wed)));
        for bad in ["monthly", "weekly:", "weekly:Funday", "", "weekly"] {
            let err = bad.parse::<Every>().unwrap_err();
            assert!(
                err.contains("expected") || err.contains("must be"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn at_accepts_24_hour_times_only() {
        assert_eq!(
            "02:30".parse(),
            Ok(At {
                hour: 2,
                minute: 30
            })
        );
        assert_eq!("2:05".parse(), Ok(At { hour: 2, minute: 5 }));
        assert_eq!(
            "23:59".parse(),
            Ok(At {
                hour: 23,
                minute: 59
            })
        );
        for bad in [
            "24:00", "12:60", "12", "12:5", "ab:cd", "-1:00", "12:00:00", "", "1:2:3", "123:00",
        ] {
            let err = bad.parse::<At>().unwrap_err();
            assert!(err.contains("HH:MM"), "{bad}: {err}");
        }
    }

    #[test]
    fn calendar_expressions() {
        let at = At {
            hour: 2,
            minute: 30,
        };
        let cal = |every| Calendar { every, at };
        assert_eq!(cal(Every::Daily).on_calendar(), "*-*-* 02:30:00");
        assert_eq!(cal(Every::Hourly).on_calendar(), "*-*-* *:30:00");
        assert_eq!(
            cal(Every::Weekly(Weekday::Sun)).on_calendar(),
            "Sun *-*-* 02:30:00"
        );
        assert_eq!(cal(Every::Weekly(Weekday::Sun)).cron_fields(), "30 2 * * 0");
        assert_eq!(cal(Every::Hourly).cron_fields(), "30 * * * *");
        assert_eq!(cal(Every::Daily).cron_fields(), "30 2 * * *");
    }
}
