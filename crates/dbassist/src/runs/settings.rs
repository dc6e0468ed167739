//! A run's settings, `migrate.toml` in its run folder: everything
//! `transit db migrate` was given except the passwords, so `exec-step`,
//! `resume` and `--from-run` can rebuild the run.

use crate::copy::OnError;
use crate::error::{DbError, Result};
use crate::migrate::{MigrateOptions, TrackerUpdate};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// When the steps of a run execute (the vendor's "Execute now", "Execute
/// later" and "Execute manually").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Execute {
    /// Generate the steps and run them now.
    #[default]
    Now,
    /// Generate the steps; `transit db resume RUN` runs them.
    Later,
    /// Generate the steps and `run-scripts.sh` for a DBA.
    Manual,
}

/// The settings of a run (TOML; never a password).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// The run's name.
    pub run: String,
    /// The source URL, without its password (SQLite paths absolute).
    pub source: String,
    /// The target URL, without its password.
    pub target: String,
    /// When the steps execute.
    pub execute: Execute,
    /// Table groups as given.
    pub groups: Vec<String>,
    /// First day (YYYY-MM-DD, UTC).
    pub start: String,
    /// Last day (YYYY-MM-DD, UTC).
    pub end: String,
    /// Only this site's rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<i64>,
    /// The source's time zone as given.
    pub source_tz: String,
    /// `all`, `none` or source IDs, comma-separated.
    pub tracker_update: String,
    /// Delete the target's Tracker tables first.
    pub delete_tracker_data: bool,
    /// Destructive steps confirmed.
    pub yes: bool,
    /// Service-level overrides (column, seconds).
    #[serde(default)]
    pub service_levels: Vec<(String, i64)>,
    /// Recording path rewrites (old prefix, new prefix).
    #[serde(default)]
    pub recording_paths: Vec<(String, String)>,
    /// Conference site-ID change (old, new).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conference_site: Option<(i64, i64)>,
    /// Rows per batch read from the source (and committed, unless tuned).
    pub batch_rows: usize,
    /// A row the target refuses.
    pub on_error: OnError,
    /// Tables in parallel.
    pub jobs: usize,
    /// The Dialer server's `dialer_config.xml`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialer_config: Option<PathBuf>,
    /// The workflow picker.
    #[serde(default)]
    pub workflows: Vec<String>,
}

/// A day as `YYYY-MM-DD`.
pub fn day(d: time::Date) -> String {
    d.format(time::macros::format_description!("[year]-[month]-[day]"))
        .unwrap_or_default()
}

fn parse_day(what: &str, text: &str) -> Result<time::Date> {
    time::Date::parse(
        text,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| DbError::Usage(format!("migrate.toml: {what} `{text}` is not YYYY-MM-DD")))
}

/// A URL as the settings keep it: the redacted form, with a SQLite path
/// made absolute (the scripts may run from another folder).
pub fn stored_url(target: &crate::DbTarget) -> String {
    match target.sqlite_path() {
        Some(p) => match std::path::absolute(p) {
            Ok(abs) => format!("sqlite://{}", abs.display()),
            Err(_) => target.to_string(),
        },
        None => target.to_string(),
    }
}

impl Settings {
    /// The settings of a migration about to run as `run`.
    pub fn of(
        run: &str,
        source: &crate::DbTarget,
        target: &crate::DbTarget,
        o: &MigrateOptions,
    ) -> Settings {
        Settings {
            run: run.to_string(),
            source: stored_url(source),
            target: stored_url(target),
            execute: o.execute,
            groups: o.groups.clone(),
            start: day(o.start),
            end: day(o.end),
            site_id: o.site,
            source_tz: o.source_tz.clone(),
            tracker_update: match &o.tracker_update {
                TrackerUpdate::All => "all".into(),
                TrackerUpdate::None => "none".into(),
                TrackerUpdate::Ids(ids) => {
                    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
                }
            },
            delete_tracker_data: o.delete_tracker_data,
            yes: o.yes,
            service_levels: o.service_levels.clone(),
            recording_paths: o.recording_paths.clone(),
            conference_site: o.conference_site,
            batch_rows: o.batch_rows,
            on_error: o.on_error,
            jobs: o.jobs,
            dialer_config: o.dialer_config.clone(),
            workflows: o.workflows.clone(),
        }
    }

