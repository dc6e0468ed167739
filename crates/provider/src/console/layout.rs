//! The page frame (navigation, the user, logout), the error page, and
//! small helpers every page uses.

use super::guard::Ctx;
use crate::store::StoreError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

const STYLE: &str = "
body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
nav{background:#1f3b57;padding:.4em 1em;display:flex;gap:1em;align-items:center}
nav a{color:#dfe9f3;text-decoration:none}nav a.on{color:#fff;font-weight:bold;border-bottom:2px solid #fff}
nav form{margin-left:auto;color:#dfe9f3}
main{padding:1em 1.5em}table{border-collapse:collapse;background:#fff;margin:.5em 0}
td,th{border:1px solid #ccd5df;padding:.25em .6em;text-align:left;vertical-align:top}
th a{color:inherit}.msg{background:#e3f5e1;border:1px solid #9c9;padding:.4em .8em}
.err{background:#fbe4e4;border:1px solid #d99;padding:.4em .8em}
.tabs a{margin-right:1em}.tabs a.on{font-weight:bold}
.add{color:#070;font-weight:bold}.del{color:#a00;font-weight:bold}
fieldset{background:#fff;border:1px solid #ccd5df;margin:.6em 0}
progress{width:20em}.muted{color:#667}
";

/// The seven pages, in the navigation's order: (path, title).
pub const PAGES: [(&str, &str); 7] = [
    ("/console/about", "About"),
    ("/console/activity", "Activity"),
    ("/console/report", "Report"),
    ("/console/config", "Configuration"),
    ("/console/machines", "Machines"),
    ("/console/groups", "Groups"),
    ("/console/updates", "Updates"),
];

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            title { (title) " — Transit update provider" }
            style { (PreEscaped(STYLE)) }
        }
    }
}

/// A page without the navigation (login, errors without a session).
pub fn bare(title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body { main { (body) } }
        }
    }
}

/// A console page: the navigation with `active` marked, the user and
/// logout, the message of `msg` (from a redirect), and `body`.
pub fn page(ctx: &Ctx, title: &str, msg: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            (head(title))
            body {
                nav {
                    @for (path, name) in PAGES {
                        a href=(path) class=[(name == title).then_some("on")] { (name) }
                    }
                    form method="post" action="/console/logout" {
                        (csrf(ctx))
                        span { (ctx.session.user) " " }
                        button type="submit" { "Log off" }
                    }
                }
                main {
                    h1 { (title) }
                    @if let Some(m) = msg.filter(|m| !m.is_empty()) {
                        p.msg role="status" { (m) }
                    }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.session.csrf); }
}

/// A 303 back to `path` with a message to show.
pub fn done(path: &str, msg: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}msg={}", enc(msg))).into_response()
}

/// URL-encodes a query value.
pub fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A Unix time as `YYYY-MM-DD HH:MM:SS` UTC.
pub fn stamp(t: i64) -> String {
    rfc_short(&transit_core::time::rfc3339(transit_core::time::from_unix(
        t,
    )))
}

/// An RFC 3339 UTC stamp as `YYYY-MM-DD HH:MM:SS`.
pub fn rfc_short(s: &str) -> String {
    s.replace('T', " ").trim_end_matches('Z').to_string()
}

/// A console action that failed: shown as a page with its status.
#[derive(Debug)]
pub struct PageError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the administrator.
    pub message: String,
}

impl PageError {
    /// 422: the form's input is wrong.
    pub fn bad(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
        }
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            message: message.into(),
        }
    }

    /// 409: refused as things stand.
    pub fn refused(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::CONFLICT,
            message: message.into(),
        }
    }

    /// 500.
    pub fn internal(message: impl Into<String>) -> PageError {
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: message.into(),
        }
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> PageError {
        use transit_core::{ErrorKind, Kind};
        let status = match e.kind() {
            ErrorKind::Usage => StatusCode::NOT_FOUND,
            ErrorKind::Refused => StatusCode::CONFLICT,
            ErrorKind::BadInput => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::DbUnreachable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        PageError {
            status,
            message: e.to_string(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        (
            self.status,
            bare(
                title,
                html! {
                    h1 { (self.status.as_u16()) " " (title) }
                    p.err role="alert" { (self.message) }
                    p { a href="javascript:history.back()" { "Back" } " · " a href="/console/about" { "Console" } }
                },
            ),
        )
            .into_response()
    }
}

/// A handler's result: a page, a redirect, or an error page.
pub type PageResult = Result<Response, PageError>;
