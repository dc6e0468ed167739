//! The database engines the DB assistant moves data between, recognised
//! by their connection URL.

use crate::error::DbError;

/// A supported database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// PostgreSQL (`postgres://` or `postgresql://`).
    Postgres,
    /// MariaDB or MySQL (`mysql://` or `mariadb://`).
    MySql,
    /// SQLite, a file (`sqlite://PATH` or `sqlite:PATH`).
    Sqlite,
}

impl Engine {
    /// The engine a connection URL names. Passwords in the URL are never
    /// part of an error message.
    pub fn from_url(url: &str) -> Result<Engine, DbError> {
        let scheme = url.split_once(':').map_or(url, |(s, _)| s);
        match scheme.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" => Ok(Engine::Postgres),
            "mysql" | "mariadb" => Ok(Engine::MySql),
            "sqlite" => Ok(Engine::Sqlite),
            _ => Err(DbError::UnsupportedEngine {
                scheme: scheme.chars().take(32).collect(),
            }),
        }
    }

    /// The engine's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Postgres => "PostgreSQL",
            Engine::MySql => "MariaDB",
            Engine::Sqlite => "SQLite",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_core::{ErrorKind, Kind};

    #[test]
    fn urls_name_their_engine() {
        assert_eq!(
            Engine::from_url("postgres://u@h/db").unwrap(),
            Engine::Postgres
        );
        assert_eq!(
            Engine::from_url("PostgreSQL://h/db").unwrap(),
            Engine::Postgres
        );
        assert_eq!(
            Engine::from_url("mysql://root@h/db").unwrap(),
            Engine::MySql
        );
        assert_eq!(
            Engine::from_url("mariadb://root@h/db").unwrap(),
            Engine::MySql
        );
        assert_eq!(
            Engine::from_url("sqlite:///tmp/x.db").unwrap(),
            Engine::Sqlite
        );
        let err = Engine::from_url("oracle://scott:tiger@h/db").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::DbUnsupported);
        assert!(!err.to_string().contains("tiger"));
    }
}
