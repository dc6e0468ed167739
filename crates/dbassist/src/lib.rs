//! The DB assistant: moves a contact center's historical reporting data
//! from one database to another, table group by table group, between
//! PostgreSQL, MariaDB/MySQL and SQLite (docs/dbassist.md).
//!
//! - [`DbTarget`] and [`Db`]: a database by URL (passwords held apart) and
//!   an open connection to any of the three engines;
//! - [`dialect`]: what differs between engines, as SQL text;
//! - [`schema`]: the reference schema at "3.0" and "2015 R1";
//! - [`version`] and [`upgrade`]: the version table and the versioned
//!   migrations in the vendor's build order;
//! - [`check`], [`repair`], [`setup_user`]: the vendor's preparation
//!   steps;
//! - [`copy`]: the bulk copy engine (streaming, resumable, validated);
//! - [`migrate`]: table groups, filters, time zones, key translation and
//!   the group rules on top of the copy engine;
//! - [`runs`]: run folders, the steps and scripts, the run history,
//!   cleanup;
//! - [`generate`]: a deterministic history with planted duplicates, NULLs
//!   and hostile values.

pub mod check;
pub mod copy;
pub mod db;
pub mod dialect;
pub mod engine;
pub mod error;
pub mod generate;
pub mod migrate;
pub mod repair;
pub mod runs;
pub mod schema;
pub mod setup_user;
pub mod target;
pub mod upgrade;
pub mod version;

pub use db::Db;
pub use engine::Engine;
pub use error::DbError;
pub use schema::{Schema, Version};
pub use target::DbTarget;
