//! One request to charge an order and what it comes to: the rules that the single
//! `POST /api/v1/payments` and every item of `POST /api/v1/payments/batch` share, so that the
//! two cannot drift apart. Which requests are acceptable (and with which status the others are
//! refused), when a repeated Idempotency-Key is a replay, what the gateway's answer does to the
//! pending row, and which status each outcome answers. `charging` runs these against the
//! database and the gateway; here they are testable without either.

use axum::http::StatusCode;
use platform::api::payments::{Payment, PaymentStatus, MAX_PAYMENTS_PER_BATCH};
use platform::extract::IdempotencyKey;
use platform::{ApiError, Currency, Yen};

use super::{OrderId, PaymentAmount, Verdict};
use crate::gateway::ChargeOutcome;

/// What a decline says when the gateway gave no reason.
const DEFAULT_DECLINE_REASON: &str = "declined by the payment gateway";

/// A request to charge an order, every field valid.
#[derive(Debug, Clone)]
pub struct PaymentRequest {
    /// Optional for the single endpoint (the header may be absent); a batch item always has one.
    pub key: Option<IdempotencyKey>,
    pub order_id: OrderId,
    pub amount: PaymentAmount,
    pub currency: Currency,
}

impl PaymentRequest {
    /// A bad order id is a 422 (an invalid field), an amount outside the limits a 400 (a
    /// business rule, FR-012/013); checked in that order. The key is parsed before this by the
    /// caller — from the header or from the batch item — and its refusal comes first.
    pub fn parse(
        key: Option<IdempotencyKey>,
        order_id: i64,
        amount: Yen,
        currency: Currency,
    ) -> Result<PaymentRequest, ApiError> {
        let order_id = OrderId::parse(order_id).map_err(ApiError::Unprocessable)?;
        let amount = PaymentAmount::parse(amount).map_err(ApiError::BadRequest)?;
        Ok(PaymentRequest { key, order_id, amount, currency })
    }

    /// Whether `holder`, the payment already stored under this request's key, is this very
    /// request made again (answered with that payment) or the key reused for another payment
    /// (a 409: answering with a payment of another order or amount would mislead the caller).
    pub fn is_replayed_by(&self, holder: &Payment) -> Result<(), ApiError> {
        if holder.order_id != self.order_id.get() || holder.amount != self.amount.yen() {
            return Err(ApiError::Conflict(format!(
                "this Idempotency-Key was already used for payment {} (order {}, amount {})",
                holder.id, holder.order_id, holder.amount
            )));
        }
        Ok(())
    }

    /// The refusal of a request that lost its order to another payment and is no replay.
    pub fn duplicate(&self) -> ApiError {
        ApiError::Conflict(format!("a payment for order {} already exists", self.order_id.get()))
    }
}

/// What the gateway's answer does to the payment's pending row: the status and failure reason
/// to record, or `None` when it stays pending until the gateway's webhook settles it.
pub fn verdict_of(charge: ChargeOutcome) -> Option<(Verdict, Option<String>)> {
    match charge {
        ChargeOutcome::Captured => Some((Verdict::Completed, None)),
        ChargeOutcome::Declined { reason } => Some((Verdict::Failed, Some(reason))),
        ChargeOutcome::Pending => None,
    }
}

/// What one payment request came to, as the single endpoint answers it.
#[derive(Debug)]
pub enum PaymentOutcome {
    /// 201: charged, accepted pending capture, or — for a replay — the payment as it stands.
    Accepted(Payment),
    /// 402: declined by the gateway; the failed payment is kept (and retrievable).
    Declined(Payment),
    /// 400, 409 or 422: nothing was charged for this request.
    Refused(ApiError),
}

impl PaymentOutcome {
    /// The answer a stored payment gives: a failed one is a decline, any other is accepted.
    pub fn of(payment: Payment) -> PaymentOutcome {
        if payment.status == PaymentStatus::Failed {
            PaymentOutcome::Declined(payment)
        } else {
            PaymentOutcome::Accepted(payment)
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            PaymentOutcome::Accepted(_) => StatusCode::CREATED,
            PaymentOutcome::Declined(_) => StatusCode::PAYMENT_REQUIRED,
            PaymentOutcome::Refused(err) => err.status(),
        }
    }

    /// The outcome as the single endpoint answers it: the payment, or the error whose status
    /// and detail are the answer (a decline's payment is left out there, as it always was).
    pub fn into_result(self) -> Result<Payment, ApiError> {
        match self {
            PaymentOutcome::Accepted(payment) => Ok(payment),
            PaymentOutcome::Declined(payment) => {
                Err(ApiError::Status(StatusCode::PAYMENT_REQUIRED, decline_detail(&payment)))
            }
            PaymentOutcome::Refused(err) => Err(err),
        }
    }

