//! Issue 11, "Migrator hardening": an import checks the whole file before
//! anything changes, restore points belong to imports that started, no
//! export reads a root an import is changing, and the leftovers of killed
//! exports and imports are cleaned.

use crate::import::{export_all, pair, plan};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use transit_archive::{ArchiveError, MigrationReader};
use transit_core::{CancelToken, Event};
use transit_migrator::import::{import, ImportMode, ImportPlan, Refusal};
use transit_migrator::locks::{ImportLock, ReadLock};
use transit_migrator::restore;
use transit_migrator::{export, ExportPlan, MigratorError};
use transit_server::ServerRoot;
use transit_testkit::state::{assert_same, state};

/// Each outer entry: (name, where its data starts, its stored size).
fn entries(file: &Path) -> Vec<(String, u64, u64)> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(file).unwrap()).unwrap();
    (0..zip.len())
        .map(|i| {
            let e = zip.by_index_raw(i).unwrap();
            (
                e.name().unwrap().to_string(),
                e.data_start().unwrap(),
                e.compressed_size(),
            )
        })
        .collect()
}

fn flip_byte(file: &Path, at: u64) {
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    let mut b = [0u8];
    f.seek(SeekFrom::Start(at)).unwrap();
    f.read_exact(&mut b).unwrap();
    f.seek(SeekFrom::Start(at)).unwrap();
    f.write_all(&[b[0] ^ 0x5a]).unwrap();
}

/// The component entry with the most data, and its (start, size).
fn largest_component(file: &Path) -> (String, u64, u64) {
    entries(file)
        .into_iter()
        .filter(|(n, _, _)| n.starts_with("components/"))
        .max_by_key(|(_, _, size)| *size)
        .unwrap()
}

fn only(file: &Path, extract: &Path, component: &str) -> ImportPlan {
    ImportPlan {
        components: vec![component.to_string()],
        ..plan(file, extract, ImportMode::Migration)
    }
}

fn damaged(err: MigratorError) -> Vec<transit_archive::Mismatch> {
    match err {
        MigratorError::Damaged { mismatches, .. } => mismatches,
        other => panic!("expected a damaged file, got {other:?}"),
    }
}

fn no_restore_points(root: &ServerRoot) {
    assert!(restore::list(root).unwrap().is_empty());
    let left: Vec<_> = std::fs::read_dir(root.restore_points_dir())
        .map(|d| d.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_flipped_byte_in_a_component_the_import_skips_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let (name, start, size) = largest_component(&file);
    assert_ne!(name, "components/Server Parameters.zip");
    flip_byte(&file, start + size / 2);
    let before = state(&b);
    let err = import(
        &b,
        &only(&file, &dir.path().join("x"), "Server Parameters"),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert_eq!(
        transit_core::Kind::kind(&err),
        transit_core::ErrorKind::Tampered
    );
    let problems = damaged(err);
    assert!(!problems.is_empty());
    assert_same(&before, &state(&b));
    no_restore_points(&b);
}

/// The check of the whole file runs beside the import's work: when the
/// damage is in a component the import reads, its registry parse fails
/// too, but the damage is what is reported, and nothing changes.
#[test]
fn a_flipped_byte_in_a_component_the_import_reads_is_reported_as_damage() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let (name, start, size) = largest_component(&file);
    let id = name
        .trim_start_matches("components/")
        .trim_end_matches(".zip")
        .to_string();
    flip_byte(&file, start + size / 2);
    let before = state(&b);
    let err = import(
        &b,
        &only(&file, &dir.path().join("x"), &id),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    let problems = damaged(err);
    assert!(problems.iter().any(|m| m.component == id), "{problems:?}");
    assert_same(&before, &state(&b));
    no_restore_points(&b);
}

#[test]
fn entries_missing_from_the_manifest_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&file)
            .unwrap();
        let mut zip = zip::ZipWriter::new_append(f).unwrap();
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .with_aes_encryption(zip::AesMode::Aes256, "pw");
        for n in 0..1000 {
            zip.start_file(format!("junk/{n}.bin"), opts).unwrap();
            zip.write_all(b"junk").unwrap();
        }
        zip.finish().unwrap();
    }
    let before = state(&b);
    let err = import(
        &b,
        &plan(&file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    let problems = damaged(err);
    assert_eq!(problems.len(), 1000);
    assert!(problems[0].problem.contains("not listed in the manifest"));
    assert_same(&before, &state(&b));
}

#[test]
fn a_damaged_manifest_is_tampered_not_a_deflate_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, _b, file) = pair(dir.path());
    let (_, start, size) = entries(&file)
        .into_iter()
        .find(|(n, _, _)| n == "manifest.json")
        .unwrap();
    // AES-256: 16 bytes of salt and 2 of password verifier, then the data.
    flip_byte(&file, start + 18 + (size - 28) / 2);
    let err = MigrationReader::open(&file, Some("pw")).unwrap_err();
    assert!(matches!(err, ArchiveError::Tampered { .. }), "{err:?}");
}

