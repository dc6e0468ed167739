//! Which updates a machine is offered, as pure functions.
//!
//! [`plan`] takes the provider's catalog, one machine's installed
//! applications, the CIC server's own level and the name of the update
//! client application, and returns the ordered offers. The rules, in the
//! order they apply:
//! 1. only GA updates are installed, and only Remove updates removed;
//!    Pre-Approval and Inactive are never offered;
//! 2. the version gate: no update newer than the server's release and
//!    patch is ever offered (it is reported as gated instead);
//! 3. per application: the newest release's Install, then that release's
//!    latest patch, then the ESs of that patch level: release → patch → ES;
//! 4. an update marked Remove that is installed is removed instead: a
//!    rollback to the machine's previous version, or an uninstall when
//!    there is none (an update deleted from the provider is simply not in
//!    the catalog, and machines keep it);
//! 5. related installs travel with the update that names them;
//! 6. the speedbump: when the update client itself has an offer, it is
//!    installed alone first and everything else waits for the next check-in.

use crate::manifest::{InstallType, Manifest};
use crate::states::UpdateState;
use crate::version::InstallVersion;
use serde::Serialize;
use transit_server::release::ProductRelease;

/// One update in the provider's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// The catalog ID.
    pub id: i64,
    /// The signed manifest.
    pub manifest: Manifest,
    /// The current state.
    pub state: UpdateState,
}

/// One application installed on a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledApp {
    /// The application name.
    pub application: String,
    /// Its release.
    pub release: ProductRelease,
    /// Its patch level.
    pub patch: u16,
    /// Its install version.
    pub version: InstallVersion,
    /// The version it replaced, if the machine still has it.
    pub previous: Option<InstallVersion>,
}

/// The CIC server's own release and patch: the version gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLevel {
    /// The server's release.
    pub release: ProductRelease,
    /// The server's patch.
    pub patch: u16,
}

impl ServerLevel {
    /// True when `manifest` is not newer than the server.
    pub fn allows(&self, manifest: &Manifest) -> bool {
        (manifest.release, manifest.patch) <= (self.release, self.patch)
    }
}

/// What an offer asks the machine to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Install the update.
    Install,
    /// Remove the update by returning to the previous version.
    RollBack {
        /// The version to return to.
        to: InstallVersion,
    },
    /// Remove the update by uninstalling the application.
    Uninstall,
}

/// One offer to a machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Offer {
    /// The catalog ID.
    pub id: i64,
    /// The application.
    pub application: String,
    /// What to do.
    pub action: Action,
    /// Set when this is a related install of another offer.
    pub related_to: Option<i64>,
    /// Installs regardless of the machine's mode and schedule.
    pub high_priority: bool,
}

/// The offers for one machine.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// What to do now, in order.
    pub offers: Vec<Offer>,
    /// Offers held back until the update client's own update is installed.
    pub held: Vec<Offer>,
    /// Updates that would apply but are newer than the server (gated).
    pub gated: Vec<i64>,
}

