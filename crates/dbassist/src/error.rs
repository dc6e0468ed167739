//! What can go wrong, as one error type whose variants the CLI maps to the
//! DB assistant's exit codes (20–29) through [`Kind`].
//!
//! Every message names the database by its redacted URL
//! ([`crate::DbTarget`]'s display): a password never appears in an error.

use transit_core::{ErrorKind, Kind};

/// A DB-assistant failure.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL names an engine the DB assistant does not support.
    #[error(
        "unsupported database URL `{scheme}:…`: use postgres://, mysql:// (MariaDB) or sqlite://"
    )]
    UnsupportedEngine {
        /// The URL's scheme.
        scheme: String,
    },
    /// The URL is malformed.
    #[error("bad database URL {url}: {reason}")]
    BadUrl {
        /// The redacted URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server could not be reached (refused, no route, timed out).
    #[error("cannot reach the database server of {target}: {cause}")]
    Unreachable {
        /// The redacted URL.
        target: String,
        /// The driver's reason.
        cause: String,
    },
    /// The server refused the login: wrong user name or password.
    #[error(
        "the database server refused the login for {target}: wrong user name or password ({cause})"
    )]
    Credentials {
        /// The redacted URL.
        target: String,
        /// The server's message.
        cause: String,
    },
    /// The named database (or SQLite file) does not exist.
    #[error("database {target} does not exist{hint}")]
    MissingDatabase {
        /// The redacted URL.
        target: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The database's schema is not at the version the operation needs.
    #[error("{target}: schema version {found}, but {wanted}")]
    WrongVersion {
        /// The redacted URL.
        target: String,
        /// The version found ("no CIC schema" when none).
        found: String,
        /// What the operation needs, as a phrase.
        wanted: String,
    },
    /// The user lacks permissions the operation needs.
    #[error("{target}: user `{user}` lacks the permission to {missing}{hint}")]
    Permission {
        /// The redacted URL.
        target: String,
        /// The user.
        user: String,
        /// The missing permissions, as a phrase ("create, alter").
        missing: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// The source data holds duplicate or NULL keys that block the upgrade.
    #[error("{target}: {summary}; run `transit db repair --delete` first (nothing was changed)")]
    NeedsRepair {
        /// The redacted URL.
        target: String,
        /// The offending tables and counts.
        summary: String,
    },
    /// `transit db check` found disabled constraints, indexes or triggers.
    #[error("{target}: {count} disabled object(s) found (see the check report)")]
    DisabledObjects {
        /// The redacted URL.
        target: String,
        /// How many.
        count: usize,
    },
    /// A safety rule refused the operation before it changed anything.
    #[error("{0}")]
    Refused(String),
    /// The user stopped the operation.
    #[error("stopped by the user")]
    Cancelled,
    /// Any other database failure, with what was being done.
    #[error("{context}: {source}")]
    Sql {
        /// What Transit was doing.
        context: String,
        /// The driver's error.
        #[source]
        source: sqlx::Error,
    },
    /// The command line names something that does not exist.
    #[error("{0}")]
    Usage(String),
    /// A driver other than sqlx failed (rusqlite, mysql).
    #[error("{context}: {message}")]
    Driver {
        /// What Transit was doing.
        context: String,
        /// The driver's message.
        message: String,
    },
    /// A copy stopped on an error; the committed batches stay.
    #[error("copy of {table} stopped after {committed} committed rows: {cause}\n(committed batches are kept; continue with `transit db copy --resume {run}`)")]
    CopyStopped {
        /// The table.
        table: String,
        /// The run, for `--resume`.
        run: String,
        /// What happened (the database's message).
        cause: String,
        /// Rows committed in the table so far.
        committed: u64,
    },
    /// Validation found a table whose rows differ.
    #[error("validation of {table} failed: {detail}")]
    Validation {
        /// The table.
        table: String,
        /// Counts, checksums and the first differing key.
        detail: String,
    },
    /// A file could not be read.
    #[error(transparent)]
    Io(#[from] transit_core::PathIoError),
}

impl DbError {
    /// Wraps a driver error with what was being done.
    pub fn sql(context: impl Into<String>) -> impl FnOnce(sqlx::Error) -> DbError {
        let context = context.into();
        move |source| DbError::Sql { context, source }
    }
}

impl Kind for DbError {
    fn kind(&self) -> ErrorKind {
        match self {
            DbError::UnsupportedEngine { .. } => ErrorKind::DbUnsupported,
            DbError::BadUrl { .. } => ErrorKind::Usage,
            DbError::Unreachable { .. } => ErrorKind::DbUnreachable,
            DbError::Credentials { .. } => ErrorKind::DbCredentials,
            DbError::MissingDatabase { .. } => ErrorKind::DbMissing,
            DbError::WrongVersion { .. } => ErrorKind::DbVersion,
            DbError::Permission { .. } => ErrorKind::DbPermission,
            DbError::NeedsRepair { .. } => ErrorKind::DbNeedsRepair,
            DbError::DisabledObjects { .. } => ErrorKind::DbDisabledObjects,
            DbError::Refused(_) => ErrorKind::Refused,
            DbError::Usage(_) => ErrorKind::Usage,
            DbError::CopyStopped { .. } => ErrorKind::DbCopyStopped,
            DbError::Validation { .. } => ErrorKind::DbValidation,
            DbError::Driver { .. } => ErrorKind::Other,
            DbError::Cancelled => ErrorKind::Cancelled,
            DbError::Sql { .. } | DbError::Io(_) => ErrorKind::Other,
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = DbError> = std::result::Result<T, E>;
