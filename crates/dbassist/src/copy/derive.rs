//! Target columns the writer fills as it writes (`db migrate`): a 2015 R1
//! table's UTC columns and `odsoffset`, computed from the local time
//! column each belongs to in the source's zone, and constant columns (the
//! service-level overrides). A 3.0 source has none of these columns, so
//! they are appended to each row after key translation and the merge
//! check; the rows' first cells stay the copied columns, so markers,
//! rejects and checksums see exactly what was read.
//!
//! Filling them here, instead of `UPDATE`s after the copy, writes each row
//! once. The DST rule is [`crate::migrate::tz`]'s: a local time in the
//! repeated autumn hour or the missing spring hour takes the offset in
//! force before the change.

use super::batch::Batch;
use super::canon::CanonKind;
use super::plan::TablePlan;
use crate::error::Result;
use crate::migrate::tz::SourceZone;
use crate::schema::{Column, Version};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use time::PrimitiveDateTime;

/// What the writer fills, as recorded with the run (so a resume fills the
/// same).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeriveSpec {
    /// The source's zone (a name [`SourceZone::parse`] takes): fills the
    /// UTC columns and `odsoffset`; `None` leaves them to the target.
    pub zone: Option<String>,
    /// Columns set to a constant where a table has them and the source
    /// does not (service-level overrides).
    pub constants: Vec<(String, i64)>,
}

enum Fill {
    /// Local time at this copied column minus its offset.
    Utc(usize),
    /// The offset (seconds) of the local time at this copied column.
    Offset(usize),
    /// A constant.
    Const(i64),
}

/// One table's filler, owned by its writer.
pub struct Deriver {
    fills: Vec<(&'static Column, Fill)>,
    zone: Option<SourceZone>,
    offsets: HashMap<i64, i32>,
}

/// The copied column a UTC column is computed from (the same rule as
/// [`crate::migrate::rules::utc_pairs`]).
fn local_of(plan: &TablePlan, utc: &str) -> Option<usize> {
    let base = utc.strip_suffix("UTC")?;
    let names = plan.names();
    let find = |n: &str| names.iter().position(|c| c.eq_ignore_ascii_case(n));
    find(base).or_else(|| base.strip_suffix("Time").and_then(find))
}

impl Deriver {
    /// The filler for `plan` into a target at `to`, or `None` when the
    /// target has no column to fill.
    pub fn new(plan: &TablePlan, to: Version, spec: &DeriveSpec) -> Result<Option<Deriver>> {
        let zone = spec.zone.as_deref().map(SourceZone::parse).transpose()?;
        let copied = plan.names();
        let extra: Vec<&'static Column> = plan
            .table
            .columns_at(to)
            .filter(|c| !copied.iter().any(|n| n.eq_ignore_ascii_case(&c.name)))
            .collect();
        let mut fills = Vec::new();
        let mut first_local = None;
        if zone.is_some() {
            for c in &extra {
                if let Some(local) = local_of(plan, &c.name) {
                    first_local.get_or_insert(local);
                    fills.push((*c, Fill::Utc(local)));
                }
            }
            if let (Some(local), Some(c)) = (
                first_local,
                extra
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case("odsoffset")),
            ) {
                fills.push((*c, Fill::Offset(local)));
            }
        }
        for (name, value) in &spec.constants {
            if let Some(c) = extra.iter().find(|c| c.name.eq_ignore_ascii_case(name)) {
                fills.push((*c, Fill::Const(*value)));
            }
        }
        Ok((!fills.is_empty()).then(|| Deriver {
            fills,
            zone,
            offsets: HashMap::new(),
        }))
    }

    /// The plan the sink writes: the copied columns, then the filled ones.
    pub fn write_plan(&self, plan: &TablePlan) -> TablePlan {
        let mut out = plan.clone();
        for (c, _) in &self.fills {
            out.columns.push(c);
            out.kinds.push(CanonKind::of(c.ty));
        }
        out
    }

    fn offset(&mut self, local: PrimitiveDateTime) -> i32 {
        // Offsets change on whole minutes: one lookup per local minute.
        let minute = local.assume_utc().unix_timestamp().div_euclid(60);
        let zone = self.zone.as_ref().expect("a zone for UTC columns");
        *self
            .offsets
            .entry(minute)
            .or_insert_with(|| zone.offset_of_local(local.replace_second(0).unwrap_or(local)))
    }

