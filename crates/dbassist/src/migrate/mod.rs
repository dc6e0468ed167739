//! `transit db migrate`: the vendor's migration semantics on top of the
//! copy engine (docs/dbassist.md, "transit db migrate", D-02 to D-04).
//!
//! A run: `check` both sides → resolve the table groups ([`groups`], with
//! the groups they need) → the filters per table ([`filter`], the source
//! zone from [`tz`]) → the group rules that come before the copy
//! ([`rules::RULES`], in order) → the copy of every table, surrogate keys
//! translated ([`crate::copy::keys`]) → the rules after the copy → the
//! validation of the tables no rule changed on purpose → `check` the
//! target again.
//!
//! The copy run's name is the migrate run's name: the rule steps that
//! must not repeat (the Optimizer wipe, the current-state deletes) are
//! recorded under it in `transit_migration.migrate_steps`, so `--resume`
//! goes on from the last committed batch without repeating them.

pub mod filter;
pub mod groups;
pub mod rules;
pub mod tz;

use crate::check;
use crate::copy::state;
use crate::copy::{self, CopyOptions, CopyReport, Local, OnError, RunOptions, TableValidation};
use crate::error::{DbError, Result};
use crate::schema::{Table, Version};
use crate::target::DbTarget;
use filter::Filters;
use groups::Group;
use serde::Serialize;
use std::path::PathBuf;
use transit_core::{CancelToken, Event, Progress};

/// Which changed Tracker Configuration rows the update step writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum TrackerUpdate {
    /// Every changed row.
    All,
    /// None (the report only).
    None,
    /// The rows with these source keys (IndivID, OrgID, …).
    Ids(Vec<i64>),
}

/// What a migration does.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// Table groups (IDs or titles; `all`).
    pub groups: Vec<String>,
    /// First day (UTC), inclusive.
    pub start: time::Date,
    /// Last day (UTC), inclusive; before today.
    pub end: time::Date,
    /// Only this site's rows.
    pub site: Option<i64>,
    /// The source's time zone (IANA, Windows ID or display name).
    pub source_tz: String,
    /// Changed Tracker Configuration rows to update.
    pub tracker_update: TrackerUpdate,
    /// Delete the target's Tracker tables first (first run only).
    pub delete_tracker_data: bool,
    /// Confirms destructive steps (the Optimizer wipe).
    pub yes: bool,
    /// Service-level overrides: column and value.
    pub service_levels: Vec<(String, i64)>,
    /// Recording path rewrites: old prefix and new prefix.
    pub recording_paths: Vec<(String, String)>,
    /// Conference site-ID change (old, new), as `IConSiteID.sql`.
    pub conference_site: Option<(i64, i64)>,
    /// Rows per batch.
    pub batch_rows: usize,
    /// A row the target refuses: stop, or reject it to the run folder.
    pub on_error: OnError,
    /// Tables in parallel.
    pub jobs: usize,
    /// The folder of run folders.
    pub runs_dir: PathBuf,
    /// Continue this run.
    pub resume: Option<String>,
    /// Today (UTC), for the range rule.
    pub today: time::Date,
}

/// One rule's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct RuleOutcome {
    /// The rule's ID.
    pub rule: &'static str,
    /// What it did, in a line.
    pub detail: String,
}

/// A Tracker Configuration row changed in the source since it migrated.
#[derive(Debug, Clone, Serialize)]
pub struct TrackerChange {
    /// The table.
    pub table: String,
    /// The source key.
    pub source_key: i64,
    /// The target key.
    pub target_key: i64,
    /// The row's name (Last, First; either; ICUserID; IndivID).
    pub name: String,
    /// Version in the target.
    pub target_version: i64,
    /// Version in the source.
    pub source_version: i64,
    /// Written by the update step.
    pub updated: bool,
}

/// What a migration did.
#[derive(Debug, Clone, Serialize)]
pub struct MigrateReport {
    /// The run (for `--resume`).
    pub run: String,
    /// The groups, with why each was added.
    pub groups: Vec<groups::Selected>,
    /// The zone the UTC columns were filled from.
    pub zone: String,
    /// The copy.
    pub copy: CopyReport,
    /// The rules that acted, in order.
    pub rules: Vec<RuleOutcome>,
    /// The Tracker difference report.
    pub tracker_changes: Vec<TrackerChange>,
    /// Validations (tables no rule changed on purpose).
    pub validations: Vec<TableValidation>,
    /// Tables left out of the validation, with the reason.
    pub not_validated: Vec<(String, String)>,
}

