//! The diff's error type.

use std::path::PathBuf;

/// Everything that can stop a comparison. (Differences are not errors.)
///
/// Errors of the other crates that already name their file (a migration
/// file, `server.toml`, the catalog) pass through unchanged, so callers can
/// match them as they do for `transit inspect`; registry errors are wrapped
/// with the file they came from, and keep it as their source.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// A side does not exist.
    #[error("{}: no such file or directory", .path.display())]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// A side is none of the three kinds.
    #[error(
        "{}: not a server root (a directory with server.toml), a migration file (.ininmigr) or a .reg file",
        .path.display()
    )]
    UnknownKind {
        /// The path given.
        path: PathBuf,
    },
    /// The two sides are servers of different roles (CIC and Media Server),
    /// whose components have nothing in common.
    #[error("cannot compare a {a} server (A) with a {b} server (B): their components differ")]
    RoleMismatch {
        /// A's role.
        a: String,
        /// B's role.
        b: String,
    },
    /// A key stream went backwards, so the merge cannot continue. It means
    /// the two sides do not sort keys the same way (a bug, or a registry
    /// database written by something else).
    #[error("side {side}: key `{key}` arrives out of sort order; cannot merge")]
    Unordered {
        /// `A` or `B`.
        side: char,
        /// The key.
        key: String,
    },
    /// The comparison was cancelled (Ctrl-C, SIGTERM) before it finished.
    #[error("the comparison was cancelled before it finished")]
    Cancelled,
    /// A migration file could not be opened or read.
    #[error(transparent)]
    Archive(#[from] transit_archive::ArchiveError),
    /// A server root could not be opened.
    #[error(transparent)]
    Server(#[from] transit_server::ServerError),
    /// An unknown component name or role.
    #[error(transparent)]
    Catalog(#[from] transit_catalog::CatalogError),
    /// Listing a server root's files failed.
    #[error(transparent)]
    Migrator(#[from] crate::MigratorError),
    /// A registry (a server root's database, or a `.reg` file being
    /// loaded) could not be read.
    #[error("{}", .path.display())]
    Registry {
        /// The database or `.reg` file.
        path: PathBuf,
        /// What went wrong (a `.reg` error names the line).
        source: transit_registry::RegistryError,
    },
    /// Reading a file (to hash it) or creating the temporary folder failed.
    #[error(transparent)]
    Io(#[from] transit_core::PathIoError),
    /// The sink failed to write the report.
    #[error("writing the report")]
    Output(#[source] std::io::Error),
}

impl DiffError {
    /// Wraps a registry error with the file it concerns.
    pub(crate) fn registry(
        path: &std::path::Path,
    ) -> impl Fn(transit_registry::RegistryError) -> DiffError + '_ {
        move |source| DiffError::Registry {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl transit_core::Kind for DiffError {
    fn kind(&self) -> transit_core::ErrorKind {
        use transit_core::ErrorKind;
        match self {
            DiffError::Archive(e) => e.kind(),
            DiffError::Server(e) => e.kind(),
            DiffError::Catalog(e) => e.kind(),
            DiffError::Migrator(e) => e.kind(),
            DiffError::Registry { source, .. } => source.kind(),
            DiffError::Missing { .. }
            | DiffError::UnknownKind { .. }
            | DiffError::RoleMismatch { .. }
            | DiffError::Unordered { .. }
            | DiffError::Io(_)
            | DiffError::Output(_) => ErrorKind::Other,
            DiffError::Cancelled => ErrorKind::Cancelled,
        }
    }
}
