//! The update provider (DESIGN.md §4, U-01, U-03, U-05, U-06): the server
//! side of the update service.
//!
//! - [`api`]: the versioned JSON shapes of the client and administration APIs;
//! - [`store`]: one [`store::Store`] interface, SQLite (default) and PostgreSQL;
//! - [`commit`]: the one writer that commits check-ins in groups;
//! - [`http`]: the routes (check-in, results, progress, downloads with
//!   Range, groups, machines, updates, report, activity);
//! - [`serve`]: the listener (TLS through rustls, connection cap with 503);
//! - [`report`]: offers and machine status as pure functions;
//! - [`rollout`]: staged rollouts as pure functions (waves, thresholds),
//!   and [`rollout_engine`], their evaluator and commands over the store;
//! - [`bandwidth`]: per-group download slots and rate limits;
//! - [`client`]: a typed client of the API (the CLI and the load generator);
//! - [`simulate`]: the open-loop load generator;
//! - [`service`]: the provider as a service of `transit server start`.
//!
//! Nothing here prints; every error answers [`transit_core::Kind`].

pub mod api;
pub mod bandwidth;
pub mod client;
pub mod commit;
pub mod config;
pub mod http;
pub mod report;
pub mod rollout;
pub mod rollout_engine;
pub mod serve;
pub mod service;
pub mod simulate;
pub mod state;
pub mod store;

pub use config::{Database, ProviderConfig, TlsFiles};

use state::{App, LoadMeter, ProgressBuffer};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use transit_core::{CancelToken, ErrorKind, Kind};
use transit_update::UpdateRepository;

/// Why the provider could not start (or stopped).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The data folder holds no repository.
    #[error(transparent)]
    Repo(#[from] transit_update::RepoError),
    /// The catalog could not be read.
    #[error(transparent)]
    Catalog(#[from] transit_update::store::StoreError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::StoreError),
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

impl Kind for ProviderError {
    fn kind(&self) -> ErrorKind {
        match self {
            ProviderError::Repo(e) => e.kind(),
            ProviderError::Catalog(e) => e.kind(),
            ProviderError::Store(e) => e.kind(),
            ProviderError::Bind { .. } => ErrorKind::Other,
            ProviderError::Tls(_) => ErrorKind::BadInput,
        }
    }
}

/// Opens the configured store.
pub async fn open_store(
    config: &ProviderConfig,
    repo: &UpdateRepository,
) -> Result<Arc<dyn Store>, ProviderError> {
    Ok(match &config.database {
        Database::Sqlite => Arc::new(store::sqlite::SqliteStore::open(&repo.store_path())?),
        Database::Postgres(url) => {
            use secrecy::ExposeSecret;
            Arc::new(store::postgres::PgStore::connect(url.expose_secret()).await?)
        }
    })
}

async fn background(app: Arc<App>, stop: CancelToken) {
    let mut second = tokio::time::interval(Duration::from_secs(1));
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = second.tick() => {}
        }
        app.load.roll();
        n += 1;
        if n.is_multiple_of(5) {
            flush_progress(&app).await;
            if let Err(e) = app.reload_catalog().await {
                tracing::warn!("catalog reload: {e}");
            }
            if let Err(e) = app.reload_groups().await {
                tracing::warn!("groups reload: {e}");
            }
        }
    }
}

/// Evaluates the rollouts every `rollout_tick`.
async fn rollouts(app: Arc<App>, stop: CancelToken) {
    let tick = app.config.rollout_tick.max(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(tick) => {}
        }
        if let Err(e) = rollout_engine::evaluate(&app).await {
            tracing::warn!("rollout evaluation: {e}");
        }
    }
}

async fn flush_progress(app: &App) {
    let rows = app
        .progress
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take_dirty();
    if !rows.is_empty() {
        if let Err(e) = app.store.save_progress(&rows).await {
            tracing::warn!("progress not saved: {e}");
        }
    }
}

/// Runs the provider until `stop` is cancelled: opens the repository and
/// the store, binds, calls `ready` with the bound address, serves, and
/// on stop lets open requests finish and commits what is queued.
pub async fn run(
    config: ProviderConfig,
    stop: CancelToken,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ProviderError> {
    let repo = UpdateRepository::open(&config.data)?;
    // The catalog's tables exist before anything reads them.
    transit_update::Store::open(&repo.store_path())?;
    let store = open_store(&config, &repo).await?;
    let tls = config.tls.as_ref().map(serve::tls_acceptor).transpose()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ProviderError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| ProviderError::Bind {
            addr: config.listen,
            source,
        })?;
    let (committer, writer) = commit::Committer::start(Arc::clone(&store));
    let max = config.max_connections;
    let app = Arc::new(App {
        config,
        repo,
        store: Arc::clone(&store),
        committer,
        catalog: Default::default(),
        groups: Default::default(),
        rollouts: Default::default(),
        downloads: Default::default(),
        progress: std::sync::Mutex::new(ProgressBuffer::default()),
        load: LoadMeter::default(),
        tokens: Default::default(),
        connections: Default::default(),
        paused_for: Default::default(),
    });
    app.reload_catalog().await?;
    app.reload_groups().await?;
    // Rollouts gate offers: loaded before the first check-in is answered.
    rollout_engine::evaluate(&app).await?;
    tracing::info!(%addr, store = %store.describe(), tls = tls.is_some(), "update provider listening");
    ready(addr);
    let bg = tokio::spawn(background(Arc::clone(&app), stop.clone()));
    let evaluator = tokio::spawn(rollouts(Arc::clone(&app), stop.clone()));
    serve::accept_loop(
        listener,
        http::router(Arc::clone(&app)),
        tls,
        max,
        Arc::clone(&app.connections),
        stop.cancelled(),
    )
    .await;
    let _ = bg.await;
    let _ = evaluator.await;
    flush_progress(&app).await;
    drop(app);
    let _ = tokio::time::timeout(Duration::from_secs(10), writer).await;
    tracing::info!("update provider stopped");
    Ok(())
}
