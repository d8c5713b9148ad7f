//! Notifications: what the Notification Service accepts and returns.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::{Currency, Yen};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Sms,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    pub fn parse(text: &str) -> Option<Channel> {
        [Channel::Email, Channel::Sms].into_iter().find(|c| c.as_str() == text)
    }
}

/// The three templates of FR-021.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateName {
    OrderConfirmation,
    OrderShipped,
    OrderCancelled,
}

impl TemplateName {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateName::OrderConfirmation => "ORDER_CONFIRMATION",
            TemplateName::OrderShipped => "ORDER_SHIPPED",
            TemplateName::OrderCancelled => "ORDER_CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<TemplateName> {
        [Self::OrderConfirmation, Self::OrderShipped, Self::OrderCancelled].into_iter().find(|t| t.as_str() == text)
    }
}

/// Delivery status (FR-023).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationStatus {
    Pending,
    Sent,
    Failed,
}

impl NotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "PENDING",
            NotificationStatus::Sent => "SENT",
            NotificationStatus::Failed => "FAILED",
        }
    }

    pub fn parse(text: &str) -> Option<NotificationStatus> {
        [Self::Pending, Self::Sent, Self::Failed].into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderLine {
    pub product_name: String,
    pub quantity: i64,
    pub unit_price: Yen,
}

/// What a template needs to know about the order it speaks of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderSummary {
    pub customer_name: String,
    pub items: Vec<OrderLine>,
    pub total_amount: Yen,
    #[serde(default)]
    pub currency: Currency,
}

/// Body of `POST /api/v1/notifications/email`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewEmail {
    pub order_id: i64,
    #[schema(example = "tanaka@example.co.jp")]
    pub recipient: String,
    pub template: TemplateName,
    pub order: OrderSummary,
}

/// Body of `POST /api/v1/notifications/sms`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewSms {
    pub order_id: i64,
    /// A Japanese mobile number (`090-1234-5678`) or E.164 (`+819012345678`).
    #[schema(example = "+819012345678")]
    pub recipient: String,
    pub template: TemplateName,
    pub order: OrderSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub order_id: i64,
    pub channel: Channel,
    pub recipient: String,
    pub template: TemplateName,
    /// E-mail subject; `null` for SMS.
    pub subject: Option<String>,
    /// The rendered message, exactly as it is (or was) sent.
    pub body: String,
    pub status: NotificationStatus,
    pub attempts: i64,
    /// The last delivery error, if any.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One row of `GET /api/v1/notifications/templates`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Template {
    pub name: TemplateName,
    pub channel: Channel,
    pub subject: Option<String>,
    pub description: String,
}

/// Body of `GET /api/v1/notifications/stats`: the delivery queue at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationStats {
    /// Waiting to be sent (or retried): the depth of the queue.
    pub pending: i64,
    pub sent: i64,
    /// Given up on after the last retry.
    pub failed: i64,
}
