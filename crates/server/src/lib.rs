//! Server roots: the directory that stands for one contact-center server.
//!
//! A root holds `server.toml` ([`identity::ServerIdentity`]), the machine
//! key ([`machine_key::MachineKey`]), the registry (`registry.db`), the
//! file areas (`files/`), the service lock (`run/`, [`lock`]), `logs/` and
//! `restore-points/`. [`service`] is the host `transit server start`
//! runs, with the services registered on it; [`support`] writes the
//! support bundle. Sample servers are `transit-demo`'s.
//!
//! The crate never prints; every failure is a typed [`ServerError`].

pub mod error;
pub mod identity;
pub mod layout;
pub mod lock;
pub mod machine_key;
pub mod release;
pub mod root;
pub mod service;
pub mod support;

pub use error::{Result, ServerError};
pub use identity::{Role, ServerIdentity};
pub use release::ProductRelease;
pub use root::{InitParams, ServerRoot};
pub use service::{Service, ServiceHost};
