//! `transit db …`: the DB assistant's commands (the work is
//! `transit_dbassist`; this module reads the options, runs the async
//! library on a small runtime, prints, and returns typed errors whose kinds
//! give the exit codes 20–29).

use crate::progress::{Bars, JsonLines};
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use std::fmt;
use transit_core::{cancel_on_signals, CancelToken};
use transit_dbassist::check::CheckReport;
use transit_dbassist::copy::{CopyOptions, CopyReport, OnError, RunOptions, TableValidation};
use transit_dbassist::generate::{GenerateOptions, GenerateReport};
use transit_dbassist::migrate::{MigrateOptions, MigrateReport, TrackerUpdate};
use transit_dbassist::repair::{RepairMode, RepairReport};
use transit_dbassist::runs::Execute;
use transit_dbassist::setup_user::MigrationUser;
use transit_dbassist::{Db, DbError, DbTarget, Version};

/// The last line of `db copy --progress json`: the report.
#[derive(Serialize)]
struct ReportLine<'a, T: Serialize> {
    event: &'static str,
    report: &'a T,
}

/// Shown after `transit db --help`.
const AFTER_HELP: &str = "\
URLs: postgres://USER@HOST[:PORT]/DB, mysql://USER@HOST[:PORT]/DB (MariaDB;
mariadb:// too), sqlite://PATH. Passwords come from the URL, PGPASSWORD or
MYSQL_PWD, ~/.pgpass (PostgreSQL) or the [client] section of ~/.my.cnf
(MariaDB); Transit never writes one down and never shows one.

Typical order (as the vendor's): generate or bring a 3.0 source, `check`
it, `repair` it (audit first, then --delete), `upgrade --to 2015R1` the
target, create the migration user with `setup-user`, and `check` again.";

/// A database URL; its Debug form (which reaches the log) hides the
/// password.
#[derive(Clone)]
pub struct DbUrl(String);

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DbTarget::parse(&self.0) {
            Ok(target) => write!(f, "{target}"),
            Err(_) => f.write_str("<database URL>"),
        }
    }
}

impl std::str::FromStr for DbUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(DbUrl(s.to_string()))
    }
}

impl DbUrl {
    pub(crate) fn target(&self) -> Result<DbTarget, DbError> {
        DbTarget::parse(&self.0)
    }
}

/// A schema version on the command line.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum VersionArg {
    /// CIC 3.0 (the source).
    #[value(name = "3.0")]
    V30,
    /// CIC 2015 R1 (the target).
    #[value(name = "2015R1", alias = "2015r1")]
    R2015,
}

impl From<VersionArg> for Version {
    fn from(v: VersionArg) -> Version {
        match v {
            VersionArg::V30 => Version::V30,
            VersionArg::R2015 => Version::R2015,
        }
    }
}

