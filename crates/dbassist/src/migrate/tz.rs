//! The source's time zone (`--source-tz`), which fills the 2015 R1 UTC
//! columns and `odsoffset` of rows that a 3.0 source stored in local time.
//!
//! A zone is named by its IANA name ("America/New_York"), its Windows ID
//! ("Eastern Standard Time") or its Windows display name, old or new style
//! ("(GMT-05:00) Eastern Time (US & Canada)", as the vendor's scripts
//! carry it); Windows names go through an embedded Windows-to-IANA table
//! (`windows_zones.txt`), and the rules come from the tz database that
//! `jiff` embeds, so a result never depends on the machine.
//!
//! **The one rule for the hours daylight saving makes odd:** a local time
//! in a repeated autumn hour or in a missing spring hour is read with the
//! offset in force *before* the transition. So in New York 2013-11-03
//! 01:30 (seen twice) is the first 01:30, EDT, 05:30Z; and 2013-03-10 02:30
//! (never shown by a clock) is read as EST, 07:30Z (= 03:30 EDT). In local
//! time the new offset starts at `T + max(before, after)` for a transition
//! at instant `T`; it is the vendor's lookup (the time-zone row with the
//! latest local start at or before the row's time) with that start.
//!
//! `odsoffset` is the offset in seconds (local − UTC), as the vendor's
//! scripts store `gmt_offset`; UTC = local − odsoffset.

use crate::error::{DbError, Result};
use jiff::civil;
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::Timestamp;
use std::sync::OnceLock;
use time::PrimitiveDateTime;

/// One line of the Windows table.
#[derive(Debug)]
struct WindowsZone {
    id: &'static str,
    iana: &'static str,
    display: &'static str,
}

fn windows_zones() -> &'static [WindowsZone] {
    static TABLE: OnceLock<Vec<WindowsZone>> = OnceLock::new();
    TABLE.get_or_init(|| {
        include_str!("windows_zones.txt")
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            .map(|l| {
                let mut parts = l.split('|');
                let mut next = || parts.next().expect("windows_zones.txt: 3 fields").trim();
                WindowsZone {
                    id: next(),
                    iana: next(),
                    display: next(),
                }
            })
            .collect()
    })
}

/// The text of a display name after its "(UTC±hh:mm)"/"(GMT)" prefix.
fn display_rest(name: &str) -> Option<&str> {
    let name = name.trim();
    let rest = name.strip_prefix('(')?;
    let (prefix, rest) = rest.split_once(')')?;
    let p = prefix.trim_start_matches("UTC").trim_start_matches("GMT");
    if !(p.is_empty() || p.starts_with('+') || p.starts_with('-')) {
        return None;
    }
    Some(
        rest.trim()
            .trim_start_matches("Greenwich Mean Time :")
            .trim(),
    )
}

/// A source time zone.
#[derive(Debug, Clone)]
pub struct SourceZone {
    /// The name as given.
    pub given: String,
    /// The IANA name it resolved to.
    pub iana: String,
    tz: TimeZone,
}

/// A stretch of local time with one offset: `[from, to)` (open ends are
/// `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    /// The first local time (inclusive).
    pub from: Option<PrimitiveDateTime>,
    /// The end (exclusive).
    pub to: Option<PrimitiveDateTime>,
    /// Local minus UTC, in seconds.
    pub offset: i32,
}

impl SourceZone {
    /// Resolves an IANA name, a Windows ID or a Windows display name.
    pub fn parse(name: &str) -> Result<SourceZone> {
        let given = name.trim();
        let unknown = || {
            DbError::Usage(format!(
                "--source-tz `{given}`: not an IANA zone (America/New_York), a Windows zone ID \
                 (Eastern Standard Time) or a Windows display name \
                 ((UTC-05:00) Eastern Time (US & Canada))"
            ))
        };
        let iana = if let Some(w) = windows_zones()
            .iter()
            .find(|w| w.id.eq_ignore_ascii_case(given))
        {
            w.iana.to_string()
        } else if let Some(rest) = display_rest(given) {
            windows_zones()
                .iter()
                .find(|w| w.display.eq_ignore_ascii_case(rest))
                .ok_or_else(unknown)?
                .iana
                .to_string()
        } else {
            given.to_string()
        };
        let tz = TimeZone::get(&iana).map_err(|_| unknown())?;
        Ok(SourceZone {
            given: given.to_string(),
            iana,
            tz,
        })
    }

    /// The wall-clock time at a UTC instant.
    pub fn local_of_utc(&self, utc: PrimitiveDateTime) -> PrimitiveDateTime {
        let ts = Timestamp::from_second(utc.assume_utc().unix_timestamp()).expect("in range");
        let offset = self.tz.to_offset(ts).seconds();
        utc + time::Duration::seconds(i64::from(offset))
    }

