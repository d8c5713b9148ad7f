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

/// Body of `POST /api/v1/payments`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewPayment {
    pub order_id: i64,
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
}

/// Body of `POST /api/v1/payments/refund`. Refunds are always of the whole amount.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewRefund {
    pub payment_id: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Body of `POST /api/v1/payments/webhook`: the payment gateway reporting the final outcome
/// of a transaction it had left pending.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GatewayEvent {
    pub transaction_id: String,
    /// `completed` or `failed`.
    pub status: PaymentStatus,
    #[serde(default)]
    pub reason: Option<String>,
}
