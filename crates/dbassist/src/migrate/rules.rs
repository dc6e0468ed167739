//! The group rules (D-04), each a named unit; [`RULES`] is the one table,
//! read top to bottom: the `Before` rules run before the copy, `After`
//! rules after it, and the `Last` rules (the Tracker update step) at the
//! very end. Each rule has an `applies` predicate and a `run` step that
//! records what it did ([`Ctx::note`]).

use super::{Ctx, TrackerChange, TrackerUpdate};
use crate::copy::state::table_name;
use crate::copy::Local;
use crate::db::Db;
use crate::dialect::{Dialect, Value};
use crate::error::{DbError, Result};
use crate::schema::{Schema, Table};
use std::collections::{BTreeSet, HashMap};

/// When a rule runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before the copy (refusals first).
    Before,
    /// After the copy.
    After,
    /// After every other rule.
    Last,
}

/// One rule.
pub struct Rule {
    /// Its name (and its test's name).
    pub id: &'static str,
    /// When it runs.
    pub phase: Phase,
    /// Whether it applies to this run.
    pub applies: fn(&Ctx<'_>) -> bool,
    /// The step.
    pub run: fn(&mut Ctx<'_>, &Local, &mut Db, &mut Db) -> Result<()>,
}

/// Every rule, in order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "many-to-one",
        phase: Phase::Before,
        applies: |_| true,
        run: many_to_one,
    },
    Rule {
        id: "delete-existing-tracker-data",
        phase: Phase::Before,
        applies: |cx| cx.options.delete_tracker_data,
        run: delete_tracker_data,
    },
    Rule {
        id: "optimizer-wipe-and-load",
        phase: Phase::Before,
        applies: |cx| cx.has("optimizer"),
        run: optimizer_wipe,
    },
    Rule {
        id: "current-state-reload",
        phase: Phase::Before,
        applies: |cx| cx.has("reporting"),
        run: current_state_reload,
    },
    Rule {
        id: "tracker-difference-report",
        phase: Phase::Before,
        applies: |cx| cx.has("tracker-config"),
        run: tracker_difference_report,
    },
    Rule {
        id: "service-level-defaults",
        phase: Phase::Before,
        applies: |cx| cx.has("reporting"),
        run: service_levels,
    },
    Rule {
        id: "utc-columns",
        phase: Phase::Before,
        applies: |_| true,
        run: utc_columns,
    },
    Rule {
        id: "recording-paths",
        phase: Phase::After,
        applies: |cx| cx.has("recorder") && !cx.options.recording_paths.is_empty(),
        run: recording_paths,
    },
    Rule {
        id: "conference-site-id",
        phase: Phase::After,
        applies: |cx| cx.has("conference") && cx.options.conference_site.is_some(),
        run: conference_site_id,
    },
    Rule {
        id: "duplicate-users",
        phase: Phase::After,
        applies: |cx| cx.has("tracker-config"),
        run: duplicate_users,
    },
    Rule {
        id: "dialer-consolidation",
        phase: Phase::After,
        applies: |cx| cx.has("dialer"),
        run: super::dialer::consolidate,
    },
    Rule {
        id: "tracker-update",
        phase: Phase::Last,
        applies: |cx| cx.has("tracker-config"),
        run: tracker_update,
    },
];

/// The vendor's fixed order of "Delete Existing Tracker Data".
pub const TRACKER_DELETE_ORDER: [&str; 12] = [
    "INDIVCONNECTION",
    "INDIVIDUAL",
    "LOCATION",
    "ORGANIZATION",
    "ADDRTYPE",
    "ATTRIBUTETYPE",
    "CONNECTIONTYPE",
    "CONNSUBTYPE",
    "INDIVTYPE",
    "INTXTYPE",
    "ORGTYPE",
    "TITLE",
];

/// The current-state tables, deleted and reloaded on every run.
pub const CURRENT_STATE: [&str; 5] = [
    "LineConfig",
    "LineGroupConfig",
    "LineGroupLines",
    "UserWorkGroups",
    "AccountCodeMirror",
];

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

fn table(name: &str) -> &'static Table {
    Schema::reference().table(name).expect("a reference table")
}

pub(crate) fn step_done(local: &Local, db: &mut Db, run: &str, step: &str) -> Result<bool> {
    let d = db.dialect();
    let sql = format!(
        "SELECT COUNT(*) FROM {} WHERE run = {} AND step = {}",
        table_name(d, "migrate_steps"),
        lit(d, run),
        lit(d, step)
    );
    Ok(local.run(db.count(&sql))? > 0)
}

fn record_step_sql(d: &dyn Dialect, run: &str, step: &str, detail: &str) -> String {
    format!(
        "INSERT INTO {} (run, step, detail) VALUES ({}, {}, {})",
        table_name(d, "migrate_steps"),
        lit(d, run),
        lit(d, step),
        lit(d, detail)
    )
}

