//! The Migrator engine (docs/migrator.md).
//!
//! - [`export::export`] turns a server root into one migration file: it
//!   closes the component selection over its dependencies, reads one
//!   consistent registry snapshot, builds each component's inner zip in
//!   parallel, and packs them into the (optionally AES-256) outer zip,
//!   which appears under its final name only when complete;
//! - [`import::import`] checks everything first, takes a restore point,
//!   stages files, applies the registry in one transaction with the import
//!   rules, and renames the files into place; [`restore`] rolls back;
//! - [`schedule`] writes scheduled exports as systemd units; [`diff`]
//!   compares servers, migration files and `.reg` files; [`install`]
//!   changes the Migrator release a server runs (`migrator install`).
//!
//! The engine never prints. Progress goes to a [`transit_core::Progress`];
//! cancellation comes in through a [`transit_core::CancelToken`].

pub mod dialer;
pub mod diff;
pub mod error;
pub mod export;
pub mod import;
pub mod install;
pub mod locks;
pub mod restore;
pub mod schedule;

pub use error::{MigratorError, Result};
pub use export::{export, ExportOutcome, ExportPlan};
