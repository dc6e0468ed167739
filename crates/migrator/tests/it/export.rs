//! Export behaviour on real demo servers.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use transit_archive::{ArchiveError, MigrationReader};
use transit_core::paths::PathCheckError;
use transit_core::{CancelToken, Event};
use transit_migrator::{export, ExportPlan, MigratorError};
use transit_registry::interop::export_reg;
use transit_registry::regfile::RegFormat;
use transit_registry::{RegistryRead, ValueData};
use transit_server::{Role, ServerRoot};
use transit_testkit::Sample;

fn demo(dir: &Path, role: Role, users: u64) -> ServerRoot {
    (if role == Role::Media {
        Sample::media("CIC01")
    } else {
        Sample::cic("CIC01")
    })
    .site("Indy", 1)
    .release("2015 R1")
    .users(users)
    .seed(3)
    .demo(dir)
}

fn plan(folder: &Path, components: &[&str], password: Option<&str>) -> ExportPlan {
    ExportPlan {
        components: components.iter().map(|s| s.to_string()).collect(),
        folder: folder.to_path_buf(),
        handlers: None,
        password: password.map(secrecy::SecretString::from),
        threads: None,
        dialer_package: true,
    }
}

fn read_entry(reader: &mut MigrationReader, component: &str, entry: &str, temp: &Path) -> Vec<u8> {
    let mut c = reader.open_component(component, temp).unwrap();
    c.read_entry(entry, |r| {
        let mut v = Vec::new();
        r.read_to_end(&mut v)?;
        Ok(v)
    })
    .unwrap()
}

fn folder_listing(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn full_export_writes_one_named_file_with_a_complete_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 100);
    let out = dir.path().join("out");
    let outcome = export(
        &root,
        &plan(&out, &["all"], Some("s3cret")),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();

    assert_eq!(
        folder_listing(&out),
        std::slice::from_ref(&outcome.path),
        "one file, no leftovers"
    );
    let name = outcome
        .path
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        name.starts_with("CIC01_")
            && name.ends_with(".ininmigr")
            && name.len() == "CIC01_".len() + 14 + 9,
        "{name}"
    );

    let mut reader = MigrationReader::open(&outcome.path, Some("s3cret")).unwrap();
    assert!(reader.encrypted());
    let m = reader.manifest().clone();
    assert_eq!(m.source.server_name, "CIC01");
    assert_eq!(m.source.site_id, 1);
    assert_eq!(m.source.product_release, "2015 R1");
    assert!(m.created_utc.ends_with('Z'));
    let catalog = transit_catalog::Catalog::for_role("cic").unwrap();
    assert_eq!(m.components.len(), catalog.components.len());

    // Registry counts match the registry itself.
    let registry = root.open_registry().unwrap();
    let users = m.components.iter().find(|c| c.id == "Users").unwrap();
    let (keys, values) = registry.count(&root.ds_container("Users")).unwrap();
    assert_eq!((users.counts.keys, users.counts.values), (keys, values));
    // Every file of the prompts area is there.
    let prompts = m
        .components
        .iter()
        .find(|c| c.id == "Prompts and Resources")
        .unwrap();
    let on_disk = walk_count(&root.files_dir().join("Resources/Prompts"));
    assert_eq!(prompts.counts.files, on_disk);
    assert!(prompts
        .entries
        .iter()
        .all(|e| e.path.starts_with("files/Resources/Prompts/")));
    // Custom handlers keep their nested folders.
    let handlers = m
        .components
        .iter()
        .find(|c| c.id == "IP\\Handlers")
        .unwrap();
    assert!(
        handlers
            .entries
            .iter()
            .any(|e| e.path.starts_with("handlers/Routing/Shared/Common/")),
        "{:?}",
        handlers.entries
    );

    assert!(reader.verify(&transit_core::NoProgress).unwrap().is_ok());
}

fn walk_count(dir: &Path) -> u64 {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        n += if p.is_dir() { walk_count(&p) } else { 1 };
    }
    n
}

