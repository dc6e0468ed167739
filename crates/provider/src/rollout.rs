//! Staged rollouts as pure functions: which wave a machine is in, whether
//! it is offered an update under a rollout, and what a rollout does next
//! given its waves' tallies.
//!
//! A rollout takes one update to machines in waves, in order. A wave is a
//! share of a group (or of every group): waves over the same group are
//! cumulative, so `Pilot 100 %, Default 5 %, Default 25 %, Default 100 %`
//! gives the Pilot group first, then about 5 % of Default, then the next
//! 20 %, then the rest. Which share a machine falls in is a stable hash of
//! the rollout and the machine ID, so it never changes between check-ins
//! and differs between rollouts.
//!
//! A machine is offered the update once its wave has started. The
//! current wave moves on when its success threshold (the share of its
//! machines that installed the update) is reached, or pauses there for
//! approval when the wave asks for it. An error threshold reached in any
//! started wave stops the rollout: waves not started are never offered
//! the update. A paused or stopped rollout resumes by command; resuming a
//! stopped one forgives the failures counted so far.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A share in thousandths (0–1000), so thresholds compare exactly.
pub type PerMille = u32;

/// When a wave's failures stop the rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorThreshold {
    /// This many failed machines (at least 1).
    Count(u64),
    /// This share of the wave's machines failed (1–1000 ‰).
    Share(PerMille),
}

impl ErrorThreshold {
    /// True when `failed` of `size` machines reach the threshold.
    pub fn reached(self, failed: u64, size: u64) -> bool {
        match self {
            ErrorThreshold::Count(n) => failed >= n.max(1),
            ErrorThreshold::Share(share) => {
                failed > 0 && failed * 1000 >= u64::from(share.max(1)) * size.max(1)
            }
        }
    }
}

impl std::fmt::Display for ErrorThreshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorThreshold::Count(n) => write!(f, "{n} failed"),
            ErrorThreshold::Share(s) => write!(f, "{} failed", percent(*s)),
        }
    }
}

/// `‰` as a percentage for people (`95 %`, `2.5 %`).
pub fn percent(per_mille: PerMille) -> String {
    if per_mille.is_multiple_of(10) {
        format!("{} %", per_mille / 10)
    } else {
        format!("{}.{} %", per_mille / 10, per_mille % 10)
    }
}

/// One wave of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaveSpec {
    /// The group (any case); `None` for every group.
    #[serde(default)]
    pub group: Option<String>,
    /// The cumulative share of the group up to and including this wave, 1–100.
    pub percent: u8,
    /// The share of the wave's machines installed that completes it (1–1000 ‰).
    pub success: PerMille,
    /// The failures that stop the rollout.
    pub errors: ErrorThreshold,
    /// Pause for approval when the wave completes, instead of starting the next.
    #[serde(default)]
    pub approve: bool,
}

impl WaveSpec {
    /// True when a machine of `group` falls under this wave's group.
    fn covers(&self, group: &str) -> bool {
        self.group
            .as_deref()
            .is_none_or(|g| g.to_lowercase() == group.to_lowercase())
    }
}

/// Checks a rollout's waves; the error says which wave is wrong and why.
pub fn check_waves(waves: &[WaveSpec]) -> Result<(), String> {
    if waves.is_empty() {
        return Err("a rollout needs at least one wave".into());
    }
    if waves.len() > 100 {
        return Err("a rollout has at most 100 waves".into());
    }
    for (i, w) in waves.iter().enumerate() {
        let n = i + 1;
        if !(1..=100).contains(&w.percent) {
            return Err(format!("wave {n}: the share of the group is 1-100 %"));
        }
        if !(1..=1000).contains(&w.success) {
            return Err(format!(
                "wave {n}: the success threshold is above 0 % and at most 100 %"
            ));
        }
        match w.errors {
            ErrorThreshold::Count(0) => {
                return Err(format!("wave {n}: an error count threshold is at least 1"))
            }
            ErrorThreshold::Share(s) if !(1..=1000).contains(&s) => {
                return Err(format!(
                    "wave {n}: the error threshold is above 0 % and at most 100 %"
                ))
            }
            _ => {}
        }
        if let Some(g) = &w.group {
            if g.trim().is_empty() {
                return Err(format!("wave {n}: the group name is empty"));
            }
        }
        // A later wave over the same group must reach further, or it is empty.
        if let Some(earlier) = waves[..i]
            .iter()
            .rev()
            .find(|e| same_group(e.group.as_deref(), w.group.as_deref()))
        {
            if earlier.percent >= w.percent {
                return Err(format!(
                    "wave {n}: {} % of {} is already covered by an earlier wave ({} %); shares of one group grow wave by wave",
                    w.percent,
                    w.group.as_deref().unwrap_or("every group"),
                    earlier.percent
                ));
            }
        }
    }
    Ok(())
}