/// `transit db …`
#[derive(Debug, Subcommand)]
#[command(after_help = AFTER_HELP)]
pub enum DbCommand {
    /// Fill a database with a realistic, deterministic 3.0 history
    /// (creates the schema in an empty database; SQLite files are created).
    Generate(GenerateArgs),
    /// Copy tables between any two databases: streaming, in key-ordered
    /// batches that resume after a kill, validated after each table.
    Copy(CopyArgs),
    /// Compare tables on two databases: row counts and order-independent
    /// checksums, and the first differing key.
    Validate(ValidateArgs),
    /// Migrate table groups from a 3.0 source to a 2015 R1 target, with the
    /// vendor's filters, time zone, key translation and group rules
    /// (`check` runs before and after).
    Migrate(Box<MigrateArgs>),
    /// A terminal wizard on the same steps: source, target, check, groups,
    /// filters, preview, execute (the command line stays the complete interface).
    Wizard {
        /// The folder of run folders.
        #[arg(long, value_name = "DIR", default_value = "transit-runs")]
        run_dir: std::path::PathBuf,
    },
    /// Preview a migrate run's steps: each step's header, SQL and expected row count.
    Scripts(super::db_runs::ScriptsArgs),
    /// Run the steps of a migrate run (one generated with --execute later,
    /// or one that stopped: it goes on from its last committed batches).
    Resume(super::db_runs::RunArgs),
    /// Run one step of a migrate run (what run-scripts.sh calls, in order).
    ExecStep(super::db_runs::ExecStepArgs),
    /// The migrate run history, with the vendor's statuses.
    Runs(super::db_runs::RunsArgs),
    /// Return the target to its state before a failed or killed run.
    Cleanup(super::db_runs::RunArgs),
    /// Change a table's commit frequency in a run, also while it runs.
    Tune(super::db_runs::TuneArgs),
    /// Check the connection, permissions, schema version and disabled objects.
    Check {
        /// The database.
        #[arg(long)]
        url: DbUrl,
        /// Fail unless the schema is at this version.
        #[arg(long, value_enum)]
        expect: Option<VersionArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Bring the schema to a version (a second run changes nothing).
    Upgrade {
        /// The database (SQLite files are created).
        #[arg(long)]
        url: DbUrl,
        /// The version to reach.
        #[arg(long, value_enum)]
        to: VersionArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy duplicate and NULL-key rows of a 3.0 source to audit tables
    /// `<table>_<d|n><YYMMDDhhmm>`, and with --delete remove them.
    Repair {
        /// The database.
        #[arg(long)]
        url: DbUrl,
        /// Only copy the rows to audit tables (the default).
        #[arg(long, conflicts_with = "delete")]
        audit_only: bool,
        /// Also delete them, in one transaction per table.
        #[arg(long)]
        delete: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create the least-privilege migration user (SetupMigratorUser.sql).
    SetupUser {
        /// The database, as an administrator.
        #[arg(long)]
        url: DbUrl,
        /// The user to create.
        #[arg(long)]
        user: String,
        /// The host the user connects from (MariaDB).
        #[arg(long, default_value = "%")]
        host: String,
        /// The environment variable holding the new user's password (none: no password).
        #[arg(long, value_name = "VAR", default_value = "TRANSIT_DB_USER_PASSWORD")]
        password_env: String,
        /// Print the SQL instead of running it (the password stays a placeholder).
        #[arg(long)]
        print_sql: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// When a migrate run's steps execute.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ExecuteArg {
    /// Generate the steps and run them now.
    Now,
    /// Generate the steps; `transit db resume RUN` runs them.
    Later,
    /// Generate the steps and run-scripts.sh, for a DBA.
    Manual,
}

/// What `--on-error` does with a row the target refuses.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OnErrorArg {
    /// Stop the copy (committed batches stay; `--resume` goes on).
    Stop,
    /// Isolate the bad rows into the run folder's reject file and load the rest.
    Reject,
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum ProgressArg {
    /// Bars on standard error (when it is a terminal).
    #[default]
    Bars,
    /// One JSON object per event on standard output, for scripts.
    Json,
}

/// `transit db copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The database to read.
    #[arg(long)]
    pub source: DbUrl,
    /// The database to write (its schema must exist: `transit db upgrade`).
    #[arg(long)]
    pub target: DbUrl,
    /// Tables to copy (vendor names, comma-separated); not with --resume.
    #[arg(
        long,
        value_delimiter = ',',
        required_unless_present = "resume",
        conflicts_with = "resume"
    )]
    pub tables: Vec<String>,
    /// A condition on the source rows: `COND` for every table, or `Table:COND` (repeatable).
    #[arg(long = "where", value_name = "COND", conflicts_with = "resume")]
    pub filters: Vec<String>,
    /// Tables copied in parallel (parents before children).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Rows per batch: the unit of commit and of resume.
    #[arg(long, default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..), conflicts_with = "resume")]
    pub batch_rows: u32,
    /// A row the target refuses: stop, or reject it to the run folder and go on.
    #[arg(long, value_enum, default_value = "stop", conflicts_with = "resume")]
    pub on_error: OnErrorArg,
    /// Continue an interrupted run from its last committed batches.
    #[arg(long, value_name = "RUN")]
    pub resume: Option<String>,
    /// The folder of run folders (the reject file, run.json).
    #[arg(long, value_name = "DIR", default_value = "transit-runs")]
    pub run_dir: std::path::PathBuf,
    /// Skip the validation after each table.
    #[arg(long, conflicts_with = "resume")]
    pub no_validate: bool,
    /// Progress as bars or as JSON lines.
    #[arg(long, value_enum, default_value = "bars")]
    pub progress: ProgressArg,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `transit db migrate`.
#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The 3.0 database to read.
    #[arg(long, required_unless_present = "from_run")]
    pub source: Option<DbUrl>,
    /// The 2015 R1 database to write.
    #[arg(long, required_unless_present = "from_run")]
    pub target: Option<DbUrl>,
    /// Table groups (comma-separated, or `all`): tracker-config, reporting,
    /// tracker-intx, recorder, optimizer, survey, conference, director, dialer.
    #[arg(long, value_delimiter = ',', required_unless_present = "from_run")]
    pub groups: Vec<String>,
    /// First day (YYYY-MM-DD): rows after 00:00 UTC on it.
    #[arg(long, value_parser = parse_day, required_unless_present = "from_run")]
    pub start: Option<time::Date>,
    /// Last day (YYYY-MM-DD): rows before 24:00 UTC on it; never today.
    #[arg(long, value_parser = parse_day, required_unless_present = "from_run")]
    pub end: Option<time::Date>,
    /// Only this site's rows.
    #[arg(long, value_name = "N")]
    pub site_id: Option<i64>,
    /// The source's time zone: IANA name, Windows zone ID or Windows display
    /// name ("(GMT-05:00) Eastern Time (US & Canada)").
    #[arg(long, value_name = "ZONE", required_unless_present = "from_run")]
    pub source_tz: Option<String>,
    /// When the steps run: now; later (`transit db resume RUN`); or manual
    /// (the run folder's run-scripts.sh, for a DBA).
    #[arg(long, value_enum, default_value = "now", conflicts_with = "resume")]
    pub execute: ExecuteArg,
    /// The zip of the completed run.
    #[command(flatten)]
    pub pack: super::db_runs::PackArgs,
    /// Reuse a run's settings (source, target, groups, range, site ID, time
    /// zone, overrides); the options given here replace them: a new date
    /// range, or another source with another site ID.
    #[arg(long, value_name = "RUN", conflicts_with = "resume")]
    pub from_run: Option<String>,
    /// Changed Tracker Configuration rows to update: all, none, or source
    /// IDs (comma-separated). Default none; with --from-run, that run's.
    #[arg(long, value_name = "all|none|ID,…", value_parser = parse_tracker_update)]
    pub tracker_update: Option<TrackerUpdate>,
    /// Delete the target's Tracker Configuration tables first (first run only).
    #[arg(long)]
    pub delete_tracker_data: bool,
    /// Confirm destructive steps (the Optimizer group's wipe of the target's Optimizer tables).
    #[arg(long)]
    pub yes: bool,
    /// Override a service-level column of migrated rows: COLUMN=N (repeatable).
    #[arg(long, value_name = "COLUMN=N", value_parser = parse_service_level)]
    pub service_level: Vec<(String, i64)>,
    /// Rewrite recording paths that start with OLD to start with NEW (repeatable).
    #[arg(long, value_name = "OLD=NEW", value_parser = parse_path_map)]
    pub recording_path_map: Vec<(String, String)>,
    /// Change the Conference tables' site ID after the copy (IConSiteID.sql): OLD=NEW.
    #[arg(long, value_name = "OLD=NEW", value_parser = parse_site_change)]
    pub conference_site_id: Option<(i64, i64)>,
    /// Tables copied in parallel (parents before children). Default 2;
    /// with --from-run, that run's.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Rows per batch: the unit of commit and of resume. Default 20000;
    /// with --from-run, that run's.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch_rows: Option<u32>,
    /// A row the target refuses: stop, or reject it to the run folder and
    /// go on. Default stop; with --from-run, that run's.
    #[arg(long, value_enum)]
    pub on_error: Option<OnErrorArg>,
    /// The Dialer server's dialer_config.xml (the dialer group): the workflows to pick from.
    #[arg(long, value_name = "PATH")]
    pub dialer_config: Option<std::path::PathBuf>,
    /// The workflow picker (the dialer group; default all): all, paused, deleted,
    /// status=Active|Completed|Off|Error, source=DATASOURCE or workflow names (comma-separated).
    #[arg(long, value_name = "CHOICE,…", value_delimiter = ',')]
    pub workflows: Vec<String>,
    /// Continue an interrupted migrate run (give the same options again).
    #[arg(long, value_name = "RUN")]
    pub resume: Option<String>,
    /// The folder of run folders.
    #[arg(long, value_name = "DIR", default_value = "transit-runs")]
    pub run_dir: std::path::PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_day(text: &str) -> Result<time::Date, String> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| format!("{text}: expected YYYY-MM-DD"))
}

