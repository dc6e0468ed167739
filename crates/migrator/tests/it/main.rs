//! The integration tests of `transit-migrator`, as one test binary (one link on
//! two cores instead of one per file).

mod beside;
mod diff;
mod export;
mod hardening;
mod import;
mod restore;
