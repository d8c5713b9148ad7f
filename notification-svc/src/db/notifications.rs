//! The `notifications` table: the record of every message, and the sender's queue (due
//! PENDING rows, ordered by `next_attempt_at`).

use chrono::{DateTime, Utc};
use platform::api::notifications::{Channel, Notification, NotificationStats, NotificationStatus, TemplateName};
use sqlx::SqlitePool;

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
    pool: &SqlitePool,
    new: &AcceptedNotification,
    idempotency_key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(&format!(
        "INSERT INTO notifications
            (order_id, channel, recipient, template, subject, body, status, attempts,
             idempotency_key, next_attempt_at, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'PENDING', 0, ?7, ?8, ?9)
         ON CONFLICT (idempotency_key) DO NOTHING
         RETURNING {COLUMNS}"
    ))
    .bind(new.order_id)
    .bind(new.channel.as_str())
    .bind(&new.recipient)
    .bind(new.template.as_str())
    .bind(&new.message.subject)
    .bind(&new.message.body)
    .bind(idempotency_key.map(IdempotencyKey::as_str))
    .bind(now.timestamp_millis())
    .bind(now)
    .fetch_optional(pool)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn find_by_idempotency_key(pool: &SqlitePool, key: &IdempotencyKey) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE idempotency_key = ?1"))
        .bind(key.as_str())
        .fetch_optional(pool)
        .await
}

#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn find(pool: &SqlitePool, id: i64) -> sqlx::Result<Option<NotificationRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE id = ?1")).bind(id).fetch_optional(pool).await
}

/// All notifications about one order, oldest first.
#[tracing::instrument(skip_all, fields(order_id))]
pub async fn list_by_order(pool: &SqlitePool, order_id: i64) -> sqlx::Result<Vec<NotificationRow>> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM notifications WHERE order_id = ?1 ORDER BY id"))
        .bind(order_id)
        .fetch_all(pool)
        .await
}

/// Optional filters of the list endpoint; `None` matches everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    pub status: Option<NotificationStatus>,
    pub channel: Option<Channel>,
}

/// One page of notifications, newest first.
#[tracing::instrument(skip_all, fields(skip, limit))]
pub async fn list(pool: &SqlitePool, filter: ListFilter, skip: i64, limit: i64) -> sqlx::Result<Vec<NotificationRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM notifications
         WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR channel = ?2)
         ORDER BY id DESC LIMIT ?3 OFFSET ?4"
    ))
    .bind(filter.status.map(NotificationStatus::as_str))
    .bind(filter.channel.map(Channel::as_str))
    .bind(limit)
    .bind(skip)
    .fetch_all(pool)
    .await
}

#[tracing::instrument(skip_all)]
pub async fn count(pool: &SqlitePool, filter: ListFilter) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM notifications
         WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR channel = ?2)",
    )
    .bind(filter.status.map(NotificationStatus::as_str))
    .bind(filter.channel.map(Channel::as_str))
    .fetch_one(pool)
    .await
}

/// How many notifications are in each delivery status.
#[tracing::instrument(skip_all)]
pub async fn stats(pool: &SqlitePool) -> sqlx::Result<NotificationStats> {
    let groups: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM notifications GROUP BY status").fetch_all(pool).await?;
    let count_of = |status: NotificationStatus| groups.iter().find(|g| g.0 == status.as_str()).map_or(0, |g| g.1);
    Ok(NotificationStats {
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
/// meanwhile and, if this process dies mid-send, it becomes due again by itself.
#[tracing::instrument(skip_all)]
pub async fn claim_due(pool: &SqlitePool, now_ms: i64, lease_end_ms: i64) -> sqlx::Result<Option<ClaimedNotification>> {
    sqlx::query_as(
        "UPDATE notifications SET next_attempt_at = ?1, attempts = attempts + 1
         WHERE id = (
            SELECT id FROM notifications
            WHERE status = 'PENDING' AND next_attempt_at <= ?2
            ORDER BY next_attempt_at, id LIMIT 1)
         RETURNING id, order_id, channel, recipient, subject, body, attempts, created_at",
    )
    .bind(lease_end_ms)
    .bind(now_ms)
    .fetch_optional(pool)
    .await
}

#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn mark_sent(pool: &SqlitePool, id: i64, sent_at: DateTime<Utc>) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE notifications SET status = 'SENT', sent_at = ?1, error = NULL WHERE id = ?2 AND status = 'PENDING'",
    )
    .bind(sent_at)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt; the notification is tried again at `next_attempt_at_ms`.
#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn reschedule(pool: &SqlitePool, id: i64, next_attempt_at_ms: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE notifications SET next_attempt_at = ?1, error = ?2 WHERE id = ?3 AND status = 'PENDING'")
        .bind(next_attempt_at_ms)
        .bind(error)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all, fields(notification_id = id))]
pub async fn mark_failed(pool: &SqlitePool, id: i64, error: &str) -> sqlx::Result<()> {
    sqlx::query("UPDATE notifications SET status = 'FAILED', error = ?1 WHERE id = ?2 AND status = 'PENDING'")
        .bind(error)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}
