//! The provider's integration tests: the store suite on SQLite and
//! PostgreSQL, the APIs over HTTP, bad input, TLS and hosting, and a
//! 20-second steady load, and upkeep (re-signing, folder scanning) in a
//! running provider.

mod api;
mod bad_input;
mod common;
mod console;
mod group_commit;
mod hosting;
mod steady;
mod store_suite;
mod switchover;
mod upkeep;
