//! `transit logs bundle`: one zip of everything support asks for.

use crate::cli::LogsCommand;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};
use transit_core::time;
use transit_server::ServerRoot;
use zip::write::SimpleFileOptions;

/// Runs a `transit logs` subcommand.
pub fn run(root: &Path, cmd: LogsCommand) -> anyhow::Result<()> {
    match cmd {
        LogsCommand::Bundle { out } => {
            let path = bundle(root, out)?;
            println!("{}", path.display());
            Ok(())
        }
    }
}

/// Writes the bundle: `logs/…` (every regular file of the server's logs
/// folder, which includes `last-import-report.json`), `server-identity.toml`
/// with secrets removed, and `bundle.json` listing what is inside.
fn bundle(root: &Path, out: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let server = ServerRoot::open(root)?;
    let out = out.unwrap_or_else(|| {
        PathBuf::from(format!(
            "transit-logs-{}-{}.zip",
            server.name(),
            time::file_stamp(time::now())
        ))
    });
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let temp = tempfile::Builder::new()
        .prefix(".transit-logs-")
        .tempfile_in(&dir)
        .with_context(|| format!("writing in {}", dir.display()))?;
    let mut zip = zip::ZipWriter::new(temp.reopen()?);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    let mut listed = Vec::new();
    // A bundle written into the logs folder must not swallow itself (or
    // earlier bundles).
    let skip = |path: &Path| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        name.starts_with(".transit-logs-")
            || name.ends_with(".zip")
            || same_file(path, temp.path())
            || same_file(path, &out)
    };
    for (name, path) in log_files(&server.logs_dir())? {
        if skip(&path) {
            continue;
        }
        zip.start_file(&name, options)?;
        let mut file =
            std::fs::File::open(&path).with_context(|| format!("reading {}", path.display()))?;
        std::io::copy(&mut file, &mut zip)
            .with_context(|| format!("reading {}", path.display()))?;
        listed.push(name);
    }
    let identity =
        std::fs::read_to_string(server.dir().join("server.toml")).context("reading server.toml")?;
    zip.start_file("server-identity.toml", options)?;
    zip.write_all(redact(&identity)?.as_bytes())?;
    listed.push("server-identity.toml".into());
    let about = serde_json::json!({
        "server": server.name(),
        "created_utc": time::rfc3339(time::now()),
        "transit_version": env!("CARGO_PKG_VERSION"),
        "files": listed,
        "note": "secrets are removed from server-identity.toml; the machine key and registry are not included",
    });
    zip.start_file("bundle.json", options)?;
    zip.write_all(serde_json::to_string_pretty(&about)?.as_bytes())?;
    zip.finish()?.sync_all()?;
    temp.persist_noclobber(&out)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {} (it may already exist)", out.display()))?;
    Ok(out)
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
fn log_files(logs: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![logs.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            let path = entry.path();
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
fn redact(text: &str) -> anyhow::Result<String> {
    let mut doc: toml::Table = toml::from_str(text).context("parsing server.toml")?;
    redact_table(&mut doc);
    Ok(toml::to_string(&doc)?)
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
