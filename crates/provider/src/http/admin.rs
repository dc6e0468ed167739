//! The administration API: groups and machines (U-03), updates, the
//! report (U-05) and the activity log (U-06). Loopback clients only,
//! unless the provider was started with `admin_remote`.

use super::error::{ApiError, ApiJson};
use crate::api::{
    ActivityGroup, ActivityPage, Changed, Group, GroupSettings, MachineDetail, MachineJson,
    Members, Mode, NewGroup, NewRollout, Report, ReportRow, RolloutStatus, SetState, Status,
    UpdateJson, API_VERSION,
};
use crate::report::{assess, since, Assessment, MachineStatus};
use crate::rollout::Command;
use crate::rollout_engine;
use crate::state::App;
use crate::store::{
    ActivityColumn, ActivityQuery, GroupRow, MachineQuery, MachineRow, ProgressRow, StoreError,
};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use transit_update::store::Activity;

/// Refuses administration requests from other hosts (403) unless allowed.
pub async fn loopback_only(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    if app.config.admin_remote || peer.ip().is_loopback() {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the administration API answers loopback clients only",
        )
        .into_response()
    }
}

fn group_json(g: GroupRow) -> Group {
    Group {
        default: g.is_default(),
        name: g.name,
        settings: g.settings,
        members: g.members,
    }
}

fn machine_json(m: MachineRow) -> MachineJson {
    let stamp = |t| transit_core::time::rfc3339(transit_core::time::from_unix(t));
    MachineJson {
        first_contact: stamp(m.first_contact),
        last_contact: stamp(m.last_contact),
        id: m.id,
        name: m.name,
        ip: m.ip,
        group: m.group,
        cic_server: m.cic_server,
        installed: m.installed,
        errors: m.errors,
        restart_required: m.restart_required,
        checkins: m.checkins,
    }
}

fn check_settings(s: &GroupSettings) -> Result<(), ApiError> {
    if s.install_hour > 23 {
        return Err(ApiError::invalid("install_hour is 0-23"));
    }
    if s.providers.iter().any(|p| p.trim().is_empty()) {
        return Err(ApiError::invalid("a provider name is empty"));
    }
    Ok(())
}

fn automatic_refused(machine: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "refused",
        format!("Automatic mode is refused for the CIC server's own client (machine `{machine}`)"),
    )
}

async fn cic_member(app: &App, group: &str) -> Result<Option<String>, ApiError> {
    let members = app
        .store
        .machines(&MachineQuery {
            group: Some(group.to_string()),
            ..MachineQuery::default()
        })
        .await?;
    Ok(members.into_iter().find(|m| m.cic_server).map(|m| m.name))
}

/// `GET /v1/groups`.
pub async fn groups(State(app): State<Arc<App>>) -> Result<Json<Vec<Group>>, ApiError> {
    Ok(Json(
        app.store
            .groups()
            .await?
            .into_iter()
            .map(group_json)
            .collect(),
    ))
}

/// `POST /v1/groups`.
pub async fn create_group(
    State(app): State<Arc<App>>,
    ApiJson(g): ApiJson<NewGroup>,
) -> Result<(StatusCode, Json<Group>), ApiError> {
    let name = g.name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(ApiError::invalid("a group name is 1-64 characters"));
    }
    let settings = g.settings.unwrap_or_default();
    check_settings(&settings)?;
    let row = app.store.create_group(name, &settings).await?;
    app.reload_groups().await?;
    Ok((StatusCode::CREATED, Json(group_json(row))))
}

/// `PUT /v1/groups/{name}`: new settings (the default group's too).
pub async fn set_group(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    ApiJson(settings): ApiJson<GroupSettings>,
) -> Result<Json<Group>, ApiError> {
    check_settings(&settings)?;
    if settings.mode == Mode::Automatic {
        if let Some(machine) = cic_member(&app, &name).await? {
            return Err(automatic_refused(&machine));
        }
    }
    let row = app.store.set_group_settings(&name, &settings).await?;
    app.reload_groups().await?;
    Ok(Json(group_json(row)))
}

/// `DELETE /v1/groups/{name}`: members go to the default group.
pub async fn delete_group(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
) -> Result<Json<Changed>, ApiError> {
    let moved = app.store.delete_group(&name).await?;
    app.reload_groups().await?;
    Ok(Json(Changed { changed: moved }))
}

