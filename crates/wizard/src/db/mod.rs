//! `transit db wizard`: the DB assistant's steps in a terminal, on the same
//! engine as the command line (issue 15): Connect (source and target URLs),
//! Check, Groups, Filters, Preview (the run's steps, generated with
//! `--execute later`) and Execute (`resume`).
//!
//! As the Migrator's wizard: [`DbWizard`] is the state machine
//! ([`DbWizard::handle`] → [`DbEffect`], [`DbWizard::perform`]), which tests
//! drive directly; [`ui`] draws it; [`run`] owns the terminal. While the
//! run executes, [`run`] keeps drawing: the engine's progress events are
//! folded into [`Live`] (rows per table, the current step, the log), and
//! Esc stops the run between batches (`transit db resume` goes on).

pub mod ui;

/// The key events [`DbWizard::handle`] takes (crossterm's, through ratatui).
pub use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::path::PathBuf;
use transit_core::{CancelToken, Event, NoProgress};
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
    /// The run executing: live progress.
    Running,
    /// The run's outcome.
    Done,
}

/// One table's progress while the run executes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableLive {
    /// The table.
    pub table: String,
    /// Rows done (written, skipped or rejected).
    pub done: u64,
    /// Rows the filter selects on the source, when counted.
    pub total: Option<u64>,
    /// The table is finished.
    pub ended: bool,
    /// What it is doing besides copying (building indexes, validating).
    pub status: String,
}

/// The run's progress, folded from the engine's events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    /// The tables, in the order they began.
    pub tables: Vec<TableLive>,
    /// The current step (a rule, validation, the check).
    pub step: String,
    /// Notes and steps, oldest first (the last [`LIVE_LOG`]).
    pub log: Vec<String>,
}

/// How many log lines [`Live`] keeps.
pub const LIVE_LOG: usize = 50;

impl Live {
    fn table(&mut self, task: &str) -> &mut TableLive {
        if let Some(i) = self.tables.iter().position(|t| t.table == task) {
            return &mut self.tables[i];
        }
        self.tables.push(TableLive {
            table: task.to_string(),
            ..TableLive::default()
        });
        self.tables.last_mut().expect("pushed")
    }

    fn log(&mut self, line: String) {
        if self.log.len() == LIVE_LOG {
            self.log.remove(0);
        }
        self.log.push(line);
    }

    /// Folds in one event.
    pub fn event(&mut self, event: Event) {
        match event {
            Event::Step { name } => {
                self.step = name.clone();
                self.log(name);
            }
            Event::Note { text } => self.log(text),
            Event::Begin { task, total, .. } => {
                let t = self.table(&task);
                t.total = total;
                t.ended = false;
            }
            Event::Advance { task, done, .. } => self.table(&task).done = done,
            Event::Status { task, text } => self.table(&task).status = text,
            Event::End { task } => {
                let t = self.table(&task);
                t.ended = true;
                t.status.clear();
            }
        }
    }
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
    /// The executing (or last executed) run's progress.
    pub live: Live,
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
            live: Live::default(),
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
            DbPage::Running => DbEffect::None,
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

