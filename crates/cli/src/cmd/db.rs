//! `transit db …`: the DB assistant's commands (the work is
//! `transit_dbassist`; this module reads the options, runs the async
//! library on a small runtime, prints, and returns typed errors whose kinds
//! give the exit codes 20–29).

use crate::progress::Bars;
use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use std::fmt;
use transit_core::{cancel_on_signals, CancelToken};
use transit_dbassist::check::CheckReport;
use transit_dbassist::generate::{GenerateOptions, GenerateReport};
use transit_dbassist::repair::{RepairMode, RepairReport};
use transit_dbassist::setup_user::MigrationUser;
use transit_dbassist::{Db, DbError, DbTarget, Version};

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
    fn target(&self) -> Result<DbTarget, DbError> {
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
            DbCommand::Check { json, .. }
            | DbCommand::Upgrade { json, .. }
            | DbCommand::Repair { json, .. }
            | DbCommand::SetupUser { json, .. } => *json,
        }
    }
}

fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
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
