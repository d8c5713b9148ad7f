//! `webhook_receipts`: the signed webhook deliveries received lately.

use platform::db::{EpochMillis, Exec, RowsAffected};
use platform::on_db;

/// How long a delivery is remembered: past its signature's five-minute tolerance, with a margin
/// for clocks that disagree. An older one is refused as stale anyway.
pub const KEPT_MS: i64 = 10 * 60 * 1000;

/// Records a delivery (`SignedWebhook::delivery`); `false` if it was seen before (a replay) —
/// by this replica or another: the primary key decides. One statement: it is on the path of
/// every payment, so forgetting old receipts is left to the housekeeping.
#[tracing::instrument(level = "debug", skip_all, fields(message_id))]
pub async fn record(conn: impl Exec<'_>, delivery: &str, message_id: &str, now_ms: i64) -> sqlx::Result<bool> {
    let inserted = on_db!(conn, |e| sqlx::query(
        "INSERT INTO webhook_receipts (delivery, message_id, received_at) VALUES ($1, $2, $3)
         ON CONFLICT (delivery) DO NOTHING",
    )
    .bind(delivery)
    .bind(message_id)
    .bind(EpochMillis(now_ms))
    .execute(e)
    .await
    .rows_affected())?;
    Ok(inserted == 1)
}

/// Forgets the receipts received before `before` (milliseconds since the epoch).
pub async fn forget_before(conn: impl Exec<'_>, before: i64) -> sqlx::Result<u64> {
    on_db!(conn, |e| sqlx::query("DELETE FROM webhook_receipts WHERE received_at < $1")
        .bind(EpochMillis(before))
        .execute(e)
        .await
        .rows_affected())
}
