//! The filters of a migration (D-03) as a `WHERE` condition per table.
//!
//! - The date range: rows after 00:00 UTC on the start date and before
//!   24:00 UTC on the end date. A 3.0 source keeps local times, so the two
//!   UTC instants become the source zone's wall-clock times and the
//!   condition is `date >= lo AND date < hi` on the table's date column (its
//!   first `time` column). A range that includes today is refused.
//! - The site ID: `SiteId = N` where the table has one.
//! - A child table (a foreign key to a table of its group) takes no filter
//!   of its own: it inherits its parents' (`col IN (SELECT key FROM parent
//!   WHERE …)`), so a Recorder audit row follows its recording even when
//!   its own date is outside the range.
//! - A group whose `dates`/`sites` is `ignore` skips that filter
//!   (Conference ignores the dates; Tracker Configuration and Optimizer
//!   ignore both).
//!
//! The condition names columns and tables unquoted, in the vendor's case,
//! so one text works on every engine (PostgreSQL folds it to the lower
//! case its tables are created in) and on both sides (validation).

use super::groups::{Applies, Group};
use super::tz::SourceZone;
use crate::error::{DbError, Result};
use crate::schema::Table;
use time::{Date, Duration};

/// The filters of one run.
#[derive(Debug, Clone)]
pub struct Filters {
    /// The first day (UTC), inclusive.
    pub start: Date,
    /// The last day (UTC), inclusive.
    pub end: Date,
    /// Only this site's rows.
    pub site: Option<i64>,
    /// The source's time zone.
    pub zone: SourceZone,
}

impl Filters {
    /// Checks the range against `today` (UTC): start ≤ end < today.
    pub fn new(
        start: Date,
        end: Date,
        site: Option<i64>,
        zone: SourceZone,
        today: Date,
    ) -> Result<Filters> {
        if end < start {
            return Err(DbError::Usage(format!(
                "--end {end} is before --start {start}"
            )));
        }
        if end >= today {
            return Err(DbError::Refused(format!(
                "the date range {start} to {end} includes today ({today}) or a later day; \
                 the reference: \"You cannot include the current date in the date range.\""
            )));
        }
        Ok(Filters {
            start,
            end,
            site,
            zone,
        })
    }

    /// The local wall-clock window `[lo, hi)` of the UTC range, as
    /// `YYYY-MM-DD hh:mm:ss`.
    pub fn local_window(&self) -> (String, String) {
        let lo = self.zone.local_of_utc(self.start.midnight());
        let hi = self
            .zone
            .local_of_utc((self.end + Duration::days(1)).midnight());
        (text(lo), text(hi))
    }

    /// The condition for `table` of `group`, or `None` for every row.
    pub fn condition(&self, group: &Group, table: &Table) -> Option<String> {
        let parents = group.parents(table);
        if !parents.is_empty() {
            let conds: Vec<String> = parents
                .iter()
                .filter_map(|(col, parent, parent_col)| {
                    self.condition(group, parent).map(|c| {
                        format!(
                            "{col} IN (SELECT {parent_col} FROM {} WHERE {c})",
                            parent.name
                        )
                    })
                })
                .collect();
            return (!conds.is_empty()).then(|| conds.join(" AND "));
        }
        let mut conds = Vec::new();
        if group.dates == Applies::Range {
            if let Some(col) = date_column(table) {
                let (lo, hi) = self.local_window();
                conds.push(format!("{col} >= '{lo}' AND {col} < '{hi}'"));
            }
        }
        if group.sites == Applies::Filter {
            if let (Some(site), Some(col)) = (self.site, table.column("SiteId")) {
                conds.push(format!("{} = {site}", col.name));
            }
        }
        (!conds.is_empty()).then(|| conds.join(" AND "))
    }
}

/// The column the date range applies to: the table's first column the
/// generator fills as a point in time (`time`, `time~`, `time+N`).
pub fn date_column(table: &Table) -> Option<&str> {
    table
        .columns
        .iter()
        .find(|c| c.role.as_deref().is_some_and(|r| r.starts_with("time")))
        .map(|c| c.name.as_str())
}

