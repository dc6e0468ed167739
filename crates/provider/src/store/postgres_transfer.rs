//! The PostgreSQL store's transfers (see [`crate::store::TransferStore`]).

use super::{pg, PgStore};
use crate::store::transfer::{MachineCounts, MachineExport, TransferStore};
use crate::store::{fold, ActivityRow, StoreError};
use async_trait::async_trait;
use sqlx::Row;

#[async_trait]
impl TransferStore for PgStore {
    async fn export_machines(&self) -> Result<Vec<MachineExport>, StoreError> {
        let rows = sqlx::query(
            "SELECT m.id, m.token, m.name, m.ip, g.name, m.cic_server, m.installed, m.errors,
                    m.restart_required, m.first_contact, m.last_contact, m.checkins
             FROM machines m JOIN groups g ON g.id = m.group_id ORDER BY m.id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(pg("machines"))?;
        Ok(rows
            .iter()
            .map(|r| MachineExport {
                id: r.get(0),
                token_hash: r.get(1),
                name: r.get(2),
                ip: r.get(3),
                group: r.get(4),
                cic_server: r.get(5),
                installed: r.get(6),
                errors: r.get(7),
                restart_required: r.get(8),
                first_contact: r.get(9),
                last_contact: r.get(10),
                checkins: r.get(11),
            })
            .collect())
    }

    async fn import_machines(&self, rows: &[MachineExport]) -> Result<MachineCounts, StoreError> {
        let mut tx = self.pool.begin().await.map_err(pg("import"))?;
        let mut counts = MachineCounts::default();
        for m in rows {
            let there: Option<i64> =
                sqlx::query_scalar("SELECT last_contact FROM machines WHERE id = $1")
                    .bind(&m.id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(pg("import"))?;
            sqlx::query(
                "INSERT INTO machines(id, token, name, name_fold, ip, group_id, cic_server, installed, errors,
                                      restart_required, first_contact, last_contact, checkins)
                 VALUES ($1, $2, $3, $4, $5, COALESCE((SELECT id FROM groups WHERE name_fold = $6), 1),
                         $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token, name = EXCLUDED.name,
                   name_fold = EXCLUDED.name_fold, ip = EXCLUDED.ip, group_id = EXCLUDED.group_id,
                   cic_server = EXCLUDED.cic_server, installed = EXCLUDED.installed, errors = EXCLUDED.errors,
                   restart_required = EXCLUDED.restart_required,
                   first_contact = LEAST(machines.first_contact, EXCLUDED.first_contact),
                   last_contact = EXCLUDED.last_contact, checkins = machines.checkins + EXCLUDED.checkins
                 WHERE EXCLUDED.last_contact > machines.last_contact",
            )
            .bind(&m.id)
            .bind(&m.token_hash)
            .bind(&m.name)
            .bind(fold(&m.name))
            .bind(&m.ip)
            .bind(fold(&m.group))
            .bind(m.cic_server)
            .bind(&m.installed)
            .bind(&m.errors)
            .bind(m.restart_required)
            .bind(m.first_contact)
            .bind(m.last_contact)
            .bind(m.checkins)
            .execute(&mut *tx)
            .await
            .map_err(pg("import"))?;
            match there {
                None => counts.added += 1,
                Some(last) if m.last_contact > last => counts.replaced += 1,
                Some(_) => counts.kept += 1,
            }
        }
        let older = "SELECT id FROM machines m WHERE EXISTS (SELECT 1 FROM machines o
                       WHERE o.name_fold = m.name_fold AND (o.last_contact > m.last_contact
                         OR (o.last_contact = m.last_contact AND o.id > m.id)))";
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM progress WHERE machine_id IN ({older})"
        )))
        .execute(&mut *tx)
        .await
        .map_err(pg("import"))?;
        counts.duplicates_removed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM machines WHERE id IN ({older})"
        )))
        .execute(&mut *tx)
        .await
        .map_err(pg("import"))?
        .rows_affected();
        tx.commit().await.map_err(pg("import"))?;
        Ok(counts)
    }

    async fn import_activity(&self, rows: &[ActivityRow]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(pg("import"))?;
        let mut added = 0;
        for a in rows {
            added += sqlx::query(
                "INSERT INTO activity(time, machine, application, release, patch, status, description)
                 SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS (SELECT 1 FROM activity
                   WHERE time = $1 AND machine = $2 AND application = $3 AND release = $4
                     AND patch = $5 AND status = $6 AND description = $7)",
            )
            .bind(&a.time)
            .bind(&a.machine)
            .bind(&a.application)
            .bind(&a.release)
            .bind(&a.patch)
            .bind(a.status.as_str())
            .bind(&a.description)
            .execute(&mut *tx)
            .await
            .map_err(pg("import"))?
            .rows_affected();
        }
        tx.commit().await.map_err(pg("import"))?;
        Ok(added)
    }
}
