//! UTC time stamps on the `time` crate.
//!
//! Every stamp Transit writes is UTC:
//! - [`rfc3339`]: `2026-11-23T10:00:00Z`, for manifests, reports and JSON;
//! - [`file_stamp`]: the vendor's `MMDDYYYYhhmmss`, in migration-file names;
//! - [`compact`]: `20261123T100000Z`, for folder names that sort by time;
//! - [`date`]: `2026-11-23`, for daily log files.

use ::time::format_description::BorrowedFormatItem;
use ::time::macros::format_description;
pub use ::time::{Date, OffsetDateTime, PrimitiveDateTime};

const FILE_STAMP: &[BorrowedFormatItem<'static>] =
    format_description!("[month][day][year][hour][minute][second]");
const COMPACT: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
const RFC3339: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
const DATE: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// The current time in UTC.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// The UTC time `secs` seconds after the Unix epoch (clamped to the
/// representable range).
pub fn from_unix(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(if secs < 0 {
        OffsetDateTime::UNIX_EPOCH
    } else {
        PrimitiveDateTime::MAX.assume_utc()
    })
}

fn utc(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(::time::UtcOffset::UTC)
}

fn format(t: OffsetDateTime, items: &[BorrowedFormatItem<'_>]) -> String {
    // Formatting a UTC time with a fixed, valid description only fails for
    // years outside 0..=9999, which `now()` never gives.
    utc(t)
        .format(items)
        .unwrap_or_else(|_| String::from("0000"))
}

/// RFC 3339 to the second, such as `2026-11-23T10:00:00Z`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    format(t, RFC3339)
}

/// The vendor's file-name stamp, `MMDDYYYYhhmmss`.
pub fn file_stamp(t: OffsetDateTime) -> String {
    format(t, FILE_STAMP)
}

/// A sortable compact stamp, `YYYYMMDDThhmmssZ`.
pub fn compact(t: OffsetDateTime) -> String {
    format(t, COMPACT)
}

/// The calendar date, `YYYY-MM-DD`.
pub fn date(t: OffsetDateTime) -> String {
    format(t, DATE)
}

/// Reads a `MMDDYYYYhhmmss` stamp: exactly 14 ASCII digits making a valid
/// date and time, taken as UTC. Anything else is `None`.
pub fn parse_file_stamp(text: &str) -> Option<OffsetDateTime> {
    if text.len() != 14 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    PrimitiveDateTime::parse(text, FILE_STAMP)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Reads an RFC 3339 time such as `2026-11-23T10:00:00Z` (any offset, and
/// fractions of a second, are accepted), as UTC.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &::time::format_description::well_known::Rfc3339)
        .ok()
        .map(utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(from_unix(0)), "1970-01-01T00:00:00Z");
        let t = from_unix(1_323_165_410); // 2011-12-06 09:56:50
        assert_eq!(rfc3339(t), "2011-12-06T09:56:50Z");
        assert_eq!(file_stamp(t), "12062011095650");
        assert_eq!(compact(t), "20111206T095650Z");
        assert_eq!(date(t), "2011-12-06");
        let leap = from_unix(951_782_400);
        assert_eq!(date(leap), "2000-02-29");
    }

    #[test]
    fn file_stamps_round_trip_and_refuse_nonsense() {
        let t = from_unix(1_323_165_410);
        assert_eq!(parse_file_stamp(&file_stamp(t)), Some(t));
        for bad in [
            "1206201109565",
            "120620110956500",
            "13062011095650",
            "12322011095650",
            "02302011095650",
            "12062011245650",
            "1206201109565x",
            "+2062011095650",
        ] {
            assert_eq!(parse_file_stamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn rfc3339_parses_offsets_as_utc() {
        let t = parse_rfc3339("2011-12-06T10:56:50+01:00").unwrap();
        assert_eq!(rfc3339(t), "2011-12-06T09:56:50Z");
    }
}
