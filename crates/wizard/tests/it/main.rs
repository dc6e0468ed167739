//! The integration tests of `transit-wizard`, as one test binary (one link on
//! two cores instead of one per file).

mod common;
mod import_stop;
mod jobs;
mod pages;
