//! The Updates page: the catalog filtered by product line (release) and
//! product (application), state changes (Pre-Approval, Inactive, GA,
//! Remove), High Priority, how many machines activated each update, and
//! the upload of a bundle with a progress bar.

use super::guard::{Ctx, Fields};
use super::layout::{self, csrf, enc, rfc_short, PageError, PageResult};
use crate::state::App;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Extension;
use futures::StreamExt;
use maud::{html, PreEscaped};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use transit_core::{CancelToken, NoProgress};
use transit_update::UpdateState;

const STATES: [UpdateState; 4] = [
    UpdateState::PreApproval,
    UpdateState::Inactive,
    UpdateState::Ga,
    UpdateState::Remove,
];

/// The upload's script: sends the file as the request body with the CSRF
/// header, drawing the progress bar from the upload's progress events.
const UPLOAD_JS: &str = r#"
document.getElementById('upload').addEventListener('submit', function (ev) {
  ev.preventDefault();
  var file = document.getElementById('bundle').files[0];
  if (!file) return;
  var bar = document.getElementById('upload-progress');
  var out = document.getElementById('upload-result');
  var xhr = new XMLHttpRequest();
  xhr.open('POST', '/console/updates/upload?name=' + encodeURIComponent(file.name));
  xhr.setRequestHeader('X-CSRF-Token', this.dataset.csrf);
  xhr.setRequestHeader('Content-Type', 'application/octet-stream');
  xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; } };
  xhr.onload = function () {
    bar.value = bar.max;
    out.textContent = xhr.responseText;
    out.className = xhr.status === 200 ? 'msg' : 'err';
    if (xhr.status === 200) location.href = '/console/updates?msg=' + encodeURIComponent(xhr.responseText);
  };
  xhr.onerror = function () { out.textContent = 'The upload failed (connection lost).'; out.className = 'err'; };
  out.textContent = 'Uploading ' + file.name + '…'; out.className = 'muted';
  xhr.send(file);
});
"#;

/// The page's query: the filters.
#[derive(Debug, Deserialize)]
pub struct UpdatesParams {
    /// Product line: the release (`2018 R1`).
    pub line: Option<String>,
    /// Product: the application.
    pub product: Option<String>,
    /// A message from the last action.
    pub msg: Option<String>,
}

