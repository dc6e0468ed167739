//! The Groups page: create, edit and delete groups (members of a deleted
//! group fall back to the default group); the members dialog searching on
//! "IP contains" and "name contains"; mode, install day and hour, the
//! assigned providers (reverse-proxy providers with port, secure and
//! path), and the migration flag.

use super::guard::{Ctx, Fields};
use super::layout::{self, csrf, enc, stamp, PageError, PageResult};
use crate::api::{GroupSettings, InstallDay, Mode};
use crate::config::DEFAULT_PORT;
use crate::state::App;
use crate::store::{MachineQuery, DEFAULT_GROUP};
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::Extension;
use maud::{html, Markup};
use serde::Deserialize;
use std::sync::Arc;

const MODES: [Mode; 4] = [Mode::Automatic, Mode::Download, Mode::Notify, Mode::Manual];
/// Members and search results shown at most.
const SHOWN: u64 = 200;

/// One assigned provider as the form edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderEntry {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// HTTPS (a secure reverse proxy).
    pub secure: bool,
    /// The path under which a reverse proxy forwards to the provider.
    pub path: String,
}

impl ProviderEntry {
    /// Reads a stored provider: `host`, `host:port` or a URL.
    pub fn parse(text: &str) -> ProviderEntry {
        if let Some(u) = url::Url::parse(text)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
        {
            let secure = u.scheme() == "https";
            return ProviderEntry {
                host: u.host_str().unwrap_or_default().to_string(),
                port: u.port_or_known_default().unwrap_or(DEFAULT_PORT),
                secure,
                path: u.path().trim_matches('/').to_string(),
            };
        }
        match text.rsplit_once(':') {
            Some((h, p)) if p.parse::<u16>().is_ok() => ProviderEntry {
                host: h.to_string(),
                port: p.parse().unwrap_or(DEFAULT_PORT),
                secure: false,
                path: String::new(),
            },
            _ => ProviderEntry {
                host: text.to_string(),
                port: DEFAULT_PORT,
                secure: false,
                path: String::new(),
            },
        }
    }

    /// The stored form: `host` or `host:port` for a plain provider, a URL
    /// for a secure or reverse-proxy one (which the client takes as is).
    pub fn to_text(&self) -> String {
        if !self.secure && self.path.is_empty() {
            if self.port == DEFAULT_PORT {
                self.host.clone()
            } else {
                format!("{}:{}", self.host, self.port)
            }
        } else {
            let scheme = if self.secure { "https" } else { "http" };
            let path = if self.path.is_empty() {
                String::new()
            } else {
                format!("/{}", self.path)
            };
            format!("{scheme}://{}:{}{path}", self.host, self.port)
        }
    }

