//! The `notifications` table: the record of every message, and the sender's queue (due
//! PENDING rows, ordered by `next_attempt_at`).

use chrono::{DateTime, Utc};
use platform::api::notifications::{Channel, Notification, NotificationStatus, TemplateName};
use platform::db::{EpochMillis, Pool, RowsAffected, Transaction};
use platform::on_db;
use sqlx::QueryBuilder;

use crate::domain::batch::StoredKeys;
use crate::domain::AcceptedNotification;
use platform::extract::IdempotencyKey;

const COLUMNS: &str =
    "id, order_id, channel, recipient, template, subject, body, status, attempts, error, created_at, sent_at";

#[derive(Debug, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub order_id: i64,
    pub channel: String,
    pub recipient: String,
    pub template: String,
    pub subject: Option<String>,
    pub body: String,
    pub status: String,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = anyhow::Error;

    fn try_from(row: NotificationRow) -> anyhow::Result<Notification> {
        Ok(Notification {
            id: row.id,
            order_id: row.order_id,
            channel: Channel::parse(&row.channel)
                .ok_or_else(|| anyhow::anyhow!("notification {}: unknown channel {:?}", row.id, row.channel))?,
            recipient: row.recipient,
            template: TemplateName::parse(&row.template)
                .ok_or_else(|| anyhow::anyhow!("notification {}: unknown template {:?}", row.id, row.template))?,
            subject: row.subject,
            body: row.body,
            status: NotificationStatus::parse(&row.status)
                .ok_or_else(|| anyhow::anyhow!("notification {}: unknown status {:?}", row.id, row.status))?,
            attempts: row.attempts,
            error: row.error,
            created_at: row.created_at,
            sent_at: row.sent_at,
        })
    }
}

