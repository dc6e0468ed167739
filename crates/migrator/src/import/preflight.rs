//! Preflight: every check that must pass before an import touches anything.
//!
//! Each refusal is its own [`Refusal`] variant with its own message, so the
//! CLI can tell the user exactly what to do.

use std::path::{Path, PathBuf};
use transit_archive::Manifest;
use transit_core::IoContext;
use transit_server::lock::ServiceStatus;
use transit_server::{ProductRelease, Role, ServerIdentity, ServerRoot};

/// How an import treats the data (docs/migrator.md, "Import").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// From another server: import rules apply, and the source server and
    /// site names become the target's.
    Migration,
    /// Back into the same server: the data is restored exactly as exported.
    Recovery,
}

/// Why an import is refused before it starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The server service holds its lock.
    #[error("the server service is running (pid {pid}): stop the server service first (`transit server stop`)")]
    ServiceRunning {
        /// The service's process ID.
        pid: u32,
    },
    /// Another import is running on this server.
    #[error("an import is running on this server: wait for it to finish")]
    ImportRunning,
    /// An export is reading this server.
    #[error("an export of this server is running: wait for it to finish, then import")]
    ExportRunning,
    /// An import was interrupted and not yet rolled back.
    #[error("an interrupted import must be rolled back first: run `transit recover`")]
    InterruptedImport,
    /// The extraction folder already holds files.
    #[error("the extraction folder {} is not empty: choose an empty folder, or add --force to overwrite what is in it", .0.display())]
    ExtractionFolderNotEmpty(PathBuf),
    /// The file's manifest names a release that is not a product release.
    #[error("the migration file names an unknown release `{0}`")]
    UnknownRelease(String),
    /// The file holds data of another server role.
    #[error("the migration file comes from a {file} server and cannot be imported into a {target} server")]
    RoleMismatch {
        /// The file's role.
        file: String,
        /// The target's role.
        target: Role,
    },
    /// Recovery mode on a Media Server.
    #[error(
        "a Media Server accepts migration mode only (recovery is not supported on a Media Server)"
    )]
    RecoveryOnMedia,
    /// The source is 3.0 or older.
    #[error("the source server runs {0}; sources at 3.0 or older are not supported (migrate through 2020 R2 first)")]
    SourceTooOld(ProductRelease),
    /// The file was written by an older Migrator release than the target's.
    #[error("the file was written by Migrator {file}, older than this server's Migrator {target}; export again with Migrator {target}: on the source server run `transit --server-root SOURCE migrator install --release \"{target}\" --build {target_build}`, then export again")]
    OlderMigrator {
        /// The file's Migrator release.
        file: ProductRelease,
        /// The target's Migrator release.
        target: ProductRelease,
        /// The target's Migrator build (the build to install on the source).
        target_build: u32,
    },
    /// `migrator install` of an older Migrator than the installed one.
    #[error("Migrator {installed} build {installed_build} is installed; installing the older {requested} build {requested_build} is refused (a downgrade)")]
    MigratorDowngrade {
        /// The installed release.
        installed: ProductRelease,
        /// The installed build.
        installed_build: u32,
        /// The requested release.
        requested: ProductRelease,
        /// The requested build.
        requested_build: u32,
    },
    /// The file was written by a newer Migrator than the target's.
    #[error("the file was written by Migrator {file} build {file_build}, newer than this server's Migrator {target} build {target_build}")]
    NewerMigrator {
        /// The file's Migrator release.
        file: ProductRelease,
        /// The file's Migrator build.
        file_build: u32,
        /// The target's Migrator release.
        target: ProductRelease,
        /// The target's Migrator build.
        target_build: u32,
    },
    /// The target runs an older product release than the source.
    #[error("the target server runs {target}, older than the source's {source_release}: migration into an older release is refused")]
    TargetOlder {
        /// The source's product release.
        source_release: ProductRelease,
        /// The target's product release.
        target: ProductRelease,
    },
    /// Recovery needs the very same Migrator release and build.
    #[error("recovery mode needs the same Migrator release and build: the file has {file} build {file_build}, this server {target} build {target_build}")]
    RecoveryMigratorMismatch {
        /// The file's Migrator release.
        file: ProductRelease,
        /// The file's Migrator build.
        file_build: u32,
        /// The target's Migrator release.
        target: ProductRelease,
        /// The target's Migrator build.
        target_build: u32,
    },
    /// Recovery needs the same product release.
    #[error("recovery mode needs the same product release: the file comes from {source_release}, this server runs {target}")]
    RecoveryReleaseMismatch {
        /// The source's product release.
        source_release: ProductRelease,
        /// The target's product release.
        target: ProductRelease,
    },
    /// Recovery restores the server the file came from, not another one.
    #[error("recovery mode restores the same server: the file comes from {source_server}, this server is {target}; use migration mode for a different server (such as a DR server with another name)")]
    RecoveryOtherServer {
        /// The file's server name.
        source_server: String,
        /// This server's name.
        target: String,
    },
    /// Recovery of a server older than 2015 R1. The reference: "Interaction
    /// Migrator supports recovery and version control for CIC 2015 R1 or
    /// later to CIC 2015 R1 or later."
    #[error("recovery mode is supported only from 2015 R1 on: the file comes from {0} (\"Interaction Migrator supports recovery and version control for CIC 2015 R1 or later to CIC 2015 R1 or later\")")]
    RecoveryBefore2015(ProductRelease),
    /// A same-version migration into a server of the same name. The
    /// reference: "The CIC server to which you import data must have a
    /// different name than the CIC server from which you export CIC
    /// configuration data." (under "Same version to same version database
    /// migration or recovery"; a migration from an older release may keep
    /// the name: "Use migration mode any time you are importing data from a
    /// server running a previous CIC or Interaction Media Server version,
    /// or from a different machine name (for same version to same version
    /// migrations)").
    #[error("a same-version migration ({release} to {release}) needs a target with another name than the source's {server}: \"The CIC server to which you import data must have a different name than the CIC server from which you export\" (use recovery mode to restore the same server)")]
    SameServerName {
        /// The server name both share.
        server: String,
        /// The release both run.
        release: ProductRelease,
    },
    /// Migration from a server with the same site ID.
    #[error("the source and this server share site ID {0}: migration mode needs a different site ID (use recovery mode to restore the same server)")]
    SameSiteId(u32),
    /// Not enough free disk space.
    #[error("not enough free space on {path}: the import needs about {needed} bytes (staging and restore point), {available} are free")]
    NotEnoughSpace {
        /// Where the space is needed.
        path: PathBuf,
        /// Bytes needed.
        needed: u64,
        /// Bytes free.
        available: u64,
    },
}

