//! `transit update client …`: the client agent (crates/client) as a
//! daemon or a single run, its control commands over the Unix socket,
//! and its systemd unit.

use crate::cli::update::{ClientCommand, ClientConfigArg};
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use std::time::Duration;
use transit_client::agent::{Applied, Choice, Status, Trigger};
use transit_client::control::{self, Reply, Request};
use transit_client::{Agent, ClientConfig};
use transit_core::cancel_on_signals;
use transit_core::CancelToken;
use transit_units::marker;
use transit_units::systemd::{ServiceKind, ServiceUnit};
use transit_units::UnitFolder;

/// `update client check --json`: what the agent would install, and from where.
#[derive(Serialize)]
struct CheckJson<'a, A: Serialize, P: Serialize> {
    available: &'a A,
    provider: &'a P,
}

/// `update client install --json` when installing waits for the schedule.
#[derive(Serialize)]
struct LaterJson<'a, T: Serialize> {
    later: &'a T,
}

/// The unit's name.
pub const UNIT: &str = "transit-update-client.service";
const TAG: &str = "transit-update-client";

fn load(config: &ClientConfigArg, allow_unverified: bool) -> anyhow::Result<ClientConfig> {
    Ok(ClientConfig::load(&config.config, allow_unverified)?)
}

/// One thread runs the agent's loop, its socket and its downloads (file
/// work and installs go to the blocking pool): the idle daemon stays small.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn print_results(results: &[Applied]) {
    if results.is_empty() {
        outln!("nothing applied");
    }
    for r in results {
        let status = serde_json::to_value(r.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        if r.description.is_empty() {
            outln!("{} (update {}): {status}", r.application, r.id);
        } else {
            outln!(
                "{} (update {}): {status}: {}",
                r.application,
                r.id,
                r.description
            );
        }
    }
}

#[derive(Serialize)]
struct OnceReport {
    results: Vec<Applied>,
    status: Status,
}

