//! `transit diff` (M-13): compares any two of a server root, a migration
//! file and a `.reg` file, per component, key, value and file.
//!
//! How it works:
//!
//! 1. [`source`] recognises each side and opens it: a server root is read
//!    through a registry [`Snapshot`](transit_registry::Snapshot); a `.reg`
//!    file, and the `registry.reg` entries of a migration file's selected
//!    components, are loaded into a temporary SQLite registry. Both sides
//!    load in parallel.
//! 2. `plan` turns the catalog into groups: one per component, with its
//!    registry subtrees expanded for each side's own server name and DS
//!    path (so two differently named servers line up), plus an
//!    `(other registry)` group for keys outside every component when
//!    neither side is a migration file.
//! 3. [`walk`] streams each subtree in sort-key order (a depth-first walk,
//!    siblings in case-insensitive order) and [`merge`] joins the two
//!    sorted streams key by key, then value by value. B's stream is read
//!    on a second thread, in batches. Nothing holds more than a few pages
//!    of keys, so memory does not grow with the registry.
//! 4. [`files`] compares a component's files by path, size and SHA-256
//!    (a migration file's hashes come from its manifest, unextracted).
//! 5. Every difference goes to a [`DiffSink`] as it is found; [`report`]
//!    has the text and JSON sinks.
//!
//! The library never prints: the sink decides where the report goes.

mod error;
pub mod files;
pub mod merge;
mod plan;
pub mod report;
pub mod source;
pub mod walk;

pub use error::DiffError;
pub use source::{Password, SideInfo, SideKind};

use serde::Serialize;
use std::path::Path;
use transit_core::{CancelToken, Event, NoProgress, Progress, Unit};
use transit_registry::{NamedValue, ValueData};

/// The result type of this module.
pub type Result<T, E = DiffError> = std::result::Result<T, E>;

/// The name of the group that holds keys outside every component.
pub const OTHER_GROUP: &str = "(other registry)";

/// What to compare.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Component names or aliases; `None` (or a list holding `all`) means
    /// every component, plus the [`OTHER_GROUP`] when neither side is a
    /// migration file.
    pub components: Option<Vec<String>>,
    /// Password for side A, if it is an encrypted migration file.
    pub password_a: Password,
    /// Password for side B.
    pub password_b: Password,
}

/// One changed value inside a key that exists on both sides. Names match
/// case-insensitively, as Windows does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueDiff {
    /// Only B has the value.
    Added(NamedValue),
    /// Only A has the value.
    Removed(NamedValue),
    /// Both have it, with different data or a different type.
    Changed {
        /// The value name (A's letter case); empty for the default value.
        name: String,
        /// A's data.
        old: ValueData,
        /// B's data.
        new: ValueData,
    },
}

/// How a key differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChange {
    /// Only B has the key; these are its values.
    Added(Vec<NamedValue>),
    /// Only A has the key; these were its values.
    Removed(Vec<NamedValue>),
    /// Both have the key, with these value differences.
    Changed(Vec<ValueDiff>),
}

/// One key that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDiff {
    /// The key, shown relative to its group's subtree: the catalog
    /// selector with its placeholders (`{ds}\Users\jdoe`,
    /// `EIC\{server}\IP\…`), or the full path in the other group.
    pub key: String,
    /// What differs.
    pub change: KeyChange,
}

/// A file's size and, when known, its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileInfo {
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex SHA-256; `None` when it was not needed (a file only
    /// one server root has, or two files of different sizes).
    pub sha256: Option<String>,
}

/// How a file differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Only B has the file.
    Added(FileInfo),
    /// Only A has the file.
    Removed(FileInfo),
    /// Both have it, with different content.
    Changed {
        /// A's file.
        old: FileInfo,
        /// B's file.
        new: FileInfo,
    },
}

/// One file that differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The entry path as a migration file stores it (`files/…`, or
    /// `handlers/…` for the custom-handlers folder).
    pub path: String,
    /// What differs.
    pub change: FileChange,
}

