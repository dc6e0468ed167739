//! Loading and dumping registry subtrees as Windows `.reg` files.
//!
//! A `.reg` file names keys by their full Windows path; the registry's root
//! is [`ROOT_PREFIX`]. Import accepts that prefix in any letter case (and
//! the `HKLM` abbreviation) and refuses any other key, naming its line.

use crate::error::{RegistryError, Result};
use crate::path::KeyPath;
use crate::regfile::{
    LastLine, RegErrorKind, RegFileError, RegFormat, RegItem, RegReader, RegWriter,
};
use crate::store::{KeyId, Registry, RegistryRead};
use std::io::{Read, Write};

/// The Windows key the registry's root stands for.
pub const ROOT_PREFIX: &str = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive Intelligence";
const SHORT_PREFIX: &str = "HKLM\\SOFTWARE\\Interactive Intelligence";

/// What an export or import covered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TransferStats {
    /// Keys written or read.
    pub keys: u64,
    /// Values written or read (set or deleted).
    pub values: u64,
}

/// The full Windows path of a registry key.
pub fn windows_path(path: &KeyPath) -> String {
    if path.is_root() {
        ROOT_PREFIX.to_string()
    } else {
        format!("{ROOT_PREFIX}\\{path}")
    }
}

/// Maps a full Windows path from a `.reg` file to a registry path, or
/// `None` when it lies outside [`ROOT_PREFIX`].
pub fn registry_path(windows: &str) -> Option<Result<KeyPath, crate::path::PathError>> {
    for prefix in [ROOT_PREFIX, SHORT_PREFIX] {
        let Some(head) = windows.get(..prefix.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(prefix) {
            continue;
        }
        let rest = &windows[prefix.len()..];
        if rest.is_empty() {
            return Some(Ok(KeyPath::root()));
        }
        if let Some(sub) = rest.strip_prefix('\\') {
            return Some(KeyPath::parse(sub));
        }
    }
    None
}

/// Writes the subtree at `subtree` (the key itself, its values and every
/// descendant) as a `.reg` file, streaming key by key. A missing key is
/// [`RegistryError::KeyNotFound`].
pub fn export_reg<W: Write>(
    reader: &impl RegistryRead,
    subtree: &KeyPath,
    out: W,
    format: RegFormat,
) -> Result<(W, TransferStats)> {
    if !reader.key_exists(subtree)? {
        return Err(RegistryError::KeyNotFound(subtree.to_string()));
    }
    export_reg_many(reader, std::slice::from_ref(subtree), out, format)
}

/// Writes several subtrees, in the order given, into one `.reg` file.
/// Subtrees that do not exist are skipped (a component may have no data on
/// a given server); the stats say what was written.
pub fn export_reg_many<W: Write>(
    reader: &impl RegistryRead,
    subtrees: &[KeyPath],
    out: W,
    format: RegFormat,
) -> Result<(W, TransferStats)> {
    let mut writer = RegWriter::new(out, format)?;
    let mut stats = TransferStats::default();
    for subtree in subtrees {
        for record in reader.walk(subtree) {
            let record = record?;
            writer.key(&windows_path(&record.path))?;
            stats.keys += 1;
            for v in &record.values {
                let name = (!v.name.is_empty()).then_some(v.name.as_str());
                writer.value(name, &v.data)?;
                stats.values += 1;
            }
        }
    }
    Ok((writer.finish()?, stats))
}

/// Applies a `.reg` file to the registry in one transaction: keys are
/// created, values set, and `[-KEY]` / `"name"=-` lines delete. If any line
/// fails, nothing changes and the error names the line.
pub fn import_reg<R: Read>(registry: &mut Registry, input: R) -> Result<TransferStats> {
    Ok(import_reg_checked(registry, input, false)?.0)
}

/// [`import_reg`], also telling whether the file lacks its final line end
/// (so may be truncated: regedit ends every file with one). With `strict`
/// such a file is refused ([`RegErrorKind::Truncated`]) and changes nothing.
pub fn import_reg_checked<R: Read>(
    registry: &mut Registry,
    input: R,
    strict: bool,
) -> Result<(TransferStats, Option<LastLine>)> {
    let mut reader = RegReader::new(input)?;
    let mut txn = registry.write()?;
    let mut stats = TransferStats::default();
    // The key that value lines apply to; `None` after a `[-KEY]`.
    let mut current: Option<(KeyId, KeyPath)> = None;
    for item in reader.by_ref() {
        match item? {
            RegItem::Key { path, line } => {
                let key = map_key(&path, line)?;
                current = Some((txn.create_key(&key)?, key));
                stats.keys += 1;
            }
            RegItem::DeleteKey { path, line } => {
                let key = map_key(&path, line)?;
                txn.delete_key(&key)?;
                current = None;
                stats.keys += 1;
            }
            RegItem::Value { name, data, line } => {
                let (id, _) = current.as_ref().ok_or_else(|| no_key(line))?;
                let name = name.unwrap_or_default();
                txn.set_value_at(*id, &name, &data).map_err(|e| match e {
                    RegistryError::InvalidValue { source, .. } => {
                        RegistryError::BadValueLine { line, source }
                    }
                    other => other,
                })?;
                stats.values += 1;
            }
            RegItem::DeleteValue { name, line } => {
                let (_, key) = current.as_ref().ok_or_else(|| no_key(line))?;
                txn.delete_value(key, name.as_deref().unwrap_or(""))?;
                stats.values += 1;
            }
        }
    }
    let unterminated = reader.unterminated_last_line();
    if let (true, Some(last)) = (strict, &unterminated) {
        let msg = format!(
            "the file does not end with a line end, as every file regedit writes does: it may be cut off after line {}: {}",
            last.line, last.text
        );
        return Err(RegFileError::new(RegErrorKind::Truncated(msg), last.line, 0).into());
    }
    txn.commit()?;
    Ok((stats, unterminated))
}

fn map_key(windows: &str, line: u64) -> Result<KeyPath> {
    match registry_path(windows) {
        None => Err(RegistryError::OutsideRoot {
            line,
            path: windows.to_string(),
        }),
        Some(Err(source)) => Err(RegistryError::BadKeyLine { line, source }),
        Some(Ok(path)) => Ok(path),
    }
}

fn no_key(line: u64) -> RegistryError {
    RegistryError::Invalid(format!("line {line}: a value line must follow a key line"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_mapping_is_case_insensitive_and_strict() {
        assert_eq!(
            registry_path("hkey_local_machine\\software\\interactive intelligence\\EIC")
                .unwrap()
                .unwrap()
                .to_string(),
            "EIC"
        );
        assert!(registry_path(ROOT_PREFIX).unwrap().unwrap().is_root());
        assert!(registry_path("HKEY_LOCAL_MACHINE\\SOFTWARE\\Other").is_none());
        assert!(registry_path("HKEY_LOCAL_MACHINE\\SOFTWARE\\Interactive IntelligenceX").is_none());
        assert!(
            registry_path("HKLM\\SOFTWARE\\Interactive Intelligence\\a\\\\b")
                .unwrap()
                .is_err()
        );
    }
}
