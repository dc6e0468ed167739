//! The Configuration page: update folders and their Auto flags, the
//! static-content location, peer providers and authorized users (each
//! change marked + or − until Apply), and Manage Database for a
//! switchover pair (A and B shown; Copy, Use and Merge are not available
//! on this provider yet, and say so).

use super::auth::{check_new_user, hash_password, Pending};
use super::groups::ProviderEntry;
use super::guard::{Ctx, Fields};
use super::layout::{self, csrf, stamp, PageError, PageResult};
use crate::state::App;
use crate::store::AccessChanges;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// A message query.
#[derive(Debug, Deserialize)]
pub struct Msg {
    /// A message from the last action.
    pub msg: Option<String>,
}

fn marked(store: &[String], pending: &[Pending]) -> Vec<(String, Option<char>)> {
    let mut out: Vec<(String, Option<char>)> = store
        .iter()
        .map(|n| {
            let removed = pending
                .iter()
                .any(|p| matches!(p, Pending::Remove(r) if r.eq_ignore_ascii_case(n)));
            (n.clone(), removed.then_some('−'))
        })
        .collect();
    for p in pending {
        if let Pending::Add { name, .. } = p {
            out.push((name.clone(), Some('+')));
        }
    }
    out
}

fn list(id: &str, kind: &str, ctx: &Ctx, rows: &[(String, Option<char>)]) -> Markup {
    html! {
        table id=(id) {
            tr { th {} th { (kind) } th {} }
            @for (name, mark) in rows {
                tr {
                    td.mark {
                        @match mark { Some('+') => span.add title="added on Apply" { "+" }, Some(_) => span.del title="removed on Apply" { "−" }, None => {} }
                    }
                    td.name { (name) }
                    td {
                        form method="post" action=(format!("/console/config/{}", if kind == "User" { "users" } else { "peers" })) {
                            (csrf(ctx))
                            input type="hidden" name="name" value=(name);
                            @if mark.is_some() {
                                input type="hidden" name="op" value="undo";
                                button type="submit" { "Undo" }
                            } @else {
                                input type="hidden" name="op" value="remove";
                                button type="submit" aria-label=(format!("Remove {name}")) { "Remove" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `GET /console/config`.
pub async fn page(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<Msg>,
) -> PageResult {
    let path = app.repo.store_path();
    let folders = tokio::task::spawn_blocking(move || {
        transit_update::Store::open(&path).and_then(|s| s.folders())
    })
    .await
    .map_err(|e| PageError::internal(e.to_string()))?
    .map_err(|e| PageError::internal(e.to_string()))?;
    let peers = app.store.peers().await?;
    let users = app.store.users().await?;
    let user_names: Vec<String> = users.iter().map(|u| u.name.clone()).collect();
    let pending = !(ctx.session.peers.is_empty() && ctx.session.users.is_empty());
    let shared = crate::switchover::saved(&app.config.data).map_err(PageError::internal)?;
    let body = html! {
        h2 { "Update folders" }
        p.muted { "Bundles dropped in a folder marked Auto are taken in by the scanner (first scan 90 s after start, then every 60 s)." }
        table #folders {
            tr { th { "Folder" } th { "Auto" } th {} }
            @for f in &folders {
                tr {
                    td { (f.path.display()) }
                    td {
                        form method="post" action="/console/config/folders" {
                            (csrf(&ctx))
                            input type="hidden" name="path" value=(f.path.display().to_string());
                            input type="hidden" name="op" value=(if f.auto { "manual" } else { "auto" });
                            (if f.auto { "Auto " } else { "Manual " })
                            button type="submit" { (if f.auto { "Turn Auto off" } else { "Turn Auto on" }) }
                        }
                    }
                    td {
                        form method="post" action="/console/config/folders" {
                            (csrf(&ctx))
                            input type="hidden" name="path" value=(f.path.display().to_string());
                            input type="hidden" name="op" value="remove";
                            button type="submit" { "Remove" }
                        }
                    }
                }
            }
        }
        form #add-folder method="post" action="/console/config/folders" {
            (csrf(&ctx))
            input type="hidden" name="op" value="add";
            label { "Folder " input name="path" placeholder="/srv/drop" required; }
            " " label { input type="checkbox" name="auto" checked; " Auto" }
            " " button type="submit" { "Add folder" }
        }

        h2 { "Static content" }
        table { tr { th { "Static Content Location" } td #static-content { (app.repo.targets_dir().display()) } } }

        h2 { "Database" }
        table { tr { th { "Database Location" } td #database { (app.store.describe()) } } }
        details #manage-database {
            summary { "Manage Database…" }
            form method="post" action="/console/config/database" {
                (csrf(&ctx))
                p.muted { "Copy moves this provider's own data into an empty shared PostgreSQL database and uses it (the primary). Use switches to the shared database (the backup). Merge joins this provider's own data into the shared database, keeping the newest contact of each machine, and uses it. The password belongs in PGPASSWORD or ~/.pgpass: it is never saved." }
                table {
                    tr { th { "Switchover A (this provider's own data)" } td #switchover-a { (app.repo.store_path().display()) } }
                    tr { th { "Switchover B (shared)" } td #switchover-b {
                        @match &shared {
                            Some(s) => { (s.url) " (" (format!("{:?}", s.action)) " at " (s.since) ")" }
                            None => { "none chosen" }
                        }
                    } }
                    tr { th { "Shared database" } td { input name="location" placeholder="postgres://user@host/db" value=[shared.as_ref().map(|s| s.url.as_str())] required; } }
                }
                p {
                    button type="submit" name="action" value="copy" { "Copy" } " "
                    button type="submit" name="action" value="use" { "Use" } " "
                    button type="submit" name="action" value="merge" { "Merge" }
                }
            }
        }

        h2 { "Servers (peer providers)" }
        p.muted { "Clients are given their group's providers, then these. A + or − marks a change that takes effect on Apply." }
        (list("peers", "Server", &ctx, &marked(&peers, &ctx.session.peers)))
        form #add-peer method="post" action="/console/config/peers" {
            (csrf(&ctx))
            input type="hidden" name="op" value="add";
            fieldset {
                legend { "Add a server" }
                label { "Host " input name="host_0" required; }
                " " label { "Port " input name="port_0" type="number" min="1" max="65535" value=(crate::config::DEFAULT_PORT) style="width:6em"; }
                details { summary { "Show details (secure proxy)" }
                    label { input type="checkbox" name="secure_0"; " Secure (HTTPS)" }
                    " " label { "Path " input name="path_0" placeholder="e.g. update"; }
                }
                button type="submit" { "Add" }
            }
        }

        h2 { "Authorized users" }
        (list("users", "User", &ctx, &marked(&user_names, &ctx.session.users)))
        form #add-user method="post" action="/console/config/users" {
            (csrf(&ctx))
            input type="hidden" name="op" value="add";
            fieldset {
                legend { "Add a user" }
                label { "User name " input name="name" required autocomplete="off"; }
                " " label { "Password " input name="password" type="password" required autocomplete="new-password"; }
                " " button type="submit" { "Add" }
            }
        }
        p.muted { "Users: " @for u in &users { (u.name) " (added " (stamp(u.created)) ") " } }

        form #apply method="post" action="/console/config/apply" {
            (csrf(&ctx))
            button type="submit" name="op" value="apply" disabled[!pending] { "Apply" } " "
            button type="submit" name="op" value="discard" disabled[!pending] { "Discard changes" }
        }
    };
    Ok(layout::page(&ctx, "Configuration", q.msg.as_deref(), body).into_response())
}

/// `POST /console/config/folders`: add, remove, Auto on or off.
pub async fn folders(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let path = PathBuf::from(f.text("path"));
    let op = f.text("op").to_string();
    if op == "add" {
        if !path.is_absolute() {
            return Err(PageError::bad(format!(
                "`{}` is not an absolute path",
                path.display()
            )));
        }
        if !path.is_dir() {
            return Err(PageError::bad(format!(
                "`{}` is not a folder on the provider",
                path.display()
            )));
        }
    }
    let auto = f.get("auto").is_some();
    let store_path = app.repo.store_path();
    let p = path.clone();
    let o = op.clone();
    let result = tokio::task::spawn_blocking(move || -> Result<bool, String> {
        let s = transit_update::Store::open(&store_path).map_err(|e| e.to_string())?;
        match o.as_str() {
            "add" => s.set_folder(&p, auto).map(|_| true),
            "auto" | "manual" => {
                if !s
                    .folders()
                    .map_err(|e| e.to_string())?
                    .iter()
                    .any(|f| f.path == p)
                {
                    return Ok(false);
                }
                s.set_folder(&p, o == "auto").map(|_| true)
            }
            "remove" => s.remove_folder(&p),
            other => return Err(format!("`{other}` is not a folder action")),
        }
        .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| PageError::internal(e.to_string()))?
    .map_err(PageError::bad)?;
    if !result {
        return Err(PageError::not_found(format!(
            "`{}` is not an update folder",
            path.display()
        )));
    }
    tracing::info!(user = ctx.session.user, folder = %path.display(), op, "console: update folder changed");
    Ok(layout::done(
        "/console/config",
        &format!("Folder {}: {op}.", path.display()),
    ))
}

fn toggle(
    pending: &mut Vec<Pending>,
    existing: &[String],
    op: &str,
    name: String,
    hash: Option<String>,
) -> Result<(), PageError> {
    let listed = existing.iter().any(|n| n.eq_ignore_ascii_case(&name));
    let marked = pending
        .iter()
        .position(|p| p.name().eq_ignore_ascii_case(&name));
    match op {
        "add" => {
            if listed || marked.is_some() {
                return Err(PageError::refused(format!("`{name}` is listed already")));
            }
            pending.push(Pending::Add { name, hash });
        }
        "remove" => {
            if !listed {
                return Err(PageError::not_found(format!("`{name}` is not listed")));
            }
            if marked.is_none() {
                pending.push(Pending::Remove(name));
            }
        }
        "undo" => {
            if let Some(i) = marked {
                pending.remove(i);
            }
        }
        other => return Err(PageError::bad(format!("`{other}` is not an action"))),
    }
    Ok(())
}

/// `POST /console/config/peers`: marks a server + (add) or − (remove).
pub async fn peers(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let op = f.text("op").to_string();
    let name = if op == "add" {
        ProviderEntry::from_form(&f, 0)
            .map_err(PageError::bad)?
            .ok_or_else(|| PageError::bad("give the server's host name or address"))?
            .to_text()
    } else {
        f.text("name").to_string()
    };
    let existing = app.store.peers().await?;
    app.console
        .update(&ctx.token, |s| {
            toggle(&mut s.peers, &existing, &op, name.clone(), None)
        })
        .ok_or_else(|| PageError::refused("the session ended"))??;
    Ok(layout::done(
        "/console/config",
        &format!("{name}: marked; Apply to make it so."),
    ))
}

/// `POST /console/config/users`: marks a user + (add, with a password) or − (remove).
pub async fn users(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let op = f.text("op").to_string();
    let name = f.text("name").to_string();
    let hash = if op == "add" {
        let password =
            f.0.iter()
                .find(|(k, _)| k == "password")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
        check_new_user(&name, &password).map_err(PageError::bad)?;
        Some(
            tokio::task::spawn_blocking(move || hash_password(&password))
                .await
                .map_err(|e| PageError::internal(e.to_string()))?
                .map_err(PageError::internal)?,
        )
    } else {
        None
    };
    let existing: Vec<String> = app
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| u.name)
        .collect();
    app.console
        .update(&ctx.token, |s| {
            toggle(&mut s.users, &existing, &op, name.clone(), hash)
        })
        .ok_or_else(|| PageError::refused("the session ended"))??;
    Ok(layout::done(
        "/console/config",
        &format!("{name}: marked; Apply to make it so."),
    ))
}

/// `POST /console/config/apply`: commits the marked changes (all or
/// none), or discards them.
pub async fn apply(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let (peers, users) = app
        .console
        .update(&ctx.token, |s| (s.peers.clone(), s.users.clone()))
        .ok_or_else(|| PageError::refused("the session ended"))?;
    if f.text("op") == "discard" {
        app.console.update(&ctx.token, |s| {
            s.peers.clear();
            s.users.clear();
        });
        return Ok(layout::done("/console/config", "Changes discarded."));
    }
    let mut c = AccessChanges::default();
    for p in &peers {
        match p {
            Pending::Add { name, .. } => c.add_peers.push(name.clone()),
            Pending::Remove(name) => c.remove_peers.push(name.clone()),
        }
    }
    for p in &users {
        match p {
            Pending::Add { name, hash } => c
                .add_users
                .push((name.clone(), hash.clone().unwrap_or_default())),
            Pending::Remove(name) => c.remove_users.push(name.clone()),
        }
    }
    app.store.apply_access(&c).await?;
    app.reload_groups().await?;
    app.console.update(&ctx.token, |s| {
        s.peers.clear();
        s.users.clear();
    });
    for u in &c.remove_users {
        app.console.end_user(u);
    }
    tracing::info!(
        user = ctx.session.user,
        peers_added = c.add_peers.len(),
        peers_removed = c.remove_peers.len(),
        users_added = c.add_users.len(),
        users_removed = c.remove_users.len(),
        "console: configuration applied"
    );
    Ok(layout::done(
        "/console/config",
        &format!(
            "Applied: {} servers added, {} removed; {} users added, {} removed.",
            c.add_peers.len(),
            c.remove_peers.len(),
            c.add_users.len(),
            c.remove_users.len()
        ),
    ))
}

/// `POST /console/config/database`: Manage Database's Copy, Use and
/// Merge ([`crate::switchover`]).
pub async fn database(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let action: crate::switchover::Action = f.text("action").parse().map_err(PageError::bad)?;
    let location = f.text("location").trim().to_string();
    if location.is_empty() {
        return Err(PageError::bad(
            "give the shared database's location (postgres://user@host/db)",
        ));
    }
    let url = secrecy::SecretString::from(location);
    let done = crate::switchover::switch(&app, action, &url)
        .await
        .map_err(|e| PageError {
            status: match transit_core::Kind::kind(&e) {
                transit_core::ErrorKind::Refused => StatusCode::CONFLICT,
                transit_core::ErrorKind::Usage => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_GATEWAY,
            },
            message: format!(
                "Manage Database: {e}. Nothing was switched: the provider keeps using {}.",
                app.store.describe()
            ),
        })?;
    tracing::info!(user = ctx.session.user, action = ?done.action, now = %done.now, "console: database switched");
    let m = &done.moved;
    Ok(layout::done(
        "/console/config",
        &format!(
            "{:?} done: the provider uses {} now. Machines {} added, {} replaced by newer, {} kept, {} duplicates removed; {} groups and {} activity entries added.",
            done.action,
            done.now,
            m.machines.added,
            m.machines.replaced,
            m.machines.kept,
            m.machines.duplicates_removed,
            m.groups_added,
            m.activity_added
        ),
    ))
}
