//! Fixtures: a provider repository with a trusted publisher, manifests,
//! payloads and bundles.

use std::path::{Path, PathBuf};
use transit_core::{CancelToken, NoProgress};
use transit_update::keys::SigningKey;
use transit_update::publishers::AllowList;
use transit_update::repo::{self, Expiry, UpdateRepository};

pub use transit_testkit::update::{manifest, rt};

/// A provider data folder with a repository and one trusted publisher.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub root_key: PathBuf,
    pub publisher: SigningKey,
    pub repo: UpdateRepository,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let root_key = dir.path().join("offline/root.key");
        rt().block_on(repo::init(&data, &root_key, Expiry::default()))
            .unwrap();
        let repo = UpdateRepository::open(&data).unwrap();
        let publisher = SigningKey::generate(&dir.path().join("publisher/Genesys.key")).unwrap();
        let mut list = AllowList::default();
        list.trust("Genesys", &publisher.public());
        list.save(&repo.publishers_path()).unwrap();
        Fixture {
            dir,
            data,
            root_key,
            publisher,
            repo,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Builds a bundle of `manifest` with a small payload, signed by `key`
    /// (the fixture's publisher when `None`).
    pub fn bundle(&self, name: &str, manifest: &str, key: Option<&SigningKey>) -> PathBuf {
        let from = self.path(&format!("payload-{name}"));
        payload(&from, 3, 10_000);
        let out = self.path(&format!("bundles/{name}.tbundle"));
        transit_update::bundle::build(
            &from,
            manifest,
            Some(key.unwrap_or(&self.publisher)),
            &out,
            &CancelToken::new(),
            &NoProgress,
        )
        .unwrap();
        out
    }

    /// Ingests a bundle.
    pub fn ingest(&self, bundle: &Path) -> transit_update::ingest::Ingested {
        rt().block_on(transit_update::ingest::ingest_file(
            &self.repo,
            bundle,
            None,
            &CancelToken::new(),
            &NoProgress,
        ))
        .unwrap()
    }
}

/// Writes `files` files of about `size` bytes each (some text, some
/// noise) under `dir`, one in a subfolder.
pub fn payload(dir: &Path, files: usize, size: usize) {
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    for i in 0..files {
        let mut data = Vec::with_capacity(size);
        let mut x = 0x9e37_79b9_u32.wrapping_mul(i as u32 + 1);
        while data.len() < size {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            data.extend_from_slice(format!("line {x}\n").as_bytes());
        }
        let name = if i == 0 {
            "bin/setup.sh".to_string()
        } else {
            format!("file{i}.dat")
        };
        std::fs::write(dir.join(name), data).unwrap();
    }
}

/// The standard patch manifest.
pub fn patch3() -> String {
    manifest("Interaction Desktop", "2018 R1", 3, "Patch", "18.01.03.12")
}

/// The python-tuf interpreter (TRANSIT_PYTHON_TUF), or a skip (a failure
/// under TRANSIT_REQUIRE_TOOLS).
pub fn python_tuf() -> Option<PathBuf> {
    match std::env::var_os("TRANSIT_PYTHON_TUF")
        .map(PathBuf::from)
        .filter(|p| p.exists())
    {
        Some(python) => Some(python),
        None => transit_testkit::tools::skip(
            "a python with python-tuf in $TRANSIT_PYTHON_TUF",
            ".ci/run creates the venv",
        ),
    }
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}
