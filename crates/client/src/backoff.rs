//! When an agent tries again after a check-in found no provider.
//!
//! A failed check-in is retried sooner than the next regular check-in,
//! but spread out so that a provider coming back after a restart is not
//! met by its whole fleet at once:
//!
//! - told `Retry-After: N` (an overloaded provider), wait N to 2N seconds;
//! - otherwise the k-th retry in a row waits a random time between half
//!   and all of `check_min / 2 × 2^(k-1)`, capped at `check_min`.
//!
//! Clients that failed long ago retry rarely, so the retries arriving
//! when a provider returns stay near the fleet's steady check-in rate
//! (measured by `bench/surge.sh` and the surge test).

use rand::Rng;
use std::time::Duration;

/// The wait before retry number `failures` (1 for the first) of a
/// check-in, given the provider's `Retry-After` if it sent one and the
/// shortest regular check-in interval `check_min`.
pub fn retry_delay(
    failures: u32,
    retry_after: Option<Duration>,
    check_min: Duration,
    rng: &mut impl Rng,
) -> Duration {
    if let Some(told) = retry_after {
        return told + told.mul_f64(rng.gen_range(0.0..=1.0));
    }
    let floor = Duration::from_secs(1);
    let ceiling = check_min.max(floor);
    let first = (check_min / 2).max(floor);
    let doublings = failures.clamp(1, 32) - 1;
    let cap = first
        .checked_mul(1u32 << doublings.min(20))
        .unwrap_or(ceiling)
        .min(ceiling);
    cap.mul_f64(rng.gen_range(0.5..=1.0)).max(floor)
}

/// The wait before an agent's next check-in: after `failures` check-ins
/// in a row that found no provider, [`retry_delay`]; otherwise a random
/// time between `check_min` and `check_max`, but never before the
/// provider's next-check time `next_secs`.
pub fn next_wait(
    failures: u32,
    retry_after: Option<Duration>,
    next_secs: Option<u64>,
    check_min: Duration,
    check_max: Duration,
    rng: &mut impl Rng,
) -> Duration {
    if failures > 0 {
        return retry_delay(failures, retry_after, check_min, rng);
    }
    let own = timer(check_min, check_max, rng);
    match next_secs {
        Some(n) => own.max(Duration::from_secs(n)),
        None => own,
    }
}

/// A random check timer interval in `[check_min, check_max]`.
pub fn timer(check_min: Duration, check_max: Duration, rng: &mut impl Rng) -> Duration {
    let (min, max) = (
        check_min.as_secs_f64(),
        check_max.as_secs_f64().max(check_min.as_secs_f64()),
    );
    Duration::from_secs_f64(rng.gen_range(min..=max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn retries_double_from_half_the_interval_up_to_the_interval() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let min = Duration::from_secs(1800);
        for (failures, cap) in [(1, 900), (2, 1800), (3, 1800), (40, 1800)] {
            for _ in 0..200 {
                let d = retry_delay(failures, None, min, &mut rng).as_secs_f64();
                assert!(
                    (cap as f64 / 2.0..=cap as f64).contains(&d),
                    "retry {failures}: {d} s not within half of {cap} s and {cap} s"
                );
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_with_up_to_as_much_again() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(2);
        let told = Some(Duration::from_secs(5));
        let waits: Vec<f64> = (0..500)
            .map(|_| retry_delay(1, told, Duration::from_secs(1800), &mut rng).as_secs_f64())
            .collect();
        assert!(waits.iter().all(|w| (5.0..=10.0).contains(w)));
        // Spread out: not all in one second.
        let distinct: std::collections::BTreeSet<u64> = waits.iter().map(|w| *w as u64).collect();
        assert!(distinct.len() >= 5, "{distinct:?}");
    }

    #[test]
    fn tiny_intervals_still_wait_a_second() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        assert!(
            retry_delay(1, None, Duration::from_millis(100), &mut rng) >= Duration::from_secs(1)
        );
    }
}