/// Runs a `transit update client` subcommand.
pub fn run(cmd: ClientCommand) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Run {
            config,
            allow_unverified,
            max_rate,
            once,
            apply,
            json,
        } => {
            let mut config = load(&config, allow_unverified)?;
            if let Some(rate) = max_rate {
                config.max_rate = rate;
            }
            if !config.verify_signatures {
                eprintln!("warning: verify_signatures is off (--allow-unverified): publisher signatures are not checked");
            }
            let rt = runtime()?;
            let mut agent = rt.block_on(async { Agent::open(config) })?;
            if once {
                let results = rt.block_on(async {
                    // A one-shot run is a start too: discovery first, when on.
                    if agent.config.discovery {
                        agent.discover().await;
                    }
                    let mut results = agent.cycle(Trigger::Timer).await?;
                    if apply {
                        results.extend(agent.apply(&Choice::Express).await?);
                    }
                    anyhow::Ok(results)
                })?;
                let status = agent
                    .shared
                    .status
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .clone();
                if json {
                    return crate::output::print_pretty(&OnceReport { results, status });
                }
                print_results(&results);
                return Ok(());
            }
            let stop = CancelToken::new();
            let _signals = cancel_on_signals(&stop)?;
            outln!(
                "update client running; control socket {}",
                agent.config.socket_path().display()
            );
            rt.block_on(control::run(agent, stop))?;
            Ok(())
        }
        ClientCommand::Discover { config, json } => {
            let c = load(&config, true)?;
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let found = rt.block_on(transit_client::discover::probe(
                &c.discovery_key,
                c.discovery_port,
                &c.discovery_addresses,
                c.discovery_wait,
            ))?;
            let report = Discovered {
                key: c.discovery_key.clone(),
                registered: transit_client::discover::registered(&c),
                fallback: found.is_empty(),
                found,
            };
            if json {
                return crate::output::print_pretty(&report);
            }
            if report.found.is_empty() {
                outln!("no provider answered discovery key {}", report.key);
            }
            for url in &report.found {
                outln!("found {url} (key {})", report.key);
            }
            match &report.registered {
                Some(url) if report.fallback => {
                    outln!("falling back to the registered provider {url}")
                }
                Some(url) => outln!("registered in the server root: {url}"),
                None => {}
            }
            Ok(())
        }
        ClientCommand::Status { config, json } => {
            let socket = load(&config, true)?.socket_path();
            match control::request(&socket, &Request::Status, Some(Duration::from_secs(10)))? {
                Reply::Status(s) if json => crate::output::print_pretty(&s),
                Reply::Status(s) => {
                    print_status(&s);
                    Ok(())
                }
                other => unexpected(other),
            }
        }
        ClientCommand::Check { config, json } => {
            let socket = load(&config, true)?.socket_path();
            match control::request(&socket, &Request::Check, None)? {
                Reply::Check {
                    available,
                    provider,
                } => {
                    if json {
                        return crate::output::print_pretty(&CheckJson {
                            available: &available,
                            provider: &provider,
                        });
                    }
                    if available.is_empty() {
                        outln!("up to date");
                    }
                    for o in &available {
                        outln!(
                            "{:>4}  {} {} ({}){}",
                            o.id,
                            o.application,
                            o.version,
                            serde_json::to_value(&o.action)
                                .ok()
                                .and_then(|v| v
                                    .get("action")
                                    .and_then(|a| a.as_str())
                                    .map(str::to_string))
                                .unwrap_or_default(),
                            if o.high_priority {
                                ", high priority"
                            } else {
                                ""
                            }
                        );
                    }
                    if !available.is_empty() {
                        outln!("install now: transit update client apply [--id N …]; at the scheduled time: apply --later");
                    }
                    Ok(())
                }
                other => unexpected(other),
            }
        }
        ClientCommand::Apply {
            config,
            ids,
            later,
            json,
        } => {
            let socket = load(&config, true)?.socket_path();
            let choice = if ids.is_empty() {
                Choice::Express
            } else {
                Choice::Custom(ids)
            };
            match control::request(&socket, &Request::Apply { choice, later }, None)? {
                Reply::Applied { results } => {
                    let failed = results.iter().any(|r| {
                        matches!(
                            r.status,
                            transit_provider::api::ResultStatus::InstallFailed
                                | transit_provider::api::ResultStatus::DownloadFailed
                        )
                    });
                    if json {
                        crate::output::print_pretty(&results)?;
                        if failed {
                            return Err(crate::exit::Quiet(crate::exit::Exit::Failure).into());
                        }
                    } else {
                        print_results(&results);
                    }
                    if failed {
                        return Err(anyhow::anyhow!(
                            "some updates failed (see above and `transit update client log`)"
                        ));
                    }
                    Ok(())
                }
                Reply::Later { at } => {
                    if json {
                        return crate::output::print_pretty(&LaterJson { later: &at });
                    }
                    match at {
                        Some(at) => {
                            outln!("updates will be installed at the next scheduled time, {at}")
                        }
                        None => outln!("updates will be installed at the next scheduled time"),
                    }
                    Ok(())
                }
                other => unexpected(other),
            }
        }
        ClientCommand::Cancel { config } => {
            let socket = load(&config, true)?.socket_path();
            match control::request(&socket, &Request::Cancel, Some(Duration::from_secs(10)))? {
                Reply::Cancelled { running: true } => {
                    outln!("cancelled: the current download stops and no further update starts");
                    Ok(())
                }
                Reply::Cancelled { running: false } => {
                    outln!("nothing to cancel");
                    Ok(())
                }
                other => unexpected(other),
            }
        }
        ClientCommand::Log { config, lines } => {
            let socket = load(&config, true)?.socket_path();
            match control::request(
                &socket,
                &Request::Log { lines },
                Some(Duration::from_secs(10)),
            )? {
                Reply::Log { lines } => {
                    for l in lines {
                        outln!("{l}");
                    }
                    Ok(())
                }
                other => unexpected(other),
            }
        }
        ClientCommand::InstallBundle { config, file } => {
            let config = load(&config, false)?;
            let rt = runtime()?;
            let mut agent = rt.block_on(async { Agent::open(config) })?;
            let done = agent.install_bundle(&file)?;
            if done.already {
                outln!("already installed: {}", file.display());
            } else {
                outln!(
                    "installed {}{}",
                    file.display(),
                    if done.restart_required {
                        " (restart required)"
                    } else {
                        ""
                    }
                );
            }
            Ok(())
        }
        ClientCommand::Set {
            config,
            key,
            value,
            allow_unverified,
        } => {
            let path =
                transit_client::settings::set(&config.config, &key, &value, allow_unverified)?;
            outln!(
                "{key} set in {}; restart the agent to use it",
                path.display()
            );
            Ok(())
        }
        ClientCommand::InstallUnit { config, unit_dir } => install_unit(&config.config, unit_dir),
    }
}

