//! The server service lock: `run/service.lock`, held with `flock` for as
//! long as the service runs. Imports refuse to run while it is held.

use crate::error::{Result, ServerError};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use transit_core::{IoContext, PathIoError};

/// The lock file's name inside `run/`.
pub const LOCK_FILE: &str = "service.lock";

/// Whether the server service runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceStatus {
    /// The lock is held by the process with this ID (0 if it has not yet
    /// written its ID).
    Running {
        /// The service's process ID.
        pid: u32,
    },
    /// Nobody holds the lock.
    Stopped,
}

/// Proof that this process holds the service lock. Dropping it releases
/// the lock.
#[derive(Debug)]
pub struct ServiceGuard {
    file: File,
    path: PathBuf,
}

impl ServiceGuard {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ServiceGuard {
    fn drop(&mut self) {
        // Clear the PID before the lock goes, so nobody reads a stale one.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn open_lock(run_dir: &Path) -> Result<(File, PathBuf)> {
    std::fs::create_dir_all(run_dir).at(run_dir)?;
    let path = run_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .at(&path)?;
    Ok((file, path))
}

fn read_pid(file: &mut File) -> u32 {
    // The holder writes its PID right after locking; allow it a moment.
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        let mut text = String::new();
        let ok = file.seek(SeekFrom::Start(0)).is_ok() && file.read_to_string(&mut text).is_ok();
        // Only a real process ID: 0 and values past i32::MAX would make
        // kill(2) signal a process group or every process.
        if let (true, Ok(pid @ 1..)) = (ok, text.trim().parse::<i32>()) {
            return pid as u32;
        }
        if Instant::now() >= deadline {
            return 0;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Takes the service lock, or fails with
/// [`ServerError::ServiceRunning`] naming the holder's PID.
pub fn acquire(run_dir: &Path) -> Result<ServiceGuard> {
    let (mut file, path) = open_lock(run_dir)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(ServerError::ServiceRunning {
                pid: read_pid(&mut file),
            })
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e).at(&path).map_err(Into::into),
    }
    file.set_len(0).at(&path)?;
    file.seek(SeekFrom::Start(0)).at(&path)?;
    write!(file, "{}", std::process::id()).at(&path)?;
    file.sync_data().at(&path)?;
    Ok(ServiceGuard { file, path })
}

/// Reports whether the service runs, without disturbing it.
pub fn status(run_dir: &Path) -> Result<ServiceStatus> {
    let path = run_dir.join(LOCK_FILE);
    if !path.exists() {
        return Ok(ServiceStatus::Stopped);
    }
    let (mut file, path) = open_lock(run_dir)?;
    match file.try_lock() {
        Ok(()) => {
            file.unlock().at(&path)?;
            Ok(ServiceStatus::Stopped)
        }
        Err(std::fs::TryLockError::WouldBlock) => Ok(ServiceStatus::Running {
            pid: read_pid(&mut file),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(e).at(&path).map_err(Into::into),
    }
}

/// Asks the running service to stop (SIGTERM) and waits up to `timeout`
/// for it to release the lock. Returns the PID it stopped.
pub fn stop(run_dir: &Path, timeout: Duration) -> Result<u32> {
    let ServiceStatus::Running { pid } = status(run_dir)? else {
        return Err(ServerError::ServiceNotRunning);
    };
    if pid == 0 || pid > i32::MAX as u32 {
        return Err(ServerError::Io(PathIoError::new(
            run_dir.join(LOCK_FILE),
            std::io::Error::other("the service holds the lock but has not written its PID"),
        )));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .map_err(std::io::Error::from)
    .at(run_dir.join(LOCK_FILE))?;
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if status(run_dir)? == ServiceStatus::Stopped {
            return Ok(pid);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(ServerError::Io(PathIoError::new(
        run_dir.join(LOCK_FILE),
        std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("service (pid {pid}) did not stop within {timeout:?}"),
        ),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_names_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(status(dir.path()).unwrap(), ServiceStatus::Stopped);
        let guard = acquire(dir.path()).unwrap();
        let me = std::process::id();
        match acquire(dir.path()) {
            Err(ServerError::ServiceRunning { pid }) => assert_eq!(pid, me),
            other => panic!("expected ServiceRunning, got {other:?}"),
        }
        let err = acquire(dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("service already running (pid {me})")
        );
        assert_eq!(
            status(dir.path()).unwrap(),
            ServiceStatus::Running { pid: me }
        );
        drop(guard);
        assert_eq!(status(dir.path()).unwrap(), ServiceStatus::Stopped);
        assert!(matches!(
            stop(dir.path(), Duration::from_secs(1)),
            Err(ServerError::ServiceNotRunning)
        ));
    }
}

#[cfg(test)]
mod pid_tests {
    use super::*;

    #[test]
    fn a_forged_pid_is_never_signalled() {
        let dir = tempfile::tempdir().unwrap();
        let guard = acquire(dir.path()).unwrap();
        // Another process holds the lock but the file claims pid 2^32-1,
        // which as i32 would be -1: kill(-1) signals everything.
        std::fs::write(dir.path().join(LOCK_FILE), "4294967295").unwrap();
        assert_eq!(
            status(dir.path()).unwrap(),
            ServiceStatus::Running { pid: 0 }
        );
        assert!(stop(dir.path(), Duration::from_millis(10)).is_err());
        drop(guard);
    }
}