#[test]
fn users_registry_text_equals_a_registry_export_of_the_subtree() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 50);
    let out = dir.path().join("out");
    let outcome = export(
        &root,
        &plan(&out, &["Users"], None),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let ids: Vec<_> = outcome.components.iter().map(|c| c.id.as_str()).collect();
    assert!(
        ids.contains(&"Users") && ids.contains(&"Workgroups"),
        "{ids:?}"
    );
    assert_eq!(outcome.added.len(), 1);
    assert_eq!(
        outcome.added[0].explain(),
        "added Workgroups: required by Users (workgroup memberships export with users)"
    );

    let mut reader = MigrationReader::open(&outcome.path, None).unwrap();
    assert!(!reader.encrypted());
    let from_file = read_entry(&mut reader, "Users", "registry.reg", dir.path());
    let registry = root.open_registry().unwrap();
    let (direct, _) = export_reg(
        &registry,
        &root.ds_container("Users"),
        Vec::new(),
        RegFormat::Regedit5,
    )
    .unwrap();
    assert!(
        from_file == direct,
        "Users .reg differs from a direct export"
    );
}

#[test]
fn an_export_folder_inside_the_root_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 10);
    for bad in [
        root.dir().to_path_buf(),
        root.dir().join("exports"),
        root.files_dir(),
    ] {
        let err = export(
            &root,
            &plan(&bad, &["Users"], None),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                MigratorError::Folder(PathCheckError::InsideRoot {
                    what: "export folder",
                    ..
                })
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("inside the server root"));
    }
    assert!(!root.dir().join("exports").exists());
}

#[test]
fn unknown_components_are_refused_with_suggestions() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 10);
    let err = export(
        &root,
        &plan(&dir.path().join("o"), &["Usrs"], None),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("did you mean `Users`"), "{err}");
    assert!(!dir.path().join("o").exists());
}

#[test]
fn cancelling_mid_export_leaves_no_file_behind() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 300);
    let out = dir.path().join("out");
    let cancel = CancelToken::new();
    let seen = AtomicBool::new(false);
    let sink = |e: Event| {
        if matches!(e, Event::Advance { .. }) && !seen.swap(true, Ordering::SeqCst) {
            cancel.cancel();
        }
    };
    let err = export(&root, &plan(&out, &["all"], Some("pw")), &sink, &cancel).unwrap_err();
    assert!(matches!(err, MigratorError::Cancelled), "{err:?}");
    assert!(
        folder_listing(&out).is_empty(),
        "left behind: {:?}",
        folder_listing(&out)
    );
}

#[test]
fn export_runs_while_the_service_holds_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 10);
    let _service = root.acquire_service_lock().unwrap();
    let outcome = export(
        &root,
        &plan(&dir.path().join("o"), &["Users"], None),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    assert!(outcome.path.is_file());
}

