//! Switchover pairs (U-01, the Configuration page's Manage Database):
//! two providers share one PostgreSQL database.
//!
//! - **Copy**: the primary moves its own store (SQLite) into the shared
//!   database, which must hold no machines yet, and uses it from then on;
//! - **Use**: the backup uses the shared database (its own data stays
//!   where it is, unused);
//! - **Merge**: the backup's own data joins the shared database, which
//!   it then uses: a machine in both keeps the row with the newest
//!   contact, and of machines with the same name only the newest stays.
//!
//! Groups missing from the shared database are created (those there keep
//! their settings; Copy gives them the primary's); activity entries are
//! joined without doubling; console users and peer providers missing are
//! added. Rollouts and download progress are not carried over.
//!
//! The choice is saved in the data folder (`database.toml`, without any
//! password: give it in `PGPASSWORD` or `~/.pgpass`), so the provider
//! starts on the shared database from then on.

use crate::store::{AccessChanges, ActivityQuery, ActivityRow, MachineCounts, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::path::Path;
use transit_core::{ErrorKind, IoContext, Kind};

/// The saved choice's file in the data folder.
pub const SAVED: &str = "database.toml";

/// A Manage Database action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Move this provider's data into the (empty) shared database and use it.
    Copy,
    /// Use the shared database.
    Use,
    /// Join this provider's data into the shared database and use it.
    Merge,
}

impl std::str::FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Action, String> {
        match s.to_ascii_lowercase().as_str() {
            "copy" => Ok(Action::Copy),
            "use" => Ok(Action::Use),
            "merge" => Ok(Action::Merge),
            _ => Err(format!("`{s}` is not a database action (copy, use, merge)")),
        }
    }
}

/// What an action did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    /// Groups created in the shared database.
    pub groups_added: u64,
    /// Groups whose settings were replaced (Copy only).
    pub groups_updated: u64,
    /// Machines.
    pub machines: MachineCounts,
    /// Activity entries added.
    pub activity_added: u64,
    /// Console users added.
    pub users_added: u64,
    /// Peer providers added.
    pub peers_added: u64,
}

/// A switchover that failed (the provider goes on with the store it had).
#[derive(Debug, thiserror::Error)]
pub enum SwitchError {
    /// Copy needs a shared database without machines.
    #[error("the shared database holds {0} machines already: Copy moves a primary's data into an empty one; use Merge to join data into a database in use")]
    NotEmpty(u64),
    /// The shared database is not PostgreSQL.
    #[error("a switchover pair shares a PostgreSQL database (postgres://…), not `{0}`")]
    NotShared(String),
    /// A store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The choice could not be saved.
    #[error(transparent)]
    Io(#[from] transit_core::PathIoError),
}

impl Kind for SwitchError {
    fn kind(&self) -> ErrorKind {
        match self {
            SwitchError::NotEmpty(_) => ErrorKind::Refused,
            SwitchError::NotShared(_) => ErrorKind::Usage,
            SwitchError::Store(e) => e.kind(),
            SwitchError::Io(e) => e.kind(),
        }
    }
}

/// Moves what `action` moves from `from` (this provider's store) into
/// `to` (the shared database). Use moves nothing.
pub async fn transfer(
    from: &dyn Store,
    to: &dyn Store,
    action: Action,
) -> Result<Moved, SwitchError> {
    let mut moved = Moved::default();
    if action == Action::Use {
        return Ok(moved);
    }
    if action == Action::Copy {
        let n = to.count_machines().await?;
        if n > 0 {
            return Err(SwitchError::NotEmpty(n));
        }
    }
    let theirs = to.groups().await?;
    for g in from.groups().await? {
        match theirs.iter().find(|t| t.name.eq_ignore_ascii_case(&g.name)) {
            None => {
                to.create_group(&g.name, &g.settings).await?;
                moved.groups_added += 1;
            }
            Some(t) if action == Action::Copy && t.settings != g.settings => {
                to.set_group_settings(&t.name, &g.settings).await?;
                moved.groups_updated += 1;
            }
            Some(_) => {}
        }
    }
    moved.machines = to.import_machines(&from.export_machines().await?).await?;
    let (entries, _) = from
        .activity(&ActivityQuery {
            descending: false,
            limit: 0,
            ..Default::default()
        })
        .await?;
    let rows: Vec<ActivityRow> = entries
        .into_iter()
        .map(|a| ActivityRow {
            time: a.time,
            machine: a.machine,
            application: a.application,
            release: a.release,
            patch: a.patch,
            status: a.status,
            description: a.description,
        })
        .collect();
    for chunk in rows.chunks(5_000) {
        moved.activity_added += to.import_activity(chunk).await?;
    }
    let their_users = to.users().await?;
    let mut access = AccessChanges::default();
    for u in from.users().await? {
        if their_users
            .iter()
            .any(|t| t.name.eq_ignore_ascii_case(&u.name))
        {
            continue;
        }
        if let Some(hash) = from.password_hash(&u.name).await? {
            access.add_users.push((u.name, hash));
        }
    }
    let their_peers = to.peers().await?;
    for p in from.peers().await? {
        if !their_peers.iter().any(|t| t.eq_ignore_ascii_case(&p)) {
            access.add_peers.push(p);
        }
    }
    moved.users_added = access.add_users.len() as u64;
    moved.peers_added = access.add_peers.len() as u64;
    if moved.users_added + moved.peers_added > 0 {
        to.apply_access(&access).await?;
    }
    Ok(moved)
}

/// The saved choice (`database.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Saved {
    /// The shared database's URL, without a password.
    pub url: String,
    /// The action that chose it.
    pub action: Action,
    /// When (RFC 3339).
    pub since: String,
}

