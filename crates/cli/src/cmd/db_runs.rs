//! `transit db scripts|resume|exec-step|runs|cleanup|tune`: a migrate
//! run's folder and history (the work is `transit_dbassist::runs`).
//!
//! Each command finds the run in its run folder (`--run-dir`, default
//! `transit-runs`); the URLs there carry no password, which comes from the
//! usual places (PGPASSWORD, ~/.pgpass, MYSQL_PWD, ~/.my.cnf).

use super::db::{print_json, print_migrate, DbUrl};
use crate::progress::Bars;
use clap::Args;
use secrecy::ExposeSecret;
use serde::Serialize;
use std::path::{Path, PathBuf};
use transit_core::CancelToken;
use transit_dbassist::copy::Local;
use transit_dbassist::migrate::MigrateReport;
use transit_dbassist::runs::{history, script, Settings, Status};
use transit_dbassist::{Db, DbError, DbTarget};

/// The password of the zip a completed run folder is packed into.
#[derive(Debug, Args, Clone, Default)]
pub struct PackArgs {
    /// Encrypt the completed run's zip (AES-256) with the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "pack_password_env")]
    pub pack_password_file: Option<PathBuf>,
    /// Encrypt the completed run's zip (AES-256) with this environment variable's value.
    #[arg(long, value_name = "VAR")]
    pub pack_password_env: Option<String>,
}

/// Packs a completed run's folder into `<run dir>.zip` (AES-256 with a
/// password; plain, with a warning, without one).
pub(crate) fn pack(report: &MigrateReport, args: &PackArgs) -> anyhow::Result<()> {
    if report.status != Status::Completed {
        return Ok(());
    }
    let password = crate::cmd::password::read(&crate::cli::PasswordArgs {
        password_file: args.pack_password_file.clone(),
        password_env: args.pack_password_env.clone(),
    })?;
    let dest = report.run_dir.with_extension("zip");
    if dest.exists() {
        std::fs::remove_file(&dest).map_err(|e| transit_core::PathIoError::new(&dest, e))?;
    }
    let files = transit_archive::pack_folder(
        &report.run_dir,
        &dest,
        password.as_ref().map(|p| p.expose_secret()),
    )?;
    if password.is_none() {
        eprintln!(
            "warning: no password given: the run's zip {} is NOT encrypted (use --pack-password-file or --pack-password-env)",
            dest.display()
        );
    }
    eprintln!(
        "packed the run folder ({files} files) into {}",
        dest.display()
    );
    Ok(())
}

/// A run in its folder.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The run (`transit db runs` lists them).
    pub run: String,
    /// The zip of the completed run.
    #[command(flatten)]
    pub pack: PackArgs,
    /// The folder of run folders.
    #[arg(long, value_name = "DIR", default_value = "transit-runs")]
    pub run_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `transit db scripts`.
#[derive(Debug, Args)]
pub struct ScriptsArgs {
    /// The run.
    pub run: String,
    /// Only this step.
    #[arg(long, value_name = "N")]
    pub step: Option<usize>,
    /// The folder of run folders.
    #[arg(long, value_name = "DIR", default_value = "transit-runs")]
    pub run_dir: PathBuf,
    /// Print JSON (the plans and the SQL).
    #[arg(long)]
    pub json: bool,
}

