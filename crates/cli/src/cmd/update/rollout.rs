//! `transit update rollout create|status|pause|resume|stop`: staged
//! rollouts over the provider's API.

use super::provider::client;
use crate::cli::update::RolloutCommand;
use crate::exit::UsageError;
use crate::output::print_pretty;
use transit_provider::api::{NewRollout, RolloutStatus};
use transit_provider::rollout::{self, percent, Command, ErrorThreshold};

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn print_status(r: &RolloutStatus) {
    outln!(
        "rollout {}  {}  {}{}",
        r.id,
        r.update,
        r.state.as_str(),
        if r.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", r.reason)
        }
    );
    for (i, w) in r.waves.iter().enumerate() {
        let errors = match w.spec.errors {
            ErrorThreshold::Count(n) => format!("{n} failed"),
            ErrorThreshold::Share(s) => percent(s),
        };
        outln!(
            "  wave {:<3} {:<20} {:>4}  {:<8} machines {:>6}  installed {:>6}  failed {:>5}  success ≥{} errors ≥{}{}",
            i + 1,
            w.spec.group.as_deref().unwrap_or("*"),
            format!("{}%", w.spec.percent),
            if w.started { "started" } else { "waiting" },
            w.tally.size,
            w.tally.installed,
            w.tally.failed,
            percent(w.spec.success),
            errors,
            if w.spec.approve { "  (approval)" } else { "" }
        );
    }
}

fn show(r: &RolloutStatus, json: bool) -> anyhow::Result<()> {
    if json {
        return print_pretty(r);
    }
    print_status(r);
    Ok(())
}

/// `transit update rollout …`
pub fn run(cmd: RolloutCommand) -> anyhow::Result<()> {
    let rt = runtime()?;
    match cmd {
        RolloutCommand::Create {
            provider,
            update,
            waves,
            success,
            errors,
            json,
        } => {
            let waves = waves
                .iter()
                .map(|w| rollout::parse_wave(w, success, errors))
                .collect::<Result<Vec<_>, _>>()
                .map_err(UsageError)?;
            rollout::check_waves(&waves).map_err(UsageError)?;
            let c = client(&provider, 1)?;
            let r = rt.block_on(c.create_rollout(&NewRollout {
                update_id: update,
                waves,
            }))?;
            show(&r, json)
        }
        RolloutCommand::Status { provider, id, json } => {
            let c = client(&provider, 1)?;
            match id {
                Some(id) => show(&rt.block_on(c.rollout(id))?, json),
                None => {
                    let all = rt.block_on(c.rollouts())?;
                    if json {
                        return print_pretty(&all);
                    }
                    if all.is_empty() {
                        outln!("no rollouts");
                    }
                    all.iter().for_each(print_status);
                    Ok(())
                }
            }
        }
        RolloutCommand::Pause { provider, id, json } => {
            let c = client(&provider, 1)?;
            show(&rt.block_on(c.rollout_command(id, Command::Pause))?, json)
        }
        RolloutCommand::Resume { provider, id, json } => {
            let c = client(&provider, 1)?;
            show(&rt.block_on(c.rollout_command(id, Command::Resume))?, json)
        }
        RolloutCommand::Stop { provider, id, json } => {
            let c = client(&provider, 1)?;
            show(&rt.block_on(c.rollout_command(id, Command::Stop))?, json)
        }
    }
}
