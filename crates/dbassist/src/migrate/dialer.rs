//! Dialer history (the migration guide's Dialer chapter): each Dialer
//! workflow kept its history in its own tables next to its contact list
//! (`I3_<WORKFLOW>_CH0`, call history, and `I3_<WORKFLOW>_AS0`, agent
//! statistics); 2015 R1 keeps it in the CIC database, in `CallHistory` and
//! `AgentStats`, told apart by `DialerWorkflow`.
//!
//! - [`parse_config`] reads the Dialer server's `dialer_config.xml`: every
//!   `<Workflow>` element, with its `Name`, `Status` (Active, Completed,
//!   Off, Error), `Paused`, `Deleted`, `DataSource` and, when its tables
//!   are not named after it, `TablePrefix`.
//! - [`select`] is the vendor's workflow picker ("Select All, Select All
//!   Paused, Select All Deleted, Select All By Status (Active, Completed,
//!   Off, Error), Select All By Data Source"), plus workflows by name.
//! - [`consolidate`] (the `dialer-consolidation` rule) copies each
//!   selected workflow's tables into the consolidated tables within the
//!   date and site filters, filling `DialerWorkflow`, the UTC column and
//!   `odsoffset` as it writes. Source keys go through
//!   `transit_migration.key_map` (table `I3_<WORKFLOW>_CH0`, …), written
//!   in the transaction of the rows they number, so a rerun or a resumed
//!   run inserts only what is not there yet. A workflow whose tables are
//!   missing is reported, not fatal (the guide: such workflows make the
//!   vendor's tool fail; "delete workflows that do not contain historical
//!   workflow tables").

use super::Ctx;
use crate::copy::state::table_name;
use crate::copy::Local;
use crate::db::Db;
use crate::dialect::{Dialect, Value};
use crate::error::{DbError, Result};
use crate::schema::{Schema, SqlType, Table};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// The vendor's workflow statuses.
pub const STATUSES: [&str; 4] = ["Active", "Completed", "Off", "Error"];

/// One workflow of `dialer_config.xml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Workflow {
    /// Its name (`DialerWorkflow` in the target).
    pub name: String,
    /// Active, Completed, Off or Error.
    pub status: String,
    /// Paused.
    pub paused: bool,
    /// Deleted (but not purged).
    pub deleted: bool,
    /// The data source (UDL) its contact list and history live in.
    pub data_source: String,
    /// Its history tables' prefix (`I3_<NAME>`).
    pub prefix: String,
}

/// One history table kind: the workflow table's suffix, the consolidated
/// table, and the reference table whose layout every workflow's table has.
pub const KINDS: [(&str, &str, &str); 2] = [
    ("_CH0", "CallHistory", "I3_SALES_CH0"),
    ("_AS0", "AgentStats", "I3_SALES_AS0"),
];

fn usage(path: &str, what: impl std::fmt::Display) -> DbError {
    DbError::Usage(format!("--dialer-config {path}: {what}"))
}

fn flag(path: &str, name: &str, attr: &str, text: Option<&str>) -> Result<bool> {
    match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("no") | Some("0") => Ok(false),
        Some("true") | Some("yes") | Some("1") => Ok(true),
        Some(other) => Err(usage(
            path,
            format!("workflow `{name}`: {attr}=\"{other}\" is not true or false"),
        )),
    }
}

/// The default table prefix of a workflow: `I3_` and its name in upper
/// case, other characters than letters and digits as `_`.
pub fn default_prefix(name: &str) -> String {
    let body: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("I3_{body}")
}

