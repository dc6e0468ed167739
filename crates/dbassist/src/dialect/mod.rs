//! What differs between the engines, as SQL text: identifier case and
//! quoting, column types, the DDL of the reference schema, the idempotency
//! clause (insert-if-missing and upsert), switching constraints, triggers
//! and secondary indexes off and on, and how rows are encoded for each
//! engine's bulk path ([`BulkFormat`]).
//!
//! A [`Dialect`] only builds text; [`crate::Db`] runs it. Each engine has
//! one static dialect ([`dialect_for`]).

mod mysql;
mod postgres;
mod sqlite;

use crate::engine::Engine;
use crate::schema::{SqlType, Table, Version};
pub use mysql::MySqlDialect;
pub use postgres::{copy_row, PostgresDialect};
pub use sqlite::SqliteDialect;
use time::PrimitiveDateTime;

/// One value to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Text (may hold NUL bytes, where the engine allows them).
    Text(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A date and time (no zone).
    Timestamp(PrimitiveDateTime),
}

/// How an engine takes rows in bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkFormat {
    /// PostgreSQL `COPY … FROM STDIN` in text format.
    CopyText,
    /// Multi-row `INSERT … VALUES (…), (…)` statements with literal values,
    /// in large transactions (MariaDB; `LOAD DATA LOCAL INFILE` is the
    /// faster path the copy engine adds on a second driver).
    MultiRowInsert,
    /// One prepared multi-row `INSERT` bound again and again inside one
    /// large transaction (SQLite).
    PreparedBatch,
}

/// The SQL differences of one engine.
pub trait Dialect: Send + Sync {
    /// The engine.
    fn engine(&self) -> Engine;

    /// The physical name of a vendor identifier (PostgreSQL folds to lower
    /// case, so that unquoted names work in psql).
    fn physical(&self, name: &str) -> String {
        name.to_string()
    }

    /// Quotes a physical identifier: standard SQL's double quotes, which
    /// PostgreSQL and SQLite use (MariaDB overrides with backticks).
    fn quote(&self, physical: &str) -> String {
        format!("\"{}\"", physical.replace('"', "\"\""))
    }

    /// A vendor identifier, folded and quoted.
    fn ident(&self, name: &str) -> String {
        self.quote(&self.physical(name))
    }