fn same_app(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn offer(entry: &CatalogEntry, action: Action, related_to: Option<i64>) -> Offer {
    Offer {
        id: entry.id,
        application: entry.manifest.application.clone(),
        action,
        related_to,
        high_priority: entry.manifest.high_priority,
    }
}

/// The offers for one application installed on the machine.
fn plan_app(
    catalog: &[CatalogEntry],
    app: &InstalledApp,
    server: ServerLevel,
    gated: &mut Vec<i64>,
) -> Vec<Offer> {
    let mine: Vec<&CatalogEntry> = catalog
        .iter()
        .filter(|e| same_app(&e.manifest.application, &app.application))
        .collect();

    // Remove first: an installed update marked Remove is taken off.
    if let Some(entry) = mine
        .iter()
        .find(|e| e.state == UpdateState::Remove && e.manifest.install_version == app.version)
    {
        let action = match app.previous {
            Some(to) => Action::RollBack { to },
            None => Action::Uninstall,
        };
        return vec![offer(entry, action, None)];
    }

    let mut ga = Vec::new();
    for entry in mine.into_iter().filter(|e| e.state == UpdateState::Ga) {
        if server.allows(&entry.manifest) {
            ga.push(entry);
        } else if entry.manifest.install_version > app.version {
            gated.push(entry.id);
        }
    }
    let mut offers = Vec::new();
    let (mut release, mut patch, mut version) = (app.release, app.patch, app.version);

    // 1. The newest release's Install.
    if let Some(install) = ga
        .iter()
        .filter(|e| e.manifest.install_type == InstallType::Install && e.manifest.release > release)
        .max_by_key(|e| (e.manifest.release, e.manifest.install_version))
    {
        offers.push(offer(install, Action::Install, None));
        release = install.manifest.release;
        patch = 0;
        version = install.manifest.install_version;
    }
    // 2. That release's latest patch (patches are cumulative).
    if let Some(latest) = ga
        .iter()
        .filter(|e| {
            e.manifest.install_type == InstallType::Patch
                && e.manifest.release == release
                && e.manifest.patch > patch
        })
        .max_by_key(|e| (e.manifest.patch, e.manifest.install_version))
    {
        offers.push(offer(latest, Action::Install, None));
        patch = latest.manifest.patch;
        version = latest.manifest.install_version;
    }
    // 3. The ESs of that patch level not yet installed, oldest first.
    let mut es: Vec<&&CatalogEntry> = ga
        .iter()
        .filter(|e| {
            e.manifest.install_type == InstallType::Es
                && e.manifest.release == release
                && e.manifest.patch == patch
                && e.manifest.install_version > version
        })
        .collect();
    es.sort_by_key(|e| e.manifest.install_version);
    offers.extend(es.into_iter().map(|e| offer(e, Action::Install, None)));
    offers
}

/// The related installs of `offers` that the machine lacks.
fn related(
    catalog: &[CatalogEntry],
    machine: &[InstalledApp],
    server: ServerLevel,
    offers: &[Offer],
) -> Vec<Offer> {
    let mut out: Vec<Offer> = Vec::new();
    for o in offers.iter().filter(|o| o.action == Action::Install) {
        let Some(entry) = catalog.iter().find(|e| e.id == o.id) else {
            continue;
        };
        for name in &entry.manifest.related_installs {
            if machine.iter().any(|m| same_app(&m.application, name))
                || out
                    .iter()
                    .chain(offers)
                    .any(|x| same_app(&x.application, name))
            {
                continue;
            }
            let best = catalog
                .iter()
                .filter(|e| {
                    same_app(&e.manifest.application, name)
                        && e.manifest.install_type == InstallType::Install
                        && matches!(e.state, UpdateState::Ga | UpdateState::PreApproval)
                        && server.allows(&e.manifest)
                })
                .max_by_key(|e| (e.manifest.release, e.manifest.install_version));
            if let Some(best) = best {
                let mut r = offer(best, Action::Install, Some(entry.id));
                r.high_priority |= o.high_priority;
                out.push(r);
            }
        }
    }
    out
}

/// The offers for a machine with `machine` installed; `client_app` is the
/// update client's own application name (the speedbump).
pub fn plan(
    catalog: &[CatalogEntry],
    machine: &[InstalledApp],
    server: ServerLevel,
    client_app: &str,
) -> Plan {
    let mut gated = Vec::new();
    let mut client = Vec::new();
    let mut rest = Vec::new();
    for app in machine {
        let offers = plan_app(catalog, app, server, &mut gated);
        if same_app(&app.application, client_app) {
            client.extend(offers);
        } else {
            rest.extend(offers);
        }
    }
    let related_client = related(catalog, machine, server, &client);
    client.extend(related_client);
    let related_rest = related(catalog, machine, server, &rest);
    rest.extend(related_rest);
    gated.sort_unstable();
    gated.dedup();
    if client.is_empty() {
        Plan {
            offers: rest,
            held: Vec::new(),
            gated,
        }
    } else {
        Plan {
            offers: client,
            held: rest,
            gated,
        }
    }
}

/// "Only the latest patch should be GA": when `new` is a patch, the
/// older patches (and their ESs) of the same application and release that
/// are still GA or Pre-Approval, which an administrator should mark
/// Inactive.
pub fn superseded_by(catalog: &[CatalogEntry], new: &Manifest) -> Vec<i64> {
    if new.install_type != InstallType::Patch {
        return Vec::new();
    }
    let mut ids: Vec<i64> = catalog
        .iter()
        .filter(|e| {
            same_app(&e.manifest.application, &new.application)
                && e.manifest.release == new.release
                && matches!(
                    e.manifest.install_type,
                    InstallType::Patch | InstallType::Es
                )
                && e.manifest.patch < new.patch
                && matches!(e.state, UpdateState::Ga | UpdateState::PreApproval)
        })
        .map(|e| e.id)
        .collect();
    ids.sort_unstable();
    ids
}
