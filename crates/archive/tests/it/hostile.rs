//! Hostile and damaged migration files.

use std::io::{Cursor, Write};
use std::path::Path;

use crate::common::*;
use transit_archive::{sha256_hex, ArchiveError, MigrationReader};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

fn open_err(path: &Path, password: Option<&str>) -> ArchiveError {
    match MigrationReader::open(path, password) {
        Ok(_) => panic!("{} opened", path.display()),
        Err(e) => e,
    }
}

#[test]
fn inner_zip_slip_is_refused() {
    for bad in [
        "../evil.txt",
        "/abs.txt",
        "C:\\evil.txt",
        "\\evil.txt",
        "a/../../evil.txt",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let entries: [(&str, &[u8]); 2] = [("ok.txt", b"fine"), (bad, b"evil")];
        let inner = inner_zip(&entries);
        let record = record_for("C", &inner, &entries);
        let path = dir.path().join("slip.ininmigr");
        craft_component(&path, None, &inner, &record);
        let mut r = MigrationReader::open(&path, None).unwrap();
        let report = r.verify(&transit_core::NoProgress).unwrap();
        assert!(
            report
                .mismatches
                .iter()
                .any(|m| m.entry.as_deref() == Some(bad)),
            "{report:?}"
        );
        let temp = dir.path().join("temp");
        std::fs::create_dir(&temp).unwrap();
        let mut c = r.open_component("C", &temp).unwrap();
        assert!(matches!(
            c.read_entry(bad, |_| Ok(())),
            Err(ArchiveError::UnsafePath { .. })
        ));
        let out = dir.path().join("out").join("deeper");
        std::fs::create_dir_all(&out).unwrap();
        match c.extract_all(&out) {
            Err(ArchiveError::UnsafePath { entry, .. }) => assert_eq!(entry, bad),
            other => panic!("{bad}: {other:?}"),
        }
        // Nothing escaped: only ok.txt under out, no evil.txt anywhere.
        let all = files_below(dir.path());
        assert!(
            all.iter().all(|p| !p.to_string_lossy().contains("evil")),
            "{all:?}"
        );
        assert!(!Path::new("/abs.txt").exists());
    }
}

#[test]
fn outer_zip_slip_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.ininmigr");
    let json = serde_json::to_vec(&manifest()).unwrap();
    craft(&path, None, Some(&json), &[("../escape.zip", b"x")]);
    assert!(matches!(
        open_err(&path, None),
        ArchiveError::UnsafePath { .. }
    ));
    // A manifest that points outside components/.
    let mut m = manifest();
    let inner = inner_zip(&[]);
    let mut rec = record_for("C", &inner, &[]);
    rec.entry = "elsewhere/C.zip".into();
    m.components = vec![rec.clone()];
    let json = serde_json::to_vec(&m).unwrap();
    craft(&path, None, Some(&json), &[(rec.entry.as_str(), &inner)]);
    assert!(matches!(
        open_err(&path, None),
        ArchiveError::NotAMigrationFile { .. }
    ));
}