fn text(t: time::PrimitiveDateTime) -> String {
    let mut out = String::new();
    crate::dialect::timestamp_text(t, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrate::groups::find;
    use crate::schema::Schema;
    use time::macros::date;

    fn filters(zone: &str, site: Option<i64>) -> Filters {
        Filters::new(
            date!(2013 - 03 - 01),
            date!(2013 - 03 - 31),
            site,
            SourceZone::parse(zone).unwrap(),
            date!(2026 - 11 - 29),
        )
        .unwrap()
    }

    fn table(name: &str) -> &'static Table {
        Schema::reference().table(name).unwrap()
    }

    #[test]
    fn date_range_is_utc_midnight_to_midnight_in_source_local_time() {
        let f = filters("(GMT-05:00) Eastern Time (US & Canada)", None);
        // 2013-03-01 00:00Z is 2013-02-28 19:00 EST; 2013-04-01 00:00Z is
        // 2013-03-31 20:00 EDT.
        assert_eq!(
            f.local_window(),
            ("2013-02-28 19:00:00".into(), "2013-03-31 20:00:00".into())
        );
        let c = f
            .condition(find("reporting").unwrap(), table("CallDetail"))
            .unwrap();
        assert_eq!(
            c,
            "InitiatedDate >= '2013-02-28 19:00:00' AND InitiatedDate < '2013-03-31 20:00:00'"
        );
    }

    #[test]
    fn a_range_including_today_is_refused() {
        let zone = SourceZone::parse("UTC").unwrap();
        let today = date!(2026 - 11 - 29);
        let err = Filters::new(date!(2026 - 11 - 01), today, None, zone.clone(), today)
            .unwrap_err()
            .to_string();
        assert!(err.contains("You cannot include the current date"), "{err}");
        assert!(Filters::new(
            date!(2026 - 11 - 01),
            date!(2026 - 11 - 28),
            None,
            zone.clone(),
            today
        )
        .is_ok());
        assert!(matches!(
            Filters::new(
                date!(2026 - 11 - 02),
                date!(2026 - 11 - 01),
                None,
                zone,
                today
            ),
            Err(DbError::Usage(_))
        ));
    }

    #[test]
    fn site_id_filter_applies_where_a_table_has_one() {
        let f = filters("UTC", Some(2));
        let c = f
            .condition(find("reporting").unwrap(), table("LineConfig"))
            .unwrap();
        assert_eq!(c, "SiteId = 2");
        let c = f
            .condition(find("reporting").unwrap(), table("ILineStats"))
            .unwrap();
        assert!(c.ends_with(" AND SiteId = 2"), "{c}");
    }

    #[test]
    fn children_inherit_the_filter_through_their_parent() {
        let f = filters("UTC", Some(1));
        let c = f
            .condition(find("conference").unwrap(), table("ICon_Participant"))
            .unwrap();
        assert_eq!(
            c,
            "ConferenceId IN (SELECT ConferenceId FROM ICon_Conference WHERE SiteId = 1)"
        );
    }

    #[test]
    fn recorder_audit_rows_follow_their_recording() {
        let f = filters("UTC", None);
        let c = f
            .condition(find("recorder").unwrap(), table("IR_RecordingAudit"))
            .unwrap();
        assert!(
            c.starts_with(
                "RecordingId IN (SELECT RecordingId FROM IR_RecordingMedia WHERE RecordingDate >= "
            ),
            "{c}"
        );
        assert!(!c.contains("AuditDate"), "{c}");
    }

    #[test]
    fn conference_ignores_the_date_range() {
        let f = filters("UTC", None);
        assert_eq!(
            f.condition(find("conference").unwrap(), table("ICon_Conference")),
            None
        );
    }

    #[test]
    fn tracker_configuration_ignores_all_filters() {
        let f = filters("UTC", Some(3));
        for t in find("tracker-config")
            .unwrap()
            .tables(crate::schema::Version::V30)
        {
            assert_eq!(
                f.condition(find("tracker-config").unwrap(), t),
                None,
                "{}",
                t.name
            );
        }
    }
}
