//! The Machines page: search by the start of the name or of the IP
//! address, paged on the server, each machine moved between groups; and
//! one machine's detail (installed against available versions).

use super::guard::{Ctx, Fields};
use super::layout::{self, csrf, enc, rfc_short, stamp, PageError, PageResult};
use crate::state::App;
use crate::store::MachineQuery;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Extension;
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

/// Rows per page.
pub const PER_PAGE: u64 = 100;

/// The page's query.
#[derive(Debug, Deserialize)]
pub struct MachinesParams {
    /// The start of the name or of the IP address.
    pub search: Option<String>,
    /// The page, from 1.
    pub page: Option<u64>,
    /// A message from the last action.
    pub msg: Option<String>,
}

/// `GET /console/machines`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Query<MachinesParams>,
) -> PageResult {
    let search = p.search.clone().unwrap_or_default();
    let page_no = p.page.unwrap_or(1).max(1);
    // One row more than shown tells whether a next page exists, without
    // counting every match.
    let mut rows = app
        .store
        .machines(&MachineQuery {
            search: Some(search.trim().to_string()).filter(|s| !s.is_empty()),
            limit: PER_PAGE + 1,
            offset: (page_no - 1) * PER_PAGE,
            ..MachineQuery::default()
        })
        .await?;
    let more = rows.len() as u64 > PER_PAGE;
    rows.truncate(PER_PAGE as usize);
    let groups = app.store.groups().await?;
    let total = app.store.count_machines().await?;
    let link = |page: u64| format!("/console/machines?search={}&page={page}", enc(&search));
    let back = link(page_no);
    let body = html! {
        form #search method="get" action="/console/machines" {
            label { "Name or IP starts with " input name="search" value=(search) autofocus; }
            " " button type="submit" { "Search" }
            span.muted { " " (total) " machines in all" }
        }
        table #machines {
            tr { th { "Name" } th { "IP address" } th { "Group" } th { "Last contact" } th { "Move to group" } }
            @for m in &rows {
                tr {
                    td { a href=(format!("/console/machines/{}", enc(&m.id))) { (m.name) } @if m.cic_server { " (CIC server)" } }
                    td { (m.ip) }
                    td.group { (m.group) }
                    td { (stamp(m.last_contact)) }
                    td {
                        form method="post" action="/console/machines/move" {
                            (csrf(&ctx))
                            input type="hidden" name="id" value=(m.id);
                            input type="hidden" name="back" value=(back);
                            select name="group" aria-label="group" {
                                @for g in &groups { option selected[g.name == m.group] { (g.name) } }
                            }
                            " " button type="submit" { "Move" }
                        }
                    }
                }
            }
        }
        p.pager {
            "Page " (page_no) " "
            @if page_no > 1 { a rel="prev" href=(link(page_no - 1)) { "← Previous" } " " }
            @if more { a rel="next" href=(link(page_no + 1)) { "Next →" } }
        }
    };
    Ok(layout::page(&ctx, "Machines", p.msg.as_deref(), body).into_response())
}

/// `POST /console/machines/move`: one machine into another group.
pub async fn move_machine(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let id = f.text("id").to_string();
    let group = f.text("group").to_string();
    super::groups::move_into(&app, std::slice::from_ref(&id), &group).await?;
    tracing::info!(
        user = ctx.session.user,
        machine = id,
        group,
        "console: machine moved"
    );
    let back = f
        .get("back")
        .filter(|b| b.starts_with("/console/machines"))
        .unwrap_or("/console/machines");
    Ok(layout::done(
        back,
        &format!("Moved machine {id} to {group}."),
    ))
}

/// `GET /console/machines/{id}`: status, reasons, installed against
/// available, progress, recent activity.
pub async fn detail(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> PageResult {
    let (m, a, progress, activity) = crate::http::admin::machine_detail(&app, &id)
        .await?
        .ok_or_else(|| PageError::not_found(format!("no machine with ID `{id}`")))?;
    let body = html! {
        table #machine {
            tr { th { "Name" } td { (m.name) } }
            tr { th { "ID" } td { (m.id) } }
            tr { th { "IP address" } td { (m.ip) } }
            tr { th { "Group" } td { (m.group) } }
            tr { th { "CIC server" } td { (if m.cic_server { "yes" } else { "no" }) } }
            tr { th { "Status" } td #status { (format!("{:?}", a.status)) } }
            tr { th { "Reasons" } td { @for r in &a.reasons { div { (r) } } } }
            tr { th { "Restart required" } td { (if m.restart_required { "yes" } else { "no" }) } }
            tr { th { "First contact" } td { (stamp(m.first_contact)) } }
            tr { th { "Last contact" } td { (stamp(m.last_contact)) } }
            tr { th { "Check-ins" } td { (m.checkins) } }
        }
        h2 { "Applications" }
        table #applications {
            tr { th { "Application" } th { "Installed version" } th { "Available version" } th { "Status" } }
            @for v in &a.applications {
                tr {
                    td { (v.application) }
                    td { (v.installed.map(|x| x.to_string()).unwrap_or_default()) }
                    td { (v.available.map(|x| x.to_string()).unwrap_or_default()) }
                    td { (format!("{:?}", v.status)) }
                }
            }
        }
        @if !progress.is_empty() {
            h2 { "Progress" }
            table {
                tr { th { "Update" } th { "Phase" } th { "Percent" } th { "Reported" } }
                @for p in &progress { tr { td { (p.update_id) } td { (p.phase) } td { (p.percent) "%" } td { (stamp(p.time)) } } }
            }
        }
        h2 { "Recent activity" }
        table {
            tr { th { "Time" } th { "Application" } th { "Release" } th { "Patch" } th { "Status" } th { "Description" } }
            @for e in &activity {
                tr { td { (rfc_short(&e.time)) } td { (e.application) } td { (e.release) } td { (e.patch) } td { (e.status.as_str()) } td { (e.description) } }
            }
        }
        p { a href="/console/report" { "← Report" } " · " a href="/console/machines" { "Machines" } }
    };
    Ok(layout::page(&ctx, "Machines", None, body).into_response())
}
