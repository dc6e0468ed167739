//! The generated sites, their time zones, and their daylight-saving days.
//!
//! Site IDs are 1..=N; site `s` uses zone `ZONES[(s - 1) % 4]`: one in
//! North America, one in Europe, one in the southern hemisphere (its
//! summer time spans the new year) and one without daylight saving. The
//! rules are the ones in force since 2007 (US) and 2008 (Australia).

use serde::Serialize;
use time::{Date, Duration, Month, PrimitiveDateTime, Time, Weekday};

/// A daylight-saving rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DstRule {
    /// USA and Canada: 2nd Sunday of March 02:00 → 03:00, 1st Sunday of
    /// November 02:00 → 01:00.
    Us,
    /// European Union: last Sunday of March 02:00 → 03:00, last Sunday of
    /// October 03:00 → 02:00 (local).
    Eu,
    /// New South Wales: 1st Sunday of October 02:00 → 03:00, 1st Sunday of
    /// April 03:00 → 02:00.
    Au,
    /// No daylight saving.
    None,
}

/// A site's time zone.
#[derive(Debug, Clone, Copy)]
pub struct Zone {
    /// The Windows display name (what the vendor's tool shows).
    pub windows: &'static str,
    /// The IANA name.
    pub iana: &'static str,
    /// The standard offset from UTC, in minutes.
    pub standard_minutes: i32,
    /// Its daylight-saving rule.
    pub rule: DstRule,
}

/// The zones sites cycle through.
pub const ZONES: [Zone; 4] = [
    Zone {
        windows: "(GMT-05:00) Eastern Time (US & Canada)",
        iana: "America/New_York",
        standard_minutes: -300,
        rule: DstRule::Us,
    },
    Zone {
        windows: "(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna",
        iana: "Europe/Berlin",
        standard_minutes: 60,
        rule: DstRule::Eu,
    },
    Zone {
        windows: "(GMT+10:00) Canberra, Melbourne, Sydney",
        iana: "Australia/Sydney",
        standard_minutes: 600,
        rule: DstRule::Au,
    },
    Zone {
        windows: "(GMT+05:30) Chennai, Kolkata, Mumbai, New Delhi",
        iana: "Asia/Kolkata",
        standard_minutes: 330,
        rule: DstRule::None,
    },
];

/// One generated site.
#[derive(Debug, Clone, Serialize)]
pub struct SiteInfo {
    /// Its site ID.
    pub site_id: u16,
    /// The Windows display name of its zone.
    pub windows_zone: &'static str,
    /// The IANA name.
    pub iana_zone: &'static str,
}

/// The zone of site `site_id` (1-based).
pub fn zone_of(site_id: u16) -> &'static Zone {
    &ZONES[(usize::from(site_id.max(1)) - 1) % ZONES.len()]
}

/// The local start of the missing hour (spring forward) and of the
/// repeated hour (fall back) in `year`, or `None` without daylight saving.
pub fn transitions(rule: DstRule, year: i32) -> Option<(PrimitiveDateTime, PrimitiveDateTime)> {
    let at = |date: Date, hour: u8| -> Option<PrimitiveDateTime> {
        Some(PrimitiveDateTime::new(
            date,
            Time::from_hms(hour, 0, 0).ok()?,
        ))
    };
    let (gap, overlap) = match rule {
        DstRule::Us => (
            at(nth_sunday(year, Month::March, 2)?, 2),
            at(nth_sunday(year, Month::November, 1)?, 1),
        ),
        DstRule::Eu => (
            at(last_sunday(year, Month::March)?, 2),
            at(last_sunday(year, Month::October)?, 2),
        ),
        DstRule::Au => (
            at(nth_sunday(year, Month::October, 1)?, 2),
            at(nth_sunday(year, Month::April, 1)?, 2),
        ),
        DstRule::None => return None,
    };
    Some((gap?, overlap?))
}

fn nth_sunday(year: i32, month: Month, n: u8) -> Option<Date> {
    let first = Date::from_calendar_date(year, month, 1).ok()?;
    let offset = (7 + 7 - first.weekday().number_days_from_sunday()) % 7;
    first.checked_add(Duration::days(i64::from(offset) + 7 * i64::from(n - 1)))
}

fn last_sunday(year: i32, month: Month) -> Option<Date> {
    let next = if month == Month::December {
        Date::from_calendar_date(year + 1, Month::January, 1)
    } else {
        Date::from_calendar_date(year, month.next(), 1)
    }
    .ok()?;
    let mut day = next.previous_day()?;
    while day.weekday() != Weekday::Sunday {
        day = day.previous_day()?;
    }
    Some(day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn known_transition_days() {
        assert_eq!(
            transitions(DstRule::Us, 2013),
            Some((datetime!(2013-03-10 02:00), datetime!(2013-11-03 01:00)))
        );
        assert_eq!(
            transitions(DstRule::Eu, 2013),
            Some((datetime!(2013-03-31 02:00), datetime!(2013-10-27 02:00)))
        );
        assert_eq!(
            transitions(DstRule::Au, 2013),
            Some((datetime!(2013-10-06 02:00), datetime!(2013-04-07 02:00)))
        );
        assert_eq!(transitions(DstRule::None, 2013), None);
    }

    #[test]
    fn sites_cycle_through_zones() {
        assert_eq!(zone_of(1).iana, "America/New_York");
        assert_eq!(zone_of(4).iana, "Asia/Kolkata");
        assert_eq!(zone_of(5).iana, "America/New_York");
    }
}
