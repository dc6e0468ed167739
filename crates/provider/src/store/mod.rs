//! The provider's store: machines, groups, the activity log and progress.
//!
//! One interface, [`Store`], with two implementations that pass one
//! shared test suite: [`sqlite::SqliteStore`] (the default, in the data
//! folder's `provider.db`, beside the catalog) and
//! [`postgres::PgStore`] (a database a switchover pair or several
//! providers share). The update catalog itself stays in `provider.db`
//! with the TUF repository it describes.
//!
//! Check-ins reach a store only through [`commit_checkins`]
//! (`Store::commit_checkins`), a whole group at a time, from the one
//! writer in [`crate::commit`].

pub mod postgres;
pub mod sqlite;

pub use rollouts::{Outcome, RolloutStore};
mod rollouts;
pub mod slot;
pub mod transfer;
pub use slot::StoreSlot;
pub use transfer::{MachineCounts, MachineExport, TransferStore};

use crate::api::{GroupSettings, InstalledJson};
use async_trait::async_trait;
use serde::Serialize;
use std::path::PathBuf;
use transit_core::{ErrorKind, Kind};
use transit_update::store::{Activity, ActivityStatus};

/// The default group's ID and name.
pub const DEFAULT_GROUP_ID: i64 = 1;
/// The default group's name.
pub const DEFAULT_GROUP: &str = "Default";

/// A store operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("{}: {source}", .path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// PostgreSQL failed.
    #[error("PostgreSQL {what}: {source}")]
    Postgres {
        /// What was being done.
        what: &'static str,
        /// sqlx's error.
        source: sqlx::Error,
    },
    /// A stored value does not parse.
    #[error("stored {what} does not parse: {problem}")]
    Corrupt {
        /// What was read.
        what: &'static str,
        /// Why it does not parse.
        problem: String,
    },
    /// No group of that name.
    #[error("no group named `{0}`")]
    NoSuchGroup(String),
    /// A group of that name exists.
    #[error("a group named `{0}` exists")]
    GroupExists(String),
    /// The default group cannot be deleted.
    #[error("the default group cannot be deleted")]
    DefaultGroup,
    /// No machine with that ID.
    #[error("no machine with ID `{0}`")]
    NoSuchMachine(String),
    /// No rollout with that ID.
    #[error("no rollout with ID {0}")]
    NoSuchRollout(i64),
    /// The update already has a rollout.
    #[error("update {update_id} already has rollout {rollout_id} (one rollout per update)")]
    RolloutExists {
        /// The update's catalog ID.
        update_id: i64,
        /// The existing rollout.
        rollout_id: i64,
    },
    /// A blocking store task panicked or was cancelled.
    #[error("store task failed: {0}")]
    Task(String),
    /// An authorized user of that name exists.
    #[error("an authorized user named `{0}` exists")]
    UserExists(String),
    /// No authorized user of that name.
    #[error("no authorized user named `{0}`")]
    NoSuchUser(String),
    /// The change would leave the console without a user.
    #[error("the last authorized user cannot be removed (nobody could log on)")]
    LastUser,
    /// A peer provider of that name is listed.
    #[error("peer provider `{0}` is listed already")]
    PeerExists(String),
    /// No peer provider of that name.
    #[error("no peer provider `{0}`")]
    NoSuchPeer(String),
}

impl Kind for StoreError {
    fn kind(&self) -> ErrorKind {
        match self {
            StoreError::Sqlite { .. } | StoreError::Task(_) => ErrorKind::Other,
            StoreError::Postgres { source, .. } => match source {
                sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => {
                    ErrorKind::DbUnreachable
                }
                _ => ErrorKind::Other,
            },
            StoreError::Corrupt { .. } => ErrorKind::BadInput,
            StoreError::NoSuchGroup(_)
            | StoreError::NoSuchMachine(_)
            | StoreError::NoSuchUser(_)
            | StoreError::NoSuchPeer(_)
            | StoreError::NoSuchRollout(_) => ErrorKind::Usage,
            StoreError::GroupExists(_)
            | StoreError::DefaultGroup
            | StoreError::UserExists(_)
            | StoreError::LastUser
            | StoreError::PeerExists(_)
            | StoreError::RolloutExists { .. } => ErrorKind::Refused,
        }
    }
}

