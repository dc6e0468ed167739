//! The Dialer package: its creator on export and the Dialer server's
//! package processor on the target.
//!
//! The vendor's Migrator runs a Dialer package creator that reads the
//! Dialer configuration (`dialer_config.xml`) and builds
//! `dialer_migration.zip` inside the migration file; the console skips it
//! under `-noprompt` ("If you use this option, Interaction Migrator skips
//! the Dialer package creator."). On import the package is extracted for
//! the Dialer server, and the `dialer-processor` rule sets `Launch Dialer
//! Migration Package Processor` to 1. The migration guide: "Dialer server
//! sets the parameter to 0 upon a successful import or if it is unable to
//! find a `dialer_migration.zip` file." [`PackageProcessor`] is that step,
//! run by `transit server start`; it logs when it starts and completes.

use crate::error::Result;
use crate::export::folders::FileItem;
use std::io::{Read, Write};
use std::path::Path;
use transit_core::{IoContext, PathIoError};
use transit_registry::{RegistryRead, ValueData};
use transit_server::layout::files::{DIALER_CONFIG, DIALER_PACKAGE};
use transit_server::ServerRoot;

/// The catalog component that carries the package.
pub const COMPONENT: &str = "Dialer Package";
/// The package's entry in the component's zip.
pub const ENTRY: &str = "dialer/dialer_migration.zip";
/// The configuration file's name inside the package.
pub const CONFIG_IN_PACKAGE: &str = "dialer_config.xml";
/// The server parameter the import sets and the processor resets.
pub use crate::import::rules::dialer::PARAMETER;

fn zip_error(path: &Path, e: zip::result::ZipError) -> PathIoError {
    PathIoError::new(path, std::io::Error::other(e))
}

/// The Dialer package creator: builds `dialer_migration.zip` (holding
/// `dialer_config.xml`) in `dir` when the server has a Dialer
/// configuration; `None` when it has none.
pub fn create_package(root: &ServerRoot, dir: &Path) -> Result<Option<FileItem>> {
    let config = root.files_dir().join(DIALER_CONFIG);
    if !config.is_file() {
        return Ok(None);
    }
    let out = dir.join("dialer_migration.zip");
    let file = std::fs::File::create(&out).at(&out)?;
    let mut zip = zip::ZipWriter::new(file);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(CONFIG_IN_PACKAGE, options)
        .map_err(|e| zip_error(&out, e))?;
    let mut source = std::fs::File::open(&config).at(&config)?;
    std::io::copy(&mut source, &mut zip).at(&config)?;
    let mut file = zip.finish().map_err(|e| zip_error(&out, e))?;
    file.flush().at(&out)?;
    let size = std::fs::metadata(&out).at(&out)?.len();
    Ok(Some(FileItem {
        source: out,
        entry: ENTRY.to_string(),
        size,
    }))
}

/// What the package processor did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// The parameter was not 1: nothing to do.
    NotRequested,
    /// The package was imported: the Dialer configuration is in place and
    /// the parameter is back to 0.
    Imported,
    /// No `dialer_migration.zip`: the parameter is back to 0.
    NoPackage,
    /// The package could not be read; the parameter stays 1.
    Failed(String),
}

fn parameter_path(root: &ServerRoot) -> transit_registry::KeyPath {
    root.ds_container("Server Parameters")
        .join(PARAMETER)
        .expect("constant name")
}

fn set_parameter(root: &ServerRoot, value: &str) -> Result<()> {
    let mut registry = root.open_registry()?;
    let mut txn = registry.write()?;
    txn.set_value(&parameter_path(root), "Value", &ValueData::Sz(value.into()))?;
    txn.commit()?;
    Ok(())
}

