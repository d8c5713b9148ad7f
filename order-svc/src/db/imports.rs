//! The import tables: `imports` (the history), `import_files` (a file awaiting validation),
//! `import_orders` (the valid orders of an import and how far each has got) and
//! `import_errors` (the error report).

use chrono::{DateTime, Utc};
use platform::api::imports::{Import, ImportError, ImportStatus, NotifyMode};
use platform::db::{EpochMillis, Exec, Pool, RowsAffected, Transaction};
use platform::on_db;
use sqlx::QueryBuilder;

/// Rows per multi-row INSERT: well inside SQLite's limit on bound parameters (32,766) and
/// PostgreSQL's (65,535) for the widest table here (6 columns).
const ROWS_PER_INSERT: usize = 2_000;

const COLUMNS: &str = "id, status, file_name, file_sha256, encoding, dry_run, notify, total_rows, total_orders,
    processed_orders, succeeded_orders, failed_orders, error_count, unknown_columns, failure, created_at, finished_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportRow {
    pub id: String,
    pub status: String,
    pub file_name: Option<String>,
    pub file_sha256: String,
    pub encoding: String,
    pub dry_run: bool,
    pub notify: String,
    pub total_rows: i64,
    pub total_orders: i64,
    pub processed_orders: i64,
    pub succeeded_orders: i64,
    pub failed_orders: i64,
    pub error_count: i64,
    pub unknown_columns: String,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportRow {
    pub fn status(&self) -> anyhow::Result<ImportStatus> {
        ImportStatus::parse(&self.status)
            .ok_or_else(|| anyhow::anyhow!("import {}: unknown status {:?}", self.id, self.status))
    }

    pub fn notify(&self) -> anyhow::Result<NotifyMode> {
        NotifyMode::parse(&self.notify)
            .ok_or_else(|| anyhow::anyhow!("import {}: unknown notify mode {:?}", self.id, self.notify))
    }

    pub fn into_import(self) -> anyhow::Result<Import> {
        Ok(Import {
            status: self.status()?,
            notify: self.notify()?,
            unknown_columns: serde_json::from_str(&self.unknown_columns)?,
            id: self.id,
            file_name: self.file_name,
            file_sha256: self.file_sha256,
            encoding: self.encoding,
            dry_run: self.dry_run,
            total_rows: self.total_rows,
            total_orders: self.total_orders,
            processed_orders: self.processed_orders,
            succeeded_orders: self.succeeded_orders,
            failed_orders: self.failed_orders,
            error_count: self.error_count,
            failure: self.failure,
            created_at: self.created_at,
            finished_at: self.finished_at,
        })
    }
}

/// A new import as the upload describes it, before its rows are staged.
#[derive(Debug, Clone)]
pub struct NewImport<'a> {
    pub id: &'a str,
    pub status: ImportStatus,
    pub file_name: Option<&'a str>,
    pub file_sha256: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub encoding: &'a str,
    pub dry_run: bool,
    pub notify: NotifyMode,
    pub total_rows: i64,
    pub total_orders: i64,
    pub unknown_columns: &'a [String],
    pub created_at: DateTime<Utc>,
}

