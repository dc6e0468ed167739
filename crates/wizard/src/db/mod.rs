//! `transit db wizard`: the DB assistant's steps in a terminal, on the same
//! engine as the command line (issue 15): Connect (source and target URLs),
//! Check, Groups, Filters, Preview (the run's steps, generated with
//! `--execute later`) and Execute (`resume`).
//!
//! As the Migrator's wizard: [`DbWizard`] is the state machine
//! ([`DbWizard::handle`] → [`DbEffect`], [`DbWizard::perform`]), which tests
//! drive directly; [`ui`] draws it; [`run`] owns the terminal.

pub mod ui;

/// The key events [`DbWizard::handle`] takes (crossterm's, through ratatui).
pub use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use transit_core::{CancelToken, NoProgress};
use transit_dbassist::copy::Local;
use transit_dbassist::migrate::{groups, MigrateOptions, TrackerUpdate};
use transit_dbassist::runs::{script, Execute, Status};
use transit_dbassist::{DbTarget, Version};

/// The pages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbPage {
    /// Source and target URLs.
    Connect,
    /// `check` of both sides.
    Check,
    /// Table groups.
    Groups,
    /// Date range, site ID, source time zone.
    Filters,
    /// The generated steps.
    Preview,
    /// The run's outcome.
    Done,
}

/// What the caller does after a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbEffect {
    /// Nothing: draw again.
    None,
    /// Check both databases.
    Check,
    /// Generate the run's steps (`--execute later`).
    Generate,
    /// Execute the run (`resume`).
    Execute,
    /// Leave.
    Quit,
}

/// A text field.
#[derive(Debug, Clone)]
pub struct Field {
    /// Its label.
    pub label: &'static str,
    /// Its text.
    pub text: String,
}

/// The wizard's state.
#[derive(Debug)]
pub struct DbWizard {
    /// The page shown.
    pub page: DbPage,
    /// Connect: source, target.
    pub connect: Vec<Field>,
    /// Filters: start, end, site ID, source time zone.
    pub filters: Vec<Field>,
    /// The focused field of the page.
    pub focus: usize,
    /// Every group (ID, title) and whether it is selected.
    pub groups: Vec<(String, String, bool)>,
    /// The group under the cursor.
    pub cursor: usize,
    /// The folder of run folders.
    pub runs_dir: PathBuf,
    /// The check's lines.
    pub report: Vec<String>,
    /// Both checks passed.
    pub checked: bool,
    /// The generated run.
    pub run: Option<String>,
    /// The generated steps: header line and expected rows.
    pub steps: Vec<String>,
    /// The last message (an error, or the outcome).
    pub message: String,
}

impl DbWizard {
    /// A wizard writing its runs under `runs_dir`.
    pub fn new(runs_dir: PathBuf) -> DbWizard {
        let f = |label, text: &str| Field {
            label,
            text: text.to_string(),
        };
        DbWizard {
            page: DbPage::Connect,
            connect: vec![f("Source (3.0) URL", ""), f("Target (2015 R1) URL", "")],
            filters: vec![
                f("Start date (YYYY-MM-DD)", ""),
                f("End date (YYYY-MM-DD)", ""),
                f("Site ID (empty: all)", ""),
                f("Source time zone", "(GMT-05:00) Eastern Time (US & Canada)"),
            ],
            focus: 0,
            groups: groups::all()
                .iter()
                .filter(|g| g.id != "dialer")
                .map(|g| (g.id.clone(), g.title.clone(), false))
                .collect(),
            cursor: 0,
            runs_dir,
            report: Vec::new(),
            checked: false,
            run: None,
            steps: Vec::new(),
            message: String::new(),
        }
    }

    fn fields(&mut self) -> Option<&mut Vec<Field>> {
        match self.page {
            DbPage::Connect => Some(&mut self.connect),
            DbPage::Filters => Some(&mut self.filters),
            _ => None,
        }
    }

    /// Handles a key; Esc or Ctrl-C leaves, Enter goes on, Tab moves
    /// between fields, Space selects a group.
    pub fn handle(&mut self, key: KeyEvent) -> DbEffect {
        if key.code == KeyCode::Esc
            || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
        {
            return DbEffect::Quit;
        }
        let focus = self.focus;
        if let Some(fields) = self.fields() {
            let n = fields.len();
            match key.code {
                KeyCode::Tab | KeyCode::Down => self.focus = (focus + 1) % n,
                KeyCode::BackTab | KeyCode::Up => self.focus = (focus + n - 1) % n,
                KeyCode::Backspace => {
                    fields[focus].text.pop();
                }
                KeyCode::Char(c) => fields[focus].text.push(c),
                KeyCode::Enter => return self.next(),
                _ => {}
            }
            return DbEffect::None;
        }
        match (self.page, key.code) {
            (DbPage::Groups, KeyCode::Up) => self.cursor = self.cursor.saturating_sub(1),
            (DbPage::Groups, KeyCode::Down) => {
                self.cursor = (self.cursor + 1).min(self.groups.len() - 1)
            }
            (DbPage::Groups, KeyCode::Char(' ')) => {
                let g = &mut self.groups[self.cursor];
                g.2 = !g.2;
            }
            (_, KeyCode::Enter) => return self.next(),
            _ => {}
        }
        DbEffect::None
    }

    fn next(&mut self) -> DbEffect {
        self.message.clear();
        match self.page {
            DbPage::Connect => DbEffect::Check,
            DbPage::Check if self.checked => {
                self.page = DbPage::Groups;
                DbEffect::None
            }
            DbPage::Check => DbEffect::Check,
            DbPage::Groups if self.groups.iter().any(|g| g.2) => {
                self.page = DbPage::Filters;
                self.focus = 0;
                DbEffect::None
            }
            DbPage::Groups => {
                self.message = "select at least one group (Space)".into();
                DbEffect::None
            }
            DbPage::Filters => DbEffect::Generate,
            DbPage::Preview => DbEffect::Execute,
            DbPage::Done => DbEffect::Quit,
        }
    }

