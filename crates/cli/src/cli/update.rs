//! `transit update …`: the clap declarations of the update service's
//! commands (handlers in `cmd/update.rs`).

use clap::{ArgGroup, Args, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Minutes as a plain number (`30`), or a duration with a unit: `90s`,
/// `30m`, `1h`.
pub fn minutes_or_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], t[i..].trim()),
        None => (t, "m"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (30, 90s, 30m, 1h)"))?;
    let secs = match unit {
        "s" => n,
        "m" | "min" => n * 60,
        "h" => n * 3600,
        _ => return Err(format!("`{text}`: the unit is s, m or h")),
    };
    Ok(Duration::from_secs(secs))
}

fn positive_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 3600.0 => Ok(v),
        _ => Err(format!(
            "`{text}` is not a number of seconds (above 0, at most 3600)"
        )),
    }
}
use transit_provider::api::{InstallDay, Mode};
use transit_update::UpdateState;

/// Which provider the API commands talk to.
#[derive(Debug, Clone, Args)]
pub struct ProviderArg {
    /// The provider's URL.
    #[arg(
        long,
        env = "TRANSIT_UPDATE_PROVIDER",
        default_value = "http://127.0.0.1:8092"
    )]
    pub provider: String,
    /// A PEM certificate to trust for an https provider (besides the system's).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
}

/// A group's settings on the command line; unset fields keep their value.
#[derive(Debug, Clone, Default, Args)]
pub struct GroupSettingsArgs {
    /// Update mode: automatic, download, notify or manual.
    #[arg(long)]
    pub mode: Option<Mode>,
    /// Install day: everyday, or sunday … saturday.
    #[arg(long)]
    pub day: Option<InstallDay>,
    /// Install hour, 0-23.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=23))]
    pub hour: Option<u8>,
    /// The assigned providers, in order (comma-separated; empty to clear).
    #[arg(long, value_delimiter = ',', num_args = 0..)]
    pub providers: Option<Vec<String>>,
    /// "Allow Interactive Update Migration".
    #[arg(long)]
    pub allow_migration: Option<bool>,
    /// Payload downloads of the group's machines at once (0: no limit);
    /// more wait their turn.
    #[arg(long, value_name = "N")]
    pub max_downloads: Option<u32>,
    /// Bytes per second for all of the group's downloads together (0: no limit).
    #[arg(long, value_name = "BYTES")]
    pub download_rate: Option<u64>,
}

/// The provider's data folder.
#[derive(Debug, Clone, Args)]
pub struct DataArg {
    /// The provider's data folder (keys, TUF repository, catalog).
    #[arg(long, env = "TRANSIT_UPDATE_DATA", default_value = "./update-data")]
    pub data: PathBuf,
}

