//! Exit codes, in one place.
//!
//! [`Exit`] is the only table of exit codes: `--help` prints it
//! ([`help`]), the README's table is checked against it
//! ([`markdown_table`]), and the tests name its variants. Library errors
//! answer [`transit_core::Kind::kind`]; [`code_for`] walks an error's cause
//! chain and maps the first kind it finds with [`Exit::from_kind`].

use transit_core::{ErrorKind, Kind};

macro_rules! exit_codes {
    ($( #[doc = $doc:literal] $name:ident = $code:literal, )*) => {
        /// A process exit status of `transit`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u8)]
        pub enum Exit {
            $( #[doc = $doc] $name = $code, )*
        }

        impl Exit {
            /// Every exit status, in numeric order.
            pub const ALL: &'static [Exit] = &[$(Exit::$name),*];

            /// The one-line meaning of this status (its doc line).
            pub fn meaning(self) -> &'static str {
                match self {
                    $( Exit::$name => $doc.trim(), )*
                }
            }
        }
    };
}

exit_codes! {
    /// success
    Success = 0,
    /// any other failure
    Failure = 1,
    /// usage: bad arguments or options
    Usage = 2,
    /// bad input file: a malformed `.reg` file, `server.toml` or registry database
    BadInput = 3,
    /// refused by a safety or version rule (such as initialising over an existing server)
    Refused = 4,
    /// the server service is running (stop it first), or another import or an export of the server is (wait for it)
    ServiceRunning = 5,
    /// wrong password for a migration file
    WrongPassword = 6,
    /// the migration file is encrypted and no password was given
    PasswordRequired = 7,
    /// a password was given for a migration file that is not encrypted
    PasswordNotNeeded = 8,
    /// the migration file is truncated
    Truncated = 9,
    /// the migration file was tampered with (hash or AES authentication mismatch, unsafe entry); `verify` found mismatches
    Tampered = 10,
    /// the file is not a migration file
    NotMigrationFile = 11,
    /// the migration file has a newer format than this build reads
    NewerFormat = 12,
    /// the disk filled up: the message names where, and whether the import was rolled back
    DiskFull = 13,
    /// a `.reg` export met data its format cannot hold (REGEDIT4 and a character outside Windows-1252)
    ExportUnrepresentable = 14,
    /// database: the server cannot be reached (refused, no route, timed out)
    DbUnreachable = 20,
    /// database: the server refused the login (wrong user name or password)
    DbCredentials = 21,
    /// database: the named database or SQLite file does not exist
    DbMissing = 22,
    /// database: the schema is at the wrong version (or is not a CIC schema)
    DbVersion = 23,
    /// database: the user lacks a permission the operation needs (create, insert, delete, alter)
    DbPermission = 24,
    /// database: the URL names an unsupported engine (use postgres://, mysql:// or sqlite://)
    DbUnsupported = 25,
    /// database: `db check` found disabled constraints, indexes or triggers
    DbDisabledObjects = 26,
    /// database: duplicate or NULL keys block the upgrade; run `db repair --delete` first
    DbNeedsRepair = 27,
    /// database: a copy stopped on an error (lost connection, rejected row); run it again with `--resume RUN`
    DbCopyStopped = 28,
    /// database: validation found rows that differ between source and target
    DbValidation = 29,
    /// update bundle malformed or truncated, or its payload differs from its manifest
    UpdateBadBundle = 30,
    /// update not signed by a publisher, or the signature does not match its manifest
    UpdateUnsigned = 31,
    /// update publisher not on the allow-list (or signing with another publisher's key)
    UpdatePublisher = 32,
    /// update metadata not signed by its role's keys (tampered metadata)
    UpdateBadSignature = 33,
    /// update metadata older than the version already trusted (rollback)
    UpdateRollback = 34,
    /// update metadata expired (freeze)
    UpdateExpired = 35,
    /// update metadata or payload differs from what the role above lists (mix-and-match, tampered payload)
    UpdateMismatch = 36,
    /// update metadata larger than its size limit
    UpdateTooLarge = 37,
    /// update root metadata version out of order
    UpdateRootOrder = 38,
    /// update repository or key missing, or a key that is not its role's
    UpdateKeys = 39,
    /// stopped by the user (Ctrl-C, SIGTERM); nothing was written
    Stopped = 130,
}

impl Exit {
    /// The numeric status.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status for an error of `kind`.
    pub fn from_kind(kind: ErrorKind) -> Exit {
        match kind {
            ErrorKind::Usage => Exit::Usage,
            ErrorKind::BadInput => Exit::BadInput,
            ErrorKind::Refused => Exit::Refused,
            ErrorKind::ServiceRunning => Exit::ServiceRunning,
            ErrorKind::WrongPassword => Exit::WrongPassword,
            ErrorKind::PasswordRequired => Exit::PasswordRequired,
            ErrorKind::PasswordNotNeeded => Exit::PasswordNotNeeded,
            ErrorKind::Truncated => Exit::Truncated,
            ErrorKind::Tampered => Exit::Tampered,
            ErrorKind::NotMigrationFile => Exit::NotMigrationFile,
            ErrorKind::NewerFormat => Exit::NewerFormat,
            ErrorKind::Cancelled => Exit::Stopped,
            ErrorKind::DiskFull => Exit::DiskFull,
            ErrorKind::ExportUnrepresentable => Exit::ExportUnrepresentable,
            ErrorKind::DbUnreachable => Exit::DbUnreachable,
            ErrorKind::DbCredentials => Exit::DbCredentials,
            ErrorKind::DbMissing => Exit::DbMissing,
            ErrorKind::DbVersion => Exit::DbVersion,
            ErrorKind::DbPermission => Exit::DbPermission,
            ErrorKind::DbUnsupported => Exit::DbUnsupported,
            ErrorKind::DbDisabledObjects => Exit::DbDisabledObjects,
            ErrorKind::DbNeedsRepair => Exit::DbNeedsRepair,
            ErrorKind::DbCopyStopped => Exit::DbCopyStopped,
            ErrorKind::DbValidation => Exit::DbValidation,
            ErrorKind::UpdateBadBundle => Exit::UpdateBadBundle,
            ErrorKind::UpdateUnsigned => Exit::UpdateUnsigned,
            ErrorKind::UpdatePublisher => Exit::UpdatePublisher,
            ErrorKind::UpdateBadSignature => Exit::UpdateBadSignature,
            ErrorKind::UpdateRollback => Exit::UpdateRollback,
            ErrorKind::UpdateExpired => Exit::UpdateExpired,
            ErrorKind::UpdateMismatch => Exit::UpdateMismatch,
            ErrorKind::UpdateTooLarge => Exit::UpdateTooLarge,
            ErrorKind::UpdateRootOrder => Exit::UpdateRootOrder,
            ErrorKind::UpdateKeys => Exit::UpdateKeys,
            _ => Exit::Failure,
        }
    }
}

/// The exit-code table as shown at the end of `--help`.
pub fn help() -> String {
    let mut text = String::from("Exit codes:\n");
    for exit in Exit::ALL {
        text.push_str(&format!("  {:<3} {}\n", exit.code(), exit.meaning()));
    }
    text.trim_end().to_string()
}

/// The exit-code table in Markdown, as the README shows it.
#[cfg(test)]
pub fn markdown_table() -> String {
    let mut text = String::from("| code | meaning |\n|------|---------|\n");
    for exit in Exit::ALL {
        text.push_str(&format!("| {} | {} |\n", exit.code(), exit.meaning()));
    }
    text
}

/// A mistake in how the command was called ([`Exit::Usage`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl Kind for UsageError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Usage
    }
}

