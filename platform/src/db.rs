//! Opening a service's SQLite database the same way everywhere: WAL, foreign keys on, a
//! busy timeout, the parent folder created for a fresh checkout's `./data/`, and writes kept
//! apart from reads.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// A service's database: a pool of read-only connections, and the single connection every
/// write goes through.
///
/// SQLite admits one writer at a time. When several connections contend for its lock, the
/// losers sleep in its busy handler (1, 2, 5, 10 … ms), which under load costs more than the
/// writes themselves; queueing writers in order on one connection costs nothing. The read
/// pool is opened read-only, so a write sent through it by mistake fails loudly in the tests.
#[derive(Debug, Clone)]
pub struct Database {
    pub read: SqlitePool,
    pub write: SqlitePool,
}

impl Database {
    /// Opens (creating if needed) the database at `url`, e.g. `sqlite://data/order_service.db`,
    /// with up to `max_readers` read connections.
    pub async fn connect(url: &str, max_readers: u32) -> anyhow::Result<Database> {
        let write = connect(url, 1).await?;
        let read_options = options(url)?.read_only(true);
        let read = SqlitePoolOptions::new()
            .max_connections(max_readers.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(read_options)
            .await?;
        Ok(Database { read, write })
    }
}

fn options(url: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5)))
}

/// Opens (creating if needed) the database at `url` as one pool of `max_connections`; the
/// services go through `Database`, which uses this for its writer.
///
/// `synchronous = NORMAL` is the documented safe pairing with WAL: a power cut can lose the
/// last transactions but never corrupts the file; a process crash loses nothing.
async fn connect(url: &str, max_connections: u32) -> anyhow::Result<SqlitePool> {
    let options = options(url)?.create_if_missing(true);
    let path = options.get_filename();
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)?;
        }
    }
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Milliseconds since the Unix epoch: the clock the queues schedule by (an integer compares
/// and indexes cheaply in SQLite, where a datetime is text).
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_go_through_the_writer_and_the_readers_see_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/x.db", dir.path().display());
        let db = Database::connect(&url, 2).await.unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER)").execute(&db.write).await.unwrap();
        sqlx::query("INSERT INTO t VALUES (7)").execute(&db.write).await.unwrap();
        let v: i64 = sqlx::query_scalar("SELECT v FROM t").fetch_one(&db.read).await.unwrap();
        assert_eq!(v, 7);
        assert!(sqlx::query("INSERT INTO t VALUES (8)").execute(&db.read).await.is_err());
    }
}