/// Everything the rules see.
pub struct Ctx<'a> {
    /// The options.
    pub options: &'a MigrateOptions,
    /// The source, as recorded in the key map (redacted URL; on MariaDB
    /// prefixed with the scope).
    pub source_id: String,
    /// `<target database>:` on MariaDB (whose `transit_migration` serves
    /// every database of the server), empty elsewhere ([`rules::in_scope`]).
    pub scope: String,
    /// The selected groups.
    pub groups: Vec<&'static Group>,
    /// The filters.
    pub filters: Filters,
    /// The run.
    pub run: String,
    /// The source's schema version.
    pub from: Version,
    /// The target's schema version.
    pub to: Version,
    /// What the rules did.
    pub outcomes: Vec<RuleOutcome>,
    /// The Tracker difference report.
    pub tracker_changes: Vec<TrackerChange>,
    /// Tables a rule changed on purpose (not validated), with why.
    pub changed: Vec<(String, String)>,
    /// The source's site IDs (the `many-to-one` rule finds them).
    pub source_sites: std::collections::BTreeSet<i64>,
}

impl Ctx<'_> {
    /// True when group `id` is selected.
    pub fn has(&self, id: &str) -> bool {
        self.groups.iter().any(|g| g.id == id)
    }

    /// Every selected table with its group, in migration order.
    pub fn tables(&self) -> Vec<(&'static Group, &'static Table)> {
        let v = self.from.min(self.to);
        self.groups
            .iter()
            .flat_map(|g| g.tables(v).into_iter().map(move |t| (*g, t)))
            .collect()
    }

    /// Records what a rule did.
    pub fn note(&mut self, rule: &'static str, detail: impl Into<String>) {
        self.outcomes.push(RuleOutcome {
            rule,
            detail: detail.into(),
        });
    }
}

