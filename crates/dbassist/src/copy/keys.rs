//! Key translation (D-06): the surrogate keys of a source become target
//! keys through a table in `transit_migration`, so that a rerun finds the
//! rows it already moved (and inserts none) and several sources can land
//! in one target without colliding.
//!
//! A table is translated when its key is one integer column the vendor
//! numbers (the schema's `seq` role: ConferenceId, IndivID, AuditId, …);
//! a column that refers to a translated table (`ref=` role or foreign key)
//! is rewritten through its parent's map. Natural keys (CallId, the
//! statistics tables' name + interval + SiteId) are not translated: the
//! site ID keeps sources apart.
//!
//! `key_map(source, tbl, src_key, tgt_key)` holds one row per moved key,
//! inserted in the transaction of the batch that moved it. A new key keeps
//! its value when the target does not hold it yet (so a one-to-one
//! migration keeps every key and validates by checksum); otherwise it gets
//! the next free value above the table's largest key.

use super::batch::Batch;
use super::plan::TablePlan;
use super::state::table_name;
use super::write::{Sink, SinkResult};
use crate::dialect::{Dialect, Value};
use crate::schema::{Schema, Table};
use std::collections::{HashMap, HashSet};

/// True when `table`'s keys are translated.
pub fn translated(table: &Table) -> bool {
    let key: Vec<_> = table.columns.iter().filter(|c| c.key).collect();
    key.len() == 1 && key[0].ty.is_integer() && key[0].role.as_deref() == Some("seq")
}

/// The translated tables `table` refers to (its own key's table first
/// when it is translated itself).
pub fn translated_tables(table: &Table) -> Vec<&'static str> {
    let mut out = Vec::new();
    if translated(table) {
        if let Some(t) = Schema::reference().table(&table.name) {
            out.push(t.name.as_str());
        }
    }
    for c in &table.columns {
        if let Some(p) = referred(table, &c.name) {
            if !out.contains(&p) && !c.key {
                out.push(p);
            }
        }
    }
    out
}

/// The table a column refers to, when that table is translated.
fn referred(table: &Table, column: &str) -> Option<&'static str> {
    let schema = Schema::reference();
    let col = table.column(column)?;
    let parent = col
        .role
        .as_deref()
        .and_then(|r| r.strip_prefix("ref="))
        .and_then(|r| r.split('.').next())
        .or_else(|| {
            table
                .foreign_keys
                .iter()
                .find(|fk| fk.column.eq_ignore_ascii_case(column))
                .map(|fk| fk.parent.as_str())
        })?;
    let parent = schema.table(parent)?;
    translated(parent).then_some(parent.name.as_str())
}

/// `CREATE TABLE` of the map, when missing.
pub fn create_sql(d: &dyn Dialect) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (source VARCHAR(255) NOT NULL, tbl VARCHAR(64) NOT NULL, \
         src_key BIGINT NOT NULL, tgt_key BIGINT NOT NULL, PRIMARY KEY (source, tbl, src_key))",
        table_name(d, "key_map")
    )
}

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

/// One table's translator, owned by its writer.
pub struct Translator {
    source: String,
    key: Option<usize>,
    refs: Vec<(usize, &'static str)>,
    next: i64,
    /// Keys given a new value so far (this invocation).
    pub moved: u64,
}

/// A translated batch and the map rows to insert with it.
pub struct Translated {
    /// The rows with target keys.
    pub batch: Batch,
    /// `INSERT`s of new map rows (run inside the batch's transaction).
    pub inserts: Vec<String>,
}

fn int_of(cell: Option<&[u8]>) -> Option<i64> {
    std::str::from_utf8(cell?).ok()?.trim().parse().ok()
}

impl Translator {
    /// A translator for `plan`'s table, or `None` when nothing in it is
    /// translated.
    pub fn new(plan: &TablePlan, source: &str) -> Option<Translator> {
        let key = translated(plan.table).then(|| plan.key[0]);
        let refs: Vec<(usize, &'static str)> = plan
            .columns
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != key)
            .filter_map(|(i, c)| referred(plan.table, &c.name).map(|p| (i, p)))
            .collect();
        (key.is_some() || !refs.is_empty()).then(|| Translator {
            source: source.to_string(),
            key,
            refs,
            next: i64::MIN,
            moved: 0,
        })
    }

