//! Behaviour of the SQLite store, on real database files.

use std::time::Duration;
use tempfile::TempDir;
use transit_registry::{KeyPath, Registry, RegistryError, RegistryRead, ValueData, ValueKind};

fn open() -> (TempDir, Registry) {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::open(&dir.path().join("registry.db")).unwrap();
    (dir, reg)
}

fn k(s: &str) -> KeyPath {
    KeyPath::parse(s).unwrap()
}

#[test]
fn set_get_delete_with_case_insensitive_names() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(
        &k("EIC\\Directory Services"),
        "Version",
        &ValueData::Dword(7),
    )
    .unwrap();
    txn.set_value(
        &k("EIC\\Directory Services"),
        "",
        &ValueData::Sz("default".into()),
    )
    .unwrap();
    txn.commit().unwrap();

    assert_eq!(
        reg.get_value(&k("eic\\DIRECTORY SERVICES"), "VERSION")
            .unwrap(),
        Some(ValueData::Dword(7))
    );
    assert_eq!(
        reg.stored_path(&k("eic\\directory services"))
            .unwrap()
            .unwrap()
            .to_string(),
        "EIC\\Directory Services"
    );
    let values = reg.values(&k("EIC\\Directory Services")).unwrap();
    // In the order they were stored, as regedit lists them.
    assert_eq!(values[0].name, "Version");
    assert_eq!(values[1].name, "", "the default value where it was stored");

    // Re-setting with other case keeps one value, with the new case.
    let mut txn = reg.write().unwrap();
    txn.set_value(
        &k("EIC\\Directory Services"),
        "version",
        &ValueData::Dword(8),
    )
    .unwrap();
    txn.commit().unwrap();
    let values = reg.values(&k("EIC\\Directory Services")).unwrap();
    assert_eq!(values.len(), 2);
    assert_eq!(values[0].name, "version", "it keeps its place");

    let mut txn = reg.write().unwrap();
    assert!(txn
        .delete_value(&k("EIC\\Directory Services"), "VERSION")
        .unwrap());
    assert!(!txn
        .delete_value(&k("EIC\\Directory Services"), "VERSION")
        .unwrap());
    assert!(txn.delete_key(&k("EIC")).unwrap());
    txn.commit().unwrap();
    assert!(!reg.key_exists(&k("EIC")).unwrap());
    assert!(!reg.key_exists(&k("EIC\\Directory Services")).unwrap());
    assert!(
        reg.key_exists(&KeyPath::root()).unwrap(),
        "the root survives"
    );
}

#[test]
fn typed_errors_for_bad_paths_and_values() {
    let (_d, mut reg) = open();
    assert!(matches!(
        KeyPath::parse(""),
        Err(transit_registry::path::PathError::Empty)
    ));
    assert!(matches!(
        KeyPath::parse("a\\\\b"),
        Err(transit_registry::path::PathError::EmptySegment { .. })
    ));
    let mut txn = reg.write().unwrap();
    let err = txn
        .set_value(
            &k("a"),
            "m",
            &ValueData::MultiSz(vec!["x".into(), "".into()]),
        )
        .unwrap_err();
    assert!(matches!(err, RegistryError::InvalidValue { .. }), "{err:?}");
    txn.set_value(&k("a"), "n", &ValueData::Dword(1)).unwrap();
    txn.commit().unwrap();
    let err = reg.get_typed(&k("a"), "n", ValueKind::Sz).unwrap_err();
    assert!(
        matches!(
            err,
            RegistryError::WrongType {
                expected: ValueKind::Sz,
                found: ValueKind::Dword,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        reg.get_string(&k("a"), "n"),
        Err(RegistryError::WrongType { .. })
    ));
    assert!(matches!(
        reg.get_typed(&k("a"), "zz", ValueKind::Sz),
        Err(RegistryError::ValueNotFound { .. })
    ));
    assert!(matches!(
        reg.values(&k("nope")),
        Err(RegistryError::KeyNotFound(_))
    ));
}

#[test]
fn uncommitted_transaction_changes_nothing() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("keep"), "v", &ValueData::Dword(1))
        .unwrap();
    txn.commit().unwrap();
    {
        let mut txn = reg.write().unwrap();
        txn.set_value(&k("gone"), "v", &ValueData::Dword(1))
            .unwrap();
        txn.delete_key(&k("keep")).unwrap();
        assert!(
            txn.key_exists(&k("gone")).unwrap(),
            "a transaction sees its own writes"
        );
        // dropped without commit
    }
    assert!(!reg.key_exists(&k("gone")).unwrap());
    assert_eq!(
        reg.get_value(&k("keep"), "v").unwrap(),
        Some(ValueData::Dword(1))
    );
}

