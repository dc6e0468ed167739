//! One open connection to any of the three engines, with the few ways of
//! running SQL the DB assistant needs. Driver errors at connect time are
//! sorted into the bad-input cases (unreachable, wrong credentials,
//! missing database, missing permission), each with its own exit code.

use crate::dialect::{dialect_for, Dialect};
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::target::DbTarget;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sqlx::{AssertSqlSafe, ConnectOptions, Connection, Row};
use std::str::FromStr;
use std::time::Duration;

/// The engine-specific connection.
pub enum Conn {
    /// PostgreSQL.
    Pg(PgConnection),
    /// MariaDB.
    My(MySqlConnection),
    /// SQLite.
    Lite(SqliteConnection),
}

/// An open database.
pub struct Db {
    target: DbTarget,
    conn: Conn,
}

/// How long a connection attempt may take before the server counts as
/// unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Connects to an existing database.
    pub async fn connect(target: &DbTarget) -> Result<Db> {
        Self::open(target, false).await
    }

    /// Connects, creating the SQLite file when it does not exist (server
    /// databases must exist already).
    pub async fn connect_or_create(target: &DbTarget) -> Result<Db> {
        Self::open(target, true).await
    }

    async fn open(target: &DbTarget, create: bool) -> Result<Db> {
        let attempt = async {
            match target.engine() {
                Engine::Postgres => {
                    let mut opts = PgConnectOptions::from_str(target.driver_url().unwrap_or(""))
                        .map_err(|e| bad_url(target, e))?
                        .application_name("transit");
                    if let Some(pw) = target.password() {
                        opts = opts.password(pw);
                    }
                    if plain_first(target) {
                        let plain = opts.clone().ssl_mode(sqlx::postgres::PgSslMode::Disable);
                        if let Ok(conn) = plain.connect().await {
                            return Ok(Conn::Pg(conn));
                        }
                    }
                    opts.connect().await.map(Conn::Pg)
                }
                Engine::MySql => {
                    let mut opts = MySqlConnectOptions::from_str(target.driver_url().unwrap_or(""))
                        .map_err(|e| bad_url(target, e))?
                        .charset("utf8mb4");
                    if let Some(pw) = target.password() {
                        opts = opts.password(pw);
                    }
                    if plain_first(target) {
                        let plain = opts.clone().ssl_mode(sqlx::mysql::MySqlSslMode::Disabled);
                        if let Ok(conn) = plain.connect().await {
                            return Ok(Conn::My(conn));
                        }
                    }
                    opts.connect().await.map(Conn::My)
                }
                Engine::Sqlite => {
                    let path = target.sqlite_path().unwrap_or(std::path::Path::new(""));
                    if !create && !path.exists() {
                        return Err(DbError::MissingDatabase {
                            target: target.to_string(),
                            hint: " (no such SQLite file)",
                        });
                    }
                    let opts = SqliteConnectOptions::new()
                        .filename(path)
                        .create_if_missing(create)
                        .journal_mode(SqliteJournalMode::Wal)
                        .foreign_keys(true);
                    opts.connect().await.map(Conn::Lite)
                }
            }
            .map_err(|e| classify_connect(target, e))
        };
        let conn = tokio::time::timeout(CONNECT_TIMEOUT, attempt)
            .await
            .map_err(|_| DbError::Unreachable {
                target: target.to_string(),
                cause: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
            })??;
        Ok(Db {
            target: target.clone(),
            conn,
        })
    }

    /// The database this connection is to.
    pub fn target(&self) -> &DbTarget {
        &self.target
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.target.engine()
    }

    /// The engine's dialect.
    pub fn dialect(&self) -> &'static dyn Dialect {
        dialect_for(self.engine())
    }

    /// The driver connection, for engine-specific paths (bulk loads).
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// The driver connection, taken out (a bulk writer keeps it).
    pub fn into_conn(self) -> Conn {
        self.conn
    }

    /// Runs one or more statements without results; returns the rows
    /// affected. Permission errors become [`DbError::Permission`].
    pub async fn exec(&mut self, sql: &str) -> Result<u64> {
        let sql_owned = AssertSqlSafe(sql.to_string());
        let result = match &mut self.conn {
            Conn::Pg(c) => sqlx::raw_sql(sql_owned)
                .execute(c)
                .await
                .map(|r| r.rows_affected()),
            Conn::My(c) => sqlx::raw_sql(sql_owned)
                .execute(c)
                .await
                .map(|r| r.rows_affected()),
            Conn::Lite(c) => sqlx::raw_sql(sql_owned)
                .execute(c)
                .await
                .map(|r| r.rows_affected()),
        };
        result.map_err(|e| self.classify(e, sql))
    }

    /// Runs a query and returns every row, each column as text (NULL as
    /// `None`; numbers in their decimal form; bytes decoded lossily).
    pub async fn rows(&mut self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let sql_owned = AssertSqlSafe(sql.to_string());
        let result = match &mut self.conn {
            Conn::Pg(c) => sqlx::raw_sql(sql_owned)
                .fetch_all(c)
                .await
                .and_then(|rows| rows.iter().map(texts_pg).collect()),
            Conn::My(c) => sqlx::raw_sql(sql_owned)
                .fetch_all(c)
                .await
                .and_then(|rows| rows.iter().map(texts_my).collect()),
            Conn::Lite(c) => sqlx::raw_sql(sql_owned)
                .fetch_all(c)
                .await
                .and_then(|rows| rows.iter().map(texts_lite).collect()),
        };
        result.map_err(|e| self.classify(e, sql))
    }

    /// The first column of the first row as an integer (0 without rows
    /// or for NULL).
    pub async fn count(&mut self, sql: &str) -> Result<i64> {
        let rows = self.rows(sql).await?;
        let text = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
            .unwrap_or_default();
        Ok(text
            .parse::<i64>()
            .or_else(|_| text.parse::<f64>().map(|f| f as i64))
            .unwrap_or(0))
    }

    /// Closes the connection.
    pub async fn close(self) -> Result<()> {
        let result = match self.conn {
            Conn::Pg(c) => c.close().await,
            Conn::My(c) => c.close().await,
            Conn::Lite(c) => c.close().await,
        };
        result.map_err(DbError::sql("closing the connection"))
    }

    /// True when `table` (a vendor name) exists.
    pub async fn table_exists(&mut self, table: &str) -> Result<bool> {
        let physical = self.dialect().physical(table);
        let sql = match self.engine() {
            Engine::Postgres => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{}'",
                physical.replace('\'', "''")
            ),
            Engine::MySql => format!(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{}'",
                physical.replace('\'', "''")
            ),
            Engine::Sqlite => format!(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '{}' COLLATE NOCASE",
                physical.replace('\'', "''")
            ),
        };
        Ok(self.count(&sql).await? > 0)
    }

    /// The number of rows in `table` (a vendor name).
    pub async fn row_count(&mut self, table: &str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {}", self.dialect().ident(table));
        self.count(&sql).await
    }

    /// Sorts a driver error: permission problems become
    /// [`DbError::Permission`], anything else [`DbError::Sql`] naming the
    /// statement's start.
    pub fn classify(&self, err: sqlx::Error, sql: &str) -> DbError {
        if is_permission(&err) {
            return DbError::Permission {
                target: self.target.to_string(),
                user: self.target.user(),
                missing: format!("run `{}`", statement_head(sql)),
                hint: "; see `transit db setup-user`",
            };
        }
        DbError::Sql {
            context: format!("{}: `{}`", self.target, statement_head(sql)),
            source: err,
        }
    }
}

