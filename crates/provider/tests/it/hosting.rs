//! TLS through rustls, and the provider hosted by `transit server start`'s
//! service host.

use crate::common::{checkin, read, rt, Fixture, Running};
use std::time::Duration;
use transit_core::CancelToken;
use transit_provider::client::ProviderClient;
use transit_provider::service::ProviderService;
use transit_provider::{Database, TlsFiles};
use transit_server::{InitParams, Role, ServerRoot, ServiceHost};

#[test]
fn serves_https_with_a_given_certificate() {
    let fx = Fixture::new();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_pem, key_pem) = (fx.path("cert.pem"), fx.path("key.pem"));
    std::fs::write(&cert_pem, cert.cert.pem()).unwrap();
    std::fs::write(&key_pem, cert.key_pair.serialize_pem()).unwrap();
    let mut config = fx.config(Database::Sqlite);
    config.tls = Some(TlsFiles {
        cert: cert_pem.clone(),
        key: key_pem,
    });
    let p = Running::start(config);
    let url = format!("https://localhost:{}", p.addr.port());
    let c = ProviderClient::new(&url, Some(&cert_pem), 2).unwrap();
    // A connection whose first request asks for a payload (served by the
    // bulk runtime after the handshake): Range, then a check-in on it.
    let first = ProviderClient::new(&url, Some(&cert_pem), 1).unwrap();
    let payload = read(&fx.payload);
    let target = format!("/v1/repository/targets/{}", fx.payload_url);
    rt().block_on(async {
        let (status, _, body) = first
            .raw(
                reqwest::Method::GET,
                &target,
                &[("range", "bytes=7-30006")],
                None,
            )
            .await
            .unwrap();
        assert_eq!(status, 206);
        assert_eq!(body.as_ref(), &payload[7..30_007]);
        let (status, _, body) = first
            .raw(reqwest::Method::GET, &target, &[], None)
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(body.as_ref(), payload.as_slice());
        let reply = first
            .checkin(&checkin("tls-bulk", "WS-TLS-BULK", 1))
            .await
            .unwrap();
        assert_eq!(reply.updates.len(), 1);
    });
    rt().block_on(async {
        let reply = c.checkin(&checkin("tls", "WS-TLS", 1)).await.unwrap();
        assert_eq!(reply.updates.len(), 1);
        // Plain HTTP to the TLS port gets nowhere.
        let plain =
            ProviderClient::new(&format!("http://localhost:{}", p.addr.port()), None, 1).unwrap();
        assert!(plain.status().await.is_err());
        // A client that does not trust the certificate refuses it.
        let untrusting = ProviderClient::new(&url, None, 1).unwrap();
        assert!(untrusting.status().await.is_err());
    });
}

#[test]
fn a_key_that_is_not_pem_is_refused_at_start() {
    let fx = Fixture::new();
    std::fs::write(fx.path("bad.pem"), "not a key").unwrap();
    let mut config = fx.config(Database::Sqlite);
    config.tls = Some(TlsFiles {
        cert: fx.path("bad.pem"),
        key: fx.path("bad.pem"),
    });
    let err = rt()
        .block_on(transit_provider::run(config, CancelToken::new(), |_| {}))
        .unwrap_err();
    assert!(
        matches!(err, transit_provider::ProviderError::Tls(_)),
        "{err}"
    );
}

#[test]
fn runs_inside_the_server_service_host() {
    let fx = Fixture::new();
    let server = ServerRoot::init(
        &fx.path("server"),
        InitParams {
            name: "CIC01".into(),
            site_name: "Indy".into(),
            site_id: 1,
            role: Role::Cic,
            release: "2018 R1".parse().unwrap(),
            patch: 5,
            machine_key: None,
        },
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = fx.config(Database::Sqlite);
    config.listen = ([127, 0, 0, 1], port).into();
    let mut host = ServiceHost::new();
    host.register(Box::new(ProviderService::new(config)));
    assert_eq!(host.names(), ["update provider"]);
    let stop = CancelToken::new();
    std::thread::scope(|scope| {
        let run = scope.spawn(|| host.run_foreground(&server, &stop, |_| {}));
        let c = ProviderClient::new(&format!("http://127.0.0.1:{port}"), None, 1).unwrap();
        crate::common::eventually(|| rt().block_on(c.checkin(&checkin("h", "WS-H", 3))).is_ok());
        stop.cancel();
        let stopped = run.join().unwrap().unwrap();
        assert!(stopped.failures.is_empty(), "{:?}", stopped.failures);
        std::thread::sleep(Duration::from_millis(50));
        assert!(rt().block_on(c.status()).is_err(), "stopped with the host");
    });
}
