//! `transit console`: the vendor console's switches, run as the modern
//! `export` and `import` commands.

use super::{import, migrate};
use crate::console::{self, ConsoleTask};
use crate::exit::UsageError;
use crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Parses the switches, waits for a keystroke unless `-noprompt`, and runs.
pub fn run(root: &Path, switches: &[String]) -> anyhow::Result<()> {
    if switches.iter().any(|s| {
        ["-help", "--help", "-h", "-?", "/?"]
            .iter()
            .any(|h| s.eq_ignore_ascii_case(h))
    }) {
        outln!("{}", console::HELP);
        return Ok(());
    }
    let command = console::parse(switches)?;
    if !command.noprompt {
        wait_for_keystroke(&command.task)?;
    }
    match &command.task {
        ConsoleTask::Export(plan) => {
            if plan.password.is_none() {
                eprintln!(
                    "warning: no -password given: the migration file is NOT encrypted, and it holds sensitive configuration data (give -password=VALUE, or an empty -password= with the password in TRANSIT_PASSWORD)"
                );
            }
            migrate::run_export(root, plan, None, false)
        }
        ConsoleTask::Import(plan) => import::run_import(root, plan, false),
    }
}

/// The vendor console's "press a key to continue", which needs a terminal.
fn wait_for_keystroke(task: &ConsoleTask) -> anyhow::Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the console waits for a keystroke before it starts, but standard input is not a terminal: add -noprompt to run unattended".into(),
        )
        .into());
    }
    let what = match task {
        ConsoleTask::Export(plan) => format!("export to {}", plan.folder.display()),
        ConsoleTask::Import(plan) => format!("import {}", plan.file.display()),
    };
    eprint!("Ready to {what}. Press any key to start (Ctrl-C to cancel)... ");
    std::io::stderr().flush()?;
    // SIGTERM or SIGHUP while waiting must not leave the terminal raw.
    let ended = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, ended.clone())?;
    }
    crossterm::terminal::enable_raw_mode()?;
    let key = loop {
        if ended.load(std::sync::atomic::Ordering::Relaxed) {
            break Ok(None);
        }
        match event::poll(std::time::Duration::from_millis(100)) {
            Ok(false) => continue,
            Ok(true) => {}
            Err(e) => break Err(e),
        }
        match event::read() {
            Ok(Event::Key(k)) if k.kind == KeyEventKind::Press => break Ok(Some(k)),
            Ok(_) => continue,
            Err(e) => break Err(e),
        }
    };
    crossterm::terminal::disable_raw_mode()?;
    eprintln!();
    match key? {
        Some(k)
            if !(k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c')) =>
        {
            Ok(())
        }
        _ => Err(transit_migrator::MigratorError::Cancelled.into()),
    }
}
