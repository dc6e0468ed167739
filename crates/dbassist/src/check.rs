//! `transit db check`: the vendor's MigrationCheck, run before and after a
//! migration. Each check passes or fails on its own:
//! - **connection**: the server answers and takes the login;
//! - **permissions**: the user may create, insert into, delete from and
//!   alter tables (probed on a scratch table inside a transaction that is
//!   rolled back, or read from the privilege tables on MariaDB, where DDL
//!   cannot be rolled back);
//! - **schema version**: the version table's state (against an expected
//!   version when one is given);
//! - **disabled objects**: PostgreSQL `NOT VALID` constraints, invalid
//!   indexes and disabled triggers; MariaDB `FOREIGN_KEY_CHECKS`; SQLite
//!   `PRAGMA foreign_keys` and `PRAGMA foreign_key_check`.

use crate::db::Db;
use crate::engine::Engine;
use crate::error::{DbError, Result};
use crate::schema::Version;
use crate::target::DbTarget;
use crate::version;
use serde::Serialize;

/// One check's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CheckItem {
    /// "connection", "permissions", "schema version", "disabled objects".
    pub name: &'static str,
    /// Pass or fail.
    pub passed: bool,
    /// What was found.
    pub detail: String,
}

/// Every check, in order.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// The database (redacted URL).
    pub target: String,
    /// The engine's name.
    pub engine: &'static str,
    /// The schema version found, when the connection worked.
    pub schema_version: Option<String>,
    /// The checks.
    pub checks: Vec<CheckItem>,
    /// The first failure as an error (its kind gives the exit code).
    #[serde(skip)]
    pub failure: Option<DbError>,
}

impl CheckReport {
    /// True when every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.passed)
    }
}

/// A permission the DB assistant needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// CREATE TABLE.
    Create,
    /// INSERT.
    Insert,
    /// DELETE.
    Delete,
    /// ALTER TABLE.
    Alter,
}

impl Permission {
    /// Every permission checked, in probe order.
    pub const ALL: [Permission; 4] = [
        Permission::Create,
        Permission::Insert,
        Permission::Alter,
        Permission::Delete,
    ];

    /// Its SQL word.
    pub fn word(self) -> &'static str {
        match self {
            Permission::Create => "create",
            Permission::Insert => "insert",
            Permission::Delete => "delete",
            Permission::Alter => "alter",
        }
    }
}

/// Connects and runs every check. Connection failures are reported as a
/// failed first check (and as [`CheckReport::failure`]), not returned.
pub async fn check(target: &DbTarget, expect: Option<Version>) -> CheckReport {
    match Db::connect(target).await {
        Ok(mut db) => {
            let report = check_db(&mut db, expect).await;
            let _ = db.close().await;
            report
        }
        Err(err) => CheckReport {
            target: target.to_string(),
            engine: target.engine().name(),
            schema_version: None,
            checks: vec![CheckItem {
                name: "connection",
                passed: false,
                detail: err.to_string(),
            }],
            failure: Some(err),
        },
    }
}

/// Runs the checks on an open connection.
pub async fn check_db(db: &mut Db, expect: Option<Version>) -> CheckReport {
    let mut report = CheckReport {
        target: db.target().to_string(),
        engine: db.engine().name(),
        schema_version: None,
        checks: vec![CheckItem {
            name: "connection",
            passed: true,
            detail: match db.engine() {
                Engine::Sqlite => "opened the file".to_string(),
                _ => format!("connected as `{}`", db.target().user()),
            },
        }],
        failure: None,
    };
    let fail = |report: &mut CheckReport, name, detail: String, err: DbError| {
        report.checks.push(CheckItem {
            name,
            passed: false,
            detail,
        });
        if report.failure.is_none() {
            report.failure = Some(err);
        }
    };

    match missing_permissions(db).await {
        Ok(missing) if missing.is_empty() => report.checks.push(CheckItem {
            name: "permissions",
            passed: true,
            detail: "create, insert, delete, alter".into(),
        }),
        Ok(missing) => {
            let err = permission_error(db, &missing);
            fail(&mut report, "permissions", err.to_string(), err);
        }
        Err(err) => fail(&mut report, "permissions", err.to_string(), err),
    }

    match version::read(db).await {
        Ok(status) => {
            let label = status.label();
            report.schema_version = Some(label.clone());
            let wrong = match expect {
                Some(v) => status.current != Some(v) || !status.missing.is_empty(),
                None => status.current.is_none() || !status.missing.is_empty(),
            };
            if wrong {
                let wanted = expect.map_or_else(
                    || "a complete CIC schema (3.0 or 2015 R1) is needed".to_string(),
                    |v| format!("{v} is needed"),
                );
                let err = DbError::WrongVersion {
                    target: db.target().to_string(),
                    found: label.clone(),
                    wanted,
                };
                fail(&mut report, "schema version", err.to_string(), err);
            } else {
                report.checks.push(CheckItem {
                    name: "schema version",
                    passed: true,
                    detail: label,
                });
            }
        }
        Err(err) => fail(&mut report, "schema version", err.to_string(), err),
    }

    match disabled_objects(db).await {
        Ok(found) if found.is_empty() => report.checks.push(CheckItem {
            name: "disabled objects",
            passed: true,
            detail: "none".into(),
        }),
        Ok(found) => {
            let err = DbError::DisabledObjects {
                target: db.target().to_string(),
                count: found.len(),
            };
            fail(&mut report, "disabled objects", found.join("; "), err);
        }
        Err(err) => fail(&mut report, "disabled objects", err.to_string(), err),
    }
    report
}