/// `GET /console/updates`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Query<UpdatesParams>,
) -> PageResult {
    let all = crate::http::admin::updates(State(Arc::clone(&app)))
        .await
        .map_err(|e| PageError::internal(format!("{e:?}")))?
        .0;
    let lines: BTreeSet<&str> = all.iter().map(|u| u.release.as_str()).collect();
    let products: BTreeSet<&str> = all.iter().map(|u| u.application.as_str()).collect();
    let line = p.line.clone().unwrap_or_default();
    let product = p.product.clone().unwrap_or_default();
    let back = format!(
        "/console/updates?line={}&product={}",
        enc(&line),
        enc(&product)
    );
    let rollouts = crate::rollout_engine::statuses(&app)
        .await
        .map_err(|e| PageError::internal(e.to_string()))?;
    let shown = all.iter().filter(|u| {
        (line.is_empty() || u.release == line) && (product.is_empty() || u.application == product)
    });
    let body = html! {
        form #filters method="get" action="/console/updates" {
            label { "Product line " select name="line" {
                option value="" { "(all)" }
                @for l in &lines { option selected[*l == line] { (l) } }
            } }
            " " label { "Product " select name="product" {
                option value="" { "(all)" }
                @for a in &products { option selected[*a == product] { (a) } }
            } }
            " " button type="submit" { "Filter" }
        }
        table #updates {
            tr { th { "ID" } th { "Product" } th { "Release" } th { "Patch" } th { "Type" } th { "Version" } th { "State" } th { "High Priority" } th { "Activated" } th { "Added" } }
            @for u in shown {
                tr id=(format!("update-{}", u.id)) {
                    td { (u.id) } td { (u.application) } td { (u.release) } td { (u.patch) } td { (u.install_type) } td { (u.version) }
                    td {
                        span.state { (u.state) } " "
                        form method="post" action=(format!("/console/updates/{}/state", u.id)) style="display:inline" {
                            (csrf(&ctx))
                            input type="hidden" name="back" value=(back);
                            select name="state" aria-label="new state" {
                                @for s in STATES { option value=(s.to_string()) selected[s == u.state] { (s) } }
                            }
                            " " button type="submit" { "Set" }
                        }
                    }
                    td {
                        form method="post" action=(format!("/console/updates/{}/priority", u.id)) {
                            (csrf(&ctx))
                            input type="hidden" name="back" value=(back);
                            input type="hidden" name="high" value=(if u.high_priority { "off" } else { "on" });
                            span.priority { (if u.high_priority { "yes" } else { "no" }) } " "
                            button type="submit" { (if u.high_priority { "Clear" } else { "Set" }) }
                        }
                    }
                    td.activated { (u.activated) }
                    td { (rfc_short(&u.inserted)) }
                }
            }
        }
        h2 { "Rollouts" }
        @if rollouts.is_empty() {
            p #no-rollouts { "No rollouts. Start one with "
                code { "transit update rollout create --update ID --wave GROUP[:PERCENT%] …" } "." }
        } @else {
            table #rollouts {
                tr { th { "ID" } th { "Update" } th { "State" } th { "Reason" } th { "Waves (machines · installed · failed)" } }
                @for r in &rollouts {
                    tr id=(format!("rollout-{}", r.id)) {
                        td { (r.id) }
                        td { (r.update) }
                        td.state { (r.state.as_str()) @if r.awaiting_approval { " (waiting for approval)" } }
                        td { (r.reason) }
                        td {
                            @for (i, w) in r.waves.iter().enumerate() {
                                div.wave {
                                    (format!("{} {} {}%", i + 1, w.spec.group.as_deref().unwrap_or("*"), w.spec.percent))
                                    " — " (if w.started { "started" } else { "waiting" }) ": "
                                    (w.tally.size) " · " (w.tally.installed) " · " (w.tally.failed)
                                    (format!(" (success ≥ {}, errors ≥ {})", crate::rollout::percent(w.spec.success), w.spec.errors))
                                }
                            }
                        }
                    }
                }
            }
        }
        form #upload method="post" action="/console/updates/upload" data-csrf=(ctx.session.csrf) {
            fieldset {
                legend { "Upload an update (.tbundle)" }
                input #bundle type="file" accept=".tbundle" required;
                " " button type="submit" { "Upload" }
                " " progress #upload-progress value="0" max="1" {}
                p #upload-result {}
            }
        }
        script { (PreEscaped(UPLOAD_JS)) }
    };
    Ok(layout::page(&ctx, "Updates", p.msg.as_deref(), body).into_response())
}

fn back(f: &Fields) -> &str {
    f.get("back")
        .filter(|b| b.starts_with("/console/updates"))
        .unwrap_or("/console/updates")
}

async fn on_catalog<T: Send + 'static>(
    app: &App,
    f: impl FnOnce(&transit_update::Store) -> Result<T, transit_update::store::StoreError>
        + Send
        + 'static,
) -> Result<T, PageError> {
    let path = app.repo.store_path();
    let out =
        tokio::task::spawn_blocking(move || transit_update::Store::open(&path).and_then(|s| f(&s)))
            .await
            .map_err(|e| PageError::internal(e.to_string()))?;
    match out {
        Ok(v) => {
            app.reload_catalog()
                .await
                .map_err(|e| PageError::internal(e.to_string()))?;
            Ok(v)
        }
        Err(transit_update::store::StoreError::NoSuchUpdate(id)) => {
            Err(PageError::not_found(format!("no update with ID {id}")))
        }
        Err(transit_update::store::StoreError::State(e)) => Err(PageError::refused(e.to_string())),
        Err(e) => Err(PageError::internal(e.to_string())),
    }
}

