//! Test databases: each test creates its own database (or SQLite file)
//! with a unique name and drops it afterwards, so tests run in parallel.
//! The servers come from `TRANSIT_TEST_PG` and `TRANSIT_TEST_MYSQL`;
//! without one, a test prints `SKIPPED: …` and passes, except under
//! `TRANSIT_REQUIRE_TOOLS=1` (CI), where it fails.

use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU32, Ordering};
use transit_dbassist::schema::Version;
use transit_dbassist::{Db, DbTarget, Engine};

/// The three engines.
pub const ENGINES: [Engine; 3] = [Engine::Sqlite, Engine::Postgres, Engine::MySql];

/// A database that exists for one test.
pub struct TempDb {
    /// Its URL.
    pub target: DbTarget,
    /// The server's admin URL (for creating users and databases).
    pub admin: Option<DbTarget>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique lower-case name.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// The admin URL of a server engine, or `None` (skipping) without it.
pub fn server_url(engine: Engine) -> Option<DbTarget> {
    let var = match engine {
        Engine::Postgres => "TRANSIT_TEST_PG",
        Engine::MySql => "TRANSIT_TEST_MYSQL",
        Engine::Sqlite => return None,
    };
    let url = transit_testkit::tools::env_or_skip(var, &format!("a {} server URL", engine.name()))?;
    Some(DbTarget::parse(&url).expect("test URL parses"))
}

impl TempDb {
    /// A new empty database of `engine`, or `None` when its server is not
    /// configured (skipped).
    pub async fn new(engine: Engine) -> Option<TempDb> {
        let name = unique("transit_t");
        if engine == Engine::Sqlite {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(format!("{name}.db"));
            return Some(TempDb {
                target: DbTarget::parse(&format!("sqlite://{}", path.display())).unwrap(),
                admin: None,
                name,
                _dir: Some(dir),
            });
        }
        let admin = server_url(engine)?;
        let mut db = Db::connect(&admin).await.expect("admin connection");
        let create = match engine {
            Engine::MySql => format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
            _ => format!("CREATE DATABASE \"{name}\""),
        };
        db.exec(&create).await.unwrap();
        db.close().await.unwrap();
        Some(TempDb {
            target: admin.with_database(&name),
            admin: Some(admin),
            name,
            _dir: None,
        })
    }

    /// Connects to it.
    pub async fn connect(&self) -> Db {
        Db::connect_or_create(&self.target).await.expect("connect")
    }

    /// Drops it.
    pub async fn drop_db(self) {
        let Some(admin) = &self.admin else { return };
        let mut db = Db::connect(admin).await.unwrap();
        let drop = match admin.engine() {
            Engine::MySql => format!("DROP DATABASE IF EXISTS `{}`", self.name),
            _ => format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        };
        db.exec(&drop).await.unwrap();
        db.close().await.unwrap();
    }

    /// Runs SQL as the server's admin on the server's default database.
    pub async fn admin_exec(&self, sql: &str) {
        let mut db = Db::connect(self.admin.as_ref().unwrap()).await.unwrap();
        db.exec(sql).await.unwrap();
        db.close().await.unwrap();
    }
}

/// A SHA-256 over every row of every 3.0 table, each table read in a
/// fixed order with every value cast to text: equal contents give equal
/// checksums.
pub async fn content_checksum(db: &mut Db) -> String {
    let d = db.dialect();
    let mut hasher = Sha256::new();
    for table in transit_dbassist::generate::tables() {
        let cols: Vec<&str> = table
            .columns_at(Version::V30)
            .map(|c| c.name.as_str())
            .collect();
        let select: Vec<String> = table
            .columns_at(Version::V30)
            .map(|c| {
                let ident = d.ident(&c.name);
                if c.ty == transit_dbassist::schema::SqlType::Blob {
                    match db.engine() {
                        Engine::Postgres => format!("encode({ident}, 'hex')"),
                        _ => format!("HEX({ident})"),
                    }
                } else {
                    d.cast_text(&ident)
                }
            })
            .collect();
        let order: Vec<String> = (1..=cols.len()).map(|i| i.to_string()).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            select.join(", "),
            d.ident(&table.name),
            order.join(", ")
        );
        hasher.update(table.name.as_bytes());
        for row in db.rows(&sql).await.unwrap() {
            for cell in row {
                match cell {
                    Some(text) => {
                        hasher.update([1]);
                        hasher.update(text.as_bytes());
                    }
                    None => hasher.update([0]),
                }
                hasher.update([0xff]);
            }
        }
    }
    hex::encode(hasher.finalize())
}

/// Runs SQL as the admin of `engine`'s server.
pub async fn admin_exec(engine: Engine, sql: &str) {
    let admin = server_url(engine).expect("server configured");
    let mut db = Db::connect(&admin).await.unwrap();
    db.exec(sql).await.unwrap();
    db.close().await.unwrap();
}
