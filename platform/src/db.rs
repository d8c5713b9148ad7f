//! Opening a service's SQLite database the same way everywhere: WAL, foreign keys on, a
//! busy timeout, and the parent folder created for a fresh checkout's `./data/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Opens (creating if needed) the database at `url`, e.g. `sqlite://data/order_service.db`.
///
/// `synchronous = NORMAL` is the documented safe pairing with WAL: a power cut can lose the
/// last transactions but never corrupts the file; a process crash loses nothing.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<SqlitePool> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
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
