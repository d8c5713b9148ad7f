//! Deferred capture, as the gateway does it: a charge it authorised is captured once its
//! capture delay has passed, and the gateway reports that through its signed webhook
//! (`POST /api/v1/payments/webhook`, signed as `domain::gateway_signature` describes) until the
//! Payment Service acknowledges it — retried with backoff, each attempt signed anew, whatever
//! restarts happen on either side. The capture and its report are one transaction of the
//! ledger's (the report waits in the gateway's own outbox), so a capture is never left
//! unreported. Replicas of the Payment Service sharing one ledger share this work too: each
//! round claims the charges it captures, and the outbox worker claims the reports it sends.

use std::sync::Arc;
use std::time::Duration;

use platform::api::payments::{GatewayEvent, PaymentStatus};
use platform::outbox::{Deliver, DeliveryError, OutboxEntry, OutboxSettings, OutboxWorker};
use platform::peer::PeerError;
use platform::worker::{run_until_stopped, Backoff, Outcome};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Gateway;
use crate::domain::gateway_signature;

/// Kind of the gateway's outbox row that reports a capture.
pub const CAPTURE_REPORT: &str = "gateway_capture";
/// Charges captured per round.
const ROUND: i64 = 100;

/// Where the gateway sends its webhook, and what it signs it with.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// The Payment Service's `…/api/v1/payments/webhook` (its balancer's, with replicas).
    pub url: String,
    /// `PAYMENT_GATEWAY_WEBHOOK_SECRETS`; the gateway signs with the first.
    pub secrets: Arc<[String]>,
}

impl Gateway {
    /// Captures the authorised charges whose delay has passed and writes their reports, one
    /// round; `Idle` when none was due.
    pub async fn capture_due(&self) -> anyhow::Result<Outcome> {
        let authorised_before = chrono::Utc::now() - chrono::Duration::from_std(self.settings.capture_delay)?;
        let captured = self.ledger.capture_due(authorised_before, ROUND).await?;
        if captured == 0 {
            return Ok(Outcome::Idle);
        }
        tracing::info!(captured, "gateway captured deferred charges");
        Ok(Outcome::Worked)
    }

    /// Runs the captures and the delivery of their reports until `stop`.
    pub fn spawn_captures(&self, target: WebhookTarget, stop: CancellationToken) -> Vec<tokio::task::JoinHandle<()>> {
        let gateway = Arc::new(self.clone());
        let idle = (self.settings.capture_delay / 4).clamp(Duration::from_millis(100), Duration::from_secs(1));
        let wake = Arc::new(Notify::new());
        let captures = {
            let (wake, stop) = (wake.clone(), stop.clone());
            tokio::spawn(async move {
                run_until_stopped(
                    "gateway-captures",
                    || {
                        let gateway = gateway.clone();
                        let wake = wake.clone();
                        async move {
                            let outcome = gateway.capture_due().await?;
                            if outcome == Outcome::Worked {
                                wake.notify_one();
                            }
                            Ok(outcome)
                        }
                    },
                    Arc::new(Notify::new()),
                    idle,
                    stop,
                )
                .await
            })
        };
        let settings = OutboxSettings {
            // A retry is signed anew, at a second of its own: the Payment Service takes the very
            // same signature twice for a replay.
            backoff: Backoff { base: Duration::from_secs(1), max: Duration::from_secs(60) },
            idle_poll: Duration::from_millis(500),
            ..OutboxSettings::default()
        };
        let delivery = GatewayWebhook { http: platform::peer::http_client(Duration::from_secs(10)), target };
        let reports =
            OutboxWorker::new("payment-gateway", self.ledger.pool().clone(), delivery, settings).spawn(wake, stop);
        vec![captures, reports]
    }
}

/// Sends the gateway's reports to the Payment Service.
struct GatewayWebhook {
    http: reqwest::Client,
    target: WebhookTarget,
}

impl Deliver for GatewayWebhook {
    async fn deliver(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        if entry.kind != CAPTURE_REPORT {
            return Err(DeliveryError::Permanent(format!("unknown gateway outbox kind '{}'", entry.kind)));
        }
        let event: GatewayEvent = entry.payload()?;
        let body = serde_json::to_vec(&event).map_err(|err| DeliveryError::Permanent(err.to_string()))?;
        let secret = self.target.secrets.first().cloned().into_iter().collect::<Vec<_>>();
        let signature = gateway_signature::header_value(&secret, chrono::Utc::now().timestamp(), &body);
        let request = self
            .http
            .post(&self.target.url)
            .header(gateway_signature::HEADER, signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        match platform::peer::send::<serde_json::Value>(request, None).await {
            Ok(_) => Ok(()),
            // A replay (the same second's signature seen before) or a Payment Service busy
            // elsewhere: the next attempt, a second later, is signed anew.
            Err(PeerError::Refused { status: 400 | 409, detail }) => Err(DeliveryError::Retry(detail)),
            Err(err) => Err(err.into()),
        }
    }
}

/// The report of a captured charge, as the webhook's body.
pub fn capture_report(transaction_id: &str) -> GatewayEvent {
    GatewayEvent { transaction_id: transaction_id.to_owned(), status: PaymentStatus::Completed, reason: None }
}
