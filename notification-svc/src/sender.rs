//! The sender: drains the notifications table (which is the queue) one message at a time,
//! at no more than `rate_per_sec` messages per second (NFR-008).
//!
//! Accepting a notification only stores it and wakes this worker; the HTTP request never
//! waits for a send. Deliveries are sequential on purpose: with one message in flight per
//! process, the limiter (`send_rate`) bounds the send rate exactly. Replicas on
//! PostgreSQL each run one, claiming different rows and sharing one rate.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use platform::api::notifications::Channel;
use platform::db::{now_millis, EpochMillis, Pool};
use platform::worker::{run_until_stopped, Backoff, Outcome};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::db::notifications as db;
use crate::send_rate::SendRate;
use crate::transport::{OutgoingMessage, Transport};

/// How long a claimed message waits for the rate limiter beyond one interval before it is
/// handed back: with several replicas, the others' senders may win the next releases.
const RELEASE_WAIT: Duration = Duration::from_secs(2);
/// What a claim's lease adds to the longest a send can take (the rate limiter's wait plus the
/// transport's timeout): time to record the outcome.
const LEASE_MARGIN: Duration = Duration::from_secs(5);
/// How often to look for retries that became due when nothing wakes the worker.
const IDLE_POLL: Duration = Duration::from_millis(250);

pub struct Sender {
    /// The writer: every query here claims or updates a row.
    pool: Pool,
    transport: Transport,
    rate: SendRate,
    /// How long a claimed message may wait for its release.
    release_wait: Duration,
    max_attempts: i64,
    backoff: Backoff,
    /// How long a claimed notification stays invisible to the next round: if the process dies
    /// mid-send, the notification becomes due again after this. Longer than any send can take,
    /// so a message still being sent is never claimed twice.
    lease: Duration,
}

impl Sender {
    pub fn new(
        pool: Pool,
        transport: Transport,
        rate_per_sec: NonZeroU32,
        max_attempts: i64,
        backoff: Backoff,
        send_timeout: Duration,
    ) -> Self {
        let release_wait = Duration::from_secs(1) / rate_per_sec.get() + RELEASE_WAIT;
        Sender {
            rate: SendRate::for_database(&pool, rate_per_sec),
            release_wait,
            pool,
            transport,
            max_attempts,
            backoff,
            lease: release_wait + send_timeout + LEASE_MARGIN,
        }
    }

    /// Sends the oldest due notification, if any, and records the outcome.
    #[tracing::instrument(skip_all)]
    pub async fn try_execute_task(&self) -> anyhow::Result<Outcome> {
        let now = now_millis();
        let lease_end = EpochMillis(now + self.lease.as_millis() as i64);
        let Some(claimed) = db::claim_due(&self.pool, EpochMillis(now), lease_end).await? else {
            return Ok(Outcome::Idle);
        };
        let span = tracing::info_span!("send", notification_id = claimed.id, order_id = claimed.order_id,
            channel = %claimed.channel, attempt = claimed.attempts);
        self.deliver(claimed).instrument(span).await
    }

    /// `Idle` when the message was handed back unsent: trying again at once would only lose
    /// the next releases to the same replicas again.
    async fn deliver(&self, claimed: db::ClaimedNotification) -> anyhow::Result<Outcome> {
        // More attempts than allowed only happens when earlier rounds died mid-send (the
        // attempt is counted when it is claimed); stop trying instead of looping forever.
        if claimed.attempts > self.max_attempts {
            tracing::error!("giving up: the sender was interrupted on every attempt");
            db::mark_failed(&self.pool, claimed.id, "delivery interrupted too many times").await?;
            crate::metrics::count("failed", 1);
            return Ok(Outcome::Worked);
        }
        let channel = Channel::parse(&claimed.channel)
            .ok_or_else(|| anyhow::anyhow!("notification {} has unknown channel {:?}", claimed.id, claimed.channel))?;
        let message = OutgoingMessage {
            id: claimed.id,
            channel,
            recipient: claimed.recipient,
            subject: claimed.subject,
            body: claimed.body,
            created_at: claimed.created_at,
        };

        let Some(released_at) = self.rate.until_released(self.release_wait).await? else {
            // Hand the message back while its lease still holds, so that no other round can
            // take it while this one might still send it.
            tracing::debug!("no send release in time; handed back");
            db::hand_back(&self.pool, message.id, EpochMillis(now_millis())).await?;
            return Ok(Outcome::Idle);
        };
        match self.transport.send(&message).await {
            Ok(()) => {
                db::mark_sent(&self.pool, message.id, released_at).await?;
                crate::metrics::count("sent", 1);
                tracing::info!("notification sent");
            }
            Err(reason) if claimed.attempts >= self.max_attempts => {
                tracing::error!(%reason, "notification failed for good");
                db::mark_failed(&self.pool, message.id, &reason).await?;
                crate::metrics::count("failed", 1);
            }
            Err(reason) => {
                let delay = self.backoff.delay(claimed.attempts);
                tracing::warn!(%reason, retry_in_ms = delay.as_millis() as u64, "send failed; will retry");
                let due_at = EpochMillis(now_millis() + delay.as_millis() as i64);
                db::reschedule(&self.pool, message.id, due_at, &reason).await?;
                crate::metrics::count("retried", 1);
            }
        }
        Ok(Outcome::Worked)
    }

    /// Runs the sender until `stop` is cancelled; `wake` is notified when a notification
    /// is accepted.
    pub fn spawn(self, wake: Arc<Notify>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
        let sender = Arc::new(self);
        tokio::spawn(async move {
            run_until_stopped(
                "notification-sender",
                || {
                    let sender = sender.clone();
                    async move { sender.try_execute_task().await }
                },
                wake,
                IDLE_POLL,
                stop,
            )
            .await
        })
    }
}