/// Runs `statements` and the step's record in one transaction.
pub(crate) fn in_transaction(
    local: &Local,
    db: &mut Db,
    statements: &[String],
) -> Result<Vec<u64>> {
    local.run(async {
        db.exec("BEGIN").await?;
        let mut counts = Vec::new();
        for sql in statements {
            match db.exec(sql).await {
                Ok(n) => counts.push(n),
                Err(e) => {
                    let _ = db.exec("ROLLBACK").await;
                    return Err(e);
                }
            }
        }
        db.exec("COMMIT").await?;
        Ok(counts)
    })
}

/// The condition that keeps the state rows of this target: on MariaDB the
/// `transit_migration` database serves every database of the server, so
/// sources are recorded as `<target database>:<source>` there.
pub fn in_scope(d: &dyn Dialect, scope: &str) -> String {
    if scope.is_empty() {
        "1 = 1".into()
    } else {
        format!(
            "SUBSTR(source, 1, {}) = {}",
            scope.chars().count(),
            lit(d, scope)
        )
    }
}

/// Rows of `tbl` whose key the translation moved, for `source`.
pub async fn moved_keys(db: &mut Db, source: &str, tbl: &str) -> Result<i64> {
    let d = db.dialect();
    db.count(&format!(
        "SELECT COUNT(*) FROM {} WHERE source = {} AND tbl = {} AND src_key <> tgt_key",
        table_name(d, "key_map"),
        lit(d, source),
        lit(d, tbl)
    ))
    .await
}

/// The source's site IDs in the selected tables (or the `--site-id`).
fn source_sites(cx: &Ctx<'_>, local: &Local, src: &mut Db, tgt: &mut Db) -> Result<BTreeSet<i64>> {
    if let Some(site) = cx.options.site {
        return Ok(BTreeSet::from([site]));
    }
    let d = src.dialect();
    // Tables skipped as already migrated had their sites recorded then.
    let mut out = if cx.skipped.is_empty() {
        BTreeSet::new()
    } else {
        local.run(super::ranges::known_sites(tgt, &cx.source_id))?
    };
    for (_, t) in cx.copied_tables() {
        let Some(col) = t.column("SiteId") else {
            continue;
        };
        let sql = format!(
            "SELECT DISTINCT {} FROM {}",
            d.cast_text(&d.ident(&col.name)),
            d.ident(&t.name)
        );
        for row in local.run(src.rows(&sql))? {
            if let Some(v) = row
                .into_iter()
                .next()
                .flatten()
                .and_then(|v| v.parse().ok())
            {
                out.insert(v);
            }
        }
    }
    Ok(out)
}

/// Many-to-one: several sources into one target, told apart by site ID.
/// Refused when Survey or Optimizer is selected, or when another source
/// already brought one of this source's site IDs.
fn many_to_one(cx: &mut Ctx<'_>, local: &Local, src: &mut Db, tgt: &mut Db) -> Result<()> {
    let d = tgt.dialect();
    let sites = source_sites(cx, local, src, tgt)?;
    let others = local.run(tgt.rows(&format!(
        "SELECT source, {} FROM {} WHERE source <> {} AND {}",
        d.cast_text("site_id"),
        table_name(d, "migrate_sources"),
        lit(d, &cx.source_id),
        in_scope(d, &cx.scope)
    )))?;
    if !others.is_empty() {
        if cx.has("survey") {
            return Err(DbError::Refused(
                "another source has migrated into this target, and the Survey group cannot be \
                 migrated many-to-one; the reference: \"If you have Interaction Feedback surveys \
                 in use on the CIC 3.0 database, run a one-to-one migration since surveys have no \
                 distinguishing column for site ID.\""
                    .into(),
            ));
        }
        if cx.has("optimizer") {
            return Err(DbError::Refused(
                "another source has migrated into this target, and the Optimizer group cannot be \
                 migrated many-to-one; the reference: \"If you use Interaction Optimizer, Genesys \
                 supports one-to-one migrations only.\""
                    .into(),
            ));
        }
        for row in &others {
            let site: Option<i64> = row.get(1).cloned().flatten().and_then(|v| v.parse().ok());
            if let Some(site) = site.filter(|s| sites.contains(s)) {
                return Err(DbError::Refused(format!(
                    "site ID {site} was already migrated from {}; the reference: \"It is \
                     important that the CIC 3.0 servers that used the separate databases have \
                     different site IDs. If the CIC 3.0 servers have the same site ID, data \
                     imported can conflict with data from another database.\"",
                    row.first().cloned().flatten().unwrap_or_default()
                )));
            }
        }
    }
    let known: BTreeSet<i64> = local
        .run(tgt.rows(&format!(
            "SELECT {} FROM {} WHERE source = {}",
            d.cast_text("site_id"),
            table_name(d, "migrate_sources"),
            lit(d, &cx.source_id)
        )))?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten().and_then(|v| v.parse().ok()))
        .collect();
    for site in sites.difference(&known) {
        local.run(tgt.exec(&format!(
            "INSERT INTO {} (source, site_id) VALUES ({}, {site})",
            table_name(d, "migrate_sources"),
            lit(d, &cx.source_id)
        )))?;
    }
    let list: Vec<String> = sites.iter().map(i64::to_string).collect();
    cx.source_sites = sites.clone();
    let detail = if others.is_empty() {
        format!("one-to-one; source site IDs {}", list.join(", "))
    } else {
        format!(
            "many-to-one: {} other source row(s); this source's site IDs {} are its own",
            others.len(),
            list.join(", ")
        )
    };
    cx.note("many-to-one", detail);
    Ok(())
}