/// `POST /console/updates/{id}/state`.
pub async fn set_state(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<i64>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let to: UpdateState = f
        .text("state")
        .parse()
        .map_err(|e: transit_update::states::StateError| PageError::bad(e.to_string()))?;
    let u = on_catalog(&app, move |s| s.set_state(id, to)).await?;
    tracing::info!(user = ctx.session.user, update = id, state = %to, "console: update state changed");
    Ok(layout::done(
        back(&f),
        &format!("{} is now {to}.", u.target),
    ))
}

/// `POST /console/updates/{id}/priority`.
pub async fn set_priority(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<i64>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let high = match f.text("high") {
        "on" => true,
        "off" => false,
        other => return Err(PageError::bad(format!("`{other}` is not on or off"))),
    };
    let u = on_catalog(&app, move |s| s.set_high_priority(id, high)).await?;
    tracing::info!(
        user = ctx.session.user,
        update = id,
        high,
        "console: High Priority changed"
    );
    Ok(layout::done(
        back(&f),
        &format!(
            "{}: High Priority {}.",
            u.target,
            if high { "on" } else { "off" }
        ),
    ))
}

/// The upload's query.
#[derive(Debug, Deserialize)]
pub struct UploadParams {
    /// The file's name (for the log).
    pub name: Option<String>,
}

/// `POST /console/updates/upload?name=F`: the bundle as the body, the
/// CSRF token in `X-CSRF-Token`. Written to a temporary file in the data
/// folder, then ingested as `transit update add` does (signature and
/// publisher checked); answers a line of text (200, or 422 with the refusal).
pub async fn upload(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<UploadParams>,
    body: Body,
) -> Result<(StatusCode, String), PageError> {
    let name: String = q
        .name
        .unwrap_or_else(|| "upload.tbundle".into())
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(100)
        .collect();
    let dir = app.config.data.join(".uploads");
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| PageError::internal(format!("{}: {e}", dir.display())))?;
    let tmp = tempfile::Builder::new()
        .prefix(".upload-")
        .suffix(&format!("-{name}"))
        .tempfile_in(&dir)
        .map_err(|e| PageError::internal(format!("{}: {e}", dir.display())))?
        .into_temp_path();
    let path = tmp.to_path_buf();
    let mut file = tokio::fs::File::create(&path)
        .await
        .map_err(|e| PageError::internal(format!("{}: {e}", path.display())))?;
    let mut stream = body.into_data_stream();
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| PageError::bad(format!("the upload broke off: {e}")))?;
        bytes += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(|e| PageError::internal(format!("{}: {e}", path.display())))?;
    }
    file.flush()
        .await
        .map_err(|e| PageError::internal(format!("{}: {e}", path.display())))?;
    drop(file);
    if bytes == 0 {
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            "The upload is empty.".into(),
        ));
    }
    let repo = app.repo.clone();
    let handle = tokio::runtime::Handle::current();
    let ingest_path = path.clone();
    let done = tokio::task::spawn_blocking(move || {
        handle.block_on(transit_update::ingest::ingest_file(
            &repo,
            &ingest_path,
            None,
            &CancelToken::new(),
            &NoProgress,
        ))
    })
    .await
    .map_err(|e| PageError::internal(e.to_string()))?;
    drop(tmp);
    match done {
        Ok(d) => {
            app.reload_catalog()
                .await
                .map_err(|e| PageError::internal(e.to_string()))?;
            tracing::info!(
                user = ctx.session.user,
                target = d.target,
                "console: update uploaded"
            );
            let mut msg = format!(
                "Added {} {} patch {} ({}) as {}{}.",
                d.application,
                d.release,
                d.patch,
                d.install_version,
                d.state,
                if d.already_present {
                    ", already present"
                } else {
                    ""
                }
            );
            for s in &d.superseded {
                msg.push_str(&format!(
                    " Only the latest patch should be GA: mark {} ({}) Inactive.",
                    s.target, s.state
                ));
            }
            Ok((StatusCode::OK, msg))
        }
        Err(e) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{name} was refused: {e}"),
        )),
    }
}
