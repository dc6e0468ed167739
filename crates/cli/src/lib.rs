//! The `transit` command: parses arguments, wires the library crates
//! together, prints, and maps errors to exit codes (see [`exit`]).
//!
//! It is a library too, so the test suites can name exit codes
//! ([`exit::Exit`]) and the build can generate completions and the man
//! page from [`cli::Cli`]; `src/main.rs` only calls [`main`].

/// `println!` for command output: a closed standard output (`| head`) is
/// not a crash (see [`output::write_stdout`]).
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` for command output, as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

pub mod cli;
mod cmd;
mod console;
pub mod exit;
mod logging;
mod output;
mod progress;

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Runs `transit` with the process arguments; returns its exit status.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let _log_guard = logging::init(Some(&cli.server_root));
    tracing::debug!(command = %loggable(&cli.command), "start");
    let json = cli.command.wants_json();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) if err.downcast_ref::<exit::Quiet>().is_some() => {
            ExitCode::from(exit::code_for(&err).code())
        }
        Err(err) => {
            tracing::error!("{err:#}");
            let exit = exit::code_for(&err);
            if json {
                // A reader that went away is no reason to fail differently.
                let _ = output::print(&output::ErrorJson {
                    error: output::ErrorBody {
                        code: exit.code(),
                        kind: format!("{exit:?}"),
                        message: format!("{err:#}"),
                    },
                });
            }
            // Not eprintln!, which panics when standard error is gone (a
            // closed terminal).
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitCode::from(exit.code())
        }
    }
}

/// The command for the log, with console passwords removed.
fn loggable(command: &cli::Command) -> String {
    match command {
        cli::Command::Console { switches } => format!("Console {:?}", console::redact(switches)),
        other => format!("{other:?}"),
    }
}

/// A reader that closed our output early (`transit … | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
