//! The merge-join of two sorted key streams.
//!
//! Both sides yield keys in the same order (relative sort keys, see
//! [`KeyEntry::sort`]), so one pass with one key of look-ahead per side
//! finds every added, removed and changed key; within a key, values are
//! matched by case-folded name. A stream that goes backwards is an error
//! ([`DiffError::Unordered`]) rather than a wrong report.

use super::{DiffError, KeyChange, KeyDiff, Result, ValueDiff};
use std::cmp::Ordering;
use transit_registry::path::fold;
use transit_registry::NamedValue;

/// One key as a side yields it, relative to its region's top key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// The part of the key's [sort key](transit_registry::KeyPath::sort_key)
    /// below the top key: empty for the top itself, else starting with the
    /// separator (or, below the registry root, with the first segment).
    /// Both sides sort by it the same way.
    pub sort: String,
    /// The path below the top key in preserved case (`""` for the top).
    pub name: String,
    /// The key's values.
    pub values: Vec<NamedValue>,
}

/// Joins a region label (`{ds}\Users`) and a relative key name.
pub fn display_key(label: &str, name: &str) -> String {
    match (label.is_empty(), name.is_empty()) {
        (true, true) => "(registry root)".to_string(),
        (true, false) => name.to_string(),
        (false, true) => label.to_string(),
        (false, false) => format!("{label}\\{name}"),
    }
}

/// Fails when a stream's keys do not strictly increase.
struct Ordered<I> {
    inner: I,
    side: char,
    last: Option<String>,
}

impl<I: Iterator<Item = Result<KeyEntry>>> Ordered<I> {
    fn next_entry(&mut self, label: &str) -> Result<Option<KeyEntry>> {
        let Some(entry) = self.inner.next().transpose()? else {
            return Ok(None);
        };
        if let Some(last) = &self.last {
            if entry.sort <= *last {
                return Err(DiffError::Unordered {
                    side: self.side,
                    key: display_key(label, &entry.name),
                });
            }
        }
        self.last = Some(entry.sort.clone());
        Ok(Some(entry))
    }
}

/// Merges side A's and side B's keys of one region, calling `emit` with
/// each difference in sort order. Keys are shown as `label\name`.
pub fn merge_keys<A, B>(
    a: A,
    b: B,
    label: &str,
    emit: &mut dyn FnMut(KeyDiff) -> Result<()>,
) -> Result<()>
where
    A: Iterator<Item = Result<KeyEntry>>,
    B: Iterator<Item = Result<KeyEntry>>,
{
    let mut a = Ordered {
        inner: a,
        side: 'A',
        last: None,
    };
    let mut b = Ordered {
        inner: b,
        side: 'B',
        last: None,
    };
    let mut next_a = a.next_entry(label)?;
    let mut next_b = b.next_entry(label)?;
    loop {
        let order = match (&next_a, &next_b) {
            (None, None) => return Ok(()),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.sort.cmp(&y.sort),
        };
        match order {
            Ordering::Less => {
                let x = next_a.take().expect("A has a key");
                emit(KeyDiff {
                    key: display_key(label, &x.name),
                    change: KeyChange::Removed(x.values),
                })?;
                next_a = a.next_entry(label)?;
            }
            Ordering::Greater => {
                let y = next_b.take().expect("B has a key");
                emit(KeyDiff {
                    key: display_key(label, &y.name),
                    change: KeyChange::Added(y.values),
                })?;
                next_b = b.next_entry(label)?;
            }
            Ordering::Equal => {
                let x = next_a.take().expect("A has a key");
                let y = next_b.take().expect("B has a key");
                let values = diff_values(x.values, y.values);
                if !values.is_empty() {
                    emit(KeyDiff {
                        key: display_key(label, &x.name),
                        change: KeyChange::Changed(values),
                    })?;
                }
                next_a = a.next_entry(label)?;
                next_b = b.next_entry(label)?;
            }
        }
    }
}

/// The differences between one key's values on A (`old`) and on B
/// (`new`), in case-folded name order. Names match case-insensitively; a
/// type change with the same bytes is still a change.
pub fn diff_values(old: Vec<NamedValue>, new: Vec<NamedValue>) -> Vec<ValueDiff> {
    // The common case: identical lists (the store keeps them in name order).
    if old == new {
        return Vec::new();
    }
    let by_name = |values: Vec<NamedValue>| {
        let mut v: Vec<(String, NamedValue)> =
            values.into_iter().map(|v| (fold(&v.name), v)).collect();
        v.sort_by(|x, y| x.0.cmp(&y.0));
        v.into_iter()
    };
    let mut old = by_name(old).peekable();
    let mut new = by_name(new).peekable();
    let mut out = Vec::new();
    loop {
        let order = match (old.peek(), new.peek()) {
            (None, None) => return out,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.0.cmp(&y.0),
        };
        match order {
            Ordering::Less => out.push(ValueDiff::Removed(old.next().expect("peeked").1)),
            Ordering::Greater => out.push(ValueDiff::Added(new.next().expect("peeked").1)),
            Ordering::Equal => {
                let (_, x) = old.next().expect("peeked");
                let (_, y) = new.next().expect("peeked");
                if x.data != y.data {
                    out.push(ValueDiff::Changed {
                        name: x.name,
                        old: x.data,
                        new: y.data,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_registry::ValueData;

    fn v(name: &str, data: ValueData) -> NamedValue {
        NamedValue {
            name: name.into(),
            data,
        }
    }

    #[test]
    fn value_names_match_case_insensitively_and_order_does_not_matter() {
        let old = vec![
            v("b", ValueData::Dword(1)),
            v("A", ValueData::Sz("x".into())),
        ];
        let new = vec![
            v("a", ValueData::Sz("x".into())),
            v("B", ValueData::Dword(2)),
        ];
        assert_eq!(
            diff_values(old, new),
            vec![ValueDiff::Changed {
                name: "b".into(),
                old: ValueData::Dword(1),
                new: ValueData::Dword(2)
            }]
        );
    }

    #[test]
    fn display_key_joins_label_and_name() {
        assert_eq!(display_key("{ds}\\Users", ""), "{ds}\\Users");
        assert_eq!(display_key("{ds}\\Users", "jdoe"), "{ds}\\Users\\jdoe");
        assert_eq!(display_key("", "EIC"), "EIC");
        assert_eq!(display_key("", ""), "(registry root)");
    }
}