    /// What the Execute step runs (`resume` of the generated run); the
    /// page turns to Running.
    pub fn execution(&mut self) -> Result<(DbTarget, DbTarget, MigrateOptions), String> {
        let (source, target) = self.targets()?;
        let mut options = self.options()?;
        options.resume = self.run.clone();
        // The copy engine's test hook, as `transit db` takes it: a pause
        // after each committed batch.
        options.batch_delay = std::env::var("TRANSIT_COPY_BATCH_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map(std::time::Duration::from_millis);
        self.live = Live::default();
        self.page = DbPage::Running;
        Ok((source, target, options))
    }

    /// Takes the executed run's outcome.
    pub fn executed(
        &mut self,
        result: Result<transit_dbassist::migrate::MigrateReport, transit_dbassist::DbError>,
    ) {
        match result {
            Ok(report) => {
                let rows: u64 = report.copy.tables.iter().map(|t| t.rows).sum();
                self.message = format!(
                    "run {}: {} ({rows} rows; {} table(s) validated)",
                    report.run,
                    report.status,
                    report.validations.len()
                );
                self.page = if report.status == Status::Completed {
                    DbPage::Done
                } else {
                    DbPage::Preview
                };
            }
            Err(transit_dbassist::DbError::Cancelled) => {
                self.message = format!(
                    "stopped between batches; Enter goes on (or `transit db resume {}`)",
                    self.run.as_deref().unwrap_or("RUN")
                );
                self.page = DbPage::Preview;
            }
            Err(e) => {
                self.message = e.to_string();
                self.page = DbPage::Preview;
            }
        }
    }

    fn execute(&mut self, cancel: &CancelToken) -> Result<(), String> {
        let (source, target, options) = self.execution()?;
        let live = std::sync::Mutex::new(std::mem::take(&mut self.live));
        let sink = |e: Event| {
            if let Ok(mut l) = live.lock() {
                l.event(e);
            }
        };
        let result = transit_dbassist::migrate::migrate(&source, &target, &options, &sink, cancel);
        self.live = live.into_inner().unwrap_or_default();
        self.executed(result);
        Ok(())
    }
}

/// Runs the wizard in the terminal until the user leaves.
pub fn run(runs_dir: PathBuf) -> std::io::Result<()> {
    let mut wizard = DbWizard::new(runs_dir);
    let cancel = CancelToken::new();
    // SIGTERM or SIGHUP while a run executes stops it between batches
    // before the wizard exits.
    let terminated = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        signal_hook::flag::register(signal, terminated.clone())?;
    }
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
                DbEffect::Execute => {
                    execute_live(&mut terminal, &mut wizard, &terminated)?;
                    if terminated.load(std::sync::atomic::Ordering::Relaxed) {
                        return Ok(());
                    }
                }
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

/// Executes the run on a second thread and draws its progress until it
/// ends; Esc (or Ctrl-C) stops it between batches. A signal (SIGTERM,
/// SIGHUP) or a lost terminal stops it too, and the run is waited for
/// before this returns (with an error when the terminal is gone).
fn execute_live(
    terminal: &mut ratatui::DefaultTerminal,
    wizard: &mut DbWizard,
    terminated: &std::sync::atomic::AtomicBool,
) -> std::io::Result<()> {
    use ratatui::crossterm::event::{self as term, Event as TermEvent, KeyEventKind};
    let (source, target, options) = match wizard.execution() {
        Ok(x) => x,
        Err(e) => {
            wizard.message = e;
            return Ok(());
        }
    };
    let watch = crate::terminal::TerminalWatch::open();
    let cancel = CancelToken::new();
    let (tx, rx) = std::sync::mpsc::channel::<Event>();
    let tx = std::sync::Mutex::new(tx);
    let sink = |e: Event| {
        let _ = tx.lock().map(|tx| tx.send(e));
    };
    std::thread::scope(|s| {
        let job = std::thread::Builder::new()
            .name("db-wizard-run".into())
            .spawn_scoped(s, || {
                transit_dbassist::migrate::migrate(&source, &target, &options, &sink, &cancel)
            })?;
        let mut stopping = false;
        let mut lost = false;
        while !job.is_finished() {
            while let Ok(e) = rx.try_recv() {
                wizard.live.event(e);
            }
            if lost {
                std::thread::sleep(std::time::Duration::from_millis(100));
                continue;
            }
            let drawn = terminal.draw(|f| ui::draw(f, wizard, stopping));
            let input = watch.wait(std::time::Duration::from_millis(100));
            if drawn.is_err() || input.is_err() {
                // The terminal is gone: stop the run and wait for it.
                lost = true;
                cancel.cancel();
                continue;
            }
            // The terminal was just seen alive, so this does not block.
            while term::poll(std::time::Duration::ZERO)? {
                if let TermEvent::Key(key) = term::read()? {
                    let stop = key.kind == KeyEventKind::Press
                        && (key.code == KeyCode::Esc
                            || (key.code == KeyCode::Char('c')
                                && key.modifiers.contains(KeyModifiers::CONTROL)));
                    if stop && !stopping {
                        stopping = true;
                        cancel.cancel();
                    }
                }
            }
            if terminated.load(std::sync::atomic::Ordering::Relaxed) && !stopping {
                stopping = true;
                cancel.cancel();
            }
        }
        let result = job.join().unwrap_or_else(|_| {
            Err(transit_dbassist::DbError::Refused(
                "the run panicked".into(),
            ))
        });
        while let Ok(e) = rx.try_recv() {
            wizard.live.event(e);
        }
        wizard.executed(result);
        if lost {
            return Err(std::io::Error::other(
                "the terminal went away: the run was stopped between batches",
            ));
        }
        Ok(())
    })
}
