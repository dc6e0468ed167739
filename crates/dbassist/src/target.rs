//! A database named by its connection URL, with its password held apart.
//!
//! URLs follow each engine's usual form: `postgres://user[:pw]@host[:port]/db`,
//! `mysql://user[:pw]@host[:port]/db` (MariaDB; `mariadb://` too) and
//! `sqlite://PATH` (or `sqlite:PATH`). The password comes from, in order:
//! the URL; the engine's environment variable (`PGPASSWORD`, `MYSQL_PWD`);
//! `~/.pgpass` (PostgreSQL, read by the driver) or the `[client]` section of
//! `~/.my.cnf` (MariaDB). Transit never writes a password anywhere, and a
//! [`DbTarget`] displays without it.

use crate::engine::Engine;
use crate::error::{DbError, Result};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::path::{Path, PathBuf};

/// A database to connect to.
#[derive(Clone)]
pub struct DbTarget {
    engine: Engine,
    /// The URL without its password (server engines only).
    url: Option<url::Url>,
    password: Option<SecretString>,
    sqlite_path: Option<PathBuf>,
    redacted: String,
}

impl fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DbTarget")
            .field("url", &self.redacted)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish()
    }
}

impl fmt::Display for DbTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted)
    }
}

impl DbTarget {
    /// Parses a connection URL and finds its password.
    pub fn parse(url: &str) -> Result<DbTarget> {
        let engine = Engine::from_url(url)?;
        if engine == Engine::Sqlite {
            return Self::parse_sqlite(url);
        }
        let mut parsed = url::Url::parse(url).map_err(|e| DbError::BadUrl {
            url: redact_text(url),
            reason: e.to_string(),
        })?;
        let url_password = parsed.password().map(|p| {
            percent_decode(p)
                .unwrap_or_else(|| p.to_string())
                .into_boxed_str()
        });
        let _ = parsed.set_password(None);
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(DbError::BadUrl {
                url: parsed.to_string(),
                reason: "no host".into(),
            });
        }
        let database = parsed.path().trim_start_matches('/');
        if database.is_empty() {
            return Err(DbError::BadUrl {
                url: parsed.to_string(),
                reason: "no database name (…/DBNAME)".into(),
            });
        }
        if engine == Engine::MySql && parsed.scheme().eq_ignore_ascii_case("mariadb") {
            let rest = parsed.as_str()["mariadb".len()..].to_string();
            parsed = url::Url::parse(&format!("mysql{rest}")).map_err(|e| DbError::BadUrl {
                url: redact_text(url),
                reason: e.to_string(),
            })?;
        }
        let password = match url_password {
            Some(p) => Some(SecretString::from(p)),
            None => env_password(engine).or_else(|| match engine {
                Engine::MySql => my_cnf_password(),
                _ => None,
            }),
        };
        let redacted = parsed.to_string();
        Ok(DbTarget {
            engine,
            url: Some(parsed),
            password,
            sqlite_path: None,
            redacted,
        })
    }

    fn parse_sqlite(url: &str) -> Result<DbTarget> {
        let rest = &url[url.find(':').map_or(0, |i| i + 1)..];
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let path = rest.split('?').next().unwrap_or("");
        if path.is_empty() {
            return Err(DbError::BadUrl {
                url: url.to_string(),
                reason: "no file path (sqlite://PATH)".into(),
            });
        }
        let path = PathBuf::from(percent_decode(path).unwrap_or_else(|| path.to_string()));
        Ok(DbTarget {
            engine: Engine::Sqlite,
            url: None,
            password: None,
            redacted: format!("sqlite://{}", path.display()),
            sqlite_path: Some(path),
        })
    }

    /// The engine.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// The SQLite file, for SQLite targets.
    pub fn sqlite_path(&self) -> Option<&Path> {
        self.sqlite_path.as_deref()
    }

    /// The database name (the SQLite file's name for SQLite).
    pub fn database(&self) -> String {
        match (&self.url, &self.sqlite_path) {
            (Some(url), _) => url.path().trim_start_matches('/').to_string(),
            (None, Some(path)) => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            (None, None) => String::new(),
        }
    }

    /// The user name in the URL (the driver's default when none).
    pub fn user(&self) -> String {
        match &self.url {
            Some(url) if !url.username().is_empty() => {
                percent_decode(url.username()).unwrap_or_else(|| url.username().to_string())
            }
            Some(_) => std::env::var("USER").unwrap_or_else(|_| "root".into()),
            None => String::new(),
        }
    }

    /// A copy naming another database on the same server (for tests and
    /// tools that create databases), keeping the user and password.
    pub fn with_database(&self, database: &str) -> DbTarget {
        let mut copy = self.clone();
        if let Some(url) = &mut copy.url {
            url.set_path(&format!("/{database}"));
            copy.redacted = url.to_string();
        }
        copy
    }

    /// A copy logging in as another user with another password.
    pub fn with_login(&self, user: &str, password: Option<SecretString>) -> DbTarget {
        let mut copy = self.clone();
        if let Some(url) = &mut copy.url {
            let _ = url.set_username(user);
            copy.redacted = url.to_string();
        }
        copy.password = password;
        copy
    }

    /// The URL without its password, for the driver.
    pub(crate) fn driver_url(&self) -> Option<&str> {
        self.url.as_ref().map(url::Url::as_str)
    }

    /// The host and port of a server URL.
    pub(crate) fn host_port(&self) -> Option<(String, Option<u16>)> {
        let url = self.url.as_ref()?;
        Some((url.host_str()?.to_string(), url.port()))
    }

    /// The password, if one was found.
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_ref().map(|p| p.expose_secret())
    }
}

