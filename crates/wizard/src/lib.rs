//! The Migrator's terminal wizard (M-10): being built; `transit wizard`
//! reports that until it lands.

use std::path::Path;

/// Why the wizard could not run.
#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    /// The terminal could not be set up or drawn.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    /// The server root could not be opened.
    #[error(transparent)]
    Server(#[from] transit_server::ServerError),
}

/// Runs the wizard on the terminal for the server root `root`.
pub fn run(root: &Path) -> Result<(), WizardError> {
    let _ = transit_server::ServerRoot::open(root)?;
    Err(WizardError::Terminal(std::io::Error::other(
        "the wizard is not built yet",
    )))
}
