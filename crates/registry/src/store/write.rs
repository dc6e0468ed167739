//! All-or-nothing write transactions.

use super::read::{subtree_bounds, RegistryRead};
use crate::error::{RegistryError, Result};
use crate::path::{fold, KeyPath};
use crate::value::ValueData;
use rusqlite::{params, Connection, OptionalExtension, Statement};
use std::collections::HashSet;

/// A key's handle inside one write transaction, for fast repeated writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyId(i64);

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A write transaction. Nothing is visible to other connections until
/// [`commit`](WriteTxn::commit); dropping it without committing rolls every
/// change back. Reads through it see its own changes.
pub struct WriteTxn<'c> {
    tx: &'c Connection,
    /// The hot statement of bulk loads, prepared once per transaction.
    upsert_value: Statement<'c>,
    /// Reused encoding buffer for value data.
    buf: Vec<u8>,
    /// Set once COMMIT or ROLLBACK has run.
    finished: bool,
    now: i64,
    /// Keys that existed before the transaction and whose last-write time
    /// must be set at commit.
    touched: HashSet<i64>,
    /// The largest key id when the transaction began. A key with a larger
    /// id was created by it, stamped with `now` already.
    last_old_id: i64,
    /// The last key resolved by path, to skip lookups in bulk loads.
    last_key: Option<(String, i64)>,
    /// The key last given a value and a `seq` above every one of its
    /// values' (a new value goes there). Values are only added through
    /// [`set_value_at`](Self::set_value_at) while the transaction holds the
    /// write lock, so the number stays above them; a replaced value keeps
    /// its place, leaving a gap, which ordering does not mind.
    next_seq: Option<(i64, i64)>,
    /// The keys resolved or created last, root first: the ancestors of the
    /// last key and itself, as (sort key, id, stored path). A bulk load
    /// walks depth-first, so the next new key's parent is almost always
    /// here, which spares two lookups per new key. Cleared by deletes.
    recent: Vec<(String, i64, String)>,
    /// The last key looked up through [`RegistryRead::key_id`] (as a
    /// rule's read does before the key is written): its sort key, and its
    /// id and stored path if it exists. Writing that key next skips the
    /// second lookup. Cleared by every insert and delete.
    looked_up: std::cell::RefCell<Option<LookedUp>>,
}

impl<'c> WriteTxn<'c> {
    pub(super) fn begin(conn: &'c mut Connection) -> Result<WriteTxn<'c>> {
        // `&mut` proves no other statement of this connection is in flight;
        // from here on the transaction only needs shared access.
        let conn: &'c Connection = conn;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        // A new value goes after the key's others (regedit keeps values in
        // the order they were stored); a replaced one keeps its place.
        // The new value's place (`seq`) comes from `next_seq`, so a bulk
        // load does not look up the key's largest `seq` once per value.
        const UPSERT: &str =
            "INSERT INTO vals(key_id, name_fold, name, kind, data, seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(key_id, name_fold) DO UPDATE
             SET name = excluded.name, kind = excluded.kind, data = excluded.data";
        let prepared = conn.prepare(UPSERT).and_then(|stmt| {
            let last: i64 =
                conn.query_row("SELECT coalesce(max(id), 0) FROM keys", [], |r| r.get(0))?;
            Ok((stmt, last))
        });
        let (upsert_value, last_old_id) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(e.into());
            }
        };
        Ok(WriteTxn {
            tx: conn,
            upsert_value,
            buf: Vec::new(),
            finished: false,
            now: now_millis(),
            touched: HashSet::new(),
            last_old_id,
            last_key: None,
            next_seq: None,
            recent: Vec::new(),
            looked_up: std::cell::RefCell::new(None),
        })
    }

    /// Creates the key and any missing ancestors; returns its handle.
    pub fn create_key(&mut self, path: &KeyPath) -> Result<KeyId> {
        let sort_key = path.sort_key();
        if let Some((last, id)) = &self.last_key {
            if *last == sort_key {
                return Ok(KeyId(*id));
            }
        }
        let (id, created) = self.ensure_key(path, &sort_key)?;
        if created {
            // A new key has no values yet: its first one takes seq 1.
            self.next_seq = Some((id, 1));
        }
        self.last_key = Some((sort_key, id));
        Ok(KeyId(id))
    }

