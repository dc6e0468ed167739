//! The HTTP side: routes of the client API (`/v1/checkin`, results,
//! progress, the repository), of the administration API, and the web
//! console under `/console/` ([`crate::console`]).

pub mod admin;
pub mod client_api;
pub mod download;
pub mod error;

use crate::api::MAX_BODY;
use crate::state::App;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;
use std::sync::Arc;

/// Every route, with the body limit.
pub fn router(app: Arc<App>) -> Router {
    let admin = Router::new()
        .route("/v1/status", get(admin::status))
        .route("/v1/groups", get(admin::groups).post(admin::create_group))
        .route(
            "/v1/groups/{name}",
            put(admin::set_group).delete(admin::delete_group),
        )
        .route("/v1/groups/{name}/members", post(admin::add_members))
        .route(
            "/v1/groups/{name}/members/{id}",
            delete(admin::remove_member),
        )
        .route("/v1/machines", get(admin::machines))
        .route("/v1/machines/{id}", get(admin::machine))
        .route("/v1/updates", get(admin::updates))
        .route("/v1/updates/{id}/state", put(admin::set_state))
        .route("/v1/report", get(admin::report))
        .route(
            "/v1/rollouts",
            get(admin::rollouts).post(admin::create_rollout),
        )
        .route("/v1/rollouts/{id}", get(admin::rollout))
        .route("/v1/rollouts/{id}/{command}", post(admin::rollout_command))
        .route("/v1/database", get(admin::database))
        .route("/v1/database/{action}", post(admin::switch_database))
        .route(
            "/v1/activity",
            get(admin::activity).delete(admin::clear_activity),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            admin::loopback_only,
        ));
    Router::new()
        .route("/v1/checkin", post(client_api::checkin))
        .route("/v1/results", post(client_api::results))
        .route("/v1/progress", post(client_api::progress))
        .route("/v1/repository/metadata/{file}", get(download::metadata))
        .route("/v1/repository/targets/{*path}", get(download::target))
        .merge(admin)
        .merge(crate::console::router(Arc::clone(&app)))
        .fallback(|| async {
            error::ApiError::not_found("no such API path (this provider speaks /v1/)")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(app)
}
