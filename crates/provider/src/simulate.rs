//! The load generator: seeded simulated machines check in at a fixed
//! arrival rate (open loop: a slow reply does not slow the arrivals, and
//! a check-in's latency counts from when it was due, so queueing shows).
//!
//! Given several providers (a switchover pair, or several providers on
//! one database), machine `i` checks in at provider `i mod n` first and
//! fails over to the next one when its provider cannot be reached or is
//! busy, as the update client does.

use crate::api::{CheckIn, InstalledJson};
use crate::client::{ClientError, ProviderClient};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use transit_core::CancelToken;
use transit_update::InstallVersion;

/// What to run.
#[derive(Debug, Clone)]
pub struct SimulateOptions {
    /// How many distinct machines (check-ins cycle through them).
    pub clients: u64,
    /// Check-ins per second; 0 for closed loop: each connection sends
    /// its next check-in as soon as the last is answered (capacity).
    pub rate: f64,
    /// How long.
    pub duration: Duration,
    /// Requests in flight at most (the connection count).
    pub connections: usize,
    /// The seed of the machines' inventories.
    pub seed: u64,
}

/// What a run measured.
#[derive(Debug, Clone, Serialize)]
pub struct SimulateReport {
    /// Check-ins started.
    pub sent: u64,
    /// Check-ins answered 200 (committed).
    pub ok: u64,
    /// Check-ins that failed, by reason.
    pub errors: Vec<(String, u64)>,
    /// Seconds the run took.
    pub seconds: f64,
    /// The rate asked for.
    pub target_rate: f64,
    /// Committed check-ins per second.
    pub achieved_rate: f64,
    /// Latency percentiles in milliseconds: p50, p90, p99, p99.9, max.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// The slowest.
    pub max_ms: f64,
    /// Check-ins answered 200 by each provider, in the order given.
    pub per_provider: Vec<u64>,
    /// Check-ins that went to a later provider because an earlier one
    /// could not be reached or was busy.
    pub failovers: u64,
}

const APPS: &[(&str, u16)] = &[
    ("Interaction Desktop", 0),
    ("Interaction Connect", 0),
    ("Interactive Update Client", 0),
    ("Interaction Administrator", 0),
    ("Interaction Scripter", 0),
    ("Interaction Attendant", 0),
    ("Interaction Recorder Client", 0),
    ("Interaction SIP Station", 0),
];

/// Machine `i` of seed `seed`: its ID, secret and a realistic inventory
/// (2 to 6 applications on one of a few releases and patches; about one
/// machine in a hundred reports an error, two need a restart).
pub fn machine(seed: u64, i: u64) -> CheckIn {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let token = hex::encode(Sha256::digest(format!("{seed}:{i}").as_bytes()));
    let releases = [("2018 R1", 18, 1), ("2018 R2", 18, 2), ("2019 R1", 19, 1)];
    let (release, major, minor) = releases[rng.gen_range(0..releases.len())];
    let patch: u16 = rng.gen_range(0..6);
    let n = rng.gen_range(2..=6usize);
    let mut installed: Vec<InstalledJson> = Vec::with_capacity(n);
    let start = rng.gen_range(0..APPS.len());
    for k in 0..n {
        let (app, _) = APPS[(start + k) % APPS.len()];
        installed.push(InstalledJson {
            application: app.to_string(),
            release: release.to_string(),
            patch,
            version: InstallVersion::new(major, minor, patch, rng.gen_range(1..40)),
            previous: None,
        });
    }
    let errors = if rng.gen_ratio(1, 100) {
        vec!["Interactive Update Client service is disabled".to_string()]
    } else {
        Vec::new()
    };
    CheckIn {
        machine_id: format!("sim-{seed}-{i:07}"),
        token: token[..32].to_string(),
        name: format!("WS{i:07}"),
        ip: Some(format!(
            "10.{}.{}.{}",
            (i >> 16) & 0xff,
            (i >> 8) & 0xff,
            i & 0xff
        )),
        group: None,
        cic_server: false,
        installed,
        errors,
        restart_required: rng.gen_ratio(2, 100),
    }
}

