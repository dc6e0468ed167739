//! The SQLite store's rollouts (see [`crate::store::RolloutStore`]).

use super::{err, SqliteStore};
use crate::rollout::{Rollout, WaveSpec};
use crate::store::rollouts::{body, fresh, from_body};
use crate::store::{Outcome, RolloutStore, StoreError};
use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

/// The tables, created with the others.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS rollouts(
  id INTEGER PRIMARY KEY,
  update_id INTEGER NOT NULL UNIQUE,
  body TEXT NOT NULL,
  version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rollout_outcomes(
  rollout_id INTEGER NOT NULL,
  machine_id TEXT NOT NULL,
  wave INTEGER NOT NULL,
  installed INTEGER NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY(rollout_id, machine_id)
);
";

#[async_trait]
impl RolloutStore for SqliteStore {
    async fn create_rollout(
        &self,
        update_id: i64,
        waves: &[WaveSpec],
        now: i64,
    ) -> Result<Rollout, StoreError> {
        let waves = waves.to_vec();
        self.with_write(move |tx, path| {
            let e = err(path);
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM rollouts WHERE update_id = ?1",
                    [update_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(&e)?;
            if let Some(rollout_id) = existing {
                return Err(StoreError::RolloutExists {
                    update_id,
                    rollout_id,
                });
            }
            tx.execute(
                "INSERT INTO rollouts(update_id, body, version) VALUES (?1, '{}', 1)",
                [update_id],
            )
            .map_err(&e)?;
            let r = fresh(tx.last_insert_rowid(), update_id, &waves, now);
            tx.execute(
                "UPDATE rollouts SET body = ?1 WHERE id = ?2",
                params![body(&r), r.id],
            )
            .map_err(&e)?;
            Ok(r)
        })
        .await
    }

    async fn rollouts(&self) -> Result<Vec<Rollout>, StoreError> {
        self.with_read(|conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare_cached("SELECT id, version, body FROM rollouts ORDER BY id")
                .map_err(&e)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(&e)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, version, text) = row.map_err(&e)?;
                out.push(from_body(id, version, &text)?);
            }
            Ok(out)
        })
        .await
    }

    async fn save_rollout(&self, r: &Rollout) -> Result<bool, StoreError> {
        let mut next = r.clone();
        next.version += 1;
        self.with_write(move |tx, path| {
            let n = tx
                .execute(
                    "UPDATE rollouts SET body = ?1, version = ?2 WHERE id = ?3 AND version = ?4",
                    params![body(&next), next.version, next.id, next.version - 1],
                )
                .map_err(err(path))?;
            if n == 0 {
                let exists: Option<i64> = tx
                    .query_row("SELECT id FROM rollouts WHERE id = ?1", [next.id], |r| {
                        r.get(0)
                    })
                    .optional()
                    .map_err(err(path))?;
                if exists.is_none() {
                    return Err(StoreError::NoSuchRollout(next.id));
                }
            }
            Ok(n == 1)
        })
        .await
    }

    async fn record_outcomes(&self, rows: &[Outcome]) -> Result<(), StoreError> {
        let rows = rows.to_vec();
        self.with_write(move |tx, path| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO rollout_outcomes(rollout_id, machine_id, wave, installed, time)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(rollout_id, machine_id) DO UPDATE SET
                       wave = excluded.wave, installed = excluded.installed, time = excluded.time",
                )
                .map_err(err(path))?;
            for o in &rows {
                stmt.execute(params![
                    o.rollout_id,
                    o.machine_id,
                    o.wave as i64,
                    o.installed,
                    o.time
                ])
                .map_err(err(path))?;
            }
            Ok(())
        })
        .await
    }

    async fn outcome_counts(&self, rollout_id: i64) -> Result<Vec<(usize, u64, u64)>, StoreError> {
        self.with_read(move |conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare_cached(
                    "SELECT wave, sum(installed), sum(1 - installed) FROM rollout_outcomes
                     WHERE rollout_id = ?1 GROUP BY wave ORDER BY wave",
                )
                .map_err(&e)?;
            let rows = stmt
                .query_map([rollout_id], |r| {
                    Ok((
                        r.get::<_, i64>(0)? as usize,
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)? as u64,
                    ))
                })
                .map_err(&e)?;
            rows.collect::<Result<_, _>>().map_err(&e)
        })
        .await
    }

    async fn memberships(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.with_read(|conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare_cached("SELECT id, group_id FROM machines")
                .map_err(&e)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
                .map_err(&e)?;
            rows.collect::<Result<_, _>>().map_err(&e)
        })
        .await
    }
}
