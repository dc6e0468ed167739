//! The Migrator engine.
//!
//! [`export::export`] turns a server root into one migration file: it
//! closes the component selection over its dependencies, reads one
//! consistent registry snapshot, builds each component's inner zip in
//! parallel, and packs them into the (optionally AES-256) outer zip, which
//! appears under its final name only when complete.
//!
//! The engine never prints. Progress goes to a [`transit_core::Progress`];
//! cancellation comes in through a [`transit_core::CancelToken`].

pub mod diff;
pub mod error;
pub mod export;
pub mod import;
pub mod restore;
pub mod schedule;

pub use error::{MigratorError, Result};
pub use export::{export, ExportOutcome, ExportPlan};
