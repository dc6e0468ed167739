//! The provider's upkeep, on its own thread while the provider runs:
//!
//! - **re-signing**: at start, then every minute, the snapshot and
//!   timestamp are re-signed with the online keys once they have less than
//!   half their lifetime left ([`UpdateRepository::refresh`]), so a
//!   running provider never lets the timestamp expire (the freeze that
//!   clients refuse);
//! - **scanning**: the update folders marked Auto are scanned 90 s after
//!   start, then 60 s after each scan ends, by the same
//!   [`Scanner`] as `transit update scan`; an ingested file leaves its
//!   folder, a refused one stays with its reason file.
//!
//! Both loops run on a [`Clock`], so tests drive them on a simulated or
//! sped-up clock instead of sleeping for minutes. Upkeep has its own
//! thread and runtime: the repository lock it takes is a blocking `flock`,
//! and a large bundle's ingest should not hold up the request workers.
//! Nothing here stops the provider: a failed pass is logged and retried on
//! the next tick.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;
use transit_core::CancelToken;
use transit_update::repo::{RepoError, Signed3};
use transit_update::scanner::{Clock, ScanReport, Scanner};
use transit_update::store::StoreError;
use transit_update::UpdateRepository;

/// How often the provider checks whether the online roles are due.
pub const REFRESH_CHECK: Duration = Duration::from_secs(60);

/// What the provider's upkeep does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upkeep {
    /// Re-sign the snapshot and timestamp when due (checked at start,
    /// then every [`REFRESH_CHECK`]).
    pub refresh: bool,
    /// Scan the Auto update folders (first scan 90 s after start).
    pub scan: bool,
    /// The targets key the scanner signs with, when it is not the data
    /// folder's `keys/targets.key`.
    pub targets_key: Option<PathBuf>,
    /// How many times faster than real time upkeep's clock runs: 1 in
    /// service; tests use more, so that the 90 s before the first scan
    /// pass in a second or two.
    pub speed: u32,
}

impl Default for Upkeep {
    /// Both on, the data folder's targets key, real time.
    fn default() -> Self {
        Upkeep {
            refresh: true,
            scan: true,
            targets_key: None,
            speed: 1,
        }
    }
}

/// Real time since upkeep started, sped up by a whole factor.
#[derive(Debug, Clone)]
pub struct ScaledClock {
    start: tokio::time::Instant,
    speed: u32,
}

impl ScaledClock {
    /// A clock starting now, `speed` times real time (at least 1).
    pub fn new(speed: u32) -> ScaledClock {
        ScaledClock {
            start: tokio::time::Instant::now(),
            speed: speed.max(1),
        }
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Duration {
        self.start.elapsed() * self.speed
    }

    fn sleep_until(&self, at: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep_until(self.start + at / self.speed)
    }
}

/// When the check after one due at `due` runs, given that it is now
/// `now`: one [`REFRESH_CHECK`] later, skipping checks already missed
/// (after a suspend, say) instead of running them back to back.
pub fn next_check(due: Duration, now: Duration) -> Duration {
    let mut next = due + REFRESH_CHECK;
    while next <= now {
        next += REFRESH_CHECK;
    }
    next
}

/// Takes the repository lock and re-signs what is due.
pub async fn refresh_due(repo: &UpdateRepository) -> Result<Option<Signed3>, RepoError> {
    let _lock = repo.lock()?;
    repo.refresh(false).await
}

/// Checks at 0, then every [`REFRESH_CHECK`] of `clock`, until `stop`;
/// each check re-signs what is due and is handed to `on_check` with the
/// time it ran.
pub async fn refresh_loop<C: Clock>(
    repo: &UpdateRepository,
    clock: &C,
    stop: &CancelToken,
    mut on_check: impl FnMut(Duration, Result<Option<Signed3>, RepoError>),
) {
    let mut due = Duration::ZERO;
    loop {
        tokio::select! {
            _ = clock.sleep_until(due) => {}
            _ = stop.cancelled() => return,
        }
        if stop.is_cancelled() {
            return;
        }
        let at = clock.now();
        on_check(at, refresh_due(repo).await);
        due = next_check(due, clock.now());
    }
}

fn log_check(at: Duration, result: Result<Option<Signed3>, RepoError>) {
    match result {
        Ok(Some(done)) => tracing::info!(
            at = at.as_secs(),
            timestamp = done.timestamp_version,
            snapshot = ?done.snapshot_version,
            "re-signed the online roles"
        ),
        Ok(None) => tracing::debug!("online roles not due"),
        Err(e) => tracing::warn!("re-signing the online roles failed: {e}"),
    }
}

fn log_scan(result: Result<ScanReport, StoreError>) {
    match result {
        Ok(report) => {
            for done in &report.ingested {
                tracing::info!(update = %done.target, "ingested from an update folder");
            }
            for (file, why) in &report.refused {
                tracing::warn!(file = %file.display(), "refused: {why}");
            }
        }
        Err(e) => tracing::warn!("scanning the update folders failed: {e}"),
    }
}

/// Runs both loops (as `upkeep` says) on `clock` until `stop`.
pub async fn run<C: Clock + Clone>(
    repo: UpdateRepository,
    upkeep: Upkeep,
    clock: C,
    stop: CancelToken,
) {
    let refresh = async {
        if upkeep.refresh {
            refresh_loop(&repo, &clock, &stop, log_check).await;
        }
    };
    let scan = async {
        if upkeep.scan {
            Scanner::new(repo.clone(), clock.clone(), upkeep.targets_key.clone())
                .run(&stop, log_scan)
                .await;
        }
    };
    tokio::join!(refresh, scan);
}

/// The upkeep thread.
#[derive(Debug)]
pub struct UpkeepThread(Option<std::thread::JoinHandle<()>>);

impl UpkeepThread {
    /// Waits until the thread has ended (after `stop` was cancelled).
    pub async fn stopped(self) {
        if let Some(thread) = self.0 {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

/// Starts upkeep on its own thread and runtime, on real time sped up by
/// `upkeep.speed`. A thread or runtime that cannot start is logged, and
/// the provider serves on without upkeep.
pub fn start(repo: UpdateRepository, upkeep: Upkeep, stop: CancelToken) -> UpkeepThread {
    if !upkeep.refresh && !upkeep.scan {
        return UpkeepThread(None);
    }
    let spawned = std::thread::Builder::new()
        .name("provider-upkeep".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::warn!("upkeep cannot start: {e}");
                    return;
                }
            };
            let clock = runtime.block_on(async { ScaledClock::new(upkeep.speed) });
            runtime.block_on(run(repo, upkeep, clock, stop));
        });
    match spawned {
        Ok(thread) => UpkeepThread(Some(thread)),
        Err(e) => {
            tracing::warn!("upkeep cannot start: {e}");
            UpkeepThread(None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_come_a_minute_apart_and_missed_ones_are_skipped() {
        let s = Duration::from_secs;
        assert_eq!(next_check(s(0), s(0)), s(60));
        assert_eq!(next_check(s(60), s(61)), s(120));
        assert_eq!(next_check(s(60), s(300)), s(360));
    }

    #[test]
    fn the_scaled_clock_runs_faster_than_real_time() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let clock = ScaledClock::new(1000);
            let real = std::time::Instant::now();
            // 90 s of upkeep time is 90 ms of real time.
            clock.sleep_until(Duration::from_secs(90)).await;
            assert!(clock.now() >= Duration::from_secs(90));
            assert!(real.elapsed() >= Duration::from_millis(90));
        });
    }
}
