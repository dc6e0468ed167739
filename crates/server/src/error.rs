//! The server crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong with a server root.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The server root directory does not exist.
    #[error("server root {0} does not exist (create one with `transit server init` or `transit server demo`)")]
    NoRoot(PathBuf),
    /// The directory exists but has no `server.toml`.
    #[error("{0} is not a server root: it has no server.toml")]
    NotARoot(PathBuf),
    /// `init` on a directory holding a machine key or registry of an earlier server.
    #[error("{0} is left from an earlier server (its server.toml is gone): move it away, or restore server.toml, before creating a server here")]
    Leftovers(PathBuf),
    /// `init` on a directory that already holds a server.
    #[error("{0} already holds a server (server.toml exists)")]
    AlreadyExists(PathBuf),
    /// `server.toml` is malformed, incomplete or has invalid fields.
    #[error("invalid {path}: {reason}")]
    BadIdentity {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the field.
        reason: String,
    },
    /// The server service holds the lock.
    #[error("service already running (pid {pid})")]
    ServiceRunning {
        /// The service's process ID.
        pid: u32,
    },
    /// `stop` when no service runs.
    #[error("the server service is not running")]
    ServiceNotRunning,
    /// The machine key is missing, malformed, or not this server's.
    #[error("machine key: {0}")]
    MachineKey(String),
    /// A secret could not be decrypted with this server's machine key.
    #[error("secret cannot be decrypted with this server's machine key (it was encrypted on another machine or is damaged)")]
    SecretUndecryptable,
    /// A registry failure.
    #[error(transparent)]
    Registry(#[from] transit_registry::RegistryError),
    /// An I/O failure, with the path involved.
    #[error(transparent)]
    Io(#[from] transit_core::PathIoError),
}

impl transit_core::Kind for ServerError {
    fn kind(&self) -> transit_core::ErrorKind {
        use transit_core::ErrorKind;
        match self {
            ServerError::ServiceRunning { .. } => ErrorKind::ServiceRunning,
            ServerError::BadIdentity { .. } => ErrorKind::BadInput,
            ServerError::AlreadyExists(_) | ServerError::Leftovers(_) => ErrorKind::Refused,
            ServerError::Registry(r) => r.kind(),
            _ => ErrorKind::Other,
        }
    }
}

/// The server crate's result type.
pub type Result<T, E = ServerError> = std::result::Result<T, E>;
