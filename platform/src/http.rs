//! What every service's HTTP front looks like, assembled once: JSON 404/405/500 bodies,
//! request ids and trace context, request tracing (with tickets kept out of the logs), request
//! metrics, the body-size limit, CORS for the dashboard, `/health`, `/ready`, `/metrics`,
//! `/openapi.json` with the security schemes, and the offline Swagger UI at `/docs`, which can
//! authorise with a bearer token.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;
use utoipa_swagger_ui::SwaggerUi;

use crate::api::{ErrorBody, IDEMPOTENCY_KEY_HEADER, REQUEST_ID_HEADER, TOTAL_COUNT_HEADER};
use crate::error::ApiError;
use crate::metrics::MetricsSource;
use crate::openapi::Alias;
use crate::telemetry;
use crate::trace_context::{TraceContext, TRACEPARENT_HEADER};

/// Settings of the HTTP front that differ between services or deployments.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The one browser origin allowed to call the API (the dashboard), e.g.
    /// `http://127.0.0.1:5173`. Several may be given, separated by commas.
    pub cors_origins: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
}

/// Wraps a service's API routes with everything every service shares; `aliases` are the paths
/// its router also answers under another spelling (`openapi::Alias`).
pub fn finish(
    api: Router,
    mut openapi: utoipa::openapi::OpenApi,
    aliases: &[Alias],
    pool: crate::db::Pool,
    metrics: MetricsSource,
    settings: &HttpSettings,
) -> Router {
    add_security_schemes(&mut openapi);
    let document = crate::openapi::finish(openapi, aliases);
    let service = metrics.service;
    // Installed now, before the first request: what is recorded earlier would be lost.
    crate::metrics::recorder();
    let probes = Router::new().route("/health", get(health)).route("/ready", get(ready)).with_state(pool);
    let metrics_page = Router::new().route("/metrics", get(crate::metrics::page)).with_state(metrics);
    api.layer(axum::middleware::from_fn(move |request, next| crate::metrics::track_requests(service, request, next)))
        .merge(probes)
        .merge(metrics_page)
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.body_limit))
        .layer(cors(&settings.cors_origins))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
            let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
            let request_id = header(REQUEST_ID_HEADER).unwrap_or_default();
            let trace_id = header(TRACEPARENT_HEADER).and_then(TraceContext::parse).map(|t| t.trace_id());
            let uri = loggable_uri(request.uri());
            tracing::info_span!("http", method = %request.method(), uri = %uri, request_id, trace_id = trace_id.unwrap_or_default())
        }))
        .layer(axum::middleware::from_fn(telemetry::context_middleware))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("handler panicked");
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o.trim()).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(IDEMPOTENCY_KEY_HEADER),
            HeaderName::from_static(REQUEST_ID_HEADER),
            HeaderName::from_static(TRACEPARENT_HEADER),
        ])
        .expose_headers([HeaderName::from_static(TOTAL_COUNT_HEADER), HeaderName::from_static(REQUEST_ID_HEADER)])
        .max_age(Duration::from_secs(600))
}

async fn health() -> Response {
    axum::Json(json!({"status": "ok"})).into_response()
}

async fn ready(State(pool): State<crate::db::Pool>) -> Response {
    match crate::on_db!(&pool, |e| sqlx::query("SELECT 1").execute(e).await.map(drop)) {
        Ok(_) => axum::Json(json!({"status": "ready"})).into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(ErrorBody { detail: "database unavailable".into() }))
                .into_response()
        }
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound("Not Found".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::Status(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed".into())
}

/// Serves `router` on `listener` until `stop` is cancelled, then finishes in-flight requests.
/// Handlers may extract `ConnectInfo<SocketAddr>`, the caller's address.
pub async fn serve(listener: TcpListener, router: Router, stop: CancellationToken) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
}

/// The name of the bearer-token security scheme in every OpenAPI document; an operation's
/// scopes under it are the permissions it needs (`platform::api::auth::Permission`).
pub const BEARER_SCHEME: &str = "bearer";
/// The scheme of the webhooks signed by the Standard Webhooks rules (`platform::webhook`).
pub const WEBHOOK_SIGNATURE_SCHEME: &str = "webhook_signature";
/// The scheme of an import's event stream opened by a browser, whose `EventSource` cannot send
/// a header: a short-lived ticket in the query string.
pub const EVENTS_TICKET_SCHEME: &str = "events_ticket";

fn add_security_schemes(openapi: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "An access token from POST /api/v1/auth/login (people) or POST /api/v1/auth/token \
                     (API keys) at the Order Service. The scopes of an operation are the permission it needs.",
                ))
                .build(),
        ),
    );
    components.add_security_scheme(
        EVENTS_TICKET_SCHEME,
        SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
            "ticket",
            "A ticket from POST /api/v1/orders/imports/{import_id}/events/ticket: one import's events, for 60 seconds",
        ))),
    );
    components.add_security_scheme(
        WEBHOOK_SIGNATURE_SCHEME,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "webhook-signature",
            "Standard Webhooks: webhook-id, webhook-timestamp and webhook-signature, an HMAC-SHA256 with the shared secret",
        ))),
    );
}

/// The request's URI as logs may show it: the value of a `ticket` query parameter (an
/// event-stream ticket is a credential) is replaced by `[redacted]`.
pub fn loggable_uri(uri: &axum::http::Uri) -> String {
    let Some(query) = uri.query() else {
        return uri.to_string();
    };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("ticket") => format!("{name}=[redacted]"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{}?{}", uri.path(), redacted.join("&"))
}

/// A token cancelled on Ctrl-C or SIGTERM, for `main`.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    cancel.cancel();
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested");
        cancel.cancel();
    });
    token
}

#[cfg(test)]
mod tests {
    #[test]
    fn tickets_never_reach_the_logs() {
        let uri: axum::http::Uri = "/api/v1/orders/imports/x/events?a=1&ticket=eyJ.secret.sig&b=2".parse().unwrap();
        assert_eq!(super::loggable_uri(&uri), "/api/v1/orders/imports/x/events?a=1&ticket=[redacted]&b=2");
        let plain: axum::http::Uri = "/api/v1/orders/?limit=5".parse().unwrap();
        assert_eq!(super::loggable_uri(&plain), "/api/v1/orders/?limit=5");
    }
}
