//! `transit update groups|machines|updates|report|activity`: the
//! console's pages as commands over the provider's API.

use super::provider::client;
use crate::cli::update::{
    DatabaseAction, GroupSettingsArgs, GroupsCommand, MachinesCommand, ProviderArg, UpdatesCommand,
};
use crate::output::print_pretty;
use transit_provider::api::{Group, GroupSettings};
use transit_provider::client::{ActivityParams, ProviderClient};
use transit_update::store::Activity;

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn connect(arg: &ProviderArg) -> anyhow::Result<(ProviderClient, tokio::runtime::Runtime)> {
    Ok((client(arg, 1)?, runtime()?))
}

fn apply(mut s: GroupSettings, a: GroupSettingsArgs) -> GroupSettings {
    if let Some(mode) = a.mode {
        s.mode = mode;
    }
    if let Some(day) = a.day {
        s.install_day = day;
    }
    if let Some(hour) = a.hour {
        s.install_hour = hour;
    }
    if let Some(providers) = a.providers {
        s.providers = providers.into_iter().filter(|p| !p.is_empty()).collect();
    }
    if let Some(flag) = a.allow_migration {
        s.allow_migration = flag;
    }
    if let Some(n) = a.max_downloads {
        s.max_downloads = n;
    }
    if let Some(rate) = a.download_rate {
        s.download_rate = rate;
    }
    s
}

fn limits(s: &GroupSettings) -> String {
    match (s.max_downloads, s.download_rate) {
        (0, 0) => String::new(),
        (n, 0) => format!("  downloads ≤{n}"),
        (0, r) => format!("  downloads ≤{r} B/s"),
        (n, r) => format!("  downloads ≤{n}, ≤{r} B/s"),
    }
}

fn print_group(g: &Group) {
    let s = &g.settings;
    outln!(
        "{:<20} {:<9} {:<9} {:02}:00  members {:<6} migration {:<3} providers {}{}{}",
        g.name,
        s.mode,
        s.install_day,
        s.install_hour,
        g.members,
        if s.allow_migration { "yes" } else { "no" },
        if s.providers.is_empty() {
            "-".to_string()
        } else {
            s.providers.join(",")
        },
        limits(s),
        if g.default { "  (default)" } else { "" }
    );
}

/// `transit update groups …`
pub fn groups(cmd: GroupsCommand) -> anyhow::Result<()> {
    match cmd {
        GroupsCommand::List { provider, json } => {
            let (c, rt) = connect(&provider)?;
            let groups = rt.block_on(c.groups())?;
            if json {
                return print_pretty(&groups);
            }
            groups.iter().for_each(print_group);
            Ok(())
        }
        GroupsCommand::Add {
            provider,
            name,
            settings,
            json,
        } => {
            let (c, rt) = connect(&provider)?;
            let g = rt
                .block_on(c.create_group(&name, Some(apply(GroupSettings::default(), settings))))?;
            if json {
                return print_pretty(&g);
            }
            print_group(&g);
            Ok(())
        }
        GroupsCommand::Set {
            provider,
            name,
            settings,
            json,
        } => {
            let (c, rt) = connect(&provider)?;
            let g = rt.block_on(async {
                let current = c
                    .groups()
                    .await?
                    .into_iter()
                    .find(|g| g.name.eq_ignore_ascii_case(&name))
                    .map(|g| g.settings)
                    .unwrap_or_default();
                c.set_group(&name, &apply(current, settings)).await
            })?;
            if json {
                return print_pretty(&g);
            }
            print_group(&g);
            Ok(())
        }
        GroupsCommand::Delete {
            provider,
            name,
            json,
        } => {
            let (c, rt) = connect(&provider)?;
            let moved = rt.block_on(c.delete_group(&name))?;
            if json {
                return print_pretty(&moved);
            }
            outln!(
                "deleted group {name}: {} machines moved to the default group",
                moved.changed
            );
            Ok(())
        }
        GroupsCommand::AddMembers {
            provider,
            name,
            machines,
            json,
        } => {
            let (c, rt) = connect(&provider)?;
            let moved = rt.block_on(c.add_members(&name, &machines))?;
            if json {
                return print_pretty(&moved);
            }
            outln!("{} machines moved to {name}", moved.changed);
            Ok(())
        }
        GroupsCommand::RemoveMember {
            provider,
            name,
            machine,
            json,
        } => {
            let (c, rt) = connect(&provider)?;
            let moved = rt.block_on(c.remove_member(&name, &machine))?;
            if json {
                return print_pretty(&moved);
            }
            outln!("{machine} left {name}: back in the default group");
            Ok(())
        }
    }
}

