//! `transit migrator …`

use crate::cli::migrator::MigratorCommand;
use std::path::Path;
use transit_server::ServerRoot;

pub fn run(root: &Path, cmd: MigratorCommand) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    match cmd {
        MigratorCommand::Install { release, build } => {
            let done = transit_migrator::install::install(&server, release, build)?;
            let (r, b) = done.after;
            if done.unchanged() {
                outln!(
                    "Migrator {r} build {b} is already installed on {}",
                    server.name()
                );
            } else {
                let (was, was_build) = done.before;
                outln!(
                    "Migrator {r} build {b} installed on {} (was {was} build {was_build}); exports now carry it",
                    server.name()
                );
            }
        }
    }
    Ok(())
}
