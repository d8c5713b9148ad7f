//! Queries on `payments` (each read joins its refund, so a payment is always returned whole).

use chrono::{DateTime, Utc};
use platform::api::payments::{Payment, PaymentStatus, Refund};
use platform::{Currency, Yen};
use sqlx::{Connection, QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

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
            gateway_events: Vec::new(),
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

/// Bound parameters one statement may carry: SQLite's `SQLITE_MAX_VARIABLE_NUMBER` default
/// since 3.32 (the bundled library is newer). Longer lists are split over several statements.
const MAX_BIND_PARAMS: usize = 32_766;

/// Whether a statement built for a list of `items` rows or ids is kept in the connection's
/// statement cache: the one-item shapes recur on every single request, while a long list's
/// exact length rarely recurs, and a cached statement of a thousand rows holds far more memory
/// than preparing it again costs time.
fn worth_caching(items: usize) -> bool {
    items == 1
}

/// Parameters of one row of `insert_pending`.
const INSERT_PARAMS_PER_ROW: usize = 7;

/// Inserts the payments as `pending` and returns the rows it wrote, in no particular order
/// (match them by `transaction_id`). A payment missing from the answer was refused by a
/// UNIQUE constraint — its order, idempotency key or transaction already has a row, possibly
/// one an earlier payment of the same slice has just written — so the constraints, not a
/// lookup before the insert, decide which of several concurrent requests owns an order.
///
/// One multi-row statement rather than one per payment: every statement is a round trip to
/// the writer connection's thread, and that, not SQLite, is what a batch would pay for. Only a
/// slice too long for one statement takes several, and then one transaction, so they still
/// commit once.
#[tracing::instrument(skip_all, fields(payments = payments.len()))]
pub async fn insert_pending(pool: &SqlitePool, payments: &[NewPendingPayment<'_>]) -> sqlx::Result<Vec<PaymentRow>> {
    insert_pending_in_chunks(pool, payments, MAX_BIND_PARAMS / INSERT_PARAMS_PER_ROW).await
}

async fn insert_pending_in_chunks(
    pool: &SqlitePool,
    payments: &[NewPendingPayment<'_>],
    rows_per_statement: usize,
) -> sqlx::Result<Vec<PaymentRow>> {
    if payments.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    let mut conn = pool.acquire().await?;
    if payments.len() <= rows_per_statement {
        return insert_pending_chunk(&mut conn, payments, now).await;
    }
    let mut tx = conn.begin().await?;
    let mut inserted = Vec::with_capacity(payments.len());
    for chunk in payments.chunks(rows_per_statement) {
        inserted.extend(insert_pending_chunk(&mut tx, chunk, now).await?);
    }
    tx.commit().await?;
    Ok(inserted)
}

async fn insert_pending_chunk(
    conn: &mut SqliteConnection,
    payments: &[NewPendingPayment<'_>],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<PaymentRow>> {
    let mut query = QueryBuilder::<Sqlite>::new(
        "INSERT INTO payments (order_id, amount, currency, status, transaction_id, idempotency_key, created_at, updated_at) ",
    );
    query.push_values(payments, |mut row, new| {
        row.push_bind(new.order_id)
            .push_bind(new.amount.get())
            .push_bind(new.currency.code())
            .push("'pending'")
            .push_bind(new.transaction_id)
            .push_bind(new.idempotency_key)
            .push_bind(now)
            .push_bind(now);
    });
    // DO NOTHING rather than an error: a duplicate must not undo the other rows of the statement.
    query.push(" ON CONFLICT DO NOTHING ").push(RETURNING_UNREFUNDED_PAYMENT);
    query.build_query_as().persistent(worth_caching(payments.len())).fetch_all(conn).await
}

#[tracing::instrument(skip_all, fields(payment_id = id))]
pub async fn find_by_id(pool: &SqlitePool, id: i64) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!("{SELECT_PAYMENT} WHERE p.id = ?1")).bind(id).fetch_optional(pool).await
}

#[tracing::instrument(skip_all, fields(order_id))]
pub async fn find_by_order(pool: &SqlitePool, order_id: i64) -> sqlx::Result<Option<PaymentRow>> {
    sqlx::query_as(&format!("{SELECT_PAYMENT} WHERE p.order_id = ?1")).bind(order_id).fetch_optional(pool).await
}

/// The payments stored under these idempotency keys (those that exist), in no particular order.
#[tracing::instrument(skip_all, fields(keys = keys.len()))]
pub async fn find_by_idempotency_keys(pool: &SqlitePool, keys: &[&str]) -> sqlx::Result<Vec<PaymentRow>> {
    find_where_in(pool, "p.idempotency_key", keys).await
}

/// The payments with these ids (those that exist), in no particular order.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn find_by_ids(pool: &SqlitePool, ids: &[i64]) -> sqlx::Result<Vec<PaymentRow>> {
    find_where_in(pool, "p.id", ids).await
}

/// `SELECT_PAYMENT WHERE column IN (values)`, one statement per `MAX_BIND_PARAMS` values. Reads
/// need no transaction: the rows asked for are never deleted and their keys never change.
async fn find_where_in<'v, T>(pool: &SqlitePool, column: &str, values: &'v [T]) -> sqlx::Result<Vec<PaymentRow>>
where
    T: Copy + Send + sqlx::Encode<'v, Sqlite> + sqlx::Type<Sqlite> + 'v,
{
    let mut rows = Vec::new();
    for chunk in values.chunks(MAX_BIND_PARAMS) {
        let mut query = QueryBuilder::<Sqlite>::new(format!("{SELECT_PAYMENT} WHERE {column} IN ("));
        let mut list = query.separated(", ");
        for value in chunk {
            list.push_bind(*value);
        }
        query.push(")");
        rows.extend(query.build_query_as().persistent(worth_caching(chunk.len())).fetch_all(pool).await?);
    }
    Ok(rows)
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

/// The gateway's answer for one payment, to be recorded.
#[derive(Debug, Clone)]
pub struct NewStatus {
    pub payment_id: i64,
    pub status: PaymentStatus,
    pub failure_reason: Option<String>,
}

/// Records the gateway's answers on payments that are still pending and returns the rows it
/// settled, in no particular order. A payment missing from the answer was no longer pending:
/// the gateway's webhook settled it meanwhile, and that word stands.
///
/// One `UPDATE … WHERE id IN (…)` per distinct status and reason (the simulator has two: captured
/// and declined) rather than one per payment, for the round trips `insert_pending` explains;
/// several statements share one transaction.
#[tracing::instrument(skip_all, fields(payments = answers.len()))]
pub async fn settle_pending(pool: &SqlitePool, answers: &[NewStatus]) -> sqlx::Result<Vec<PaymentRow>> {
    if answers.is_empty() {
        return Ok(Vec::new());
    }
    // In first-seen order, so the same answers make the same statements.
    let mut statements: Vec<SettleStatement<'_>> = Vec::new();
    for answer in answers {
        let failure_reason = answer.failure_reason.as_deref();
        let open = statements.iter_mut().find(|statement| {
            statement.status == answer.status
                && statement.failure_reason == failure_reason
                && statement.ids.len() < MAX_BIND_PARAMS - SETTLE_FIXED_PARAMS
        });
        match open {
            Some(statement) => statement.ids.push(answer.payment_id),
            None => {
                statements.push(SettleStatement { status: answer.status, failure_reason, ids: vec![answer.payment_id] })
            }
        }
    }

    let now = Utc::now();
    let mut conn = pool.acquire().await?;
    if let [statement] = statements.as_slice() {
        return settle_ids(&mut conn, statement, now).await;
    }
    let mut tx = conn.begin().await?;
    let mut settled = Vec::with_capacity(answers.len());
    for statement in &statements {
        settled.extend(settle_ids(&mut tx, statement, now).await?);
    }
    tx.commit().await?;
    Ok(settled)
}

/// One `UPDATE` of `settle_pending`: payments that take the same status and reason.
struct SettleStatement<'a> {
    status: PaymentStatus,
    failure_reason: Option<&'a str>,
    ids: Vec<i64>,
}

