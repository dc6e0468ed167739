//! `transit import` and `transit review`.

use super::password;
use crate::cli::{ImportArgs, KeepArg, ModeArg, ReviewCommand};
use crate::progress::Bars;
use std::path::Path;
use transit_core::CancelToken;
use transit_migrator::import::review::{self, Area, Keep};
use transit_migrator::import::{import, ImportMode, ImportPlan};
use transit_migrator::MigratorError;
use transit_server::ServerRoot;

pub fn run(root: &Path, args: ImportArgs) -> anyhow::Result<()> {
    let plan = ImportPlan {
        file: args.file,
        password: password::read(&args.password)?,
        extract_to: args.extract_to,
        mode: match args.mode {
            ModeArg::Migration => ImportMode::Migration,
            ModeArg::Recovery => ImportMode::Recovery,
        },
        components: args.components,
        restore_point: !args.no_restore_point,
        dev_mode: args.dev_mode,
        dry_run: args.dry_run,
        force: args.force,
    };
    run_import(root, &plan, args.json)
}

/// Runs an import plan (from `transit import` or the console), saves the
/// report and prints it.
pub fn run_import(root: &Path, plan: &ImportPlan, json: bool) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    let cancel = CancelToken::new();
    let _signals = transit_core::cancel_on_signals(&cancel)?;
    let bars = Bars::new(json);
    let result = import(&server, plan, &bars, &cancel);
    bars.finish();
    let report = match result {
        Ok(report) => report,
        Err(MigratorError::Cancelled) => {
            eprintln!("stopped: the import was rolled back; the server is as it was before");
            return Err(MigratorError::Cancelled.into());
        }
        Err(e) => return Err(e.into()),
    };
    let saved = if plan.dry_run {
        None
    } else {
        Some(report.save(&server, &plan.extract_to)?)
    };
    if json {
        outln!("{}", report.to_json());
    } else {
        out!("{}", report.to_text());
        if let Some(path) = saved {
            outln!("\nReport written to {}", path.display());
        }
    }
    Ok(())
}

pub fn review(root: &Path, cmd: ReviewCommand) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    let (area, args) = match cmd {
        ReviewCommand::ServerParams(args) => (Area::ServerParameters, args),
        ReviewCommand::IpTables(args) => (Area::IpTables, args),
        ReviewCommand::RegistrationGroups(args) => (Area::RegistrationGroups, args),
    };
    let keep = match args.keep {
        KeepArg::Original => Keep::Original,
        KeepArg::Imported => Keep::Imported,
    };
    let outcome = review::resolve(&server, area, keep, &args.only)?;
    for name in &outcome.resolved {
        outln!("resolved {name}");
    }
    for name in &outcome.kept_for_rule {
        outln!("kept {name} as the import set it: the Dialer server resets it after processing the Dialer package");
    }
    for name in &outcome.left_alone {
        outln!("left {name}: it has no original (a custom entry); rename or delete it by hand");
    }
    outln!(
        "{} {} entr(ies) resolved in one transaction",
        outcome.resolved.len(),
        area.container()
    );
    Ok(())
}
