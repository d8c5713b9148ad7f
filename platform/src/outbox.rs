//! The transactional outbox: how a service makes a cross-service effect (an e-mail, a refund,
//! a webhook) happen exactly once even when the peer is down, slow or restarting.
//!
//! The effect is written as a row of the service's own `outbox` table in the same transaction
//! as the state change that causes it, so it exists if and only if that change committed.
//! `OutboxWorker` then delivers due rows in batches, concurrently, retrying with exponential
//! backoff. Each row carries an idempotency key that the peer uses to recognise a retry, so a
//! delivery that succeeded but whose answer was lost is not applied twice.
//!
//! A claimed row has its `next_attempt_at` pushed one lease into the future: if the process
//! dies mid-delivery, the row simply becomes due again when the lease runs out, and any
//! replica takes it. On PostgreSQL, where replicas claim side by side, the claim skips rows
//! another replica's claim has locked (`FOR UPDATE SKIP LOCKED`), so two never take one row.
//!
//! Every service's migrations create the table with the columns used here:
//! `id, kind, payload, idempotency_key UNIQUE, request_id, traceparent, attempts,
//! next_attempt_at, last_error, created_at, delivered_at, dead_at`. A row keeps the request id
//! and the trace of the request that wrote it, and its delivery carries them on.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use sqlx::QueryBuilder;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::{now_millis, EpochMillis, Exec, Pool, RowsAffected, Transaction};
use crate::on_db;
use crate::telemetry::RequestContext;
use crate::worker::{run_until_stopped, Backoff, Outcome};
use tracing::Instrument;

/// One effect waiting to be delivered.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub idempotency_key: String,
    pub request_id: Option<String>,
    pub traceparent: Option<String>,
    pub attempts: i64,
}

impl OutboxEntry {
    pub fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, DeliveryError> {
        serde_json::from_str(&self.payload)
            .map_err(|err| DeliveryError::Permanent(format!("unreadable outbox payload: {err}")))
    }
}

/// Why a delivery did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// Worth trying again later: the peer was unreachable, timed out or failed (5xx).
    Retry(String),
    /// Will never succeed as it is: the peer refused it (4xx). Kept as a dead row, visible.
    Permanent(String),
}

/// Delivers one kind of effect; implemented by each service for its peers.
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, entry: &OutboxEntry) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// Handle for writing to the outbox and waking its worker.
#[derive(Clone, Default)]
pub struct Outbox {
    wake: Arc<Notify>,
}

impl Outbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an effect inside the caller's transaction, due at once. A second row with the
    /// same key is ignored, so enqueueing the same effect twice is harmless.
    pub async fn enqueue(
        conn: impl Exec<'_>,
        kind: &str,
        payload: &impl Serialize,
        idempotency_key: &str,
    ) -> sqlx::Result<()> {
        Self::enqueue_at(conn, kind, payload, idempotency_key, now_millis()).await
    }

    /// Like `enqueue`, but due only at `due_at` (milliseconds since the epoch): for an effect
    /// the caller is about to attempt itself, kept as a fallback in case it never finishes.
    pub async fn enqueue_at(
        conn: impl Exec<'_>,
        kind: &str,
        payload: &impl Serialize,
        idempotency_key: &str,
        due_at: i64,
    ) -> sqlx::Result<()> {
        let payload = serde_json::to_string(payload).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let request_id = crate::telemetry::current_request_id();
        let traceparent = crate::telemetry::current_traceparent();
        on_db!(conn, |e| sqlx::query(
            "INSERT INTO outbox (kind, payload, idempotency_key, request_id, traceparent, attempts, next_attempt_at,
                                 created_at)
             VALUES ($1, $2, $3, $4, $7, 0, $5, $6)
             ON CONFLICT (idempotency_key) DO NOTHING",
        )
        .bind(kind)
        .bind(&payload)
        .bind(idempotency_key)
        .bind(&request_id)
        .bind(EpochMillis(due_at))
        .bind(chrono::Utc::now())
        .bind(&traceparent)
        .execute(e)
        .await
        .rows_affected())?;
        Ok(())
    }

    /// Tells the worker there is new work; call after the enqueueing transaction committed.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// Counts of the outbox, for tests and `/ready`-style introspection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutboxCounts {
    pub waiting: i64,
    pub delivered: i64,
    pub dead: i64,
}