/// `transit verify` found mismatches ([`Exit::Tampered`]).
#[derive(Debug, thiserror::Error)]
#[error("{0} mismatch(es) found: the migration file was damaged or tampered with")]
pub struct VerifyFailed(pub usize);

impl Kind for VerifyFailed {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Tampered
    }
}

/// An outcome reported only through the exit status, with nothing printed
/// as an error: `transit diff` uses `Quiet(Exit::Failure)` for "the two
/// sides differ", as `diff` does.
#[derive(Debug, thiserror::Error)]
#[error("exit status {}", .0.code())]
pub struct Quiet(pub Exit);

/// Tries each library error type on one cause and returns its kind.
macro_rules! kind_of {
    ($cause:expr, $($ty:ty),+ $(,)?) => {{
        let cause = $cause;
        None $( .or_else(|| cause.downcast_ref::<$ty>().map(Kind::kind)) )+
    }};
}

/// The kind of the outermost error in the chain that knows its kind.
pub fn kind_for(err: &anyhow::Error) -> Option<ErrorKind> {
    err.chain().find_map(|cause| {
        kind_of!(
            cause,
            UsageError,
            VerifyFailed,
            crate::console::ConsoleError,
            transit_core::PathIoError,
            transit_core::paths::PathCheckError,
            transit_registry::RegistryError,
            transit_registry::path::PathError,
            transit_server::ServerError,
            transit_catalog::CatalogError,
            transit_archive::ArchiveError,
            transit_migrator::MigratorError,
            transit_migrator::import::Refusal,
            transit_migrator::diff::DiffError,
            transit_migrator::schedule::ScheduleError,
            transit_units::UnitError,
            transit_wizard::WizardError,
            transit_demo::DemoRefusal,
            transit_dbassist::DbError,
            transit_update::BundleError,
            transit_update::VerifyError,
            transit_update::IngestError,
            transit_update::RepoError,
            transit_update::keys::KeyError,
            transit_update::publishers::PublisherError,
            transit_update::manifest::ManifestError,
            transit_update::store::StoreError,
            transit_update::states::StateError,
            transit_provider::ProviderError,
            transit_provider::InitError,
            transit_provider::client::ClientError,
            transit_provider::store::StoreError,
            transit_provider::remote::RemoteError,
            transit_client::AgentError,
            transit_client::ConfigError,
            transit_client::control::ControlError,
            transit_client::install::InstallError,
            transit_client::licence::LicenceError,
            transit_client::net::NetError,
            transit_client::settings::SettingsError,
        )
    })
}

/// The exit status for an error.
pub fn code_for(err: &anyhow::Error) -> Exit {
    if let Some(Quiet(exit)) = err.downcast_ref::<Quiet>() {
        return *exit;
    }
    kind_for(err).map_or(Exit::Failure, Exit::from_kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        let codes: Vec<u8> = Exit::ALL.iter().map(|e| e.code()).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn the_readme_shows_this_table() {
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md's exit-code table differs from exit::Exit; paste:\n{}",
            markdown_table()
        );
    }

    #[test]
    fn help_lists_every_code() {
        let help = help();
        for exit in Exit::ALL {
            assert!(help.contains(exit.meaning()));
        }
    }

    #[test]
    fn the_first_known_kind_in_the_chain_wins() {
        let err = anyhow::Error::new(transit_migrator::MigratorError::Cancelled)
            .context("while exporting");
        assert_eq!(code_for(&err), Exit::Stopped);
        let err = anyhow::anyhow!("plain");
        assert_eq!(code_for(&err), Exit::Failure);
    }
}
