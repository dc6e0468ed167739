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

pub mod dialer;
pub mod filter;
pub mod groups;
pub mod ranges;
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
    /// The Dialer server's `dialer_config.xml` (the `dialer` group).
    pub dialer_config: Option<PathBuf>,
    /// The workflow picker's choices (`all`, `paused`, `deleted`,
    /// `status=S`, `source=NAME`, names); empty is `all`.
    pub workflows: Vec<String>,
    /// When the steps execute (a new run; [`crate::runs`]).
    pub execute: crate::runs::Execute,
    /// Execute only this step of the run (`transit db exec-step`; with
    /// `resume`).
    pub step: Option<usize>,
    /// The run whose settings this one reuses (`--from-run`), for the
    /// history.
    pub from_run: Option<String>,
    /// Test hook: a pause after each committed batch.
    pub batch_delay: Option<std::time::Duration>,
}

/// What the Dialer history group did.
#[derive(Debug, Clone, Serialize)]
pub struct DialerReport {
    /// The workflows the picker selected.
    pub workflows: Vec<dialer::Workflow>,
    /// Rows consolidated into CallHistory and AgentStats.
    pub rows: u64,
    /// Workflow tables missing in the source (reported, not fatal).
    pub missing: Vec<String>,
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
    /// The Dialer history group, when selected.
    pub dialer: Option<DialerReport>,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The run's status after this invocation.
    pub status: crate::runs::Status,
    /// The run's steps.
    pub steps: usize,
    /// The steps this invocation executed (`None`: none, the run was only
    /// generated; otherwise the first and last step).
    pub executed: Option<(usize, usize)>,
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
    /// The Dialer workflows selected (the `dialer` group).
    pub workflows: Vec<dialer::Workflow>,
    /// Rows the Dialer consolidation inserted.
    pub dialer_rows: u64,
    /// Workflow tables missing in the source.
    pub dialer_missing: Vec<String>,
    /// Tables whose range this source already migrated, unchanged
    /// ([`ranges`]): not copied, not scanned, with why.
    pub skipped: Vec<(String, String)>,
}

