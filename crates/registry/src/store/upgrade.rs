//! Upgrades of registries written by earlier builds, run once when a
//! registry is opened.
//!
//! Schema 1 folded names to lower case, so its sibling keys sorted with `_`
//! before the letters; regedit upper-cases, which puts `_` after them.
//! Schema 2 stores upper-case folds (keys' `sort_key`, values' `name_fold`)
//! and always has the `vals.seq` column (value insertion order), which late
//! schema-1 registries only gained on their first write. The upgrade
//! changes no key, value or last-write time: only how they are indexed.

use crate::error::{RegistryError, Result};
use crate::path::{fold, KeyPath};
use rusqlite::{params, Connection};
use std::path::Path;

/// Brings a schema-1 registry to schema 2 in one transaction.
pub(super) fn from_v1(conn: &Connection, path: &Path) -> Result<()> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| cannot(path, e))?;
    match rewrite(conn) {
        Ok(()) => conn.execute_batch("COMMIT").map_err(|e| cannot(path, e)),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(match e {
                rusqlite::Error::SqliteFailure(f, _)
                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    RegistryError::Corrupt(format!(
                        "{} holds two keys or values whose names differ only in a way \
                         regedit's upper-case comparison does not see; rename one with \
                         an earlier Transit build first",
                        path.display()
                    ))
                }
                e => cannot(path, e),
            })
        }
    }
}

fn cannot(path: &Path, e: rusqlite::Error) -> RegistryError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        if f.code == rusqlite::ErrorCode::ReadOnly {
            return RegistryError::Corrupt(format!(
                "{} was written by an earlier Transit (registry schema 1) and must be \
                 upgraded once, but it cannot be written: {e}",
                path.display()
            ));
        }
    }
    e.into()
}

fn rewrite(conn: &Connection) -> rusqlite::Result<()> {
    // Another process may have upgraded it while this one waited.
    let version: String = conn.query_row(
        "SELECT value FROM meta WHERE name = 'schema_version'",
        [],
        |r| r.get(0),
    )?;
    if version != "1" {
        return Ok(());
    }
    let has_seq: bool = conn.query_row(
        "SELECT count(*) FROM pragma_table_info('vals') WHERE name = 'seq'",
        [],
        |r| r.get(0),
    )?;
    if !has_seq {
        // Values stored before insertion order was kept read in name order.
        conn.execute_batch("ALTER TABLE vals ADD COLUMN seq INTEGER NOT NULL DEFAULT 0")?;
    }
    // Both columns are unique: move every row to a temporary unique form
    // first, so no new fold can meet an old one half-way.
    conn.execute_batch(
        "UPDATE keys SET sort_key = char(2) || id WHERE id <> 1;
         UPDATE vals SET name_fold = char(2) || name;",
    )?;
    let keys: Vec<(i64, String)> = conn
        .prepare("SELECT id, path FROM keys WHERE id <> 1")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set_key = conn.prepare("UPDATE keys SET sort_key = ?2 WHERE id = ?1")?;
    for (id, stored) in keys {
        set_key.execute(params![id, KeyPath::from_stored(&stored).sort_key()])?;
    }
    let vals: Vec<(i64, String)> = conn
        .prepare("SELECT key_id, name FROM vals")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set_val =
        conn.prepare("UPDATE vals SET name_fold = ?3 WHERE key_id = ?1 AND name_fold = ?2")?;
    for (key_id, name) in vals {
        set_val.execute(params![key_id, format!("\u{2}{name}"), fold(&name)])?;
    }
    conn.execute(
        "UPDATE meta SET value = '2' WHERE name = 'schema_version'",
        [],
    )?;
    Ok(())
}
