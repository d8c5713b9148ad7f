//! `gateway_events` and `gateway_receipts`: what the gateway's webhook reported about each
//! payment, and the signatures received lately (to recognise a replay).

use chrono::{DateTime, Utc};
use platform::api::payments::{GatewayEventOutcome, GatewayEventRecord, PaymentStatus};
use sqlx::{SqliteConnection, SqlitePool};

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
    conn: &mut SqliteConnection,
    payment_id: i64,
    status: PaymentStatus,
    reason: Option<&str>,
    outcome: GatewayEventOutcome,
    detail: Option<&str>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO gateway_events (payment_id, status, reason, outcome, detail, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .bind(payment_id)
    .bind(status.as_str())
    .bind(reason)
    .bind(outcome.as_str())
    .bind(detail)
    .bind(Utc::now())
    .execute(conn)
    .await?;
    Ok(())
}

/// The payment's events, oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(payment_id))]
pub async fn of_payment(pool: &SqlitePool, payment_id: i64) -> anyhow::Result<Vec<GatewayEventRecord>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT status, reason, outcome, detail, received_at FROM gateway_events WHERE payment_id = ?1 ORDER BY id",
    )
    .bind(payment_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(EventRow::into_api).collect()
}

/// Records a webhook's signature; `false` if it was received before (a replay). Receipts older
/// than `forget_before` go first: their signatures are stale by now, refused anyway.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn record_receipt(
    conn: &mut SqliteConnection,
    signature: &str,
    now_ms: i64,
    forget_before: i64,
) -> sqlx::Result<bool> {
    sqlx::query("DELETE FROM gateway_receipts WHERE received_at < ?1").bind(forget_before).execute(&mut *conn).await?;
    let inserted = sqlx::query(
        "INSERT INTO gateway_receipts (signature, received_at) VALUES (?1, ?2) ON CONFLICT (signature) DO NOTHING",
    )
    .bind(signature)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
