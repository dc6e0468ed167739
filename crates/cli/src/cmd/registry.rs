//! `transit registry …`

use crate::cli::{FormatArg, RegistryCommand};
use crate::exit::UsageError;
use crate::output::{self, KeyJson, ValueJson};
use anyhow::Context;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use transit_registry::interop::{self, TransferStats};
use transit_registry::regfile::RegFormat;
use transit_registry::{KeyPath, RegistryRead, ValueData, ValueKind};
use transit_server::ServerRoot;

pub fn run(root: &Path, cmd: RegistryCommand) -> anyhow::Result<()> {
    let server = ServerRoot::open(root)?;
    let mut registry = server.open_registry()?;
    match cmd {
        RegistryCommand::Get { key, name, json } => {
            let key = parse_key(&key)?;
            match name {
                Some(name) => {
                    let name = value_name(&name);
                    let data = registry.get_value(&key, name)?.ok_or_else(|| {
                        transit_registry::RegistryError::ValueNotFound {
                            key: key.to_string(),
                            name: name.to_string(),
                        }
                    })?;
                    if json {
                        output::print(&ValueJson::new(name, &data))?;
                    } else {
                        outln!("{data}");
                    }
                }
                None => {
                    let values = registry.values(&key)?;
                    if json {
                        let list: Vec<ValueJson> = values
                            .iter()
                            .map(|v| ValueJson::new(&v.name, &v.data))
                            .collect();
                        output::print(&list)?;
                    } else {
                        for v in values {
                            let shown = if v.name.is_empty() { "@" } else { &v.name };
                            outln!(
                                "{shown}\t{}\t{}",
                                v.data.kind(),
                                v.data.to_string().replace('\n', "\\0")
                            );
                        }
                    }
                }
            }
            Ok(())
        }
        RegistryCommand::Set {
            key,
            name,
            kind,
            data,
        } => {
            let key = parse_key(&key)?;
            let data = parse_data(kind, &data)?;
            let mut txn = registry.write()?;
            txn.set_value(&key, value_name(&name), &data)?;
            txn.commit()?;
            Ok(())
        }
        RegistryCommand::Delete { key, name } => {
            let key = parse_key(&key)?;
            let mut txn = registry.write()?;
            let existed = match &name {
                Some(name) => txn.delete_value(&key, value_name(name))?,
                None => txn.delete_key(&key)?,
            };
            txn.commit()?;
            if !existed {
                return Err(match name {
                    Some(name) => transit_registry::RegistryError::ValueNotFound {
                        key: key.to_string(),
                        name,
                    },
                    None => transit_registry::RegistryError::KeyNotFound(key.to_string()),
                }
                .into());
            }
            Ok(())
        }
        RegistryCommand::List {
            key,
            recursive,
            json,
        } => {
            let key = match key {
                Some(k) => parse_key(&k)?,
                None => KeyPath::root(),
            };
            let snapshot = registry.snapshot()?;
            let mut out = BufWriter::new(std::io::stdout().lock());
            if recursive {
                if !snapshot.key_exists(&key)? {
                    return Err(
                        transit_registry::RegistryError::KeyNotFound(key.to_string()).into(),
                    );
                }
                for record in snapshot.walk(&key) {
                    let record = record?;
                    if json {
                        writeln!(
                            out,
                            "{}",
                            serde_json::to_string(&KeyJson {
                                key: record.path.to_string(),
                                values: record.values.len(),
                            })?
                        )?;
                    } else {
                        writeln!(out, "{}", record.path)?;
                    }
                }
            } else {
                let names = snapshot.subkeys(&key)?;
                if json {
                    writeln!(out, "{}", serde_json::to_string(&names)?)?;
                } else {
                    for n in names {
                        writeln!(out, "{n}")?;
                    }
                }
            }
            out.flush()?;
            Ok(())
        }
        RegistryCommand::Export {
            key,
            format,
            output,
        } => {
            let key = match key {
                Some(k) => parse_key(&k)?,
                None => KeyPath::root(),
            };
            let format = match format {
                FormatArg::Regedit5 => RegFormat::Regedit5,
                FormatArg::Regedit4 => RegFormat::Regedit4,
            };
            let started = Instant::now();
            // Export reads one snapshot, so it is consistent even while
            // the registry is being written.
            let snapshot = registry.snapshot()?;
            // `-o -` is standard output, as for other Unix tools.
            let output = output.filter(|p| p.as_os_str() != "-");
            let stats = match &output {
                Some(path) => export_to_path(&snapshot, &key, format, path)?,
                None => interop::export_reg(&snapshot, &key, std::io::stdout().lock(), format)?.1,
            };
            tracing::info!(
                keys = stats.keys,
                values = stats.values,
                "registry exported"
            );
            if let Some(path) = output {
                eprintln!(
                    "exported {} keys, {} values to {} in {:.2?}",
                    stats.keys,
                    stats.values,
                    path.display(),
                    started.elapsed()
                );
            }
            Ok(())
        }
        RegistryCommand::Import { file, strict, json } => {
            let started = Instant::now();
            let input = std::fs::File::open(&file)
                .with_context(|| format!("opening {}", file.display()))?;
            let (stats, unterminated) = interop::import_reg_checked(&mut registry, input, strict)
                .with_context(|| format!("importing {}", file.display()))?;
            tracing::info!(keys = stats.keys, values = stats.values, file = %file.display(), "registry imported");
            let warning = unterminated.map(|last| {
                format!(
                    "{} does not end with a line end, as every file regedit writes does: it may be cut off after its last line {}: {} (--strict refuses such a file)",
                    file.display(),
                    last.line,
                    last.text
                )
            });
            if let Some(w) = &warning {
                tracing::warn!("{w}");
                let _ = writeln!(std::io::stderr(), "warning: {w}");
            }
            if json {
                output::print(&output::RegImportJson {
                    file: &file,
                    keys: stats.keys,
                    values: stats.values,
                    warnings: warning.iter().map(String::as_str).collect(),
                })?;
            } else {
                outln!(
                    "imported {} keys, {} values from {} in {:.2?}",
                    stats.keys,
                    stats.values,
                    file.display(),
                    started.elapsed()
                );
            }
            Ok(())
        }
    }
}

