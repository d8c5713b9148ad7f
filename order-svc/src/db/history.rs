//! The `order_status_history` table: every status an order went through, and why.

use chrono::{DateTime, Utc};
use platform::api::orders::OrderStatus;
use sqlx::{SqliteConnection, SqlitePool};

use super::HistoryRow;
use crate::domain::status::{REASON_CREATED, REASON_PAYMENT_INITIATED};

/// The two entries of a new order: created as pending, then payment initiated. One statement,
/// because it runs for every order created.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn insert_creation(conn: &mut SqliteConnection, order_id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO order_status_history (order_id, from_status, to_status, reason, created_at)
         VALUES (?1, NULL, ?2, ?3, ?6), (?1, ?2, ?4, ?5, ?6)",
    )
    .bind(order_id)
    .bind(OrderStatus::Pending.as_str())
    .bind(REASON_CREATED)
    .bind(OrderStatus::PaymentProcessing.as_str())
    .bind(REASON_PAYMENT_INITIATED)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn insert(
    conn: &mut SqliteConnection,
    order_id: i64,
    from: OrderStatus,
    to: OrderStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO order_status_history (order_id, from_status, to_status, reason, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(order_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn fetch(pool: &SqlitePool, order_id: i64) -> sqlx::Result<Vec<HistoryRow>> {
    sqlx::query_as(
        "SELECT from_status, to_status, reason, created_at FROM order_status_history WHERE order_id = ?1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(pool)
    .await
}
