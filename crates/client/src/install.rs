//! Versioned installs with an atomic switch and a persisted journal.
//!
//! Layout under the install root, per application:
//! - `<app>/<version>/`: one complete tree per version;
//! - `<app>/current` and `<app>/previous`: relative symlinks to a version,
//!   replaced by `rename(2)` of a fresh link, then the folder is synced;
//! - `<app>/.meta/<version>.toml`: the signed manifest of that version;
//! - `<app>/.staging-<version>/`: a payload being unpacked.
//!
//! Before changing anything an operation writes `journal.json` (synced)
//! in the agent's state folder. The next start reads it: an install that
//! had not reached `Ready` (its tree complete and synced, its hook run) is
//! rolled back, one that had is switched; a removal always goes forward.
//! **Invariant:** `current` only ever points at a complete tree.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::Command;
use transit_core::{CancelToken, ErrorKind, IoContext, Kind, PathIoError};
use transit_provider::api::InstalledJson;
use transit_update::{InstallVersion, Manifest};

/// The payload's optional install hook, at the top of the tree.
pub const HOOK: &str = "transit-hook";
/// The hook's exit status meaning "installed, restart required" (the
/// MSI's 3010, which does not fit an exit status).
pub const HOOK_RESTART: i32 = 10;

/// An install or removal that failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] PathIoError),
    /// The payload is not a tar.zst, or holds an entry that would land
    /// outside its folder.
    #[error("{application} {version}: the payload cannot be unpacked: {problem}")]
    Unpack {
        /// The application.
        application: String,
        /// The version.
        version: InstallVersion,
        /// What went wrong.
        problem: String,
    },
    /// The install hook failed; the new version was rolled back.
    #[error("{application} {version}: the install hook failed ({status}); rolled back")]
    Hook {
        /// The application.
        application: String,
        /// The version.
        version: InstallVersion,
        /// Its exit status.
        status: String,
    },
    /// The application's name cannot be a folder name.
    #[error("`{0}` cannot be installed: its name is not usable as a folder name")]
    BadName(String),
    /// A rollback's target version is not on the machine.
    #[error("{application}: cannot roll back to {to}: that version is not installed here")]
    NoPrevious {
        /// The application.
        application: String,
        /// The version asked for.
        to: InstallVersion,
    },
    /// The version asked for is the one kept for rolling back: installing
    /// it again would replace that tree before the new one is known good.
    #[error("{application} {version} is the previous version kept for rolling back; remove the current version to go back to it")]
    IsPrevious {
        /// The application.
        application: String,
        /// The version asked for.
        version: InstallVersion,
    },
    /// The user cancelled before the switch; nothing changed.
    #[error("cancelled; nothing was changed")]
    Cancelled,
}

impl Kind for InstallError {
    fn kind(&self) -> ErrorKind {
        match self {
            InstallError::Io(e) => e.kind(),
            InstallError::Unpack { .. } => ErrorKind::UpdateBadBundle,
            InstallError::Hook { .. }
            | InstallError::NoPrevious { .. }
            | InstallError::IsPrevious { .. } => ErrorKind::Refused,
            InstallError::BadName(_) => ErrorKind::BadInput,
            InstallError::Cancelled => ErrorKind::Cancelled,
        }
    }
}

/// What a journal records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// Install `to` over `from`.
    Install,
    /// Remove `from`: back to `to`, or uninstall when `to` is none.
    Remove,
}

/// How far an install got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Step {
    /// Started: the new tree may be partial. Recovery rolls back.
    Begun,
    /// The new tree is complete and synced and its hook ran: recovery switches.
    Ready,
}

/// The persisted action journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// The operation.
    pub op: Op,
    /// The catalog ID of the update (for the result report).
    pub update_id: i64,
    /// The application.
    pub application: String,
    /// The version `current` pointed at when it began.
    pub from: Option<InstallVersion>,
    /// The version `current` points at when it is done.
    pub to: Option<InstallVersion>,
    /// How far it got.
    pub step: Step,
    /// The hook asked for a restart.
    #[serde(default)]
    pub restart_required: bool,
}

/// What recovery did with an interrupted journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recovered {
    /// The journal it found.
    pub journal: Journal,
    /// True when it finished the operation, false when it rolled it back.
    pub completed: bool,
}

/// The outcome of an install.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Installed {
    /// The hook asked for a restart.
    pub restart_required: bool,
    /// The version was already current; nothing was done.
    pub already: bool,
}

