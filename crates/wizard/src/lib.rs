//! The Migrator's terminal wizard (M-10): Welcome, Task Selection, Data
//! Component Selection, Configuration, Confirmation, Status and Finish,
//! drawn with ratatui.
//!
//! - [`app`] is the state machine ([`app::Wizard`], [`app::Page`],
//!   [`app::Wizard::handle`] → [`app::Effect`]); it never touches the
//!   terminal, so tests drive it directly.
//! - [`ui`] draws a wizard into any ratatui frame (pure rendering).
//! - [`tree`] is the component tree with dependency locking.
//! - [`form`] holds the Configuration page's fields.
//! - [`job`] runs the export or import on a background thread.
//! - [`progress`] folds engine events into the Status page's model.
//! - [`terminal`] owns raw mode, the alternate screen and the event loop.
//! - [`db`] is `transit db wizard`, the DB assistant's steps, on the same
//!   patterns (state machine, pure drawing, terminal loop).

#![warn(missing_docs)]

pub mod app;
pub mod db;
pub mod form;
pub mod job;
pub mod progress;
pub mod terminal;
pub mod tree;
pub mod ui;

pub use app::{Effect, Page, Task, Wizard};

use std::path::Path;

/// Why the wizard could not run.
#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    /// SIGTERM or SIGHUP, or the terminal went away: the wizard stopped
    /// its job (an import rolled back) and exited.
    #[error("{0}")]
    Stopped(&'static str),
    /// The terminal could not be set up or drawn.
    #[error("terminal: {0}")]
    Terminal(#[from] std::io::Error),
    /// The server root could not be opened.
    #[error(transparent)]
    Server(#[from] transit_server::ServerError),
    /// The server's role has no component catalog.
    #[error(transparent)]
    Catalog(#[from] transit_catalog::CatalogError),
}

impl transit_core::Kind for WizardError {
    fn kind(&self) -> transit_core::ErrorKind {
        match self {
            WizardError::Stopped(_) => transit_core::ErrorKind::Cancelled,
            WizardError::Terminal(_) => transit_core::ErrorKind::Other,
            WizardError::Server(e) => e.kind(),
            WizardError::Catalog(e) => e.kind(),
        }
    }
}

/// Runs the wizard on the terminal for the server root `root`, until the
/// user finishes or quits. The terminal is restored however it ends.
pub fn run(root: &Path) -> Result<(), WizardError> {
    let server = transit_server::ServerRoot::open(root)?;
    let mut wizard = Wizard::new(server)?;
    match terminal::run(&mut wizard)? {
        terminal::Ending::Quit => Ok(()),
        terminal::Ending::Signal => Err(WizardError::Stopped(
            "stopped by a signal: a running job was stopped first (an import was rolled back)",
        )),
        terminal::Ending::TerminalLost => Err(WizardError::Stopped(
            "the terminal went away: a running job was stopped first (an import was rolled back)",
        )),
    }
}