#[test]
fn a_concurrent_writer_never_splits_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 200);
    let users = root.ds_container("Users").join("marker").unwrap();
    let groups = root.ds_container("Workgroups").join("marker").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, users, groups, db) = (
            stop.clone(),
            users.clone(),
            groups.clone(),
            root.registry_path(),
        );
        std::thread::spawn(move || {
            let mut reg = transit_registry::Registry::open(&db).unwrap();
            let mut n = 0u32;
            while !stop.load(Ordering::SeqCst) {
                let mut txn = reg.write().unwrap();
                txn.set_value(&users, "Generation", &ValueData::Dword(n))
                    .unwrap();
                txn.set_value(&groups, "Generation", &ValueData::Dword(n))
                    .unwrap();
                txn.commit().unwrap();
                n += 1;
            }
            n
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    for i in 0..3 {
        let out = dir.path().join(format!("o{i}"));
        let outcome = export(
            &root,
            &plan(&out, &["Users", "Workgroups"], None),
            &|_| {},
            &CancelToken::new(),
        )
        .unwrap();
        let mut reader = MigrationReader::open(&outcome.path, None).unwrap();
        let gen_of = |reader: &mut MigrationReader, component: &str| {
            let bytes = read_entry(reader, component, "registry.reg", dir.path());
            let mut found = None;
            for item in transit_registry::regfile::RegReader::new(&bytes[..]).unwrap() {
                if let transit_registry::regfile::RegItem::Value {
                    name: Some(n),
                    data,
                    ..
                } = item.unwrap()
                {
                    if n == "Generation" {
                        found = data.as_dword();
                    }
                }
            }
            found.expect("marker exported")
        };
        let a = gen_of(&mut reader, "Users");
        let b = gen_of(&mut reader, "Workgroups");
        assert_eq!(a, b, "components saw different moments");
    }
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(written > 0);
}

#[test]
fn a_media_server_exports_its_own_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("media"), Role::Media, 50);
    let outcome = export(
        &root,
        &plan(&dir.path().join("o"), &["all"], None),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    let mut ids: Vec<_> = outcome.components.iter().map(|c| c.id.clone()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            "Media Certificates",
            "Media Configuration",
            "Media Resources"
        ]
    );
    let err = export(
        &root,
        &plan(&dir.path().join("p"), &["Users"], None),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(matches!(err, MigratorError::Catalog(_)), "{err:?}");
}

#[test]
fn a_custom_handlers_folder_outside_the_root_is_exported_with_subfolders() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 10);
    let handlers = dir.path().join("my-handlers");
    std::fs::create_dir_all(handlers.join("a/b")).unwrap();
    std::fs::write(handlers.join("a/b/Deep.ihd"), "<Handler/>").unwrap();
    std::fs::write(handlers.join("Top.ihd"), "<Handler/>").unwrap();
    let mut p = plan(&dir.path().join("o"), &["Handlers"], None);
    p.handlers = Some(handlers.clone());
    let outcome = export(&root, &p, &|_| {}, &CancelToken::new()).unwrap();
    let record = outcome
        .components
        .iter()
        .find(|c| c.id == "IP\\Handlers")
        .unwrap();
    let paths: Vec<_> = record.entries.iter().map(|e| e.path.as_str()).collect();
    assert!(
        paths.contains(&"handlers/a/b/Deep.ihd") && paths.contains(&"handlers/Top.ihd"),
        "{paths:?}"
    );
    p.handlers = Some(dir.path().join("missing"));
    assert!(matches!(
        export(&root, &p, &|_| {}, &CancelToken::new()),
        Err(MigratorError::HandlersFolder(_))
    ));
}

#[test]
fn a_wrong_password_is_refused_on_read() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 10);
    let outcome = export(
        &root,
        &plan(&dir.path().join("o"), &["Roles"], Some("right")),
        &|_| {},
        &CancelToken::new(),
    )
    .unwrap();
    assert!(matches!(
        MigrationReader::open(&outcome.path, Some("wrong")),
        Err(ArchiveError::WrongPassword { .. })
    ));
}

#[test]
fn a_real_error_is_reported_as_itself_not_as_a_stop() {
    let dir = tempfile::tempdir().unwrap();
    let root = demo(&dir.path().join("server"), Role::Cic, 50);
    let out = dir.path().join("out");
    let victim = root
        .files_dir()
        .join("Resources/Prompts/fr-fr/prompt00003.wav");
    assert!(victim.is_file());
    // The file vanishes after it was listed, before it is read.
    // Every component's task begins after listing, before any is built.
    let sink = |e: Event| {
        if matches!(e, Event::Begin { .. }) {
            let _ = std::fs::remove_file(&victim);
        }
    };
    let err = export(
        &root,
        &plan(&out, &["all"], None),
        &sink,
        &CancelToken::new(),
    )
    .unwrap_err();
    assert!(
        !matches!(err, MigratorError::Cancelled),
        "a vanished file was reported as a stop"
    );
    assert!(err.to_string().contains("prompt00003.wav"), "{err}");
    assert!(
        folder_listing(&out).is_empty(),
        "left behind: {:?}",
        folder_listing(&out)
    );
}
