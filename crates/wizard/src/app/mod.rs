//! The wizard's state machine: pages, key handling and the running job.
//!
//! [`Wizard::handle`] takes one key and returns an [`Effect`];
//! [`Wizard::poll`] folds in the job's progress. Nothing here touches the
//! terminal, so the whole wizard can be driven from tests.
//!
//! This module holds the types and read access; `keys` has key handling
//! and page moves, `settings` the Configuration checks and the plans,
//! `run` the job on the Status page.

mod keys;
mod run;
mod settings;

use crate::form::{Field, FieldId, Form};
use crate::job::{self, Failure, Imported, Job, Message, Request};
use crate::progress::Progress;
use crate::tree::{ComponentTree, Row};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use std::path::{Path, PathBuf};
use std::time::Duration;
use transit_archive::{Manifest, MigrationReader};
use transit_catalog::{Catalog, CatalogError};
use transit_migrator::import::{preflight, ImportMode, ImportPlan};
use transit_migrator::{ExportOutcome, ExportPlan, MigratorError};
use transit_server::layout::files::CUSTOM_HANDLERS;
use transit_server::lock::ServiceStatus;
use transit_server::{Role, ServerRoot};

/// What the user is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Export configuration data to a migration file.
    Export,
    /// Import a migration file into this server.
    Import,
}

/// The wizard's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Version and build, and what the wizard does.
    Welcome,
    /// Export or import.
    Task,
    /// The component tree.
    Components,
    /// Folders, file, password and import settings.
    Configuration,
    /// A summary of what will happen.
    Confirmation,
    /// Live progress, with Stop.
    Status,
    /// The result.
    Finish,
}

/// The export pages, in order.
pub const EXPORT_PAGES: [Page; 7] = [
    Page::Welcome,
    Page::Task,
    Page::Components,
    Page::Configuration,
    Page::Confirmation,
    Page::Status,
    Page::Finish,
];

/// The import pages, in order: the file is chosen (Configuration) before
/// its components are.
pub const IMPORT_PAGES: [Page; 7] = [
    Page::Welcome,
    Page::Task,
    Page::Configuration,
    Page::Components,
    Page::Confirmation,
    Page::Status,
    Page::Finish,
];

impl Page {
    /// The page's title, as the vendor's wizard names it.
    pub fn title(self, task: Task) -> &'static str {
        match (self, task) {
            (Page::Welcome, _) => "Welcome",
            (Page::Task, _) => "Task Selection",
            (Page::Components, _) => "Data Component Selection",
            (Page::Configuration, _) => "Configuration",
            (Page::Confirmation, Task::Export) => "Export Confirmation",
            (Page::Confirmation, Task::Import) => "Import Confirmation",
            (Page::Status, Task::Export) => "Export Status",
            (Page::Status, Task::Import) => "Import Status",
            (Page::Finish, _) => "Finish",
        }
    }
}

/// What the caller should do after a key or a poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Keep going (redraw).
    None,
    /// Leave the wizard.
    Quit,
}

/// The kind of a page notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// Information.
    Info,
    /// Something the user must fix.
    Error,
}

/// A one-off message shown on the current page until the next key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Information or error.
    pub kind: NoticeKind,
    /// The message.
    pub text: String,
}

/// Where the Status page's job stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunState {
    /// The engine runs (or is stopping).
    Running,
    /// The engine refused or failed, with its message.
    Failed(String),
}

/// The Status page's state.
#[derive(Debug)]
pub struct Status {
    /// Progress folded from the engine's events.
    pub progress: Progress,
    /// Running or failed.
    pub state: RunState,
    /// Stop was pressed; waiting for the engine to return.
    pub stopping: bool,
    /// Leave the wizard once the engine has returned.
    pub quit_when_done: bool,
    job: Option<Job>,
}

/// What the Finish page shows.
#[derive(Debug, Clone)]
pub enum Finished {
    /// The export's result.
    Export(ExportOutcome),
    /// The import's report and where it went.
    Import(Box<Imported>),
}

/// The migration file chosen for an import, as opened on the Configuration page.
#[derive(Debug, Clone)]
pub struct OpenedFile {
    /// The file.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Whether it is encrypted.
    pub encrypted: bool,
    /// Its size in bytes.
    pub size: u64,
}

/// The message shown when an export was stopped.
pub const EXPORT_STOPPED: &str =
    "Export stopped: nothing was written. Change the selections and start again.";
/// The message shown when an import was stopped.
pub const IMPORT_STOPPED: &str =
    "Import stopped: the import was rolled back; nothing on the server was changed.";

