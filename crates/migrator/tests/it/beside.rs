//! The restore point and the file's authentication run beside the import's
//! work; the commit waits for both. What that must not change: a restore
//! point that cannot be taken stops the import with nothing changed, a
//! staging folder left by an import killed before its journal existed is
//! cleared, and a file whose manifest names the source server in a way no
//! registry key can hold is refused, not a crash.

use crate::import::{pair, plan};
use std::io::{Read, Write};
use std::path::Path;
use transit_core::{CancelToken, ErrorKind, Kind};
use transit_migrator::import::{import, ImportMode};
use transit_migrator::restore::{self, STAGING_DIR};
use transit_testkit::state::{assert_same, state};

#[test]
fn a_restore_point_that_cannot_be_taken_stops_the_import_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    // The restore points' folder is a file: no restore point can be made.
    let points = b.restore_points_dir();
    let _ = std::fs::remove_dir_all(&points);
    std::fs::write(&points, b"not a folder").unwrap();
    let before = state(&b);
    let err = import(
        &b,
        &plan(&file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other, "{err:?}");
    assert_same(&before, &state(&b));
    assert!(!restore::journal_exists(&b));
    assert!(!b.dir().join(STAGING_DIR).exists());
    assert!(!dir.path().join("x").exists() || is_empty(&dir.path().join("x")));
}

fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn a_staging_folder_left_by_a_killed_import_is_cleared_by_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let stale = b.dir().join(STAGING_DIR).join("files/Stale/left.txt");
    std::fs::create_dir_all(stale.parent().unwrap()).unwrap();
    std::fs::write(&stale, b"from a killed import").unwrap();
    let report = import(
        &b,
        &plan(&file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    assert!(report.restore_point.is_some());
    assert!(!b.dir().join(STAGING_DIR).exists());
    assert!(!b.dir().join("files/Stale").exists());
    assert!(!restore::journal_exists(&b));
}

/// Rewrites the migration file with `edit` applied to its manifest; every
/// entry keeps its content and is encrypted again with the same password.
fn rewrite_manifest(file: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let mut entries = Vec::new();
    {
        let mut zip = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
        for i in 0..zip.len() {
            let mut e = zip.by_index_decrypt(i, b"pw").unwrap();
            let name = e.name().unwrap().to_string();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            entries.push((name, data));
        }
    }
    let mut zip = zip::ZipWriter::new(std::fs::File::create(file).unwrap());
    for (name, mut data) in entries {
        if name.as_str() == "manifest.json" {
            let mut m: serde_json::Value = serde_json::from_slice(&data).unwrap();
            edit(&mut m);
            data = serde_json::to_vec(&m).unwrap();
        }
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .with_aes_encryption(zip::AesMode::Aes256, "pw");
        zip.start_file(name, opts).unwrap();
        zip.write_all(&data).unwrap();
    }
    zip.finish().unwrap();
}

#[test]
fn source_names_that_cannot_be_key_segments_are_refused_as_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let before = state(&b);
    for (field, bad) in [
        ("server_name", ""),
        ("server_name", "CIC\\A"),
        ("site_name", "In\u{1}dy"),
    ] {
        rewrite_manifest(&file, |m| m["source"][field] = serde_json::Value::from(bad));
        for mode in [ImportMode::Migration, ImportMode::Recovery] {
            let err = import(
                &b,
                &plan(&file, &dir.path().join("x"), mode),
                &|_| {},
                &CancelToken::new(),
            )
            .unwrap_err();
            let text = err.to_string();
            assert!(
                err.kind() == ErrorKind::Tampered || err.kind() == ErrorKind::Refused,
                "{field} = {bad:?}, {mode:?}: {err:?}"
            );
            if err.kind() == ErrorKind::Tampered {
                assert!(text.contains("manifest.json"), "{text}");
            }
            assert_same(&before, &state(&b));
        }
        rewrite_manifest(&file, |m| {
            m["source"]["server_name"] = serde_json::Value::from("CICA");
            m["source"]["site_name"] = serde_json::Value::from("Indy");
        });
    }
    // Put right again, the file imports.
    import(
        &b,
        &plan(&file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
}
