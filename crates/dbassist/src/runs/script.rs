//! The steps of a run, as files a DBA can read and run (D-05).
//!
//! A run has `1 + tables + 1` steps: `prepare` (the group rules that act
//! before the copy: refusals, many-to-one, the current-state deletes, the
//! Optimizer wipe, "Delete existing Tracker data"), one step per table in
//! the required order (parents before children), and `finish` (the rules
//! after the copy, the Tracker update, the validation and the record of
//! the migrated ranges). Each step is a plan file (`NN-<name>.toml`: the
//! filter, the column and key mapping, and the vendor's header
//! parameters) and a SQL step (`NN-<name>.sql`: a header, then the SQL of
//! the step in the target's dialect).
//!
//! `transit db exec-step RUN N` executes step N; `run-scripts.sh` calls it
//! for every step in order, and `--execute now` runs the same steps in the
//! same order in one process. A table step moves its rows with the copy
//! engine, batch by batch: the source rows of each batch are the staging
//! set the SQL step merges (key translation, the NOT EXISTS idempotency
//! check), and each batch commits with its resume marker.

use crate::copy::derive::{DeriveSpec, Deriver};
use crate::copy::keys;
use crate::copy::plan::TablePlan;
use crate::copy::state::table_name;
use crate::dialect::{dialect_for, Dialect};
use crate::engine::Engine;
use crate::error::Result;
use crate::migrate::groups::Group;
use crate::migrate::rules::CURRENT_STATE;
use crate::migrate::{filter, Ctx};
use crate::schema::{Table, Version};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a step does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// The rules before the copy.
    Prepare,
    /// One table's rows.
    Table,
    /// The rules after the copy, the validation, the ranges.
    Finish,
}

/// The vendor's script header parameters.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Header {
    /// The table has a SiteId column.
    pub has_site_id: bool,
    /// The column the date range applies to ("" when none applies).
    pub date_column: String,
    /// The parent whose filter the table inherits ("" when none).
    pub parent: String,
    /// The target table held rows when the run was generated (merge:
    /// the NOT EXISTS check; otherwise a bulk load with the secondary
    /// indexes dropped and rebuilt).
    pub target_has_data: bool,
    /// The source's time zone (IANA), used to fill the UTC columns.
    pub time_zone: String,
}

/// The column and key mapping of a table step.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Mapping {
    /// Columns read from the source and written as they are.
    pub columns: Vec<String>,
    /// Target columns the writer fills (UTC columns, odsoffset,
    /// service-level constants).
    pub derived: Vec<String>,
    /// The key (the idempotency check).
    pub key: Vec<String>,
    /// The key column translated through `transit_migration.key_map`.
    pub translated_key: String,
    /// Columns rewritten through a parent's key map (`column -> table`).
    pub translated_references: Vec<String>,
}

/// One step's plan file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    /// Its number (1-based).
    pub step: usize,
    /// Of how many.
    pub of: usize,
    /// `prepare`, the table's name, or `finish`.
    pub name: String,
    /// What it does.
    pub kind: StepKind,
    /// The table's group.
    pub group: String,
    /// Source rows the filter selects, counted when the run was generated.
    pub expected_rows: i64,
    /// The `WHERE` condition on the source ("" for every row).
    pub filter: String,
    /// The vendor's header parameters.
    pub header: Header,
    /// The column and key mapping.
    pub mapping: Mapping,
    /// The rules this step runs (prepare and finish).
    pub rules: Vec<String>,
}

/// A step: its plan and its SQL.
#[derive(Debug, Clone)]
pub struct Step {
    /// The plan file.
    pub plan: Plan,
    /// The SQL step's text.
    pub sql: String,
}

