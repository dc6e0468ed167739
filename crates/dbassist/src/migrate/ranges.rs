//! Ranges already migrated: after a run has validated, each copied table's
//! filter (date range and site) is recorded for its source in
//! `transit_migration.migrated_ranges`, with the source's and the
//! target's row counts within it. A later run of the same table with the
//! same filter from the same source skips the table — no read, no merge,
//! no validation — when both counts are still the same: the source holds
//! no new row in the range and the target lost none. Anything else (a
//! wider or shifted range, a source that grew, a target that a rule or a
//! user changed) copies as usual, rows already there skipped by their key.
//!
//! Rerunning a range therefore costs two `COUNT`s per table.

use super::groups::Group;
use super::Ctx;
use crate::copy::state::table_name;
use crate::copy::Local;
use crate::db::Db;
use crate::dialect::{Dialect, Value};
use crate::error::Result;
use crate::schema::Table;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap};

/// `CREATE TABLE` of the record, when missing.
pub fn create_sql(d: &dyn Dialect) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (source VARCHAR(255) NOT NULL, tbl VARCHAR(64) NOT NULL, \
         cond_hash VARCHAR(64) NOT NULL, src_rows BIGINT NOT NULL, tgt_rows BIGINT NOT NULL, \
         run VARCHAR(64) NOT NULL, PRIMARY KEY (source, tbl, cond_hash))",
        table_name(d, "migrated_ranges")
    )
}

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

/// The hash that names a filter (`-` for none).
pub fn cond_hash(cond: Option<&str>) -> String {
    hex::encode(Sha256::digest(cond.unwrap_or("-").as_bytes()))
}

/// The condition a table's rows are counted with on the target: the
/// filter, and the source's site IDs where the table has a site column
/// (the target may hold other sources' sites).
pub fn target_condition(t: &Table, cond: Option<&str>, sites: &BTreeSet<i64>) -> Option<String> {
    let mut parts: Vec<String> = cond.map(|c| format!("({c})")).into_iter().collect();
    if !sites.is_empty() {
        if let Some(col) = t.column("SiteId") {
            let list: Vec<String> = sites.iter().map(i64::to_string).collect();
            parts.push(format!("{} IN ({})", col.name, list.join(", ")));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" AND "))
}

/// `SELECT COUNT(*)` of `t` within `cond`.
pub fn count_sql(d: &dyn Dialect, t: &Table, cond: Option<&str>) -> String {
    let mut sql = format!("SELECT COUNT(*) FROM {}", d.ident(&t.name));
    if let Some(c) = cond {
        sql.push_str(&format!(" WHERE {c}"));
    }
    sql
}

/// A recorded range: the counts and the run that recorded them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// Source rows within the filter.
    pub src_rows: i64,
    /// Target rows within the filter and the source's sites.
    pub tgt_rows: i64,
    /// The run.
    pub run: String,
}

/// Every range recorded for `source`: (table, cond hash) → counts.
pub async fn recorded(db: &mut Db, source: &str) -> Result<HashMap<(String, String), Recorded>> {
    let d = db.dialect();
    let rows = db
        .rows(&format!(
            "SELECT tbl, cond_hash, {}, {}, run FROM {} WHERE source = {}",
            d.cast_text("src_rows"),
            d.cast_text("tgt_rows"),
            table_name(d, "migrated_ranges"),
            lit(d, source)
        ))
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            let get = |i: usize| r.get(i).cloned().flatten();
            Some((
                (get(0)?, get(1)?),
                Recorded {
                    src_rows: get(2)?.parse().ok()?,
                    tgt_rows: get(3)?.parse().ok()?,
                    run: get(4)?,
                },
            ))
        })
        .collect())
}

/// The statements that record (or replace) a range.
pub fn record_sql(
    d: &dyn Dialect,
    source: &str,
    tbl: &str,
    hash: &str,
    r: &Recorded,
) -> [String; 2] {
    let name = table_name(d, "migrated_ranges");
    [
        format!(
            "DELETE FROM {name} WHERE source = {} AND tbl = {} AND cond_hash = {}",
            lit(d, source),
            lit(d, tbl),
            lit(d, hash)
        ),
        format!(
            "INSERT INTO {name} (source, tbl, cond_hash, src_rows, tgt_rows, run) VALUES ({}, {}, {}, {}, {}, {})",
            lit(d, source),
            lit(d, tbl),
            lit(d, hash),
            r.src_rows,
            r.tgt_rows,
            lit(d, &r.run)
        ),
    ]
}

/// Tables a rule before the copy deletes rows of (so their counts change
/// by design): never skipped.
fn reloaded(cx: &Ctx<'_>, g: &Group, t: &Table) -> bool {
    super::rules::CURRENT_STATE.contains(&t.name.as_str())
        || g.id == "optimizer"
        || (cx.options.delete_tracker_data && g.id == "tracker-config")
}

/// The tables whose range this source migrated in an earlier validated
/// run, with both counts unchanged, with why (checked before the rules, so
/// the site-ID scan leaves them out too).
pub fn unchanged(
    cx: &Ctx<'_>,
    local: &Local,
    src: &mut Db,
    tgt: &mut Db,
) -> Result<Vec<(String, String)>> {
    let recorded = local.run(recorded(tgt, &cx.source_id))?;
    if recorded.is_empty() {
        return Ok(Vec::new());
    }
    let sites = local.run(known_sites(tgt, &cx.source_id))?;
    let mut out = Vec::new();
    for (g, t) in cx.tables() {
        let cond = cx.filters.condition(g, t);
        let Some(r) = recorded.get(&(t.name.clone(), cond_hash(cond.as_deref()))) else {
            continue;
        };
        if reloaded(cx, g, t) {
            continue;
        }
        let src_rows = local.run(src.count(&count_sql(src.dialect(), t, cond.as_deref())))?;
        if src_rows != r.src_rows {
            continue;
        }
        let tcond = target_condition(t, cond.as_deref(), &sites);
        let tgt_rows = local.run(tgt.count(&count_sql(tgt.dialect(), t, tcond.as_deref())))?;
        if tgt_rows == r.tgt_rows {
            out.push((
                t.name.clone(),
                format!(
                    "range already migrated by run {} ({src_rows} source row(s), unchanged)",
                    r.run
                ),
            ));
        }
    }
    Ok(out)
}

/// The site IDs recorded for `source` (the `many-to-one` rule).
pub async fn known_sites(db: &mut Db, source: &str) -> Result<BTreeSet<i64>> {
    let d = db.dialect();
    Ok(db
        .rows(&format!(
            "SELECT {} FROM {} WHERE source = {}",
            d.cast_text("site_id"),
            table_name(d, "migrate_sources"),
            lit(d, source)
        ))
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten()?.parse().ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Schema;

    #[test]
    fn the_target_is_counted_within_the_filter_and_the_sources_sites() {
        let calls = Schema::reference().table("CallDetail").unwrap();
        let sites = BTreeSet::from([1, 2]);
        assert_eq!(
            target_condition(calls, Some("SiteId = 1"), &sites).unwrap(),
            "(SiteId = 1) AND SiteId IN (1, 2)"
        );
        assert_eq!(target_condition(calls, None, &BTreeSet::new()), None);
        assert_ne!(cond_hash(Some("a")), cond_hash(None));
        assert_eq!(cond_hash(None).len(), 64);
    }
}
