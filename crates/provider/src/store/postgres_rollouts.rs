//! The PostgreSQL store's rollouts (see [`crate::store::RolloutStore`]).
//! Several providers sharing the database change a rollout by
//! compare-and-set on its version, so each transition happens once.

use super::{pg, PgStore};
use crate::rollout::{Rollout, WaveSpec};
use crate::store::rollouts::{body, fresh, from_body};
use crate::store::{Outcome, RolloutStore, StoreError};
use async_trait::async_trait;
use sqlx::Row;

/// The tables, created with the others.
pub(super) const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS rollouts(
       id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       update_id BIGINT NOT NULL UNIQUE,
       body TEXT NOT NULL,
       version BIGINT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rollout_outcomes(
       rollout_id BIGINT NOT NULL,
       machine_id TEXT NOT NULL,
       wave INTEGER NOT NULL,
       installed BOOLEAN NOT NULL,
       time BIGINT NOT NULL,
       PRIMARY KEY(rollout_id, machine_id))",
];

#[async_trait]
impl RolloutStore for PgStore {
    async fn create_rollout(
        &self,
        update_id: i64,
        waves: &[WaveSpec],
        now: i64,
    ) -> Result<Rollout, StoreError> {
        let mut tx = self.pool.begin().await.map_err(pg("rollout"))?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO rollouts(update_id, body, version) VALUES ($1, '{}', 1)
             ON CONFLICT (update_id) DO NOTHING RETURNING id",
        )
        .bind(update_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(pg("rollout"))?;
        let Some(id) = id else {
            let rollout_id: i64 =
                sqlx::query_scalar("SELECT id FROM rollouts WHERE update_id = $1")
                    .bind(update_id)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(pg("rollout"))?;
            return Err(StoreError::RolloutExists {
                update_id,
                rollout_id,
            });
        };
        let r = fresh(id, update_id, waves, now);
        sqlx::query("UPDATE rollouts SET body = $1 WHERE id = $2")
            .bind(body(&r))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(pg("rollout"))?;
        tx.commit().await.map_err(pg("rollout"))?;
        Ok(r)
    }

    async fn rollouts(&self) -> Result<Vec<Rollout>, StoreError> {
        let rows = sqlx::query("SELECT id, version, body FROM rollouts ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(pg("rollouts"))?;
        rows.iter()
            .map(|r| from_body(r.get(0), r.get(1), r.get::<&str, _>(2)))
            .collect()
    }

    async fn save_rollout(&self, r: &Rollout) -> Result<bool, StoreError> {
        let mut next = r.clone();
        next.version += 1;
        let done = sqlx::query(
            "UPDATE rollouts SET body = $1, version = $2 WHERE id = $3 AND version = $4",
        )
        .bind(body(&next))
        .bind(next.version)
        .bind(next.id)
        .bind(r.version)
        .execute(&self.pool)
        .await
        .map_err(pg("rollout"))?
        .rows_affected()
            == 1;
        if !done {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM rollouts WHERE id = $1")
                .bind(r.id)
                .fetch_optional(&self.pool)
                .await
                .map_err(pg("rollout"))?;
            if exists.is_none() {
                return Err(StoreError::NoSuchRollout(r.id));
            }
        }
        Ok(done)
    }

    async fn record_outcomes(&self, rows: &[Outcome]) -> Result<(), StoreError> {
        if rows.is_empty() {
            return Ok(());
        }
        // One machine once per statement (ON CONFLICT cannot touch a row twice): the last wins.
        let mut latest: Vec<&Outcome> = Vec::new();
        for o in rows {
            match latest
                .iter_mut()
                .find(|l| l.rollout_id == o.rollout_id && l.machine_id == o.machine_id)
            {
                Some(l) => *l = o,
                None => latest.push(o),
            }
        }
        sqlx::query(
            "INSERT INTO rollout_outcomes(rollout_id, machine_id, wave, installed, time)
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::int[], $4::bool[], $5::bigint[])
             ON CONFLICT (rollout_id, machine_id) DO UPDATE SET
               wave = excluded.wave, installed = excluded.installed, time = excluded.time",
        )
        .bind(latest.iter().map(|o| o.rollout_id).collect::<Vec<_>>())
        .bind(
            latest
                .iter()
                .map(|o| o.machine_id.clone())
                .collect::<Vec<_>>(),
        )
        .bind(latest.iter().map(|o| o.wave as i32).collect::<Vec<_>>())
        .bind(latest.iter().map(|o| o.installed).collect::<Vec<_>>())
        .bind(latest.iter().map(|o| o.time).collect::<Vec<_>>())
        .execute(&self.pool)
        .await
        .map_err(pg("rollout outcomes"))?;
        Ok(())
    }

    async fn outcome_counts(&self, rollout_id: i64) -> Result<Vec<(usize, u64, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT wave, count(*) FILTER (WHERE installed), count(*) FILTER (WHERE NOT installed)
             FROM rollout_outcomes WHERE rollout_id = $1 GROUP BY wave ORDER BY wave",
        )
        .bind(rollout_id)
        .fetch_all(&self.pool)
        .await
        .map_err(pg("rollout outcomes"))?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<i32, _>(0) as usize,
                    r.get::<i64, _>(1) as u64,
                    r.get::<i64, _>(2) as u64,
                )
            })
            .collect())
    }

    async fn memberships(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query("SELECT id, group_id FROM machines")
            .fetch_all(&self.pool)
            .await
            .map_err(pg("machines"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