impl Step {
    /// `NN-name`, the stem of its two files.
    pub fn stem(&self) -> String {
        format!("{:02}-{}", self.plan.step, self.plan.name)
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The steps of the run `cx` describes. `counts` holds each table's
/// source row count and whether its target table held rows.
pub fn steps(cx: &Ctx<'_>, counts: &[(i64, bool)], engine: Engine) -> Result<Vec<Step>> {
    let d = dialect_for(engine);
    let tables = cx.copied_tables();
    let of = tables.len() + 2;
    let mut out = Vec::new();
    let before: Vec<String> = crate::migrate::rules::RULES
        .iter()
        .filter(|r| r.phase == crate::migrate::rules::Phase::Before && (r.applies)(cx))
        .map(|r| r.id.to_string())
        .collect();
    let plan = Plan {
        header: Header {
            time_zone: cx.filters.zone.iana.clone(),
            ..Header::default()
        },
        ..rules_plan(1, of, "prepare", StepKind::Prepare, before)
    };
    out.push(Step {
        sql: prepare_sql(cx, d, &plan),
        plan,
    });
    for (i, &(g, t)) in tables.iter().enumerate() {
        let (expected, has_data) = counts.get(i).copied().unwrap_or((0, false));
        let plan = table_plan(cx, g, t, i + 2, of, expected, has_data)?;
        out.push(Step {
            sql: table_sql(cx, d, t, &plan),
            plan,
        });
    }
    let after: Vec<String> = crate::migrate::rules::RULES
        .iter()
        .filter(|r| r.phase != crate::migrate::rules::Phase::Before && (r.applies)(cx))
        .map(|r| r.id.to_string())
        .collect();
    let plan = rules_plan(of, of, "finish", StepKind::Finish, after);
    out.push(Step {
        sql: finish_sql(cx, d, &plan),
        plan,
    });
    Ok(out)
}

/// The plan of a step that runs group rules (prepare, finish).
fn rules_plan(step: usize, of: usize, name: &str, kind: StepKind, rules: Vec<String>) -> Plan {
    Plan {
        step,
        of,
        name: name.into(),
        kind,
        group: String::new(),
        expected_rows: 0,
        filter: String::new(),
        header: Header::default(),
        mapping: Mapping::default(),
        rules,
    }
}

fn table_plan(
    cx: &Ctx<'_>,
    g: &Group,
    t: &'static Table,
    step: usize,
    of: usize,
    expected: i64,
    has_data: bool,
) -> Result<Plan> {
    let cond = cx.filters.condition(g, t);
    let plan = TablePlan::new(t, Version::V30, Version::R2015, cond.clone());
    let spec = DeriveSpec {
        zone: Some(cx.filters.zone.iana.clone()),
        constants: cx.options.service_levels.clone(),
    };
    let derived: Vec<String> = match Deriver::new(&plan, Version::R2015, &spec)? {
        Some(dv) => dv
            .write_plan(&plan)
            .columns
            .iter()
            .skip(plan.columns.len())
            .map(|c| c.name.clone())
            .collect(),
        None => Vec::new(),
    };
    let parent = g
        .parents(t)
        .iter()
        .map(|(col, p, pcol)| format!("{} ({col} -> {}.{pcol})", p.name, p.name))
        .collect::<Vec<_>>()
        .join(", ");
    let translated_key = if keys::translated(t) {
        plan.key_names()
            .first()
            .map(|s| s.to_string())
            .unwrap_or_default()
    } else {
        String::new()
    };
    let translated_references: Vec<String> = keys::translated_tables(t)
        .into_iter()
        .filter(|p| !p.eq_ignore_ascii_case(&t.name))
        .filter_map(|p| {
            t.columns
                .iter()
                .find(|c| {
                    c.role
                        .as_deref()
                        .and_then(|r| r.strip_prefix("ref="))
                        .is_some_and(|r| r.split('.').next() == Some(p))
                        || t.foreign_keys
                            .iter()
                            .any(|fk| fk.parent == p && fk.column.eq_ignore_ascii_case(&c.name))
                })
                .map(|c| format!("{} -> {p}", c.name))
        })
        .collect();
    Ok(Plan {
        step,
        of,
        name: t.name.clone(),
        kind: StepKind::Table,
        group: g.id.clone(),
        expected_rows: expected,
        filter: cond.unwrap_or_default(),
        header: Header {
            has_site_id: t.column("SiteId").is_some(),
            date_column: if g.parents(t).is_empty()
                && g.dates == crate::migrate::groups::Applies::Range
            {
                filter::date_column(t).unwrap_or_default().to_string()
            } else {
                String::new()
            },
            parent,
            target_has_data: has_data,
            time_zone: cx.filters.zone.iana.clone(),
        },
        mapping: Mapping {
            columns: plan.names().iter().map(|s| s.to_string()).collect(),
            derived,
            key: plan.key_names().iter().map(|s| s.to_string()).collect(),
            translated_key,
            translated_references,
        },
        rules: Vec::new(),
    })
}

fn lit(d: &dyn Dialect, text: &str) -> String {
    let mut out = String::new();
    d.literal(&crate::dialect::Value::Text(text.to_string()), &mut out);
    out
}

fn header_lines(cx: &Ctx<'_>, plan: &Plan, what: &str) -> String {
    let mut s = format!(
        "-- Transit DB migrate run {}, step {} of {}: {what}\n\
         -- Plan file: {:02}-{}.toml. Run it with: transit db exec-step {} {}\n\
         -- (run-scripts.sh runs every step in the required order; run them in that order.)\n",
        cx.run, plan.step, plan.of, plan.step, plan.name, cx.run, plan.step
    );
    if plan.kind == StepKind::Table {
        let h = &plan.header;
        let or_none = |v: &str| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.to_string()
            }
        };
        s.push_str(&format!(
            "--\n-- has site ID:            {}\n-- date column:            {}\n\
             -- parent:                 {}\n-- target table has data: {}\n-- time zone:              {}\n\
             -- filter:                 {}\n-- expected rows:          {}\n",
            yes_no(h.has_site_id),
            or_none(&h.date_column),
            or_none(&h.parent),
            yes_no(h.target_has_data),
            h.time_zone,
            or_none(&plan.filter),
            plan.expected_rows
        ));
    }
    s.push_str("--\n");
    s
}

