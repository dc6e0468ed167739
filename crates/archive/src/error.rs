//! The crate's error type and the mapping of `zip` crate errors onto it.

use std::io;
use std::path::{Path, PathBuf};

use zip::result::ZipError;

/// Everything that can go wrong while writing or reading a migration file.
///
/// Every variant names the file (`path`) and, where there is one, the entry.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The password does not match the encrypted file. When `certain` is
    /// false the format cannot tell a wrong password from damage (one
    /// entry's password check failed and no other entry could be tried).
    #[error("wrong password for {}{}", path.display(), if *certain { "" } else { " (or the file is damaged)" })]
    WrongPassword {
        /// The migration file.
        path: PathBuf,
        /// Whether every entry refused the password.
        certain: bool,
    },
    /// The file is encrypted but no password was given.
    #[error("{} is encrypted: a password is required", path.display())]
    PasswordRequired {
        /// The migration file.
        path: PathBuf,
    },
    /// A password was given but the file is not encrypted.
    #[error("{} is not encrypted: no password is needed", path.display())]
    PasswordNotNeeded {
        /// The migration file.
        path: PathBuf,
    },
    /// The file starts like a zip but ends early (e.g. an interrupted copy).
    #[error("{} is truncated: {detail}", path.display())]
    Truncated {
        /// The migration file.
        path: PathBuf,
        /// What was found missing.
        detail: String,
    },
    /// The file is not a zip at all, or a zip without a valid `manifest.json`.
    #[error("{} is not a migration file: {detail}", path.display())]
    NotAMigrationFile {
        /// The file.
        path: PathBuf,
        /// Why it was rejected.
        detail: String,
    },
    /// The file was written by a newer Migrator.
    #[error(
        "{} has format version {found}, this build reads versions up to {supported}",
        path.display()
    )]
    NewerFormat {
        /// The migration file.
        path: PathBuf,
        /// The manifest's `format_version`.
        found: u32,
        /// [`crate::FORMAT_VERSION`].
        supported: u32,
    },
    /// Content differs from what the manifest (or the AES authentication code) says.
    /// An empty `entry` concerns the file as a whole.
    #[error("{} was tampered with or damaged: {}{detail}", path.display(), EntryPrefix(entry))]
    Tampered {
        /// The migration file.
        path: PathBuf,
        /// The entry concerned.
        entry: String,
        /// What differs.
        detail: String,
    },
    /// An entry's size differs from the size the manifest declares.
    #[error(
        "{}: entry {entry} is declared as {declared} bytes but has at least {actual_at_least}",
        path.display()
    )]
    SizeMismatch {
        /// The migration file.
        path: PathBuf,
        /// The entry concerned.
        entry: String,
        /// The size in the manifest.
        declared: u64,
        /// The size found (a lower bound when reading was stopped early).
        actual_at_least: u64,
    },
    /// An entry name that could escape the extraction directory.
    #[error("{}: unsafe entry path {entry:?}", path.display())]
    UnsafePath {
        /// The migration file.
        path: PathBuf,
        /// The offending entry name.
        entry: String,
    },
    /// The manifest lists no component with this id.
    #[error("{}: no component {id:?}", path.display())]
    UnknownComponent {
        /// The migration file.
        path: PathBuf,
        /// The requested component id.
        id: String,
    },
    /// The destination already exists; migration files are never overwritten.
    #[error("{} already exists", path.display())]
    Exists {
        /// The destination.
        path: PathBuf,
    },
    /// An I/O error on a file.
    #[error(transparent)]
    Io(#[from] transit_core::PathIoError),
    /// Any other error reported by the zip library. Its text is part of
    /// this message (not a separate cause, which would print it twice).
    #[error("{}: {error}", path.display())]
    Zip {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        error: ZipError,
    },
}

/// `entry NAME: `, or nothing for an empty name.
struct EntryPrefix<'a>(&'a str);

impl std::fmt::Display for EntryPrefix<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "entry {}: ", self.0)
        }
    }
}

impl transit_core::Kind for ArchiveError {
    fn kind(&self) -> transit_core::ErrorKind {
        use transit_core::ErrorKind;
        match self {
            ArchiveError::WrongPassword { .. } => ErrorKind::WrongPassword,
            ArchiveError::PasswordRequired { .. } => ErrorKind::PasswordRequired,
            ArchiveError::PasswordNotNeeded { .. } => ErrorKind::PasswordNotNeeded,
            ArchiveError::Truncated { .. } => ErrorKind::Truncated,
            ArchiveError::Tampered { .. }
            | ArchiveError::SizeMismatch { .. }
            | ArchiveError::UnsafePath { .. } => ErrorKind::Tampered,
            ArchiveError::NotAMigrationFile { .. } => ErrorKind::NotMigrationFile,
            ArchiveError::NewerFormat { .. } => ErrorKind::NewerFormat,
            ArchiveError::UnknownComponent { .. } => ErrorKind::Usage,
            ArchiveError::Exists { .. } => ErrorKind::Refused,
            ArchiveError::Io(_) | ArchiveError::Zip { .. } => ErrorKind::Other,
        }
    }
}

