//! The whole-file check that runs beside the import.
//!
//! Every byte of the migration file is authenticated, including the
//! components the import skips: each inner zip is decrypted, its WinZip
//! AES code checked, and its size and SHA-256 compared with the manifest
//! (see `MigrationReader::authenticate_until`). The entries of an intact
//! inner zip are fixed by its hash, so they are not inflated and hashed one
//! by one as `transit verify` does; the import's own readers check each
//! entry they use as they read it. The check
//! runs on its own threads from the moment the file is open, while the
//! restore point is taken, the files are staged and the registry
//! transaction is written; nothing of that is visible until the commit, and
//! the commit (or a dry run's end) waits for the check. A damaged file is
//! therefore refused with nothing changed, as before, without a separate
//! read of the whole file ahead of the work.
//!
//! The check's threads run at a lower priority ([`CHECK_NICE`] steps): the
//! registry writer and its parser are the import's critical path, and the
//! check only has to be done by the time they are.

use crate::error::{MigratorError, Result};
use std::path::PathBuf;
use std::thread::ScopedJoinHandle;
use transit_archive::{ArchiveError, VerifyReport};
use transit_core::CancelToken;

/// How many nice steps the check's threads run below the import's (a
/// thread it starts inherits its value).
pub(super) const CHECK_NICE: i32 = 10;

/// The background check of one migration file, and its verdict once
/// waited for.
pub(super) struct Verification<'scope> {
    /// The checking thread, until it is joined.
    handle: Option<ScopedJoinHandle<'scope, std::result::Result<VerifyReport, ArchiveError>>>,
    /// Asks the checking thread to give up (its report is then discarded).
    stop: &'scope CancelToken,
    /// The file, for the error.
    file: PathBuf,
}

impl<'scope> Verification<'scope> {
    /// Wraps a checking thread started with `stop` as its stop token.
    pub(super) fn new(
        handle: ScopedJoinHandle<'scope, std::result::Result<VerifyReport, ArchiveError>>,
        stop: &'scope CancelToken,
        file: PathBuf,
    ) -> Self {
        Verification {
            handle: Some(handle),
            stop,
            file,
        }
    }

    /// Waits for the check: `Ok` when every entry is intact, the damage (or
    /// the error that stopped the check) otherwise. Once it has passed,
    /// later calls pass at once.
    pub(super) fn wait(&mut self) -> Result<()> {
        let Some(handle) = self.handle.take() else {
            return Ok(());
        };
        let report = handle.join().unwrap_or_else(|_| {
            Err(ArchiveError::Io(transit_core::PathIoError::new(
                self.file.clone(),
                std::io::Error::other("the verification thread panicked"),
            )))
        })?;
        if report.is_ok() {
            Ok(())
        } else {
            Err(MigratorError::Damaged {
                file: self.file.clone(),
                mismatches: report.mismatches,
            })
        }
    }

    /// The error an import that failed with `err` reports. A damaged file
    /// explains more than what its damage caused (a parse error, a refused
    /// rule), so the check is awaited and its damage wins; a user's stop
    /// stops the check and is reported as it is.
    pub(super) fn explain(&mut self, err: MigratorError, cancel: &CancelToken) -> MigratorError {
        if cancel.is_cancelled() || matches!(err, MigratorError::Cancelled) {
            self.stop.cancel();
            if let Some(handle) = self.handle.take() {
                let _ = handle.join();
            }
            return err;
        }
        match self.wait() {
            Err(damage @ MigratorError::Damaged { .. }) => damage,
            _ => err,
        }
    }
}
