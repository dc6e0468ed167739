//! How many rows a table gets, and what each row stands for (its site,
//! time, entity and call), from the table's `rows=` shape:
//!
//! - `call:A/B`: A rows per B calls (`call:1`, `call:2`, `call:1/4`); each
//!   row belongs to a call and takes its site and time;
//! - `slot:E:M`: per site and day, M time slots (48 = half hours) times E
//!   entities (agents, lines, workgroups…);
//! - `fixed:E`: E rows per site (current-state configuration);
//! - `total:N`: N rows in all (type tables, surveys);
//! - `none`: the generator leaves the table empty.
//!
//! Calls are numbered 0..sites×days×calls_per_day, day by day and site by
//! site; a call's time is a pure function of the seed and its number, so
//! every table derived from calls agrees on it.

use super::GenerateOptions;
use time::{Duration, PrimitiveDateTime};

/// A table's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `per` rows per `of` calls.
    Call {
        /// Rows…
        per: u64,
        /// …per this many calls.
        of: u64,
    },
    /// `entities` rows in each of `slots` slots per site and day.
    Slot {
        /// Entities per slot.
        entities: u64,
        /// Slots per day.
        slots: u64,
    },
    /// `entities` rows per site.
    Fixed {
        /// Rows per site.
        entities: u64,
    },
    /// `rows` rows in all.
    Total {
        /// Rows.
        rows: u64,
    },
    /// No rows.
    None,
}

/// What one generated row stands for.
#[derive(Debug, Clone, Copy)]
pub struct RowContext {
    /// The row's number within its table (0-based).
    pub n: u64,
    /// Its site ID.
    pub site: u16,
    /// Its local time.
    pub time: PrimitiveDateTime,
    /// The length of its time slot in seconds (for `time~`).
    pub slot_seconds: i64,
    /// Its entity number within the site, for slot and fixed shapes.
    pub entity: Option<u64>,
    /// Its call, for call shapes.
    pub call: Option<u64>,
}

impl Shape {
    /// Reads a `rows=` value.
    pub fn parse(text: &str) -> Option<Shape> {
        let mut parts = text.split(':');
        let kind = parts.next()?;
        let shape = match kind {
            "none" => Shape::None,
            "call" => {
                let ratio = parts.next()?;
                let (per, of) = match ratio.split_once('/') {
                    Some((p, o)) => (p.parse().ok()?, o.parse().ok()?),
                    None => (ratio.parse().ok()?, 1),
                };
                Shape::Call { per, of }
            }
            "slot" => Shape::Slot {
                entities: parts.next()?.parse().ok()?,
                slots: parts.next()?.parse().ok()?,
            },
            "fixed" => Shape::Fixed {
                entities: parts.next()?.parse().ok()?,
            },
            "total" => Shape::Total {
                rows: parts.next()?.parse().ok()?,
            },
            _ => return None,
        };
        if parts.next().is_some() {
            return None;
        }
        match shape {
            Shape::Call { per: 0, .. } | Shape::Call { of: 0, .. } => None,
            Shape::Slot { slots: 0, .. } => None,
            _ => Some(shape),
        }
    }

    /// How many rows (before planted ones).
    pub fn rows(self, o: &GenerateOptions) -> u64 {
        let sites = u64::from(o.sites);
        let days = u64::from(o.days);
        match self {
            Shape::Call { per, of } => calls(o) * per / of,
            Shape::Slot { entities, slots } => sites * days * slots * entities,
            Shape::Fixed { entities } => sites * entities,
            Shape::Total { rows } => rows,
            Shape::None => 0,
        }
    }

