//! The migration file (`.ininmigr`): an outer zip holding `manifest.json` plus one
//! inner zip per data component under `components/`, optionally encrypted with
//! WinZip AES-256 so that 7-Zip (`7z x -pPASS file`) can extract it.
//!
//! Writing: build each component with [`ComponentBuilder`], append it with
//! [`MigrationWriter::add_component`], then [`MigrationWriter::finish`] with the
//! manifest. Cancelling is dropping the writer. Reading: [`MigrationReader::open`],
//! [`MigrationReader::verify`], [`MigrationReader::open_component`] and the
//! [`ComponentReader`]'s checked reads. Everything streams with 256 KiB buffers.

mod component;
mod component_reader;
mod error;
mod folder;
mod hashing;
mod manifest;
mod reader;
mod safety;
mod stream_check;
mod writer;

pub use component::{BuiltComponent, ComponentBuilder};
pub use component_reader::ComponentReader;
pub use error::ArchiveError;
pub use folder::pack_folder;
pub use hashing::{sha256_file, sha256_hex};
pub use manifest::{
    component_entry_name, ComponentRecord, EntryRecord, ItemCounts, Manifest, MigratorInfo,
    SourceInfo, COMPONENTS_DIR,
};
pub use reader::{MigrationReader, Mismatch, VerifyReport, VERIFY_TASK};
pub use safety::is_safe_entry_path;
pub use writer::MigrationWriter;

/// Format version this build writes; it reads versions up to this one.
pub const FORMAT_VERSION: u32 = 1;
/// File name extension of migration files (without the dot).
pub const EXTENSION: &str = "ininmigr";
/// Name of the manifest entry in the outer zip.
pub const MANIFEST_ENTRY: &str = "manifest.json";