/// "Delete Existing Tracker Data": first run only, in the vendor's
/// order, refused while INTX_PARTICIPANT or INTXSEGMENT hold rows.
fn delete_tracker_data(cx: &mut Ctx<'_>, local: &Local, _: &mut Db, tgt: &mut Db) -> Result<()> {
    let d = tgt.dialect();
    // Done earlier in this run (a resumed run, a later step): the
    // interaction tables may hold this run's rows by now.
    if step_done(local, tgt, &cx.run, "delete-existing-tracker-data")? {
        return Ok(());
    }
    let earlier = local.run(tgt.count(&format!(
        "SELECT COUNT(*) FROM {} WHERE run <> {} AND step = 'migrate' AND detail = {}",
        table_name(d, "migrate_steps"),
        lit(d, &cx.run),
        lit(d, &cx.scope)
    )))?;
    if earlier > 0 {
        return Err(DbError::Refused(
            "--delete-tracker-data is offered on the first migration run only, and this target \
             has had one (the reference: \"Only do this step the first time CIC Database \
             Migration Assistant attempts to migrate the Tracker Configuration table group.\")"
                .into(),
        ));
    }
    for live in ["INTX_PARTICIPANT", "INTXSEGMENT"] {
        let n = local.run(tgt.row_count(live))?;
        if n > 0 {
            return Err(DbError::Refused(format!(
                "{live} holds {n} row(s), so no Tracker table is deleted; the reference: \"if any \
                 data exists in these two tables, the system doesn't delete the data from any of \
                 the Tracker tables. This precaution exists to preserve live 2015 R1 or later \
                 production data.\" Delete all data from INTX_PARTICIPANT, then from \
                 INTXSEGMENT, first."
            )));
        }
    }
    // The vendor's order deletes a parent (CONNECTIONTYPE) before its child
    // (CONNSUBTYPE), so the foreign keys are off around the deletes (outside
    // the transaction: SQLite ignores the pragma inside one) and checked again
    // after.
    let suspend: Vec<String> = TRACKER_DELETE_ORDER
        .iter()
        .flat_map(|name| d.suspend_checks(table(name)))
        .collect();
    let resume: Vec<String> = TRACKER_DELETE_ORDER
        .iter()
        .flat_map(|name| d.resume_checks(table(name)))
        .collect();
    // Kept until the run completes, so `transit db cleanup` can put them
    // back after a crash (only once the deletes below committed).
    crate::runs::cleanup::save_rows(
        local,
        tgt,
        &cx.scope,
        &cx.run,
        "delete-existing-tracker-data",
        &TRACKER_DELETE_ORDER,
    )?;
    let mut statements = Vec::new();
    for name in TRACKER_DELETE_ORDER {
        statements.push(format!("DELETE FROM {}", d.ident(name)));
        statements.push(format!(
            "DELETE FROM {} WHERE tbl = {} AND {}",
            table_name(d, "key_map"),
            lit(d, name),
            in_scope(d, &cx.scope)
        ));
    }
    statements.push(record_step_sql(
        d,
        &cx.run,
        "delete-existing-tracker-data",
        &TRACKER_DELETE_ORDER.join(","),
    ));
    for sql in &suspend {
        local.run(tgt.exec(sql))?;
    }
    let result = in_transaction(local, tgt, &statements);
    for sql in &resume {
        local.run(tgt.exec(sql))?;
    }
    let counts = result?;
    let deleted: u64 = counts
        .iter()
        .take(2 * TRACKER_DELETE_ORDER.len())
        .step_by(2)
        .sum();
    cx.note(
        "delete-existing-tracker-data",
        format!(
            "deleted the Tracker tables in the vendor's order ({}); {deleted} row(s)",
            TRACKER_DELETE_ORDER.join(", ")
        ),
    );
    Ok(())
}

