//! Read operations shared by the registry, snapshots and write transactions.

use crate::error::{RegistryError, Result};
use crate::path::{fold, KeyPath, SORT_SEPARATOR};
use crate::value::{ValueData, ValueKind};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::VecDeque;

/// A named value as stored (the default value has the empty name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedValue {
    /// The value name in preserved case; empty for the default value.
    pub name: String,
    /// The data.
    pub data: ValueData,
}

/// One key with all its values, as a subtree walk yields it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key's path in preserved case.
    pub path: KeyPath,
    /// Last-write time, in milliseconds since the Unix epoch.
    pub modified_ms: i64,
    /// The values, in the order they were stored.
    pub values: Vec<NamedValue>,
}

/// The inclusive lower and exclusive upper sort-key bounds of a subtree.
/// The upper bound of the root's subtree is a BLOB, which SQLite orders
/// after every TEXT.
pub(crate) fn subtree_bounds(path: &KeyPath) -> (String, SqlValue) {
    let lower = path.sort_key();
    let upper = if path.is_root() {
        SqlValue::Blob(vec![0xff])
    } else {
        let mut up = lower.clone();
        up.push(char::from_u32(SORT_SEPARATOR as u32 + 1).expect("valid char"));
        SqlValue::Text(up)
    };
    (lower, upper)
}

pub(crate) fn decode_value(kind: u32, bytes: &[u8], key: &str, name: &str) -> Result<ValueData> {
    ValueData::from_windows_bytes(ValueKind::for_code(kind), bytes).ok_or_else(|| {
        RegistryError::Corrupt(format!(
            "value `{name}` under `{key}` has undecodable data of type {kind}"
        ))
    })
}

/// Read access to a registry. Implemented by [`Registry`](super::Registry)
/// (latest committed state), [`Snapshot`](super::Snapshot) (a fixed point
/// in time) and [`WriteTxn`](super::WriteTxn) (including its own
/// uncommitted changes).
pub trait RegistryRead {
    /// The underlying connection; an implementation detail.
    #[doc(hidden)]
    fn conn(&self) -> &Connection;

    /// The key's row id, if the key exists.
    #[doc(hidden)]
    fn key_id(&self, path: &KeyPath) -> Result<Option<i64>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT id FROM keys WHERE sort_key = ?1")?
            .query_row([path.sort_key()], |r| r.get(0))
            .optional()?)
    }

    /// True when the key exists.
    fn key_exists(&self, path: &KeyPath) -> Result<bool> {
        Ok(self.key_id(path)?.is_some())
    }

    /// The key's last-write time in milliseconds since the Unix epoch.
    fn key_modified(&self, path: &KeyPath) -> Result<i64> {
        self.conn()
            .prepare_cached("SELECT modified FROM keys WHERE sort_key = ?1")?
            .query_row([path.sort_key()], |r| r.get(0))
            .optional()?
            .ok_or_else(|| RegistryError::KeyNotFound(path.to_string()))
    }

    /// The key's path as stored (preserved case), if it exists.
    fn stored_path(&self, path: &KeyPath) -> Result<Option<KeyPath>> {
        let text: Option<String> = self
            .conn()
            .prepare_cached("SELECT path FROM keys WHERE sort_key = ?1")?
            .query_row([path.sort_key()], |r| r.get(0))
            .optional()?;
        Ok(text.map(|t| KeyPath::from_stored(&t)))
    }

    /// A value's data; `None` when the key or value does not exist. The
    /// empty name is the default value.
    fn get_value(&self, path: &KeyPath, name: &str) -> Result<Option<ValueData>> {
        let row: Option<(u32, Vec<u8>)> = self
            .conn()
            .prepare_cached(
                "SELECT v.kind, v.data FROM vals v JOIN keys k ON k.id = v.key_id
                 WHERE k.sort_key = ?1 AND v.name_fold = ?2",
            )?
            .query_row(params![path.sort_key(), fold(name)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        row.map(|(kind, bytes)| decode_value(kind, &bytes, &path.to_string(), name))
            .transpose()
    }

    /// A value that must exist (else [`RegistryError::ValueNotFound`]).
    fn require_value(&self, path: &KeyPath, name: &str) -> Result<ValueData> {
        self.get_value(path, name)?
            .ok_or_else(|| RegistryError::ValueNotFound {
                key: path.to_string(),
                name: name.to_string(),
            })
    }

    /// A value that must exist and have the given kind.
    fn get_typed(&self, path: &KeyPath, name: &str, kind: ValueKind) -> Result<ValueData> {
        let data = self.require_value(path, name)?;
        if data.kind() != kind {
            return Err(wrong_type(path, name, kind, &data));
        }
        Ok(data)
    }

    /// A `REG_SZ` or `REG_EXPAND_SZ` value as a string.
    fn get_string(&self, path: &KeyPath, name: &str) -> Result<String> {
        match self.require_value(path, name)? {
            ValueData::Sz(s) | ValueData::ExpandSz(s) => Ok(s),
            other => Err(wrong_type(path, name, ValueKind::Sz, &other)),
        }
    }

    /// The key's values, default first, then by case-insensitive name.
    fn values(&self, path: &KeyPath) -> Result<Vec<NamedValue>> {
        let id = self
            .key_id(path)?
            .ok_or_else(|| RegistryError::KeyNotFound(path.to_string()))?;
        values_of(self.conn(), id, &path.to_string())
    }

    /// The names of the key's values, in no particular order: cheaper than
    /// [`values`](Self::values) when the data is not needed.
    fn value_names(&self, path: &KeyPath) -> Result<Vec<String>> {
        let id = self
            .key_id(path)?
            .ok_or_else(|| RegistryError::KeyNotFound(path.to_string()))?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT name FROM vals WHERE key_id = ?1")?;
        let names = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        Ok(names.collect::<rusqlite::Result<Vec<String>>>()?)
    }

    /// The names of the key's direct subkeys, in case-insensitive order.
    fn subkeys(&self, path: &KeyPath) -> Result<Vec<String>> {
        let id = self
            .key_id(path)?
            .ok_or_else(|| RegistryError::KeyNotFound(path.to_string()))?;
        let mut stmt = self
            .conn()
            .prepare_cached("SELECT path FROM keys WHERE parent = ?1 ORDER BY sort_key")?;
        let rows = stmt.query_map([id], |r| r.get::<_, String>(0))?;
        let mut names = Vec::new();
        for row in rows {
            let full = row?;
            let name = full.rsplit('\\').next().unwrap_or(&full).to_string();
            names.push(name);
        }
        Ok(names)
    }

    /// Counts the keys and values in a subtree (including its top key).
    fn count(&self, path: &KeyPath) -> Result<(u64, u64)> {
        let (lower, upper) = subtree_bounds(path);
        let keys: u64 = self
            .conn()
            .prepare_cached("SELECT count(*) FROM keys WHERE sort_key >= ?1 AND sort_key < ?2")?
            .query_row(params![lower, upper], |r| r.get(0))?;
        let values: u64 = self
            .conn()
            .prepare_cached(
                "SELECT count(*) FROM vals WHERE key_id IN
                 (SELECT id FROM keys WHERE sort_key >= ?1 AND sort_key < ?2)",
            )?
            .query_row(params![lower, upper], |r| r.get(0))?;
        Ok((keys, values))
    }

    /// Streams a subtree, key by key, depth-first with siblings in
    /// case-insensitive order, starting with `path` itself. Memory stays
    /// bounded: keys are fetched a page at a time. A missing `path` yields
    /// nothing.
    fn walk(&self, path: &KeyPath) -> SubtreeIter<'_> {
        SubtreeIter::new(self.conn(), path)
    }
}

