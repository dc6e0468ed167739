//! Import end to end on real demo servers: migration rules, recovery,
//! refusals and rollback.

use std::path::{Path, PathBuf};
use transit_core::paths::PathCheckError;
use transit_core::CancelToken;
use transit_migrator::import::{import, ImportMode, ImportPlan, Refusal};
use transit_migrator::{export, ExportPlan, MigratorError};
use transit_registry::{RegistryRead, ValueData};
use transit_server::{ServerError, ServerRoot};
use transit_testkit::state::{assert_same, state};
use transit_testkit::Sample;

pub fn demo(
    dir: &Path,
    name: &str,
    site: &str,
    site_id: u32,
    release: &str,
    seed: u64,
) -> ServerRoot {
    Sample::cic(name)
        .site(site, site_id)
        .release(release)
        .users(60)
        .seed(seed)
        .demo(dir)
}

pub fn export_all(root: &ServerRoot, out: &Path) -> PathBuf {
    let plan = ExportPlan {
        components: vec!["all".into()],
        folder: out.to_path_buf(),
        handlers: None,
        password: Some("pw".into()),
        threads: None,
        dialer_package: true,
    };
    export(root, &plan, &|_| {}, &CancelToken::new())
        .unwrap()
        .path
}

pub fn plan(file: &Path, extract: &Path, mode: ImportMode) -> ImportPlan {
    ImportPlan {
        force: false,
        file: file.to_path_buf(),
        password: Some("pw".into()),
        extract_to: extract.to_path_buf(),
        mode,
        components: vec!["all".into()],
        restore_point: true,
        dev_mode: false,
        dry_run: false,
    }
}

/// Two servers: A (site 1, 2015 R1) exports; B (site 2, 2018 R1) imports.
pub fn pair(dir: &Path) -> (ServerRoot, ServerRoot, PathBuf) {
    let a = demo(&dir.join("a"), "CICA", "Indy", 1, "2015 R1", 1);
    let b = demo(&dir.join("b"), "CICB", "Paris", 2, "2018 R1", 2);
    // B's Migrator is the newer one; a file from A's older Migrator would be
    // refused, so B's Migrator is installed on A first, as the vendor says.
    transit_migrator::install::install(&a, "2018 R1".parse().unwrap(), None).unwrap();
    let a = ServerRoot::open(a.dir()).unwrap();
    let file = export_all(&a, &dir.join("out"));
    (a, b, file)
}

