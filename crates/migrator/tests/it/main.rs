//! The integration tests of `transit-migrator`, as one test binary (one link on
//! two cores instead of one per file).

mod diff;
mod export;
mod import;
mod restore;
