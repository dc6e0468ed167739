//! SQLite: loose column types, `ON CONFLICT`, and table rebuilds where
//! `ALTER TABLE` cannot add a primary key.

use super::{standard_string, timestamp_text, BulkFormat, Dialect, Value};
use crate::engine::Engine;
use crate::schema::{SqlType, Table, Version};

/// The SQLite dialect.
#[derive(Debug, Clone, Copy)]
pub struct SqliteDialect;

impl Dialect for SqliteDialect {
    fn engine(&self) -> Engine {
        Engine::Sqlite
    }

    fn column_type(&self, ty: SqlType) -> String {
        match ty {
            SqlType::SmallInt => "SMALLINT".into(),
            SqlType::Int => "INTEGER".into(),
            SqlType::BigInt => "BIGINT".into(),
            SqlType::Float => "REAL".into(),
            SqlType::Varchar(n) => format!("VARCHAR({n})"),
            SqlType::Char(n) => format!("CHAR({n})"),
            SqlType::Text => "TEXT".into(),
            SqlType::Timestamp => "TIMESTAMP".into(),
            SqlType::Blob => "BLOB".into(),
        }
    }

    /// SQLite cannot add a primary key to a table: the table is rebuilt
    /// (new table, copy, drop, rename, indexes again), as SQLite's
    /// documentation prescribes for such changes. The caller runs the
    /// statements in one transaction.
    fn add_primary_key(&self, table: &Table, version: Version) -> Vec<String> {
        let new_name = format!("{}__transit_rebuild", table.name);
        let mut rebuilt = table.clone();
        rebuilt.name = new_name.clone();
        let old_cols: Vec<&str> = table
            .columns_at(version)
            .filter(|c| c.default.is_none() || c.since < version)
            .map(|c| c.name.as_str())
            .collect();
        let mut out = vec![self.create_table(&rebuilt, version)];
        out.push(format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {}",
            self.ident(&new_name),
            self.ident(&table.name),
            cols = self.ident_list(&old_cols)
        ));
        out.push(format!("DROP TABLE {}", self.ident(&table.name)));
        out.push(format!(
            "ALTER TABLE {} RENAME TO {}",
            self.ident(&new_name),
            self.ident(&table.name)
        ));
        out.extend(self.create_indexes(table));
        out
    }

    fn insert_missing(&self, target: &str, source: &str, columns: &[&str], key: &[&str]) -> String {
        let cols = self.ident_list(columns);
        format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} WHERE true ON CONFLICT ({}) DO NOTHING",
            self.ident(target),
            self.ident(source),
            self.ident_list(key)
        )
    }

    fn upsert(&self, target: &str, source: &str, columns: &[&str], key: &[&str]) -> String {
        let cols = self.ident_list(columns);
        let sets: Vec<String> = columns
            .iter()
            .filter(|c| !key.contains(c))
            .map(|c| format!("{0} = excluded.{0}", self.ident(c)))
            .collect();
        format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} WHERE true ON CONFLICT ({}) DO UPDATE SET {}",
            self.ident(target),
            self.ident(source),
            self.ident_list(key),
            sets.join(", ")
        )
    }

    /// `PRAGMA foreign_keys` is a per-connection switch (and a no-op inside
    /// a transaction, so the caller runs it outside one).
    fn suspend_checks(&self, _table: &Table) -> Vec<String> {
        vec!["PRAGMA foreign_keys = OFF".into()]
    }

    fn resume_checks(&self, table: &Table) -> Vec<String> {
        vec![
            "PRAGMA foreign_keys = ON".into(),
            format!("PRAGMA foreign_key_check({})", self.ident(&table.name)),
        ]
    }

    fn bulk_format(&self) -> BulkFormat {
        BulkFormat::PreparedBatch
    }

    fn literal(&self, value: &Value, out: &mut String) {
        match value {
            Value::Null => out.push_str("NULL"),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&format!("{f:?}")),
            Value::Text(s) if s.contains('\0') => {
                // A literal cannot hold NUL: build it from a blob.
                out.push_str("CAST(X'");
                out.push_str(&hex::encode(s.as_bytes()));
                out.push_str("' AS TEXT)");
            }
            Value::Text(s) => standard_string(s, out),
            Value::Bytes(b) => {
                out.push_str("X'");
                out.push_str(&hex::encode(b));
                out.push('\'');
            }
            Value::Timestamp(t) => {
                out.push('\'');
                timestamp_text(*t, out);
                out.push('\'');
            }
        }
    }

    fn cast_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS TEXT)")
    }
}