fn parse_tracker_update(text: &str) -> Result<TrackerUpdate, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "all" => Ok(TrackerUpdate::All),
        "none" => Ok(TrackerUpdate::None),
        list => list
            .split(',')
            .map(|id| {
                id.trim()
                    .parse::<i64>()
                    .map_err(|_| format!("{id}: expected all, none or numeric IDs"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrackerUpdate::Ids),
    }
}

fn parse_service_level(text: &str) -> Result<(String, i64), String> {
    let (col, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text}: expected COLUMN=N"))?;
    let value = value
        .trim()
        .parse()
        .map_err(|_| format!("{text}: N must be a whole number of seconds"))?;
    Ok((col.trim().to_string(), value))
}

fn parse_path_map(text: &str) -> Result<(String, String), String> {
    let (old, new) = text
        .split_once('=')
        .ok_or_else(|| format!("{text}: expected OLD=NEW"))?;
    if old.is_empty() {
        return Err(format!("{text}: OLD must not be empty"));
    }
    Ok((old.to_string(), new.to_string()))
}

fn parse_site_change(text: &str) -> Result<(i64, i64), String> {
    let (old, new) = text
        .split_once('=')
        .ok_or_else(|| format!("{text}: expected OLD=NEW"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| format!("{text}: site IDs are numbers"))
    };
    Ok((num(old)?, num(new)?))
}

/// `transit db validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// One side.
    #[arg(long)]
    pub source: DbUrl,
    /// The other side.
    #[arg(long)]
    pub target: DbUrl,
    /// Tables to compare (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub tables: Vec<String>,
    /// A condition on the rows of both sides: `COND` or `Table:COND` (repeatable).
    #[arg(long = "where", value_name = "COND")]
    pub filters: Vec<String>,
    /// Take the rows this copy run rejected out of the source's side.
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
    /// Tables compared at the same time (each reads both sides at once).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `transit db generate`.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The database (an empty one, or an empty 3.0 schema).
    #[arg(long)]
    pub url: DbUrl,
    /// The schema version to write (the generator writes the 3.0 source).
    #[arg(long, value_enum, default_value = "3.0")]
    pub schema: VersionArg,
    /// Sites (IDs 1..N, in four time zones).
    #[arg(long, default_value_t = 2)]
    pub sites: u16,
    /// Days of history.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Calls per site and day.
    #[arg(long, default_value_t = 100)]
    pub calls_per_day: u32,
    /// The seed: the same seed gives the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The first day (YYYY-MM-DD).
    #[arg(long, default_value = "2013-01-01")]
    pub start: String,
    /// Print JSON (the full report: planted counts, hostile values, DST rows).
    #[arg(long)]
    pub json: bool,
}

