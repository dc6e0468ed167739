//! Import: a migration file into a server root (in progress).
//!
//! So far: the preflight checks that run before anything changes
//! ([`preflight`]). Rules, staging, the registry transaction and the
//! report build on them.

pub mod preflight;
pub mod rules;

pub use preflight::{ImportMode, Refusal};
