//! The update provider (docs/update.md, U-01, U-03, U-05, U-06): the server
//! side of the update service.
//!
//! - [`api`]: the versioned JSON shapes of the client and administration APIs;
//! - [`store`]: one [`store::Store`] interface, SQLite (default) and PostgreSQL;
//! - [`commit`]: the one writer that commits check-ins in groups;
//! - [`http`]: the routes (check-in, results, progress, downloads with
//!   Range, groups, machines, updates, report, activity);
//! - [`discovery`]: UDP discovery answers and the registration in the server root;
//! - [`console`]: the web console under `/console/` (users, sessions, pages);
//! - [`remote`]: the remote kind, a site cache that relays upstream;
//! - [`serve`]: the listener (TLS through rustls, connection cap with 503);
//! - [`report`]: offers and machine status as pure functions;
//! - [`rollout`]: staged rollouts as pure functions (waves, thresholds),
//!   and [`rollout_engine`], their evaluator and commands over the store;
//! - [`bandwidth`]: per-group download slots and rate limits;
//! - [`client`]: a typed client of the API (the CLI and the load generator);
//! - [`simulate`]: the open-loop load generator;
//! - [`service`]: the provider as a service of `transit server start`;
//! - [`switchover`]: Manage Database's Copy, Use and Merge for a
//!   switchover pair sharing one PostgreSQL database;
//! - [`upkeep`]: re-signing the online roles and scanning the Auto update
//!   folders while the provider runs.
//!
//! Nothing here prints; every error answers [`transit_core::Kind`].

pub mod api;
pub mod bandwidth;
pub mod client;
pub mod commit;
pub mod config;
pub mod console;
pub mod discovery;
pub mod http;
pub mod priority;
pub mod remote;
pub mod report;
pub mod rollout;
pub mod rollout_engine;
pub mod serve;
pub mod service;
pub mod simulate;
pub mod state;
pub mod store;
pub mod switchover;
pub mod upkeep;

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

/// Opens the configured store (creating its tables if missing).
pub async fn open_store(
    database: &Database,
    repo: &UpdateRepository,
) -> Result<Arc<dyn Store>, ProviderError> {
    Ok(match database {
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

/// Adds the console's first authorized user (`transit update provider
/// init --admin NAME`): checks the name and password, hashes the password
/// with argon2 and stores it. A user of that name already there is refused.
pub async fn init_admin(
    data: &std::path::Path,
    database: &Database,
    name: &str,
    password: &secrecy::SecretString,
) -> Result<(), InitError> {
    use secrecy::ExposeSecret;
    console::auth::check_new_user(name, password.expose_secret()).map_err(InitError::BadUser)?;
    let repo = UpdateRepository::open(data)?;
    transit_update::Store::open(&repo.store_path()).map_err(ProviderError::from)?;
    let store = open_store(database, &repo).await?;
    let pw = password.expose_secret().to_string();
    let hash = tokio::task::spawn_blocking(move || console::auth::hash_password(&pw))
        .await
        .map_err(|e| InitError::BadUser(e.to_string()))?
        .map_err(InitError::BadUser)?;
    store
        .apply_access(&store::AccessChanges {
            add_users: vec![(name.trim().to_string(), hash)],
            ..Default::default()
        })
        .await
        .map_err(ProviderError::from)?;
    Ok(())
}

/// Why `provider init` failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The user name or password is not acceptable.
    #[error("{0}")]
    BadUser(String),
    /// The repository or store failed (or the user exists).
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl From<transit_update::RepoError> for InitError {
    fn from(e: transit_update::RepoError) -> InitError {
        InitError::Provider(e.into())
    }
}

impl Kind for InitError {
    fn kind(&self) -> ErrorKind {
        match self {
            InitError::BadUser(_) => ErrorKind::Usage,
            InitError::Provider(e) => e.kind(),
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
    let slot = Arc::new(store::StoreSlot::new(
        open_store(&config.database, &repo).await?,
    ));
    let store: Arc<dyn Store> = Arc::clone(&slot) as Arc<dyn Store>;
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
        slot,
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
        peers: Default::default(),
        console: Default::default(),
        targets_served: Default::default(),
    });
    app.reload_catalog().await?;
    app.reload_groups().await?;
    // Rollouts gate offers: loaded before the first check-in is answered.
    rollout_engine::evaluate(&app).await?;
    tracing::info!(%addr, store = %store.describe(), tls = tls.is_some(), "update provider listening");
    ready(addr);
    let discovery = match &app.config.discovery_key {
        None => None,
        Some(key) => {
            // Broadcasts arrive addressed to a broadcast address, so the
            // UDP socket listens on every address.
            let at = SocketAddr::from(([0, 0, 0, 0], app.config.discovery_port));
            let socket = tokio::net::UdpSocket::bind(at)
                .await
                .map_err(|source| ProviderError::Bind { addr: at, source })?;
            tracing::info!(%at, key, "answering discovery probes");
            Some(tokio::spawn(discovery::serve(
                socket,
                key.clone(),
                if tls.is_some() { "https" } else { "http" },
                addr.port(),
                app.config.advertise_url.clone(),
                stop.clone(),
            )))
        }
    };
    let bg = tokio::spawn(background(Arc::clone(&app), stop.clone()));
    let evaluator = tokio::spawn(rollouts(Arc::clone(&app), stop.clone()));
    let upkeep = upkeep::start(app.repo.clone(), app.config.upkeep.clone(), stop.clone());
    // Payload downloads on their own, lower-priority runtime (plain HTTP).
    let bulk = serve::bulk_runtime()
        .map_err(|e| tracing::warn!("downloads share the main runtime: {e}"))
        .ok();
    serve::accept_loop(
        listener,
        http::router(Arc::clone(&app)),
        tls,
        max,
        Arc::clone(&app.connections),
        bulk.as_ref().map(|r| r.handle().clone()),
        stop.cancelled(),
    )
    .await;
    if let Some(bulk) = bulk {
        bulk.shutdown_background();
    }
    let _ = bg.await;
    let _ = evaluator.await;
    if let Some(d) = discovery {
        let _ = d.await;
    }
    upkeep.stopped().await;
    flush_progress(&app).await;
    drop(app);
    let _ = tokio::time::timeout(Duration::from_secs(10), writer).await;
    tracing::info!("update provider stopped");
    Ok(())
}