/// Differences counted per group and in total. Values of added and
/// removed keys count as added and removed values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Keys only B has.
    pub keys_added: u64,
    /// Keys only A has.
    pub keys_removed: u64,
    /// Keys both have, with different values.
    pub keys_changed: u64,
    /// Values only B has.
    pub values_added: u64,
    /// Values only A has.
    pub values_removed: u64,
    /// Values both have, with different data.
    pub values_changed: u64,
    /// Files only B has.
    pub files_added: u64,
    /// Files only A has.
    pub files_removed: u64,
    /// Files both have, with different content.
    pub files_changed: u64,
}

impl Counts {
    /// True when nothing differs.
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }

    /// Adds another group's counts.
    pub fn add(&mut self, other: &Counts) {
        self.keys_added += other.keys_added;
        self.keys_removed += other.keys_removed;
        self.keys_changed += other.keys_changed;
        self.values_added += other.values_added;
        self.values_removed += other.values_removed;
        self.values_changed += other.values_changed;
        self.files_added += other.files_added;
        self.files_removed += other.files_removed;
        self.files_changed += other.files_changed;
    }

    /// Counts one key difference.
    pub fn count_key(&mut self, diff: &KeyDiff) {
        match &diff.change {
            KeyChange::Added(values) => {
                self.keys_added += 1;
                self.values_added += values.len() as u64;
            }
            KeyChange::Removed(values) => {
                self.keys_removed += 1;
                self.values_removed += values.len() as u64;
            }
            KeyChange::Changed(values) => {
                self.keys_changed += 1;
                for v in values {
                    match v {
                        ValueDiff::Added(_) => self.values_added += 1,
                        ValueDiff::Removed(_) => self.values_removed += 1,
                        ValueDiff::Changed { .. } => self.values_changed += 1,
                    }
                }
            }
        }
    }

    /// Counts one file difference.
    pub fn count_file(&mut self, diff: &FileDiff) {
        match diff.change {
            FileChange::Added(_) => self.files_added += 1,
            FileChange::Removed(_) => self.files_removed += 1,
            FileChange::Changed { .. } => self.files_changed += 1,
        }
    }
}

/// Whether a group was compared, or exists on one side only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GroupStatus {
    /// Both sides hold the group; its differences follow.
    Compared,
    /// Only A (a migration file) holds the component: B's file does not.
    OnlyInA,
    /// Only B (a migration file) holds the component.
    OnlyInB,
}

/// Whether a group's files were compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilesStatus {
    /// The group selects no files.
    None,
    /// Files were compared.
    Compared,
    /// Not compared, and why (a `.reg` file holds no files).
    Skipped(String),
}

/// A group as announced to the sink before its differences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// The component ID, or [`OTHER_GROUP`].
    pub id: String,
    /// The registry subtrees compared, as catalog selectors
    /// (`{ds}\Users`); empty for file-only components.
    pub registry: Vec<String>,
    /// Whether it was compared.
    pub status: GroupStatus,
    /// Whether its files were compared.
    pub files: FilesStatus,
}

/// The outcome of a whole comparison.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffSummary {
    /// Each group with its counts, in report order.
    pub groups: Vec<(GroupInfo, Counts)>,
    /// Totals over all groups.
    pub total: Counts,
    /// True when A and B hold the same data (for what was compared).
    pub equal: bool,
}

/// Receives the differences as they are found, in report order:
/// [`begin`](Self::begin), then per group [`group`](Self::group), its
/// [`key`](Self::key)s, its [`file`](Self::file)s and
/// [`end_group`](Self::end_group), then [`finish`](Self::finish).
///
/// An error from the sink (such as a closed pipe) stops the comparison and
/// comes back as [`DiffError::Output`].
pub trait DiffSink {
    /// The two sides, and notes about what cannot be compared.
    fn begin(&mut self, a: &SideInfo, b: &SideInfo, notes: &[String]) -> std::io::Result<()>;
    /// A group starts.
    fn group(&mut self, group: &GroupInfo) -> std::io::Result<()>;
    /// A key that differs, in sort order.
    fn key(&mut self, diff: &KeyDiff) -> std::io::Result<()>;
    /// A file that differs, in path order.
    fn file(&mut self, diff: &FileDiff) -> std::io::Result<()>;
    /// The group ends, with its counts.
    fn end_group(&mut self, group: &GroupInfo, counts: &Counts) -> std::io::Result<()>;
    /// Everything was compared.
    fn finish(&mut self, summary: &DiffSummary) -> std::io::Result<()>;
}