impl Ctx<'_> {
    /// True when group `id` is selected.
    pub fn has(&self, id: &str) -> bool {
        self.groups.iter().any(|g| g.id == id)
    }

    /// Every selected table the copy moves, with its group, in migration
    /// order (the Dialer history group's tables are consolidated by its
    /// own rule instead).
    pub fn tables(&self) -> Vec<(&'static Group, &'static Table)> {
        let v = self.from.min(self.to);
        self.groups
            .iter()
            .filter(|g| g.id != "dialer")
            .flat_map(|g| g.tables(v).into_iter().map(move |t| (*g, t)))
            .collect()
    }

    /// The tables this run copies: [`Ctx::tables`] without the ranges
    /// already migrated.
    pub fn copied_tables(&self) -> Vec<(&'static Group, &'static Table)> {
        let mut out = self.tables();
        out.retain(|(_, t)| !self.skipped.iter().any(|(n, _)| n == &t.name));
        out
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
    let workflows = pick_workflows(&selected, options)?;
    let local = Local::new()?;
    let runs_dir = std::path::absolute(&options.runs_dir)
        .map_err(|e| DbError::Io(transit_core::PathIoError::new(&options.runs_dir, e)))?;
    progress.event(Event::step("checking the source and the target"));
    let versions = checked(local.run(check::check(source, Some(Version::V30))))
        .and_then(|()| checked(local.run(check::check(target, Some(Version::R2015)))));
    if let Err(e) = versions {
        if matches!(e, DbError::WrongVersion { .. }) && options.resume.is_none() {
            failed_version_check(source, target, options, &runs_dir, &e);
        }
        return Err(e);
    }
    let mut src = local.connect(source)?;
    let mut tgt = local.connect(target)?;
    local.run(state::ensure(&mut tgt))?;
    local.run(tgt.exec(&ranges::create_sql(tgt.dialect())))?;
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
    let scope = crate::copy::state::scope_of(target);
    let mut cx = Ctx {
        options,
        source_id: format!("{scope}{}", crate::runs::settings::stored_url(source)),
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
        workflows,
        dialer_rows: 0,
        dialer_missing: Vec::new(),
        skipped: Vec::new(),
    };
    match &options.resume {
        // A resumed run copies the tables it recorded.
        Some(_) => {
            if let Some(stored) = local
                .run(state::run_options(&mut tgt, &run))?
                .and_then(|s| serde_json::from_str::<CopyOptions>(&s).ok())
            {
                cx.skipped = cx
                    .tables()
                    .into_iter()
                    .filter(|(_, t)| !stored.tables.contains(&t.name))
                    .map(|(_, t)| (t.name.clone(), "not copied by this run".to_string()))
                    .collect();
            }
        }
        None => cx.skipped = ranges::unchanged(&cx, &local, &mut src, &mut tgt)?,
    }
    if !cx.skipped.is_empty() {
        let names: Vec<&str> = cx.skipped.iter().map(|(t, _)| t.as_str()).collect();
        let detail = format!("skipped {} table(s): {}", names.len(), names.join(", "));
        cx.note("ranges-already-migrated", detail);
    }
    let run_dir = runs_dir.join(&run);
    let log = crate::runs::log::Log::open(&run_dir, progress);
    let progress: &dyn Progress = &log;
    let tables = cx.copied_tables();
    let steps = tables.len() + 2;
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
        // The UTC columns, odsoffset and the service-level overrides are
        // written with the rows (the `utc-columns` and
        // `service-level-defaults` rules).
        derive: Some(copy::derive::DeriveSpec {
            zone: Some(zone.iana.clone()),
            constants: options.service_levels.clone(),
        }),
    };
    let generated = |status: crate::runs::Status, executed: Option<(usize, usize)>| MigrateReport {
        run: run.clone(),
        groups: selected.clone(),
        zone: format!("{} ({})", zone.given, zone.iana),
        copy: CopyReport {
            run: run.clone(),
            run_dir: run_dir.clone(),
            rejects_file: None,
            tables: Vec::new(),
            seconds: 0.0,
        },
        rules: Vec::new(),
        tracker_changes: Vec::new(),
        validations: Vec::new(),
        not_validated: Vec::new(),
        dialer: None,
        run_dir: run_dir.clone(),
        status,
        steps,
        executed,
    };
    if options.resume.is_none() {
        // The copy's run row is written here, so the copy "resumes" it.
        let stored = serde_json::to_string(&copy_options).unwrap_or_default();
        let now = transit_core::time::rfc3339(transit_core::time::now());
        local.run(state::create_run(&mut tgt, &run, &stored, &now))?;
        // The run folder: settings, steps, scripts, history.
        progress.event(Event::step("writing the run's steps"));
        let mut counts = Vec::new();
        for (g, t) in &tables {
            let cond = cx.filters.condition(g, t);
            let n = local.run(src.count(&ranges::count_sql(src.dialect(), t, cond.as_deref())))?;
            let held = local.run(tgt.row_count(&t.name))? > 0;
            counts.push((n, held));
        }
        let files = crate::runs::script::steps(&cx, &counts, target.engine())?;
        crate::runs::script::write(&run_dir, &run, &files)?;
        crate::runs::Settings::of(&run, source, target, options).save(&run_dir)?;
        let status = match options.execute {
            crate::runs::Execute::Now => crate::runs::Status::Incomplete,
            crate::runs::Execute::Later => crate::runs::Status::ReadyForRestart,
            crate::runs::Execute::Manual => crate::runs::Status::UserCompleted,
        };
        let record = crate::runs::history::RunRecord {
            status,
            detail: match options.execute {
                crate::runs::Execute::Now => "running".into(),
                crate::runs::Execute::Later => {
                    format!("steps generated; run them with `transit db resume {run}`")
                }
                crate::runs::Execute::Manual => format!(
                    "steps generated; run {}",
                    run_dir.join("run-scripts.sh").display()
                ),
            },
            scope: cx.scope.clone(),
            ..new_record(&run, &now, source, target, options)
        };
        crate::runs::history::save_file(&run_dir, &record)?;
        local.run(crate::runs::history::save_db(&mut tgt, &record))?;
        if options.execute != crate::runs::Execute::Now {
            local.run(src.close())?;
            local.run(tgt.close())?;
            return Ok(generated(status, None));
        }
    } else if options.step.is_none() && crate::runs::history::load_file(&runs_dir, &run).is_ok() {
        crate::runs::history::set_status(
            &runs_dir,
            &run,
            target,
            crate::runs::Status::Incomplete,
            "running",
        )?;
    }
    // Which steps this invocation executes.
    let (first, last) = match options.step {
        None => (1, steps),
        Some(n) if n >= 1 && n <= steps => (n, n),
        Some(n) => {
            return Err(DbError::Usage(format!(
                "run `{run}` has steps 1 to {steps}; there is no step {n}"
            )))
        }
    };
    if first > 1 {
        // The steps run in the required order.
        let markers = local.run(state::markers(&mut tgt, &run))?;
        for (i, (_, t)) in tables.iter().enumerate().take(first - 2) {
            if !markers.get(&t.name).is_some_and(|m| m.done) {
                return Err(DbError::Refused(format!(
                    "step {first} of run `{run}` needs step {} ({}) done first; run the steps in \
                     order (run-scripts.sh does)",
                    i + 2,
                    t.name
                )));
            }
        }
    }
    // Step 1 (every invocation, as a resumed run does: the rules that must
    // not repeat are recorded and skipped): the rules before the copy.
    for rule in rules::RULES
        .iter()
        .filter(|r| r.phase == rules::Phase::Before)
    {
        if (rule.applies)(&cx) {
            progress.event(Event::step(format!("rule {}", rule.id)));
            (rule.run)(&mut cx, &local, &mut src, &mut tgt)?;
        }
    }
    // A run counts (for "first run only") once its refusals passed.
    {
        let d = tgt.dialect();
        let steps_table = state::table_name(d, "migrate_steps");
        let counted = local.run(tgt.count(&format!(
            "SELECT COUNT(*) FROM {steps_table} WHERE run = '{run}' AND step = 'migrate'"
        )))?;
        if counted == 0 {
            local.run(tgt.exec(&format!(
                "INSERT INTO {steps_table} (run, step, detail) VALUES ('{}', 'migrate', '{}')",
                run,
                cx.scope.replace('\'', "''")
            )))?;
        }
    }
    local.run(src.close())?;
    local.run(tgt.close())?;
    if last == 1 {
        let mut report = generated(current_status(&runs_dir, &run), Some((1, 1)));
        report.rules = cx.outcomes;
        return Ok(report);
    }
    // A table step: that table's rows only.
    let only = (last < steps).then(|| vec![tables[last - 2].1.name.clone()]);
    // Only the Dialer history group selected: its rule moves the rows.
    let copy_report = if copy_options.tables.is_empty() {
        CopyReport {
            run: run.clone(),
            run_dir: options.runs_dir.join(&run),
            rejects_file: None,
            tables: Vec::new(),
            seconds: 0.0,
        }
    } else {
        copy::copy(
            source,
            target,
            &copy_options,
            &RunOptions {
                jobs: options.jobs,
                runs_dir: runs_dir.clone(),
                resume: Some(run.clone()),
                batch_delay: options.batch_delay,
                only: only.clone(),
                staging: crate::runs::script::staging_of(&run_dir)?,
            },
            progress,
            cancel,
        )?
    };
    if only.is_some() {
        let mut report = generated(current_status(&runs_dir, &run), Some((first, last)));
        report.copy = copy_report;
        report.rules = cx.outcomes;
        return Ok(report);
    }
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
    not_validated.extend(cx.skipped.iter().cloned());
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
            copy::ValidateSelection {
                tables: &names,
                filters: &check_filters,
                run: Some(&run),
                jobs: options.jobs,
            },
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
    // Record the ranges this run migrated ([`ranges`]), with the counts
    // the validation found (or counted here for the tables it left out).
    let mut src = local.connect(source)?;
    let mut tgt = local.connect(target)?;
    let mut statements = Vec::new();
    for (g, t) in &tables {
        let cond = cx.filters.condition(g, t);
        let rejected = copy_report
            .tables
            .iter()
            .find(|r| r.table == t.name)
            .map_or(0, |r| r.rejected);
        let counts = match validations.iter().find(|v| v.table == t.name) {
            Some(v) => ((v.source_rows + rejected) as i64, v.target_rows as i64),
            None => {
                let tcond = ranges::target_condition(t, cond.as_deref(), &cx.source_sites);
                (
                    local.run(src.count(&ranges::count_sql(src.dialect(), t, cond.as_deref())))?,
                    local.run(tgt.count(&ranges::count_sql(tgt.dialect(), t, tcond.as_deref())))?,
                )
            }
        };
        let r = ranges::Recorded {
            src_rows: counts.0,
            tgt_rows: counts.1,
            run: run.clone(),
        };
        let hash = ranges::cond_hash(cond.as_deref());
        statements.extend(ranges::record_sql(
            tgt.dialect(),
            &cx.source_id,
            &t.name,
            &hash,
            &r,
        ));
    }
    rules::in_transaction(&local, &mut tgt, &statements)?;
    crate::runs::cleanup::drop_saved(&local, &mut tgt, &cx.scope, &run)?;
    for (_, t) in &tables {
        local.run(crate::runs::cleanup::drop_staging(
            &mut tgt, &cx.scope, &run, &t.name,
        ))?;
    }
    local.run(src.close())?;
    local.run(tgt.close())?;
    let dialer = cx.has("dialer").then(|| DialerReport {
        workflows: cx.workflows.clone(),
        rows: cx.dialer_rows,
        missing: cx.dialer_missing.clone(),
    });
    let status = if runs_dir.join(&run).join("history.json").exists() {
        crate::runs::history::set_status(
            &runs_dir,
            &run,
            target,
            crate::runs::Status::Completed,
            &format!("{steps} steps done"),
        )?
        .status
    } else {
        crate::runs::Status::Completed
    };
    log.line(&format!("run {run}: {status}"));
    Ok(MigrateReport {
        run_dir: run_dir.clone(),
        status,
        steps,
        executed: Some((first, last)),
        run,
        groups: selected,
        zone: format!("{} ({})", zone.given, zone.iana),
        copy: copy_report,
        rules: cx.outcomes,
        tracker_changes: cx.tracker_changes,
        validations,
        not_validated,
        dialer,
    })
}

