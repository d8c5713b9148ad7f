//! Orders: what clients send to and receive from the Order Service.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::payments::PaymentStatus;
use crate::money::{Currency, Yen};

/// The order lifecycle of 002 §4, as the lowercase strings the API uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    PaymentProcessing,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 6] = [
        OrderStatus::Pending,
        OrderStatus::PaymentProcessing,
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
        OrderStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => "pending",
            OrderStatus::PaymentProcessing => "payment_processing",
            OrderStatus::Paid => "paid",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Delivered => "delivered",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The transitions of 002 §4. Staying in the same status is not a transition. The Order
    /// Service enforces this table; the dashboard offers only the actions it allows.
    pub fn can_become(self, to: OrderStatus) -> bool {
        use OrderStatus::*;
        matches!(
            (self, to),
            (Pending, PaymentProcessing)
                | (PaymentProcessing, Paid)
                | (PaymentProcessing, Pending)
                | (Paid, Shipped)
                | (Shipped, Delivered)
                | (Pending, Cancelled)
                | (Paid, Cancelled)
        )
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of a new order; the rules are `crate::new_order`'s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({"product_name": "ノートPC", "quantity": 2, "unit_price": 89800}))]
pub struct NewOrderItem {
    #[schema(schema_with = crate::new_order::name_schema)]
    pub product_name: String,
    #[schema(schema_with = crate::new_order::quantity_schema)]
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub quantity: i64,
    #[schema(schema_with = crate::new_order::unit_price_schema)]
    pub unit_price: Yen,
}

/// Body of `POST /api/v1/orders/` (002 §2.1); the rules are `crate::new_order`'s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(example = json!({
    "customer_email": "tanaka@example.co.jp",
    "customer_name": "田中太郎",
    "items": [{"product_name": "ノートPC", "quantity": 2, "unit_price": 89800}],
    "currency": "JPY",
}))]
pub struct NewOrder {
    #[schema(schema_with = crate::new_order::email_schema)]
    pub customer_email: String,
    #[schema(schema_with = crate::new_order::name_schema)]
    pub customer_name: String,
    #[schema(min_items = 1, max_items = 100)]
    pub items: Vec<NewOrderItem>,
    #[serde(default)]
    pub currency: Currency,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderItem {
    pub id: i64,
    pub product_name: String,
    pub quantity: i64,
    pub unit_price: Yen,
}

/// An order with its items, as every Order Service endpoint returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Order {
    pub id: i64,
    pub customer_email: String,
    pub customer_name: String,
    pub status: OrderStatus,
    pub total_amount: Yen,
    pub currency: Currency,
    pub items: Vec<OrderItem>,
    /// The import that created the order (`null` for an order created through the API).
    #[serde(default)]
    pub batch_id: Option<String>,
    /// The order's reference in its import file.
    #[serde(default)]
    pub order_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Body of `PUT /api/v1/orders/{id}/status`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusUpdate {
    pub status: OrderStatus,
    /// Why the status changes; kept in the order's history.
    #[serde(default)]
    #[schema(schema_with = crate::new_order::reason_schema)]
    pub reason: Option<String>,
}

/// One entry of `GET /api/v1/orders/{id}/history`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusChange {
    /// `null` for the entry that records the order's creation.
    pub from_status: Option<OrderStatus>,
    pub to_status: OrderStatus,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Body of `POST /api/v1/orders/{id}/webhook`, sent by the Payment Service when a payment
/// changes status.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PaymentWebhook {
    /// The order the payment is for: the same as the path's, so that a signed message cannot
    /// be sent to another order.
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub order_id: i64,
    #[serde(deserialize_with = "crate::whole_number::deserialize")]
    pub payment_id: i64,
    pub status: PaymentStatus,
    #[serde(default)]
    pub reason: Option<String>,
}

/// How many orders are in one status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StatusCount {
    pub status: OrderStatus,
    pub count: i64,
}

/// Body of `GET /api/v1/orders/stats`: the dashboard's overview figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrderStats {
    /// Every status, in lifecycle order, with 0 where there are none.
    pub by_status: Vec<StatusCount>,
    pub total_orders: i64,
    /// Money taken and kept: the totals of the orders that are paid, shipped or delivered.
    pub paid_revenue: Yen,
    /// Orders created since `today_starts_at`.
    pub orders_today: i64,
    /// Midnight of the current day in Japan time (UTC+9).
    pub today_starts_at: DateTime<Utc>,
}
