//! Applicability as table tests: each row is a catalog, a machine and the
//! expected offers.

use transit_update::applicability::{superseded_by, Action, Offer};
use transit_update::{plan, CatalogEntry, InstalledApp, Manifest, ServerLevel, UpdateState};

const CLIENT: &str = "Interactive Update Client";

fn entry(
    id: i64,
    app: &str,
    release: &str,
    patch: u16,
    kind: &str,
    version: &str,
    state: UpdateState,
) -> CatalogEntry {
    let text = crate::common::manifest(app, release, patch, kind, version);
    CatalogEntry {
        id,
        manifest: Manifest::parse(&text).unwrap(),
        state,
    }
}

fn with_related(mut e: CatalogEntry, related: &[&str]) -> CatalogEntry {
    e.manifest.related_installs = related.iter().map(|s| s.to_string()).collect();
    e
}

fn high(mut e: CatalogEntry) -> CatalogEntry {
    e.manifest.high_priority = true;
    e
}

fn app(
    name: &str,
    release: &str,
    patch: u16,
    version: &str,
    previous: Option<&str>,
) -> InstalledApp {
    InstalledApp {
        application: name.into(),
        release: release.parse().unwrap(),
        patch,
        version: version.parse().unwrap(),
        previous: previous.map(|p| p.parse().unwrap()),
    }
}

fn server(release: &str, patch: u16) -> ServerLevel {
    ServerLevel {
        release: release.parse().unwrap(),
        patch,
    }
}

fn ids(offers: &[Offer]) -> Vec<i64> {
    offers.iter().map(|o| o.id).collect()
}

use UpdateState::*;

const DESK: &str = "Interaction Desktop";

fn catalog() -> Vec<CatalogEntry> {
    vec![
        entry(1, DESK, "2018 R1", 0, "Install", "18.01.00.10", Ga),
        entry(2, DESK, "2018 R1", 2, "Patch", "18.01.02.5", Ga),
        entry(3, DESK, "2018 R1", 3, "Patch", "18.01.03.12", Ga),
        entry(4, DESK, "2018 R1", 3, "ES", "18.01.03.20", Ga),
        entry(5, DESK, "2018 R1", 2, "ES", "18.01.02.9", Ga),
        entry(6, DESK, "2018 R2", 0, "Install", "18.02.00.4", Ga),
        entry(7, DESK, "2018 R2", 1, "Patch", "18.02.01.3", PreApproval),
        entry(8, DESK, "2018 R3", 0, "Install", "18.03.00.2", Ga),
    ]
}