/// Parses a share: `95%`, `2.5%` or `0.95`, into ‰.
pub fn parse_share(text: &str) -> Result<PerMille, String> {
    let t = text.trim();
    let (number, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 10.0),
        None => (t, 1000.0),
    };
    let v: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a share (95%, 2.5% or 0.95)"))?;
    let per_mille = (v * scale).round();
    if !(0.0..=1000.0).contains(&per_mille) || (scale == 1000.0 && v > 1.0) {
        return Err(format!("`{text}` is not between 0 % and 100 %"));
    }
    Ok(per_mille as PerMille)
}

/// Parses a wave as the command line gives it:
/// `GROUP[:PERCENT%][,success=SHARE][,errors=SHARE|COUNT][,approve]`,
/// with `*` for every group; thresholds default to `success` and `errors`.
pub fn parse_wave(
    text: &str,
    success: PerMille,
    errors: ErrorThreshold,
) -> Result<WaveSpec, String> {
    let mut parts = text.split(',');
    let head = parts.next().unwrap_or("").trim();
    let (group, share) = match head.rsplit_once(':') {
        Some((g, p)) => (g.trim(), Some(p.trim())),
        None => (head, None),
    };
    if group.is_empty() {
        return Err(format!(
            "`{text}`: a wave starts with a group name (or * for every group)"
        ));
    }
    let percent = match share {
        None => 100,
        Some(p) => {
            let n: u8 = p
                .trim_end_matches('%')
                .trim()
                .parse()
                .map_err(|_| format!("`{text}`: `{p}` is not a whole percentage (1-100%)"))?;
            n
        }
    };
    let mut wave = WaveSpec {
        group: (group != "*").then(|| group.to_string()),
        percent,
        success,
        errors,
        approve: false,
    };
    for part in parts.map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some(("success", v)) => wave.success = parse_share(v)?,
            Some(("errors", v)) => wave.errors = parse_errors(v)?,
            None if part == "approve" => wave.approve = true,
            _ => {
                return Err(format!(
                    "`{part}` in `{text}`: expected success=SHARE, errors=SHARE|COUNT or approve"
                ))
            }
        }
    }
    Ok(wave)
}

/// Parses an error threshold: a share (`10%`, `0.1`) or a count (`3`).
pub fn parse_errors(text: &str) -> Result<ErrorThreshold, String> {
    let t = text.trim();
    if t.ends_with('%') || t.contains('.') {
        return parse_share(t).map(ErrorThreshold::Share);
    }
    t.parse::<u64>().map(ErrorThreshold::Count).map_err(|_| {
        format!("`{text}` is not an error threshold (a share like 10% or a count like 3)")
    })
}

fn same_group(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.to_lowercase() == b.to_lowercase(),
        _ => false,
    }
}

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RolloutState {
    /// Waves start as their predecessors succeed.
    Running,
    /// No new wave starts: paused by command, or waiting for approval.
    Paused,
    /// An error threshold was reached (or stopped by command): no new wave starts.
    Stopped,
    /// Every wave started and the last one succeeded.
    Completed,
}

impl RolloutState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::Running => "running",
            RolloutState::Paused => "paused",
            RolloutState::Stopped => "stopped",
            RolloutState::Completed => "completed",
        }
    }
}

impl std::str::FromStr for RolloutState {
    type Err = String;
    fn from_str(s: &str) -> Result<RolloutState, String> {
        Ok(match s {
            "running" => RolloutState::Running,
            "paused" => RolloutState::Paused,
            "stopped" => RolloutState::Stopped,
            "completed" => RolloutState::Completed,
            other => return Err(format!("`{other}` is not a rollout state")),
        })
    }
}