#[test]
fn snapshot_stays_consistent_while_a_writer_commits() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    for i in 0..100 {
        txn.set_value(&k(&format!("k{i:03}")), "v", &ValueData::Dword(i))
            .unwrap();
    }
    txn.commit().unwrap();
    let snap = reg.snapshot().unwrap();
    let mut walk = snap.walk(&KeyPath::root());
    let first = walk.next().unwrap().unwrap();
    assert!(first.path.is_root());
    // A writer changes and deletes keys mid-walk.
    let mut txn = reg.write().unwrap();
    txn.delete_key(&k("k050")).unwrap();
    txn.set_value(&k("k099"), "v", &ValueData::Dword(1000))
        .unwrap();
    txn.set_value(&k("k100"), "v", &ValueData::Dword(1))
        .unwrap();
    txn.commit().unwrap();
    let rest: Vec<_> = walk.map(Result::unwrap).collect();
    assert_eq!(
        rest.len(),
        100,
        "the snapshot sees neither the delete nor the insert"
    );
    assert_eq!(rest[99].values[0].data, ValueData::Dword(99));
    assert_eq!(snap.count(&KeyPath::root()).unwrap(), (101, 100));
    assert_eq!(reg.count(&KeyPath::root()).unwrap(), (101, 100));
    assert_eq!(
        reg.get_value(&k("k099"), "v").unwrap(),
        Some(ValueData::Dword(1000))
    );
}

#[test]
fn walk_is_depth_first_in_case_insensitive_order_across_pages() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    for name in ["b", "A", "a\\z", "a!", "B\\c\\d", "a\\Y"] {
        txn.create_key(&k(name)).unwrap();
    }
    for i in 0..1500 {
        txn.create_key(&k(&format!("many\\{i:04}"))).unwrap();
    }
    txn.commit().unwrap();
    let order: Vec<String> = reg
        .walk(&KeyPath::root())
        .map(|r| r.unwrap().path.to_string())
        .collect();
    assert_eq!(
        &order[..8],
        &["", "A", "A\\Y", "A\\z", "a!", "b", "b\\c", "b\\c\\d"]
    );
    assert_eq!(order.len(), 8 + 1 + 1500);
    let sub: Vec<String> = reg
        .walk(&k("a"))
        .map(|r| r.unwrap().path.to_string())
        .collect();
    assert_eq!(sub, ["A", "A\\Y", "A\\z"]);
    assert_eq!(reg.subkeys(&k("a")).unwrap(), ["Y", "z"]);
    assert_eq!(reg.walk(&k("missing")).count(), 0);
}

