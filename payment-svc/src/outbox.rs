//! The effects this service owes its peers, as outbox rows, and how the worker delivers them.
//!
//! There is one kind: the payment webhook to the Order Service, enqueued in the transaction
//! that settles a pending payment, so the Order Service hears of every change exactly once
//! even if it is down when the change happens.

use platform::api::orders::PaymentWebhook;
use platform::api::payments::PaymentStatus;
use platform::outbox::{Deliver, DeliveryError, Outbox, OutboxEntry};
use serde::{Deserialize, Serialize};
use sqlx::SqliteConnection;

use crate::clients::OrderClient;

pub const ORDER_WEBHOOK: &str = "order_webhook";

/// Payload of an `order_webhook` row: where to send it, and what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderWebhookPayload {
    pub order_id: i64,
    pub webhook: PaymentWebhook,
}

/// Enqueues the webhook for a payment's new status, inside the caller's transaction.
/// The key names the payment and the status, so a status is announced once.
pub async fn enqueue_order_webhook(
    conn: &mut SqliteConnection,
    order_id: i64,
    payment_id: i64,
    status: PaymentStatus,
    reason: Option<String>,
) -> sqlx::Result<()> {
    let key = format!("payment-{payment_id}-{}", status.as_str());
    let payload = OrderWebhookPayload { order_id, webhook: PaymentWebhook { order_id, payment_id, status, reason } };
    Outbox::enqueue(conn, ORDER_WEBHOOK, &payload, &key).await
}

/// Delivers outbox rows to the peers.
#[derive(Debug, Clone)]
pub struct PeerDelivery {
    pub orders: OrderClient,
}

impl Deliver for PeerDelivery {
    async fn deliver(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        match entry.kind.as_str() {
            ORDER_WEBHOOK => {
                let payload: OrderWebhookPayload = entry.payload()?;
                if entry.attempts > 1 {
                    // The Order Service refuses a signature it has seen as a replay, and the
                    // signature's timestamp is in seconds: a retry waits for the next second so
                    // that its signature is its own.
                    next_second().await;
                }
                self.orders
                    .payment_webhook(payload.order_id, &payload.webhook, &entry.idempotency_key)
                    .await
                    .map_err(DeliveryError::from)
            }
            other => Err(DeliveryError::Permanent(format!("unknown outbox kind '{other}'"))),
        }
    }
}

async fn next_second() {
    let into_second = chrono::Utc::now().timestamp_subsec_millis();
    tokio::time::sleep(std::time::Duration::from_millis(u64::from(1000 - into_second.min(999)))).await;
}
