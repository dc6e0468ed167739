//! The folder units are installed into, and which systemd manager reads it.

use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use transit_core::{ErrorKind, IoContext, Kind, PathIoError};

/// What can go wrong installing or removing units.
#[derive(Debug, thiserror::Error)]
pub enum UnitError {
    /// A unit file of that name exists already.
    #[error("{} exists: remove it first", .0.display())]
    Exists(PathBuf),
    /// A unit file that Transit did not write (no marker): left alone.
    #[error("{} was not written by transit; left alone", .0.display())]
    NotOurs(PathBuf),
    /// Neither HOME nor XDG_CONFIG_HOME says where the user's units go.
    #[error("no HOME or XDG_CONFIG_HOME to find the user's systemd folder: give the unit folder")]
    NoUserFolder,
    /// Reading or writing a unit file failed.
    #[error(transparent)]
    Io(#[from] PathIoError),
}

impl Kind for UnitError {
    fn kind(&self) -> ErrorKind {
        match self {
            UnitError::Exists(_) | UnitError::NotOurs(_) | UnitError::NoUserFolder => {
                ErrorKind::Usage
            }
            UnitError::Io(e) => e.kind(),
        }
    }
}

/// Which systemd manager reads a unit folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's manager (`systemctl --user`).
    User,
    /// The system manager.
    System,
    /// A folder systemd does not read (tests, staging).
    Other,
}

/// A folder of unit files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitFolder {
    dir: PathBuf,
}

/// The user's unit folder: `$XDG_CONFIG_HOME/systemd/user`, else
/// `~/.config/systemd/user`.
pub fn default_user_dir() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("systemd").join("user"))
}