/// Stores an accepted notification as PENDING and due now. `None` when the idempotency key
/// is already taken: the caller then answers with the row that holds it.
#[tracing::instrument(skip_all, fields(order_id = new.order_id, channel = new.channel.as_str()))]
pub async fn insert(
    pool: &Pool,
    new: &AcceptedNotification,
    idempotency_key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<NotificationRow>> {
    let sql = format!(
        "INSERT INTO notifications
            (order_id, channel, recipient, template, subject, body, status, attempts,
             idempotency_key, next_attempt_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', 0, $7, $8, $9)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING {COLUMNS}"
    );
    on_db!(pool, |e| sqlx::query_as(&sql)
        .bind(new.order_id)
        .bind(new.channel.as_str())
        .bind(&new.recipient)
        .bind(new.template.as_str())
        .bind(&new.message.subject)
        .bind(&new.message.body)
        .bind(idempotency_key.map(IdempotencyKey::as_str))
        .bind(EpochMillis(now.timestamp_millis()))
        .bind(now)
        .fetch_optional(e)
        .await)
}

/// SQLite's bound on the parameters of one statement (`SQLITE_MAX_VARIABLE_NUMBER`, 32,766
/// since 3.32; the bundled library is 3.46), well under PostgreSQL's 65,535.
const MAX_BOUND_PARAMETERS: usize = 32_766;
/// Parameters bound per row by `insert_many`.
const PARAMETERS_PER_ROW: usize = 9;

/// Stores many accepted notifications as PENDING and due now, in one transaction, and finds
/// the notifications already stored under the keys that were taken. Every key must be
/// distinct (`domain::batch::plan` sees to it).
///
/// Every statement is a round trip (to the single SQLite writer's thread, see BENCHMARKS.md, or
/// to the server), so a thousand rows go in as one multi-row `INSERT … ON CONFLICT DO
/// NOTHING RETURNING` (split only where the parameter bound demands), and the
/// duplicates are looked up with one `IN (…)` query: four round trips with BEGIN and COMMIT,
/// instead of two thousand.
#[tracing::instrument(skip_all, fields(rows = rows.len()))]
pub async fn insert_many(
    pool: &Pool,
    rows: &[(&IdempotencyKey, &AcceptedNotification)],
    now: DateTime<Utc>,
) -> sqlx::Result<StoredKeys> {
    let mut tx = pool.begin().await?;
    let mut stored = StoredKeys::default();
    for chunk in rows.chunks(MAX_BOUND_PARAMETERS / PARAMETERS_PER_ROW) {
        stored.inserted.extend(insert_chunk(&mut tx, chunk, now).await?);
    }
    let taken: Vec<&str> =
        rows.iter().map(|(key, _)| key.as_str()).filter(|key| !stored.inserted.contains_key(*key)).collect();
    for chunk in taken.chunks(MAX_BOUND_PARAMETERS) {
        stored.existing.extend(ids_by_idempotency_key(&mut tx, chunk).await?);
    }
    tx.commit().await?;
    Ok(stored)
}

/// One multi-row insert; returns the id of each row stored, by key (RETURNING's order is
/// unspecified, hence the key). A taken key stores nothing and returns nothing.
async fn insert_chunk(
    tx: &mut Transaction,
    rows: &[(&IdempotencyKey, &AcceptedNotification)],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<(String, i64)>> {
    on_db!(tx, |e| {
        let mut query = QueryBuilder::new(
            "INSERT INTO notifications
                (order_id, channel, recipient, template, subject, body, status, attempts,
                 idempotency_key, next_attempt_at, created_at) ",
        );
        query.push_values(rows, |mut row, (key, new)| {
            row.push_bind(new.order_id)
                .push_bind(new.channel.as_str())
                .push_bind(&new.recipient)
                .push_bind(new.template.as_str())
                .push_bind(&new.message.subject)
                .push_bind(&new.message.body)
                .push("'PENDING'")
                .push("0")
                .push_bind(key.as_str())
                .push_bind(EpochMillis(now.timestamp_millis()))
                .push_bind(now);
        });
        query.push(" ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key, id");
        // Not kept in the connection's statement cache: batches come in every size, and a
        // prepared thousand-row statement is large.
        query.build_query_as().persistent(false).fetch_all(e).await
    })
}

/// The ids of the notifications stored under `keys`, by key.
async fn ids_by_idempotency_key(tx: &mut Transaction, keys: &[&str]) -> sqlx::Result<Vec<(String, i64)>> {
    on_db!(tx, |e| {
        let mut query = QueryBuilder::new("SELECT idempotency_key, id FROM notifications WHERE idempotency_key IN (");
        let mut list = query.separated(", ");
        for key in keys {
            list.push_bind(*key);
        }
        query.push(")");
        query.build_query_as().persistent(false).fetch_all(e).await
    })
}

#[tracing::instrument(skip_all)]
pub async fn find_by_idempotency_key(pool: &Pool, key: &IdempotencyKey) -> sqlx::Result<Option<NotificationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE idempotency_key = $1");
    on_db!(pool, |e| sqlx::query_as(&sql).bind(key.as_str()).fetch_optional(e).await)
}

#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn find(pool: &Pool, id: i64) -> sqlx::Result<Option<NotificationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE id = $1");
    on_db!(pool, |e| sqlx::query_as(&sql).bind(id).fetch_optional(e).await)
}

/// All notifications about one order, oldest first.
#[tracing::instrument(skip_all, fields(order_id))]
pub async fn list_by_order(pool: &Pool, order_id: i64) -> sqlx::Result<Vec<NotificationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM notifications WHERE order_id = $1 ORDER BY id");
    on_db!(pool, |e| sqlx::query_as(&sql).bind(order_id).fetch_all(e).await)
}

/// Optional filters of the list endpoint; `None` matches everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    pub status: Option<NotificationStatus>,
    pub channel: Option<Channel>,
}

/// One page of notifications, newest first.
#[tracing::instrument(skip_all, fields(skip, limit))]
pub async fn list(pool: &Pool, filter: ListFilter, skip: i64, limit: i64) -> sqlx::Result<Vec<NotificationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR channel = $2)
         ORDER BY id DESC LIMIT $3 OFFSET $4"
    );
    on_db!(pool, |e| sqlx::query_as(&sql)
        .bind(filter.status.map(NotificationStatus::as_str))
        .bind(filter.channel.map(Channel::as_str))
        .bind(limit)
        .bind(skip)
        .fetch_all(e)
        .await)
}

#[tracing::instrument(skip_all)]
pub async fn count(pool: &Pool, filter: ListFilter) -> sqlx::Result<i64> {
    on_db!(pool, |e| sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications
         WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR channel = $2)",
    )
    .bind(filter.status.map(NotificationStatus::as_str))
    .bind(filter.channel.map(Channel::as_str))
    .fetch_one(e)
    .await)
}

