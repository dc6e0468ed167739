//! The web console (DESIGN.md §4, U-01, U-07): the pages About, Activity,
//! Report, Configuration, Machines, Groups and Updates under `/console/`,
//! rendered on the server with maud, for authorized users only.
//!
//! - [`auth`]: password hashes, sessions, CSRF tokens, the failed-login limit;
//! - [`guard`]: the middleware every console request passes (session,
//!   CSRF on every POST);
//! - [`layout`]: the page frame, the navigation and small HTML helpers;
//! - one module per page: [`login`], [`about`], [`activity`], [`report`],
//!   [`machines`], [`groups`], [`updates`], [`config`].

pub mod about;
pub mod activity;
pub mod auth;
pub mod config;
pub mod groups;
pub mod guard;
pub mod layout;
pub mod login;
pub mod machines;
pub mod report;
pub mod updates;

use crate::state::App;
use axum::extract::DefaultBodyLimit;
use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use std::sync::Arc;

/// The largest bundle the Updates page's upload takes (bytes).
pub const MAX_UPLOAD: usize = 8 << 30;

/// The console's routes, behind [`guard::guard`].
pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/console", get(|| async { Redirect::to("/console/about") }))
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/about") }),
        )
        .route("/console/login", get(login::page).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console/about", get(about::page))
        .route("/console/activity", get(activity::page))
        .route("/console/activity.csv", get(activity::csv))
        .route("/console/activity/clear", post(activity::clear))
        .route("/console/report", get(report::page))
        .route("/console/machines", get(machines::page))
        .route("/console/machines/move", post(machines::move_machine))
        .route("/console/machines/{id}", get(machines::detail))
        .route("/console/groups", get(groups::list).post(groups::create))
        .route(
            "/console/groups/{name}",
            get(groups::edit).post(groups::save),
        )
        .route("/console/groups/{name}/delete", post(groups::delete))
        .route(
            "/console/groups/{name}/members/add",
            post(groups::add_members),
        )
        .route(
            "/console/groups/{name}/members/remove",
            post(groups::remove_members),
        )
        .route("/console/updates", get(updates::page))
        .route("/console/updates/{id}/state", post(updates::set_state))
        .route(
            "/console/updates/{id}/priority",
            post(updates::set_priority),
        )
        .route(
            "/console/updates/upload",
            post(updates::upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/console/config", get(config::page))
        .route("/console/config/folders", post(config::folders))
        .route("/console/config/peers", post(config::peers))
        .route("/console/config/users", post(config::users))
        .route("/console/config/apply", post(config::apply))
        .route("/console/config/database", post(config::database))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            guard::guard,
        ))
}
