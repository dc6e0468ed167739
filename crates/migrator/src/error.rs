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
    /// The migration file failed the check every import makes first (the
    /// same as `transit verify`); nothing changed.
    #[error("{} was tampered with or damaged ({} problem(s); `transit verify` lists them): {}", file.display(), mismatches.len(), first_problem(mismatches))]
    Damaged {
        /// The migration file.
        file: PathBuf,
        /// Every problem found.
        mismatches: Vec<transit_archive::Mismatch>,
    },
    /// The disk filled up during an import.
    #[error("{}", disk_full_text(place, *rolled_back, cause))]
    DiskFull {
        /// Where the space ran out (the extraction folder, the server
        /// root's registry or files).
        place: PathBuf,
        /// Whether the import was rolled back at once (otherwise the next
        /// command rolls it back, once there is space).
        rolled_back: bool,
        /// The failure as it happened.
        cause: Box<MigratorError>,
    },
    /// A registry problem.
    #[error(transparent)]
    Registry(#[from] transit_registry::RegistryError),
    /// A server root problem.
    #[error(transparent)]
    Server(#[from] transit_server::ServerError),
    /// An I/O failure, with the path involved.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// The file lacks a component that an asked-for one requires.
    #[error("{}: {component:?} cannot be imported without {missing:?}, which it requires and the file does not hold (export both)", file.display())]
    MissingRequired {
        /// The migration file.
        file: PathBuf,
        /// The component asked for (directly or through another).
        component: String,
        /// The required component the file lacks.
        missing: String,
    },
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
            MigratorError::Damaged { .. } => ErrorKind::Tampered,
            MigratorError::DiskFull { .. } => ErrorKind::DiskFull,
            MigratorError::Registry(e) => e.kind(),
            MigratorError::Server(e) => e.kind(),
            MigratorError::Io(e) => e.kind(),
            MigratorError::NothingToReview { .. } => ErrorKind::Usage,
            MigratorError::MissingRequired { .. } => ErrorKind::Usage,
        }
    }
}

/// The message of [`MigratorError::DiskFull`].
fn disk_full_text(place: &std::path::Path, rolled_back: bool, cause: &MigratorError) -> String {
    let undone = if rolled_back {
        "the import was rolled back: the server is as it was before. Free some space and import again"
    } else {
        "the import could not be rolled back yet: free some space, then any `transit` command on this server (such as `transit recover`) rolls it back"
    };
    format!(
        "the disk is full at {}: {undone} (the failure: {cause})",
        place.display()
    )
}

/// The first problem of a verification, as one line.
fn first_problem(mismatches: &[transit_archive::Mismatch]) -> String {
    match mismatches.first() {
        Some(m) => match &m.entry {
            Some(entry) => format!("{} / {entry}: {}", m.component, m.problem),
            None => format!("{}: {}", m.component, m.problem),
        },
        None => String::new(),
    }
}

/// The Migrator's result type.
pub type Result<T, E = MigratorError> = std::result::Result<T, E>;

impl From<transit_registry::path::PathError> for MigratorError {
    fn from(err: transit_registry::path::PathError) -> Self {
        MigratorError::Registry(err.into())
    }
}
