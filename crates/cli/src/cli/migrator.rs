//! `transit migrator …`: the clap declarations of the Migrator's own
//! installation (handlers in `cmd/migrator.rs`).

use clap::Subcommand;
use transit_server::ProductRelease;

/// `transit migrator …`
#[derive(Debug, Subcommand)]
pub enum MigratorCommand {
    /// Install a Migrator release on this server (such as the target's
    /// release on the source before a cross-release export); a downgrade
    /// is refused.
    Install {
        /// The Migrator release, such as "2018 R1".
        #[arg(long)]
        release: ProductRelease,
        /// Its build number (default: this Transit's build).
        #[arg(long)]
        build: Option<u32>,
    },
}
