//! Scheduled exports (M-11): a systemd `.service` that runs
//! `transit export … --keep K`, and a `.timer` that starts it, or the same
//! schedule as a crontab line. Units are rendered and installed through
//! `transit-units`; both carry a `transit-schedule` marker, so `list` and
//! `remove` only ever see and touch the units a schedule wrote.

use crate::export::retention::Keep;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use transit_core::{ErrorKind, Kind};
use transit_units::{
    marker, At, Calendar, Every, ServiceKind, ServiceUnit, TimerUnit, UnitError, UnitFolder,
};

/// The marker tag of a schedule's units.
pub const TAG: &str = "transit-schedule";

/// Why a schedule cannot be written or removed.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// A name that cannot be part of a unit file name.
    #[error("--name {0:?}: use 1 to 64 letters, digits, '-' or '_'")]
    BadName(String),
    /// A value that a unit file line cannot hold.
    #[error("{0:?} contains a line break, which a systemd unit cannot hold")]
    LineBreak(String),
    /// A schedule of that name exists.
    #[error("{} exists: remove the schedule first (transit schedule remove --name {name})", .path.display())]
    Exists {
        /// The existing unit file.
        path: PathBuf,
        /// The schedule name.
        name: String,
    },
    /// The unit folder has no schedule of that name.
    #[error("no schedule named {name} in {}", .folder.display())]
    NotFound {
        /// The schedule name.
        name: String,
        /// The unit folder.
        folder: PathBuf,
    },
    /// A unit folder problem (an existing unit, one Transit did not write).
    #[error(transparent)]
    Units(#[from] UnitError),
}

impl Kind for ScheduleError {
    fn kind(&self) -> ErrorKind {
        match self {
            ScheduleError::Units(e) => e.kind(),
            _ => ErrorKind::Usage,
        }
    }
}

/// A validated schedule: everything the two units need, with absolute paths.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportSchedule {
    /// The schedule's name (the units are `transit-export-<name>.*`).
    pub name: String,
    /// How often.
    pub every: Every,
    /// When.
    pub at: At,
    /// The `transit` binary the service runs.
    pub binary: PathBuf,
    /// The server root to export.
    pub server_root: PathBuf,
    /// The folder that receives the files.
    pub folder: PathBuf,
    /// `all` or a comma-separated component list.
    pub components: String,
    /// The password file, if the files are encrypted.
    pub password_file: Option<PathBuf>,
    /// How many of the server's files to keep, if retention applies.
    pub keep: Option<Keep>,
}

/// Checks a schedule name: it becomes part of a unit file name.
pub fn check_name(name: &str) -> Result<(), ScheduleError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ScheduleError::BadName(name.to_string()))
    }
}

/// The unit name of schedule `name`, without its suffix.
pub fn unit_stem(name: &str) -> String {
    format!("transit-export-{name}")
}

impl ExportSchedule {
    /// When it runs.
    pub fn calendar(&self) -> Calendar {
        Calendar {
            every: self.every,
            at: self.at,
        }
    }

    /// The command line the service runs.
    pub fn command(&self) -> Vec<String> {
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut args = vec![
            path(&self.binary),
            "--server-root".into(),
            path(&self.server_root),
            "export".into(),
            "--folder".into(),
            path(&self.folder),
            "--components".into(),
            self.components.clone(),
        ];
        if let Some(file) = &self.password_file {
            args.extend(["--password-file".into(), path(file)]);
        }
        if let Some(keep) = self.keep {
            args.extend(["--keep".into(), keep.to_string()]);
        }
        args
    }

    /// Refuses a name or value that cannot go into a unit file.
    pub fn check(&self) -> Result<(), ScheduleError> {
        check_name(&self.name)?;
        let mut texts = self.command();
        texts.push(self.server_root.to_string_lossy().into_owned());
        match texts
            .into_iter()
            .find(|t| transit_units::systemd::has_line_break(t))
        {
            Some(bad) => Err(ScheduleError::LineBreak(bad)),
            None => Ok(()),
        }
    }

    fn comments(&self) -> Vec<String> {
        vec![format!(
            "Written by `transit schedule add`; `transit schedule remove --name {}` deletes it.",
            self.name
        )]
    }

