//! MariaDB/MySQL: backquoted identifiers, utf8mb4 with a binary
//! collation, `NOT EXISTS` and `ON DUPLICATE KEY UPDATE`, multi-row INSERT.

use super::{key_match, timestamp_text, BulkFormat, Dialect, Value};
use crate::engine::Engine;
use crate::schema::{SqlType, Table};

/// The MariaDB dialect.
#[derive(Debug, Clone, Copy)]
pub struct MySqlDialect;

impl Dialect for MySqlDialect {
    fn engine(&self) -> Engine {
        Engine::MySql
    }

    fn quote(&self, physical: &str) -> String {
        format!("`{}`", physical.replace('`', "``"))
    }

    fn column_type(&self, ty: SqlType) -> String {
        match ty {
            SqlType::SmallInt => "SMALLINT".into(),
            SqlType::Int => "INT".into(),
            SqlType::BigInt => "BIGINT".into(),
            SqlType::Float => "DOUBLE".into(),
            SqlType::Varchar(n) => format!("VARCHAR({n})"),
            SqlType::Char(n) => format!("CHAR({n})"),
            SqlType::Text => "MEDIUMTEXT".into(),
            SqlType::Timestamp => "DATETIME".into(),
            SqlType::Blob => "LONGBLOB".into(),
        }
    }

    fn table_options(&self) -> &'static str {
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
    }

    fn drop_indexes(&self, table: &Table) -> Vec<String> {
        table
            .indexes
            .iter()
            .map(|ix| {
                format!(
                    "DROP INDEX IF EXISTS {} ON {}",
                    self.ident(&ix.name),
                    self.ident(&table.name)
                )
            })
            .collect()
    }

    fn insert_missing(&self, target: &str, source: &str, columns: &[&str], key: &[&str]) -> String {
        let cols = self.ident_list(columns);
        let s_cols: Vec<String> = columns
            .iter()
            .map(|c| format!("s.{}", self.ident(c)))
            .collect();
        format!(
            "INSERT INTO {t} ({cols}) SELECT {} FROM {} s WHERE NOT EXISTS (SELECT 1 FROM {t} x WHERE {})",
            s_cols.join(", "),
            self.ident(source),
            key_match(self, "x", "s", key),
            t = self.ident(target),
        )
    }

    fn upsert(&self, target: &str, source: &str, columns: &[&str], key: &[&str]) -> String {
        let cols = self.ident_list(columns);
        let sets: Vec<String> = columns
            .iter()
            .filter(|c| !key.contains(c))
            .map(|c| format!("{0} = s.{0}", self.ident(c)))
            .collect();
        format!(
            "INSERT INTO {} ({cols}) SELECT * FROM (SELECT {cols} FROM {}) s ON DUPLICATE KEY UPDATE {}",
            self.ident(target),
            self.ident(source),
            sets.join(", ")
        )
    }

    /// `FOREIGN_KEY_CHECKS` and `UNIQUE_CHECKS` are session switches;
    /// secondary indexes are dropped and rebuilt by the caller.
    fn suspend_checks(&self, _table: &Table) -> Vec<String> {
        vec![
            "SET SESSION foreign_key_checks = 0".into(),
            "SET SESSION unique_checks = 0".into(),
        ]
    }

    fn resume_checks(&self, _table: &Table) -> Vec<String> {
        vec![
            "SET SESSION unique_checks = 1".into(),
            "SET SESSION foreign_key_checks = 1".into(),
        ]
    }

    fn bulk_format(&self) -> BulkFormat {
        BulkFormat::MultiRowInsert
    }

    fn literal(&self, value: &Value, out: &mut String) {
        match value {
            Value::Null => out.push_str("NULL"),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&format!("{f:?}")),
            Value::Text(s) => {
                out.push('\'');
                for c in s.chars() {
                    match c {
                        '\'' => out.push_str("\\'"),
                        '\\' => out.push_str("\\\\"),
                        '\0' => out.push_str("\\0"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\u{1a}' => out.push_str("\\Z"),
                        _ => out.push(c),
                    }
                }
                out.push('\'');
            }
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
        format!("CAST({expr} AS CHAR)")
    }
}
