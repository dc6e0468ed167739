//! The update-folder scanner: folders marked Auto are scanned 90 s after
//! start, then 60 s after each scan ends (the vendor's Content Scanner).
//!
//! Each `*.tbundle` file in a folder is ingested; an ingested file is
//! removed from the folder. A refused file stays, with
//! `<file>.reason.txt` beside it saying why, and the refusal goes to the
//! activity log; it is tried again only once the file is newer than its
//! reason file. Time comes from a [`Clock`], so tests run the schedule on
//! a simulated clock without sleeping.

use crate::ingest::{ingest_file, Ingested};
use crate::repo::UpdateRepository;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;
use transit_core::{CancelToken, NoProgress};

/// The delay before the first scan.
pub const FIRST_SCAN: Duration = Duration::from_secs(90);
/// The pause between scans.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// The extension of update bundle files.
pub const BUNDLE_EXTENSION: &str = "tbundle";

/// A source of time for the scanner: time since the scanner started.
pub trait Clock {
    /// Time elapsed since start.
    fn now(&self) -> Duration;
    /// Completes at `at` (time since start).
    fn sleep_until(&self, at: Duration) -> impl Future<Output = ()>;
}

/// The real clock (tokio's timer).
#[derive(Debug, Clone)]
pub struct SystemClock {
    start: tokio::time::Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: tokio::time::Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep_until(&self, at: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep_until(self.start + at)
    }
}

/// When the scan after one that ended at `ended` starts (`None`: the first).
pub fn next_scan(ended: Option<Duration>) -> Duration {
    match ended {
        None => FIRST_SCAN,
        Some(end) => end + INTERVAL,
    }
}

/// What one pass over the folders did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    /// When the pass started (since the scanner started).
    #[serde(skip)]
    pub at: Duration,
    /// The files ingested (and removed).
    pub ingested: Vec<Ingested>,
    /// The files refused, with the reason.
    pub refused: Vec<(PathBuf, String)>,
}

fn reason_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".reason.txt");
    file.with_file_name(name)
}

fn waiting(file: &Path) -> bool {
    let reason = reason_path(file);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (modified(file), modified(&reason)) {
        (Some(f), Some(r)) => f <= r,
        _ => false,
    }
}

/// Ingests every bundle in `folder` (a pass of the scanner, or a manual
/// "upload from folder").
pub async fn scan_folder(
    repo: &UpdateRepository,
    folder: &Path,
    targets_key: Option<&Path>,
    cancel: &CancelToken,
) -> ScanReport {
    let mut report = ScanReport::default();
    let mut files: Vec<PathBuf> = match std::fs::read_dir(folder) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == BUNDLE_EXTENSION) && p.is_file())
            .filter(|p| {
                !p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            })
            .collect(),
        Err(e) => {
            report
                .refused
                .push((folder.to_path_buf(), format!("cannot read the folder: {e}")));
            return report;
        }
    };
    files.sort();
    for file in files {
        if cancel.is_cancelled() {
            break;
        }
        if waiting(&file) {
            continue;
        }
        match ingest_file(repo, &file, targets_key, cancel, &NoProgress).await {
            Ok(done) => {
                let _ = std::fs::remove_file(reason_path(&file));
                match std::fs::remove_file(&file) {
                    Ok(()) => report.ingested.push(done),
                    Err(e) => report.refused.push((
                        file.clone(),
                        format!("ingested, but removing it failed: {e}"),
                    )),
                }
            }
            Err(e) => {
                let reason = format!("{e}\n");
                let _ = std::fs::write(reason_path(&file), &reason);
                report.refused.push((file, e.to_string()));
            }
        }
    }
    report
}

/// The scanner over a repository's Auto folders.
#[derive(Debug)]
pub struct Scanner<C: Clock> {
    repo: UpdateRepository,
    clock: C,
    targets_key: Option<PathBuf>,
}

impl<C: Clock> Scanner<C> {
    /// A scanner of `repo`'s Auto folders, timed by `clock`.
    pub fn new(repo: UpdateRepository, clock: C, targets_key: Option<PathBuf>) -> Self {
        Scanner {
            repo,
            clock,
            targets_key,
        }
    }

    /// One pass over the Auto folders.
    pub async fn scan_auto(&self, cancel: &CancelToken) -> Result<ScanReport, StoreError> {
        let folders = Store::open(&self.repo.store_path())?.folders()?;
        let mut report = ScanReport {
            at: self.clock.now(),
            ..ScanReport::default()
        };
        for folder in folders.into_iter().filter(|f| f.auto) {
            let pass = scan_folder(
                &self.repo,
                &folder.path,
                self.targets_key.as_deref(),
                cancel,
            )
            .await;
            report.ingested.extend(pass.ingested);
            report.refused.extend(pass.refused);
        }
        Ok(report)
    }

    /// Scans on schedule until `cancel`, handing each pass to `on_scan`.
    pub async fn run(
        &self,
        cancel: &CancelToken,
        mut on_scan: impl FnMut(Result<ScanReport, StoreError>),
    ) {
        let mut ended = None;
        loop {
            let at = next_scan(ended);
            tokio::select! {
                _ = self.clock.sleep_until(at) => {}
                _ = cancel.cancelled() => return,
            }
            if cancel.is_cancelled() {
                return;
            }
            on_scan(self.scan_auto(cancel).await);
            ended = Some(self.clock.now());
        }
    }
}
