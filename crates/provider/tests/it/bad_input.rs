//! Bad input: each gets a clear 4xx (or 503 with Retry-After), and the
//! provider keeps serving and loses nothing.

use crate::common::{checkin, read, rt, Fixture, Running};
use reqwest::Method;
use std::io::{Read, Write};
use transit_provider::api::ApiErrorBody;
use transit_provider::client::ProviderClient;
use transit_provider::Database;

async fn post(c: &ProviderClient, path: &str, body: Vec<u8>) -> (u16, ApiErrorBody) {
    let (status, _, bytes) = c
        .raw(
            Method::POST,
            path,
            &[("content-type", "application/json")],
            Some(body),
        )
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| ApiErrorBody {
        code: String::from_utf8_lossy(&bytes).into_owned(),
        error: String::new(),
        api_version: 0,
    });
    (status.as_u16(), body)
}

/// The provider still takes a good check-in, and has every earlier one.
async fn still_serving(c: &ProviderClient, committed: &[&str]) {
    c.checkin(&checkin("after", "WS-AFTER", 3)).await.unwrap();
    for id in committed {
        assert_eq!(c.machine(id).await.unwrap().machine.checkins, 1, "{id}");
    }
}

#[test]
fn malformed_oversized_and_newer_client_bodies_are_refused_clearly() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    rt().block_on(async {
        c.checkin(&checkin("before", "WS-BEFORE", 3)).await.unwrap();

        let (status, body) = post(&c, "/v1/checkin", b"{\"machine_id\": \"x\", ".to_vec()).await;
        assert_eq!((status, body.code.as_str()), (400, "malformed_json"));
        let (status, body) = post(&c, "/v1/checkin", b"not json at all".to_vec()).await;
        assert_eq!((status, body.code.as_str()), (400, "malformed_json"));

        let mut big = serde_json::to_value(checkin("big", "WS-BIG", 3)).unwrap();
        big["errors"] = serde_json::json!(["x".repeat(400 * 1024)]);
        let (status, body) = post(&c, "/v1/checkin", serde_json::to_vec(&big).unwrap()).await;
        assert_eq!((status, body.code.as_str()), (413, "too_large"));

        let mut newer = serde_json::to_value(checkin("new", "WS-NEW", 3)).unwrap();
        newer["battery_level"] = serde_json::json!(80);
        let (status, body) = post(&c, "/v1/checkin", serde_json::to_vec(&newer).unwrap()).await;
        assert_eq!((status, body.code.as_str()), (422, "unknown_field"));
        assert!(body.error.contains("battery_level"), "{}", body.error);
        assert!(body.error.contains("API version 1"), "{}", body.error);

        let mut wrong = serde_json::to_value(checkin("w", "WS-W", 3)).unwrap();
        wrong["installed"][0]["version"] = serde_json::json!("eighteen");
        let (status, body) = post(&c, "/v1/checkin", serde_json::to_vec(&wrong).unwrap()).await;
        assert_eq!((status, body.code.as_str()), (422, "invalid"));
        let mut short = checkin("s", "WS-S", 3);
        short.token = "short".into();
        let (status, _) = post(&c, "/v1/checkin", serde_json::to_vec(&short).unwrap()).await;
        assert_eq!(status, 422);

        for id in ["big", "new", "w", "s"] {
            assert!(c.machine(id).await.is_err(), "{id} was not stored");
        }
        still_serving(&c, &["before"]).await;
    });
}

#[test]
fn a_range_beyond_the_end_is_416() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    let len = read(&fx.payload).len();
    rt().block_on(async {
        let url = format!("/v1/repository/targets/{}", fx.payload_url);
        let range = format!("bytes={len}-");
        let (status, headers, body) = c
            .raw(Method::GET, &url, &[("range", &range)], None)
            .await
            .unwrap();
        assert_eq!(status, 416);
        assert_eq!(headers["content-range"], format!("bytes */{len}").as_str());
        let body: ApiErrorBody = serde_json::from_slice(&body).unwrap();
        assert_eq!(body.code, "range_not_satisfiable");
        let (status, _, _) = c.raw(Method::GET, &url, &[], None).await.unwrap();
        assert_eq!(status, 200);
        still_serving(&c, &[]).await;
    });
}

#[test]
fn a_machine_claiming_another_machines_id_is_refused() {
    let fx = Fixture::new();
    let p = Running::start(fx.config(Database::Sqlite));
    let c = p.client();
    rt().block_on(async {
        c.checkin(&checkin("victim", "WS-VICTIM", 3)).await.unwrap();
        let mut thief = checkin("victim", "WS-THIEF", 1);
        thief.token = "the-thief-does-not-know-it".into();
        thief.ip = Some("10.6.6.6".into());
        let err = c.checkin(&thief).await.unwrap_err();
        match err {
            transit_provider::client::ClientError::Api { status, code, .. } => {
                assert_eq!((status, code.as_str()), (409, "id_claimed"))
            }
            other => panic!("{other}"),
        }
        let m = c.machine("victim").await.unwrap().machine;
        assert_eq!(
            (m.name.as_str(), m.ip.as_str(), m.checkins),
            ("WS-VICTIM", "10.1.2.3", 1)
        );
        still_serving(&c, &["victim"]).await;
    });
}

#[test]
fn a_connection_flood_is_capped_with_503_and_retry_after() {
    let fx = Fixture::new();
    let mut config = fx.config(Database::Sqlite);
    config.max_connections = 4;
    let p = Running::start(config);
    // Four idle connections fill the cap.
    let held: Vec<std::net::TcpStream> = (0..4)
        .map(|_| std::net::TcpStream::connect(p.addr).unwrap())
        .collect();
    crate::common::eventually(|| {
        // A fifth is answered 503 with Retry-After, then closed.
        let mut s = std::net::TcpStream::connect(p.addr).unwrap();
        s.write_all(b"GET /v1/status HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
        let mut reply = String::new();
        let _ = s.read_to_string(&mut reply);
        reply.starts_with("HTTP/1.1 503")
            && ["retry-after: 2\r", "retry-after: 3\r", "retry-after: 4\r"]
                .iter()
                .any(|h| reply.to_ascii_lowercase().contains(h))
    });
    // A flood far past the cap is shed without harm.
    let flood: Vec<_> = (0..200)
        .filter_map(|_| std::net::TcpStream::connect(p.addr).ok())
        .collect();
    drop(flood);
    drop(held);
    // Once they go, the provider serves again.
    let c = p.client();
    crate::common::eventually(|| {
        rt().block_on(c.checkin(&checkin("later", "WS-L", 3)))
            .is_ok()
    });
    rt().block_on(still_serving(&c, &["later"]));
}
