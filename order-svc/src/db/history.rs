//! The `order_status_history` table: every status an order went through, and why.

use chrono::{DateTime, Utc};
use platform::api::orders::OrderStatus;
use platform::db::{Exec, Pool, RowsAffected, Transaction};
use platform::on_db;
use sqlx::QueryBuilder;

use super::HistoryRow;
use crate::domain::status::{REASON_CREATED, REASON_PAYMENT_INITIATED};

/// The two entries of a new order: created as pending, then payment initiated. One statement,
/// because it runs for every order created.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn insert_creation(conn: impl Exec<'_>, order_id: i64, now: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "INSERT INTO order_status_history (order_id, from_status, to_status, reason, created_at)
         VALUES ($1, NULL, $2, $3, $6), ($1, $2, $4, $5, $6)",
    )
    .bind(order_id)
    .bind(OrderStatus::Pending.as_str())
    .bind(REASON_CREATED)
    .bind(OrderStatus::PaymentProcessing.as_str())
    .bind(REASON_PAYMENT_INITIATED)
    .bind(now)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// The creation entries of many new orders (an import's chunk), in few statements.
#[tracing::instrument(level = "debug", skip_all, fields(orders = order_ids.len()))]
pub async fn insert_creation_of(tx: &mut Transaction, order_ids: &[i64], now: DateTime<Utc>) -> sqlx::Result<()> {
    let entries: Vec<Entry> = order_ids
        .iter()
        .flat_map(|&order_id| {
            [
                Entry { order_id, from: None, to: OrderStatus::Pending, reason: Some(REASON_CREATED) },
                Entry {
                    order_id,
                    from: Some(OrderStatus::Pending),
                    to: OrderStatus::PaymentProcessing,
                    reason: Some(REASON_PAYMENT_INITIATED),
                },
            ]
        })
        .collect();
    insert_many(tx, &entries, now).await
}

/// One history entry of a bulk insert.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub order_id: i64,
    pub from: Option<OrderStatus>,
    pub to: OrderStatus,
    pub reason: Option<&'a str>,
}

/// Many entries in few statements (5 bound parameters each, 2,000 per statement).
pub async fn insert_many(tx: &mut Transaction, entries: &[Entry<'_>], now: DateTime<Utc>) -> sqlx::Result<()> {
    for chunk in entries.chunks(2_000) {
        on_db!(&mut *tx, |e| {
            let mut query = QueryBuilder::new(
                "INSERT INTO order_status_history (order_id, from_status, to_status, reason, created_at) ",
            );
            query.push_values(chunk, |mut row, entry| {
                row.push_bind(entry.order_id)
                    .push_bind(entry.from.map(OrderStatus::as_str))
                    .push_bind(entry.to.as_str())
                    .push_bind(entry.reason)
                    .push_bind(now);
            });
            query.build().execute(e).await.rows_affected()
        })?;
    }
    Ok(())
}

#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn insert(
    conn: impl Exec<'_>,
    order_id: i64,
    from: OrderStatus,
    to: OrderStatus,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    on_db!(conn, |e| sqlx::query(
        "INSERT INTO order_status_history (order_id, from_status, to_status, reason, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(order_id)
    .bind(from.as_str())
    .bind(to.as_str())
    .bind(reason)
    .bind(now)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Oldest first.
#[tracing::instrument(level = "debug", skip_all, fields(order_id = order_id))]
pub async fn fetch(pool: &Pool, order_id: i64) -> sqlx::Result<Vec<HistoryRow>> {
    on_db!(pool, |e| sqlx::query_as(
        "SELECT from_status, to_status, reason, created_at FROM order_status_history WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(e)
    .await)
}
