//! `gateway_events` and `gateway_receipts`: what the gateway's webhook reported about each
//! payment, and the signatures received lately (to recognise a replay).

use chrono::{DateTime, Utc};
use platform::api::payments::{GatewayEventOutcome, GatewayEventRecord, PaymentStatus};
use platform::db::{EpochMillis, Exec, Pool, RowsAffected, Transaction};
use platform::on_db;

#[derive(Debug, Clone, sqlx::FromRow)]
struct EventRow {
    status: String,
    reason: Option<String>,
    outcome: String,
    detail: Option<String>,
    received_at: DateTime<Utc>,
}

impl EventRow {
    fn into_api(self) -> anyhow::Result<GatewayEventRecord> {
        Ok(GatewayEventRecord {
            status: PaymentStatus::parse(&self.status)
                .ok_or_else(|| anyhow::anyhow!("unknown gateway event status {:?}", self.status))?,
            outcome: GatewayEventOutcome::parse(&self.outcome)
                .ok_or_else(|| anyhow::anyhow!("unknown gateway event outcome {:?}", self.outcome))?,
            reason: self.reason,
            detail: self.detail,
            received_at: self.received_at,
        })
    }
}

/// One event, in the transaction that acts on it.
#[tracing::instrument(level = "debug", skip_all, fields(payment_id))]
pub async fn record(
    conn: impl Exec<'_>,
    payment_id: i64,
    status: PaymentStatus,
    reason: Option<&str>,
    outcome: GatewayEventOutcome,
    detail: Option<&str>,
) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "INSERT INTO gateway_events (payment_id, status, reason, outcome, detail, received_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(payment_id)
    .bind(status.as_str())
    .bind(reason)
    .bind(outcome.as_str())
    .bind(detail)
    .bind(Utc::now())
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// The payment's events, oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(payment_id))]
pub async fn of_payment(pool: &Pool, payment_id: i64) -> anyhow::Result<Vec<GatewayEventRecord>> {
    let rows: Vec<EventRow> = on_db!(pool, |e| sqlx::query_as(
        "SELECT status, reason, outcome, detail, received_at FROM gateway_events WHERE payment_id = $1 ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(e)
    .await)?;
    rows.into_iter().map(EventRow::into_api).collect()
}

/// Records a webhook's signature; `false` if it was received before (a replay). Receipts older
/// than `forget_before` go first: their signatures are stale by now, refused anyway.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_receipt(
    tx: &mut Transaction,
    signature: &str,
    now: EpochMillis,
    forget_before: EpochMillis,
) -> sqlx::Result<bool> {
    // Replicas receiving webhooks at once would wait for each other's deletions of the same
    // rows (or deadlock on them): on PostgreSQL each forgets only what no one else is forgetting.
    on_db!(&mut *tx,
        sqlite: "DELETE FROM gateway_receipts WHERE received_at < $1",
        postgres: "DELETE FROM gateway_receipts WHERE signature IN
            (SELECT signature FROM gateway_receipts WHERE received_at < $1 FOR UPDATE SKIP LOCKED)",
        |e, sql| sqlx::query(sql).bind(forget_before).execute(e).await.rows_affected())?;
    let inserted = on_db!(tx, |e| sqlx::query(
        "INSERT INTO gateway_receipts (signature, received_at) VALUES ($1, $2) ON CONFLICT (signature) DO NOTHING",
    )
    .bind(signature)
    .bind(now)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(inserted == 1)
}
