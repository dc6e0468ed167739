//! The client API's JSON shapes, version 1 (`/v1/…`), shared by the
//! provider, the CLI and the load generator.
//!
//! Requests refuse unknown fields: a newer client that sends a field this
//! provider does not know gets a 422 naming the field and the API version
//! spoken here, and can fall back to version 1.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use transit_update::applicability::Action;
use transit_update::InstallVersion;

/// The API version this provider speaks (the `/v1/` prefix).
pub const API_VERSION: u32 = 1;

/// The largest request body accepted (bytes); larger gets 413.
pub const MAX_BODY: usize = 256 * 1024;

/// One application installed on a machine, as the client reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstalledJson {
    /// The application name.
    pub application: String,
    /// Its release (`2018 R1`).
    pub release: String,
    /// Its patch level.
    pub patch: u16,
    /// Its install version `MM.mm.PP.BB`.
    pub version: InstallVersion,
    /// The version it replaced, if the machine still has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<InstallVersion>,
}

/// `POST /v1/checkin`: a machine reports in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckIn {
    /// The machine's ID (1–64 characters: letters, digits, `-_.:{}`).
    pub machine_id: String,
    /// The machine's secret (16–128 characters), chosen by the client at
    /// its first check-in; later check-ins with the same ID must carry it.
    pub token: String,
    /// The machine's name.
    pub name: String,
    /// The machine's IP address as it sees it (the peer address is used
    /// when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The group the client is configured for; used only at its first
    /// check-in (the provider's membership wins afterwards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// True when the machine is the CIC server itself (Automatic mode is
    /// refused for it).
    #[serde(default)]
    pub cic_server: bool,
    /// The installed applications and versions.
    #[serde(default)]
    pub installed: Vec<InstalledJson>,
    /// Errors the client reports.
    #[serde(default)]
    pub errors: Vec<String>,
    /// The machine needs a restart.
    #[serde(default)]
    pub restart_required: bool,
}

/// A group's update mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    /// Download and install on schedule (refused for the CIC server's client).
    Automatic,
    /// Download, and let the user choose when to install.
    Download,
    /// Notify only: no download, no install.
    Notify,
    /// All automatic behaviour off.
    Manual,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Automatic => "Automatic",
            Mode::Download => "Download",
            Mode::Notify => "Notify",
            Mode::Manual => "Manual",
        })
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s.to_ascii_lowercase().as_str() {
            "automatic" => Ok(Mode::Automatic),
            "download" => Ok(Mode::Download),
            "notify" => Ok(Mode::Notify),
            "manual" => Ok(Mode::Manual),
            _ => Err(format!(
                "`{s}` is not a mode (automatic, download, notify, manual)"
            )),
        }
    }
}

/// A group's install day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstallDay {
    /// Every day.
    Everyday,
    /// Every Sunday.
    Sunday,
    /// Every Monday.
    Monday,
    /// Every Tuesday.
    Tuesday,
    /// Every Wednesday.
    Wednesday,
    /// Every Thursday.
    Thursday,
    /// Every Friday.
    Friday,
    /// Every Saturday.
    Saturday,
}

impl InstallDay {
    /// Every value, in the console's order.
    pub const ALL: [InstallDay; 8] = [
        InstallDay::Everyday,
        InstallDay::Sunday,
        InstallDay::Monday,
        InstallDay::Tuesday,
        InstallDay::Wednesday,
        InstallDay::Thursday,
        InstallDay::Friday,
        InstallDay::Saturday,
    ];
}

impl fmt::Display for InstallDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl FromStr for InstallDay {
    type Err = String;
    fn from_str(s: &str) -> Result<InstallDay, String> {
        InstallDay::ALL
            .into_iter()
            .find(|d| d.to_string().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("`{s}` is not an install day (everyday, sunday … saturday)"))
    }
}

/// A group's settings: what its machines are told at check-in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSettings {
    /// The update mode.
    pub mode: Mode,
    /// The install day.
    pub install_day: InstallDay,
    /// The install hour, 0–23.
    pub install_hour: u8,
    /// The assigned providers, in order of preference.
    #[serde(default)]
    pub providers: Vec<String>,
    /// "Allow Interactive Update Migration".
    #[serde(default)]
    pub allow_migration: bool,
    /// Payload downloads of the group's machines at once (0: no limit).
    #[serde(default)]
    pub max_downloads: u32,
    /// Bytes per second for all of the group's downloads together (0: no limit).
    #[serde(default)]
    pub download_rate: u64,
}

impl Default for GroupSettings {
    /// The default group's settings at creation: Download, every day at 02:00.
    fn default() -> GroupSettings {
        GroupSettings {
            mode: Mode::Download,
            install_day: InstallDay::Everyday,
            install_hour: 2,
            providers: Vec::new(),
            allow_migration: false,
            max_downloads: 0,
            download_rate: 0,
        }
    }
}

/// A group as the API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group's name.
    pub name: String,
    /// True for the default group (it cannot be deleted).
    pub default: bool,
    /// Its settings.
    pub settings: GroupSettings,
    /// How many machines it holds.
    pub members: u64,
}

