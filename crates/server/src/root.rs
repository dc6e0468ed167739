//! Server roots: one directory per server.

use crate::error::{Result, ServerError};
use crate::identity::{MigratorSection, Role, ServerIdentity, ServerSection};
use crate::layout;
use crate::lock::{self, ServiceGuard, ServiceStatus};
use crate::machine_key::MachineKey;
use crate::release::ProductRelease;
use std::path::{Path, PathBuf};
use transit_core::IoContext;
use transit_registry::{KeyPath, Registry};

/// The Migrator build this Transit release calls itself.
pub const MIGRATOR_BUILD: u32 = 100;

/// What `transit server init` needs to know.
#[derive(Debug, Clone)]
pub struct InitParams {
    /// The server name.
    pub name: String,
    /// The site name.
    pub site_name: String,
    /// The site ID.
    pub site_id: u32,
    /// CIC or Media Server.
    pub role: Role,
    /// The product release.
    pub release: ProductRelease,
    /// The patch level.
    pub patch: u32,
    /// The machine key; `None` draws a fresh random one.
    pub machine_key: Option<MachineKey>,
}

/// An open server root.
///
/// Layout: `server.toml` (identity), `machine.key`, `registry.db`,
/// `files/`, `run/` (service lock), `logs/`, `restore-points/`.
#[derive(Debug, Clone)]
pub struct ServerRoot {
    dir: PathBuf,
    identity: ServerIdentity,
}

impl ServerRoot {
    /// Creates a new, empty server root (the directory may exist but must
    /// not already hold a server). The registry gets the server's DS
    /// skeleton.
    pub fn init(dir: &Path, params: InitParams) -> Result<ServerRoot> {
        Ok(ServerRoot::init_with(dir, params, |_| Ok::<(), ServerError>(()))?.0)
    }

    /// [`init`](Self::init), with `fill` run on the new root before
    /// `server.toml` is written: until `fill` returns, the folder is not a
    /// server root, so an interrupted fill (a demo server killed half-way)
    /// never leaves one that looks valid.
    pub fn init_with<T, E: From<ServerError>>(
        dir: &Path,
        params: InitParams,
        fill: impl FnOnce(&ServerRoot) -> std::result::Result<T, E>,
    ) -> std::result::Result<(ServerRoot, T), E> {
        let root = ServerRoot::prepare(dir, params)?;
        let filled = fill(&root)?;
        // server.toml last: a root without it is not a server yet.
        root.identity.save(&root.dir.join("server.toml"))?;
        Ok((root, filled))
    }

