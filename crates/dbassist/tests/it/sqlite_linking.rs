//! sqlx's SQLite driver and rusqlite share one linked SQLite library
//! (ARCHITECTURE.md, "SQLite linking"): a file written by one is read by
//! the other in the same process, and both report the same version.

use sqlx::Connection;

#[tokio::test]
async fn sqlx_and_rusqlite_share_one_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shared.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO t (name) VALUES ('written by sqlx')")
        .execute(&mut conn)
        .await
        .unwrap();
    let (sqlx_version,): (String,) = sqlx::query_as("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let db = rusqlite::Connection::open(&path).unwrap();
    let name: String = db
        .query_row("SELECT name FROM t", [], |r| r.get(0))
        .unwrap();
    assert_eq!(name, "written by sqlx");
    assert_eq!(sqlx_version, rusqlite::version());
}