fn error_name(e: &ClientError) -> String {
    match e {
        ClientError::Api { status, code, .. } => format!("{status} {code}"),
        ClientError::Unreachable { source, .. } if source.is_timeout() => "timeout".into(),
        ClientError::Unreachable { .. } => "connection".into(),
        ClientError::Decode { .. } => "bad reply".into(),
        ClientError::Setup(_) => "setup".into(),
    }
}

type Errors = Mutex<std::collections::BTreeMap<String, u64>>;

/// What the senders share.
struct Tally {
    ok: AtomicU64,
    latencies: Mutex<Vec<u32>>,
    errors: Errors,
    per_provider: Vec<AtomicU64>,
    failovers: AtomicU64,
}

/// A check-in at `providers[first]`, failing over to the next ones when
/// a provider cannot be reached or is busy; the index that answered.
async fn checkin_any(
    providers: &[ProviderClient],
    first: usize,
    body: &CheckIn,
    tally: &Tally,
) -> (Result<crate::api::CheckInReply, ClientError>, usize) {
    let n = providers.len().max(1);
    let mut last = None;
    for k in 0..n {
        let at = (first + k) % n;
        match providers[at].checkin(body).await {
            Ok(reply) => {
                if k > 0 {
                    tally.failovers.fetch_add(1, Ordering::Relaxed);
                }
                return (Ok(reply), at);
            }
            Err(e) => {
                let next = matches!(e, ClientError::Unreachable { .. })
                    || matches!(e, ClientError::Api { status: 503, .. });
                last = Some((e, at));
                if !next {
                    break;
                }
            }
        }
    }
    match last {
        Some((e, at)) => (Err(e), at),
        None => (Err(ClientError::Setup("no provider given".into())), 0),
    }
}

fn record(
    (outcome, at): (Result<crate::api::CheckInReply, ClientError>, usize),
    micros: u32,
    tally: &Tally,
) {
    let (ok, latencies, errors) = (&tally.ok, &tally.latencies, &tally.errors);
    match outcome {
        Ok(_) => {
            if let Some(c) = tally.per_provider.get(at) {
                c.fetch_add(1, Ordering::Relaxed);
            }
            ok.fetch_add(1, Ordering::Relaxed);
            latencies
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(micros);
        }
        Err(e) => {
            *errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(error_name(&e))
                .or_default() += 1;
        }
    }
}

/// How many of an open loop's `total` check-ins are due `elapsed`
/// seconds after its start at `rate` per second: check-in k is due at
/// k / rate (the first at once), and each is timed from its due time.
fn due_by(elapsed: f64, rate: f64, total: u64) -> u64 {
    ((elapsed * rate) as u64 + 1).min(total)
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    f64::from(sorted[idx]) / 1000.0
}

/// Runs the load: check-ins at `rate` per second for `duration` (or, with
/// a rate of 0, as fast as `connections` closed-loop senders go), cycling
/// through `clients` machines, at most `connections` in flight. Stops
/// early when `stop` is cancelled.
pub async fn run(
    client: &ProviderClient,
    options: &SimulateOptions,
    stop: &CancelToken,
) -> SimulateReport {
    run_spread(std::slice::from_ref(client), options, stop).await
}

