//! The update crate's integration tests: one binary, one module per area.

mod applicability;
mod attacks;
mod bundle;
mod common;
mod repo;
mod scanner;
mod store;
