//! Recognising and opening the two sides of a diff.
//!
//! A server root is read through a registry snapshot (one consistent
//! moment, safe while the service runs). A `.reg` file, and the
//! `registry.reg` entries of a migration file, are loaded into a temporary
//! SQLite registry under the system temporary folder (`TMPDIR`), so every
//! side can be walked the same way: in sort-key order, a page at a time.

use super::{DiffError, Result};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use transit_archive::{ArchiveError, ComponentRecord, MigrationReader};
use transit_core::{IoContext, PathIoError};
use transit_registry::interop::import_reg;
use transit_registry::{KeyPath, Registry, RegistryError, RegistryRead, Snapshot};
use transit_server::{layout, ServerRoot};

use crate::export::REGISTRY_ENTRY;

/// What a side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SideKind {
    /// A directory with `server.toml`.
    ServerRoot,
    /// A `.ininmigr` file.
    MigrationFile,
    /// A Windows `.reg` file (REGEDIT5 or REGEDIT4).
    RegFile,
}

impl SideKind {
    /// A short human name ("server root", …).
    pub fn label(self) -> &'static str {
        match self {
            SideKind::ServerRoot => "server root",
            SideKind::MigrationFile => "migration file",
            SideKind::RegFile => ".reg file",
        }
    }
}

/// How to open a side that turns out to be an encrypted migration file.
#[derive(Debug, Clone, Default)]
pub enum Password {
    /// No password: an encrypted file fails with
    /// [`ArchiveError::PasswordRequired`].
    #[default]
    None,
    /// This password, exactly as `transit inspect` uses it: an unencrypted
    /// file fails with [`ArchiveError::PasswordNotNeeded`].
    Exact(SecretString),
    /// This password if the file is encrypted; ignored otherwise (the
    /// shared `--password-file` of a diff applies to whichever side needs
    /// it).
    IfEncrypted(SecretString),
}

/// What is known about a side, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SideInfo {
    /// The path given.
    pub path: PathBuf,
    /// What it is.
    pub kind: SideKind,
    /// The server name (from `server.toml` or the manifest; for a `.reg`
    /// file, from the DS key it holds), if known.
    pub server: Option<String>,
    /// The site name, likewise.
    pub site: Option<String>,
    /// The role (`cic` or `media`); for a `.reg` file the other side's.
    pub role: Option<String>,
    /// Whether it is an encrypted migration file.
    pub encrypted: bool,
    /// For a migration file: the components it holds, in file order.
    pub components: Option<Vec<String>>,
}

impl SideInfo {
    /// The server's DS key, when the server and site names are known.
    pub fn ds(&self) -> Option<KeyPath> {
        match (&self.site, &self.server) {
            (Some(site), Some(server)) => KeyPath::parse(&format!(
                "{}\\{site}\\Production\\{server}",
                layout::DS_ROOT
            ))
            .ok(),
            _ => None,
        }
    }

    /// The side as the report names it: `A`/`B` plus the kind and server.
    pub fn describe(&self) -> String {
        let mut out = self.kind.label().to_string();
        match (&self.server, &self.site) {
            (Some(server), Some(site)) => out.push_str(&format!(": server {server}, site {site}")),
            (Some(server), None) => out.push_str(&format!(": server {server}")),
            _ => {}
        }
        if let Some(role) = &self.role {
            out.push_str(&format!(", {role}"));
        }
        if self.encrypted {
            out.push_str(", encrypted");
        }
        out
    }
}

/// A side whose header is read but whose registry is not loaded yet.
pub(crate) enum Opened {
    /// A server root.
    Root(ServerRoot),
    /// A migration file with its validated manifest.
    Migration(Box<MigrationReader>),
    /// A `.reg` file, not read yet.
    Reg,
}

/// Where a side's files are.
pub(crate) enum SideFiles {
    /// A server root's `files/` folder.
    Root(PathBuf),
    /// A migration file's component records (with per-entry hashes).
    Manifest(Vec<ComponentRecord>),
    /// A `.reg` file has none.
    None,
}

/// A registry to walk: a root's snapshot or a loaded temporary registry.
enum SideRegistry {
    Snapshot(Snapshot),
    Loaded(Registry),
}

/// An opened side, ready to walk.
pub(crate) struct Side {
    /// What is known about it.
    pub info: SideInfo,
    /// Its files.
    pub files: SideFiles,
    /// The file registry errors are reported against.
    pub registry_path: PathBuf,
    registry: SideRegistry,
    /// The temporary folder of a loaded registry; declared last so it is
    /// removed after the registry is closed.
    _temp: Option<TempDir>,
}

impl Side {
    /// The registry, for reading.
    pub fn reader(&self) -> &dyn RegistryRead {
        match &self.registry {
            SideRegistry::Snapshot(s) => s,
            SideRegistry::Loaded(r) => r,
        }
    }
}

