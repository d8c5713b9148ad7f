//! Payments and refunds: what the Payment Service accepts and returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Yen};

/// Smallest amount one transaction may carry (FR-012).
pub const MIN_PAYMENT: Yen = Yen::new(100);
/// Largest amount one transaction may carry (FR-013).
pub const MAX_PAYMENT: Yen = Yen::new(1_000_000);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Accepted by the gateway, capture not yet confirmed (it confirms through the webhook).
    Pending,
    Completed,
    Failed,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Completed => "completed",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(text: &str) -> Option<PaymentStatus> {
        [Self::Pending, Self::Completed, Self::Failed, Self::Refunded].into_iter().find(|s| s.as_str() == text)
    }
}

/// The JSON Schema of an amount one transaction may carry.
pub fn payment_amount_schema() -> utoipa::openapi::Object {
    Yen::schema_between(MIN_PAYMENT, MAX_PAYMENT)
}

/// Longest free-text reason (of a refund, of a gateway's decline), in characters.
pub const MAX_NOTE_CHARS: usize = 500;

/// The JSON Schema of an optional reason: blank means none.
pub fn note_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            utoipa::openapi::schema::Type::String,
            utoipa::openapi::schema::Type::Null,
        ]))
        .max_length(Some(MAX_NOTE_CHARS))
        .build()
}

/// Body of `POST /api/v1/payments`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewPayment {
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub order_id: i64,
    #[schema(schema_with = payment_amount_schema)]
    pub amount: Yen,
    #[serde(default)]
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Refund {
    pub id: i64,
    pub payment_id: i64,
    pub amount: Yen,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: i64,
    pub order_id: i64,
    pub amount: Yen,
    pub currency: Currency,
    pub status: PaymentStatus,
    /// The gateway's reference for the transaction.
    pub transaction_id: String,
    /// Why the gateway declined it, when it did.
    pub failure_reason: Option<String>,
    /// The refund of this payment, once there is one.
    pub refund: Option<Refund>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What the gateway reported about the payment after the charge, oldest first, including
    /// events that were acknowledged but ignored because they contradicted the recorded outcome.
    /// Listed by the reads of one payment (and the webhook's answer); empty elsewhere.
    #[serde(default)]
    pub gateway_events: Vec<GatewayEventRecord>,
}

/// What became of one gateway event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GatewayEventOutcome {
    /// It settled the pending payment.
    Applied,
    /// It repeated the outcome already recorded.
    Repeated,
    /// It contradicted the recorded outcome, which stands.
    Ignored,
}

impl GatewayEventOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayEventOutcome::Applied => "applied",
            GatewayEventOutcome::Repeated => "repeated",
            GatewayEventOutcome::Ignored => "ignored",
        }
    }

    pub fn parse(text: &str) -> Option<GatewayEventOutcome> {
        [Self::Applied, Self::Repeated, Self::Ignored].into_iter().find(|o| o.as_str() == text)
    }
}

/// One event of the payment gateway's webhook, as recorded on the payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GatewayEventRecord {
    /// What the gateway said: `completed` or `failed`.
    pub status: PaymentStatus,
    pub reason: Option<String>,
    pub outcome: GatewayEventOutcome,
    /// Why an event was ignored.
    pub detail: Option<String>,
    pub received_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/payments/refund`. Refunds are always of the whole amount.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewRefund {
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub payment_id: i64,
    #[serde(default)]
    #[schema(schema_with = note_schema)]
    pub reason: Option<String>,
}

/// Body of `POST /api/v1/payments/webhook`: the payment gateway reporting the final outcome
/// of a transaction it had left pending.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GatewayEvent {
    pub transaction_id: String,
    /// The outcome of the charge: `completed` or `failed` (any other status is refused).
    #[schema(schema_with = gateway_outcome_schema)]
    pub status: PaymentStatus,
    #[serde(default)]
    #[schema(schema_with = note_schema)]
    pub reason: Option<String>,
}

fn gateway_outcome_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some([PaymentStatus::Completed.as_str(), PaymentStatus::Failed.as_str()]))
        .build()
}

/// Most payments one `POST /api/v1/payments/batch` may carry.
pub const MAX_PAYMENTS_PER_BATCH: usize = 1000;

/// One payment of a batch: the body of a single `POST /api/v1/payments` plus the
/// `Idempotency-Key` that request would have carried, if any (an item without one is, like
/// such a request, recognised only by the one-payment-per-order rule).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchPayment {
    #[serde(default)]
    #[schema(schema_with = crate::api::idempotency_key_schema)]
    pub idempotency_key: Option<String>,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub order_id: i64,
    #[schema(schema_with = payment_amount_schema)]
    pub amount: Yen,
    #[serde(default)]
    pub currency: Currency,
}

/// Body of `POST /api/v1/payments/batch`: 1 ..= `MAX_PAYMENTS_PER_BATCH` payments.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewPaymentBatch {
    #[schema(schema_with = payment_items_schema)]
    pub payments: Vec<BatchPayment>,
}

/// Each item is read and checked on its own, as its single request would be, and refused in
/// its own result: so an item is "a `BatchPayment`, or any other object".
fn payment_items_schema() -> utoipa::openapi::Array {
    crate::api::batch_items_schema("BatchPayment", MAX_PAYMENTS_PER_BATCH)
}

/// What became of one item of a batch: exactly what the single `POST /api/v1/payments`
/// would have answered for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchPaymentResult {
    pub order_id: i64,
    /// The item's key, when it had one.
    pub idempotency_key: Option<String>,
    /// The single call's HTTP status: 201 charged or pending capture (also for a replay of
    /// the same key), 402 declined, 400 amount out of range, 409 conflict, 422 invalid item.
    pub status: u16,
    /// The payment, when there is one (201, and 402 for a declined one).
    pub payment: Option<Payment>,
    /// Why it was not charged (every status but 201).
    pub detail: Option<String>,
}

/// Body of the answer to `POST /api/v1/payments/batch`: one result per item, in request order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentBatchOutcome {
    pub results: Vec<BatchPaymentResult>,
}