    /// The key's id and stored path, creating it (and its ancestors) if
    /// missing; `true` when this call created it. Leaves `recent` holding
    /// the key's ancestors and the key.
    fn ensure_key(&mut self, path: &KeyPath, sort_key: &str) -> Result<(i64, bool)> {
        if let Some(at) = self.recent.iter().position(|(k, _, _)| k == sort_key) {
            self.recent.truncate(at + 1);
            return Ok((self.recent[at].1, false));
        }
        let known = match self.looked_up.take() {
            Some((key, found)) if key == sort_key => Some(found),
            _ => None,
        };
        let existing = match known {
            Some(found) => found,
            None => self.find_key(sort_key)?,
        };
        if let Some((id, stored)) = existing {
            self.remember(sort_key, id, stored);
            return Ok((id, false));
        }
        // The root always exists, so a missing key has a parent.
        let parent = path.parent().expect("the root key always exists");
        let (parent_id, _) = self.ensure_key(&parent, &parent.sort_key())?;
        // Existing ancestors keep their stored case; only the new segment
        // takes the caller's. `ensure_key` left the parent last in `recent`.
        let parent_path = &self.recent.last().expect("the parent was just resolved").2;
        let name = path.name().expect("a non-root key has a name");
        let stored = if parent_path.is_empty() {
            name.to_string()
        } else {
            format!("{parent_path}\\{name}")
        };
        self.tx
            .prepare_cached(
                "INSERT INTO keys(parent, sort_key, path, modified) VALUES(?1, ?2, ?3, ?4)",
            )?
            .execute(params![parent_id, sort_key, stored, self.now])?;
        self.looked_up.replace(None);
        self.touch(parent_id);
        let id = self.tx.last_insert_rowid();
        self.recent.push((sort_key.to_string(), id, stored));
        Ok((id, true))
    }

