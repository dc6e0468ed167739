use super::*;
use transit_archive::{MigratorInfo, SourceInfo};
use transit_server::identity::{MigratorSection, ServerSection};

fn manifest(release: &str, migrator: &str, build: u32, site_id: u32, role: &str) -> Manifest {
    Manifest {
        format_version: 1,
        migrator: MigratorInfo {
            release: migrator.into(),
            build,
        },
        source: SourceInfo {
            server_name: "cicb".into(), // the target is CICB: names ignore case
            site_name: "SiteA".into(),
            site_id,
            role: role.into(),
            product_release: release.into(),
            patch: 0,
        },
        created_utc: "2026-11-23T10:00:00Z".into(),
        components: vec![],
    }
}

fn target(release: &str, build: u32, site_id: u32, role: Role) -> ServerIdentity {
    ServerIdentity {
        server: ServerSection {
            name: "CICB".into(),
            site_name: "SiteB".into(),
            site_id,
            role,
            product_release: release.parse().unwrap(),
            patch: 0,
            machine_key_id: "0123456789abcdef".into(),
        },
        migrator: MigratorSection {
            release: release.parse().unwrap(),
            build,
        },
    }
}

use ImportMode::{Migration, Recovery};

/// The same manifest, from another server than the target (CICA).
fn from_other(mut m: Manifest) -> Manifest {
    m.source.server_name = "CICA".into();
    m
}

#[test]
fn a_newer_target_accepts_a_migration() {
    let m = manifest("2015 R1", "2018 R1", 100, 1, "cic");
    assert_eq!(
        check_versions(&m, &target("2018 R1", 100, 2, Role::Cic), Migration),
        Ok(())
    );
}

#[test]
fn older_migrator_release_is_always_refused() {
    let m = manifest("2015 R1", "2015 R1", 100, 1, "cic");
    for mode in [Migration, Recovery] {
        assert!(matches!(
            check_versions(&m, &target("2018 R1", 100, 2, Role::Cic), mode),
            Err(Refusal::OlderMigrator { .. })
        ));
    }
}

#[test]
fn migration_accepts_older_or_equal_builds_of_the_same_release() {
    let t = target("2018 R1", 100, 2, Role::Cic);
    assert_eq!(
        check_versions(
            &from_other(manifest("2018 R1", "2018 R1", 100, 1, "cic")),
            &t,
            Migration
        ),
        Ok(())
    );
    assert_eq!(
        check_versions(
            &from_other(manifest("2018 R1", "2018 R1", 99, 1, "cic")),
            &t,
            Migration
        ),
        Ok(())
    );
    assert!(matches!(
        check_versions(
            &manifest("2018 R1", "2018 R1", 101, 1, "cic"),
            &t,
            Migration
        ),
        Err(Refusal::NewerMigrator { .. })
    ));
}

#[test]
fn recovery_restores_only_the_server_the_file_came_from() {
    let mut m = manifest("2018 R1", "2018 R1", 100, 1, "cic");
    m.source.server_name = "CICA".into();
    let t = target("2018 R1", 100, 1, Role::Cic);
    let refusal = check_versions(&m, &t, Recovery).unwrap_err();
    assert!(matches!(refusal, Refusal::RecoveryOtherServer { .. }));
    assert!(
        refusal.to_string().contains("use migration mode"),
        "{refusal}"
    );
    m.source.site_id = 2;
    assert_eq!(check_versions(&m, &t, Migration), Ok(()));
}

#[test]
fn recovery_needs_the_same_build_and_release() {
    let t = target("2018 R1", 100, 1, Role::Cic);
    assert_eq!(
        check_versions(&manifest("2018 R1", "2018 R1", 100, 1, "cic"), &t, Recovery),
        Ok(())
    );
    assert!(matches!(
        check_versions(&manifest("2018 R1", "2018 R1", 99, 1, "cic"), &t, Recovery),
        Err(Refusal::RecoveryMigratorMismatch { .. })
    ));
    assert!(matches!(
        check_versions(&manifest("2017 R1", "2018 R1", 100, 1, "cic"), &t, Recovery),
        Err(Refusal::RecoveryReleaseMismatch { .. })
    ));
}

#[test]
fn migration_into_an_older_release_is_refused() {
    let m = manifest("2019 R1", "2019 R1", 100, 1, "cic");
    let err = check_versions(&m, &target("2018 R1", 100, 2, Role::Cic), Migration).unwrap_err();
    // The file's Migrator is newer too, but the release rule is the one to act on.
    assert!(matches!(err, Refusal::TargetOlder { .. }), "{err:?}");
}