/// Runs the async library call `f` on a small runtime, with Ctrl-C and
/// SIGTERM wired to `cancel`.
fn block_on<T>(f: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(runtime.block_on(f))
}

/// Runs `transit db …`.
pub fn run(cmd: DbCommand) -> anyhow::Result<()> {
    let cancel = CancelToken::new();
    let _signals = cancel_on_signals(&cancel).context("installing signal handlers")?;
    match cmd {
        DbCommand::Generate(args) => generate(args, &cancel),
        DbCommand::Copy(args) => copy(args, &cancel),
        DbCommand::Validate(args) => validate(args, &cancel),
        DbCommand::Migrate(args) => migrate(*args, &cancel),
        DbCommand::Wizard { run_dir } => Ok(transit_wizard::db::run(run_dir)?),
        DbCommand::Scripts(args) => super::db_runs::scripts(args),
        DbCommand::Resume(args) => super::db_runs::resume(args, &cancel),
        DbCommand::ExecStep(args) => super::db_runs::exec_step(args, &cancel),
        DbCommand::Runs(args) => super::db_runs::runs(args),
        DbCommand::Cleanup(args) => super::db_runs::cleanup(args),
        DbCommand::Tune(args) => super::db_runs::tune(args),
        DbCommand::Check { url, expect, json } => check(&url, expect, json),
        DbCommand::Upgrade { url, to, json } => upgrade(&url, to.into(), json, &cancel),
        DbCommand::Repair {
            url, delete, json, ..
        } => {
            let mode = if delete {
                RepairMode::Delete
            } else {
                RepairMode::AuditOnly
            };
            repair(&url, mode, json, &cancel)
        }
        DbCommand::SetupUser {
            url,
            user,
            host,
            password_env,
            print_sql,
            json,
        } => setup_user(&url, user, host, &password_env, print_sql, json),
    }
}