/// (case, server level, installed, expected offers in order, gated)
type Row = (&'static str, ServerLevel, InstalledApp, Vec<i64>, Vec<i64>);

#[test]
fn release_then_patch_then_es_under_the_version_gate() {
    // (case, server level, installed, expected offers in order, gated)
    let rows: Vec<Row> = vec![
        (
            "R1 GA machine, server R1 P3: latest patch, then its ES",
            server("2018 R1", 3),
            app(DESK, "2018 R1", 0, "18.01.00.10", None),
            vec![3, 4],
            vec![6, 8],
        ),
        (
            "server on R2: the R2 install; R2's patch is Pre-Approval",
            server("2018 R2", 1),
            app(DESK, "2018 R1", 3, "18.01.03.12", None),
            vec![6],
            vec![8],
        ),
        (
            "server on R3: straight to the newest release",
            server("2018 R3", 0),
            app(DESK, "2018 R1", 0, "18.01.00.10", None),
            vec![8],
            vec![],
        ),
        (
            "server on R1 P2: patch 3 is gated, patch 2's ES applies",
            server("2018 R1", 2),
            app(DESK, "2018 R1", 0, "18.01.00.10", None),
            vec![2, 5],
            vec![3, 4, 6, 8],
        ),
        (
            "already at P3 with its ES: nothing",
            server("2018 R1", 3),
            app(DESK, "2018 R1", 3, "18.01.03.20", None),
            vec![],
            vec![6, 8],
        ),
        (
            "at P3 without the ES: the ES only",
            server("2018 R1", 3),
            app(DESK, "2018 R1", 3, "18.01.03.12", None),
            vec![4],
            vec![6, 8],
        ),
        (
            "server older than everything: all gated",
            server("2015 R1", 0),
            app(DESK, "2018 R1", 0, "18.01.00.10", None),
            vec![],
            vec![2, 3, 4, 5, 6, 8],
        ),
    ];
    for (case, level, installed, want, gated) in rows {
        let got = plan(&catalog(), &[installed], level, CLIENT);
        assert_eq!(ids(&got.offers), want, "{case}");
        assert_eq!(got.gated, gated, "{case}");
        assert!(
            got.offers.iter().all(|o| o.action == Action::Install),
            "{case}"
        );
    }
}

#[test]
fn only_ga_is_offered() {
    for state in [PreApproval, Inactive, Remove] {
        let cat = vec![entry(1, DESK, "2018 R1", 3, "Patch", "18.01.03.12", state)];
        let got = plan(
            &cat,
            &[app(DESK, "2018 R1", 2, "18.01.02.5", None)],
            server("2018 R1", 3),
            CLIENT,
        );
        assert!(got.offers.is_empty(), "{state}");
    }
}

#[test]
fn an_application_the_machine_lacks_is_not_offered() {
    let got = plan(
        &catalog(),
        &[app("Interaction Fax", "2018 R1", 0, "18.01.00.1", None)],
        server("2018 R3", 0),
        CLIENT,
    );
    assert_eq!(got, Default::default());
}

#[test]
fn remove_rolls_back_or_uninstalls_and_delete_does_nothing() {
    let cat = vec![
        entry(2, DESK, "2018 R1", 2, "Patch", "18.01.02.5", Ga),
        entry(3, DESK, "2018 R1", 3, "Patch", "18.01.03.12", Remove),
    ];
    let level = server("2018 R1", 3);
    // (case, installed, expected action)
    let rows = [
        (
            "previous version kept: roll back to it",
            app(DESK, "2018 R1", 3, "18.01.03.12", Some("18.01.02.5")),
            Some(Action::RollBack {
                to: "18.01.02.5".parse().unwrap(),
            }),
        ),
        (
            "no previous version: uninstall",
            app(DESK, "2018 R1", 3, "18.01.03.12", None),
            Some(Action::Uninstall),
        ),
        (
            "another version installed: Remove does not apply",
            app(DESK, "2018 R1", 1, "18.01.01.2", None),
            Some(Action::Install),
        ),
    ];
    for (case, installed, want) in rows {
        let got = plan(&cat, &[installed], level, CLIENT);
        assert_eq!(got.offers.first().map(|o| o.action.clone()), want, "{case}");
        assert!(got.offers.len() <= 1, "{case}");
    }
    // Deleting the update from the provider: it is not in the catalog, so
    // the machine that has it is left alone.
    let deleted = vec![entry(
        2,
        DESK,
        "2018 R1",
        2,
        "Patch",
        "18.01.02.5",
        Inactive,
    )];
    let got = plan(
        &deleted,
        &[app(DESK, "2018 R1", 3, "18.01.03.12", Some("18.01.02.5"))],
        level,
        CLIENT,
    );
    assert!(got.offers.is_empty());
}

#[test]
fn related_installs_travel_with_their_update() {
    let addins = "Interaction Desktop Add-ins";
    let cat = vec![
        high(with_related(
            entry(3, DESK, "2018 R1", 3, "Patch", "18.01.03.12", Ga),
            &[addins],
        )),
        entry(
            10,
            addins,
            "2018 R1",
            0,
            "Install",
            "18.01.00.3",
            PreApproval,
        ),
        entry(11, addins, "2018 R2", 0, "Install", "18.02.00.1", Ga),
        entry(12, addins, "2017 R4", 0, "Install", "17.04.00.1", Ga),
    ];
    let got = plan(
        &cat,
        &[app(DESK, "2018 R1", 2, "18.01.02.5", None)],
        server("2018 R1", 3),
        CLIENT,
    );
    assert_eq!(
        ids(&got.offers),
        [3, 10],
        "the newest install the gate allows"
    );
    assert_eq!(got.offers[1].related_to, Some(3));
    assert!(
        got.offers[1].high_priority,
        "a related install inherits High Priority"
    );
    // A machine that has the related application already gets only the update.
    let got = plan(
        &cat,
        &[
            app(DESK, "2018 R1", 2, "18.01.02.5", None),
            app(addins, "2018 R1", 0, "18.01.00.3", None),
        ],
        server("2018 R1", 3),
        CLIENT,
    );
    assert_eq!(ids(&got.offers), [3]);
}

#[test]
fn the_client_updates_itself_first() {
    let cat = vec![
        entry(3, DESK, "2018 R1", 3, "Patch", "18.01.03.12", Ga),
        entry(20, CLIENT, "2018 R1", 3, "Patch", "18.01.03.4", Ga),
    ];
    let machine = [
        app(DESK, "2018 R1", 2, "18.01.02.5", None),
        app(CLIENT, "2018 R1", 2, "18.01.02.2", None),
    ];
    let got = plan(&cat, &machine, server("2018 R1", 3), CLIENT);
    assert_eq!(
        ids(&got.offers),
        [20],
        "the speedbump: the client alone first"
    );
    assert_eq!(ids(&got.held), [3]);
    // Once the client is current, everything else is offered.
    let machine = [
        app(DESK, "2018 R1", 2, "18.01.02.5", None),
        app(CLIENT, "2018 R1", 3, "18.01.03.4", None),
    ];
    let got = plan(&cat, &machine, server("2018 R1", 3), CLIENT);
    assert_eq!(ids(&got.offers), [3]);
    assert!(got.held.is_empty());
}

#[test]
fn only_the_latest_patch_should_be_ga() {
    let cat = catalog();
    let newer = entry(9, DESK, "2018 R1", 4, "Patch", "18.01.04.1", PreApproval).manifest;
    // Patches 2 and 3 and their ESs are GA: all four should go Inactive.
    assert_eq!(superseded_by(&cat, &newer), [2, 3, 4, 5]);
    let es = entry(9, DESK, "2018 R1", 3, "ES", "18.01.03.30", PreApproval).manifest;
    assert!(
        superseded_by(&cat, &es).is_empty(),
        "an ES supersedes nothing"
    );
    // In another release only that release's older patches count (7 is
    // R2 patch 1, still Pre-Approval).
    let other_release = entry(9, DESK, "2018 R2", 4, "Patch", "18.02.04.1", PreApproval).manifest;
    assert_eq!(superseded_by(&cat, &other_release), [7]);
}
