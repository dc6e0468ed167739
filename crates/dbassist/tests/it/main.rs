//! The DB assistant's integration tests, on real SQLite files and the
//! real PostgreSQL and MariaDB servers (see `common`).

mod bad_input;
mod check;
mod common;
mod dialect;
mod generate;
mod repair;
mod setup_user;
mod sqlite_linking;
mod upgrade;
