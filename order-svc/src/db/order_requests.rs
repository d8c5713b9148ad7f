//! `order_requests`: the `Idempotency-Key`s of order creations (see `domain::idempotency`).

use sqlx::SqliteConnection;

use crate::domain::idempotency::Earlier;

/// Claims `key` for `caller`; `false` if it is held already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim(
    conn: &mut SqliteConnection,
    caller: &str,
    key: &str,
    request_hash: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO order_requests (caller, idempotency_key, request_hash, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (caller, idempotency_key) DO NOTHING",
    )
    .bind(caller)
    .bind(key)
    .bind(request_hash)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    request_hash: String,
    order_id: Option<i64>,
    response_status: Option<i64>,
    response_body: Option<String>,
    created_at: i64,
}

/// The request holding `key` for `caller`, as of `now_ms`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(conn: &mut SqliteConnection, caller: &str, key: &str, now_ms: i64) -> sqlx::Result<Option<Earlier>> {
    let row: Option<RequestRow> = sqlx::query_as(
        "SELECT request_hash, order_id, response_status, response_body, created_at FROM order_requests
         WHERE caller = ?1 AND idempotency_key = ?2",
    )
    .bind(caller)
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|row| Earlier {
        request_hash: row.request_hash,
        order_id: row.order_id,
        response: row
            .response_status
            .zip(row.response_body)
            .map(|(status, body)| (u16::try_from(status).unwrap_or(500), body)),
        age_ms: now_ms - row.created_at,
    }))
}

/// Takes over a key whose request died before it created anything: claimed again as of now.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reclaim(conn: &mut SqliteConnection, caller: &str, key: &str, now_ms: i64) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE order_requests SET created_at = ?1
         WHERE caller = ?2 AND idempotency_key = ?3 AND order_id IS NULL AND response_status IS NULL",
    )
    .bind(now_ms)
    .bind(caller)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Notes the order the request created, in the transaction that creates it.
#[tracing::instrument(level = "debug", skip_all, fields(order_id))]
pub async fn attach_order(conn: &mut SqliteConnection, caller: &str, key: &str, order_id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE order_requests SET order_id = ?1 WHERE caller = ?2 AND idempotency_key = ?3")
        .bind(order_id)
        .bind(caller)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Keeps the answer, for the retries to get again.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn answer(conn: &mut SqliteConnection, caller: &str, key: &str, status: u16, body: &str) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE order_requests SET response_status = ?1, response_body = ?2 WHERE caller = ?3 AND idempotency_key = ?4",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(caller)
    .bind(key)
    .execute(conn)
    .await?;
    Ok(())
}

/// Lets go of a key whose request failed before creating anything, so a retry starts afresh.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release(conn: &mut SqliteConnection, caller: &str, key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM order_requests WHERE caller = ?1 AND idempotency_key = ?2 AND order_id IS NULL")
        .bind(caller)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the keys claimed before `before` (milliseconds since the epoch).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget_before(conn: &mut SqliteConnection, before: i64) -> sqlx::Result<u64> {
    let done = sqlx::query("DELETE FROM order_requests WHERE created_at < ?1").bind(before).execute(conn).await?;
    Ok(done.rows_affected())
}