macro_rules! try_as_text {
    ($row:expr, $i:expr, $($ty:ty),+) => {{
        let row = $row;
        let i = $i;
        $(
            if let Ok(v) = row.try_get::<Option<$ty>, _>(i) {
                return Ok(v.map(|v| v.to_string()));
            }
        )+
        row.try_get::<Option<Vec<u8>>, _>(i)
            .map(|v| v.map(|b| String::from_utf8_lossy(&b).into_owned()))
    }};
}

fn cell_pg(
    row: &sqlx::postgres::PgRow,
    i: usize,
) -> std::result::Result<Option<String>, sqlx::Error> {
    try_as_text!(row, i, String, i64, i32, i16, f64, f32, bool)
}

fn cell_my(
    row: &sqlx::mysql::MySqlRow,
    i: usize,
) -> std::result::Result<Option<String>, sqlx::Error> {
    try_as_text!(row, i, String, i64, u64, i32, f64)
}

fn cell_lite(
    row: &sqlx::sqlite::SqliteRow,
    i: usize,
) -> std::result::Result<Option<String>, sqlx::Error> {
    try_as_text!(row, i, String, i64, f64)
}

fn texts_pg(row: &sqlx::postgres::PgRow) -> std::result::Result<Vec<Option<String>>, sqlx::Error> {
    (0..row.len()).map(|i| cell_pg(row, i)).collect()
}

fn texts_my(row: &sqlx::mysql::MySqlRow) -> std::result::Result<Vec<Option<String>>, sqlx::Error> {
    (0..row.len()).map(|i| cell_my(row, i)).collect()
}

fn texts_lite(
    row: &sqlx::sqlite::SqliteRow,
) -> std::result::Result<Vec<Option<String>>, sqlx::Error> {
    (0..row.len()).map(|i| cell_lite(row, i)).collect()
}