#[test]
fn sources_at_3_0_or_older_are_refused() {
    for old in ["3.0", "2.4"] {
        let m = manifest(old, "2018 R1", 100, 1, "cic");
        assert!(matches!(
            check_versions(&m, &target("2018 R1", 100, 2, Role::Cic), Migration),
            Err(Refusal::SourceTooOld(_))
        ));
    }
    let m = manifest("4.0", "2018 R1", 100, 1, "cic");
    assert_eq!(
        check_versions(&m, &target("2018 R1", 100, 2, Role::Cic), Migration),
        Ok(())
    );
}

#[test]
fn migration_from_the_same_site_id_is_refused() {
    let m = manifest("2018 R1", "2018 R1", 100, 7, "cic");
    assert_eq!(
        check_versions(&m, &target("2018 R1", 100, 7, Role::Cic), Migration),
        Err(Refusal::SameSiteId(7))
    );
    assert_eq!(
        check_versions(&m, &target("2018 R1", 100, 7, Role::Cic), Recovery),
        Ok(())
    );
}

#[test]
fn roles_must_match_and_media_refuses_recovery() {
    let media_file = manifest("2018 R1", "2018 R1", 100, 1, "media");
    assert!(matches!(
        check_versions(
            &media_file,
            &target("2018 R1", 100, 2, Role::Cic),
            Migration
        ),
        Err(Refusal::RoleMismatch { .. })
    ));
    let cic_file = manifest("2018 R1", "2018 R1", 100, 1, "cic");
    assert!(matches!(
        check_versions(
            &cic_file,
            &target("2018 R1", 100, 2, Role::Media),
            Migration
        ),
        Err(Refusal::RoleMismatch { .. })
    ));
    let media_target = target("2018 R1", 100, 1, Role::Media);
    assert_eq!(
        check_versions(&media_file, &media_target, Recovery),
        Err(Refusal::RecoveryOnMedia)
    );
    let media_file2 = from_other(manifest("2018 R1", "2018 R1", 100, 2, "media"));
    assert_eq!(
        check_versions(&media_file2, &media_target, Migration),
        Ok(())
    );
}

#[test]
fn unknown_releases_in_the_file_are_named() {
    let m = manifest("2099 R9", "2018 R1", 100, 1, "cic");
    assert_eq!(
        check_versions(&m, &target("2018 R1", 100, 2, Role::Cic), Migration),
        Err(Refusal::UnknownRelease("2099 R9".into()))
    );
}

#[test]
fn free_space_and_space_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let free = free_space(&dir.path().join("not/yet")).unwrap();
    assert!(free > 0);
    assert!(check_space(dir.path(), 1).is_ok());
    let err = check_space(dir.path(), u64::MAX).unwrap_err();
    assert!(err.to_string().contains("not enough free space"), "{err}");
}

#[test]
fn extraction_folder_inside_the_root_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("server");
    std::fs::create_dir_all(&root).unwrap();
    assert!(check_extraction_folder(&root.join("handlers"), &root).is_err());
    assert!(check_extraction_folder(&dir.path().join("extract"), &root).is_ok());
}

#[test]
fn recovery_is_supported_only_from_2015_r1_on() {
    // A 4.0 server restoring its own 4.0 file: same release, same
    // Migrator, same name, and still refused.
    let m = manifest("4.0", "4.0", 100, 1, "cic");
    let err = check_versions(&m, &target("4.0", 100, 1, Role::Cic), Recovery).unwrap_err();
    assert_eq!(err, Refusal::RecoveryBefore2015("4.0".parse().unwrap()));
    assert!(err
        .to_string()
        .contains("CIC 2015 R1 or later to CIC 2015 R1 or later"));
    let m = manifest("2015 R1", "2015 R1", 100, 1, "cic");
    assert_eq!(
        check_versions(&m, &target("2015 R1", 100, 1, Role::Cic), Recovery),
        Ok(())
    );
}

#[test]
fn a_same_version_migration_needs_another_server_name() {
    // The manifest's source is "cicb"; the target is CICB.
    let same = manifest("2018 R1", "2018 R1", 100, 1, "cic");
    let err = check_versions(&same, &target("2018 R1", 100, 2, Role::Cic), Migration).unwrap_err();
    assert!(matches!(err, Refusal::SameServerName { .. }), "{err:?}");
    assert!(
        err.to_string().contains("must have a different name"),
        "{err}"
    );
    let media = manifest("2018 R1", "2018 R1", 100, 1, "media");
    assert!(matches!(
        check_versions(&media, &target("2018 R1", 100, 2, Role::Media), Migration),
        Err(Refusal::SameServerName { .. })
    ));
    // From an older release the name may stay (a rebuilt server).
    let older = manifest("2015 R1", "2018 R1", 100, 1, "cic");
    assert_eq!(
        check_versions(&older, &target("2018 R1", 100, 2, Role::Cic), Migration),
        Ok(())
    );
}