/// A rollout as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// Its ID.
    pub id: i64,
    /// The update's catalog ID.
    pub update_id: i64,
    /// The waves, in order.
    pub waves: Vec<WaveSpec>,
    /// Where it stands.
    pub state: RolloutState,
    /// The latest wave started (0-based); waves up to it are offered the update.
    pub current: usize,
    /// Paused because the current wave completed and asks for approval.
    pub awaiting_approval: bool,
    /// Why it is paused, stopped or completed (empty while running).
    pub reason: String,
    /// Per wave, the failures forgiven when a stopped rollout resumed.
    pub forgiven: Vec<u64>,
    /// Bumped on every change (compare-and-set between providers sharing a store).
    pub version: i64,
    /// Created (Unix seconds).
    pub created: i64,
    /// Last changed (Unix seconds).
    pub updated: i64,
}

impl Rollout {
    /// True when a machine in `wave` (its [`wave_of`]) is offered the update.
    pub fn offers_to(&self, wave: Option<usize>) -> bool {
        wave.is_some_and(|w| w <= self.current)
    }

    /// The wave of a machine with `machine_id` in `group`.
    pub fn wave_of(&self, machine_id: &str, group: &str) -> Option<usize> {
        wave_of(&self.waves, group, bucket(self.id, machine_id))
    }
}

/// A machine's place, 0–99, in rollout `rollout_id`: stable, and
/// independent between rollouts.
pub fn bucket(rollout_id: i64, machine_id: &str) -> u8 {
    let digest = Sha256::digest(format!("{rollout_id}\0{machine_id}").as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    (u64::from_be_bytes(first) % 100) as u8
}

/// The first wave covering a machine of `group` at `bucket`, if any.
pub fn wave_of(waves: &[WaveSpec], group: &str, bucket: u8) -> Option<usize> {
    waves
        .iter()
        .position(|w| w.covers(group) && bucket < w.percent)
}

/// One wave's machines and outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Machines in the wave.
    pub size: u64,
    /// Of them, installed the update (their latest outcome).
    pub installed: u64,
    /// Of them, failed to download or install it (their latest outcome).
    pub failed: u64,
}

/// The change a rollout's tallies call for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Start the next wave.
    Advance {
        /// The wave started (0-based).
        wave: usize,
        /// Why.
        reason: String,
    },
    /// The current wave succeeded and asks for approval.
    AwaitApproval {
        /// Why.
        reason: String,
    },
    /// An error threshold was reached.
    Stop {
        /// Why.
        reason: String,
    },
    /// The last wave succeeded.
    Complete {
        /// Why.
        reason: String,
    },
}

/// What a running rollout does next, given one tally per wave (missing
/// tallies count as empty waves); `None` when it stays as it is.
pub fn evaluate(r: &Rollout, tallies: &[Tally]) -> Option<Transition> {
    if r.state != RolloutState::Running || r.waves.is_empty() {
        return None;
    }
    let tally = |w: usize| tallies.get(w).copied().unwrap_or_default();
    let current = r.current.min(r.waves.len() - 1);
    for w in 0..=current {
        let t = tally(w);
        let failed = t
            .failed
            .saturating_sub(r.forgiven.get(w).copied().unwrap_or(0));
        let threshold = r.waves[w].errors;
        if threshold.reached(failed, t.size) {
            return Some(Transition::Stop {
                reason: format!(
                    "wave {}: {failed} of {} machines failed, reaching the error threshold ({threshold})",
                    w + 1,
                    t.size
                ),
            });
        }
    }
    let t = tally(current);
    let spec = &r.waves[current];
    let reached = t.installed * 1000 >= u64::from(spec.success) * t.size;
    if !reached {
        return None;
    }
    let done = if t.size == 0 {
        format!("wave {} has no machines", current + 1)
    } else {
        format!(
            "wave {}: {} of {} machines installed (success threshold {})",
            current + 1,
            t.installed,
            t.size,
            percent(spec.success)
        )
    };
    if current + 1 == r.waves.len() {
        Some(Transition::Complete { reason: done })
    } else if spec.approve {
        Some(Transition::AwaitApproval {
            reason: format!("{done}: waiting for approval to start wave {}", current + 2),
        })
    } else {
        Some(Transition::Advance {
            wave: current + 1,
            reason: done,
        })
    }
}