pub async fn counts(pool: &Pool) -> sqlx::Result<OutboxCounts> {
    let (waiting, delivered, dead): (i64, i64, i64) = on_db!(pool, |e| sqlx::query_as(
        "SELECT
            COUNT(*) FILTER (WHERE delivered_at IS NULL AND dead_at IS NULL),
            COUNT(*) FILTER (WHERE delivered_at IS NOT NULL),
            COUNT(*) FILTER (WHERE dead_at IS NOT NULL)
         FROM outbox",
    )
    .fetch_one(e)
    .await)?;
    Ok(OutboxCounts { waiting, delivered, dead })
}

#[derive(Debug, Clone, Copy)]
pub struct OutboxSettings {
    /// Rows claimed and delivered concurrently per round.
    pub batch_size: i64,
    /// How long a claimed row stays invisible to other rounds before it is due again.
    pub lease: Duration,
    pub backoff: Backoff,
    /// How often to look for due retries when nothing wakes the worker.
    pub idle_poll: Duration,
}

impl OutboxSettings {
    /// The defaults, with what the environment sets: `OUTBOX_RETRY_BASE_MS` (500), the first
    /// retry delay; `OUTBOX_BATCH_SIZE` (64), the rows delivered concurrently;
    /// `OUTBOX_LEASE_SECS` (60), how long a replica's claim on a row holds — how soon a
    /// replica that died mid-delivery has its rows taken over.
    pub fn from_env() -> anyhow::Result<OutboxSettings> {
        use crate::config::env_or;
        let mut settings = OutboxSettings::default();
        settings.backoff.base = Duration::from_millis(env_or("OUTBOX_RETRY_BASE_MS", 500u64)?);
        settings.batch_size = env_or("OUTBOX_BATCH_SIZE", settings.batch_size)?;
        anyhow::ensure!(settings.batch_size > 0, "OUTBOX_BATCH_SIZE must be positive");
        settings.lease = Duration::from_secs(env_or("OUTBOX_LEASE_SECS", 60u64)?);
        anyhow::ensure!(!settings.lease.is_zero(), "OUTBOX_LEASE_SECS must be positive");
        Ok(settings)
    }
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings {
            batch_size: 64,
            lease: Duration::from_secs(60),
            backoff: Backoff { base: Duration::from_millis(500), max: Duration::from_secs(300) },
            idle_poll: Duration::from_millis(500),
        }
    }
}

pub struct OutboxWorker<D> {
    /// The service whose outbox it is, as the metrics name it.
    service: &'static str,
    pool: Pool,
    deliver: Arc<D>,
    settings: OutboxSettings,
}

impl<D: Deliver> OutboxWorker<D> {
    pub fn new(service: &'static str, pool: Pool, deliver: D, settings: OutboxSettings) -> Self {
        OutboxWorker { service, pool, deliver: Arc::new(deliver), settings }
    }

