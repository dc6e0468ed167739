//! The integration tests of `transit-demo`, as one test binary (one link on
//! two cores instead of one per file).

mod demo;
