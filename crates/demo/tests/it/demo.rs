//! The demo generator builds the layout docs/migrator.md describes.

use transit_demo::generate;
use transit_registry::{KeyPath, RegistryRead, ValueData};
use transit_server::layout::{self, files};
use transit_server::machine_key::MachineKey;
use transit_server::{Role, ServerError, ServerRoot};
use transit_testkit::Sample;

fn build(dir: &std::path::Path, role: Role, users: u64, seed: u64) -> ServerRoot {
    let sample = match role {
        Role::Cic => Sample::cic("CIC01"),
        Role::Media => Sample::media("CIC01"),
    };
    let params = sample.patch(2).users(users).seed(seed).demo_params();
    let calls = std::sync::atomic::AtomicU64::new(0);
    let (root, stats) = generate(dir, params, &|_| {
        calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })
    .unwrap();
    assert!(stats.values > 0 && stats.files > 0);
    assert!(calls.into_inner() > 0, "progress was reported");
    root
}

#[test]
fn cic_demo_fills_every_container_and_file_area() {
    let dir = tempfile::tempdir().unwrap();
    let root = build(&dir.path().join("s"), Role::Cic, 200, 1);
    let reg = root.open_registry().unwrap();
    for container in layout::DS_CONTAINERS {
        let subkeys = reg.subkeys(&root.ds_container(container)).unwrap();
        assert!(!subkeys.is_empty(), "{container} is empty");
    }
    assert_eq!(reg.subkeys(&root.ds_container("Users")).unwrap().len(), 200);

    // Users have memberships, a home site and status data.
    let users = root.ds_container("Users");
    let first = reg.subkeys(&users).unwrap().remove(0);
    let user = users.join(&first).unwrap();
    assert_eq!(reg.get_string(&user, "Home Site").unwrap(), "Indy");
    assert!(
        matches!(reg.get_value(&user, "Workgroups").unwrap(), Some(ValueData::MultiSz(g)) if !g.is_empty())
    );
    assert!(reg.get_value(&user, "Status").unwrap().is_some());

    // The report path parameter, and production vs custom reports on disk.
    let report_path = root
        .ds_container("Server Parameters")
        .join("Report File Path")
        .unwrap();
    let rel = reg.get_string(&report_path, "Value").unwrap();
    assert_eq!(rel, files::PRODUCTION_REPORTS);
    let production = std::fs::read_dir(root.files_dir().join(&rel))
        .unwrap()
        .count();
    let custom = std::fs::read_dir(root.files_dir().join(files::CUSTOM_REPORTS))
        .unwrap()
        .count();
    assert!(production > 0 && custom > 0);

    // Secrets decrypt with this server's key only.
    let key = root.machine_key().unwrap();
    let params = root.ds_container("Structured Parameters");
    let mut secrets = 0;
    for name in reg.subkeys(&params).unwrap() {
        let entry = params.join(&name).unwrap();
        if reg.get_string(&entry, "Type").unwrap() == "Secrets" {
            let Some(ValueData::Binary(sealed)) = reg.get_value(&entry, "Values").unwrap() else {
                panic!("secret without binary data");
            };
            assert!(String::from_utf8(key.decrypt(&sealed).unwrap())
                .unwrap()
                .starts_with("password-"));
            assert!(matches!(
                MachineKey::generate().decrypt(&sealed),
                Err(ServerError::SecretUndecryptable)
            ));
            secrets += 1;
        }
    }
    assert!(secrets > 0);

    // Recorder Rescue ID, handlers, waves per language, LRA, dial plan, icons.
    let rescue = root
        .ds_container("Recorder")
        .join("Configuration\\Rescue ID")
        .unwrap();
    assert!(reg.key_exists(&rescue).unwrap());
    assert!(reg.key_exists(&layout::server_ip("CIC01")).unwrap());
    assert!(!reg
        .subkeys(&KeyPath::parse(layout::IP_HANDLERS).unwrap())
        .unwrap()
        .is_empty());
    let handlers = root.files_dir().join(files::CUSTOM_HANDLERS);
    assert!(
        handlers.join("Routing/Shared/Common").is_dir(),
        "nested handler folders"
    );
    for lang in ["en-us", "fr-fr", "de-de"] {
        assert!(
            std::fs::read_dir(root.files_dir().join(files::ATTENDANT_WAVES).join(lang))
                .unwrap()
                .count()
                > 0
        );
    }
    for f in [
        files::LRA_CONFIG,
        files::RECORDER_MASTER_KEY,
        "DialPlan/Default.i3dialplan",
        "Resources/ClientButtons/button1.ico",
    ] {
        assert!(root.files_dir().join(f).is_file(), "{f}");
    }
}

#[test]
fn media_demo_has_its_own_smaller_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = build(&dir.path().join("m"), Role::Media, 100, 1);
    let reg = root.open_registry().unwrap();
    assert!(!reg.key_exists(&root.ds_container("Users")).unwrap());
    assert!(reg
        .get_value(
            &KeyPath::parse(layout::MEDIA_CONFIG).unwrap(),
            "RTP Port Min"
        )
        .unwrap()
        .is_some());
    for area in [
        files::MEDIA_CONFIG,
        files::MEDIA_CERTIFICATES,
        files::MEDIA_RESOURCES,
    ] {
        assert!(
            std::fs::read_dir(root.files_dir().join(area))
                .unwrap()
                .count()
                > 0,
            "{area}"
        );
    }
    assert!(!root.files_dir().join(files::CUSTOM_HANDLERS).exists());
}

#[test]
fn a_demo_into_an_existing_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    build(&path, Role::Cic, 10, 1);
    let params = Sample::cic("X").site("Y", 2).users(10).demo_params();
    assert!(matches!(
        generate(&path, params, &transit_core::NoProgress),
        Err(ServerError::AlreadyExists(_))
    ));
}
