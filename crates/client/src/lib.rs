//! The update client agent (DESIGN.md §4, U-04): the daemon that runs on
//! every managed machine.
//!
//! - [`config`]: `client.toml`, the vendor's client settings with their
//!   defaults and limits, validated field by field;
//! - [`net`]: the provider API with replies capped at `max_message_size`,
//!   through the proxy, and the tough transport that downloads payloads
//!   resumably at a limited rate;
//! - [`agent`]: check-ins with failover across the ordered providers, the
//!   group's mode and schedule, verification through tough, installs and
//!   removals, results and errors reported back;
//! - [`install`]: versioned install folders, the atomic `current` switch
//!   and the action journal that makes a kill at any point safe;
//! - [`control`]: the daemon loop and the local control socket;
//! - [`backoff`]: when to retry a check-in that found no provider;
//! - [`fleet`]: simulated agents with the real schedule, for surge tests;
//! - [`schedule`] and [`licence`]: the install window and the licence gate;
//! - [`settings`]: local edits of `client.toml`, locked outside the default group.
//!
//! Nothing here prints; every error answers [`transit_core::Kind`].

pub mod agent;
pub mod backoff;
pub mod config;
pub mod control;
pub mod fleet;
pub mod install;
pub mod licence;
pub mod net;
pub mod schedule;
pub mod settings;

pub use agent::{Agent, AgentError};
pub use config::{ClientConfig, ConfigError};