fn env_password(engine: Engine) -> Option<SecretString> {
    env_password_from(engine, |var| std::env::var(var).ok())
}

/// The engine's password variable, read through `env` (an empty value is none).
fn env_password_from(engine: Engine, env: impl Fn(&str) -> Option<String>) -> Option<SecretString> {
    let var = match engine {
        Engine::Postgres => "PGPASSWORD",
        Engine::MySql => "MYSQL_PWD",
        Engine::Sqlite => return None,
    };
    env(var)
        .filter(|p| !p.is_empty())
        .map(|p| SecretString::from(p.into_boxed_str()))
}

/// The `password` of the `[client]` (or `[mysql]`, `[client-mariadb]`)
/// section of `~/.my.cnf`, as the MariaDB clients read it.
fn my_cnf_password() -> Option<SecretString> {
    let home = std::env::var_os("HOME")?;
    let text = std::fs::read_to_string(Path::new(&home).join(".my.cnf")).ok()?;
    parse_my_cnf_password(&text).map(|p| SecretString::from(p.into_boxed_str()))
}

fn parse_my_cnf_password(text: &str) -> Option<String> {
    let mut in_client = false;
    let mut found = None;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_client = matches!(
                section.trim().to_ascii_lowercase().as_str(),
                "client" | "mysql" | "client-mariadb" | "mariadb-client"
            );
            continue;
        }
        if !in_client {
            continue;
        }
        if let Some((key, value)) = line.split_once('=') {
            if key.trim().eq_ignore_ascii_case("password") {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(value);
                found = Some(value.to_string());
            }
        }
    }
    found
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A URL-ish text with anything between `:` and `@` after the scheme
/// replaced, for error messages about URLs that do not parse.
fn redact_text(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(start), Some(at)) if at > start => {
            let auth = &url[start + 3..at];
            match auth.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..start + 3], &auth[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        let t = DbTarget::parse("postgres://alice:s%40cret@db.example:5433/cic").unwrap();
        assert_eq!(t.password(), Some("s@cret"));
        assert_eq!(t.to_string(), "postgres://alice@db.example:5433/cic");
        assert!(!format!("{t:?}").contains("cret"));
        assert_eq!(t.database(), "cic");
        assert_eq!(t.user(), "alice");
        let other = t.with_database("other");
        assert_eq!(other.to_string(), "postgres://alice@db.example:5433/other");
        assert_eq!(other.password(), Some("s@cret"));
    }

    #[test]
    fn mariadb_urls_become_mysql_and_need_a_database() {
        let t = DbTarget::parse("mariadb://root@127.0.0.1:3306/test").unwrap();
        assert_eq!(t.engine(), Engine::MySql);
        assert_eq!(t.driver_url(), Some("mysql://root@127.0.0.1:3306/test"));
        let err = DbTarget::parse("mysql://root:pw@127.0.0.1:3306").unwrap_err();
        assert!(matches!(err, DbError::BadUrl { .. }));
        assert!(!err.to_string().contains("pw"));
    }

    #[test]
    fn sqlite_urls_are_paths() {
        let t = DbTarget::parse("sqlite://data/source.db").unwrap();
        assert_eq!(t.sqlite_path(), Some(Path::new("data/source.db")));
        let t = DbTarget::parse("sqlite:///tmp/x.db?mode=rwc").unwrap();
        assert_eq!(t.sqlite_path(), Some(Path::new("/tmp/x.db")));
        let t = DbTarget::parse("sqlite:x.db").unwrap();
        assert_eq!(t.sqlite_path(), Some(Path::new("x.db")));
        assert!(DbTarget::parse("sqlite://").is_err());
    }

    #[test]
    fn each_engine_reads_its_own_password_variable() {
        let env = |var: &str| match var {
            "PGPASSWORD" => Some("pg-secret".to_string()),
            "MYSQL_PWD" => Some(String::new()),
            _ => None,
        };
        let pg = env_password_from(Engine::Postgres, env).unwrap();
        assert_eq!(pg.expose_secret(), "pg-secret");
        assert!(
            env_password_from(Engine::MySql, env).is_none(),
            "empty is none"
        );
        assert!(env_password_from(Engine::Sqlite, env).is_none());
    }

    #[test]
    fn my_cnf_client_password() {
        let text = "[mysqld]\npassword=server\n[client]\nuser = bob\npassword = \"pa ss\"\n";
        assert_eq!(parse_my_cnf_password(text).as_deref(), Some("pa ss"));
        assert_eq!(parse_my_cnf_password("[mysqld]\npassword=x\n"), None);
    }

    #[test]
    fn unparsable_urls_are_redacted() {
        assert_eq!(
            redact_text("postgres://bob:pw@[bad/db"),
            "postgres://bob:***@[bad/db"
        );
    }
}
