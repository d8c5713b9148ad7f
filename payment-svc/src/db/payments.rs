//! Queries on `payments` (each read joins its refund, so a payment is always returned whole).

use chrono::{DateTime, Utc};
use platform::api::payments::{Payment, PaymentStatus, Refund};
use platform::{Currency, Yen};
use sqlx::{SqliteConnection, SqlitePool};

use super::is_unique_violation;

const SELECT_PAYMENT: &str = "
    SELECT p.id, p.order_id, p.amount, p.currency, p.status, p.transaction_id, p.failure_reason,
           p.idempotency_key, p.created_at, p.updated_at,
           r.id AS refund_id, r.amount AS refund_amount, r.reason AS refund_reason,
           r.idempotency_key AS refund_idempotency_key, r.created_at AS refund_created_at
    FROM payments p LEFT JOIN refunds r ON r.payment_id = p.id";

/// The `RETURNING` clause that hands back a whole [`PaymentRow`] from a write that creates a
/// payment or moves it out of `pending`, saving the read that would follow. Such a payment has
/// no refund: one is only ever inserted after `mark_refunded` has moved the payment from
/// `completed` to `refunded`, so the refund columns are NULL rather than joined.
const RETURNING_UNREFUNDED_PAYMENT: &str = "
    RETURNING id, order_id, amount, currency, status, transaction_id, failure_reason,
              idempotency_key, created_at, updated_at,
              NULL AS refund_id, NULL AS refund_amount, NULL AS refund_reason,
              NULL AS refund_idempotency_key, NULL AS refund_created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PaymentRow {
    pub id: i64,
    pub order_id: i64,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub transaction_id: String,
    pub failure_reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub refund_id: Option<i64>,
    pub refund_amount: Option<i64>,
    pub refund_reason: Option<String>,
    pub refund_idempotency_key: Option<String>,
    pub refund_created_at: Option<DateTime<Utc>>,
}

impl PaymentRow {
    pub fn status(&self) -> anyhow::Result<PaymentStatus> {
        PaymentStatus::parse(&self.status)
            .ok_or_else(|| anyhow::anyhow!("payment {} has an unknown status '{}'", self.id, self.status))
    }

    pub fn refund(&self) -> Option<Refund> {
        match (self.refund_id, self.refund_amount, self.refund_created_at) {
            (Some(id), Some(amount), Some(created_at)) => Some(Refund {
                id,
                payment_id: self.id,
                amount: Yen::new(amount),
                reason: self.refund_reason.clone(),
                created_at,
            }),
            _ => None,
        }
    }

    pub fn into_api(self) -> anyhow::Result<Payment> {
        let status = self.status()?;
        let currency = Currency::parse(&self.currency).map_err(|err| anyhow::anyhow!("payment {}: {err}", self.id))?;
        let refund = self.refund();
        Ok(Payment {
            id: self.id,
            order_id: self.order_id,
            amount: Yen::new(self.amount),
            currency,
            status,
            transaction_id: self.transaction_id,
            failure_reason: self.failure_reason,
            refund,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A payment row about to be written, before the gateway is asked for anything.
#[derive(Debug)]
pub struct NewPendingPayment<'a> {
    pub order_id: i64,
    pub amount: Yen,
    pub currency: Currency,
    pub transaction_id: &'a str,
    pub idempotency_key: Option<&'a str>,
}

#[derive(Debug, Clone)]
pub enum InsertOutcome {
    /// The new payment, as stored.
    Inserted(Box<PaymentRow>),
    /// A UNIQUE constraint (order, idempotency key or transaction) already holds this row.
    Duplicate,
}

/// Inserts the payment as `pending` in its own statement, so the UNIQUE constraints decide
/// which of several concurrent requests owns the order, and returns the row it wrote.
#[tracing::instrument(skip_all, fields(order_id = new.order_id))]
pub async fn insert_pending(pool: &SqlitePool, new: &NewPendingPayment<'_>) -> sqlx::Result<InsertOutcome> {
    let now = Utc::now();
    let result = sqlx::query_as(&format!(
        "INSERT INTO payments (order_id, amount, currency, status, transaction_id, idempotency_key, created_at, updated_at)
         VALUES (?1, ?2, ?3, 'pending', ?4, ?5, ?6, ?6)
         {RETURNING_UNREFUNDED_PAYMENT}"
    ))
    .bind(new.order_id)
    .bind(new.amount.get())
    .bind(new.currency.code())
    .bind(new.transaction_id)
    .bind(new.idempotency_key)
    .bind(now)
    .fetch_one(pool)
    .await;
    match result {
        Ok(row) => Ok(InsertOutcome::Inserted(Box::new(row))),
        Err(err) if is_unique_violation(&err) => Ok(InsertOutcome::Duplicate),
        Err(err) => Err(err),
    }
}

#[tracing::instrument(skip_all, fields(payment_id = id))]
pub async fn find_by_id(pool: &SqlitePool, id: i64) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!("{SELECT_PAYMENT} WHERE p.id = ?1")).bind(id).fetch_optional(pool).await
}

#[tracing::instrument(skip_all, fields(order_id))]
pub async fn find_by_order(pool: &SqlitePool, order_id: i64) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!("{SELECT_PAYMENT} WHERE p.order_id = ?1")).bind(order_id).fetch_optional(pool).await
}

