//! The sample-server generator behind `transit server demo`.
//!
//! It builds a realistic server at a chosen scale: users with memberships,
//! workgroups, roles, stations, lines, a dial plan, prompts and waves in
//! several languages, nested custom handlers, production and custom
//! reports, secrets, DNIS mappings and the rest of the DS containers.
//! At `users = 1000` that is about 50k registry values and 20 MB of files;
//! both grow linearly. The same seed gives the same content (key
//! last-write times and file mtimes aside).

mod cic;
mod content;
mod files;
mod media;
mod names;
mod scale;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use transit_core::{Event, Progress, Unit};
use transit_server::machine_key::MachineKey;
use transit_server::Role;
use transit_server::{InitParams, ServerRoot};

/// The demo generator fails only as the server root or registry does.
pub type Result<T, E = transit_server::ServerError> = std::result::Result<T, E>;
use transit_registry::{KeyPath, ValueData, WriteTxn};

/// What to generate.
#[derive(Debug, Clone)]
pub struct DemoParams {
    /// Identity of the new server (its `machine_key` is ignored: the key is
    /// drawn from the seed).
    pub init: InitParams,
    /// The number of users; every other count scales from it.
    pub users: u64,
    /// The random seed.
    pub seed: u64,
}

/// What was generated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoStats {
    /// Registry values written.
    pub values: u64,
    /// Files written.
    pub files: u64,
    /// Bytes of file content written.
    pub file_bytes: u64,
}

/// The most users a demo server takes (`server demo --users`): about 4 GB
/// of files and 10M registry values.
pub const MAX_USERS: u64 = 200_000;

/// Registry bytes per value on disk, with indexes and WAL headroom.
const BYTES_PER_VALUE: u64 = 250;

/// Why a demo server is refused before anything is written.
#[derive(Debug, thiserror::Error)]
pub enum DemoRefusal {
    /// More users than [`MAX_USERS`].
    #[error("--users {0} is more than the maximum of {MAX_USERS}")]
    TooManyUsers(u64),
    /// The disk cannot hold it.
    #[error("not enough free space for a demo server with {users} users in {}: it needs about {} MB, {} MB are free", .path.display(), .needed / 1_000_000, .available / 1_000_000)]
    NotEnoughSpace {
        /// The folder checked (the root or its nearest existing parent).
        path: std::path::PathBuf,
        /// The users asked for.
        users: u64,
        /// The estimated size in bytes.
        needed: u64,
        /// Free bytes.
        available: u64,
    },
}

impl transit_core::Kind for DemoRefusal {
    fn kind(&self) -> transit_core::ErrorKind {
        match self {
            DemoRefusal::TooManyUsers(_) => transit_core::ErrorKind::Usage,
            DemoRefusal::NotEnoughSpace { .. } => transit_core::ErrorKind::Refused,
        }
    }
}

/// Roughly how many bytes a demo server of `role` with `users` users
/// takes on disk (files and registry).
pub fn estimated_size(role: Role, users: u64) -> u64 {
    match role {
        Role::Cic => files::estimated_bytes(users) + cic::estimated_values(users) * BYTES_PER_VALUE,
        Role::Media => media::estimated_bytes(users) + 1_000_000,
    }
}

/// Checks a demo server can be generated at `dir`: at most [`MAX_USERS`]
/// users, and room for its estimated size on the disk.
pub fn check(dir: &Path, params: &DemoParams) -> std::result::Result<(), DemoRefusal> {
    if params.users > MAX_USERS {
        return Err(DemoRefusal::TooManyUsers(params.users));
    }
    let mut probe = dir;
    while !probe.exists() {
        probe = probe.parent().unwrap_or(Path::new("/"));
    }
    let probe = if probe.as_os_str().is_empty() {
        Path::new(".")
    } else {
        probe
    };
    let needed = estimated_size(params.init.role, params.users);
    if let Ok(stat) = nix::sys::statvfs::statvfs(probe) {
        let available = stat.blocks_available() * stat.fragment_size();
        if needed > available {
            return Err(DemoRefusal::NotEnoughSpace {
                path: probe.to_path_buf(),
                users: params.users,
                needed,
                available,
            });
        }
    }
    Ok(())
}

/// The progress task counting registry values written.
pub const REGISTRY_TASK: &str = "registry";
/// The progress task counting file bytes written.
pub const FILES_TASK: &str = "files";

