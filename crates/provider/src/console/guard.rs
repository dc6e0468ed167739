//! The middleware in front of every console route: without a live
//! session a request is sent to the login page; every POST must carry the
//! session's CSRF token (in the form's `csrf` field, or the
//! `X-CSRF-Token` header for the upload), else 403.

use super::auth::{cookie, same_token, Session, LOGIN_COOKIE, SESSION_COOKIE};
use super::layout;
use crate::api::MAX_BODY;
use crate::state::App;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use std::sync::Arc;

/// The header that carries the CSRF token of a request without a form.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A form's fields, in order (a name may repeat, as checkboxes do).
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// Parses `application/x-www-form-urlencoded` bytes.
    pub fn parse(bytes: &[u8]) -> Fields {
        Fields(
            url::form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }

    /// The first value of `name`, or empty.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The logged-on user's session, as the guard found it.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The session.
    pub session: Session,
    /// The session's cookie token (to change its pending changes).
    pub token: String,
}

fn forbidden(why: &str) -> Response {
    (
        StatusCode::FORBIDDEN,
        layout::bare(
            "Forbidden",
            maud::html! {
                h1 { "403 Forbidden" }
                p { (why) }
                p { a href="/console/login" { "Log on" } }
            },
        ),
    )
        .into_response()
}

/// The guard (see the module documentation).
pub async fn guard(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let login = path == "/console/login";
    let token = cookie(req.headers(), SESSION_COOKIE);
    let session = token.as_deref().and_then(|t| app.console.touch(t));
    let expected = if login {
        cookie(req.headers(), LOGIN_COOKIE)
    } else {
        match (&session, &token) {
            (Some(s), Some(t)) => {
                let ctx = Ctx {
                    session: s.clone(),
                    token: t.clone(),
                };
                let csrf = s.csrf.clone();
                let mut req = req;
                req.extensions_mut().insert(ctx);
                return check_post(req, Some(csrf), next).await;
            }
            _ => {
                let target = if req.method() == Method::GET {
                    let pq = req
                        .uri()
                        .path_and_query()
                        .map(|p| p.as_str())
                        .unwrap_or("/console/about");
                    format!(
                        "/console/login?next={}",
                        url::form_urlencoded::byte_serialize(pq.as_bytes()).collect::<String>()
                    )
                } else {
                    "/console/login".to_string()
                };
                return Redirect::to(&target).into_response();
            }
        }
    };
    check_post(req, expected, next).await
}

async fn check_post(req: Request, expected: Option<String>, next: Next) -> Response {
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(expected) = expected else {
        return forbidden("The form carries no valid CSRF token: load the page again and retry.");
    };
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if h.to_str().is_ok_and(|h| same_token(h, &expected)) {
            next.run(req).await
        } else {
            forbidden("The request's CSRF token is wrong: load the page again and retry.")
        };
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return forbidden("The request carries no CSRF token.");
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    };
    let fields = Fields::parse(&bytes);
    if !fields.get("csrf").is_some_and(|t| same_token(t, &expected)) {
        return forbidden("The form carries no valid CSRF token: load the page again and retry.");
    }
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(fields);
    next.run(req).await
}