/// `url` without its password (if it has one).
pub fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(None);
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Saves the choice in the data folder (atomically; never a password).
pub fn save(data: &Path, url: &str, action: Action) -> Result<Saved, SwitchError> {
    let saved = Saved {
        url: without_password(url),
        action,
        since: transit_core::time::rfc3339(transit_core::time::now()),
    };
    let text = toml::to_string(&saved).unwrap_or_default();
    let path = data.join(SAVED);
    let tmp = data.join(format!("{SAVED}.tmp"));
    std::fs::write(&tmp, format!("# Written by Manage Database ({action:?}); the provider starts on this database.\n{text}")).at(&tmp)?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .at(&tmp)?;
    std::fs::rename(&tmp, &path).at(&path)?;
    Ok(saved)
}

/// The saved choice, if any. A file that does not parse is an error, not
/// a silent fall back to SQLite.
pub fn saved(data: &Path) -> Result<Option<Saved>, String> {
    let path = data.join(SAVED);
    match std::fs::read_to_string(&path) {
        Ok(text) => toml::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_choice_never_holds_the_password() {
        let dir = tempfile::tempdir().unwrap();
        save(
            dir.path(),
            "postgres://app:s3cret@db.example:5432/updates",
            Action::Merge,
        )
        .unwrap();
        let text = std::fs::read_to_string(dir.path().join(SAVED)).unwrap();
        assert!(!text.contains("s3cret"), "{text}");
        let s = saved(dir.path()).unwrap().unwrap();
        assert_eq!(s.url, "postgres://app@db.example:5432/updates");
        assert_eq!(s.action, Action::Merge);
        std::fs::write(dir.path().join(SAVED), "url = 3").unwrap();
        assert!(saved(dir.path()).is_err());
    }
}

/// What a switchover on a running provider did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Switched {
    /// The action.
    pub action: Action,
    /// The store used before.
    pub before: String,
    /// The store used now.
    pub now: String,
    /// What moved (first pass and the catch-up pass together).
    pub moved: Moved,
    /// The saved choice.
    pub saved: Saved,
}

/// Runs `action` on a running provider: connects the shared database
/// (creating its tables), moves what the action moves, saves the choice,
/// and switches the provider to it. Check-ins committed to the old store
/// while the first pass ran are caught up by a second pass once no call
/// is using the old store any more, so nothing committed stays behind.
pub async fn switch(
    app: &crate::state::App,
    action: Action,
    url: &secrecy::SecretString,
) -> Result<Switched, SwitchError> {
    use secrecy::ExposeSecret;
    use std::sync::Arc;
    let text = url.expose_secret();
    if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
        return Err(SwitchError::NotShared(without_password(text)));
    }
    let shared: Arc<dyn Store> = Arc::new(crate::store::postgres::PgStore::connect(text).await?);
    let old = app.slot.current();
    let before = old.describe();
    let mut moved = transfer(&*old, &*shared, action).await?;
    let saved = save(&app.config.data, text, action)?;
    let replaced = app.slot.replace(Arc::clone(&shared));
    drop(replaced);
    if action != Action::Use {
        // Calls that took the old store before the switch finish on it:
        // wait for them, then join what they committed.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while Arc::strong_count(&old) > 1 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let more = transfer(&*old, &*shared, Action::Merge).await?;
        moved.groups_added += more.groups_added;
        moved.machines.added += more.machines.added;
        moved.machines.replaced += more.machines.replaced;
        moved.machines.duplicates_removed += more.machines.duplicates_removed;
        moved.activity_added += more.activity_added;
        moved.users_added += more.users_added;
        moved.peers_added += more.peers_added;
    }
    app.reload_groups().await?;
    tracing::info!(?action, from = %before, to = %shared.describe(), "switched the provider's database");
    Ok(Switched {
        action,
        before,
        now: shared.describe(),
        moved,
        saved,
    })
}
