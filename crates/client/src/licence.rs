//! The licence gate: the client installs nothing unless the licence
//! holds the feature `I3_FEATURE_SU_ALLOWED` (a current maintenance
//! contract, in the vendor's words). The licence is modelled as a text
//! file in the server root, `licence.txt`: one feature name per line,
//! `#` starts a comment.

use std::path::{Path, PathBuf};
use transit_core::{ErrorKind, Kind};

/// The feature an install needs.
pub const FEATURE: &str = "I3_FEATURE_SU_ALLOWED";
/// The licence file's name in the server root.
pub const FILE: &str = "licence.txt";

/// Why installs are refused.
#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    /// No server root is configured, so there is no licence to check.
    #[error("installation refused: no licence (set `server_root` in client.toml to the server root that holds {FILE})")]
    NoServerRoot,
    /// The licence file is missing or unreadable.
    #[error("installation refused: cannot read the licence {}: {source}", .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The licence lacks the feature.
    #[error("installation refused: the licence {} lacks the feature {FEATURE}", .path.display())]
    Missing {
        /// The file.
        path: PathBuf,
    },
}

impl Kind for LicenceError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Refused
    }
}

/// Checks the licence in `server_root`.
pub fn check(server_root: Option<&Path>) -> Result<(), LicenceError> {
    let root = server_root.ok_or(LicenceError::NoServerRoot)?;
    let path = root.join(FILE);
    let text = std::fs::read_to_string(&path).map_err(|source| LicenceError::Unreadable {
        path: path.clone(),
        source,
    })?;
    let found = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .any(|l| l == FEATURE);
    if found {
        Ok(())
    } else {
        Err(LicenceError::Missing { path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_feature_must_be_listed() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(check(None), Err(LicenceError::NoServerRoot)));
        assert!(matches!(
            check(Some(dir.path())),
            Err(LicenceError::Unreadable { .. })
        ));
        std::fs::write(
            dir.path().join(FILE),
            "# I3_FEATURE_SU_ALLOWED\nI3_FEATURE_OTHER\n",
        )
        .unwrap();
        assert!(matches!(
            check(Some(dir.path())),
            Err(LicenceError::Missing { .. })
        ));
        std::fs::write(
            dir.path().join(FILE),
            "I3_FEATURE_OTHER\n  I3_FEATURE_SU_ALLOWED  # ok\n",
        )
        .unwrap();
        check(Some(dir.path())).unwrap();
    }
}
