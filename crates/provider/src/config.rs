//! What a provider runs with.

use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use transit_update::ServerLevel;

/// The default port (the vendor's).
pub const DEFAULT_PORT: u16 = 8092;

/// The update client's own application name (the speedbump's).
pub const CLIENT_APP: &str = "Interactive Update Client";

/// Where the store lives.
#[derive(Debug, Clone)]
pub enum Database {
    /// `provider.db` in the data folder (the default).
    Sqlite,
    /// A PostgreSQL URL (`postgres://…`), held as a secret: it may carry a
    /// password (better kept in `PGPASSWORD` or `~/.pgpass`).
    Postgres(SecretString),
}

impl Database {
    /// `None` or `sqlite` for the data folder's SQLite file, else a
    /// `postgres://` (or `postgresql://`) URL.
    pub fn parse(text: Option<&str>) -> Result<Database, String> {
        match text {
            None | Some("sqlite") | Some("") => Ok(Database::Sqlite),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Database::Postgres(SecretString::from(url)))
            }
            Some(other) => Err(format!(
                "`{}` is not a provider database (sqlite, or a postgres:// URL)",
                other.split('@').next_back().unwrap_or(other)
            )),
        }
    }
}

/// TLS: a PEM certificate chain and its PEM private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// A provider's settings.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The data folder (repository, keys, `provider.db`).
    pub data: PathBuf,
    /// The store.
    pub database: Database,
    /// The address to listen on.
    pub listen: SocketAddr,
    /// TLS, when given.
    pub tls: Option<TlsFiles>,
    /// The CIC server's release and patch: the version gate.
    pub server: ServerLevel,
    /// The update client's application name.
    pub client_app: String,
    /// The shortest check-in interval a machine is given.
    pub check_min: Duration,
    /// The longest check-in interval a machine is given (before stretching).
    pub check_max: Duration,
    /// Check-ins per second the provider takes before it stretches the
    /// intervals it hands out.
    pub capacity: f64,
    /// Open connections served at once; more get 503 with Retry-After.
    pub max_connections: usize,
    /// Serve the administration API to other hosts too (by default only
    /// loopback clients may use it).
    pub admin_remote: bool,
    /// How often running rollouts are evaluated (and reloaded, for
    /// providers sharing a store).
    pub rollout_tick: Duration,
}

impl ProviderConfig {
    /// Defaults for a data folder and a version gate: port 8092, SQLite,
    /// check-ins every 30 to 60 minutes, 1,000 check-ins/s before
    /// stretching, 1,024 connections.
    pub fn new(data: PathBuf, server: ServerLevel) -> ProviderConfig {
        ProviderConfig {
            data,
            database: Database::Sqlite,
            listen: SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT)),
            tls: None,
            server,
            client_app: CLIENT_APP.to_string(),
            check_min: Duration::from_secs(30 * 60),
            check_max: Duration::from_secs(60 * 60),
            capacity: 1000.0,
            max_connections: 1024,
            admin_remote: false,
            rollout_tick: Duration::from_secs(2),
        }
    }
}
