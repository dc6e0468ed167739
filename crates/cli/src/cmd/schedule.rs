//! `transit schedule add|list|remove`: systemd timer units for periodic
//! exports with retention (the logic is `transit_migrator::schedule`).

use crate::cli::{ScheduleAddArgs, ScheduleCommand};
use crate::exit::UsageError;
use anyhow::Context;
use serde::Serialize;
use std::path::{Path, PathBuf};
use transit_migrator::schedule::{self, unit_stem, ExportSchedule};
use transit_server::ServerRoot;
use transit_units::UnitFolder;

/// Runs a `transit schedule` subcommand.
pub fn run(root: &Path, cmd: ScheduleCommand) -> anyhow::Result<()> {
    match cmd {
        ScheduleCommand::Add(args) => add(root, args),
        ScheduleCommand::List { unit_dir, json } => list(&UnitFolder::new(unit_dir)?, json),
        ScheduleCommand::Remove { name, unit_dir } => remove(&UnitFolder::new(unit_dir)?, &name),
    }
}

fn add(root: &Path, args: ScheduleAddArgs) -> anyhow::Result<()> {
    schedule::check_name(&args.name)?;
    let server = ServerRoot::open(root)?;
    let server_root = transit_core::paths::resolve(server.dir())?;
    if !args.folder.is_dir() {
        return Err(UsageError(format!(
            "--folder {}: no such folder (create it first; a scheduled run must not guess where backups go)",
            args.folder.display()
        ))
        .into());
    }
    let folder =
        transit_core::paths::check_outside_root(&args.folder, &server_root, "export folder")?;
    let password_file = match &args.password_file {
        Some(file) => {
            std::fs::File::open(file)
                .with_context(|| format!("--password-file {}", file.display()))?;
            Some(transit_core::paths::resolve(file)?)
        }
        None => None,
    };
    let catalog = transit_catalog::Catalog::for_role(&server.identity().server.role.to_string())?;
    catalog.resolve(&args.components)?;
    let schedule = ExportSchedule {
        name: args.name,
        every: args.every,
        at: args.at,
        binary: std::env::current_exe().context("finding the transit binary")?,
        server_root,
        folder,
        components: args.components.join(","),
        password_file,
        keep: args.keep,
    };
    schedule.check()?;
    let stem = unit_stem(&schedule.name);
    if schedule.password_file.is_none() {
        eprintln!(
            "warning: no --password-file: the scheduled migration files will NOT be encrypted"
        );
    }
    if args.cron {
        outln!("{}", schedule.cron_line());
        return Ok(());
    }
    if args.print {
        outln!("# {stem}.service");
        out!("{}", schedule.service_unit());
        outln!("\n# {stem}.timer");
        out!("{}", schedule.timer_unit());
        return Ok(());
    }
    let units = UnitFolder::new(args.unit_dir)?;
    for path in schedule::install(&units, &schedule)? {
        outln!("{}", path.display());
    }
    outln!(
        "scheduled {} export {} at {} (OnCalendar={})",
        schedule.name,
        schedule.every,
        schedule.at,
        schedule.calendar().on_calendar()
    );
    let timer = format!("{stem}.timer");
    match units.enable_hint(&timer) {
        Some(hint) if units.scope() == transit_units::Scope::User => outln!(
            "enable it with:\n  {hint}\n\
             user timers run only while you are logged in, unless lingering is on:\n  loginctl enable-linger \"$USER\""
        ),
        Some(hint) => outln!("enable it with:\n  {hint}"),
        None => outln!(
            "{} is not a folder systemd reads: copy or link both units into one, then enable {timer}",
            units.dir().display()
        ),
    }
    Ok(())
}

/// One schedule in `transit schedule list --json`.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    schedule: &'a ExportSchedule,
    every: String,
    at: String,
    on_calendar: String,
    timer: &'a PathBuf,
}

fn list(units: &UnitFolder, json: bool) -> anyhow::Result<()> {
    let found = schedule::list(units)?;
    if json {
        let items: Vec<Listed> = found
            .iter()
            .map(|(s, timer)| Listed {
                schedule: s,
                every: s.every.to_string(),
                at: s.at.to_string(),
                on_calendar: s.calendar().on_calendar(),
                timer,
            })
            .collect();
        outln!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    if found.is_empty() {
        outln!("no scheduled exports in {}", units.dir().display());
        return Ok(());
    }
    for (s, _) in &found {
        outln!(
            "{:<16} {:<12} {}  {} -> {}  keep {}{}",
            s.name,
            s.every.to_string(),
            s.at,
            s.server_root.display(),
            s.folder.display(),
            s.keep.map_or("all".to_string(), |k| k.to_string()),
            if s.password_file.is_some() {
                ", encrypted"
            } else {
                ", NOT encrypted"
            }
        );
    }
    Ok(())
}

fn remove(units: &UnitFolder, name: &str) -> anyhow::Result<()> {
    let removed = schedule::remove(units, name)?;
    match removed.disabled {
        Some(Ok(message)) => outln!("{message}"),
        Some(Err(message)) => eprintln!("warning: {message}"),
        None => {}
    }
    for path in &removed.deleted {
        outln!("deleted {}", path.display());
    }
    if let Some(hint) = units.reload_hint() {
        outln!("then: {hint}");
    }
    Ok(())
}
