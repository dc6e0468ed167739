//! `transit import` and `transit review`.

use super::password;
use crate::cli::{ImportArgs, KeepArg, ModeArg, ReviewCommand};
use crate::progress::Bars;
use anyhow::Context;
use std::path::Path;
use transit_core::CancelToken;
use transit_migrator::import::review::{self, Keep};
use transit_migrator::import::{import, ImportMode, ImportPlan};
use transit_migrator::MigratorError;
use transit_server::ServerRoot;

pub fn run(root: &Path, args: ImportArgs) -> anyhow::Result<()> {
    let password = password::read(&args.password)?;
    run_with(root, args, password)
}

/// `transit import` with the password already read (the console takes it
/// from its `-password=` switch).
pub fn run_with(root: &Path, args: ImportArgs, password: Option<String>) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    let cancel = CancelToken::new();
    let _signals = transit_core::cancel_on_signals(&cancel)?;
    let plan = ImportPlan {
        file: args.file.clone(),
        password,
        extract_to: args.extract_to.clone(),
        mode: match args.mode {
            ModeArg::Migration => ImportMode::Migration,
            ModeArg::Recovery => ImportMode::Recovery,
        },
        components: args.components.split(',').map(str::to_string).collect(),
        restore_point: !args.no_restore_point,
        dev_mode: args.dev_mode,
        dry_run: args.dry_run,
    };
    let bars = Bars::new(args.json);
    let result = import(&server, &plan, &bars, &cancel);
    bars.finish();
    let report = match result {
        Ok(report) => report,
        Err(MigratorError::Cancelled) => {
            eprintln!("stopped: the import was rolled back; the server is as it was before");
            return Err(MigratorError::Cancelled.into());
        }
        Err(e) => return Err(e.into()),
    };
    let json = report.to_json();
    let text = report.to_text();
    if !args.dry_run {
        std::fs::create_dir_all(&args.extract_to)?;
        for (name, body) in [("import-report.json", &json), ("import-report.txt", &text)] {
            let path = args.extract_to.join(name);
            std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
        }
        let last = server.logs_dir().join("last-import-report.json");
        std::fs::write(&last, &json).with_context(|| format!("writing {}", last.display()))?;
    }
    if args.json {
        println!("{json}");
    } else {
        print!("{text}");
        if !args.dry_run {
            println!(
                "\nReport written to {}",
                args.extract_to.join("import-report.txt").display()
            );
        }
    }
    Ok(())
}

pub fn review(root: &Path, cmd: ReviewCommand) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    match cmd {
        ReviewCommand::ServerParams { keep, only } => {
            let keep = match keep {
                KeepArg::Original => Keep::Original,
                KeepArg::Imported => Keep::Imported,
            };
            let outcome = review::server_params(&server, keep, &only)?;
            for name in &outcome.resolved {
                println!("resolved {name}");
            }
            for name in &outcome.left_alone {
                println!("left {name}: it has no original (a custom parameter); rename or delete it by hand");
            }
            println!(
                "{} parameter(s) resolved in one transaction",
                outcome.resolved.len()
            );
        }
    }
    Ok(())
}
