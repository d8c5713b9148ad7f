//! Queries on `payments` (each read joins its refund, so a payment is always returned whole).

use chrono::{DateTime, Utc};
use platform::api::payments::{Payment, PaymentStatus, Refund};
use platform::db::{EpochMillis, Exec, Pool, RowsAffected};
use platform::on_db;
use platform::{Currency, Yen};
use sqlx::{Postgres, QueryBuilder, Sqlite};

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
/// since 3.32 (the bundled library is newer), and well under PostgreSQL's 65,535. Longer lists
/// are split over several statements.
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
/// One multi-row statement rather than one per payment: every statement is a round trip (to
/// the writer connection's thread, or to the server), and that, not the database, is what a
/// batch would pay for. Only a slice too long for one statement takes several, and then one
/// transaction, so they still commit once.
#[tracing::instrument(skip_all, fields(payments = payments.len()))]
pub async fn insert_pending(pool: &Pool, payments: &[NewPendingPayment<'_>]) -> sqlx::Result<Vec<PaymentRow>> {
    insert_pending_in_chunks(pool, payments, MAX_BIND_PARAMS / INSERT_PARAMS_PER_ROW).await
}

async fn insert_pending_in_chunks(
    pool: &Pool,
    payments: &[NewPendingPayment<'_>],
    rows_per_statement: usize,
) -> sqlx::Result<Vec<PaymentRow>> {
    if payments.is_empty() {
        return Ok(Vec::new());
    }
    let now = Utc::now();
    if payments.len() <= rows_per_statement {
        return insert_pending_chunk(pool, payments, now).await;
    }
    let mut tx = pool.begin().await?;
    let mut inserted = Vec::with_capacity(payments.len());
    for chunk in payments.chunks(rows_per_statement) {
        inserted.extend(insert_pending_chunk(&mut tx, chunk, now).await?);
    }
    tx.commit().await?;
    Ok(inserted)
}

async fn insert_pending_chunk(
    conn: impl Exec<'_>,
    payments: &[NewPendingPayment<'_>],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<PaymentRow>> {
    on_db!(conn, |e| {
        let mut query = QueryBuilder::new(
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
        query.build_query_as().persistent(worth_caching(payments.len())).fetch_all(e).await
    })
}

#[tracing::instrument(skip_all, fields(payment_id = id))]
pub async fn find_by_id(pool: &Pool, id: i64) -> sqlx::Result<Option<PaymentRow>> {
    let sql = format!("{SELECT_PAYMENT} WHERE p.id = $1");
    on_db!(pool, |e| sqlx::query_as(&sql).bind(id).fetch_optional(e).await)
}

#[tracing::instrument(skip_all, fields(order_id))]
pub async fn find_by_order(pool: &Pool, order_id: i64) -> sqlx::Result<Option<PaymentRow>> {
    let sql = format!("{SELECT_PAYMENT} WHERE p.order_id = $1");
    on_db!(pool, |e| sqlx::query_as(&sql).bind(order_id).fetch_optional(e).await)
}

/// The payments stored under these idempotency keys (those that exist), in no particular order.
#[tracing::instrument(skip_all, fields(keys = keys.len()))]
pub async fn find_by_idempotency_keys(pool: &Pool, keys: &[&str]) -> sqlx::Result<Vec<PaymentRow>> {
    find_where_in(pool, "p.idempotency_key", keys).await
}

/// The payments with these ids (those that exist), in no particular order.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn find_by_ids(pool: &Pool, ids: &[i64]) -> sqlx::Result<Vec<PaymentRow>> {
    find_where_in(pool, "p.id", ids).await
}

/// `SELECT_PAYMENT WHERE column IN (values)`, one statement per `MAX_BIND_PARAMS` values. Reads
/// need no transaction: the rows asked for are never deleted and their keys never change.
async fn find_where_in<'v, T>(pool: &Pool, column: &str, values: &'v [T]) -> sqlx::Result<Vec<PaymentRow>>
where
    T: Copy
        + Send
        + sqlx::Encode<'v, Sqlite>
        + sqlx::Type<Sqlite>
        + sqlx::Encode<'v, Postgres>
        + sqlx::Type<Postgres>
        + 'v,
{
    let mut rows = Vec::new();
    for chunk in values.chunks(MAX_BIND_PARAMS) {
        let found: Vec<PaymentRow> = on_db!(pool, |e| {
            let mut query = QueryBuilder::new(format!("{SELECT_PAYMENT} WHERE {column} IN ("));
            let mut list = query.separated(", ");
            for value in chunk {
                list.push_bind(*value);
            }
            query.push(")");
            query.build_query_as().persistent(worth_caching(chunk.len())).fetch_all(e).await
        })?;
        rows.extend(found);
    }
    Ok(rows)
}

#[tracing::instrument(skip_all, fields(transaction_id))]
pub async fn find_by_transaction(conn: impl Exec<'_>, transaction_id: &str) -> sqlx::Result<Option<PaymentRow>> {
    let sql = format!("{SELECT_PAYMENT} WHERE p.transaction_id = $1");
    on_db!(conn, |e| sqlx::query_as(&sql).bind(transaction_id).fetch_optional(e).await)
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
pub async fn settle_pending(pool: &Pool, answers: &[NewStatus]) -> sqlx::Result<Vec<PaymentRow>> {
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
    if let [statement] = statements.as_slice() {
        return settle_ids(pool, statement, now).await;
    }
    let mut tx = pool.begin().await?;
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
    conn: impl Exec<'_>,
    statement: &SettleStatement<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<PaymentRow>> {
    let request_id = platform::telemetry::current_request_id();
    let traceparent = platform::telemetry::current_traceparent();
    on_db!(conn, |e| {
        let mut query = QueryBuilder::new("UPDATE payments SET status = ");
        query.push_bind(statement.status.as_str()).push(", failure_reason = ").push_bind(statement.failure_reason);
        query.push(", updated_at = ").push_bind(now);
        query.push(", request_id = ").push_bind(&request_id);
        query.push(", traceparent = ").push_bind(&traceparent);
        query.push(" WHERE status = 'pending' AND id IN (");
        let mut list = query.separated(", ");
        for id in &statement.ids {
            list.push_bind(*id);
        }
        query.push(")").push(RETURNING_UNREFUNDED_PAYMENT);
        query.build_query_as().persistent(worth_caching(statement.ids.len())).fetch_all(e).await
    })
}

/// The pending payment of `transaction_id`, now settled: `(payment_id, order_id)`, or `None`
/// when there is no such pending payment.
///
/// It is the first statement of the webhook's transaction on purpose: a write takes
/// SQLite's write lock (PostgreSQL's row lock) up front, where a read-then-write could fail
/// to upgrade its snapshot (or decide on a row another replica is changing).
#[tracing::instrument(skip_all, fields(transaction_id, status = status.as_str()))]
pub async fn settle_pending_transaction(
    conn: impl Exec<'_>,
    transaction_id: &str,
    status: PaymentStatus,
    failure_reason: Option<&str>,
) -> sqlx::Result<Option<(i64, i64)>> {
    let request_id = platform::telemetry::current_request_id();
    let traceparent = platform::telemetry::current_traceparent();
    on_db!(conn, |e| sqlx::query_as(
        "UPDATE payments SET status = $1, failure_reason = $2, updated_at = $3, request_id = $5, traceparent = $6
         WHERE transaction_id = $4 AND status = 'pending'
         RETURNING id, order_id",
    )
    .bind(status.as_str())
    .bind(failure_reason)
    .bind(Utc::now())
    .bind(transaction_id)
    .bind(&request_id)
    .bind(&traceparent)
    .fetch_optional(e)
    .await)
}

/// Marks a completed payment refunded and returns its amount; `None` if it is not (or no
/// longer) completed. First statement of the refund transaction, for the reason above.
#[tracing::instrument(skip_all, fields(payment_id))]
pub async fn mark_refunded(conn: impl Exec<'_>, payment_id: i64) -> sqlx::Result<Option<i64>> {
    let request_id = platform::telemetry::current_request_id();
    let traceparent = platform::telemetry::current_traceparent();
    on_db!(conn, |e| sqlx::query_scalar(
        "UPDATE payments SET status = 'refunded', updated_at = $1, request_id = $3, traceparent = $4
         WHERE id = $2 AND status = 'completed'
         RETURNING amount",
    )
    .bind(Utc::now())
    .bind(payment_id)
    .bind(&request_id)
    .bind(&traceparent)
    .fetch_optional(e)
    .await)
}

/// A payment the sweep asks the gateway about.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OverduePayment {
    pub id: i64,
    pub transaction_id: String,
    pub amount: i64,
}

/// Claims up to `limit` payments pending since before `created_before` and not asked about
/// since `checked_before`, oldest first, by noting them asked about at `now`: those the sweep
/// asks the gateway about. Claiming is what lets several replicas sweep side by side — a
/// payment one has claimed is not due for another until `checked_before` passes it again
/// (PostgreSQL's claim also skips the rows another claim is locking right now).
#[tracing::instrument(skip_all)]
pub async fn claim_overdue(
    pool: &Pool,
    created_before: DateTime<Utc>,
    checked_before: EpochMillis,
    now: EpochMillis,
    limit: i64,
) -> sqlx::Result<Vec<OverduePayment>> {
    on_db!(pool,
        sqlite: CLAIM_OVERDUE_SQL.replace("{lock}", ""),
        postgres: CLAIM_OVERDUE_SQL.replace("{lock}", "FOR UPDATE SKIP LOCKED"),
        |e, sql| sqlx::query_as(&sql)
            .bind(created_before)
            .bind(checked_before)
            .bind(limit)
            .bind(now)
            .fetch_all(e)
            .await)
}

const CLAIM_OVERDUE_SQL: &str = "UPDATE payments SET checked_at = $4
     WHERE id IN (
        SELECT id FROM payments
        WHERE status = 'pending' AND created_at < $1 AND (checked_at IS NULL OR checked_at < $2)
        ORDER BY id LIMIT $3 {lock})
     RETURNING id, transaction_id, amount";

/// Makes the webhook that announced the payment's current status due again, as if it had not
/// been delivered: the gateway repeating an outcome may mean the Order Service never heard it.
/// `false` if the status was never announced (a payment still pending).
#[tracing::instrument(skip_all, fields(payment_id))]
pub async fn announce_again(conn: impl Exec<'_>, payment_id: i64, status: PaymentStatus) -> sqlx::Result<bool> {
    let key = format!("payment-{payment_id}-{}", status.as_str());
    let rearmed = on_db!(conn, |e| {
        sqlx::query(
        "UPDATE outbox SET delivered_at = NULL, dead_at = NULL, last_error = NULL, attempts = 0, next_attempt_at = $1
         WHERE idempotency_key = $2",
    )
    .bind(EpochMillis::now())
    .bind(&key)
    .execute(e)
    .await
    .rows_affected()
    })?;
    Ok(rearmed == 1)
}

/// How many payments are pending (awaiting the gateway's answer), for the metrics.
pub async fn count_pending(pool: &Pool) -> sqlx::Result<i64> {
    on_db!(pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM payments WHERE status = 'pending'").fetch_one(e).await)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use platform::db::Database;

    use super::*;

    async fn database() -> (tempfile::TempDir, Pool) {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::connect(&format!("sqlite://{}/x.db", dir.path().display()), 1).await.unwrap();
        platform::db::migrate(&db, &crate::MIGRATIONS).await.unwrap();
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
        let count: i64 =
            on_db!(&pool, |e| sqlx::query_scalar("SELECT COUNT(*) FROM payments").fetch_one(e).await).unwrap();
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
