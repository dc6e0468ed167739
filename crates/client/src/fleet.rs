//! Simulated agents for surge tests: many machines checking in with the
//! agent's own schedule ([`crate::backoff::next_wait`]: the timer, the
//! provider's next-check time, and spread-out retries after a check-in
//! that found no provider), without installing anything.
//!
//! The fleet counts, per second of its run, the check-ins that reached a
//! provider (any HTTP reply), so a test or `bench/surge.sh` can restart
//! the provider mid-run and see how the arrivals behave.

use crate::backoff;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use transit_core::CancelToken;
use transit_provider::client::{ClientError, ProviderClient};

/// What to run.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// How many machines.
    pub clients: u64,
    /// The machines' timer, shortest interval.
    pub check_min: Duration,
    /// The machines' timer, longest interval.
    pub check_max: Duration,
    /// How long to run.
    pub duration: Duration,
    /// Requests in flight at most.
    pub connections: usize,
    /// The inventories' seed.
    pub seed: u64,
}

/// What a fleet saw.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetReport {
    /// Check-ins that reached a provider, per second of the run.
    pub arrivals: Vec<u64>,
    /// Check-ins answered 200, per second.
    pub ok: Vec<u64>,
    /// Check-ins that found no provider (refused, reset, timed out), per second.
    pub unreachable: Vec<u64>,
    /// Check-ins answered 503 (overloaded), per second.
    pub busy: Vec<u64>,
    /// Machines whose latest check-in found no provider, at the end.
    pub failing_at_end: u64,
    /// Machines that never checked in successfully.
    pub never_checked_in: u64,
    /// The most check-ins in a row that found no provider, for any machine.
    pub longest_failure_run: u32,
}

#[derive(Default)]
struct Counters {
    arrivals: Vec<AtomicU64>,
    ok: Vec<AtomicU64>,
    unreachable: Vec<AtomicU64>,
    busy: Vec<AtomicU64>,
}

impl Counters {
    fn new(seconds: usize) -> Counters {
        let v = || (0..seconds).map(|_| AtomicU64::new(0)).collect();
        Counters {
            arrivals: v(),
            ok: v(),
            unreachable: v(),
            busy: v(),
        }
    }
}

fn bump(v: &[AtomicU64], second: usize) {
    if let Some(c) = v.get(second) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

fn read(v: &[AtomicU64]) -> Vec<u64> {
    v.iter().map(|c| c.load(Ordering::Relaxed)).collect()
}

/// Runs the fleet against `provider` until its duration ends or `stop`
/// is cancelled. Each machine's first check-in comes at a random moment
/// within `check_max`, as a fleet in steady state would.
pub async fn run(
    provider: &ProviderClient,
    options: &FleetOptions,
    stop: &CancelToken,
) -> FleetReport {
    let seconds = options.duration.as_secs() as usize + 1;
    let counters = Arc::new(Counters::new(seconds));
    let gate = Arc::new(tokio::sync::Semaphore::new(options.connections.max(1)));
    let start = Instant::now();
    let end = start + options.duration;
    let outcomes = Arc::new(Mutex::new(Vec::with_capacity(options.clients as usize)));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..options.clients {
        let provider = provider.clone();
        let counters = Arc::clone(&counters);
        let gate = Arc::clone(&gate);
        let outcomes = Arc::clone(&outcomes);
        let options = options.clone();
        let stop = stop.clone();
        tasks.spawn(async move {
            let mut body = transit_provider::simulate::machine(options.seed, i);
            // A healthy machine: any ErrorState is the provider's doing.
            body.errors.clear();
            body.restart_required = false;
            let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed ^ (i << 20));
            let first = options.check_max.mul_f64(rng.gen_range(0.0..1.0));
            let mut due = start + first;
            let (mut failures, mut worst, mut ever_ok) = (0u32, 0u32, false);
            loop {
                if due >= end {
                    break;
                }
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep_until(due.into()) => {}
                }
                let Ok(_permit) = gate.acquire().await else {
                    break;
                };
                let second = start.elapsed().as_secs() as usize;
                let (mut retry_after, mut next_secs) = (None, None);
                match provider.checkin(&body).await {
                    Ok(reply) => {
                        bump(&counters.arrivals, second);
                        bump(&counters.ok, second);
                        failures = 0;
                        ever_ok = true;
                        next_secs = Some(reply.next_checkin_secs);
                    }
                    Err(ClientError::Api {
                        status: 503,
                        retry_after: told,
                        ..
                    }) => {
                        bump(&counters.arrivals, second);
                        bump(&counters.busy, second);
                        failures += 1;
                        retry_after = told.map(Duration::from_secs);
                    }
                    Err(ClientError::Api { .. }) => {
                        bump(&counters.arrivals, second);
                        failures += 1;
                    }
                    Err(_) => {
                        bump(&counters.unreachable, second);
                        failures += 1;
                    }
                }
                worst = worst.max(failures);
                let wait = backoff::next_wait(
                    failures,
                    retry_after,
                    next_secs,
                    options.check_min,
                    options.check_max,
                    &mut rng,
                );
                due = Instant::now() + wait;
            }
            outcomes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((failures, worst, ever_ok));
        });
    }
    while tasks.join_next().await.is_some() {}
    let outcomes = outcomes.lock().unwrap_or_else(|p| p.into_inner());
    FleetReport {
        arrivals: read(&counters.arrivals),
        ok: read(&counters.ok),
        unreachable: read(&counters.unreachable),
        busy: read(&counters.busy),
        failing_at_end: outcomes.iter().filter(|(f, _, _)| *f > 0).count() as u64,
        never_checked_in: outcomes.iter().filter(|(_, _, ok)| !ok).count() as u64,
        longest_failure_run: outcomes.iter().map(|(_, w, _)| *w).max().unwrap_or(0),
    }
}

/// The mean of `v[from..to]` (0 when empty).
pub fn mean(v: &[u64], from: usize, to: usize) -> f64 {
    let part = &v[from.min(v.len())..to.min(v.len())];
    if part.is_empty() {
        0.0
    } else {
        part.iter().sum::<u64>() as f64 / part.len() as f64
    }
}