/// Creates a server root at `dir` and fills it with demo data. Its
/// `server.toml` is written last, so a generation that is interrupted (a
/// SIGTERM, a full disk) leaves no folder that looks like a server.
pub fn generate(
    dir: &Path,
    params: DemoParams,
    progress: &dyn Progress,
) -> Result<(ServerRoot, DemoStats)> {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let key = MachineKey::from_rng(&mut rng);
    let users = params.users;
    ServerRoot::init_with(
        dir,
        InitParams {
            machine_key: Some(key.clone()),
            ..params.init
        },
        |root| fill(root, &key, users, &mut rng, progress),
    )
}

/// Writes the demo data into a new root.
fn fill(
    root: &ServerRoot,
    key: &MachineKey,
    users: u64,
    rng: &mut ChaCha8Rng,
    progress: &dyn Progress,
) -> Result<DemoStats> {
    let role = root.identity().server.role;
    let mut stats = DemoStats::default();
    let mut registry = root.open_registry()?;
    let mut sink = Sink {
        stats: &mut stats,
        progress,
        task: REGISTRY_TASK,
        total: 0,
    };
    match role {
        Role::Cic => {
            sink.begin(REGISTRY_TASK, Unit::Items, cic::estimated_values(users));
            cic::registry(&mut registry, root, key, users, &mut *rng, &mut sink)?;
            sink.begin(FILES_TASK, Unit::Bytes, files::estimated_bytes(users));
            files::cic(root, users, &mut *rng, &mut sink)?;
        }
        Role::Media => {
            sink.begin(REGISTRY_TASK, Unit::Items, 1);
            media::registry(&mut registry, root, users, &mut *rng, &mut sink)?;
            sink.begin(FILES_TASK, Unit::Bytes, media::estimated_bytes(users));
            media::files(root, users, &mut *rng, &mut sink)?;
        }
    }
    sink.finish();
    drop(registry);
    tracing::info!(
        server = root.name(),
        users = users,
        values = stats.values,
        files = stats.files,
        bytes = stats.file_bytes,
        "demo server generated"
    );
    Ok(stats)
}

/// Counts what the generators write and forwards progress.
struct Sink<'a> {
    stats: &'a mut DemoStats,
    progress: &'a dyn Progress,
    /// The task in progress.
    task: &'static str,
    /// Its estimated total.
    total: u64,
}

impl Sink<'_> {
    /// Ends the task in progress (if any) and begins `task`.
    fn begin(&mut self, task: &'static str, unit: Unit, total: u64) {
        if self.total > 0 {
            self.progress.event(Event::end(self.task));
        }
        self.task = task;
        self.total = total.max(1);
        self.progress
            .event(Event::begin(task, unit, Some(self.total)));
    }

    /// Ends the last task.
    fn finish(&mut self) {
        self.progress.event(Event::end(self.task));
    }

    fn advance(&mut self, done: u64) {
        let total = (done > self.total).then(|| {
            self.total = done;
            done
        });
        self.progress.event(Event::Advance {
            task: self.task.to_string(),
            done,
            total,
        });
    }

    fn value(&mut self) {
        self.stats.values += 1;
        if self.stats.values.is_multiple_of(4096) {
            self.advance(self.stats.values);
        }
    }

    fn file(&mut self, bytes: u64) {
        self.stats.files += 1;
        self.stats.file_bytes += bytes;
        self.advance(self.stats.file_bytes);
    }
}

/// Writes one entry (a key and its attribute values) and counts them.
fn entry(
    txn: &mut WriteTxn<'_>,
    sink: &mut Sink<'_>,
    key: &KeyPath,
    values: &[(&str, ValueData)],
) -> Result<()> {
    let id = txn.create_key(key)?;
    for (name, data) in values {
        txn.set_value_at(id, name, data)?;
        sink.value();
    }
    Ok(())
}

fn sz(s: impl Into<String>) -> ValueData {
    ValueData::Sz(s.into())
}

fn dw(n: u32) -> ValueData {
    ValueData::Dword(n)
}

fn multi<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> ValueData {
    ValueData::MultiSz(items.into_iter().map(Into::into).collect())
}

/// Languages of prompts and Attendant waves.
pub const LANGUAGES: &[&str] = &["en-us", "fr-fr", "de-de"];