/// Compares `a` and `b` (each a server root, a migration file or a `.reg`
/// file), sending every difference to `sink` as it is found.
///
/// Fails when a side cannot be read (missing, none of the three kinds, a
/// malformed `.reg` file — its error names the line —, a wrong password or
/// a damaged migration file), when the two sides have different roles, or
/// when the sink fails. Differences are not errors: see
/// [`DiffSummary::equal`].
pub fn diff(
    a: &Path,
    b: &Path,
    options: &DiffOptions,
    sink: &mut dyn DiffSink,
) -> Result<DiffSummary> {
    diff_with(a, b, options, sink, &NoProgress, &CancelToken::new())
}

/// [`diff`], reporting through `progress` (a task `compare` counting the
/// groups, its status naming the group being compared) and stopping with
/// [`DiffError::Cancelled`] once `cancel` is cancelled: checked before
/// each group and at each difference found.
pub fn diff_with(
    a: &Path,
    b: &Path,
    options: &DiffOptions,
    sink: &mut dyn DiffSink,
    progress: &dyn Progress,
    cancel: &CancelToken,
) -> Result<DiffSummary> {
    let (side_a, mut side_b, plan, notes) = plan::prepare(a, b, options)?;
    sink.begin(&side_a.info, &side_b.info, &notes)
        .map_err(DiffError::Output)?;
    let mut summary = DiffSummary {
        groups: Vec::new(),
        total: Counts::default(),
        equal: true,
    };
    const TASK: &str = "compare";
    progress.event(Event::Begin {
        task: TASK.into(),
        unit: Unit::Items,
        total: Some(plan.len() as u64),
    });
    let mut watched = Cancellable { sink, cancel };
    for (i, group) in plan.iter().enumerate() {
        if cancel.is_cancelled() {
            return Err(DiffError::Cancelled);
        }
        progress.event(Event::Status {
            task: TASK.into(),
            text: group.info.id.clone(),
        });
        let counts = match group.run(&side_a, &mut side_b, &mut watched) {
            Err(DiffError::Output(_)) if cancel.is_cancelled() => return Err(DiffError::Cancelled),
            other => other?,
        };
        progress.event(Event::Advance {
            task: TASK.into(),
            done: i as u64 + 1,
            total: None,
        });
        summary.total.add(&counts);
        if group.info.status != GroupStatus::Compared || !counts.is_zero() {
            summary.equal = false;
        }
        summary.groups.push((group.info.clone(), counts));
    }
    progress.event(Event::End { task: TASK.into() });
    watched.sink.finish(&summary).map_err(DiffError::Output)?;
    tracing::info!(
        a = %a.display(),
        b = %b.display(),
        equal = summary.equal,
        keys = summary.total.keys_added + summary.total.keys_removed + summary.total.keys_changed,
        files = summary.total.files_added + summary.total.files_removed + summary.total.files_changed,
        "diff complete"
    );
    Ok(summary)
}

/// A sink that stops the comparison (with an `Interrupted` error) at the
/// next difference once the token is cancelled.
struct Cancellable<'a> {
    sink: &'a mut dyn DiffSink,
    cancel: &'a CancelToken,
}

impl Cancellable<'_> {
    fn check(&self) -> std::io::Result<()> {
        if self.cancel.is_cancelled() {
            Err(std::io::Error::from(std::io::ErrorKind::Interrupted))
        } else {
            Ok(())
        }
    }
}

impl DiffSink for Cancellable<'_> {
    fn begin(&mut self, a: &SideInfo, b: &SideInfo, notes: &[String]) -> std::io::Result<()> {
        self.sink.begin(a, b, notes)
    }
    fn group(&mut self, group: &GroupInfo) -> std::io::Result<()> {
        self.check()?;
        self.sink.group(group)
    }
    fn key(&mut self, diff: &KeyDiff) -> std::io::Result<()> {
        self.check()?;
        self.sink.key(diff)
    }
    fn file(&mut self, diff: &FileDiff) -> std::io::Result<()> {
        self.check()?;
        self.sink.file(diff)
    }
    fn end_group(&mut self, group: &GroupInfo, counts: &Counts) -> std::io::Result<()> {
        self.sink.end_group(group, counts)
    }
    fn finish(&mut self, summary: &DiffSummary) -> std::io::Result<()> {
        self.sink.finish(summary)
    }
}
