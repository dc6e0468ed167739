//! The store's part for staged rollouts ([`crate::rollout`]): the
//! rollouts themselves and each machine's latest outcome per rollout.

use super::StoreError;
use crate::rollout::{Rollout, WaveSpec};
use async_trait::async_trait;

/// A machine's outcome on a rollout's update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The rollout.
    pub rollout_id: i64,
    /// The machine.
    pub machine_id: String,
    /// The machine's wave (0-based) when it reported.
    pub wave: usize,
    /// Installed (true) or failed to download or install (false).
    pub installed: bool,
    /// When (Unix seconds).
    pub time: i64,
}

/// Rollouts and their outcomes, in both stores.
#[async_trait]
pub trait RolloutStore {
    /// Creates a running rollout of `update_id` at its first wave; an
    /// update has at most one rollout.
    async fn create_rollout(
        &self,
        update_id: i64,
        waves: &[WaveSpec],
        now: i64,
    ) -> Result<Rollout, StoreError>;

    /// Every rollout, by ID.
    async fn rollouts(&self) -> Result<Vec<Rollout>, StoreError>;

    /// Saves `r` if nobody changed it since it was read (its `version`
    /// still stored), bumping the version; false when somebody did.
    async fn save_rollout(&self, r: &Rollout) -> Result<bool, StoreError>;

    /// Records outcomes; a machine's later outcome replaces its earlier one.
    async fn record_outcomes(&self, rows: &[Outcome]) -> Result<(), StoreError>;

    /// Per wave with outcomes: (wave, installed, failed).
    async fn outcome_counts(&self, rollout_id: i64) -> Result<Vec<(usize, u64, u64)>, StoreError>;

    /// Every machine's ID with its group's ID (the waves' sizes).
    async fn memberships(&self) -> Result<Vec<(String, i64)>, StoreError>;
}

/// A rollout as its JSON body column holds it (ID and version are columns).
pub(crate) fn body(r: &Rollout) -> String {
    serde_json::to_string(r).unwrap_or_default()
}

/// A rollout from its columns.
pub(crate) fn from_body(id: i64, version: i64, body: &str) -> Result<Rollout, StoreError> {
    let mut r: Rollout = super::parse_json("rollout", body)?;
    r.id = id;
    r.version = version;
    Ok(r)
}

/// A new rollout's first state.
pub(crate) fn fresh(id: i64, update_id: i64, waves: &[WaveSpec], now: i64) -> Rollout {
    Rollout {
        id,
        update_id,
        forgiven: vec![0; waves.len()],
        waves: waves.to_vec(),
        state: crate::rollout::RolloutState::Running,
        current: 0,
        awaiting_approval: false,
        reason: String::new(),
        version: 1,
        created: now,
        updated: now,
    }
}