/// Optimizer: an all-in-one wipe-and-load after confirmation; a resumed
/// run does not wipe again.
fn optimizer_wipe(cx: &mut Ctx<'_>, local: &Local, _: &mut Db, tgt: &mut Db) -> Result<()> {
    if step_done(local, tgt, &cx.run, "optimizer-wipe-and-load")? {
        cx.note(
            "optimizer-wipe-and-load",
            "wiped earlier in this run; not again",
        );
        return Ok(());
    }
    let d = tgt.dialect();
    let tables: Vec<&Table> = cx
        .groups
        .iter()
        .find(|g| g.id == "optimizer")
        .map(|g| g.tables(cx.to))
        .unwrap_or_default();
    let mut held = 0;
    for t in &tables {
        held += local.run(tgt.row_count(&t.name))?;
    }
    if held > 0 && !cx.options.yes {
        return Err(DbError::Refused(format!(
            "the target's Optimizer tables hold {held} row(s), which the Optimizer group deletes \
             before it loads (the reference: \"If data exists in the Interaction Optimizer tables \
             in the target database prior to migration, CIC Database Migration Assistant deletes \
             the data before migration continues.\"); confirm with --yes"
        )));
    }
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    crate::runs::cleanup::save_rows(
        local,
        tgt,
        &cx.scope,
        &cx.run,
        "optimizer-wipe-and-load",
        &names,
    )?;
    let mut statements: Vec<String> = tables
        .iter()
        .rev()
        .flat_map(|t| {
            [
                format!("DELETE FROM {}", d.ident(&t.name)),
                format!(
                    "DELETE FROM {} WHERE tbl = {} AND {}",
                    table_name(d, "key_map"),
                    lit(d, &t.name),
                    in_scope(d, &cx.scope)
                ),
            ]
        })
        .collect();
    statements.push(record_step_sql(
        d,
        &cx.run,
        "optimizer-wipe-and-load",
        &held.to_string(),
    ));
    in_transaction(local, tgt, &statements)?;
    cx.note(
        "optimizer-wipe-and-load",
        format!("deleted {held} Optimizer row(s) from the target; all source rows load"),
    );
    Ok(())
}

/// Current-state tables: the rows of the source's site IDs found in each
/// table are deleted on the target, then reloaded by the copy.
fn current_state_reload(cx: &mut Ctx<'_>, local: &Local, src: &mut Db, tgt: &mut Db) -> Result<()> {
    if step_done(local, tgt, &cx.run, "current-state-reload")? {
        return Ok(());
    }
    let sd = src.dialect();
    let d = tgt.dialect();
    let mut statements = Vec::new();
    let mut parts = Vec::new();
    for name in CURRENT_STATE {
        let mut sql = format!(
            "SELECT DISTINCT {} FROM {}",
            sd.cast_text(&sd.ident("SiteId")),
            sd.ident(name)
        );
        if let Some(site) = cx.options.site {
            sql.push_str(&format!(" WHERE {} = {site}", sd.ident("SiteId")));
        }
        let sites: Vec<String> = local
            .run(src.rows(&sql))?
            .into_iter()
            .filter_map(|r| r.into_iter().next().flatten())
            .filter(|v| v.parse::<i64>().is_ok())
            .collect();
        if sites.is_empty() {
            continue;
        }
        // The rows are kept until the run completes, so `transit db
        // cleanup` can put them back after a crash.
        let saved = crate::runs::cleanup::saved_table(d, &cx.scope, &cx.run, name);
        local.run(tgt.exec(&format!("DROP TABLE IF EXISTS {saved}")))?;
        local.run(tgt.exec(&format!(
            "CREATE TABLE {saved} AS SELECT * FROM {} WHERE {} IN ({})",
            d.ident(name),
            d.ident("SiteId"),
            sites.join(", ")
        )))?;
        statements.push(format!(
            "DELETE FROM {} WHERE {} IN ({})",
            d.ident(name),
            d.ident("SiteId"),
            sites.join(", ")
        ));
        parts.push(format!("{name} (site {})", sites.join(", ")));
    }
    statements.push(record_step_sql(d, &cx.run, "current-state-reload", ""));
    let counts = in_transaction(local, tgt, &statements)?;
    let deleted: u64 = counts[..counts.len() - 1].iter().sum();
    cx.note(
        "current-state-reload",
        format!(
            "deleted {deleted} row(s) to reload: {}",
            if parts.is_empty() {
                "none".into()
            } else {
                parts.join(", ")
            }
        ),
    );
    Ok(())
}