#[test]
fn lying_entry_sizes() {
    let data = vec![7u8; 100];
    let entries: [(&str, &[u8]); 1] = [("d.bin", &data)];
    let inner = inner_zip(&entries);
    for declared in [50u64, 200] {
        let dir = tempfile::tempdir().unwrap();
        let mut record = record_for("C", &inner, &entries);
        record.entries[0].size = declared;
        let path = dir.path().join("s.ininmigr");
        craft_component(&path, None, &inner, &record);
        let mut r = MigrationReader::open(&path, None).unwrap();
        assert!(!r.verify(&transit_core::NoProgress).unwrap().is_ok());
        let mut c = r.open_component("C", dir.path()).unwrap();
        match c.read_entry("d.bin", |rd| std::io::copy(rd, &mut std::io::sink())) {
            Err(ArchiveError::SizeMismatch {
                declared: d,
                actual_at_least,
                ..
            }) => {
                assert_eq!(d, declared);
                assert_eq!(
                    actual_at_least,
                    declared.min(100) + u64::from(declared < 100)
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // Component (inner zip) size lies.
    let dir = tempfile::tempdir().unwrap();
    let mut record = record_for("C", &inner, &entries);
    record.size -= 10;
    let path = dir.path().join("s.ininmigr");
    craft_component(&path, None, &inner, &record);
    let mut r = MigrationReader::open(&path, None).unwrap();
    assert!(matches!(
        r.open_component("C", dir.path()),
        Err(ArchiveError::SizeMismatch { .. })
    ));
    let report = r.verify(&transit_core::NoProgress).unwrap();
    assert_eq!(report.mismatches.len(), 1, "{report:?}");
}

#[test]
fn zip_bomb_is_stopped_at_declared_size() {
    const BIG: u64 = 100 * 1024 * 1024;
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file(
        "bomb.bin",
        SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9)),
    )
    .unwrap();
    let chunk = vec![0u8; 1024 * 1024];
    for _ in 0..BIG / chunk.len() as u64 {
        zip.write_all(&chunk).unwrap();
    }
    let inner = zip.finish().unwrap().into_inner();
    assert!(inner.len() < 1024 * 1024, "{}", inner.len());
    let declared: [(&str, &[u8]); 1] = [("bomb.bin", &[0u8; 1024])];
    let record = record_for("C", &inner, &declared);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.ininmigr");
    craft_component(&path, None, &inner, &record);
    let mut r = MigrationReader::open(&path, None).unwrap();
    let temp = dir.path().join("t");
    std::fs::create_dir(&temp).unwrap();
    let mut c = r.open_component("C", &temp).unwrap();
    let mut seen = 0u64;
    match c.read_entry("bomb.bin", |rd| {
        let mut buf = [0u8; 4096];
        loop {
            let n = rd.read(&mut buf)?;
            if n == 0 {
                return Ok(());
            }
            seen += n as u64;
        }
    }) {
        Err(ArchiveError::SizeMismatch {
            actual_at_least, ..
        }) => assert_eq!(actual_at_least, 1025),
        other => panic!("{other:?}"),
    }
    assert!(seen <= 1024, "{seen}");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    assert!(matches!(
        c.extract_all(&out),
        Err(ArchiveError::SizeMismatch { .. })
    ));
    // The failed file was removed; nothing large is on disk.
    let total: u64 = files_below(dir.path())
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert!(total < 4 * 1024 * 1024, "{total}");
    assert!(!out.join("bomb.bin").exists());
}

fn flip_inside_component(path: &Path, id_entry: &str) {
    let data_start = {
        let mut z = ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
        let i = z.index_for_name(id_entry).unwrap();
        let f = z.by_index_raw(i).unwrap();
        f.data_start().unwrap()
    };
    let mut bytes = std::fs::read(path).unwrap();
    let at = usize::try_from(data_start).unwrap() + 60;
    bytes[at] ^= 0x55;
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn flipped_byte_in_encrypted_entry_is_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "e.ininmigr", Some(PASSWORD));
    flip_inside_component(&path, "components/IP_Handlers.zip");
    let mut r = MigrationReader::open(&path, Some(PASSWORD)).unwrap();
    match r.open_component("IP\\Handlers", dir.path()) {
        Err(ArchiveError::Tampered { detail, entry, .. }) => {
            assert!(detail.contains("AES"), "{detail}");
            assert_eq!(entry, "components/IP_Handlers.zip");
        }
        other => panic!("{other:?}"),
    }
    let report = r.verify(&transit_core::NoProgress).unwrap();
    assert_eq!(report.mismatches.len(), 1, "{report:?}");
    assert_eq!(report.mismatches[0].component, "IP\\Handlers");
    r.open_component("Users", dir.path()).unwrap();
}

#[test]
fn flipped_byte_in_plain_entry_is_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "p.ininmigr", None);
    flip_inside_component(&path, "components/IP_Handlers.zip");
    let mut r = MigrationReader::open(&path, None).unwrap();
    assert!(matches!(
        r.open_component("IP\\Handlers", dir.path()),
        Err(ArchiveError::Tampered { .. })
    ));
    assert!(!r.verify(&transit_core::NoProgress).unwrap().is_ok());
}

#[test]
fn inner_entry_sha_mismatch_is_tampered() {
    let entries: [(&str, &[u8]); 1] = [("a.txt", b"real content")];
    let inner = inner_zip(&entries);
    let mut record = record_for("C", &inner, &entries);
    record.entries[0].sha256 = sha256_hex(b"other content");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.ininmigr");
    craft_component(&path, Some(PASSWORD), &inner, &record);
    let mut r = MigrationReader::open(&path, Some(PASSWORD)).unwrap();
    let report = r.verify(&transit_core::NoProgress).unwrap();
    assert_eq!(report.mismatches.len(), 1);
    assert!(report.mismatches[0].problem.starts_with("SHA-256 differs"));
    let mut c = r.open_component("C", dir.path()).unwrap();
    assert!(matches!(
        c.read_entry("a.txt", |rd| std::io::copy(rd, &mut std::io::sink())),
        Err(ArchiveError::Tampered { .. })
    ));
}

#[test]
fn truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "t.ininmigr", Some(PASSWORD));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(
        open_err(&path, Some(PASSWORD)),
        ArchiveError::Truncated { .. }
    ));
}

#[test]
fn password_situations() {
    let dir = tempfile::tempdir().unwrap();
    let enc = write_sample(dir.path(), "e.ininmigr", Some(PASSWORD));
    let plain = write_sample(dir.path(), "p.ininmigr", None);
    let e = open_err(&enc, Some("wrong"));
    assert!(matches!(e, ArchiveError::WrongPassword { .. }));
    assert!(e.to_string().contains("e.ininmigr"), "{e}");
    assert!(matches!(
        open_err(&enc, None),
        ArchiveError::PasswordRequired { .. }
    ));
    assert!(matches!(
        open_err(&plain, Some(PASSWORD)),
        ArchiveError::PasswordNotNeeded { .. }
    ));
}

