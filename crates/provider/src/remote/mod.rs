//! The remote provider (U-01's "remote" kind): a per-site cache with no
//! console and no store of its own (`transit update provider --kind remote
//! --upstream URL`).
//!
//! - [`cache`]: TUF metadata and payloads, pulled from upstream once
//!   however many of the site's clients ask ([`cache::Cache`]), verified
//!   against the SHA-256 in their names, and served with Range. When
//!   upstream cannot be reached, the cache serves what it holds, as a
//!   mirror does: the clients' own TUF checks then refuse metadata that
//!   has expired.
//! - [`relay`]: check-ins, results and progress are relayed upstream, so
//!   the local provider's report sees every machine. When upstream is down
//!   a check-in or result is kept in the outbox ([`outbox::Outbox`],
//!   committed before the reply) and relayed when upstream is back; the
//!   client is answered from the last reply upstream gave that machine.

pub mod cache;
pub mod outbox;
pub mod relay;

use crate::serve;
use crate::TlsFiles;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;
use transit_core::{CancelToken, ErrorKind, Kind};

/// A remote provider's settings.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// The data folder: the cache and `remote.db` (the outbox).
    pub data: PathBuf,
    /// The upstream provider's URL (`http://hq:8092`).
    pub upstream: String,
    /// A PEM certificate to trust for upstream, beside the system's roots.
    pub upstream_ca: Option<PathBuf>,
    /// Where to listen.
    pub listen: SocketAddr,
    /// TLS, when given.
    pub tls: Option<TlsFiles>,
    /// Open connections served at once.
    pub max_connections: usize,
    /// How long a fetched `timestamp.json` (and the other unversioned
    /// metadata) is served before it is fetched again.
    pub metadata_ttl: Duration,
    /// How long one relayed request may take before upstream counts as down.
    pub relay_timeout: Duration,
    /// How often the outbox is retried while upstream is down.
    pub retry_every: Duration,
}

impl RemoteConfig {
    /// Defaults: port 8092, metadata fetched again after 60 s, relays time
    /// out after 10 s, the outbox retried every 15 s.
    pub fn new(data: PathBuf, upstream: String) -> RemoteConfig {
        RemoteConfig {
            data,
            upstream: upstream.trim_end_matches('/').to_string(),
            upstream_ca: None,
            listen: SocketAddr::from(([0, 0, 0, 0], crate::config::DEFAULT_PORT)),
            tls: None,
            max_connections: 1024,
            metadata_ttl: Duration::from_secs(60),
            relay_timeout: Duration::from_secs(10),
            retry_every: Duration::from_secs(15),
        }
    }
}

