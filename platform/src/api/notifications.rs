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

/// The three templates of FR-021, plus the digest a bulk import may send instead of one
/// confirmation per order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TemplateName {
    OrderConfirmation,
    OrderShipped,
    OrderCancelled,
    /// One e-mail per customer listing that customer's orders of one import (e-mail only).
    OrderDigest,
}

impl TemplateName {
    pub fn as_str(self) -> &'static str {
        match self {
            TemplateName::OrderConfirmation => "ORDER_CONFIRMATION",
            TemplateName::OrderShipped => "ORDER_SHIPPED",
            TemplateName::OrderCancelled => "ORDER_CANCELLED",
            TemplateName::OrderDigest => "ORDER_DIGEST",
        }
    }

    pub fn parse(text: &str) -> Option<TemplateName> {
        [Self::OrderConfirmation, Self::OrderShipped, Self::OrderCancelled, Self::OrderDigest]
            .into_iter()
            .find(|t| t.as_str() == text)
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

/// Most lines a message may list for one order.
pub const MAX_LINES: usize = 1000;

/// An amount a message may show: any that is not negative.
fn shown_amount_schema() -> utoipa::openapi::Object {
    Yen::schema_between(Yen::ZERO, Yen::new(i64::MAX))
}

/// The templates of one order (FR-021); the digest lists several and has its own request.
fn order_template_schema() -> utoipa::openapi::Object {
    let names = [TemplateName::OrderConfirmation, TemplateName::OrderShipped, TemplateName::OrderCancelled];
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names.map(TemplateName::as_str)))
        .build()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderLine {
    #[schema(schema_with = crate::new_order::name_schema)]
    pub product_name: String,
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub quantity: i64,
    #[schema(schema_with = shown_amount_schema)]
    pub unit_price: Yen,
}

/// What a template needs to know about the order it speaks of.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderSummary {
    #[schema(schema_with = crate::new_order::name_schema)]
    pub customer_name: String,
    #[schema(min_items = 1, max_items = 1000)]
    pub items: Vec<OrderLine>,
    #[schema(schema_with = shown_amount_schema)]
    pub total_amount: Yen,
    #[serde(default)]
    pub currency: Currency,
}

/// Body of `POST /api/v1/notifications/email`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewEmail {
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub order_id: i64,
    #[schema(schema_with = crate::new_order::email_schema)]
    pub recipient: String,
    #[schema(schema_with = order_template_schema)]
    pub template: TemplateName,
    pub order: OrderSummary,
}

/// Body of `POST /api/v1/notifications/sms`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewSms {
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub order_id: i64,
    #[schema(schema_with = phone_number_schema)]
    pub recipient: String,
    #[schema(schema_with = order_template_schema)]
    pub template: TemplateName,
    pub order: OrderSummary,
}

/// A Japanese mobile number (`090-1234-5678`) or E.164 (`+819012345678`): the Notification
/// Service's `PhoneNumber::PATTERN`, which a test there checks against its rule.
pub const PHONE_NUMBER_PATTERN: &str = concat!(
    r"^(?:0[- ]?[789][- ]?0(?:[- ]?[0-9]){8}",
    r"|\+8[- ]?1[- ]?[789][- ]?0(?:[- ]?[0-9]){8}",
    r"|\+(?:[1-79](?:[- ]?[0-9]){7,14}|8[- ]?[02-9](?:[- ]?[0-9]){6,13}))$",
);

fn phone_number_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some(PHONE_NUMBER_PATTERN))
        .description(Some("A Japanese mobile number (090-1234-5678) or E.164 (+819012345678)"))
        .examples(["+819012345678"])
        .build()
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
    /// When the message was handed to the transport: the moment the rate limit (NFR-008)
    /// released it, so the sends of a service are at least `1 / rate` apart in these times.
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
    /// The sending rate limit (NFR-008) at which the queue drains.
    pub rate_per_second: u32,
}

/// Most notifications one `POST /api/v1/notifications/batch` may carry.
pub const MAX_NOTIFICATIONS_PER_BATCH: usize = 1000;

/// One order of a digest e-mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DigestOrder {
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub order_id: i64,
    /// The customer's own reference for the order (the import file's `order_ref`).
    #[schema(schema_with = crate::new_order::name_schema)]
    pub order_ref: String,
    #[schema(min_items = 1, max_items = 1000)]
    pub items: Vec<OrderLine>,
    #[schema(schema_with = shown_amount_schema)]
    pub total_amount: Yen,
}

/// Most orders one digest e-mail may list.
pub const MAX_DIGEST_ORDERS: usize = 1000;

/// A digest e-mail (`ORDER_DIGEST`): one customer's orders of one import, in one message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewDigestEmail {
    #[schema(schema_with = crate::new_order::email_schema)]
    pub recipient: String,
    #[schema(schema_with = crate::new_order::name_schema)]
    pub customer_name: String,
    /// The import the orders came from.
    #[schema(schema_with = crate::new_order::name_schema)]
    pub batch_id: String,
    /// 1 ..= `MAX_DIGEST_ORDERS`; the notification is filed under the first order's id.
    #[schema(min_items = 1, max_items = 1000)]
    pub orders: Vec<DigestOrder>,
    #[serde(default)]
    pub currency: Currency,
}

/// What one item of a batch asks to send.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BatchMessage {
    /// Exactly the body of `POST /api/v1/notifications/email`.
    Email(NewEmail),
    Digest(NewDigestEmail),
}

/// One item of a batch, with the `Idempotency-Key` its single request would carry, if any: an
/// item without one is queued each time it is sent, as such a request would be.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchNotification {
    #[serde(default)]
    #[schema(schema_with = crate::api::idempotency_key_schema)]
    pub idempotency_key: Option<String>,
    pub message: BatchMessage,
}

/// Body of `POST /api/v1/notifications/batch`: 1 ..= `MAX_NOTIFICATIONS_PER_BATCH` items.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewNotificationBatch {
    #[schema(schema_with = notification_items_schema)]
    pub notifications: Vec<BatchNotification>,
}

/// Each item is read and checked on its own, as its single request would be, and refused in
/// its own result: so an item is "a `BatchNotification`, or any other object".
fn notification_items_schema() -> utoipa::openapi::Array {
    crate::api::batch_items_schema("BatchNotification", MAX_NOTIFICATIONS_PER_BATCH)
}

/// What became of one item of a batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BatchNotificationResult {
    /// The item's key, when it had one.
    pub idempotency_key: Option<String>,
    /// 202 queued now, 200 already queued under this key, 422 refused (see `detail`).
    pub status: u16,
    pub notification_id: Option<i64>,
    pub detail: Option<String>,
}

/// Body of the 202 answer to `POST /api/v1/notifications/batch`: one result per item, in
/// request order, and the counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotificationBatchOutcome {
    pub queued: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub results: Vec<BatchNotificationResult>,
}