    /// The `.service` unit.
    pub fn service_unit(&self) -> String {
        ServiceUnit {
            comments: self.comments(),
            marker: marker::line(TAG, self),
            description: format!(
                "Transit scheduled export {} of {}",
                self.name,
                self.server_root.to_string_lossy()
            ),
            kind: ServiceKind::Oneshot,
            command: self.command(),
            extra: vec!["Nice=10".into(), "IOSchedulingClass=idle".into()],
        }
        .render()
    }

    /// The `.timer` unit.
    pub fn timer_unit(&self) -> String {
        TimerUnit {
            comments: self.comments(),
            marker: marker::line(TAG, self),
            description: format!(
                "Transit scheduled export {} ({} at {})",
                self.name, self.every, self.at
            ),
            calendar: self.calendar(),
            unit: format!("{}.service", unit_stem(&self.name)),
        }
        .render()
    }

    /// The same schedule as one crontab line, for machines without systemd.
    pub fn cron_line(&self) -> String {
        transit_units::cron::line(
            &self.calendar(),
            &self.command(),
            &format!("{TAG} {}", self.name),
        )
    }

    /// Reads the schedule back from a unit's text, if a schedule wrote it.
    pub fn from_unit(text: &str) -> Option<ExportSchedule> {
        marker::read(TAG, text)
    }
}

/// Writes the schedule's `.service` and `.timer` into `folder` (both or
/// neither); returns their paths.
pub fn install(
    folder: &UnitFolder,
    schedule: &ExportSchedule,
) -> Result<Vec<PathBuf>, ScheduleError> {
    schedule.check()?;
    let stem = unit_stem(&schedule.name);
    folder
        .install(&[
            (format!("{stem}.service"), schedule.service_unit()),
            (format!("{stem}.timer"), schedule.timer_unit()),
        ])
        .map_err(|e| match e {
            UnitError::Exists(path) => ScheduleError::Exists {
                path,
                name: schedule.name.clone(),
            },
            other => other.into(),
        })
}

/// The schedules in a unit folder (found by their timers), by name.
pub fn list(folder: &UnitFolder) -> Result<Vec<(ExportSchedule, PathBuf)>, ScheduleError> {
    let mut found: Vec<(ExportSchedule, PathBuf)> =
        folder.find("transit-export-", ".timer", TAG)?;
    found.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    Ok(found)
}

/// What [`remove`] did.
#[derive(Debug, Default)]
pub struct Removed {
    /// `systemctl disable --now`'s outcome, for a folder systemd reads:
    /// a message, or the reason it failed (the files go regardless).
    pub disabled: Option<Result<String, String>>,
    /// The files deleted (units, then the `timers.target.wants` link).
    pub deleted: Vec<PathBuf>,
}

/// Stops, disables and deletes schedule `name`'s units. The timer is
/// disabled while its file still exists (older systemd cannot disable a
/// unit whose file is gone); a unit of that name without the schedule's
/// marker is refused and left alone.
pub fn remove(folder: &UnitFolder, name: &str) -> Result<Removed, ScheduleError> {
    check_name(name)?;
    let stem = unit_stem(name);
    let timer = format!("{stem}.timer");
    let mut removed = Removed::default();
    let ours = |s: &ExportSchedule| s.name == name;
    if folder
        .read::<ExportSchedule>(&timer, TAG)?
        .is_some_and(|s| ours(&s))
    {
        removed.disabled = match folder.disable_now(&timer) {
            Ok(None) => None,
            Ok(Some(message)) => Some(Ok(message)),
            Err(message) => Some(Err(message)),
        };
    }
    for file in [timer.clone(), format!("{stem}.service")] {
        if let Some(path) = folder.remove(&file, TAG, ours)? {
            removed.deleted.push(path);
        }
    }
    if removed.deleted.is_empty() {
        return Err(ScheduleError::NotFound {
            name: name.to_string(),
            folder: folder.dir().to_path_buf(),
        });
    }
    if let Some(link) = folder.remove_wants_link("timers.target", &timer)? {
        removed.deleted.push(link);
    }
    Ok(removed)
}

#[cfg(test)]
mod tests;
