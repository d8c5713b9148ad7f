//! What this service does with its `outbox` table beyond `platform::outbox`: the payment of a
//! new order is written *before* the synchronous call (`Outbox::enqueue_at`), as a row that is
//! not yet due.
//!
//! A row due at once would let the worker race the request that is making the very same call.
//! Here the row waits until the call has surely ended; the request deletes it when the outcome
//! is known. So if the process dies mid-call, the row becomes due and the worker finishes the
//! payment: a new order is never left behind in `payment_processing`.

use platform::db::{EpochMillis, Exec, RowsAffected};
use platform::on_db;

/// Kind of the row that (re)tries an order's payment.
pub const KIND_PAYMENT: &str = "payment";
/// Kind of the row that asks the Notification Service for an e-mail.
pub const KIND_NOTIFICATION: &str = "notification";
/// Kind of the row that queues many e-mails (an import's) in one request.
pub const KIND_NOTIFICATION_BATCH: &str = "notification_batch";
/// Kind of the row that refunds a cancelled order's payment.
pub const KIND_REFUND: &str = "refund";

/// Removes a row whose work the caller has just done itself, unless the worker already
/// delivered it (then it stays, as a record).
#[tracing::instrument(level = "debug", skip_all, fields(key = idempotency_key))]
pub async fn delete_undelivered(conn: impl Exec<'_>, idempotency_key: &str) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query("DELETE FROM outbox WHERE idempotency_key = $1 AND delivered_at IS NULL")
        .bind(idempotency_key)
        .execute(e)
        .await
        .rows_affected())?;
    Ok(())
}

/// Makes a waiting row due at `due_at`.
#[tracing::instrument(level = "debug", skip_all, fields(key = idempotency_key))]
pub async fn reschedule(conn: impl Exec<'_>, idempotency_key: &str, due_at: i64) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1
         WHERE idempotency_key = $2 AND delivered_at IS NULL AND dead_at IS NULL",
    )
    .bind(EpochMillis(due_at))
    .bind(idempotency_key)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Makes the row with this key due at `due_at` again, whether it was delivered, dead or
/// waiting: for an effect that must be asked for once more.
#[tracing::instrument(level = "debug", skip_all, fields(key = idempotency_key))]
pub async fn revive(conn: impl Exec<'_>, idempotency_key: &str, due_at: i64) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "UPDATE outbox SET delivered_at = NULL, dead_at = NULL, last_error = NULL, attempts = 0, next_attempt_at = $1
         WHERE idempotency_key = $2",
    )
    .bind(EpochMillis(due_at))
    .bind(idempotency_key)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}