    /// The offset (seconds) of a local time, by the rule in the module
    /// documentation.
    pub fn offset_of_local(&self, local: PrimitiveDateTime) -> i32 {
        match self.tz.to_ambiguous_timestamp(civil_of(local)).offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.seconds(),
            // The missing spring hour and the repeated autumn hour: the
            // offset in force before the transition.
            AmbiguousOffset::Gap { before, .. } | AmbiguousOffset::Fold { before, .. } => {
                before.seconds()
            }
        }
    }

    /// The UTC instant of a local time.
    pub fn utc_of_local(&self, local: PrimitiveDateTime) -> PrimitiveDateTime {
        local - time::Duration::seconds(i64::from(self.offset_of_local(local)))
    }

    /// The spans of one offset that cover local times `[lo, hi]`, in
    /// order; the first starts open, the last ends open.
    pub fn spans(&self, lo: PrimitiveDateTime, hi: PrimitiveDateTime) -> Vec<Span> {
        let day = 86_400;
        let start = lo.assume_utc().unix_timestamp() - 2 * day;
        let end = hi.assume_utc().unix_timestamp() + 2 * day;
        let first = Timestamp::from_second(start).expect("in range");
        let mut offset = self.tz.to_offset(first).seconds();
        let mut spans = Vec::new();
        let mut from = None;
        for t in self.tz.following(first) {
            let at = t.timestamp().as_second();
            if at > end {
                break;
            }
            let after = t.offset().seconds();
            if after == offset {
                continue;
            }
            let boundary = at + i64::from(offset.max(after));
            let boundary = utc_text_to_primitive(boundary);
            spans.push(Span {
                from,
                to: Some(boundary),
                offset,
            });
            from = Some(boundary);
            offset = after;
        }
        spans.push(Span {
            from,
            to: None,
            offset,
        });
        spans
    }
}

fn utc_text_to_primitive(unix: i64) -> PrimitiveDateTime {
    let t = time::OffsetDateTime::from_unix_timestamp(unix).expect("in range");
    PrimitiveDateTime::new(t.date(), t.time())
}

fn civil_of(t: PrimitiveDateTime) -> civil::DateTime {
    civil::date(t.year() as i16, t.month() as i8, t.day() as i8).at(
        t.hour() as i8,
        t.minute() as i8,
        t.second() as i8,
        0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn ny() -> SourceZone {
        SourceZone::parse("(GMT-05:00) Eastern Time (US & Canada)").unwrap()
    }

    #[test]
    fn windows_display_names_windows_ids_and_iana_names_resolve() {
        assert_eq!(ny().iana, "America/New_York");
        for name in [
            "(UTC-05:00) Eastern Time (US & Canada)",
            "Eastern Standard Time",
            "America/New_York",
        ] {
            assert_eq!(SourceZone::parse(name).unwrap().iana, "America/New_York");
        }
        assert_eq!(
            SourceZone::parse("(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London")
                .unwrap()
                .iana,
            "Europe/London"
        );
        let err = SourceZone::parse("(GMT-05:00) Atlantis")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not an IANA zone"), "{err}");
        assert!(SourceZone::parse("Mars/Olympus_Mons").is_err());
        // Every Windows entry names a zone the embedded database knows.
        for w in windows_zones() {
            assert!(TimeZone::get(w.iana).is_ok(), "{}", w.iana);
        }
    }

    #[test]
    fn the_missing_spring_hour_takes_the_offset_before_the_gap() {
        let z = ny();
        assert_eq!(
            z.utc_of_local(datetime!(2013-03-10 01:59:59)),
            datetime!(2013-03-10 06:59:59)
        );
        assert_eq!(
            z.utc_of_local(datetime!(2013-03-10 02:30:00)),
            datetime!(2013-03-10 07:30:00)
        );
        assert_eq!(z.offset_of_local(datetime!(2013-03-10 02:30:00)), -5 * 3600);
        assert_eq!(
            z.utc_of_local(datetime!(2013-03-10 03:00:00)),
            datetime!(2013-03-10 07:00:00)
        );
    }

    #[test]
    fn the_repeated_autumn_hour_takes_the_offset_before_the_overlap() {
        let z = ny();
        assert_eq!(
            z.utc_of_local(datetime!(2013-11-03 00:59:59)),
            datetime!(2013-11-03 04:59:59)
        );
        assert_eq!(
            z.utc_of_local(datetime!(2013-11-03 01:30:00)),
            datetime!(2013-11-03 05:30:00)
        );
        assert_eq!(z.offset_of_local(datetime!(2013-11-03 01:59:59)), -4 * 3600);
        assert_eq!(
            z.utc_of_local(datetime!(2013-11-03 02:00:00)),
            datetime!(2013-11-03 07:00:00)
        );
    }

    #[test]
    fn spans_agree_with_the_per_row_rule_at_every_second_near_transitions() {
        for zone in [
            "America/New_York",
            "Europe/Berlin",
            "Australia/Sydney",
            "UTC",
        ] {
            let z = SourceZone::parse(zone).unwrap();
            let spans = z.spans(datetime!(2013-01-01 00:00), datetime!(2013-12-31 23:59));
            for s in &spans {
                for edge in [s.from, s.to].into_iter().flatten() {
                    for delta in [-3601i64, -1, 0, 1, 1800, 3599] {
                        let t = edge + time::Duration::seconds(delta);
                        let span = spans
                            .iter()
                            .find(|s| s.from.is_none_or(|f| f <= t) && s.to.is_none_or(|e| t < e))
                            .unwrap();
                        assert_eq!(span.offset, z.offset_of_local(t), "{zone} {t}");
                    }
                }
            }
            let expect = if zone == "UTC" { 1 } else { 3 };
            assert_eq!(spans.len(), expect, "{zone}: {spans:?}");
        }
    }
}