impl UnitFolder {
    /// The folder `dir`, or the user's unit folder when `None`.
    pub fn new(dir: Option<PathBuf>) -> Result<UnitFolder, UnitError> {
        let dir = match dir {
            Some(dir) => dir,
            None => default_user_dir().ok_or(UnitError::NoUserFolder)?,
        };
        Ok(UnitFolder { dir })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Which manager reads it.
    pub fn scope(&self) -> Scope {
        if default_user_dir().as_deref() == Some(self.dir.as_path()) {
            Scope::User
        } else if self.dir.starts_with("/etc/systemd/system")
            || self.dir.starts_with("/usr/lib/systemd/system")
        {
            Scope::System
        } else {
            Scope::Other
        }
    }

    /// `systemctl` with `--user` when the folder is the user's.
    fn systemctl(&self) -> String {
        match self.scope() {
            Scope::User => "systemctl --user".into(),
            _ => "systemctl".into(),
        }
    }

    /// What to run to start `unit` now and at every boot; `None` when
    /// systemd does not read this folder.
    pub fn enable_hint(&self, unit: &str) -> Option<String> {
        match self.scope() {
            Scope::Other => None,
            _ => Some(format!(
                "{ctl} daemon-reload && {ctl} enable --now {unit}",
                ctl = self.systemctl()
            )),
        }
    }

    /// What to run after units were removed; `None` for other folders.
    pub fn reload_hint(&self) -> Option<String> {
        match self.scope() {
            Scope::Other => None,
            _ => Some(format!("{} daemon-reload", self.systemctl())),
        }
    }

    /// Writes every `(file name, text)` pair, all or none: an existing
    /// file is refused before anything is written, each file appears
    /// complete (written aside, synced, then linked into place without
    /// replacing anything), and a failure removes the files already
    /// written. Returns the paths written.
    pub fn install(&self, files: &[(String, String)]) -> Result<Vec<PathBuf>, UnitError> {
        std::fs::create_dir_all(&self.dir).at(&self.dir)?;
        for (name, _) in files {
            let path = self.dir.join(name);
            if path.exists() {
                return Err(UnitError::Exists(path));
            }
        }
        let mut written = Vec::new();
        for (name, text) in files {
            let path = self.dir.join(name);
            if let Err(e) = write_new(&self.dir, &path, text) {
                for done in &written {
                    let _ = std::fs::remove_file(done);
                }
                return Err(e);
            }
            written.push(path);
        }
        Ok(written)
    }

    /// Every file whose name starts with `prefix` and ends with `suffix`
    /// and that carries a `tag` marker parsing as `T`, sorted by path.
    /// A missing folder holds none.
    pub fn find<T: DeserializeOwned>(
        &self,
        prefix: &str,
        suffix: &str,
        tag: &str,
    ) -> Result<Vec<(T, PathBuf)>, UnitError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(PathIoError::new(&self.dir, e).into()),
        };
        let mut found = Vec::new();
        for entry in entries {
            let path = entry.at(&self.dir)?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if !name.starts_with(prefix) || !name.ends_with(suffix) {
                continue;
            }
            if let Some(value) = self.read(name, tag)? {
                found.push((value, path));
            }
        }
        found.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(found)
    }

    /// The `tag` marker of file `name`; `None` if the file is missing or
    /// carries none.
    pub fn read<T: DeserializeOwned>(&self, name: &str, tag: &str) -> Result<Option<T>, UnitError> {
        let path = self.dir.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(crate::marker::read(tag, &text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PathIoError::new(path, e).into()),
        }
    }

    /// Deletes file `name` if it exists and `is_ours` accepts its `tag`
    /// marker; refuses a file without one. Returns the path if deleted.
    pub fn remove<T: DeserializeOwned>(
        &self,
        name: &str,
        tag: &str,
        is_ours: impl Fn(&T) -> bool,
    ) -> Result<Option<PathBuf>, UnitError> {
        let path = self.dir.join(name);
        if !path.exists() {
            return Ok(None);
        }
        match self.read::<T>(name, tag)? {
            Some(value) if is_ours(&value) => {
                std::fs::remove_file(&path).at(&path)?;
                Ok(Some(path))
            }
            _ => Err(UnitError::NotOurs(path)),
        }
    }

    /// Deletes the `<target>.wants/<unit>` link that `enable` made, if any.
    pub fn remove_wants_link(
        &self,
        target: &str,
        unit: &str,
    ) -> Result<Option<PathBuf>, UnitError> {
        let link = self.dir.join(format!("{target}.wants")).join(unit);
        if link.is_symlink() {
            std::fs::remove_file(&link).at(&link)?;
            return Ok(Some(link));
        }
        Ok(None)
    }

    /// `systemctl [--user] disable --now UNIT`, for a folder systemd
    /// reads. `Ok(None)` for other folders; `Err` carries systemctl's
    /// complaint (the caller reports it and goes on).
    pub fn disable_now(&self, unit: &str) -> Result<Option<String>, String> {
        let mut cmd = std::process::Command::new("systemctl");
        match self.scope() {
            Scope::User => {
                cmd.arg("--user");
            }
            Scope::System => {}
            Scope::Other => return Ok(None),
        }
        cmd.args(["disable", "--now", unit]);
        match cmd.output() {
            Ok(out) if out.status.success() => Ok(Some(format!("stopped and disabled {unit}"))),
            Ok(out) => Err(format!(
                "systemctl could not disable {unit}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => Err(format!("could not run systemctl to disable {unit}: {e}")),
        }
    }
}

/// Writes a file that must not exist yet, whole or not at all.
fn write_new(dir: &Path, path: &Path, text: &str) -> Result<(), UnitError> {
    let mut temp = tempfile::NamedTempFile::new_in(dir).at(dir)?;
    std::io::Write::write_all(&mut temp, text.as_bytes()).at(path)?;
    temp.as_file().sync_all().at(path)?;
    temp.persist_noclobber(path).map_err(|e| e.error).at(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installs_all_or_nothing_and_removes_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let folder = UnitFolder::new(Some(dir.path().join("units"))).unwrap();
        assert_eq!(folder.scope(), Scope::Other);
        let marked = |n: u32| format!("{}\n[Unit]\n", crate::marker::line("transit-t", &n));
        let written = folder
            .install(&[
                ("a.service".into(), marked(1)),
                ("a.timer".into(), marked(1)),
            ])
            .unwrap();
        assert_eq!(written.len(), 2);
        // One existing file refuses the whole set.
        std::fs::write(folder.dir().join("b.timer"), "[Unit]\n").unwrap();
        let err = folder
            .install(&[
                ("b.service".into(), marked(2)),
                ("b.timer".into(), marked(2)),
            ])
            .unwrap_err();
        assert!(matches!(err, UnitError::Exists(_)));
        assert!(!folder.dir().join("b.service").exists());
        let found: Vec<(u32, PathBuf)> = folder.find("", ".timer", "transit-t").unwrap();
        assert_eq!(found.len(), 1);
        assert!(matches!(
            folder.remove::<u32>("b.timer", "transit-t", |_| true),
            Err(UnitError::NotOurs(_))
        ));
        assert!(folder
            .remove::<u32>("a.timer", "transit-t", |n| *n == 1)
            .unwrap()
            .is_some());
        assert!(folder
            .remove::<u32>("a.timer", "transit-t", |_| true)
            .unwrap()
            .is_none());
    }
}
