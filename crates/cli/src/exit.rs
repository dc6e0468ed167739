//! Exit codes, in one place.
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success |
//! | 1 | any other failure |
//! | 2 | usage: bad arguments or options |
//! | 3 | bad input file: a malformed `.reg` file, `server.toml`, or registry database |
//! | 4 | refused by a safety or version rule (such as overwriting an existing server) |
//! | 5 | the server service is running |
//! | 6 | wrong password for a migration file |
//! | 7 | the migration file is encrypted and no password was given |
//! | 8 | a password was given for a migration file that is not encrypted |
//! | 9 | the migration file is truncated |
//! | 10 | the migration file was tampered with (hash or AES authentication mismatch, unsafe entry) |
//! | 11 | the file is not a migration file |
//! | 12 | the migration file has a newer format than this build reads |
//! | 130 | stopped by the user (Ctrl-C, SIGTERM); nothing was written |

use transit_archive::ArchiveError;
use transit_migrator::MigratorError;
use transit_registry::RegistryError;
use transit_server::ServerError;

/// The exit-code table as shown at the end of `--help`.
pub const HELP: &str = "Exit codes:
  0  success
  1  any other failure
  2  usage: bad arguments or options
  3  bad input file (malformed .reg file, server.toml or registry database)
  4  refused by a safety or version rule
  5  the server service is running (stop it first)
  6  wrong password for a migration file
  7  the migration file is encrypted and no password was given
  8  a password was given for a migration file that is not encrypted
  9  the migration file is truncated
  10 the migration file was tampered with (hash or AES authentication mismatch, unsafe entry)
  11 the file is not a migration file
  12 the migration file has a newer format than this build reads
  130 stopped by the user (Ctrl-C, SIGTERM); nothing was written";

/// A mistake in how the command was called (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// `transit verify` found mismatches (exit code 10).
#[derive(Debug, thiserror::Error)]
#[error("{0} mismatch(es) found: the migration file was damaged or tampered with")]
pub struct VerifyFailed(pub usize);

/// An outcome reported only through the exit code, with nothing printed
/// as an error: `transit diff` uses `Quiet(1)` for "the two sides differ",
/// as `diff` does.
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct Quiet(pub u8);

/// The exit code for an error, found by walking its cause chain.
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(Quiet(code)) = cause.downcast_ref::<Quiet>() {
            return *code;
        }
        if cause.downcast_ref::<UsageError>().is_some() {
            return 2;
        }
        if cause.downcast_ref::<VerifyFailed>().is_some() {
            return 10;
        }
        if let Some(e) = cause.downcast_ref::<ArchiveError>() {
            return archive_code(e);
        }
        if let Some(e) = cause.downcast_ref::<MigratorError>() {
            match e {
                MigratorError::FolderInsideRoot { .. } => return 4,
                MigratorError::Refused(transit_migrator::import::Refusal::ServiceRunning {
                    ..
                }) => return 5,
                MigratorError::Refused(_) => return 4,
                MigratorError::HandlersFolder(_) | MigratorError::Catalog(_) => return 2,
                MigratorError::Cancelled => return 130,
                MigratorError::Archive(a) => return archive_code(a),
                MigratorError::Registry(r) => return registry_code(r),
                MigratorError::Server(ServerError::ServiceRunning { .. }) => return 5,
                _ => {}
            }
        }
        if cause
            .downcast_ref::<transit_catalog::CatalogError>()
            .is_some()
        {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<ServerError>() {
            match e {
                ServerError::ServiceRunning { .. } => return 5,
                ServerError::BadIdentity { .. } => return 3,
                ServerError::AlreadyExists(_) | ServerError::Leftovers(_) => return 4,
                ServerError::Registry(r) => return registry_code(r),
                _ => {}
            }
        }
        if let Some(e) = cause.downcast_ref::<RegistryError>() {
            return registry_code(e);
        }
    }
    1
}

fn archive_code(err: &ArchiveError) -> u8 {
    match err {
        ArchiveError::WrongPassword { .. } => 6,
        ArchiveError::PasswordRequired { .. } => 7,
        ArchiveError::PasswordNotNeeded { .. } => 8,
        ArchiveError::Truncated { .. } => 9,
        ArchiveError::Tampered { .. }
        | ArchiveError::SizeMismatch { .. }
        | ArchiveError::UnsafePath { .. } => 10,
        ArchiveError::NotAMigrationFile { .. } => 11,
        ArchiveError::NewerFormat { .. } => 12,
        ArchiveError::UnknownComponent { .. } => 2,
        ArchiveError::Exists { .. } => 4,
        _ => 1,
    }
}

fn registry_code(err: &RegistryError) -> u8 {
    match err {
        RegistryError::RegFile(_)
        | RegistryError::OutsideRoot { .. }
        | RegistryError::BadKeyLine { .. }
        | RegistryError::BadValueLine { .. }
        | RegistryError::Corrupt(_) => 3,
        RegistryError::Path(_) | RegistryError::InvalidValue { .. } => 2,
        _ => 1,
    }
}
