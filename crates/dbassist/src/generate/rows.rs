//! The rows of one table, in order, with the planted duplicates and NULLs
//! of the repair tables, and then the table's extra rows (hostile values,
//! daylight-saving rows).
//!
//! Planting, for a repair table of R rows, with stride
//! `S = max(2, min(997, R / 5))`:
//! - duplicates: after every row `n` with `n % S == 0` come one or (every
//!   third time) two more rows with the same key; every other copy is
//!   exact, the rest differ outside the key;
//! - NULLs: every row `n` with `n % S == S / 2` gets a NULL in its first
//!   nullable key column.
//!
//! The counts are kept as the rows are made, so they are exact.

use super::fill::{Filler, Role};
use super::shape::Shape;
use super::GenerateOptions;
use crate::dialect::Value;
use crate::schema::{Column, Table};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Makes one table's rows.
pub struct TableRows<'a> {
    opts: &'a GenerateOptions,
    columns: Vec<(&'a Column, Role)>,
    key_index: Vec<usize>,
    shape: Shape,
    rows: u64,
    next: u64,
    rng: ChaCha8Rng,
    stride: u64,
    plant_dups: bool,
    null_column: Option<usize>,
    pending: VecDeque<Vec<Value>>,
    extras: VecDeque<Vec<Value>>,
    /// Extra rows with the same key as an earlier row.
    pub planted_duplicates: u64,
    /// Rows with a NULL key column.
    pub planted_nulls: u64,
}

/// A stable hash of a table name, to seed its generator.
pub fn name_seed(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl<'a> TableRows<'a> {
    /// The rows of `table`, which must have a valid shape and roles
    /// (checked by the schema tests).
    pub fn new(table: &'a Table, opts: &'a GenerateOptions, extras: Vec<Vec<Value>>) -> Self {
        let shape = Shape::parse(&table.shape).unwrap_or(Shape::None);
        let rows = shape.rows(opts);
        let columns: Vec<(&Column, Role)> = table
            .columns_at(crate::schema::Version::V30)
            .map(|c| (c, Role::parse(c.role.as_deref()).unwrap_or(Role::Null)))
            .collect();
        let key_index = columns
            .iter()
            .enumerate()
            .filter(|(_, (c, _))| c.key)
            .map(|(i, _)| i)
            .collect();
        let repair = table.repair;
        let null_column = repair
            .filter(|r| r.nulls())
            .and_then(|_| columns.iter().position(|(c, _)| c.key && !c.not_null));
        TableRows {
            opts,
            key_index,
            shape,
            rows,
            next: 0,
            rng: ChaCha8Rng::seed_from_u64(opts.seed ^ name_seed(&table.name)),
            stride: (rows / 5).clamp(2, 997),
            plant_dups: repair.is_some_and(|r| r.dups()),
            null_column,
            pending: VecDeque::new(),
            extras: extras.into(),
            planted_duplicates: 0,
            planted_nulls: 0,
            columns,
        }
    }

    /// The regular rows (without planted and extra rows).
    pub fn regular_rows(&self) -> u64 {
        self.rows
    }

    fn make(&mut self, n: u64) -> Vec<Value> {
        let ctx = self.shape.row(self.opts, n);
        let filler = Filler::new(self.opts, self.rows);
        self.columns
            .iter()
            .map(|(c, role)| filler.value(c, role, &ctx, &mut self.rng))
            .collect()
    }
}

impl Iterator for TableRows<'_> {
    type Item = Vec<Value>;

    fn next(&mut self) -> Option<Vec<Value>> {
        if let Some(row) = self.pending.pop_front() {
            return Some(row);
        }
        if self.next >= self.rows {
            return self.extras.pop_front();
        }
        let n = self.next;
        self.next += 1;
        let mut row = self.make(n);
        if self.plant_dups && n.is_multiple_of(self.stride) {
            let j = n / self.stride;
            let copies = if j % 3 == 2 { 2 } else { 1 };
            for i in 0..copies {
                let copy = if (j + i) % 2 == 1 {
                    // Same key, other values.
                    let mut other = self.make(n);
                    for &k in &self.key_index {
                        other[k] = row[k].clone();
                    }
                    other
                } else {
                    row.clone()
                };
                self.pending.push_back(copy);
            }
            self.planted_duplicates += copies;
        }
        if let Some(col) = self.null_column {
            if n % self.stride == self.stride / 2 {
                row[col] = Value::Null;
                self.planted_nulls += 1;
            }
        }
        Some(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;
    use std::collections::HashMap;

    fn opts() -> GenerateOptions {
        GenerateOptions {
            sites: 2,
            days: 3,
            calls_per_day: 40,
            seed: 11,
            ..GenerateOptions::default()
        }
    }

    fn key_counts(table: &Table, rows: &[Vec<Value>]) -> (u64, u64) {
        let cols: Vec<&Column> = table.columns_at(crate::schema::Version::V30).collect();
        let keys: Vec<usize> = (0..cols.len()).filter(|&i| cols[i].key).collect();
        let mut seen: HashMap<String, u64> = HashMap::new();
        let mut nulls = 0;
        for row in rows {
            if keys.iter().any(|&k| row[k] == Value::Null) {
                nulls += 1;
                continue;
            }
            *seen
                .entry(format!(
                    "{:?}",
                    keys.iter().map(|&k| &row[k]).collect::<Vec<_>>()
                ))
                .or_default() += 1;
        }
        (seen.values().map(|c| c - 1).sum(), nulls)
    }

    #[test]
    fn planted_counts_are_exact_and_regular_keys_unique() {
        let o = opts();
        for table in Schema::reference().repair_tables() {
            let mut gen = TableRows::new(table, &o, Vec::new());
            let rows: Vec<Vec<Value>> = gen.by_ref().collect();
            let (dups, nulls) = key_counts(table, &rows);
            assert_eq!(dups, gen.planted_duplicates, "{}", table.name);
            assert_eq!(nulls, gen.planted_nulls, "{}", table.name);
            let r = table.repair.unwrap();
            assert_eq!(r.dups(), dups > 0, "{}", table.name);
            assert_eq!(r.nulls(), nulls > 0, "{}", table.name);
        }
        // Tables with keys from 3.0 have unique keys.
        for table in &Schema::reference().tables {
            if table.repair.is_none() && !table.key().is_empty() {
                let rows: Vec<Vec<Value>> = TableRows::new(table, &o, Vec::new()).collect();
                assert_eq!(key_counts(table, &rows), (0, 0), "{}", table.name);
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_rows() {
        let o = opts();
        let t = Schema::reference().table("CallDetail").unwrap();
        let a: Vec<Vec<Value>> = TableRows::new(t, &o, Vec::new()).collect();
        let b: Vec<Vec<Value>> = TableRows::new(t, &o, Vec::new()).collect();
        assert_eq!(a, b);
        let other = GenerateOptions { seed: 12, ..o };
        let c: Vec<Vec<Value>> = TableRows::new(t, &other, Vec::new()).collect();
        assert_ne!(a, c);
    }
}
