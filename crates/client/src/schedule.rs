//! The group's install day and hour, as pure functions of the time
//! (UTC: the agent has no time zone of its own).

use time::{Duration, OffsetDateTime, Weekday};
use transit_provider::api::InstallDay;

fn matches_day(day: InstallDay, weekday: Weekday) -> bool {
    match day {
        InstallDay::Everyday => true,
        InstallDay::Sunday => weekday == Weekday::Sunday,
        InstallDay::Monday => weekday == Weekday::Monday,
        InstallDay::Tuesday => weekday == Weekday::Tuesday,
        InstallDay::Wednesday => weekday == Weekday::Wednesday,
        InstallDay::Thursday => weekday == Weekday::Thursday,
        InstallDay::Friday => weekday == Weekday::Friday,
        InstallDay::Saturday => weekday == Weekday::Saturday,
    }
}

/// True when `now` falls within the install hour on an install day.
pub fn in_window(now: OffsetDateTime, day: InstallDay, hour: u8) -> bool {
    now.hour() == hour && matches_day(day, now.weekday())
}

/// The start of the next install window at or after `now`.
pub fn next_window(now: OffsetDateTime, day: InstallDay, hour: u8) -> OffsetDateTime {
    if in_window(now, day, hour) {
        return now;
    }
    let start_today =
        now.replace_time(time::Time::from_hms(hour.min(23), 0, 0).unwrap_or(time::Time::MIDNIGHT));
    (0..=7)
        .map(|d| start_today + Duration::days(d))
        .find(|t| *t > now && matches_day(day, t.weekday()))
        .unwrap_or(start_today + Duration::days(7))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn windows() {
        // 2026-11-29 is a Sunday.
        let now = datetime!(2026-11-29 01:30 UTC);
        assert!(!in_window(now, InstallDay::Everyday, 2));
        assert_eq!(
            next_window(now, InstallDay::Everyday, 2),
            datetime!(2026-11-29 02:00 UTC)
        );
        assert!(in_window(
            datetime!(2026-11-29 02:59 UTC),
            InstallDay::Sunday,
            2
        ));
        assert_eq!(
            next_window(datetime!(2026-11-29 03:00 UTC), InstallDay::Sunday, 2),
            datetime!(2026-12-06 02:00 UTC)
        );
        assert_eq!(
            next_window(now, InstallDay::Wednesday, 23),
            datetime!(2026-12-02 23:00 UTC)
        );
    }
}