/// The whole wizard.
#[derive(Debug)]
pub struct Wizard {
    server: ServerRoot,
    catalog: &'static Catalog,
    page: Page,
    task: Task,
    export_form: Form,
    import_form: Form,
    export_tree: ComponentTree,
    import_tree: Option<ComponentTree>,
    opened: Option<OpenedFile>,
    status: Option<Status>,
    finished: Option<Finished>,
    notice: Option<Notice>,
    scroll: u16,
    service: Option<ServiceStatus>,
}

/// The text of an error with the causes its message does not already show.
pub fn error_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A typed path: `~/` expands to `$HOME`.
fn typed_path(text: &str) -> PathBuf {
    match (text.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(text),
    }
}

impl Wizard {
    /// A wizard for `server`, on the Welcome page, with Export chosen and
    /// every component selected.
    pub fn new(server: ServerRoot) -> Result<Wizard, CatalogError> {
        let catalog = Catalog::for_role(&server.identity().server.role.to_string())?;
        let handlers = server.files_dir().join(CUSTOM_HANDLERS);
        let export_form = Form::new(vec![
            Field::text(
                FieldId::Folder,
                "Where would you like to save the exported configuration data?",
                "",
                "A folder outside the server root; it is created if missing.",
            ),
            Field::text(
                FieldId::Handlers,
                "Where are your handler customizations? (all subfolders are included)",
                &handlers.display().to_string(),
                "Default: the server's files/Handlers/Custom.",
            ),
            Field::secret(
                FieldId::Password,
                "Set password for export file (optional)",
                "Shown as *. Without a password the file is NOT encrypted, and it holds sensitive data.",
            ),
            Field::secret(
                FieldId::PasswordConfirm,
                "Confirm password",
                "Type the same password again (empty when there is none).",
            ),
        ]);
        let media = server.identity().server.role == Role::Media;
        let import_form = Form::new(vec![
            Field::text(
                FieldId::File,
                "Select the configuration data to import (.ininmigr file)",
                "",
                "The migration file exported from the source server.",
            ),
            Field::text(
                FieldId::ExtractTo,
                "Select folder to which to extract imported files",
                "",
                "Handlers are extracted here to be published by hand; outside the server root.",
            ),
            Field::secret(
                FieldId::Password,
                "Password of the migration file (empty if it has none)",
                "Shown as *.",
            ),
            Field::check(
                FieldId::RestorePoint,
                "Create registry and file restore point",
                true,
                "Lets `transit rollback` undo the import. We recommend keeping it.",
            ),
            if media {
                Field::choice(
                    FieldId::Mode,
                    "Import mode",
                    vec!["Migration"],
                    "A Media Server supports Migration mode only (no Recovery).",
                )
            } else {
                Field::choice(
                    FieldId::Mode,
                    "Import mode",
                    vec!["Migration", "Recovery"],
                    "Migration: from another server, import rules apply. Recovery: back into the same server, exactly as exported.",
                )
            },
        ]);
        Ok(Wizard {
            export_tree: ComponentTree::new(catalog),
            server,
            catalog,
            page: Page::Welcome,
            task: Task::Export,
            export_form,
            import_form,
            import_tree: None,
            opened: None,
            status: None,
            finished: None,
            notice: None,
            scroll: 0,
            service: None,
        }
        .refreshed())
    }

    // ---- Read access, for drawing and tests. ----

    /// The server root.
    pub fn server(&self) -> &ServerRoot {
        &self.server
    }

    /// The current page.
    pub fn page(&self) -> Page {
        self.page
    }

    /// The chosen task.
    pub fn task(&self) -> Task {
        self.task
    }

    /// The pages of the chosen task, in order.
    pub fn pages(&self) -> [Page; 7] {
        match self.task {
            Task::Export => EXPORT_PAGES,
            Task::Import => IMPORT_PAGES,
        }
    }

