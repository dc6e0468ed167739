//! A schedule as one crontab line, for machines without systemd.

use crate::calendar::Calendar;

/// One crontab line: the five time fields, then the command, each word
/// single-quoted for `/bin/sh` and `%` escaped (cron turns a bare `%` into
/// a newline), then a `# tag` comment naming the line.
pub fn line(calendar: &Calendar, command: &[String], tag: &str) -> String {
    let words: Vec<String> = command.iter().map(|w| shell_quote(w)).collect();
    format!("{} {} # {tag}", calendar.cron_fields(), words.join(" "))
}

/// One word for `/bin/sh` inside a crontab line: single-quoted (`'` as
/// `'\''`), with `%` escaped for cron.
pub fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', "'\\''").replace('%', "\\%"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{At, Every, Weekday};

    #[test]
    fn words_are_quoted_for_the_shell_and_percent_is_escaped() {
        let cal = Calendar {
            every: Every::Weekly(Weekday::Sun),
            at: At {
                hour: 2,
                minute: 30,
            },
        };
        let line = line(
            &cal,
            &["/usr/bin/transit".into(), "/backup/it's 100%".into()],
            "transit-schedule nightly",
        );
        assert_eq!(
            line,
            r"30 2 * * 0 '/usr/bin/transit' '/backup/it'\''s 100\%' # transit-schedule nightly"
        );
    }
}