/// `None` when the file (for the same kind of run) or the key is already taken: the caller
/// then answers with the import that holds it.
#[tracing::instrument(level = "debug", skip_all, fields(import_id = new.id))]
pub async fn insert(conn: impl Exec<'_>, new: &NewImport<'_>) -> sqlx::Result<bool> {
    let unknown = serde_json::to_string(new.unknown_columns).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let result = on_db!(conn, |e| sqlx::query(
        "INSERT INTO imports (id, status, file_name, file_sha256, idempotency_key, encoding, dry_run, notify,
                              total_rows, total_orders, unknown_columns, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT DO NOTHING",
    )
    .bind(new.id)
    .bind(new.status.as_str())
    .bind(new.file_name)
    .bind(new.file_sha256)
    .bind(new.idempotency_key)
    .bind(new.encoding)
    .bind(new.dry_run)
    .bind(new.notify.as_str())
    .bind(new.total_rows)
    .bind(new.total_orders)
    .bind(unknown)
    .bind(new.created_at)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(result == 1)
}

/// The import an earlier upload of the same request made: by key when there is one, else by
/// the file's hash and kind of run.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_existing(
    pool: &Pool,
    idempotency_key: Option<&str>,
    file_sha256: &str,
    dry_run: bool,
) -> sqlx::Result<Option<(ImportRow, bool)>> {
    if let Some(key) = idempotency_key {
        let by_key: Option<ImportRow> =
            on_db!(pool, |e| sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports WHERE idempotency_key = $1"))
                .bind(key)
                .fetch_optional(e)
                .await)?;
        if let Some(row) = by_key {
            let same_file = row.file_sha256 == file_sha256 && row.dry_run == dry_run;
            return Ok(Some((row, same_file)));
        }
    }
    // A failed import is not the file's import any more: the file may be run again.
    let by_file: Option<ImportRow> = on_db!(pool, |e| sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM imports WHERE file_sha256 = $1 AND dry_run = $2 AND status <> 'failed'"
    ))
    .bind(file_sha256)
    .bind(dry_run)
    .fetch_optional(e)
    .await)?;
    Ok(by_file.map(|row| (row, true)))
}

#[tracing::instrument(level = "debug", skip_all, fields(import_id = id))]
pub async fn fetch(pool: &Pool, id: &str) -> sqlx::Result<Option<ImportRow>> {
    on_db!(pool, |e| sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await)
}

/// The order imports arrived in, for each dialect: by time, and ties by the order of insertion
/// (SQLite's rowid; PostgreSQL has an identity column for it).
const SQLITE_ARRIVAL: &str = "created_at, rowid";
const POSTGRES_ARRIVAL: &str = "created_at, ordinal";

/// One page of the history, newest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(pool: &Pool, skip: i64, limit: i64) -> sqlx::Result<Vec<ImportRow>> {
    let sql = |arrival: &str| {
        format!(
            "SELECT {COLUMNS} FROM imports ORDER BY {} LIMIT $1 OFFSET $2",
            arrival.replace(',', " DESC,") + " DESC"
        )
    };
    on_db!(pool, sqlite: sql(SQLITE_ARRIVAL), postgres: sql(POSTGRES_ARRIVAL), |e, sql| sqlx::query_as(&sql)
        .bind(limit)
        .bind(skip)
        .fetch_all(e)
        .await)
}

pub async fn count(pool: &Pool) -> sqlx::Result<i64> {
    on_db!(pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM imports").fetch_one(e).await)
}

/// Who runs an import: a process (`owner`, an id it chose when it started), until `until_ms`
/// (milliseconds since the epoch) unless it renews its lease before.
#[derive(Debug, Clone, Copy)]
pub struct Lease<'a> {
    pub owner: &'a str,
    pub until_ms: i64,
}

/// Starts the oldest queued imports while fewer than `limit` run (`validating` or
/// `processing`), leased to `lease.owner`, and returns their ids. The count and the start are
/// one transaction that takes turns with every other start (`platform::db::lock`), so however
/// many replicas start imports at once, no more than `limit` run in total.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn start_queued(pool: &Pool, limit: u32, lease: Lease<'_>) -> sqlx::Result<Vec<String>> {
    let sql = |greatest: &str, arrival: &str| {
        format!(
            "UPDATE imports SET status = 'validating', lease_owner = $2, lease_until = $3
             WHERE id IN (
                SELECT id FROM imports WHERE status = 'queued' ORDER BY {arrival}
                LIMIT {greatest}(0, $1 - (SELECT COUNT(*) FROM imports WHERE status IN ('validating', 'processing'))))
             RETURNING id"
        )
    };
    let mut tx = pool.begin().await?;
    platform::db::lock(&mut tx, "import queue").await?;
    let started: Vec<String> = on_db!(&mut tx,
        sqlite: sql("MAX", SQLITE_ARRIVAL),
        postgres: sql("GREATEST", POSTGRES_ARRIVAL),
        |e, sql| sqlx::query_scalar(&sql)
            .bind(i64::from(limit))
            .bind(lease.owner)
            .bind(EpochMillis(lease.until_ms))
            .fetch_all(e)
            .await)?;
    tx.commit().await?;
    Ok(started)
}