/// Parameters of a `SettleStatement` besides its ids.
const SETTLE_FIXED_PARAMS: usize = 4;

async fn settle_ids(
    conn: &mut SqliteConnection,
    statement: &SettleStatement<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<PaymentRow>> {
    let mut query = QueryBuilder::<Sqlite>::new("UPDATE payments SET status = ");
    query.push_bind(statement.status.as_str()).push(", failure_reason = ").push_bind(statement.failure_reason);
    query.push(", updated_at = ").push_bind(now);
    query.push(", request_id = ").push_bind(platform::telemetry::current_request_id());
    query.push(" WHERE status = 'pending' AND id IN (");
    let mut list = query.separated(", ");
    for id in &statement.ids {
        list.push_bind(*id);
    }
    query.push(")").push(RETURNING_UNREFUNDED_PAYMENT);
    query.build_query_as().persistent(worth_caching(statement.ids.len())).fetch_all(conn).await
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
        "UPDATE payments SET status = ?1, failure_reason = ?2, updated_at = ?3, request_id = ?5
         WHERE transaction_id = ?4 AND status = 'pending'
         RETURNING id, order_id",
    )
    .bind(status.as_str())
    .bind(failure_reason)
    .bind(Utc::now())
    .bind(transaction_id)
    .bind(platform::telemetry::current_request_id())
    .fetch_optional(conn)
    .await
}