    /// Claims the due rows (up to a batch), delivers them concurrently and records each
    /// outcome. `Idle` when nothing was due.
    pub async fn try_execute_task(&self) -> anyhow::Result<Outcome> {
        let now = now_millis();
        let lease_end = now + self.settings.lease.as_millis() as i64;
        let entries: Vec<OutboxEntry> = on_db!(&self.pool,
            sqlite: CLAIM_SQL.replace("{lock}", ""),
            postgres: CLAIM_SQL.replace("{lock}", "FOR UPDATE SKIP LOCKED"),
            |e, sql| sqlx::query_as(&sql)
                .bind(EpochMillis(lease_end))
                .bind(EpochMillis(now))
                .bind(self.settings.batch_size)
                .fetch_all(e)
                .await)?;
        if entries.is_empty() {
            return Ok(Outcome::Idle);
        }

        let results = futures::future::join_all(entries.iter().map(|entry| {
            let deliver = self.deliver.clone();
            let context = RequestContext::stored(entry.request_id.clone(), entry.traceparent.as_deref());
            let span = tracing::info_span!("outbox", kind = %entry.kind, outbox_id = entry.id,
                request_id = entry.request_id.as_deref().unwrap_or_default(), trace_id = context.trace_id());
            crate::telemetry::within(context, async move { deliver.deliver(entry).await }).instrument(span)
        }))
        .await;

        let finished_at = chrono::Utc::now();
        let mut delivered = Vec::with_capacity(entries.len());
        let mut failed = Vec::new();
        for (entry, result) in entries.iter().zip(results) {
            let outcome = match &result {
                Ok(()) => "delivered",
                Err(DeliveryError::Retry(_)) => "retry",
                Err(DeliveryError::Permanent(_)) => "dead",
            };
            metrics::counter!("outbox_delivery_attempts_total", "service" => self.service, "kind" => entry.kind.clone(),
                "outcome" => outcome)
            .increment(1);
            match result {
                Ok(()) => delivered.push(entry.id),
                Err(error) => failed.push((entry, error)),
            }
        }
        // Each statement is a round trip to the connection's thread: the delivered rows take
        // one between them, and a transaction is opened only when there are several statements.
        if failed.is_empty() {
            mark_delivered(&self.pool, &delivered, finished_at).await?;
        } else {
            let mut tx = self.pool.begin().await?;
            mark_delivered(&mut tx, &delivered, finished_at).await?;
            self.record_failures(&mut tx, failed, finished_at).await?;
            tx.commit().await?;
        }
        Ok(Outcome::Worked)
    }

    /// Writes the failed deliveries of a round, one statement each.
    async fn record_failures(
        &self,
        tx: &mut Transaction,
        failed: Vec<(&OutboxEntry, DeliveryError)>,
        finished_at: chrono::DateTime<chrono::Utc>,
    ) -> sqlx::Result<()> {
        for (entry, error) in failed {
            match error {
                DeliveryError::Retry(reason) => {
                    let delay = self.settings.backoff.delay(entry.attempts);
                    tracing::warn!(outbox_id = entry.id, kind = %entry.kind, attempts = entry.attempts,
                        retry_in_ms = delay.as_millis() as u64, %reason, "delivery failed; will retry");
                    let due_at = EpochMillis(now_millis() + delay.as_millis() as i64);
                    on_db!(&mut *tx, |e| sqlx::query(
                        "UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3"
                    )
                    .bind(due_at)
                    .bind(&reason)
                    .bind(entry.id)
                    .execute(e)
                    .await
                    .rows_affected())?;
                }
                DeliveryError::Permanent(reason) => {
                    tracing::error!(outbox_id = entry.id, kind = %entry.kind, %reason,
                        "delivery refused by the peer; kept as a dead row");
                    on_db!(&mut *tx, |e| sqlx::query("UPDATE outbox SET dead_at = $1, last_error = $2 WHERE id = $3")
                        .bind(finished_at)
                        .bind(&reason)
                        .bind(entry.id)
                        .execute(e)
                        .await
                        .rows_affected())?;
                }
            }
        }
        Ok(())
    }

    /// Runs the worker in the background until `stop` is cancelled.
    pub fn spawn(self, wake: Arc<Notify>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let idle_poll = self.settings.idle_poll;
        let worker = Arc::new(self);
        tokio::spawn(async move {
            run_until_stopped(
                "outbox",
                || {
                    let worker = worker.clone();
                    async move { worker.try_execute_task().await }
                },
                wake,
                idle_poll,
                stop,
            )
            .await
        })
    }
}

/// Claims up to `$3` due rows for one lease (`$1`, the lease's end; `$2`, now). `{lock}` is
/// where PostgreSQL's claim skips the rows another replica is claiming; SQLite has one writer,
/// so there is no one to skip.
const CLAIM_SQL: &str = "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1
     WHERE id IN (
        SELECT id FROM outbox
        WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $2
        ORDER BY next_attempt_at, id LIMIT $3 {lock})
     RETURNING id, kind, payload, idempotency_key, request_id, traceparent, attempts";

