//! The command line, declared with clap.

pub mod migrator;
pub mod update;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use transit_migrator::export::retention::Keep;
use transit_registry::ValueKind;
use transit_units::{At, Every};

/// `--type`: a registry value type by its Windows name.
fn value_kind(text: &str) -> Result<ValueKind, String> {
    ValueKind::from_name(text).ok_or_else(|| {
        format!("`{text}` is not a value type (REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD, REG_BINARY)")
    })
}

/// Transit: lifecycle tooling for a contact-center server: server roots
/// and their registry, the Migrator (export, import, rollback, diff), and
/// the products that join it.
#[derive(Debug, Parser)]
#[command(name = "transit", version, after_help = crate::exit::help())]
pub struct Cli {
    /// The server root to work on.
    #[arg(
        long,
        global = true,
        env = "TRANSIT_SERVER_ROOT",
        default_value = "./server"
    )]
    pub server_root: PathBuf,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, generate and run server roots.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Read and change the registry, and move it through Windows .reg files.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Export configuration data to a migration file (.ininmigr).
    Export(ExportArgs),
    /// Import a migration file (migration mode by default; recovery restores exactly).
    Import(ImportArgs),
    /// The Migrator installed on the server (`migrator install --release "2018 R1"`).
    #[command(subcommand)]
    Migrator(migrator::MigratorCommand),
    /// Finish the manual follow-ups of an import.
    #[command(subcommand)]
    Review(ReviewCommand),
    /// Show a migration file's manifest and components without extracting.
    Inspect {
        /// The migration file.
        file: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every hash in a migration file and report each mismatch.
    Verify {
        /// The migration file.
        file: PathBuf,
        #[command(flatten)]
        password: PasswordArgs,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore the server to a restore point (the newest if none is named).
    Rollback {
        /// The restore point ID (see `transit restore-points list`).
        restore_point: Option<String>,
    },
    /// Roll back an interrupted import, if there is one (every command
    /// on a server root also does this first).
    Recover,
    /// List or prune restore points.
    #[command(name = "restore-points", subcommand)]
    RestorePoints(RestorePointsCommand),
    /// Run an export or import with the vendor console's switches
    /// (`-export -exportNodes="all" -exportFolder=… -noprompt`, …).
    #[command(
        disable_help_flag = true,
        after_help = crate::console::HELP
    )]
    Console {
        /// The vendor switches, exactly as documented (case-insensitive).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
        switches: Vec<String>,
    },
    /// The step-by-step terminal wizard for an export or an import.
    Wizard,
    /// Scheduled exports with retention (systemd timer units).
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// The server's logs.
    #[command(subcommand)]
    Logs(LogsCommand),
    /// Compare two of: a server root, a migration file, a .reg file
    /// (exit 0 when equal, 1 when they differ).
    Diff(DiffArgs),
    /// The DB assistant: generate, check, upgrade, repair, setup-user.
    #[command(subcommand)]
    Db(crate::cmd::db::DbCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish or
    /// powershell), such as `transit completions bash > /etc/bash_completion.d/transit`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), such as `transit man | man -l -`.
    Man,
    /// The update service: bundles, the TUF repository, ingest, checks.
    #[command(subcommand)]
    Update(update::UpdateCommand),
    /// Show the data components of a role as a tree.
    Components {
        /// The role; the server root's role if omitted (cic without a root).
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

impl Command {
    /// True when the command was asked for JSON output (`--json`), so an
    /// error is printed as JSON too.
    pub fn wants_json(&self) -> bool {
        match self {
            Command::Inspect { json, .. }
            | Command::Verify { json, .. }
            | Command::Components { json, .. } => *json,
            Command::Import(args) => args.json,
            Command::Export(args) => args.json,
            Command::Diff(args) => args.json,
            Command::Server(ServerCommand::Status { json }) => *json,
            Command::Registry(
                RegistryCommand::Get { json, .. }
                | RegistryCommand::List { json, .. }
                | RegistryCommand::Import { json, .. },
            ) => *json,
            Command::RestorePoints(RestorePointsCommand::List { json }) => *json,
            Command::Schedule(ScheduleCommand::List { json, .. }) => *json,
            Command::Db(db) => db.wants_json(),
            Command::Update(cmd) => cmd.wants_json(),
            _ => false,
        }
    }
}

/// `transit import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The migration file.
    pub file: PathBuf,
    /// Where handlers are extracted (outside the server root).
    #[arg(long, value_name = "DIR")]
    pub extract_to: PathBuf,
    /// Migration (rules, renames) or recovery (exact restore).
    #[arg(long, value_enum, default_value_t = ModeArg::Migration)]
    pub mode: ModeArg,
    /// Components to import: `all`, or a comma-separated list.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub components: Vec<String>,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Do not take a restore point first (no rollback possible).
    #[arg(long)]
    pub no_restore_point: bool,
    /// Skip the Recorder Rescue ID.
    #[arg(long)]
    pub dev_mode: bool,
    /// Print the plan and the report; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Extract into a folder that already holds files, overwriting them.
    #[arg(long)]
    pub force: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ModeArg {
    /// From another server: rules apply, names are rewritten.
    Migration,
    /// Back into the same server, exactly as exported.
    Recovery,
}

/// `transit review …`
#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// Resolve `<name>_migrated` server parameters by keeping one side.
    ServerParams(ReviewArgs),
    /// Resolve `<name>_migrated` IP tables by keeping one side.
    IpTables(ReviewArgs),
    /// Resolve `<name>_migrated` managed-phone registration groups by keeping one side.
    RegistrationGroups(ReviewArgs),
}

/// What `transit review …` keeps.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Which side to keep.
    #[arg(long, value_enum)]
    pub keep: KeepArg,
    /// Only these entries (original names); all if omitted. A name with no
    /// `_migrated` entry is an error.
    #[arg(long, num_args = 1..)]
    pub only: Vec<String>,
}