/// One check-in as the writer commits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckInRecord {
    /// The machine's ID.
    pub machine_id: String,
    /// SHA-256 (hex) of the machine's secret.
    pub token_hash: String,
    /// The machine's name.
    pub name: String,
    /// The machine's IP address.
    pub ip: String,
    /// The group the client asks for at its first check-in.
    pub group_hint: Option<String>,
    /// The machine is the CIC server.
    pub cic_server: bool,
    /// The installed applications (JSON array of [`InstalledJson`]).
    pub installed: String,
    /// The errors (JSON array of strings).
    pub errors: String,
    /// A restart is required.
    pub restart_required: bool,
    /// When (Unix seconds).
    pub time: i64,
}

/// What became of one check-in of a committed group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Committed {
    /// Written; the machine is in this group.
    Saved {
        /// The machine's group ID.
        group_id: i64,
    },
    /// Refused: the ID belongs to a machine with another secret.
    Claimed,
}

/// A group with its ID, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupRow {
    /// The group's ID.
    pub id: i64,
    /// The group's name.
    pub name: String,
    /// Its settings.
    pub settings: GroupSettings,
    /// How many machines it holds.
    pub members: u64,
}

impl GroupRow {
    /// True for the default group.
    pub fn is_default(&self) -> bool {
        self.id == DEFAULT_GROUP_ID
    }
}

/// A machine as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MachineRow {
    /// The machine's ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its IP address.
    pub ip: String,
    /// Its group's name.
    pub group: String,
    /// It is the CIC server.
    pub cic_server: bool,
    /// Its installed applications.
    pub installed: Vec<InstalledJson>,
    /// The errors it reported last.
    pub errors: Vec<String>,
    /// It needs a restart.
    pub restart_required: bool,
    /// First contact (Unix seconds).
    pub first_contact: i64,
    /// Last contact (Unix seconds).
    pub last_contact: i64,
    /// How many check-ins it made.
    pub checkins: i64,
}

/// A machine as the report reads it: the stored JSON left unparsed, so
/// the many machines with the same installed applications are assessed
/// once ([`crate::http::admin::build_report`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportInput {
    /// The machine's ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its group's name.
    pub group: String,
    /// The installed applications, as stored (JSON).
    pub installed: String,
    /// The errors it reported last, as stored (JSON).
    pub errors: String,
    /// It needs a restart.
    pub restart_required: bool,
    /// Last contact (Unix seconds).
    pub last_contact: i64,
    /// The name folded (the report's sort key).
    pub name_fold: String,
}

/// Which machines to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineQuery {
    /// The start of the name (any case), or of the IP address.
    pub search: Option<String>,
    /// Only this group's members.
    pub group: Option<String>,
    /// Names that contain this (any case): the members dialog.
    pub name_contains: Option<String>,
    /// IP addresses that contain this: the members dialog.
    pub ip_contains: Option<String>,
    /// Only machines whose last contact is at or after this (Unix seconds).
    pub since: Option<i64>,
    /// At most this many (0: no limit).
    pub limit: u64,
    /// Skip this many (ordered by name, then ID).
    pub offset: u64,
}

/// An activity column: sort and group keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActivityColumn {
    /// The time (grouped by day).
    Time,
    /// The machine.
    Machine,
    /// The application.
    Application,
    /// The release.
    Release,
    /// The patch.
    Patch,
    /// The status.
    Status,
}

