//! Restore points, rollback and crash recovery on real server roots.

use std::path::Path;
use transit_migrator::restore::{self, FileChanges, Journal, RecoveryOutcome};
use transit_migrator::MigratorError;
use transit_registry::ValueData;
use transit_server::{ServerError, ServerRoot};
use transit_testkit::state::state;
use transit_testkit::Sample;

fn demo(dir: &Path) -> ServerRoot {
    Sample::cic("CIC01")
        .site("Indy", 1)
        .release("2015 R1")
        .users(40)
        .seed(9)
        .demo(dir)
}

const OVERWRITTEN: &str = "files/DialPlan/Default.i3dialplan";
const CREATED: &str = "files/Resources/Attendant/Waves/fr/greeting1.wav";
/// Moved to CREATED, as the import moves the target's own waves.
const REMOVED: &str = "files/Resources/Attendant/Waves/fr-fr/greeting1.wav";

/// What an import would do: change the registry and files.
fn simulate_import(root: &ServerRoot) {
    let mut reg = root.open_registry().unwrap();
    let mut txn = reg.write().unwrap();
    txn.set_value(
        &root
            .ds_container("Server Parameters")
            .join("Mail Server_migrated")
            .unwrap(),
        "Value",
        &ValueData::Sz("x".into()),
    )
    .unwrap();
    txn.delete_key(&root.ds_container("Roles")).unwrap();
    txn.commit().unwrap();
    std::fs::write(root.dir().join(OVERWRITTEN), b"overwritten by import").unwrap();
    let created = root.dir().join(CREATED);
    std::fs::create_dir_all(created.parent().unwrap()).unwrap();
    std::fs::rename(root.dir().join(REMOVED), created).unwrap();
}

fn changes() -> FileChanges {
    FileChanges {
        overwrite: vec![OVERWRITTEN.into()],
        create: vec![CREATED.into()],
        remove: vec![REMOVED.into()],
    }
}

#[test]
fn rollback_returns_the_server_to_exactly_the_restore_point() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("s"));
    let before = state(&root);
    let point = restore::create(&root, "test import", &changes()).unwrap();
    assert_eq!(
        point.meta.created_dirs,
        ["files/Resources/Attendant/Waves/fr"]
    );
    simulate_import(&root);
    assert_ne!(state(&root), before);
    restore::rollback(&root, &point).unwrap();
    assert!(state(&root) == before, "rollback is not byte-identical");
    // Idempotent: a second rollback (as after a crash during the first) is harmless.
    restore::rollback(&root, &point).unwrap();
    assert!(state(&root) == before);
}

#[test]
fn an_interrupted_import_is_rolled_back_by_recover() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("s"));
    let before = state(&root);
    assert_eq!(restore::recover(&root).unwrap(), RecoveryOutcome::Clean);
    let point = restore::create(&root, "test import", &changes()).unwrap();
    {
        let mut journal = Journal::begin(&root, &point).unwrap();
        journal.step("registry").unwrap();
        // While the import runs, recovery leaves it alone.
        assert_eq!(
            restore::recover(&root).unwrap(),
            RecoveryOutcome::ImportRunning
        );
        simulate_import(&root);
        // The process dies here: the journal is never finished.
    }
    match restore::recover(&root).unwrap() {
        RecoveryOutcome::RolledBack {
            restore_point,
            step,
        } => {
            assert_eq!(restore_point, point.meta.id);
            assert_eq!(step, "registry");
        }
        other => panic!("{other:?}"),
    }
    assert!(state(&root) == before);
    assert_eq!(restore::recover(&root).unwrap(), RecoveryOutcome::Clean);
}

#[test]
fn a_finished_import_leaves_nothing_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("s"));
    let point = restore::create(&root, "test import", &FileChanges::default()).unwrap();
    let journal = Journal::begin(&root, &point).unwrap();
    simulate_import(&root);
    journal.finish().unwrap();
    let after = state(&root);
    assert_eq!(restore::recover(&root).unwrap(), RecoveryOutcome::Clean);
    assert!(state(&root) == after);
}

#[test]
fn rollback_is_refused_while_the_service_runs() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("s"));
    let point = restore::create(&root, "test", &FileChanges::default()).unwrap();
    let _service = root.acquire_service_lock().unwrap();
    let err = restore::rollback(&root, &point).unwrap_err();
    assert!(
        matches!(
            err,
            MigratorError::Server(ServerError::ServiceRunning { .. })
        ),
        "{err:?}"
    );
}

#[test]
fn list_and_prune_keep_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("s"));
    let ids: Vec<String> = (0..3)
        .map(|_| {
            restore::create(&root, "test", &FileChanges::default())
                .unwrap()
                .meta
                .id
        })
        .collect();
    let listed: Vec<String> = restore::list(&root)
        .unwrap()
        .into_iter()
        .map(|p| p.meta.id)
        .collect();
    assert_eq!(listed, ids);
    assert_eq!(
        restore::prune(&root, "1".parse().unwrap()).unwrap(),
        ids[..2]
    );
    let left: Vec<String> = restore::list(&root)
        .unwrap()
        .into_iter()
        .map(|p| p.meta.id)
        .collect();
    assert_eq!(left, ids[2..]);
}

#[test]
fn paths_outside_the_root_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("s"));
    for bad in ["../etc/passwd", "/etc/passwd", "files//x", "files/./x"] {
        let changes = FileChanges {
            overwrite: vec![],
            create: vec![bad.into()],
            remove: vec![],
        };
        assert!(restore::create(&root, "test", &changes).is_err(), "{bad}");
    }
    assert!(
        restore::list(&root).unwrap().is_empty(),
        "no partial restore point is listed"
    );
}