/// `POST /v1/groups/{name}/members`: moves machines into the group.
pub async fn add_members(
    State(app): State<Arc<App>>,
    Path(name): Path<String>,
    ApiJson(m): ApiJson<Members>,
) -> Result<Json<Changed>, ApiError> {
    let groups = app.store.groups().await?;
    let group = groups
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(&name))
        .ok_or_else(|| ApiError::not_found(format!("no group named `{name}`")))?;
    if group.settings.mode == Mode::Automatic {
        for id in &m.machines {
            if let Some(machine) = app.store.machine(id).await? {
                if machine.cic_server {
                    return Err(automatic_refused(&machine.name));
                }
            }
        }
    }
    let moved = app.store.move_machines(&m.machines, &group.name).await?;
    app.reload_groups().await?;
    Ok(Json(Changed { changed: moved }))
}

/// `DELETE /v1/groups/{name}/members/{id}`: back to the default group.
pub async fn remove_member(
    State(app): State<Arc<App>>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Changed>, ApiError> {
    let machine = app
        .store
        .machine(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no machine with ID `{id}`")))?;
    if !machine.group.eq_ignore_ascii_case(&name) {
        return Err(ApiError::not_found(format!(
            "machine `{id}` is not in group `{name}` (it is in `{}`)",
            machine.group
        )));
    }
    let moved = app
        .store
        .move_machines(&[id], crate::store::DEFAULT_GROUP)
        .await?;
    app.reload_groups().await?;
    Ok(Json(Changed { changed: moved }))
}

/// Query of `GET /v1/machines`.
#[derive(Debug, Deserialize)]
pub struct MachinesQuery {
    /// The start of the name, or of the IP address.
    pub search: Option<String>,
    /// Only this group.
    pub group: Option<String>,
    /// At most this many (default 100; 0 for all).
    pub limit: Option<u64>,
    /// Skip this many.
    pub offset: Option<u64>,
}

/// `GET /v1/machines`.
pub async fn machines(
    State(app): State<Arc<App>>,
    Query(q): Query<MachinesQuery>,
) -> Result<Json<Vec<MachineJson>>, ApiError> {
    let rows = app
        .store
        .machines(&MachineQuery {
            search: q.search.filter(|s| !s.is_empty()),
            group: q.group,
            limit: q.limit.unwrap_or(100),
            offset: q.offset.unwrap_or(0),
            ..MachineQuery::default()
        })
        .await?;
    Ok(Json(rows.into_iter().map(machine_json).collect()))
}

/// Machines last seen before this (Unix seconds) are in ErrorState: no
/// contact for three times the longest check-in interval.
pub fn stale_before(app: &App, now: i64) -> i64 {
    now - 3 * app.config.check_max.as_secs() as i64
}

/// A machine as its detail shows it (the API's and the console's): the
/// machine, its assessment, its saved progress and its last 20 activity
/// entries; `None` for an unknown ID.
pub async fn machine_detail(
    app: &App,
    id: &str,
) -> Result<Option<(MachineRow, Assessment, Vec<ProgressRow>, Vec<Activity>)>, StoreError> {
    let Some(m) = app.store.machine(id).await? else {
        return Ok(None);
    };
    let now = transit_core::time::now().unix_timestamp();
    let assessment = assess(
        &m,
        &app.catalog(),
        app.config.server,
        &app.config.client_app,
        &app.rollouts(),
        stale_before(app, now),
    );
    let progress = app.store.progress(id).await?;
    let (activity, _) = app
        .store
        .activity(&ActivityQuery {
            machine: Some(m.name.clone()),
            limit: 20,
            ..ActivityQuery::default()
        })
        .await?;
    Ok(Some((m, assessment, progress, activity)))
}

/// `GET /v1/machines/{id}`.
pub async fn machine(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
) -> Result<Json<MachineDetail>, ApiError> {
    let (m, assessment, progress, activity) = machine_detail(&app, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no machine with ID `{id}`")))?;
    Ok(Json(MachineDetail {
        machine: machine_json(m),
        assessment,
        progress,
        activity,
    }))
}

/// `GET /v1/updates`: the catalog with how many machines activated each.
pub async fn updates(State(app): State<Arc<App>>) -> Result<Json<Vec<UpdateJson>>, ApiError> {
    app.reload_catalog()
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let catalog = app.catalog();
    let machines = app.store.machines(&MachineQuery::default()).await?;
    let out = catalog
        .updates
        .iter()
        .map(|u| {
            let activated = machines
                .iter()
                .filter(|m| {
                    m.installed.iter().any(|a| {
                        a.application.eq_ignore_ascii_case(&u.manifest.application)
                            && a.version == u.manifest.install_version
                    })
                })
                .count() as u64;
            UpdateJson {
                id: u.id,
                target: u.target.clone(),
                application: u.manifest.application.clone(),
                release: u.manifest.release.to_string(),
                patch: u.manifest.patch,
                install_type: u.manifest.install_type.to_string(),
                version: u.manifest.install_version,
                state: u.state,
                high_priority: u.manifest.high_priority,
                inserted: u.inserted.clone(),
                activated,
            }
        })
        .collect();
    Ok(Json(out))
}

/// `PUT /v1/updates/{id}/state`.
pub async fn set_state(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
    ApiJson(s): ApiJson<SetState>,
) -> Result<Json<UpdateJson>, ApiError> {
    let path = app.repo.store_path();
    let changed = tokio::task::spawn_blocking(move || {
        transit_update::Store::open(&path).and_then(|store| store.set_state(id, s.state))
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    match changed {
        Ok(_) => {}
        Err(transit_update::store::StoreError::NoSuchUpdate(id)) => {
            return Err(ApiError::not_found(format!("no update with ID {id}")))
        }
        Err(transit_update::store::StoreError::State(e)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "refused",
                e.to_string(),
            ))
        }
        Err(e) => return Err(ApiError::internal(e.to_string())),
    }
    let Json(all) = updates(State(app)).await?;
    all.into_iter()
        .find(|u| u.id == id)
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no update with ID {id}")))
}

/// Query of `GET /v1/report`.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    /// `2w`, `3m`, `6m` or `YYYY-MM-DD`: machines last seen at or after.
    pub since: Option<String>,
}

/// `GET /v1/report`.
pub async fn report(
    State(app): State<Arc<App>>,
    Query(q): Query<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    let now = transit_core::time::now().unix_timestamp();
    let from = q
        .since
        .as_deref()
        .map(|s| since(s, now))
        .transpose()
        .map_err(ApiError::invalid)?;
    Ok(Json(build_report(&app, from, now).await?))
}

/// The report of every machine last seen at or after `from` (Unix
/// seconds), sorted by status then name: the API's.
pub async fn build_report(app: &App, from: Option<i64>, now: i64) -> Result<Report, ApiError> {
    let all = assess_all(app, from, now).await?;
    let count = |s| all.iter().filter(|r| r.status == s).count() as u64;
    let (up_to_date, needs_attention, error_state) = (
        count(MachineStatus::UpToDate),
        count(MachineStatus::NeedsAttention),
        count(MachineStatus::ErrorState),
    );
    Ok(Report {
        generated: transit_core::time::rfc3339(transit_core::time::from_unix(now)),
        since: from.map(|t| transit_core::time::rfc3339(transit_core::time::from_unix(t))),
        up_to_date,
        needs_attention,
        error_state,
        machines: all.into_iter().map(Assessed::into_row).collect(),
    })
}

/// One machine of the report, assessed.
#[derive(Debug, Clone)]
pub struct Assessed {
    /// The machine as read.
    pub machine: crate::store::ReportInput,
    /// Its status.
    pub status: MachineStatus,
    /// Every reason for it (shared among machines with the same reasons).
    pub reasons: Arc<Vec<String>>,
}

impl Assessed {
    /// The report row (the API's shape).
    pub fn into_row(self) -> ReportRow {
        ReportRow {
            last_contact: transit_core::time::rfc3339(transit_core::time::from_unix(
                self.machine.last_contact,
            )),
            id: self.machine.id,
            name: self.machine.name,
            group: self.machine.group,
            status: self.status,
            reasons: Arc::try_unwrap(self.reasons).unwrap_or_else(|r| (*r).clone()),
        }
    }
}

/// Every machine last seen at or after `from`, assessed, sorted by status
/// then name. What the catalog offers depends only on the installed
/// applications, the restart flag and (under rollouts) the waves that
/// include the machine, so machines that share them share one assessment
/// (computed once, without errors); each machine's own errors and a stale
/// last contact are then put first, as [`assess`] does.
pub async fn assess_all(app: &App, from: Option<i64>, now: i64) -> Result<Vec<Assessed>, ApiError> {
    let inputs = app.store.report_inputs(from).await?;
    let catalog = app.catalog();
    let stale = stale_before(app, now);
    let rollouts = app.rollouts();
    type Key = (String, bool, Vec<bool>);
    let mut shared: std::collections::HashMap<Key, (MachineStatus, Arc<Vec<String>>)> =
        std::collections::HashMap::new();
    let mut out: Vec<Assessed> = Vec::with_capacity(inputs.len());
    for mut i in inputs {
        let gates: Vec<bool> = rollouts
            .iter()
            .map(|r| r.offers_to(r.wave_of(&i.id, &i.group)))
            .collect();
        let key = (std::mem::take(&mut i.installed), i.restart_required, gates);
        let base = match shared.get(&key) {
            Some(done) => done,
            None => {
                let machine = MachineRow {
                    id: i.id.clone(),
                    name: String::new(),
                    ip: String::new(),
                    group: i.group.clone(),
                    cic_server: false,
                    installed: crate::store::parse_json("installed applications", &key.0)?,
                    errors: Vec::new(),
                    restart_required: key.1,
                    first_contact: now,
                    last_contact: now,
                    checkins: 0,
                };
                let a = assess(
                    &machine,
                    &catalog,
                    app.config.server,
                    &app.config.client_app,
                    &rollouts,
                    stale,
                );
                shared.entry(key).or_insert((a.status, Arc::new(a.reasons)))
            }
        };
        let mut errors: Vec<String> = if i.errors == "[]" {
            Vec::new()
        } else {
            crate::store::parse_json::<Vec<String>>("errors", &i.errors)?
                .into_iter()
                .map(|e| format!("client error: {e}"))
                .collect()
        };
        if i.last_contact < stale {
            errors.push(format!(
                "no contact since {}",
                transit_core::time::rfc3339(transit_core::time::from_unix(i.last_contact))
            ));
        }
        let (status, reasons) = if errors.is_empty() {
            (base.0, Arc::clone(&base.1))
        } else {
            errors.extend(base.1.iter().cloned());
            (MachineStatus::ErrorState, Arc::new(errors))
        };
        out.push(Assessed {
            machine: i,
            status,
            reasons,
        });
    }
    out.sort_unstable_by(|a, b| {
        (a.status, &a.machine.name_fold, &a.machine.id).cmp(&(
            b.status,
            &b.machine.name_fold,
            &b.machine.id,
        ))
    });
    Ok(out)
}

/// Query of `GET /v1/activity`.
#[derive(Debug, Deserialize)]
pub struct ActivityParams {
    /// The sort column (default time).
    pub sort: Option<String>,
    /// `asc` or `desc` (default desc).
    pub order: Option<String>,
    /// Group by this column.
    pub group: Option<String>,
    /// Only this machine.
    pub machine: Option<String>,
    /// The page, from 1.
    pub page: Option<u64>,
    /// Entries per page (default 50, at most 10,000).
    pub per_page: Option<u64>,
    /// `csv` for a CSV export of every matching entry (ignores paging).
    pub format: Option<String>,
}

/// `GET /v1/activity`.
pub async fn activity(
    State(app): State<Arc<App>>,
    Query(p): Query<ActivityParams>,
) -> Result<Response, ApiError> {
    let column = |s: Option<String>| {
        s.map(|s| s.parse::<ActivityColumn>())
            .transpose()
            .map_err(ApiError::invalid)
    };
    let descending = match p.order.as_deref() {
        None | Some("desc") => true,
        Some("asc") => false,
        Some(o) => {
            return Err(ApiError::invalid(format!(
                "`{o}` is not an order (asc, desc)"
            )))
        }
    };
    let csv = match p.format.as_deref() {
        None | Some("json") => false,
        Some("csv") => true,
        Some(f) => {
            return Err(ApiError::invalid(format!(
                "`{f}` is not a format (json, csv)"
            )))
        }
    };
    let per_page = p.per_page.unwrap_or(50).clamp(1, 10_000);
    let page = p.page.unwrap_or(1).max(1);
    let group_by = column(p.group)?;
    let query = ActivityQuery {
        sort: column(p.sort)?.unwrap_or(ActivityColumn::Time),
        descending,
        group_by,
        machine: p.machine,
        limit: if csv { 0 } else { per_page },
        offset: if csv { 0 } else { (page - 1) * per_page },
    };
    let (entries, total) = app.store.activity(&query).await?;
    if csv {
        return csv_response(&entries);
    }
    let mut groups: Vec<ActivityGroup> = Vec::new();
    for a in entries {
        let key = group_by.map(|g| g.key(&a)).unwrap_or_default();
        match groups.last_mut() {
            Some(g) if g.key == key => g.entries.push(a),
            _ => groups.push(ActivityGroup {
                key,
                entries: vec![a],
            }),
        }
    }
    Ok(Json(ActivityPage {
        total,
        page,
        per_page,
        groups,
    })
    .into_response())
}

/// The activity entries as a CSV download (`activity.csv`), with a header row.
pub fn csv_response(entries: &[transit_update::store::Activity]) -> Result<Response, ApiError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let write = |w: &mut csv::Writer<Vec<u8>>| -> Result<(), csv::Error> {
        w.write_record([
            "time",
            "machine",
            "application",
            "release",
            "patch",
            "status",
            "description",
        ])?;
        for a in entries {
            w.write_record([
                a.time.as_str(),
                &a.machine,
                &a.application,
                &a.release,
                &a.patch,
                a.status.as_str(),
                &a.description,
            ])?;
        }
        w.flush()?;
        Ok(())
    };
    write(&mut w).map_err(|e| ApiError::internal(e.to_string()))?;
    let body = w
        .into_inner()
        .map_err(|e| ApiError::internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"activity.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// `DELETE /v1/activity`: clears the log.
pub async fn clear_activity(State(app): State<Arc<App>>) -> Result<Json<Changed>, ApiError> {
    Ok(Json(Changed {
        changed: app.store.clear_activity().await?,
    }))
}

/// `GET /v1/status`.
pub async fn status(State(app): State<Arc<App>>) -> Result<Json<Status>, ApiError> {
    let stats = app.committer.stats();
    Ok(Json(Status {
        api_version: API_VERSION,
        kind: "local".into(),
        store: app.store.describe(),
        machines: app.store.count_machines().await?,
        checkins_per_s: app.load.rate(),
        committed: stats.checkins.load(Ordering::Relaxed),
        groups: stats.groups.load(Ordering::Relaxed),
        connections: app.connections.load(Ordering::Relaxed),
        downloads: app.downloads.counters(),
        targets_served: app.targets_served.load(Ordering::Relaxed),
        remote: None,
    }))
}

/// `GET /v1/rollouts`.
pub async fn rollouts(State(app): State<Arc<App>>) -> Result<Json<Vec<RolloutStatus>>, ApiError> {
    Ok(Json(rollout_engine::statuses(&app).await?))
}

/// `POST /v1/rollouts`.
pub async fn create_rollout(
    State(app): State<Arc<App>>,
    ApiJson(new): ApiJson<NewRollout>,
) -> Result<(StatusCode, Json<RolloutStatus>), ApiError> {
    let status = rollout_engine::create(&app, new.update_id, &new.waves).await?;
    Ok((StatusCode::CREATED, Json(status)))
}

/// `GET /v1/rollouts/{id}`.
pub async fn rollout(
    State(app): State<Arc<App>>,
    Path(id): Path<i64>,
) -> Result<Json<RolloutStatus>, ApiError> {
    Ok(Json(rollout_engine::status(&app, id).await?))
}

/// `POST /v1/rollouts/{id}/{command}`: pause, resume or stop.
pub async fn rollout_command(
    State(app): State<Arc<App>>,
    Path((id, command)): Path<(i64, String)>,
) -> Result<Json<RolloutStatus>, ApiError> {
    let command = match command.as_str() {
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "stop" => Command::Stop,
        other => {
            return Err(ApiError::not_found(format!(
                "`{other}` is not a rollout command (pause, resume, stop)"
            )))
        }
    };
    Ok(Json(rollout_engine::run_command(&app, id, command).await?))
}

/// `GET /v1/database`: the store in use and the saved switchover choice.
pub async fn database(
    State(app): State<Arc<App>>,
) -> Result<Json<crate::api::DatabaseInfo>, ApiError> {
    let saved = crate::switchover::saved(&app.config.data).map_err(ApiError::internal)?;
    Ok(Json(crate::api::DatabaseInfo {
        store: app.store.describe(),
        local: app.repo.store_path().display().to_string(),
        saved,
    }))
}

/// `POST /v1/database/{action}` with `{"url": "postgres://…"}`: Manage
/// Database's Copy, Use or Merge.
pub async fn switch_database(
    State(app): State<Arc<App>>,
    Path(action): Path<String>,
    ApiJson(body): ApiJson<crate::api::SwitchRequest>,
) -> Result<Json<crate::switchover::Switched>, ApiError> {
    let action: crate::switchover::Action = action.parse().map_err(ApiError::invalid)?;
    let url = secrecy::SecretString::from(body.url);
    Ok(Json(crate::switchover::switch(&app, action, &url).await?))
}
