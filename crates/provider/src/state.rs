//! The provider's shared state: the store, the writer, and in-memory
//! views of the catalog and the groups that check-ins read.

use crate::commit::Committer;
use crate::config::ProviderConfig;
use crate::rollout::Rollout;
use crate::store::{GroupRow, ProgressRow, Store, StoreError};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use transit_update::applicability::CatalogEntry;
use transit_update::store::StoredUpdate;
use transit_update::UpdateRepository;

/// The catalog as check-ins read it.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Every update.
    pub updates: Vec<StoredUpdate>,
    /// The same, as applicability takes it.
    pub entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// The update with catalog ID `id`.
    pub fn get(&self, id: i64) -> Option<&StoredUpdate> {
        self.updates.iter().find(|u| u.id == id)
    }
}

/// The latest progress per machine and update, waiting to be written.
#[derive(Debug, Default)]
pub struct ProgressBuffer {
    latest: HashMap<(String, i64), (Instant, ProgressRow)>,
    dirty: Vec<(String, i64)>,
}

impl ProgressBuffer {
    /// Records `row`; returns false when it was coalesced with one less
    /// than `min_gap` older (only the latest is kept either way).
    pub fn record(&mut self, row: ProgressRow, min_gap: Duration) -> bool {
        let key = (row.machine_id.clone(), row.update_id);
        let now = Instant::now();
        match self.latest.get_mut(&key) {
            Some((at, old)) => {
                let fresh = now.duration_since(*at) >= min_gap;
                if !self.dirty.contains(&key) {
                    self.dirty.push(key);
                }
                *old = row;
                if fresh {
                    *at = now;
                }
                fresh
            }
            None => {
                self.latest.insert(key.clone(), (now, row));
                self.dirty.push(key);
                true
            }
        }
    }

    /// The rows changed since the last call.
    pub fn take_dirty(&mut self) -> Vec<ProgressRow> {
        let keys = std::mem::take(&mut self.dirty);
        keys.iter()
            .filter_map(|k| self.latest.get(k).map(|(_, r)| r.clone()))
            .collect()
    }
}

/// Check-ins per second, over the last whole second.
#[derive(Debug, Default)]
pub struct LoadMeter {
    counting: AtomicU64,
    last_rate: AtomicU64,
}

impl LoadMeter {
    /// Counts one check-in.
    pub fn tick(&self) {
        self.counting.fetch_add(1, Ordering::Relaxed);
    }

    /// Ends a one-second window.
    pub fn roll(&self) {
        let n = self.counting.swap(0, Ordering::Relaxed);
        self.last_rate.store(n, Ordering::Relaxed);
    }

    /// Check-ins in the last whole second.
    pub fn rate(&self) -> u64 {
        self.last_rate.load(Ordering::Relaxed)
    }
}

/// Everything a handler needs.
pub struct App {
    /// The settings.
    pub config: ProviderConfig,
    /// The repository (metadata and payloads served).
    pub repo: UpdateRepository,
    /// The store: [`App::slot`], seen through the [`Store`] interface.
    pub store: Arc<dyn Store>,
    /// The store in use, which Manage Database can replace while serving.
    pub slot: Arc<crate::store::StoreSlot>,
    /// The one writer of check-ins.
    pub committer: Committer,
    /// The catalog, reloaded every few seconds and after changes.
    pub catalog: RwLock<Arc<Catalog>>,
    /// The groups by ID, reloaded every few seconds and after changes.
    pub groups: RwLock<Arc<HashMap<i64, GroupRow>>>,
    /// The rollouts, reloaded at every evaluation (see [`crate::rollout_engine`]).
    pub rollouts: RwLock<Arc<Vec<Rollout>>>,
    /// Per-group download limits and counters (see [`crate::bandwidth`]).
    pub downloads: crate::bandwidth::Downloads,
    /// Progress waiting to be written.
    pub progress: Mutex<ProgressBuffer>,
    /// Check-ins per second.
    pub load: LoadMeter,
    /// Machine secrets seen recently (ID → hash), for results and progress.
    pub tokens: Mutex<HashMap<String, String>>,
    /// Connections open now.
    pub connections: Arc<AtomicU64>,
    /// Set to the CIC server's machine ID while its own update client is
    /// in Manual mode (as of its last check-in): downloads to the other
    /// clients are paused then, as the vendor's Manual mode on the CIC
    /// server does.
    pub paused_for: Mutex<Option<String>>,
    /// The peer providers (Configuration page), reloaded with the groups:
    /// every check-in's provider list ends with them.
    pub peers: RwLock<Arc<Vec<String>>>,
    /// The console's sessions and failed logins.
    pub console: crate::console::auth::Auth,
    /// Payload requests admitted since start.
    pub targets_served: AtomicU64,
}

impl App {
    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        Arc::clone(&self.catalog.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The current rollouts.
    pub fn rollouts(&self) -> Arc<Vec<Rollout>> {
        Arc::clone(&self.rollouts.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The current groups.
    pub fn groups(&self) -> Arc<HashMap<i64, GroupRow>> {
        Arc::clone(&self.groups.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Reloads the catalog from `provider.db`.
    pub async fn reload_catalog(&self) -> Result<(), transit_update::store::StoreError> {
        let path = self.repo.store_path();
        let at = path.clone();
        let updates = tokio::task::spawn_blocking(move || {
            transit_update::Store::open(&path).and_then(|s| s.updates())
        })
        .await
        .map_err(|e| transit_update::store::StoreError::Corrupt {
            path: at,
            id: 0,
            problem: e.to_string(),
        })??;
        let entries = updates
            .iter()
            .map(|u| CatalogEntry {
                id: u.id,
                manifest: u.manifest.clone(),
                state: u.state,
            })
            .collect();
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) =
            Arc::new(Catalog { updates, entries });
        Ok(())
    }

    /// The current peer providers.
    pub fn peers(&self) -> Arc<Vec<String>> {
        Arc::clone(&self.peers.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Reloads the groups (and the peer providers) from the store.
    pub async fn reload_groups(&self) -> Result<(), StoreError> {
        let groups = self.store.groups().await?;
        let peers = self.store.peers().await?;
        let map = groups.into_iter().map(|g| (g.id, g)).collect();
        *self.groups.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
        *self.peers.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(peers);
        Ok(())
    }
}
