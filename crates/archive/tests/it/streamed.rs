//! The import's two lighter reads: the registry data streamed from a
//! component without a temporary copy (`read_leading_entry`), and the
//! whole-file authentication that runs beside it (`authenticate_until`).

use crate::common::*;
use std::io::Read;
use transit_archive::{sha256_hex, ArchiveError, MigrationReader};
use transit_core::{CancelToken, NoProgress};

/// The authentication report of the file at `path`.
fn authenticate(path: &std::path::Path) -> transit_archive::VerifyReport {
    MigrationReader::open(path, Some(PASSWORD))
        .unwrap()
        .authenticate_until(&NoProgress, &CancelToken::new())
        .unwrap()
}

fn read_text(r: &mut dyn Read) -> std::io::Result<String> {
    let mut text = String::new();
    r.read_to_string(&mut text)?;
    Ok(text)
}

#[test]
fn the_first_entry_is_streamed_with_its_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "s.ininmigr", Some(PASSWORD));
    let mut r = MigrationReader::open(&path, Some(PASSWORD)).unwrap();
    let text = r
        .read_leading_entry("Users", "Users.reg", read_text)
        .unwrap();
    assert_eq!(text.as_deref(), Some(REG_TEXT));
    // Not the first entry, or not there: the caller opens the component.
    assert_eq!(
        r.read_leading_entry("IP\\Handlers", "other.bin", read_text)
            .unwrap(),
        None
    );
    assert_eq!(
        r.read_leading_entry("Nobody", "Users.reg", read_text)
            .unwrap(),
        None
    );
}

#[test]
fn a_streamed_entry_that_differs_from_the_manifest_is_tampered() {
    let entries: [(&str, &[u8]); 2] = [("registry.reg", b"the real text"), ("b.txt", b"b")];
    let inner = inner_zip(&entries);
    let mut record = record_for("C", &inner, &entries);
    record.entries[0].sha256 = sha256_hex(b"other text");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.ininmigr");
    craft_component(&path, Some(PASSWORD), &inner, &record);
    let mut r = MigrationReader::open(&path, Some(PASSWORD)).unwrap();
    match r.read_leading_entry("C", "registry.reg", read_text) {
        Err(ArchiveError::Tampered { detail, entry, .. }) => {
            assert!(detail.starts_with("SHA-256 differs"), "{detail}");
            assert_eq!(entry, "registry.reg in components/C.zip");
        }
        other => panic!("{other:?}"),
    }
    // Larger than declared: stopped at the declared size + 1.
    let mut record = record_for("C", &inner, &entries);
    record.entries[0].size = 4;
    craft_component(&path, Some(PASSWORD), &inner, &record);
    let mut r = MigrationReader::open(&path, Some(PASSWORD)).unwrap();
    assert!(matches!(
        r.read_leading_entry("C", "registry.reg", read_text),
        Err(ArchiveError::SizeMismatch { declared: 4, .. })
    ));
}

#[test]
fn an_entry_that_is_not_first_is_left_to_the_component_reader() {
    let entries: [(&str, &[u8]); 2] = [("a.txt", b"a"), ("registry.reg", b"text")];
    let inner = inner_zip(&entries);
    let record = record_for("C", &inner, &entries);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("n.ininmigr");
    craft_component(&path, Some(PASSWORD), &inner, &record);
    let mut r = MigrationReader::open(&path, Some(PASSWORD)).unwrap();
    assert_eq!(
        r.read_leading_entry("C", "registry.reg", read_text)
            .unwrap(),
        None
    );
    let mut c = r.open_component("C", dir.path()).unwrap();
    assert_eq!(c.read_entry("registry.reg", read_text).unwrap(), "text");
}

#[test]
fn authentication_passes_an_intact_file_and_names_each_damaged_component() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "a.ininmigr", Some(PASSWORD));
    let report = authenticate(&path);
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(
        report.checked_bytes,
        MigrationReader::open(&path, Some(PASSWORD))
            .unwrap()
            .manifest()
            .components
            .iter()
            .map(|c| c.size)
            .sum::<u64>()
    );
    assert_eq!(
        report.checked_entries, 0,
        "entries are not checked one by one"
    );

    // A flipped byte: the component's AES code (or hash) differs.
    let mut bytes = std::fs::read(&path).unwrap();
    let at = {
        let mut z = zip::ZipArchive::new(std::fs::File::open(&path).unwrap()).unwrap();
        let i = z.index_for_name("components/IP_Handlers.zip").unwrap();
        let start = z.by_index_raw(i).unwrap().data_start().unwrap();
        start as usize + 60
    };
    bytes[at] ^= 0x55;
    std::fs::write(&path, bytes).unwrap();
    let report = authenticate(&path);
    assert_eq!(report.mismatches.len(), 1, "{report:?}");
    assert_eq!(report.mismatches[0].component, "IP\\Handlers");
}

#[test]
fn authentication_reports_hash_size_and_path_problems_from_the_manifest() {
    let entries: [(&str, &[u8]); 2] = [("ok.txt", b"fine"), ("../evil.txt", b"evil")];
    let inner = inner_zip(&entries);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.ininmigr");
    // Hashes that agree, but a path that leaves its folder.
    craft_component(
        &path,
        Some(PASSWORD),
        &inner,
        &record_for("C", &inner, &entries),
    );
    let report = authenticate(&path);
    assert_eq!(report.mismatches.len(), 1, "{report:?}");
    assert_eq!(report.mismatches[0].entry.as_deref(), Some("../evil.txt"));
    assert_eq!(report.mismatches[0].problem, "unsafe entry path");
    // A component whose bytes differ from the manifest's hash, and one
    // larger than the manifest says.
    let safe: [(&str, &[u8]); 1] = [("ok.txt", b"fine")];
    let inner = inner_zip(&safe);
    let mut record = record_for("C", &inner, &safe);
    record.sha256 = sha256_hex(b"something else");
    craft_component(&path, Some(PASSWORD), &inner, &record);
    let report = authenticate(&path);
    assert!(
        report.mismatches[0].problem.starts_with("SHA-256 differs"),
        "{report:?}"
    );
    let mut record = record_for("C", &inner, &safe);
    record.size -= 10;
    craft_component(&path, Some(PASSWORD), &inner, &record);
    let report = authenticate(&path);
    assert!(
        report.mismatches[0].problem.starts_with("size differs"),
        "{report:?}"
    );
}

#[test]
fn a_stopped_authentication_ends_early() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "c.ininmigr", Some(PASSWORD));
    let mut r = MigrationReader::open(&path, Some(PASSWORD)).unwrap();
    let stop = CancelToken::new();
    stop.cancel();
    let outcome = r.authenticate_until(&NoProgress, &stop);
    // Either an error or a report the caller that stopped it discards; it
    // never claims to have read the file.
    if let Ok(report) = outcome {
        assert_eq!(report.checked_bytes, 0, "{report:?}");
    }
}
