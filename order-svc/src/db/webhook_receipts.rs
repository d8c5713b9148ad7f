//! `webhook_receipts`: the signatures of the signed webhooks received lately.

use sqlx::SqliteConnection;

/// Records a webhook's signature; `false` if it was seen before (a replay). Receipts older than
/// `forget_before` (milliseconds since the epoch) are dropped first: their signatures have
/// expired, so a replay of them is refused as stale anyway.
#[tracing::instrument(level = "debug", skip_all, fields(message_id))]
pub async fn record(
    conn: &mut SqliteConnection,
    signature: &str,
    message_id: &str,
    now_ms: i64,
    forget_before: i64,
) -> sqlx::Result<bool> {
    sqlx::query("DELETE FROM webhook_receipts WHERE received_at < ?1").bind(forget_before).execute(&mut *conn).await?;
    let inserted = sqlx::query(
        "INSERT INTO webhook_receipts (signature, message_id, received_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (signature) DO NOTHING",
    )
    .bind(signature)
    .bind(message_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