impl ActivityColumn {
    /// The SQL column (a fixed name: never user text).
    pub fn sql(self) -> &'static str {
        match self {
            ActivityColumn::Time => "time",
            ActivityColumn::Machine => "machine",
            ActivityColumn::Application => "application",
            ActivityColumn::Release => "release",
            ActivityColumn::Patch => "patch",
            ActivityColumn::Status => "status",
        }
    }

    /// The group key of an entry under this column.
    pub fn key(self, a: &Activity) -> String {
        match self {
            ActivityColumn::Time => a.time.get(..10).unwrap_or(&a.time).to_string(),
            ActivityColumn::Machine => a.machine.clone(),
            ActivityColumn::Application => a.application.clone(),
            ActivityColumn::Release => a.release.clone(),
            ActivityColumn::Patch => a.patch.clone(),
            ActivityColumn::Status => a.status.as_str().to_string(),
        }
    }
}

impl std::str::FromStr for ActivityColumn {
    type Err = String;
    fn from_str(s: &str) -> Result<ActivityColumn, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "time" => ActivityColumn::Time,
            "machine" => ActivityColumn::Machine,
            "application" => ActivityColumn::Application,
            "release" => ActivityColumn::Release,
            "patch" => ActivityColumn::Patch,
            "status" => ActivityColumn::Status,
            _ => {
                return Err(format!(
                    "`{s}` is not an activity column (time, machine, application, release, patch, status)"
                ))
            }
        })
    }
}

/// Which activity entries to read, in which order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Sort by this column (ties by ID).
    pub sort: ActivityColumn,
    /// Newest / largest first.
    pub descending: bool,
    /// Order by this column first (the console's grouping).
    pub group_by: Option<ActivityColumn>,
    /// Only this machine's entries.
    pub machine: Option<String>,
    /// At most this many (0: no limit).
    pub limit: u64,
    /// Skip this many.
    pub offset: u64,
}

impl Default for ActivityQuery {
    fn default() -> ActivityQuery {
        ActivityQuery {
            sort: ActivityColumn::Time,
            descending: true,
            group_by: None,
            machine: None,
            limit: 50,
            offset: 0,
        }
    }
}

impl ActivityQuery {
    /// The `ORDER BY` clause (fixed column names only).
    pub fn order_by(&self) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        let mut parts = Vec::new();
        if let Some(g) = self.group_by {
            parts.push(format!("{} {dir}", g.sql()));
        }
        parts.push(format!("{} {dir}", self.sort.sql()));
        parts.push(format!("id {dir}"));
        parts.join(", ")
    }
}

/// A new activity entry (the store assigns the ID).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    /// When (RFC 3339, UTC).
    pub time: String,
    /// The machine.
    pub machine: String,
    /// The application.
    pub application: String,
    /// The release.
    pub release: String,
    /// The patch.
    pub patch: String,
    /// What happened.
    pub status: ActivityStatus,
    /// Details.
    pub description: String,
}

/// The latest progress of one machine on one update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProgressRow {
    /// The machine's ID.
    pub machine_id: String,
    /// The update's catalog ID.
    pub update_id: i64,
    /// `download` or `install`.
    pub phase: String,
    /// 0–100.
    pub percent: u8,
    /// When it was reported (Unix seconds).
    pub time: i64,
}

/// An authorized user of the console (the password hash stays in the store).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UserRow {
    /// The user name, as entered.
    pub name: String,
    /// When the user was added (Unix seconds).
    pub created: i64,
}

/// Changes to the authorized users and peer providers that the
/// Configuration page's Apply (or `provider init`) commits together: all
/// of them, or none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessChanges {
    /// Users to add: name and argon2 PHC hash.
    pub add_users: Vec<(String, String)>,
    /// Users to remove (by name, any case).
    pub remove_users: Vec<String>,
    /// Peer providers to add (`host`, `host:port` or a URL), appended in order.
    pub add_peers: Vec<String>,
    /// Peer providers to remove.
    pub remove_peers: Vec<String>,
}