/// [`run`] over several providers: machine `i` goes to provider `i mod
/// n` first, and fails over to the next ones.
pub async fn run_spread(
    providers: &[ProviderClient],
    options: &SimulateOptions,
    stop: &CancelToken,
) -> SimulateReport {
    let providers: Arc<Vec<ProviderClient>> = Arc::new(providers.to_vec());
    let n = providers.len().max(1);
    let clients = options.clients.max(1);
    let machines: Arc<Vec<CheckIn>> = Arc::new(
        (0..clients.min(1_000_000))
            .map(|i| machine(options.seed, i))
            .collect(),
    );
    let permits = Arc::new(Semaphore::new(options.connections.max(1)));
    let tally = Arc::new(Tally {
        ok: AtomicU64::new(0),
        latencies: Mutex::new(Vec::new()),
        errors: Errors::default(),
        per_provider: (0..n).map(|_| AtomicU64::new(0)).collect(),
        failovers: AtomicU64::new(0),
    });
    let start = Instant::now();
    let closed = options.rate <= 0.0;
    let total = if closed {
        0
    } else {
        (options.rate * options.duration.as_secs_f64()).round() as u64
    };
    let mut sent: u64 = 0;
    let mut tasks = tokio::task::JoinSet::new();
    if closed {
        let next = Arc::new(AtomicU64::new(0));
        let deadline = start + options.duration;
        for _ in 0..options.connections.max(1) {
            let (providers, machines, tally, next, stop) = (
                Arc::clone(&providers),
                Arc::clone(&machines),
                Arc::clone(&tally),
                Arc::clone(&next),
                stop.clone(),
            );
            tasks.spawn(async move {
                while Instant::now() < deadline && !stop.is_cancelled() {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let idx = (k % machines.len() as u64) as usize;
                    let t0 = Instant::now();
                    let outcome = checkin_any(&providers, idx % n, &machines[idx], &tally).await;
                    let micros = t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                    record(outcome, micros, &tally);
                }
            });
        }
        while tasks.join_next().await.is_some() {}
        sent = next.load(Ordering::Relaxed);
    }
    while sent < total && !stop.is_cancelled() {
        let due_now = due_by(start.elapsed().as_secs_f64(), options.rate, total);
        while sent < due_now {
            let due = start + Duration::from_secs_f64(sent as f64 / options.rate);
            let body = Arc::clone(&machines);
            let idx = (sent % machines.len() as u64) as usize;
            let (providers, permits, tally) = (
                Arc::clone(&providers),
                Arc::clone(&permits),
                Arc::clone(&tally),
            );
            tasks.spawn(async move {
                let Ok(_permit) = permits.acquire_owned().await else {
                    return;
                };
                let outcome = checkin_any(&providers, idx % n, &body[idx], &tally).await;
                let micros = due.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                record(outcome, micros, &tally);
            });
            sent += 1;
        }
        while tasks.try_join_next().is_some() {}
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    while tasks.join_next().await.is_some() {}
    let seconds = start.elapsed().as_secs_f64();
    let mut lat = std::mem::take(&mut *tally.latencies.lock().unwrap_or_else(|p| p.into_inner()));
    lat.sort_unstable();
    let ok = tally.ok.load(Ordering::Relaxed);
    let errors = std::mem::take(&mut *tally.errors.lock().unwrap_or_else(|p| p.into_inner()))
        .into_iter()
        .collect();
    SimulateReport {
        sent,
        ok,
        errors,
        seconds,
        target_rate: options.rate,
        achieved_rate: if options.duration.is_zero() {
            0.0
        } else {
            ok as f64 / seconds.max(options.duration.as_secs_f64())
        },
        p50_ms: percentile(&lat, 0.50),
        p90_ms: percentile(&lat, 0.90),
        p99_ms: percentile(&lat, 0.99),
        p999_ms: percentile(&lat, 0.999),
        max_ms: lat.last().map_or(0.0, |&m| f64::from(m) / 1000.0),
        per_provider: tally
            .per_provider
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect(),
        failovers: tally.failovers.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::due_by;

    #[test]
    fn check_in_k_is_sent_at_its_own_due_time() {
        // At 10/s: check-in 0 at once, 1 at 0.1 s, 2 at 0.2 s; none
        // waits a period past its due time (which the latency would count).
        assert_eq!(due_by(0.0, 10.0, 30), 1);
        assert_eq!(due_by(0.099, 10.0, 30), 1);
        assert_eq!(due_by(0.1, 10.0, 30), 2);
        assert_eq!(due_by(0.25, 10.0, 30), 3);
        assert_eq!(due_by(100.0, 10.0, 30), 30);
        assert_eq!(due_by(0.0, 10.0, 0), 0);
    }
}
