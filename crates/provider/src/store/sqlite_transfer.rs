//! The SQLite store's transfers (see [`crate::store::TransferStore`]).

use super::{err, SqliteStore};
use crate::store::transfer::{MachineCounts, MachineExport, TransferStore};
use crate::store::{fold, ActivityRow, StoreError};
use async_trait::async_trait;
use rusqlite::{params, OptionalExtension};

#[async_trait]
impl TransferStore for SqliteStore {
    async fn export_machines(&self) -> Result<Vec<MachineExport>, StoreError> {
        self.with_read(|conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare(
                    "SELECT m.id, m.token, m.name, m.ip, g.name, m.cic_server, m.installed, m.errors,
                            m.restart_required, m.first_contact, m.last_contact, m.checkins
                     FROM machines m JOIN groups g ON g.id = m.group_id ORDER BY m.id",
                )
                .map_err(&e)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(MachineExport {
                        id: r.get(0)?,
                        token_hash: r.get(1)?,
                        name: r.get(2)?,
                        ip: r.get(3)?,
                        group: r.get(4)?,
                        cic_server: r.get(5)?,
                        installed: r.get(6)?,
                        errors: r.get(7)?,
                        restart_required: r.get(8)?,
                        first_contact: r.get(9)?,
                        last_contact: r.get(10)?,
                        checkins: r.get(11)?,
                    })
                })
                .map_err(&e)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(&e)
        })
        .await
    }

    async fn import_machines(&self, rows: &[MachineExport]) -> Result<MachineCounts, StoreError> {
        let rows = rows.to_vec();
        self.with_write(move |tx, path| {
            let e = err(path);
            let mut counts = MachineCounts::default();
            let mut before = tx
                .prepare_cached("SELECT last_contact FROM machines WHERE id = ?1")
                .map_err(&e)?;
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO machines(id, token, name, name_fold, ip, group_id, cic_server, installed, errors,
                                          restart_required, first_contact, last_contact, checkins)
                     VALUES (?1, ?2, ?3, ?4, ?5, COALESCE((SELECT id FROM groups WHERE name_fold = ?6), 1),
                             ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                     ON CONFLICT(id) DO UPDATE SET token = excluded.token, name = excluded.name,
                       name_fold = excluded.name_fold, ip = excluded.ip, group_id = excluded.group_id,
                       cic_server = excluded.cic_server, installed = excluded.installed, errors = excluded.errors,
                       restart_required = excluded.restart_required,
                       first_contact = min(machines.first_contact, excluded.first_contact),
                       last_contact = excluded.last_contact, checkins = machines.checkins + excluded.checkins
                     WHERE excluded.last_contact > machines.last_contact",
                )
                .map_err(&e)?;
            for m in &rows {
                let there: Option<i64> = before
                    .query_row([&m.id], |r| r.get(0))
                    .optional()
                    .map_err(&e)?;
                upsert
                    .execute(params![
                        m.id,
                        m.token_hash,
                        m.name,
                        fold(&m.name),
                        m.ip,
                        fold(&m.group),
                        m.cic_server,
                        m.installed,
                        m.errors,
                        m.restart_required,
                        m.first_contact,
                        m.last_contact,
                        m.checkins
                    ])
                    .map_err(&e)?;
                match there {
                    None => counts.added += 1,
                    Some(last) if m.last_contact > last => counts.replaced += 1,
                    Some(_) => counts.kept += 1,
                }
            }
            let older = "SELECT id FROM machines m WHERE EXISTS (SELECT 1 FROM machines o
                           WHERE o.name_fold = m.name_fold AND (o.last_contact > m.last_contact
                             OR (o.last_contact = m.last_contact AND o.id > m.id)))";
            tx.execute(&format!("DELETE FROM progress WHERE machine_id IN ({older})"), [])
                .map_err(&e)?;
            counts.duplicates_removed = tx
                .execute(&format!("DELETE FROM machines WHERE id IN ({older})"), [])
                .map_err(&e)? as u64;
            Ok(counts)
        })
        .await
    }

    async fn import_activity(&self, rows: &[ActivityRow]) -> Result<u64, StoreError> {
        let rows = rows.to_vec();
        self.with_write(move |tx, path| {
            let e = err(path);
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO activity(time, machine, application, release, patch, status, description)
                     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE NOT EXISTS (SELECT 1 FROM activity
                       WHERE time = ?1 AND machine = ?2 AND application = ?3 AND release = ?4
                         AND patch = ?5 AND status = ?6 AND description = ?7)",
                )
                .map_err(&e)?;
            let mut added = 0;
            for a in &rows {
                added += stmt
                    .execute(params![
                        a.time,
                        a.machine,
                        a.application,
                        a.release,
                        a.patch,
                        a.status.as_str(),
                        a.description
                    ])
                    .map_err(&e)? as u64;
            }
            Ok(added)
        })
        .await
    }
}