    /// The id and stored path of the key with this sort key, if it exists.
    fn find_key(&self, sort_key: &str) -> Result<Option<(i64, String)>> {
        Ok(self
            .tx
            .prepare_cached("SELECT id, path FROM keys WHERE sort_key = ?1")?
            .query_row([sort_key], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    /// Marks a key changed. Keys this transaction created carry its time
    /// already, so only older ones are stamped at commit.
    fn touch(&mut self, id: i64) {
        if id <= self.last_old_id {
            self.touched.insert(id);
        }
    }

    /// Makes `recent` the chain of the key's ancestors that it already
    /// holds, then the key itself.
    fn remember(&mut self, sort_key: &str, id: i64, stored: String) {
        // An ancestor's sort key is a prefix of this one's, one segment
        // per level; keep the entries that are ancestors of `path`.
        let keep = self
            .recent
            .iter()
            .take_while(|(k, _, _)| {
                sort_key.len() > k.len()
                    && sort_key.starts_with(k.as_str())
                    && (k.is_empty()
                        || sort_key[k.len()..].starts_with(crate::path::SORT_SEPARATOR))
            })
            .count();
        self.recent.truncate(keep);
        self.recent.push((sort_key.to_string(), id, stored));
    }

    /// Sets a value on a key handle from [`create_key`](Self::create_key).
    /// The empty name is the default value.
    pub fn set_value_at(&mut self, key: KeyId, name: &str, data: &ValueData) -> Result<()> {
        if let Err(source) = data.validate() {
            let key_path: String = self
                .tx
                .query_row("SELECT path FROM keys WHERE id = ?1", [key.0], |r| r.get(0))
                .unwrap_or_default();
            return Err(RegistryError::InvalidValue {
                key: key_path,
                name: name.to_string(),
                source,
            });
        }
        self.buf.clear();
        data.append_windows_bytes(&mut self.buf);
        let seq = match self.next_seq {
            Some((id, next)) if id == key.0 => next,
            _ => self
                .tx
                .prepare_cached("SELECT coalesce(max(seq), 0) + 1 FROM vals WHERE key_id = ?1")?
                .query_row([key.0], |r| r.get(0))?,
        };
        self.upsert_value.execute(params![
            key.0,
            fold(name),
            name,
            data.kind().code(),
            self.buf,
            seq
        ])?;
        self.next_seq = Some((key.0, seq + 1));
        self.touch(key.0);
        Ok(())
    }

    /// Sets a value, creating the key (and its ancestors) if needed.
    pub fn set_value(&mut self, path: &KeyPath, name: &str, data: &ValueData) -> Result<()> {
        if let Err(source) = data.validate() {
            return Err(RegistryError::InvalidValue {
                key: path.to_string(),
                name: name.to_string(),
                source,
            });
        }
        let key = self.create_key(path)?;
        self.set_value_at(key, name, data)
    }

    /// Deletes a value; returns whether it existed.
    pub fn delete_value(&mut self, path: &KeyPath, name: &str) -> Result<bool> {
        let Some(id) = self.key_id(path)? else {
            return Ok(false);
        };
        let n = self
            .tx
            .prepare_cached("DELETE FROM vals WHERE key_id = ?1 AND name_fold = ?2")?
            .execute(params![id, fold(name)])?;
        if n > 0 {
            self.touch(id);
        }
        Ok(n > 0)
    }

    /// Deletes a key with its whole subtree; returns whether it existed.
    /// Deleting the root empties the registry but keeps the root key.
    pub fn delete_key(&mut self, path: &KeyPath) -> Result<bool> {
        let Some(id) = self.key_id(path)? else {
            return Ok(false);
        };
        let (lower, upper) = subtree_bounds(path);
        self.tx.execute(
            "DELETE FROM vals WHERE key_id IN
             (SELECT id FROM keys WHERE sort_key >= ?1 AND sort_key < ?2)",
            params![lower, upper],
        )?;
        self.tx.execute(
            "DELETE FROM keys WHERE sort_key >= ?1 AND sort_key < ?2 AND parent IS NOT NULL",
            params![lower, upper],
        )?;
        self.last_key = None;
        self.recent.clear();
        self.looked_up.replace(None);
        let parent_or_root = path.parent().unwrap_or_default();
        if let Some(pid) = self.key_id(&parent_or_root)? {
            self.touch(pid);
        }
        if path.is_root() {
            self.touch(id);
        }
        Ok(true)
    }

    /// Copies the subtree at `from` (its values and all descendants) to
    /// `to`, overwriting same-named values there. The two trees must not
    /// overlap. Returns the number of values copied.
    pub fn copy_tree(&mut self, from: &KeyPath, to: &KeyPath) -> Result<u64> {
        if to.starts_with(from) || from.starts_with(to) {
            return Err(RegistryError::Invalid(format!(
                "cannot copy `{from}` to `{to}`: the trees overlap"
            )));
        }
        if !self.key_exists(from)? {
            return Err(RegistryError::KeyNotFound(from.to_string()));
        }
        // Pages are materialised before writing, so no statement reads
        // while another writes; the trees are disjoint, so writes never
        // land in the range being walked.
        let mut copied = 0;
        let mut records = Vec::new();
        let mut walk = SubtreeCursor::new(from);
        while walk.next_page(self, &mut records)? {
            for record in records.drain(..) {
                let dest = record
                    .path
                    .rebase(from, to)
                    .expect("walked keys lie below the source");
                let key = self.create_key(&dest)?;
                for v in &record.values {
                    self.set_value_at(key, &v.name, &v.data)?;
                    copied += 1;
                }
            }
        }
        Ok(copied)
    }

    /// Makes every change durable and visible, stamping the last-write time
    /// of each key that changed.
    /// If stamping or COMMIT fails, every change is rolled back.
    pub fn commit(mut self) -> Result<()> {
        {
            let mut stmt = self
                .tx
                .prepare_cached("UPDATE keys SET modified = ?1 WHERE id = ?2")?;
            // In id order: the updates then walk the table once instead
            // of jumping to a random page for each key.
            let mut touched: Vec<i64> = self.touched.iter().copied().collect();
            touched.sort_unstable();
            for id in &touched {
                stmt.execute(params![self.now, id])?;
            }
        }
        self.tx.execute_batch("COMMIT")?;
        self.finished = true;
        Ok(())
    }

    /// Discards every change (the same as dropping the transaction).
    pub fn rollback(mut self) -> Result<()> {
        self.finished = true;
        self.tx.execute_batch("ROLLBACK")?;
        Ok(())
    }
}

impl Drop for WriteTxn<'_> {
    fn drop(&mut self) {
        if !self.finished {
            if let Err(e) = self.tx.execute_batch("ROLLBACK") {
                tracing::warn!("rolling back a registry transaction failed: {e}");
            }
        }
    }
}

impl RegistryRead for WriteTxn<'_> {
    fn conn(&self) -> &Connection {
        self.tx
    }

    fn key_id(&self, path: &KeyPath) -> Result<Option<i64>> {
        let sort_key = path.sort_key();
        let found = self.find_key(&sort_key)?;
        let id = found.as_ref().map(|(id, _)| *id);
        self.looked_up.replace(Some((sort_key, found)));
        Ok(id)
    }
}

/// A key lookup's sort key and what it found: the id and stored path.
type LookedUp = (String, Option<(i64, String)>);

/// Walks a subtree a page at a time without holding a statement open.
struct SubtreeCursor {
    path: KeyPath,
    resume_after: Option<KeyPath>,
    done: bool,
}

impl SubtreeCursor {
    fn new(path: &KeyPath) -> SubtreeCursor {
        SubtreeCursor {
            path: path.clone(),
            resume_after: None,
            done: false,
        }
    }

    fn next_page(
        &mut self,
        reader: &impl RegistryRead,
        out: &mut Vec<super::KeyRecord>,
    ) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        let mut iter = reader.walk(&self.path);
        if let Some(after) = &self.resume_after {
            iter.resume_after(after.sort_key());
        }
        for record in iter.by_ref().take(512) {
            out.push(record?);
        }
        match out.last() {
            Some(last) => self.resume_after = Some(last.path.clone()),
            None => self.done = true,
        }
        Ok(!out.is_empty())
    }
}