#[test]
fn copy_tree_copies_values_and_descendants() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("src"), "top", &ValueData::Sz("t".into()))
        .unwrap();
    for i in 0..700 {
        txn.set_value(&k(&format!("src\\n{i}\\leaf")), "v", &ValueData::Qword(i))
            .unwrap();
    }
    assert_eq!(txn.copy_tree(&k("src"), &k("dst\\copy")).unwrap(), 701);
    assert!(matches!(
        txn.copy_tree(&k("src"), &k("src\\inner")),
        Err(RegistryError::Invalid(_))
    ));
    assert!(matches!(
        txn.copy_tree(&k("nope"), &k("x")),
        Err(RegistryError::KeyNotFound(_))
    ));
    txn.commit().unwrap();
    assert_eq!(
        reg.get_value(&k("dst\\copy\\n699\\leaf"), "v").unwrap(),
        Some(ValueData::Qword(699))
    );
    assert_eq!(
        reg.count(&k("dst\\copy")).unwrap(),
        reg.count(&k("src")).unwrap()
    );
}

#[test]
fn last_write_time_moves_on_change() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("a"), "v", &ValueData::Dword(1)).unwrap();
    txn.commit().unwrap();
    let before = reg.key_modified(&k("a")).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("a"), "v", &ValueData::Dword(2)).unwrap();
    txn.commit().unwrap();
    assert!(reg.key_modified(&k("a")).unwrap() > before);
}

#[test]
fn a_second_writer_gets_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registry.db");
    let mut first = Registry::open(&path).unwrap();
    let mut second = Registry::open(&path).unwrap();
    second.set_busy_timeout(Duration::from_millis(50)).unwrap();
    let _held = first.write().unwrap();
    match second.write() {
        Err(RegistryError::Locked(_)) => {}
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("expected Locked, got a transaction"),
    };
}

#[test]
fn corrupt_and_foreign_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x42u8; 8192]).unwrap();
    assert!(matches!(
        Registry::open(&garbage),
        Err(RegistryError::Corrupt(_))
    ));

    let foreign = dir.path().join("foreign.db");
    make_foreign_db(&foreign);
    let err = Registry::open(&foreign).err().expect("refused");
    assert!(matches!(err, RegistryError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("not a Transit registry"));

    assert!(matches!(
        Registry::open_existing(&dir.path().join("missing.db")),
        Err(RegistryError::Missing(_))
    ));

    // A real registry whose pages were damaged after the header.
    let damaged = dir.path().join("damaged.db");
    {
        let mut reg = Registry::open(&damaged).unwrap();
        let mut txn = reg.write().unwrap();
        for i in 0..2000 {
            txn.set_value(&k(&format!("k{i}")), "v", &ValueData::Sz("x".repeat(50)))
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let mut bytes = std::fs::read(&damaged).unwrap();
    for b in bytes[4096..].iter_mut() {
        *b = 0xA5;
    }
    std::fs::write(&damaged, bytes).unwrap();
    let outcome = Registry::open(&damaged).and_then(|r| r.count(&KeyPath::root()));
    assert!(
        matches!(outcome, Err(RegistryError::Corrupt(_))),
        "{outcome:?}"
    );
}

/// Creates a valid SQLite database that is not a registry.
fn make_foreign_db(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("CREATE TABLE other(x); INSERT INTO other VALUES(1);")
        .unwrap();
}

#[test]
fn deleting_a_key_keeps_other_keys_last_write_stamps() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("a"), "v", &ValueData::Dword(1)).unwrap();
    txn.create_key(&k("b")).unwrap();
    txn.commit().unwrap();
    let before = reg.key_modified(&k("a")).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("a"), "v", &ValueData::Dword(2)).unwrap();
    txn.delete_key(&k("b")).unwrap();
    txn.commit().unwrap();
    assert!(
        reg.key_modified(&k("a")).unwrap() > before,
        "a's change lost its stamp"
    );
}