    /// A comma-separated list of quoted identifiers.
    fn ident_list(&self, names: &[&str]) -> String {
        names
            .iter()
            .map(|n| self.ident(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The column type.
    fn column_type(&self, ty: SqlType) -> String;

    /// Anything after `CREATE TABLE …(…)`.
    fn table_options(&self) -> &'static str {
        ""
    }

    /// The definition of one column (name, type, NOT NULL, default).
    fn column_def(&self, column: &crate::schema::Column) -> String {
        let mut def = format!(
            "{} {}",
            self.ident(&column.name),
            self.column_type(column.ty)
        );
        if let Some(default) = column.default {
            def.push_str(&format!(" DEFAULT {default}"));
        }
        if column.not_null {
            def.push_str(" NOT NULL");
        }
        def
    }

    /// `CREATE TABLE` for `table` as it is at `version` (foreign keys
    /// included; secondary indexes are [`Dialect::create_indexes`]).
    fn create_table(&self, table: &Table, version: Version) -> String {
        let mut parts: Vec<String> = table
            .columns_at(version)
            .map(|c| self.column_def(c))
            .collect();
        if table.key_at(version) {
            parts.push(format!(
                "CONSTRAINT {} PRIMARY KEY ({})",
                self.ident(&format!("PK_{}", table.name)),
                self.ident_list(&table.key())
            ));
        }
        for fk in &table.foreign_keys {
            parts.push(format!(
                "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
                self.ident(&fk_name(table, &fk.column)),
                self.ident(&fk.column),
                self.ident(&fk.parent),
                self.ident(&fk.parent_column)
            ));
        }
        format!(
            "CREATE TABLE {} (\n  {}\n){}",
            self.ident(&table.name),
            parts.join(",\n  "),
            self.table_options()
        )
    }

    /// `CREATE INDEX` for each secondary index of `table`.
    fn create_indexes(&self, table: &Table) -> Vec<String> {
        table
            .indexes
            .iter()
            .map(|ix| {
                let cols: Vec<&str> = ix.columns.iter().map(String::as_str).collect();
                format!(
                    "CREATE INDEX {} ON {} ({})",
                    self.ident(&ix.name),
                    self.ident(&table.name),
                    self.ident_list(&cols)
                )
            })
            .collect()
    }

    /// `DROP INDEX` for each secondary index of `table` (before a bulk
    /// load into an empty table; [`Dialect::create_indexes`] after).
    fn drop_indexes(&self, table: &Table) -> Vec<String> {
        // Standard form (PostgreSQL, SQLite): index names are schema-wide.
        table
            .indexes
            .iter()
            .map(|ix| format!("DROP INDEX IF EXISTS {}", self.ident(&ix.name)))
            .collect()
    }

    /// Adds a column that a newer version has, to an existing table.
    fn add_column(&self, table: &Table, column: &crate::schema::Column) -> String {
        format!(
            "ALTER TABLE {} ADD COLUMN {}",
            self.ident(&table.name),
            self.column_def(column)
        )
    }

    /// Statements that give an existing table its primary key (repair
    /// tables at 2015 R1), with the columns of `version`.
    fn add_primary_key(&self, table: &Table, version: Version) -> Vec<String> {
        let _ = version;
        vec![format!(
            "ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY ({})",
            self.ident(&table.name),
            self.ident(&format!("PK_{}", table.name)),
            self.ident_list(&table.key())
        )]
    }

    /// Inserts the rows of `source` whose key is not yet in `target`: the
    /// idempotency clause that makes a rerun insert nothing.
    fn insert_missing(&self, target: &str, source: &str, columns: &[&str], key: &[&str]) -> String;

    /// Inserts the rows of `source`, replacing the non-key columns of rows
    /// whose key is already in `target` (the Tracker update).
    fn upsert(&self, target: &str, source: &str, columns: &[&str], key: &[&str]) -> String;

    /// Statements that switch off foreign-key checks and triggers for a
    /// bulk load into `table` on this connection.
    fn suspend_checks(&self, table: &Table) -> Vec<String>;

    /// Statements that switch them on again and re-validate the rows.
    fn resume_checks(&self, table: &Table) -> Vec<String>;

    /// The engine's bulk path.
    fn bulk_format(&self) -> BulkFormat;

    /// Appends `value` as an SQL literal.
    fn literal(&self, value: &Value, out: &mut String);

    /// `CAST(expr AS text)` in this engine's words.
    fn cast_text(&self, expr: &str) -> String;
}

/// The dialect of `engine`.
pub fn dialect_for(engine: Engine) -> &'static dyn Dialect {
    match engine {
        Engine::Postgres => &PostgresDialect,
        Engine::MySql => &MySqlDialect,
        Engine::Sqlite => &SqliteDialect,
    }
}

/// The name of the foreign key on `column` of `table`.
pub fn fk_name(table: &Table, column: &str) -> String {
    format!("FK_{}_{}", table.name, column)
}

/// `YYYY-MM-DD hh:mm:ss`, the text form every engine reads.
pub fn timestamp_text(t: PrimitiveDateTime, out: &mut String) {
    use std::fmt::Write;
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
}

/// Appends a quoted string literal, doubling single quotes (the SQL
/// standard form PostgreSQL and SQLite read).
fn standard_string(text: &str, out: &mut String) {
    out.push('\'');
    for c in text.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
}

/// `a.k = b.k AND …` over `key`.
fn key_match(d: &dyn Dialect, left: &str, right: &str, key: &[&str]) -> String {
    key.iter()
        .map(|k| format!("{left}.{0} = {right}.{0}", d.ident(k)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn every_engine_writes_the_whole_schema() {
        let schema = Schema::reference();
        for engine in [Engine::Postgres, Engine::MySql, Engine::Sqlite] {
            let d = dialect_for(engine);
            for table in schema.tables_at(Version::R2015) {
                let sql = d.create_table(table, Version::R2015);
                assert!(sql.starts_with("CREATE TABLE"), "{sql}");
            }
        }
        let pg = dialect_for(Engine::Postgres);
        assert_eq!(pg.ident("CallDetail"), "\"calldetail\"");
        let my = dialect_for(Engine::MySql);
        assert_eq!(my.ident("Call`Detail"), "`Call``Detail`");
    }

    #[test]
    fn literals_escape_per_engine() {
        let v = Value::Text("it's\\\0x".into());
        let mut out = String::new();
        dialect_for(Engine::MySql).literal(&v, &mut out);
        assert_eq!(out, "'it\\'s\\\\\\0x'");
        out.clear();
        dialect_for(Engine::Sqlite).literal(&Value::Text("it's".into()), &mut out);
        assert_eq!(out, "'it''s'");
        out.clear();
        dialect_for(Engine::Postgres).literal(&Value::Bytes(vec![0, 255]), &mut out);
        assert_eq!(out, "'\\x00ff'::bytea");
    }
}