fn unexpected(reply: Reply) -> anyhow::Result<()> {
    match reply {
        Reply::Error { message } => Err(anyhow::anyhow!("the agent refused: {message}")),
        other => Err(anyhow::anyhow!(
            "unexpected reply from the agent: {other:?}"
        )),
    }
}

fn print_status(s: &Status) {
    outln!("machine:   {} ({})", s.name, s.machine_id);
    if let Some(set) = &s.settings {
        outln!(
            "group:     {} (mode {}, install {} at {:02}:00 UTC)",
            set.group,
            set.settings.mode,
            set.settings.install_day,
            set.settings.install_hour
        );
    }
    outln!("providers: {}", s.providers.join(", "));
    if let Some(p) = &s.provider {
        outln!(
            "last answered: {p} at {}",
            s.last_checkin.as_deref().unwrap_or("-")
        );
    }
    if let Some(n) = &s.next_checkin {
        outln!("next check-in: {n}");
    }
    for a in &s.installed {
        outln!(
            "installed: {} {}{}",
            a.application,
            a.version,
            a.previous
                .map(|p| format!(" (previous {p})"))
                .unwrap_or_default()
        );
    }
    for o in &s.available {
        outln!(
            "available: {:>4} {} {}{}",
            o.id,
            o.application,
            o.version,
            if s.downloaded.contains(&o.id) {
                " (downloaded)"
            } else {
                ""
            }
        );
    }
    if s.restart_required {
        outln!("a restart is required");
    }
    if s.later {
        outln!("updates wait for the next scheduled time");
    }
    if let Some(b) = &s.busy {
        outln!("busy: {b}");
    }
    if !s.verify_signatures {
        outln!("WARNING: signature verification is off");
    }
    for e in &s.errors {
        outln!("error: {e}");
    }
}

fn install_unit(config: &Path, unit_dir: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    // The settings must be valid before a unit runs them.
    let checked = ClientConfig::load(config, true)?;
    let config = transit_core::paths::resolve(config)?;
    let exe = std::env::current_exe().context("finding the transit binary")?;
    let command = vec![
        exe.to_string_lossy().into_owned(),
        "update".into(),
        "client".into(),
        "run".into(),
        "--config".into(),
        config.to_string_lossy().into_owned(),
    ];
    if let Some(bad) = command
        .iter()
        .find(|t| transit_units::systemd::has_line_break(t))
    {
        return Err(crate::exit::UsageError(format!("`{bad}` cannot go into a unit file")).into());
    }
    let mut extra = Vec::new();
    if !checked.verify_signatures {
        return Err(crate::exit::UsageError(
            "verify_signatures is off in the settings: a unit is written only for a client that verifies signatures".into(),
        )
        .into());
    }
    extra.push("KillMode=mixed".to_string());
    let unit = ServiceUnit {
        comments: vec!["Written by `transit update client install-unit`.".into()],
        marker: marker::line(TAG, &serde_json::json!({ "config": config })),
        description: format!("Transit update client ({})", config.display()),
        kind: ServiceKind::Daemon,
        command,
        extra,
    }
    .render();
    let folder = UnitFolder::new(unit_dir)?;
    for path in folder.install(&[(UNIT.to_string(), unit)])? {
        outln!("{}", path.display());
    }
    if let Some(hint) = folder.enable_hint(UNIT) {
        outln!("{hint}");
    }
    Ok(())
}

/// What `transit update client discover` found.
#[derive(serde::Serialize)]
struct Discovered {
    /// The discovery key probed.
    key: String,
    /// The providers that answered, in the order they did.
    found: Vec<String>,
    /// The provider registered in the server root.
    registered: Option<String>,
    /// Nothing answered: the registered provider is the fallback.
    fallback: bool,
}
