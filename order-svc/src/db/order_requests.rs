//! `order_requests`: the `Idempotency-Key`s of order creations (see `domain::idempotency`).
//! The primary key (caller, key) decides which of several concurrent requests — on one
//! replica or several — holds a key.

use platform::db::{EpochMillis, Exec, RowsAffected};
use platform::on_db;

use crate::domain::idempotency::Earlier;

/// Claims `key` for `caller`; `false` if it is held already.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn claim(
    conn: impl Exec<'_>,
    caller: &str,
    key: &str,
    request_hash: &str,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let claimed = on_db!(conn, |e| sqlx::query(
        "INSERT INTO order_requests (caller, idempotency_key, request_hash, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (caller, idempotency_key) DO NOTHING",
    )
    .bind(caller)
    .bind(key)
    .bind(request_hash)
    .bind(EpochMillis(now_ms))
    .execute(e)
    .await
    .rows_affected())?;
    Ok(claimed == 1)
}

#[derive(sqlx::FromRow)]
struct RequestRow {
    request_hash: String,
    order_id: Option<i64>,
    response_status: Option<i64>,
    response_body: Option<String>,
    created_at: EpochMillis,
}

/// The request holding `key` for `caller`, as of `now_ms`.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find(conn: impl Exec<'_>, caller: &str, key: &str, now_ms: i64) -> sqlx::Result<Option<Earlier>> {
    let row: Option<RequestRow> = on_db!(conn, |e| sqlx::query_as(
        "SELECT request_hash, order_id, response_status, response_body, created_at FROM order_requests
         WHERE caller = $1 AND idempotency_key = $2",
    )
    .bind(caller)
    .bind(key)
    .fetch_optional(e)
    .await)?;
    Ok(row.map(|row| Earlier {
        request_hash: row.request_hash,
        order_id: row.order_id,
        response: row
            .response_status
            .zip(row.response_body)
            .map(|(status, body)| (u16::try_from(status).unwrap_or(500), body)),
        claimed_at_ms: row.created_at.0,
        age_ms: now_ms - row.created_at.0,
    }))
}

/// Takes over a key whose request died before it created anything: claimed again as of now.
/// Guarded by the claim time `find` read (`claimed_at_ms`), so that of two retries taking
/// over at once — on one replica or two — exactly one wins.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn reclaim(
    conn: impl Exec<'_>,
    caller: &str,
    key: &str,
    claimed_at_ms: i64,
    now_ms: i64,
) -> sqlx::Result<bool> {
    let reclaimed = on_db!(conn, |e| sqlx::query(
        "UPDATE order_requests SET created_at = $1
         WHERE caller = $2 AND idempotency_key = $3 AND order_id IS NULL AND response_status IS NULL
           AND created_at = $4",
    )
    .bind(EpochMillis(now_ms))
    .bind(caller)
    .bind(key)
    .bind(EpochMillis(claimed_at_ms))
    .execute(e)
    .await
    .rows_affected())?;
    Ok(reclaimed == 1)
}

/// Notes the order the request created, in the transaction that creates it.
#[tracing::instrument(level = "debug", skip_all, fields(order_id))]
pub async fn attach_order(conn: impl Exec<'_>, caller: &str, key: &str, order_id: i64) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "UPDATE order_requests SET order_id = $1 WHERE caller = $2 AND idempotency_key = $3"
    )
    .bind(order_id)
    .bind(caller)
    .bind(key)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Keeps the answer, for the retries to get again.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn answer(conn: impl Exec<'_>, caller: &str, key: &str, status: u16, body: &str) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "UPDATE order_requests SET response_status = $1, response_body = $2 WHERE caller = $3 AND idempotency_key = $4",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(caller)
    .bind(key)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Lets go of a key whose request failed before creating anything, so a retry starts afresh.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn release(conn: impl Exec<'_>, caller: &str, key: &str) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "DELETE FROM order_requests WHERE caller = $1 AND idempotency_key = $2 AND order_id IS NULL"
    )
    .bind(caller)
    .bind(key)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Forgets the keys claimed before `before` (milliseconds since the epoch).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn forget_before(conn: impl Exec<'_>, before: i64) -> sqlx::Result<u64> {
    on_db!(conn, |e| sqlx::query("DELETE FROM order_requests WHERE created_at < $1")
        .bind(EpochMillis(before))
        .execute(e)
        .await
        .rows_affected())
}
