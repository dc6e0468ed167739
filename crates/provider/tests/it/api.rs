//! The client API and the administration API over HTTP, on a real
//! provider (SQLite; the check-in path on PostgreSQL too).

use crate::common::{checkin, read, rt, Fixture, Running, TempPg};
use reqwest::Method;
use transit_provider::api::{GroupSettings, Mode, ResultEntry, ResultStatus, Results};
use transit_provider::client::{ActivityParams, ClientError};
use transit_provider::report::MachineStatus;
use transit_provider::Database;
use transit_update::applicability::Action;
use transit_update::store::ActivityStatus;

fn api_code(e: ClientError) -> (u16, String) {
    match e {
        ClientError::Api { status, code, .. } => (status, code),
        other => panic!("expected an API refusal, got {other}"),
    }
}

#[test]
fn checkin_is_committed_and_answered_with_settings_offers_and_next_time() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    rt().block_on(async {
        let reply = c.checkin(&checkin("m-1", "WS001", 1)).await.unwrap();
        assert_eq!(reply.api_version, 1);
        assert_eq!(reply.settings.group, "Default");
        assert_eq!(reply.settings.settings.mode, Mode::Download);
        assert_eq!(reply.updates.len(), 1);
        let offer = &reply.updates[0];
        assert_eq!(offer.id, fx.update_id);
        assert_eq!(offer.action, Action::Install);
        assert_eq!(offer.version.to_string(), "18.01.03.12");
        // Jittered between 60 and 120 s (no load: not stretched).
        assert!(
            (60..=120).contains(&reply.next_checkin_secs),
            "{}",
            reply.next_checkin_secs
        );
        assert!(transit_core::time::parse_rfc3339(&reply.next_checkin).is_some());

        // Up to date: nothing offered.
        let reply = c.checkin(&checkin("m-2", "WS002", 3)).await.unwrap();
        assert!(reply.updates.is_empty());

        // The 200 meant committed: the machines are there.
        let detail = c.machine("m-1").await.unwrap();
        assert_eq!(detail.machine.checkins, 1);
        assert_eq!(detail.machine.ip, "10.1.2.3");
        assert_eq!(detail.assessment.status, MachineStatus::NeedsAttention);
        let app = &detail.assessment.applications[0];
        assert_eq!(app.installed.unwrap().to_string(), "18.01.01.12");
        assert_eq!(app.available.unwrap().to_string(), "18.01.03.12");

        // Each update shows how many machines activated it.
        let updates = c.updates().await.unwrap();
        assert_eq!(updates.len(), 1);
        assert_eq!(updates[0].activated, 1, "m-2 has 18.01.03.12");
    });
}

#[test]
fn checkins_on_postgres_commit_and_refuse_a_claimed_id() {
    let fx = Fixture::new();
    rt().block_on(async {
        let Some(db) = TempPg::new().await else {
            return;
        };
        {
            let cfg = fx.config(Database::parse(Some(&db.url)).unwrap());
            let p = tokio::task::spawn_blocking(move || Running::start(cfg))
                .await
                .unwrap();
            let c = p.client();
            c.checkin(&checkin("pg-1", "WS-PG", 1)).await.unwrap();
            let mut thief = checkin("pg-1", "THIEF", 1);
            thief.token = "a-different-secret-0000".into();
            assert_eq!(
                api_code(c.checkin(&thief).await.unwrap_err()),
                (409, "id_claimed".into())
            );
            let m = c.machine("pg-1").await.unwrap().machine;
            assert_eq!((m.name.as_str(), m.checkins), ("WS-PG", 1));
            tokio::task::spawn_blocking(move || p.stop().unwrap())
                .await
                .unwrap();
        }
        db.drop_db().await;
    });
}