/// The error for missing permissions.
pub fn permission_error(db: &Db, missing: &[Permission]) -> DbError {
    let words: Vec<&str> = missing.iter().map(|p| p.word()).collect();
    DbError::Permission {
        target: db.target().to_string(),
        user: db.target().user(),
        missing: words.join(", "),
        hint: "; grant them or use `transit db setup-user`",
    }
}

/// Fails with [`DbError::Permission`] unless the user has `needed`.
pub async fn require(db: &mut Db, needed: &[Permission]) -> Result<()> {
    let missing: Vec<Permission> = missing_permissions(db)
        .await?
        .into_iter()
        .filter(|p| needed.contains(p))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(permission_error(db, &missing))
    }
}

/// The permissions the user lacks. Nothing is left behind: the probe runs
/// in a transaction that is rolled back (PostgreSQL, SQLite), or reads the
/// privilege tables (MariaDB).
pub async fn missing_permissions(db: &mut Db) -> Result<Vec<Permission>> {
    match db.engine() {
        Engine::MySql => mysql_missing(db).await,
        Engine::Postgres | Engine::Sqlite => probe_missing(db).await,
    }
}

async fn probe_missing(db: &mut Db) -> Result<Vec<Permission>> {
    let d = db.dialect();
    let table = d.ident(&format!("transit_probe_{}", std::process::id()));
    let steps = [
        (
            Permission::Create,
            format!("CREATE TABLE {table} (id integer)"),
        ),
        (
            Permission::Insert,
            format!("INSERT INTO {table} VALUES (1)"),
        ),
        (
            Permission::Alter,
            format!("ALTER TABLE {table} ADD COLUMN note varchar(10)"),
        ),
        (Permission::Delete, format!("DELETE FROM {table}")),
    ];
    db.exec("BEGIN").await?;
    let mut missing = Vec::new();
    for (i, (permission, sql)) in steps.iter().enumerate() {
        match db.exec(sql).await {
            Ok(_) => {}
            Err(DbError::Permission { .. }) => {
                // A failed statement ends what can be probed: the later
                // steps need the table (and PostgreSQL aborts the
                // transaction), so they count as missing too.
                missing.extend(steps[i..].iter().map(|(p, _)| *p));
                break;
            }
            Err(err) => {
                let _ = db.exec("ROLLBACK").await;
                return Err(err);
            }
        }
        let _ = permission;
    }
    db.exec("ROLLBACK").await?;
    Ok(missing)
}

async fn mysql_missing(db: &mut Db) -> Result<Vec<Permission>> {
    let grantee = "CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
    let sql = format!(
        "SELECT CAST(PRIVILEGE_TYPE AS CHAR) FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = {grantee} \
         UNION SELECT CAST(PRIVILEGE_TYPE AS CHAR) FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = {grantee} AND TABLE_SCHEMA = DATABASE()"
    );
    let have: Vec<String> = db
        .rows(&sql)
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .map(|p| p.to_ascii_uppercase())
        .collect();
    Ok(Permission::ALL
        .into_iter()
        .filter(|p| !have.iter().any(|h| h == &p.word().to_ascii_uppercase()))
        .collect())
}

/// Disabled constraints, indexes and triggers, one line each.
pub async fn disabled_objects(db: &mut Db) -> Result<Vec<String>> {
    let mut found = Vec::new();
    match db.engine() {
        Engine::Postgres => {
            let constraints =
                "SELECT c.conrelid::regclass::text, c.conname::text FROM pg_constraint c \
                JOIN pg_namespace n ON n.oid = c.connamespace \
                WHERE n.nspname = current_schema() AND NOT c.convalidated ORDER BY 1, 2";
            for row in db.rows(constraints).await? {
                found.push(format!(
                    "constraint {} on {} is NOT VALID",
                    cell(&row, 1),
                    cell(&row, 0)
                ));
            }
            let indexes = "SELECT i.indexrelid::regclass::text, i.indrelid::regclass::text FROM pg_index i \
                JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                WHERE n.nspname = current_schema() AND (NOT i.indisvalid OR NOT i.indisready) ORDER BY 1";
            for row in db.rows(indexes).await? {
                found.push(format!(
                    "index {} on {} is invalid",
                    cell(&row, 0),
                    cell(&row, 1)
                ));
            }
            let triggers = "SELECT t.tgrelid::regclass::text, t.tgname::text FROM pg_trigger t \
                JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                WHERE n.nspname = current_schema() AND NOT t.tgisinternal AND t.tgenabled = 'D' ORDER BY 1, 2";
            for row in db.rows(triggers).await? {
                found.push(format!(
                    "trigger {} on {} is disabled",
                    cell(&row, 1),
                    cell(&row, 0)
                ));
            }
        }
        Engine::MySql => {
            let row = db
                .rows("SELECT @@SESSION.foreign_key_checks + 0, @@GLOBAL.foreign_key_checks + 0")
                .await?;
            let row = row.into_iter().next().unwrap_or_default();
            if cell(&row, 0) == "0" {
                found.push("FOREIGN_KEY_CHECKS is off for this session".into());
            }
            if cell(&row, 1) == "0" {
                found.push("FOREIGN_KEY_CHECKS is off globally".into());
            }
        }
        Engine::Sqlite => {
            if db.count("PRAGMA foreign_keys").await? == 0 {
                found.push("PRAGMA foreign_keys is off".into());
            }
            let violations = db
                .rows("PRAGMA foreign_key_check")
                .await
                .unwrap_or_default();
            if !violations.is_empty() {
                found.push(format!(
                    "{} row(s) violate foreign keys (first in table {})",
                    violations.len(),
                    cell(&violations[0], 0)
                ));
            }
        }
    }
    Ok(found)
}

fn cell(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}
