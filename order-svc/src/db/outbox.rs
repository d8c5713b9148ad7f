//! What this service does with its `outbox` table beyond `platform::outbox`: the payment of a
//! new order is written *before* the synchronous call, as a row that is not yet due.
//!
//! `Outbox::enqueue` makes a row due at once, which would let the worker race the request
//! that is making the very same call. Here the row waits until the call has surely ended; the
//! request deletes it when the outcome is known. So if the process dies mid-call, the row
//! becomes due and the worker finishes the payment: a new order is never left behind in
//! `payment_processing`.

use sqlx::SqliteConnection;

/// Kind of the row that (re)tries an order's payment.
pub const KIND_PAYMENT: &str = "payment";
/// Kind of the row that asks the Notification Service for an e-mail.
pub const KIND_NOTIFICATION: &str = "notification";
/// Kind of the row that refunds a cancelled order's payment.
pub const KIND_REFUND: &str = "refund";

/// Like `Outbox::enqueue`, but due only at `due_at` (milliseconds since the epoch).
#[tracing::instrument(level = "debug", skip_all, fields(key = idempotency_key))]
pub async fn insert_deferred(
    conn: &mut SqliteConnection,
    kind: &str,
    payload: &str,
    idempotency_key: &str,
    due_at: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO outbox (kind, payload, idempotency_key, request_id, attempts, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(kind)
    .bind(payload)
    .bind(idempotency_key)
    .bind(platform::telemetry::current_request_id())
    .bind(due_at)
    .bind(chrono::Utc::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// Removes a row whose work the caller has just done itself, unless the worker already
/// delivered it (then it stays, as a record).
#[tracing::instrument(level = "debug", skip_all, fields(key = idempotency_key))]
pub async fn delete_undelivered(conn: &mut SqliteConnection, idempotency_key: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM outbox WHERE idempotency_key = ?1 AND delivered_at IS NULL")
        .bind(idempotency_key)
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes a waiting row due at `due_at`.
#[tracing::instrument(level = "debug", skip_all, fields(key = idempotency_key))]
pub async fn reschedule(conn: &mut SqliteConnection, idempotency_key: &str, due_at: i64) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = ?1
         WHERE idempotency_key = ?2 AND delivered_at IS NULL AND dead_at IS NULL",
    )
    .bind(due_at)
    .bind(idempotency_key)
    .execute(conn)
    .await?;
    Ok(())
}
