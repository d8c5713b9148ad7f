//! The HTTP API: the shared `AppState`, one module of handlers per resource, and the OpenAPI
//! document that `/docs` and `/openapi.json` serve.

pub mod imports;
pub mod orders;

use std::time::Duration;

use axum::Router;
use platform::db::Database;
use platform::outbox::Outbox;
use platform::{ApiError, ApiResult};
use utoipa::OpenApi;

use crate::clients::PaymentClient;
use crate::importer::Importer;

/// Timings of the payment of a new order.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// How long the payment row of a new order waits before the worker may take it over: the
    /// request makes the call itself, so the row only matters if the request never finishes.
    /// Longer than the payment timeout, so the two never call at once.
    pub payment_call_lease: Duration,
    /// When an unanswered payment is first retried.
    pub payment_retry_delay: Duration,
}

#[derive(Clone)]
pub struct AppState {
    /// Reads through `db.read`, every write through the single `db.write` connection.
    pub db: Database,
    pub payments: PaymentClient,
    pub outbox: Outbox,
    pub settings: Settings,
    pub importer: Importer,
}

/// The `skip` and `limit` of a list request: `skip` ≥ 0 (default 0), `limit` 1 ..= `max`
/// (default `default`).
pub fn page(skip: Option<i64>, limit: Option<i64>, default: i64, max: i64) -> ApiResult<(i64, i64)> {
    let skip = skip.unwrap_or(0);
    if skip < 0 {
        return Err(ApiError::Unprocessable("skip must not be negative".into()));
    }
    let limit = limit.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::Unprocessable(format!("limit must be between 1 and {max}")));
    }
    Ok((skip, limit))
}

pub fn router(state: AppState) -> Router {
    Router::new().merge(orders::router()).merge(imports::router()).with_state(state)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Order Service",
        description = "Orders, their status lifecycle and the orchestration of payment and notifications."
    ),
    paths(
        orders::create_order,
        orders::list_orders,
        orders::get_stats,
        orders::get_order,
        orders::get_history,
        orders::update_status,
        orders::cancel_order,
        orders::payment_webhook,
        imports::create_import,
        imports::list_imports,
        imports::get_import,
        imports::get_errors,
        imports::import_events,
    ),
    components(schemas(
        platform::api::orders::NewOrder,
        platform::api::orders::NewOrderItem,
        platform::api::orders::Order,
        platform::api::orders::OrderItem,
        platform::api::orders::OrderStatus,
        platform::api::orders::StatusUpdate,
        platform::api::orders::StatusChange,
        platform::api::orders::OrderStats,
        platform::api::orders::StatusCount,
        platform::api::orders::PaymentWebhook,
        platform::api::payments::PaymentStatus,
        platform::api::imports::Import,
        platform::api::imports::ImportError,
        platform::api::imports::ImportStatus,
        platform::api::imports::NotifyMode,
        platform::api::ErrorBody,
    )),
    tags(
        (name = "orders", description = "Order management"),
        (name = "imports", description = "Bulk order import from CSV files")
    )
)]
pub struct ApiDoc;
