//! Delivering the Order Service's outbox rows to its peers: e-mails to the Notification
//! Service, refunds and retried payments to the Payment Service. Each delivery is safe to
//! repeat: the peers recognise the row's idempotency key, and a payment outcome is applied
//! through the guarded status change.

use platform::api::notifications::{NewEmail, NewNotificationBatch};
use platform::api::orders::OrderStatus;
use platform::api::payments::{NewPayment, NewRefund, PaymentStatus};
use platform::outbox::{Deliver, DeliveryError, OutboxEntry};
use platform::peer::PeerError;

use crate::clients::NotificationClient;
use crate::context::Context;
use crate::db::outbox::{KIND_NOTIFICATION, KIND_NOTIFICATION_BATCH, KIND_PAYMENT, KIND_REFUND};
use crate::lifecycle::{self, RefundOrder, Settlement};

pub struct OrderDelivery {
    ctx: Context,
    notifications: NotificationClient,
}

impl OrderDelivery {
    pub fn new(ctx: Context, notifications: NotificationClient) -> OrderDelivery {
        OrderDelivery { ctx, notifications }
    }

    #[tracing::instrument(skip_all, fields(key = %entry.idempotency_key))]
    async fn send_email(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let email: NewEmail = entry.payload()?;
        Ok(self.notifications.send_email(&email, &entry.idempotency_key).await?)
    }

    /// Queues an import's e-mails. Items the Notification Service refuses are logged: they
    /// were built from validated orders, so a refusal is a bug to look at, not to retry.
    #[tracing::instrument(skip_all, fields(key = %entry.idempotency_key))]
    async fn send_email_batch(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let batch: NewNotificationBatch = entry.payload()?;
        let outcome = self.notifications.send_batch(&batch).await?;
        if outcome.results.len() != batch.notifications.len() {
            return Err(DeliveryError::Retry(format!(
                "{} of {} e-mails answered",
                outcome.results.len(),
                batch.notifications.len()
            )));
        }
        for refused in outcome.results.iter().filter(|result| result.status >= 400) {
            tracing::error!(key = ?refused.idempotency_key, detail = ?refused.detail, "e-mail refused by the Notification Service");
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(key = %entry.idempotency_key))]
    async fn refund(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let refund: RefundOrder = entry.payload()?;
        let payments = &self.ctx.payments;
        let Some(payment) = payments.payment_for_order(refund.order_id).await? else {
            // Paid without a payment can only come from a hand-made status change: there is
            // nothing to give back.
            tracing::warn!(order_id = refund.order_id, "no payment to refund");
            return Ok(());
        };
        match payment.status {
            PaymentStatus::Refunded => Ok(()),
            PaymentStatus::Failed => {
                tracing::warn!(order_id = refund.order_id, "payment failed; nothing to refund");
                Ok(())
            }
            PaymentStatus::Pending => Err(DeliveryError::Retry("payment not captured yet".into())),
            PaymentStatus::Completed => {
                let request = NewRefund { payment_id: payment.id, reason: refund.reason };
                match payments.refund(&request, &entry.idempotency_key).await {
                    Ok(_) => Ok(()),
                    // The payment was completed a moment ago; 409 now means someone else
                    // refunded it in between, which is the outcome we wanted.
                    Err(PeerError::Refused { status: 409, detail }) => {
                        tracing::warn!(order_id = refund.order_id, %detail, "refund already made");
                        Ok(())
                    }
                    Err(err) => Err(err.into()),
                }
            }
        }
    }

    /// Retries the payment of an order whose first attempt got no answer.
    #[tracing::instrument(skip_all, fields(key = %entry.idempotency_key))]
    async fn pay(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        let payment: NewPayment = entry.payload()?;
        let order = lifecycle::load_order(&self.ctx.db.read, payment.order_id)
            .await
            .map_err(|err| DeliveryError::Retry(err.to_string()))?
            .ok_or_else(|| DeliveryError::Permanent(format!("order {} does not exist", payment.order_id)))?;
        if order.status != OrderStatus::PaymentProcessing {
            // Decided meanwhile (by the webhook, or by hand): charging now would be wrong.
            tracing::info!(order_id = order.id, status = order.status.as_str(), "payment no longer awaited");
            return Ok(());
        }
        let result = self.ctx.payments.create_payment(&payment, &entry.idempotency_key).await;
        match lifecycle::settle_payment(&self.ctx, order, result, None).await {
            Ok(Settlement::Settled(_)) => Ok(()),
            Ok(Settlement::Unresolved { reason, .. }) => Err(DeliveryError::Retry(reason)),
            Err(err) => Err(DeliveryError::Retry(err.to_string())),
        }
    }
}

impl Deliver for OrderDelivery {
    async fn deliver(&self, entry: &OutboxEntry) -> Result<(), DeliveryError> {
        match entry.kind.as_str() {
            KIND_NOTIFICATION => self.send_email(entry).await,
            KIND_NOTIFICATION_BATCH => self.send_email_batch(entry).await,
            KIND_REFUND => self.refund(entry).await,
            KIND_PAYMENT => self.pay(entry).await,
            other => Err(DeliveryError::Permanent(format!("unknown outbox kind {other:?}"))),
        }
    }
}