/// Reads the workflows of a `dialer_config.xml` text (`path` names it in
/// errors). Attribute names are matched without regard to case.
pub fn parse_config(path: &str, text: &str) -> Result<Vec<Workflow>> {
    let doc = roxmltree::Document::parse(text).map_err(|e| usage(path, e))?;
    let mut out: Vec<Workflow> = Vec::new();
    for node in doc
        .descendants()
        .filter(|n| n.is_element() && n.tag_name().name().eq_ignore_ascii_case("Workflow"))
    {
        let attr = |a: &str| {
            node.attributes()
                .find(|x| x.name().eq_ignore_ascii_case(a))
                .map(|x| x.value())
        };
        let line = doc.text_pos_at(node.range().start).row;
        let name = attr("Name")
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| usage(path, format!("line {line}: a <Workflow> without a Name")))?
            .to_string();
        if out.iter().any(|w| w.name.eq_ignore_ascii_case(&name)) {
            return Err(usage(
                path,
                format!("line {line}: workflow `{name}` is listed twice"),
            ));
        }
        let status = match attr("Status").map(str::trim).filter(|s| !s.is_empty()) {
            None => "Active".to_string(),
            Some(s) => STATUSES
                .iter()
                .find(|k| k.eq_ignore_ascii_case(s))
                .ok_or_else(|| {
                    usage(
                        path,
                        format!(
                            "line {line}: workflow `{name}` has status `{s}` (known: {})",
                            STATUSES.join(", ")
                        ),
                    )
                })?
                .to_string(),
        };
        let prefix = match attr("TablePrefix").map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) if p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') => p.to_string(),
            Some(p) => {
                return Err(usage(
                    path,
                    format!("line {line}: workflow `{name}` has TablePrefix `{p}` (letters, digits and _ only)"),
                ))
            }
            None => default_prefix(&name),
        };
        out.push(Workflow {
            paused: flag(path, &name, "Paused", attr("Paused"))?,
            deleted: flag(path, &name, "Deleted", attr("Deleted"))?,
            data_source: attr("DataSource").unwrap_or("").trim().to_string(),
            status,
            prefix,
            name,
        });
    }
    if out.is_empty() {
        return Err(usage(path, "no <Workflow> element"));
    }
    Ok(out)
}

/// Reads a `dialer_config.xml` file.
pub fn read_config(path: &Path) -> Result<Vec<Workflow>> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| usage(&shown, e))?;
    parse_config(&shown, &text)
}

/// One choice of the workflow picker (`--workflows`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// Select All.
    All,
    /// Select All Paused.
    Paused,
    /// Select All Deleted.
    Deleted,
    /// Select All By Status.
    Status(String),
    /// Select All By Data Source.
    Source(String),
    /// One workflow by name.
    Name(String),
}

impl Pick {
    /// `all`, `paused`, `deleted`, `status=S`, `source=NAME` or a
    /// workflow's name.
    pub fn parse(text: &str) -> Result<Pick> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        Ok(match lower.as_str() {
            "all" => Pick::All,
            "paused" => Pick::Paused,
            "deleted" => Pick::Deleted,
            _ => {
                if let Some(s) = lower.strip_prefix("status=") {
                    let s = STATUSES
                        .iter()
                        .find(|k| k.eq_ignore_ascii_case(s.trim()))
                        .ok_or_else(|| {
                            DbError::Usage(format!(
                                "--workflows {t}: no status `{}` (known: {})",
                                s.trim(),
                                STATUSES.join(", ")
                            ))
                        })?;
                    Pick::Status(s.to_string())
                } else if lower.starts_with("source=") {
                    Pick::Source(t["source=".len()..].trim().to_string())
                } else if t.is_empty() {
                    return Err(DbError::Usage("--workflows: an empty choice".into()));
                } else {
                    Pick::Name(t.to_string())
                }
            }
        })
    }

    fn matches(&self, w: &Workflow) -> bool {
        match self {
            Pick::All => true,
            Pick::Paused => w.paused,
            Pick::Deleted => w.deleted,
            Pick::Status(s) => w.status.eq_ignore_ascii_case(s),
            Pick::Source(s) => w.data_source.eq_ignore_ascii_case(s),
            Pick::Name(n) => w.name.eq_ignore_ascii_case(n),
        }
    }
}

/// The workflows the picks select (their union, in the file's order). A
/// name that is no workflow, or picks that select nothing, are refused.
pub fn select(workflows: &[Workflow], picks: &[Pick]) -> Result<Vec<Workflow>> {
    for p in picks {
        if let Pick::Name(n) = p {
            if !workflows.iter().any(|w| p.matches(w)) {
                let known: Vec<&str> = workflows.iter().map(|w| w.name.as_str()).collect();
                return Err(DbError::Usage(format!(
                    "--workflows: no workflow `{n}` in the Dialer configuration (known: {})",
                    known.join(", ")
                )));
            }
        }
    }
    let out: Vec<Workflow> = workflows
        .iter()
        .filter(|w| picks.iter().any(|p| p.matches(w)))
        .cloned()
        .collect();
    if out.is_empty() {
        return Err(DbError::Usage(
            "--workflows selects no workflow of the Dialer configuration".into(),
        ));
    }
    Ok(out)
}

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&Value::Text(text.to_string()), &mut out);
    out
}