/// A registry written by an earlier build (schema 1: lower-case folds, no
/// value order column) is upgraded once on open: every key and value is
/// still found, siblings come in regedit's order, nothing else changes.
#[test]
fn a_schema_1_registry_is_upgraded_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("registry.db");
    {
        let mut reg = Registry::open(&file).unwrap();
        let mut txn = reg.write().unwrap();
        for key in ["EIC\\Key_1", "EIC\\KeyA", "EIC\\keyb"] {
            txn.set_value(&k(key), "Beta", &ValueData::Dword(1))
                .unwrap();
            txn.set_value(&k(key), "alpha", &ValueData::Sz("a".into()))
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let before: Vec<(String, i64)> = {
        // Rewrite it as schema 1 stored it.
        let conn = rusqlite::Connection::open(&file).unwrap();
        conn.execute_batch(
            "UPDATE keys SET sort_key = lower(sort_key);
             UPDATE vals SET name_fold = lower(name_fold);
             ALTER TABLE vals DROP COLUMN seq;
             UPDATE meta SET value = '1' WHERE name = 'schema_version';",
        )
        .unwrap();
        let rows = conn
            .prepare("SELECT path, modified FROM keys ORDER BY path")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        rows
    };
    let mut reg = Registry::open_existing(&file).unwrap();
    assert_eq!(reg.subkeys(&k("eic")).unwrap(), ["KeyA", "keyb", "Key_1"]);
    assert_eq!(
        reg.get_value(&k("EIC\\KEY_1"), "ALPHA").unwrap(),
        Some(ValueData::Sz("a".into()))
    );
    // Old values read in name order; a new one goes after them.
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("EIC\\KeyA"), "Gamma", &ValueData::Dword(3))
        .unwrap();
    txn.set_value(&k("EIC\\KeyA"), "BETA", &ValueData::Dword(2))
        .unwrap();
    txn.commit().unwrap();
    let names: Vec<String> = reg
        .values(&k("EIC\\KeyA"))
        .unwrap()
        .into_iter()
        .map(|v| v.name)
        .collect();
    assert_eq!(names, ["alpha", "BETA", "Gamma"]);
    drop(reg);
    let conn = rusqlite::Connection::open(&file).unwrap();
    let version: String = conn
        .query_row(
            "SELECT value FROM meta WHERE name = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, "2");
    let after: Vec<(String, i64)> = conn
        .prepare("SELECT path, modified FROM keys WHERE path <> 'EIC\\KeyA' ORDER BY path")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let untouched: Vec<(String, i64)> = before
        .into_iter()
        .filter(|(p, _)| p != "EIC\\KeyA")
        .collect();
    assert_eq!(after, untouched, "the upgrade changed no key's time");
}

/// A bulk load's shortcuts (the chain of recent keys, the lookup that
/// found a key missing, a new key's first `seq`) give exactly what plain
/// lookups give: parents found in any order, existing ancestors keep their
/// stored case, deleted keys are created again, values keep their order.
#[test]
fn a_bulk_load_in_any_order_builds_the_same_tree_as_one_key_at_a_time() {
    let (_d, mut reg) = open();
    {
        let mut txn = reg.write().unwrap();
        txn.create_key(&k("Site\\Stored CASE")).unwrap();
        txn.commit().unwrap();
    }
    let mut txn = reg.write().unwrap();
    // A lookup that misses, then the key is created: it must get a parent.
    assert!(txn.values(&k("site\\stored case\\a")).is_err());
    let a = txn.create_key(&k("site\\stored case\\a")).unwrap();
    txn.set_value_at(a, "z", &ValueData::Dword(1)).unwrap();
    txn.set_value_at(a, "y", &ValueData::Dword(2)).unwrap();
    // Deeper, then back up to a sibling of an ancestor, then elsewhere.
    for path in [
        "site\\stored case\\a\\b\\c",
        "site\\stored case\\a\\d",
        "site\\other\\e",
        "site\\stored case\\f",
    ] {
        let id = txn.create_key(&k(path)).unwrap();
        txn.set_value_at(id, "v", &ValueData::Sz(path.into()))
            .unwrap();
    }
    // A deleted subtree is created again, with a new parent chain.
    txn.delete_key(&k("site\\stored case\\a\\b")).unwrap();
    let c = txn.create_key(&k("site\\stored case\\a\\b\\c")).unwrap();
    txn.set_value_at(c, "again", &ValueData::Dword(3)).unwrap();
    txn.commit().unwrap();

    let names = |p: &str| -> Vec<String> {
        reg.values(&k(p))
            .unwrap()
            .into_iter()
            .map(|v| v.name)
            .collect()
    };
    assert_eq!(names("Site\\Stored CASE\\a"), ["z", "y"]);
    assert_eq!(names("site\\stored case\\a\\b\\c"), ["again"]);
    assert_eq!(
        reg.subkeys(&k("site")).unwrap(),
        ["other", "Stored CASE"],
        "the existing ancestor keeps its stored case"
    );
    assert_eq!(reg.subkeys(&k("site\\stored case\\a")).unwrap(), ["b", "d"]);
    assert_eq!(reg.subkeys(&k("site\\stored case")).unwrap(), ["a", "f"]);
    let snap = reg.snapshot().unwrap();
    let walked: Vec<String> = snap
        .walk(&k("site"))
        .map(|r| r.unwrap().path.to_string())
        .collect();
    assert_eq!(
        walked,
        [
            "Site",
            "Site\\other",
            "Site\\other\\e",
            "Site\\Stored CASE",
            "Site\\Stored CASE\\a",
            "Site\\Stored CASE\\a\\b",
            "Site\\Stored CASE\\a\\b\\c",
            "Site\\Stored CASE\\a\\d",
            "Site\\Stored CASE\\f",
        ]
    );
}

/// Keys a transaction creates carry its time from the start; the keys
/// that existed before get it at commit when they changed (a value set,
/// a child created), and the others keep theirs.
#[test]
fn one_transaction_stamps_new_and_changed_keys_alike() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("old\\changed"), "v", &ValueData::Dword(1))
        .unwrap();
    txn.create_key(&k("old\\parent")).unwrap();
    txn.create_key(&k("old\\still")).unwrap();
    txn.commit().unwrap();
    let first = reg.key_modified(&k("old\\still")).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("old\\changed"), "v", &ValueData::Dword(2))
        .unwrap();
    txn.set_value(&k("old\\parent\\new\\deeper"), "w", &ValueData::Dword(3))
        .unwrap();
    txn.commit().unwrap();
    let changed = reg.key_modified(&k("old\\changed")).unwrap();
    assert!(changed > first);
    for key in [
        "old\\parent",
        "old\\parent\\new",
        "old\\parent\\new\\deeper",
    ] {
        assert_eq!(reg.key_modified(&k(key)).unwrap(), changed, "{key}");
    }
    assert_eq!(reg.key_modified(&k("old\\still")).unwrap(), first);
}