#[tracing::instrument(skip_all)]
pub async fn find_by_idempotency_key(pool: &SqlitePool, key: &str) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!("{SELECT_PAYMENT} WHERE p.idempotency_key = ?1")).bind(key).fetch_optional(pool).await
}

#[tracing::instrument(skip_all, fields(transaction_id))]
pub async fn find_by_transaction(
    conn: &mut SqliteConnection,
    transaction_id: &str,
) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!("{SELECT_PAYMENT} WHERE p.transaction_id = ?1"))
        .bind(transaction_id)
        .fetch_optional(conn)
        .await
}

/// Records the gateway's answer on a payment that is still pending and returns the settled
/// row; `None` if it changed nothing: a webhook may have settled it meanwhile, and then that
/// word stands.
#[tracing::instrument(skip_all, fields(payment_id = id, status = status.as_str()))]
pub async fn settle_by_id(
    pool: &SqlitePool,
    id: i64,
    status: PaymentStatus,
    failure_reason: Option<&str>,
) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!(
        "UPDATE payments SET status = ?1, failure_reason = ?2, updated_at = ?3
         WHERE id = ?4 AND status = 'pending'
         {RETURNING_UNREFUNDED_PAYMENT}"
    ))
    .bind(status.as_str())
    .bind(failure_reason)
    .bind(Utc::now())
    .bind(id)
    .fetch_optional(pool)
    .await
}

/// The pending payment of `transaction_id`, now settled: `(payment_id, order_id)`, or `None`
/// when there is no such pending payment.
///
/// It is the first statement of the webhook's transaction on purpose: a write takes
/// SQLite's write lock up front, where a read-then-write could fail to upgrade its snapshot.
#[tracing::instrument(skip_all, fields(transaction_id, status = status.as_str()))]
pub async fn settle_pending_transaction(
    conn: &mut SqliteConnection,
    transaction_id: &str,
    status: PaymentStatus,
    failure_reason: Option<&str>,
) -> sqlx::Result<Option<(i64, i64)>> {
    sqlx::query_as(
        "UPDATE payments SET status = ?1, failure_reason = ?2, updated_at = ?3
         WHERE transaction_id = ?4 AND status = 'pending'
         RETURNING id, order_id",
    )
    .bind(status.as_str())
    .bind(failure_reason)
    .bind(Utc::now())
    .bind(transaction_id)
    .fetch_optional(conn)
    .await
}

/// Marks a completed payment refunded and returns its amount; `None` if it is not (or no
/// longer) completed. First statement of the refund transaction, for the reason above.
#[tracing::instrument(skip_all, fields(payment_id))]
pub async fn mark_refunded(conn: &mut SqliteConnection, payment_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE payments SET status = 'refunded', updated_at = ?1
         WHERE id = ?2 AND status = 'completed'
         RETURNING amount",
    )
    .bind(Utc::now())
    .bind(payment_id)
    .fetch_optional(conn)
    .await
}