/// The history record of a run started at `now` with `options` (status
/// Incomplete, no detail, no scope: the caller sets those).
fn new_record(
    run: &str,
    now: &str,
    source: &DbTarget,
    target: &DbTarget,
    options: &MigrateOptions,
) -> crate::runs::history::RunRecord {
    crate::runs::history::RunRecord {
        run: run.to_string(),
        status: crate::runs::Status::Incomplete,
        executed: now.to_string(),
        updated: now.to_string(),
        start: crate::runs::settings::day(options.start),
        end: crate::runs::settings::day(options.end),
        site_id: options.site,
        source: crate::runs::settings::stored_url(source),
        target: crate::runs::settings::stored_url(target),
        groups: options.groups.clone(),
        execute: options.execute,
        detail: String::new(),
        from_run: options.from_run.clone(),
        scope: String::new(),
    }
}

/// The status the run folder records (Incomplete when it cannot be read).
fn current_status(runs_dir: &std::path::Path, run: &str) -> crate::runs::Status {
    crate::runs::history::load_file(runs_dir, run)
        .map(|r| r.status)
        .unwrap_or(crate::runs::Status::Incomplete)
}

/// Records a run that failed its version check: in a new run folder and,
/// when the target can be written, in its history (best effort: the
/// version check's error is what the caller reports).
fn failed_version_check(
    source: &DbTarget,
    target: &DbTarget,
    options: &MigrateOptions,
    runs_dir: &std::path::Path,
    error: &DbError,
) {
    let mut run = new_run_name();
    let mut n = 1;
    while runs_dir.join(&run).exists() {
        n += 1;
        run = format!("{}-{n}", new_run_name());
    }
    let now = transit_core::time::rfc3339(transit_core::time::now());
    let scope = crate::copy::state::scope_of(target);
    let record = crate::runs::history::RunRecord {
        status: crate::runs::Status::FailedVersionCheck,
        detail: error.to_string(),
        scope,
        ..new_record(&run, &now, source, target, options)
    };
    let run_dir = runs_dir.join(&run);
    let _ = crate::runs::Settings::of(&run, source, target, options).save(&run_dir);
    let _ = crate::runs::history::save_file(&run_dir, &record);
    if let Ok(local) = Local::new() {
        let _ = local.run(async {
            let mut db = crate::db::Db::connect(target).await?;
            state::ensure(&mut db).await?;
            crate::runs::history::save_db(&mut db, &record).await?;
            db.close().await
        });
    }
}

