//! Command handlers: one module per command group.

mod components;
mod migrate;
mod password;
mod progress;
mod registry;
mod server;

use crate::cli::{Cli, Command};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Server(cmd) => server::run(&cli.server_root, cmd),
        Command::Registry(cmd) => registry::run(&cli.server_root, cmd),
        Command::Export(args) => migrate::export(&cli.server_root, args),
        Command::Inspect {
            file,
            password,
            json,
        } => migrate::inspect(&file, &password, json),
        Command::Verify {
            file,
            password,
            json,
        } => migrate::verify(&file, &password, json),
        Command::Components { role, json } => components::run(&cli.server_root, role, json),
    }
}