#[test]
fn migration_applies_every_rule_to_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, file) = pair(dir.path());
    let b_before = state(&b);
    let report = import(
        &b,
        &plan(&file, &dir.path().join("extract"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let reg = b.open_registry().unwrap();

    // Server parameters arrive as `_migrated`, beside B's own.
    let params = reg.subkeys(&b.ds_container("Server Parameters")).unwrap();
    let a_params = a
        .open_registry()
        .unwrap()
        .subkeys(&a.ds_container("Server Parameters"))
        .unwrap();
    for p in &a_params {
        assert!(
            params.contains(&format!("{p}_migrated")),
            "{p}_migrated missing"
        );
    }
    assert!(report.follow_ups.iter().any(|f| matches!(
        f,
        transit_migrator::import::rules::FollowUp::ReviewMigrated { .. }
    )));
    // Users now live under B and are rehomed; their status moved to Live Data.
    let users = b.ds_container("Users");
    for user in reg.subkeys(&users).unwrap() {
        let home = reg
            .get_string(&users.join(&user).unwrap(), "Home Site")
            .unwrap();
        assert_ne!(home, "Indy", "{user} still names A's site");
    }
    let a_user = a
        .open_registry()
        .unwrap()
        .subkeys(&a.ds_container("Users"))
        .unwrap()
        .remove(0);
    let live = b
        .ds_server()
        .join(&format!("Live Data\\Users\\{a_user}"))
        .unwrap();
    assert!(reg.get_value(&live, "Status").unwrap().is_some());
    assert!(reg
        .get_value(&users.join(&a_user).unwrap(), "Status")
        .unwrap()
        .is_none());
    // Nothing was written under A's DS key.
    assert!(!reg.key_exists(&a.ds_server()).unwrap());
    // B's own default data sources are unchanged.
    let ds = b.ds_container("Data Sources").join("I3_IC").unwrap();
    let b_reg_before = transit_registry::Registry::open(&dir.path().join("b-before.db"));
    drop(b_reg_before);
    assert_eq!(reg.get_string(&ds, "Server").unwrap(), "sqlprod01");
    // Mail providers are inactive.
    for p in reg.subkeys(&b.ds_container("Mail Providers")).unwrap() {
        assert_eq!(
            reg.get_string(
                &b.ds_container("Mail Providers").join(&p).unwrap(),
                "Active"
            )
            .unwrap(),
            "No"
        );
    }
    // The Dialer switch is on.
    let dialer = b
        .ds_container("Server Parameters")
        .join("Launch Dialer Migration Package Processor")
        .unwrap();
    assert_eq!(reg.get_string(&dialer, "Value").unwrap(), "1");
    // Classifications gained B's release class.
    let classes = reg
        .get_value(
            &b.ds_container("Dial Plan").join("Classifications").unwrap(),
            "Classes",
        )
        .unwrap();
    assert!(
        matches!(classes, Some(ValueData::MultiSz(c)) if c.contains(&"Release 2018 R1".to_string()))
    );
    // Handler registrations are not imported; the handlers are extracted.
    assert!(report
        .components
        .iter()
        .any(|c| c.id == "IP\\Handlers" && c.files_extracted > 0));
    assert!(dir.path().join("extract/Routing").is_dir());

    // Existing files are untouched; fr-fr waves now sit under fr, the
    // target's own too (moved, bytes unchanged).
    let (_, b_files_before) = &b_before;
    let (_, b_files_after) = state(&b);
    for (path, bytes) in b_files_before {
        // The LRA configuration and dial-plan files are the overwrite exceptions.
        if path.contains("DialPlan/") || path.ends_with("LRAConfig.xml") {
            continue;
        }
        let now = ["en-us", "fr-fr", "de-de"]
            .iter()
            .fold(path.clone(), |p, lang| {
                p.replace(&format!("Waves/{lang}"), &format!("Waves/{}", &lang[..2]))
            });
        assert!(
            b_files_after.get(&now) == Some(bytes),
            "{path} changed or vanished"
        );
    }
    assert!(
        b_files_after["files/DialPlan/Default.i3dialplan"]
            != b_files_before["files/DialPlan/Default.i3dialplan"]
    );
    assert!(b.files_dir().join("Resources/Attendant/Waves/fr").is_dir());
    // Production reports (present on B) are skipped; custom ones imported.
    let reports = report
        .components
        .iter()
        .find(|c| c.id == "Reports")
        .unwrap();
    assert!(reports
        .files_skipped
        .iter()
        .any(|(_, why)| why.contains("production")));
    // The report is complete and readable.
    let text = report.to_text();
    assert!(
        text.contains("Manual follow-ups") && text.contains("reset the secret"),
        "{text}"
    );
    assert!(report.restore_point.is_some());
}

#[test]
fn recovery_restores_a_server_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let a = demo(&dir.path().join("a"), "CICA", "Indy", 1, "2018 R1", 1);
    let file = export_all(&a, &dir.path().join("out"));
    let before = state(&a);
    // Damage: change and delete keys and files.
    {
        let mut reg = a.open_registry().unwrap();
        let mut txn = reg.write().unwrap();
        let users = a.ds_container("Users");
        let first = txn.subkeys(&users).unwrap().remove(0);
        txn.delete_key(&users.join(&first).unwrap()).unwrap();
        txn.set_value(
            &a.ds_container("Roles").join("Agent").unwrap(),
            "Description",
            &ValueData::Sz("changed".into()),
        )
        .unwrap();
        txn.delete_key(&a.ds_container("DNIS Mappings")).unwrap();
        txn.commit().unwrap();
    }
    std::fs::write(
        a.files_dir().join("DialPlan/Default.i3dialplan"),
        b"damaged",
    )
    .unwrap();
    std::fs::remove_file(
        a.files_dir()
            .join("Resources/Prompts/en-us/prompt00001.wav"),
    )
    .unwrap();
    assert_ne!(state(&a), before);
    import(
        &a,
        &plan(&file, &dir.path().join("extract"), ImportMode::Recovery),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let after = state(&a);
    assert_same(&before, &after);
}

#[test]
fn rollback_after_an_import_is_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let before = state(&b);
    let report = import(
        &b,
        &plan(&file, &dir.path().join("extract"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    assert_ne!(state(&b), before);
    let points = transit_migrator::restore::list(&b).unwrap();
    let point = points
        .iter()
        .find(|p| Some(&p.meta.id) == report.restore_point.as_ref())
        .unwrap();
    transit_migrator::restore::rollback(&b, point).unwrap();
    assert!(state(&b) == before, "rollback is not byte-identical");
}

#[test]
fn a_dry_run_changes_nothing_but_reports_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let before = state(&b);
    let mut p = plan(&file, &dir.path().join("extract"), ImportMode::Migration);
    p.dry_run = true;
    let report = import(&b, &p, &|_| {}, &CancelToken::new()).unwrap();
    assert!(report.dry_run);
    assert!(
        report
            .components
            .iter()
            .map(|c| c.keys_imported)
            .sum::<u64>()
            > 100
    );
    assert!(state(&b) == before);
    assert!(transit_migrator::restore::list(&b).unwrap().is_empty());
}

#[test]
fn each_preflight_rule_refuses_before_anything_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, file) = pair(dir.path());
    let before = state(&b);
    let extract = dir.path().join("extract");
    let run = |root: &ServerRoot, p: &ImportPlan| {
        import(root, p, &|_| {}, &CancelToken::new()).unwrap_err()
    };

    // Service running.
    let service = b.acquire_service_lock().unwrap();
    let err = run(&b, &plan(&file, &extract, ImportMode::Migration));
    assert!(
        matches!(err, MigratorError::Refused(Refusal::ServiceRunning { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("stop the server service first"));
    drop(service);
    // Extraction folder inside the root.
    let err = run(
        &b,
        &plan(&file, &b.dir().join("extract"), ImportMode::Migration),
    );
    assert!(
        matches!(
            err,
            MigratorError::Folder(PathCheckError::InsideRoot {
                what: "extraction folder",
                ..
            })
        ),
        "{err:?}"
    );
    // Recovery of another server's file (A's file into B; the release
    // and build rules of recovery are unit-tested in preflight).
    let err = run(&b, &plan(&file, &extract, ImportMode::Recovery));
    assert!(
        matches!(
            err,
            MigratorError::Refused(Refusal::RecoveryOtherServer { .. })
        ),
        "{err:?}"
    );
    // Same site ID.
    let c = demo(&dir.path().join("c"), "CICC", "Rome", 1, "2018 R1", 3);
    let err = run(&c, &plan(&file, &extract, ImportMode::Migration));
    assert!(
        matches!(err, MigratorError::Refused(Refusal::SameSiteId(1))),
        "{err:?}"
    );
    // Into an older release.
    let d = demo(&dir.path().join("d"), "CICD", "Oslo", 4, "2018 R1", 4);
    let newer = demo(&dir.path().join("n"), "CICN", "Lima", 5, "2019 R1", 5);
    let newer_file = export_all(&newer, &dir.path().join("out-n"));
    let err = run(&d, &plan(&newer_file, &extract, ImportMode::Migration));
    assert!(
        matches!(err, MigratorError::Refused(Refusal::TargetOlder { .. })),
        "{err:?}"
    );
    // Wrong password.
    let mut wrong = plan(&file, &extract, ImportMode::Migration);
    wrong.password = Some("nope".into());
    assert!(matches!(
        run(&b, &wrong),
        MigratorError::Archive(transit_archive::ArchiveError::WrongPassword { .. })
    ));
    assert!(state(&b) == before, "a refused import changed the server");
    let _ = a;
}

#[test]
fn a_media_file_is_refused_by_a_cic_server_and_vice_versa() {
    let dir = tempfile::tempdir().unwrap();
    let b = demo(&dir.path().join("b"), "CICB", "Paris", 2, "2018 R1", 2);
    let media = Sample::media("MS1")
        .site("Indy", 1)
        .release("2018 R1")
        .users(10)
        .seed(1)
        .demo(&dir.path().join("m"));
    let media_file = export_all(&media, &dir.path().join("out"));
    let err = import(
        &b,
        &plan(&media_file, &dir.path().join("x"), ImportMode::Migration),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, MigratorError::Refused(Refusal::RoleMismatch { .. })),
        "{err:?}"
    );
    let err = import(
        &media,
        &plan(&media_file, &dir.path().join("x"), ImportMode::Recovery),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        matches!(err, MigratorError::Refused(Refusal::RecoveryOnMedia)),
        "{err:?}"
    );
    let _ = ServerError::ServiceNotRunning;
}

#[test]
fn component_selection_closes_over_dependencies_and_dev_mode_skips_the_rescue_id() {
    let dir = tempfile::tempdir().unwrap();
    let (_a, b, file) = pair(dir.path());
    let mut p = plan(&file, &dir.path().join("extract"), ImportMode::Migration);
    p.components = vec!["AdminConfig".into(), "Interaction Recorder".into()];
    p.dev_mode = true;
    let report = import(&b, &p, &|_| {}, &CancelToken::new()).unwrap();
    let ids: Vec<&str> = report.components.iter().map(|c| c.id.as_str()).collect();
    for id in [
        "AdminConfig",
        "Users",
        "Workgroups",
        "Workstations",
        "Tracker Config",
        "Interaction Recorder",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    assert!(
        !ids.contains(&"Reports"),
        "only the selection and its closure"
    );
    let recorder = report
        .components
        .iter()
        .find(|c| c.id == "Interaction Recorder")
        .unwrap();
    assert!(
        recorder
            .keys_skipped
            .iter()
            .any(|(k, why)| k.ends_with("Rescue ID") && why.contains("dev mode")),
        "{:?}",
        recorder.keys_skipped
    );
    let reg = b.open_registry().unwrap();
    let rescue = b
        .ds_container("Recorder")
        .join("Configuration\\Rescue ID")
        .unwrap();
    // B's own Rescue ID stays B's: the file's was skipped.
    let own = reg.get_value(&rescue, "ID").unwrap();
    assert!(own.is_some());
}