/// A wrong password whose 2-byte WinZip AES verifier happens to match
/// (once in 65,536 passwords) is still a wrong password, not damage: the
/// verifier is forged here so that the case is certain.
#[test]
fn a_wrong_password_that_passes_the_verifier_is_still_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, _b, file) = pair(dir.path());
    let (_, start, _) = entries(&file)
        .into_iter()
        .find(|(n, _, _)| n == "manifest.json")
        .unwrap();
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&file)
        .unwrap();
    // AES-256: 16 bytes of salt, then the verifier, the last 2 bytes of
    // PBKDF2-HMAC-SHA1(password, salt, 1000) over 2 × 32 + 2 bytes.
    let mut salt = [0u8; 16];
    f.seek(SeekFrom::Start(start)).unwrap();
    f.read_exact(&mut salt).unwrap();
    let mut derived = [0u8; 66];
    pbkdf2::pbkdf2_hmac::<sha1::Sha1>(b"not the password", &salt, 1000, &mut derived);
    f.seek(SeekFrom::Start(start + 16)).unwrap();
    f.write_all(&derived[64..]).unwrap();
    drop(f);
    let err = MigrationReader::open(&file, Some("not the password")).unwrap_err();
    assert!(
        matches!(err, ArchiveError::WrongPassword { certain: true, .. }),
        "{err:?}"
    );
}

#[test]
fn a_damaged_salt_is_damage_not_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let (_, start, _) = largest_component(&file);
    flip_byte(&file, start);
    let err = import(
        &b,
        &plan(&file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    let problems = damaged(err);
    assert!(
        problems[0].problem.contains("salt or password verifier"),
        "{problems:?}"
    );
    // A wrong password is still told as such, with certainty.
    let err = MigrationReader::open(&file, Some("not the password")).unwrap_err();
    assert!(
        matches!(err, ArchiveError::WrongPassword { certain: true, .. }),
        "{err:?}"
    );
}

#[test]
fn an_unsafe_inner_entry_is_refused_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let manifest = MigrationReader::open(&file, Some("pw"))
        .unwrap()
        .manifest()
        .clone();
    // One component whose inner zip holds `../evil.txt`, hashes and all.
    let entries: [(&str, &[u8]); 2] = [("ok.txt", b"fine"), ("../evil.txt", b"evil")];
    let mut inner = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in entries {
        inner
            .start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        inner.write_all(data).unwrap();
    }
    let inner = inner.finish().unwrap().into_inner();
    let mut record = manifest.components[0].clone();
    record.size = inner.len() as u64;
    record.sha256 = transit_archive::sha256_hex(&inner);
    record.entries = entries
        .iter()
        .map(|(p, d)| transit_archive::EntryRecord {
            path: (*p).into(),
            size: d.len() as u64,
            sha256: transit_archive::sha256_hex(d),
        })
        .collect();
    let mut m = manifest.clone();
    m.components = vec![record.clone()];
    let crafted = dir.path().join("crafted.ininmigr");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&crafted).unwrap());
    let opts = |method| {
        zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .with_aes_encryption(zip::AesMode::Aes256, "pw")
    };
    zip.start_file(record.entry.as_str(), opts(zip::CompressionMethod::Stored))
        .unwrap();
    zip.write_all(&inner).unwrap();
    zip.start_file("manifest.json", opts(zip::CompressionMethod::Deflated))
        .unwrap();
    zip.write_all(&serde_json::to_vec(&m).unwrap()).unwrap();
    zip.finish().unwrap();
    let before = state(&b);
    let err = import(
        &b,
        &plan(&crafted, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    let problems = damaged(err);
    assert!(
        problems
            .iter()
            .any(|p| p.entry.as_deref() == Some("../evil.txt")),
        "{problems:?}"
    );
    assert_same(&before, &state(&b));
    assert!(!dir.path().join("evil.txt").exists());
}

#[test]
fn an_import_that_finds_the_lock_taken_leaves_no_restore_point() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let held = ImportLock::acquire(&b).unwrap();
    let err = import(
        &b,
        &plan(&file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, MigratorError::Refused(Refusal::ImportRunning)),
        "{err:?}"
    );
    no_restore_points(&b);
    drop(held);
}

