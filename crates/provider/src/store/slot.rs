//! [`StoreSlot`]: the store a running provider uses, which a switchover
//! (Manage Database's Copy, Use or Merge) can replace while it serves.
//! It is itself a [`Store`] that hands every call to the store in the
//! slot at the time of the call; a call already running finishes on the
//! store it started on.

use super::transfer::{MachineCounts, MachineExport, TransferStore};
use super::*;
use crate::rollout::{Rollout, WaveSpec};
use std::sync::{Arc, RwLock};

/// The store in use, replaceable.
pub struct StoreSlot(RwLock<Arc<dyn Store>>);

impl std::fmt::Debug for StoreSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreSlot({})", self.current().describe())
    }
}

impl StoreSlot {
    /// A slot holding `store`.
    pub fn new(store: Arc<dyn Store>) -> StoreSlot {
        StoreSlot(RwLock::new(store))
    }

    /// The store in the slot now.
    pub fn current(&self) -> Arc<dyn Store> {
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Puts `store` in the slot; returns the one it replaces.
    pub fn replace(&self, store: Arc<dyn Store>) -> Arc<dyn Store> {
        std::mem::replace(
            &mut *self.0.write().unwrap_or_else(|p| p.into_inner()),
            store,
        )
    }
}

#[async_trait]
impl RolloutStore for StoreSlot {
    async fn create_rollout(
        &self,
        update_id: i64,
        waves: &[WaveSpec],
        now: i64,
    ) -> Result<Rollout, StoreError> {
        self.current().create_rollout(update_id, waves, now).await
    }
    async fn rollouts(&self) -> Result<Vec<Rollout>, StoreError> {
        self.current().rollouts().await
    }
    async fn save_rollout(&self, r: &Rollout) -> Result<bool, StoreError> {
        self.current().save_rollout(r).await
    }
    async fn record_outcomes(&self, rows: &[Outcome]) -> Result<(), StoreError> {
        self.current().record_outcomes(rows).await
    }
    async fn outcome_counts(&self, rollout_id: i64) -> Result<Vec<(usize, u64, u64)>, StoreError> {
        self.current().outcome_counts(rollout_id).await
    }
    async fn memberships(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.current().memberships().await
    }
}

#[async_trait]
impl TransferStore for StoreSlot {
    async fn export_machines(&self) -> Result<Vec<MachineExport>, StoreError> {
        self.current().export_machines().await
    }
    async fn import_machines(&self, rows: &[MachineExport]) -> Result<MachineCounts, StoreError> {
        self.current().import_machines(rows).await
    }
    async fn import_activity(&self, rows: &[ActivityRow]) -> Result<u64, StoreError> {
        self.current().import_activity(rows).await
    }
}

#[async_trait]
impl Store for StoreSlot {
    fn describe(&self) -> String {
        self.current().describe()
    }
    fn commit_parallelism(&self) -> usize {
        self.current().commit_parallelism()
    }
    async fn commit_checkins(&self, batch: &[CheckInRecord]) -> Result<Vec<Committed>, StoreError> {
        self.current().commit_checkins(batch).await
    }
    async fn token_hash(&self, machine_id: &str) -> Result<Option<String>, StoreError> {
        self.current().token_hash(machine_id).await
    }
    async fn groups(&self) -> Result<Vec<GroupRow>, StoreError> {
        self.current().groups().await
    }
    async fn create_group(
        &self,
        name: &str,
        settings: &GroupSettings,
    ) -> Result<GroupRow, StoreError> {
        self.current().create_group(name, settings).await
    }
    async fn set_group_settings(
        &self,
        name: &str,
        settings: &GroupSettings,
    ) -> Result<GroupRow, StoreError> {
        self.current().set_group_settings(name, settings).await
    }
    async fn delete_group(&self, name: &str) -> Result<u64, StoreError> {
        self.current().delete_group(name).await
    }
    async fn move_machines(&self, ids: &[String], group: &str) -> Result<u64, StoreError> {
        self.current().move_machines(ids, group).await
    }
    async fn machines(&self, query: &MachineQuery) -> Result<Vec<MachineRow>, StoreError> {
        self.current().machines(query).await
    }
    async fn report_inputs(&self, since: Option<i64>) -> Result<Vec<ReportInput>, StoreError> {
        self.current().report_inputs(since).await
    }
    async fn machine(&self, id: &str) -> Result<Option<MachineRow>, StoreError> {
        self.current().machine(id).await
    }
    async fn count_machines(&self) -> Result<u64, StoreError> {
        self.current().count_machines().await
    }
    async fn log(&self, entries: &[ActivityRow]) -> Result<(), StoreError> {
        self.current().log(entries).await
    }
    async fn activity(&self, query: &ActivityQuery) -> Result<(Vec<Activity>, u64), StoreError> {
        self.current().activity(query).await
    }
    async fn clear_activity(&self) -> Result<u64, StoreError> {
        self.current().clear_activity().await
    }
    async fn save_progress(&self, rows: &[ProgressRow]) -> Result<(), StoreError> {
        self.current().save_progress(rows).await
    }
    async fn progress(&self, machine_id: &str) -> Result<Vec<ProgressRow>, StoreError> {
        self.current().progress(machine_id).await
    }
    async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        self.current().users().await
    }
    async fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError> {
        self.current().password_hash(name).await
    }
    async fn peers(&self) -> Result<Vec<String>, StoreError> {
        self.current().peers().await
    }
    async fn apply_access(&self, changes: &AccessChanges) -> Result<(), StoreError> {
        self.current().apply_access(changes).await
    }
}
