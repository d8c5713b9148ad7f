//! The Order Service's SQL: one function per statement, each in the module of its table.
//! Rows are read into `FromRow` structs here and mapped to the API types, so nothing outside
//! this module knows a column name. Their spans are at `debug`: at the default `info` level
//! the hot path pays nothing for them.

pub mod api_keys;
pub mod history;
pub mod imports;
pub mod login_failures;
pub mod order_requests;
pub mod orders;
pub mod outbox;
pub mod sessions;
pub mod signing_keys;
pub mod users;
pub mod webhook_receipts;

use anyhow::Context;
use chrono::{DateTime, Utc};
use platform::api::orders::{Order, OrderItem, OrderStatus, StatusChange};
use platform::{Currency, Yen};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub customer_email: String,
    pub customer_name: String,
    pub status: String,
    pub total_amount: i64,
    pub currency: String,
    pub batch_id: Option<String>,
    pub order_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub id: i64,
    pub order_id: i64,
    pub product_name: String,
    pub quantity: i64,
    pub unit_price: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HistoryRow {
    pub from_status: Option<String>,
    pub to_status: String,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A stored status is one of the six (the table has a CHECK), so failing here means the
/// database was changed behind the service's back: an internal error.
fn status(text: &str) -> anyhow::Result<OrderStatus> {
    OrderStatus::parse(text).with_context(|| format!("unknown order status {text:?} in the database"))
}

impl OrderRow {
    pub fn status(&self) -> anyhow::Result<OrderStatus> {
        status(&self.status)
    }

    pub fn into_order(self, items: Vec<OrderItem>) -> anyhow::Result<Order> {
        Ok(Order {
            id: self.id,
            status: status(&self.status)?,
            currency: Currency::parse(&self.currency).map_err(anyhow::Error::msg)?,
            customer_email: self.customer_email,
            customer_name: self.customer_name,
            total_amount: Yen::new(self.total_amount),
            items,
            batch_id: self.batch_id,
            order_ref: self.order_ref,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl From<ItemRow> for OrderItem {
    fn from(row: ItemRow) -> Self {
        OrderItem {
            id: row.id,
            product_name: row.product_name,
            quantity: row.quantity,
            unit_price: Yen::new(row.unit_price),
        }
    }
}

impl HistoryRow {
    pub fn into_change(self) -> anyhow::Result<StatusChange> {
        Ok(StatusChange {
            from_status: self.from_status.as_deref().map(status).transpose()?,
            to_status: status(&self.to_status)?,
            reason: self.reason,
            created_at: self.created_at,
        })
    }
}
