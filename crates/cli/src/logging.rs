//! Logging: always on, to `<server-root>/logs/` when the root exists.
//!
//! Levels come from `TRANSIT_LOG` (an `EnvFilter` directive such as
//! `debug` or `transit_registry=trace`); the default is `info`. Files
//! rotate daily and the newest 14 are kept (`TRANSIT_LOG_KEEP_DAYS`
//! changes that).

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

/// How many daily log files are kept by default.
pub const KEEP_DAYS: usize = 14;

/// How many daily log files to keep: `TRANSIT_LOG_KEEP_DAYS` if it is a
/// whole number of at least 1, else [`KEEP_DAYS`].
pub fn keep_days() -> usize {
    std::env::var("TRANSIT_LOG_KEEP_DAYS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(KEEP_DAYS)
}

/// The limit to hand tracing-appender so that exactly `keep` daily files
/// remain: it prunes to `limit - 1` files before opening today's, and
/// counts today's file among them when it already exists.
fn appender_limit(dir: &Path, keep: usize) -> usize {
    let today = format!(
        "transit.{}.log",
        transit_core::time::date(transit_core::time::now())
    );
    if dir.join(today).is_file() {
        keep + 1
    } else {
        keep
    }
}

/// Installs the global subscriber. Keep the returned guard alive until
/// exit so buffered lines are flushed.
pub fn init(server_root: Option<&Path>) -> Option<WorkerGuard> {
    let filter =
        || EnvFilter::try_from_env("TRANSIT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = server_root.map(|r| r.join("logs")).filter(|d| d.is_dir());
    if let Some(dir) = logs {
        if let Ok(appender) = Builder::new()
            .rotation(Rotation::DAILY)
            .filename_prefix("transit")
            .filename_suffix("log")
            .max_log_files(appender_limit(&dir, keep_days()))
            .build(&dir)
        {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter())
                .with_writer(writer)
                .with_ansi(false)
                .try_init();
            return Some(guard);
        }
    }
    // No server root yet (or no logs/): log to stderr, only if asked.
    if std::env::var_os("TRANSIT_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter())
            .with_writer(std::io::stderr)
            .try_init();
    }
    None
}
