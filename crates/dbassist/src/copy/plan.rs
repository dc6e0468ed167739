//! What is copied of one table: its columns (those both versions have), its
//! key (the reference schema's, declared or not), the filter, and the
//! `SELECT` each side runs.
//!
//! Rows are read in key order, in two segments: first the rows with a NULL
//! in a nullable key column (a 3.0 source may hold them; they travel as one
//! batch), then the others in key order, where a batch only ends where the
//! key changes. The resume position is the last key of the last committed
//! batch, and a resumed read asks for the keys after it.

use super::canon::CanonKind;
use crate::dialect::{Dialect, Value};
use crate::engine::Engine;
use crate::schema::{Column, SqlType, Table, Version};

/// Which rows a read asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Rows with a NULL in a key column.
    NullKeys,
    /// Rows with a full key, in key order, after the given key (text cells).
    Keys(Option<Vec<String>>),
    /// Every row, in no particular order (validation).
    All,
}

/// One table's copy plan.
#[derive(Debug, Clone)]
pub struct TablePlan {
    /// The table.
    pub table: &'static Table,
    /// The copied columns.
    pub columns: Vec<&'static Column>,
    /// Their canonical kinds.
    pub kinds: Vec<CanonKind>,
    /// Positions of the key columns in `columns`.
    pub key: Vec<usize>,
    /// True when a key column may be NULL on the source.
    pub nullable_key: bool,
    /// The `WHERE` condition, if any.
    pub filter: Option<String>,
}

impl TablePlan {
    /// The plan for `table` between a source at `from` and a target at `to`.
    pub fn new(table: &'static Table, from: Version, to: Version, filter: Option<String>) -> Self {
        let version = from.min(to);
        let columns: Vec<&Column> = table.columns_at(version).collect();
        let key: Vec<usize> = columns
            .iter()
            .enumerate()
            .filter(|(_, c)| c.key)
            .map(|(i, _)| i)
            .collect();
        let nullable_key = key.iter().any(|&i| !columns[i].not_null);
        TablePlan {
            table,
            kinds: columns.iter().map(|c| CanonKind::of(c.ty)).collect(),
            columns,
            key,
            nullable_key,
            filter,
        }
    }

    /// The column names.
    pub fn names(&self) -> Vec<&str> {
        self.columns.iter().map(|c| c.name.as_str()).collect()
    }

    /// The key column names.
    pub fn key_names(&self) -> Vec<&str> {
        self.key
            .iter()
            .map(|&i| self.columns[i].name.as_str())
            .collect()
    }

    /// A key column as it is compared and ordered on `d` (PostgreSQL text
    /// keys in the "C" collation: byte order, and fast).
    fn key_expr(&self, d: &dyn Dialect, i: usize) -> String {
        let c = self.columns[i];
        let ident = d.ident(&c.name);
        match (d.engine(), c.ty) {
            (Engine::Postgres, SqlType::Varchar(_) | SqlType::Char(_) | SqlType::Text) => {
                format!("{ident} COLLATE \"C\"")
            }
            _ => ident,
        }
    }

    /// A key value as a literal of `d`.
    pub fn key_literal(&self, d: &dyn Dialect, i: usize, text: &str) -> String {
        let mut out = String::new();
        if self.columns[i].ty.is_integer() && text.parse::<i64>().is_ok() {
            out.push_str(text);
        } else {
            d.literal(&Value::Text(text.to_string()), &mut out);
        }
        out
    }

    /// The `SELECT` for `segment` on an engine with dialect `d`.
    pub fn select(&self, d: &dyn Dialect, segment: &Segment) -> String {
        let cols = self.names();
        let mut conds: Vec<String> = Vec::new();
        if let Some(f) = &self.filter {
            conds.push(format!("({f})"));
        }
        let key_null = |i: &usize| format!("{} IS NULL", d.ident(&self.columns[*i].name));
        let nullable: Vec<&usize> = self
            .key
            .iter()
            .filter(|&&i| !self.columns[i].not_null)
            .collect();
        let mut order = String::new();
        match segment {
            Segment::All => {}
            Segment::NullKeys => {
                let any: Vec<String> = nullable.iter().map(|i| key_null(i)).collect();
                conds.push(format!("({})", any.join(" OR ")));
            }
            Segment::Keys(after) => {
                for i in &nullable {
                    conds.push(format!("{} IS NOT NULL", d.ident(&self.columns[**i].name)));
                }
                let exprs: Vec<String> = self.key.iter().map(|&i| self.key_expr(d, i)).collect();
                if let Some(after) = after {
                    let lits: Vec<String> = self
                        .key
                        .iter()
                        .zip(after)
                        .map(|(&i, v)| self.key_literal(d, i, v))
                        .collect();
                    conds.push(format!("({}) > ({})", exprs.join(", "), lits.join(", ")));
                }
                if !exprs.is_empty() {
                    order = format!(" ORDER BY {}", exprs.join(", "));
                }
            }
        }
        let mut sql = format!(
            "SELECT {} FROM {}",
            d.ident_list(&cols),
            d.ident(&self.table.name)
        );
        if !conds.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conds.join(" AND "));
        }
        sql.push_str(&order);
        sql
    }

    /// `SELECT COUNT(*)` of the filtered rows.
    pub fn count(&self, d: &dyn Dialect) -> String {
        let mut sql = format!("SELECT COUNT(*) FROM {}", d.ident(&self.table.name));
        if let Some(f) = &self.filter {
            sql.push_str(&format!(" WHERE ({f})"));
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::dialect_for;
    use crate::schema::Schema;

    #[test]
    fn selects_read_in_key_order_after_the_resume_key() {
        let t = Schema::reference().table("IVRInterval").unwrap();
        let plan = TablePlan::new(t, Version::V30, Version::R2015, Some("SiteId = 1".into()));
        assert!(plan.nullable_key);
        let pg = dialect_for(Engine::Postgres);
        let sql = plan.select(pg, &Segment::NullKeys);
        assert!(sql.contains("IS NULL"), "{sql}");
        let sql = plan.select(
            pg,
            &Segment::Keys(Some(vec![
                "a'b".into(),
                "2013-01-01 00:00:00".into(),
                "1".into(),
            ])),
        );
        assert!(sql.contains("(SiteId = 1)"), "{sql}");
        assert!(sql.contains("COLLATE \"C\""), "{sql}");
        assert!(sql.contains("'a''b'"), "{sql}");
        assert!(sql.contains("ORDER BY"), "{sql}");
        let calls = Schema::reference().table("CallDetail").unwrap();
        let plan = TablePlan::new(calls, Version::V30, Version::V30, None);
        assert!(!plan.nullable_key);
        assert!(plan.columns.iter().all(|c| c.since == Version::V30));
    }
}