#[test]
fn downloads_serve_metadata_and_payloads_with_ranges() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    let payload = read(&fx.payload);
    let len = payload.len();
    rt().block_on(async {
        let (status, _, body) = c
            .raw(
                Method::GET,
                "/v1/repository/metadata/timestamp.json",
                &[],
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(body, read(&fx.repo.metadata_dir().join("timestamp.json")));

        let url = format!("/v1/repository/targets/{}", fx.payload_url);
        let (status, headers, body) = c.raw(Method::GET, &url, &[], None).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(headers["accept-ranges"], "bytes");
        assert_eq!(body.as_ref(), payload.as_slice());

        // Resume from the middle.
        let (status, headers, body) = c
            .raw(Method::GET, &url, &[("range", "bytes=1000-")], None)
            .await
            .unwrap();
        assert_eq!(status, 206);
        assert_eq!(
            headers["content-range"],
            format!("bytes 1000-{}/{len}", len - 1).as_str()
        );
        assert_eq!(body.as_ref(), &payload[1000..]);
        let (status, _, body) = c
            .raw(Method::GET, &url, &[("range", "bytes=10-19")], None)
            .await
            .unwrap();
        assert_eq!(status, 206);
        assert_eq!(body.as_ref(), &payload[10..20]);

        // Nothing outside the repository.
        for bad in [
            "/v1/repository/targets/..%2F..%2Fprovider.db",
            "/v1/repository/targets/%2E%2E/keys/snapshot.key",
            "/v1/repository/metadata/..%2Fupdate.toml",
            "/v1/repository/targets/nonexistent.bin",
        ] {
            let (status, _, _) = c.raw(Method::GET, bad, &[], None).await.unwrap();
            assert_eq!(status, 404, "{bad}");
        }
    });
}

/// A connection whose first request asks for a payload is served by the
/// low-priority bulk runtime (its socket moved to that runtime's
/// reactor): Range, the whole file and a check-in after them on the same
/// connection are answered as on any other.
#[test]
fn a_payload_connection_serves_ranges_and_the_requests_after_them() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    // One connection, whose first request is the payload's.
    let c = transit_provider::client::ProviderClient::new(&p.url(), None, 1).unwrap();
    let payload = read(&fx.payload);
    let len = payload.len();
    let url = format!("/v1/repository/targets/{}", fx.payload_url);
    rt().block_on(async {
        let (status, headers, body) = c
            .raw(Method::GET, &url, &[("range", "bytes=100-29999")], None)
            .await
            .unwrap();
        assert_eq!(status, 206);
        assert_eq!(
            headers["content-range"],
            format!("bytes 100-29999/{len}").as_str()
        );
        assert_eq!(body.as_ref(), &payload[100..30_000]);
        let (status, _, body) = c.raw(Method::GET, &url, &[], None).await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body.as_ref(), payload.as_slice());
        let (status, _, _) = c
            .raw(
                Method::GET,
                &url,
                &[("range", &format!("bytes={len}-"))],
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 416);
        let reply = c.checkin(&checkin("bulk", "WS-BULK", 1)).await.unwrap();
        assert_eq!(reply.updates.len(), 1);
    });
}

#[test]
fn results_and_progress_become_activity_without_a_row_per_progress_event() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    rt().block_on(async {
        let machine = checkin("m-r", "WS-R", 1);
        c.checkin(&machine).await.unwrap();
        let results = Results {
            machine_id: "m-r".into(),
            token: machine.token.clone(),
            results: vec![
                ResultEntry {
                    update_id: fx.update_id,
                    status: ResultStatus::DownloadFailed,
                    description: "connection reset".into(),
                },
                ResultEntry {
                    update_id: fx.update_id,
                    status: ResultStatus::Installed,
                    description: String::new(),
                },
            ],
        };
        let body = serde_json::to_vec(&results).unwrap();
        let (status, _, _) = c
            .raw(
                Method::POST,
                "/v1/results",
                &[("content-type", "application/json")],
                Some(body),
            )
            .await
            .unwrap();
        assert_eq!(status, 200);

        // Results with another machine's secret are refused.
        let mut forged = results.clone();
        forged.token = "not-the-secret-000000".into();
        let (status, _, _) = c
            .raw(
                Method::POST,
                "/v1/results",
                &[],
                Some(serde_json::to_vec(&forged).unwrap()),
            )
            .await
            .unwrap();
        assert_eq!(status, 409);

        let progress = |percent: u8| {
            serde_json::to_vec(&transit_provider::api::ProgressReport {
                machine_id: "m-r".into(),
                token: machine.token.clone(),
                update_id: fx.update_id,
                phase: "download".into(),
                percent,
            })
            .unwrap()
        };
        let mut coalesced = 0;
        for pct in [10, 20, 30, 40] {
            let (status, _, body) = c
                .raw(Method::POST, "/v1/progress", &[], Some(progress(pct)))
                .await
                .unwrap();
            assert_eq!(status, 202);
            let a: transit_provider::api::Accepted = serde_json::from_slice(&body).unwrap();
            coalesced += a.coalesced;
        }
        assert!(coalesced >= 1, "events within a second are coalesced");

        let page = c.activity(&ActivityParams::default()).await.unwrap();
        let statuses: Vec<ActivityStatus> = page
            .groups
            .iter()
            .flat_map(|g| &g.entries)
            .filter(|a| a.machine == "WS-R")
            .map(|a| a.status)
            .collect();
        assert_eq!(
            statuses.len(),
            2,
            "results are rows, progress events are not"
        );
        assert!(statuses.contains(&ActivityStatus::DownloadFailed));
        assert!(statuses.contains(&ActivityStatus::Installed));
    });
    // The latest progress is written within a few seconds.
    let c = p.client();
    crate::common::eventually(|| {
        rt().block_on(c.machine("m-r"))
            .map(|d| d.progress.first().is_some_and(|r| r.percent == 40))
            .unwrap_or(false)
    });
}