/// The name a Tracker row is listed by.
fn tracker_name(table: &Table, row: &HashMap<String, Option<String>>, key: i64) -> String {
    let get = |c: &str| {
        row.get(&c.to_ascii_lowercase())
            .cloned()
            .flatten()
            .filter(|v| !v.trim().is_empty())
    };
    if table.name == "INDIVIDUAL" {
        return match (get("LastName"), get("FirstName")) {
            (Some(l), Some(f)) => format!("{l}, {f}"),
            (Some(x), None) | (None, Some(x)) => x,
            (None, None) => get("ICUserID").unwrap_or_else(|| key.to_string()),
        };
    }
    ["Name", "OrgName", "LocName", "Address"]
        .iter()
        .find_map(|c| get(c))
        .unwrap_or_else(|| key.to_string())
}

/// Reads `SELECT cols FROM t` as maps of lower-case column → text, by key.
fn rows_by_key(
    local: &Local,
    db: &mut Db,
    t: &Table,
    cols: &[&str],
) -> Result<HashMap<i64, HashMap<String, Option<String>>>> {
    let d = db.dialect();
    let select: Vec<String> = cols.iter().map(|c| d.cast_text(&d.ident(c))).collect();
    let sql = format!("SELECT {} FROM {}", select.join(", "), d.ident(&t.name));
    let key = t.key()[0].to_ascii_lowercase();
    let mut out = HashMap::new();
    for row in local.run(db.rows(&sql))? {
        let map: HashMap<String, Option<String>> = cols
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .zip(row)
            .collect();
        if let Some(k) = map
            .get(&key)
            .cloned()
            .flatten()
            .and_then(|v| v.parse().ok())
        {
            out.insert(k, map);
        }
    }
    Ok(out)
}

fn key_map(local: &Local, db: &mut Db, source: &str, tbl: &str) -> Result<HashMap<i64, i64>> {
    let d = db.dialect();
    let sql = format!(
        "SELECT {}, {} FROM {} WHERE source = {} AND tbl = {}",
        d.cast_text("src_key"),
        d.cast_text("tgt_key"),
        table_name(d, "key_map"),
        lit(d, source),
        lit(d, tbl)
    );
    Ok(local
        .run(db.rows(&sql))?
        .into_iter()
        .filter_map(|r| {
            let s = r.first().cloned().flatten()?.parse().ok()?;
            let t = r.get(1).cloned().flatten()?.parse().ok()?;
            Some((s, t))
        })
        .collect())
}

/// Tracker difference report: on a later run, the rows whose Version
/// increased in the source since they migrated. New rows always migrate
/// (the copy); changed rows only through the update step.
fn tracker_difference_report(
    cx: &mut Ctx<'_>,
    local: &Local,
    src: &mut Db,
    tgt: &mut Db,
) -> Result<()> {
    let tables: Vec<&Table> = cx
        .groups
        .iter()
        .find(|g| g.id == "tracker-config")
        .map(|g| g.tables(cx.from))
        .unwrap_or_default();
    let mut changes = Vec::new();
    for t in tables {
        if t.column("Version").is_none() || t.key().len() != 1 {
            continue;
        }
        let map = key_map(local, tgt, &cx.source_id, &t.name)?;
        if map.is_empty() {
            continue;
        }
        let cols: Vec<&str> = t.columns_at(cx.from).map(|c| c.name.as_str()).collect();
        let source_rows = rows_by_key(local, src, t, &cols)?;
        let target_rows = rows_by_key(local, tgt, t, &[t.key()[0], "Version"])?;
        let version = |row: &HashMap<String, Option<String>>| {
            row.get("version")
                .cloned()
                .flatten()
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0)
        };
        let mut keys: Vec<&i64> = source_rows.keys().collect();
        keys.sort();
        for s in keys {
            let row = &source_rows[s];
            let Some(&tk) = map.get(s) else { continue };
            let Some(trow) = target_rows.get(&tk) else {
                continue;
            };
            if version(row) > version(trow) {
                changes.push(TrackerChange {
                    table: t.name.clone(),
                    source_key: *s,
                    target_key: tk,
                    name: tracker_name(t, row, *s),
                    target_version: version(trow),
                    source_version: version(row),
                    updated: false,
                });
            }
        }
    }
    cx.note(
        "tracker-difference-report",
        format!(
            "{} Tracker Configuration row(s) changed in the source since they migrated",
            changes.len()
        ),
    );
    cx.tracker_changes = changes;
    Ok(())
}

