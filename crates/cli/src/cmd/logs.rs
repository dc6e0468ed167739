//! `transit logs bundle`: one zip of everything support asks for
//! (`transit_server::support`).

use crate::cli::LogsCommand;
use std::path::Path;
use transit_server::{support, ServerRoot};

/// Runs a `transit logs` subcommand.
pub fn run(root: &Path, cmd: LogsCommand) -> anyhow::Result<()> {
    match cmd {
        LogsCommand::Bundle { out } => {
            let server = ServerRoot::open(root)?;
            let out = out.unwrap_or_else(|| support::default_name(&server));
            let path = support::bundle(&server, &out, env!("CARGO_PKG_VERSION"))?;
            outln!("{}", path.display());
            Ok(())
        }
    }
}