impl transit_core::Kind for Refusal {
    fn kind(&self) -> transit_core::ErrorKind {
        match self {
            Refusal::ServiceRunning { .. } | Refusal::ImportRunning | Refusal::ExportRunning => {
                transit_core::ErrorKind::ServiceRunning
            }
            _ => transit_core::ErrorKind::Refused,
        }
    }
}

fn release(text: &str) -> Result<ProductRelease, Refusal> {
    text.parse()
        .map_err(|_| Refusal::UnknownRelease(text.to_string()))
}

/// The version, role and site rules (docs/migrator.md, "Import"), checked in
/// the order a user can act on them.
pub fn check_versions(
    manifest: &Manifest,
    target: &ServerIdentity,
    mode: ImportMode,
) -> Result<(), Refusal> {
    let target_role = target.server.role;
    if !manifest
        .source
        .role
        .eq_ignore_ascii_case(&target_role.to_string())
    {
        return Err(Refusal::RoleMismatch {
            file: manifest.source.role.clone(),
            target: target_role,
        });
    }
    if mode == ImportMode::Recovery && target_role == Role::Media {
        return Err(Refusal::RecoveryOnMedia);
    }
    let source_release = release(&manifest.source.product_release)?;
    let file_migrator = release(&manifest.migrator.release)?;
    let file_build = manifest.migrator.build;
    let target_release = target.server.product_release;
    let target_migrator = target.migrator.release;
    let target_build = target.migrator.build;
    if source_release.is_3_0_or_older() {
        return Err(Refusal::SourceTooOld(source_release));
    }
    if file_migrator < target_migrator {
        return Err(Refusal::OlderMigrator {
            file: file_migrator,
            target: target_migrator,
            target_build,
        });
    }
    if source_release > target_release {
        return Err(Refusal::TargetOlder {
            source_release,
            target: target_release,
        });
    }
    match mode {
        ImportMode::Migration => {
            if file_migrator > target_migrator || file_build > target_build {
                return Err(Refusal::NewerMigrator {
                    file: file_migrator,
                    file_build,
                    target: target_migrator,
                    target_build,
                });
            }
            if manifest.source.site_id == target.server.site_id {
                return Err(Refusal::SameSiteId(target.server.site_id));
            }
            if source_release == target_release
                && manifest
                    .source
                    .server_name
                    .eq_ignore_ascii_case(&target.server.name)
            {
                return Err(Refusal::SameServerName {
                    server: target.server.name.clone(),
                    release: target_release,
                });
            }
        }
        ImportMode::Recovery => {
            if source_release < ProductRelease::FIRST_YEARLY {
                return Err(Refusal::RecoveryBefore2015(source_release));
            }
            if !manifest
                .source
                .server_name
                .eq_ignore_ascii_case(&target.server.name)
            {
                return Err(Refusal::RecoveryOtherServer {
                    source_server: manifest.source.server_name.clone(),
                    target: target.server.name.clone(),
                });
            }
            if file_migrator != target_migrator || file_build != target_build {
                return Err(Refusal::RecoveryMigratorMismatch {
                    file: file_migrator,
                    file_build,
                    target: target_migrator,
                    target_build,
                });
            }
            if source_release != target_release {
                return Err(Refusal::RecoveryReleaseMismatch {
                    source_release,
                    target: target_release,
                });
            }
        }
    }
    Ok(())
}

/// Refuses while the server service runs.
pub fn check_service(root: &ServerRoot) -> Result<(), crate::MigratorError> {
    match root.service_status()? {
        ServiceStatus::Running { pid } => Err(Refusal::ServiceRunning { pid }.into()),
        ServiceStatus::Stopped => Ok(()),
    }
}

/// Refuses an extraction folder that is the server root or inside it.
pub fn check_extraction_folder(
    folder: &Path,
    root: &Path,
) -> Result<PathBuf, crate::MigratorError> {
    Ok(transit_core::paths::check_outside_root(
        folder,
        root,
        "extraction folder",
    )?)
}

/// Free bytes on the file system holding `path` (or its nearest existing
/// ancestor).
pub fn free_space(path: &Path) -> std::io::Result<u64> {
    let mut probe = path;
    while !probe.exists() {
        probe = probe.parent().unwrap_or(Path::new("/"));
    }
    let stat = nix::sys::statvfs::statvfs(probe).map_err(std::io::Error::from)?;
    Ok(stat.blocks_available() as u64 * stat.fragment_size() as u64)
}

/// Refuses when `needed` bytes will not fit on the file system of `path`.
pub fn check_space(path: &Path, needed: u64) -> Result<(), crate::MigratorError> {
    let available = free_space(path).at(path)?;
    if needed > available {
        return Err(Refusal::NotEnoughSpace {
            path: path.to_path_buf(),
            needed,
            available,
        }
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