#[test]
fn mixed_encryption_is_tampered() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ininmigr");
    let json = serde_json::to_vec(&manifest()).unwrap();
    craft(&path, Some(PASSWORD), Some(&json), &[]);
    // Append a plain entry to the encrypted file.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut zip = ZipWriter::new_append(file).unwrap();
    zip.start_file("components/X.zip", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"plain").unwrap();
    zip.finish().unwrap();
    assert!(matches!(
        open_err(&path, Some(PASSWORD)),
        ArchiveError::Tampered { .. }
    ));
}

#[test]
fn not_migration_files() {
    let dir = tempfile::tempdir().unwrap();
    let random = dir.path().join("r.ininmigr");
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    std::fs::write(&random, bytes).unwrap();
    assert!(matches!(
        open_err(&random, None),
        ArchiveError::NotAMigrationFile { .. }
    ));
    let empty = dir.path().join("empty.ininmigr");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        open_err(&empty, None),
        ArchiveError::NotAMigrationFile { .. }
    ));
    let no_manifest = dir.path().join("n.ininmigr");
    craft(&no_manifest, None, None, &[("components/A.zip", b"x")]);
    assert!(matches!(
        open_err(&no_manifest, None),
        ArchiveError::NotAMigrationFile { .. }
    ));
    let bad_json = dir.path().join("j.ininmigr");
    craft(&bad_json, None, Some(b"{\"format_version\": 1}"), &[]);
    assert!(matches!(
        open_err(&bad_json, None),
        ArchiveError::NotAMigrationFile { .. }
    ));
}

#[test]
fn newer_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.ininmigr");
    let mut v = serde_json::to_value(manifest()).unwrap();
    v["format_version"] = 99.into();
    v["brand_new_field"] = serde_json::json!({"x": [1, 2]});
    craft(
        &path,
        Some(PASSWORD),
        Some(&serde_json::to_vec(&v).unwrap()),
        &[],
    );
    match open_err(&path, Some(PASSWORD)) {
        ArchiveError::NewerFormat {
            found, supported, ..
        } => assert_eq!((found, supported), (99, 1)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn verify_reports_unlisted_and_missing() {
    let entries: [(&str, &[u8]); 1] = [("a.txt", b"a")];
    let inner = inner_zip(&entries);
    let rec = record_for("A", &inner, &entries);
    let missing = record_for("Gone", &inner, &entries);
    let mut m = manifest();
    m.components = vec![rec.clone(), missing];
    let json = serde_json::to_vec(&m).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u.ininmigr");
    craft(
        &path,
        None,
        Some(&json),
        &[
            (rec.entry.as_str(), &inner),
            ("components/Extra.zip", &inner),
        ],
    );
    let mut r = MigrationReader::open(&path, None).unwrap();
    let report = r.verify(&transit_core::NoProgress).unwrap();
    let comps: Vec<_> = report
        .mismatches
        .iter()
        .map(|m| m.component.as_str())
        .collect();
    assert_eq!(comps, ["components/Extra.zip", "Gone"], "{report:?}");
    assert_eq!(report.checked_entries, 1);
}

#[test]
fn declared_sizes_beyond_the_file_or_deflate_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // An inner zip declared larger than the whole migration file.
    let entries: [(&str, &[u8]); 1] = [("a.txt", b"hello")];
    let inner = inner_zip(&entries);
    let mut record = record_for("C", &inner, &entries);
    record.size = 1_000_000_000_000;
    let path = dir.path().join("huge.ininmigr");
    craft_component(&path, None, &inner, &record);
    match open_err(&path, None) {
        ArchiveError::Tampered { detail, .. } => {
            assert!(detail.contains("larger than the whole file"), "{detail}")
        }
        other => panic!("{other:?}"),
    }

    // An inner entry declared far beyond what its compressed bytes can hold.
    let record = {
        let mut r = record_for("C", &inner, &entries);
        r.entries[0].size = 10_000_000_000;
        r
    };
    let path = dir.path().join("bomb.ininmigr");
    craft_component(&path, None, &inner, &record);
    let mut reader = MigrationReader::open(&path, None).unwrap();
    match reader.open_component("C", dir.path()) {
        Err(ArchiveError::Tampered { detail, .. }) => {
            assert!(detail.contains("beyond what deflate"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_compressed_outer_component_entry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let entries: [(&str, &[u8]); 1] = [("a.txt", b"hello")];
    let inner = inner_zip(&entries);
    let record = record_for("C", &inner, &entries);
    let mut m = manifest();
    m.components = vec![record.clone()];
    let json = serde_json::to_vec_pretty(&m).unwrap();
    let path = dir.path().join("deflated.ininmigr");
    let mut zip = ZipWriter::new(std::fs::File::create(&path).unwrap());
    zip.start_file(
        record.entry.as_str(),
        SimpleFileOptions::default().compression_method(CompressionMethod::Deflated),
    )
    .unwrap();
    zip.write_all(&inner).unwrap();
    zip.start_file("manifest.json", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(&json).unwrap();
    zip.finish().unwrap();
    match open_err(&path, None) {
        ArchiveError::Tampered { detail, .. } => assert!(detail.contains("stored"), "{detail}"),
        other => panic!("{other:?}"),
    }
}