impl DbCommand {
    /// True when `--json` was given, so an error is printed as JSON too.
    pub fn wants_json(&self) -> bool {
        match self {
            DbCommand::Generate(args) => args.json,
            DbCommand::Copy(args) => args.json || args.progress == ProgressArg::Json,
            DbCommand::Validate(args) => args.json,
            DbCommand::Migrate(args) => args.json,
            DbCommand::Wizard { .. } => false,
            DbCommand::Scripts(args) => args.json,
            DbCommand::Resume(args) | DbCommand::Cleanup(args) => args.json,
            DbCommand::ExecStep(args) => args.json,
            DbCommand::Runs(args) => args.json,
            DbCommand::Tune(args) => args.json,
            DbCommand::Check { json, .. }
            | DbCommand::Upgrade { json, .. }
            | DbCommand::Repair { json, .. }
            | DbCommand::SetupUser { json, .. } => *json,
        }
    }
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn generate(args: GenerateArgs, cancel: &CancelToken) -> anyhow::Result<()> {
    let target = args.url.target()?;
    if Version::from(args.schema) != Version::V30 {
        return Err(DbError::Refused(
            "the generator writes the 3.0 source history; build a 2015 R1 target with `transit db upgrade --to 2015R1`".into(),
        )
        .into());
    }
    let start = time::Date::parse(
        &args.start,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| crate::exit::UsageError(format!("--start {}: expected YYYY-MM-DD", args.start)))?;
    let opts = GenerateOptions {
        sites: args.sites,
        days: args.days,
        calls_per_day: args.calls_per_day,
        seed: args.seed,
        start,
    };
    let bars = Bars::new(args.json).with_total("all tables");
    let report: GenerateReport = block_on(async {
        let mut db = Db::connect_or_create(&target).await?;
        let report = transit_dbassist::generate::generate(&mut db, &opts, &bars, cancel).await?;
        db.close().await?;
        Ok::<_, DbError>(report)
    })??;
    bars.finish();
    if args.json {
        return print_json(&report);
    }
    outln!(
        "{:<28} {:>12} {:>11} {:>7}",
        "table",
        "rows",
        "duplicates",
        "NULLs"
    );
    for t in &report.tables {
        outln!(
            "{:<28} {:>12} {:>11} {:>7}",
            t.table,
            t.rows,
            t.planted_duplicates,
            t.planted_nulls
        );
    }
    outln!(
        "{} rows in {} tables ({} calls, {} sites, {} days from {}); {} hostile values, {} daylight-saving rows",
        report.total_rows,
        report.tables.len(),
        report.calls,
        report.sites.len(),
        report.days,
        report.start,
        report.hostile.len(),
        report.dst.len()
    );
    outln!("checksum {}", report.checksum);
    Ok(())
}

fn copy(args: CopyArgs, cancel: &CancelToken) -> anyhow::Result<()> {
    let source = args.source.target()?;
    let target = args.target.target()?;
    let options = CopyOptions {
        tables: args.tables,
        filters: args.filters,
        batch_rows: args.batch_rows as usize,
        on_error: match args.on_error {
            OnErrorArg::Stop => OnError::Stop,
            OnErrorArg::Reject => OnError::Reject,
        },
        validate: !args.no_validate,
        translate_keys: None,
        derive: None,
    };
    let run = RunOptions {
        jobs: usize::from(args.jobs),
        runs_dir: args.run_dir,
        resume: args.resume,
        batch_delay: std::env::var("TRANSIT_COPY_BATCH_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis),
        only: None,
        staging: Default::default(),
    };
    let json_lines = args.progress == ProgressArg::Json;
    let bars = Bars::new(args.json || json_lines).with_total("all tables");
    let lines = JsonLines::default();
    let progress: &dyn transit_core::Progress = if json_lines { &lines } else { &bars };
    let result = transit_dbassist::copy::copy(&source, &target, &options, &run, progress, cancel);
    bars.finish();
    let report: CopyReport = result?;
    if json_lines {
        lines.line(&ReportLine {
            event: "report",
            report: &report,
        });
        return Ok(());
    }
    if args.json {
        return print_json(&report);
    }
    outln!(
        "{:<28} {:>6} {:>12} {:>9} {:>9} {:>8}  validation",
        "table",
        "mode",
        "rows",
        "skipped",
        "rejected",
        "seconds"
    );
    for t in &report.tables {
        let check = match &t.validation {
            Some(v) if v.equal => format!("equal ({} rows)", v.target_rows),
            Some(v) => transit_dbassist::copy::validation_detail(v),
            None => "skipped".into(),
        };
        let mode = match t.mode {
            transit_dbassist::copy::state::Mode::Bulk => "bulk",
            transit_dbassist::copy::state::Mode::Merge => "merge",
        };
        outln!(
            "{:<28} {:>6} {:>12} {:>9} {:>9} {:>8.1}  {check}",
            t.table,
            mode,
            t.rows,
            t.skipped,
            t.rejected,
            t.seconds
        );
    }
    outln!("run {} ({})", report.run, report.run_dir.display());
    if let Some(file) = &report.rejects_file {
        outln!(
            "rejected rows, with the database's error: {}",
            file.display()
        );
    }
    Ok(())
}

fn migrate(args: MigrateArgs, cancel: &CancelToken) -> anyhow::Result<()> {
    let now = transit_core::time::now();
    let base = match &args.from_run {
        Some(run) => Some(transit_dbassist::runs::Settings::load(&args.run_dir, run)?),
        None => None,
    };
    let url = |given: &Option<DbUrl>, stored: Option<&String>| -> Result<DbTarget, DbError> {
        match (given, stored) {
            (Some(u), _) => u.target(),
            (None, Some(s)) => DbTarget::parse(s),
            (None, None) => Err(DbError::Usage("a URL is missing".into())),
        }
    };
    let source = url(&args.source, base.as_ref().map(|b| &b.source))?;
    let target = url(&args.target, base.as_ref().map(|b| &b.target))?;
    let stored = match &base {
        Some(b) => Some(b.options(&args.run_dir, now.date())?),
        None => None,
    };
    let pick = |given: Option<time::Date>, f: fn(&MigrateOptions) -> time::Date| {
        given
            .or(stored.as_ref().map(f))
            .ok_or_else(|| DbError::Usage("--start and --end are needed".into()))
    };
    let (start, end) = (pick(args.start, |o| o.start)?, pick(args.end, |o| o.end)?);
    let groups = if args.groups.is_empty() {
        stored
            .as_ref()
            .map(|o| o.groups.clone())
            .unwrap_or_default()
    } else {
        args.groups
    };
    let source_tz = args
        .source_tz
        .or(stored.as_ref().map(|o| o.source_tz.clone()))
        .unwrap_or_default();
    let or_stored = |given: Vec<(String, i64)>, f: fn(&MigrateOptions) -> Vec<(String, i64)>| {
        if given.is_empty() {
            stored.as_ref().map(f).unwrap_or_default()
        } else {
            given
        }
    };
    let service_level = or_stored(args.service_level, |o| o.service_levels.clone());
    let recording_path_map = if args.recording_path_map.is_empty() {
        stored
            .as_ref()
            .map(|o| o.recording_paths.clone())
            .unwrap_or_default()
    } else {
        args.recording_path_map
    };
    let workflows = if args.workflows.is_empty() {
        stored
            .as_ref()
            .map(|o| o.workflows.clone())
            .unwrap_or_default()
    } else {
        args.workflows
    };
    let options = MigrateOptions {
        groups,
        start,
        end,
        site: args.site_id.or(stored.as_ref().and_then(|o| o.site)),
        source_tz,
        tracker_update: args
            .tracker_update
            .or(stored.as_ref().map(|o| o.tracker_update.clone()))
            .unwrap_or(TrackerUpdate::None),
        delete_tracker_data: args.delete_tracker_data,
        yes: args.yes,
        service_levels: service_level,
        recording_paths: recording_path_map,
        conference_site: args
            .conference_site_id
            .or(stored.as_ref().and_then(|o| o.conference_site)),
        batch_rows: args
            .batch_rows
            .map(|n| n as usize)
            .or(stored.as_ref().map(|o| o.batch_rows))
            .unwrap_or(20_000),
        on_error: match args.on_error {
            Some(OnErrorArg::Stop) => OnError::Stop,
            Some(OnErrorArg::Reject) => OnError::Reject,
            None => stored.as_ref().map_or(OnError::Stop, |o| o.on_error),
        },
        jobs: args
            .jobs
            .map(usize::from)
            .or(stored.as_ref().map(|o| o.jobs))
            .unwrap_or(2),
        runs_dir: args.run_dir,
        resume: args.resume,
        today: now.date(),
        dialer_config: args
            .dialer_config
            .or(stored.as_ref().and_then(|o| o.dialer_config.clone())),
        workflows,
        execute: match args.execute {
            ExecuteArg::Now => Execute::Now,
            ExecuteArg::Later => Execute::Later,
            ExecuteArg::Manual => Execute::Manual,
        },
        step: None,
        from_run: args.from_run,
        batch_delay: super::db_runs::batch_delay(),
    };
    let bars = Bars::new(args.json).with_total("all tables");
    let result = transit_dbassist::migrate::migrate(&source, &target, &options, &bars, cancel);
    bars.finish();
    let report: MigrateReport = result?;
    super::db_runs::pack(&report, &args.pack)?;
    print_migrate(&report, args.json)
}

/// Prints a migrate report (also for `resume` and `exec-step`).
pub(crate) fn print_migrate(report: &MigrateReport, json: bool) -> anyhow::Result<()> {
    if json {
        return print_json(report);
    }
    if report.executed.is_none() {
        outln!(
            "run {}: {} steps written to {}; status {}",
            report.run,
            report.steps,
            report.run_dir.display(),
            report.status
        );
        outln!("preview them with `transit db scripts {}`", report.run);
        match report.status {
            transit_dbassist::runs::Status::ReadyForRestart => {
                outln!("run them with `transit db resume {}`", report.run)
            }
            _ => outln!(
                "run them with {}",
                report.run_dir.join("run-scripts.sh").display()
            ),
        }
        return Ok(());
    }
    for s in &report.groups {
        match &s.added_for {
            None => outln!("group {:<16} {}", s.group.id, s.group.title),
            Some((by, why)) => outln!(
                "group {:<16} {} (added: {by} needs it: {why})",
                s.group.id,
                s.group.title
            ),
        }
    }
    outln!("source time zone {}", report.zone);
    if let Some(dialer) = &report.dialer {
        let names: Vec<&str> = dialer.workflows.iter().map(|w| w.name.as_str()).collect();
        outln!("dialer workflows {}", names.join(", "));
    }
    for r in &report.rules {
        outln!("rule  {:<28} {}", r.rule, r.detail);
    }
    if !report.tracker_changes.is_empty() {
        outln!("Tracker difference report:");
        outln!(
            "  {:<16} {:>8} {:<30} {:>7} {:>7}  updated",
            "table",
            "id",
            "name",
            "target",
            "source"
        );
        for c in &report.tracker_changes {
            outln!(
                "  {:<16} {:>8} {:<30} {:>7} {:>7}  {}",
                c.table,
                c.source_key,
                c.name,
                c.target_version,
                c.source_version,
                if c.updated { "yes" } else { "no" }
            );
        }
    }
    outln!(
        "{:<28} {:>6} {:>12} {:>9} {:>8}",
        "table",
        "mode",
        "inserted",
        "skipped",
        "seconds"
    );
    for t in &report.copy.tables {
        let mode = match t.mode {
            transit_dbassist::copy::state::Mode::Bulk => "bulk",
            transit_dbassist::copy::state::Mode::Merge => "merge",
        };
        outln!(
            "{:<28} {:>6} {:>12} {:>9} {:>8.1}",
            t.table,
            mode,
            t.rows,
            t.skipped,
            t.seconds
        );
    }
    let equal = report.validations.iter().filter(|v| v.equal).count();
    outln!(
        "validation: {equal} table(s) equal{}",
        if report.not_validated.is_empty() {
            String::new()
        } else {
            format!(
                "; not compared: {}",
                report
                    .not_validated
                    .iter()
                    .map(|(t, why)| format!("{t} ({why})"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    match report.executed {
        Some((a, b)) if (a, b) != (1, report.steps) => outln!(
            "run {}: step {a} of {} done ({:.1} s); status {}",
            report.run,
            report.steps,
            report.copy.seconds,
            report.status
        ),
        _ => outln!(
            "run {} ({:.1} s); status {}",
            report.run,
            report.copy.seconds,
            report.status
        ),
    }
    Ok(())
}

fn validate(args: ValidateArgs, cancel: &CancelToken) -> anyhow::Result<()> {
    let source = args.source.target()?;
    let target = args.target.target()?;
    let bars = Bars::new(args.json);
    let result = transit_dbassist::copy::validate(
        &source,
        &target,
        transit_dbassist::copy::ValidateSelection {
            tables: &args.tables,
            filters: &args.filters,
            run: args.run.as_deref(),
            jobs: usize::from(args.jobs),
        },
        &bars,
        cancel,
    );
    bars.finish();
    let tables = result?;
    let report = ValidateReport {
        source: source.to_string(),
        target: target.to_string(),
        equal: tables.iter().all(|t| t.equal),
        tables,
    };
    if args.json {
        print_json(&report)?;
    } else {
        for t in &report.tables {
            if t.equal {
                outln!(
                    "EQUAL   {:<28} {} rows, checksum {}",
                    t.table,
                    t.target_rows,
                    &t.target_checksum[..16]
                );
            } else {
                outln!(
                    "DIFFER  {:<28} {}",
                    t.table,
                    transit_dbassist::copy::validation_detail(t)
                );
            }
        }
    }
    match report.tables.iter().find(|t| !t.equal) {
        Some(t) => Err(DbError::Validation {
            table: t.table.clone(),
            detail: transit_dbassist::copy::validation_detail(t),
        }
        .into()),
        None => Ok(()),
    }
}

/// What `transit db validate --json` prints.
#[derive(Debug, Serialize)]
pub struct ValidateReport {
    /// One side (redacted URL).
    pub source: String,
    /// The other side.
    pub target: String,
    /// True when every table is equal.
    pub equal: bool,
    /// Per table.
    pub tables: Vec<TableValidation>,
}

fn check(url: &DbUrl, expect: Option<VersionArg>, json: bool) -> anyhow::Result<()> {
    let target = url.target()?;
    let mut report: CheckReport = block_on(transit_dbassist::check::check(
        &target,
        expect.map(Version::from),
    ))?;
    if json {
        print_json(&report)?;
    } else {
        outln!("{} ({})", report.target, report.engine);
        for item in &report.checks {
            let mark = if item.passed { "PASS" } else { "FAIL" };
            outln!("  {mark}  {:<17} {}", item.name, item.detail);
        }
    }
    match report.failure.take() {
        Some(err) => Err(err.into()),
        None => Ok(()),
    }
}

fn upgrade(url: &DbUrl, to: Version, json: bool, cancel: &CancelToken) -> anyhow::Result<()> {
    let target = url.target()?;
    let bars = Bars::new(json);
    let report = block_on(async {
        let mut db = Db::connect_or_create(&target).await?;
        let report = transit_dbassist::upgrade::upgrade(&mut db, to, &bars, cancel).await?;
        db.close().await?;
        Ok::<_, DbError>(report)
    })??;
    bars.finish();
    if json {
        return print_json(&report);
    }
    if report.applied.is_empty() {
        outln!(
            "{} is at {} already; nothing changed",
            report.target,
            report.to
        );
    } else {
        for step in &report.applied {
            outln!(
                "applied {} {} ({} statements)",
                step.version,
                step.build,
                step.statements
            );
        }
        outln!("{}: {} -> {}", report.target, report.from, report.to);
    }
    Ok(())
}

fn repair(url: &DbUrl, mode: RepairMode, json: bool, cancel: &CancelToken) -> anyhow::Result<()> {
    let target = url.target()?;
    let bars = Bars::new(json);
    let report: RepairReport = block_on(async {
        let mut db = Db::connect(&target).await?;
        let report = transit_dbassist::repair::repair(
            &mut db,
            mode,
            transit_core::time::now(),
            &bars,
            cancel,
        )
        .await?;
        db.close().await?;
        Ok::<_, DbError>(report)
    })??;
    bars.finish();
    if json {
        return print_json(&report);
    }
    for script in &report.scripts {
        outln!("-----");
        outln!("Executing sproc {}", script.script);
        outln!(
            "Rows inserted into {} = {}",
            script.audit_table,
            script.rows_inserted
        );
        if mode == RepairMode::Delete {
            outln!(
                "Rows deleted from {} = {}",
                script.table,
                script.rows_deleted
            );
        }
    }
    outln!("-----");
    let found: u64 = report.scripts.iter().map(|s| s.rows_inserted).sum();
    match mode {
        RepairMode::AuditOnly => outln!(
            "audit only: {found} offending row(s) copied; the source tables are unchanged (run with --delete to remove them)"
        ),
        RepairMode::Delete => outln!("{found} offending row(s) copied to audit tables and deleted"),
    }
    Ok(())
}

fn setup_user(
    url: &DbUrl,
    name: String,
    host: String,
    password_env: &str,
    print_sql: bool,
    json: bool,
) -> anyhow::Result<()> {
    let target = url.target()?;
    let password = std::env::var(password_env)
        .ok()
        .filter(|p| !p.is_empty())
        .map(|p| secrecy::SecretString::from(p.into_boxed_str()));
    let user = MigrationUser {
        name,
        host,
        password,
    };
    if print_sql {
        let statements = transit_dbassist::setup_user::print_sql(&target, &user)?;
        if statements.is_empty() {
            outln!("-- SQLite has no users: access is the file's permissions.");
        }
        for sql in statements {
            outln!("{sql};");
        }
        return Ok(());
    }
    let report = block_on(async {
        let mut db = Db::connect(&target).await?;
        let report = transit_dbassist::setup_user::setup_user(&mut db, &user).await?;
        db.close().await?;
        Ok::<_, DbError>(report)
    })??;
    if json {
        return print_json(&report);
    }
    if let Some(note) = &report.note {
        outln!("{note}");
        return Ok(());
    }
    let verb = if report.existed { "updated" } else { "created" };
    outln!(
        "{verb} migration user `{}` on {} ({} statements){}",
        report.user,
        report.target,
        report.statements,
        if user.password.is_none() {
            format!("; no password set (${password_env} is empty)")
        } else {
            String::new()
        }
    );
    Ok(())
}