/// `POST /v1/groups`: a new group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGroup {
    /// The name.
    pub name: String,
    /// Its settings (the defaults when absent).
    #[serde(default)]
    pub settings: Option<GroupSettings>,
}

/// `POST /v1/groups/{name}/members`: machines to move into the group.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Members {
    /// Machine IDs.
    pub machines: Vec<String>,
}

/// How many rows a change touched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changed {
    /// The number of rows.
    pub changed: u64,
}

/// The settings a machine is told to use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveSettings {
    /// The machine's group.
    pub group: String,
    /// The group's settings (Automatic becomes Download for the CIC server).
    #[serde(flatten)]
    pub settings: GroupSettings,
    /// Why a setting differs from the group's, if it does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// One update a machine is offered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferJson {
    /// The catalog ID.
    pub id: i64,
    /// The TUF target name to download.
    pub target: String,
    /// The application.
    pub application: String,
    /// The release.
    pub release: String,
    /// The patch.
    pub patch: u16,
    /// The install version.
    pub version: InstallVersion,
    /// What to do.
    #[serde(flatten)]
    pub action: Action,
    /// Set when this is a related install of another offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related_to: Option<i64>,
    /// Installs regardless of the mode and schedule.
    pub high_priority: bool,
}

/// The reply to a check-in (HTTP 200: the check-in is committed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInReply {
    /// The API version.
    pub api_version: u32,
    /// The machine's ID.
    pub machine_id: String,
    /// The effective settings.
    pub settings: EffectiveSettings,
    /// The updates to apply now, in order.
    pub updates: Vec<OfferJson>,
    /// Updates held until the client's own update is installed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<OfferJson>,
    /// When to check in next (RFC 3339, UTC): jittered, stretched under load.
    pub next_checkin: String,
    /// The same, in seconds from now.
    pub next_checkin_secs: u64,
}

/// An install result a client reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResultStatus {
    /// The payload was downloaded and verified.
    Downloaded,
    /// The download failed.
    #[serde(rename = "Download Failed")]
    DownloadFailed,
    /// The update was installed.
    Installed,
    /// The install failed.
    #[serde(rename = "Install Failed")]
    InstallFailed,
    /// The update was removed (rolled back or uninstalled).
    Removed,
}

/// One install result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultEntry {
    /// The catalog ID of the update.
    pub update_id: i64,
    /// What happened.
    pub status: ResultStatus,
    /// Details.
    #[serde(default)]
    pub description: String,
}

/// `POST /v1/results`: install results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Results {
    /// The machine's ID.
    pub machine_id: String,
    /// The machine's secret.
    pub token: String,
    /// The results.
    pub results: Vec<ResultEntry>,
}

/// `POST /v1/progress`: download or install progress. Events closer than
/// a second apart are coalesced; only the latest per machine and update
/// is kept, and written to the store every few seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressReport {
    /// The machine's ID.
    pub machine_id: String,
    /// The machine's secret.
    pub token: String,
    /// The catalog ID of the update.
    pub update_id: i64,
    /// `download` or `install`.
    pub phase: String,
    /// Done so far, 0–100.
    pub percent: u8,
}

/// The reply to results and progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// Entries recorded now.
    pub recorded: u64,
    /// Entries coalesced with a newer one (progress only).
    pub coalesced: u64,
}

/// An error reply: every 4xx and 5xx carries one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// A stable code (`malformed_json`, `unknown_field`, `too_large`,
    /// `id_claimed`, `range_not_satisfiable`, `busy`, `not_found`, …).
    pub code: String,
    /// What went wrong, for a person.
    pub error: String,
    /// The API version this provider speaks.
    pub api_version: u32,
}

/// A machine as the administration API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineJson {
    /// The machine's ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its IP address.
    pub ip: String,
    /// Its group.
    pub group: String,
    /// It is the CIC server.
    pub cic_server: bool,
    /// Its installed applications.
    pub installed: Vec<InstalledJson>,
    /// The errors it reported last.
    pub errors: Vec<String>,
    /// It needs a restart.
    pub restart_required: bool,
    /// First contact (RFC 3339).
    pub first_contact: String,
    /// Last contact (RFC 3339).
    pub last_contact: String,
    /// Check-ins so far.
    pub checkins: i64,
}

/// `GET /v1/machines/{id}`: one machine, its status, installed against
/// available versions, progress and recent activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineDetail {
    /// The machine.
    pub machine: MachineJson,
    /// Its status and every reason.
    pub assessment: crate::report::Assessment,
    /// Its latest progress per update.
    pub progress: Vec<crate::store::ProgressRow>,
    /// Its newest activity entries.
    pub activity: Vec<transit_update::store::Activity>,
}

/// An update as the administration API lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateJson {
    /// The catalog ID.
    pub id: i64,
    /// The TUF target name.
    pub target: String,
    /// The application.
    pub application: String,
    /// The release.
    pub release: String,
    /// The patch.
    pub patch: u16,
    /// Install, Patch or ES.
    pub install_type: String,
    /// The install version.
    pub version: InstallVersion,
    /// The state.
    pub state: transit_update::UpdateState,
    /// High Priority.
    pub high_priority: bool,
    /// When it was ingested.
    pub inserted: String,
    /// How many machines have it installed (activated).
    pub activated: u64,
}

