//! `transit diff`: being built; it reports that until it lands.

use clap::Args;
use std::path::PathBuf;

/// `transit diff A B`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The first side: a server root, a migration file or a .reg file.
    pub a: PathBuf,
    /// The second side.
    pub b: PathBuf,
}

/// Runs `transit diff`.
pub fn run(_args: DiffArgs) -> anyhow::Result<()> {
    anyhow::bail!("transit diff is not built yet")
}