/// `--keep`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum KeepArg {
    /// The target's own values.
    Original,
    /// The imported values.
    Imported,
}

/// `transit restore-points …`
#[derive(Debug, Subcommand)]
pub enum RestorePointsCommand {
    /// List restore points, oldest first.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete all but the newest K restore points.
    Prune {
        /// How many to keep (at least 1).
        #[arg(long, value_name = "K", allow_negative_numbers = true)]
        keep: Keep,
    },
}

/// Where a migration file's password comes from (never the command line,
/// which other users can read in the process list).
#[derive(Debug, Args, Clone, Default)]
pub struct PasswordArgs {
    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "password_env")]
    pub password_file: Option<PathBuf>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
}

/// `transit export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The folder that receives the migration file (outside the server root).
    #[arg(long)]
    pub folder: PathBuf,
    /// Components to export: `all`, or a comma-separated list such as "Users,Workgroups".
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub components: Vec<String>,
    /// The custom-handlers folder (default: files/Handlers/Custom of the server root).
    #[arg(long, value_name = "DIR")]
    pub handlers: Option<PathBuf>,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// After the export, keep only the newest K migration files of this
    /// server in the folder (nothing else there is ever deleted).
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub keep: Option<Keep>,
    /// Print the outcome as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `transit schedule …`
#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// Write a systemd .service/.timer pair that exports periodically.
    Add(ScheduleAddArgs),
    /// List the scheduled exports in the unit folder.
    List {
        /// The systemd unit folder (default: the user's, ~/.config/systemd/user).
        #[arg(long, value_name = "DIR")]
        unit_dir: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a scheduled export's unit pair.
    Remove {
        /// The schedule's name.
        #[arg(long)]
        name: String,
        /// The systemd unit folder (default: the user's, ~/.config/systemd/user).
        #[arg(long, value_name = "DIR")]
        unit_dir: Option<PathBuf>,
    },
}

