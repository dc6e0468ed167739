//! Logging: always on, to `<server-root>/logs/` when the root exists.
//!
//! Levels come from `TRANSIT_LOG` (an `EnvFilter` directive such as
//! `debug` or `transit_registry=trace`); the default is `info`. Files
//! rotate daily and the newest 14 are kept.

use std::path::Path;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{Builder, Rotation};
use tracing_subscriber::EnvFilter;

/// How many daily log files are kept.
pub const KEEP_DAYS: usize = 14;

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
            .max_log_files(KEEP_DAYS)
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
