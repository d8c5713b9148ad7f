//! The HTTP API: shared state, the router merging one module per resource, the header
//! helpers they share, and the OpenAPI document served at `/openapi.json`.

pub mod payments;
pub mod refunds;
pub mod webhooks;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use platform::api::payments::{
    BatchPayment, BatchPaymentResult, GatewayEvent, GatewayEventOutcome, GatewayEventRecord, NewPayment,
    NewPaymentBatch, NewRefund, Payment, PaymentBatchOutcome, PaymentStatus, Refund,
};
use platform::api::ErrorBody;
use platform::auth::TokenVerifier;
use platform::db::Database;
use platform::outbox::Outbox;
use platform::{Currency, Yen};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::gateway::Gateway;

/// What every handler may use.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Reads through `db.read`; every write, and a read that must see the request's own
    /// write, through `db.write` (on SQLite the single writer connection: one writer avoids
    /// the sleeps of SQLite's busy handler when connections contend for its write lock).
    pub db: Database,
    pub gateway: Gateway,
    /// Wakes the outbox worker once a transaction that enqueued a webhook has committed.
    pub outbox: Outbox,
    /// Checks the bearer tokens of `Authorized<P>` against the Order Service's public keys.
    pub verifier: TokenVerifier,
    /// `PAYMENT_GATEWAY_WEBHOOK_SECRETS`: what the gateway signs its webhooks with.
    pub gateway_secrets: Arc<[String]>,
}

/// The API's routes with their state, and the OpenAPI document of exactly those routes.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(payments::router())
        .merge(refunds::router())
        .merge(webhooks::router())
        .with_state(state)
        .split_for_parts()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Payment Service", description = "Payments, refunds and the payment gateway's webhook."),
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
        GatewayEventOutcome,
        GatewayEventRecord,
        ErrorBody,
        Yen,
        Currency
    )),
    modifiers(&GatewaySignatureScheme),
    tags((name = "payments", description = "Payments and refunds (FR-011 … FR-018)"))
)]
pub struct ApiDoc;

/// The security scheme of the gateway's webhook, beside the bearer and Standard Webhooks
/// schemes every service's document has.
struct GatewaySignatureScheme;

impl utoipa::Modify for GatewaySignatureScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        openapi.components.get_or_insert_with(Default::default).add_security_scheme(
            "gateway_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "gateway-signature",
                "t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{raw body}\"> with the gateway's webhook secret",
            ))),
        );
    }
}