    /// `batch` with the filled cells appended to each row.
    pub fn extend(&mut self, batch: &Batch) -> Batch {
        let n = batch.columns();
        // About 24 bytes per filled cell (a timestamp's text).
        let mut out = Batch::with_capacity(
            n + self.fills.len(),
            batch.len(),
            batch.bytes() + batch.len() * self.fills.len() * 24,
        );
        let mut text = String::new();
        for r in 0..batch.len() {
            for c in 0..n {
                out.push_opt(batch.cell(r, c));
            }
            for i in 0..self.fills.len() {
                let cell = match self.fills[i].1 {
                    Fill::Utc(at) => batch.cell(r, at).and_then(parse).map(|l| {
                        let utc = l - time::Duration::seconds(i64::from(self.offset(l)));
                        text.clear();
                        crate::dialect::timestamp_text(utc, &mut text);
                        text.clone()
                    }),
                    Fill::Offset(at) => batch
                        .cell(r, at)
                        .and_then(parse)
                        .map(|l| self.offset(l).to_string()),
                    Fill::Const(v) => Some(v.to_string()),
                };
                out.push_opt(cell.as_deref().map(str::as_bytes));
            }
        }
        out
    }
}

/// A `YYYY-MM-DD hh:mm:ss` cell (fractions ignored); `None` for anything
/// else (MariaDB's zero date, text in a SQLite column).
fn parse(cell: &[u8]) -> Option<PrimitiveDateTime> {
    let b = cell.get(..19)?;
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let mut v = 0u32;
        for &d in &b[r] {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(d - b'0');
        }
        Some(v)
    };
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    let date = time::Date::from_calendar_date(
        num(0..4)? as i32,
        time::Month::try_from(num(5..7)? as u8).ok()?,
        num(8..10)? as u8,
    )
    .ok()?;
    let t =
        time::Time::from_hms(num(11..13)? as u8, num(14..16)? as u8, num(17..19)? as u8).ok()?;
    Some(PrimitiveDateTime::new(date, t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    fn plan(name: &str) -> TablePlan {
        let t = Schema::reference().table(name).unwrap();
        TablePlan::new(t, Version::V30, Version::R2015, None)
    }

    #[test]
    fn utc_columns_and_odsoffset_are_filled_from_their_local_columns() {
        let p = plan("CallDetail");
        let spec = DeriveSpec {
            zone: Some("America/New_York".into()),
            constants: vec![],
        };
        let mut dv = Deriver::new(&p, Version::R2015, &spec).unwrap().unwrap();
        let wp = dv.write_plan(&p);
        let names = wp.names();
        assert_eq!(
            &names[p.columns.len()..],
            [
                "InitiatedDateTimeUTC",
                "ConnectedDateTimeUTC",
                "TerminatedDateTimeUTC",
                "odsoffset"
            ]
        );
        let at = |n: &str| p.names().iter().position(|c| *c == n).unwrap();
        let mut b = Batch::new(p.columns.len());
        for c in 0..p.columns.len() {
            let cell: Option<&[u8]> = if c == at("InitiatedDate") {
                // The repeated autumn hour: the first 01:30 (EDT).
                Some(b"2013-11-03 01:30:00")
            } else if c == at("ConnectedDate") {
                // The missing spring hour: read as EST.
                Some(b"2013-03-10 02:30:00")
            } else {
                None
            };
            b.push_opt(cell);
        }
        let out = dv.extend(&b);
        let n = p.columns.len();
        assert_eq!(out.cell(0, n), Some(&b"2013-11-03 05:30:00"[..]));
        assert_eq!(out.cell(0, n + 1), Some(&b"2013-03-10 07:30:00"[..]));
        assert_eq!(out.cell(0, n + 2), None);
        assert_eq!(out.cell(0, n + 3), Some(&b"-14400"[..]));
        // The copied cells are untouched.
        assert_eq!(
            out.cell(0, at("InitiatedDate")),
            b.cell(0, at("InitiatedDate"))
        );
    }

    #[test]
    fn constants_fill_only_tables_that_have_the_column() {
        let spec = DeriveSpec {
            zone: None,
            constants: vec![("nServiceLevel1".into(), 15)],
        };
        let p = plan("IAgentQueueStats");
        let dv = Deriver::new(&p, Version::R2015, &spec).unwrap().unwrap();
        assert_eq!(dv.write_plan(&p).names().last(), Some(&"nServiceLevel1"));
        assert!(Deriver::new(&plan("CallDetail"), Version::R2015, &spec)
            .unwrap()
            .is_none());
        // A 3.0 target has nothing to fill.
        let z = DeriveSpec {
            zone: Some("UTC".into()),
            constants: vec![],
        };
        let p30 = TablePlan::new(p.table, Version::V30, Version::V30, None);
        assert!(Deriver::new(&p30, Version::V30, &z).unwrap().is_none());
    }

    #[test]
    fn only_well_formed_timestamps_are_read() {
        assert!(parse(b"2013-03-10 02:30:00").is_some());
        assert!(parse(b"2013-03-10 02:30:00.5").is_some());
        assert!(parse(b"0000-00-00 00:00:00").is_none());
        assert!(parse(b"12 s").is_none());
    }
}