/// The Tracker update step (last): the selected changed rows are written
/// over the target's, their references translated.
fn tracker_update(cx: &mut Ctx<'_>, local: &Local, src: &mut Db, tgt: &mut Db) -> Result<()> {
    let selected: Vec<usize> = (0..cx.tracker_changes.len())
        .filter(|&i| match &cx.options.tracker_update {
            TrackerUpdate::All => true,
            TrackerUpdate::None => false,
            TrackerUpdate::Ids(ids) => ids.contains(&cx.tracker_changes[i].source_key),
        })
        .collect();
    let d = tgt.dialect();
    let mut statements = Vec::new();
    for &i in &selected {
        let change = &cx.tracker_changes[i];
        let t = table(&change.table);
        let cols: Vec<&str> = t.columns_at(cx.from).map(|c| c.name.as_str()).collect();
        let rows = rows_by_key(local, src, t, &cols)?;
        let Some(row) = rows.get(&change.source_key) else {
            continue;
        };
        let mut sets = Vec::new();
        for c in t.columns_at(cx.from).filter(|c| !c.key) {
            let mut value = row.get(&c.name.to_ascii_lowercase()).cloned().flatten();
            if let (Some(v), Some(parent)) = (
                value.as_deref().and_then(|v| v.parse::<i64>().ok()),
                c.role
                    .as_deref()
                    .and_then(|r| r.strip_prefix("ref="))
                    .and_then(|r| r.split('.').next()),
            ) {
                if let Some(&to) = key_map(local, tgt, &cx.source_id, parent)?.get(&v) {
                    value = Some(to.to_string());
                }
            }
            let literal = match value {
                Some(v) => lit(d, &v),
                None => "NULL".into(),
            };
            sets.push(format!("{} = {literal}", d.ident(&c.name)));
        }
        statements.push(format!(
            "UPDATE {} SET {} WHERE {} = {}",
            d.ident(&t.name),
            sets.join(", "),
            d.ident(t.key()[0]),
            change.target_key
        ));
    }
    if !statements.is_empty() {
        in_transaction(local, tgt, &statements)?;
    }
    for &i in &selected {
        cx.tracker_changes[i].updated = true;
    }
    let left = cx.tracker_changes.len() - selected.len();
    let mut left_tables: Vec<String> = cx
        .tracker_changes
        .iter()
        .filter(|c| !c.updated)
        .map(|c| c.table.clone())
        .collect();
    left_tables.dedup();
    for t in left_tables {
        cx.changed.push((
            t,
            "changed Tracker rows left as they were (--tracker-update)".into(),
        ));
    }
    cx.note(
        "tracker-update",
        format!("updated {} changed row(s); left {left}", selected.len()),
    );
    Ok(())
}

/// Service-level columns get the 2015 R1 defaults (the target's column
/// defaults, 10/20/30/60 s), or the `--service-level` overrides, which the
/// writer fills as it writes the rows ([`crate::copy::derive`]). Checked
/// before the copy: an override must name a column of a selected table.
fn service_levels(cx: &mut Ctx<'_>, _: &Local, _: &mut Db, _: &mut Db) -> Result<()> {
    for (col, _) in &cx.options.service_levels {
        if !cx.tables().iter().any(|(_, t)| t.column(col).is_some()) {
            return Err(DbError::Usage(format!(
                "--service-level {col}: no selected table has that column"
            )));
        }
    }
    let detail = if cx.options.service_levels.is_empty() {
        "the 2015 R1 defaults (nServiceLevel1..4 = 10, 20, 30, 60 seconds)".to_string()
    } else {
        let set: Vec<String> = cx
            .options
            .service_levels
            .iter()
            .map(|(c, v)| format!("{c}={v}"))
            .collect();
        format!("{} on every migrated row", set.join(", "))
    };
    cx.note("service-level-defaults", detail);
    Ok(())
}

/// The UTC columns of a table with the local column each is filled from;
/// the first one's offset goes to `odsoffset`.
pub fn utc_pairs(t: &Table) -> Vec<(&str, &str)> {
    t.columns
        .iter()
        .filter_map(|c| {
            let base = c.name.strip_suffix("UTC")?;
            let local = t
                .column(base)
                .or_else(|| base.strip_suffix("Time").and_then(|b| t.column(b)))?;
            Some((c.name.as_str(), local.name.as_str()))
        })
        .collect()
}

/// UTC columns and `odsoffset`: the writer fills them from each row's
/// local time in the source zone as it writes the row
/// ([`crate::copy::derive`], with [`super::tz`]'s rule at DST changes),
/// so no row is written twice.
fn utc_columns(cx: &mut Ctx<'_>, _: &Local, _: &mut Db, _: &mut Db) -> Result<()> {
    let tables: Vec<&str> = cx
        .tables()
        .into_iter()
        .filter(|(_, t)| {
            Schema::reference()
                .table(&t.name)
                .is_some_and(|t| !utc_pairs(t).is_empty())
        })
        .map(|(_, t)| t.name.as_str())
        .collect();
    cx.note(
        "utc-columns",
        format!(
            "the UTC columns and odsoffset of {} table(s) are filled from {} as the rows are written",
            tables.len(),
            cx.filters.zone.iana
        ),
    );
    Ok(())
}

