//! The version table (`ININ_APP_VERSION`): one row per build script applied
//! per schema version. A database is at a version when every build script
//! of that version is recorded.

use crate::db::Db;
use crate::error::Result;
use crate::schema::{Schema, Version, VERSION_TABLE};
use serde::Serialize;

/// What the version table says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaStatus {
    /// True when the version table exists.
    pub has_version_table: bool,
    /// The newest version whose build scripts are all applied.
    pub current: Option<Version>,
    /// The build scripts applied, as (version, build).
    pub applied: Vec<(Version, String)>,
    /// Build scripts of a started but unfinished version.
    pub missing: Vec<(Version, String)>,
}

impl SchemaStatus {
    /// "3.0", "2015 R1", "none", or "3.0 (2015 R1 incomplete: …)".
    pub fn label(&self) -> String {
        let base = self
            .current
            .map_or_else(|| "none".to_string(), |v| v.label().to_string());
        if self.missing.is_empty() {
            base
        } else {
            let names: Vec<String> = self
                .missing
                .iter()
                .map(|(v, b)| format!("{v} {b}"))
                .collect();
            format!("{base} (incomplete: missing {})", names.join(", "))
        }
    }

    /// True when `build` of `version` is recorded.
    pub fn has(&self, version: Version, build: &str) -> bool {
        self.applied
            .iter()
            .any(|(v, b)| *v == version && b.eq_ignore_ascii_case(build))
    }
}

/// `CREATE TABLE` for the version table.
pub fn create_sql(db: &Db) -> String {
    let d = db.dialect();
    format!(
        "CREATE TABLE {} ({} {} NOT NULL, {} {} NOT NULL, {} {} NOT NULL, PRIMARY KEY ({}, {})){}",
        d.ident(VERSION_TABLE),
        d.ident("SchemaVersion"),
        d.column_type(crate::schema::SqlType::Varchar(20)),
        d.ident("BuildScript"),
        d.column_type(crate::schema::SqlType::Varchar(40)),
        d.ident("AppliedUTC"),
        d.column_type(crate::schema::SqlType::Varchar(20)),
        d.ident("SchemaVersion"),
        d.ident("BuildScript"),
        d.table_options()
    )
}

/// `INSERT` recording one build script.
pub fn record_sql(db: &Db, version: Version, build: &str) -> String {
    let d = db.dialect();
    format!(
        "INSERT INTO {} ({}, {}, {}) VALUES ('{}', '{}', '{}')",
        d.ident(VERSION_TABLE),
        d.ident("SchemaVersion"),
        d.ident("BuildScript"),
        d.ident("AppliedUTC"),
        version.label(),
        build.replace('\'', "''"),
        transit_core::time::rfc3339(transit_core::time::now())
    )
}

/// Reads the version table.
pub async fn read(db: &mut Db) -> Result<SchemaStatus> {
    let schema = Schema::reference();
    if !db.table_exists(VERSION_TABLE).await? {
        return Ok(SchemaStatus {
            has_version_table: false,
            current: None,
            applied: Vec::new(),
            missing: Vec::new(),
        });
    }
    let d = db.dialect();
    let sql = format!(
        "SELECT {}, {} FROM {}",
        d.ident("SchemaVersion"),
        d.ident("BuildScript"),
        d.ident(VERSION_TABLE)
    );
    let applied: Vec<(Version, String)> = db
        .rows(&sql)
        .await?
        .into_iter()
        .filter_map(|row| {
            let version = Version::parse(row.first()?.as_deref()?)?;
            Some((version, row.get(1)?.clone()?))
        })
        .collect();
    let mut status = SchemaStatus {
        has_version_table: true,
        current: None,
        applied,
        missing: Vec::new(),
    };
    for version in Version::ALL {
        let builds = schema.builds_at(version);
        let missing: Vec<(Version, String)> = builds
            .iter()
            .filter(|b| !status.has(version, b))
            .map(|b| (version, b.to_string()))
            .collect();
        if missing.is_empty() {
            status.current = Some(version);
        } else {
            if missing.len() < builds.len() {
                status.missing = missing;
            }
            break;
        }
    }
    Ok(status)
}
