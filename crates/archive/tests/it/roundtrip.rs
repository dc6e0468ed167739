//! Writing and reading back migration files.

use crate::common::*;
use transit_archive::{
    sha256_hex, ArchiveError, ComponentBuilder, MigrationReader, MigrationWriter,
};

fn check_roundtrip(password: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "a.ininmigr", password);
    let mut r = MigrationReader::open(&path, password).unwrap();
    assert_eq!(r.encrypted(), password.is_some());
    assert_eq!(r.file_size(), std::fs::metadata(&path).unwrap().len());
    let m = r.manifest().clone();
    assert_eq!(m.source, manifest().source);
    let ids: Vec<_> = m.components.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["Users", "IP\\Handlers"]);
    assert_eq!(m.components[1].entry, "components/IP_Handlers.zip");
    assert_eq!(m.components[0].counts.keys, 1);
    assert_eq!(m.components[1].counts.files, 1);

    let last = std::sync::atomic::AtomicU64::new(0);
    let report = r
        .verify(&|e| {
            if let transit_core::Event::Advance { done, .. } = e {
                last.store(done, std::sync::atomic::Ordering::SeqCst);
            }
        })
        .unwrap();
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.checked_entries, 2);
    assert_eq!(
        report.checked_bytes,
        m.components.iter().map(|c| c.size).sum::<u64>()
    );
    assert_eq!(last.into_inner(), report.checked_bytes);

    let temp = tempfile::tempdir().unwrap();
    let mut c = r.open_component("Users", temp.path()).unwrap();
    assert_eq!(c.entry_paths(), ["Users.reg"]);
    let text = c
        .read_entry("Users.reg", |rd| {
            let mut s = String::new();
            rd.read_to_string(&mut s).map(|_| s)
        })
        .unwrap();
    assert_eq!(text, REG_TEXT);
    // A reader that reads nothing still gets the entry checked.
    c.read_entry("Users.reg", |_| Ok(())).unwrap();
    assert!(matches!(
        c.read_entry("nope.reg", |_| Ok(())),
        Err(ArchiveError::Tampered { .. })
    ));
    drop(c);

    let mut c = r.open_component("IP\\Handlers", temp.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    assert_eq!(c.extract_all(out.path()).unwrap(), 1);
    let got = std::fs::read(out.path().join("handlers/custom.bin")).unwrap();
    assert_eq!(sha256_hex(&got), sha256_hex(&file_content()));
    drop(c);
    // The component temp files are gone once the readers are dropped.
    assert!(files_below(temp.path()).is_empty());

    assert!(matches!(
        r.open_component("Nope", temp.path()),
        Err(ArchiveError::UnknownComponent { .. })
    ));
}

#[test]
fn plain_roundtrip() {
    check_roundtrip(None);
}

#[test]
fn encrypted_roundtrip() {
    check_roundtrip(Some(PASSWORD));
}

#[test]
fn never_overwrites_and_cancel_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("x.ininmigr");
    std::fs::write(&dest, b"existing").unwrap();
    assert!(matches!(
        MigrationWriter::create(&dest, None),
        Err(ArchiveError::Exists { .. })
    ));

    // dest appears while writing: finish refuses and cleans up.
    let dest2 = dir.path().join("y.ininmigr");
    let w = MigrationWriter::create(&dest2, None).unwrap();
    std::fs::write(&dest2, b"raced").unwrap();
    assert!(matches!(
        w.finish(manifest()),
        Err(ArchiveError::Exists { .. })
    ));
    assert_eq!(std::fs::read(&dest2).unwrap(), b"raced");

    // Cancelling = dropping: no partial file remains.
    let dest3 = dir.path().join("z.ininmigr");
    let mut w = MigrationWriter::create(&dest3, Some(PASSWORD)).unwrap();
    let mut b = ComponentBuilder::new("Users", dir.path()).unwrap();
    b.add_stream("u.reg", |o| o.write_all(b"x")).unwrap();
    w.add_component(b.finish().unwrap(), &transit_core::NoProgress)
        .unwrap();
    drop(w);
    assert!(!dest3.exists());
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["x.ininmigr", "y.ininmigr"]);
}

#[test]
fn progress_is_reported_for_large_components() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.bin");
    // 3 MiB of incompressible-ish data.
    let mut x: u32 = 1;
    let data: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|_| {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(&src, &data).unwrap();
    let dest = dir.path().join("p.ininmigr");
    let mut w = MigrationWriter::create(&dest, Some(PASSWORD)).unwrap();
    let mut b = ComponentBuilder::new("Files", dir.path()).unwrap();
    b.add_file("big.bin", &src).unwrap();
    let built = b.finish().unwrap();
    let size = built.record.size;
    let calls = std::sync::Mutex::new(Vec::new());
    w.add_component(built, &|e: transit_core::Event| {
        if let transit_core::Event::Advance { task, done, .. } = e {
            assert_eq!(task, "Files");
            calls.lock().unwrap().push(done);
        }
    })
    .unwrap();
    let calls = calls.into_inner().unwrap();
    assert!(calls.len() >= 3, "{calls:?}");
    assert_eq!(calls.last().copied(), Some(size));
    let total = w.finish(manifest()).unwrap();
    assert_eq!(total, std::fs::metadata(&dest).unwrap().len());
    let mut r = MigrationReader::open(&dest, Some(PASSWORD)).unwrap();
    assert!(r.verify(&transit_core::NoProgress).unwrap().is_ok());
}

#[test]
fn reopen_reads_the_same_file_and_refuses_a_replaced_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_sample(dir.path(), "a.ininmigr", Some("pw"));
    let first = MigrationReader::open(&path, Some("pw")).unwrap();
    let mut second = first.reopen().unwrap();
    assert_eq!(second.manifest(), first.manifest());
    let temp = tempfile::tempdir().unwrap();
    let mut c = second.open_component("Users", temp.path()).unwrap();
    c.read_entry("Users.reg", |_| Ok(())).unwrap();
    drop(c);

    // The path now names another file (as a re-copy would leave it).
    let other = write_sample(dir.path(), "b.ininmigr", Some("pw"));
    std::fs::rename(&other, &path).unwrap();
    let err = first.reopen().unwrap_err();
    assert!(
        matches!(err, ArchiveError::Tampered { ref detail, .. } if detail.contains("replaced or changed")),
        "{err:?}"
    );
}
