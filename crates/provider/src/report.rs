//! What a machine is offered, and its status in the report (U-05), as
//! pure functions over the catalog and the machine's last check-in.

use crate::api::{InstalledJson, OfferJson};
use crate::rollout::Rollout;
use crate::state::Catalog;
use crate::store::MachineRow;
use serde::{Deserialize, Serialize};
use transit_update::applicability::{self, Action, InstalledApp, Offer, Plan};
use transit_update::{InstallVersion, ServerLevel};

/// The installed applications as applicability takes them; an error
/// names the application whose release does not parse.
pub fn installed_apps(installed: &[InstalledJson]) -> Result<Vec<InstalledApp>, String> {
    installed
        .iter()
        .map(|a| {
            Ok(InstalledApp {
                application: a.application.clone(),
                release: a
                    .release
                    .parse()
                    .map_err(|e| format!("installed `{}`: {e}", a.application))?,
                patch: a.patch,
                version: a.version,
                previous: a.previous,
            })
        })
        .collect()
}

/// The plan for a machine with `installed`.
pub fn plan_for(
    catalog: &Catalog,
    installed: &[InstalledApp],
    server: ServerLevel,
    client_app: &str,
) -> Plan {
    applicability::plan(&catalog.entries, installed, server, client_app)
}

/// Withholds the updates under a rollout from a machine (`machine_id`
/// in `group`) whose wave has not started (or that is in no wave),
/// together with their related installs.
pub fn gate(plan: &mut Plan, rollouts: &[Rollout], machine_id: &str, group: &str) {
    if rollouts.is_empty() {
        return;
    }
    let withheld: Vec<i64> = rollouts
        .iter()
        .filter(|r| !r.offers_to(r.wave_of(machine_id, group)))
        .map(|r| r.update_id)
        .collect();
    if withheld.is_empty() {
        return;
    }
    let keep = |o: &Offer| {
        !withheld.contains(&o.id) && !o.related_to.is_some_and(|p| withheld.contains(&p))
    };
    plan.offers.retain(keep);
    plan.held.retain(keep);
}

/// The offers as the API sends them (offers whose update left the
/// catalog meanwhile are dropped).
pub fn offers_json(catalog: &Catalog, offers: &[Offer]) -> Vec<OfferJson> {
    offers
        .iter()
        .filter_map(|o| {
            let u = catalog.get(o.id)?;
            Some(OfferJson {
                id: o.id,
                target: u.target.clone(),
                application: o.application.clone(),
                release: u.manifest.release.to_string(),
                patch: u.manifest.patch,
                version: u.manifest.install_version,
                action: o.action.clone(),
                related_to: o.related_to,
                high_priority: o.high_priority,
            })
        })
        .collect()
}

/// A machine's status in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum MachineStatus {
    /// An error: the client reported one, or it has not checked in for too long.
    ErrorState,
    /// Updates to install, or a restart needed.
    NeedsAttention,
    /// Everything installed is at the available version.
    UpToDate,
}

/// One installed application against what is available.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppView {
    /// The application.
    pub application: String,
    /// The installed version (`None` for a related install it lacks).
    pub installed: Option<InstallVersion>,
    /// The version it would have after its offers.
    pub available: Option<InstallVersion>,
    /// UpToDate or NeedsAttention.
    pub status: MachineStatus,
}

/// A machine's assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The status.
    pub status: MachineStatus,
    /// Every reason for it (empty when up to date).
    pub reasons: Vec<String>,
    /// Installed against available, per application.
    pub applications: Vec<AppView>,
}

fn describe(catalog: &Catalog, o: &Offer) -> String {
    let version = catalog
        .get(o.id)
        .map(|u| u.manifest.install_version.to_string())
        .unwrap_or_default();
    match &o.action {
        Action::Install if o.related_to.is_some() => {
            format!("{}: install {version} (related install)", o.application)
        }
        Action::Install => format!("{}: install {version}", o.application),
        Action::RollBack { to } => format!("{}: roll back {version} to {to}", o.application),
        Action::Uninstall => format!("{}: uninstall {version}", o.application),
    }
}

/// Assesses one machine. `stale_before` is the Unix time before which a
/// last contact counts as lost contact; updates under `rollouts` count
/// only once the machine's wave has started.
pub fn assess(
    machine: &MachineRow,
    catalog: &Catalog,
    server: ServerLevel,
    client_app: &str,
    rollouts: &[Rollout],
    stale_before: i64,
) -> Assessment {
    let mut errors: Vec<String> = machine
        .errors
        .iter()
        .map(|e| format!("client error: {e}"))
        .collect();
    if machine.last_contact < stale_before {
        errors.push(format!(
            "no contact since {}",
            transit_core::time::rfc3339(transit_core::time::from_unix(machine.last_contact))
        ));
    }
    let installed = match installed_apps(&machine.installed) {
        Ok(apps) => apps,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let mut plan = plan_for(catalog, &installed, server, client_app);
    gate(&mut plan, rollouts, &machine.id, &machine.group);
    let all: Vec<&Offer> = plan.offers.iter().chain(&plan.held).collect();
    let mut applications = Vec::new();
    for app in &installed {
        let mine: Vec<&&Offer> = all
            .iter()
            .filter(|o| o.application.eq_ignore_ascii_case(&app.application))
            .collect();
        let available = mine
            .iter()
            .rev()
            .find_map(|o| match &o.action {
                Action::Install => catalog.get(o.id).map(|u| Some(u.manifest.install_version)),
                Action::RollBack { to } => Some(Some(*to)),
                Action::Uninstall => Some(None),
            })
            .unwrap_or(Some(app.version));
        applications.push(AppView {
            application: app.application.clone(),
            installed: Some(app.version),
            status: if available == Some(app.version) {
                MachineStatus::UpToDate
            } else {
                MachineStatus::NeedsAttention
            },
            available,
        });
    }
    for o in all.iter().filter(|o| o.related_to.is_some()) {
        applications.push(AppView {
            application: o.application.clone(),
            installed: None,
            available: catalog.get(o.id).map(|u| u.manifest.install_version),
            status: MachineStatus::NeedsAttention,
        });
    }
    let mut attention: Vec<String> = all.iter().map(|o| describe(catalog, o)).collect();
    if machine.restart_required {
        attention.insert(0, "restart required".to_string());
    }
    let (status, reasons) = if !errors.is_empty() {
        errors.extend(attention);
        (MachineStatus::ErrorState, errors)
    } else if !attention.is_empty() {
        (MachineStatus::NeedsAttention, attention)
    } else {
        (MachineStatus::UpToDate, Vec::new())
    };
    Assessment {
        status,
        reasons,
        applications,
    }
}

/// The report's last-contact filter: `2w`, `3m`, `6m` or a date
/// `YYYY-MM-DD`; the Unix time from which machines are listed.
pub fn since(text: &str, now: i64) -> Result<i64, String> {
    const DAY: i64 = 86_400;
    match text {
        "2w" => Ok(now - 14 * DAY),
        "3m" => Ok(now - 91 * DAY),
        "6m" => Ok(now - 182 * DAY),
        date => {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(date, format)
                .map(|d| d.midnight().assume_utc().unix_timestamp())
                .map_err(|_| {
                    format!("`{text}` is not a last-contact filter (2w, 3m, 6m or YYYY-MM-DD)")
                })
        }
    }
}