fn wrong_type(path: &KeyPath, name: &str, expected: ValueKind, found: &ValueData) -> RegistryError {
    RegistryError::WrongType {
        key: path.to_string(),
        name: name.to_string(),
        expected,
        found: found.kind(),
    }
}

fn values_of(conn: &Connection, key_id: i64, key: &str) -> Result<Vec<NamedValue>> {
    // In the order they were stored (as regedit keeps them); values from
    // before that order was kept have seq 0 and read in name order.
    let mut stmt = conn.prepare_cached(
        "SELECT name, kind, data FROM vals WHERE key_id = ?1 ORDER BY seq, name_fold",
    )?;
    let mut rows = stmt.query([key_id])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        let name: String = row.get(0)?;
        let kind: u32 = row.get(1)?;
        let bytes = row
            .get_ref(2)?
            .as_blob()
            .map_err(|e| RegistryError::Corrupt(format!("value `{name}` under `{key}`: {e}")))?;
        let data = decode_value(kind, bytes, key, &name)?;
        out.push(NamedValue { name, data });
    }
    Ok(out)
}

/// How many keys a [`SubtreeIter`] fetches per query.
const PAGE: i64 = 512;

/// A streaming, paged iterator over a subtree; see [`RegistryRead::walk`].
pub struct SubtreeIter<'c> {
    conn: &'c Connection,
    upper: SqlValue,
    /// The last sort key returned, or `None` before the first page.
    after: Option<String>,
    lower: String,
    buffer: VecDeque<KeyRecord>,
    done: bool,
}

impl<'c> SubtreeIter<'c> {
    fn new(conn: &'c Connection, path: &KeyPath) -> SubtreeIter<'c> {
        let (lower, upper) = subtree_bounds(path);
        SubtreeIter {
            conn,
            upper,
            after: None,
            lower,
            buffer: VecDeque::new(),
            done: false,
        }
    }

    /// Skips every key up to and including `sort_key`.
    pub(crate) fn resume_after(&mut self, sort_key: String) {
        self.after = Some(sort_key);
    }

    fn fill(&mut self) -> Result<()> {
        let (sql, from) = match &self.after {
            None => (
                "SELECT id, sort_key, path, modified FROM keys
                 WHERE sort_key >= ?1 AND sort_key < ?2 ORDER BY sort_key LIMIT ?3",
                self.lower.clone(),
            ),
            Some(after) => (
                "SELECT id, sort_key, path, modified FROM keys
                 WHERE sort_key > ?1 AND sort_key < ?2 ORDER BY sort_key LIMIT ?3",
                after.clone(),
            ),
        };
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query(params![from, self.upper, PAGE])?;
        let mut page = Vec::new();
        while let Some(row) = rows.next()? {
            let id: i64 = row.get(0)?;
            let sort_key: String = row.get(1)?;
            let path: String = row.get(2)?;
            let modified: i64 = row.get(3)?;
            page.push((id, sort_key, path, modified));
        }
        drop(rows);
        if (page.len() as i64) < PAGE {
            self.done = true;
        }
        for (id, sort_key, path, modified_ms) in page {
            let values = values_of(self.conn, id, &path)?;
            self.buffer.push_back(KeyRecord {
                path: KeyPath::from_stored(&path),
                modified_ms,
                values,
            });
            self.after = Some(sort_key);
        }
        Ok(())
    }
}

impl Iterator for SubtreeIter<'_> {
    type Item = Result<KeyRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buffer.is_empty() && !self.done {
            if let Err(e) = self.fill() {
                self.done = true;
                return Some(Err(e));
            }
        }
        self.buffer.pop_front().map(Ok)
    }
}
