//! `OrderClient`: the Order Service as this service sees it — one endpoint, the payment
//! webhook (FR-018).

use std::time::Duration;

use platform::api::orders::PaymentWebhook;
use platform::peer::{http_client, send, PeerError};

#[derive(Debug, Clone)]
pub struct OrderClient {
    base_url: String,
    http: reqwest::Client,
}

impl OrderClient {
    pub fn new(base_url: &str, timeout: Duration) -> Self {
        OrderClient { base_url: base_url.trim_end_matches('/').to_owned(), http: http_client(timeout) }
    }

    /// Tells the Order Service that the payment of `order_id` changed status. The key lets
    /// it recognise a retry of a call whose answer was lost.
    #[tracing::instrument(skip_all, fields(order_id, payment_id = webhook.payment_id))]
    pub async fn payment_webhook(
        &self,
        order_id: i64,
        webhook: &PaymentWebhook,
        idempotency_key: &str,
    ) -> Result<(), PeerError> {
        let url = format!("{}/api/v1/orders/{order_id}/webhook", self.base_url);
        // The answer is the updated order; only its arrival matters here.
        let _order: serde_json::Value = send(self.http.post(url).json(webhook), Some(idempotency_key)).await?;
        Ok(())
    }
}
