//! `transit migrator install`: the Migrator release a server runs.
//!
//! The vendor's answer to a cross-release migration is to "install the
//! appropriate version of Interaction Migrator" on the source before the
//! export, because a target refuses a file written by an older Migrator.
//! This is the same step for a server root: it changes the `[migrator]`
//! table of `server.toml`, never goes backwards, and writes the change
//! to the server's log.

use crate::error::Result;
use crate::import::Refusal;
use transit_server::{ProductRelease, ServerRoot};

/// What an install changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// The Migrator release and build before.
    pub before: (ProductRelease, u32),
    /// The Migrator release and build now.
    pub after: (ProductRelease, u32),
}

impl Installed {
    /// True when the requested Migrator was already installed.
    pub fn unchanged(&self) -> bool {
        self.before == self.after
    }
}

/// Installs Migrator `release` (build `build`, or this Transit's
/// [`transit_server::root::MIGRATOR_BUILD`]) on the server. A release or
/// build older than the installed one is refused; the same one changes
/// nothing. The change is logged.
pub fn install(
    root: &ServerRoot,
    release: ProductRelease,
    build: Option<u32>,
) -> Result<Installed> {
    let build = build.unwrap_or(transit_server::root::MIGRATOR_BUILD);
    let mut identity = root.identity().clone();
    let before = (identity.migrator.release, identity.migrator.build);
    let after = (release, build);
    if after < before {
        return Err(Refusal::MigratorDowngrade {
            installed: before.0,
            installed_build: before.1,
            requested: release,
            requested_build: build,
        }
        .into());
    }
    if after != before {
        identity.migrator.release = release;
        identity.migrator.build = build;
        identity.save(&root.dir().join("server.toml"))?;
    }
    tracing::info!(
        server = %root.name(),
        from = %format!("{} build {}", before.0, before.1),
        to = %format!("{release} build {build}"),
        changed = after != before,
        "migrator install: Migrator {release} build {build} installed"
    );
    Ok(Installed { before, after })
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_server::{InitParams, Role};

    fn root(dir: &std::path::Path, release: &str) -> ServerRoot {
        ServerRoot::init(
            dir,
            InitParams {
                name: "CIC01".into(),
                site_name: "Indy".into(),
                site_id: 1,
                role: Role::Cic,
                release: release.parse().unwrap(),
                patch: 0,
                machine_key: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn install_upgrades_and_refuses_a_downgrade() {
        let dir = tempfile::tempdir().unwrap();
        let r = root(&dir.path().join("s"), "2015 R1");
        let to = "2018 R1".parse().unwrap();
        let done = install(&r, to, Some(120)).unwrap();
        assert_eq!(done.after, (to, 120));
        let reopened = ServerRoot::open(r.dir()).unwrap();
        assert_eq!(reopened.identity().migrator.release, to);
        assert_eq!(reopened.identity().migrator.build, 120);
        assert!(install(&reopened, to, Some(120)).unwrap().unchanged());
        for (release, build) in [("2015 R1", 200), ("2018 R1", 119)] {
            let err = install(&reopened, release.parse().unwrap(), Some(build)).unwrap_err();
            assert!(
                matches!(
                    err,
                    crate::MigratorError::Refused(Refusal::MigratorDowngrade { .. })
                ),
                "{err}"
            );
        }
        assert_eq!(
            ServerRoot::open(r.dir()).unwrap().identity().migrator.build,
            120,
            "a refused install changes nothing"
        );
    }
}
