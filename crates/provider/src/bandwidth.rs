//! Per-group download limits: at most `max_downloads` payload downloads
//! of a group's machines at once, and `download_rate` bytes per second
//! shared by all of them (a GCRA limiter from `governor`).
//!
//! A download over the limit waits its turn: first briefly in the
//! provider (a fair queue), then, if no slot freed, it is answered `503`
//! with code `download_queue` and a `Retry-After`. The update client
//! waits that long and asks again, without counting an attempt, so a
//! queued download is never failed.

use crate::api::GroupSettings;
use governor::{DefaultDirectRateLimiter, Quota};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a download waits in the provider for a slot before it is
/// told to come back.
pub const QUEUE_WAIT: Duration = Duration::from_secs(2);

/// Bytes per limiter cell: rates count in KiB.
const CELL: u64 = 1024;

/// A group's download limits (0: none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    /// Downloads at once.
    pub max_downloads: u32,
    /// Bytes per second for the whole group.
    pub rate: u64,
}

impl Limits {
    /// The limits of a group's settings.
    pub fn of(settings: &GroupSettings) -> Limits {
        Limits {
            max_downloads: settings.max_downloads,
            rate: settings.download_rate,
        }
    }
}

/// One group's gate: its slots, its rate limiter and its counters.
pub struct Gate {
    limits: Limits,
    slots: Option<Arc<Semaphore>>,
    limiter: Option<DefaultDirectRateLimiter>,
    /// The largest read that keeps the rate smooth (a quarter second's bytes).
    chunk: u64,
    active: AtomicUsize,
    peak: AtomicUsize,
    waiting: AtomicUsize,
    queued: AtomicU64,
    /// How long a download of this group holds its slot, in ms (a moving average).
    hold_ms: AtomicU64,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Gate({:?})", self.limits)
    }
}

impl Gate {
    fn new(limits: Limits) -> Gate {
        let slots = (limits.max_downloads > 0)
            .then(|| Arc::new(Semaphore::new(limits.max_downloads as usize)));
        let (limiter, chunk) = if limits.rate > 0 {
            let per_second = (limits.rate / CELL).clamp(1, u64::from(u32::MAX / 4)) as u32;
            // A quarter second's bytes per read, 4 KiB to 1 MiB.
            let chunk_cells = (per_second / 4).clamp(4, 1024);
            let burst = NonZeroU32::new(chunk_cells.max(per_second / 4)).unwrap_or(NonZeroU32::MIN);
            let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
            (
                Some(governor::RateLimiter::direct(
                    Quota::per_second(rate).allow_burst(burst),
                )),
                u64::from(chunk_cells) * CELL,
            )
        } else {
            (None, crate::http::download::CHUNK)
        };
        Gate {
            limits,
            slots,
            limiter,
            chunk,
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            waiting: AtomicUsize::new(0),
            queued: AtomicU64::new(0),
            hold_ms: AtomicU64::new(250),
        }
    }

    /// The largest read a download of this group makes at once.
    pub fn chunk(&self) -> u64 {
        self.chunk
    }

    /// Waits until `bytes` may be sent under the group's rate.
    pub async fn pace(&self, bytes: u64) {
        let Some(limiter) = &self.limiter else {
            return;
        };
        let cells = bytes.div_ceil(CELL).max(1);
        let mut left = cells;
        while left > 0 {
            let n = left.min(u64::from(u32::MAX)) as u32;
            let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
            match limiter.until_n_ready(n).await {
                Ok(()) => left -= u64::from(n.get()),
                // More than the burst at once: one cell at a time.
                Err(_) => {
                    limiter.until_ready().await;
                    left -= 1;
                }
            }
        }
    }
}

/// A download holding a slot of its group; the slot frees when it drops.
#[derive(Debug)]
pub struct Ticket {
    gate: Arc<Gate>,
    _permit: Option<OwnedSemaphorePermit>,
    since: std::time::Instant,
}

