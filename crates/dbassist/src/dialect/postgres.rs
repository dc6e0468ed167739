//! PostgreSQL: lower-case identifiers, `ON CONFLICT`, `COPY` text format.

use super::{standard_string, timestamp_text, BulkFormat, Dialect, Value};
use crate::engine::Engine;
use crate::schema::{SqlType, Table};

/// The PostgreSQL dialect.
#[derive(Debug, Clone, Copy)]
pub struct PostgresDialect;

impl Dialect for PostgresDialect {
    fn engine(&self) -> Engine {
        Engine::Postgres
    }

    fn physical(&self, name: &str) -> String {
        name.to_ascii_lowercase()
    }

    fn column_type(&self, ty: SqlType) -> String {
        match ty {
            SqlType::SmallInt => "smallint".into(),
            SqlType::Int => "integer".into(),
            SqlType::BigInt => "bigint".into(),
            SqlType::Float => "double precision".into(),
            SqlType::Varchar(n) => format!("varchar({n})"),
            SqlType::Char(n) => format!("char({n})"),
            SqlType::Text => "text".into(),
            SqlType::Timestamp => "timestamp(0) without time zone".into(),
            SqlType::Blob => "bytea".into(),
        }
    }

    fn insert_missing(&self, target: &str, source: &str, columns: &[&str], key: &[&str]) -> String {
        let cols = self.ident_list(columns);
        format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT ({}) DO NOTHING",
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
            .map(|c| format!("{0} = EXCLUDED.{0}", self.ident(c)))
            .collect();
        format!(
            "INSERT INTO {} ({cols}) SELECT {cols} FROM {} ON CONFLICT ({}) DO UPDATE SET {}",
            self.ident(target),
            self.ident(source),
            self.ident_list(key),
            sets.join(", ")
        )
    }

    /// Foreign keys are dropped and come back `NOT VALID`, then validated
    /// ([`Dialect::resume_checks`]); user triggers are disabled (which
    /// needs the table's owner).
    fn suspend_checks(&self, table: &Table) -> Vec<String> {
        let t = self.ident(&table.name);
        let mut out: Vec<String> = table
            .foreign_keys
            .iter()
            .map(|fk| {
                format!(
                    "ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {}",
                    self.ident(&super::fk_name(table, &fk.column))
                )
            })
            .collect();
        out.push(format!("ALTER TABLE {t} DISABLE TRIGGER USER"));
        out
    }

    fn resume_checks(&self, table: &Table) -> Vec<String> {
        let t = self.ident(&table.name);
        let mut out = vec![format!("ALTER TABLE {t} ENABLE TRIGGER USER")];
        for fk in &table.foreign_keys {
            let name = self.ident(&super::fk_name(table, &fk.column));
            out.push(format!(
                "ALTER TABLE {t} ADD CONSTRAINT {name} FOREIGN KEY ({}) REFERENCES {} ({}) NOT VALID",
                self.ident(&fk.column),
                self.ident(&fk.parent),
                self.ident(&fk.parent_column)
            ));
            out.push(format!("ALTER TABLE {t} VALIDATE CONSTRAINT {name}"));
        }
        out
    }

    fn bulk_format(&self) -> BulkFormat {
        BulkFormat::CopyText
    }

    fn literal(&self, value: &Value, out: &mut String) {
        match value {
            Value::Null => out.push_str("NULL"),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&format!("{f:?}")),
            Value::Text(s) => standard_string(s, out),
            Value::Bytes(b) => {
                out.push_str("'\\x");
                out.push_str(&hex::encode(b));
                out.push_str("'::bytea");
            }
            Value::Timestamp(t) => {
                out.push('\'');
                timestamp_text(*t, out);
                out.push('\'');
            }
        }
    }

    fn cast_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS text)")
    }
}

/// Appends one row in `COPY … FROM STDIN` text format (tab-separated,
/// `\N` for NULL, backslash escapes, `\\x` hex for bytes).
pub fn copy_row(values: &[Value], out: &mut Vec<u8>) {
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push(b'\t');
        }
        match value {
            Value::Null => out.extend_from_slice(b"\\N"),
            Value::Int(n) => out.extend_from_slice(itoa(*n).as_bytes()),
            Value::Float(f) => out.extend_from_slice(format!("{f:?}").as_bytes()),
            Value::Text(s) => copy_escape(s.as_bytes(), out),
            Value::Bytes(b) => {
                out.extend_from_slice(b"\\\\x");
                out.extend_from_slice(hex::encode(b).as_bytes());
            }
            Value::Timestamp(t) => {
                let mut s = String::with_capacity(19);
                timestamp_text(*t, &mut s);
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out.push(b'\n');
}

fn itoa(n: i64) -> String {
    n.to_string()
}

fn copy_escape(bytes: &[u8], out: &mut Vec<u8>) {
    for &b in bytes {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_rows_escape() {
        let mut out = Vec::new();
        copy_row(
            &[
                Value::Int(7),
                Value::Null,
                Value::Text("a\tb\\c\nd".into()),
                Value::Bytes(vec![0, 1]),
            ],
            &mut out,
        );
        assert_eq!(out, b"7\t\\N\ta\\tb\\\\c\\nd\t\\\\x0001\n");
    }
}