#[test]
fn groups_follow_u03_and_refuse_automatic_for_the_cic_server() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    rt().block_on(async {
        let mut cic = checkin("cic", "CIC01", 3);
        cic.cic_server = true;
        c.checkin(&cic).await.unwrap();
        c.checkin(&checkin("ws", "WS1", 3)).await.unwrap();

        let auto = GroupSettings {
            mode: Mode::Automatic,
            ..GroupSettings::default()
        };
        // Automatic is refused for a group that holds the CIC server …
        assert_eq!(
            api_code(c.set_group("Default", &auto).await.unwrap_err()).0,
            409
        );
        // … and the CIC server cannot join an Automatic group.
        c.create_group("Auto", Some(auto.clone())).await.unwrap();
        assert_eq!(
            api_code(c.add_members("Auto", &["cic".into()]).await.unwrap_err()).0,
            409
        );
        assert_eq!(
            c.add_members("Auto", &["ws".into()]).await.unwrap().changed,
            1
        );
        let reply = c.checkin(&checkin("ws", "WS1", 3)).await.unwrap();
        assert_eq!(reply.settings.group, "Auto");
        assert_eq!(reply.settings.settings.mode, Mode::Automatic);

        // Machines are searched by the start of the name or by IP.
        let found = c.machines(Some("ws"), None, 0).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].group, "Auto");
        assert_eq!(c.machines(Some("10.1.2"), None, 0).await.unwrap().len(), 2);

        // Removing sends it back to the default group; deleting a group
        // moves its members there too.
        assert_eq!(
            api_code(c.remove_member("Auto", "cic").await.unwrap_err()).0,
            404
        );
        assert_eq!(c.remove_member("Auto", "ws").await.unwrap().changed, 1);
        assert_eq!(c.machine("ws").await.unwrap().machine.group, "Default");
        c.add_members("Auto", &["ws".into()]).await.unwrap();
        assert_eq!(c.delete_group("Auto").await.unwrap().changed, 1);
        assert_eq!(c.machine("ws").await.unwrap().machine.group, "Default");
        assert_eq!(
            api_code(c.delete_group("Default").await.unwrap_err()).0,
            409
        );

        // The default group's settings can be edited.
        let manual = GroupSettings {
            mode: Mode::Manual,
            install_hour: 4,
            providers: vec!["prov1".into()],
            allow_migration: true,
            ..GroupSettings::default()
        };
        c.set_group("Default", &manual).await.unwrap();
        let reply = c.checkin(&checkin("ws", "WS1", 3)).await.unwrap();
        assert_eq!(reply.settings.settings, manual);
        let bad_hour = GroupSettings {
            install_hour: 24,
            ..manual
        };
        assert_eq!(
            api_code(c.set_group("Default", &bad_hour).await.unwrap_err()).0,
            422
        );
    });
}