#[test]
fn value_names_lists_names_without_the_data() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("a"), "Zeta", &ValueData::Dword(1))
        .unwrap();
    txn.set_value(&k("a"), "", &ValueData::Sz("default".into()))
        .unwrap();
    txn.create_key(&k("empty")).unwrap();
    // Inside the transaction, its own writes are seen.
    let mut names = txn.value_names(&k("a")).unwrap();
    names.sort();
    assert_eq!(names, ["", "Zeta"]);
    txn.commit().unwrap();
    assert!(reg.value_names(&k("empty")).unwrap().is_empty());
    assert!(matches!(
        reg.value_names(&k("missing")),
        Err(RegistryError::KeyNotFound(_))
    ));
}

/// A read through the transaction remembers the key it found (or did not
/// find), so the write that follows skips a second lookup; a delete in
/// between forgets it.
#[test]
fn a_write_after_a_read_of_the_same_key_lands_on_that_key() {
    let (_d, mut reg) = open();
    let mut txn = reg.write().unwrap();
    txn.set_value(&k("Found\\Key"), "a", &ValueData::Dword(1))
        .unwrap();
    txn.commit().unwrap();
    let mut txn = reg.write().unwrap();
    // Found: the write goes to the stored key, whatever the case asked.
    assert_eq!(txn.value_names(&k("FOUND\\key")).unwrap(), ["a"]);
    txn.set_value(&k("FOUND\\key"), "b", &ValueData::Dword(2))
        .unwrap();
    // Read, deleted, written again: a new key, not the deleted one.
    assert!(txn.key_exists(&k("Found\\Key")).unwrap());
    txn.delete_key(&k("Found\\Key")).unwrap();
    txn.set_value(&k("found\\key"), "c", &ValueData::Dword(3))
        .unwrap();
    // Missing, then created with its parent.
    assert!(!txn.key_exists(&k("New\\Leaf")).unwrap());
    txn.set_value(&k("New\\Leaf"), "d", &ValueData::Dword(4))
        .unwrap();
    txn.commit().unwrap();
    assert_eq!(reg.subkeys(&KeyPath::root()).unwrap(), ["Found", "New"]);
    assert_eq!(reg.subkeys(&k("Found")).unwrap(), ["key"]);
    assert_eq!(reg.value_names(&k("found\\key")).unwrap(), ["c"]);
    assert_eq!(
        reg.get_value(&k("New\\Leaf"), "d").unwrap(),
        Some(ValueData::Dword(4))
    );
}

