//! The HTTP API: shared state, the router merging one module per resource, the header
//! helpers they share, and the OpenAPI document served at `/openapi.json`.

pub mod payments;
pub mod refunds;
pub mod webhooks;

use axum::Router;
use platform::api::payments::{
    BatchPayment, BatchPaymentResult, GatewayEvent, NewPayment, NewPaymentBatch, NewRefund, Payment,
    PaymentBatchOutcome, PaymentStatus, Refund,
};
use platform::api::ErrorBody;
use platform::db::Database;
use platform::outbox::Outbox;
use platform::{Currency, Yen};

use crate::gateway::Gateway;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    /// Reads through `db.read`; every write, and a read that must see the request's own
    /// write, through `db.write`, the single writer connection (one writer avoids the sleeps
    /// of SQLite's busy handler when connections contend for its write lock).
    pub db: Database,
    pub gateway: Gateway,
    /// Wakes the outbox worker once a transaction that enqueued a webhook has committed.
    pub outbox: Outbox,
}

pub fn router(state: AppState) -> Router {
    Router::new().merge(payments::router()).merge(refunds::router()).merge(webhooks::router()).with_state(state)
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Payment Service", description = "Payments, refunds and the payment gateway's webhook."),
    paths(
        payments::create_payment,
        payments::create_payment_batch,
        payments::get_payment,
        payments::get_payment_by_order,
        payments::list_payments,
        refunds::create_refund,
        webhooks::gateway_webhook,
    ),
    components(schemas(
        NewPayment,
        Payment,
        PaymentStatus,
        Refund,
        NewRefund,
        GatewayEvent,
        NewPaymentBatch,
        BatchPayment,
        PaymentBatchOutcome,
        BatchPaymentResult,
        ErrorBody,
        Yen,
        Currency
    )),
    tags((name = "payments", description = "Payments and refunds (FR-011 … FR-018)"))
)]
pub struct ApiDoc;
