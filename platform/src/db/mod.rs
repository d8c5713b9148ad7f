//! A service's database, on either backend `DATABASE_URL` names: SQLite (`sqlite://…`, the
//! embedded default) or PostgreSQL (`postgres://…`, for several replicas of a service).
//!
//! Each query is written once, as sqlx code, and compiled for both backends by `on_db!`: the
//! SQL text is shared wherever both accept it (`$1` placeholders, `ON CONFLICT`, `RETURNING`,
//! `FILTER`), and forks only for a real dialect difference (`on_db!`'s `sqlite:` / `postgres:`
//! form). Not sqlx's `Any` driver: it has no timestamps and no per-backend SQL, and it would
//! hide which backend a statement runs on.
//!
//! - `sqlite`: WAL, one writer connection, background checkpoints, migrations with foreign
//!   keys off.
//! - `postgres`: one pool for reads and writes; migrations under sqlx's advisory lock, so
//!   replicas that start together migrate once.
//! - `EpochMillis`: the queues' clock, an integer in SQLite and a `TIMESTAMPTZ` in PostgreSQL.

mod epoch_millis;
mod postgres;
mod sqlite;

use sqlx::migrate::Migrator;
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool};

pub use epoch_millis::EpochMillis;

/// Which database engine a service runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a `DATABASE_URL` names.
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            anyhow::bail!("unsupported database URL {url:?}: expected sqlite://… or postgres://…")
        }
    }
}

/// A pool of connections to one backend.
#[derive(Debug, Clone)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Starts a transaction on a connection of this pool (on SQLite's writer pool, the
    /// single writer).
    pub async fn begin(&self) -> sqlx::Result<Transaction> {
        Ok(match self {
            Pool::Sqlite(pool) => Transaction::Sqlite(pool.begin().await?),
            Pool::Postgres(pool) => Transaction::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }
}

/// A transaction: rolled back if dropped before `commit`.
#[derive(Debug)]
pub enum Transaction {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Transaction {
    pub fn backend(&self) -> Backend {
        match self {
            Transaction::Sqlite(_) => Backend::Sqlite,
            Transaction::Postgres(_) => Backend::Postgres,
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Transaction::Sqlite(tx) => tx.commit().await,
            Transaction::Postgres(tx) => tx.commit().await,
        }
    }

    /// Rolls back now, rather than when the connection is next used (as dropping does).
    pub async fn rollback(self) -> sqlx::Result<()> {
        match self {
            Transaction::Sqlite(tx) => tx.rollback().await,
            Transaction::Postgres(tx) => tx.rollback().await,
        }
    }
}

/// What one statement runs on: a pool or a connection (a transaction's), of either backend.
/// `on_db!` matches on it; query functions take `impl Exec<'_>`.
pub enum Target<'c> {
    SqlitePool(&'c SqlitePool),
    Sqlite(&'c mut SqliteConnection),
    PostgresPool(&'c PgPool),
    Postgres(&'c mut PgConnection),
}

impl Target<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Target::SqlitePool(_) | Target::Sqlite(_) => Backend::Sqlite,
            Target::PostgresPool(_) | Target::Postgres(_) => Backend::Postgres,
        }
    }
}

/// Anything a statement can run on: `&Pool` (each statement on a connection of its own) or
/// `&mut Transaction`.
pub trait Exec<'c>: Send {
    fn target(self) -> Target<'c>;
}

impl<'c> Exec<'c> for &'c Pool {
    fn target(self) -> Target<'c> {
        match self {
            Pool::Sqlite(pool) => Target::SqlitePool(pool),
            Pool::Postgres(pool) => Target::PostgresPool(pool),
        }
    }
}

impl<'c> Exec<'c> for &'c mut Transaction {
    fn target(self) -> Target<'c> {
        match self {
            Transaction::Sqlite(tx) => Target::Sqlite(tx),
            Transaction::Postgres(tx) => Target::Postgres(tx),
        }
    }
}

impl<'c> Exec<'c> for Target<'c> {
    fn target(self) -> Target<'c> {
        self
    }
}

