//! Error kinds and I/O errors that name their path.
//!
//! Every library error type in Transit answers [`Kind::kind`] with an
//! [`ErrorKind`]; the binary maps kinds to exit codes in one table, so the
//! same refusal always gives the same code and nothing outside a crate
//! matches on that crate's variants.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// What kind of failure an error is, as far as a caller (and an exit code)
/// cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Anything not listed below: an I/O failure, a bug, a full disk.
    Other,
    /// The command was called wrongly: a bad argument, option or name.
    Usage,
    /// An input file is malformed: a `.reg` file, `server.toml`, a registry
    /// database.
    BadInput,
    /// A safety or version rule refused the operation before it changed
    /// anything.
    Refused,
    /// The server service is running and must be stopped first.
    ServiceRunning,
    /// The password does not open the file.
    WrongPassword,
    /// The file is encrypted and no password was given.
    PasswordRequired,
    /// A password was given for a file that is not encrypted.
    PasswordNotNeeded,
    /// The file ends early.
    Truncated,
    /// The file's content differs from what it declares (hash or
    /// authentication mismatch, unsafe entry).
    Tampered,
    /// The file is not a migration file.
    NotMigrationFile,
    /// The file has a newer format than this build reads.
    NewerFormat,
    /// The user stopped the operation; nothing was left half-done.
    Cancelled,
    /// The disk filled up during the operation (an import names where,
    /// and whether it was rolled back).
    DiskFull,
    /// A `.reg` export met data the chosen format cannot hold (REGEDIT4
    /// and a character outside Windows-1252).
    ExportUnrepresentable,
    /// DB assistant: the database server could not be reached.
    DbUnreachable,
    /// DB assistant: the database server refused the user name or password.
    DbCredentials,
    /// DB assistant: the named database (or SQLite file) does not exist.
    DbMissing,
    /// DB assistant: the schema is not at the version the operation needs.
    DbVersion,
    /// DB assistant: the user lacks a permission the operation needs.
    DbPermission,
    /// DB assistant: the URL names an engine that is not supported.
    DbUnsupported,
    /// DB assistant: disabled constraints, indexes or triggers were found.
    DbDisabledObjects,
    /// DB assistant: duplicate or NULL keys must be repaired first.
    DbNeedsRepair,
    /// An update bundle is malformed or truncated, or its payload differs
    /// from its manifest.
    UpdateBadBundle,
    /// An update carries no valid publisher signature.
    UpdateUnsigned,
    /// An update's publisher is not on the allow-list.
    UpdatePublisher,
    /// Update metadata is not signed by the keys its role requires.
    UpdateBadSignature,
    /// Update metadata is older than what was already trusted (rollback).
    UpdateRollback,
    /// Update metadata has expired (a freeze, or a provider cut off too
    /// long).
    UpdateExpired,
    /// A metadata file or payload differs from what the role above it
    /// lists (mix-and-match, a tampered payload).
    UpdateMismatch,
    /// A metadata file exceeds its size limit.
    UpdateTooLarge,
    /// A root metadata file's version is out of order.
    UpdateRootOrder,
    /// The update repository or its keys are missing or do not match.
    UpdateKeys,
}

/// An error that knows its [`ErrorKind`].
pub trait Kind {
    /// The kind of this error.
    fn kind(&self) -> ErrorKind;
}

/// An I/O error together with the path it concerns.
///
/// Its message is `path: cause`. It reports no separate `source()`, so a
/// printed cause chain does not repeat the operating system's text; use
/// [`PathIoError::io`] to inspect the underlying error.
#[derive(Debug)]
pub struct PathIoError {
    path: PathBuf,
    source: io::Error,
}

impl PathIoError {
    /// Wraps `source`, which happened on `path`.
    pub fn new(path: impl Into<PathBuf>, source: io::Error) -> PathIoError {
        PathIoError {
            path: path.into(),
            source,
        }
    }

    /// The path concerned.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying I/O error.
    pub fn io(&self) -> &io::Error {
        &self.source
    }

    /// True when the disk (or quota) is full.
    pub fn is_disk_full(&self) -> bool {
        is_disk_full(&self.source)
    }
}

/// True when `err` says the disk or the quota is full.
pub fn is_disk_full(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

impl fmt::Display for PathIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for PathIoError {}

impl Kind for PathIoError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Other
    }
}

/// Attaches a path to an I/O result: `std::fs::read(&p).at(&p)?`.
pub trait IoContext<T> {
    /// The error, if any, as a [`PathIoError`] naming `path`.
    fn at(self, path: impl AsRef<Path>) -> Result<T, PathIoError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T, PathIoError> {
        self.map_err(|source| PathIoError::new(path.as_ref(), source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn names_the_path_once() {
        let err = std::fs::read("/nonexistent/transit-core").at("/nonexistent/transit-core");
        let err = err.unwrap_err();
        assert_eq!(err.io().kind(), io::ErrorKind::NotFound);
        let text = err.to_string();
        assert!(text.starts_with("/nonexistent/transit-core: "), "{text}");
        assert_eq!(text.matches("os error").count(), 1);
        assert!(err.source().is_none());
        assert_eq!(err.kind(), ErrorKind::Other);
    }
}
