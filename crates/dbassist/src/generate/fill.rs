//! How a column is filled, from its role in `reference.schema`:
//!
//! | role | value |
//! |---|---|
//! | `callid` | the row's call ID (call shapes), a random call's otherwise |
//! | `seq` | the row number + 1 (text columns: `ABC-0000000001`) |
//! | `seqname=X` | `X1`, `X2`, … |
//! | `site` | the site ID |
//! | `time`, `time~`, `time+N` | the row's time; anywhere in its slot; up to N s later |
//! | `agent`, `workgroup`, `entity=X[/K]` | the site's agent/workgroup/`X` of the row's entity |
//! | `line`, `station`, `ext`, `phone`, `code`, `path` | plausible identifiers |
//! | `name`, `firstname`, `lastname`, `words=N` | plausible text |
//! | `pick=a\|b` | one of the list |
//! | `num=A..B` | an integer (a float for float columns) in A..=B |
//! | `bytes=N` | N random bytes |
//! | `ref=T.C` | the key of a row of parent table T, spread evenly |
//!
//! Columns without a role (the 2015 R1 additions) stay NULL.

use super::shape::{call_id, calls, RowContext, Shape};
use super::GenerateOptions;
use crate::dialect::Value;
use crate::schema::{Column, Schema, SqlType};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use time::Duration;

/// A parsed role.
#[derive(Debug, Clone, PartialEq)]
pub enum Role {
    /// The row's call ID.
    CallId,
    /// A unique sequence number; text columns get a prefix.
    Seq,
    /// `X1`, `X2`, …
    SeqName(String),
    /// The site ID.
    Site,
    /// The row's time, shifted by up to `0` seconds, or anywhere in its
    /// slot when `slot` is set.
    Time {
        /// Spread within the slot.
        slot: bool,
        /// Up to this many seconds later.
        later: i64,
    },
    /// An agent of the site.
    Agent,
    /// A workgroup of the site.
    Workgroup,
    /// `NAME<entity / div>`.
    Entity(String, u64),
    /// A line.
    Line,
    /// A station.
    Station,
    /// An extension.
    Ext,
    /// A phone number.
    Phone,
    /// An account code.
    Code,
    /// A recording path.
    Path,
    /// "First Last".
    Name,
    /// A first name.
    FirstName,
    /// A last name.
    LastName,
    /// N words.
    Words(usize),
    /// One of a list.
    Pick(Vec<String>),
    /// A number in a range.
    Num(i64, i64),
    /// Random bytes.
    Bytes(usize),
    /// A parent's key.
    Ref(String, String),
    /// NULL.
    Null,
}

impl Role {
    /// Reads a role; `None` for an unknown one.
    pub fn parse(text: Option<&str>) -> Option<Role> {
        let Some(text) = text else {
            return Some(Role::Null);
        };
        let (word, arg) = match text.split_once('=') {
            Some((w, a)) => (w, Some(a)),
            None => (text, None),
        };
        Some(match (word, arg) {
            ("callid", None) => Role::CallId,
            ("seq", None) => Role::Seq,
            ("seqname", Some(a)) => Role::SeqName(a.into()),
            ("site", None) => Role::Site,
            ("time", None) => Role::Time {
                slot: false,
                later: 0,
            },
            ("time~", None) => Role::Time {
                slot: true,
                later: 0,
            },
            (w, None) if w.starts_with("time+") => Role::Time {
                slot: false,
                later: w[5..].parse().ok()?,
            },
            ("agent", None) => Role::Agent,
            ("workgroup", None) => Role::Workgroup,
            ("entity", Some(a)) => match a.split_once('/') {
                Some((name, div)) => Role::Entity(name.into(), div.parse().ok()?),
                None => Role::Entity(a.into(), 1),
            },
            ("line", None) => Role::Line,
            ("station", None) => Role::Station,
            ("ext", None) => Role::Ext,
            ("phone", None) => Role::Phone,
            ("code", None) => Role::Code,
            ("path", None) => Role::Path,
            ("name", None) => Role::Name,
            ("firstname", None) => Role::FirstName,
            ("lastname", None) => Role::LastName,
            ("words", Some(a)) => Role::Words(a.parse().ok()?),
            ("pick", Some(a)) => Role::Pick(a.split('|').map(str::to_string).collect()),
            ("num", Some(a)) => {
                let (lo, hi) = a.split_once("..")?;
                Role::Num(lo.parse().ok()?, hi.parse().ok()?)
            }
            ("bytes", Some(a)) => Role::Bytes(a.parse().ok()?),
            ("ref", Some(a)) => {
                let (t, c) = a.split_once('.')?;
                Role::Ref(t.into(), c.into())
            }
            _ => return None,
        })
    }
}