/// Applies `t` to `r` at `now` (Unix seconds).
pub fn apply(r: &mut Rollout, t: Transition, now: i64) {
    match t {
        Transition::Advance { wave, .. } => {
            r.current = wave;
            r.reason.clear();
        }
        Transition::AwaitApproval { reason } => {
            r.state = RolloutState::Paused;
            r.awaiting_approval = true;
            r.reason = reason;
        }
        Transition::Stop { reason } => {
            r.state = RolloutState::Stopped;
            r.reason = reason;
        }
        Transition::Complete { reason } => {
            r.state = RolloutState::Completed;
            r.reason = reason;
        }
    }
    r.updated = now;
}

/// A command on a rollout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Command {
    /// Start no new wave until resumed.
    Pause,
    /// Go on: after approval, the next wave starts; after a stop, the
    /// failures so far are forgiven.
    Resume,
    /// Start no new wave, as an error threshold does.
    Stop,
}

/// Applies `command` to `r` (with the current `tallies`, for the failures
/// a resume forgives); the error says why it does not apply.
pub fn command(
    r: &mut Rollout,
    command: Command,
    tallies: &[Tally],
    now: i64,
) -> Result<(), String> {
    let id = r.id;
    match (command, r.state) {
        (Command::Pause, RolloutState::Running) => {
            r.state = RolloutState::Paused;
            r.reason = "paused by command".into();
        }
        (Command::Resume, RolloutState::Paused) => {
            if r.awaiting_approval && r.current + 1 < r.waves.len() {
                r.current += 1;
            }
            r.awaiting_approval = false;
            r.state = RolloutState::Running;
            r.reason.clear();
        }
        (Command::Resume, RolloutState::Stopped) => {
            r.forgiven = (0..r.waves.len())
                .map(|w| {
                    if w <= r.current {
                        tallies.get(w).map_or(0, |t| t.failed)
                    } else {
                        0
                    }
                })
                .collect();
            r.awaiting_approval = false;
            r.state = RolloutState::Running;
            r.reason.clear();
        }
        (Command::Stop, RolloutState::Running | RolloutState::Paused) => {
            r.state = RolloutState::Stopped;
            r.awaiting_approval = false;
            r.reason = "stopped by command".into();
        }
        (Command::Pause, state) | (Command::Resume, state) | (Command::Stop, state) => {
            let verb = match command {
                Command::Pause => "paused",
                Command::Resume => "resumed",
                Command::Stop => "stopped",
            };
            return Err(format!(
                "rollout {id} is {} and cannot be {verb}",
                state.as_str()
            ));
        }
    }
    r.updated = now;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wave(
        group: Option<&str>,
        percent: u8,
        success: PerMille,
        errors: ErrorThreshold,
    ) -> WaveSpec {
        WaveSpec {
            group: group.map(str::to_string),
            percent,
            success,
            errors,
            approve: false,
        }
    }

    fn rollout(waves: Vec<WaveSpec>) -> Rollout {
        Rollout {
            id: 7,
            update_id: 1,
            forgiven: vec![0; waves.len()],
            waves,
            state: RolloutState::Running,
            current: 0,
            awaiting_approval: false,
            reason: String::new(),
            version: 1,
            created: 0,
            updated: 0,
        }
    }

    const TEN: ErrorThreshold = ErrorThreshold::Share(100);

    #[test]
    fn buckets_are_stable_spread_and_differ_between_rollouts() {
        assert_eq!(bucket(1, "m-1"), bucket(1, "m-1"));
        let mut counts = [0u32; 100];
        for i in 0..10_000 {
            counts[bucket(1, &format!("m-{i}")) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (50..=150).contains(&c)),
            "{counts:?}"
        );
        let differ = (0..100)
            .filter(|i| bucket(1, &format!("m-{i}")) != bucket(2, &format!("m-{i}")))
            .count();
        assert!(differ > 80, "{differ}");
    }

    #[test]
    fn waves_over_one_group_are_cumulative_and_groups_go_in_order() {
        let waves = vec![
            wave(Some("Pilot"), 100, 950, TEN),
            wave(Some("Default"), 5, 950, TEN),
            wave(Some("default"), 25, 950, TEN),
            wave(Some("Default"), 100, 950, TEN),
        ];
        assert_eq!(wave_of(&waves, "PILOT", 99), Some(0));
        assert_eq!(wave_of(&waves, "Default", 4), Some(1));
        assert_eq!(wave_of(&waves, "Default", 5), Some(2));
        assert_eq!(wave_of(&waves, "Default", 24), Some(2));
        assert_eq!(wave_of(&waves, "Default", 25), Some(3));
        assert_eq!(wave_of(&waves, "Lab", 0), None, "a group in no wave");
        let all = vec![wave(None, 50, 950, TEN), wave(None, 100, 950, TEN)];
        assert_eq!(wave_of(&all, "Lab", 10), Some(0));
        assert_eq!(wave_of(&all, "Lab", 60), Some(1));
    }

    #[test]
    fn only_started_waves_are_offered() {
        let mut r = rollout(vec![wave(None, 50, 950, TEN), wave(None, 100, 950, TEN)]);
        assert!(r.offers_to(Some(0)));
        assert!(!r.offers_to(Some(1)));
        assert!(!r.offers_to(None));
        r.current = 1;
        assert!(r.offers_to(Some(1)));
    }

    #[test]
    fn checks_refuse_empty_and_shrinking_waves() {
        assert!(check_waves(&[]).is_err());
        assert!(check_waves(&[wave(None, 0, 950, TEN)]).is_err());
        assert!(check_waves(&[wave(None, 10, 0, TEN)]).is_err());
        assert!(check_waves(&[wave(None, 10, 950, ErrorThreshold::Count(0))]).is_err());
        assert!(check_waves(&[wave(None, 10, 950, ErrorThreshold::Share(1001))]).is_err());
        let e = check_waves(&[wave(Some("A"), 25, 950, TEN), wave(Some("a"), 25, 950, TEN)])
            .unwrap_err();
        assert!(e.contains("wave 2"), "{e}");
        assert!(check_waves(&[
            wave(Some("A"), 25, 950, TEN),
            wave(Some("B"), 25, 950, TEN),
            wave(Some("A"), 100, 950, TEN),
        ])
        .is_ok());
    }

    #[test]
    fn error_thresholds_by_share_and_count() {
        assert!(!TEN.reached(0, 0));
        assert!(!TEN.reached(9, 100));
        assert!(TEN.reached(10, 100));
        assert!(TEN.reached(1, 5));
        assert!(!ErrorThreshold::Count(3).reached(2, 1000));
        assert!(ErrorThreshold::Count(3).reached(3, 1000));
    }

    #[test]
    fn a_wave_at_its_success_threshold_starts_the_next_then_completes() {
        let mut r = rollout(vec![wave(None, 50, 950, TEN), wave(None, 100, 950, TEN)]);
        let below = [Tally {
            size: 100,
            installed: 94,
            failed: 2,
        }];
        assert_eq!(evaluate(&r, &below), None);
        let at = [Tally {
            size: 100,
            installed: 95,
            failed: 2,
        }];
        let t = evaluate(&r, &at).unwrap();
        assert!(matches!(t, Transition::Advance { wave: 1, .. }), "{t:?}");
        apply(&mut r, t, 5);
        assert_eq!(
            (r.state, r.current, r.updated),
            (RolloutState::Running, 1, 5)
        );
        let t = evaluate(
            &r,
            &[
                at[0],
                Tally {
                    size: 100,
                    installed: 100,
                    failed: 0,
                },
            ],
        )
        .unwrap();
        assert!(matches!(t, Transition::Complete { .. }), "{t:?}");
        apply(&mut r, t, 6);
        assert_eq!(r.state, RolloutState::Completed);
        assert_eq!(evaluate(&r, &at), None, "a completed rollout stays");
    }

    #[test]
    fn thirty_percent_failing_against_ten_percent_stops_before_wave_two() {
        let r = rollout(vec![wave(None, 50, 950, TEN), wave(None, 100, 950, TEN)]);
        let t = evaluate(
            &r,
            &[Tally {
                size: 40,
                installed: 28,
                failed: 12,
            }],
        )
        .unwrap();
        match t {
            Transition::Stop { reason } => {
                assert!(reason.contains("wave 1: 12 of 40"), "{reason}");
                assert!(reason.contains("10 %"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn errors_in_an_earlier_wave_still_stop_and_resume_forgives_them() {
        let mut r = rollout(vec![wave(None, 50, 500, TEN), wave(None, 100, 950, TEN)]);
        r.current = 1;
        let tallies = [
            Tally {
                size: 10,
                installed: 6,
                failed: 4,
            },
            Tally {
                size: 10,
                installed: 0,
                failed: 0,
            },
        ];
        let t = evaluate(&r, &tallies).unwrap();
        assert!(matches!(t, Transition::Stop { .. }));
        apply(&mut r, t, 1);
        assert!(
            command(&mut r, Command::Stop, &tallies, 2).is_err(),
            "already stopped"
        );
        command(&mut r, Command::Resume, &tallies, 3).unwrap();
        assert_eq!(
            (r.state, r.forgiven.clone()),
            (RolloutState::Running, vec![4, 0])
        );
        assert_eq!(
            evaluate(&r, &tallies),
            None,
            "the forgiven failures no longer count"
        );
        let worse = [
            Tally {
                size: 10,
                installed: 5,
                failed: 5,
            },
            tallies[1],
        ];
        assert!(matches!(
            evaluate(&r, &worse),
            Some(Transition::Stop { .. })
        ));
    }

    #[test]
    fn an_approval_wave_pauses_and_resume_starts_the_next() {
        let mut first = wave(Some("Pilot"), 100, 1000, TEN);
        first.approve = true;
        let mut r = rollout(vec![first, wave(Some("Default"), 100, 950, TEN)]);
        let t = evaluate(
            &r,
            &[Tally {
                size: 3,
                installed: 3,
                failed: 0,
            }],
        )
        .unwrap();
        assert!(matches!(t, Transition::AwaitApproval { .. }), "{t:?}");
        apply(&mut r, t, 1);
        assert_eq!(
            (r.state, r.current, r.awaiting_approval),
            (RolloutState::Paused, 0, true)
        );
        assert!(
            r.reason.contains("waiting for approval to start wave 2"),
            "{}",
            r.reason
        );
        command(&mut r, Command::Resume, &[], 2).unwrap();
        assert_eq!(
            (r.state, r.current, r.awaiting_approval),
            (RolloutState::Running, 1, false)
        );
    }

    #[test]
    fn pause_and_resume_by_command_keep_the_wave() {
        let mut r = rollout(vec![wave(None, 100, 950, TEN)]);
        command(&mut r, Command::Pause, &[], 1).unwrap();
        assert_eq!(r.state, RolloutState::Paused);
        assert_eq!(
            evaluate(
                &r,
                &[Tally {
                    size: 1,
                    installed: 1,
                    failed: 0
                }]
            ),
            None
        );
        assert!(command(&mut r, Command::Pause, &[], 2).is_err());
        command(&mut r, Command::Resume, &[], 3).unwrap();
        assert_eq!((r.state, r.current), (RolloutState::Running, 0));
        r.state = RolloutState::Completed;
        let e = command(&mut r, Command::Resume, &[], 4).unwrap_err();
        assert!(e.contains("completed"), "{e}");
    }

    #[test]
    fn waves_parse_from_the_command_line() {
        let w = parse_wave("Pilot", 950, TEN).unwrap();
        assert_eq!(w, wave(Some("Pilot"), 100, 950, TEN));
        let w = parse_wave("Default:25%,success=90%,errors=3,approve", 950, TEN).unwrap();
        assert_eq!(
            (
                w.group.as_deref(),
                w.percent,
                w.success,
                w.errors,
                w.approve
            ),
            (Some("Default"), 25, 900, ErrorThreshold::Count(3), true)
        );
        let w = parse_wave("*:5", 950, TEN).unwrap();
        assert_eq!((w.group, w.percent), (None, 5));
        assert_eq!(parse_share("2.5%").unwrap(), 25);
        assert_eq!(parse_share("0.95").unwrap(), 950);
        assert_eq!(parse_errors("0.1").unwrap(), ErrorThreshold::Share(100));
        for bad in ["", ":5%", "A:x%", "A,speed=3", "A,success=150%"] {
            assert!(parse_wave(bad, 950, TEN).is_err(), "{bad}");
        }
        assert!(parse_share("1.5").is_err());
        assert!(parse_errors("many").is_err());
    }

    #[test]
    fn an_empty_wave_passes() {
        let r = rollout(vec![
            wave(Some("Nobody"), 100, 950, TEN),
            wave(None, 100, 950, TEN),
        ]);
        assert!(matches!(
            evaluate(&r, &[]),
            Some(Transition::Advance { wave: 1, .. })
        ));
    }
}
