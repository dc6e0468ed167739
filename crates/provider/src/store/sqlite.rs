//! The SQLite store: tables beside the catalog in `provider.db`.
//!
//! One write connection (WAL, `synchronous=FULL`, so a committed check-in
//! survives a power cut) and one read connection; every call runs on
//! tokio's blocking pool.

use super::ReportInput;
use super::{
    fold, like_contains, like_prefix, parse_json, AccessChanges, ActivityQuery, ActivityRow,
    CheckInRecord, Committed, GroupRow, MachineQuery, MachineRow, ProgressRow, Store, StoreError,
    UserRow, DEFAULT_GROUP, DEFAULT_GROUP_ID,
};
use crate::api::GroupSettings;
use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use transit_update::store::{Activity, ActivityStatus};

#[path = "sqlite_rollouts.rs"]
mod rollouts;
#[path = "sqlite_transfer.rs"]
mod transfer;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS groups(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  name_fold TEXT NOT NULL UNIQUE,
  settings TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS machines(
  id TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  name TEXT NOT NULL,
  name_fold TEXT NOT NULL,
  ip TEXT NOT NULL,
  group_id INTEGER NOT NULL REFERENCES groups(id),
  cic_server INTEGER NOT NULL,
  installed TEXT NOT NULL,
  errors TEXT NOT NULL,
  restart_required INTEGER NOT NULL,
  first_contact INTEGER NOT NULL,
  last_contact INTEGER NOT NULL,
  checkins INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS machines_name ON machines(name_fold);
CREATE INDEX IF NOT EXISTS machines_ip ON machines(ip);
CREATE INDEX IF NOT EXISTS machines_group ON machines(group_id);
CREATE TABLE IF NOT EXISTS activity(
  id INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  machine TEXT NOT NULL,
  application TEXT NOT NULL,
  release TEXT NOT NULL,
  patch TEXT NOT NULL,
  status TEXT NOT NULL,
  description TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS activity_time ON activity(time);
CREATE TABLE IF NOT EXISTS progress(
  machine_id TEXT NOT NULL,
  update_id INTEGER NOT NULL,
  phase TEXT NOT NULL,
  percent INTEGER NOT NULL,
  time INTEGER NOT NULL,
  PRIMARY KEY(machine_id, update_id)
);
CREATE INDEX IF NOT EXISTS machines_last_contact ON machines(last_contact);
CREATE INDEX IF NOT EXISTS activity_machine ON activity(machine);
CREATE TABLE IF NOT EXISTS console_users(
  name_fold TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS peers(
  position INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  name_fold TEXT NOT NULL UNIQUE
);
";

struct Inner {
    path: PathBuf,
    write: Mutex<Connection>,
    read: Mutex<Connection>,
}

/// The SQLite store.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqliteStore({})", self.inner.path.display())
    }
}

fn err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the store in the SQLite file `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let e = err(path);
        let write = Connection::open(path).map_err(&e)?;
        write
            .busy_timeout(std::time::Duration::from_secs(10))
            .map_err(&e)?;
        write
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(&e)?;
        write
            .pragma_update(None, "synchronous", "FULL")
            .map_err(&e)?;
        write.execute_batch(SCHEMA).map_err(&e)?;
        write.execute_batch(rollouts::SCHEMA).map_err(&e)?;
        let settings = serde_json::to_string(&GroupSettings::default()).unwrap_or_default();
        write
            .execute(
                "INSERT OR IGNORE INTO groups(id, name, name_fold, settings) VALUES (?1, ?2, ?3, ?4)",
                params![DEFAULT_GROUP_ID, DEFAULT_GROUP, fold(DEFAULT_GROUP), settings],
            )
            .map_err(&e)?;
        let read = Connection::open(path).map_err(&e)?;
        read.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(&e)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                write: Mutex::new(write),
                read: Mutex::new(read),
            }),
        })
    }

    async fn with_read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let conn = inner.read.lock().unwrap_or_else(|p| p.into_inner());
            f(&conn, &inner.path)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    async fn with_write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>, &Path) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.write.lock().unwrap_or_else(|p| p.into_inner());
            let e = err(&inner.path);
            let tx = conn
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                .map_err(&e)?;
            let out = f(&tx, &inner.path)?;
            tx.commit().map_err(&e)?;
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

fn group_rows(
    conn: &Connection,
    path: &Path,
    name: Option<&str>,
) -> Result<Vec<GroupRow>, StoreError> {
    let e = err(path);
    let sql =
        "SELECT g.id, g.name, g.settings, (SELECT count(*) FROM machines m WHERE m.group_id = g.id)
               FROM groups g WHERE (?1 IS NULL OR g.name_fold = ?1)
               ORDER BY g.id <> 1, g.name_fold";
    let mut stmt = conn.prepare_cached(sql).map_err(&e)?;
    let rows = stmt
        .query_map([name.map(fold)], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(&e)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, settings, members) = row.map_err(&e)?;
        out.push(GroupRow {
            id,
            name,
            settings: parse_json("group settings", &settings)?,
            members: members as u64,
        });
    }
    Ok(out)
}

fn group_id(conn: &Connection, path: &Path, name: &str) -> Result<i64, StoreError> {
    conn.query_row(
        "SELECT id FROM groups WHERE name_fold = ?1",
        [fold(name)],
        |r| r.get(0),
    )
    .optional()
    .map_err(err(path))?
    .ok_or_else(|| StoreError::NoSuchGroup(name.to_string()))
}

const MACHINE_COLUMNS: &str = "m.id, m.name, m.ip, g.name, m.cic_server, m.installed, m.errors, m.restart_required, m.first_contact, m.last_contact, m.checkins";

fn machine_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(MachineRow, String, String)> {
    Ok((
        MachineRow {
            id: r.get(0)?,
            name: r.get(1)?,
            ip: r.get(2)?,
            group: r.get(3)?,
            cic_server: r.get(4)?,
            installed: Vec::new(),
            errors: Vec::new(),
            restart_required: r.get(7)?,
            first_contact: r.get(8)?,
            last_contact: r.get(9)?,
            checkins: r.get(10)?,
        },
        r.get(5)?,
        r.get(6)?,
    ))
}

fn finish_machine(
    (mut m, installed, errors): (MachineRow, String, String),
) -> Result<MachineRow, StoreError> {
    m.installed = parse_json("installed applications", &installed)?;
    m.errors = parse_json("errors", &errors)?;
    Ok(m)
}

#[async_trait]
impl Store for SqliteStore {
    fn describe(&self) -> String {
        format!("sqlite:{}", self.inner.path.display())
    }

    async fn commit_checkins(&self, batch: &[CheckInRecord]) -> Result<Vec<Committed>, StoreError> {
        let batch = batch.to_vec();
        self.with_write(move |tx, path| {
            let e = err(path);
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO machines(id, token, name, name_fold, ip, group_id, cic_server, installed, errors, restart_required, first_contact, last_contact, checkins)
                     VALUES (?1, ?2, ?3, ?4, ?5, COALESCE((SELECT id FROM groups WHERE name_fold = ?6), 1), ?7, ?8, ?9, ?10, ?11, ?11, 1)
                     ON CONFLICT(id) DO UPDATE SET name = excluded.name, name_fold = excluded.name_fold, ip = excluded.ip,
                       cic_server = excluded.cic_server, installed = excluded.installed, errors = excluded.errors,
                       restart_required = excluded.restart_required, last_contact = excluded.last_contact,
                       checkins = machines.checkins + 1
                     WHERE machines.token = excluded.token
                     RETURNING group_id",
                )
                .map_err(&e)?;
            let mut out = Vec::with_capacity(batch.len());
            for c in &batch {
                let group_id: Option<i64> = stmt
                    .query_row(
                        params![
                            c.machine_id,
                            c.token_hash,
                            c.name,
                            fold(&c.name),
                            c.ip,
                            c.group_hint.as_deref().map(fold),
                            c.cic_server,
                            c.installed,
                            c.errors,
                            c.restart_required,
                            c.time
                        ],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(&e)?;
                out.push(match group_id {
                    Some(group_id) => Committed::Saved { group_id },
                    None => Committed::Claimed,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn token_hash(&self, machine_id: &str) -> Result<Option<String>, StoreError> {
        let id = machine_id.to_string();
        self.with_read(move |conn, path| {
            conn.query_row("SELECT token FROM machines WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err(path))
        })
        .await
    }

    async fn groups(&self) -> Result<Vec<GroupRow>, StoreError> {
        self.with_read(|conn, path| group_rows(conn, path, None))
            .await
    }

    async fn create_group(
        &self,
        name: &str,
        settings: &GroupSettings,
    ) -> Result<GroupRow, StoreError> {
        let (name, settings) = (name.to_string(), settings.clone());
        self.with_write(move |tx, path| {
            if group_id(tx, path, &name).is_ok() {
                return Err(StoreError::GroupExists(name));
            }
            tx.execute(
                "INSERT INTO groups(name, name_fold, settings) VALUES (?1, ?2, ?3)",
                params![
                    name,
                    fold(&name),
                    serde_json::to_string(&settings).unwrap_or_default()
                ],
            )
            .map_err(err(path))?;
            group_rows(tx, path, Some(&name))?
                .pop()
                .ok_or(StoreError::NoSuchGroup(name))
        })
        .await
    }

    async fn set_group_settings(
        &self,
        name: &str,
        settings: &GroupSettings,
    ) -> Result<GroupRow, StoreError> {
        let (name, settings) = (name.to_string(), settings.clone());
        self.with_write(move |tx, path| {
            let id = group_id(tx, path, &name)?;
            tx.execute(
                "UPDATE groups SET settings = ?1 WHERE id = ?2",
                params![serde_json::to_string(&settings).unwrap_or_default(), id],
            )
            .map_err(err(path))?;
            group_rows(tx, path, Some(&name))?
                .pop()
                .ok_or(StoreError::NoSuchGroup(name))
        })
        .await
    }

    async fn delete_group(&self, name: &str) -> Result<u64, StoreError> {
        let name = name.to_string();
        self.with_write(move |tx, path| {
            let id = group_id(tx, path, &name)?;
            if id == DEFAULT_GROUP_ID {
                return Err(StoreError::DefaultGroup);
            }
            let e = err(path);
            let moved = tx
                .execute(
                    "UPDATE machines SET group_id = ?1 WHERE group_id = ?2",
                    params![DEFAULT_GROUP_ID, id],
                )
                .map_err(&e)?;
            tx.execute("DELETE FROM groups WHERE id = ?1", [id])
                .map_err(&e)?;
            Ok(moved as u64)
        })
        .await
    }

    async fn move_machines(&self, ids: &[String], group: &str) -> Result<u64, StoreError> {
        let (ids, group) = (ids.to_vec(), group.to_string());
        self.with_write(move |tx, path| {
            let gid = group_id(tx, path, &group)?;
            let mut stmt = tx
                .prepare_cached("UPDATE machines SET group_id = ?1 WHERE id = ?2")
                .map_err(err(path))?;
            let mut moved = 0;
            for id in &ids {
                match stmt.execute(params![gid, id]).map_err(err(path))? {
                    0 => return Err(StoreError::NoSuchMachine(id.clone())),
                    n => moved += n as u64,
                }
            }
            Ok(moved)
        })
        .await
    }

    async fn machines(&self, query: &MachineQuery) -> Result<Vec<MachineRow>, StoreError> {
        let q = query.clone();
        self.with_read(move |conn, path| {
            let e = err(path);
            let sql = format!(
                "SELECT {MACHINE_COLUMNS} FROM machines m JOIN groups g ON g.id = m.group_id
                 WHERE (?1 IS NULL OR m.name_fold LIKE ?1 ESCAPE '\\' OR m.ip LIKE ?2 ESCAPE '\\')
                   AND (?3 IS NULL OR g.name_fold = ?3)
                   AND (?4 IS NULL OR m.last_contact >= ?4)
                   AND (?7 IS NULL OR m.name_fold LIKE ?7 ESCAPE '\\')
                   AND (?8 IS NULL OR m.ip LIKE ?8 ESCAPE '\\')
                 ORDER BY m.name_fold, m.id LIMIT ?5 OFFSET ?6"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(&e)?;
            let limit = if q.limit == 0 { -1 } else { q.limit as i64 };
            let rows = stmt
                .query_map(
                    params![
                        q.search.as_deref().map(|s| like_prefix(&fold(s))),
                        q.search.as_deref().map(like_prefix),
                        q.group.as_deref().map(fold),
                        q.since,
                        limit,
                        q.offset as i64,
                        q.name_contains.as_deref().map(|s| like_contains(&fold(s))),
                        q.ip_contains.as_deref().map(like_contains)
                    ],
                    machine_row,
                )
                .map_err(&e)?;
            let mut out = Vec::new();
            for row in rows {
                out.push(finish_machine(row.map_err(&e)?)?);
            }
            Ok(out)
        })
        .await
    }

    async fn report_inputs(&self, since: Option<i64>) -> Result<Vec<ReportInput>, StoreError> {
        self.with_read(move |conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare_cached(
                    "SELECT m.id, m.name, g.name, m.installed, m.errors, m.restart_required, m.last_contact, m.name_fold
                     FROM machines m JOIN groups g ON g.id = m.group_id
                     WHERE (?1 IS NULL OR m.last_contact >= ?1)",
                )
                .map_err(&e)?;
            let rows = stmt
                .query_map([since], |r| {
                    Ok(ReportInput {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        group: r.get(2)?,
                        installed: r.get(3)?,
                        errors: r.get(4)?,
                        restart_required: r.get(5)?,
                        last_contact: r.get(6)?,
                        name_fold: r.get(7)?,
                    })
                })
                .map_err(&e)?;
            rows.collect::<Result<_, _>>().map_err(&e)
        })
        .await
    }

    async fn machine(&self, id: &str) -> Result<Option<MachineRow>, StoreError> {
        let id = id.to_string();
        self.with_read(move |conn, path| {
            let sql = format!(
                "SELECT {MACHINE_COLUMNS} FROM machines m JOIN groups g ON g.id = m.group_id WHERE m.id = ?1"
            );
            conn.query_row(&sql, [id], machine_row)
                .optional()
                .map_err(err(path))?
                .map(finish_machine)
                .transpose()
        })
        .await
    }

    async fn count_machines(&self) -> Result<u64, StoreError> {
        self.with_read(|conn, path| {
            conn.query_row("SELECT count(*) FROM machines", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(err(path))
        })
        .await
    }

    async fn log(&self, entries: &[ActivityRow]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.with_write(move |tx, path| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO activity(time, machine, application, release, patch, status, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(err(path))?;
            for a in &entries {
                stmt.execute(params![
                    a.time,
                    a.machine,
                    a.application,
                    a.release,
                    a.patch,
                    a.status.as_str(),
                    a.description
                ])
                .map_err(err(path))?;
            }
            Ok(())
        })
        .await
    }

    async fn activity(&self, query: &ActivityQuery) -> Result<(Vec<Activity>, u64), StoreError> {
        let q = query.clone();
        self.with_read(move |conn, path| {
            let e = err(path);
            let total: i64 = conn
                .query_row(
                    "SELECT count(*) FROM activity WHERE (?1 IS NULL OR machine = ?1)",
                    [q.machine.as_deref()],
                    |r| r.get(0),
                )
                .map_err(&e)?;
            let sql = format!(
                "SELECT id, time, machine, application, release, patch, status, description FROM activity
                 WHERE (?1 IS NULL OR machine = ?1) ORDER BY {} LIMIT ?2 OFFSET ?3",
                q.order_by()
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(&e)?;
            let limit = if q.limit == 0 { -1 } else { q.limit as i64 };
            let rows = stmt
                .query_map(params![q.machine.as_deref(), limit, q.offset as i64], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, String>(7)?,
                    ))
                })
                .map_err(&e)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, time, machine, application, release, patch, status, description) =
                    row.map_err(&e)?;
                let status = ActivityStatus::parse(&status).ok_or_else(|| StoreError::Corrupt {
                    what: "activity status",
                    problem: format!("unknown status `{status}`"),
                })?;
                out.push(Activity {
                    id,
                    time,
                    machine,
                    application,
                    release,
                    patch,
                    status,
                    description,
                });
            }
            Ok((out, total as u64))
        })
        .await
    }

    async fn clear_activity(&self) -> Result<u64, StoreError> {
        self.with_write(|tx, path| {
            tx.execute("DELETE FROM activity", [])
                .map(|n| n as u64)
                .map_err(err(path))
        })
        .await
    }

    async fn save_progress(&self, rows: &[ProgressRow]) -> Result<(), StoreError> {
        let rows = rows.to_vec();
        self.with_write(move |tx, path| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO progress(machine_id, update_id, phase, percent, time) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT(machine_id, update_id) DO UPDATE SET phase = excluded.phase, percent = excluded.percent, time = excluded.time",
                )
                .map_err(err(path))?;
            for p in &rows {
                stmt.execute(params![p.machine_id, p.update_id, p.phase, p.percent, p.time])
                    .map_err(err(path))?;
            }
            Ok(())
        })
        .await
    }

    async fn progress(&self, machine_id: &str) -> Result<Vec<ProgressRow>, StoreError> {
        let id = machine_id.to_string();
        self.with_read(move |conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare_cached(
                    "SELECT machine_id, update_id, phase, percent, time FROM progress WHERE machine_id = ?1 ORDER BY update_id",
                )
                .map_err(&e)?;
            let rows = stmt
                .query_map([id], |r| {
                    Ok(ProgressRow {
                        machine_id: r.get(0)?,
                        update_id: r.get(1)?,
                        phase: r.get(2)?,
                        percent: r.get(3)?,
                        time: r.get(4)?,
                    })
                })
                .map_err(&e)?;
            rows.collect::<Result<_, _>>().map_err(&e)
        })
        .await
    }

    async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        self.with_read(|conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare_cached("SELECT name, created FROM console_users ORDER BY name_fold")
                .map_err(&e)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(UserRow {
                        name: r.get(0)?,
                        created: r.get(1)?,
                    })
                })
                .map_err(&e)?;
            rows.collect::<Result<_, _>>().map_err(&e)
        })
        .await
    }

    async fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = fold(name);
        self.with_read(move |conn, path| {
            conn.query_row(
                "SELECT hash FROM console_users WHERE name_fold = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(err(path))
        })
        .await
    }

    async fn peers(&self) -> Result<Vec<String>, StoreError> {
        self.with_read(|conn, path| {
            let e = err(path);
            let mut stmt = conn
                .prepare_cached("SELECT name FROM peers ORDER BY position")
                .map_err(&e)?;
            let rows = stmt.query_map([], |r| r.get(0)).map_err(&e)?;
            rows.collect::<Result<_, _>>().map_err(&e)
        })
        .await
    }

    async fn apply_access(&self, changes: &AccessChanges) -> Result<(), StoreError> {
        let c = changes.clone();
        self.with_write(move |tx, path| {
            let e = err(path);
            let count = |tx: &rusqlite::Transaction<'_>| -> Result<i64, StoreError> {
                tx.query_row("SELECT count(*) FROM console_users", [], |r| r.get(0))
                    .map_err(err(path))
            };
            let before = count(tx)?;
            for name in &c.remove_users {
                if tx
                    .execute("DELETE FROM console_users WHERE name_fold = ?1", [fold(name)])
                    .map_err(&e)?
                    == 0
                {
                    return Err(StoreError::NoSuchUser(name.clone()));
                }
            }
            for name in &c.remove_peers {
                if tx
                    .execute("DELETE FROM peers WHERE name_fold = ?1", [fold(name)])
                    .map_err(&e)?
                    == 0
                {
                    return Err(StoreError::NoSuchPeer(name.clone()));
                }
            }
            let now = transit_core::time::now().unix_timestamp();
            for (name, hash) in &c.add_users {
                if tx
                    .execute(
                        "INSERT INTO console_users(name_fold, name, hash, created) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                        params![fold(name), name, hash, now],
                    )
                    .map_err(&e)?
                    == 0
                {
                    return Err(StoreError::UserExists(name.clone()));
                }
            }
            for name in &c.add_peers {
                if tx
                    .execute(
                        "INSERT INTO peers(name, name_fold) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                        params![name, fold(name)],
                    )
                    .map_err(&e)?
                    == 0
                {
                    return Err(StoreError::PeerExists(name.clone()));
                }
            }
            if before > 0 && count(tx)? == 0 {
                return Err(StoreError::LastUser);
            }
            Ok(())
        })
        .await
    }
}