pub(crate) fn parse_timestamp(text: &str) -> Option<time::PrimitiveDateTime> {
    let text = text.trim();
    let text = text.get(..19).unwrap_or(text).replace('T', " ");
    time::PrimitiveDateTime::parse(
        &text,
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()
}

/// Recordings migrate their paths, not their files: `--recording-path-map
/// OLD=NEW` rewrites the prefix of `MediaUri` in the run's rows. All maps
/// go in one statement, the longest OLD first, so maps never chain (with
/// `A=B` and `B=C`, an `A` path becomes `B`); and a path that already
/// starts with a NEW that itself starts with its OLD is left alone, so a
/// rerun or a resume never rewrites a rewritten path again.
fn recording_paths(cx: &mut Ctx<'_>, local: &Local, _: &mut Db, tgt: &mut Db) -> Result<()> {
    let d = tgt.dialect();
    let t = table("IR_RecordingMedia");
    let group = cx
        .groups
        .iter()
        .find(|g| g.id == "recorder")
        .copied()
        .expect("recorder selected");
    let filter = cx.filters.condition(group, t);
    let col = d.ident("MediaUri");
    let mut maps: Vec<&(String, String)> = cx.options.recording_paths.iter().collect();
    maps.sort_by_key(|(old, _)| std::cmp::Reverse(old.chars().count()));
    let prefix_is = |text: &str| {
        format!(
            "SUBSTR({col}, 1, {}) = {}",
            text.chars().count(),
            lit(d, text)
        )
    };
    let mut whens = Vec::new();
    let mut any = Vec::new();
    for (old, new) in maps {
        let n = old.chars().count();
        let concat = match d.engine() {
            crate::engine::Engine::MySql => {
                format!("CONCAT({}, SUBSTR({col}, {}))", lit(d, new), n + 1)
            }
            _ => format!("{} || SUBSTR({col}, {})", lit(d, new), n + 1),
        };
        let mut when = prefix_is(old);
        if new.starts_with(old.as_str()) {
            when = format!("{when} AND NOT ({})", prefix_is(new));
        }
        whens.push(format!("WHEN {when} THEN {concat}"));
        any.push(format!("({when})"));
    }
    let mut cond = format!("({})", any.join(" OR "));
    if let Some(f) = &filter {
        cond.push_str(&format!(" AND ({f})"));
    }
    let statements = vec![format!(
        "UPDATE {} SET {col} = CASE {} ELSE {col} END WHERE {cond}",
        d.ident(&t.name),
        whens.join(" ")
    )];
    let counts = in_transaction(local, tgt, &statements)?;
    cx.changed.push((
        t.name.clone(),
        "recording paths rewritten (--recording-path-map)".into(),
    ));
    cx.note(
        "recording-paths",
        format!(
            "rewrote {} recording path(s); the files themselves are not moved",
            counts.iter().sum::<u64>()
        ),
    );
    Ok(())
}

/// Conference: the site-ID change step the vendor ships as
/// `IConSiteID.sql` (`NewSiteId`, `OldSiteId`).
fn conference_site_id(cx: &mut Ctx<'_>, local: &Local, _: &mut Db, tgt: &mut Db) -> Result<()> {
    let (old, new) = cx.options.conference_site.expect("applies");
    let d = tgt.dialect();
    let mut statements = Vec::new();
    for t in ["ICon_Conference", "ICon_Participant"] {
        statements.push(format!(
            "UPDATE {} SET {site} = {new} WHERE {site} = {old}",
            d.ident(t),
            site = d.ident("SiteId")
        ));
        cx.changed
            .push((t.to_string(), format!("site ID {old} changed to {new}")));
    }
    let counts = in_transaction(local, tgt, &statements)?;
    cx.note(
        "conference-site-id",
        format!(
            "IConSiteID: site ID {old} -> {new} on {} row(s)",
            counts.iter().sum::<u64>()
        ),
    );
    Ok(())
}

/// Duplicate users: a migrated INDIVIDUAL row whose ICUserID a row the
/// target held before (not in the key map) already has is merged into that
/// row: references are pointed at it, the key map too, and the migrated
/// row is deleted. Rows that share an ICUserID inside one source are left
/// as they are.
fn duplicate_users(cx: &mut Ctx<'_>, local: &Local, _: &mut Db, tgt: &mut Db) -> Result<()> {
    let d = tgt.dialect();
    let migrated: std::collections::HashSet<i64> = local
        .run(tgt.rows(&format!(
            "SELECT {} FROM {} WHERE tbl = 'INDIVIDUAL' AND {}",
            d.cast_text("tgt_key"),
            table_name(d, "key_map"),
            in_scope(d, &cx.scope)
        )))?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten()?.parse().ok())
        .collect();
    let rows = local.run(tgt.rows(&format!(
        "SELECT {}, {} FROM {} WHERE {} IS NOT NULL ORDER BY {}",
        d.cast_text(&d.ident("ICUserID")),
        d.cast_text(&d.ident("IndivID")),
        d.ident("INDIVIDUAL"),
        d.ident("ICUserID"),
        d.ident("IndivID")
    )))?;
    let mut users: Vec<(String, i64)> = Vec::new();
    for r in rows {
        if let (Some(user), Some(id)) = (
            r.first().cloned().flatten(),
            r.get(1)
                .cloned()
                .flatten()
                .and_then(|v| v.parse::<i64>().ok()),
        ) {
            users.push((user, id));
        }
    }
    let mut native: HashMap<&str, i64> = HashMap::new();
    for (user, id) in &users {
        if !migrated.contains(id) {
            native.entry(user.as_str()).or_insert(*id);
        }
    }
    let dups: Vec<(i64, i64)> = users
        .iter()
        .filter(|(_, id)| migrated.contains(id))
        .filter_map(|(user, id)| native.get(user.as_str()).map(|k| (*id, *k)))
        .collect();
    let mut statements = Vec::new();
    for (dup, k) in &dups {
        for t in ["INDIVCONNECTION", "INTX_PARTICIPANT"] {
            statements.push(format!(
                "UPDATE {} SET {c} = {k} WHERE {c} = {dup}",
                d.ident(t),
                c = d.ident("IndivID")
            ));
        }
        statements.push(format!(
            "UPDATE {} SET tgt_key = {k} WHERE tbl = 'INDIVIDUAL' AND tgt_key = {dup} AND {}",
            table_name(d, "key_map"),
            in_scope(d, &cx.scope)
        ));
        statements.push(format!(
            "DELETE FROM {} WHERE {} = {dup}",
            d.ident("INDIVIDUAL"),
            d.ident("IndivID")
        ));
    }
    in_transaction(local, tgt, &statements)?;
    if !dups.is_empty() {
        for t in ["INDIVIDUAL", "INDIVCONNECTION", "INTX_PARTICIPANT"] {
            cx.changed.push((t.into(), "duplicate users merged".into()));
        }
    }
    cx.note(
        "duplicate-users",
        format!("merged {} duplicate user row(s) by ICUserID", dups.len()),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table_reads_top_to_bottom() {
        let ids: Vec<&str> = RULES.iter().map(|r| r.id).collect();
        assert_eq!(ids.first(), Some(&"many-to-one"), "refusals first");
        assert_eq!(
            ids.last(),
            Some(&"tracker-update"),
            "the Tracker update step runs last"
        );
        let phases: Vec<Phase> = RULES.iter().map(|r| r.phase).collect();
        let mut sorted = phases.clone();
        sorted.sort_by_key(|p| *p as u8);
        assert_eq!(phases, sorted);
        // The columns the writer fills are settled before the copy.
        for id in ["service-level-defaults", "utc-columns"] {
            let r = RULES.iter().find(|r| r.id == id).unwrap();
            assert_eq!(r.phase, Phase::Before, "{id}");
        }
    }

    #[test]
    fn every_utc_column_finds_its_local_column() {
        for t in &Schema::reference().tables {
            for c in t.columns.iter().filter(|c| c.name.ends_with("UTC")) {
                assert!(
                    utc_pairs(t).iter().any(|(u, _)| *u == c.name),
                    "{}.{}",
                    t.name,
                    c.name
                );
            }
        }
        let calls = table("CallDetail");
        assert_eq!(
            utc_pairs(calls),
            [
                ("InitiatedDateTimeUTC", "InitiatedDate"),
                ("ConnectedDateTimeUTC", "ConnectedDate"),
                ("TerminatedDateTimeUTC", "TerminatedDate")
            ]
        );
    }

    #[test]
    fn tracker_rows_are_named_last_first_then_either_then_icuserid_then_individ() {
        let t = table("INDIVIDUAL");
        let row = |l: Option<&str>, f: Option<&str>, u: Option<&str>| {
            HashMap::from([
                ("lastname".to_string(), l.map(String::from)),
                ("firstname".to_string(), f.map(String::from)),
                ("icuserid".to_string(), u.map(String::from)),
            ])
        };
        assert_eq!(
            tracker_name(t, &row(Some("Doe"), Some("Jo"), Some("jdoe")), 7),
            "Doe, Jo"
        );
        assert_eq!(
            tracker_name(t, &row(None, Some("Jo"), Some("jdoe")), 7),
            "Jo"
        );
        assert_eq!(tracker_name(t, &row(Some("Doe"), None, None), 7), "Doe");
        assert_eq!(tracker_name(t, &row(None, None, Some("jdoe")), 7), "jdoe");
        assert_eq!(tracker_name(t, &row(None, Some(" "), None), 7), "7");
    }
}