    fn targets(&self) -> Result<(DbTarget, DbTarget), String> {
        let parse = |f: &Field| DbTarget::parse(f.text.trim()).map_err(|e| e.to_string());
        Ok((parse(&self.connect[0])?, parse(&self.connect[1])?))
    }

    fn options(&self) -> Result<MigrateOptions, String> {
        let day = |f: &Field| {
            time::Date::parse(
                f.text.trim(),
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .map_err(|_| format!("{}: expected YYYY-MM-DD", f.label))
        };
        let site = match self.filters[2].text.trim() {
            "" => None,
            s => Some(
                s.parse()
                    .map_err(|_| "the site ID is a number".to_string())?,
            ),
        };
        Ok(MigrateOptions {
            groups: self
                .groups
                .iter()
                .filter(|g| g.2)
                .map(|g| g.0.clone())
                .collect(),
            start: day(&self.filters[0])?,
            end: day(&self.filters[1])?,
            site,
            source_tz: self.filters[3].text.trim().to_string(),
            tracker_update: TrackerUpdate::None,
            delete_tracker_data: false,
            yes: false,
            service_levels: Vec::new(),
            recording_paths: Vec::new(),
            conference_site: None,
            batch_rows: 20_000,
            on_error: transit_dbassist::copy::OnError::Stop,
            jobs: 2,
            runs_dir: self.runs_dir.clone(),
            resume: None,
            today: transit_core::time::now().date(),
            dialer_config: None,
            workflows: Vec::new(),
            execute: Execute::Later,
            step: None,
            from_run: None,
            batch_delay: None,
        })
    }

    /// Performs `effect` (blocking; the caller draws a "working" frame
    /// first).
    pub fn perform(&mut self, effect: DbEffect, cancel: &CancelToken) {
        let result = match effect {
            DbEffect::Check => self.check(),
            DbEffect::Generate => self.generate(cancel),
            DbEffect::Execute => self.execute(cancel),
            DbEffect::None | DbEffect::Quit => Ok(()),
        };
        if let Err(e) = result {
            self.message = e;
        }
    }

    fn check(&mut self) -> Result<(), String> {
        let (source, target) = self.targets()?;
        let local = Local::new().map_err(|e| e.to_string())?;
        self.report.clear();
        self.checked = true;
        for (t, v) in [(&source, Version::V30), (&target, Version::R2015)] {
            let r = local.run(transit_dbassist::check::check(t, Some(v)));
            self.report.push(format!("{} ({})", r.target, r.engine));
            for item in &r.checks {
                let mark = if item.passed { "PASS" } else { "FAIL" };
                self.report
                    .push(format!("  {mark}  {:<17} {}", item.name, item.detail));
            }
            if let Some(e) = r.failure {
                self.checked = false;
                self.report.push(format!("  {e}"));
            }
        }
        self.page = DbPage::Check;
        Ok(())
    }

    fn generate(&mut self, cancel: &CancelToken) -> Result<(), String> {
        let (source, target) = self.targets()?;
        let options = self.options()?;
        let report =
            transit_dbassist::migrate::migrate(&source, &target, &options, &NoProgress, cancel)
                .map_err(|e| e.to_string())?;
        let steps = script::read(&report.run_dir).map_err(|e| e.to_string())?;
        self.steps = steps
            .iter()
            .map(|s| {
                let rows = if s.plan.kind == script::StepKind::Table {
                    format!("{} rows", s.plan.expected_rows)
                } else {
                    s.plan.rules.join(", ")
                };
                format!("{:>2}. {:<28} {rows}", s.plan.step, s.plan.name)
            })
            .collect();
        self.run = Some(report.run);
        self.page = DbPage::Preview;
        Ok(())
    }

    fn execute(&mut self, cancel: &CancelToken) -> Result<(), String> {
        let (source, target) = self.targets()?;
        let mut options = self.options()?;
        options.resume = self.run.clone();
        let report =
            transit_dbassist::migrate::migrate(&source, &target, &options, &NoProgress, cancel)
                .map_err(|e| e.to_string())?;
        let rows: u64 = report.copy.tables.iter().map(|t| t.rows).sum();
        self.message = format!(
            "run {}: {} ({rows} rows; {} table(s) validated)",
            report.run,
            report.status,
            report.validations.len()
        );
        if report.status == Status::Completed {
            self.page = DbPage::Done;
        }
        Ok(())
    }
}

/// Runs the wizard in the terminal until the user leaves.
pub fn run(runs_dir: PathBuf) -> std::io::Result<()> {
    let mut wizard = DbWizard::new(runs_dir);
    let cancel = CancelToken::new();
    let mut terminal = ratatui::init();
    let result = (|| -> std::io::Result<()> {
        loop {
            terminal.draw(|f| ui::draw(f, &wizard, false))?;
            let ratatui::crossterm::event::Event::Key(key) = ratatui::crossterm::event::read()?
            else {
                continue;
            };
            if key.kind != ratatui::crossterm::event::KeyEventKind::Press {
                continue;
            }
            match wizard.handle(key) {
                DbEffect::Quit => return Ok(()),
                DbEffect::None => {}
                effect => {
                    terminal.draw(|f| ui::draw(f, &wizard, true))?;
                    wizard.perform(effect, &cancel);
                }
            }
        }
    })();
    ratatui::restore();
    result
}