/// Text of the `zip` crate's AES authentication failure (`src/aes.rs`, `auth_error()`).
const AES_AUTH_FAILURE: &str = "Invalid authentication code";
/// Text of the `zip` crate's CRC-32 failure (`src/crc32.rs`, `invalid_checksum!`).
const CRC_FAILURE: &str = "Invalid checksum";

impl ArchiveError {
    /// Wraps an I/O error on `path`.
    pub(crate) fn at(path: &Path, source: io::Error) -> Self {
        Self::Io(transit_core::PathIoError::new(path, source))
    }

    /// Maps an error the `zip` crate returned while opening an entry of `path`.
    pub(crate) fn from_zip(path: &Path, entry: &str, err: ZipError) -> Self {
        match err {
            ZipError::InvalidPassword => Self::WrongPassword {
                path: path.to_path_buf(),
                certain: false,
            },
            ZipError::UnsupportedArchive(msg) if msg == ZipError::PASSWORD_REQUIRED => {
                Self::PasswordRequired {
                    path: path.to_path_buf(),
                }
            }
            ZipError::Io(e) => Self::from_read(path, entry, e),
            other => Self::Zip {
                path: path.to_path_buf(),
                error: other,
            },
        }
    }

    /// Maps an error the `zip` crate returned while opening an entry of
    /// `path` for reading: what is not a password or I/O problem is damage
    /// (an unreadable local header, an unsupported method), never the zip
    /// library's raw text alone.
    pub(crate) fn from_zip_read(path: &Path, entry: &str, err: ZipError) -> Self {
        match err {
            ZipError::InvalidPassword | ZipError::Io(_) | ZipError::UnsupportedArchive(_) => {
                match Self::from_zip(path, entry, err) {
                    Self::Zip { error, .. } => Self::Tampered {
                        path: path.to_path_buf(),
                        entry: entry.to_string(),
                        detail: format!("unreadable entry ({error})"),
                    },
                    mapped => mapped,
                }
            }
            other => Self::Tampered {
                path: path.to_path_buf(),
                entry: entry.to_string(),
                detail: format!("unreadable entry ({other})"),
            },
        }
    }

    /// Maps an error that surfaced while reading the bytes of `entry` in `path`.
    pub(crate) fn from_read(path: &Path, entry: &str, err: io::Error) -> Self {
        // `impl From<ZipError> for io::Error` wraps the zip error: unwrap it again.
        if err
            .get_ref()
            .is_some_and(|inner| inner.downcast_ref::<ZipError>().is_some())
        {
            if let Some(inner) = err.into_inner() {
                if let Ok(zip_err) = inner.downcast::<ZipError>() {
                    return Self::from_zip(path, entry, *zip_err);
                }
            }
            return Self::Tampered {
                path: path.to_path_buf(),
                entry: entry.to_string(),
                detail: "unreadable entry".to_string(),
            };
        }
        let text = err.to_string();
        if text.contains(AES_AUTH_FAILURE) {
            return Self::Tampered {
                path: path.to_path_buf(),
                entry: entry.to_string(),
                detail: "AES authentication failed (HMAC mismatch)".to_string(),
            };
        }
        if text.contains(CRC_FAILURE) {
            return Self::Tampered {
                path: path.to_path_buf(),
                entry: entry.to_string(),
                detail: "CRC-32 mismatch".to_string(),
            };
        }
        if err.kind() == io::ErrorKind::UnexpectedEof {
            return Self::Truncated {
                path: path.to_path_buf(),
                detail: format!("entry {entry} ends early: {text}"),
            };
        }
        // A decompressor that meets garbage (`corrupt deflate stream`)
        // says InvalidInput; bad data says InvalidData: both are damage.
        if matches!(
            err.kind(),
            io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
        ) {
            return Self::Tampered {
                path: path.to_path_buf(),
                entry: entry.to_string(),
                detail: text,
            };
        }
        Self::at(path, err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_file_and_entry() {
        let e = ArchiveError::Tampered {
            path: PathBuf::from("/x/a.ininmigr"),
            entry: "components/Users.zip".into(),
            detail: "SHA-256 differs".into(),
        };
        let s = e.to_string();
        assert!(s.contains("/x/a.ininmigr") && s.contains("components/Users.zip"));
    }

    #[test]
    fn maps_zip_errors() {
        let p = Path::new("f");
        assert!(matches!(
            ArchiveError::from_zip(p, "e", ZipError::InvalidPassword),
            ArchiveError::WrongPassword { .. }
        ));
        assert!(matches!(
            ArchiveError::from_zip(
                p,
                "e",
                ZipError::UnsupportedArchive(ZipError::PASSWORD_REQUIRED)
            ),
            ArchiveError::PasswordRequired { .. }
        ));
        let auth = io::Error::new(io::ErrorKind::InvalidData, "Invalid authentication code, x");
        assert!(matches!(
            ArchiveError::from_read(p, "e", auth),
            ArchiveError::Tampered { .. }
        ));
        let wrapped: io::Error = ZipError::InvalidPassword.into();
        assert!(matches!(
            ArchiveError::from_read(p, "e", wrapped),
            ArchiveError::WrongPassword { .. }
        ));
        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "short");
        assert!(matches!(
            ArchiveError::from_read(p, "e", eof),
            ArchiveError::Truncated { .. }
        ));
    }
}
