//! Migrate runs as the vendor keeps them (D-05, D-06; docs/dbassist.md,
//! "Runs and scripts"): a run folder per `transit db migrate` run, the run
//! history with the vendor's statuses, the steps a DBA can run by hand,
//! cleanup after a crash, and the run's log.
//!
//! A run folder (`<runs dir>/<run>/`) holds:
//!
//! - `migrate.toml`: the run's settings ([`settings::Settings`]), from
//!   which `exec-step`, `resume` and `--from-run` rebuild the run (URLs
//!   without their password);
//! - `steps/NN-<name>.toml` and `steps/NN-<name>.sql`: one plan file and
//!   one readable SQL step per step ([`script`]);
//! - `run-scripts.sh` (the steps in order through `transit db exec-step`)
//!   and `cleanup.sh` (`transit db cleanup`);
//! - `history.json`: the run's history record ([`history`]), mirrored in
//!   the target's `transit_migration.migrate_runs`;
//! - `migrate.log` ([`log`]), and the copy's `run.json` and
//!   `rejects.jsonl`.

pub mod cleanup;
pub mod history;
pub mod log;
pub mod script;
pub mod settings;

pub use history::{RunRecord, Status};
pub use settings::{Execute, Settings};