/// The Dialer workflows to consolidate: `dialer_config.xml` read and the
/// picker applied when the `dialer` group is selected; the options are
/// refused without it, or when given without the group.
fn pick_workflows(
    selected: &[groups::Selected],
    options: &MigrateOptions,
) -> Result<Vec<dialer::Workflow>> {
    let wanted = selected.iter().any(|s| s.group.id == "dialer");
    match (&options.dialer_config, wanted) {
        (None, true) => Err(DbError::Usage(
            "the dialer group needs --dialer-config PATH: the Dialer server's dialer_config.xml \
             (\\i3\\CIC\\server on the CIC server), which lists the workflows"
                .into(),
        )),
        (Some(_), false) => Err(DbError::Usage(
            "--dialer-config is for the dialer group; add it to --groups".into(),
        )),
        (None, false) if !options.workflows.is_empty() => Err(DbError::Usage(
            "--workflows is for the dialer group; add it to --groups".into(),
        )),
        (None, false) => Ok(Vec::new()),
        (Some(path), true) => {
            let all = dialer::read_config(path)?;
            let picks = if options.workflows.is_empty() {
                vec![dialer::Pick::All]
            } else {
                options
                    .workflows
                    .iter()
                    .map(|p| dialer::Pick::parse(p))
                    .collect::<Result<Vec<_>>>()?
            };
            dialer::select(&all, &picks)
        }
    }
}
