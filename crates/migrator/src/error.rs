//! The Migrator's error type.

use std::path::PathBuf;

/// Everything that can go wrong exporting or importing.
#[derive(Debug, thiserror::Error)]
pub enum MigratorError {
    /// The export folder is the server root or lies inside it.
    #[error("export folder {folder} is inside the server root {root}: choose a folder outside it, so the export never lands in the data it exports")]
    FolderInsideRoot {
        /// The folder as resolved.
        folder: PathBuf,
        /// The server root as resolved.
        root: PathBuf,
    },
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
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// The Migrator's result type.
pub type Result<T, E = MigratorError> = std::result::Result<T, E>;

pub(crate) fn io_at(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> MigratorError + '_ {
    move |source| MigratorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl From<transit_registry::path::PathError> for MigratorError {
    fn from(err: transit_registry::path::PathError) -> Self {
        MigratorError::Registry(err.into())
    }
}
