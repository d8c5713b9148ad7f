//! `OrderClient`: the Order Service as this service sees it — one endpoint, the payment
//! webhook (FR-018).

use std::time::Duration;

use platform::api::orders::PaymentWebhook;
use platform::peer::{http_client, send, PeerError};
use platform::webhook::WebhookSecrets;

#[derive(Debug, Clone)]
pub struct OrderClient {
    base_url: String,
    http: reqwest::Client,
    signer: WebhookSecrets,
}

impl OrderClient {
    pub fn new(base_url: &str, timeout: Duration, signer: WebhookSecrets) -> Self {
        OrderClient { base_url: base_url.trim_end_matches('/').to_owned(), http: http_client(timeout), signer }
    }

    /// Tells the Order Service that the payment of `order_id` changed status, signed by the
    /// Standard Webhooks scheme with the key as the message id: the signature proves the sender,
    /// the key lets the Order Service recognise a retry of a call whose answer was lost.
    #[tracing::instrument(skip_all, fields(order_id, payment_id = webhook.payment_id))]
    pub async fn payment_webhook(
        &self,
        order_id: i64,
        webhook: &PaymentWebhook,
        idempotency_key: &str,
    ) -> Result<(), PeerError> {
        let url = format!("{}/api/v1/orders/{order_id}/webhook", self.base_url);
        let body = serde_json::to_vec(webhook).map_err(|err| PeerError::Unavailable(err.to_string()))?;
        let headers =
            self.signer.sign(idempotency_key, &body).map_err(|err| PeerError::Unavailable(err.to_string()))?;
        let mut request = self.http.post(url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        // The answer is the updated order; only its arrival matters here.
        let _order: serde_json::Value = send(request, Some(idempotency_key)).await?;
        Ok(())
    }
}
