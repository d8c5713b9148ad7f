//! The effects this service owes its peers, as outbox rows, and how the worker delivers them.
//!
//! There is one kind: the payment webhook to the Order Service. Its rows are written by the
//! database itself, in the statement that changes a payment's status (the trigger of migration
//! 0003), so the Order Service hears of every change once, whichever path made it, even if it
//! is down when the change happens.

use platform::api::orders::PaymentWebhook;
use platform::outbox::{Deliver, DeliveryError, OutboxEntry};
use serde::{Deserialize, Serialize};

use crate::clients::OrderClient;

pub const ORDER_WEBHOOK: &str = "order_webhook";

/// Payload of an `order_webhook` row (as the trigger writes it): where to send it, and what.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrderWebhookPayload {
    pub order_id: i64,
    pub webhook: PaymentWebhook,
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