/// The provider's store.
#[async_trait]
pub trait Store: RolloutStore + TransferStore + Send + Sync + 'static {
    /// What it is, for logs (no password).
    fn describe(&self) -> String;

    /// How many check-in groups may commit at once (see
    /// [`crate::commit`]); one unless the store has concurrent writers.
    fn commit_parallelism(&self) -> usize {
        1
    }

    /// Commits a group of check-ins in one transaction, one outcome per
    /// record in order. Machine IDs in one group are distinct, and never
    /// in another group committing at the same time.
    async fn commit_checkins(&self, batch: &[CheckInRecord]) -> Result<Vec<Committed>, StoreError>;

    /// The stored secret hash of a machine.
    async fn token_hash(&self, machine_id: &str) -> Result<Option<String>, StoreError>;

    /// Every group with its member count, the default group first, then by name.
    async fn groups(&self) -> Result<Vec<GroupRow>, StoreError>;

    /// Creates a group.
    async fn create_group(
        &self,
        name: &str,
        settings: &GroupSettings,
    ) -> Result<GroupRow, StoreError>;

    /// Replaces a group's settings (the default group's too).
    async fn set_group_settings(
        &self,
        name: &str,
        settings: &GroupSettings,
    ) -> Result<GroupRow, StoreError>;

    /// Deletes a group, moving its members to the default group; returns
    /// how many moved.
    async fn delete_group(&self, name: &str) -> Result<u64, StoreError>;

    /// Moves machines into a group (out of whichever they were in);
    /// returns how many moved. Unknown IDs are an error and nothing moves.
    async fn move_machines(&self, ids: &[String], group: &str) -> Result<u64, StoreError>;

    /// Machines, by name then ID.
    async fn machines(&self, query: &MachineQuery) -> Result<Vec<MachineRow>, StoreError>;

    /// Every machine last seen at or after `since` (all without it), for
    /// the report, in no particular order.
    async fn report_inputs(&self, since: Option<i64>) -> Result<Vec<ReportInput>, StoreError>;

    /// One machine.
    async fn machine(&self, id: &str) -> Result<Option<MachineRow>, StoreError>;

    /// How many machines there are.
    async fn count_machines(&self) -> Result<u64, StoreError>;

    /// Appends activity entries.
    async fn log(&self, entries: &[ActivityRow]) -> Result<(), StoreError>;

    /// Activity entries and the total that match (before paging).
    async fn activity(&self, query: &ActivityQuery) -> Result<(Vec<Activity>, u64), StoreError>;

    /// Clears the activity log; returns how many entries went.
    async fn clear_activity(&self) -> Result<u64, StoreError>;

    /// Saves the latest progress (one row per machine and update).
    async fn save_progress(&self, rows: &[ProgressRow]) -> Result<(), StoreError>;

    /// A machine's saved progress.
    async fn progress(&self, machine_id: &str) -> Result<Vec<ProgressRow>, StoreError>;

    /// The console's authorized users, by name.
    async fn users(&self) -> Result<Vec<UserRow>, StoreError>;

    /// A user's stored password hash (argon2 PHC string); the name in any case.
    async fn password_hash(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// The peer providers, in the order they were added.
    async fn peers(&self) -> Result<Vec<String>, StoreError>;

    /// Applies user and peer changes in one transaction: removals, then
    /// additions. A duplicate or unknown name, or a result without any
    /// user while users existed, is an error and nothing changes.
    async fn apply_access(&self, changes: &AccessChanges) -> Result<(), StoreError>;
}

/// Parses a stored JSON column (a value that does not parse is [`StoreError::Corrupt`]).
pub fn parse_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
        what,
        problem: e.to_string(),
    })
}

/// The fold of a name that searches and uniqueness compare.
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

/// `text` as a `LIKE` pattern matching it anywhere, with `\` as the escape.
pub(crate) fn like_contains(text: &str) -> String {
    format!("%{}", like_prefix(text))
}

/// `text` as a `LIKE` prefix pattern with `\` as the escape.
pub(crate) fn like_prefix(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}
