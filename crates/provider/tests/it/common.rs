//! Fixtures: a provider data folder with one GA update, a running
//! provider on a free port, PostgreSQL databases made and dropped per test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use transit_core::{CancelToken, NoProgress};
use transit_provider::api::{CheckIn, InstalledJson};
use transit_provider::client::ProviderClient;
use transit_provider::{Database, ProviderConfig};
use transit_update::keys::SigningKey;
use transit_update::publishers::AllowList;
use transit_update::repo::{self, Expiry, UpdateRepository};
use transit_update::{ServerLevel, Store, UpdateState};

pub use transit_testkit::update::{manifest, rt};

/// A data folder with a repository, a trusted publisher and one GA
/// update: Interaction Desktop 2018 R1 patch 3 (18.01.03.12).
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub data: PathBuf,
    pub repo: UpdateRepository,
    /// The GA update's catalog ID.
    pub update_id: i64,
    /// The GA update's payload file in the content store.
    pub payload: PathBuf,
    /// Its URL path under /v1/repository/targets/.
    pub payload_url: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let root_key = dir.path().join("offline/root.key");
        let rt = rt();
        rt.block_on(repo::init(&data, &root_key, Expiry::default()))
            .unwrap();
        let repo = UpdateRepository::open(&data).unwrap();
        let publisher = SigningKey::generate(&dir.path().join("publisher/Genesys.key")).unwrap();
        let mut list = AllowList::default();
        list.trust("Genesys", &publisher.public());
        list.save(&repo.publishers_path()).unwrap();
        let from = dir.path().join("payload");
        std::fs::create_dir_all(&from).unwrap();
        let noise: Vec<u8> = (0..300_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        std::fs::write(from.join("setup.bin"), noise).unwrap();
        let bundle = dir.path().join("p3.tbundle");
        transit_update::bundle::build(
            &from,
            &manifest("Interaction Desktop", "2018 R1", 3, "Patch", "18.01.03.12"),
            Some(&publisher),
            &bundle,
            &CancelToken::new(),
            &NoProgress,
        )
        .unwrap();
        let ingested = rt
            .block_on(transit_update::ingest::ingest_file(
                &repo,
                &bundle,
                None,
                &CancelToken::new(),
                &NoProgress,
            ))
            .unwrap();
        let store = Store::open(&repo.store_path()).unwrap();
        let update = store.set_state(ingested.id, UpdateState::Ga).unwrap();
        let sha = update.manifest.payload.as_ref().unwrap().sha256.clone();
        let payload = repo.target_file(&update.target, &sha);
        let payload_url = payload
            .strip_prefix(repo.targets_dir())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        Fixture {
            dir,
            data,
            repo,
            update_id: ingested.id,
            payload,
            payload_url,
        }
    }

    /// Provider settings for this data folder: 127.0.0.1 on a free port,
    /// the gate at 2018 R1 patch 5, check-ins every 60 to 120 s.
    pub fn config(&self, database: Database) -> ProviderConfig {
        let mut c = ProviderConfig::new(
            self.data.clone(),
            ServerLevel {
                release: "2018 R1".parse().unwrap(),
                patch: 5,
            },
        );
        c.database = database;
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.check_min = Duration::from_secs(60);
        c.check_max = Duration::from_secs(120);
        c
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }
}

/// A provider running on its own thread and runtime; stopped on drop.
pub struct Running {
    pub addr: SocketAddr,
    stop: CancelToken,
    thread: Option<std::thread::JoinHandle<Result<(), transit_provider::ProviderError>>>,
}

impl Running {
    pub fn start(config: ProviderConfig) -> Running {
        let stop = CancelToken::new();
        let (tx, rx) = std::sync::mpsc::channel();
        let token = stop.clone();
        let thread = std::thread::spawn(move || {
            let rt = rt();
            let result = rt.block_on(transit_provider::run(config, token, move |addr| {
                let _ = tx.send(addr);
            }));
            if let Err(e) = &result {
                eprintln!("provider failed: {e}");
            }
            result
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the provider started");
        Running {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn client(&self) -> ProviderClient {
        ProviderClient::new(&self.url(), None, 8).unwrap()
    }

    /// Stops it and returns how it ended.
    pub fn stop(mut self) -> Result<(), transit_provider::ProviderError> {
        self.stop.cancel();
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A machine's check-in with Interaction Desktop 2018 R1 at `patch`.
pub fn checkin(id: &str, name: &str, patch: u16) -> CheckIn {
    CheckIn {
        machine_id: id.to_string(),
        token: format!("secret-of-{id}-0123456789"),
        name: name.to_string(),
        ip: Some("10.1.2.3".into()),
        group: None,
        cic_server: false,
        installed: vec![InstalledJson {
            application: "Interaction Desktop".into(),
            release: "2018 R1".into(),
            patch,
            version: format!("18.01.{patch:02}.12").parse().unwrap(),
            previous: None,
        }],
        errors: Vec::new(),
        restart_required: false,
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A PostgreSQL database made for one test and dropped by [`TempPg::drop_db`].
pub struct TempPg {
    pub url: String,
    admin: String,
    name: String,
}

impl TempPg {
    /// A new database on `TRANSIT_TEST_PG`, or `None` (skipped) without it.
    pub async fn new() -> Option<TempPg> {
        let admin = transit_testkit::tools::env_or_skip(
            "TRANSIT_TEST_PG",
            "a PostgreSQL URL such as postgres://postgres@127.0.0.1:5432/test",
        )?;
        let name = format!(
            "transit_prov_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        admin_exec(&admin, &format!("CREATE DATABASE \"{name}\"")).await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(TempPg {
            url: format!("{base}/{name}"),
            admin,
            name,
        })
    }

    pub async fn drop_db(self) {
        admin_exec(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        )
        .await;
    }
}

async fn admin_exec(url: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// Waits until `f` is true (at most 10 s).
pub fn eventually(mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "condition never held");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The file's bytes.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}