/// Kills the process when `TRANSIT_CRASH_AT` names `client:<step>` (the
/// crash tests' hook, like the migrator's).
pub fn crash_point(step: &str) {
    if std::env::var("TRANSIT_CRASH_AT").is_ok_and(|s| s.strip_prefix("client:") == Some(step)) {
        let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
    }
}

/// The install root and the journal.
#[derive(Debug, Clone)]
pub struct Installer {
    root: PathBuf,
    journal: PathBuf,
}

fn sync_dir(dir: &Path) -> Result<(), PathIoError> {
    std::fs::File::open(dir).at(dir)?.sync_all().at(dir)
}

/// Writes `bytes` to `path` atomically: a synced temporary file renamed
/// over it, then the folder synced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PathIoError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).at(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).at(dir)?;
    std::io::Write::write_all(&mut tmp, bytes).at(path)?;
    tmp.as_file().sync_all().at(path)?;
    tmp.persist(path)
        .map_err(|e| PathIoError::new(path, e.error))?;
    sync_dir(dir)
}

/// Points `link` (inside `dir`) at `target` by renaming a fresh link over it.
fn switch_link(dir: &Path, link: &str, target: Option<&str>) -> Result<(), PathIoError> {
    let path = dir.join(link);
    match target {
        Some(target) => {
            let tmp = dir.join(format!(".{link}.new"));
            let _ = std::fs::remove_file(&tmp);
            std::os::unix::fs::symlink(target, &tmp).at(&tmp)?;
            std::fs::rename(&tmp, &path).at(&path)?;
        }
        None => match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(PathIoError::new(&path, e)),
        },
    }
    Ok(())
}

fn read_link_version(path: &Path) -> Option<InstallVersion> {
    std::fs::read_link(path)
        .ok()?
        .to_str()?
        .parse::<InstallVersion>()
        .ok()
}

fn remove_tree(path: &Path) -> Result<(), PathIoError> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PathIoError::new(path, e)),
    }
}

fn remove_file(path: &Path) -> Result<(), PathIoError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(PathIoError::new(path, e)),
    }
}

/// Checks an application name is a usable folder name.
pub fn app_dir_name(application: &str) -> Result<&str, InstallError> {
    if application.is_empty()
        || application.starts_with('.')
        || application.contains('/')
        || application.contains('\0')
        || application.len() > 200
    {
        return Err(InstallError::BadName(application.to_string()));
    }
    Ok(application)
}

impl Installer {
    /// Installs under `root`, journalling in `state_dir`.
    pub fn new(root: &Path, state_dir: &Path) -> Installer {
        Installer {
            root: root.to_path_buf(),
            journal: state_dir.join("journal.json"),
        }
    }

    /// The install root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// An application's folder.
    pub fn app_dir(&self, application: &str) -> Result<PathBuf, InstallError> {
        Ok(self.root.join(app_dir_name(application)?))
    }

    /// The version `current` points at.
    pub fn current(&self, application: &str) -> Option<InstallVersion> {
        read_link_version(&self.app_dir(application).ok()?.join("current"))
    }

    /// The version `previous` points at.
    pub fn previous(&self, application: &str) -> Option<InstallVersion> {
        read_link_version(&self.app_dir(application).ok()?.join("previous"))
    }

    fn write_journal(&self, j: &Journal) -> Result<(), PathIoError> {
        let bytes = serde_json::to_vec_pretty(j).expect("a journal serialises");
        write_atomic(&self.journal, &bytes)
    }

    fn clear_journal(&self) -> Result<(), PathIoError> {
        remove_file(&self.journal)?;
        if let Some(dir) = self.journal.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }

    /// The journal of an interrupted operation, if there is one.
    pub fn journal(&self) -> Result<Option<Journal>, PathIoError> {
        match std::fs::read(&self.journal) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(j) => Ok(Some(j)),
                Err(e) => Err(PathIoError::new(
                    &self.journal,
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
                )),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PathIoError::new(&self.journal, e)),
        }
    }

    /// Every application with a `current` version, as the check-in reports them.
    pub fn installed(&self) -> Vec<InstalledJson> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(&self.root) else {
            return out;
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with('.'))
            .collect();
        names.sort();
        for name in names {
            let dir = self.root.join(&name);
            let Some(version) = read_link_version(&dir.join("current")) else {
                continue;
            };
            let meta = dir.join(".meta").join(format!("{version}.toml"));
            let Some(manifest) = std::fs::read_to_string(&meta)
                .ok()
                .and_then(|t| Manifest::parse(&t).ok())
            else {
                continue;
            };
            out.push(InstalledJson {
                application: manifest.application.clone(),
                release: manifest.release.to_string(),
                patch: manifest.patch,
                version,
                previous: read_link_version(&dir.join("previous")),
            });
        }
        out
    }

    /// Finishes or rolls back an interrupted operation (run at start).
    pub fn recover(&self) -> Result<Option<Recovered>, InstallError> {
        let Some(j) = self.journal()? else {
            return Ok(None);
        };
        let dir = self.app_dir(&j.application)?;
        let completed = match (j.op, j.step) {
            (Op::Install, Step::Begun) => {
                if let Some(to) = j.to {
                    remove_tree(&dir.join(format!(".staging-{to}")))?;
                    if read_link_version(&dir.join("current")) != Some(to) {
                        remove_tree(&dir.join(to.to_string()))?;
                        remove_file(&dir.join(".meta").join(format!("{to}.toml")))?;
                    }
                    if dir.exists() {
                        sync_dir(&dir)?;
                    }
                }
                false
            }
            (Op::Install, Step::Ready) => {
                self.switch(&dir, &j)?;
                true
            }
            (Op::Remove, _) => {
                self.finish_remove(&dir, &j)?;
                true
            }
        };
        self.clear_journal()?;
        Ok(Some(Recovered {
            journal: j,
            completed,
        }))
    }

    fn switch(&self, dir: &Path, j: &Journal) -> Result<(), PathIoError> {
        let to = j.to.expect("an install has a version").to_string();
        switch_link(dir, "current", Some(&to))?;
        match j.from {
            Some(from) if Some(from) != j.to => {
                switch_link(dir, "previous", Some(&from.to_string()))?
            }
            _ => {}
        }
        sync_dir(dir)?;
        crash_point("switched");
        self.prune(dir)
    }

    /// Deletes versions that are neither current nor previous.
    fn prune(&self, dir: &Path) -> Result<(), PathIoError> {
        let keep: Vec<String> = ["current", "previous"]
            .iter()
            .filter_map(|l| read_link_version(&dir.join(l)))
            .map(|v| v.to_string())
            .collect();
        for e in std::fs::read_dir(dir).at(dir)?.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.parse::<InstallVersion>().is_ok() && !keep.contains(&name) {
                remove_tree(&e.path())?;
                remove_file(&dir.join(".meta").join(format!("{name}.toml")))?;
            }
        }
        sync_dir(dir)
    }

    /// Installs the verified payload `payload` (a `tar.zst`) of `manifest`
    /// as a new version and switches `current` to it. Only a payload whose
    /// hash was checked may be passed here.
    pub fn install(
        &self,
        update_id: i64,
        manifest: &Manifest,
        payload: &Path,
        cancel: &CancelToken,
    ) -> Result<Installed, InstallError> {
        let application = manifest.application.as_str();
        let version = manifest.install_version;
        let dir = self.app_dir(application)?;
        let from = self.current(application);
        if from == Some(version) {
            return Ok(Installed {
                restart_required: false,
                already: true,
            });
        }
        if self.previous(application) == Some(version) {
            return Err(InstallError::IsPrevious {
                application: application.to_string(),
                version,
            });
        }
        std::fs::create_dir_all(dir.join(".meta")).at(&dir)?;
        let mut journal = Journal {
            op: Op::Install,
            update_id,
            application: application.to_string(),
            from,
            to: Some(version),
            step: Step::Begun,
            restart_required: false,
        };
        self.write_journal(&journal)?;
        crash_point("journal");
        let staging = dir.join(format!(".staging-{version}"));
        let result = self.stage(manifest, payload, &staging, &dir, cancel);
        let restart_required = match result {
            Ok(r) => r,
            Err(e) => {
                // Roll back: the old version stays current.
                let _ = remove_tree(&staging);
                let _ = remove_tree(&dir.join(version.to_string()));
                let _ = remove_file(&dir.join(".meta").join(format!("{version}.toml")));
                let _ = sync_dir(&dir);
                self.clear_journal()?;
                return Err(e);
            }
        };
        journal.step = Step::Ready;
        journal.restart_required = restart_required;
        self.write_journal(&journal)?;
        crash_point("ready");
        self.switch(&dir, &journal)?;
        self.clear_journal()?;
        Ok(Installed {
            restart_required,
            already: false,
        })
    }

    /// Unpacks, syncs and renames the new tree into place, then runs its
    /// hook; returns whether the hook asked for a restart.
    fn stage(
        &self,
        manifest: &Manifest,
        payload: &Path,
        staging: &Path,
        dir: &Path,
        cancel: &CancelToken,
    ) -> Result<bool, InstallError> {
        let version = manifest.install_version;
        let unpack_err = |problem: String| InstallError::Unpack {
            application: manifest.application.clone(),
            version,
            problem,
        };
        remove_tree(staging)?;
        std::fs::create_dir_all(staging).at(staging)?;
        let file = std::fs::File::open(payload).at(payload)?;
        let decoder = zstd::Decoder::new(file).map_err(|e| unpack_err(e.to_string()))?;
        let mut archive = tar::Archive::new(decoder);
        archive.set_preserve_permissions(true);
        archive.set_overwrite(false);
        let entries = archive.entries().map_err(|e| unpack_err(e.to_string()))?;
        let mut n = 0u64;
        for entry in entries {
            if cancel.is_cancelled() {
                return Err(InstallError::Cancelled);
            }
            let mut entry = entry.map_err(|e| unpack_err(e.to_string()))?;
            let unpacked = entry
                .unpack_in(staging)
                .map_err(|e| unpack_err(e.to_string()))?;
            if !unpacked {
                return Err(unpack_err(format!(
                    "entry `{}` would land outside the version folder",
                    entry
                        .path()
                        .map(|p| p.display().to_string())
                        .unwrap_or_default()
                )));
            }
            n += 1;
            if n == 2 {
                crash_point("unpacking");
            }
        }
        // Everything the tree holds reaches the disk before it is named.
        let fd = std::fs::File::open(staging).at(staging)?;
        nix::unistd::syncfs(std::os::fd::AsRawFd::as_raw_fd(&fd))
            .map_err(|e| PathIoError::new(staging, std::io::Error::from(e)))?;
        let target = dir.join(version.to_string());
        remove_tree(&target)?;
        std::fs::rename(staging, &target).at(&target)?;
        let meta = dir.join(".meta").join(format!("{version}.toml"));
        write_atomic(&meta, manifest.to_toml().as_bytes())?;
        sync_dir(dir)?;
        crash_point("unpacked");
        let hook = target.join(HOOK);
        if !hook.is_file() {
            return Ok(false);
        }
        let status = Command::new(&hook)
            .arg("install")
            .current_dir(&target)
            .env("TRANSIT_APPLICATION", &manifest.application)
            .env("TRANSIT_VERSION", version.to_string())
            .env(
                "TRANSIT_PREVIOUS",
                self.current(&manifest.application)
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
            )
            .status()
            .at(&hook)?;
        match status.code() {
            Some(0) => Ok(false),
            Some(HOOK_RESTART) => Ok(true),
            _ => Err(InstallError::Hook {
                application: manifest.application.clone(),
                version,
                status: status.to_string(),
            }),
        }
    }

    /// Removes `application`'s current version: back to `to` (which must
    /// be on the machine), or an uninstall when `to` is none.
    pub fn remove(
        &self,
        update_id: i64,
        application: &str,
        to: Option<InstallVersion>,
    ) -> Result<(), InstallError> {
        let dir = self.app_dir(application)?;
        let from = self.current(application);
        if let Some(to) = to {
            if from == Some(to) {
                return Ok(());
            }
            if !dir.join(to.to_string()).is_dir() {
                return Err(InstallError::NoPrevious {
                    application: application.to_string(),
                    to,
                });
            }
        }
        let journal = Journal {
            op: Op::Remove,
            update_id,
            application: application.to_string(),
            from,
            to,
            step: Step::Begun,
            restart_required: false,
        };
        self.write_journal(&journal)?;
        crash_point("remove-journal");
        self.finish_remove(&dir, &journal)?;
        self.clear_journal()?;
        Ok(())
    }

    fn finish_remove(&self, dir: &Path, j: &Journal) -> Result<(), PathIoError> {
        if !dir.exists() {
            return Ok(());
        }
        match j.to {
            Some(to) => {
                switch_link(dir, "current", Some(&to.to_string()))?;
                switch_link(dir, "previous", None)?;
                sync_dir(dir)?;
                crash_point("remove-switched");
                self.prune(dir)?;
            }
            None => {
                switch_link(dir, "current", None)?;
                switch_link(dir, "previous", None)?;
                sync_dir(dir)?;
                crash_point("remove-switched");
                remove_tree(dir)?;
                sync_dir(&self.root)?;
            }
        }
        Ok(())
    }
}