fn prepare_sql(cx: &Ctx<'_>, d: &dyn Dialect, plan: &Plan) -> String {
    let rules = &plan.rules;
    let mut s = header_lines(cx, plan, "the group rules before the copy");
    s.push_str(&format!("-- Rules, in order: {}\n\n", rules.join(", ")));
    if rules.iter().any(|r| r == "delete-existing-tracker-data") {
        s.push_str("-- Delete existing Tracker data (refused while INTX_PARTICIPANT or INTXSEGMENT hold rows):\n");
        for t in crate::migrate::rules::TRACKER_DELETE_ORDER {
            s.push_str(&format!("DELETE FROM {};\n", d.ident(t)));
        }
        s.push('\n');
    }
    if rules.iter().any(|r| r == "optimizer-wipe-and-load") {
        s.push_str("-- Optimizer: all-in-one wipe and load (confirmed with --yes):\n");
        if let Some(g) = cx.groups.iter().find(|g| g.id == "optimizer") {
            for t in g.tables(Version::R2015).iter().rev() {
                s.push_str(&format!("DELETE FROM {};\n", d.ident(&t.name)));
            }
        }
        s.push('\n');
    }
    if rules.iter().any(|r| r == "current-state-reload") {
        s.push_str("-- Current-state tables: the rows of the source's site IDs are deleted, then reloaded:\n");
        for t in CURRENT_STATE {
            s.push_str(&format!(
                "DELETE FROM {} WHERE {} IN (/* the source's site IDs in {t} */);\n",
                d.ident(t),
                d.ident("SiteId")
            ));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "-- The step is recorded so that it never runs twice in this run:\nINSERT INTO {} (run, step, detail) VALUES ({}, 'migrate', {});\n",
        table_name(d, "migrate_steps"),
        lit(d, &cx.run),
        lit(d, &cx.scope)
    ));
    s
}