fn read_config(package: &Path) -> std::result::Result<Vec<u8>, String> {
    let file = std::fs::File::open(package).map_err(|e| e.to_string())?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let mut entry = zip
        .by_name(CONFIG_IN_PACKAGE)
        .map_err(|e| format!("{CONFIG_IN_PACKAGE}: {e}"))?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// The Dialer server's package processor: when the parameter is 1, imports
/// `files/Dialer/dialer_migration.zip` (its `dialer_config.xml` replaces
/// the server's) and resets the parameter to 0; without a package it also
/// resets it to 0. Logs when it starts and how it completed.
pub fn process(root: &ServerRoot) -> Result<Processed> {
    let requested = root
        .open_registry()?
        .get_string(&parameter_path(root), "Value")
        .is_ok_and(|v| v.trim() == "1");
    if !requested {
        return Ok(Processed::NotRequested);
    }
    tracing::info!(server = %root.name(), "Dialer migration package processor started");
    let package = root.files_dir().join(DIALER_PACKAGE);
    if !package.is_file() {
        set_parameter(root, "0")?;
        tracing::warn!(
            server = %root.name(),
            "Dialer migration package processor completed: unable to find dialer_migration.zip; {PARAMETER} set to 0"
        );
        return Ok(Processed::NoPackage);
    }
    let config = match read_config(&package) {
        Ok(bytes) => bytes,
        Err(reason) => {
            tracing::error!(
                server = %root.name(),
                "Dialer migration package processor failed: {}: {reason}",
                package.display()
            );
            return Ok(Processed::Failed(reason));
        }
    };
    let dest = root.files_dir().join(DIALER_CONFIG);
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).at(parent)?;
    }
    let tmp = dest.with_extension("xml.tmp");
    std::fs::write(&tmp, &config).at(&tmp)?;
    std::fs::rename(&tmp, &dest).at(&dest)?;
    std::fs::remove_file(&package).at(&package)?;
    set_parameter(root, "0")?;
    tracing::info!(
        server = %root.name(),
        "Dialer migration package processor completed: successful; {PARAMETER} set to 0"
    );
    Ok(Processed::Imported)
}

/// [`process`] as a service of `transit server start`: it runs once at
/// start and then ends (the other services keep running).
pub struct PackageProcessor;

impl transit_server::Service for PackageProcessor {
    fn name(&self) -> &str {
        "dialer-package-processor"
    }

    fn run(
        self: Box<Self>,
        server: &ServerRoot,
        _stop: &transit_core::CancelToken,
    ) -> std::result::Result<(), transit_server::service::ServiceFailure> {
        process(server).map(|_| ()).map_err(|e| e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_server::{InitParams, Role};

    fn root(dir: &Path) -> ServerRoot {
        ServerRoot::init(
            dir,
            InitParams {
                name: "CIC02".into(),
                site_name: "Paris".into(),
                site_id: 2,
                role: Role::Cic,
                release: "2018 R1".parse().unwrap(),
                patch: 0,
                machine_key: None,
            },
        )
        .unwrap()
    }

    fn parameter(root: &ServerRoot) -> Option<String> {
        root.open_registry()
            .unwrap()
            .get_string(&parameter_path(root), "Value")
            .ok()
    }

    #[test]
    fn the_package_round_trips_and_both_processor_paths_reset_the_switch() {
        let dir = tempfile::tempdir().unwrap();
        let r = root(&dir.path().join("s"));
        assert_eq!(create_package(&r, dir.path()).unwrap(), None, "no Dialer");
        let config = r.files_dir().join(DIALER_CONFIG);
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, b"<DialerConfig Server=\"CIC01\"/>").unwrap();
        let item = create_package(&r, dir.path()).unwrap().unwrap();
        assert_eq!(item.entry, ENTRY);

        assert_eq!(process(&r).unwrap(), Processed::NotRequested);
        // Path 1: a package.
        std::fs::write(&config, b"old").unwrap();
        let package = r.files_dir().join(DIALER_PACKAGE);
        std::fs::create_dir_all(package.parent().unwrap()).unwrap();
        std::fs::copy(&item.source, &package).unwrap();
        set_parameter(&r, "1").unwrap();
        assert_eq!(process(&r).unwrap(), Processed::Imported);
        assert_eq!(
            std::fs::read(&config).unwrap(),
            b"<DialerConfig Server=\"CIC01\"/>"
        );
        assert!(!package.exists());
        assert_eq!(parameter(&r).as_deref(), Some("0"));
        // Path 2: no package.
        set_parameter(&r, "1").unwrap();
        assert_eq!(process(&r).unwrap(), Processed::NoPackage);
        assert_eq!(parameter(&r).as_deref(), Some("0"));
        // A damaged package: reported, the switch stays for another try.
        std::fs::write(&package, b"not a zip").unwrap();
        set_parameter(&r, "1").unwrap();
        assert!(matches!(process(&r).unwrap(), Processed::Failed(_)));
        assert_eq!(parameter(&r).as_deref(), Some("1"));
    }
}