/// `transit schedule add`.
#[derive(Debug, Args)]
pub struct ScheduleAddArgs {
    /// The schedule's name (letters, digits, `-` and `_`).
    #[arg(long)]
    pub name: String,
    /// How often: `daily`, `weekly:DAY` (Mon…Sun) or `hourly`.
    #[arg(long)]
    pub every: Every,
    /// The time of day, HH:MM (24-hour; for `hourly` only the minutes count).
    #[arg(long, value_name = "HH:MM")]
    pub at: At,
    /// The folder that receives the migration files (must exist).
    #[arg(long)]
    pub folder: PathBuf,
    /// Components to export: `all`, or a comma-separated list.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub components: Vec<String>,
    /// The password file the scheduled run reads (kept as an absolute path).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Keep the newest K migration files of this server in the folder.
    #[arg(long, value_name = "K", allow_negative_numbers = true)]
    pub keep: Option<Keep>,
    /// The systemd unit folder (default: the user's, ~/.config/systemd/user).
    #[arg(long, value_name = "DIR")]
    pub unit_dir: Option<PathBuf>,
    /// Print the units instead of writing them.
    #[arg(long, conflicts_with = "cron")]
    pub print: bool,
    /// Print a crontab line instead (for machines without systemd); add it
    /// with `crontab -e`. Nothing is written.
    #[arg(long, conflicts_with = "unit_dir")]
    pub cron: bool,
}

/// `transit logs …`
#[derive(Debug, Subcommand)]
pub enum LogsCommand {
    /// Zip the server's logs, the last import report and the server
    /// identity (secrets removed) for support; prints the zip's path.
    Bundle {
        /// The zip to write (default: transit-logs-<server>-<time>.zip here).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// The identity of a new server.
#[derive(Debug, Args)]
pub struct IdentityArgs {
    /// The server name.
    #[arg(long, value_parser = server_name)]
    pub name: String,
    /// The site name.
    #[arg(long, value_parser = server_name)]
    pub site_name: String,
    /// The numeric site ID (1–32767).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=i64::from(transit_server::identity::MAX_SITE_ID)))]
    pub site_id: u32,
    /// The product release, such as "2015 R1".
    #[arg(long)]
    pub release: String,
    /// The patch level.
    #[arg(long, default_value_t = 0)]
    pub patch: u32,
    /// CIC server or Media Server.
    #[arg(long, value_enum, default_value_t = RoleArg::Cic)]
    pub role: RoleArg,
}

/// A server or site name as `server.toml` takes it (checked on the command
/// line, so a bad value is a usage error naming the option).
fn server_name(text: &str) -> Result<String, String> {
    transit_server::identity::check_name("the name", text)?;
    Ok(text.to_string())
}

/// `--role`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum RoleArg {
    /// A CIC server.
    Cic,
    /// A Media Server.
    Media,
}

/// `transit server …`
#[derive(Debug, Subcommand)]
pub enum ServerCommand {
    /// Create an empty server root.
    Init(IdentityArgs),
    /// Create a realistic sample server.
    Demo {
        #[command(flatten)]
        identity: IdentityArgs,
        /// The number of users (at most 200000); everything else scales with it.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(0..=transit_demo::MAX_USERS))]
        users: u64,
        /// The random seed (the same seed gives the same server).
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Run the server service, holding the service lock.
    Start {
        /// Detach and run in the background.
        #[arg(long)]
        daemon: bool,
        /// Host the update provider for this data folder (the version gate
        /// is this server's release and patch).
        #[arg(long, value_name = "DIR")]
        update_data: Option<PathBuf>,
        /// Where the hosted provider listens.
        #[arg(long, default_value = "0.0.0.0:8092", requires = "update_data")]
        update_listen: std::net::SocketAddr,
        /// The hosted provider's store: sqlite or a postgres:// URL.
        #[arg(
            long,
            env = "TRANSIT_UPDATE_DATABASE",
            value_name = "URL",
            requires = "update_data"
        )]
        update_database: Option<String>,
    },
    /// Stop the running server service.
    Stop,
    /// Report whether the server service runs.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `.reg` file formats.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum FormatArg {
    /// "Windows Registry Editor Version 5.00", UTF-16LE with BOM.
    Regedit5,
    /// "REGEDIT4", ANSI (Windows-1252).
    Regedit4,
}