/// Writes an export to `path`. A regular file (or a new one) is written
/// to a temporary file beside it and renamed into place, so a failed
/// export never leaves a partial file; a symlink is followed and its
/// target replaced the same way (the link stays); a FIFO, a character
/// device or a socket is written to as a stream.
fn export_to_path(
    snapshot: &impl RegistryRead,
    key: &KeyPath,
    format: RegFormat,
    path: &Path,
) -> anyhow::Result<TransferStats> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            Err(UsageError(format!("{} is a folder, not a file", path.display())).into())
        }
        Ok(meta) if !meta.is_file() => {
            let stream = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("opening {}", path.display()))?;
            let (_, stats) = interop::export_reg(snapshot, key, stream, format)?;
            Ok(stats)
        }
        _ => export_to_file(snapshot, key, format, &link_target(path)?),
    }
}

/// Where `path` leads: itself, or for a symlink (even a dangling one) the
/// file it points to, followed through every link.
fn link_target(path: &Path) -> anyhow::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let target = std::fs::read_link(&current)
                    .with_context(|| format!("reading the link {}", current.display()))?;
                current = match current.parent() {
                    Some(parent) if target.is_relative() => parent.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(UsageError(format!(
        "{}: too many levels of symbolic links",
        path.display()
    ))
    .into())
}

/// Writes to a temporary file beside the target and renames it into place,
/// so a failed export never leaves a partial file.
fn export_to_file(
    snapshot: &impl RegistryRead,
    key: &KeyPath,
    format: RegFormat,
    path: &Path,
) -> anyhow::Result<TransferStats> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    let (file, stats) = interop::export_reg(snapshot, key, tmp, format)?;
    file.as_file().sync_all()?;
    file.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(stats)
}

fn parse_key(text: &str) -> anyhow::Result<KeyPath> {
    KeyPath::parse(text).map_err(|e| UsageError(e.to_string()).into())
}

/// `@` names the default value, as in a .reg file.
fn value_name(name: &str) -> &str {
    if name == "@" {
        ""
    } else {
        name
    }
}

fn parse_number(text: &str, max: u64) -> anyhow::Result<u64> {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    match parsed {
        Ok(n) if n <= max => Ok(n),
        _ => Err(UsageError(format!("`{text}` is not a number in 0..={max}")).into()),
    }
}

fn parse_data(kind: ValueKind, args: &[String]) -> anyhow::Result<ValueData> {
    let one = || -> anyhow::Result<&str> {
        match args {
            [single] => Ok(single),
            [] if matches!(
                kind,
                ValueKind::Sz | ValueKind::ExpandSz | ValueKind::Binary
            ) =>
            {
                Ok("")
            }
            _ => Err(UsageError(format!("{kind} takes exactly one data argument")).into()),
        }
    };
    Ok(match kind {
        ValueKind::Other(_) => {
            return Err(UsageError(format!("{kind} cannot be set from the command line")).into())
        }
        ValueKind::Sz => ValueData::Sz(one()?.to_string()),
        ValueKind::ExpandSz => ValueData::ExpandSz(one()?.to_string()),
        ValueKind::MultiSz => ValueData::MultiSz(args.to_vec()),
        ValueKind::Dword => ValueData::Dword(parse_number(one()?, u32::MAX as u64)? as u32),
        ValueKind::Qword => ValueData::Qword(parse_number(one()?, u64::MAX)?),
        ValueKind::Binary => {
            let digits: String = one()?.chars().filter(|c| !matches!(c, ',' | ' ')).collect();
            if !digits.len().is_multiple_of(2) {
                return Err(UsageError(
                    "REG_BINARY data needs an even number of hex digits".into(),
                )
                .into());
            }
            let bytes = (0..digits.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&digits[i..i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| UsageError(format!("`{digits}` is not hex")))?;
            ValueData::Binary(bytes)
        }
    })
}