    /// `(status, payment, detail)`, as a batch reports each item: a decline keeps both its
    /// payment and its detail.
    pub fn into_parts(self) -> (StatusCode, Option<Payment>, Option<String>) {
        let status = self.status();
        match self {
            PaymentOutcome::Accepted(payment) => (status, Some(payment), None),
            PaymentOutcome::Declined(payment) => {
                let detail = decline_detail(&payment);
                (status, Some(payment), Some(detail))
            }
            PaymentOutcome::Refused(err) => (status, None, Some(err.to_string())),
        }
    }
}

fn decline_detail(payment: &Payment) -> String {
    format!("payment declined: {}", payment.failure_reason.as_deref().unwrap_or(DEFAULT_DECLINE_REASON))
}

/// A batch carries 1 ..= `MAX_PAYMENTS_PER_BATCH` payments; any other count refuses the whole
/// batch (422) before anything is written.
pub fn check_batch_size(count: usize) -> Result<(), ApiError> {
    if (1..=MAX_PAYMENTS_PER_BATCH).contains(&count) {
        Ok(())
    } else {
        Err(ApiError::Unprocessable(format!(
            "a batch must carry between 1 and {MAX_PAYMENTS_PER_BATCH} payments (got {count})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn request(order_id: i64, amount: i64) -> PaymentRequest {
        PaymentRequest::parse(None, order_id, Yen::new(amount), Currency::JPY).unwrap()
    }

    fn payment(id: i64, order_id: i64, amount: i64, status: PaymentStatus, reason: Option<&str>) -> Payment {
        Payment {
            id,
            order_id,
            amount: Yen::new(amount),
            currency: Currency::JPY,
            status,
            transaction_id: format!("txn_{id}"),
            failure_reason: reason.map(str::to_owned),
            refund: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            gateway_events: Vec::new(),
        }
    }

    #[test]
    fn a_bad_order_id_is_422_and_comes_before_a_bad_amount_which_is_400() {
        let err = PaymentRequest::parse(None, 0, Yen::new(99), Currency::JPY).unwrap_err();
        assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err.to_string().contains("order_id"), "{err}");
        let err = PaymentRequest::parse(None, 1, Yen::new(1_000_001), Currency::JPY).unwrap_err();
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn only_the_same_order_and_amount_replay_a_key() {
        assert!(request(3, 2500).is_replayed_by(&payment(1, 3, 2500, PaymentStatus::Completed, None)).is_ok());
        for holder in
            [payment(1, 4, 2500, PaymentStatus::Completed, None), payment(1, 3, 2600, PaymentStatus::Completed, None)]
        {
            let err = request(3, 2500).is_replayed_by(&holder).unwrap_err();
            assert_eq!(err.status(), StatusCode::CONFLICT);
            assert!(err.to_string().contains("Idempotency-Key"), "{err}");
        }
    }

    #[test]
    fn the_gateways_answer_settles_the_row_except_when_capture_is_deferred() {
        assert_eq!(verdict_of(ChargeOutcome::Captured), Some((Verdict::Completed, None)));
        assert_eq!(
            verdict_of(ChargeOutcome::Declined { reason: "no".into() }),
            Some((Verdict::Failed, Some("no".into())))
        );
        assert_eq!(verdict_of(ChargeOutcome::Pending), None);
    }

    #[test]
    fn a_failed_payment_answers_402_with_its_reason_and_any_other_201() {
        let declined = PaymentOutcome::of(payment(1, 3, 2500, PaymentStatus::Failed, Some("card declined")));
        let (status, payment_back, detail) = declined.into_parts();
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
        assert_eq!(payment_back.map(|p| p.id), Some(1));
        assert_eq!(detail.as_deref(), Some("payment declined: card declined"));

        for status in [PaymentStatus::Pending, PaymentStatus::Completed, PaymentStatus::Refunded] {
            let outcome = PaymentOutcome::of(payment(2, 3, 2500, status, None));
            assert_eq!(outcome.status(), StatusCode::CREATED, "{status:?}");
            assert_eq!(outcome.into_result().unwrap().id, 2);
        }

        let err = PaymentOutcome::of(payment(1, 3, 2500, PaymentStatus::Failed, None)).into_result().unwrap_err();
        assert_eq!(err.status(), StatusCode::PAYMENT_REQUIRED);
        assert_eq!(err.to_string(), "payment declined: declined by the payment gateway");
    }

    #[test]
    fn a_batch_carries_one_to_a_thousand_payments() {
        assert!(check_batch_size(1).is_ok());
        assert!(check_batch_size(MAX_PAYMENTS_PER_BATCH).is_ok());
        for count in [0, MAX_PAYMENTS_PER_BATCH + 1] {
            let err = check_batch_size(count).unwrap_err();
            assert_eq!(err.status(), StatusCode::UNPROCESSABLE_ENTITY);
            assert!(err.to_string().contains("1000"), "{err}");
        }
    }
}