/// A backup copies every key and value, and leaves the connection's own
/// page cache setting as it was (it keeps a small one only while copying).
#[test]
fn a_backup_is_complete_and_leaves_the_cache_setting_alone() {
    let (dir, mut reg) = open();
    let mut txn = reg.write().unwrap();
    for n in 0..2000 {
        txn.set_value(&k(&format!("bulk\\key{n}")), "v", &ValueData::Dword(n))
            .unwrap();
    }
    txn.commit().unwrap();
    let cache = |reg: &Registry| -> i64 {
        reg.conn()
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap()
    };
    let before = cache(&reg);
    let copy = dir.path().join("copy.db");
    reg.backup_to(&copy).unwrap();
    assert_eq!(cache(&reg), before);
    let copied = Registry::open_existing(&copy).unwrap();
    assert_eq!(copied.count(&k("bulk")).unwrap(), (2001, 2000));
    assert_eq!(
        copied.get_value(&k("bulk\\key1999"), "v").unwrap(),
        Some(ValueData::Dword(1999))
    );
}

/// With checkpoints deferred, a large commit only appends to the log; the
/// close copies it into the database file, which then holds everything.
#[test]
fn a_deferred_checkpoint_runs_at_close() {
    let (dir, _) = open();
    let path = dir.path().join("deferred.db");
    let mut reg = Registry::open(&path).unwrap();
    reg.defer_checkpoints().unwrap();
    let mut txn = reg.write().unwrap();
    let text = "x".repeat(2000);
    for n in 0..5000 {
        txn.set_value(&k(&format!("big\\key{n}")), "v", &ValueData::Dword(n))
            .unwrap();
        txn.set_value(
            &k(&format!("big\\key{n}")),
            "t",
            &ValueData::Sz(text.clone()),
        )
        .unwrap();
    }
    txn.commit().unwrap();
    let wal = dir.path().join("deferred.db-wal");
    let logged = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    // Past SQLite's 1,000-page threshold, which would have checkpointed,
    // and still only in the log: the database file has its first pages.
    assert!(logged > 1000 * 4096, "{logged}");
    let size = |p: &std::path::Path| std::fs::metadata(p).unwrap().len();
    assert!(size(&path) < 100 * 4096, "{}", size(&path));
    reg.close().unwrap();
    assert!(size(&path) > 1000 * 4096, "{}", size(&path));
    assert!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0) == 0);
    let reopened = Registry::open_existing(&path).unwrap();
    assert_eq!(reopened.count(&k("big")).unwrap(), (5001, 10000));
}
