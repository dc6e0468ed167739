//! The support bundle: one zip of everything support asks for, without
//! anything secret.
//!
//! It holds every regular file of the server's `logs/` folder (which
//! includes `last-import-report.json`), `server-identity.toml` (the
//! server's `server.toml` with every secret-looking value removed) and
//! `bundle.json` listing what is inside. The machine key and the registry
//! are never included.

use crate::error::{Result, ServerError};
use crate::root::ServerRoot;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use transit_core::{time, IoContext, PathIoError};
use zip::write::SimpleFileOptions;

/// `bundle.json`: what the bundle holds.
#[derive(Debug, Serialize)]
struct About<'a> {
    server: &'a str,
    created_utc: String,
    transit_version: &'a str,
    files: &'a [String],
    note: &'a str,
}

/// The default bundle name: `transit-logs-<server>-<MMDDYYYYhhmmss>.zip`.
pub fn default_name(server: &ServerRoot) -> PathBuf {
    PathBuf::from(format!(
        "transit-logs-{}-{}.zip",
        server.name(),
        time::file_stamp(time::now())
    ))
}

/// Writes the bundle to `out`, which must not exist; it appears only when
/// complete. A bundle written into the logs folder never includes itself
/// or earlier bundles. `version` is recorded in `bundle.json`.
pub fn bundle(server: &ServerRoot, out: &Path, version: &str) -> Result<PathBuf> {
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".transit-logs-")
        .tempfile_in(&dir)
        .at(&dir)?;
    let zip_error = |e: zip::result::ZipError| ServerError::from(PathIoError::new(out, e.into()));
    let mut zip = zip::ZipWriter::new(temp.reopen().at(temp.path())?);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    let mut listed = Vec::new();
    let skip = |path: &Path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with(".transit-logs-")
            || name.ends_with(".zip")
            || same_file(path, temp.path())
            || same_file(path, out)
    };
    for (name, path) in log_files(&server.logs_dir())? {
        if skip(&path) {
            continue;
        }
        zip.start_file(&name, options).map_err(zip_error)?;
        let mut file = std::fs::File::open(&path).at(&path)?;
        std::io::copy(&mut file, &mut zip).at(&path)?;
        listed.push(name);
    }
    let identity_path = server.dir().join("server.toml");
    let identity = std::fs::read_to_string(&identity_path).at(&identity_path)?;
    let redacted = redact(&identity).map_err(|reason| ServerError::BadIdentity {
        path: identity_path.clone(),
        reason,
    })?;
    zip.start_file("server-identity.toml", options)
        .map_err(zip_error)?;
    zip.write_all(redacted.as_bytes()).at(out)?;
    listed.push("server-identity.toml".into());
    let about = About {
        server: server.name(),
        created_utc: time::rfc3339(time::now()),
        transit_version: version,
        files: &listed,
        note: "secrets are removed from server-identity.toml; the machine key and registry are not included",
    };
    zip.start_file("bundle.json", options).map_err(zip_error)?;
    let about = serde_json::to_string_pretty(&about).expect("bundle.json serialises");
    zip.write_all(about.as_bytes()).at(out)?;
    zip.finish().map_err(zip_error)?.sync_all().at(out)?;
    temp.persist_noclobber(out).map_err(|e| e.error).at(out)?;
    Ok(out.to_path_buf())
}

/// True when both paths name one existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Every regular file under the logs folder, as (`logs/<relative>`, path),
/// sorted. Symlinks are skipped: a bundle never reaches outside the root.
fn log_files(logs: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![logs.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(PathIoError::new(dir, e).into()),
        };
        for entry in entries {
            let entry = entry.at(&dir)?;
            let path = entry.path();
            let kind = entry.file_type().at(&path)?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let relative = path.strip_prefix(logs).expect("walked from logs");
                found.push((format!("logs/{}", relative.to_string_lossy()), path));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// `server.toml` with every value whose name suggests a secret or a key
/// replaced by `"<removed>"`.
fn redact(text: &str) -> std::result::Result<String, String> {
    let mut doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    redact_table(&mut doc);
    toml::to_string(&doc).map_err(|e| e.to_string())
}

fn redact_table(table: &mut toml::Table) {
    for (name, value) in table.iter_mut() {
        let lower = name.to_ascii_lowercase();
        let secret = ["key", "secret", "password", "token", "credential"]
            .iter()
            .any(|s| lower.contains(s));
        match value {
            toml::Value::Table(inner) => redact_table(inner),
            _ if secret => *value = toml::Value::String("<removed>".into()),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redacts_secret_looking_fields_at_any_depth() {
        let text = "[server]\nname = \"CIC01\"\nmachine_key_id = \"abc123\"\n[extra.deep]\napi_token = \"t\"\nport = 1\n";
        let out = redact(text).unwrap();
        assert!(out.contains("name = \"CIC01\""), "{out}");
        assert!(out.contains("machine_key_id = \"<removed>\""), "{out}");
        assert!(out.contains("api_token = \"<removed>\""), "{out}");
        assert!(out.contains("port = 1"), "{out}");
        assert!(!out.contains("abc123") && !out.contains("\"t\""), "{out}");
    }
}
