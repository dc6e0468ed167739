//! Logging on and off. The login form carries a token that must match a
//! cookie set with the form (login CSRF); failed logins are limited per
//! client address and per user name.

use super::auth::{random_token, set_cookie, verify_password, LOGIN_COOKIE, SESSION_COOKIE};
use super::guard::{Ctx, Fields};
use super::layout::{bare, PageError};
use crate::state::App;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use maud::html;
use serde::Deserialize;
use std::net::SocketAddr;
use std::sync::Arc;

/// A hash of a random password, verified for unknown user names so they
/// take as long as known ones.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| super::auth::hash_password(&random_token()).unwrap_or_default())
        .clone()
}

/// Query of the login page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    /// Where to go after logging on (a console path).
    pub next: Option<String>,
}

fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/console/about".to_string(),
    }
}

fn form(app: &App, next: &str, status: StatusCode, error: Option<&str>) -> Response {
    let token = random_token();
    let secure = app.config.tls.is_some();
    let body = bare(
        "Log on",
        html! {
            h1 { "Transit update provider" }
            p.muted { "Only authorized users may use the console." }
            @if let Some(e) = error { p.err role="alert" { (e) } }
            form method="post" action="/console/login" {
                input type="hidden" name="csrf" value=(token);
                input type="hidden" name="next" value=(next);
                p { label { "User name " input name="user" autocomplete="username" required autofocus; } }
                p { label { "Password " input name="password" type="password" autocomplete="current-password" required; } }
                p { button type="submit" { "Log on" } }
            }
        },
    );
    (
        status,
        [(
            header::SET_COOKIE,
            set_cookie(LOGIN_COOKIE, &token, secure, None),
        )],
        body,
    )
        .into_response()
}

/// `GET /console/login`.
pub async fn page(State(app): State<Arc<App>>, Query(q): Query<LoginQuery>) -> Response {
    form(&app, &safe_next(q.next.as_deref()), StatusCode::OK, None)
}

/// `POST /console/login`.
pub async fn submit(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Extension(f): Extension<Fields>,
) -> Result<Response, PageError> {
    let user = f.text("user").to_string();
    let password =
        f.0.iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    let next = safe_next(f.get("next"));
    if let Some(wait) = app.console.locked_out(peer.ip(), &user) {
        tracing::warn!(ip = %peer.ip(), user, "console login refused: too many failures");
        let mut r = form(
            &app,
            &next,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&format!(
                "Too many failed logins: try again in {} minutes.",
                wait.as_secs().div_ceil(60).max(1)
            )),
        );
        r.headers_mut().insert(
            header::RETRY_AFTER,
            wait.as_secs()
                .max(1)
                .to_string()
                .parse()
                .map_err(|_| PageError::internal("header"))?,
        );
        return Ok(r);
    }
    let stored = app.store.password_hash(&user).await?;
    let known = stored.is_some();
    let hash = match stored {
        Some(h) => h,
        None => tokio::task::spawn_blocking(dummy_hash)
            .await
            .map_err(|e| PageError::internal(e.to_string()))?,
    };
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| PageError::internal(e.to_string()))?;
    if !(ok && known) {
        app.console.failed(peer.ip(), &user);
        tracing::warn!(ip = %peer.ip(), user, "console login failed");
        return Ok(form(
            &app,
            &next,
            StatusCode::UNAUTHORIZED,
            Some("Wrong user name or password."),
        ));
    }
    app.console.succeeded(peer.ip());
    let name = app
        .store
        .users()
        .await?
        .into_iter()
        .find(|u| u.name.eq_ignore_ascii_case(&user))
        .map(|u| u.name)
        .unwrap_or(user);
    tracing::info!(ip = %peer.ip(), user = name, "console login");
    let token = app.console.start(&name);
    let secure = app.config.tls.is_some();
    let mut r = Redirect::to(&next).into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, secure, None)
            .parse()
            .map_err(|_| PageError::internal("cookie"))?,
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, "", secure, Some(0))
            .parse()
            .map_err(|_| PageError::internal("cookie"))?,
    );
    Ok(r)
}

/// `POST /console/logout`.
pub async fn logout(State(app): State<Arc<App>>, Extension(ctx): Extension<Ctx>) -> Response {
    app.console.end(&ctx.token);
    let secure = app.config.tls.is_some();
    (
        [(
            header::SET_COOKIE,
            set_cookie(SESSION_COOKIE, "", secure, Some(0)),
        )],
        Redirect::to("/console/login"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_stays_in_the_console() {
        assert_eq!(
            super::safe_next(Some("/console/report?since=2w")),
            "/console/report?since=2w"
        );
        assert_eq!(
            super::safe_next(Some("https://evil.example")),
            "/console/about"
        );
        assert_eq!(
            super::safe_next(Some("//evil.example/console/")),
            "/console/about"
        );
        assert_eq!(super::safe_next(None), "/console/about");
    }

    #[test]
    fn the_dummy_hash_matches_no_empty_password() {
        let h = super::dummy_hash();
        assert!(h.starts_with("$argon2id$"));
        assert!(!super::verify_password("", &h));
    }
}
