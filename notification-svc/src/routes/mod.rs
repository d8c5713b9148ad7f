//! The HTTP API: shared state, the router merging one module per resource, and the
//! OpenAPI document served at `/openapi.json` and `/docs`.

pub mod notifications;
pub mod templates;

use std::sync::Arc;

use axum::extract::FromRef;
use axum::Router;
use platform::auth::TokenVerifier;
use platform::db::Database;
use tokio::sync::Notify;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(Clone, FromRef)]
pub struct AppState {
    /// Reads through `db.read`; every write through `db.write` — on SQLite the single writer
    /// connection, so writers queue in order instead of contending for SQLite's lock and
    /// sleeping in its busy handler.
    pub db: Database,
    /// Wakes the sender when a notification has been stored.
    pub sender_wake: Arc<Notify>,
    /// The sender's rate limit (NFR-008), reported by the stats.
    pub rate_per_sec: u32,
    /// Checks the bearer tokens of `Authorized<P>` against the Order Service's public keys.
    pub verifier: TokenVerifier,
}

/// The API's routes with their state, and the OpenAPI document of exactly those routes.
/// The paths the routers also answer under another spelling.
pub fn aliases() -> Vec<platform::openapi::Alias> {
    [notifications::ALIASES, templates::ALIASES].concat()
}

pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(notifications::router())
        .merge(templates::router())
        .with_state(state)
        .split_for_parts()
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Notification Service",
        description = "E-mail and SMS notifications about orders: accepted at once, sent at a limited rate."
    ),
    components(schemas(
        platform::api::notifications::NewEmail,
        platform::api::notifications::NewSms,
        platform::api::notifications::NewNotificationBatch,
        platform::api::notifications::BatchNotification,
        platform::api::notifications::BatchMessage,
        platform::api::notifications::NewDigestEmail,
        platform::api::notifications::DigestOrder,
        platform::api::notifications::NotificationBatchOutcome,
        platform::api::notifications::BatchNotificationResult,
        platform::api::notifications::Notification,
        platform::api::notifications::NotificationStats,
        platform::api::notifications::Template,
        platform::api::ErrorBody,
    )),
    tags((name = "notifications", description = "Notifications and their templates"))
)]
pub struct ApiDoc;