impl Ticket {
    /// The group's gate (for pacing).
    pub fn gate(&self) -> &Arc<Gate> {
        &self.gate
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate.active.fetch_sub(1, Ordering::Relaxed);
        // A moving average (1/8 weight) of how long slots are held.
        let held = self.since.elapsed().as_millis() as u64;
        let _ = self
            .gate
            .hold_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                Some((avg * 7 + held) / 8)
            });
    }
}

/// Seconds to tell a download to come back after: its place in the line
/// (`waiting` ahead, `slots` at a time) times how long a slot is held,
/// 1–30 s.
pub fn come_back_after(waiting: usize, slots: u32, hold_ms: u64) -> u64 {
    let rounds = waiting as f64 / f64::from(slots.max(1));
    ((rounds * hold_ms as f64 / 1000.0).ceil() as u64).clamp(1, 30)
}

/// No slot freed in time: come back after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComeBack {
    /// Seconds to wait.
    pub after: u64,
    /// Downloads of the group waiting now.
    pub waiting: usize,
}

/// Download counters of one group, for the status API.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupDownloads {
    /// The group's ID.
    pub group_id: i64,
    /// Downloads at once allowed (0: no limit).
    pub max_downloads: u32,
    /// Bytes per second allowed (0: no limit).
    pub download_rate: u64,
    /// Downloads running now.
    pub active: usize,
    /// The most that ran at once since the provider started.
    pub peak: usize,
    /// Downloads told to come back later since the provider started.
    pub queued: u64,
}

/// Every group's gate, and which group each machine is in.
#[derive(Debug, Default)]
pub struct Downloads {
    gates: Mutex<HashMap<i64, Arc<Gate>>>,
    machines: Mutex<HashMap<String, i64>>,
}

impl Downloads {
    /// Remembers a machine's group (at its check-in).
    pub fn remember(&self, machine_id: &str, group_id: i64) {
        let mut m = self.machines.lock().unwrap_or_else(|p| p.into_inner());
        if m.get(machine_id) != Some(&group_id) {
            m.insert(machine_id.to_string(), group_id);
        }
    }

    /// The group of a machine seen at a check-in since the provider started.
    pub fn group_of(&self, machine_id: &str) -> Option<i64> {
        self.machines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(machine_id)
            .copied()
    }

    /// The gate of `group_id` under `limits` (a new gate when they changed;
    /// downloads under the old one finish under it).
    pub fn gate(&self, group_id: i64, limits: Limits) -> Arc<Gate> {
        let mut gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        match gates.get(&group_id) {
            Some(g) if g.limits == limits => Arc::clone(g),
            _ => {
                let g = Arc::new(Gate::new(limits));
                gates.insert(group_id, Arc::clone(&g));
                g
            }
        }
    }

    /// Takes a slot of `gate`, waiting up to `wait` in line.
    pub async fn admit(&self, gate: Arc<Gate>, wait: Duration) -> Result<Ticket, ComeBack> {
        let permit = match &gate.slots {
            None => None,
            Some(slots) => {
                let slots = Arc::clone(slots);
                if let Ok(p) = Arc::clone(&slots).try_acquire_owned() {
                    Some(p)
                } else {
                    let waiting = gate.waiting.fetch_add(1, Ordering::Relaxed) + 1;
                    let got = tokio::time::timeout(wait, slots.acquire_owned()).await;
                    gate.waiting.fetch_sub(1, Ordering::Relaxed);
                    match got {
                        Ok(Ok(p)) => Some(p),
                        _ => {
                            gate.queued.fetch_add(1, Ordering::Relaxed);
                            let after = come_back_after(
                                waiting,
                                gate.limits.max_downloads,
                                gate.hold_ms.load(Ordering::Relaxed),
                            );
                            return Err(ComeBack {
                                after: crate::http::error::jittered(after),
                                waiting,
                            });
                        }
                    }
                }
            }
        };
        let now = gate.active.fetch_add(1, Ordering::Relaxed) + 1;
        gate.peak.fetch_max(now, Ordering::Relaxed);
        Ok(Ticket {
            gate,
            _permit: permit,
            since: std::time::Instant::now(),
        })
    }

