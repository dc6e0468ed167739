//! The registry's error type.

use crate::path::PathError;
use crate::value::{InvalidValue, ValueKind};

/// Everything that can go wrong reading or writing a registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// A malformed key path.
    #[error(transparent)]
    Path(#[from] PathError),
    /// Value data Windows could not store.
    #[error("value `{name}` under `{key}`: {source}")]
    InvalidValue {
        /// The key.
        key: String,
        /// The value name (empty for the default value).
        name: String,
        /// What is wrong with the data.
        source: InvalidValue,
    },
    /// A value exists but has another type than the caller asked for.
    #[error("value `{name}` under `{key}` is {found}, not {expected}")]
    WrongType {
        /// The key.
        key: String,
        /// The value name.
        name: String,
        /// The type the caller asked for.
        expected: ValueKind,
        /// The type stored.
        found: ValueKind,
    },
    /// The key does not exist.
    #[error("key `{0}` does not exist")]
    KeyNotFound(String),
    /// The value does not exist.
    #[error("value `{name}` under `{key}` does not exist")]
    ValueNotFound {
        /// The key.
        key: String,
        /// The value name.
        name: String,
    },
    /// An operation that makes no sense, such as copying a tree into itself.
    #[error("{0}")]
    Invalid(String),
    /// Another process holds the database's write lock.
    #[error("the registry database is locked by another process ({0})")]
    Locked(String),
    /// The database file is damaged or is not a Transit registry.
    #[error("the registry database is corrupt or not a registry: {0}")]
    Corrupt(String),
    /// The registry database file does not exist.
    #[error("no registry database at {0}")]
    Missing(std::path::PathBuf),
    /// A `.reg` file could not be read or written.
    #[error(transparent)]
    RegFile(#[from] crate::regfile::RegFileError),
    /// A `.reg` key outside `HKEY_LOCAL_MACHINE\SOFTWARE\Interactive Intelligence`.
    #[error("line {line}: key `{path}` is outside {}", crate::interop::ROOT_PREFIX)]
    OutsideRoot {
        /// The line of the key header.
        line: u64,
        /// The key path as written.
        path: String,
    },
    /// A `.reg` key path that is not a valid key path.
    #[error("line {line}: {source}")]
    BadKeyLine {
        /// The line of the key header.
        line: u64,
        /// What is wrong with the path.
        source: PathError,
    },
    /// A `.reg` value whose data Windows could not store.
    #[error("line {line}: {source}")]
    BadValueLine {
        /// The line of the value.
        line: u64,
        /// What is wrong.
        source: InvalidValue,
    },
    /// Any other SQLite failure.
    #[error("registry database error: {0}")]
    Sqlite(rusqlite::Error),
    /// An I/O failure.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<rusqlite::Error> for RegistryError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match err.sqlite_error_code() {
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
                RegistryError::Locked(err.to_string())
            }
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
                RegistryError::Corrupt(err.to_string())
            }
            _ => RegistryError::Sqlite(err),
        }
    }
}

impl RegistryError {
    /// True when SQLite (or a file write) reported a full disk.
    pub fn is_disk_full(&self) -> bool {
        match self {
            RegistryError::Io(e) => transit_core::error::is_disk_full(e),
            RegistryError::Sqlite(e) => {
                e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
            }
            _ => false,
        }
    }

    /// True when SQLite reported a disk I/O error (which is how a failed
    /// write to its WAL or shared-memory file on a full disk shows).
    pub fn is_disk_io_error(&self) -> bool {
        matches!(self, RegistryError::Sqlite(e)
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::SystemIoFailure))
    }
}

/// The registry's result type.
pub type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl transit_core::Kind for RegistryError {
    fn kind(&self) -> transit_core::ErrorKind {
        use transit_core::ErrorKind;
        match self {
            RegistryError::RegFile(e) => e.kind(),
            RegistryError::OutsideRoot { .. }
            | RegistryError::BadKeyLine { .. }
            | RegistryError::BadValueLine { .. }
            | RegistryError::Corrupt(_) => ErrorKind::BadInput,
            RegistryError::Path(_) | RegistryError::InvalidValue { .. } => ErrorKind::Usage,
            _ => ErrorKind::Other,
        }
    }
}
