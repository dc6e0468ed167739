//! Consistent read snapshots.

use super::RegistryRead;
use crate::error::Result;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

/// A read-only, point-in-time view of a registry.
///
/// It holds an open read transaction on its own connection; in WAL mode a
/// writer can commit meanwhile and the snapshot keeps seeing the state of
/// the moment it was taken. Dropping it ends the transaction.
pub struct Snapshot {
    conn: Connection,
}

impl Snapshot {
    pub(super) fn open(path: &Path) -> Result<Snapshot> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Snapshots stream sequentially: a small page cache is enough and
        // keeps parallel readers' memory bounded.
        conn.execute_batch("PRAGMA cache_size=-8192; BEGIN DEFERRED;")?;
        // The first read pins the snapshot.
        conn.query_row("SELECT count(*) FROM meta", [], |r| r.get::<_, i64>(0))?;
        Ok(Snapshot { conn })
    }
}

impl RegistryRead for Snapshot {
    fn conn(&self) -> &Connection {
        &self.conn
    }
}
