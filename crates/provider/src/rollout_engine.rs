//! Rollouts over the store: the evaluator that moves running rollouts on
//! (every `rollout_tick`), the commands
//! (create, pause, resume, stop) and the status the API shows.
//!
//! Every change is a compare-and-set on the rollout's version, so
//! providers sharing one PostgreSQL database make each transition once.

use crate::api::{RolloutStatus, WaveStatus};
use crate::rollout::{self, Command, Rollout, RolloutState, Tally, WaveSpec};
use crate::state::App;
use crate::store::{Outcome, StoreError};
use std::collections::HashMap;

/// Why a rollout command failed.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// The store failed, or refused (no such rollout, one exists already).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request does not make sense (waves, unknown update or group).
    #[error("{0}")]
    Invalid(String),
    /// The rollout's state does not allow the command.
    #[error("{0}")]
    Conflict(String),
}

/// Each machine's ID and group name (the waves' sizes).
async fn members(app: &App) -> Result<Vec<(String, String)>, StoreError> {
    let groups = app.groups();
    Ok(app
        .store
        .memberships()
        .await?
        .into_iter()
        .map(|(id, g)| {
            let name = groups.get(&g).map_or_else(String::new, |g| g.name.clone());
            (id, name)
        })
        .collect())
}

/// One tally per wave of `r`.
async fn tallies(
    app: &App,
    r: &Rollout,
    members: &[(String, String)],
) -> Result<Vec<Tally>, StoreError> {
    let mut out = vec![Tally::default(); r.waves.len()];
    for (id, group) in members {
        if let Some(w) = r.wave_of(id, group) {
            out[w].size += 1;
        }
    }
    for (wave, installed, failed) in app.store.outcome_counts(r.id).await? {
        if let Some(t) = out.get_mut(wave) {
            t.installed = installed;
            t.failed = failed;
        }
    }
    Ok(out)
}

fn now() -> i64 {
    transit_core::time::now().unix_timestamp()
}

async fn reload(app: &App) -> Result<Vec<Rollout>, StoreError> {
    let all = app.store.rollouts().await?;
    *app.rollouts.write().unwrap_or_else(|p| p.into_inner()) = std::sync::Arc::new(all.clone());
    Ok(all)
}

/// Reloads the rollouts and moves every running one on as far as its
/// tallies allow; returns how many transitions were made.
pub async fn evaluate(app: &App) -> Result<usize, StoreError> {
    let all = reload(app).await?;
    if !all.iter().any(|r| r.state == RolloutState::Running) {
        return Ok(0);
    }
    let members = members(app).await?;
    let mut made = 0;
    for mut r in all.into_iter().filter(|r| r.state == RolloutState::Running) {
        // An advance can complete the next wave at once (an empty one).
        for _ in 0..=r.waves.len() {
            let t = tallies(app, &r, &members).await?;
            let Some(transition) = rollout::evaluate(&r, &t) else {
                break;
            };
            tracing::info!(rollout = r.id, ?transition, "rollout moves on");
            rollout::apply(&mut r, transition, now());
            if !app.store.save_rollout(&r).await? {
                // Another provider moved it first; the next round sees its change.
                break;
            }
            r.version += 1;
            made += 1;
        }
    }
    if made > 0 {
        reload(app).await?;
    }
    Ok(made)
}

/// Creates a rollout of update `update_id`.
pub async fn create(
    app: &App,
    update_id: i64,
    waves: &[WaveSpec],
) -> Result<RolloutStatus, RolloutError> {
    rollout::check_waves(waves).map_err(RolloutError::Invalid)?;
    if app.catalog().get(update_id).is_none() {
        return Err(RolloutError::Invalid(format!(
            "no update with ID {update_id}"
        )));
    }
    let groups = app.groups();
    for (i, w) in waves.iter().enumerate() {
        if let Some(g) = &w.group {
            if !groups
                .values()
                .any(|known| known.name.to_lowercase() == g.to_lowercase())
            {
                return Err(RolloutError::Invalid(format!(
                    "wave {}: no group named `{g}`",
                    i + 1
                )));
            }
        }
    }
    let r = app.store.create_rollout(update_id, waves, now()).await?;
    reload(app).await?;
    status_of(app, &r).await
}

