//! Queries on `refunds`.

use chrono::Utc;
use sqlx::SqliteConnection;

/// Inserts the refund of a payment; its UNIQUE(payment_id) makes a second one impossible.
#[tracing::instrument(skip_all, fields(payment_id))]
pub async fn insert(
    conn: &mut SqliteConnection,
    payment_id: i64,
    amount: i64,
    reason: Option<&str>,
    idempotency_key: Option<&str>,
) -> sqlx::Result<i64> {
    let done = sqlx::query(
        "INSERT INTO refunds (payment_id, amount, reason, idempotency_key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(payment_id)
    .bind(amount)
    .bind(reason)
    .bind(idempotency_key)
    .bind(Utc::now())
    .execute(conn)
    .await?;
    Ok(done.last_insert_rowid())
}