/// Marks the rows `ids` delivered at `at`, in one statement (none when `ids` is empty). At
/// most a batch of ids, so well within either backend's limit on bound parameters.
async fn mark_delivered(conn: impl Exec<'_>, ids: &[i64], at: chrono::DateTime<chrono::Utc>) -> sqlx::Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    on_db!(conn, |e| {
        let mut query = QueryBuilder::new("UPDATE outbox SET delivered_at = ");
        query.push_bind(at).push(", last_error = NULL WHERE id IN (");
        let mut separated = query.separated(", ");
        for id in ids {
            separated.push_bind(*id);
        }
        separated.push_unseparated(")");
        query.build().execute(e).await.rows_affected()
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Succeeds, fails for now, or refuses, by the row's kind.
    struct ByKind;

    impl Deliver for ByKind {
        async fn deliver(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
            match entry.kind.as_str() {
                "ok" => Ok(()),
                "retry" => Err(DeliveryError::Retry("down".into())),
                _ => Err(DeliveryError::Permanent("refused".into())),
            }
        }
    }

    async fn pool_with(kinds: &[&str]) -> Pool {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
        sqlx::query(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL,
                idempotency_key TEXT NOT NULL UNIQUE, request_id TEXT, traceparent TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL, last_error TEXT, created_at TEXT NOT NULL,
                delivered_at TEXT, dead_at TEXT)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let pool = Pool::Sqlite(pool);
        for (i, kind) in kinds.iter().enumerate() {
            Outbox::enqueue(&pool, kind, &i, &format!("key-{i}")).await.unwrap();
        }
        pool
    }

    async fn outcomes(pool: &Pool) -> Vec<(String, bool, bool, Option<String>)> {
        on_db!(pool, |e| sqlx::query_as(
            "SELECT kind, delivered_at IS NOT NULL, dead_at IS NOT NULL, last_error FROM outbox ORDER BY id"
        )
        .fetch_all(e)
        .await)
        .unwrap()
    }

    #[tokio::test]
    async fn each_outcome_is_recorded_on_its_own_row() {
        let pool = pool_with(&["ok", "retry", "ok", "dead", "ok"]).await;
        let worker = OutboxWorker::new("test", pool.clone(), ByKind, OutboxSettings::default());
        assert_eq!(worker.try_execute_task().await.unwrap(), Outcome::Worked);
        let row = |kind: &str, delivered, dead, error: Option<&str>| {
            (kind.to_owned(), delivered, dead, error.map(str::to_owned))
        };
        assert_eq!(
            outcomes(&pool).await,
            vec![
                row("ok", true, false, None),
                row("retry", false, false, Some("down")),
                row("ok", true, false, None),
                row("dead", false, true, Some("refused")),
                row("ok", true, false, None),
            ]
        );
        assert_eq!(counts(&pool).await.unwrap(), OutboxCounts { waiting: 1, delivered: 3, dead: 1 });
    }

    /// Rounds that need one statement, so run without a transaction.
    #[tokio::test]
    async fn a_round_of_one_statement_is_recorded_too() {
        let cases: [(&[&str], OutboxCounts); 3] = [
            (&["ok", "ok"], OutboxCounts { waiting: 0, delivered: 2, dead: 0 }),
            (&["retry"], OutboxCounts { waiting: 1, delivered: 0, dead: 0 }),
            (&["dead"], OutboxCounts { waiting: 0, delivered: 0, dead: 1 }),
        ];
        for (kinds, expected) in cases {
            let pool = pool_with(kinds).await;
            let worker = OutboxWorker::new("test", pool.clone(), ByKind, OutboxSettings::default());
            assert_eq!(worker.try_execute_task().await.unwrap(), Outcome::Worked);
            assert_eq!(counts(&pool).await.unwrap(), expected, "{kinds:?}");
        }
    }
}
