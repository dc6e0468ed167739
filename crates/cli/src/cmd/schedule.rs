//! `transit schedule add|list|remove`: systemd timer units for periodic
//! exports with retention.

use crate::cli::{ScheduleAddArgs, ScheduleCommand};
use crate::exit::UsageError;
use crate::schedule::{self, At, Every, Schedule};
use anyhow::Context;
use std::path::{Path, PathBuf};
use transit_server::ServerRoot;

/// Runs a `transit schedule` subcommand.
pub fn run(root: &Path, cmd: ScheduleCommand) -> anyhow::Result<()> {
    match cmd {
        ScheduleCommand::Add(args) => add(root, args),
        ScheduleCommand::List { unit_dir, json } => list(&unit_dir_or_default(unit_dir)?, json),
        ScheduleCommand::Remove { name, unit_dir } => {
            remove(&unit_dir_or_default(unit_dir)?, &name)
        }
    }
}

fn usage(message: String) -> anyhow::Error {
    UsageError(message).into()
}

fn unit_dir_or_default(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    dir.or_else(schedule::default_unit_dir).ok_or_else(|| {
        usage(
            "no HOME or XDG_CONFIG_HOME to find the user's systemd folder: give --unit-dir".into(),
        )
    })
}

fn add(root: &Path, args: ScheduleAddArgs) -> anyhow::Result<()> {
    schedule::check_name(&args.name).map_err(usage)?;
    let every = Every::parse(&args.every).map_err(usage)?;
    let at = At::parse(&args.at).map_err(usage)?;
    let keep = args
        .keep
        .map(schedule::check_keep)
        .transpose()
        .map_err(usage)?;
    let server = ServerRoot::open(root)?;
    let server_root = transit_core::paths::resolve(server.dir())?;
    if !args.folder.is_dir() {
        return Err(usage(format!(
            "--folder {}: no such folder (create it first; a scheduled run must not guess where backups go)",
            args.folder.display()
        )));
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
    catalog.resolve_list(&args.components)?;
    let schedule = Schedule {
        name: args.name,
        every,
        at,
        binary: std::env::current_exe().context("finding the transit binary")?,
        server_root,
        folder,
        components: args.components,
        password_file,
        keep,
    };
    let lines = [
        schedule.binary.to_string_lossy().into_owned(),
        schedule.server_root.to_string_lossy().into_owned(),
        schedule.folder.to_string_lossy().into_owned(),
        schedule.components.clone(),
        schedule
            .password_file
            .as_ref()
            .map_or(String::new(), |p| p.to_string_lossy().into_owned()),
    ];
    if let Some(bad) = lines.iter().find(|l| l.contains(['\n', '\r'])) {
        return Err(usage(format!(
            "{bad:?} contains a line break, which a systemd unit cannot hold"
        )));
    }
    let stem = Schedule::unit_stem(&schedule.name);
    if schedule.password_file.is_none() {
        eprintln!(
            "warning: no --password-file: the scheduled migration files will NOT be encrypted"
        );
    }
    if args.cron {
        println!("{}", schedule.cron_line());
        return Ok(());
    }
    if args.print {
        println!("# {stem}.service");
        print!("{}", schedule.service_unit());
        println!("\n# {stem}.timer");
        print!("{}", schedule.timer_unit());
        return Ok(());
    }
    let dir = unit_dir_or_default(args.unit_dir)?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let service = dir.join(format!("{stem}.service"));
    let timer = dir.join(format!("{stem}.timer"));
    for path in [&service, &timer] {
        if path.exists() {
            return Err(usage(format!(
                "{} exists: remove the schedule first (transit schedule remove --name {})",
                path.display(),
                schedule.name
            )));
        }
    }
    write_new(&service, &schedule.service_unit())?;
    if let Err(e) = write_new(&timer, &schedule.timer_unit()) {
        let _ = std::fs::remove_file(&service);
        return Err(e);
    }
    println!("{}", service.display());
    println!("{}", timer.display());
    println!(
        "scheduled {} export {} at {} (OnCalendar={})",
        schedule.name,
        schedule.every,
        schedule.at,
        schedule.on_calendar()
    );
    match Scope::of(&dir) {
        Scope::User => println!(
            "enable it with:\n  systemctl --user daemon-reload && systemctl --user enable --now {stem}.timer\n\
             user timers run only while you are logged in, unless lingering is on:\n  loginctl enable-linger \"$USER\""
        ),
        Scope::System => println!(
            "enable it with:\n  systemctl daemon-reload && systemctl enable --now {stem}.timer"
        ),
        Scope::Other => println!(
            "{} is not a folder systemd reads: copy or link both units into one, then enable {stem}.timer",
            dir.display()
        ),
    }
    Ok(())
}

/// Writes a file that must not exist yet, whole or not at all.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())?;
    temp.as_file().sync_all()?;
    temp.persist_noclobber(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// The schedules in a unit folder, by name.
fn schedules(dir: &Path) -> anyhow::Result<Vec<(Schedule, PathBuf)>> {
    let mut found = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(found),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let path = entry?.path();
        let is_timer = path.extension().is_some_and(|e| e == "timer");
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !is_timer || !name.starts_with("transit-export-") {
            continue;
        }
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        if let Some(schedule) = Schedule::from_unit(&text) {
            found.push((schedule, path));
        }
    }
    found.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(found)
}

fn list(dir: &Path, json: bool) -> anyhow::Result<()> {
    let found = schedules(dir)?;
    if json {
        let items: Vec<_> = found
            .iter()
            .map(|(s, path)| {
                let mut v = serde_json::to_value(s).expect("a schedule serialises");
                v["every"] = serde_json::json!(s.every.to_string());
                v["at"] = serde_json::json!(s.at.to_string());
                v["on_calendar"] = serde_json::json!(s.on_calendar());
                v["timer"] = serde_json::json!(path);
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&items)?);
        return Ok(());
    }
    if found.is_empty() {
        println!("no scheduled exports in {}", dir.display());
        return Ok(());
    }
    for (s, _) in &found {
        println!(
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

fn remove(dir: &Path, name: &str) -> anyhow::Result<()> {
    schedule::check_name(name).map_err(usage)?;
    let stem = Schedule::unit_stem(name);
    let timer = dir.join(format!("{stem}.timer"));
    let ours = std::fs::read_to_string(&timer)
        .ok()
        .and_then(|text| Schedule::from_unit(&text))
        .is_some_and(|s| s.name == name);
    // Stop and disable the timer while its unit file still exists (older
    // systemd cannot disable a unit whose file is gone).
    if ours {
        disable(&Scope::of(dir), &stem);
    }
    let mut removed = 0;
    for suffix in ["timer", "service"] {
        let path = dir.join(format!("{stem}.{suffix}"));
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        if Schedule::from_unit(&text).is_none_or(|s| s.name != name) {
            return Err(usage(format!(
                "{} was not written by transit schedule add; left alone",
                path.display()
            )));
        }
        std::fs::remove_file(&path).with_context(|| format!("deleting {}", path.display()))?;
        println!("deleted {}", path.display());
        removed += 1;
    }
    if removed == 0 {
        return Err(usage(format!(
            "no schedule named {name} in {}",
            dir.display()
        )));
    }
    let wants = dir
        .join("timers.target.wants")
        .join(format!("{stem}.timer"));
    if wants.is_symlink() {
        std::fs::remove_file(&wants).with_context(|| format!("deleting {}", wants.display()))?;
        println!("deleted {}", wants.display());
    }
    match Scope::of(dir) {
        Scope::User => println!("then: systemctl --user daemon-reload"),
        Scope::System => println!("then: systemctl daemon-reload"),
        Scope::Other => {}
    }
    Ok(())
}

/// Which systemd manager reads a unit folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The user's manager (`systemctl --user`).
    User,
    /// The system manager.
    System,
    /// A folder systemd does not read (tests, staging).
    Other,
}

impl Scope {
    fn of(dir: &Path) -> Scope {
        let user = schedule::default_unit_dir();
        if user.as_deref() == Some(dir) {
            Scope::User
        } else if dir.starts_with("/etc/systemd/system")
            || dir.starts_with("/usr/lib/systemd/system")
        {
            Scope::System
        } else {
            Scope::Other
        }
    }
}

/// `systemctl [--user] disable --now STEM.timer`, when systemctl is there;
/// a failure is reported, not fatal (the files are removed regardless).
fn disable(scope: &Scope, stem: &str) {
    let mut cmd = std::process::Command::new("systemctl");
    match scope {
        Scope::User => {
            cmd.arg("--user");
        }
        Scope::System => {}
        Scope::Other => return,
    }
    cmd.args(["disable", "--now", &format!("{stem}.timer")]);
    match cmd.output() {
        Ok(out) if out.status.success() => println!("stopped and disabled {stem}.timer"),
        Ok(out) => eprintln!(
            "warning: systemctl could not disable {stem}.timer: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => eprintln!("warning: could not run systemctl to disable {stem}.timer: {e}"),
    }
}
