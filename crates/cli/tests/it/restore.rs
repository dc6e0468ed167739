//! `transit rollback`, `recover`, `restore-points`, and the automatic
//! recovery every command runs first.

use crate::common::{demo, export, transit, Exit, ExitAssert};
use predicates::prelude::*;
use transit_migrator::restore::{self, FileChanges, Journal};
use transit_registry::ValueData;
use transit_server::ServerRoot;

fn damage(root: &ServerRoot) {
    let mut reg = root.open_registry().unwrap();
    let mut txn = reg.write().unwrap();
    txn.delete_key(&root.ds_container("Users")).unwrap();
    txn.set_value(
        &root.ds_container("Roles").join("Intruder").unwrap(),
        "x",
        &ValueData::Dword(1),
    )
    .unwrap();
    txn.commit().unwrap();
}

#[test]
fn any_command_first_rolls_back_an_interrupted_import() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    demo(&path, 20, 1);
    let before = export(&path, &dir.path().join("before.reg"));
    let root = ServerRoot::open(&path).unwrap();
    let point = restore::create(&root, "import of test.ininmigr", &FileChanges::default()).unwrap();
    {
        let mut journal = Journal::begin(&root, &point).unwrap();
        journal.step("registry").unwrap();
        damage(&root);
        // Killed here: the journal stays behind.
    }
    transit(&path)
        .args(["registry", "list"])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("interrupted import")
                .and(predicate::str::contains(point.meta.id.as_str())),
        );
    assert!(export(&path, &dir.path().join("after.reg")) == before);
    transit(&path)
        .arg("recover")
        .assert()
        .success()
        .stdout(predicate::str::contains("nothing to recover"));
}

#[test]
fn rollback_and_restore_point_management() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    demo(&path, 20, 1);
    transit(&path)
        .arg("rollback")
        .assert()
        .exit(Exit::Usage)
        .stderr(predicate::str::contains("no restore points"));
    let before = export(&path, &dir.path().join("before.reg"));
    let root = ServerRoot::open(&path).unwrap();
    let first = restore::create(&root, "first", &FileChanges::default()).unwrap();
    damage(&root);
    let second = restore::create(&root, "second", &FileChanges::default()).unwrap();
    transit(&path)
        .args(["restore-points", "list"])
        .assert()
        .success()
        .stdout(
            predicate::str::contains(first.meta.id.as_str())
                .and(predicate::str::contains("second")),
        );
    transit(&path)
        .args(["rollback", "nope"])
        .assert()
        .exit(Exit::Usage);
    transit(&path)
        .args(["rollback", &first.meta.id])
        .assert()
        .success()
        .stdout(predicate::str::contains("rolled back"));
    assert!(export(&path, &dir.path().join("after.reg")) == before);

    let _service = root.acquire_service_lock().unwrap();
    transit(&path)
        .arg("rollback")
        .assert()
        .exit(Exit::ServiceRunning)
        .stderr(predicate::str::contains("service already running"));
    drop(_service);
    transit(&path)
        .args(["restore-points", "prune", "--keep", "0"])
        .assert()
        .exit(Exit::Usage);
    transit(&path)
        .args(["restore-points", "prune", "--keep", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(first.meta.id.as_str()));
    let out = transit(&path)
        .args(["restore-points", "list", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["id"], second.meta.id.as_str());
}
