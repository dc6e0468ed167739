//! The DB assistant: moves a contact center's historical reporting data
//! from one database to another, table group by table group, between
//! PostgreSQL, MariaDB/MySQL and SQLite (docs/dbassist.md).
//!
//! This crate grows with the DB-assistant issues; today it knows the
//! engines and their connection URLs.

pub mod engine;

pub use engine::{DbError, Engine};