#[test]
fn a_default_rollback_never_picks_the_point_of_an_import_that_did_not_happen() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let before = state(&b);
    // A good import.
    let good = import(
        &b,
        &plan(&file, &dir.path().join("x1"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let after_good = state(&b);
    // An import stopped after its restore point was taken.
    let cancel = CancelToken::new();
    let stop_after_point = |e: Event| {
        if matches!(&e, Event::Step { name } if name == "restore point") {
            cancel.cancel();
        }
    };
    let err = import(
        &b,
        &only(&file, &dir.path().join("x2"), "Server Parameters"),
        &stop_after_point,
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(err, MigratorError::Cancelled), "{err:?}");
    assert_same(&after_good, &state(&b));
    // Only the good import's restore point is left, and rolling back to
    // the newest undoes the good import.
    let points = restore::list(&b).unwrap();
    assert_eq!(
        points.iter().map(|p| &p.meta.id).collect::<Vec<_>>(),
        vec![good.restore_point.as_ref().unwrap()]
    );
    restore::rollback(&b, points.last().unwrap()).unwrap();
    assert_same(&before, &state(&b));
}

fn export_plan(folder: &Path) -> ExportPlan {
    ExportPlan {
        components: vec!["all".into()],
        folder: folder.to_path_buf(),
        handlers: None,
        password: Some("pw".into()),
        threads: None,
        dialer_package: true,
    }
}

#[test]
fn an_export_is_refused_while_an_import_runs_and_an_import_while_an_export_does() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, file) = pair(dir.path());
    let out = dir.path().join("during");
    let held = ImportLock::acquire(&a).unwrap();
    let err = export(&a, &export_plan(&out), &|_| {}, &CancelToken::new()).unwrap_err();
    assert!(
        matches!(err, MigratorError::Refused(Refusal::ImportRunning)),
        "{err:?}"
    );
    assert_eq!(
        transit_core::Kind::kind(&err),
        transit_core::ErrorKind::ServiceRunning
    );
    drop(held);
    let reading = ReadLock::acquire(&b).unwrap();
    let err = import(
        &b,
        &plan(&file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, MigratorError::Refused(Refusal::ExportRunning)),
        "{err:?}"
    );
    no_restore_points(&b);
    drop(reading);
}

/// Names of `<server>_<stamp>.ininmigr` in a folder.
fn migration_files(folder: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

#[test]
fn an_export_takes_the_next_free_second_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, _file) = pair(dir.path());
    let out = dir.path().join("same-second");
    std::fs::create_dir_all(&out).unwrap();
    // Every name of the coming ten seconds is taken, so whichever second
    // the export starts in, its own name is taken.
    let now = transit_core::time::now();
    let taken: Vec<PathBuf> = (0..10)
        .map(|s| {
            out.join(format!(
                "{}_{}.ininmigr",
                a.name(),
                transit_core::time::file_stamp(now + std::time::Duration::from_secs(s))
            ))
        })
        .collect();
    for t in &taken {
        std::fs::write(t, b"an earlier export").unwrap();
    }
    let notes = std::sync::Mutex::new(Vec::new());
    let progress = |e: Event| {
        if let Event::Note { text } = e {
            notes.lock().unwrap().push(text);
        }
    };
    let outcome = export(&a, &export_plan(&out), &progress, &CancelToken::new()).unwrap();
    assert!(!taken.contains(&outcome.path), "{:?}", outcome.path);
    assert!(outcome.path.is_file());
    assert!(
        notes.lock().unwrap().iter().any(|n| n.contains("is taken")),
        "{:?}",
        notes.lock().unwrap()
    );
    for t in &taken {
        assert_eq!(std::fs::read(t).unwrap(), b"an earlier export");
    }
}