/// `transit update …`
#[derive(Debug, Subcommand)]
pub enum UpdateCommand {
    /// Create a provider's repository and keys (--root-key), or a
    /// publisher's signing key (--publisher).
    #[command(group(ArgGroup::new("what").required(true).args(["root_key", "publisher"])))]
    Keygen {
        #[command(flatten)]
        data: DataArg,
        /// Where to write the offline root key (outside the data folder).
        #[arg(long, value_name = "FILE")]
        root_key: Option<PathBuf>,
        /// Days the timestamp stays valid.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..=3650))]
        timestamp_days: u32,
        /// Create a publisher key pair for this publisher name instead.
        #[arg(long, value_name = "NAME")]
        publisher: Option<String>,
        /// Folder for the publisher's NAME.key and NAME.pub.
        #[arg(long, value_name = "DIR", default_value = ".", requires = "publisher")]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The publisher allow-list.
    #[command(subcommand)]
    Publishers(PublishersCommand),
    /// Build a signed update bundle from a folder and a manifest.
    Bundle {
        /// The folder whose files become the payload.
        #[arg(long, value_name = "DIR")]
        from: PathBuf,
        /// The manifest (TOML).
        #[arg(long, value_name = "FILE")]
        manifest: PathBuf,
        /// The publisher's signing key.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// The bundle to write (`.tbundle`).
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a bundle offline: structure, signature, payload hash and,
    /// with an allow-list, the publisher.
    Verify {
        /// The bundle.
        file: PathBuf,
        /// The allow-list to check the publisher against.
        #[arg(long, value_name = "FILE")]
        publishers: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign and ingest a bundle into the repository (Pre-Approval).
    Add {
        #[command(flatten)]
        data: DataArg,
        /// The bundle.
        file: PathBuf,
        /// The targets key, if not the one in the data folder.
        #[arg(long, value_name = "FILE")]
        targets_key: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the updates in the catalog.
    List {
        #[command(flatten)]
        data: DataArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change an update's state (Pre-Approval, Inactive, GA, Remove).
    SetState {
        #[command(flatten)]
        data: DataArg,
        /// The update's ID (see `list`).
        id: i64,
        /// The new state.
        state: UpdateState,
    },
    /// Delete an update from the provider (not Remove: machines keep it).
    Delete {
        #[command(flatten)]
        data: DataArg,
        /// The update's ID.
        id: i64,
        /// The targets key, if not the one in the data folder.
        #[arg(long, value_name = "FILE")]
        targets_key: Option<PathBuf>,
    },
    /// Re-sign the snapshot and timestamp (when due, or with --force).
    Refresh {
        #[command(flatten)]
        data: DataArg,
        /// Re-sign even when not due.
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Rotate the root key (and optionally other role keys).
    RotateRoot {
        #[command(flatten)]
        data: DataArg,
        /// The current root key.
        #[arg(long, value_name = "FILE")]
        root_key: PathBuf,
        /// The new root key (created if missing).
        #[arg(long, value_name = "FILE")]
        new_root_key: PathBuf,
        /// Also replace these role keys.
        #[arg(long, value_delimiter = ',', value_parser = ["targets", "snapshot", "timestamp"])]
        rotate: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Update folders and their Auto flags.
    #[command(subcommand)]
    Folders(FoldersCommand),
    /// Scan the Auto folders on schedule (90 s, then every 60 s) until
    /// stopped; with --once, ingest from every folder now.
    Scan {
        #[command(flatten)]
        data: DataArg,
        /// One pass over every folder, now.
        #[arg(long)]
        once: bool,
        /// The targets key, if not the one in the data folder.
        #[arg(long, value_name = "FILE")]
        targets_key: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The activity log through the provider (sorted, grouped, paged,
    /// CSV, cleared); with --data, the newest entries read offline from
    /// the data folder.
    Activity {
        #[command(flatten)]
        provider: ProviderArg,
        /// Read the data folder's log directly (no provider needed).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// How many entries (with --data).
        #[arg(long, default_value_t = 50, requires = "data")]
        limit: usize,
        /// Sort by: time, machine, application, release, patch, status.
        #[arg(long, default_value = "time")]
        sort: String,
        /// Oldest / smallest first.
        #[arg(long)]
        asc: bool,
        /// Group by: time (day), machine, application, release, patch, status.
        #[arg(long)]
        group: Option<String>,
        /// Only this machine (its name).
        #[arg(long)]
        machine: Option<String>,
        /// The page, from 1.
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Entries per page.
        #[arg(long, default_value_t = 50)]
        per_page: u64,
        /// Print every matching entry as CSV.
        #[arg(long, conflicts_with_all = ["json", "clear"])]
        csv: bool,
        /// Clear the activity log.
        #[arg(long)]
        clear: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the provider: the client API, downloads and the administration
    /// API, on port 8092 by default.
    Provider(Box<ProviderArgs>),
    /// The client agent (U-04): the daemon on each managed machine and
    /// its local control.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Groups and their settings (U-03).
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Staged rollouts: one update to machines in waves, each with a
    /// success threshold that starts the next wave and an error threshold
    /// that stops the rollout.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Machines: search, detail.
    #[command(subcommand)]
    Machines(MachinesCommand),
    /// Updates as the provider sees them.
    #[command(subcommand)]
    Updates(UpdatesCommand),
    /// Each machine's status (UpToDate, NeedsAttention, ErrorState) with
    /// every reason and its last contact.
    Report {
        #[command(flatten)]
        provider: ProviderArg,
        /// Last contact at or after: 2w, 3m, 6m or YYYY-MM-DD.
        #[arg(long)]
        since: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A running provider's figures: its kind and store, machines,
    /// check-ins committed, connections, downloads; a remote provider's
    /// upstream, cache and outbox.
    Status {
        #[command(flatten)]
        provider: ProviderArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Manage Database: where a running provider keeps its data, and a
    /// switchover pair's Copy, Use and Merge of one shared PostgreSQL database.
    Database {
        #[command(flatten)]
        provider: ProviderArg,
        #[command(subcommand)]
        action: Option<DatabaseAction>,
        /// Print JSON.
        #[arg(long, global = true)]
        json: bool,
    },
    /// Load generator: seeded simulated machines check in at a fixed rate.
    Simulate {
        #[command(flatten)]
        provider: ProviderArg,
        /// More providers (repeat): machine i checks in at provider i mod n
        /// first (--provider is the first), and fails over to the next
        /// when its provider is down or busy.
        #[arg(long, value_name = "URL")]
        also: Vec<String>,
        /// Distinct simulated machines.
        #[arg(long, default_value_t = 1000)]
        clients: u64,
        /// Check-ins per second (open loop); 0: closed loop, each
        /// connection as fast as it is answered (capacity).
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds to run.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Connections (requests in flight at most).
        #[arg(long, default_value_t = 256)]
        connections: usize,
        /// The inventories' seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Simulated update clients with the agent's own schedule (timer,
    /// next-check time, spread-out retries after a failed check-in):
    /// prints, per second, the check-ins that reached the provider, for
    /// surge tests (bench/surge.sh restarts the provider during a run).
    Fleet {
        #[command(flatten)]
        provider: ProviderArg,
        /// Simulated machines.
        #[arg(long, default_value_t = 1000)]
        clients: u64,
        /// Their timer's shortest interval (minutes, or 90s, 30m, 1h).
        #[arg(long, default_value = "10s", value_parser = minutes_or_duration)]
        check_min: Duration,
        /// Their timer's longest interval.
        #[arg(long, default_value = "20s", value_parser = minutes_or_duration)]
        check_max: Duration,
        /// Seconds to run.
        #[arg(long, default_value_t = 60)]
        duration: u64,
        /// Requests in flight at most.
        #[arg(long, default_value_t = 512)]
        connections: usize,
        /// The inventories' seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a repository as a client does (tough), list its updates,
    /// and optionally download one.
    Check {
        /// The repository folder (`<data>/repository`).
        #[arg(long, value_name = "DIR")]
        repo: PathBuf,
        /// The pinned root.json.
        #[arg(long, value_name = "FILE")]
        root: PathBuf,
        /// The client's publisher allow-list.
        #[arg(long, value_name = "FILE")]
        publishers: PathBuf,
        /// Where the client keeps its trusted metadata between runs.
        #[arg(long, value_name = "DIR")]
        state: PathBuf,
        /// Download this target.
        #[arg(long, value_name = "TARGET", requires = "out")]
        download: Option<String>,
        /// Where to write it.
        #[arg(short = 'o', long = "out", value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `transit update rollout …`
#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Start a rollout of an update (see `transit update updates list` for IDs).
    Create {
        #[command(flatten)]
        provider: ProviderArg,
        /// The update's ID.
        #[arg(long, value_name = "ID")]
        update: i64,
        /// A wave, in order (repeat): GROUP[:PERCENT%][,success=SHARE]
        /// [,errors=SHARE|COUNT][,approve]; `*` is every group, and shares
        /// of one group grow wave by wave (Default:5%, Default:25%, Default).
        #[arg(long = "wave", value_name = "WAVE", required = true)]
        waves: Vec<String>,
        /// The success threshold of waves that do not give theirs.
        #[arg(long, default_value = "95%", value_parser = transit_provider::rollout::parse_share)]
        success: u32,
        /// The error threshold of waves that do not give theirs (a share or a count).
        #[arg(long, default_value = "10%", value_parser = transit_provider::rollout::parse_errors)]
        errors: transit_provider::rollout::ErrorThreshold,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one rollout, or all: state, reason, and each wave's machines,
    /// installs and failures.
    Status {
        #[command(flatten)]
        provider: ProviderArg,
        /// The rollout's ID (all when absent).
        id: Option<i64>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Start no new wave until resumed.
    Pause {
        #[command(flatten)]
        provider: ProviderArg,
        /// The rollout's ID.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Go on: after approval, start the next wave; after a stop, forgive
    /// the failures so far.
    Resume {
        #[command(flatten)]
        provider: ProviderArg,
        /// The rollout's ID.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stop: waves not started are never offered the update.
    Stop {
        #[command(flatten)]
        provider: ProviderArg,
        /// The rollout's ID.
        id: i64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `transit update groups …`
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// List the groups with their settings and member counts.
    List {
        #[command(flatten)]
        provider: ProviderArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create a group.
    Add {
        #[command(flatten)]
        provider: ProviderArg,
        /// The name.
        name: String,
        #[command(flatten)]
        settings: GroupSettingsArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change a group's settings (the default group's too).
    Set {
        #[command(flatten)]
        provider: ProviderArg,
        /// The group.
        name: String,
        #[command(flatten)]
        settings: GroupSettingsArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a group; its members go to the default group.
    Delete {
        #[command(flatten)]
        provider: ProviderArg,
        /// The group.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add machines to a group (moving them out of theirs).
    AddMembers {
        #[command(flatten)]
        provider: ProviderArg,
        /// The group.
        name: String,
        /// Machine IDs.
        #[arg(required = true)]
        machines: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a machine from a group: back to the default group.
    RemoveMember {
        #[command(flatten)]
        provider: ProviderArg,
        /// The group.
        name: String,
        /// The machine ID.
        machine: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `transit update machines …`
#[derive(Debug, Subcommand)]
pub enum MachinesCommand {
    /// List machines, searched by the start of the name or by IP.
    List {
        #[command(flatten)]
        provider: ProviderArg,
        /// The start of the name, or of the IP address.
        #[arg(long)]
        search: Option<String>,
        /// Only this group.
        #[arg(long)]
        group: Option<String>,
        /// At most this many (0: all).
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One machine: status, installed against available versions, activity.
    Show {
        #[command(flatten)]
        provider: ProviderArg,
        /// The machine ID.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `transit update updates …`
#[derive(Debug, Subcommand)]
pub enum UpdatesCommand {
    /// List the provider's updates with how many machines activated each.
    List {
        #[command(flatten)]
        provider: ProviderArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Change an update's state through the provider.
    SetState {
        #[command(flatten)]
        provider: ProviderArg,
        /// The update's ID.
        id: i64,
        /// The new state.
        state: UpdateState,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `transit update provider`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ProviderArgs {
    /// Set the provider up instead of running it.
    #[command(subcommand)]
    pub action: Option<ProviderAction>,
    #[command(flatten)]
    pub data: DataArg,
    /// The store: sqlite (provider.db in the data folder) or a postgres:// URL.
    #[arg(long, env = "TRANSIT_UPDATE_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Where to listen.
    #[arg(long, default_value = "0.0.0.0:8092")]
    pub listen: SocketAddr,
    /// A PEM certificate chain: serve HTTPS (with --key).
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// The CIC server's release (the version gate); default: the server root's.
    #[arg(long, requires = "patch")]
    pub release: Option<String>,
    /// The CIC server's patch.
    #[arg(long, requires = "release")]
    pub patch: Option<u16>,
    /// Open connections served at once; more get 503 with Retry-After.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Check-ins per second before check-in intervals are stretched.
    #[arg(long, default_value_t = 1000.0)]
    pub capacity: f64,
    /// Shortest check-in interval handed out: minutes, or a duration
    /// with a unit (90s, 30m, 1h).
    #[arg(long, default_value = "30", value_parser = minutes_or_duration)]
    pub check_min: Duration,
    /// Longest check-in interval handed out: minutes, or a duration with a unit.
    #[arg(long, default_value = "60", value_parser = minutes_or_duration)]
    pub check_max: Duration,
    /// How often running rollouts are evaluated, in seconds.
    #[arg(long, default_value_t = 2.0, value_parser = positive_seconds)]
    pub rollout_tick: f64,
    /// Discovery on: answer clients' UDP broadcasts that carry the discovery key.
    #[arg(long)]
    pub discovery: bool,
    /// The discovery key ("Production" makes the provider findable by
    /// every client; another key only by clients set to it).
    #[arg(long, default_value = "Production", value_name = "KEY")]
    pub discovery_key: String,
    /// The UDP port of discovery probes.
    #[arg(long, default_value_t = transit_provider::discovery::DISCOVERY_PORT)]
    pub discovery_port: u16,
    /// The URL clients should use (in discovery answers and in the server
    /// root's registration); default: the address a client reached.
    #[arg(long, value_name = "URL")]
    pub advertise_url: Option<String>,
    /// Serve the administration API to other hosts too (default: loopback only).
    #[arg(long)]
    pub admin_remote: bool,
    /// Do not re-sign the timestamp and snapshot while running (for a
    /// repository whose online keys are kept elsewhere: `transit update
    /// refresh` re-signs by hand). Clients refuse metadata once it expires.
    #[arg(long)]
    pub no_resign: bool,
    /// The provider's kind: `local` (its own store, console and
    /// repository) or `remote` (a site cache with no console, relaying
    /// check-ins and results to --upstream).
    #[arg(long, value_enum, default_value = "local")]
    pub kind: ProviderKind,
    /// A remote provider's upstream provider (http://hq:8092).
    #[arg(long, value_name = "URL", required_if_eq("kind", "remote"))]
    pub upstream: Option<String>,
    /// A PEM certificate to trust for the upstream provider.
    #[arg(long, value_name = "FILE", requires = "upstream")]
    pub upstream_ca: Option<PathBuf>,
    /// A remote provider fetches timestamp.json again after this long
    /// (90s, 5m; a bare number is minutes).
    #[arg(long, default_value = "60s", value_parser = minutes_or_duration)]
    pub metadata_ttl: Duration,
    /// A remote provider retries its outbox this often while upstream is
    /// down (90s, 5m; a bare number is minutes).
    #[arg(long, default_value = "15s", value_parser = minutes_or_duration)]
    pub relay_retry: Duration,
}

/// `transit update database …`
#[derive(Debug, Clone, Subcommand)]
pub enum DatabaseAction {
    /// The store in use, this provider's own SQLite file (A) and the
    /// shared database chosen (B).
    Status,
    /// The primary: move this provider's data into the shared (empty)
    /// database and use it from now on.
    Copy {
        /// The shared database (postgres://user@host/db; give the password
        /// in PGPASSWORD or ~/.pgpass: it is never saved).
        url: String,
    },
    /// The backup: use the shared database from now on.
    Use {
        /// The shared database.
        url: String,
    },
    /// The backup: join this provider's own data into the shared
    /// database (duplicate machines removed, the newest contact wins) and
    /// use it from now on.
    Merge {
        /// The shared database.
        url: String,
    },
}

/// A provider's kind (the vendor's provider kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderKind {
    /// The provider with the store, the console and the signed repository.
    Local,
    /// A per-site cache relaying upstream.
    Remote,
}

/// `transit update provider …`
#[derive(Debug, Clone, Subcommand)]
pub enum ProviderAction {
    /// Set up the web console's first authorized user (in the provider's
    /// store). The password comes from a prompt, --password-file or
    /// --password-env, never the command line; it is stored as an argon2 hash.
    Init {
        #[command(flatten)]
        data: DataArg,
        /// The store: sqlite (provider.db in the data folder) or a postgres:// URL.
        #[arg(long, env = "TRANSIT_UPDATE_DATABASE", value_name = "URL")]
        database: Option<String>,
        /// The user name of the console's administrator.
        #[arg(long, value_name = "NAME")]
        admin: String,
        #[command(flatten)]
        password: crate::cli::PasswordArgs,
    },
}

/// The client's settings file.
#[derive(Debug, Clone, Args)]
pub struct ClientConfigArg {
    /// The client's settings (client.toml).
    #[arg(long, env = "TRANSIT_CLIENT_CONFIG", default_value = "client.toml")]
    pub config: PathBuf,
}

/// `transit update client …`
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Run the agent: check in at a random moment between check_min and
    /// check_max, act as the group's mode says, listen on the control socket.
    Run {
        #[command(flatten)]
        config: ClientConfigArg,
        /// Allow `verify_signatures = false` in the settings (logged).
        #[arg(long)]
        allow_unverified: bool,
        /// Download rate limit in bytes per second (overrides max_rate; 0: none).
        #[arg(long, value_name = "BYTES_PER_S")]
        max_rate: Option<u64>,
        /// Check in once (recovering an interrupted install first), act,
        /// print the results and exit instead of running as a daemon.
        #[arg(long)]
        once: bool,
        /// With --once: apply the offers now (Express), whatever the mode.
        #[arg(long, requires = "once")]
        apply: bool,
        /// Print JSON (with --once).
        #[arg(long)]
        json: bool,
    },
    /// Broadcast a discovery probe now, with the settings' key, port and
    /// addresses, and list the providers that answer (and the provider
    /// registered in the server root, the fallback when none does). The
    /// agent itself does this when it starts, with `discovery = true`.
    Discover {
        #[command(flatten)]
        config: ClientConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The running agent's status.
    Status {
        #[command(flatten)]
        config: ClientConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check for updates now (a manual check); then `apply` (now) or
    /// `apply --later` (at the next scheduled time).
    Check {
        #[command(flatten)]
        config: ClientConfigArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Apply updates: Express (all) by default, Custom with --id.
    Apply {
        #[command(flatten)]
        config: ClientConfigArg,
        /// Custom: only these updates (catalog IDs, repeatable).
        #[arg(long = "id")]
        ids: Vec<i64>,
        /// Install at the next scheduled time instead of now.
        #[arg(long)]
        later: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cancel the running operation: no further update starts, downloads stop.
    Cancel {
        #[command(flatten)]
        config: ClientConfigArg,
    },
    /// The agent's newest log lines.
    Log {
        #[command(flatten)]
        config: ClientConfigArg,
        /// How many lines.
        #[arg(long, default_value_t = 50)]
        lines: usize,
    },
    /// Install an application from a bundle file (its first install on
    /// this machine): signature, publisher and hash are checked first.
    /// The agent must not be running.
    InstallBundle {
        #[command(flatten)]
        config: ClientConfigArg,
        /// The bundle (.tbundle).
        file: PathBuf,
    },
    /// Change one setting in client.toml (only while the machine is in
    /// the default group; elsewhere its group's settings come from the
    /// provider). Restart the agent to use it.
    Set {
        #[command(flatten)]
        config: ClientConfigArg,
        /// The setting: check_min, check_max, max_message_size, send_timeout,
        /// verify_signatures, providers (comma-separated), discovery_key,
        /// max_rate, proxy.url, proxy.user, proxy.password.
        key: String,
        /// The new value.
        value: String,
        /// Allow `verify_signatures false`.
        #[arg(long)]
        allow_unverified: bool,
    },
    /// Write the agent's systemd unit (through the shared unit renderer).
    InstallUnit {
        #[command(flatten)]
        config: ClientConfigArg,
        /// The unit folder (default: the user's systemd folder).
        #[arg(long, value_name = "DIR")]
        unit_dir: Option<PathBuf>,
    },
}

/// `transit update publishers …`
#[derive(Debug, Subcommand)]
pub enum PublishersCommand {
    /// Trust a publisher's key (its NAME.pub file).
    Add {
        #[command(flatten)]
        data: DataArg,
        /// The publisher's public key file.
        file: PathBuf,
    },
    /// List the trusted publishers.
    List {
        #[command(flatten)]
        data: DataArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `transit update folders …`
#[derive(Debug, Subcommand)]
pub enum FoldersCommand {
    /// Add a folder (or change its Auto flag).
    Add {
        #[command(flatten)]
        data: DataArg,
        /// The folder.
        path: PathBuf,
        /// Scan it automatically.
        #[arg(long)]
        auto: bool,
    },
    /// Remove a folder.
    Remove {
        #[command(flatten)]
        data: DataArg,
        /// The folder.
        path: PathBuf,
    },
    /// List the folders.
    List {
        #[command(flatten)]
        data: DataArg,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl UpdateCommand {
    /// True when the command prints JSON (so errors print as JSON too).
    pub fn wants_json(&self) -> bool {
        match self {
            UpdateCommand::Keygen { json, .. }
            | UpdateCommand::Bundle { json, .. }
            | UpdateCommand::Verify { json, .. }
            | UpdateCommand::Add { json, .. }
            | UpdateCommand::List { json, .. }
            | UpdateCommand::Refresh { json, .. }
            | UpdateCommand::RotateRoot { json, .. }
            | UpdateCommand::Scan { json, .. }
            | UpdateCommand::Activity { json, .. }
            | UpdateCommand::Check { json, .. } => *json,
            UpdateCommand::Client(
                ClientCommand::Run { json, .. }
                | ClientCommand::Status { json, .. }
                | ClientCommand::Check { json, .. }
                | ClientCommand::Apply { json, .. },
            ) => *json,
            UpdateCommand::Client(_) => false,
            UpdateCommand::Publishers(PublishersCommand::List { json, .. })
            | UpdateCommand::Folders(FoldersCommand::List { json, .. })
            | UpdateCommand::Report { json, .. }
            | UpdateCommand::Database { json, .. }
            | UpdateCommand::Status { json, .. }
            | UpdateCommand::Simulate { json, .. }
            | UpdateCommand::Groups(
                GroupsCommand::List { json, .. }
                | GroupsCommand::Add { json, .. }
                | GroupsCommand::Set { json, .. }
                | GroupsCommand::Delete { json, .. }
                | GroupsCommand::AddMembers { json, .. }
                | GroupsCommand::RemoveMember { json, .. },
            )
            | UpdateCommand::Machines(
                MachinesCommand::List { json, .. } | MachinesCommand::Show { json, .. },
            )
            | UpdateCommand::Updates(
                UpdatesCommand::List { json, .. } | UpdatesCommand::SetState { json, .. },
            ) => *json,
            _ => false,
        }
    }
}