    /// Everything of a new root but its `server.toml`.
    fn prepare(dir: &Path, params: InitParams) -> Result<ServerRoot> {
        let toml = dir.join("server.toml");
        if toml.exists() {
            return Err(ServerError::AlreadyExists(dir.to_path_buf()));
        }
        // Leftovers of an earlier server (its server.toml lost): reusing its
        // registry with a new machine key would make every secret in it
        // undecryptable, so refuse rather than guess.
        for leftover in ["machine.key", "registry.db"] {
            if dir.join(leftover).exists() {
                return Err(ServerError::Leftovers(dir.join(leftover)));
            }
        }
        let key = params.machine_key.unwrap_or_else(MachineKey::generate);
        let identity = ServerIdentity {
            server: ServerSection {
                name: params.name,
                site_name: params.site_name,
                site_id: params.site_id,
                role: params.role,
                product_release: params.release,
                patch: params.patch,
                machine_key_id: key.id(),
            },
            migrator: MigratorSection {
                release: params.release,
                build: MIGRATOR_BUILD,
            },
        };
        identity
            .validate()
            .map_err(|reason| ServerError::BadIdentity {
                path: toml.clone(),
                reason,
            })?;
        std::fs::create_dir_all(dir).at(dir)?;
        for sub in ["files", "run", "logs", "restore-points"] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).at(&p)?;
        }
        key.save(&dir.join("machine.key"))?;
        let root = ServerRoot {
            dir: dir.to_path_buf(),
            identity,
        };
        let mut registry = Registry::open(&root.registry_path())?;
        let mut txn = registry.write()?;
        if root.identity.server.role == Role::Cic {
            for container in layout::DS_CONTAINERS {
                txn.create_key(&root.ds_container(container))?;
            }
        } else {
            for key in [layout::MEDIA_CONFIG, layout::MEDIA_CERTIFICATES] {
                txn.create_key(&KeyPath::parse(key).expect("constant path"))?;
            }
        }
        txn.commit()?;
        drop(registry);
        Ok(root)
    }

    /// Opens an existing server root.
    pub fn open(dir: &Path) -> Result<ServerRoot> {
        if !dir.is_dir() {
            return Err(ServerError::NoRoot(dir.to_path_buf()));
        }
        let toml = dir.join("server.toml");
        if !toml.is_file() {
            return Err(ServerError::NotARoot(dir.to_path_buf()));
        }
        let identity = ServerIdentity::load(&toml)?;
        Ok(ServerRoot {
            dir: dir.to_path_buf(),
            identity,
        })
    }

    /// The root directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The server's identity (`server.toml`).
    pub fn identity(&self) -> &ServerIdentity {
        &self.identity
    }

    /// The server name.
    pub fn name(&self) -> &str {
        &self.identity.server.name
    }

    /// The site name.
    pub fn site_name(&self) -> &str {
        &self.identity.server.site_name
    }

    /// `registry.db`.
    pub fn registry_path(&self) -> PathBuf {
        self.dir.join("registry.db")
    }

    /// `files/`, the root of the file areas.
    pub fn files_dir(&self) -> PathBuf {
        self.dir.join("files")
    }

    /// `run/`, which holds the service lock.
    pub fn run_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    /// `logs/`.
    pub fn logs_dir(&self) -> PathBuf {
        self.dir.join("logs")
    }

    /// `restore-points/`.
    pub fn restore_points_dir(&self) -> PathBuf {
        self.dir.join("restore-points")
    }

    /// Opens the registry (which must exist).
    pub fn open_registry(&self) -> Result<Registry> {
        Ok(Registry::open_existing(&self.registry_path())?)
    }

    /// Checks the registry opens and passes SQLite's quick integrity check
    /// (what `server start` does before it starts).
    pub fn check_registry(&self) -> Result<()> {
        Ok(self.open_registry()?.quick_check()?)
    }

    /// Loads the machine key and checks it is the one `server.toml` names.
    pub fn machine_key(&self) -> Result<MachineKey> {
        let key = MachineKey::load(&self.dir.join("machine.key"))?;
        if key.id() != self.identity.server.machine_key_id {
            return Err(ServerError::MachineKey(format!(
                "machine.key has ID {} but server.toml names {}",
                key.id(),
                self.identity.server.machine_key_id
            )));
        }
        Ok(key)
    }

    /// This server's DS key.
    pub fn ds_server(&self) -> KeyPath {
        layout::ds_server(self.site_name(), self.name())
    }

    /// One of this server's DS containers.
    pub fn ds_container(&self, container: &str) -> KeyPath {
        layout::ds_container(self.site_name(), self.name(), container)
    }

    /// Whether the server service runs.
    pub fn service_status(&self) -> Result<ServiceStatus> {
        lock::status(&self.run_dir())
    }

    /// Takes the service lock (for `transit server start`).
    pub fn acquire_service_lock(&self) -> Result<ServiceGuard> {
        lock::acquire(&self.run_dir())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_registry::RegistryRead;

    fn params() -> InitParams {
        InitParams {
            name: "CIC01".into(),
            site_name: "Indy".into(),
            site_id: 7,
            role: Role::Cic,
            release: "2015 R1".parse().unwrap(),
            patch: 0,
            machine_key: None,
        }
    }

    #[test]
    fn init_then_open() {
        let dir = tempfile::tempdir().unwrap();
        let root = ServerRoot::init(&dir.path().join("s"), params()).unwrap();
        for sub in [
            "files",
            "run",
            "logs",
            "restore-points",
            "registry.db",
            "machine.key",
        ] {
            assert!(root.dir().join(sub).exists(), "{sub}");
        }
        let again = ServerRoot::open(root.dir()).unwrap();
        assert_eq!(again.identity(), root.identity());
        assert!(again.machine_key().is_ok());
        let reg = again.open_registry().unwrap();
        assert!(reg.key_exists(&again.ds_container("Users")).unwrap());
        assert!(matches!(
            ServerRoot::init(root.dir(), params()),
            Err(ServerError::AlreadyExists(_))
        ));
    }

    #[test]
    fn init_refuses_the_leftovers_of_an_earlier_server() {
        let dir = tempfile::tempdir().unwrap();
        let root = ServerRoot::init(&dir.path().join("s"), params()).unwrap();
        std::fs::remove_file(root.dir().join("server.toml")).unwrap();
        let key_before = std::fs::read(root.dir().join("machine.key")).unwrap();
        let err = ServerRoot::init(root.dir(), params()).unwrap_err();
        assert!(matches!(err, ServerError::Leftovers(_)), "{err:?}");
        assert_eq!(
            std::fs::read(root.dir().join("machine.key")).unwrap(),
            key_before
        );
    }

    #[test]
    fn missing_roots_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let err = ServerRoot::open(&dir.path().join("nope")).unwrap_err();
        assert!(matches!(err, ServerError::NoRoot(_)));
        assert!(err.to_string().contains("does not exist"));
        assert!(matches!(
            ServerRoot::open(dir.path()),
            Err(ServerError::NotARoot(_))
        ));
    }

    #[test]
    fn invalid_init_params_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let mut p = params();
        p.site_id = 0;
        let target = dir.path().join("s");
        assert!(ServerRoot::init(&target, p).is_err());
        assert!(!target.exists());
    }
}