    /// Reads row `i` of the form; `None` for an empty row.
    pub fn from_form(f: &Fields, i: usize) -> Result<Option<ProviderEntry>, String> {
        let host = f.text(&format!("host_{i}"));
        if host.is_empty() {
            return Ok(None);
        }
        if host
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '@'))
        {
            return Err(format!("`{host}` is not a host name or address"));
        }
        let port_text = f.text(&format!("port_{i}"));
        let port = if port_text.is_empty() {
            DEFAULT_PORT
        } else {
            port_text
                .parse::<u16>()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{port_text}` is not a port (1-65535)"))?
        };
        let path = f.text(&format!("path_{i}")).trim_matches('/').to_string();
        if path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '?' | '#'))
        {
            return Err(format!("`{path}` is not a path"));
        }
        let entry = ProviderEntry {
            host: host.to_string(),
            port,
            secure: f.get(&format!("secure_{i}")).is_some(),
            path,
        };
        url::Url::parse(&format!(
            "http://{}:{}/{}",
            entry.host, entry.port, entry.path
        ))
        .map_err(|e| format!("`{host}`: {e}"))?;
        Ok(Some(entry))
    }
}

/// Moves machines into `group`, refusing Automatic groups for the CIC
/// server's own client (as the API does).
pub async fn move_into(app: &App, ids: &[String], group: &str) -> Result<u64, PageError> {
    let groups = app.store.groups().await?;
    let g = groups
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(group))
        .ok_or_else(|| PageError::not_found(format!("no group named `{group}`")))?;
    if g.settings.mode == Mode::Automatic {
        for id in ids {
            if let Some(m) = app.store.machine(id).await? {
                if m.cic_server {
                    return Err(PageError::refused(format!(
                        "Automatic mode is refused for the CIC server's own client (machine `{}`)",
                        m.name
                    )));
                }
            }
        }
    }
    let moved = app.store.move_machines(ids, &g.name).await?;
    app.reload_groups().await?;
    Ok(moved)
}

fn group_path(name: &str) -> String {
    format!("/console/groups/{}", enc(name))
}

/// A message query.
#[derive(Debug, Deserialize)]
pub struct Msg {
    /// A message from the last action.
    pub msg: Option<String>,
}

/// `GET /console/groups`.
pub async fn list(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Query(q): Query<Msg>,
) -> PageResult {
    let groups = app.store.groups().await?;
    let body = html! {
        table #groups {
            tr { th { "Group" } th { "Members" } th { "Mode" } th { "Install day" } th { "Hour" } th { "Assigned providers" } th { "Allow migration" } th {} }
            @for g in &groups {
                tr {
                    td.name { a href=(group_path(&g.name)) { (g.name) } @if g.is_default() { " (default)" } }
                    td.members { (g.members) }
                    td { (g.settings.mode) } td { (g.settings.install_day) } td { (g.settings.install_hour) ":00" }
                    td { (g.settings.providers.join(", ")) }
                    td { (if g.settings.allow_migration { "yes" } else { "no" }) }
                    td { a href=(group_path(&g.name)) { "Edit" } }
                }
            }
        }
        form #create method="post" action="/console/groups" {
            (csrf(&ctx))
            fieldset {
                legend { "New group" }
                label { "Name " input name="name" required maxlength="64"; }
                " " button type="submit" { "Create" }
            }
        }
    };
    Ok(layout::page(&ctx, "Groups", q.msg.as_deref(), body).into_response())
}

/// `POST /console/groups`: a new group with the default settings.
pub async fn create(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let name = f.text("name");
    if name.is_empty() || name.chars().count() > 64 {
        return Err(PageError::bad("a group name is 1-64 characters"));
    }
    let g = app
        .store
        .create_group(name, &GroupSettings::default())
        .await?;
    app.reload_groups().await?;
    tracing::info!(
        user = ctx.session.user,
        group = g.name,
        "console: group created"
    );
    Ok(layout::done(
        &group_path(&g.name),
        &format!("Created group {}.", g.name),
    ))
}

/// The edit page's query: the members dialog's search.
#[derive(Debug, Deserialize)]
pub struct EditParams {
    /// "Name contains".
    pub name_contains: Option<String>,
    /// "IP contains".
    pub ip_contains: Option<String>,
    /// A message from the last action.
    pub msg: Option<String>,
}

fn settings_form(ctx: &Ctx, name: &str, s: &GroupSettings) -> Markup {
    let mut rows: Vec<ProviderEntry> = s
        .providers
        .iter()
        .map(|p| ProviderEntry::parse(p))
        .collect();
    rows.push(ProviderEntry {
        host: String::new(),
        port: DEFAULT_PORT,
        secure: false,
        path: String::new(),
    });
    html! {
        form #settings method="post" action=(group_path(name)) {
            (csrf(ctx))
            fieldset {
                legend { "Settings" }
                p {
                    label { "Mode " select name="mode" {
                        @for m in MODES { option value=(m.to_string()) selected[m == s.mode] { (m) } }
                    } }
                    " " label { "Install day " select name="day" {
                        @for d in InstallDay::ALL { option value=(d.to_string()) selected[d == s.install_day] { (d) } }
                    } }
                    " " label { "Hour " input name="hour" type="number" min="0" max="23" value=(s.install_hour) style="width:4em"; }
                }
                p { label { input name="allow_migration" type="checkbox" checked[s.allow_migration]; " Allow Interactive Update Migration" } }
                p {
                    label { "Downloads at once " input name="max_downloads" type="number" min="0" value=(s.max_downloads) style="width:6em"; }
                    " " label { "Download rate (bytes/s, all together) " input name="download_rate" type="number" min="0" value=(s.download_rate) style="width:10em"; }
                    span.muted { " 0: no limit" }
                }
                table #providers {
                    tr { th { "#" } th { "Assigned provider (host)" } th { "Port" } th { "Secure (HTTPS)" } th { "Reverse-proxy path" } }
                    @for (i, p) in rows.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { input name=(format!("host_{i}")) value=(p.host) placeholder="host name or address"; }
                            td { input name=(format!("port_{i}")) type="number" min="1" max="65535" value=(p.port) style="width:6em"; }
                            td { input name=(format!("secure_{i}")) type="checkbox" checked[p.secure]; }
                            td { input name=(format!("path_{i}")) value=(p.path) placeholder="e.g. update"; }
                        }
                    }
                }
                p.muted { "Providers are tried in this order; clear a host to remove it. Save, then add another in the new empty row." }
                button type="submit" { "Save" }
            }
        }
    }
}

/// `GET /console/groups/{name}`: settings, members, the members dialog.
pub async fn edit(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Query(q): Query<EditParams>,
) -> PageResult {
    let groups = app.store.groups().await?;
    let g = groups
        .iter()
        .find(|g| g.name.eq_ignore_ascii_case(&name))
        .ok_or_else(|| PageError::not_found(format!("no group named `{name}`")))?;
    let members = app
        .store
        .machines(&MachineQuery {
            group: Some(g.name.clone()),
            limit: SHOWN,
            ..MachineQuery::default()
        })
        .await?;
    let name_contains = q.name_contains.clone().unwrap_or_default();
    let ip_contains = q.ip_contains.clone().unwrap_or_default();
    let searching = !(name_contains.trim().is_empty() && ip_contains.trim().is_empty());
    let found = if searching {
        app.store
            .machines(&MachineQuery {
                name_contains: Some(name_contains.trim().to_string()).filter(|s| !s.is_empty()),
                ip_contains: Some(ip_contains.trim().to_string()).filter(|s| !s.is_empty()),
                limit: SHOWN,
                ..MachineQuery::default()
            })
            .await?
            .into_iter()
            .filter(|m| m.group != g.name)
            .collect()
    } else {
        Vec::new()
    };
    let path = group_path(&g.name);
    let body = html! {
        h2 { (g.name) @if g.is_default() { " (default group)" } }
        (settings_form(&ctx, &g.name, &g.settings))
        form #members method="post" action=(format!("{path}/members/remove")) {
            (csrf(&ctx))
            fieldset {
                legend { "Members (" (g.members) ")" }
                @if members.is_empty() { p.muted { "No members." } }
                @else {
                    table {
                        tr { th {} th { "Name" } th { "IP address" } th { "Last contact" } }
                        @for m in &members {
                            tr {
                                td { @if !g.is_default() { input type="checkbox" name="id" value=(m.id) aria-label=(format!("select {}", m.name)); } }
                                td.member { (m.name) } td { (m.ip) } td { (stamp(m.last_contact)) }
                            }
                        }
                    }
                    @if g.members > SHOWN { p.muted { "The first " (SHOWN) " are shown; the Machines page lists all." } }
                    @if !g.is_default() { button type="submit" { "Remove selected (back to the default group)" } }
                }
            }
        }
        details #members-dialog open[searching] {
            summary { "Add members…" }
            form method="get" action=(path) {
                label { "Name contains " input name="name_contains" value=(name_contains); }
                " " label { "IP contains " input name="ip_contains" value=(ip_contains); }
                " " button type="submit" { "Search" }
            }
            @if searching {
                form #add method="post" action=(format!("{path}/members/add")) {
                    (csrf(&ctx))
                    @if found.is_empty() { p.muted { "No machine outside this group matches." } }
                    @else {
                        table {
                            tr { th {} th { "Name" } th { "IP address" } th { "Group now" } }
                            @for m in &found {
                                tr {
                                    td { input type="checkbox" name="id" value=(m.id) aria-label=(format!("add {}", m.name)); }
                                    td { (m.name) } td { (m.ip) } td { (m.group) }
                                }
                            }
                        }
                        button type="submit" { "Add selected" }
                    }
                }
            }
        }
        @if !g.is_default() {
            form #delete method="post" action=(format!("{path}/delete")) onsubmit="return confirm('Delete this group? Its members go to the default group.')" {
                (csrf(&ctx))
                p { button type="submit" { "Delete group" } }
            }
        }
        p { a href="/console/groups" { "← Groups" } }
    };
    Ok(layout::page(&ctx, "Groups", q.msg.as_deref(), body).into_response())
}

/// Reads the settings form.
pub fn settings_from(f: &Fields) -> Result<GroupSettings, String> {
    let mode: Mode = f.text("mode").parse()?;
    let install_day: InstallDay = f.text("day").parse()?;
    let install_hour = f
        .text("hour")
        .parse::<u8>()
        .ok()
        .filter(|h| *h <= 23)
        .ok_or_else(|| format!("`{}` is not an hour (0-23)", f.text("hour")))?;
    let mut providers = Vec::new();
    for i in 0..64 {
        if let Some(p) = ProviderEntry::from_form(f, i)? {
            providers.push(p.to_text());
        }
    }
    let number = |name: &str, what: &str| -> Result<u64, String> {
        match f.text(name) {
            "" => Ok(0),
            t => t
                .parse::<u64>()
                .map_err(|_| format!("`{t}` is not a number of {what} (0: no limit)")),
        }
    };
    Ok(GroupSettings {
        mode,
        install_day,
        install_hour,
        providers,
        allow_migration: f.get("allow_migration").is_some(),
        max_downloads: u32::try_from(number("max_downloads", "downloads")?)
            .map_err(|_| "too many downloads at once".to_string())?,
        download_rate: number("download_rate", "bytes per second")?,
    })
}

/// `POST /console/groups/{name}`: saves the settings.
pub async fn save(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let settings = settings_from(&f).map_err(PageError::bad)?;
    if settings.mode == Mode::Automatic {
        let members = app
            .store
            .machines(&MachineQuery {
                group: Some(name.clone()),
                ..MachineQuery::default()
            })
            .await?;
        if let Some(m) = members.iter().find(|m| m.cic_server) {
            return Err(PageError::refused(format!(
                "Automatic mode is refused for the CIC server's own client (machine `{}`)",
                m.name
            )));
        }
    }
    let g = app.store.set_group_settings(&name, &settings).await?;
    app.reload_groups().await?;
    tracing::info!(
        user = ctx.session.user,
        group = g.name,
        "console: group settings saved"
    );
    Ok(layout::done(&group_path(&g.name), "Settings saved."))
}

/// `POST /console/groups/{name}/delete`.
pub async fn delete(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
) -> PageResult {
    let moved = app.store.delete_group(&name).await?;
    app.reload_groups().await?;
    tracing::info!(
        user = ctx.session.user,
        group = name,
        moved,
        "console: group deleted"
    );
    Ok(layout::done(
        "/console/groups",
        &format!("Deleted group {name}; {moved} members moved to {DEFAULT_GROUP}."),
    ))
}

/// `POST /console/groups/{name}/members/add`.
pub async fn add_members(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let ids = f.all("id");
    if ids.is_empty() {
        return Err(PageError::bad("select at least one machine"));
    }
    let moved = move_into(&app, &ids, &name).await?;
    tracing::info!(
        user = ctx.session.user,
        group = name,
        moved,
        "console: members added"
    );
    Ok(layout::done(
        &group_path(&name),
        &format!("Added {moved} members."),
    ))
}

/// `POST /console/groups/{name}/members/remove`: back to the default group.
pub async fn remove_members(
    State(app): State<Arc<App>>,
    Extension(ctx): Extension<Ctx>,
    Path(name): Path<String>,
    Extension(f): Extension<Fields>,
) -> PageResult {
    let ids = f.all("id");
    if ids.is_empty() {
        return Err(PageError::bad("select at least one member"));
    }
    for id in &ids {
        let m = app
            .store
            .machine(id)
            .await?
            .ok_or_else(|| PageError::not_found(format!("no machine with ID `{id}`")))?;
        if !m.group.eq_ignore_ascii_case(&name) {
            return Err(PageError::bad(format!(
                "machine `{}` is not in group `{name}` (it is in `{}`)",
                m.name, m.group
            )));
        }
    }
    let moved = move_into(&app, &ids, DEFAULT_GROUP).await?;
    tracing::info!(
        user = ctx.session.user,
        group = name,
        moved,
        "console: members removed"
    );
    Ok(layout::done(
        &group_path(&name),
        &format!("Removed {moved} members (now in {DEFAULT_GROUP})."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn providers_round_trip_through_the_form_shape() {
        for text in [
            "p1.example.com",
            "p2.example.com:9000",
            "https://proxy.example.com:443/update",
            "http://proxy.example.com:8080/iu",
            "https://p3.example.com:8092",
        ] {
            assert_eq!(ProviderEntry::parse(text).to_text(), text, "{text}");
        }
        let p = ProviderEntry::parse("https://proxy.example.com/update");
        assert_eq!((p.port, p.secure, p.path.as_str()), (443, true, "update"));
    }

    #[test]
    fn the_settings_form_is_checked() {
        let f = |pairs: &[(&str, &str)]| {
            Fields(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        let ok = settings_from(&f(&[
            ("mode", "Notify"),
            ("day", "Sunday"),
            ("hour", "3"),
            ("host_0", "p1"),
            ("port_0", "8092"),
            ("host_1", "proxy"),
            ("port_1", "443"),
            ("secure_1", "on"),
            ("path_1", "/update/"),
            ("allow_migration", "on"),
        ]))
        .unwrap();
        assert_eq!(ok.providers, ["p1", "https://proxy:443/update"]);
        assert_eq!((ok.max_downloads, ok.download_rate), (0, 0));
        assert!(settings_from(&f(&[
            ("mode", "Notify"),
            ("day", "Sunday"),
            ("hour", "1"),
            ("max_downloads", "-1")
        ]))
        .is_err());
        assert!(ok.allow_migration);
        assert!(
            settings_from(&f(&[("mode", "Notify"), ("day", "Sunday"), ("hour", "24")])).is_err()
        );
        assert!(settings_from(&f(&[("mode", "Often"), ("day", "Sunday"), ("hour", "1")])).is_err());
        assert!(settings_from(&f(&[
            ("mode", "Notify"),
            ("day", "Sunday"),
            ("hour", "1"),
            ("host_0", "a b")
        ]))
        .is_err());
        assert!(settings_from(&f(&[
            ("mode", "Notify"),
            ("day", "Sunday"),
            ("hour", "1"),
            ("host_0", "p"),
            ("port_0", "0")
        ]))
        .is_err());
    }
}
