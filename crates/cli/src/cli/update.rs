//! `transit update …`: the clap declarations of the update service's
//! commands (handlers in `cmd/update.rs`).

use clap::{ArgGroup, Args, Subcommand};
use std::path::PathBuf;
use transit_update::UpdateState;

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
    /// The activity log, newest first.
    Activity {
        #[command(flatten)]
        data: DataArg,
        /// How many entries.
        #[arg(long, default_value_t = 50)]
        limit: usize,
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
            UpdateCommand::Publishers(PublishersCommand::List { json, .. })
            | UpdateCommand::Folders(FoldersCommand::List { json, .. }) => *json,
            _ => false,
        }
    }
}
