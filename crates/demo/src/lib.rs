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

/// The progress task counting registry values written.
pub const REGISTRY_TASK: &str = "registry";
/// The progress task counting file bytes written.
pub const FILES_TASK: &str = "files";

/// Creates a server root at `dir` and fills it with demo data.
pub fn generate(
    dir: &Path,
    params: DemoParams,
    progress: &dyn Progress,
) -> Result<(ServerRoot, DemoStats)> {
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let key = MachineKey::from_rng(&mut rng);
    let role = params.init.role;
    let root = ServerRoot::init(
        dir,
        InitParams {
            machine_key: Some(key.clone()),
            ..params.init
        },
    )?;
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
            sink.begin(
                REGISTRY_TASK,
                Unit::Items,
                cic::estimated_values(params.users),
            );
            cic::registry(
                &mut registry,
                &root,
                &key,
                params.users,
                &mut rng,
                &mut sink,
            )?;
            sink.begin(
                FILES_TASK,
                Unit::Bytes,
                files::estimated_bytes(params.users),
            );
            files::cic(&root, params.users, &mut rng, &mut sink)?;
        }
        Role::Media => {
            sink.begin(REGISTRY_TASK, Unit::Items, 1);
            media::registry(&mut registry, &root, params.users, &mut rng, &mut sink)?;
            sink.begin(
                FILES_TASK,
                Unit::Bytes,
                media::estimated_bytes(params.users),
            );
            media::files(&root, params.users, &mut rng, &mut sink)?;
        }
    }
    sink.finish();
    drop(registry);
    tracing::info!(
        server = root.name(),
        users = params.users,
        values = stats.values,
        files = stats.files,
        bytes = stats.file_bytes,
        "demo server generated"
    );
    Ok((root, stats))
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
