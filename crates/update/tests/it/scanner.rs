//! The folder scanner on a simulated clock: no test sleeps.

use crate::common::{manifest, patch3, rt, Fixture};
use std::cell::{Cell, RefCell};
use std::time::Duration;
use transit_core::CancelToken;
use transit_update::keys::SigningKey;
use transit_update::scanner::{next_scan, Clock, Scanner};
use transit_update::store::ActivityStatus;
use transit_update::Store;

/// A clock that jumps to whatever time is slept until, recording it.
#[derive(Default)]
struct SimClock {
    now: Cell<Duration>,
    sleeps: RefCell<Vec<Duration>>,
}

impl Clock for &SimClock {
    fn now(&self) -> Duration {
        self.now.get()
    }

    fn sleep_until(&self, at: Duration) -> impl std::future::Future<Output = ()> {
        self.sleeps.borrow_mut().push(at);
        if at > self.now.get() {
            self.now.set(at);
        }
        std::future::ready(())
    }
}

#[test]
fn the_schedule_is_90_s_then_60_s_after_each_scan() {
    assert_eq!(next_scan(None), Duration::from_secs(90));
    assert_eq!(
        next_scan(Some(Duration::from_secs(95))),
        Duration::from_secs(155)
    );
}

#[test]
fn auto_folders_are_scanned_at_90_150_210_s_and_ingested_files_leave() {
    let fx = Fixture::new();
    let auto = fx.path("incoming-auto");
    let manual = fx.path("incoming-manual");
    std::fs::create_dir_all(&auto).unwrap();
    std::fs::create_dir_all(&manual).unwrap();
    let store = Store::open(&fx.repo.store_path()).unwrap();
    store.set_folder(&auto, true).unwrap();
    store.set_folder(&manual, false).unwrap();
    std::fs::rename(fx.bundle("p3", &patch3(), None), auto.join("p3.tbundle")).unwrap();
    std::fs::rename(
        fx.bundle(
            "m",
            &manifest("Interaction Desktop", "2018 R1", 2, "Patch", "18.01.02.1"),
            None,
        ),
        manual.join("m.tbundle"),
    )
    .unwrap();
    std::fs::write(auto.join("notes.txt"), "not a bundle").unwrap();

    let clock = SimClock::default();
    let scanner = Scanner::new(fx.repo.clone(), &clock, None);
    let cancel = CancelToken::new();
    let mut passes = Vec::new();
    let mut added_later = false;
    rt().block_on(scanner.run(&cancel, |pass| {
        let pass = pass.unwrap();
        passes.push((pass.at, pass.ingested.len(), pass.refused.len()));
        if !added_later {
            // A second file arrives after the first scan.
            std::fs::rename(
                fx.bundle(
                    "es",
                    &manifest("Interaction Desktop", "2018 R1", 3, "ES", "18.01.03.20"),
                    None,
                ),
                auto.join("es.tbundle"),
            )
            .unwrap();
            added_later = true;
        }
        if passes.len() == 3 {
            cancel.cancel();
        }
    }));
    let secs: Vec<u64> = passes.iter().map(|p| p.0.as_secs()).collect();
    assert_eq!(secs, [90, 150, 210]);
    assert_eq!(passes.iter().map(|p| p.1).collect::<Vec<_>>(), [1, 1, 0]);
    // After the third scan the scanner waits for the fourth (at 270 s) and is stopped.
    let slept: Vec<u64> = clock.sleeps.borrow().iter().map(|d| d.as_secs()).collect();
    assert_eq!(slept, [90, 150, 210, 270]);
    assert!(!auto.join("p3.tbundle").exists() && !auto.join("es.tbundle").exists());
    assert!(auto.join("notes.txt").exists());
    assert!(
        manual.join("m.tbundle").exists(),
        "a folder without Auto is not scanned"
    );
    assert_eq!(store.updates().unwrap().len(), 2);
}

#[test]
fn a_refused_file_stays_with_its_reason_and_is_logged_once() {
    let fx = Fixture::new();
    let auto = fx.path("incoming");
    std::fs::create_dir_all(&auto).unwrap();
    let store = Store::open(&fx.repo.store_path()).unwrap();
    store.set_folder(&auto, true).unwrap();
    let stranger = SigningKey::generate(&fx.path("mallory.key")).unwrap();
    std::fs::rename(
        fx.bundle("bad", &patch3(), Some(&stranger)),
        auto.join("bad.tbundle"),
    )
    .unwrap();

    let clock = SimClock::default();
    let scanner = Scanner::new(fx.repo.clone(), &clock, None);
    let cancel = CancelToken::new();
    let mut refused = Vec::new();
    rt().block_on(scanner.run(&cancel, |pass| {
        refused.push(pass.unwrap().refused.len());
        if refused.len() == 2 {
            cancel.cancel();
        }
    }));
    assert_eq!(
        refused,
        [1, 0],
        "the same file is not retried until it changes"
    );
    assert!(auto.join("bad.tbundle").exists());
    let reason = std::fs::read_to_string(auto.join("bad.tbundle.reason.txt")).unwrap();
    assert!(
        reason.contains("not a key of publisher `Genesys`"),
        "{reason}"
    );
    let log = store.activity(10).unwrap();
    assert_eq!(
        log.iter()
            .filter(|a| a.status == ActivityStatus::IngestFailed)
            .count(),
        1
    );
}

#[test]
fn cancelling_before_the_first_scan_scans_nothing() {
    let fx = Fixture::new();
    let clock = SimClock::default();
    let scanner = Scanner::new(fx.repo.clone(), &clock, None);
    let cancel = CancelToken::new();
    cancel.cancel();
    let mut passes = 0;
    rt().block_on(scanner.run(&cancel, |_| passes += 1));
    assert_eq!(passes, 0);
}
