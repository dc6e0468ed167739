//! The server registry: the `HKLM\Software\Interactive Intelligence` tree of
//! a server, stored in SQLite.
//!
//! - [`path::KeyPath`]: backslash-separated, case-insensitive, case-preserving key paths.
//! - [`value::ValueData`]: the six Windows value kinds.
//! - [`Registry`]: the store, with [`Snapshot`]s for consistent reads and
//!   all-or-nothing [`WriteTxn`]s.
//! - [`regfile`]: a streaming reader and writer for Windows `.reg` files.
//! - [`interop`]: loading and dumping whole subtrees as `.reg` files.
//!
//! The crate never prints; every failure is a typed [`RegistryError`].

pub mod error;
pub mod interop;
pub mod path;
pub mod regfile;
mod store;
pub mod value;

pub use error::{RegistryError, Result};
pub use path::KeyPath;
pub use store::{
    KeyId, KeyRecord, NamedValue, Registry, RegistryRead, Snapshot, SubtreeIter, WriteTxn,
};
pub use value::{ValueData, ValueKind};
