//! The Report page: machines by status (UpToDate, NeedsAttention,
//! ErrorState) with every reason, filtered by last contact (remembered in
//! a cookie between visits), paged on the server, each machine linking to
//! its detail.

use super::auth::{cookie, set_cookie};
use super::guard::Ctx;
use super::layout::{self, enc, stamp, PageError, PageResult};
use crate::http::admin::assess_all;
use crate::report::{since, MachineStatus};
use crate::state::App;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::IntoResponse;
use axum::Extension;
use maud::html;
use serde::Deserialize;
use std::sync::Arc;

/// The cookie that remembers the last-contact filter.
pub const SINCE_COOKIE: &str = "transit_report_since";

/// Rows per page.
pub const PER_PAGE: usize = 100;

/// The page's query.
#[derive(Debug, Deserialize)]
pub struct ReportParams {
    /// `2w`, `3m`, `6m`, `YYYY-MM-DD`, or empty for every machine; absent:
    /// the remembered filter.
    pub since: Option<String>,
    /// A date for `since=date`.
    pub date: Option<String>,
    /// Which status to list.
    pub status: Option<String>,
    /// The page, from 1.
    pub page: Option<usize>,
}

fn status_name(s: MachineStatus) -> &'static str {
    match s {
        MachineStatus::UpToDate => "UpToDate",
        MachineStatus::NeedsAttention => "NeedsAttention",
        MachineStatus::ErrorState => "ErrorState",
    }
}

/// `GET /console/report`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    headers: HeaderMap,
    Query(p): Query<ReportParams>,
) -> PageResult {
    let given = p.since.is_some();
    let mut filter = match p.since.as_deref() {
        Some("date") => p.date.clone().unwrap_or_default(),
        Some(s) => s.to_string(),
        None => cookie(&headers, SINCE_COOKIE).unwrap_or_default(),
    };
    let now = transit_core::time::now().unix_timestamp();
    let from = match filter.as_str() {
        "" => None,
        f => match since(f, now) {
            Ok(t) => Some(t),
            Err(e) if given => return Err(PageError::bad(e)),
            // A remembered filter that no longer parses is forgotten.
            Err(_) => {
                filter.clear();
                None
            }
        },
    };
    let status = match p.status.as_deref() {
        None | Some("") => MachineStatus::ErrorState,
        Some("UpToDate") => MachineStatus::UpToDate,
        Some("NeedsAttention") => MachineStatus::NeedsAttention,
        Some("ErrorState") => MachineStatus::ErrorState,
        Some(s) => {
            return Err(PageError::bad(format!(
                "`{s}` is not a status (UpToDate, NeedsAttention, ErrorState)"
            )))
        }
    };
    let all = assess_all(&app, from, now)
        .await
        .map_err(|e| PageError::internal(format!("{e:?}")))?;
    let count = |s| all.iter().filter(|r| r.status == s).count();
    let counts = [
        (MachineStatus::ErrorState, count(MachineStatus::ErrorState)),
        (
            MachineStatus::NeedsAttention,
            count(MachineStatus::NeedsAttention),
        ),
        (MachineStatus::UpToDate, count(MachineStatus::UpToDate)),
    ];
    let rows: Vec<_> = all.iter().filter(|r| r.status == status).collect();
    let pages = rows.len().div_ceil(PER_PAGE).max(1);
    let page_no = p.page.unwrap_or(1).clamp(1, pages);
    let shown = rows.iter().skip((page_no - 1) * PER_PAGE).take(PER_PAGE);
    let is_date = !matches!(filter.as_str(), "" | "2w" | "3m" | "6m");
    let link = |s: MachineStatus, page: usize| {
        format!(
            "/console/report?since={}&status={}&page={page}",
            enc(&filter),
            status_name(s)
        )
    };
    let body = html! {
        form #filter method="get" action="/console/report" {
            input type="hidden" name="status" value=(status_name(status));
            label { "Last contact " select name="since" {
                option value="" selected[filter.is_empty()] { "any time" }
                option value="2w" selected[filter == "2w"] { "in the last 2 weeks" }
                option value="3m" selected[filter == "3m"] { "in the last 3 months" }
                option value="6m" selected[filter == "6m"] { "in the last 6 months" }
                option value="date" selected[is_date] { "since the date" }
            } }
            " " input name="date" type="date" value=(if is_date { filter.as_str() } else { "" });
            " " button type="submit" { "Filter" }
        }
        p.tabs {
            @for (s, n) in counts {
                a class=[(s == status).then_some("on")] id=(status_name(s)) href=(link(s, 1)) { (status_name(s)) " (" (n) ")" }
            }
        }
        table #report {
            tr { th { "Machine" } th { "Group" } th { "Status" } th { "Reasons" } th { "Last contact" } }
            @for r in shown {
                tr {
                    td { a href=(format!("/console/machines/{}", enc(&r.machine.id))) { (r.machine.name) } }
                    td { (r.machine.group) }
                    td { (status_name(r.status)) }
                    td { @for reason in r.reasons.iter() { div { (reason) } } }
                    td { (stamp(r.machine.last_contact)) }
                }
            }
        }
        p.pager {
            "Page " (page_no) " of " (pages) " "
            @if page_no > 1 { a rel="prev" href=(link(status, page_no - 1)) { "← Previous" } " " }
            @if page_no < pages { a rel="next" href=(link(status, page_no + 1)) { "Next →" } }
        }
    };
    let mut resp = layout::page(&ctx, "Report", None, body).into_response();
    if given {
        let secure = app.config.tls.is_some();
        let c = set_cookie(SINCE_COOKIE, &enc(&filter), secure, Some(365 * 86_400));
        if let Ok(v) = c.parse() {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(resp)
}
