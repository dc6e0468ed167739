//! The Activity page: the activity log sorted and grouped by any column,
//! paged on the server, one entry's details with previous and next, the
//! log cleared, and exported as CSV.

use super::guard::Ctx;
use super::layout::{self, csrf, rfc_short, PageError, PageResult};
use crate::state::App;
use crate::store::{ActivityColumn, ActivityQuery};
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

const COLUMNS: [(ActivityColumn, &str); 6] = [
    (ActivityColumn::Time, "Time"),
    (ActivityColumn::Machine, "Machine"),
    (ActivityColumn::Application, "Application"),
    (ActivityColumn::Release, "Release"),
    (ActivityColumn::Patch, "Patch"),
    (ActivityColumn::Status, "Status"),
];

/// The page's query: order, grouping, page, details.
#[derive(Debug, Default, Deserialize)]
pub struct ActivityParams {
    /// Sort column.
    pub sort: Option<String>,
    /// `asc` or `desc`.
    pub order: Option<String>,
    /// Group column (empty: none).
    pub group: Option<String>,
    /// Page, from 1.
    pub page: Option<u64>,
    /// Entries per page.
    pub per_page: Option<u64>,
    /// Show the details of the entry at this position (from 0) of the order.
    pub at: Option<u64>,
    /// A message from the last action.
    pub msg: Option<String>,
}

struct View {
    sort: ActivityColumn,
    descending: bool,
    group: Option<ActivityColumn>,
    page: u64,
    per_page: u64,
}

impl View {
    fn parse(p: &ActivityParams) -> Result<View, PageError> {
        let col = |s: &Option<String>| -> Result<Option<ActivityColumn>, PageError> {
            match s.as_deref() {
                None | Some("") => Ok(None),
                Some(s) => s.parse().map(Some).map_err(PageError::bad),
            }
        };
        Ok(View {
            sort: col(&p.sort)?.unwrap_or(ActivityColumn::Time),
            descending: match p.order.as_deref() {
                None | Some("") | Some("desc") => true,
                Some("asc") => false,
                Some(o) => {
                    return Err(PageError::bad(format!("`{o}` is not an order (asc, desc)")))
                }
            },
            group: col(&p.group)?,
            page: p.page.unwrap_or(1).max(1),
            per_page: p.per_page.unwrap_or(50).clamp(1, 1000),
        })
    }

    fn query(&self) -> ActivityQuery {
        ActivityQuery {
            sort: self.sort,
            descending: self.descending,
            group_by: self.group,
            machine: None,
            limit: self.per_page,
            offset: (self.page - 1) * self.per_page,
        }
    }

    fn href(&self, sort: ActivityColumn, descending: bool, page: u64, at: Option<u64>) -> String {
        let mut s = format!(
            "/console/activity?sort={}&order={}&group={}&page={page}&per_page={}",
            sort.sql(),
            if descending { "desc" } else { "asc" },
            self.group.map_or("", |g| g.sql()),
            self.per_page
        );
        if let Some(at) = at {
            s.push_str(&format!("&at={at}"));
        }
        s
    }
}