/// `transit update machines …`
pub fn machines(cmd: MachinesCommand) -> anyhow::Result<()> {
    match cmd {
        MachinesCommand::List {
            provider,
            search,
            group,
            limit,
            json,
        } => {
            let (c, rt) = connect(&provider)?;
            let list = rt.block_on(c.machines(search.as_deref(), group.as_deref(), limit))?;
            if json {
                return print_pretty(&list);
            }
            for m in &list {
                outln!(
                    "{:<24} {:<20} {:<15} {:<16} last contact {}",
                    m.id,
                    m.name,
                    m.ip,
                    m.group,
                    m.last_contact
                );
            }
            Ok(())
        }
        MachinesCommand::Show { provider, id, json } => {
            let (c, rt) = connect(&provider)?;
            let d = rt.block_on(c.machine(&id))?;
            if json {
                return print_pretty(&d);
            }
            let m = &d.machine;
            outln!("{} ({}), {} in group {}", m.name, m.id, m.ip, m.group);
            outln!(
                "status: {:?}, last contact {}",
                d.assessment.status,
                m.last_contact
            );
            for r in &d.assessment.reasons {
                outln!("  - {r}");
            }
            outln!(
                "{:<32} {:<12} {:<12} status",
                "application",
                "installed",
                "available"
            );
            for a in &d.assessment.applications {
                let v = |v: Option<transit_update::InstallVersion>| {
                    v.map_or_else(|| "-".to_string(), |v| v.to_string())
                };
                outln!(
                    "{:<32} {:<12} {:<12} {:?}",
                    a.application,
                    v(a.installed),
                    v(a.available),
                    a.status
                );
            }
            if !d.activity.is_empty() {
                outln!("recent activity:");
                print_activity(&d.activity);
            }
            Ok(())
        }
    }
}

/// `transit update updates …`
pub fn updates(cmd: UpdatesCommand) -> anyhow::Result<()> {
    let print = |u: &transit_provider::api::UpdateJson| {
        outln!(
            "{:>4} {:<12} {:<28} {:<8} p{:<3} {:<8} {}  activated on {}",
            u.id,
            u.state.to_string(),
            u.application,
            u.release,
            u.patch,
            u.install_type,
            u.version,
            u.activated
        )
    };
    match cmd {
        UpdatesCommand::List { provider, json } => {
            let (c, rt) = connect(&provider)?;
            let list = rt.block_on(c.updates())?;
            if json {
                return print_pretty(&list);
            }
            list.iter().for_each(print);
            Ok(())
        }
        UpdatesCommand::SetState {
            provider,
            id,
            state,
            json,
        } => {
            let (c, rt) = connect(&provider)?;
            let u = rt.block_on(c.set_state(id, state))?;
            if json {
                return print_pretty(&u);
            }
            print(&u);
            Ok(())
        }
    }
}

/// `transit update status`: a running provider's figures.
pub fn status(provider: &ProviderArg, json: bool) -> anyhow::Result<()> {
    let (c, rt) = connect(provider)?;
    let s = rt.block_on(c.status())?;
    if json {
        return print_pretty(&s);
    }
    outln!("{} provider at {} ({})", s.kind, c.base(), s.store);
    match &s.remote {
        Some(r) => {
            outln!(
                "upstream {}: {}",
                r.upstream,
                if r.upstream_reachable {
                    "reachable"
                } else {
                    "NOT reachable"
                }
            );
            outln!(
                "cache: {} payloads held, {} payloads and {} metadata files fetched from upstream",
                r.cached_targets,
                r.target_fetches,
                r.metadata_fetches
            );
            outln!(
                "relayed {} requests; {} waiting in the outbox; {} check-ins answered from upstream's last reply",
                r.relayed,
                r.outbox,
                r.answered_from_cache
            );
        }
        None => {
            outln!(
                "{} machines; {} check-ins committed in {} groups; {}/s now; {} connections; {} payload downloads",
                s.machines,
                s.committed,
                s.groups,
                s.checkins_per_s,
                s.connections,
                s.targets_served
            );
        }
    }
    Ok(())
}

