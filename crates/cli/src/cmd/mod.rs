//! Command handlers: one module per command group.

mod components;
mod console;
pub mod db;
pub mod db_runs;
pub mod diff;
mod docs;
mod import;
mod logs;
mod migrate;
mod migrator;
mod password;
mod registry;
mod restore;
mod schedule;
mod server;
pub mod update;

use crate::cli::{Cli, Command};

/// Runs a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if touches_server(&cli.command) {
        restore::recover_first(&cli.server_root)?;
    }
    match cli.command {
        Command::Server(cmd) => server::run(&cli.server_root, cmd),
        Command::Registry(cmd) => registry::run(&cli.server_root, cmd),
        Command::Export(args) => migrate::export(&cli.server_root, args),
        Command::Import(args) => import::run(&cli.server_root, args),
        Command::Review(cmd) => import::review(&cli.server_root, cmd),
        Command::Migrator(cmd) => migrator::run(&cli.server_root, cmd),
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
        Command::Console { switches } => console::run(&cli.server_root, &switches),
        Command::Wizard => Ok(transit_wizard::run(&cli.server_root)?),
        Command::Schedule(cmd) => schedule::run(&cli.server_root, cmd),
        Command::Logs(cmd) => logs::run(&cli.server_root, cmd),
        Command::Diff(args) => diff::run(args),
        Command::Db(cmd) => db::run(cmd),
        Command::Update(cmd) => update::run(&cli.server_root, cmd),
        Command::Components { role, json } => components::run(&cli.server_root, role, json),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man => docs::man(),
        Command::Rollback { restore_point } => {
            restore::rollback(&cli.server_root, restore_point.as_deref())
        }
        Command::Recover => restore::recover(&cli.server_root),
        Command::RestorePoints(cmd) => restore::points(&cli.server_root, cmd),
    }
}

/// Commands that read or change an existing server root: before them, an
/// interrupted import is rolled back. (Creating a root, reading a migration
/// file, or `recover` itself do not need it.)
fn touches_server(command: &Command) -> bool {
    use crate::cli::ServerCommand;
    match command {
        Command::Server(ServerCommand::Init(_) | ServerCommand::Demo { .. }) => false,
        Command::Inspect { .. }
        | Command::Verify { .. }
        | Command::Components { .. }
        | Command::Recover
        | Command::Schedule(_)
        | Command::Logs(_)
        | Command::Diff(_)
        | Command::Db(_)
        | Command::Update(_)
        | Command::Completions { .. }
        | Command::Man => false,
        Command::Server(_)
        | Command::Registry(_)
        | Command::Export(_)
        | Command::Import(_)
        | Command::Review(_)
        | Command::Migrator(_)
        | Command::Console { .. }
        | Command::Wizard
        | Command::Rollback { .. }
        | Command::RestorePoints(_) => true,
    }
}