fn reference(name: &str) -> &'static Table {
    Schema::reference().table(name).expect("a reference table")
}

/// The columns a workflow table and its consolidated table share (the
/// workflow table's layout is the reference `I3_SALES_*` one).
fn shared_columns(layout: &Table, target: &Table) -> Vec<(&'static str, SqlType)> {
    let target = reference(&target.name);
    layout
        .columns
        .iter()
        .filter_map(|c| target.column(&c.name))
        .map(|c| (c.name.as_str(), c.ty))
        .collect()
}

fn value_of(ty: SqlType, text: Option<String>) -> Value {
    let Some(text) = text else {
        return Value::Null;
    };
    if ty.is_integer() {
        if let Ok(n) = text.trim().parse() {
            return Value::Int(n);
        }
    } else if ty == SqlType::Timestamp {
        if let Some(t) = super::rules::parse_timestamp(&text) {
            return Value::Timestamp(t);
        }
    }
    Value::Text(text)
}

/// What the consolidation of one workflow table did.
#[derive(Debug, Clone, Default)]
struct Moved {
    inserted: u64,
    skipped: u64,
}

/// The `dialer-consolidation` rule.
pub fn consolidate(cx: &mut Ctx<'_>, local: &Local, src: &mut Db, tgt: &mut Db) -> Result<()> {
    let workflows = cx.workflows.clone();
    let mut parts = Vec::new();
    let mut missing = Vec::new();
    let mut total = 0;
    for w in &workflows {
        let mut here = Vec::new();
        for (suffix, target, layout) in KINDS {
            let table = format!("{}{suffix}", w.prefix);
            if !local.run(src.table_exists(&table))? {
                missing.push(table);
                continue;
            }
            let m = consolidate_table(cx, local, src, tgt, w, &table, reference(layout), target)?;
            total += m.inserted;
            here.push(format!(
                "{table} -> {target} {} row(s){}",
                m.inserted,
                if m.skipped > 0 {
                    format!(" ({} there already)", m.skipped)
                } else {
                    String::new()
                }
            ));
        }
        if !here.is_empty() {
            parts.push(format!("{}: {}", w.name, here.join(", ")));
        }
    }
    cx.dialer_rows = total;
    cx.dialer_missing = missing.clone();
    let mut detail = format!(
        "{} workflow(s) selected; {total} row(s) consolidated",
        workflows.len()
    );
    if !parts.is_empty() {
        detail.push_str(&format!(": {}", parts.join("; ")));
    }
    if !missing.is_empty() {
        detail.push_str(&format!(
            "; missing in the source, not migrated: {}",
            missing.join(", ")
        ));
    }
    for (_, target, _) in KINDS {
        cx.changed.push((
            target.to_string(),
            "consolidated from the Dialer workflows' tables".into(),
        ));
    }
    cx.note("dialer-consolidation", detail);
    Ok(())
}

/// The condition on a workflow table: the date range on its time column
/// (source local time) and the site.
fn condition(cx: &Ctx<'_>, sd: &dyn Dialect, layout: &Table) -> Vec<String> {
    let mut cond = Vec::new();
    if let Some(col) = super::filter::date_column(layout) {
        let (lo, hi) = cx.filters.local_window();
        let c = sd.ident(col);
        cond.push(format!("{c} >= '{lo}' AND {c} < '{hi}'"));
    }
    if let Some(site) = cx.filters.site {
        cond.push(format!("{} = {site}", sd.ident("SiteId")));
    }
    cond
}