const FIRST: [&str; 16] = [
    "Ann", "Bob", "Chen", "Dana", "Emil", "Fatima", "Greg", "Hana", "Ivan", "Jo", "Kofi", "Lena",
    "Mateo", "Nia", "Omar", "Priya",
];
const LAST: [&str; 16] = [
    "Smith", "Garcia", "Nguyen", "Müller", "Rossi", "Okafor", "Kowalski", "Tanaka", "Dubois",
    "Silva", "Jensen", "O'Neil", "Novak", "Haddad", "Kim", "Larsen",
];
const WORDS: [&str; 24] = [
    "queue",
    "transfer",
    "hold",
    "callback",
    "billing",
    "account",
    "renewal",
    "refund",
    "order",
    "status",
    "escalated",
    "survey",
    "priority",
    "agent",
    "customer",
    "wrap",
    "ivr",
    "menu",
    "option",
    "voicemail",
    "dialer",
    "campaign",
    "promise",
    "update",
];

/// Fills columns; one per table, holding its parents' row counts.
pub struct Filler<'a> {
    opts: &'a GenerateOptions,
    rows: u64,
}

impl<'a> Filler<'a> {
    /// A filler for a table of `rows` rows.
    pub fn new(opts: &'a GenerateOptions, rows: u64) -> Filler<'a> {
        Filler { opts, rows }
    }

    /// The value of `column` (with `role`) for the row `ctx`.
    pub fn value(
        &self,
        column: &Column,
        role: &Role,
        ctx: &RowContext,
        rng: &mut ChaCha8Rng,
    ) -> Value {
        let o = self.opts;
        let value = match role {
            Role::Null => Value::Null,
            Role::CallId => {
                let call = ctx
                    .call
                    .unwrap_or_else(|| rng.gen_range(0..calls(o).max(1)));
                Value::Text(call_id(o, call))
            }
            Role::Seq => seq_value(column, ctx.n),
            Role::SeqName(prefix) => Value::Text(format!("{prefix}{}", ctx.n + 1)),
            Role::Site => Value::Int(i64::from(ctx.site)),
            Role::Time { slot, later } => {
                let mut t = ctx.time;
                if *slot && ctx.slot_seconds > 1 {
                    t += Duration::seconds(rng.gen_range(0..ctx.slot_seconds));
                }
                if *later > 0 {
                    t += Duration::seconds(rng.gen_range(0..=*later));
                }
                Value::Timestamp(t)
            }
            Role::Agent => {
                let e = ctx.entity.unwrap_or_else(|| rng.gen_range(0..6));
                Value::Text(format!("s{}agent{e}", ctx.site))
            }
            Role::Workgroup => {
                let e = ctx.entity.map_or_else(|| rng.gen_range(0..3), |e| e % 3);
                Value::Text(format!("Workgroup{e}"))
            }
            Role::Entity(name, div) => {
                let e = ctx.entity.unwrap_or(ctx.n);
                Value::Text(format!("{name}{}", e / div.max(&1)))
            }
            Role::Line => Value::Text(format!("s{}line{}", ctx.site, rng.gen_range(0..8))),
            Role::Station => Value::Text(format!("s{}station{}", ctx.site, rng.gen_range(0..40))),
            Role::Ext => Value::Text(rng.gen_range(1000..9999).to_string()),
            Role::Phone => Value::Text(format!("+1317{:07}", rng.gen_range(0..10_000_000))),
            Role::Code => Value::Text(format!("AC{:04}", rng.gen_range(0..10_000))),
            Role::Path => Value::Text(format!(
                "\\\\recsrv{}\\recordings\\{}\\{:02}\\{:02}\\{}.wav",
                ctx.site,
                ctx.time.year(),
                u8::from(ctx.time.month()),
                ctx.time.day(),
                ctx.n
            )),
            Role::Name => Value::Text(format!(
                "{} {}",
                FIRST[rng.gen_range(0..FIRST.len())],
                LAST[rng.gen_range(0..LAST.len())]
            )),
            Role::FirstName => Value::Text(FIRST[rng.gen_range(0..FIRST.len())].into()),
            Role::LastName => Value::Text(LAST[rng.gen_range(0..LAST.len())].into()),
            Role::Words(n) => {
                let mut text = String::new();
                for i in 0..*n {
                    if i > 0 {
                        text.push(' ');
                    }
                    text.push_str(WORDS[rng.gen_range(0..WORDS.len())]);
                }
                Value::Text(text)
            }
            Role::Pick(list) => Value::Text(list[rng.gen_range(0..list.len())].clone()),
            Role::Num(lo, hi) => {
                if column.ty == SqlType::Float {
                    let x: f64 = rng.gen_range(*lo as f64..=*hi as f64);
                    Value::Float((x * 100.0).round() / 100.0)
                } else {
                    Value::Int(rng.gen_range(*lo..=*hi))
                }
            }
            Role::Bytes(n) => Value::Bytes((0..*n).map(|_| rng.gen()).collect()),
            Role::Ref(table, col) => {
                let schema = Schema::reference();
                let parent = schema.table(table).expect("checked ref table");
                let parent_rows = Shape::parse(&parent.shape).map_or(0, |s| s.rows(o));
                if parent_rows == 0 {
                    Value::Null
                } else {
                    let r =
                        ((ctx.n as u128 * parent_rows as u128) / self.rows.max(1) as u128) as u64;
                    let pcol = parent.column(col).expect("checked ref column");
                    seq_value(pcol, r.min(parent_rows - 1))
                }
            }
        };
        fit(column, value)
    }
}

/// The `seq` value of row `n` for `column`.
pub fn seq_value(column: &Column, n: u64) -> Value {
    if column.ty.is_integer() {
        Value::Int(n as i64 + 1)
    } else {
        let prefix: String = column
            .name
            .chars()
            .take(3)
            .collect::<String>()
            .to_ascii_uppercase();
        Value::Text(format!("{prefix}-{:010}", n + 1))
    }
}

/// Cuts text to the column's length.
fn fit(column: &Column, value: Value) -> Value {
    match (value, column.ty.max_chars()) {
        (Value::Text(s), Some(max)) if s.chars().count() > max as usize => {
            Value::Text(s.chars().take(max as usize).collect())
        }
        (v, _) => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_in_the_schema_parses_and_refs_point_at_seq_keys() {
        for table in &Schema::reference().tables {
            assert!(Shape::parse(&table.shape).is_some(), "{}", table.name);
            for column in &table.columns {
                let role = Role::parse(column.role.as_deref());
                assert!(role.is_some(), "{}.{}", table.name, column.name);
                if let Some(Role::Ref(t, c)) = role {
                    let parent = Schema::reference().table(&t).unwrap();
                    let pc = parent.column(&c).unwrap();
                    assert_eq!(pc.role.as_deref(), Some("seq"), "{t}.{c}");
                }
            }
        }
        assert_eq!(Role::parse(Some("wibble")), None);
        assert_eq!(Role::parse(Some("num=1..x")), None);
    }
}