/// `transit registry …`
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Print one value, or every value of a key.
    Get {
        /// The key path, such as 'EIC\Directory Services'.
        key: String,
        /// The value name ("" or "@" for the default value); all values if omitted.
        name: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Set a value, creating the key if needed.
    Set {
        /// The key path.
        key: String,
        /// The value name ("" or "@" for the default value).
        name: String,
        /// The value type: REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ, REG_DWORD, REG_QWORD or REG_BINARY.
        #[arg(long = "type", short = 't', default_value = "REG_SZ", value_parser = value_kind)]
        kind: ValueKind,
        /// The data: text; a number (decimal or 0x-hex); hex bytes for
        /// REG_BINARY ("01,ff" or "01ff"); one argument per string for REG_MULTI_SZ.
        data: Vec<String>,
    },
    /// Delete a value, or a key with its whole subtree.
    Delete {
        /// The key path.
        key: String,
        /// The value to delete; the key itself if omitted.
        name: Option<String>,
    },
    /// List subkeys (or the whole subtree with --recursive).
    List {
        /// The key path (the root if omitted).
        key: Option<String>,
        /// Walk the whole subtree.
        #[arg(long, short)]
        recursive: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write a subtree as a Windows .reg file.
    Export {
        /// The subtree to export (the whole registry if omitted).
        #[arg(long)]
        key: Option<String>,
        /// The file format.
        #[arg(long, value_enum, default_value_t = FormatArg::Regedit5)]
        format: FormatArg,
        /// The output file (`-` or none: standard output). A symlink is followed; a FIFO or device is written as a stream.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Apply a Windows .reg file, all or nothing.
    Import {
        /// The .reg file.
        file: PathBuf,
        /// Refuse a file that does not end with a line end (it may be cut off).
        #[arg(long)]
        strict: bool,
        /// Print the outcome (and any warning) as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Shown after the options in `transit diff --help`.
const DIFF_AFTER_HELP: &str = "\
Each side is recognised by what it is: a directory with server.toml, a
migration file (.ininmigr), or a Windows .reg file (REGEDIT5 or REGEDIT4).

Keys are compared per component, relative to the component's subtree
({ds} is each server's own Directory Services key, {server} its name), so
two servers with different names line up. Keys outside every component
are compared as \"(other registry)\" unless a side is a migration file. A
.reg file holds no files, so with a .reg side files are not compared.
A migration file's files are compared by the SHA-256 its manifest records,
without extracting them (its registry entries are read and checked);
`transit verify` checks every byte of a file.

Output: '+' only in B, '-' only in A, '~' in both but different (with
'name: old -> new' per value). --stat prints only the counts; --json
prints one JSON document (all details unless --stat).

Passwords: --password-file/--password-env apply to every encrypted
migration file side (and are ignored for a side that is not encrypted).
When B needs a different password, give it with --b-password-file or
--b-password-env; A then uses --password-file/--password-env.

Exit status: 0 when A and B hold the same data, 1 when they differ (as
diff(1) does; nothing is written to stderr). A failure prints \"error: ...\"
and exits with its own code (see transit --help), such as 6 for a wrong
password or 3 for a malformed .reg file.";

/// `transit diff A B`.
#[derive(Debug, Args)]
#[command(after_help = DIFF_AFTER_HELP)]
pub struct DiffArgs {
    /// The first side: a server root, a migration file or a .reg file.
    pub a: PathBuf,
    /// The second side.
    pub b: PathBuf,
    /// Components to compare: `all`, or a comma-separated list such as "Users,Workgroups".
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub components: Vec<String>,
    /// The password of A, and of B unless --b-password-* is given.
    #[command(flatten)]
    pub password: PasswordArgs,
    /// Read B's password from the first line of this file (when B's
    /// password differs from A's).
    #[arg(long, value_name = "FILE", conflicts_with = "b_password_env")]
    pub b_password_file: Option<PathBuf>,
    /// Read B's password from this environment variable.
    #[arg(long, value_name = "VAR")]
    pub b_password_env: Option<String>,
    /// Print only the counts per component and in total.
    #[arg(long)]
    pub stat: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}
