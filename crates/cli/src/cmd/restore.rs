//! `transit rollback`, `transit recover` and `transit restore-points`.

use crate::cli::RestorePointsCommand;
use crate::exit::UsageError;
use std::path::Path;
use transit_migrator::restore::{self, RecoveryOutcome};
use transit_server::ServerRoot;

/// Rolls back an interrupted import before another command touches the
/// root. A missing root is left to the command itself to report.
pub fn recover_first(root: &Path) -> anyhow::Result<()> {
    let Ok(server) = ServerRoot::open(root) else {
        return Ok(());
    };
    if let RecoveryOutcome::RolledBack {
        restore_point,
        step,
    } = restore::recover(&server)?
    {
        eprintln!("an interrupted import (stopped at step `{step}`) was rolled back to restore point {restore_point}");
    }
    Ok(())
}

pub fn recover(root: &Path) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    match restore::recover(&server)? {
        RecoveryOutcome::Clean => outln!("nothing to recover: no interrupted import"),
        RecoveryOutcome::ImportRunning => {
            outln!("an import is running on this server; nothing done")
        }
        RecoveryOutcome::RolledBack {
            restore_point,
            step,
        } => {
            outln!("rolled back an interrupted import (stopped at step `{step}`) to restore point {restore_point}")
        }
    }
    Ok(())
}

pub fn rollback(root: &Path, id: Option<&str>) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    let points = restore::list(&server)?;
    let point = match id {
        Some(id) => points.iter().find(|p| p.meta.id == id).ok_or_else(|| {
            UsageError(format!(
                "no restore point `{id}` (see `transit restore-points list`)"
            ))
        })?,
        None => points
            .last()
            .ok_or_else(|| UsageError("this server has no restore points".into()))?,
    };
    restore::rollback(&server, point)?;
    outln!(
        "rolled back to restore point {} ({})",
        point.meta.id,
        point.meta.reason
    );
    Ok(())
}

pub fn points(root: &Path, cmd: RestorePointsCommand) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    match cmd {
        RestorePointsCommand::List { json } => {
            let points = restore::list(&server)?;
            if json {
                let list: Vec<_> = points
                    .iter()
                    .map(|p| crate::output::RestorePointJson {
                        id: &p.meta.id,
                        created_utc: &p.meta.created_utc,
                        reason: &p.meta.reason,
                        overwritten: p.meta.overwritten.len(),
                        created: p.meta.created.len(),
                    })
                    .collect();
                crate::output::print(&list)?;
            } else if points.is_empty() {
                outln!("no restore points");
            } else {
                for p in points {
                    outln!(
                        "{}  {}  {} file(s) saved, {} to remove  {}",
                        p.meta.id,
                        p.meta.created_utc,
                        p.meta.overwritten.len(),
                        p.meta.created.len(),
                        p.meta.reason
                    );
                }
            }
        }
        RestorePointsCommand::Prune { keep } => {
            let deleted = restore::prune(&server, keep)?;
            outln!(
                "deleted {} restore point(s){}",
                deleted.len(),
                if deleted.is_empty() {
                    String::new()
                } else {
                    format!(": {}", deleted.join(", "))
                }
            );
        }
    }
    Ok(())
}
