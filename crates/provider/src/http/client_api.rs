//! The client API: check-in, install results and progress.

use super::error::{ApiError, ApiJson};
use crate::api::{
    Accepted, CheckIn, CheckInReply, EffectiveSettings, Mode, ProgressReport, ResultStatus,
    Results, API_VERSION,
};
use crate::report::{gate, installed_apps, offers_json, plan_for};
use crate::state::App;
use crate::store::{ActivityRow, CheckInRecord, Committed, ProgressRow, DEFAULT_GROUP_ID};
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use rand::Rng;
use sha2::{Digest, Sha256};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use transit_update::store::ActivityStatus;

/// Progress events of one machine and update closer than this are coalesced.
pub const PROGRESS_GAP: Duration = Duration::from_secs(1);

pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn check_id(id: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:{}".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "machine_id must be 1-64 characters: letters, digits and - _ . : { }",
        ))
    }
}

fn check_token(token: &str) -> Result<(), ApiError> {
    if (16..=128).contains(&token.len()) {
        Ok(())
    } else {
        Err(ApiError::invalid("token must be 16-128 characters"))
    }
}

fn claimed(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "id_claimed",
        format!("machine ID `{id}` belongs to another machine (its secret differs)"),
    )
}

pub(crate) fn validate(c: &CheckIn) -> Result<(), ApiError> {
    check_id(&c.machine_id)?;
    check_token(&c.token)?;
    if c.name.trim().is_empty() || c.name.len() > 255 {
        return Err(ApiError::invalid("name must be 1-255 characters"));
    }
    if c.installed.len() > 256 || c.errors.len() > 64 {
        return Err(ApiError::invalid(
            "at most 256 installed applications and 64 errors",
        ));
    }
    if c.errors.iter().any(|e| e.len() > 2000) {
        return Err(ApiError::invalid("an error text is longer than 2000 bytes"));
    }
    if let Some(ip) = &c.ip {
        ip.parse::<std::net::IpAddr>()
            .map_err(|_| ApiError::invalid(format!("`{ip}` is not an IP address")))?;
    }
    Ok(())
}

/// The next check-in interval: uniform between the minimum and maximum,
/// stretched by how far the current rate exceeds the capacity.
pub fn next_interval(app: &App) -> Duration {
    let (min, max) = (
        app.config.check_min,
        app.config.check_max.max(app.config.check_min),
    );
    let base = rand::thread_rng().gen_range(min.as_secs_f64()..=max.as_secs_f64());
    stretch(
        Duration::from_secs_f64(base),
        app.load.rate(),
        app.config.capacity,
    )
}

/// `base` stretched by the ratio of the current check-in `rate` to the
/// `capacity` (never shortened): at twice the capacity, twice as long, so
/// the machines' average rate falls back toward the capacity.
pub fn stretch(base: Duration, rate: u64, capacity: f64) -> Duration {
    let factor = (rate as f64 / capacity.max(1.0)).max(1.0);
    base.mul_f64(factor)
}

/// `POST /v1/checkin`.
pub async fn checkin(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(c): ApiJson<CheckIn>,
) -> Result<Json<CheckInReply>, ApiError> {
    validate(&c)?;
    let installed = installed_apps(&c.installed).map_err(ApiError::invalid)?;
    let now = transit_core::time::now();
    let token_hash = hash_token(&c.token);
    let record = CheckInRecord {
        machine_id: c.machine_id.clone(),
        token_hash,
        name: c.name.clone(),
        ip: c.ip.clone().unwrap_or_else(|| peer.ip().to_string()),
        group_hint: c.group.clone(),
        cic_server: c.cic_server,
        installed: serde_json::to_string(&c.installed).unwrap_or_else(|_| "[]".into()),
        errors: serde_json::to_string(&c.errors).unwrap_or_else(|_| "[]".into()),
        restart_required: c.restart_required,
        time: now.unix_timestamp(),
    };
    app.load.tick();
    let group_id = match app.committer.commit(record).await? {
        Committed::Saved { group_id } => group_id,
        Committed::Claimed => return Err(claimed(&c.machine_id)),
    };
    let groups = app.groups();
    let group = groups
        .get(&group_id)
        .or_else(|| groups.get(&DEFAULT_GROUP_ID));
    let mut settings = EffectiveSettings {
        group: group.map_or_else(|| "Default".to_string(), |g| g.name.clone()),
        settings: group.map(|g| g.settings.clone()).unwrap_or_default(),
        notes: Vec::new(),
    };
    // The group's providers first, then the peer providers.
    for peer in app.peers().iter() {
        if !settings
            .settings
            .providers
            .iter()
            .any(|p| p.eq_ignore_ascii_case(peer))
        {
            settings.settings.providers.push(peer.clone());
        }
    }
    if c.cic_server && settings.settings.mode == Mode::Automatic {
        settings.settings.mode = Mode::Download;
        settings.notes.push(
            "Automatic mode is refused for the CIC server's own client: Download instead".into(),
        );
    }
    if c.cic_server {
        *app.paused_for.lock().unwrap_or_else(|p| p.into_inner()) =
            (settings.settings.mode == Mode::Manual).then(|| c.machine_id.clone());
    }
    app.downloads.remember(&c.machine_id, group_id);
    let catalog = app.catalog();
    let mut plan = plan_for(
        &catalog,
        &installed,
        app.config.server,
        &app.config.client_app,
    );
    gate(&mut plan, &app.rollouts(), &c.machine_id, &settings.group);
    let wait = next_interval(&app);
    let next = now + wait;
    Ok(Json(CheckInReply {
        api_version: API_VERSION,
        machine_id: c.machine_id,
        settings,
        updates: offers_json(&catalog, &plan.offers),
        held: offers_json(&catalog, &plan.held),
        next_checkin: transit_core::time::rfc3339(next),
        next_checkin_secs: wait.as_secs(),
    }))
}

