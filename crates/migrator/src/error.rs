//! The Migrator's error type.

use std::path::PathBuf;
use transit_core::{ErrorKind, Kind, PathIoError};

/// Everything that can go wrong exporting or importing.
#[derive(Debug, thiserror::Error)]
pub enum MigratorError {
    /// The export or extraction folder is the server root or lies inside
    /// it (or could not be resolved).
    #[error(transparent)]
    Folder(#[from] transit_core::paths::PathCheckError),
    /// The custom-handlers folder does not exist.
    #[error("custom handlers folder {0} does not exist or is not a folder")]
    HandlersFolder(PathBuf),
    /// An import refused by a preflight check; nothing changed.
    #[error(transparent)]
    Refused(#[from] crate::import::Refusal),
    /// The user stopped the operation (Stop, Ctrl-C, SIGTERM).
    #[error("stopped: nothing was written")]
    Cancelled,
    /// A component selection problem.
    #[error(transparent)]
    Catalog(#[from] transit_catalog::CatalogError),
    /// A migration file problem.
    #[error(transparent)]
    Archive(#[from] transit_archive::ArchiveError),
    /// A registry problem.
    #[error(transparent)]
    Registry(#[from] transit_registry::RegistryError),
    /// A server root problem.
    #[error(transparent)]
    Server(#[from] transit_server::ServerError),
    /// An I/O failure, with the path involved.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// `review … --only NAME` where NAME has no `_migrated` entry.
    #[error("nothing to review in {container} for {}: no `<name>_migrated` entry has that name; nothing was changed", names.join(", "))]
    NothingToReview {
        /// The DS container.
        container: String,
        /// The names that matched nothing.
        names: Vec<String>,
    },
}

impl Kind for MigratorError {
    fn kind(&self) -> ErrorKind {
        match self {
            MigratorError::Folder(e) => e.kind(),
            MigratorError::HandlersFolder(_) => ErrorKind::Usage,
            MigratorError::Refused(r) => r.kind(),
            MigratorError::Cancelled => ErrorKind::Cancelled,
            MigratorError::Catalog(e) => e.kind(),
            MigratorError::Archive(e) => e.kind(),
            MigratorError::Registry(e) => e.kind(),
            MigratorError::Server(e) => e.kind(),
            MigratorError::Io(e) => e.kind(),
            MigratorError::NothingToReview { .. } => ErrorKind::Usage,
        }
    }
}

/// The Migrator's result type.
pub type Result<T, E = MigratorError> = std::result::Result<T, E>;

impl From<transit_registry::path::PathError> for MigratorError {
    fn from(err: transit_registry::path::PathError) -> Self {
        MigratorError::Registry(err.into())
    }
}