/// `transit db exec-step`.
#[derive(Debug, Args)]
pub struct ExecStepArgs {
    /// The run.
    pub run: String,
    /// The step (1 = prepare, then one per table, then finish).
    pub step: usize,
    /// The zip of the completed run (the finish step).
    #[command(flatten)]
    pub pack: PackArgs,
    /// The folder of run folders.
    #[arg(long, value_name = "DIR", default_value = "transit-runs")]
    pub run_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `transit db runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {
    /// Read the history from this target's transit_migration (default: the run folders).
    #[arg(long)]
    pub target: Option<DbUrl>,
    /// The folder of run folders.
    #[arg(long, value_name = "DIR", default_value = "transit-runs")]
    pub run_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// `transit db tune`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The run.
    pub run: String,
    /// The table.
    #[arg(long)]
    pub table: String,
    /// Rows per commit, from the table's next batch on (at most the run's --batch-rows).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub commit_every: u64,
    /// The folder of run folders.
    #[arg(long, value_name = "DIR", default_value = "transit-runs")]
    pub run_dir: PathBuf,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// The test hook that slows the copy down (`TRANSIT_COPY_BATCH_DELAY_MS`).
pub(crate) fn batch_delay() -> Option<std::time::Duration> {
    std::env::var("TRANSIT_COPY_BATCH_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(std::time::Duration::from_millis)
}

fn urls(settings: &Settings) -> Result<(DbTarget, DbTarget), DbError> {
    Ok((
        DbTarget::parse(&settings.source)?,
        DbTarget::parse(&settings.target)?,
    ))
}

/// The options of a stored run, resumed (`step`: only that one).
fn resumed(
    run_dir: &Path,
    run: &str,
    step: Option<usize>,
) -> anyhow::Result<(
    DbTarget,
    DbTarget,
    transit_dbassist::migrate::MigrateOptions,
)> {
    let settings = Settings::load(run_dir, run)?;
    let (source, target) = urls(&settings)?;
    let mut options = settings.options(run_dir, transit_core::time::now().date())?;
    options.resume = Some(run.to_string());
    options.step = step;
    options.batch_delay = batch_delay();
    Ok((source, target, options))
}

pub(crate) fn resume(args: RunArgs, cancel: &CancelToken) -> anyhow::Result<()> {
    if let Ok(r) = history::load_file(&args.run_dir, &args.run) {
        match r.status {
            Status::Completed => {
                return Err(DbError::Refused(format!(
                    "run `{}` is Completed already; start a new one with --from-run {}",
                    args.run, args.run
                ))
                .into())
            }
            Status::FailedVersionCheck => {
                return Err(DbError::Refused(format!(
                    "run `{}` failed its version check and has no steps; bring the schemas to \
                     their versions (`transit db upgrade`) and start a new one with --from-run {}",
                    args.run, args.run
                ))
                .into())
            }
            _ => {}
        }
    }
    let (source, target, options) = resumed(&args.run_dir, &args.run, None)?;
    let bars = Bars::new(args.json).with_total("all tables");
    let result = transit_dbassist::migrate::migrate(&source, &target, &options, &bars, cancel);
    bars.finish();
    let report = result?;
    pack(&report, &args.pack)?;
    print_migrate(&report, args.json)
}

pub(crate) fn exec_step(args: ExecStepArgs, cancel: &CancelToken) -> anyhow::Result<()> {
    let (source, target, options) = resumed(&args.run_dir, &args.run, Some(args.step))?;
    let bars = Bars::new(args.json).with_total("all tables");
    let result = transit_dbassist::migrate::migrate(&source, &target, &options, &bars, cancel);
    bars.finish();
    let report = result?;
    pack(&report, &args.pack)?;
    print_migrate(&report, args.json)
}

/// One step as `scripts --json` prints it.
#[derive(Serialize)]
struct StepOut<'a> {
    plan: &'a script::Plan,
    sql: &'a str,
}

pub(crate) fn scripts(args: ScriptsArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.run_dir, &args.run)?;
    let steps = script::read(&args.run_dir.join(&settings.run))?;
    if let Some(n) = args.step {
        if n == 0 || n > steps.len() {
            return Err(DbError::Usage(format!(
                "run `{}` has steps 1 to {}; there is no step {n}",
                args.run,
                steps.len()
            ))
            .into());
        }
    }
    let chosen: Vec<&script::Step> = steps
        .iter()
        .filter(|s| args.step.is_none_or(|n| s.plan.step == n))
        .collect();
    if args.json {
        let out: Vec<StepOut> = chosen
            .iter()
            .map(|s| StepOut {
                plan: &s.plan,
                sql: &s.sql,
            })
            .collect();
        return print_json(&out);
    }
    for s in chosen {
        outln!(
            "==== step {} of {}: {} ({}) ====",
            s.plan.step,
            s.plan.of,
            s.plan.name,
            args.run_dir
                .join(&args.run)
                .join("steps")
                .join(format!("{}.sql", s.stem()))
                .display()
        );
        if s.plan.kind == script::StepKind::Table {
            outln!("expected rows: {}", s.plan.expected_rows);
        }
        outln!("{}", s.sql);
    }
    Ok(())
}

pub(crate) fn runs(args: RunsArgs) -> anyhow::Result<()> {
    let records = match &args.target {
        Some(url) => {
            let target = url.target()?;
            Local::new()?.run(async {
                let mut db = Db::connect(&target).await?;
                let r = history::list_db(&mut db).await?;
                db.close().await?;
                Ok::<_, DbError>(r)
            })?
        }
        None => history::list_files(&args.run_dir)?,
    };
    if args.json {
        return print_json(&records);
    }
    if records.is_empty() {
        outln!("no migrate runs");
        return Ok(());
    }
    outln!(
        "{:<34} {:<21} {:<20} {:<10} {:<10} {:>5}  source -> target",
        "run",
        "status",
        "executed",
        "start",
        "end",
        "site"
    );
    for r in &records {
        outln!(
            "{:<34} {:<21} {:<20} {:<10} {:<10} {:>5}  {} -> {}",
            r.run,
            r.status.label(),
            r.executed.get(..19).unwrap_or(&r.executed),
            r.start,
            r.end,
            r.site_id
                .map(|s| s.to_string())
                .unwrap_or_else(|| "all".into()),
            r.source,
            r.target
        );
    }
    Ok(())
}

pub(crate) fn cleanup(args: RunArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.run_dir, &args.run)?;
    let (_, target) = urls(&settings)?;
    if let Ok(r) = history::load_file(&args.run_dir, &args.run) {
        if r.status == Status::Completed {
            return Err(DbError::Refused(format!(
                "run `{}` is Completed; cleanup is for a run that failed or was killed",
                args.run
            ))
            .into());
        }
    }
    let report = transit_dbassist::runs::cleanup::cleanup(&args.run_dir, &args.run, &target)?;
    if args.json {
        return print_json(&report);
    }
    for t in &report.tables {
        outln!(
            "{:<28} {:>12} {:>8} row(s) deleted, {} put back, {} index(es) built, {} key-map row(s) removed",
            t.table,
            t.mode,
            t.rows_deleted,
            t.rows_restored,
            t.indexes_rebuilt,
            t.key_map_rows
        );
    }
    outln!(
        "run {}: {} table(s) back at their state before the run; status Incomplete",
        report.run,
        report.tables.len()
    );
    Ok(())
}

/// What `tune --json` prints.
#[derive(Serialize)]
struct Tuned<'a> {
    run: &'a str,
    table: &'a str,
    commit_every: u64,
}

pub(crate) fn tune(args: TuneArgs) -> anyhow::Result<()> {
    let settings = Settings::load(&args.run_dir, &args.run)?;
    let (_, target) = urls(&settings)?;
    let table = transit_dbassist::Schema::reference()
        .table(&args.table)
        .ok_or_else(|| {
            DbError::Usage(format!(
                "--table: no table `{}` in the reference schema",
                args.table
            ))
        })?
        .name
        .clone();
    let steps = script::read(&args.run_dir.join(&args.run))?;
    if !steps.iter().any(|s| s.plan.name == table) {
        return Err(
            DbError::Usage(format!("--table: run `{}` does not copy {table}", args.run)).into(),
        );
    }
    Local::new()?.run(async {
        let mut db = Db::connect(&target).await?;
        transit_dbassist::copy::state::ensure(&mut db).await?;
        transit_dbassist::copy::state::tune(&mut db, &args.run, &table, args.commit_every).await?;
        db.close().await
    })?;
    if args.json {
        return print_json(&Tuned {
            run: &args.run,
            table: &table,
            commit_every: args.commit_every,
        });
    }
    outln!(
        "run {}: {table} commits every {} rows from its next batch",
        args.run,
        args.commit_every
    );
    Ok(())
}