/// Takes over the running imports (`validating` or `processing`, not dry runs) whose lease
/// lapsed before `lapsed_before_ms` — their process died — and returns their ids, oldest first.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn take_over_lapsed(pool: &Pool, lapsed_before_ms: i64, lease: Lease<'_>) -> sqlx::Result<Vec<String>> {
    let sql = |arrival: &str, lock: &str| {
        format!(
            "UPDATE imports SET lease_owner = $1, lease_until = $2
             WHERE id IN (
                SELECT id FROM imports
                WHERE status IN ('validating', 'processing') AND dry_run = FALSE
                  AND (lease_until IS NULL OR lease_until < $3)
                ORDER BY {arrival} {lock})
             RETURNING id"
        )
    };
    on_db!(pool,
        sqlite: sql(SQLITE_ARRIVAL, ""),
        postgres: sql(POSTGRES_ARRIVAL, "FOR UPDATE SKIP LOCKED"),
        |e, sql| sqlx::query_scalar(&sql)
            .bind(lease.owner)
            .bind(EpochMillis(lease.until_ms))
            .bind(EpochMillis(lapsed_before_ms))
            .fetch_all(e)
            .await)
}

/// Extends the lease on the import to `lease.until_ms`, if `lease.owner` still holds it and
/// the import still runs; `false` otherwise (another process took it over, or it ended). As
/// the first statement of each step's transaction it also fences the step: a process that
/// lost its lease cannot write the import's progress any more.
#[tracing::instrument(level = "debug", skip_all, fields(import_id = id))]
pub async fn renew(conn: impl Exec<'_>, id: &str, lease: Lease<'_>) -> sqlx::Result<bool> {
    let renewed = on_db!(conn, |e| sqlx::query(
        "UPDATE imports SET lease_until = $3
         WHERE id = $1 AND lease_owner = $2 AND status IN ('validating', 'processing')",
    )
    .bind(id)
    .bind(lease.owner)
    .bind(EpochMillis(lease.until_ms))
    .execute(e)
    .await
    .rows_affected())?;
    Ok(renewed == 1)
}

pub async fn store_file(conn: impl Exec<'_>, id: &str, content: &[u8]) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query("INSERT INTO import_files (import_id, content) VALUES ($1, $2)")
        .bind(id)
        .bind(content)
        .execute(e)
        .await
        .rows_affected())?;
    Ok(())
}

pub async fn load_file(pool: &Pool, id: &str) -> sqlx::Result<Option<Vec<u8>>> {
    on_db!(pool, |e| sqlx::query_scalar("SELECT content FROM import_files WHERE import_id = $1")
        .bind(id)
        .fetch_optional(e)
        .await)
}

/// One valid order of a file, ready to be staged.
#[derive(Debug, Clone)]
pub struct StagedRow<'a> {
    pub seq: i64,
    pub order_ref: &'a str,
    pub line: i64,
    /// The order as a `NewOrder` JSON body.
    pub payload: String,
}

/// Writes the outcome of validation: the valid orders, the error report and the counts, and
/// moves the import on to `status` (`processing`, or a final status when nothing is left to
/// do). The file is no longer needed after this.
#[tracing::instrument(level = "debug", skip_all, fields(import_id = id, orders = rows.len(), errors = errors.len()))]
pub async fn stage(
    tx: &mut Transaction,
    id: &str,
    rows: &[StagedRow<'_>],
    errors: &[ImportError],
    failed_orders: i64,
) -> sqlx::Result<()> {
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        on_db!(&mut *tx, |e| {
            let mut query =
                QueryBuilder::new("INSERT INTO import_orders (import_id, seq, order_ref, line, payload, state) ");
            query.push_values(chunk, |mut row, staged| {
                row.push_bind(id)
                    .push_bind(staged.seq)
                    .push_bind(staged.order_ref)
                    .push_bind(staged.line)
                    .push_bind(staged.payload.as_str())
                    .push_bind("staged");
            });
            query.build().execute(e).await.rows_affected()
        })?;
    }
    insert_errors(&mut *tx, id, errors).await?;
    on_db!(&mut *tx, |e| sqlx::query(
        "UPDATE imports SET status = 'processing', failed_orders = failed_orders + $2,
                processed_orders = processed_orders + $2
         WHERE id = $1",
    )
    .bind(id)
    .bind(failed_orders)
    .execute(e)
    .await
    .rows_affected())?;
    on_db!(tx, |e| sqlx::query("DELETE FROM import_files WHERE import_id = $1")
        .bind(id)
        .execute(e)
        .await
        .rows_affected())?;
    Ok(())
}

