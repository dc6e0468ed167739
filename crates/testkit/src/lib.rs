//! Dev-only helpers shared by every crate's test suite:
//!
//! - [`Sample`]: one builder for sample servers (empty or demo, CIC or
//!   Media Server, any name, site, release, scale and seed);
//! - [`state`]: a server's observable state (its registry export and
//!   every file) and a comparison that names the first difference;
//! - [`cli`]: runs of the real `transit` binary with a clean environment,
//!   asserted by named exit codes ([`Exit`]);
//! - [`tools`]: external tools and services a test needs, skipped loudly
//!   on a developer machine and required under `TRANSIT_REQUIRE_TOOLS=1`;
//! - [`update`]: the update suites' runtime and bundle manifest.

pub mod cli;
pub mod sample;
pub mod state;
pub mod tools;
pub mod update;

pub use cli::{transit, ExitAssert};
pub use sample::Sample;
pub use transit_cli::exit::Exit;