    /// The current page's title.
    pub fn title(&self) -> &'static str {
        self.page.title(self.task)
    }

    /// 1-based position of the current page.
    pub fn step(&self) -> usize {
        self.pages()
            .iter()
            .position(|p| *p == self.page)
            .expect("every page is in the order")
            + 1
    }

    /// "Transit 0.1.0 · Migrator 2015 R1 build 100".
    pub fn version_line(&self) -> String {
        let m = &self.server.identity().migrator;
        format!(
            "Transit {} · Migrator {} build {}",
            env!("CARGO_PKG_VERSION"),
            m.release,
            m.build
        )
    }

    /// Whether the server is a Media Server.
    pub fn is_media(&self) -> bool {
        self.server.identity().server.role == Role::Media
    }

    /// The Configuration form of the chosen task.
    pub fn form(&self) -> &Form {
        match self.task {
            Task::Export => &self.export_form,
            Task::Import => &self.import_form,
        }
    }

    fn form_mut(&mut self) -> &mut Form {
        match self.task {
            Task::Export => &mut self.export_form,
            Task::Import => &mut self.import_form,
        }
    }

    /// The component tree of the chosen task (for an import, only once a
    /// file was opened).
    pub fn tree(&self) -> Option<&ComponentTree> {
        match self.task {
            Task::Export => Some(&self.export_tree),
            Task::Import => self.import_tree.as_ref(),
        }
    }

    fn tree_mut(&mut self) -> Option<&mut ComponentTree> {
        match self.task {
            Task::Export => Some(&mut self.export_tree),
            Task::Import => self.import_tree.as_mut(),
        }
    }

    /// The catalog of the server's role.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// The migration file opened for an import.
    pub fn opened(&self) -> Option<&OpenedFile> {
        self.opened.as_ref()
    }

    /// The Status page's state, once a job was started.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// Whether a job is running.
    pub fn is_running(&self) -> bool {
        self.status.as_ref().is_some_and(|s| s.job.is_some())
    }

    /// The result shown on the Finish page.
    pub fn finished(&self) -> Option<&Finished> {
        self.finished.as_ref()
    }

    /// The current notice.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// Whether the server service runs, as last looked at (on the Welcome
    /// and Confirmation pages); `None` if it could not be determined.
    pub fn service(&self) -> Option<ServiceStatus> {
        self.service
    }

    /// How many lines the Finish page's text has beyond its heading (the
    /// import report can be longer than the screen).
    fn finish_lines(&self) -> usize {
        match &self.finished {
            Some(Finished::Import(i)) => i.report.to_text().lines().count() + 3,
            _ => 0,
        }
    }

    /// The Finish page's scroll offset (lines).
    pub fn scroll(&self) -> u16 {
        self.scroll
    }

    /// The import mode chosen on the Configuration page.
    pub fn import_mode(&self) -> ImportMode {
        match self.import_form.chosen(FieldId::Mode) {
            "Recovery" => ImportMode::Recovery,
            _ => ImportMode::Migration,
        }
    }

    /// The keys of the current page, as (key, action) pairs for the footer.
    pub fn key_help(&self) -> Vec<(&'static str, &'static str)> {
        let mut keys: Vec<(&'static str, &'static str)> = match self.page {
            Page::Welcome => vec![("Enter", "next")],
            Page::Task => vec![("↑/↓", "choose"), ("Enter", "next"), ("Esc", "back")],
            Page::Components => vec![
                ("↑/↓", "move"),
                ("Space", "tick/untick"),
                ("a", "all/none"),
                ("←/→", "fold"),
                ("Enter", "next"),
                ("Esc", "back"),
            ],
            Page::Configuration => {
                let mut k = vec![("Tab/↑/↓", "field")];
                if self.form().focused().is_text() {
                    k.extend([("type", "edit"), ("Ctrl-U", "clear")]);
                } else {
                    k.push(("Space", "change"));
                }
                k.extend([("Enter", "next"), ("Esc", "back"), ("Ctrl-C", "quit")]);
                return k;
            }
            Page::Confirmation => vec![("Enter", "start"), ("Esc", "back")],
            Page::Status if self.is_running() => {
                return vec![("s/Esc", "stop"), ("q", "stop and quit")];
            }
            Page::Status => vec![("Esc", "back to change settings")],
            Page::Finish => vec![
                ("Enter", "finish"),
                ("Esc", "another task"),
                ("↑/↓", "scroll"),
            ],
        };
        keys.push(("q", "quit"));
        keys
    }

    /// The highlighted tree row's details: its import method and what it
    /// requires.
    pub fn component_details(&self) -> Option<String> {
        let tree = self.tree()?;
        let Row::Component(id) = tree.current() else {
            return None;
        };
        let c = self.catalog.component(id)?;
        let mut text = format!("{} ({})", c.id, c.method.name());
        if !c.requires.is_empty() {
            text.push_str(&format!(": requires {}", c.requires.join(", ")));
            if let Some(why) = &c.why {
                text.push_str(&format!(" — {why}"));
            }
        }
        if let Some(record) = self.opened.as_ref().and_then(|o| o.manifest.component(id)) {
            text.push_str(&format!(
                " [{} keys, {} values, {} files]",
                record.counts.keys, record.counts.values, record.counts.files
            ));
        }
        Some(text)
    }
}
