//! Command handlers: one module per command group.

mod registry;
mod server;

use crate::cli::{Cli, Command};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Server(cmd) => server::run(&cli.server_root, cmd),
        Command::Registry(cmd) => registry::run(&cli.server_root, cmd),
    }
}
