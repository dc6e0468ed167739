//! The update service's trust core (docs/update.md, U-02 and U-07).
//!
//! - [`manifest`] and [`bundle`]: an update is a bundle file, a signed
//!   manifest (the vendor's metadata) plus a `tar.zst` payload;
//! - [`keys`] and [`publishers`]: Ed25519 keys, and the publisher
//!   allow-list checked at ingest and again on the client;
//! - [`repo`]: the provider's TUF repository, built and signed with
//!   tough (root key offline, targets key with the publisher, snapshot and
//!   timestamp online and re-signed by [`repo::UpdateRepository::refresh`]);
//! - [`ingest`] and [`scanner`]: bundles in by upload or from folders
//!   marked Auto, refusals in the activity log;
//! - [`store`]: the catalog and the activity log (SQLite);
//! - [`client`]: verification on the client through tough, with one error
//!   per attack;
//! - [`states`] and [`applicability`]: the update states and which
//!   updates a machine is offered, as pure functions.
//!
//! Nothing here prints; every error answers [`transit_core::Kind`].

pub mod applicability;
pub mod bundle;
pub mod client;
pub mod fsutil;
pub mod ingest;
pub mod keys;
pub mod manifest;
pub mod publishers;
pub mod repo;
pub mod scanner;
pub mod states;
pub mod store;
pub mod version;

pub use applicability::{plan, CatalogEntry, InstalledApp, Plan, ServerLevel};
pub use bundle::BundleError;
pub use client::VerifyError;
pub use ingest::IngestError;
pub use manifest::{InstallType, Manifest};
pub use repo::{RepoError, UpdateRepository};
pub use states::UpdateState;
pub use store::Store;
pub use version::InstallVersion;

/// Seconds since the Unix epoch, for tar headers.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