    /// Row `n`'s context.
    pub fn row(self, o: &GenerateOptions, n: u64) -> RowContext {
        let sites = u64::from(o.sites);
        let start = o.start.midnight();
        match self {
            Shape::Call { per, of } => {
                let call = n * of / per;
                RowContext {
                    n,
                    site: call_site(o, call),
                    time: call_time(o, call),
                    slot_seconds: 1,
                    entity: None,
                    call: Some(call),
                }
            }
            Shape::Slot { entities, slots } => {
                let e = n % entities;
                let slot = (n / entities) % slots;
                let site = (n / (entities * slots)) % sites;
                let day = n / (entities * slots * sites);
                let slot_seconds = 86_400 / slots as i64;
                RowContext {
                    n,
                    site: site as u16 + 1,
                    time: start
                        + Duration::days(day as i64)
                        + Duration::seconds(slot as i64 * slot_seconds),
                    slot_seconds,
                    entity: Some(e),
                    call: None,
                }
            }
            Shape::Fixed { entities } => RowContext {
                n,
                site: (n / entities.max(1)) as u16 + 1,
                time: start + Duration::minutes((n % entities.max(1)) as i64),
                slot_seconds: 60,
                entity: Some(n % entities.max(1)),
                call: None,
            },
            Shape::Total { .. } | Shape::None => RowContext {
                n,
                site: (n % sites) as u16 + 1,
                time: start + Duration::minutes(n as i64),
                slot_seconds: 60,
                entity: None,
                call: None,
            },
        }
    }
}

/// The number of calls.
pub fn calls(o: &GenerateOptions) -> u64 {
    u64::from(o.sites) * u64::from(o.days) * u64::from(o.calls_per_day)
}

/// The site of call `c`.
pub fn call_site(o: &GenerateOptions, c: u64) -> u16 {
    ((c / u64::from(o.calls_per_day)) % u64::from(o.sites)) as u16 + 1
}

/// The local time of call `c`: its day, within business hours (07:00 to
/// 20:00), spread evenly with a jitter from the seed.
pub fn call_time(o: &GenerateOptions, c: u64) -> PrimitiveDateTime {
    let per_day = u64::from(o.calls_per_day);
    let day = c / (per_day * u64::from(o.sites));
    let k = c % per_day;
    let span = 13 * 3600;
    let step = (span / per_day).max(1);
    let jitter = mix(o.seed ^ 0xca11, c) % step;
    o.start.midnight()
        + Duration::days(day as i64)
        + Duration::seconds(7 * 3600 + (k * step + jitter) as i64 % span as i64)
}

/// The vendor-like call ID of call `c` (at most 22 characters).
pub fn call_id(o: &GenerateOptions, c: u64) -> String {
    format!("{:012}{:02}", 1_000_000_000 + c, call_site(o, c) % 100)
}

/// SplitMix64 over a seed and a number: a stable hash.
pub fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed.wrapping_add(n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> GenerateOptions {
        GenerateOptions {
            sites: 3,
            days: 2,
            calls_per_day: 10,
            ..GenerateOptions::default()
        }
    }

    #[test]
    fn shapes_count_rows() {
        let o = opts();
        assert_eq!(Shape::parse("call:1/4").unwrap().rows(&o), 15);
        assert_eq!(Shape::parse("call:2").unwrap().rows(&o), 120);
        assert_eq!(Shape::parse("slot:6:48").unwrap().rows(&o), 3 * 2 * 48 * 6);
        assert_eq!(Shape::parse("fixed:8").unwrap().rows(&o), 24);
        assert_eq!(Shape::parse("total:12").unwrap().rows(&o), 12);
        assert_eq!(Shape::parse("slot:1"), None);
        assert_eq!(Shape::parse("call:0"), None);
    }

    #[test]
    fn calls_have_stable_sites_times_and_ids() {
        let o = opts();
        assert_eq!(call_site(&o, 0), 1);
        assert_eq!(call_site(&o, 10), 2);
        assert_eq!(call_site(&o, 30), 1);
        let t = call_time(&o, 35);
        assert_eq!(t.date(), o.start.next_day().unwrap());
        assert!(call_id(&o, 35).len() <= 22);
        // Two rows per call share the call.
        let s = Shape::parse("call:2").unwrap();
        assert_eq!(s.row(&o, 7).call, Some(3));
    }
}
