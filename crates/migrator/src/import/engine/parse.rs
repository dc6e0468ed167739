//! The parsing thread: decrypts each component's `.reg` text and sends its
//! keys, in batches, to the thread that runs the rules and writes.

use super::plan::ImportPlan;
use crate::error::{MigratorError, Result};
use crate::export::REGISTRY_ENTRY;
use crate::import::rules::KeyEntry;
use std::io::Read;
use std::path::Path;
use transit_archive::{ArchiveError, MigrationReader};
use transit_catalog::Component;
use transit_core::CancelToken;
use transit_registry::interop::registry_path;
use transit_registry::regfile::{RegItem, RegReader};
use transit_registry::NamedValue;

/// One message from the parsing thread.
pub(super) enum Parsed {
    /// The next keys of the current component.
    Keys(Vec<KeyEntry>),
    /// The current component has no more keys.
    End,
    /// Parsing failed; nothing more follows.
    Failed(MigratorError),
}

/// How many keys travel in one message.
const BATCH: usize = 512;

/// Sends, for each component in order, its registry keys in batches and
/// then `End` (components without registry data send only `End`).
pub(super) fn parse_components(
    mut reader: MigrationReader,
    plan: &ImportPlan,
    components: &[&Component],
    temp: &Path,
    sender: &std::sync::mpsc::SyncSender<Parsed>,
    cancel: &CancelToken,
    stop: &CancelToken,
) {
    for component in components {
        if has_registry_entry(&reader, component) {
            if let Err(e) =
                parse_component(&mut reader, plan, component, temp, sender, cancel, stop)
            {
                // A stop by the user is reported as one, not as the read
                // error it caused.
                let e = if cancel.is_cancelled() {
                    MigratorError::Cancelled
                } else {
                    e
                };
                let _ = sender.send(Parsed::Failed(e));
                return;
            }
        }
        if sender.send(Parsed::End).is_err() {
            return;
        }
    }
}

/// True when the component selects registry data and its inner zip has it.
pub(super) fn has_registry_entry(reader: &MigrationReader, component: &Component) -> bool {
    !component.registry.is_empty()
        && reader
            .manifest()
            .component(&component.id)
            .is_some_and(|r| r.entries.iter().any(|e| e.path == REGISTRY_ENTRY))
}

/// Streams one component's `.reg` text as key batches: straight from the
/// file when the registry data is the component's first entry (as exports
/// write it), else through a temporary copy of the component.
fn parse_component(
    reader: &mut MigrationReader,
    plan: &ImportPlan,
    component: &Component,
    temp: &Path,
    sender: &std::sync::mpsc::SyncSender<Parsed>,
    cancel: &CancelToken,
    stop: &CancelToken,
) -> Result<()> {
    let mut failure: Option<MigratorError> = None;
    let mut send =
        |r: &mut dyn Read| send_keys(r, plan, component, sender, (cancel, stop), &mut failure);
    let streamed = reader.read_leading_entry(&component.id, REGISTRY_ENTRY, &mut send);
    let result = match streamed {
        Ok(Some(())) => Ok(()),
        Ok(None) => {
            let mut component_zip = reader.open_component(&component.id, temp)?;
            component_zip.read_entry(REGISTRY_ENTRY, send)
        }
        Err(e) => Err(e),
    };
    match (result, failure) {
        (_, Some(e)) => Err(e),
        (Err(e), None) => Err(e.into()),
        (Ok(()), None) => Ok(()),
    }
}

/// Parses `.reg` text from `r` and sends its keys in batches; a key outside
/// the registry root sets `failure`.
fn send_keys(
    r: &mut dyn Read,
    plan: &ImportPlan,
    component: &Component,
    sender: &std::sync::mpsc::SyncSender<Parsed>,
    (cancel, stop): (&CancelToken, &CancelToken),
    failure: &mut Option<MigratorError>,
) -> std::io::Result<()> {
    let gone = || std::io::Error::other("the import stopped");
    let items = RegReader::new(r).map_err(std::io::Error::other)?;
    let mut batch: Vec<KeyEntry> = Vec::with_capacity(BATCH);
    for item in items {
        let item = item.map_err(std::io::Error::other)?;
        match item {
            RegItem::Key { path, line } => {
                if batch.len() >= BATCH {
                    if cancel.is_cancelled() || stop.is_cancelled() {
                        return Err(gone());
                    }
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    sender.send(Parsed::Keys(full)).map_err(|_| gone())?;
                }
                match registry_path(&path) {
                    Some(Ok(key)) => batch.push(KeyEntry {
                        path: key,
                        values: Vec::new(),
                    }),
                    _ => {
                        *failure = Some(MigratorError::Archive(ArchiveError::Tampered {
                            path: plan.file.clone(),
                            entry: format!("{REGISTRY_ENTRY} in {}", component.id),
                            detail: format!("line {line}: key outside the registry root"),
                        }));
                        return Err(gone());
                    }
                }
            }
            RegItem::Value { name, data, .. } => {
                if let Some(entry) = batch.last_mut() {
                    entry.values.push(NamedValue {
                        name: name.unwrap_or_default(),
                        data,
                    });
                }
            }
            RegItem::DeleteKey { .. } | RegItem::DeleteValue { .. } => {}
        }
    }
    if !batch.is_empty() {
        sender.send(Parsed::Keys(batch)).map_err(|_| gone())?;
    }
    Ok(())
}
