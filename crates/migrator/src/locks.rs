//! Who may work on a server root at the same time.
//!
//! Two `flock` locks, both released by the kernel when their holder exits
//! (or is killed):
//!
//! - `run/import.lock`, held exclusively by an import for its whole run,
//!   from before its restore point to its end. A journal whose lock nobody
//!   holds belongs to an interrupted import ([`crate::restore::recover`]).
//! - the server root folder itself: shared by readers that need one
//!   consistent root (an export, a dry run), exclusive by an import. An
//!   export therefore never mixes the registry after an import with the
//!   files before it, and an import never changes a root under an export.
//!
//! Neither lock waits: a held lock is a refusal with its own message.

use crate::error::Result;
use crate::import::Refusal;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;
use transit_core::{IoContext, PathIoError};
use transit_server::ServerRoot;

/// The file name of the import lock under `run/`.
pub const IMPORT_LOCK: &str = "import.lock";

/// Opens (creating if needed) `run/import.lock`.
fn import_lock_file(root: &ServerRoot) -> Result<File> {
    let run = root.run_dir();
    std::fs::create_dir_all(&run).at(&run)?;
    let path = run.join(IMPORT_LOCK);
    Ok(OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .at(&path)?)
}

fn root_folder(root: &ServerRoot) -> Result<File> {
    Ok(File::open(root.dir()).at(root.dir())?)
}

/// Maps a failed `try_lock`: a held lock is `held`, anything else an I/O
/// error on `path`.
fn refuse_if_held(result: Result<(), TryLockError>, path: &Path, held: Refusal) -> Result<()> {
    match result {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(held.into()),
        Err(TryLockError::Error(e)) => Err(PathIoError::new(path, e).into()),
    }
}

/// An import's hold on a server root: the import lock and the root
/// folder, both exclusive. Dropping it releases both.
#[derive(Debug)]
pub struct ImportLock {
    _import: File,
    _root: File,
}

impl ImportLock {
    /// Takes both locks, or refuses: [`Refusal::ImportRunning`] when
    /// another import holds the import lock, [`Refusal::ExportRunning`]
    /// when an export is reading the root.
    pub fn acquire(root: &ServerRoot) -> Result<ImportLock> {
        let import = import_lock_file(root)?;
        refuse_if_held(
            import.try_lock(),
            &root.run_dir().join(IMPORT_LOCK),
            Refusal::ImportRunning,
        )?;
        let folder = root_folder(root)?;
        refuse_if_held(folder.try_lock(), root.dir(), Refusal::ExportRunning)?;
        Ok(ImportLock {
            _import: import,
            _root: folder,
        })
    }
}

/// A reader's hold on a server root (the root folder, shared): no import
/// can start while it lives.
#[derive(Debug)]
pub struct ReadLock {
    _root: File,
}

impl ReadLock {
    /// Takes the shared lock, or refuses with [`Refusal::ImportRunning`]
    /// while an import runs.
    pub fn acquire(root: &ServerRoot) -> Result<ReadLock> {
        let folder = root_folder(root)?;
        refuse_if_held(folder.try_lock_shared(), root.dir(), Refusal::ImportRunning)?;
        Ok(ReadLock { _root: folder })
    }
}
