//! `PaymentClient`: the Payment Service's payments and refunds, as this service uses them.

use std::time::Duration;

use platform::api::auth::PAYMENT_SERVICE;
use platform::api::payments::{NewPayment, NewPaymentBatch, NewRefund, Payment, PaymentBatchOutcome, Refund};
use platform::peer::{http_client, send, PeerError};

use crate::identity::ServiceTokens;

#[derive(Clone, Debug)]
pub struct PaymentClient {
    http: reqwest::Client,
    tokens: ServiceTokens,
    base_url: String,
    // Built once: the create path calls it for every order.
    payments_url: String,
    batch_url: String,
    refund_url: String,
}

impl PaymentClient {
    pub fn new(base_url: &str, timeout: Duration, tokens: ServiceTokens) -> PaymentClient {
        let base_url = base_url.trim_end_matches('/').to_owned();
        PaymentClient {
            http: http_client(timeout),
            tokens,
            payments_url: format!("{base_url}/api/v1/payments"),
            batch_url: format!("{base_url}/api/v1/payments/batch"),
            refund_url: format!("{base_url}/api/v1/payments/refund"),
            base_url,
        }
    }

    /// `POST /api/v1/payments`. The same key on a retry lets the Payment Service answer with
    /// the payment it already made instead of charging twice.
    #[tracing::instrument(skip_all, fields(order_id = payment.order_id))]
    pub async fn create_payment(&self, payment: &NewPayment, idempotency_key: &str) -> Result<Payment, PeerError> {
        send(self.authorised(self.http.post(&self.payments_url))?.json(payment), Some(idempotency_key)).await
    }

    /// `POST /api/v1/payments/batch`: up to 1,000 payments in one call, each with its own
    /// idempotency key, so a repeated batch charges nothing twice.
    #[tracing::instrument(skip_all, fields(payments = batch.payments.len()))]
    pub async fn pay_batch(&self, batch: &NewPaymentBatch) -> Result<PaymentBatchOutcome, PeerError> {
        send(self.authorised(self.http.post(&self.batch_url))?.json(batch), None).await
    }

    /// `GET /api/v1/payments/order/{order_id}`; `None` when the order has no payment.
    #[tracing::instrument(skip_all, fields(order_id = order_id))]
    pub async fn payment_for_order(&self, order_id: i64) -> Result<Option<Payment>, PeerError> {
        let url = format!("{}/api/v1/payments/order/{order_id}", self.base_url);
        match send(self.authorised(self.http.get(url))?, None).await {
            Ok(payment) => Ok(Some(payment)),
            Err(PeerError::Refused { status: 404, .. }) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// `POST /api/v1/payments/refund`.
    #[tracing::instrument(skip_all, fields(payment_id = refund.payment_id))]
    pub async fn refund(&self, refund: &NewRefund, idempotency_key: &str) -> Result<Refund, PeerError> {
        send(self.authorised(self.http.post(&self.refund_url))?.json(refund), Some(idempotency_key)).await
    }

    /// The request with this service's own token for the Payment Service.
    fn authorised(&self, request: reqwest::RequestBuilder) -> Result<reqwest::RequestBuilder, PeerError> {
        let token = self.tokens.for_peer(PAYMENT_SERVICE).map_err(|err| PeerError::Unavailable(err.to_string()))?;
        Ok(request.bearer_auth(token))
    }
}