#[test]
fn report_lists_every_reason_and_filters_by_last_contact() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    rt().block_on(async {
        c.checkin(&checkin("ok", "WS-OK", 3)).await.unwrap();
        c.checkin(&checkin("old", "WS-OLD", 1)).await.unwrap();
        let mut bad = checkin("bad", "WS-BAD", 1);
        bad.errors = vec!["service disabled".into()];
        bad.restart_required = true;
        c.checkin(&bad).await.unwrap();

        let r = c.report(None).await.unwrap();
        assert_eq!((r.up_to_date, r.needs_attention, r.error_state), (1, 1, 1));
        let statuses: Vec<(&str, MachineStatus)> = r
            .machines
            .iter()
            .map(|m| (m.name.as_str(), m.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("WS-BAD", MachineStatus::ErrorState),
                ("WS-OLD", MachineStatus::NeedsAttention),
                ("WS-OK", MachineStatus::UpToDate)
            ]
        );
        let bad = &r.machines[0].reasons;
        assert!(
            bad.iter().any(|r| r == "client error: service disabled"),
            "{bad:?}"
        );
        assert!(bad.iter().any(|r| r == "restart required"), "{bad:?}");
        assert!(
            bad.iter().any(|r| r.contains("install 18.01.03.12")),
            "{bad:?}"
        );
        // The report shares one assessment among machines with the same
        // installed applications: each row still equals the machine's own.
        let mut twin = checkin("twin", "WS-TWIN", 3);
        twin.errors = vec!["disk full".into()];
        c.checkin(&twin).await.unwrap();
        for m in &c.report(None).await.unwrap().machines {
            let d = c.machine(&m.id).await.unwrap();
            assert_eq!(
                (m.status, &m.reasons),
                (d.assessment.status, &d.assessment.reasons),
                "{}",
                m.name
            );
        }

        assert_eq!(c.report(Some("2w")).await.unwrap().machines.len(), 4);
        assert_eq!(c.report(Some("6m")).await.unwrap().machines.len(), 4);
        assert!(c
            .report(Some("2999-01-01"))
            .await
            .unwrap()
            .machines
            .is_empty());
        assert_eq!(
            api_code(c.report(Some("yesterday")).await.unwrap_err()).0,
            422
        );
    });
}

#[test]
fn activity_sorts_groups_pages_exports_csv_and_clears() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    rt().block_on(async {
        for (id, name) in [("a", "WS-A"), ("b", "WS-B"), ("c", "WS-C")] {
            let m = checkin(id, name, 1);
            c.checkin(&m).await.unwrap();
            let r = Results {
                machine_id: id.into(),
                token: m.token.clone(),
                results: vec![ResultEntry {
                    update_id: fx.update_id,
                    status: ResultStatus::Downloaded,
                    description: "ok, \"quoted\"".into(),
                }],
            };
            c.raw(
                Method::POST,
                "/v1/results",
                &[],
                Some(serde_json::to_vec(&r).unwrap()),
            )
            .await
            .unwrap();
        }
        // Ingest and the GA change logged two provider entries: five in all.
        let page = c
            .activity(&ActivityParams {
                sort: Some("machine".into()),
                order: Some("asc".into()),
                per_page: Some(2),
                page: Some(2),
                ..ActivityParams::default()
            })
            .await
            .unwrap();
        assert_eq!(page.total, 5);
        let machines: Vec<&str> = page.groups[0]
            .entries
            .iter()
            .map(|a| a.machine.as_str())
            .collect();
        assert_eq!(machines, ["WS-C", "provider"]);

        let grouped = c
            .activity(&ActivityParams {
                group: Some("status".into()),
                ..ActivityParams::default()
            })
            .await
            .unwrap();
        let keys: Vec<&str> = grouped.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["State Changed", "Ingested", "Downloaded"]);
        assert_eq!(grouped.groups[2].entries.len(), 3);

        let csv = c.activity_csv(&ActivityParams::default()).await.unwrap();
        let mut lines = csv.lines();
        assert_eq!(
            lines.next(),
            Some("time,machine,application,release,patch,status,description")
        );
        assert_eq!(csv.lines().count(), 6);
        assert!(csv.contains(": ok, \"\"quoted\"\"\"\n"), "{csv}");

        assert_eq!(
            api_code(
                c.activity(&ActivityParams {
                    sort: Some("colour".into()),
                    ..ActivityParams::default()
                })
                .await
                .unwrap_err()
            )
            .0,
            422
        );
        assert_eq!(c.clear_activity().await.unwrap().changed, 5);
        assert_eq!(
            c.activity(&ActivityParams::default()).await.unwrap().total,
            0
        );
    });
}