/// `GET /console/activity`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Query(p): Query<ActivityParams>,
) -> PageResult {
    let v = View::parse(&p)?;
    let (entries, total) = app.store.activity(&v.query()).await?;
    let detail = match p.at {
        Some(at) => {
            let mut q = v.query();
            q.limit = 1;
            q.offset = at;
            app.store
                .activity(&q)
                .await?
                .0
                .into_iter()
                .next()
                .map(|a| (at, a))
        }
        None => None,
    };
    let pages = total.div_ceil(v.per_page).max(1);
    let first = (v.page - 1) * v.per_page;
    // Each row with the group header that starts before it, if any.
    let mut last_key: Option<String> = None;
    let mut rows = Vec::with_capacity(entries.len());
    for (i, a) in entries.iter().enumerate() {
        let header = v.group.and_then(|g| {
            let key = g.key(a);
            (last_key.as_deref() != Some(key.as_str())).then(|| {
                last_key = Some(key.clone());
                format!(
                    "{}: {key}",
                    COLUMNS.iter().find(|c| c.0 == g).map_or("", |c| c.1)
                )
            })
        });
        rows.push((i, header, a));
    }
    let body = html! {
        p {
            (total) " entries · page " (v.page) " of " (pages) " · "
            a #export href=(format!("/console/activity.csv?sort={}&order={}&group={}", v.sort.sql(), if v.descending {"desc"} else {"asc"}, v.group.map_or("", |g| g.sql()))) download="activity.csv" { "Export CSV" }
        }
        form method="get" action="/console/activity" {
            input type="hidden" name="sort" value=(v.sort.sql());
            input type="hidden" name="order" value=(if v.descending {"desc"} else {"asc"});
            label { "Group by " select name="group" {
                option value="" selected[v.group.is_none()] { "(none)" }
                @for (c, name) in COLUMNS { option value=(c.sql()) selected[v.group == Some(c)] { (name) } }
            } }
            " "
            label { "Per page " input name="per_page" type="number" min="1" max="1000" value=(v.per_page) style="width:5em"; }
            " " button type="submit" { "Show" }
        }
        form #clear method="post" action="/console/activity/clear" onsubmit="return confirm('Clear the whole activity log?')" {
            (csrf(&ctx))
            button type="submit" { "Clear the log" }
        }
        @if let Some((at, a)) = &detail {
            fieldset #detail {
                legend { "Entry " (at + 1) " of " (total) }
                table {
                    tr { th { "Time" } td { (rfc_short(&a.time)) } }
                    tr { th { "Machine" } td { (a.machine) } }
                    tr { th { "Application" } td { (a.application) } }
                    tr { th { "Release" } td { (a.release) } }
                    tr { th { "Patch" } td { (a.patch) } }
                    tr { th { "Status" } td { (a.status.as_str()) } }
                    tr { th { "Description" } td { (a.description) } }
                }
                @if *at > 0 { a #prev href=(v.href(v.sort, v.descending, (at - 1) / v.per_page + 1, Some(at - 1))) { "← Previous" } " " }
                @if at + 1 < total { a #next href=(v.href(v.sort, v.descending, (at + 1) / v.per_page + 1, Some(at + 1))) { "Next →" } " " }
                a href=(v.href(v.sort, v.descending, v.page, None)) { "Close" }
            }
        }
        table #activity {
            tr {
                @for (c, name) in COLUMNS {
                    @let desc = if c == v.sort { !v.descending } else { c == ActivityColumn::Time };
                    th { a href=(v.href(c, desc, 1, None)) { (name) @if c == v.sort { (if v.descending {" ▼"} else {" ▲"}) } } }
                }
                th { "Description" }
                th {}
            }
            @for (i, header, a) in &rows {
                @if let Some(h) = header {
                    tr.group { th colspan="8" { (h) } }
                }
                tr {
                    td { (rfc_short(&a.time)) } td { (a.machine) } td { (a.application) }
                    td { (a.release) } td { (a.patch) } td { (a.status.as_str()) } td { (a.description) }
                    td { a href=(v.href(v.sort, v.descending, v.page, Some(first + *i as u64))) { "Details" } }
                }
            }
        }
        (pager(&v, pages))
    };
    Ok(layout::page(&ctx, "Activity", p.msg.as_deref(), body).into_response())
}

fn pager(v: &View, pages: u64) -> Markup {
    html! {
        p.pager {
            @if v.page > 1 { a rel="prev" href=(v.href(v.sort, v.descending, v.page - 1, None)) { "← Previous page" } " " }
            @if v.page < pages { a rel="next" href=(v.href(v.sort, v.descending, v.page + 1, None)) { "Next page →" } }
        }
    }
}

/// `GET /console/activity.csv`: every entry, in the page's order.
pub async fn csv(State(app): State<Arc<App>>, Query(p): Query<ActivityParams>) -> PageResult {
    let v = View::parse(&p)?;
    let mut q = v.query();
    q.limit = 0;
    q.offset = 0;
    let (entries, _) = app.store.activity(&q).await?;
    crate::http::admin::csv_response(&entries).map_err(|e| PageError::internal(format!("{e:?}")))
}

/// `POST /console/activity/clear`.
pub async fn clear(State(app): State<Arc<App>>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let n = app.store.clear_activity().await?;
    tracing::info!(
        user = ctx.session.user,
        entries = n,
        "console: activity log cleared"
    );
    Ok(layout::done(
        "/console/activity",
        &format!("Cleared the activity log ({n} entries)."),
    ))
}