/// Adds lines to the error report and counts them.
pub async fn insert_errors(tx: &mut Transaction, id: &str, errors: &[ImportError]) -> sqlx::Result<()> {
    for chunk in errors.chunks(ROWS_PER_INSERT) {
        on_db!(&mut *tx, |e| {
            let mut query =
                QueryBuilder::new("INSERT INTO import_errors (import_id, line, order_ref, column_name, message) ");
            query.push_values(chunk, |mut row, error| {
                row.push_bind(id)
                    .push_bind(error.line)
                    .push_bind(error.order_ref.as_deref())
                    .push_bind(error.column.as_deref())
                    .push_bind(error.message.as_str());
            });
            query.build().execute(e).await.rows_affected()
        })?;
    }
    if !errors.is_empty() {
        on_db!(tx, |e| sqlx::query("UPDATE imports SET error_count = error_count + $2 WHERE id = $1")
            .bind(id)
            .bind(errors.len() as i64)
            .execute(e)
            .await
            .rows_affected())?;
    }
    Ok(())
}

#[derive(Debug, sqlx::FromRow)]
struct ErrorRow {
    line: i64,
    order_ref: Option<String>,
    column_name: Option<String>,
    message: String,
}

impl From<ErrorRow> for ImportError {
    fn from(row: ErrorRow) -> Self {
        ImportError { line: row.line, order_ref: row.order_ref, column: row.column_name, message: row.message }
    }
}

/// A page of the error report, by line.
pub async fn errors(pool: &Pool, id: &str, skip: i64, limit: i64) -> sqlx::Result<Vec<ImportError>> {
    let rows: Vec<ErrorRow> = on_db!(pool, |e| sqlx::query_as(
        "SELECT line, order_ref, column_name, message FROM import_errors
         WHERE import_id = $1 ORDER BY line, id LIMIT $2 OFFSET $3",
    )
    .bind(id)
    .bind(limit)
    .bind(skip)
    .fetch_all(e)
    .await)?;
    Ok(rows.into_iter().map(ImportError::from).collect())
}

/// The staged orders of positions `seqs` that are not finished yet.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportOrderRow {
    pub seq: i64,
    pub order_ref: String,
    pub line: i64,
    pub payload: String,
    pub state: String,
    pub order_id: Option<i64>,
}

pub async fn unfinished_orders(pool: &Pool, id: &str, seqs: std::ops::Range<i64>) -> sqlx::Result<Vec<ImportOrderRow>> {
    on_db!(pool, |e| sqlx::query_as(
        "SELECT seq, order_ref, line, payload, state, order_id FROM import_orders
         WHERE import_id = $1 AND seq >= $2 AND seq < $3 AND state IN ('staged', 'created')
         ORDER BY seq",
    )
    .bind(id)
    .bind(seqs.start)
    .bind(seqs.end)
    .fetch_all(e)
    .await)
}

/// How many orders were staged: positions run from 0 to this.
pub async fn staged_count(pool: &Pool, id: &str) -> sqlx::Result<i64> {
    on_db!(pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM import_orders WHERE import_id = $1")
        .bind(id)
        .fetch_one(e)
        .await)
}

