//! The remote provider's outbox, in `remote.db` (SQLite): the check-ins
//! and results its clients sent while upstream was down, in arrival
//! order, and the last check-in reply upstream gave each machine (with
//! the hash of the machine's secret, so that only that machine is
//! answered with it).
//!
//! A check-in or result is in the outbox, committed, before its client
//! gets its 200: what a remote acknowledged reaches upstream even if the
//! remote is killed.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use transit_core::{ErrorKind, Kind};

/// An outbox operation that failed.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", .path.display())]
pub struct OutboxError {
    /// The database file.
    pub path: PathBuf,
    /// SQLite's error.
    pub source: rusqlite::Error,
}

impl Kind for OutboxError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// One request waiting for upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// The outbox's sequence number.
    pub id: i64,
    /// The API path (`/v1/checkin` or `/v1/results`).
    pub path: String,
    /// The JSON body, as the client sent it (with its IP filled in).
    pub body: Vec<u8>,
}

/// The outbox and the last replies.
#[derive(Debug)]
pub struct Outbox {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Outbox {
    /// Opens (or creates) `remote.db`.
    pub fn open(path: &Path) -> Result<Outbox, OutboxError> {
        let err = |source| OutboxError {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA busy_timeout = 5000;
             CREATE TABLE IF NOT EXISTS outbox (
                 id INTEGER PRIMARY KEY AUTOINCREMENT,
                 path TEXT NOT NULL,
                 body BLOB NOT NULL,
                 queued INTEGER NOT NULL
             );
             CREATE TABLE IF NOT EXISTS replies (
                 machine_id TEXT PRIMARY KEY,
                 token_hash TEXT NOT NULL,
                 reply TEXT NOT NULL,
                 time INTEGER NOT NULL
             );",
        )
        .map_err(err)?;
        Ok(Outbox {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, OutboxError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|source| OutboxError {
            path: self.path.clone(),
            source,
        })
    }

    /// Queues a request (committed when this returns).
    pub fn push(&self, path: &str, body: &[u8]) -> Result<(), OutboxError> {
        let now = transit_core::time::now().unix_timestamp();
        self.with(|c| {
            c.execute(
                "INSERT INTO outbox (path, body, queued) VALUES (?1, ?2, ?3)",
                params![path, body, now],
            )
            .map(|_| ())
        })
    }

    /// The oldest `limit` requests waiting, in arrival order.
    pub fn oldest(&self, limit: usize) -> Result<Vec<Pending>, OutboxError> {
        self.with(|c| {
            let mut stmt =
                c.prepare_cached("SELECT id, path, body FROM outbox ORDER BY id LIMIT ?1")?;
            let rows = stmt.query_map([limit as i64], |r| {
                Ok(Pending {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    body: r.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    /// Removes a request upstream has taken (or refused for good).
    pub fn remove(&self, id: i64) -> Result<(), OutboxError> {
        self.with(|c| {
            c.execute("DELETE FROM outbox WHERE id = ?1", [id])
                .map(|_| ())
        })
    }

    /// How many requests are waiting.
    pub fn len(&self) -> Result<u64, OutboxError> {
        self.with(|c| c.query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> Result<bool, OutboxError> {
        self.len().map(|n| n == 0)
    }

    /// Remembers upstream's last reply to a machine.
    pub fn save_reply(
        &self,
        machine_id: &str,
        token_hash: &str,
        reply: &str,
    ) -> Result<(), OutboxError> {
        let now = transit_core::time::now().unix_timestamp();
        self.with(|c| {
            c.execute(
                "INSERT INTO replies (machine_id, token_hash, reply, time) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (machine_id) DO UPDATE SET token_hash = excluded.token_hash,
                     reply = excluded.reply, time = excluded.time",
                params![machine_id, token_hash, reply, now],
            )
            .map(|_| ())
        })
    }

    /// Upstream's last reply to a machine (its JSON and when, Unix
    /// seconds), when the secret's hash matches the one it was given with.
    pub fn reply(
        &self,
        machine_id: &str,
        token_hash: &str,
    ) -> Result<Option<(String, i64)>, OutboxError> {
        self.with(|c| {
            c.query_row(
                "SELECT reply, time FROM replies WHERE machine_id = ?1 AND token_hash = ?2",
                params![machine_id, token_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_wait_in_order_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("remote.db");
        let o = Outbox::open(&path).unwrap();
        o.push("/v1/checkin", b"{\"a\":1}").unwrap();
        o.push("/v1/results", b"{\"b\":2}").unwrap();
        drop(o);
        let o = Outbox::open(&path).unwrap();
        let waiting = o.oldest(10).unwrap();
        assert_eq!(
            waiting.iter().map(|p| p.path.as_str()).collect::<Vec<_>>(),
            ["/v1/checkin", "/v1/results"]
        );
        o.remove(waiting[0].id).unwrap();
        assert_eq!(o.len().unwrap(), 1);
        assert_eq!(o.oldest(10).unwrap()[0].body, b"{\"b\":2}");
    }

    #[test]
    fn a_reply_is_given_only_with_the_machines_secret() {
        let dir = tempfile::tempdir().unwrap();
        let o = Outbox::open(&dir.path().join("remote.db")).unwrap();
        o.save_reply("m1", "hash-a", "{}").unwrap();
        assert!(o.reply("m1", "hash-a").unwrap().is_some());
        assert!(o.reply("m1", "hash-b").unwrap().is_none());
        o.save_reply("m1", "hash-a", "{\"v\":2}").unwrap();
        assert_eq!(o.reply("m1", "hash-a").unwrap().unwrap().0, "{\"v\":2}");
    }
}
