//! The About page: version, build, provider kind, database.

use super::guard::Ctx;
use super::layout::{self, PageResult};
use crate::state::App;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::Extension;
use maud::html;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// `GET /console/about`.
pub async fn page(State(app): State<Arc<App>>, Extension(ctx): Extension<Ctx>) -> PageResult {
    let machines = app.store.count_machines().await?;
    let catalog = app.catalog();
    let build = option_env!("TRANSIT_BUILD").unwrap_or(if cfg!(debug_assertions) {
        "development build"
    } else {
        "release build"
    });
    let tls = app.config.tls.is_some();
    Ok(layout::page(
        &ctx,
        "About",
        None,
        html! {
            table {
                tr { th { "Product" } td { "Transit update provider" } }
                tr { th { "Version" } td #version { (env!("CARGO_PKG_VERSION")) } }
                tr { th { "Build" } td { (build) } }
                tr { th { "Provider kind" } td #kind { "Local provider (client API, downloads and this console)" } }
                tr { th { "Database" } td #database { (app.store.describe()) } }
                tr { th { "Update catalog" } td { (app.repo.store_path().display()) } }
                tr { th { "API version" } td { "v" (crate::api::API_VERSION) } }
                tr { th { "Version gate" } td { (app.config.server.release) " patch " (app.config.server.patch) } }
                tr { th { "Listening on" } td { (app.config.listen) @if tls { " (HTTPS)" } @else { " (HTTP)" } } }
                tr { th { "Machines" } td { (machines) } }
                tr { th { "Updates in the catalog" } td { (catalog.updates.len()) } }
                tr { th { "Check-ins per second" } td { (app.load.rate()) } }
                tr { th { "Open connections" } td { (app.connections.load(Ordering::Relaxed)) } }
            }
        },
    )
    .into_response())
}