/// Marks a completed payment refunded and returns its amount; `None` if it is not (or no
/// longer) completed. First statement of the refund transaction, for the reason above.
#[tracing::instrument(skip_all, fields(payment_id))]
pub async fn mark_refunded(conn: &mut SqliteConnection, payment_id: i64) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "UPDATE payments SET status = 'refunded', updated_at = ?1, request_id = ?3
         WHERE id = ?2 AND status = 'completed'
         RETURNING amount",
    )
    .bind(Utc::now())
    .bind(payment_id)
    .bind(platform::telemetry::current_request_id())
    .fetch_optional(conn)
    .await
}

/// Payments pending since before `created_before` and not asked about since `checked_before`
/// (milliseconds since the epoch): those the sweep asks the gateway about, oldest first.
#[tracing::instrument(skip_all)]
pub async fn pending_to_ask(
    pool: &SqlitePool,
    created_before: DateTime<Utc>,
    checked_before: i64,
    limit: i64,
) -> sqlx::Result<Vec<PaymentRow>> {
    sqlx::query_as(&format!(
        "{SELECT_PAYMENT} WHERE p.status = 'pending' AND p.created_at < ?1 AND (p.checked_at IS NULL OR p.checked_at < ?2)
         ORDER BY p.id LIMIT ?3"
    ))
    .bind(created_before)
    .bind(checked_before)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// Notes that the payments were asked about at `now_ms` and are still pending.
#[tracing::instrument(skip_all, fields(payments = ids.len()))]
pub async fn mark_checked(pool: &SqlitePool, ids: &[i64], now_ms: i64) -> sqlx::Result<()> {
    for chunk in ids.chunks(MAX_BIND_PARAMS - 1) {
        let mut query = QueryBuilder::<Sqlite>::new("UPDATE payments SET checked_at = ");
        query.push_bind(now_ms).push(" WHERE status = 'pending' AND id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        query.push(")");
        query.build().persistent(false).execute(pool).await?;
    }
    Ok(())
}

/// Makes the webhook that announced the payment's current status due again, as if it had not
/// been delivered: the gateway repeating an outcome may mean the Order Service never heard it.
/// `false` if the status was never announced (a payment still pending).
#[tracing::instrument(skip_all, fields(payment_id))]
pub async fn announce_again(conn: &mut SqliteConnection, payment_id: i64, status: PaymentStatus) -> sqlx::Result<bool> {
    let done = sqlx::query(
        "UPDATE outbox SET delivered_at = NULL, dead_at = NULL, last_error = NULL, attempts = 0, next_attempt_at = ?1
         WHERE idempotency_key = ?2",
    )
    .bind(platform::db::now_millis())
    .bind(format!("payment-{payment_id}-{}", status.as_str()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use platform::db::Database;

    use super::*;

    async fn database() -> (tempfile::TempDir, SqlitePool) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(&format!("sqlite://{}/x.db", dir.path().display()), 1).await.unwrap();
        sqlx::migrate!().run(&db.write).await.unwrap();
        (dir, db.write)
    }

    fn new<'a>(order_id: i64, transaction_id: &'a str, key: &'a str) -> NewPendingPayment<'a> {
        NewPendingPayment {
            order_id,
            amount: Yen::new(1000),
            currency: Currency::JPY,
            transaction_id,
            idempotency_key: Some(key),
        }
    }

    #[tokio::test]
    async fn a_slice_split_over_several_statements_skips_duplicates_across_them() {
        let (_dir, pool) = database().await;
        let payments = [
            new(1, "t1", "k1"),
            new(2, "t2", "k2"),
            new(3, "t3", "k3"),
            new(1, "t4", "k4"), // order 1 is in the first statement
            new(5, "t5", "k2"), // key k2 too
        ];
        let inserted = insert_pending_in_chunks(&pool, &payments, 2).await.unwrap();
        let mut transactions: Vec<&str> = inserted.iter().map(|row| row.transaction_id.as_str()).collect();
        transactions.sort_unstable();
        assert_eq!(transactions, ["t1", "t2", "t3"]);
        assert!(inserted.iter().all(|row| row.status == "pending"));
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM payments").fetch_one(&pool).await.unwrap();
        assert_eq!(count, 3);
    }

    #[tokio::test]
    async fn settling_groups_answers_and_leaves_settled_payments_alone() {
        let (_dir, pool) = database().await;
        let payments = [new(1, "t1", "k1"), new(2, "t2", "k2"), new(3, "t3", "k3")];
        let ids: HashMap<String, i64> = insert_pending(&pool, &payments)
            .await
            .unwrap()
            .into_iter()
            .map(|row| (row.transaction_id, row.id))
            .collect();
        let answer = |transaction: &str, status, reason: Option<&str>| NewStatus {
            payment_id: ids[transaction],
            status,
            failure_reason: reason.map(str::to_owned),
        };
        // t3 was settled by a webhook first: its word stands.
        settle_pending(&pool, &[answer("t3", PaymentStatus::Failed, Some("webhook"))]).await.unwrap();

        let settled = settle_pending(
            &pool,
            &[
                answer("t1", PaymentStatus::Completed, None),
                answer("t2", PaymentStatus::Failed, Some("card declined")),
                answer("t3", PaymentStatus::Completed, None),
            ],
        )
        .await
        .unwrap();
        let by_id: HashMap<i64, PaymentRow> = settled.into_iter().map(|row| (row.id, row)).collect();
        assert_eq!(by_id.len(), 2);
        assert_eq!(by_id[&ids["t1"]].status, "completed");
        assert_eq!(by_id[&ids["t2"]].status, "failed");
        assert_eq!(by_id[&ids["t2"]].failure_reason.as_deref(), Some("card declined"));
        let t3 = find_by_ids(&pool, &[ids["t3"]]).await.unwrap();
        assert_eq!((t3[0].status.as_str(), t3[0].failure_reason.as_deref()), ("failed", Some("webhook")));
    }
}