fn table_sql(cx: &Ctx<'_>, d: &dyn Dialect, t: &Table, plan: &Plan) -> String {
    let mut s = header_lines(cx, plan, &format!("{} ({})", t.name, plan.group));
    let m = &plan.mapping;
    s.push_str(&format!(
        "-- Source:\nSELECT {} FROM {}{} ORDER BY {};\n\n",
        d.ident_list(&m.columns.iter().map(String::as_str).collect::<Vec<_>>()),
        d.ident(&t.name),
        if plan.filter.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", plan.filter)
        },
        d.ident_list(&m.key.iter().map(String::as_str).collect::<Vec<_>>())
    ));
    // The batch's parts, numbered as they apply to this table.
    let mut parts = vec![
        "the copy engine reads the next source rows of the SELECT above, in key order, at\n\
         --     most the commit frequency's rows (`transit db tune` changes it between batches);"
            .to_string(),
    ];
    if !m.translated_key.is_empty() {
        parts.push(format!(
            "each new source key of {} gets its target key in {}: it keeps its value when\n\
             --     the target does not hold it yet, otherwise it takes the next free value above\n\
             --     the table's largest key;",
            m.translated_key,
            table_name(d, "key_map")
        ));
    }
    if !m.derived.is_empty() {
        parts.push(format!(
            "the filled columns are computed: {} (UTC columns from {});",
            m.derived.join(", "),
            plan.header.time_zone
        ));
    }
    parts.push(format!(
        "when {t} held rows as its copy began (merge), the rows are bulk-loaded into the\n\
         --     staging table and the statements below merge them: key translation, the NOT\n\
         --     EXISTS idempotency check, and the record of the inserted keys for cleanup.sh;\n\
         --     when it was empty (bulk), the rows go straight into it through the same bulk\n\
         --     path, its secondary indexes dropped before the first batch and built after the\n\
         --     last (cleanup.sh builds them again after a crash);",
        t = t.name,
    ));
    parts.push(format!(
        "the resume marker ({}) is updated, and the batch commits.",
        table_name(d, "copy_progress")
    ));
    s.push_str(
        "-- Each batch runs in one transaction (BEGIN ... COMMIT), so a kill loses nothing\n\
         -- and repeats nothing:\n",
    );
    for (i, part) in parts.iter().enumerate() {
        s.push_str(&format!("-- {:>2}. {part}\n", i + 1));
    }
    s.push_str(
        "-- `transit db exec-step` runs the statements between the marker lines below, as\n\
         -- they stand in this file.\n\n",
    );
    s.push_str(&super::super::copy::stage::render(&staging(cx, d, plan)));
    s
}

/// The staging statements of a table step (its merge).
fn staging(cx: &Ctx<'_>, d: &dyn Dialect, plan: &Plan) -> crate::copy::stage::Staging {
    let m = &plan.mapping;
    let columns: Vec<String> = m.columns.iter().chain(m.derived.iter()).cloned().collect();
    let references: Vec<(String, String)> = m
        .translated_references
        .iter()
        .filter_map(|r| r.split_once(" -> "))
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
    crate::copy::stage::merge(
        d,
        &crate::copy::stage::MergeSpec {
            run: &cx.run,
            scope: &cx.scope,
            source: &cx.source_id,
            table: &plan.name,
            columns: &columns,
            key: &m.key,
            translated_key: &m.translated_key,
            references: &references,
        },
    )
}

fn finish_sql(cx: &Ctx<'_>, d: &dyn Dialect, plan: &Plan) -> String {
    let rules = &plan.rules;
    let mut s = header_lines(cx, plan, "the rules after the copy, validation, ranges");
    s.push_str(&format!(
        "-- Rules, in order: {}\n\n",
        if rules.is_empty() {
            "(none)".to_string()
        } else {
            rules.join(", ")
        }
    ));
    for (old, new) in &cx.options.recording_paths {
        s.push_str(&format!(
            "-- Recording paths:\nUPDATE {} SET /* each path column */ = {} || SUBSTR(/* column */, {}) WHERE /* column */ LIKE {};\n\n",
            d.ident("IR_RecordingMedia"),
            lit(d, new),
            old.chars().count() + 1,
            lit(d, &format!("{old}%"))
        ));
    }
    if let Some((old, new)) = cx.options.conference_site {
        s.push_str(&format!(
            "-- Conference site ID (IConSiteID.sql):\nUPDATE {} SET {} = {new} WHERE {} = {old};\n\n",
            d.ident("ICon_Conference"),
            d.ident("SiteId"),
            d.ident("SiteId")
        ));
    }
    if rules.iter().any(|r| r == "tracker-update") {
        s.push_str(
            "-- Tracker update: the changed Tracker Configuration rows chosen with --tracker-update\n\
             -- (the difference report, by version column) are written over the target's rows:\n",
        );
        for name in ["INDIVIDUAL", "ORGANIZATION", "LOCATION"] {
            if let Some(t) = crate::schema::Schema::reference().table(name) {
                let cols: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
                let key = t.key();
                s.push_str(&format!(
                    "{};\n",
                    d.upsert(&t.name, "transit_stage", &cols, &key)
                ));
            }
        }
        s.push('\n');
    }
    s.push_str(
        "-- Then each table is validated (row count and checksum within the filter), `check`\n\
         -- runs on the target, the migrated ranges are recorded, and the run is Completed.\n",
    );
    s
}