    /// The options that run these settings again (`today` for the range
    /// rule, `runs_dir` the folder of run folders).
    pub fn options(&self, runs_dir: &Path, today: time::Date) -> Result<MigrateOptions> {
        let tracker_update = match self.tracker_update.as_str() {
            "all" => TrackerUpdate::All,
            "none" | "" => TrackerUpdate::None,
            list => TrackerUpdate::Ids(
                list.split(',')
                    .map(|v| {
                        v.trim().parse().map_err(|_| {
                            DbError::Usage(format!("migrate.toml: tracker_update `{list}`"))
                        })
                    })
                    .collect::<Result<Vec<i64>>>()?,
            ),
        };
        Ok(MigrateOptions {
            groups: self.groups.clone(),
            start: parse_day("start", &self.start)?,
            end: parse_day("end", &self.end)?,
            site: self.site_id,
            source_tz: self.source_tz.clone(),
            tracker_update,
            delete_tracker_data: self.delete_tracker_data,
            yes: self.yes,
            service_levels: self.service_levels.clone(),
            recording_paths: self.recording_paths.clone(),
            conference_site: self.conference_site,
            batch_rows: self.batch_rows,
            on_error: self.on_error,
            jobs: self.jobs,
            runs_dir: runs_dir.to_path_buf(),
            resume: None,
            today,
            dialer_config: self.dialer_config.clone(),
            workflows: self.workflows.clone(),
            execute: self.execute,
            step: None,
            from_run: None,
            batch_delay: None,
        })
    }

    /// Writes `migrate.toml` into `run_dir`.
    pub fn save(&self, run_dir: &Path) -> Result<()> {
        let path = run_dir.join("migrate.toml");
        let text = toml::to_string_pretty(self)
            .map_err(|e| DbError::Refused(format!("cannot write the run's settings: {e}")))?;
        let text = format!(
            "# transit db migrate run {} (no password is ever written here)\n{text}",
            self.run
        );
        write(&path, text.as_bytes())
    }

    /// Reads the settings of `run` from `runs_dir`.
    pub fn load(runs_dir: &Path, run: &str) -> Result<Settings> {
        let path = runs_dir.join(run).join("migrate.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                DbError::Usage(format!(
                    "no migrate run `{run}` in {} (no {}); `transit db runs` lists them",
                    runs_dir.display(),
                    path.display()
                ))
            } else {
                DbError::Io(transit_core::PathIoError::new(&path, e))
            }
        })?;
        toml::from_str(&text)
            .map_err(|e| DbError::Usage(format!("{}: unreadable: {e}", path.display())))
    }
}

/// Writes a file of the run folder.
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| DbError::Io(transit_core::PathIoError::new(dir, e)))?;
    }
    std::fs::write(path, bytes).map_err(|e| DbError::Io(transit_core::PathIoError::new(path, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_through_migrate_toml_without_a_password() {
        let dir = tempfile::tempdir().unwrap();
        let source = crate::DbTarget::parse("sqlite:///tmp/src.db").unwrap();
        let target = crate::DbTarget::parse("postgres://migrator:Secret-9@db.example/cic").unwrap();
        let today = time::macros::date!(2026 - 11 - 29);
        let options = MigrateOptions {
            groups: vec!["reporting".into()],
            start: time::macros::date!(2013 - 01 - 01),
            end: time::macros::date!(2013 - 01 - 07),
            site: Some(2),
            source_tz: "Europe/Paris".into(),
            tracker_update: TrackerUpdate::Ids(vec![3, 4]),
            delete_tracker_data: false,
            yes: true,
            service_levels: vec![("nServiceLevel".into(), 20)],
            recording_paths: vec![("C:\\rec".into(), "D:\\rec".into())],
            conference_site: Some((1, 9)),
            batch_rows: 500,
            on_error: OnError::Reject,
            jobs: 3,
            runs_dir: dir.path().to_path_buf(),
            resume: None,
            today,
            dialer_config: None,
            workflows: vec![],
            execute: Execute::Manual,
            step: None,
            from_run: None,
            batch_delay: None,
        };
        let settings = Settings::of("migrate-x", &source, &target, &options);
        let run_dir = dir.path().join("migrate-x");
        settings.save(&run_dir).unwrap();
        let text = std::fs::read_to_string(run_dir.join("migrate.toml")).unwrap();
        assert!(!text.contains("Secret-9"), "{text}");
        let back = Settings::load(dir.path(), "migrate-x").unwrap();
        let again = back.options(dir.path(), today).unwrap();
        assert_eq!(again.start, options.start);
        assert_eq!(again.site, Some(2));
        assert_eq!(again.tracker_update, TrackerUpdate::Ids(vec![3, 4]));
        assert_eq!(again.recording_paths, options.recording_paths);
        assert_eq!(again.conference_site, Some((1, 9)));
        assert_eq!(again.execute, Execute::Manual);
        assert_eq!(back.target, "postgres://migrator@db.example/cic");
        assert!(matches!(
            Settings::load(dir.path(), "migrate-none"),
            Err(DbError::Usage(_))
        ));
    }
}