/// Runs `command` on rollout `id`, retrying if another provider changed
/// it meanwhile.
pub async fn run_command(
    app: &App,
    id: i64,
    command: Command,
) -> Result<RolloutStatus, RolloutError> {
    for _ in 0..5 {
        let mut r = find(app, id).await?;
        let members = members(app).await?;
        let t = tallies(app, &r, &members).await?;
        rollout::command(&mut r, command, &t, now()).map_err(RolloutError::Conflict)?;
        if app.store.save_rollout(&r).await? {
            r.version += 1;
            tracing::info!(rollout = id, ?command, "rollout command");
            reload(app).await?;
            return status_of(app, &r).await;
        }
    }
    Err(RolloutError::Conflict(format!(
        "rollout {id} kept changing; try again"
    )))
}

async fn find(app: &App, id: i64) -> Result<Rollout, RolloutError> {
    app.store
        .rollouts()
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(RolloutError::Store(StoreError::NoSuchRollout(id)))
}

/// One rollout's status.
pub async fn status(app: &App, id: i64) -> Result<RolloutStatus, RolloutError> {
    let r = find(app, id).await?;
    status_of(app, &r).await
}

/// Every rollout's status.
pub async fn statuses(app: &App) -> Result<Vec<RolloutStatus>, RolloutError> {
    let all = app.store.rollouts().await?;
    let members = members(app).await?;
    let mut out = Vec::with_capacity(all.len());
    for r in &all {
        let t = tallies(app, r, &members).await?;
        out.push(render(app, r, &t));
    }
    Ok(out)
}

async fn status_of(app: &App, r: &Rollout) -> Result<RolloutStatus, RolloutError> {
    let members = members(app).await?;
    let t = tallies(app, r, &members).await?;
    Ok(render(app, r, &t))
}

fn render(app: &App, r: &Rollout, tallies: &[Tally]) -> RolloutStatus {
    let stamp = |t| transit_core::time::rfc3339(transit_core::time::from_unix(t));
    let update = app.catalog().get(r.update_id).map_or_else(
        || format!("update {} (no longer in the catalog)", r.update_id),
        |u| {
            format!(
                "{} {} patch {} ({})",
                u.manifest.application,
                u.manifest.release,
                u.manifest.patch,
                u.manifest.install_version
            )
        },
    );
    RolloutStatus {
        id: r.id,
        update_id: r.update_id,
        update,
        state: r.state,
        current_wave: r.current + 1,
        awaiting_approval: r.awaiting_approval,
        reason: r.reason.clone(),
        created: stamp(r.created),
        updated: stamp(r.updated),
        waves: r
            .waves
            .iter()
            .enumerate()
            .map(|(i, spec)| WaveStatus {
                spec: spec.clone(),
                started: i <= r.current,
                tally: tallies.get(i).copied().unwrap_or_default(),
            })
            .collect(),
    }
}

/// The outcomes in a machine's results that count for rollouts:
/// (update ID, installed) pairs, for a machine `machine_id` in `group`.
pub fn outcomes(
    rollouts: &[Rollout],
    machine_id: &str,
    group: &str,
    results: &[(i64, bool)],
    time: i64,
) -> Vec<Outcome> {
    let by_update: HashMap<i64, &Rollout> = rollouts.iter().map(|r| (r.update_id, r)).collect();
    results
        .iter()
        .filter_map(|(update_id, installed)| {
            let r = by_update.get(update_id)?;
            let wave = r.wave_of(machine_id, group)?;
            r.offers_to(Some(wave)).then(|| Outcome {
                rollout_id: r.id,
                machine_id: machine_id.to_string(),
                wave,
                installed: *installed,
                time,
            })
        })
        .collect()
}
