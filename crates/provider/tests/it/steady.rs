//! A 20-second steady load through the load generator (the short
//! version of bench/provider.sh's steady-load run): no errors, and every
//! check-in answered 200 is in the database.

use crate::common::{rt, Fixture, Running};
use std::time::Duration;
use transit_core::CancelToken;
use transit_provider::simulate::{self, SimulateOptions};
use transit_provider::store::sqlite::SqliteStore;
use transit_provider::store::{MachineQuery, Store};
use transit_provider::Database;

#[test]
fn twenty_seconds_of_steady_load_commit_every_checkin() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    let options = SimulateOptions {
        clients: 2_000,
        rate: 100.0,
        duration: Duration::from_secs(20),
        connections: 32,
        seed: 7,
    };
    let report = rt().block_on(simulate::run(&c, &options, &CancelToken::new()));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.sent, 2_000);
    assert_eq!(report.ok, report.sent);
    p.stop().unwrap();
    let store = SqliteStore::open(&fx.repo.store_path()).unwrap();
    let machines = rt()
        .block_on(store.machines(&MachineQuery::default()))
        .unwrap();
    let committed: i64 = machines.iter().map(|m| m.checkins).sum();
    assert_eq!(committed as u64, report.ok, "every 200 is in the database");
}

#[test]
fn closed_loop_capacity_mode_sends_as_fast_as_answered() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let options = SimulateOptions {
        clients: 50,
        rate: 0.0,
        duration: Duration::from_secs(1),
        connections: 4,
        seed: 3,
    };
    let report = rt().block_on(simulate::run(&p.client(), &options, &CancelToken::new()));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.ok > 0);
    assert_eq!(report.ok, report.sent);
}
