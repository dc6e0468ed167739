//! `transit db setup-user`: the least-privilege migration user that the
//! vendor's `SetupMigratorUser.sql` creates, per engine.
//!
//! The user may log in, create tables (audit, staging and key-translation
//! tables, and the `transit_migration` run state), and read, insert,
//! update and delete the rows of the target's tables — what a migration
//! does, and no more (no superuser, no rights on other databases).
//! Running it again changes nothing but the password.
//!
//! - PostgreSQL: a `LOGIN` role with `CONNECT, CREATE, TEMPORARY` on the
//!   database, `USAGE, CREATE` on the schema, DML on every table and
//!   sequence, and the same by default on tables created later.
//! - MariaDB: a user `'NAME'@'HOST'` with DML and DDL on the database and
//!   everything on the `transit_migration` database.
//! - SQLite has no users: access is the file's permissions; nothing runs.
//!
//! The printed SQL (`--print-sql`) never holds the password: PostgreSQL's
//! uses psql's `:'password'` variable (`psql -v password=…`), MariaDB's a
//! `<password>` placeholder.

use crate::db::Db;
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::target::DbTarget;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// The user to set up.
#[derive(Debug, Clone)]
pub struct MigrationUser {
    /// Its name.
    pub name: String,
    /// The host it connects from (MariaDB; `%` for any).
    pub host: String,
    /// Its password, if it gets one.
    pub password: Option<SecretString>,
}

/// What `setup-user` did.
#[derive(Debug, Clone, Serialize)]
pub struct SetupReport {
    /// The database (redacted URL).
    pub target: String,
    /// The user.
    pub user: String,
    /// True when the user existed already.
    pub existed: bool,
    /// How many statements ran.
    pub statements: usize,
    /// A note for the engine (SQLite's).
    pub note: Option<String>,
}

/// How the password appears in the SQL.
enum PasswordText<'a> {
    /// As a literal (for running).
    Literal(&'a str),
    /// As a placeholder (for printing).
    Placeholder,
    /// None.
    Absent,
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(DbError::BadUrl {
            url: name.to_string(),
            reason: "a user name is 1–32 letters, digits, '_' or '-'".into(),
        })
    }
}

/// The statements for `user` on `target`, with the password as a
/// placeholder: what `--print-sql` shows.
pub fn print_sql(target: &DbTarget, user: &MigrationUser) -> Result<Vec<String>> {
    check_name(&user.name)?;
    let password = if user.password.is_some() {
        PasswordText::Placeholder
    } else {
        PasswordText::Absent
    };
    Ok(statements(target, user, password, "public"))
}

fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

fn statements(
    target: &DbTarget,
    user: &MigrationUser,
    password: PasswordText<'_>,
    schema: &str,
) -> Vec<String> {
    let db = target.database();
    match target.engine() {
        Engine::Postgres => {
            let role = format!("\"{}\"", user.name);
            let database = format!("\"{}\"", db.replace('"', "\"\""));
            let schema = format!("\"{}\"", schema.replace('"', "\"\""));
            let mut out = vec![format!(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {}) THEN CREATE ROLE {role} LOGIN; END IF; END $$",
                sql_string(&user.name)
            )];
            match password {
                PasswordText::Literal(p) => out.push(format!(
                    "ALTER ROLE {role} WITH LOGIN PASSWORD {}",
                    sql_string(p)
                )),
                PasswordText::Placeholder => {
                    out.push(format!("ALTER ROLE {role} WITH LOGIN PASSWORD :'password'"))
                }
                PasswordText::Absent => out.push(format!("ALTER ROLE {role} WITH LOGIN")),
            }
            let dml = "SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER";
            out.extend([
                format!("GRANT CONNECT, CREATE, TEMPORARY ON DATABASE {database} TO {role}"),
                format!("GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}"),
                format!("GRANT {dml} ON ALL TABLES IN SCHEMA {schema} TO {role}"),
                format!(
                    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"
                ),
                format!(
                    "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {dml} ON TABLES TO {role}"
                ),
            ]);
            out
        }
        Engine::MySql => {
            let account = format!("{}@{}", sql_string(&user.name), sql_string(&user.host));
            let database = format!("`{}`", db.replace('`', "``"));
            let mut out = vec![format!("CREATE USER IF NOT EXISTS {account}")];
            match password {
                PasswordText::Literal(p) => out.push(format!(
                    "ALTER USER {account} IDENTIFIED BY {}",
                    sql_string(p)
                )),
                PasswordText::Placeholder => {
                    out.push(format!("ALTER USER {account} IDENTIFIED BY '<password>'"))
                }
                PasswordText::Absent => {}
            }
            out.extend([
                format!(
                    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, ALTER, INDEX, \
                     CREATE TEMPORARY TABLES, LOCK TABLES, REFERENCES, TRIGGER, CREATE VIEW, SHOW VIEW \
                     ON {database}.* TO {account}"
                ),
                format!("GRANT ALL PRIVILEGES ON `transit_migration`.* TO {account}"),
            ]);
            out
        }
        Engine::Sqlite => Vec::new(),
    }
}

/// Creates (or updates) the migration user.
pub async fn setup_user(db: &mut Db, user: &MigrationUser) -> Result<SetupReport> {
    check_name(&user.name)?;
    let target = db.target().clone();
    let mut report = SetupReport {
        target: target.to_string(),
        user: user.name.clone(),
        existed: false,
        statements: 0,
        note: None,
    };
    let schema = match db.engine() {
        Engine::Sqlite => {
            report.note = Some(
                "SQLite has no users: whoever may read and write the file may migrate it; nothing to do"
                    .into(),
            );
            return Ok(report);
        }
        Engine::Postgres => {
            report.existed = db
                .count(&format!(
                    "SELECT COUNT(*) FROM pg_roles WHERE rolname = {}",
                    sql_string(&user.name)
                ))
                .await?
                > 0;
            db.rows("SELECT current_schema()::text")
                .await?
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next().flatten())
                .unwrap_or_else(|| "public".into())
        }
        Engine::MySql => {
            report.existed = db
                .count(&format!(
                    "SELECT COUNT(*) FROM mysql.user WHERE User = {} AND Host = {}",
                    sql_string(&user.name),
                    sql_string(&user.host)
                ))
                .await
                .unwrap_or(0)
                > 0;
            String::new()
        }
    };
    let password = match &user.password {
        Some(p) => PasswordText::Literal(p.expose_secret()),
        None => PasswordText::Absent,
    };
    let list = statements(&target, user, password, &schema);
    for sql in &list {
        db.exec(sql).await?;
    }
    report.statements = list.len();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_sql_never_holds_the_password() {
        let user = MigrationUser {
            name: "migrator".into(),
            host: "%".into(),
            password: Some(SecretString::from("hunter2")),
        };
        for url in ["postgres://postgres@h/cic", "mysql://root@h/cic"] {
            let target = DbTarget::parse(url).unwrap();
            let sql = print_sql(&target, &user).unwrap().join(";\n");
            assert!(!sql.contains("hunter2"), "{sql}");
            assert!(sql.contains("migrator"));
        }
        let target = DbTarget::parse("sqlite://x.db").unwrap();
        assert!(print_sql(&target, &user).unwrap().is_empty());
    }

    #[test]
    fn odd_user_names_are_refused() {
        let target = DbTarget::parse("postgres://postgres@h/cic").unwrap();
        for name in ["", "a b", "x'; DROP", "-x"] {
            let user = MigrationUser {
                name: name.into(),
                host: "%".into(),
                password: None,
            };
            assert!(print_sql(&target, &user).is_err(), "{name}");
        }
    }
}