/// Recognises a side and reads its header: `server.toml`, or a migration
/// file's manifest (which checks the password). A `.reg` file is only
/// recognised here; it is read by [`load`].
pub(crate) fn open(path: &Path, password: &Password) -> Result<(SideInfo, Opened)> {
    let kind = detect(path)?;
    let mut info = SideInfo {
        path: path.to_path_buf(),
        kind,
        server: None,
        site: None,
        role: None,
        encrypted: false,
        components: None,
    };
    let opened = match kind {
        SideKind::ServerRoot => {
            let root = ServerRoot::open(path)?;
            info.server = Some(root.name().to_string());
            info.site = Some(root.site_name().to_string());
            info.role = Some(root.identity().server.role.to_string());
            Opened::Root(root)
        }
        SideKind::MigrationFile => {
            let reader = open_migration(path, password)?;
            let source = &reader.manifest().source;
            info.server = Some(source.server_name.clone());
            info.site = Some(source.site_name.clone());
            info.role = Some(source.role.to_ascii_lowercase());
            info.encrypted = reader.encrypted();
            info.components = Some(
                reader
                    .manifest()
                    .components
                    .iter()
                    .map(|c| c.id.clone())
                    .collect(),
            );
            Opened::Migration(Box::new(reader))
        }
        SideKind::RegFile => Opened::Reg,
    };
    Ok((info, opened))
}

fn open_migration(path: &Path, password: &Password) -> Result<MigrationReader> {
    Ok(match password {
        Password::None => MigrationReader::open(path, None)?,
        Password::Exact(p) => MigrationReader::open(path, Some(p.expose_secret()))?,
        Password::IfEncrypted(p) => match MigrationReader::open(path, Some(p.expose_secret())) {
            Err(ArchiveError::PasswordNotNeeded { .. }) => MigrationReader::open(path, None)?,
            other => other?,
        },
    })
}

/// A note when a server root has an import journal: an import is running,
/// or was interrupted and not yet rolled back, so the root may be half
/// imported. (`transit diff` only reads; `transit recover` rolls back.)
pub(crate) fn import_note(name: char, opened: &Opened) -> Option<String> {
    let Opened::Root(root) = opened else {
        return None;
    };
    // The journal the import engine keeps (see `restore::journal`).
    let journal = root.run_dir().join("import.journal");
    journal.exists().then(|| {
        format!(
            "{name} has an import journal ({}): an import is running or was interrupted, so {name} may be half imported (run `transit recover` to roll an interrupted import back)",
            journal.display()
        )
    })
}

/// Loads a side's registry. For a migration file only the components in
/// `components` are loaded (their `registry.reg` entries, each checked
/// against the manifest's SHA-256).
pub(crate) fn load(info: SideInfo, opened: Opened, components: &[String]) -> Result<Side> {
    match opened {
        Opened::Root(root) => {
            let registry_path = root.registry_path();
            let registry = root.open_registry()?;
            let snapshot = registry
                .snapshot()
                .map_err(DiffError::registry(&registry_path))?;
            Ok(Side {
                info,
                files: SideFiles::Root(root.files_dir()),
                registry_path,
                registry: SideRegistry::Snapshot(snapshot),
                _temp: None,
            })
        }
        Opened::Migration(mut reader) => {
            let (temp, mut registry) = temp_registry()?;
            let path = info.path.clone();
            for record in reader.manifest().components.clone() {
                let wanted = components.contains(&record.id);
                if !wanted || !record.entries.iter().any(|e| e.path == REGISTRY_ENTRY) {
                    continue;
                }
                let mut component = reader.open_component(&record.id, temp.path())?;
                // The registry error, if loading fails, rather than the I/O
                // wrapper `read_entry` would give it.
                let mut failure: Option<RegistryError> = None;
                let loaded = component.read_entry(REGISTRY_ENTRY, |r| {
                    import_reg(&mut registry, r).map_err(|e| {
                        let io = std::io::Error::other(e.to_string());
                        failure = Some(e);
                        io
                    })
                });
                if let Some(e) = failure {
                    // Damage explains a bad .reg entry better: check the
                    // entry's hash before blaming its text.
                    component.read_entry(REGISTRY_ENTRY, |r| {
                        std::io::copy(r, &mut std::io::sink()).map(drop)
                    })?;
                    return Err(DiffError::Registry {
                        path: path.join(&record.entry).join(REGISTRY_ENTRY),
                        source: e,
                    });
                }
                loaded?;
            }
            let files = SideFiles::Manifest(reader.manifest().components.clone());
            Ok(Side {
                info,
                files,
                registry_path: path,
                registry: SideRegistry::Loaded(registry),
                _temp: Some(temp),
            })
        }
        Opened::Reg => {
            let (temp, mut registry) = temp_registry()?;
            let path = info.path.clone();
            let file = File::open(&path).at(&path)?;
            import_reg(
                &mut registry,
                std::io::BufReader::with_capacity(1 << 18, file),
            )
            .map_err(DiffError::registry(&path))?;
            Ok(Side {
                info,
                files: SideFiles::None,
                registry_path: path,
                registry: SideRegistry::Loaded(registry),
                _temp: Some(temp),
            })
        }
    }
}

