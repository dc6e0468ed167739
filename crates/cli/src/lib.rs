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
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return parse_failure(err),
    };
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

/// Arguments clap refused. Help and version print as clap prints them;
/// an error is clap's text on standard error and exit 2, and, when
/// `--json` is among the arguments, also the JSON error on standard output
/// (as every runtime error under `--json`).
fn parse_failure(err: clap::Error) -> ExitCode {
    if !err.use_stderr() {
        err.exit();
    }
    if std::env::args_os().skip(1).any(|a| a == "--json") {
        let exit = exit::Exit::Usage;
        let _ = output::print(&output::ErrorJson {
            error: output::ErrorBody {
                code: exit.code(),
                kind: format!("{exit:?}"),
                message: clap_message(&err),
            },
        });
        let _ = err.print();
        return ExitCode::from(exit.code());
    }
    err.exit()
}

/// clap's error line, without its `error: ` prefix and the usage after it.
fn clap_message(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
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
