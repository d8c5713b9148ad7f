//! The HTTP API: the shared `AppState`, one module of handlers per resource, and the OpenAPI
//! document that `/docs` and `/openapi.json` serve — built from the routes themselves
//! (utoipa-axum), so that every route served is a route documented, with the permission it
//! needs.

pub mod api_keys;
pub mod auth;
pub mod imports;
pub mod orders;
pub mod users;

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use platform::auth::TokenVerifier;
use platform::webhook::WebhookSecrets;
use platform::whole_number::WholeNumber;
use platform::{ApiError, ApiResult};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::context::Context;
use crate::identity::IdentityProvider;
use crate::importer::Importer;

#[derive(Clone, FromRef)]
pub struct AppState {
    /// The database, the Payment Service's client, the outbox: what the lifecycle and the
    /// importer work with.
    pub core: Context,
    pub importer: Importer,
    pub identity: IdentityProvider,
    /// Checks the bearer tokens of `Authorized<P>`.
    pub verifier: TokenVerifier,
    /// Check the Payment Service's webhooks.
    pub webhook_secrets: WebhookSecrets,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client (for sign-in throttling).
    pub trusted_proxies: Arc<[IpAddr]>,
}

/// The `skip` and `limit` of a list request: `skip` ≥ 0 (default 0), `limit` 1 ..= `max`
/// (default `default`).
pub fn page(skip: Option<WholeNumber>, limit: Option<WholeNumber>, default: i64, max: i64) -> ApiResult<(i64, i64)> {
    let skip = skip.map_or(0, |n| n.0);
    if skip < 0 {
        return Err(ApiError::Unprocessable("skip must not be negative".into()));
    }
    let limit = limit.map_or(default, |n| n.0);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::Unprocessable(format!("limit must be between 1 and {max}")));
    }
    Ok((skip, limit))
}

/// The paths the routers also answer under another spelling.
pub fn aliases() -> Vec<platform::openapi::Alias> {
    [orders::ALIASES, imports::ALIASES].concat()
}

/// The API's routes with the state they share, and the OpenAPI document of exactly those routes.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(orders::router())
        .merge(imports::router())
        .merge(auth::router())
        .merge(users::router())
        .merge(api_keys::router())
        .with_state(state)
        .split_for_parts()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Order Service",
        description = "Orders, their status lifecycle and the orchestration of payment and notifications."
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
        platform::api::auth::Role,
        platform::api::auth::Permission,
        platform::api::auth::Identity,
        platform::api::auth::AccessGrant,
        platform::api::auth::SessionGrant,
        platform::api::auth::User,
        platform::api::auth::UserStatus,
        platform::api::auth::ApiKey,
        platform::api::ErrorBody,
    )),
    tags(
        (name = "orders", description = "Order management"),
        (name = "imports", description = "Bulk order import from CSV files"),
        (name = "auth", description = "Signing in, tokens and signing keys (this service is the issuer)"),
        (name = "users", description = "The people who sign in (administrators)"),
        (name = "api keys", description = "Integrators' API keys (administrators)")
    )
)]
pub struct ApiDoc;