/// How many notifications are in each delivery status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCounts {
    /// The depth of the sender's queue: PENDING rows, due now or waiting for a retry.
    pub pending: i64,
    pub sent: i64,
    pub failed: i64,
}

#[tracing::instrument(skip_all)]
pub async fn count_by_status(pool: &Pool) -> sqlx::Result<StatusCounts> {
    let groups: Vec<(String, i64)> =
        on_db!(pool, |e| sqlx::query_as("SELECT status, COUNT(*) FROM notifications GROUP BY status")
            .fetch_all(e)
            .await)?;
    let count_of = |status: NotificationStatus| groups.iter().find(|g| g.0 == status.as_str()).map_or(0, |g| g.1);
    Ok(StatusCounts {
        pending: count_of(NotificationStatus::Pending),
        sent: count_of(NotificationStatus::Sent),
        failed: count_of(NotificationStatus::Failed),
    })
}

/// A notification the sender has taken on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedNotification {
    pub id: i64,
    pub order_id: i64,
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    pub body: String,
    /// Including the attempt about to be made.
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
}

/// Takes the oldest due PENDING notification: counts the attempt and pushes its
/// `next_attempt_at` to `lease_end` in the same statement, so no other round takes it
/// meanwhile and, if this process dies mid-send, it becomes due again by itself. On
/// PostgreSQL, senders of several replicas claim side by side: each skips the row another's
/// claim has locked.
#[tracing::instrument(skip_all)]
pub async fn claim_due(
    pool: &Pool,
    now: EpochMillis,
    lease_end: EpochMillis,
) -> sqlx::Result<Option<ClaimedNotification>> {
    on_db!(pool,
        sqlite: CLAIM_DUE_SQL.replace("{lock}", ""),
        postgres: CLAIM_DUE_SQL.replace("{lock}", "FOR UPDATE SKIP LOCKED"),
        |e, sql| sqlx::query_as(&sql).bind(lease_end).bind(now).fetch_optional(e).await)
}

const CLAIM_DUE_SQL: &str = "UPDATE notifications SET next_attempt_at = $1, attempts = attempts + 1
     WHERE id = (
        SELECT id FROM notifications
        WHERE status = 'PENDING' AND next_attempt_at <= $2
        ORDER BY next_attempt_at, id LIMIT 1 {lock})
     RETURNING id, order_id, channel, recipient, subject, body, attempts, created_at";

#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn mark_sent(pool: &Pool, id: i64, sent_at: DateTime<Utc>) -> sqlx::Result<()> {
    on_db!(pool, |e| sqlx::query(
        "UPDATE notifications SET status = 'SENT', sent_at = $1, error = NULL WHERE id = $2 AND status = 'PENDING'",
    )
    .bind(sent_at)
    .bind(id)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Gives back a claimed notification that was not attempted: due again at `due_at`, and the
/// attempt its claim counted is uncounted.
#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn hand_back(pool: &Pool, id: i64, due_at: EpochMillis) -> sqlx::Result<()> {
    on_db!(pool, |e| sqlx::query(
        "UPDATE notifications SET next_attempt_at = $1, attempts = attempts - 1 WHERE id = $2 AND status = 'PENDING'"
    )
    .bind(due_at)
    .bind(id)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

/// Records a failed attempt; the notification is tried again at `next_attempt_at_ms`.
#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn reschedule(pool: &Pool, id: i64, next_attempt_at: EpochMillis, error: &str) -> sqlx::Result<()> {
    on_db!(pool, |e| sqlx::query(
        "UPDATE notifications SET next_attempt_at = $1, error = $2 WHERE id = $3 AND status = 'PENDING'"
    )
    .bind(next_attempt_at)
    .bind(error)
    .bind(id)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn mark_failed(pool: &Pool, id: i64, error: &str) -> sqlx::Result<()> {
    on_db!(pool, |e| sqlx::query(
        "UPDATE notifications SET status = 'FAILED', error = $1 WHERE id = $2 AND status = 'PENDING'"
    )
    .bind(error)
    .bind(id)
    .execute(e)
    .await
    .rows_affected())?;
    Ok(())
}
