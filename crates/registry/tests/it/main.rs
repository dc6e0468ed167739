//! The integration tests of `transit-registry`, as one test binary (one link on
//! two cores instead of one per file).

mod interop;
mod store;
