//! Forgetting what is no longer needed, every minute: `Idempotency-Key`s past their 24 hours,
//! sign-in failure windows that have closed, sessions that have ended, and the receipts of
//! webhooks whose signatures have expired (at a thousand payments a second, a minute's worth is
//! 60,000 rows: often enough keeps each round small).

use std::sync::Arc;
use std::time::Duration;

use platform::db::{now_millis, Database};
use platform::worker::{run_until_stopped, Outcome};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db;
use crate::domain::idempotency::RETENTION_MS;

const EVERY: Duration = Duration::from_secs(60);
/// Sign-in failures older than this count towards no window any more.
const FAILURES_KEPT_MS: i64 = 24 * 60 * 60 * 1000;

pub struct Housekeeping {
    db: Database,
}

impl Housekeeping {
    pub fn new(db: Database) -> Housekeeping {
        Housekeeping { db }
    }

    /// One round; always `Idle`, so that the loop waits `EVERY` before the next.
    pub async fn try_execute_task(&self) -> anyhow::Result<Outcome> {
        let now = now_millis();
        let mut tx = self.db.write.begin().await?;
        // Replicas take turns (they would otherwise wait on, or deadlock over, the same rows).
        platform::db::lock(&mut tx, "housekeeping").await?;
        let keys = db::order_requests::forget_before(&mut tx, now - RETENTION_MS).await?;
        let failures = db::login_failures::forget_before(&mut tx, now - FAILURES_KEPT_MS).await?;
        let sessions = db::sessions::forget_ended(&mut tx, now).await?;
        let receipts = db::webhook_receipts::forget_before(&mut tx, now - db::webhook_receipts::KEPT_MS).await?;
        tx.commit().await?;
        if keys + failures + sessions + receipts > 0 {
            tracing::debug!(keys, failures, sessions, receipts, "housekeeping");
        }
        Ok(Outcome::Idle)
    }

    pub fn spawn(self, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let worker = Arc::new(self);
        tokio::spawn(async move {
            run_until_stopped(
                "housekeeping",
                || {
                    let worker = worker.clone();
                    async move { worker.try_execute_task().await }
                },
                Arc::new(Notify::new()),
                EVERY,
                stop,
            )
            .await
        })
    }
}
