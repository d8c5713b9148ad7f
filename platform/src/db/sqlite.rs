//! Opening a service's SQLite database the same way everywhere: WAL, foreign keys on, a
//! busy timeout, the parent folder created for a fresh checkout's `./data/`, and writes kept
//! apart from reads.
//!
//! A service's SQLite database is a pool of read-only connections, and the single connection
//! every write goes through. SQLite admits one writer at a time: when several connections
//! contend for its lock, the losers sleep in its busy handler (1, 2, 5, 10 … ms), which under
//! load costs more than the writes themselves; queueing writers in order on one connection
//! costs nothing. The read pool is opened read-only, so a write sent through it by mistake
//! fails loudly in the tests.
//!
//! SQLite's automatic checkpoint would run inside the committing connection — here the one
//! writer — and every write would wait for its copying and fsync: measured, that cost a
//! quarter of the order throughput. So connections never checkpoint on commit; a background
//! task on a connection of its own does it once a second instead.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

/// Opens (creating if needed) the database at `url`, e.g. `sqlite://data/order_service.db`:
/// a pool of up to `max_readers` read-only connections, and the writer.
pub(super) async fn connect(url: &str, max_readers: u32) -> anyhow::Result<(SqlitePool, SqlitePool)> {
    let write = open(url, 1).await?;
    tokio::spawn(checkpoint_periodically(open(url, 1).await?));
    let read_options = options(url)?.read_only(true);
    let read = SqlitePoolOptions::new()
        .max_connections(max_readers.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(read_options)
        .await?;
    Ok((read, write))
}

fn options(url: &str) -> anyhow::Result<SqliteConnectOptions> {
    Ok(SqliteConnectOptions::from_str(url)?
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        // Checkpoints are left to `checkpoint_periodically` (see the module's doc).
        .pragma("wal_autocheckpoint", "0"))
}

/// How often the write-ahead log is copied back into the database file.
const CHECKPOINT_INTERVAL: Duration = Duration::from_secs(1);

/// Runs a PASSIVE checkpoint every `CHECKPOINT_INTERVAL` on its own connection, for as long
/// as the runtime runs. PASSIVE neither waits for nor blocks readers and the writer; whatever
/// it cannot copy now, the next round does.
async fn checkpoint_periodically(checkpointer: SqlitePool) {
    loop {
        tokio::time::sleep(CHECKPOINT_INTERVAL).await;
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&checkpointer).await {
            tracing::warn!(error = %err, "WAL checkpoint failed; the next round tries again");
        }
    }
}

/// Opens (creating if needed) the database at `url` as one pool of `max_connections`: the
/// writer, or the checkpointer.
///
/// `synchronous = NORMAL` is the documented safe pairing with WAL: a power cut can lose the
/// last transactions but never corrupts the file; a process crash loses nothing.
async fn open(url: &str, max_connections: u32) -> anyhow::Result<SqlitePool> {
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

/// Runs `migrator`'s pending migrations on the writer with foreign keys off, then checks every
/// reference and turns them back on.
///
/// SQLite can change a CHECK constraint only by rebuilding the table
/// (https://www.sqlite.org/lang_altertable.html#otheralter), and that procedure needs foreign
/// keys off: dropping the old table would otherwise cascade to the rows that refer to it. The
/// pragma has no effect inside a transaction, and sqlx runs each migration in one, so it is set
/// here, around them.
pub(super) async fn migrate(writer: &SqlitePool, migrator: &sqlx::migrate::Migrator) -> anyhow::Result<()> {
    let mut conn = writer.acquire().await?;
    sqlx::query("PRAGMA foreign_keys = OFF").execute(&mut *conn).await?;
    let migrated = migrator.run(&mut *conn).await;
    let broken: Vec<(String, Option<i64>, String)> =
        sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check").fetch_all(&mut *conn).await?;
    sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
    migrated?;
    anyhow::ensure!(
        broken.is_empty(),
        "the migrations left rows referring to nothing (table, rowid, parent): {broken:?}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn writes_go_through_the_writer_and_the_readers_see_them() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/x.db", dir.path().display());
        let (read, write) = connect(&url, 2).await.unwrap();
        sqlx::query("CREATE TABLE t (v INTEGER)").execute(&write).await.unwrap();
        sqlx::query("INSERT INTO t VALUES (7)").execute(&write).await.unwrap();
        let v: i64 = sqlx::query_scalar("SELECT v FROM t").fetch_one(&read).await.unwrap();
        assert_eq!(v, 7);
        assert!(sqlx::query("INSERT INTO t VALUES (8)").execute(&read).await.is_err());
    }

    #[tokio::test]
    async fn the_log_is_checkpointed_in_the_background_not_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let (_read, write) = connect(&format!("sqlite://{}", path.display()), 1).await.unwrap();
        sqlx::query("CREATE TABLE t (v BLOB)").execute(&write).await.unwrap();
        for _ in 0..64 {
            sqlx::query("INSERT INTO t VALUES (zeroblob(16384))").execute(&write).await.unwrap();
        }
        // Committed, but not copied into the database file by the commits themselves.
        let size = || std::fs::metadata(&path).unwrap().len();
        assert!(size() < 64 * 16384, "database file already holds the rows: {} bytes", size());
        let deadline = std::time::Instant::now() + 3 * CHECKPOINT_INTERVAL;
        while size() < 64 * 16384 {
            assert!(std::time::Instant::now() < deadline, "no checkpoint within {:?}", 3 * CHECKPOINT_INTERVAL);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
