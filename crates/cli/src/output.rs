//! The shapes of `--json` output: one typed struct per command, so the
//! JSON a script reads is declared in one place.

use serde::Serialize;
use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use transit_registry::ValueData;

/// An error under `--json`: `{"error": {...}}` on standard output.
#[derive(Debug, Serialize)]
pub struct ErrorJson {
    /// The error.
    pub error: ErrorBody,
}

/// The body of [`ErrorJson`].
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// The exit status.
    pub code: u8,
    /// The exit status's name, such as `WrongPassword`.
    pub kind: String,
    /// The message, with its causes.
    pub message: String,
}

/// One component of `transit export --json`.
#[derive(Debug, Serialize)]
pub struct ExportedComponent<'a> {
    /// The component ID.
    pub id: &'a str,
    /// Its inner zip's size.
    pub size: u64,
    /// Registry keys.
    pub keys: u64,
    /// Registry values.
    pub values: u64,
    /// Files.
    pub files: u64,
}

/// `transit export --json`.
#[derive(Debug, Serialize)]
pub struct ExportJson<'a> {
    /// The migration file.
    pub file: &'a Path,
    /// Its size.
    pub size: u64,
    /// Whether it is AES-256 encrypted.
    pub encrypted: bool,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// Registry keys in all.
    pub keys: u64,
    /// Registry values in all.
    pub values: u64,
    /// Files in all.
    pub files: u64,
    /// Each component.
    pub components: Vec<ExportedComponent<'a>>,
    /// Components the closure added, with the reason.
    pub added: Vec<String>,
    /// Older files retention deleted.
    pub retention_deleted: Vec<&'a PathBuf>,
}

/// `transit inspect --json`: the manifest plus what the reader saw.
#[derive(Debug, Serialize)]
pub struct InspectJson<'a> {
    /// The manifest.
    #[serde(flatten)]
    pub manifest: &'a transit_archive::Manifest,
    /// The file's size.
    pub file_size: u64,
    /// Whether it is encrypted.
    pub encrypted: bool,
}

/// `transit verify --json`.
#[derive(Debug, Serialize)]
pub struct VerifyJson<'a> {
    /// The migration file.
    pub file: &'a Path,
    /// No mismatches.
    pub ok: bool,
    /// Entries checked.
    pub checked_entries: u64,
    /// Bytes checked.
    pub checked_bytes: u64,
    /// Every mismatch.
    pub mismatches: &'a [transit_archive::Mismatch],
}

/// A registry value's data in JSON: text, a list, or a number; binary
/// data as its hex text.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum DataJson<'a> {
    /// REG_SZ, REG_EXPAND_SZ, or REG_BINARY as hex text.
    Text(std::borrow::Cow<'a, str>),
    /// REG_MULTI_SZ.
    List(&'a [String]),
    /// REG_DWORD or REG_QWORD.
    Number(u64),
}

/// One value in `transit registry get --json`.
#[derive(Debug, Serialize)]
pub struct ValueJson<'a> {
    /// The value name ("" for the default value).
    pub name: &'a str,
    /// Its type, such as `REG_SZ`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Its data.
    pub data: DataJson<'a>,
}

impl<'a> ValueJson<'a> {
    /// The JSON form of value `name`.
    pub fn new(name: &'a str, data: &'a ValueData) -> ValueJson<'a> {
        let json = match data {
            ValueData::Sz(s) | ValueData::ExpandSz(s) => DataJson::Text(s.into()),
            ValueData::MultiSz(items) => DataJson::List(items),
            ValueData::Dword(n) => DataJson::Number(u64::from(*n)),
            ValueData::Qword(n) => DataJson::Number(*n),
            ValueData::Binary(_) | ValueData::Raw { .. } => DataJson::Text(data.to_string().into()),
        };
        ValueJson {
            name,
            kind: data.kind().name(),
            data: json,
        }
    }
}

/// One key of `transit registry list --recursive --json` (a line each).
#[derive(Debug, Serialize)]
pub struct KeyJson {
    /// The key path.
    pub key: String,
    /// How many values it holds.
    pub values: usize,
}

/// One component of `transit components --json`.
#[derive(Debug, Serialize)]
pub struct ComponentJson<'a> {
    /// The ID.
    pub id: &'a str,
    /// Other names.
    pub aliases: &'a [String],
    /// Registry selectors.
    pub registry: &'a [String],
    /// File selectors.
    pub files: &'a [String],
    /// Whether it takes the custom-handlers folder.
    pub custom_handlers: bool,
    /// The import method.
    pub method: &'static str,
    /// Import rule IDs.
    pub rules: &'a [String],
    /// Required components.
    pub requires: &'a [String],
}

/// One group of `transit components --json`.
#[derive(Debug, Serialize)]
pub struct GroupJson<'a> {
    /// The group.
    pub group: &'a str,
    /// Its components.
    pub components: Vec<ComponentJson<'a>>,
}

/// `transit components --json`.
#[derive(Debug, Serialize)]
pub struct ComponentsJson<'a> {
    /// The role.
    pub role: &'a str,
    /// The tree.
    pub groups: Vec<GroupJson<'a>>,
}

/// `transit registry import --json`.
#[derive(Debug, Serialize)]
pub struct RegImportJson<'a> {
    /// The `.reg` file.
    pub file: &'a Path,
    /// Keys read.
    pub keys: u64,
    /// Values read (set or deleted).
    pub values: u64,
    /// Warnings, such as a file that may be cut off.
    pub warnings: Vec<&'a str>,
}

/// `transit server status --json`.
#[derive(Debug, Serialize)]
pub struct StatusJson<'a> {
    /// The server name.
    pub server: &'a str,
    /// `running` or `stopped`.
    pub status: &'static str,
    /// The service's process ID when running.
    pub pid: Option<u32>,
}

/// One restore point of `transit restore-points list --json`.
#[derive(Debug, Serialize)]
pub struct RestorePointJson<'a> {
    /// Its ID.
    pub id: &'a str,
    /// When it was taken.
    pub created_utc: &'a str,
    /// Why.
    pub reason: &'a str,
    /// Files saved because the import overwrote them.
    pub overwritten: usize,
    /// Files the import created (removed on rollback).
    pub created: usize,
}

/// Prints `value` as one line of JSON on standard output.
pub fn print<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string(value)?);
    Ok(())
}

/// Prints `value` as pretty JSON on standard output.
pub fn print_pretty<T: Serialize>(value: &T) -> anyhow::Result<()> {
    outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Set once standard output failed (its reader went away): later output is
/// dropped instead of failing again.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// Writes to standard output (what `outln!` and `out!` expand to).
///
/// `println!` panics when standard output is a pipe whose reader has gone
/// (`transit inspect … | head -1`). Here a reader that went away is what it
/// is for a Unix tool: the rest of the output is dropped, the command
/// finishes its work (an import still completes) and exits as it would
/// have. Any other write failure is logged and treated the same way.
pub fn write_stdout(args: fmt::Arguments<'_>) {
    write_stdout_bytes(args.to_string().as_bytes());
}

/// Writes raw bytes to standard output, as [`write_stdout`] does.
pub fn write_stdout_bytes(bytes: &[u8]) {
    if STDOUT_GONE.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(err) = out.write_all(bytes).and_then(|()| out.flush()) {
        STDOUT_GONE.store(true, Ordering::Relaxed);
        if err.kind() != io::ErrorKind::BrokenPipe {
            tracing::warn!("standard output failed: {err}; the rest of the output is dropped");
        }
    }
}
