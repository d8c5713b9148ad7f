//! Queries on `refunds`.

use chrono::Utc;
use platform::db::Exec;
use platform::on_db;

/// Inserts the refund of a payment; its UNIQUE(payment_id) makes a second one impossible.
#[tracing::instrument(skip_all, fields(payment_id))]
pub async fn insert(
    conn: impl Exec<'_>,
    payment_id: i64,
    amount: i64,
    reason: Option<&str>,
    idempotency_key: Option<&str>,
) -> sqlx::Result<i64> {
    on_db!(conn, |e| sqlx::query_scalar(
        "INSERT INTO refunds (payment_id, amount, reason, idempotency_key, created_at)
         VALUES ($1, $2, $3, $4, $5)
         RETURNING id",
    )
    .bind(payment_id)
    .bind(amount)
    .bind(reason)
    .bind(idempotency_key)
    .bind(Utc::now())
    .fetch_one(e)
    .await)
}