/// `PUT /v1/updates/{id}/state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetState {
    /// The new state.
    pub state: transit_update::UpdateState,
}

/// One machine in the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportRow {
    /// The machine's ID.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its group.
    pub group: String,
    /// Its status.
    pub status: crate::report::MachineStatus,
    /// Every reason for the status.
    pub reasons: Vec<String>,
    /// Last contact (RFC 3339).
    pub last_contact: String,
}

/// `GET /v1/report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// When it was made.
    pub generated: String,
    /// Machines with a last contact at or after this (RFC 3339), if filtered.
    pub since: Option<String>,
    /// Machines per status.
    pub up_to_date: u64,
    /// Machines that need attention.
    pub needs_attention: u64,
    /// Machines in error.
    pub error_state: u64,
    /// The machines, ErrorState first, then NeedsAttention, then UpToDate, by name.
    pub machines: Vec<ReportRow>,
}

/// One group of activity entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityGroup {
    /// The group's key (a day for time; empty when not grouped).
    pub key: String,
    /// Its entries on this page.
    pub entries: Vec<transit_update::store::Activity>,
}

/// `GET /v1/activity`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    /// Entries in all pages.
    pub total: u64,
    /// This page (from 1).
    pub page: u64,
    /// Entries per page.
    pub per_page: u64,
    /// The page's entries, in groups (one group with an empty key when not grouped).
    pub groups: Vec<ActivityGroup>,
}

/// `GET /v1/status`: the provider's counters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The API version.
    pub api_version: u32,
    /// The provider's kind: `local` (with its store and console) or
    /// `remote` (a site cache relaying upstream).
    #[serde(default = "local_kind")]
    pub kind: String,
    /// The store.
    pub store: String,
    /// Machines known.
    pub machines: u64,
    /// Check-ins in the last second.
    pub checkins_per_s: u64,
    /// Check-ins committed since start.
    pub committed: u64,
    /// Commit groups since start.
    pub groups: u64,
    /// Connections open now.
    pub connections: u64,
    /// Payload downloads per group with limits or downloads so far.
    #[serde(default)]
    pub downloads: Vec<crate::bandwidth::GroupDownloads>,
    /// Payload requests admitted since start (each remote provider asks
    /// once per payload, whatever its clients do).
    #[serde(default)]
    pub targets_served: u64,
    /// A remote provider's own figures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteStats>,
}

fn local_kind() -> String {
    "local".into()
}

/// `GET /v1/database`: where the provider's data is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInfo {
    /// The store in use (no password).
    pub store: String,
    /// This provider's own SQLite file (switchover A).
    pub local: String,
    /// The shared database chosen by Manage Database, if any (switchover B).
    pub saved: Option<crate::switchover::Saved>,
}

/// `POST /v1/database/{copy|use|merge}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchRequest {
    /// The shared PostgreSQL database (`postgres://…`).
    pub url: String,
}

/// A remote provider's figures (`GET /v1/status` of `--kind remote`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteStats {
    /// The upstream provider.
    pub upstream: String,
    /// Upstream answered the last request.
    pub upstream_reachable: bool,
    /// When upstream last answered (Unix seconds; 0: never).
    pub last_upstream_contact: u64,
    /// Payloads fetched from upstream since start.
    pub target_fetches: u64,
    /// Metadata files fetched from upstream since start.
    pub metadata_fetches: u64,
    /// Payload files in the cache.
    pub cached_targets: u64,
    /// Check-ins and results waiting for upstream.
    pub outbox: u64,
    /// Requests relayed upstream since start.
    pub relayed: u64,
    /// Check-ins answered from upstream's last reply while it was down.
    pub answered_from_cache: u64,
}

/// `POST /v1/rollouts`: a staged rollout of one update.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRollout {
    /// The update's catalog ID.
    pub update_id: i64,
    /// The waves, in order.
    pub waves: Vec<crate::rollout::WaveSpec>,
}

/// One wave of a rollout, with its machines and outcomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaveStatus {
    /// The wave as created.
    #[serde(flatten)]
    pub spec: crate::rollout::WaveSpec,
    /// Its machines are offered the update.
    pub started: bool,
    /// Its machines and their outcomes.
    #[serde(flatten)]
    pub tally: crate::rollout::Tally,
}

/// A rollout as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutStatus {
    /// Its ID.
    pub id: i64,
    /// The update's catalog ID.
    pub update_id: i64,
    /// The update, for people (`Interaction Desktop 2018 R1 patch 3`).
    pub update: String,
    /// Where it stands.
    pub state: crate::rollout::RolloutState,
    /// The latest wave started (1-based).
    pub current_wave: usize,
    /// Paused because the current wave completed and asks for approval.
    pub awaiting_approval: bool,
    /// Why it is paused, stopped or completed.
    pub reason: String,
    /// Created (RFC 3339).
    pub created: String,
    /// Last changed (RFC 3339).
    pub updated: String,
    /// The waves.
    pub waves: Vec<WaveStatus>,
}