#[allow(clippy::too_many_arguments)]
fn consolidate_table(
    cx: &Ctx<'_>,
    local: &Local,
    src: &mut Db,
    tgt: &mut Db,
    w: &Workflow,
    table: &str,
    layout: &Table,
    target: &str,
) -> Result<Moved> {
    let sd = src.dialect();
    let d = tgt.dialect();
    let target_table = reference(target);
    let cols = shared_columns(layout, target_table);
    let key = layout.key()[0];
    let key_at = cols
        .iter()
        .position(|(c, _)| *c == key)
        .expect("the key is shared");
    let time_col = super::filter::date_column(layout).expect("a time column");
    let time_at = cols.iter().position(|(c, _)| *c == time_col);
    let base_cond = condition(cx, sd, layout);
    let select: Vec<String> = cols
        .iter()
        .map(|(c, _)| sd.cast_text(&sd.ident(c)))
        .collect();
    let mut insert_cols: Vec<String> = cols.iter().map(|(c, _)| d.ident(c)).collect();
    insert_cols.push(d.ident(&format!("{time_col}UTC")));
    insert_cols.push(d.ident("odsoffset"));
    insert_cols.push(d.ident("DialerWorkflow"));
    let key_col = d.ident(target_table.key()[0]);
    let mut next = local
        .run(tgt.rows(&format!(
            "SELECT {} FROM {}",
            d.cast_text(&format!("MAX({key_col})")),
            d.ident(target)
        )))?
        .first()
        .and_then(|r| r.first().cloned().flatten())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0)
        + 1;
    let map_table = table_name(d, "key_map");
    let page = cx.options.batch_rows.max(1);
    let mut after: Option<i64> = None;
    let mut moved = Moved::default();
    loop {
        let mut cond = base_cond.clone();
        if let Some(a) = after {
            cond.push(format!("{} > {a}", sd.ident(key)));
        }
        let mut sql = format!("SELECT {} FROM {}", select.join(", "), sd.ident(table));
        if !cond.is_empty() {
            sql.push_str(&format!(" WHERE {}", cond.join(" AND ")));
        }
        sql.push_str(&format!(" ORDER BY {} LIMIT {page}", sd.ident(key)));
        let rows = local.run(src.rows(&sql))?;
        let Some(last) = rows
            .last()
            .and_then(|r| r[key_at].as_deref())
            .and_then(|v| v.trim().parse::<i64>().ok())
        else {
            break;
        };
        let keys: Vec<i64> = rows
            .iter()
            .filter_map(|r| r[key_at].as_deref()?.trim().parse().ok())
            .collect();
        let mut known: HashMap<i64, i64> = HashMap::new();
        for chunk in keys.chunks(500) {
            let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
            for r in local.run(tgt.rows(&format!(
                "SELECT {}, {} FROM {map_table} WHERE source = {} AND tbl = {} AND src_key IN ({})",
                d.cast_text("src_key"),
                d.cast_text("tgt_key"),
                lit(d, &cx.source_id),
                lit(d, table),
                list.join(", ")
            )))? {
                let get = |i: usize| r.get(i).cloned().flatten()?.parse::<i64>().ok();
                if let (Some(s), Some(t)) = (get(0), get(1)) {
                    known.insert(s, t);
                }
            }
        }
        let mut values = Vec::new();
        let mut maps = Vec::new();
        for row in rows {
            let Some(k) = row[key_at]
                .as_deref()
                .and_then(|v| v.trim().parse::<i64>().ok())
            else {
                continue;
            };
            if known.contains_key(&k) {
                moved.skipped += 1;
                continue;
            }
            let t = next;
            next += 1;
            let local_time = time_at
                .and_then(|i| row[i].as_deref())
                .and_then(super::rules::parse_timestamp);
            let mut tuple = String::from("(");
            for (i, (cell, (_, ty))) in row.into_iter().zip(&cols).enumerate() {
                if i > 0 {
                    tuple.push_str(", ");
                }
                let v = if i == key_at {
                    Value::Int(t)
                } else {
                    value_of(*ty, cell)
                };
                d.literal(&v, &mut tuple);
            }
            let (utc, offset) = match local_time {
                Some(l) => (
                    Value::Timestamp(cx.filters.zone.utc_of_local(l)),
                    Value::Int(i64::from(cx.filters.zone.offset_of_local(l))),
                ),
                None => (Value::Null, Value::Null),
            };
            for v in [utc, offset, Value::Text(w.name.clone())] {
                tuple.push_str(", ");
                d.literal(&v, &mut tuple);
            }
            tuple.push(')');
            values.push(tuple);
            maps.push(format!(
                "({}, {}, {k}, {t})",
                lit(d, &cx.source_id),
                lit(d, table)
            ));
        }
        if !values.is_empty() {
            let mut statements = Vec::new();
            for chunk in values.chunks(500) {
                statements.push(format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    d.ident(target),
                    insert_cols.join(", "),
                    chunk.join(", ")
                ));
            }
            for chunk in maps.chunks(500) {
                statements.push(format!(
                    "INSERT INTO {map_table} (source, tbl, src_key, tgt_key) VALUES {}",
                    chunk.join(", ")
                ));
            }
            moved.inserted += values.len() as u64;
            super::rules::in_transaction(local, tgt, &statements)?;
        }
        after = Some(last);
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"<?xml version="1.0"?>
<DialerConfig Server="CIC01">
  <Campaign Name="Spring Sale" Workflow="Sales" Active="true"/>
  <Workflows>
    <Workflow Name="Sales" Status="Active" DataSource="ContactsA"/>
    <Workflow Name="Collect" Status="Off" Paused="true" DataSource="ContactsB"/>
    <Workflow Name="Old Leads" Status="Completed" Deleted="yes" DataSource="ContactsA"/>
    <Workflow name="Renewals" status="error" tableprefix="I3_RENEW" datasource="ContactsB"/>
  </Workflows>