#[test]
fn stale_partials_of_this_server_are_removed_and_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, _file) = pair(dir.path());
    let out = dir.path().join("leftovers");
    std::fs::create_dir_all(&out).unwrap();
    let name = |stamp: &str, tail: &str| format!("{}_{stamp}.ininmigr.partial-{tail}", a.name());
    // A killed export: its partial file (nobody holds its lock) and its
    // staging folder.
    let stale = out.join(name("01012026000000", "AbC123"));
    std::fs::write(&stale, vec![0u8; 4096]).unwrap();
    let stale_dir = out.join(format!(
        ".transit-export-{}",
        name("01012026000000", "AbC123")
    ));
    std::fs::create_dir_all(stale_dir.join("deep")).unwrap();
    std::fs::write(stale_dir.join("deep/x.zip"), b"x").unwrap();
    // A running export (its lock is held), another server's partial, and
    // an unrelated file.
    let live = out.join(name("01012026000001", "LiVe01"));
    std::fs::write(&live, b"live").unwrap();
    let live_handle = std::fs::File::open(&live).unwrap();
    live_handle.lock().unwrap();
    let other = out.join("OTHER_01012026000000.ininmigr.partial-AbC123");
    std::fs::write(&other, b"other").unwrap();
    let unrelated = out.join("notes.txt");
    std::fs::write(&unrelated, b"mine").unwrap();

    let outcome = export(&a, &export_plan(&out), &|_| {}, &CancelToken::new()).unwrap();
    assert!(!stale.exists() && !stale_dir.exists());
    assert!(live.exists() && other.exists() && unrelated.exists());
    // Retention counts finished files only.
    let kept = transit_migrator::export::retention::apply(
        &out,
        a.name(),
        "1".parse().unwrap(),
        Some(&outcome.path),
    )
    .unwrap();
    assert_eq!(kept.kept, vec![outcome.path.clone()]);
    assert!(kept.deleted.is_empty());
    let listing = migration_files(&out);
    assert!(listing.contains(&live) && listing.contains(&other));
    drop(live_handle);
}

#[test]
fn the_extraction_folder_must_be_empty_unless_forced_and_a_stopped_import_leaves_it_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let extract = dir.path().join("extract");
    std::fs::create_dir_all(&extract).unwrap();
    std::fs::write(extract.join("keep.txt"), b"mine").unwrap();
    let err = import(
        &b,
        &plan(&file, &extract, ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            MigratorError::Refused(Refusal::ExtractionFolderNotEmpty(_))
        ),
        "{err:?}"
    );
    no_restore_points(&b);

    // Stopped while the registry is written: nothing is extracted.
    let cancel = CancelToken::new();
    let stop_at_components = |e: Event| {
        if matches!(&e, Event::Begin { task, .. } if task == transit_migrator::import::COMPONENTS_TASK)
        {
            cancel.cancel();
        }
    };
    let forced = ImportPlan {
        force: true,
        ..plan(&file, &extract, ImportMode::Migration)
    };
    let err = import(&b, &forced, &stop_at_components, &cancel).unwrap_err();
    assert!(matches!(err, MigratorError::Cancelled), "{err:?}");
    let left: Vec<_> = std::fs::read_dir(&extract)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("keep.txt")]);

    // Forced and completed: the handlers are extracted beside keep.txt.
    import(&b, &forced, &|_| {}, &CancelToken::new()).unwrap();
    assert_eq!(std::fs::read(extract.join("keep.txt")).unwrap(), b"mine");
    assert!(std::fs::read_dir(&extract).unwrap().count() > 1);
}

#[test]
fn an_export_after_a_killed_import_is_refused_until_recovered() {
    let dir = tempfile::tempdir().unwrap();
    let a = crate::import::demo(&dir.path().join("a"), "CICA", "Indy", 1, "2015 R1", 1);
    let point = restore::create(&a, "import of x", &Default::default()).unwrap();
    // What a SIGKILLed import leaves: its journal, with nobody holding the
    // import lock.
    std::fs::write(
        a.run_dir().join("import.journal"),
        format!(
            r#"{{"restore_point":"{}","pid":1,"step":"begun"}}"#,
            point.meta.id
        ),
    )
    .unwrap();
    let out = dir.path().join("o");
    let err = export(&a, &export_plan(&out), &|_| {}, &CancelToken::new()).unwrap_err();
    assert!(
        matches!(err, MigratorError::Refused(Refusal::InterruptedImport)),
        "{err:?}"
    );
    assert!(matches!(
        restore::recover(&a).unwrap(),
        restore::RecoveryOutcome::RolledBack { .. }
    ));
    // The interrupted import's restore point is set aside and removed.
    assert!(restore::list(&a).unwrap().is_empty());
    let file = export_all(&a, &out);
    assert!(file.is_file());
}