/// Runs sqlx code on whichever backend `$on` (an [`Exec`]) is: `$body` is written once, with
/// `$e` standing for that backend's own sqlx executor, and compiled for each backend — so a
/// row type, a bind or a statement that one backend cannot take fails to compile, not at run
/// time.
///
/// ```text
/// on_db!(pool, |e| sqlx::query_as(FETCH_ORDER).bind(id).fetch_optional(e).await)
/// ```
///
/// Where the dialects really differ, the second form picks the SQL text by backend and hands
/// it to the body as `$sql`:
///
/// ```text
/// on_db!(pool, sqlite: "… LIMIT $1", postgres: "… LIMIT $1 FOR UPDATE SKIP LOCKED",
///     |e, sql| sqlx::query_as(sql).bind(n).fetch_all(e).await)
/// ```
#[macro_export]
macro_rules! on_db {
    ($on:expr, |$e:ident| $body:expr) => {
        match $crate::db::Exec::target($on) {
            $crate::db::Target::SqlitePool($e) => $body,
            $crate::db::Target::Sqlite($e) => $body,
            $crate::db::Target::PostgresPool($e) => $body,
            $crate::db::Target::Postgres($e) => $body,
        }
    };
    ($on:expr, sqlite: $sqlite:expr, postgres: $postgres:expr, |$e:ident, $sql:ident| $body:expr) => {
        match $crate::db::Exec::target($on) {
            $crate::db::Target::SqlitePool($e) => {
                let $sql = $sqlite;
                $body
            }
            $crate::db::Target::Sqlite($e) => {
                let $sql = $sqlite;
                $body
            }
            $crate::db::Target::PostgresPool($e) => {
                let $sql = $postgres;
                $body
            }
            $crate::db::Target::Postgres($e) => {
                let $sql = $postgres;
                $body
            }
        }
    };
}

/// `.execute(e).await.rows_affected()`: the count of rows a statement wrote, whichever backend
/// ran it (each backend has its own result type, and an `on_db!` body must have one type).
pub trait RowsAffected {
    fn rows_affected(self) -> sqlx::Result<u64>;
}

impl RowsAffected for sqlx::Result<sqlx::sqlite::SqliteQueryResult> {
    fn rows_affected(self) -> sqlx::Result<u64> {
        self.map(|done| done.rows_affected())
    }
}

impl RowsAffected for sqlx::Result<sqlx::postgres::PgQueryResult> {
    fn rows_affected(self) -> sqlx::Result<u64> {
        self.map(|done| done.rows_affected())
    }
}

/// A service's database: where reads go, and where writes go.
///
/// On SQLite the two differ: a pool of read-only connections, and the single connection every
/// write goes through (see `sqlite`). On PostgreSQL, which has no single writer to protect,
/// both are the same pool.
#[derive(Debug, Clone)]
pub struct Database {
    pub read: Pool,
    pub write: Pool,
}

impl Database {
    /// Opens the database at `url` — `sqlite://data/order_service.db` (created if missing) or
    /// `postgres://user:password@host/db` (which must exist) — with up to `max_connections`
    /// connections (on SQLite, readers; the writer is one more).
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Database> {
        match Backend::of_url(url)? {
            Backend::Sqlite => {
                let (read, write) = sqlite::connect(url, max_connections).await?;
                Ok(Database { read: Pool::Sqlite(read), write: Pool::Sqlite(write) })
            }
            Backend::Postgres => {
                let pool = Pool::Postgres(postgres::connect(url, max_connections).await?);
                Ok(Database { read: pool.clone(), write: pool })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.write.backend()
    }
}

/// A service's migrations, one folder per backend (`migrations/sqlite`, `migrations/postgres`),
/// both embedded with `sqlx::migrate!`.
pub struct Migrations {
    pub sqlite: Migrator,
    pub postgres: Migrator,
}

/// Runs the pending migrations of the database's backend.
pub async fn migrate(db: &Database, migrations: &Migrations) -> anyhow::Result<()> {
    match &db.write {
        Pool::Sqlite(writer) => sqlite::migrate(writer, &migrations.sqlite).await,
        Pool::Postgres(pool) => Ok(migrations.postgres.run(pool).await?),
    }
}

/// Makes the transaction take turns with every other that locks the same `name`, until it ends:
/// for a decision that reads before it writes and must hold in total, such as "at most N
/// running". On PostgreSQL, a transaction-level advisory lock; on SQLite nothing, for its single
/// writer already runs one write transaction at a time.
pub async fn lock(tx: &mut Transaction, name: &str) -> sqlx::Result<()> {
    if let Transaction::Postgres(tx) = tx {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))").bind(name).execute(&mut **tx).await?;
    }
    Ok(())
}

/// Whether `err` is the database refusing a row that breaks a UNIQUE constraint: that is how the
/// database arbitrates concurrent duplicates — from one process or several — and it is a
/// conflict to report, not an internal error.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Milliseconds since the Unix epoch, now: the clock the queues schedule by.
pub fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