/// Why a remote provider could not start.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    /// The upstream URL or its certificate is unusable.
    #[error("upstream: {0}")]
    Upstream(String),
    /// The data folder could not be used.
    #[error(transparent)]
    Io(#[from] transit_core::PathIoError),
    /// The outbox could not be opened.
    #[error(transparent)]
    Outbox(#[from] outbox::OutboxError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
    /// The certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] serve::TlsError),
}

impl Kind for RemoteError {
    fn kind(&self) -> ErrorKind {
        match self {
            RemoteError::Upstream(_) | RemoteError::Tls(_) => ErrorKind::Usage,
            RemoteError::Io(_) | RemoteError::Bind { .. } => ErrorKind::Other,
            RemoteError::Outbox(e) => e.kind(),
        }
    }
}

/// What the remote's handlers share.
#[derive(Debug)]
pub struct Remote {
    /// The settings.
    pub config: RemoteConfig,
    /// The HTTP client for upstream.
    pub http: reqwest::Client,
    /// Metadata and payloads.
    pub cache: cache::Cache,
    /// Check-ins and results waiting for upstream, and the last replies.
    pub outbox: outbox::Outbox,
    /// Upstream answered the last request (or the last retry).
    pub upstream_up: std::sync::atomic::AtomicBool,
    /// When upstream last answered (Unix seconds; 0: never).
    pub last_contact: AtomicU64,
    /// Requests relayed upstream since start.
    pub relayed: AtomicU64,
    /// Check-ins answered from the last reply while upstream was down.
    pub answered_from_cache: AtomicU64,
    /// Connections open now.
    pub connections: Arc<AtomicU64>,
    /// Wakes the outbox's relay (upstream answered).
    pub wake: tokio::sync::Notify,
}

impl Remote {
    /// Notes that upstream answered (or did not).
    pub fn upstream(&self, up: bool) {
        use std::sync::atomic::Ordering;
        self.upstream_up.store(up, Ordering::Relaxed);
        if up {
            let now = transit_core::time::now().unix_timestamp().max(0) as u64;
            self.last_contact.store(now, Ordering::Relaxed);
        }
    }

    /// The remote's figures, for `GET /v1/status`.
    pub fn stats(&self) -> crate::api::RemoteStats {
        use std::sync::atomic::Ordering;
        crate::api::RemoteStats {
            upstream: self.config.upstream.clone(),
            upstream_reachable: self.upstream_up.load(Ordering::Relaxed),
            last_upstream_contact: self.last_contact.load(Ordering::Relaxed),
            target_fetches: self.cache.target_fetches(),
            metadata_fetches: self.cache.metadata_fetches(),
            cached_targets: self.cache.cached_targets(),
            outbox: self.outbox.len().unwrap_or(0),
            relayed: self.relayed.load(Ordering::Relaxed),
            answered_from_cache: self.answered_from_cache.load(Ordering::Relaxed),
        }
    }
}

/// The HTTP client for upstream.
fn upstream_client(config: &RemoteConfig) -> Result<reqwest::Client, RemoteError> {
    let u = &config.upstream;
    if !(u.starts_with("http://") || u.starts_with("https://")) || url::Url::parse(u).is_err() {
        return Err(RemoteError::Upstream(format!(
            "`{u}` is not a provider URL (http://host:8092 or https://…)"
        )));
    }
    let mut builder = reqwest::Client::builder()
        .connect_timeout(config.relay_timeout.min(Duration::from_secs(10)))
        .tcp_nodelay(true);
    if let Some(ca) = &config.upstream_ca {
        let pem = std::fs::read(ca)
            .map_err(|e| RemoteError::Upstream(format!("{}: {e}", ca.display())))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| RemoteError::Upstream(format!("{}: {e}", ca.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build()
        .map_err(|e| RemoteError::Upstream(e.to_string()))
}

/// The remote's routes: the client API relayed, the repository cached,
/// and its status.
pub fn router(remote: Arc<Remote>) -> Router {
    Router::new()
        .route("/v1/checkin", post(relay::checkin))
        .route("/v1/results", post(relay::results))
        .route("/v1/progress", post(relay::progress))
        .route("/v1/status", get(relay::status))
        .route("/v1/repository/metadata/{file}", get(cache::metadata))
        .route("/v1/repository/targets/{*path}", get(cache::target))
        .fallback(|| async {
            crate::http::error::ApiError::not_found(
                "no such API path (a remote provider serves the client API, the repository and /v1/status)",
            )
        })
        .layer(DefaultBodyLimit::max(crate::api::MAX_BODY))
        .with_state(remote)
}

/// Runs a remote provider until `stop` is cancelled: opens the cache and
/// outbox, binds, calls `ready`, serves, and relays the outbox while
/// upstream is reachable.
pub async fn run(
    config: RemoteConfig,
    stop: CancelToken,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), RemoteError> {
    use transit_core::IoContext;
    std::fs::create_dir_all(&config.data).at(&config.data)?;
    let http = upstream_client(&config)?;
    let cache = cache::Cache::open(&config.data.join("cache"))?;
    let outbox = outbox::Outbox::open(&config.data.join("remote.db"))?;
    let tls = config.tls.as_ref().map(serve::tls_acceptor).transpose()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| RemoteError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| RemoteError::Bind {
        addr: config.listen,
        source,
    })?;
    let max = config.max_connections;
    let remote = Arc::new(Remote {
        config,
        http,
        cache,
        outbox,
        upstream_up: Default::default(),
        last_contact: Default::default(),
        relayed: Default::default(),
        answered_from_cache: Default::default(),
        connections: Default::default(),
        wake: Default::default(),
    });
    tracing::info!(%addr, upstream = %remote.config.upstream, "remote update provider listening");
    ready(addr);
    let drain = tokio::spawn(relay::drain_loop(Arc::clone(&remote), stop.clone()));
    serve::accept_loop(
        listener,
        router(Arc::clone(&remote)),
        tls,
        max,
        Arc::clone(&remote.connections),
        stop.cancelled(),
    )
    .await;
    let _ = drain.await;
    tracing::info!("remote update provider stopped");
    Ok(())
}