/// `transit update database [status|copy|use|merge URL]`.
pub fn database(
    provider: &ProviderArg,
    action: Option<DatabaseAction>,
    json: bool,
) -> anyhow::Result<()> {
    use transit_provider::switchover::Action;
    let (c, rt) = connect(provider)?;
    let (action, url) = match action.unwrap_or(DatabaseAction::Status) {
        DatabaseAction::Status => {
            let info = rt.block_on(c.database())?;
            if json {
                return print_pretty(&info);
            }
            outln!("in use:       {}", info.store);
            outln!("A (own data): {}", info.local);
            match &info.saved {
                Some(s) => outln!(
                    "B (shared):   {} (chosen by {:?} at {})",
                    s.url,
                    s.action,
                    s.since
                ),
                None => outln!("B (shared):   none chosen"),
            }
            return Ok(());
        }
        DatabaseAction::Copy { url } => (Action::Copy, url),
        DatabaseAction::Use { url } => (Action::Use, url),
        DatabaseAction::Merge { url } => (Action::Merge, url),
    };
    let done = rt.block_on(c.switch_database(action, &url))?;
    if json {
        return print_pretty(&done);
    }
    let m = &done.moved;
    outln!(
        "{:?}: the provider now uses {} (before: {})",
        done.action,
        done.now,
        done.before
    );
    if done.action != Action::Use {
        outln!(
            "moved: {} groups added, {} updated; machines {} added, {} replaced by newer, {} kept, {} duplicates removed; {} activity entries, {} users, {} peers",
            m.groups_added,
            m.groups_updated,
            m.machines.added,
            m.machines.replaced,
            m.machines.kept,
            m.machines.duplicates_removed,
            m.activity_added,
            m.users_added,
            m.peers_added
        );
    }
    outln!(
        "saved in the data folder: the provider starts on {} from now on",
        done.saved.url
    );
    Ok(())
}

/// `transit update report`
pub fn report(provider: &ProviderArg, since: Option<&str>, json: bool) -> anyhow::Result<()> {
    let (c, rt) = connect(provider)?;
    let r = rt.block_on(c.report(since))?;
    if json {
        return print_pretty(&r);
    }
    outln!(
        "{} machines: {} UpToDate, {} NeedsAttention, {} ErrorState{}",
        r.machines.len(),
        r.up_to_date,
        r.needs_attention,
        r.error_state,
        r.since
            .as_deref()
            .map(|s| format!(" (last contact since {s})"))
            .unwrap_or_default()
    );
    for m in &r.machines {
        outln!(
            "{:<15} {:<20} {:<16} last contact {}",
            format!("{:?}", m.status),
            m.name,
            m.group,
            m.last_contact
        );
        for reason in &m.reasons {
            outln!("    - {reason}");
        }
    }
    Ok(())
}

/// Prints activity entries, one a line.
pub fn print_activity(entries: &[Activity]) {
    for e in entries {
        outln!(
            "{}  {:<12} {:<16} {} {} {}  {}",
            e.time,
            e.machine,
            e.status.as_str(),
            e.application,
            e.release,
            e.patch,
            e.description
        );
    }
}

/// The options of `transit update activity` over the API.
pub struct ActivityArgs {
    /// Sort column.
    pub sort: String,
    /// Ascending.
    pub asc: bool,
    /// Group column.
    pub group: Option<String>,
    /// Only this machine.
    pub machine: Option<String>,
    /// The page.
    pub page: u64,
    /// Entries per page.
    pub per_page: u64,
    /// CSV export.
    pub csv: bool,
    /// Clear the log.
    pub clear: bool,
}

/// `transit update activity` through the provider.
pub fn activity(provider: &ProviderArg, a: ActivityArgs, json: bool) -> anyhow::Result<()> {
    let (c, rt) = connect(provider)?;
    if a.clear {
        let cleared = rt.block_on(c.clear_activity())?;
        if json {
            return print_pretty(&cleared);
        }
        outln!("cleared {} activity entries", cleared.changed);
        return Ok(());
    }
    let params = ActivityParams {
        sort: Some(a.sort),
        order: Some(if a.asc { "asc" } else { "desc" }.into()),
        group: a.group,
        machine: a.machine,
        page: Some(a.page),
        per_page: Some(a.per_page),
    };
    if a.csv {
        out!("{}", rt.block_on(c.activity_csv(&params))?);
        return Ok(());
    }
    let page = rt.block_on(c.activity(&params))?;
    if json {
        return print_pretty(&page);
    }
    for g in &page.groups {
        if !g.key.is_empty() {
            outln!("== {} ({})", g.key, g.entries.len());
        }
        print_activity(&g.entries);
    }
    let pages = page.total.div_ceil(page.per_page.max(1));
    outln!(
        "page {} of {} ({} entries)",
        page.page,
        pages.max(1),
        page.total
    );
    Ok(())
}