/// Writes the steps, `run-scripts.sh` and `cleanup.sh` into `run_dir`.
pub fn write(run_dir: &Path, run: &str, steps: &[Step]) -> Result<()> {
    let dir = run_dir.join("steps");
    for step in steps {
        let toml = toml::to_string_pretty(&step.plan).map_err(|e| {
            crate::DbError::Refused(format!("cannot write the plan of {}: {e}", step.stem()))
        })?;
        super::settings::write(&dir.join(format!("{}.toml", step.stem())), toml.as_bytes())?;
        super::settings::write(
            &dir.join(format!("{}.sql", step.stem())),
            step.sql.as_bytes(),
        )?;
    }
    let mut sh = format!(
        "#!/bin/sh\n# Runs the steps of migrate run {run} in the required order (D-05).\n\
         # Passwords come from the usual places (PGPASSWORD, ~/.pgpass, MYSQL_PWD, ~/.my.cnf):\n\
         # none is written here. After a crash, run cleanup.sh (or `transit db resume {run}`).\n\
         set -e\nTRANSIT=\"${{TRANSIT:-transit}}\"\nRUNS=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\"\n"
    );
    for step in steps {
        // The last step packs the run folder: `run-scripts.sh
        // --pack-password-env VAR` encrypts the zip.
        let rest = if step.plan.kind == StepKind::Finish {
            " \"$@\""
        } else {
            ""
        };
        sh.push_str(&format!(
            "echo \"step {} of {}: {}\"\n\"$TRANSIT\" db exec-step --run-dir \"$RUNS\" {run} {}{rest}\n",
            step.plan.step, step.plan.of, step.plan.name, step.plan.step
        ));
    }
    write_script(&run_dir.join("run-scripts.sh"), &sh)?;
    let cleanup = format!(
        "#!/bin/sh\n# Returns the target to its state before migrate run {run}, after a crash or a kill:\n\
         # removes the rows and key-translation rows of the run and builds the indexes it dropped.\n\
         set -e\nTRANSIT=\"${{TRANSIT:-transit}}\"\nRUNS=\"$(cd \"$(dirname \"$0\")/..\" && pwd)\"\n\
         \"$TRANSIT\" db cleanup --run-dir \"$RUNS\" {run}\n"
    );
    write_script(&run_dir.join("cleanup.sh"), &cleanup)
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    super::settings::write(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
    }
    Ok(())
}

/// The staging statements of the table steps of a run folder, read back
/// from their SQL steps (what `exec-step` runs is what the files say). A
/// step written before staging existed (no marker lines) has none: its
/// table is merged on the direct path.
pub fn staging_of(
    run_dir: &Path,
) -> Result<std::collections::HashMap<String, crate::copy::stage::Staging>> {
    let mut out = std::collections::HashMap::new();
    if !run_dir.join("steps").is_dir() {
        return Ok(out);
    }
    for step in read(run_dir)? {
        if step.plan.kind != StepKind::Table || !step.sql.contains(crate::copy::stage::SETUP) {
            continue;
        }
        let what = run_dir.join("steps").join(format!("{}.sql", step.stem()));
        let st = crate::copy::stage::parse(&step.sql, &what.display().to_string())?;
        out.insert(step.plan.name.clone(), st);
    }
    Ok(out)
}

/// The steps of a run folder, read back (plan and SQL), in order.
pub fn read(run_dir: &Path) -> Result<Vec<Step>> {
    let dir = run_dir.join("steps");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| crate::DbError::Io(transit_core::PathIoError::new(&dir, e)))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| crate::DbError::Io(transit_core::PathIoError::new(&f, e)))?;
        let plan: Plan = toml::from_str(&text)
            .map_err(|e| crate::DbError::Usage(format!("{}: unreadable: {e}", f.display())))?;
        let sql_path = f.with_extension("sql");
        let sql = std::fs::read_to_string(&sql_path)
            .map_err(|e| crate::DbError::Io(transit_core::PathIoError::new(&sql_path, e)))?;
        out.push(Step { plan, sql });
    }
    Ok(out)
}