/// An empty registry in a new temporary folder.
fn temp_registry() -> Result<(TempDir, Registry)> {
    let temp = tempfile::Builder::new()
        .prefix(".transit-diff-")
        .tempdir()
        .at(std::env::temp_dir())?;
    let db = temp.path().join("registry.db");
    let registry = Registry::open(&db).map_err(DiffError::registry(&db))?;
    Ok((temp, registry))
}

/// Tells what `path` is, from what it is rather than its name where
/// possible: a directory with `server.toml`; a file starting like a zip
/// (or named `.ininmigr`); a file starting with a `.reg` header, a
/// byte-order mark, or named `.reg`.
pub(crate) fn detect(path: &Path) -> Result<SideKind> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(DiffError::Missing {
                path: path.to_path_buf(),
            })
        }
        Err(e) => return Err(DiffError::from(PathIoError::new(path, e))),
    };
    if meta.is_dir() {
        return if path.join("server.toml").is_file() {
            Ok(SideKind::ServerRoot)
        } else {
            Err(DiffError::UnknownKind {
                path: path.to_path_buf(),
            })
        };
    }
    let mut head = Vec::with_capacity(64);
    File::open(path)
        .and_then(|f| f.take(64).read_to_end(&mut head))
        .at(path)?;
    let extension = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    if head.starts_with(b"PK") || extension.as_deref() == Some(transit_archive::EXTENSION) {
        return Ok(SideKind::MigrationFile);
    }
    if looks_like_reg(&head) || extension.as_deref() == Some("reg") {
        return Ok(SideKind::RegFile);
    }
    Err(DiffError::UnknownKind {
        path: path.to_path_buf(),
    })
}

/// True for a byte-order mark, or 8-bit text whose first non-blank line
/// starts a `.reg` header.
fn looks_like_reg(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let text = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    let text = &text[start..];
    text.starts_with(b"REGEDIT4") || text.starts_with(b"Windows Registry Editor")
}

/// Fills in a `.reg` side's server and site from the DS keys it holds
/// (`EIC\Directory Services\Root\<Site>\Production\<Server>`). When it
/// holds several servers, the one matching `other` is taken, else the
/// first; the returned note says so.
pub(crate) fn infer_identity(side: &mut Side, other: &SideInfo) -> Result<Option<String>> {
    let reader = side.reader();
    let map = DiffError::registry(&side.registry_path);
    let mut found: Vec<(String, String)> = Vec::new();
    let root = KeyPath::parse(layout::DS_ROOT).expect("valid constant");
    if reader.key_exists(&root).map_err(&map)? {
        for site in reader.subkeys(&root).map_err(&map)? {
            let production = root
                .join(&site)
                .and_then(|p| p.join("Production"))
                .map_err(|e| map(e.into()))?;
            if reader.key_exists(&production).map_err(&map)? {
                for server in reader.subkeys(&production).map_err(&map)? {
                    found.push((site.clone(), server));
                }
            }
        }
    }
    let pick = found
        .iter()
        .position(|(site, server)| {
            other
                .site
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case(site))
                && other
                    .server
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(server))
        })
        .or_else(|| {
            found.iter().position(|(_, server)| {
                other
                    .server
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case(server))
            })
        })
        .unwrap_or(0);
    let note = (found.len() > 1).then(|| {
        let names: Vec<String> = found
            .iter()
            .map(|(site, server)| format!("{server} (site {site})"))
            .collect();
        format!(
            "{} holds the DS keys of {} servers ({}); compared as {} (site {})",
            side.info.path.display(),
            found.len(),
            names.join(", "),
            found[pick].1,
            found[pick].0
        )
    });
    if let Some((site, server)) = found.get(pick) {
        side.info.site = Some(site.clone());
        side.info.server = Some(server.clone());
    }
    Ok(note)
}

/// The role of a `.reg` side whose other side does not tell: a Media
/// Server has `EIC\Media Server` and no Directory Services.
pub(crate) fn infer_role(side: &Side) -> Result<String> {
    let reader = side.reader();
    let map = DiffError::registry(&side.registry_path);
    let media = KeyPath::parse("EIC\\Media Server").expect("valid constant");
    let ds = KeyPath::parse(layout::DS_ROOT).expect("valid constant");
    let is_media =
        reader.key_exists(&media).map_err(&map)? && !reader.key_exists(&ds).map_err(&map)?;
    Ok(if is_media { "media" } else { "cic" }.to_string())
}