/// The first words of a statement, for messages.
fn statement_head(sql: &str) -> String {
    let flat: String = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 80 {
        format!("{}…", flat.chars().take(80).collect::<String>())
    } else {
        flat
    }
}

fn bad_url(target: &DbTarget, err: sqlx::Error) -> DbError {
    DbError::BadUrl {
        url: target.to_string(),
        reason: err.to_string(),
    }
}

/// True for "permission denied" errors of any engine.
pub(crate) fn is_permission(err: &sqlx::Error) -> bool {
    let Some(db) = err.as_database_error() else {
        return false;
    };
    if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
        // 1044 access denied to database, 1142 command denied to user on
        // table, 1227 needs a privilege, 1045 is login (not here).
        return matches!(my.number(), 1044 | 1142 | 1143 | 1227 | 1370);
    }
    if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
        return pg.code() == "42501";
    }
    if let Some(code) = db.code() {
        // SQLITE_READONLY (8) and its extended codes, SQLITE_PERM (3).
        if let Ok(n) = code.parse::<i32>() {
            return n & 0xff == 8 || n & 0xff == 3;
        }
    }
    false
}

/// Sorts a connect failure into the bad-input cases.
fn classify_connect(target: &DbTarget, err: sqlx::Error) -> DbError {
    let text = target.to_string();
    match &err {
        sqlx::Error::Io(io) => {
            return DbError::Unreachable {
                target: text,
                cause: io.to_string(),
            }
        }
        sqlx::Error::Tls(e) => {
            return DbError::Unreachable {
                target: text,
                cause: format!("TLS: {e}"),
            }
        }
        _ => {}
    }
    if let Some(db) = err.as_database_error() {
        if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
            match my.number() {
                1045 | 1698 => {
                    return DbError::Credentials {
                        target: text,
                        cause: my.message().to_string(),
                    }
                }
                1049 => {
                    return DbError::MissingDatabase {
                        target: text,
                        hint: " (create it first, e.g. CREATE DATABASE)",
                    }
                }
                1044 => {
                    return DbError::Permission {
                        target: text,
                        user: target.user(),
                        missing: "use this database".into(),
                        hint: "; see `transit db setup-user`",
                    }
                }
                _ => {}
            }
        }
        if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
            match pg.code() {
                "28P01" | "28000" => {
                    return DbError::Credentials {
                        target: text,
                        cause: pg.message().to_string(),
                    }
                }
                "3D000" => {
                    return DbError::MissingDatabase {
                        target: text,
                        hint: " (create it first, e.g. createdb)",
                    }
                }
                "42501" => {
                    return DbError::Permission {
                        target: text,
                        user: target.user(),
                        missing: "connect to this database".into(),
                        hint: "; see `transit db setup-user`",
                    }
                }
                _ => {}
            }
        }
        if target.engine() == Engine::Sqlite {
            return DbError::MissingDatabase {
                target: text,
                hint: " (cannot open the SQLite file)",
            };
        }
    }
    DbError::Sql {
        context: format!("connecting to {text}"),
        source: err,
    }
}

/// True when a server connection may try without TLS first: the host is a
/// loopback address and the URL leaves the TLS mode to the default
/// (`prefer`). TLS on the loopback protects nothing, and each handshake
/// costs about 0.1 s on a loaded machine, which a migration opening a few
/// connections per table pays many times. A server that insists on TLS
/// (a `hostssl`-only `pg_hba.conf`, `require_secure_transport`) refuses
/// the plain attempt, and the connection is made again with TLS.
pub(crate) fn plain_first(target: &DbTarget) -> bool {
    let Some((host, _)) = target.host_port() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let url = target.driver_url().unwrap_or("").to_ascii_lowercase();
    loopback && !url.contains("sslmode") && !url.contains("ssl-mode")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_heads_are_short() {
        let long = "SELECT ".to_string() + &"x, ".repeat(50);
        assert!(statement_head(&long).ends_with('…'));
        assert_eq!(statement_head("SELECT\n  1"), "SELECT 1");
    }

    #[test]
    fn only_loopback_urls_without_a_tls_mode_try_plain_first() {
        let first = |url: &str| plain_first(&DbTarget::parse(url).unwrap());
        assert!(first("postgres://postgres@127.0.0.1:5432/test"));
        assert!(first("postgres://u@localhost/db"));
        assert!(first("mysql://root@[::1]:3306/test"));
        assert!(!first("postgres://u@db.example.com/db"));
        assert!(!first("postgres://u@10.0.0.5/db"));
        assert!(!first("postgres://u@127.0.0.1/db?sslmode=require"));
        assert!(!first("mysql://root@127.0.0.1/test?ssl-mode=REQUIRED"));
        assert!(!first("sqlite:///tmp/x.db"));
    }
}