fn checked(report: check::CheckReport) -> Result<()> {
    match report.failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn new_run_name() -> String {
    format!(
        "migrate-{}",
        transit_core::time::compact(transit_core::time::now())
    )
}

/// Runs a migration.
pub fn migrate(
    source: &DbTarget,
    target: &DbTarget,
    options: &MigrateOptions,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<MigrateReport> {
    let zone = tz::SourceZone::parse(&options.source_tz)?;
    let filters = Filters::new(
        options.start,
        options.end,
        options.site,
        zone.clone(),
        options.today,
    )?;
    let selected = groups::close(&options.groups)?;
    if let Some(s) = selected.iter().find(|s| s.group.id == "dialer") {
        return Err(DbError::Refused(format!(
            "the {} group is not migrated yet: the workflow picker and the consolidation of \
             each workflow's tables (dialer_config.xml) are not built",
            s.group.title
        )));
    }
    let local = Local::new()?;
    progress.event(Event::step("checking the source and the target"));
    checked(local.run(check::check(source, Some(Version::V30))))?;
    checked(local.run(check::check(target, Some(Version::R2015))))?;
    let mut src = local.connect(source)?;
    let mut tgt = local.connect(target)?;
    local.run(state::ensure(&mut tgt))?;
    let run = match &options.resume {
        Some(run) => {
            if local.run(state::run_options(&mut tgt, run))?.is_none() {
                return Err(DbError::Refused(format!(
                    "{target}: no migrate run `{run}` to resume"
                )));
            }
            run.clone()
        }
        None => {
            let mut run = new_run_name();
            let mut n = 1;
            while local.run(state::run_options(&mut tgt, &run))?.is_some() {
                n += 1;
                run = format!("{}-{n}", new_run_name());
            }
            run
        }
    };
    let scope = match target.engine() {
        crate::engine::Engine::MySql => format!("{}:", target.database()),
        _ => String::new(),
    };
    let mut cx = Ctx {
        options,
        source_id: format!("{scope}{source}"),
        scope,
        groups: selected.iter().map(|s| s.group).collect(),
        filters,
        run: run.clone(),
        from: Version::V30,
        to: Version::R2015,
        outcomes: Vec::new(),
        tracker_changes: Vec::new(),
        changed: Vec::new(),
        source_sites: Default::default(),
    };
    for rule in rules::RULES
        .iter()
        .filter(|r| r.phase == rules::Phase::Before)
    {
        if (rule.applies)(&cx) {
            progress.event(Event::step(format!("rule {}", rule.id)));
            (rule.run)(&mut cx, &local, &mut src, &mut tgt)?;
        }
    }
    // The copy: the run row is written here, so the copy "resumes" it and
    // the run's name is known to the rules before.
    let tables = cx.tables();
    let copy_options = CopyOptions {
        tables: tables.iter().map(|(_, t)| t.name.clone()).collect(),
        filters: tables
            .iter()
            .filter_map(|(g, t)| {
                cx.filters
                    .condition(g, t)
                    .map(|c| format!("{}:{c}", t.name))
            })
            .collect(),
        batch_rows: options.batch_rows,
        on_error: options.on_error,
        validate: false,
        translate_keys: Some(cx.source_id.clone()),
    };
    if options.resume.is_none() {
        // A run counts (for "first run only") once its refusals passed.
        let d = tgt.dialect();
        local.run(tgt.exec(&format!(
            "INSERT INTO {} (run, step, detail) VALUES ('{}', 'migrate', '{}')",
            state::table_name(d, "migrate_steps"),
            run,
            cx.scope.replace('\'', "''")
        )))?;
        let stored = serde_json::to_string(&copy_options).unwrap_or_default();
        let now = transit_core::time::rfc3339(transit_core::time::now());
        local.run(state::create_run(&mut tgt, &run, &stored, &now))?;
    }
    local.run(src.close())?;
    local.run(tgt.close())?;
    let copy_report = copy::copy(
        source,
        target,
        &copy_options,
        &RunOptions {
            jobs: options.jobs,
            runs_dir: options.runs_dir.clone(),
            resume: Some(run.clone()),
            batch_delay: None,
        },
        progress,
        cancel,
    )?;
    let mut src = local.connect(source)?;
    let mut tgt = local.connect(target)?;
    for phase in [rules::Phase::After, rules::Phase::Last] {
        for rule in rules::RULES.iter().filter(|r| r.phase == phase) {
            if (rule.applies)(&cx) {
                progress.event(Event::step(format!("rule {}", rule.id)));
                (rule.run)(&mut cx, &local, &mut src, &mut tgt)?;
            }
        }
    }
    // Validate what no rule changed on purpose; keys moved by the
    // translation make a checksum differ by design.
    let mut to_validate = Vec::new();
    let mut not_validated = cx.changed.clone();
    for (_, t) in &tables {
        if not_validated.iter().any(|(n, _)| n == &t.name) {
            continue;
        }
        let mut moved = Vec::new();
        for tbl in copy::keys::translated_tables(t) {
            let n = local.run(rules::moved_keys(&mut tgt, &cx.source_id, tbl))?;
            if n > 0 {
                moved.push(format!("{n} {tbl} key(s)"));
            }
        }
        if !moved.is_empty() {
            not_validated.push((
                t.name.clone(),
                format!("translated to new values: {}", moved.join(", ")),
            ));
            continue;
        }
        to_validate.push(t);
    }
    local.run(src.close())?;
    local.run(tgt.close())?;
    let names: Vec<String> = to_validate.iter().map(|t| t.name.clone()).collect();
    // The target may hold other sites' rows (its own, another source's):
    // each side is compared within the source's site IDs.
    let sites: Vec<String> = cx.source_sites.iter().map(i64::to_string).collect();
    let mut check_filters = copy_options.filters.clone();
    if !sites.is_empty() {
        for t in &to_validate {
            if let Some(col) = t.column("SiteId") {
                check_filters.push(format!("{}:{} IN ({})", t.name, col.name, sites.join(", ")));
            }
        }
    }
    let validations = if names.is_empty() {
        Vec::new()
    } else {
        copy::validate(
            source,
            target,
            &names,
            &check_filters,
            Some(&run),
            progress,
            cancel,
        )?
    };
    progress.event(Event::step("checking the target"));
    checked(local.run(check::check(target, Some(Version::R2015))))?;
    if let Some(bad) = validations.iter().find(|v| !v.equal) {
        return Err(DbError::Validation {
            table: bad.table.clone(),
            detail: copy::validation_detail(bad),
        });
    }
    Ok(MigrateReport {
        run,
        groups: selected,
        zone: format!("{} ({})", zone.given, zone.iana),
        copy: copy_report,
        rules: cx.outcomes,
        tracker_changes: cx.tracker_changes,
        validations,
        not_validated,
    })
}