    fn lookup(
        &self,
        sink: &mut dyn Sink,
        tbl: &str,
        keys: &[i64],
    ) -> SinkResult<HashMap<i64, i64>> {
        let d = sink.dialect();
        let mut out = HashMap::new();
        for chunk in keys.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT {}, {} FROM {} WHERE source = {} AND tbl = {} AND src_key IN ({})",
                d.cast_text("src_key"),
                d.cast_text("tgt_key"),
                table_name(d, "key_map"),
                lit(d, &self.source),
                lit(d, tbl),
                list.join(", ")
            );
            for row in sink.query(&sql)? {
                let get = |i: usize| int_of(row.get(i).and_then(|v| v.as_deref()));
                if let (Some(s), Some(t)) = (get(0), get(1)) {
                    out.insert(s, t);
                }
            }
        }
        Ok(out)
    }

    fn taken(
        &self,
        sink: &mut dyn Sink,
        plan: &TablePlan,
        keys: &[i64],
    ) -> SinkResult<HashSet<i64>> {
        let d = sink.dialect();
        let col = d.ident(&plan.columns[self.key.expect("key")].name);
        let mut out = HashSet::new();
        for chunk in keys.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            let sql = format!(
                "SELECT {} FROM {} WHERE {col} IN ({})",
                d.cast_text(&col),
                d.ident(&plan.table.name),
                list.join(", ")
            );
            for row in sink.query(&sql)? {
                if let Some(k) = int_of(row.first().and_then(|v| v.as_deref())) {
                    out.insert(k);
                }
            }
        }
        Ok(out)
    }

    fn max_key(&self, sink: &mut dyn Sink, plan: &TablePlan) -> SinkResult<i64> {
        let d = sink.dialect();
        let col = d.ident(&plan.columns[self.key.expect("key")].name);
        let sql = format!(
            "SELECT {} FROM {}",
            d.cast_text(&format!("MAX({col})")),
            d.ident(&plan.table.name)
        );
        let rows = sink.query(&sql)?;
        Ok(rows
            .first()
            .and_then(|r| int_of(r.first().and_then(|v| v.as_deref())))
            .unwrap_or(0))
    }

    /// Gives every key of `batch` that has no target key yet its target
    /// key, and returns the map rows to insert (in the batch's
    /// transaction, before its rows). The rows are left as they are: a
    /// staged merge ([`super::stage`]) rewrites them in SQL.
    pub fn allocate(
        &mut self,
        sink: &mut dyn Sink,
        plan: &TablePlan,
        batch: &Batch,
    ) -> SinkResult<Vec<String>> {
        Ok(self.map_keys(sink, plan, batch)?.1)
    }

    /// The batch's key map (source to target) and the new map rows.
    fn map_keys(
        &mut self,
        sink: &mut dyn Sink,
        plan: &TablePlan,
        batch: &Batch,
    ) -> SinkResult<(HashMap<i64, i64>, Vec<String>)> {
        let d = sink.dialect();
        let n = batch.len();
        let mut inserts = Vec::new();
        // The key column.
        let mut key_map: HashMap<i64, i64> = HashMap::new();
        if let Some(k) = self.key {
            let keys: Vec<i64> = (0..n).filter_map(|r| int_of(batch.cell(r, k))).collect();
            key_map = self.lookup(sink, &plan.table.name, &keys)?;
            let unmapped: Vec<i64> = keys
                .iter()
                .copied()
                .filter(|k| !key_map.contains_key(k))
                .collect();
            if !unmapped.is_empty() {
                let taken = self.taken(sink, plan, &unmapped)?;
                self.next = self.next.max(self.max_key(sink, plan)? + 1);
                let mut used: HashSet<i64> = HashSet::new();
                let mut values = Vec::new();
                for k in unmapped {
                    let target = if !taken.contains(&k) && !used.contains(&k) {
                        // Free in the target: the key keeps its value.
                        self.next = self.next.max(k + 1);
                        k
                    } else {
                        while used.contains(&self.next) {
                            self.next += 1;
                        }
                        let t = self.next;
                        self.next += 1;
                        self.moved += 1;
                        t
                    };
                    used.insert(target);
                    key_map.insert(k, target);
                    values.push(format!(
                        "({}, {}, {k}, {target})",
                        lit(d, &self.source),
                        lit(d, &plan.table.name)
                    ));
                }
                for chunk in values.chunks(500) {
                    inserts.push(format!(
                        "INSERT INTO {} (source, tbl, src_key, tgt_key) VALUES {}",
                        table_name(d, "key_map"),
                        chunk.join(", ")
                    ));
                }
            }
        }
        Ok((key_map, inserts))
    }

    /// Translates `batch` (rows in source key order).
    pub fn apply(
        &mut self,
        sink: &mut dyn Sink,
        plan: &TablePlan,
        batch: &Batch,
    ) -> SinkResult<Translated> {
        let n = batch.len();
        let (key_map, inserts) = self.map_keys(sink, plan, batch)?;
        // The referring columns.
        let mut ref_maps: Vec<HashMap<i64, i64>> = Vec::new();
        for &(col, parent) in &self.refs {
            let mut keys: Vec<i64> = (0..n).filter_map(|r| int_of(batch.cell(r, col))).collect();
            keys.sort_unstable();
            keys.dedup();
            ref_maps.push(self.lookup(sink, parent, &keys)?);
        }
        let mut out = Batch::new(batch.columns());
        for r in 0..n {
            for (c, cell) in batch.row(r).enumerate() {
                let map = if Some(c) == self.key {
                    Some(&key_map)
                } else {
                    self.refs
                        .iter()
                        .position(|&(col, _)| col == c)
                        .map(|i| &ref_maps[i])
                };
                match (map, int_of(cell)) {
                    (Some(map), Some(v)) if map.get(&v).is_some_and(|t| *t != v) => {
                        out.push(map[&v].to_string().as_bytes());
                    }
                    _ => out.push_opt(cell),
                }
            }
        }
        Ok(Translated {
            batch: out,
            inserts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn surrogate_keys_are_translated_and_natural_keys_are_not() {
        let s = Schema::reference();
        for name in [
            "ICon_Conference",
            "INDIVIDUAL",
            "IR_RecordingAudit",
            "IO_Schedule",
        ] {
            assert!(translated(s.table(name).unwrap()), "{name}");
        }
        for name in [
            "CallDetail",
            "IAgentQueueStats",
            "IR_RecordingMedia",
            "LineConfig",
        ] {
            assert!(!translated(s.table(name).unwrap()), "{name}");
        }
        let part = s.table("ICon_Participant").unwrap();
        assert_eq!(referred(part, "ConferenceId"), Some("ICon_Conference"));
        let intx = s.table("INTX_PARTICIPANT").unwrap();
        assert_eq!(referred(intx, "IndivID"), Some("INDIVIDUAL"));
        assert_eq!(referred(intx, "InteractionIDKey"), None);
    }
}