/// Records that the orders of `seqs` still `staged` were created, linking each to its order
/// through the (batch, reference) pair the creation wrote.
pub async fn mark_created(conn: impl Exec<'_>, id: &str, seqs: std::ops::Range<i64>) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "UPDATE import_orders SET state = 'created',
                order_id = (SELECT o.id FROM orders o WHERE o.batch_id = $1 AND o.order_ref = import_orders.order_ref)
         WHERE import_id = $1 AND seq >= $2 AND seq < $3 AND state = 'staged'",
    )
    .bind(id)
    .bind(seqs.start)
    .bind(seqs.end)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Moves the given orders of the import to `state` (`paid` or `failed`), from `created`.
pub async fn mark_orders(conn: impl Exec<'_>, id: &str, order_ids: &[i64], state: &str) -> sqlx::Result<()> {
    if order_ids.is_empty() {
        return Ok(());
    }
    let ids = serde_json::to_string(order_ids).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let sql = "UPDATE import_orders SET state = $2
         WHERE import_id = $1 AND state = 'created' AND order_id IN ({ids})";
    on_db!(conn,
        sqlite: sql.replace("{ids}", "SELECT value FROM json_each($3)"),
        postgres: sql.replace("{ids}", "SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST($3 AS json))"),
        |e, sql| sqlx::query(&sql).bind(id).bind(state).bind(&ids).execute(e).await.rows_affected())?;
    Ok(())
}

/// Adds a chunk's outcome to the import's counters.
pub async fn count_outcomes(conn: impl Exec<'_>, id: &str, succeeded: i64, failed: i64) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "UPDATE imports SET processed_orders = processed_orders + $2 + $3,
                succeeded_orders = succeeded_orders + $2, failed_orders = failed_orders + $3
         WHERE id = $1",
    )
    .bind(id)
    .bind(succeeded)
    .bind(failed)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// The import's orders that are paid now (or already shipped on), in file order.
pub async fn paid_orders(pool: &Pool, id: &str) -> sqlx::Result<Vec<ImportOrderRow>> {
    on_db!(pool, |e| sqlx::query_as(
        "SELECT i.seq, i.order_ref, i.line, i.payload, i.state, i.order_id
         FROM import_orders i JOIN orders o ON o.id = i.order_id
         WHERE i.import_id = $1 AND i.state = 'paid' AND o.status IN ('paid', 'shipped', 'delivered')
         ORDER BY i.seq",
    )
    .bind(id)
    .fetch_all(e)
    .await)
}

/// Ends the import in `status`, once.
pub async fn finish(
    conn: impl Exec<'_>,
    id: &str,
    status: ImportStatus,
    failure: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<bool> {
    let result = on_db!(conn, |e| sqlx::query(
        "UPDATE imports SET status = $2, failure = COALESCE($3, failure), finished_at = $4
         WHERE id = $1 AND status IN ('validating', 'processing')",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(failure)
    .bind(now)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(result == 1)
}

/// The counts a final status is decided from.
pub async fn outcome_counts(conn: impl Exec<'_>, id: &str) -> sqlx::Result<(i64, i64)> {
    on_db!(conn, |e| sqlx::query_as("SELECT succeeded_orders, failed_orders FROM imports WHERE id = $1")
        .bind(id)
        .fetch_one(e)
        .await)
}

/// How the imports stand, for the metrics: how many are in each status, and how many orders
/// the running ones have still to process.
pub struct Progress {
    pub by_status: Vec<(String, i64)>,
    pub orders_remaining: i64,
}

pub async fn progress(pool: &Pool) -> sqlx::Result<Progress> {
    let by_status: Vec<(String, i64)> =
        on_db!(pool, |e| sqlx::query_as("SELECT status, COUNT(*) FROM imports GROUP BY status").fetch_all(e).await)?;
    let orders_remaining: i64 = on_db!(pool, |e| sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(total_orders - processed_orders), 0) AS BIGINT) FROM imports
         WHERE status IN ('queued', 'validating', 'processing') AND dry_run = FALSE"
    )
    .fetch_one(e)
    .await)?;
    Ok(Progress { by_status, orders_remaining })
}
