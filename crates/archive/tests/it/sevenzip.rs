//! Interop with the real 7-Zip: encrypted migration files must extract with
//! `7z x -pPASS`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use transit_archive::{sha256_hex, Manifest};

fn find_7zip() -> Option<PathBuf> {
    transit_testkit::tools::tool_or_skip(&["7zz", "7z"], "apt-get install 7zip").map(PathBuf::from)
}

fn extract(tool: &Path, archive: &Path, out: &Path, password: &str) -> std::process::Output {
    Command::new(tool)
        .arg("x")
        .arg("-y")
        .arg(format!("-p{password}"))
        .arg(format!("-o{}", out.display()))
        .arg(archive)
        .output()
        .unwrap()
}

#[test]
fn sevenzip_extracts_encrypted_file() {
    let Some(tool) = find_7zip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "interop.ininmigr", Some(PASSWORD));

    let out = dir.path().join("out");
    let res = extract(&tool, &path, &out, PASSWORD);
    assert!(
        res.status.success(),
        "7z failed: {}\n{}",
        String::from_utf8_lossy(&res.stdout),
        String::from_utf8_lossy(&res.stderr)
    );
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest.components.len(), 2);
    for c in &manifest.components {
        let bytes = std::fs::read(out.join(&c.entry)).unwrap();
        assert_eq!(bytes.len() as u64, c.size);
        assert_eq!(sha256_hex(&bytes), c.sha256, "{}", c.entry);
    }

    // Inner zips are plain zips 7-Zip can read too.
    for c in &manifest.components {
        let inner_out = dir
            .path()
            .join(format!("inner-{}", c.entry.replace('/', "_")));
        let res = Command::new(&tool)
            .arg("x")
            .arg("-y")
            .arg(format!("-o{}", inner_out.display()))
            .arg(out.join(&c.entry))
            .output()
            .unwrap();
        assert!(
            res.status.success(),
            "{}",
            String::from_utf8_lossy(&res.stdout)
        );
        for e in &c.entries {
            let bytes = std::fs::read(inner_out.join(&e.path)).unwrap();
            assert_eq!(sha256_hex(&bytes), e.sha256, "{}", e.path);
        }
    }
    let users = manifest
        .components
        .iter()
        .find(|c| c.id == "Users")
        .unwrap();
    let reg = dir
        .path()
        .join(format!("inner-{}", users.entry.replace('/', "_")))
        .join("Users.reg");
    assert_eq!(std::fs::read_to_string(reg).unwrap(), REG_TEXT);

    // A wrong password fails.
    let bad_out = dir.path().join("bad");
    let res = extract(&tool, &path, &bad_out, "not-the-password");
    assert!(!res.status.success(), "7z accepted a wrong password");
}