/// Checks a machine's secret against the store (cached once it matched).
async fn authenticate(app: &App, id: &str, token: &str) -> Result<(), ApiError> {
    check_id(id)?;
    check_token(token)?;
    let hash = hash_token(token);
    let cached = app
        .tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(id)
        .cloned();
    let stored = match cached {
        Some(h) => Some(h),
        None => app.store.token_hash(id).await?,
    };
    match stored {
        Some(h) if h == hash => {
            app.tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(id.to_string(), h);
            Ok(())
        }
        Some(_) => Err(claimed(id)),
        None => Err(ApiError::not_found(format!(
            "no machine with ID `{id}`: check in first"
        ))),
    }
}

/// `POST /v1/results`: each result becomes an activity entry.
pub async fn results(
    State(app): State<Arc<App>>,
    ApiJson(r): ApiJson<Results>,
) -> Result<Json<Accepted>, ApiError> {
    authenticate(&app, &r.machine_id, &r.token).await?;
    if r.results.len() > 256 {
        return Err(ApiError::invalid("at most 256 results at once"));
    }
    let catalog = app.catalog();
    let row = app.store.machine(&r.machine_id).await?;
    let machine = row
        .as_ref()
        .map_or_else(|| r.machine_id.clone(), |m| m.name.clone());
    let time = transit_core::time::rfc3339(transit_core::time::now());
    let mut rows = Vec::with_capacity(r.results.len());
    for e in &r.results {
        let u = catalog
            .get(e.update_id)
            .ok_or_else(|| ApiError::invalid(format!("no update with ID {}", e.update_id)))?;
        rows.push(ActivityRow {
            time: time.clone(),
            machine: machine.clone(),
            application: u.manifest.application.clone(),
            release: u.manifest.release.to_string(),
            patch: u.manifest.patch.to_string(),
            status: match e.status {
                ResultStatus::Downloaded => ActivityStatus::Downloaded,
                ResultStatus::DownloadFailed => ActivityStatus::DownloadFailed,
                ResultStatus::Installed => ActivityStatus::Installed,
                ResultStatus::InstallFailed => ActivityStatus::InstallFailed,
                ResultStatus::Removed => ActivityStatus::Removed,
            },
            description: if e.description.is_empty() {
                u.target.clone()
            } else {
                format!("{}: {}", u.target, e.description)
            },
        });
    }
    app.store.log(&rows).await?;
    if let Some(m) = &row {
        let counted: Vec<(i64, bool)> = r
            .results
            .iter()
            .filter_map(|e| match e.status {
                ResultStatus::Installed => Some((e.update_id, true)),
                ResultStatus::InstallFailed | ResultStatus::DownloadFailed => {
                    Some((e.update_id, false))
                }
                ResultStatus::Downloaded | ResultStatus::Removed => None,
            })
            .collect();
        let outcomes = crate::rollout_engine::outcomes(
            &app.rollouts(),
            &m.id,
            &m.group,
            &counted,
            transit_core::time::now().unix_timestamp(),
        );
        if !outcomes.is_empty() {
            app.store.record_outcomes(&outcomes).await?;
        }
    }
    Ok(Json(Accepted {
        recorded: rows.len() as u64,
        coalesced: 0,
    }))
}

/// `POST /v1/progress`: kept in memory (the latest per machine and
/// update), written every few seconds; events less than a second apart
/// are coalesced.
pub async fn progress(
    State(app): State<Arc<App>>,
    ApiJson(p): ApiJson<ProgressReport>,
) -> Result<(StatusCode, Json<Accepted>), ApiError> {
    authenticate(&app, &p.machine_id, &p.token).await?;
    if p.percent > 100 || !matches!(p.phase.as_str(), "download" | "install") {
        return Err(ApiError::invalid(
            "percent is 0-100 and phase is download or install",
        ));
    }
    let fresh = app
        .progress
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .record(
            ProgressRow {
                machine_id: p.machine_id,
                update_id: p.update_id,
                phase: p.phase,
                percent: p.percent,
                time: transit_core::time::now().unix_timestamp(),
            },
            PROGRESS_GAP,
        );
    Ok((
        StatusCode::ACCEPTED,
        Json(Accepted {
            recorded: u64::from(fresh),
            coalesced: u64::from(!fresh),
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_stretch_only_above_capacity() {
        let base = Duration::from_secs(1800);
        assert_eq!(stretch(base, 0, 1000.0), base);
        assert_eq!(stretch(base, 1000, 1000.0), base);
        assert_eq!(stretch(base, 2000, 1000.0), base * 2);
        assert_eq!(stretch(base, 2500, 1000.0), Duration::from_secs(4500));
        assert_eq!(
            stretch(base, 10, 0.0),
            base * 10,
            "capacity below 1 counts as 1"
        );
    }

    #[test]
    fn ids_and_tokens_are_checked() {
        assert!(check_id("WS-01.example:{1}").is_ok());
        for bad in ["", "a b", "x/../y", &"a".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad}");
        }
        assert!(check_token(&"t".repeat(16)).is_ok());
        assert!(check_token(&"t".repeat(15)).is_err());
        assert!(check_token(&"t".repeat(129)).is_err());
    }
}
