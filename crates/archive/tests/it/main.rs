//! The integration tests of `transit-archive`, as one test binary (one link on
//! two cores instead of one per file).

mod common;
mod fuzz_reader;
mod hostile;
mod roundtrip;
mod sevenzip;
mod streamed;