    /// Every group's counters, by group ID.
    pub fn counters(&self) -> Vec<GroupDownloads> {
        let gates = self.gates.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<GroupDownloads> = gates
            .iter()
            .map(|(id, g)| GroupDownloads {
                group_id: *id,
                max_downloads: g.limits.max_downloads,
                download_rate: g.limits.rate,
                active: g.active.load(Ordering::Relaxed),
                peak: g.peak.load(Ordering::Relaxed),
                queued: g.queued.load(Ordering::Relaxed),
            })
            .collect();
        out.sort_by_key(|g| g.group_id);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn slots_cap_downloads_and_the_overflow_is_told_to_come_back() {
        rt().block_on(async {
            let d = Downloads::default();
            let limits = Limits {
                max_downloads: 2,
                rate: 0,
            };
            let g = d.gate(1, limits);
            let a = d.admit(Arc::clone(&g), Duration::ZERO).await.unwrap();
            let _b = d.admit(Arc::clone(&g), Duration::ZERO).await.unwrap();
            let c = d
                .admit(Arc::clone(&g), Duration::from_millis(10))
                .await
                .unwrap_err();
            assert!((1..=2).contains(&c.after), "{c:?}");
            drop(a);
            let _c = d.admit(Arc::clone(&g), Duration::ZERO).await.unwrap();
            let counters = d.counters();
            assert_eq!(counters.len(), 1);
            assert_eq!(
                (counters[0].active, counters[0].peak, counters[0].queued),
                (2, 2, 1)
            );
        });
    }

    #[test]
    fn a_waiting_download_gets_the_slot_that_frees() {
        rt().block_on(async {
            let d = Arc::new(Downloads::default());
            let g = d.gate(
                1,
                Limits {
                    max_downloads: 1,
                    rate: 0,
                },
            );
            let first = d.admit(Arc::clone(&g), Duration::ZERO).await.unwrap();
            let d2 = Arc::clone(&d);
            let g2 = Arc::clone(&g);
            let second = tokio::spawn(async move { d2.admit(g2, Duration::from_secs(5)).await });
            tokio::task::yield_now().await;
            drop(first);
            assert!(second.await.unwrap().is_ok());
        });
    }

    #[test]
    fn changed_limits_make_a_new_gate_and_unlimited_groups_have_no_slots() {
        let d = Downloads::default();
        let a = d.gate(
            3,
            Limits {
                max_downloads: 2,
                rate: 0,
            },
        );
        assert!(Arc::ptr_eq(
            &a,
            &d.gate(
                3,
                Limits {
                    max_downloads: 2,
                    rate: 0
                }
            )
        ));
        let b = d.gate(
            3,
            Limits {
                max_downloads: 4,
                rate: 0,
            },
        );
        assert!(!Arc::ptr_eq(&a, &b));
        let free = Gate::new(Limits::default());
        assert!(free.slots.is_none() && free.limiter.is_none());
        assert_eq!(free.chunk(), crate::http::download::CHUNK);
        let slow = Gate::new(Limits {
            max_downloads: 0,
            rate: 64 * 1024,
        });
        assert_eq!(slow.chunk(), 16 * 1024, "a quarter second of 64 KiB/s");
    }

    #[test]
    fn come_back_times_follow_the_line_ahead() {
        assert_eq!(come_back_after(1, 8, 1000), 1);
        assert_eq!(come_back_after(192, 8, 200), 5);
        assert_eq!(come_back_after(10_000, 1, 60_000), 30, "at most 30 s");
        assert_eq!(come_back_after(5, 0, 1000), 5, "no slots counts as one");
    }

    #[test]
    fn machines_remember_their_group() {
        let d = Downloads::default();
        assert_eq!(d.group_of("m"), None);
        d.remember("m", 4);
        assert_eq!(d.group_of("m"), Some(4));
    }
}
