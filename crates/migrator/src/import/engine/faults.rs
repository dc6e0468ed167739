//! Fault-injection hooks named by the crash tests: `TRANSIT_CRASH_AT=STEP`
//! kills the process at that step (SIGKILL, like a power cut), and
//! `TRANSIT_PAUSE_AT=STEP` waits there (up to ten seconds) until the import
//! is stopped, so a test can deliver Ctrl-C at a known point. With
//! `TRANSIT_PAUSE_FILE=F` as well, the pause creates `F` when it begins and
//! lasts until `F` is removed (or the import is stopped, or a minute
//! passes), so a test can act at that point (fill the disk, run an export)
//! and then let the import go on.

use std::time::{Duration, Instant};
use transit_core::CancelToken;

/// Kills the process when `TRANSIT_CRASH_AT` names `step`.
pub(super) fn crash_point(step: &str) {
    if std::env::var("TRANSIT_CRASH_AT").is_ok_and(|s| s == step) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

/// Waits at `step` when `TRANSIT_PAUSE_AT` names it, until `cancel` is
/// cancelled or ten seconds pass.
pub(super) fn pause_point(step: &str, cancel: &CancelToken) {
    if std::env::var("TRANSIT_PAUSE_AT").is_ok_and(|s| s == step) {
        let flag = std::env::var_os("TRANSIT_PAUSE_FILE").map(std::path::PathBuf::from);
        let limit = if flag.is_some() { 60 } else { 10 };
        if let Some(flag) = &flag {
            let _ = std::fs::write(flag, b"paused\n");
        }
        let deadline = Instant::now() + Duration::from_secs(limit);
        while !cancel.is_cancelled()
            && Instant::now() < deadline
            && flag.as_ref().is_none_or(|f| f.exists())
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}
