//! The SQLite-backed registry store.
//!
//! Layout: one `keys` row per key (case-folded `sort_key`, preserved `path`,
//! `parent`, last-write time) and one `vals` row per value, clustered by key.
//! Ordering by `sort_key` is a depth-first walk with siblings in regedit's
//! order (upper-cased names), which is also the `.reg` export order.

mod read;
mod snapshot;
mod upgrade;
mod write;

pub use read::{KeyRecord, NamedValue, RegistryRead, SubtreeIter};
pub use snapshot::Snapshot;
pub use write::{KeyId, WriteTxn};

use crate::error::{RegistryError, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The schema version this build reads and writes; version 1 registries are
/// upgraded on open (see `upgrade`).
const SCHEMA_VERSION: &str = "2";
/// The page cache, in KiB, of each side of a backup (it reads and writes
/// each page once).
const BACKUP_CACHE_KIB: u32 = 2048;
/// How long a writer waits for another writer before reporting `Locked`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys(
    id INTEGER PRIMARY KEY,
    parent INTEGER,
    sort_key TEXT NOT NULL UNIQUE,
    path TEXT NOT NULL,
    modified INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS keys_parent ON keys(parent);
CREATE TABLE IF NOT EXISTS vals(
    key_id INTEGER NOT NULL,
    name_fold TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER NOT NULL,
    data BLOB NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY(key_id, name_fold)
) WITHOUT ROWID;
";

/// An open registry database (`registry.db` in a server root).
///
/// Reads on a `Registry` see the latest committed state. For a consistent
/// view across many reads while writers commit, take a [`Snapshot`]. All
/// changes go through a [`WriteTxn`], which is all-or-nothing.
pub struct Registry {
    conn: Connection,
    path: PathBuf,
}

impl Registry {
    /// Opens the registry at `path`, creating an empty one if the file does
    /// not exist.
    pub fn open(path: &Path) -> Result<Registry> {
        let conn = Connection::open(path)?;
        Registry::init(conn, path, true)
    }

    /// Opens an existing registry; a missing file is [`RegistryError::Missing`].
    pub fn open_existing(path: &Path) -> Result<Registry> {
        if !path.is_file() {
            return Err(RegistryError::Missing(path.to_path_buf()));
        }
        check_header(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Registry::init(conn, path, false)
    }

    fn init(conn: Connection, path: &Path, create: bool) -> Result<Registry> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Reading the journal mode touches the header: a non-database file
        // fails here with NotADatabase, which maps to `Corrupt`.
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(RegistryError::Corrupt(format!(
                "cannot switch {} to WAL mode (got {mode})",
                path.display()
            )));
        }
        conn.execute_batch(
            "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
        )?;
        let has_meta: bool = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='meta'",
            [],
            |r| r.get(0),
        )?;
        if !has_meta {
            let empty: bool =
                conn.query_row("SELECT count(*) = 0 FROM sqlite_master", [], |r| r.get(0))?;
            if !empty {
                return Err(RegistryError::Corrupt(format!(
                    "{} is a SQLite database but not a Transit registry",
                    path.display()
                )));
            }
            if !create {
                return Err(RegistryError::Corrupt(format!(
                    "{} is an empty file, not a registry",
                    path.display()
                )));
            }
            conn.execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA}
                 INSERT INTO meta VALUES('format', 'transit-registry');
                 INSERT INTO meta VALUES('schema_version', '{SCHEMA_VERSION}');
                 INSERT INTO keys(id, parent, sort_key, path, modified) VALUES(1, NULL, '', '', {});
                 COMMIT;",
                write::now_millis()
            ))?;
        }
        let version: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE name='schema_version'",
                [],
                |r| r.get(0),
            )
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(e),
            })?;
        match version.as_deref() {
            Some(SCHEMA_VERSION) => {}
            Some("1") => upgrade::from_v1(&conn, path)?,
            Some(other) => {
                return Err(RegistryError::Corrupt(format!(
                    "{} has registry schema version {other}; this build reads {SCHEMA_VERSION}",
                    path.display()
                )))
            }
            None => {
                return Err(RegistryError::Corrupt(format!(
                    "{} has no schema version",
                    path.display()
                )))
            }
        }
        Ok(Registry {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// SQLite's `PRAGMA quick_check`: fails with [`RegistryError::Corrupt`]
    /// when the database is damaged.
    pub fn quick_check(&self) -> Result<()> {
        let verdict: String = self
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        if verdict == "ok" {
            Ok(())
        } else {
            Err(RegistryError::Corrupt(format!(
                "{}: {verdict}",
                self.path.display()
            )))
        }
    }

    /// Changes how long a write waits for another writer before failing
    /// with [`RegistryError::Locked`] (five seconds by default).
    pub fn set_busy_timeout(&self, timeout: Duration) -> Result<()> {
        self.conn.busy_timeout(timeout)?;
        Ok(())
    }

    /// Leaves the checkpoint of this connection's commits (copying the
    /// write-ahead log into the database file) to [`close`](Self::close),
    /// instead of running it inside a commit that grew the log past
    /// SQLite's threshold: a large transaction's commit then only appends
    /// to the log, and the caller can close while it does other work.
    pub fn defer_checkpoints(&self) -> Result<()> {
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        Ok(())
    }

    /// Closes the connection; the last connection to the database
    /// checkpoints the log into the database file as it closes.
    pub fn close(self) -> Result<()> {
        self.conn.close().map_err(|(_, e)| e.into())
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A read-only view that stays consistent while writers commit.
    pub fn snapshot(&self) -> Result<Snapshot> {
        Snapshot::open(&self.path)
    }

    /// Opens `count` snapshots of one and the same moment, for readers that
    /// work in parallel (each on its own connection). It briefly takes the
    /// write lock so no writer can commit between the snapshots.
    pub fn snapshots(&self, count: usize) -> Result<Vec<Snapshot>> {
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        let snapshots: Result<Vec<Snapshot>> =
            (0..count).map(|_| Snapshot::open(&self.path)).collect();
        self.conn.execute_batch("ROLLBACK")?;
        snapshots
    }

    /// Starts an all-or-nothing write transaction. It waits up to five
    /// seconds for another writer, then fails with [`RegistryError::Locked`].
    pub fn write(&mut self) -> Result<WriteTxn<'_>> {
        WriteTxn::begin(&mut self.conn)
    }

    /// Replaces the whole registry with the contents of a backup made by
    /// [`backup_to`](Self::backup_to), in one step: readers see the old or
    /// the new registry, never a mix, and a failure changes nothing.
    pub fn restore_from(&mut self, source: &Path) -> Result<()> {
        if !source.is_file() {
            return Err(RegistryError::Missing(source.to_path_buf()));
        }
        // Check the backup is a registry before overwriting anything.
        drop(Registry::open_existing(source)?);
        self.conn.restore(
            rusqlite::MAIN_DB,
            source,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
        Ok(())
    }

    /// Copies the whole database to `dest` with SQLite's online backup,
    /// which is consistent even while writers commit. Memory stays flat
    /// whatever the registry's size: the copy reads each page once, so this
    /// connection's page cache is kept small meanwhile (and set back after).
    pub fn backup_to(&self, dest: &Path) -> Result<()> {
        let cache: i64 = self.conn.query_row("PRAGMA cache_size", [], |r| r.get(0))?;
        self.conn
            .execute_batch(&format!("PRAGMA cache_size = -{BACKUP_CACHE_KIB}"))?;
        let copied = (|| -> Result<()> {
            let mut out = Connection::open(dest)?;
            out.execute_batch(&format!("PRAGMA cache_size = -{BACKUP_CACHE_KIB}"))?;
            let backup = rusqlite::backup::Backup::new(&self.conn, &mut out)?;
            backup.run_to_completion(1024, Duration::from_millis(0), None)?;
            Ok(())
        })();
        let restored = self
            .conn
            .execute_batch(&format!("PRAGMA cache_size = {cache}"));
        copied?;
        Ok(restored?)
    }
}

/// The first 16 bytes of every SQLite database.
const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file that is not a SQLite database before SQLite opens it for
/// writing (which would give an empty file a header, and so change it).
fn check_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut file = std::fs::File::open(path)?;
    let mut read = 0;
    while read < head.len() {
        match file.read(&mut head[read..])? {
            0 => break,
            n => read += n,
        }
    }
    match read {
        0 => Err(RegistryError::Corrupt(format!(
            "{} is an empty file, not a registry",
            path.display()
        ))),
        16 if &head == SQLITE_HEADER => Ok(()),
        _ => Err(RegistryError::Corrupt(format!(
            "{} is not a SQLite database",
            path.display()
        ))),
    }
}

impl RegistryRead for Registry {
    fn conn(&self) -> &Connection {
        &self.conn
    }
}
