//! The store's part for switchover pairs ([`crate::switchover`]): every
//! machine with its secret's hash, read out of one store and joined into
//! another, where the newest contact wins; and activity entries joined
//! without doubling the ones already there.

use super::{ActivityRow, StoreError};
use async_trait::async_trait;

/// A machine with everything its row holds, for moving between stores.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineExport {
    /// The machine's ID.
    pub id: String,
    /// SHA-256 (hex) of its secret.
    pub token_hash: String,
    /// Its name.
    pub name: String,
    /// Its IP address.
    pub ip: String,
    /// Its group's name.
    pub group: String,
    /// It is the CIC server.
    pub cic_server: bool,
    /// Installed applications (stored JSON).
    pub installed: String,
    /// Errors (stored JSON).
    pub errors: String,
    /// It needs a restart.
    pub restart_required: bool,
    /// First contact (Unix seconds).
    pub first_contact: i64,
    /// Last contact (Unix seconds).
    pub last_contact: i64,
    /// Check-ins made.
    pub checkins: i64,
}

/// What joining machines into a store did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MachineCounts {
    /// Machines that were not there.
    pub added: u64,
    /// Machines there, replaced by a newer contact (their check-ins added up).
    pub replaced: u64,
    /// Machines there with a newer (or the same) contact, kept as they were.
    pub kept: u64,
    /// Machines removed as duplicates: another machine of the same name
    /// (any case) had a newer contact.
    pub duplicates_removed: u64,
}

/// Reading out and joining in, in both stores.
#[async_trait]
pub trait TransferStore {
    /// Every machine, by ID.
    async fn export_machines(&self) -> Result<Vec<MachineExport>, StoreError>;

    /// Joins machines in, in one transaction: a machine not there is
    /// added (into its group by name, else the default group); one there
    /// is replaced only by a newer last contact. Then, of machines with
    /// the same name, only the one with the newest contact stays.
    async fn import_machines(&self, rows: &[MachineExport]) -> Result<MachineCounts, StoreError>;

    /// Appends activity entries that are not there already (same time,
    /// machine, application, release, patch, status and description);
    /// returns how many were added.
    async fn import_activity(&self, rows: &[ActivityRow]) -> Result<u64, StoreError>;
}