</DialerConfig>
"#;

    fn names(picks: &[&str]) -> Vec<String> {
        let all = parse_config("dialer_config.xml", CONFIG).unwrap();
        let picks: Vec<Pick> = picks.iter().map(|p| Pick::parse(p).unwrap()).collect();
        select(&all, &picks)
            .unwrap()
            .into_iter()
            .map(|w| w.name)
            .collect()
    }

    #[test]
    fn dialer_config_lists_the_workflows_with_their_status_and_tables() {
        let all = parse_config("dialer_config.xml", CONFIG).unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0].prefix, "I3_SALES");
        assert_eq!(all[2].prefix, "I3_OLD_LEADS");
        assert!(all[2].deleted && !all[2].paused);
        assert_eq!(all[3].prefix, "I3_RENEW");
        assert_eq!(all[3].status, "Error");
        assert_eq!(all[3].data_source, "ContactsB");
    }

    #[test]
    fn the_workflow_picker_selects_like_the_vendors() {
        assert_eq!(
            names(&["all"]),
            ["Sales", "Collect", "Old Leads", "Renewals"]
        );
        assert_eq!(names(&["paused"]), ["Collect"]);
        assert_eq!(names(&["deleted"]), ["Old Leads"]);
        assert_eq!(
            names(&["status=off", "status=Error"]),
            ["Collect", "Renewals"]
        );
        assert_eq!(names(&["source=contactsa"]), ["Sales", "Old Leads"]);
        // Picks are a union, in the file's order.
        assert_eq!(names(&["renewals", "Sales"]), ["Sales", "Renewals"]);
    }

    #[test]
    fn bad_dialer_configs_and_picks_are_refused_clearly() {
        let err = |text: &str| parse_config("d.xml", text).unwrap_err().to_string();
        assert!(err("<DialerConfig>").contains("d.xml"));
        assert!(err("<DialerConfig/>").contains("no <Workflow>"));
        assert!(err("<D><Workflow Status=\"Active\"/></D>").contains("without a Name"));
        assert!(err("<D><Workflow Name=\"A\"/><Workflow Name=\"a\"/></D>").contains("twice"));
        assert!(
            err("<D><Workflow Name=\"A\" Status=\"Running\"/></D>").contains("status `Running`")
        );
        assert!(err("<D><Workflow Name=\"A\" Paused=\"maybe\"/></D>").contains("Paused"));
        assert!(err("<D><Workflow Name=\"A\" TablePrefix=\"x;drop\"/></D>").contains("TablePrefix"));
        assert!(Pick::parse("status=running")
            .unwrap_err()
            .to_string()
            .contains("no status"));
        let all = parse_config("d.xml", CONFIG).unwrap();
        let e = select(&all, &[Pick::Name("Nope".into())]).unwrap_err();
        assert!(e.to_string().contains("known: Sales"), "{e}");
        let only_active = parse_config("d.xml", "<D><Workflow Name=\"A\"/></D>").unwrap();
        let e = select(&only_active, &[Pick::Paused]).unwrap_err();
        assert!(e.to_string().contains("selects no workflow"), "{e}");
    }

    #[test]
    fn workflow_tables_share_the_consolidated_tables_columns() {
        for (_, target, layout) in KINDS {
            let t = reference(target);
            let cols = shared_columns(reference(layout), t);
            assert_eq!(cols.len() + 3, t.columns.len(), "{target}");
            assert!(t.column("DialerWorkflow").is_some());
            let time_col = crate::migrate::filter::date_column(reference(layout)).unwrap();
            assert!(t.column(&format!("{time_col}UTC")).is_some());
        }
    }
}
